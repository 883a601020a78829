//! `MigrationLoader.build_graph`, statically.

use std::collections::{BTreeMap, BTreeSet};

use super::{Graph, NodeKind};
use crate::model::{Dependency, DependencyTarget, Migration, MigrationKey};
use crate::source::Span;

/// Migrations recorded as applied in a database (`django_migrations`).
pub type AppliedSet = BTreeSet<MigrationKey>;

/// What the loader needs besides the files.
pub struct BuildInput<'a> {
    pub migrations: &'a [Migration],
    /// Labels of the project's apps that have a migrations package (Django's
    /// `migrated_apps`), including those whose package is still empty.
    /// Dependencies on any other app are taken as external: installed from
    /// a package, outside the analysed tree.
    pub project_apps: &'a BTreeSet<String>,
    /// Resolves a swappable setting name (`AUTH_USER_MODEL`) to its model
    /// reference (`accounts.User`).
    pub swappable: &'a dyn Fn(&str) -> Option<String>,
    /// Applied migrations, when known. `None` is Django's loader without a
    /// connection: nothing applied, every squash usable.
    pub applied: Option<&'a AppliedSet>,
}

/// A dependency that no migration provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDependency {
    /// The migration that declares it.
    pub from: MigrationKey,
    /// What it points at, as resolved (`__first__` stays literal when the app
    /// has no migrations).
    pub target: MigrationKey,
    /// `run_before` entries point the other way round.
    pub run_before: bool,
    pub line: u32,
    pub column: u32,
    pub span: Span,
}

/// The graph and what building it found.
#[derive(Debug, Clone, Default)]
pub struct GraphBuild {
    pub graph: Graph,
    pub missing: Vec<MissingDependency>,
    pub cycles: Vec<Vec<MigrationKey>>,
    /// Per project app, its leaf migrations (sorted).
    pub leaves: BTreeMap<String, Vec<String>>,
    /// Apps with more than one leaf, and those leaves (sorted): what
    /// `makemigrations` refuses with "Conflicting migrations detected".
    pub conflicts: BTreeMap<String, Vec<String>>,
    /// Squashed migrations used in place of the ones they replace.
    pub replacements_used: Vec<MigrationKey>,
    /// Squashed migrations dropped because they are partially applied.
    pub replacements_dropped: Vec<MigrationKey>,
    /// `swappable_dependency(settings.X)` whose setting is not known.
    pub unresolved_swappable: Vec<(MigrationKey, String, u32, u32)>,
}

