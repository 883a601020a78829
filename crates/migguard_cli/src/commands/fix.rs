//! `migguard merge`, `migguard rebase` and `migguard lock`: the fixes for
//! migration conflicts, applied to the working tree.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use migguard_core::diagnostic::Violation;
use migguard_core::fix::{self, merge::Clock, FileWrite};
use migguard_core::model::MigrationKey;
use migguard_core::project::Project;
use migguard_core::rules::graph::stale_max_migration::StaleMaxMigration;
use migguard_core::source::ProjectSource;
use migguard_git::{InProgress, Oid};

use crate::args::{LockArgs, MergeArgs, RebaseArgs, SourceArgs};
use crate::dbstate;
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

fn open(path: &Path) -> Result<(Workspace, Project)> {
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
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".migguard-tmp");
    let tmp = path.with_file_name(tmp_name);
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
                    if let Some(lock) = &plan.lock {
                        writeln!(printer.out, "--- {} (not written)", lock.path)?;
                        write!(printer.out, "{}", lock.content)?;
                    }
                } else {
                    write_file(&workspace.root, &plan.file)?;
                    writeln!(
                        printer.out,
                        "Created new merge migration {}",
                        plan.file.path
                    )?;
                    if let Some(lock) = &plan.lock {
                        write_file(&workspace.root, lock)?;
                        writeln!(printer.out, "Updated {}", lock.path)?;
                    }
                }
            }
            Err(refusal @ fix::merge::MergeRefusal::UnknownApp(_)) => {
                printer.error(&refusal.to_string());
                status = ExitStatus::Error;
            }
            Err(refusal) => {
                printer.error(&refusal.to_string());
                if status == ExitStatus::Success {
                    status = ExitStatus::Failure;
                }
            }
        }
    }
    Ok(status)
}

/// Which side of a conflict in `max_migration.txt` names the migration to
/// move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Between `<<<<<<<` and `|||||||` / `=======`: `HEAD`.
    Top,
    /// Between `=======` and `>>>>>>>`.
    Bottom,
}

/// The migration named on one side of the conflict markers in
/// `max_migration.txt`.
fn from_conflict_markers(content: &str, wanted: Side) -> Option<String> {
    let mut side = None;
    for line in content.lines() {
        if line.starts_with("<<<<<<<") {
            side = Some(Side::Top);
        } else if line.starts_with("|||||||") || line.starts_with(">>>>>>>") {
            side = None;
        } else if line.starts_with("=======") {
            side = Some(Side::Bottom);
        } else if side == Some(wanted) && !line.trim().is_empty() {
            return Some(line.trim().to_owned());
        }
    }
    None
}

/// The migration to move when none is named: our branch's, read from the
/// conflict markers git left in `max_migration.txt`. In a merge ours is
/// the top side (`HEAD`, the branch being merged into: the incoming
/// branch's migrations stay as they are); in a rebase it is the bottom
/// side (the commit being replayed onto the upstream branch). Without
/// markers (an app with no `max_migration.txt`), ours is the one leaf the
/// other side (the commit merged in, or rebased onto) does not have. With
/// no merge or rebase in progress, ours is the one leaf the upstream
/// branch, or else the branch's tracking branch, does not have.
fn migration_to_move(
    workspace: &Workspace,
    project: &Project,
    app: &str,
    in_progress: Option<InProgress>,
) -> Result<String, String> {
    // What the other side has: the commit merged in or rebased onto;
    // without a merge or rebase in progress (after `git rebase` is done),
    // the upstream branch or the branch's tracking branch.
    let (side, others): (Option<Side>, Vec<(String, Oid)>) = match in_progress {
        Some(InProgress::Merge { incoming }) => {
            (Some(Side::Top), vec![("MERGE_HEAD".to_owned(), incoming)])
        }
        Some(InProgress::Rebase { onto }) => (
            Some(Side::Bottom),
            onto.map(|oid| ("the commit rebased onto".to_owned(), oid))
                .into_iter()
                .collect(),
        ),
        _ => {
            let mut others: Vec<(String, Oid)> = workspace.upstream().into_iter().collect();
            if let Some(tracking) = workspace
                .git
                .as_ref()
                .and_then(|(repo, _)| repo.tracking_branch())
            {
                others.push(tracking);
            }
            (None, others)
        }
    };
    if let Some(side) = side {
        let content = project
            .discovery
            .apps
            .iter()
            .find(|a| a.label == app)
            .and_then(|a| a.max_migration.clone())
            .unwrap_or_default();
        if let Some(name) = from_conflict_markers(&content, side) {
            return Ok(name);
        }
    }
    let leaves = project
        .graph
        .conflicts
        .get(app)
        .cloned()
        .unwrap_or_default();
    let mut ours: Vec<&String> = Vec::new();
    for (_, oid) in &others {
        let Ok(tree) = workspace.tree_at(&oid.to_string()) else {
            continue;
        };
        ours = leaves
            .iter()
            .filter(|leaf| {
                project
                    .migration(&MigrationKey::new(app, leaf.as_str()))
                    .is_some_and(|m| tree.content_id(&m.path).is_none())
            })
            .collect();
        if ours.len() == 1 {
            break;
        }
    }
    if side.is_none() {
        return match ours.as_slice() {
            [only] => Ok((*only).clone()),
            _ => Err(format!(
                "name the migration to move: `migguard rebase {app} MIGRATION` (no merge or rebase is in progress, \
                 and {})",
                if others.is_empty() {
                    "no upstream branch (`[tool.migguard] upstream`, origin's default branch or this branch's tracking branch) to compare with".to_owned()
                } else {
                    format!(
                        "no single leaf of {app} that {} lacks",
                        others.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(" or ")
                    )
                }
            )),
        };
    }
    match ours.as_slice() {
        [only] => Ok((*only).clone()),
        _ => Err(format!(
            "name the migration to move: `migguard rebase {app} MIGRATION` (no conflict markers in {app}'s {} \
             and no single leaf of {app} that only this side has to read it from)",
            fix::lock::FILE_NAME
        )),
    }
}

