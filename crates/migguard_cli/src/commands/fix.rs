//! `migguard merge`, `migguard rebase` and `migguard lock`: the fixes for
//! migration conflicts, applied to the working tree.

use std::path::Path;

use anyhow::{Context, Result};
use migguard_core::fix::{self, merge::Clock, FileWrite};

use crate::args::{LockArgs, MergeArgs, RebaseArgs, SourceArgs};
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

fn open(path: &Path) -> Result<(Workspace, migguard_core::project::Project)> {
    let workspace = Workspace::open(&SourceArgs {
        at: None,
        staged: false,
        path: path.to_path_buf(),
    })?;
    let project = workspace.analyze()?;
    Ok((workspace, project))
}

/// Django's two clocks: the header's UTC time and the name's local time.
fn clock() -> Clock {
    let now = jiff::Timestamp::now();
    let local = now.to_zoned(jiff::tz::TimeZone::system());
    Clock {
        header: now.strftime("%Y-%m-%d %H:%M").to_string(),
        name: local.strftime("%Y%m%d_%H%M").to_string(),
    }
}

/// Write a file atomically enough for a source file: to a temporary
/// sibling, then renamed over.
fn write_file(root: &Path, file: &FileWrite) -> Result<()> {
    let path = root.join(&file.path);
    let tmp = path.with_extension("py.migguard-tmp");
    std::fs::write(&tmp, &file.content)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn merge(args: &MergeArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let (workspace, project) = open(&args.path)?;
    let apps: Vec<String> = if args.apps.is_empty() {
        project.graph.conflicts.keys().cloned().collect()
    } else {
        args.apps.clone()
    };
    if apps.is_empty() {
        writeln!(printer.out, "No conflicts detected to merge.")?;
        return Ok(ExitStatus::Success);
    }
    let clock = clock();
    let mut status = ExitStatus::Success;
    for app in &apps {
        match fix::merge::plan(&project, app, &clock, args.force) {
            Ok(plan) => {
                writeln!(printer.out, "Merging {app}")?;
                for branch in &plan.branches {
                    let names: Vec<&str> =
                        branch.migrations.iter().map(|k| k.name.as_str()).collect();
                    writeln!(
                        printer.out,
                        "  Branch {}: {}",
                        branch.leaf,
                        names.join(", ")
                    )?;
                }
                if args.dry_run {
                    writeln!(printer.out, "--- {} (not written)", plan.file.path)?;
                    write!(printer.out, "{}", plan.file.content)?;
                } else {
                    write_file(&workspace.root, &plan.file)?;
                    writeln!(
                        printer.out,
                        "Created new merge migration {}",
                        plan.file.path
                    )?;
                }
            }
            Err(refusal) => {
                printer.error(&refusal.to_string());
                status = ExitStatus::Failure;
            }
        }
    }
    Ok(status)
}

/// The migration being replayed, from conflict markers in max_migration.txt:
/// the part between `=======` and `>>>>>>>`.
fn from_conflict_markers(content: &str) -> Option<String> {
    let mut theirs = false;
    for line in content.lines() {
        if line.starts_with("=======") {
            theirs = true;
        } else if line.starts_with(">>>>>>>") {
            return None;
        } else if theirs && !line.trim().is_empty() {
            return Some(line.trim().to_owned());
        }
    }
    None
}

pub fn rebase(args: &RebaseArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let (workspace, project) = open(&args.path)?;
    let migration = match &args.migration {
        Some(m) => m.clone(),
        None => {
            let content = project
                .discovery
                .apps
                .iter()
                .find(|a| a.label == args.app)
                .and_then(|a| a.max_migration.clone())
                .unwrap_or_default();
            match from_conflict_markers(&content) {
                Some(m) => m,
                None => {
                    printer.error(&format!(
                        "name the migration to move: `migguard rebase {} MIGRATION` (no conflict markers in max_migration.txt to read it from)",
                        args.app
                    ));
                    return Ok(ExitStatus::Error);
                }
            }
        }
    };
    let plan = match fix::rebase::plan(&project, workspace.source.as_ref(), &args.app, &migration) {
        Ok(plan) => plan,
        Err(refusal) => {
            printer.error(&refusal.to_string());
            return Ok(ExitStatus::Failure);
        }
    };
    writeln!(printer.out, "Rebasing {} onto {}", plan.app, plan.onto)?;
    for (old, new) in &plan.moved {
        writeln!(printer.out, "  {old} -> {new}")?;
    }
    if args.dry_run {
        for file in &plan.writes {
            writeln!(printer.out, "  would write {}", file.path)?;
        }
        for path in &plan.removes {
            writeln!(printer.out, "  would remove {path}")?;
        }
        return Ok(ExitStatus::Success);
    }
    for file in &plan.writes {
        write_file(&workspace.root, file)?;
    }
    for path in &plan.removes {
        let full = workspace.root.join(path);
        std::fs::remove_file(&full).with_context(|| format!("cannot remove {}", full.display()))?;
    }
    writeln!(
        printer.out,
        "Done. If the moved migrations were applied to a local database, unapply them first (`python manage.py migrate {} {}`) and migrate again.",
        plan.app, plan.onto
    )?;
    Ok(ExitStatus::Success)
}

pub fn lock(args: &LockArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let (workspace, project) = open(&args.path)?;
    let (writes, conflicted) = fix::lock::plan(&project, &args.apps);
    for app in &conflicted {
        printer.error(&format!("app `{app}` has more than one leaf; run `migguard merge {app}` or `migguard rebase` first"));
    }
    if args.check {
        let mut stale = 0;
        for app in &project.discovery.apps {
            if !args.apps.is_empty() && !args.apps.contains(&app.label) {
                continue;
            }
            let expected = fix::lock::expected(&project, app);
            match (&app.max_migration, expected) {
                (Some(content), Some(leaf)) if content.trim() != leaf => {
                    stale += 1;
                    writeln!(
                        printer.out,
                        "{}: names `{}`, the leaf is `{leaf}`",
                        fix::lock::path(app),
                        content.trim()
                    )?;
                }
                (None, Some(leaf)) if args.require => {
                    stale += 1;
                    writeln!(
                        printer.out,
                        "{}: missing (the leaf is `{leaf}`)",
                        fix::lock::path(app)
                    )?;
                }
                _ => {}
            }
        }
        return Ok(if stale > 0 || !conflicted.is_empty() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }
    for file in &writes {
        let path = workspace.root.join(&file.path);
        std::fs::write(&path, &file.content)
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(printer.out, "wrote {}", file.path)?;
    }
    if writes.is_empty() && conflicted.is_empty() {
        writeln!(printer.out, "Every max_migration.txt is up to date.")?;
    }
    Ok(if conflicted.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