#[derive(Default)]
struct Resolved<'a> {
    dependencies: Vec<(MigrationKey, &'a Dependency)>,
    run_before: Vec<(MigrationKey, &'a Dependency)>,
}

/// A declared dependency as a key; a swappable one through the settings.
/// `Err` names a swappable setting nobody knows.
fn resolve_target(dep: &Dependency, input: &BuildInput<'_>) -> Result<MigrationKey, String> {
    match &dep.target {
        DependencyTarget::Key(key) => Ok(key.clone()),
        DependencyTarget::Swappable { setting } => match (input.swappable)(setting) {
            Some(model) => {
                let app = model.split('.').next().unwrap_or(&model).to_owned();
                Ok(MigrationKey::new(app, "__first__"))
            }
            None => Err(setting.clone()),
        },
    }
}

pub fn build(input: &BuildInput<'_>) -> GraphBuild {
    let mut out = GraphBuild::default();
    let mut graph = Graph::default();
    let mut by_key: BTreeMap<MigrationKey, usize> = BTreeMap::new();
    for (index, migration) in input.migrations.iter().enumerate() {
        if by_key.contains_key(&migration.key) {
            continue;
        }
        by_key.insert(migration.key.clone(), index);
        graph.add_node(migration.key.clone(), NodeKind::Migration(index));
    }

    // Resolve each declared dependency to a key, once.
    let mut resolved: BTreeMap<&MigrationKey, Resolved<'_>> = BTreeMap::new();
    for (key, &index) in &by_key {
        let migration = &input.migrations[index];
        let mut entry = Resolved::default();
        for (list, deps) in [
            (&mut entry.dependencies, &migration.dependencies),
            (&mut entry.run_before, &migration.run_before),
        ] {
            for dep in deps {
                match resolve_target(dep, input) {
                    Ok(target) => list.push((target, dep)),
                    Err(setting) => {
                        out.unresolved_swappable
                            .push((key.clone(), setting, dep.line, dep.column))
                    }
                }
            }
        }
        resolved.insert(key, entry);
    }

    let mut candidates: Vec<MissingDependency> = Vec::new();
    let mut note = |graph: &Graph,
                    created: bool,
                    from: &MigrationKey,
                    target: &MigrationKey,
                    dep: &Dependency,
                    run_before: bool| {
        if created || !graph.is_real(target) {
            candidates.push(MissingDependency {
                from: from.clone(),
                target: target.clone(),
                run_before,
                line: dep.line,
                column: dep.column,
                span: dep.span,
            });
        }
    };

    // Internal (same app) dependencies first, as Django does.
    for (key, entry) in &resolved {
        for (parent, dep) in &entry.dependencies {
            if parent.app == key.app && parent.name != "__first__" {
                let created = graph.add_dependency(key, parent);
                note(&graph, created, key, parent, dep, false);
            }
        }
    }
    // External dependencies and run_before, once internal ones are in place.
    for (key, entry) in &resolved {
        for (parent, dep) in &entry.dependencies {
            if parent.app == key.app {
                continue;
            }
            if let Some(parent) = check_key(&mut graph, input, parent.clone(), &key.app) {
                let created = graph.add_dependency(key, &parent);
                note(&graph, created, key, &parent, dep, false);
            }
        }
        for (child, dep) in &entry.run_before {
            if let Some(child) = check_key(&mut graph, input, child.clone(), &key.app) {
                let created = graph.add_dependency(&child, key);
                note(&graph, created, key, &child, dep, true);
            }
        }
    }
    let missing_candidates = candidates;

    // Squashed migrations, as Django's loader decides with the applied set.
    let empty = AppliedSet::new();
    let applied = input.applied.unwrap_or(&empty);
    for (key, &index) in &by_key {
        let migration = &input.migrations[index];
        if migration.replaces.is_empty() {
            continue;
        }
        let replaced: Vec<MigrationKey> = migration
            .replaces
            .iter()
            .filter_map(|d| match &d.target {
                DependencyTarget::Key(k) => Some(k.clone()),
                DependencyTarget::Swappable { .. } => None,
            })
            .collect();
        let statuses: Vec<bool> = replaced.iter().map(|k| applied.contains(k)).collect();
        let all = statuses.iter().all(|&s| s);
        let none = !statuses.iter().any(|&s| s);
        if all || none {
            graph.remove_replaced_nodes(key, &replaced);
            out.replacements_used.push(key.clone());
        } else {
            graph.remove_replacement_node(key, &replaced);
            out.replacements_dropped.push(key.clone());
        }
    }

    // Dummies that survive replacement are missing dependencies.
    let dummies: BTreeSet<MigrationKey> = graph.dummies().cloned().collect();
    out.missing = missing_candidates
        .into_iter()
        .filter(|m| dummies.contains(&m.target))
        .collect();
    out.missing.dedup();

    out.cycles = graph.cycles();
    for app in input.project_apps {
        let leaves: Vec<String> = graph.leaf_nodes(app).into_iter().map(|k| k.name).collect();
        if leaves.len() > 1 {
            out.conflicts.insert(app.clone(), leaves.clone());
        }
        out.leaves.insert(app.clone(), leaves);
    }
    out.graph = graph;
    out
}

/// Django's `MigrationLoader.check_key`, with apps outside the project taken
/// as external: their nodes are assumed to exist.
fn check_key(
    graph: &mut Graph,
    input: &BuildInput<'_>,
    key: MigrationKey,
    current_app: &str,
) -> Option<MigrationKey> {
    let special = key.name == "__first__" || key.name == "__latest__";
    if !input.project_apps.contains(&key.app) {
        // Installed from elsewhere (django.contrib.auth, a PyPI package):
        // not ours to verify.
        graph.add_node(key.clone(), NodeKind::External);
        return Some(key);
    }
    if !special || graph.is_real(&key) {
        return Some(key);
    }
    if key.app == current_app {
        // Django ignores __first__ references to the same app (#22325).
        return None;
    }
    let found = if key.name == "__first__" {
        graph.root_nodes(&key.app).into_iter().next()
    } else {
        graph.leaf_nodes(&key.app).into_iter().next()
    };
    // An app with a migrations package but no migration: Django raises
    // "Dependency on app with no migrations"; keep the key so it is reported.
    Some(found.unwrap_or(key))
}
