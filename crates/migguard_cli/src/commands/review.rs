//! `migguard review`: show each destructive or irreversible operation of
//! some migrations, and record that someone looked, bound to the file's
//! content, in `migguard-reviews.toml`.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use migguard_core::audit::{self, Selection};
use migguard_core::project::Project;
use migguard_core::render::{self, Format, RenderOptions};
use migguard_core::review::{self, Review, ReviewFile};
use migguard_core::source::ProjectSource;

use migguard_core::source::WorkTree;
use migguard_git::Repo;

use crate::args::{ReviewArgs, SourceArgs};
use crate::workspace::{project_prefix, Workspace};
use crate::{ExitStatus, Printer};

pub fn run(args: &ReviewArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let workspace = Workspace::open(&SourceArgs {
        at: None,
        staged: false,
        path: project_dir(&args.path),
    })?;
    let project = workspace.analyze()?;
    let selection = match select(args, &workspace, &project)? {
        Some(selection) => selection,
        None => {
            printer.error("no upstream branch to compare with: name the migration files to review");
            return Ok(ExitStatus::Error);
        }
    };
    if selection.changed.is_empty() {
        writeln!(printer.out, "No migration to review.")?;
        return Ok(ExitStatus::Success);
    }
    let findings = audit::audit(&project, &workspace.settings, &selection);
    let blocking = audit::blocking(&findings);
    let file_path = workspace.root.join(review::FILE_NAME);
    let mut reviews = match std::fs::read_to_string(&file_path) {
        Ok(text) => ReviewFile::parse(&text)?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => ReviewFile::default(),
        // Unreadable (not UTF-8, no permission): never written over.
        Err(err) => anyhow::bail!(
            "cannot read {}: {err}; fix or move it, the reviews in it would be lost",
            file_path.display()
        ),
    };
    let reviewer = workspace
        .git
        .as_ref()
        .and_then(|(repo, _)| repo.user_identity())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    let today = jiff::Zoned::now().strftime("%Y-%m-%d").to_string();
    // Each changed migration with findings that need a review: its rules,
    // the hash of its content as git stores it (what pre-push reads from
    // the pushed commit), and whether a review still covers it. Without
    // named files such a review is kept (reviewer, date and note); only a
    // named file is reviewed again.
    let mut pending = Vec::new();
    for key in &selection.changed {
        let Some(migration) = project.migration(key) else {
            continue;
        };
        let Some(found) = blocking.get(&migration.path) else {
            pending.push((migration, None));
            continue;
        };
        let mut rules: Vec<String> = found.iter().map(|d| d.rule.name().to_owned()).collect();
        rules.sort();
        rules.dedup();
        let sha256 = review::sha256_hex(&workspace.stored_content(&migration.path)?);
        let kept = args.files.is_empty()
            && rules
                .iter()
                .all(|rule| reviews.covers(&migration.path, &sha256, rule));
        pending.push((migration, Some((found, rules, sha256, kept))));
    }
    let interactive = !args.yes && std::io::stdin().is_terminal();
    let to_review = pending
        .iter()
        .any(|(_, review)| review.as_ref().is_some_and(|(.., kept)| !kept));
    if !args.yes && !interactive && to_review {
        printer.error(
            "standard input is not a terminal: pass --yes (and --note TEXT) to record the reviews",
        );
        return Ok(ExitStatus::Error);
    }
    let options = RenderOptions {
        color: printer.color,
        path_prefix: String::new(),
        coverage: None,
    };
    let mut recorded = 0;
    for (migration, review) in pending {
        let Some((found, rules, sha256, kept)) = review else {
            writeln!(
                printer.out,
                "{}: nothing that needs a review.",
                migration.path
            )?;
            continue;
        };
        if kept {
            let earlier = reviews.find(&migration.path);
            writeln!(
                printer.out,
                "{}: already reviewed{}.",
                migration.path,
                earlier
                    .map(|r| format!(" by {} on {}", r.reviewer, r.date))
                    .unwrap_or_default()
            )?;
            continue;
        }
        let shown: Vec<_> = found.iter().map(|d| (*d).clone()).collect();
        render::render(
            Format::Text,
            &shown,
            workspace.source.as_ref(),
            &options,
            printer.out,
        )?;
        for rule in &rules {
            if let Some(why) = migguard_core::rules::Rule::lookup(rule).map(|r| why(r.doc())) {
                writeln!(printer.out, "{rule}: {why}\n")?;
            }
        }
        if interactive && !confirm(printer, &migration.path)? {
            writeln!(printer.out, "Skipped {}.", migration.path)?;
            continue;
        }
        reviews.record(Review {
            path: migration.path.clone(),
            sha256,
            rules,
            reviewer: reviewer.clone(),
            date: today.clone(),
            note: args.note.clone(),
        });
        recorded += 1;
        writeln!(printer.out, "Reviewed {}.", migration.path)?;
    }
    if recorded > 0 {
        std::fs::write(&file_path, reviews.to_toml())
            .with_context(|| format!("cannot write {}", file_path.display()))?;
        if let Some(top) = workspace.git.as_ref().and_then(|(repo, _)| repo.workdir()) {
            if ensure_union_merge(&top)? {
                writeln!(
                    printer.out,
                    "Added `{}` to .gitattributes, so that git merges the reviews of two branches: commit it too.",
                    review::GITATTRIBUTES_LINE
                )?;
            }
        }
        writeln!(
            printer.out,
            "Recorded {recorded} review{} in {}: commit it with the migrations. Changing a reviewed file voids its review.",
            if recorded == 1 { "" } else { "s" },
            review::FILE_NAME
        )?;
    }
    Ok(ExitStatus::Success)
}

