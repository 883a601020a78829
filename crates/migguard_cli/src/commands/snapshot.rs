//! `migguard snapshot list|save|restore|drop|prune`: per-branch copies of the
//! project's database, by hand (the post-checkout hook makes them on its own
//! with `[tool.migguard] snapshots = true`). SQLite snapshots are files under
//! `<git common dir>/migguard/snapshots/<database>-<hash>/` (a directory per
//! live database), PostgreSQL snapshots databases on
//! the same server; MySQL/MariaDB has none.

use anyhow::{Context, Result};
use migguard_core::drift::{self, DriftInput};
use migguard_db::{DatabaseUrl, DbError, Snapshots};
use migguard_git::Repo;

use crate::args::{SnapshotAction, SnapshotArgs, SourceArgs};
use crate::dbstate;
use crate::hooks::snapshots::{fresh_name, restore_retrying, save_retrying, snapshots_for};
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

pub fn run(args: &SnapshotArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let workspace = Workspace::open(&SourceArgs {
        at: None,
        staged: false,
        path: args.path.clone(),
    })?;
    let Some((repo, _)) = &workspace.git else {
        anyhow::bail!(
            "{} is not inside a git repository: snapshots are kept per branch, in the repository's git directory",
            args.path.display()
        );
    };
    let project = workspace.analyze()?;
    let root = args
        .path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", args.path.display()))?;
    let located = dbstate::locate_database(
        &root,
        &workspace.settings,
        &project.settings,
        args.database.as_deref(),
    )?;
    let url = located.url;
    let snapshots = match snapshots_for(&url, repo) {
        Ok(s) => s,
        Err(e) => {
            printer.error(&dbstate::one_line(&e));
            return Ok(ExitStatus::Failure);
        }
    };
    let name_or_branch = |name: &Option<String>| -> Result<String> {
        match name {
            Some(n) => Ok(n.clone()),
            None => repo
                .current_branch()
                .context("HEAD is detached: name the snapshot (`migguard snapshot save NAME`)"),
        }
    };
    match &args.action {
        SnapshotAction::List => list(repo, &url, &snapshots, printer),
        SnapshotAction::Save { name } => {
            let name = name_or_branch(name)?;
            match save_retrying(&snapshots, &name) {
                Ok(info) => {
                    writeln!(
                        printer.out,
                        "Saved {url} as snapshot `{name}` ({})",
                        info.location
                    )?;
                    Ok(ExitStatus::Success)
                }
                Err(e) => {
                    printer.error(&format!("cannot save `{name}`: {}", dbstate::one_line(&e)));
                    Ok(ExitStatus::Failure)
                }
            }
        }
        SnapshotAction::Restore { name } => {
            let name = name_or_branch(name)?;
            restore(&url, &snapshots, &name, &project, printer)
        }
        SnapshotAction::Prune { keep } => prune(&snapshots, *keep, printer),
        SnapshotAction::Drop { name } => {
            let name = name_or_branch(name)?;
            match snapshots.drop_snapshot(&name) {
                Ok(true) => {
                    writeln!(printer.out, "Dropped snapshot `{name}`")?;
                    Ok(ExitStatus::Success)
                }
                Ok(false) => {
                    printer.error(&format!(
                        "no snapshot `{name}` (see `migguard snapshot list`)"
                    ));
                    Ok(ExitStatus::Failure)
                }
                Err(e) => {
                    printer.error(&format!("cannot drop `{name}`: {}", dbstate::one_line(&e)));
                    Ok(ExitStatus::Failure)
                }
            }
        }
    }
}

fn list(
    repo: &Repo,
    url: &DatabaseUrl,
    snapshots: &Snapshots,
    printer: &mut Printer<'_>,
) -> Result<ExitStatus> {
    let all = match snapshots.list() {
        Ok(all) => all,
        Err(e) => {
            printer.error(&dbstate::one_line(&e));
            return Ok(ExitStatus::Failure);
        }
    };
    if all.is_empty() {
        writeln!(printer.out, "No snapshots of {url}.")?;
        return Ok(ExitStatus::Success);
    }
    let current = repo.current_branch().map(|b| snapshots.name_for(&b));
    writeln!(printer.out, "Snapshots of {url}:")?;
    for info in &all {
        let mark = if current.as_deref() == Some(info.name.as_str()) {
            "*"
        } else {
            " "
        };
        let branch = match &info.branch {
            Some(b) if snapshots.name_for(b) == info.name && *b != info.name => {
                format!(" (branch {b})")
            }
            _ => String::new(),
        };
        writeln!(
            printer.out,
            "{mark} {}{branch}  {}",
            info.name, info.location
        )?;
    }
    Ok(ExitStatus::Success)
}

/// The prefix of the snapshots [`restore`] saves of the state it replaces.
const BEFORE_RESTORE: &str = "before-restore";

/// Drop the `before-restore-*` snapshots but the `keep` newest. Their
/// names carry the time they were taken (`before-restore-20261203-101500`,
/// `-2` added for a second one in the same second), so they sort by it.
fn prune(snapshots: &Snapshots, keep: usize, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let all = match snapshots.list() {
        Ok(all) => all,
        Err(e) => {
            printer.error(&dbstate::one_line(&e));
            return Ok(ExitStatus::Failure);
        }
    };
    let mut saved: Vec<String> = all
        .into_iter()
        .map(|info| info.branch.unwrap_or(info.name))
        .filter(|name| is_before_restore(name))
        .collect();
    saved.sort_by_key(|name| taken_at(name));
    let old = saved.len().saturating_sub(keep);
    if old == 0 {
        writeln!(
            printer.out,
            "Nothing to prune: {} {BEFORE_RESTORE}-* snapshot{} (keeping {keep})",
            saved.len(),
            if saved.len() == 1 { "" } else { "s" }
        )?;
        return Ok(ExitStatus::Success);
    }
    let mut status = ExitStatus::Success;
    for name in &saved[..old] {
        match snapshots.drop_snapshot(name) {
            Ok(_) => writeln!(printer.out, "Dropped snapshot `{name}`")?,
            Err(e) => {
                printer.error(&format!("cannot drop `{name}`: {}", dbstate::one_line(&e)));
                status = ExitStatus::Failure;
            }
        }
    }
    for name in &saved[old..] {
        writeln!(printer.out, "Kept snapshot `{name}`")?;
    }
    Ok(status)
}

