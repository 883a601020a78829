//! Per-branch database snapshots on checkout (opt-in: `[tool.migguard]
//! snapshots = true`), and the helpers `migguard snapshot` and `migguard
//! sync` share with it.
//!
//! On a branch checkout, [`on_checkout`] saves the database under the name
//! of the branch being left, then, when the branch being entered has a
//! snapshot whose applied migrations all belong to that branch, restores it.
//! The current state was saved first, so nothing is lost; when it cannot be
//! saved, nothing is restored. SQLite snapshots are files under
//! `<git common dir>/migguard/snapshots/<database>-<hash>/`, a directory
//! per live database; PostgreSQL snapshots are databases on the server
//! (`CREATE DATABASE ... TEMPLATE`); MySQL/MariaDB has none. Every problem is one line: post-checkout never blocks.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use migguard_core::config::Settings;
use migguard_core::drift::{self, DriftInput};
use migguard_core::graph::AppliedSet;
use migguard_core::project::Project;
use migguard_db::{DatabaseUrl, DbError, Snapshots};
use migguard_git::Repo;

use crate::dbstate;
use crate::Printer;

/// Where SQLite snapshots (and `sync` backups) live: shared by every
/// worktree of the repository.
pub fn snapshot_dir(repo: &Repo) -> PathBuf {
    repo.common_dir().join("migguard").join("snapshots")
}

/// The snapshots of the database `url`.
pub(crate) fn snapshots_for(url: &DatabaseUrl, repo: &Repo) -> Result<Snapshots, DbError> {
    Snapshots::new(url, snapshot_dir(repo))
}

/// `django_migrations` of the snapshot `name`, read without changing it:
/// the snapshot file opened read-only (SQLite), the snapshot database in
/// a read-only transaction (PostgreSQL).
pub(crate) fn snapshot_applied(snapshots: &Snapshots, name: &str) -> Result<AppliedSet, DbError> {
    Ok(migguard_db::read_applied(&snapshots.url_of(name)?)?.keys())
}

/// The application name of migguard's own PostgreSQL sessions.
const OWN_SESSIONS: &str = "migguard";

/// Run `action`, retrying for a moment while the only sessions in the way
/// are migguard's own that were just closed (PostgreSQL lists a session for
/// a little while after its client went). Anyone else's session is
/// reported at once: a checkout is not held up waiting for it.
fn retrying<T>(mut action: impl FnMut() -> Result<T, DbError>) -> Result<T, DbError> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match action() {
            Err(DbError::InUse { sessions, .. })
                if Instant::now() < deadline
                    && sessions.iter().all(|(_, app)| app == OWN_SESSIONS) =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Restore `name`, see [`retrying`].
pub(crate) fn restore_retrying(snapshots: &Snapshots, name: &str) -> Result<(), DbError> {
    retrying(|| snapshots.restore(name))
}

/// Save `name`, see [`retrying`].
pub(crate) fn save_retrying(
    snapshots: &Snapshots,
    name: &str,
) -> Result<migguard_db::SnapshotInfo, DbError> {
    retrying(|| snapshots.save(name))
}

/// A local time stamp for snapshot names: `20250131-120000`.
pub(crate) fn timestamp() -> String {
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system());
    now.strftime("%Y%m%d-%H%M%S").to_string()
}

