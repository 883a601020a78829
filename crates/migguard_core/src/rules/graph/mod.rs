//! `MG1xx`: the migration graph, as Django's loader builds it.

pub mod conflicting_migrations;
pub mod dependency_cycle;
pub mod missing_dependency;
pub mod nested_squash;
pub mod stale_max_migration;

use crate::diagnostic::{Diagnostic, Location};
use crate::model::MigrationKey;
use crate::project::Project;

/// Every graph rule over a project.
pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(missing_dependency::check(project));
    out.extend(dependency_cycle::check(project));
    out.extend(conflicting_migrations::check(project));
    out.extend(stale_max_migration::check(project));
    out.extend(nested_squash::check(project));
    out
}

/// Where a migration's `class Migration` is.
pub(crate) fn at_migration(project: &Project, key: &MigrationKey) -> Location {
    match project.migration(key) {
        Some(m) => at_location(m),
        None => Location::default().in_migration(&key.app, &key.name),
    }
}

/// The `class Migration` statement of a parsed migration.
pub(crate) fn at_location(m: &crate::model::Migration) -> Location {
    Location::file(m.path.clone())
        .in_migration(&m.key.app, &m.key.name)
        .at(m.line, m.column, Some(m.span))
}