/// Whether `name` is one [`restore`] gave: `before-restore-YYYYMMDD-HHMMSS`,
/// `-N` added for a second in the same second. A snapshot saved by hand or
/// for a branch whose name only starts so is the user's: never pruned.
fn is_before_restore(name: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = name
        .strip_prefix(BEFORE_RESTORE)
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let mut parts = rest.split('-');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(day), Some(time), n, None) => {
            digits(day, 8)
                && digits(time, 6)
                && n.is_none_or(|n| !n.is_empty() && n.len() < 10 && digits(n, n.len()))
        }
        _ => false,
    }
}

/// `before-restore-20261203-101500-2` → (`20261203-101500`, 2); the first
/// of a second has no number (1).
fn taken_at(name: &str) -> (String, u32) {
    let rest = name.strip_prefix(BEFORE_RESTORE).unwrap_or(name);
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    // The timestamp is `YYYYMMDD-HHMMSS`: 15 characters.
    match rest.get(15..).and_then(|n| n.strip_prefix('-')) {
        Some(n) => (rest[..15].to_owned(), n.parse().unwrap_or(u32::MAX)),
        None => (rest.to_owned(), 1),
    }
}

/// Save the current state under `before-restore-<time>`, then restore.
fn restore(
    url: &DatabaseUrl,
    snapshots: &Snapshots,
    name: &str,
    project: &migguard_core::project::Project,
    printer: &mut Printer<'_>,
) -> Result<ExitStatus> {
    match snapshots.exists(name) {
        Ok(true) => {}
        Ok(false) => {
            printer.error(&format!(
                "no snapshot `{name}` (see `migguard snapshot list`); nothing was changed"
            ));
            return Ok(ExitStatus::Failure);
        }
        Err(e) => {
            printer.error(&dbstate::one_line(&e));
            return Ok(ExitStatus::Failure);
        }
    }
    let before = fresh_name(snapshots, BEFORE_RESTORE);
    let saved = match save_retrying(snapshots, &before) {
        Ok(_) => Some(before),
        Err(DbError::SqliteFileMissing { .. } | DbError::NoDatabase { .. }) => None,
        Err(e) => {
            printer.error(&format!(
                "cannot save the current database before restoring, so nothing was changed: {}",
                dbstate::one_line(&e)
            ));
            return Ok(ExitStatus::Failure);
        }
    };
    if let Err(e) = restore_retrying(snapshots, name) {
        printer.error(&format!(
            "cannot restore `{name}`, the database is unchanged: {}",
            dbstate::one_line(&e)
        ));
        return Ok(ExitStatus::Failure);
    }
    writeln!(printer.out, "Restored {url} from snapshot `{name}`")?;
    if let Some(before) = saved {
        writeln!(
            printer.out,
            "The state before is snapshot `{before}` (`migguard snapshot restore {before}` to go back, \
             `migguard snapshot drop {before}` once you no longer need it; `migguard snapshot prune` \
             drops every {BEFORE_RESTORE}-* snapshot but the newest)"
        )?;
    }
    // Say whether the restored state fits the working tree.
    if let Ok(applied) = migguard_db::read_applied(url).map(|a| a.keys()) {
        let mut project = project.clone();
        drift::rebuild_graph(&mut project, &applied);
        let fit = drift::compute(&DriftInput {
            new: &project,
            old: None,
            stored: &[],
            applied: &applied,
        });
        if !fit.foreign.is_empty() {
            printer.warn(&format!(
                "the restored database has {} migration(s) the working tree does not have; \
                 `migguard sync` brings it to the working tree's migrations",
                fit.foreign.len()
            ));
        } else if !fit.unapplied.is_empty() {
            printer.note(&format!(
                "{} migration(s) of the working tree are not applied in the restored database: run `migguard sync` or `manage.py migrate`",
                fit.unapplied.len()
            ));
        }
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::{is_before_restore, taken_at};

    #[test]
    fn only_the_names_restore_gives_are_prunable() {
        for name in [
            "before-restore-20261203-101500",
            "before-restore-20261203-101500-2",
            "before-restore-20261203-101500-12",
        ] {
            assert!(is_before_restore(name), "{name}");
        }
        for name in [
            "before-restore-keep-this",
            "before-restore-20261203",
            "before-restore-20261203-101500-",
            "before-restore-20261203-101500-2-x",
            "before-restore-2026120x-101500",
            "main",
        ] {
            assert!(!is_before_restore(name), "{name}");
        }
    }

    #[test]
    fn before_restore_snapshots_sort_by_the_time_they_were_taken() {
        let mut names = vec![
            "before-restore-20261203-101500-10",
            "before-restore-20261203-101500-2",
            "before-restore-20261203-101501",
            "before-restore-20261203-101500",
            "before-restore-20251231-235959",
        ];
        names.sort_by_key(|n| taken_at(n));
        assert_eq!(
            names,
            vec![
                "before-restore-20251231-235959",
                "before-restore-20261203-101500",
                "before-restore-20261203-101500-2",
                "before-restore-20261203-101500-10",
                "before-restore-20261203-101501",
            ]
        );
    }
}
