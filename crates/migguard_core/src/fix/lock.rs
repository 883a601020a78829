//! `max_migration.txt`: one line per app naming its leaf, in the format
//! django-linear-migrations uses, so that two branches extending one app
//! conflict textually when git merges them.

use crate::project::{App, Project};

use super::{select, FileWrite, UnknownApps};

pub const FILE_NAME: &str = "max_migration.txt";

pub fn path(app: &App) -> String {
    format!("{}/{FILE_NAME}", app.migrations_dir)
}

/// What the file should hold for an app: its single leaf. `None` when the
/// app has no migration or more than one leaf.
pub fn expected(project: &Project, app: &App) -> Option<String> {
    match project.graph.leaves.get(&app.label).map(Vec::as_slice) {
        Some([leaf]) => Some(leaf.clone()),
        _ => None,
    }
}

/// The migration a file's content names, as django-linear-migrations reads
/// it: surrounding whitespace (a final newline, `\r\n` line endings) does
/// not count. The one reading used by `lock`, `lock --check` and
/// `stale-max-migration`.
pub fn recorded(content: &str) -> &str {
    content.trim()
}

/// Where an app's `max_migration.txt` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// It names the leaf.
    Current,
    /// It names something else (`recorded`, as read).
    Stale { recorded: String, leaf: String },
    /// The app has none yet.
    Missing { leaf: String },
    /// The app has more than one leaf: nothing to record.
    Conflicted,
    /// The app has no migration.
    Empty,
}

/// The state of one app's file.
pub fn state(project: &Project, app: &App) -> State {
    match (expected(project, app), &app.max_migration) {
        (Some(leaf), Some(content)) if recorded(content) == leaf => State::Current,
        (Some(leaf), Some(content)) => State::Stale {
            recorded: recorded(content).to_owned(),
            leaf,
        },
        (Some(leaf), None) => State::Missing { leaf },
        (None, _) if project.graph.conflicts.contains_key(&app.label) => State::Conflicted,
        (None, _) => State::Empty,
    }
}

/// The files to write for these apps (all when empty): stale and missing
/// ones; apps in conflict are returned apart, since they have no single
/// leaf to record.
pub fn plan(
    project: &Project,
    apps: &[String],
) -> Result<(Vec<FileWrite>, Vec<String>), UnknownApps> {
    let mut writes = Vec::new();
    let mut conflicted = Vec::new();
    for app in select(project, apps)? {
        match state(project, app) {
            State::Stale { leaf, .. } | State::Missing { leaf } => writes.push(FileWrite {
                path: path(app),
                content: format!("{leaf}\n"),
            }),
            State::Conflicted => conflicted.push(app.label.clone()),
            State::Current | State::Empty => {}
        }
    }
    Ok((writes, conflicted))
}
