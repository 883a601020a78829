//! `max_migration.txt`: one line per app naming its leaf, in the format
//! django-linear-migrations uses, so that two branches extending one app
//! conflict textually when git merges them.

use crate::project::{App, Project};

use super::FileWrite;

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

/// The files to write for these apps (all when empty); apps in conflict
/// are returned apart, since they have no single leaf to record.
pub fn plan(project: &Project, apps: &[String]) -> (Vec<FileWrite>, Vec<String>) {
    let mut writes = Vec::new();
    let mut conflicted = Vec::new();
    for app in &project.discovery.apps {
        if !apps.is_empty() && !apps.contains(&app.label) {
            continue;
        }
        match expected(project, app) {
            Some(leaf) => {
                let content = format!("{leaf}\n");
                if app.max_migration.as_deref() != Some(content.as_str()) {
                    writes.push(FileWrite {
                        path: path(app),
                        content,
                    });
                }
            }
            None if project.graph.conflicts.contains_key(&app.label) => {
                conflicted.push(app.label.clone())
            }
            None => {}
        }
    }
    (writes, conflicted)
}