/// The migrations of `app` that others already have, and where: on the
/// upstream branch, on the branch being merged in, on the commit rebased
/// onto.
fn published(
    workspace: &Workspace,
    project: &Project,
    app: &str,
    in_progress: Option<InProgress>,
) -> Result<BTreeMap<MigrationKey, String>> {
    let mut places: Vec<(String, Oid)> = workspace.upstream().into_iter().collect();
    match in_progress {
        Some(InProgress::Merge { incoming }) => places.push((
            "the branch being merged in (MERGE_HEAD)".to_owned(),
            incoming,
        )),
        Some(InProgress::Rebase { onto: Some(onto) }) => {
            places.push(("the commit being rebased onto".to_owned(), onto))
        }
        _ => {}
    }
    let mut out = BTreeMap::new();
    for (place, oid) in places {
        let tree = workspace.tree_at(&oid.to_string())?;
        for migration in project.migrations.iter().filter(|m| m.key.app == app) {
            if tree.content_id(&migration.path).is_some() {
                out.entry(migration.key.clone())
                    .or_insert_with(|| place.clone());
            }
        }
    }
    Ok(out)
}

pub fn rebase(args: &RebaseArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let (workspace, project) = open(&args.path)?;
    let in_progress = workspace
        .git
        .as_ref()
        .and_then(|(repo, _)| repo.in_progress());
    // An app the project lacks is said as such, before looking for the
    // migration to move in it.
    if let Err(unknown) = fix::select(&project, std::slice::from_ref(&args.app)) {
        printer.error(&unknown.to_string());
        return Ok(ExitStatus::Error);
    }
    let migration = match &args.migration {
        Some(m) => m.clone(),
        None => match migration_to_move(&workspace, &project, &args.app, in_progress) {
            Ok(m) => m,
            Err(message) => {
                printer.error(&message);
                return Ok(ExitStatus::Error);
            }
        },
    };
    let published = published(&workspace, &project, &args.app, in_progress)?;
    let plan = match fix::rebase::plan(
        &project,
        workspace.source.as_ref(),
        &args.app,
        &migration,
        &published,
    ) {
        Ok(plan) => plan,
        Err(refusal) => {
            printer.error(&refusal.to_string());
            return Ok(match refusal {
                fix::rebase::RebaseRefusal::UnknownApp(_) => ExitStatus::Error,
                _ => ExitStatus::Failure,
            });
        }
    };
    // The database first: a moved migration it has applied must be
    // unapplied while its old file is still there for Django to read.
    let unchecked = match applied_among_moved(&workspace, &project, &plan) {
        Ok(applied) if !applied.is_empty() => {
            let target = plan.base.as_deref().unwrap_or("zero");
            let unapply = format!(
                "{} migrate {} {}",
                dbstate::manage_command(&workspace.settings, &project.settings),
                dbstate::quote(&plan.app),
                dbstate::quote(target),
            );
            // Django refuses to migrate while the app has two leaves, so
            // the unapplying happens where it has one.
            let steps = match in_progress {
                Some(InProgress::Merge { .. }) => format!(
                    "`git merge --abort`, `{unapply}`, then merge again and run `migguard rebase {}`",
                    plan.app
                ),
                Some(InProgress::Rebase { .. }) => format!(
                    "`git rebase --abort`, `{unapply}`, then rebase again and run `migguard rebase {}`",
                    plan.app
                ),
                _ => format!(
                    "on a revision where `{}` is the only leaf of `{}`, run `{unapply}`; then come back and run `migguard rebase` again",
                    applied.last().map(String::as_str).unwrap_or_default(),
                    plan.app
                ),
            };
            printer.error(&format!(
                "the local database has applied {} of app `{}`, which rebase would rename: \
                 Django could no longer unapply {}. Unapply first, while the old files are there: {steps}. \
                 Nothing was {}",
                applied.join(", "),
                plan.app,
                if applied.len() == 1 { "it" } else { "them" },
                if args.dry_run { "changed (--dry-run)" } else { "written" },
            ));
            return Ok(ExitStatus::Failure);
        }
        Ok(_) => None,
        Err(problem) => Some(problem),
    };
    writeln!(printer.out, "Rebasing {} onto {}", plan.app, plan.onto)?;
    for (old, new) in &plan.moved {
        writeln!(printer.out, "  {old} -> {new}")?;
    }
    if let Some(problem) = &unchecked {
        writeln!(
            printer.out,
            "Could not check whether the local database has applied the moved migrations ({problem}). \
             If it has, unapply them before rebasing: `{} migrate {} {}`.",
            dbstate::manage_command(&workspace.settings, &project.settings),
            dbstate::quote(&plan.app),
            dbstate::quote(plan.base.as_deref().unwrap_or("zero")),
        )?;
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
    writeln!(printer.out, "Done.")?;
    Ok(ExitStatus::Success)
}

/// The migrations `plan` renames that the local database has applied (as
/// `status` reads it), or why the database could not be read.
fn applied_among_moved(
    workspace: &Workspace,
    project: &Project,
    plan: &fix::rebase::RebasePlan,
) -> Result<Vec<String>, dbstate::DbProblem> {
    let root = workspace
        .root
        .canonicalize()
        .unwrap_or_else(|_| workspace.root.clone());
    let located = dbstate::locate_database(&root, &workspace.settings, &project.settings, None)?;
    let applied = match migguard_db::read_applied(&located.url) {
        Ok(rows) => rows.keys(),
        // A database not created yet, or never migrated, has applied
        // nothing: nothing to refuse, nothing to warn about.
        Err(
            migguard_db::DbError::SqliteFileMissing { .. }
            | migguard_db::DbError::NoDatabase { .. }
            | migguard_db::DbError::NoMigrationsTable { .. },
        ) => return Ok(Vec::new()),
        Err(e) => return Err(dbstate::DbProblem::from_db(&e)),
    };
    Ok(plan
        .moved
        .iter()
        .map(|(old, _)| old)
        .filter(|old| applied.contains(&MigrationKey::new(&plan.app, old.as_str())))
        .cloned()
        .collect())
}

pub fn lock(args: &LockArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let (workspace, project) = open(&args.path)?;
    let (writes, conflicted) = match fix::lock::plan(&project, &args.apps) {
        Ok(plan) => plan,
        Err(unknown) => {
            printer.error(&unknown.to_string());
            return Ok(ExitStatus::Error);
        }
    };
    for app in &conflicted {
        printer.error(&format!("app `{app}` has more than one leaf; run `migguard merge {app}` or `migguard rebase` first"));
    }
    if args.check {
        let mut stale = 0;
        for app in fix::select(&project, &args.apps)? {
            match fix::lock::state(&project, app) {
                fix::lock::State::Stale { recorded, leaf } => {
                    stale += 1;
                    // Worded as pre-commit's stale-max-migration.
                    let finding = StaleMaxMigration {
                        app: app.label.clone(),
                        recorded,
                        leaf,
                    };
                    writeln!(
                        printer.out,
                        "{}: {}",
                        fix::lock::path(app),
                        finding.message()
                    )?;
                }
                fix::lock::State::Missing { leaf } if args.require => {
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
        write_file(&workspace.root, file)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_marker_sides_also_in_diff3_style() {
        let merge = "<<<<<<< HEAD\n0002_b\n=======\n0002_a\n>>>>>>> main\n";
        assert_eq!(
            from_conflict_markers(merge, Side::Top).as_deref(),
            Some("0002_b")
        );
        assert_eq!(
            from_conflict_markers(merge, Side::Bottom).as_deref(),
            Some("0002_a")
        );
        let diff3 =
            "<<<<<<< HEAD\n0002_b\n||||||| base\n0001_initial\n=======\n0002_a\n>>>>>>> main\n";
        assert_eq!(
            from_conflict_markers(diff3, Side::Top).as_deref(),
            Some("0002_b")
        );
        assert_eq!(
            from_conflict_markers(diff3, Side::Bottom).as_deref(),
            Some("0002_a")
        );
        assert_eq!(from_conflict_markers("0002_a\n", Side::Top), None);
    }
}