/// Give the review file a union merge in the work tree's `.gitattributes`
/// (`top`), unless some line already does. Whether the line was added.
pub fn ensure_union_merge(top: &Path) -> Result<bool> {
    let path = top.join(".gitattributes");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    if review::has_union_merge(&text) {
        return Ok(false);
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(review::GITATTRIBUTES_LINE);
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

/// The migrations to review: the named files, or those whose content
/// differs from the upstream branch. `None` when neither is available.
fn select(
    args: &ReviewArgs,
    workspace: &Workspace,
    project: &Project,
) -> Result<Option<Selection>> {
    let upstream = workspace.upstream();
    if !args.files.is_empty() {
        let mut named = BTreeSet::new();
        for file in &args.files {
            let top = workspace.git.as_ref().and_then(|(repo, _)| repo.workdir());
            let rel = relative_to(&workspace.root, top.as_deref(), file);
            let migration = project.migration_at(&rel).with_context(|| {
                format!("{} is not a migration of this project", file.display())
            })?;
            named.insert(migration.key.clone());
        }
        // Named files count as new only if the upstream branch lacks them.
        let base = match &upstream {
            Some((_, oid)) => Some(workspace.tree_at(&oid.to_string())?),
            None => None,
        };
        let base = base.as_ref().map(|b| b as &dyn ProjectSource);
        return Ok(Some(Selection::named(project, named, base)));
    }
    match upstream {
        Some((_, oid)) => Ok(Some(workspace.changed_since(project, &oid.to_string())?)),
        None => Ok(None),
    }
}

/// The project `review` works on from `given` (`--path`, default the
/// current directory): in a repository, the project the hooks find
/// ([`project_prefix`]) when `given` lies in it or above it, so that
/// `review` run from any directory of the project, or from the top of the
/// repository, writes the review file pre-push reads. A directory with its
/// own `manage.py` is a project of its own.
fn project_dir(given: &Path) -> PathBuf {
    if given.join("manage.py").is_file() {
        return given.to_path_buf();
    }
    let found = || -> Option<PathBuf> {
        let top = Repo::discover(given).ok()?.workdir()?;
        let prefix = project_prefix(&WorkTree::new(&top)).ok()?;
        let project = top.join(prefix);
        let project = project.canonicalize().unwrap_or(project);
        let here = given.canonicalize().ok()?;
        (here.starts_with(&project) || project.starts_with(&here)).then_some(project)
    };
    found().unwrap_or_else(|| given.to_path_buf())
}

/// A path as typed made relative to the project root: relative to the
/// current directory, or absolute, or else relative to the top of the
/// repository (as pre-push prints them).
fn relative_to(root: &Path, top: Option<&Path>, file: &Path) -> String {
    let absolute: PathBuf = if file.is_absolute() {
        file.to_path_buf()
    } else {
        let here = std::env::current_dir()
            .map(|d| d.join(file))
            .unwrap_or_else(|_| file.to_path_buf());
        match top.map(|top| top.join(file)) {
            Some(from_top) if !here.exists() && from_top.exists() => from_top,
            _ => here,
        }
    };
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    match absolute.strip_prefix(&root) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => file.to_string_lossy().replace('\\', "/"),
    }
}

/// The first paragraph of a rule's "Why is this bad?" section.
fn why(doc: &str) -> String {
    doc.split("## Why is this bad?")
        .nth(1)
        .and_then(|rest| rest.trim_start().split("\n\n").next())
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn confirm(printer: &mut Printer<'_>, path: &str) -> Result<bool> {
    write!(printer.out, "Record a review of {path}? [y/N] ")?;
    printer.out.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
