//! What the pre-push hook judges: the migration files the pushed commits
//! add or modify, as they are at the pushed tip. Error-level findings need
//! a review recorded in `migguard-reviews.toml` for the file's exact
//! content; everything else is reported without blocking.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use migguard_core::audit::{self, Selection};
use migguard_core::diagnostic::{Diagnostic, Severity};
use migguard_core::project::{self, AnalyzeOptions, Project};
use migguard_core::render::{self, Format, RenderOptions};
use migguard_core::review::{self, ReviewFile};
use migguard_core::rules::branch::upstream_migration_conflict;
use migguard_core::rules::Rule;
use migguard_core::source::ProjectSource;
use migguard_git::{commits_to_push, pushed_files, DiskCache, Oid, Repo, TreeSource};

use super::pre_push::{PrePush, PushUpdate};
use super::report;
use crate::workspace::{load_settings, project_prefix};
use crate::{ExitStatus, Printer};

pub fn check(push: &PrePush, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    // Deleted refs and tags push no new migrations: nothing to open.
    let updates: Vec<&PushUpdate> = push
        .updates
        .iter()
        .filter(|update| {
            !update.is_deletion()
                && !update.local_ref.starts_with("refs/tags/")
                && !update.remote_ref.starts_with("refs/tags/")
        })
        .collect();
    if updates.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo = Repo::discover(&cwd).context("not inside a git repository")?;
    let root = repo.workdir().unwrap_or(cwd);
    let cache = DiskCache::open(&repo.common_dir());
    let mut status = ExitStatus::Success;
    for update in updates {
        if check_update(&repo, &root, &cache, push, update, printer)? == ExitStatus::Failure {
            status = ExitStatus::Failure;
        }
    }
    let _ = cache.flush();
    Ok(status)
}

fn check_update(
    repo: &Repo,
    root: &std::path::Path,
    cache: &DiskCache,
    push: &PrePush,
    update: &PushUpdate,
    printer: &mut Printer<'_>,
) -> Result<ExitStatus> {
    let local = Oid::from_str(&update.local_sha).context("git passed a malformed object name")?;
    let remote = if update.creates_remote_ref() {
        None
    } else {
        Some(Oid::from_str(&update.remote_sha).context("git passed a malformed object name")?)
    };
    let commits = commits_to_push(repo, local, remote, &push.remote_name)?;
    // The project as of the pushed tip, wherever it lives in the repository.
    let prefix = project_prefix(&TreeSource::at(repo, &update.local_sha, "")?)?;
    let files = pushed_files(repo, &commits, &prefix)?;
    if !files.iter().any(|f| f.path.ends_with(".py")) {
        return Ok(ExitStatus::Success);
    }
    let source = TreeSource::at(repo, &update.local_sha, &prefix)?;
    let root = &root.join(&prefix);
    let settings = load_settings(&source, root)?;
    let project = analyze(&source, &settings, cache)?;
    // A pushed file that is not a readable migration has no operations to
    // audit, and no review makes it one: it blocks until fixed.
    let unreadable: Vec<Diagnostic> = project
        .diagnostics
        .iter()
        .filter(|d| matches!(d.rule, Rule::SyntaxError | Rule::InvalidMigration))
        .filter(|d| {
            d.location
                .path
                .as_ref()
                .is_some_and(|path| files.iter().any(|f| &f.path == path))
        })
        .cloned()
        .collect();
    if !unreadable.is_empty() {
        let options = RenderOptions {
            color: printer.color_err,
            path_prefix: repo_prefix(&prefix),
            coverage: None,
        };
        render::render(Format::Text, &unreadable, &source, &options, printer.err)?;
        let _ = writeln!(
            printer.err,
            "migguard: push of {} blocked: the pushed commits carry migration files migguard cannot read; \
             fix them and push again (or push anyway with `git push --no-verify`)",
            update.local_ref
        );
        return Ok(ExitStatus::Failure);
    }
    let mut selection = Selection::default();
    let mut new_by_app: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let Some(migration) = project.migration_at(&file.path) else {
            continue;
        };
        selection.changed.insert(migration.key.clone());
        if file.added {
            selection.new.insert(migration.key.clone());
            new_by_app
                .entry(migration.key.app.clone())
                .or_default()
                .push(migration.key.name.clone());
        }
    }
    if selection.changed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    // The audit finishes its own findings; the upstream check's are
    // finished here, once.
    let mut findings = audit::audit(&project, &settings, &selection);
    let upstream = upstream_conflicts(
        repo,
        (root, &prefix),
        cache,
        &project,
        (push, update),
        &settings,
        &new_by_app,
        printer,
    );
    findings.extend(project::finish(&project, &settings, upstream));
    let findings = project::sorted(findings);

    let reviews = review::load(&source).unwrap_or_else(|err| {
        printer.error(&format!(
            "{err}; every review in it is ignored until it is fixed"
        ));
        ReviewFile::default()
    });
    let (open, _reviewed) =
        review::split_reviewed(findings, &reviews, &|path| source.read(path).ok());
    let (unreviewed, mut notes): (Vec<Diagnostic>, Vec<Diagnostic>) = open
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    notes.extend(pushed_conflicts(&project, &selection));
    if !notes.is_empty() {
        report::write_blocks(printer, &notes);
    }
    if unreviewed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let options = RenderOptions {
        color: printer.color_err,
        path_prefix: repo_prefix(&prefix),
        coverage: None,
    };
    render::render(Format::Text, &unreviewed, &source, &options, printer.err)?;
    // From the top of the work tree, where `git push` runs the hook.
    let mut paths: Vec<String> = unreviewed
        .iter()
        .filter_map(|d| d.location.path.as_ref())
        .map(|path| format!("{}{path}", repo_prefix(&prefix)))
        .collect();
    paths.dedup();
    let _ = writeln!(
        printer.err,
        "migguard: push of {} blocked: {} unreviewed finding{} in migrations of the pushed commits.\n\
         Review them, then commit {} and push again:\n    migguard review {}\n\
         (or push anyway with `git push --no-verify`)",
        update.local_ref,
        unreviewed.len(),
        if unreviewed.len() == 1 { "" } else { "s" },
        review::FILE_NAME,
        paths.join(" ")
    );
    Ok(ExitStatus::Failure)
}