/// `prefix-<timestamp>`, made unique among the existing snapshots.
pub(crate) fn fresh_name(snapshots: &Snapshots, prefix: &str) -> String {
    let base = format!("{prefix}-{}", timestamp());
    let mut name = base.clone();
    let mut n = 2;
    while snapshots.exists(&name).unwrap_or(false) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// The post-checkout part of per-branch snapshots; see the module
/// documentation. `project` is the branch entered (`HEAD`, from git),
/// `old_branch` the branch left, `new_branch` the one entered (`None` for a
/// detached HEAD). Prints one line on standard error when it does or
/// declines anything, and never fails.
pub fn on_checkout(
    repo: &Repo,
    root: &Path,
    settings: &Settings,
    project: &Project,
    old_branch: Option<&str>,
    new_branch: Option<&str>,
    printer: &mut Printer<'_>,
) {
    if settings.options.snapshots != Some(true)
        || (old_branch.is_some() && old_branch == new_branch)
    {
        return;
    }
    if let Some(line) = checkout_line(repo, root, settings, project, old_branch, new_branch) {
        printer.note(&format!("snapshots: {line}"));
    }
}

/// What [`on_checkout`] did, in one line; `None` when nothing to say.
fn checkout_line(
    repo: &Repo,
    root: &Path,
    settings: &Settings,
    project: &Project,
    old_branch: Option<&str>,
    new_branch: Option<&str>,
) -> Option<String> {
    let url = match dbstate::locate_database(root, settings, &project.settings, None) {
        Ok(located) => located.url,
        Err(problem) => return Some(problem.to_string()),
    };
    let snapshots = match snapshots_for(&url, repo) {
        Ok(s) => s,
        Err(e) => return Some(dbstate::one_line(&e)),
    };
    // 1. The state being left, under its branch.
    let (saved, said) = match old_branch {
        Some(old) => match save_retrying(&snapshots, old) {
            Ok(_) => (
                true,
                Some(format!("saved the database as snapshot `{old}`")),
            ),
            // No database yet: nothing to lose by restoring one.
            Err(DbError::SqliteFileMissing { .. } | DbError::NoDatabase { .. }) => (true, None),
            Err(e) => {
                return Some(format!(
                    "the database was not saved as snapshot `{old}` and nothing was restored: {} \
                     (then: `migguard snapshot save {old}`)",
                    dbstate::one_line(&e).trim_end_matches(';')
                ))
            }
        },
        None => (false, None),
    };
    let with_saved = |rest: String| -> Option<String> {
        Some(match &said {
            Some(said) => format!("{said}; {rest}"),
            None => rest,
        })
    };
    // 2. The state of the branch entered, when it has one that fits.
    let Some(new) = new_branch else {
        return said;
    };
    match snapshots.exists(new) {
        Ok(true) => {}
        Ok(false) => return said,
        Err(e) => return with_saved(dbstate::one_line(&e)),
    }
    if !saved {
        return Some(format!(
            "snapshot `{new}` was not restored: HEAD was detached, so the current database has no branch \
             to be saved under; `migguard snapshot restore {new}` restores it (saving the current state first)"
        ));
    }
    let applied = match snapshot_applied(&snapshots, new) {
        Ok(applied) => applied,
        Err(e) => {
            return with_saved(format!(
                "snapshot `{new}` was not restored: {}",
                dbstate::one_line(&e)
            ))
        }
    };
    let mut project = project.clone();
    drift::rebuild_graph(&mut project, &applied);
    let fit = drift::compute(&DriftInput {
        new: &project,
        old: None,
        stored: &[],
        applied: &applied,
    });
    if !fit.foreign.is_empty() || !fit.inconsistent.is_empty() {
        let names: Vec<String> = fit.foreign.iter().map(|f| f.key.to_string()).collect();
        return with_saved(format!(
            "snapshot `{new}` was not restored: it has migrations this branch does not have ({})",
            if names.is_empty() {
                "an inconsistent history".to_owned()
            } else {
                names.join(", ")
            }
        ));
    }
    match restore_retrying(&snapshots, new) {
        Ok(()) => {
            let rest = if fit.unapplied.is_empty() {
                "every migration of this branch is applied in it".to_owned()
            } else {
                format!(
                    "{} migration(s) of this branch are not applied in it: run `{} migrate`",
                    fit.unapplied.len(),
                    dbstate::manage_command(settings, &project.settings)
                )
            };
            with_saved(format!(
                "restored the database of `{new}` from its snapshot; {rest}"
            ))
        }
        Err(e) => with_saved(format!(
            "snapshot `{new}` was not restored, the database is unchanged: {}",
            dbstate::one_line(&e)
        )),
    }
}