/// `conflicting-migrations` in the pushed tip where a pushed migration is
/// one of the leaves (a clean `git rebase` onto a branch that added its own
/// `0005_*`): Django's `migrate` will refuse the tip. Said as a warning, as
/// no review can settle it; `migguard merge`/`rebase` do.
fn pushed_conflicts(project: &Project, selection: &Selection) -> Vec<Diagnostic> {
    project
        .diagnostics
        .iter()
        .filter(|d| d.rule == Rule::ConflictingMigrations)
        .filter(|d| {
            let app = d.details["app"].as_str();
            d.details["leaves"].as_array().is_some_and(|leaves| {
                leaves.iter().filter_map(|leaf| leaf.as_str()).any(|leaf| {
                    selection
                        .changed
                        .iter()
                        .any(|key| key.name == leaf && app.is_none_or(|app| key.app == app))
                })
            })
        })
        .map(|d| Diagnostic {
            severity: Severity::Warning,
            ..d.clone()
        })
        .collect()
}

/// The project's directory in the repository as a prefix of its paths:
/// `backend/`, or nothing at the top.
fn repo_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", prefix.trim_end_matches('/'))
    }
}

fn analyze(
    source: &dyn ProjectSource,
    settings: &migguard_core::config::Settings,
    cache: &DiskCache,
) -> Result<Project> {
    project::analyze(
        source,
        settings,
        &AnalyzeOptions {
            cache: Some(cache),
            applied: None,
        },
    )
    .with_context(|| format!("cannot analyse {}", source.describe()))
}

/// `upstream-migration-conflict`, when the upstream branch is not the one
/// being pushed. A configured upstream that does not resolve is said, in
/// one line, rather than silently skipped.
#[allow(clippy::too_many_arguments)]
fn upstream_conflicts(
    repo: &Repo,
    (root, prefix): (&std::path::Path, &str),
    cache: &DiskCache,
    ours: &Project,
    (push, update): (&PrePush, &PushUpdate),
    settings: &migguard_core::config::Settings,
    new_by_app: &BTreeMap<String, Vec<String>>,
    printer: &mut Printer<'_>,
) -> Vec<Diagnostic> {
    if new_by_app.is_empty() {
        return Vec::new();
    }
    let configured = settings.options.upstream.as_deref();
    let Some((name, oid)) = repo.upstream(configured) else {
        if let Some(configured) = configured {
            printer.warn(&format!(
                "the upstream branch `{configured}` ([tool.migguard] upstream) does not resolve to a commit: \
                 migrations it gained are not compared (fetch it, or fix the setting)"
            ));
        }
        return Vec::new();
    };
    if pushes_to(&name, &push.remote_name, &update.remote_ref) {
        return Vec::new();
    }
    let Ok(source) = TreeSource::at(repo, &oid.to_string(), prefix) else {
        return Vec::new();
    };
    let Ok(upstream_settings) = load_settings(&source, root) else {
        return Vec::new();
    };
    match analyze(&source, &upstream_settings, cache) {
        Ok(upstream) => upstream_migration_conflict::check(ours, &upstream, &name, new_by_app),
        Err(_) => Vec::new(),
    }
}

/// Whether pushing to `remote_ref` of `remote` updates the upstream branch
/// `upstream` (`origin/feature/x` is `refs/heads/feature/x` of `origin`;
/// a local branch name is compared as it is).
fn pushes_to(upstream: &str, remote: &str, remote_ref: &str) -> bool {
    let upstream = upstream.strip_prefix("refs/remotes/").unwrap_or(upstream);
    let branch = match upstream
        .strip_prefix(remote)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        Some(branch) => branch,
        None if upstream.starts_with("refs/") => upstream,
        None => return remote_ref == format!("refs/heads/{upstream}"),
    };
    remote_ref == format!("refs/heads/{branch}") || remote_ref == branch
}

#[cfg(test)]
mod tests {
    use super::pushes_to;

    #[test]
    fn the_upstream_branch_keeps_every_part_of_its_name() {
        assert!(pushes_to("origin/main", "origin", "refs/heads/main"));
        assert!(pushes_to(
            "origin/feature/x",
            "origin",
            "refs/heads/feature/x"
        ));
        assert!(!pushes_to("origin/feature/x", "origin", "refs/heads/x"));
        assert!(!pushes_to("team/main", "origin", "refs/heads/main"));
        assert!(!pushes_to("origin/team/main", "origin", "refs/heads/main"));
        assert!(pushes_to(
            "refs/remotes/origin/main",
            "origin",
            "refs/heads/main"
        ));
        assert!(pushes_to("main", "origin", "refs/heads/main"));
    }
}
