//! A database against a branch: which applied migrations the branch does
//! not have ("foreign"), which of its migrations are not applied, and
//! whether Django would refuse the history. Pure: the caller reads the
//! database, git and migguard's store of applied migrations.
//!
//! The semantics are Django's:
//! - the graph is built with the applied set (`rebuild_graph`), so a
//!   squashed migration replaces its originals only when they are all
//!   applied or none is, as `MigrationLoader.build_graph` decides;
//! - a squashed migration counts as applied when everything it replaces
//!   is (`MigrationLoader.check_replacements`);
//! - `migrate` applies `forwards_plan` of every leaf in sorted order,
//!   skipping what is applied (`MigrationExecutor.migration_plan`);
//! - `migrate APP TARGET` with `TARGET` applied unapplies the
//!   `backwards_plan` of each of `TARGET`'s children in `APP`; `migrate APP
//!   zero` that of each root of `APP`;
//! - an applied migration with an unapplied parent is
//!   `InconsistentMigrationHistory` (`check_consistent_history`).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::diagnostic::{Diagnostic, Location};
use crate::graph::{self, AppliedSet, BuildInput, Graph, NodeKind};
use crate::model::{
    Call, DependencyTarget, Migration, MigrationKey, Operation, OperationKind, Value,
};
use crate::project::{DjangoSettings, Project};
use crate::rules::branch::inconsistent_history::InconsistentHistory;
use crate::rules::branch::schema_mismatch::SchemaMismatch;
use crate::rules::branch::unapplied_migrations::UnappliedMigrations;
use crate::state::{self, field_arg, field_params, ProjectState};

/// What [`compute`] compares.
pub struct DriftInput<'a> {
    /// The project at the revision checked out (or the one planned for).
    pub new: &'a Project,
    /// The project at the revision left, when there is one: the first
    /// place to find applied migrations the new revision lacks.
    pub old: Option<&'a Project>,
    /// Migrations known from migguard's store of applied migrations (parsed
    /// from the stored files), for applied migrations neither project has.
    pub stored: &'a [Migration],
    /// `django_migrations`, as read.
    pub applied: &'a AppliedSet,
}

/// Where the file of a foreign migration is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// The revision left ([`DriftInput::old`]).
    OldRevision,
    /// migguard's store of applied migrations.
    Store,
    /// Nowhere: only the row in `django_migrations` is known.
    Unknown,
}

/// A migration applied in the database that the new revision lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignMigration {
    pub key: MigrationKey,
    pub provenance: Provenance,
    /// Its file, project-relative, where it is known from.
    pub path: Option<String>,
    /// What it did to the schema: `adds column blog_post.subtitle`.
    pub effects: Vec<String>,
}

/// `manage.py migrate APP TARGET`, and what it unapplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnapplyStep {
    pub app: String,
    /// The migration to go back to; `None` is `zero`.
    pub target: Option<String>,
    /// What Django unapplies, in its order (foreign migrations, and
    /// whatever depends on them or shares their ancestor).
    pub unapplies: Vec<MigrationKey>,
}

impl UnapplyStep {
    /// `TARGET` as `migrate` takes it.
    pub fn target_name(&self) -> &str {
        self.target.as_deref().unwrap_or("zero")
    }
}

/// An applied migration with unapplied dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistency {
    pub key: MigrationKey,
    pub missing: Vec<MigrationKey>,
}

/// The database against a revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Applied but absent from the new revision, sorted by key.
    pub foreign: Vec<ForeignMigration>,
    /// The `migrate APP TARGET` commands that unapply the foreign
    /// migrations whose files are known, one per app, sorted by app.
    pub unapply: Vec<UnapplyStep>,
    /// Migrations of the new revision not applied, in the order `migrate`
    /// would apply them now.
    pub unapplied: Vec<MigrationKey>,
    /// What `migrate` applies after the [`Drift::unapply`] steps (the
    /// unapplied ones, and any migration of the new revision the steps
    /// unapplied on the way).
    pub apply: Vec<MigrationKey>,
    pub inconsistent: Vec<Inconsistency>,
}

impl Drift {
    /// Nothing to report: the database matches the revision.
    pub fn is_clean(&self) -> bool {
        self.foreign.is_empty() && self.unapplied.is_empty() && self.inconsistent.is_empty()
    }
}

/// Rebuild `project`'s graph with the applied set, so squashed migrations
/// are used or dropped as Django's loader decides with a database. Only
/// projects with squashed migrations change; others are left as they are.
pub fn rebuild_graph(project: &mut Project, applied: &AppliedSet) {
    if project.migrations.iter().all(|m| m.replaces.is_empty()) {
        return;
    }
    let apps = project.discovery.app_labels();
    let settings = project.settings.clone();
    let swappable = |setting: &str| settings.swappable(setting);
    project.graph = graph::build(&BuildInput {
        migrations: &project.migrations,
        project_apps: &apps,
        swappable: &swappable,
        applied: Some(applied),
    });
}

/// The keys a migration replaces.
fn replaced_keys(migration: &Migration) -> Vec<MigrationKey> {
    migration
        .replaces
        .iter()
        .filter_map(|d| match &d.target {
            DependencyTarget::Key(k) => Some(k.clone()),
            DependencyTarget::Swappable { .. } => None,
        })
        .collect()
}

/// The applied set migrate plans with: a squashed migration in the graph
/// whose replaced migrations are all applied counts as applied, and one
/// with a row of its own stays applied (Django's `migration_plan` never
/// goes back through an applied leaf).
pub fn effective_applied(project: &Project, applied: &AppliedSet) -> AppliedSet {
    let mut out = applied.clone();
    for migration in &project.migrations {
        let replaced = replaced_keys(migration);
        if !replaced.is_empty()
            && project.graph.graph.is_real(&migration.key)
            && replaced.iter().all(|k| applied.contains(k))
        {
            out.insert(migration.key.clone());
        }
    }
    out
}

/// The applied set as `showmigrations` shows it (`MigrationLoader.
/// build_graph`): a squashed migration is applied exactly when every
/// migration it replaces is, whatever its own row says.
pub fn loader_applied(project: &Project, applied: &AppliedSet) -> AppliedSet {
    let mut out = effective_applied(project, applied);
    for migration in &project.migrations {
        let replaced = replaced_keys(migration);
        if !replaced.is_empty() && !replaced.iter().all(|k| applied.contains(k)) {
            out.remove(&migration.key);
        }
    }
    out
}

fn is_migration_node(project: &Project, key: &MigrationKey) -> bool {
    matches!(project.graph.graph.kind(key), Some(NodeKind::Migration(_)))
}

/// The migration of a graph node.
fn node_migration<'p>(project: &'p Project, key: &MigrationKey) -> Option<&'p Migration> {
    match project.graph.graph.kind(key) {
        Some(NodeKind::Migration(index)) => project.migrations.get(*index),
        _ => None,
    }
}

/// Compare the database with the new revision.
pub fn compute(input: &DriftInput<'_>) -> Drift {
    let new = input.new;
    let applied = effective_applied(new, input.applied);
    let foreign_keys = foreign_keys(input);

    let mut drift = Drift {
        unapplied: apply_plan(new, &applied),
        inconsistent: inconsistencies(new, input.applied),
        ..Drift::default()
    };
    if foreign_keys.is_empty() {
        drift.apply = drift.unapplied.clone();
        return drift;
    }

    // The project that has the foreign migrations: the old revision (or
    // the new one), completed with what the store knows.
    let base = input.old.unwrap_or(new);
    let extra: Vec<&Migration> = input
        .stored
        .iter()
        .filter(|m| !is_migration_node(base, &m.key) && base.migration(&m.key).is_none())
        .collect();
    let merged;
    let having: &Project = if extra.is_empty() {
        base
    } else {
        merged = with_extra(base, &extra, input.applied);
        &merged
    };

    let effects = describe_all(having, &foreign_keys);
    for key in &foreign_keys {
        let in_old = input.old.is_some_and(|old| is_migration_node(old, key));
        let migration = node_migration(having, key);
        let provenance = match (in_old, migration) {
            (true, _) => Provenance::OldRevision,
            (false, Some(_)) => Provenance::Store,
            (false, None) => Provenance::Unknown,
        };
        drift.foreign.push(ForeignMigration {
            key: key.clone(),
            provenance,
            path: migration.map(|m| m.path.clone()),
            effects: effects.get(key).cloned().unwrap_or_default(),
        });
    }

    let having_applied = effective_applied(having, input.applied);
    let mut remaining = having_applied.clone();
    let known: Vec<&MigrationKey> = foreign_keys
        .iter()
        .filter(|k| is_migration_node(having, k))
        .collect();
    let apps: BTreeSet<&str> = known.iter().map(|k| k.app.as_str()).collect();
    for app in apps {
        let in_app: BTreeSet<&MigrationKey> =
            known.iter().copied().filter(|k| k.app == app).collect();
        let target = unapply_target(&having.graph.graph, app, &in_app);
        let unapplies = unapply_plan(&having.graph.graph, app, target.as_ref(), &mut remaining);
        drift.unapply.push(UnapplyStep {
            app: app.to_owned(),
            target: target.map(|k| k.name),
            unapplies,
        });
    }
    // Foreign migrations no step could unapply (unknown files) stay applied.
    let after: AppliedSet = input
        .applied
        .iter()
        .filter(|k| remaining.contains(*k))
        .cloned()
        .collect();
    drift.apply = apply_plan(new, &effective_applied(new, &after));
    drift
}

/// Applied keys the new revision does not have.
fn foreign_keys(input: &DriftInput<'_>) -> Vec<MigrationKey> {
    let new = input.new;
    let graph = &new.graph.graph;
    let apps = new.discovery.app_labels();
    // Replaced by a squashed migration the new revision uses.
    let mut replaced_here: BTreeSet<MigrationKey> = BTreeSet::new();
    for migration in &new.migrations {
        if graph.is_real(&migration.key) {
            replaced_here.extend(replaced_keys(migration));
        }
    }
    let covered = |key: &MigrationKey| is_migration_node(new, key) || replaced_here.contains(key);
    let known_elsewhere = |key: &MigrationKey| -> Option<&Migration> {
        input
            .old
            .and_then(|old| old.migration(key))
            .or_else(|| input.stored.iter().find(|m| &m.key == key))
    };
    let mut out = Vec::new();
    for key in input.applied {
        if covered(key) {
            continue;
        }
        let elsewhere = known_elsewhere(key);
        if !apps.contains(&key.app) && elsewhere.is_none() {
            // An app outside the project (django.contrib, a package).
            continue;
        }
        if let Some(migration) = elsewhere {
            // The row of a squashed migration whose originals this
            // revision has: harmless, Django ignores it.
            let replaced = replaced_keys(migration);
            if !replaced.is_empty() && replaced.iter().all(&covered) {
                continue;
            }
        }
        out.push(key.clone());
    }
    out
}

/// `base` with `extra` migrations added, the graph rebuilt.
fn with_extra(base: &Project, extra: &[&Migration], applied: &AppliedSet) -> Project {
    let mut migrations = base.migrations.clone();
    migrations.extend(extra.iter().map(|m| (*m).clone()));
    let mut apps = base.discovery.app_labels();
    apps.extend(extra.iter().map(|m| m.key.app.clone()));
    let settings = base.settings.clone();
    let swappable = |setting: &str| settings.swappable(setting);
    let graph = graph::build(&BuildInput {
        migrations: &migrations,
        project_apps: &apps,
        swappable: &swappable,
        applied: Some(applied),
    });
    Project {
        discovery: base.discovery.clone(),
        settings: base.settings.clone(),
        migrations,
        content_ids: base.content_ids.clone(),
        graph,
        diagnostics: Vec::new(),
        suppressed: Vec::new(),
        files: base.files.clone(),
    }
}

/// Django's `leaf_nodes()`: every node without a child in its app, sorted.
fn all_leaves(graph: &Graph) -> Vec<MigrationKey> {
    graph
        .keys()
        .filter(|k| graph.children(k).all(|c| c.app != k.app))
        .cloned()
        .collect()
}

/// What `migrate` (no arguments) applies: the forwards plan of every leaf,
/// without what is applied; only the project's own migrations.
///
/// One depth-first traversal shared by all leaves: a node already planned
/// has all its ancestors planned, so not expanding it again yields exactly
/// the order of Django's per-leaf `forwards_plan` with repeats removed.
fn apply_plan(project: &Project, applied: &AppliedSet) -> Vec<MigrationKey> {
    let graph = &project.graph.graph;
    let leaves = all_leaves(graph);
    let mut seen: HashSet<&MigrationKey> = HashSet::new();
    let mut out = Vec::new();
    for leaf in &leaves {
        let mut stack: Vec<(&MigrationKey, bool)> = vec![(leaf, false)];
        while let Some((key, processed)) = stack.pop() {
            if seen.contains(key) {
                continue;
            }
            if processed {
                seen.insert(key);
                if !applied.contains(key) && is_migration_node(project, key) {
                    out.push(key.clone());
                }
                continue;
            }
            stack.push((key, true));
            stack.extend(graph.parents(key).map(|p| (p, false)));
        }
    }
    out
}

/// Django's `check_consistent_history`, every failure rather than the first:
/// over the rows themselves (`applied`), a parent that is a squash with all
/// it replaces applied counting as applied.
fn inconsistencies(project: &Project, applied: &AppliedSet) -> Vec<Inconsistency> {
    let graph = &project.graph.graph;
    let squash_done = |key: &MigrationKey| {
        project.migration(key).is_some_and(|m| {
            let replaced = replaced_keys(m);
            !replaced.is_empty() && replaced.iter().all(|k| applied.contains(k))
        })
    };
    let mut out = Vec::new();
    for key in applied {
        if !is_migration_node(project, key) {
            continue;
        }
        let missing: Vec<MigrationKey> = graph
            .parents(key)
            .filter(|p| !applied.contains(*p) && !squash_done(p))
            .filter(|p| match graph.kind(p) {
                Some(NodeKind::Migration(_)) => true,
                // A migration of an app outside the project, named exactly.
                Some(NodeKind::External) => p.name != "__first__" && p.name != "__latest__",
                // A missing dependency: another rule's business.
                _ => false,
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            out.push(Inconsistency {
                key: key.clone(),
                missing,
            });
        }
    }
    out
}

/// Ancestors of `key` in its app (itself included), through dependencies
/// within the app (every migration but an app's first depends on an
/// earlier one of its app, so this is its history there).
fn ancestors_in_app(graph: &Graph, key: &MigrationKey) -> BTreeSet<MigrationKey> {
    let mut out = BTreeSet::new();
    let mut stack = vec![key.clone()];
    while let Some(k) = stack.pop() {
        if !out.insert(k.clone()) {
            continue;
        }
        stack.extend(
            graph
                .parents(&k)
                .filter(|p| p.app == key.app && graph.is_real(p))
                .cloned(),
        );
    }
    out
}

/// The latest migration of `app` that every foreign migration of the app
/// descends from and that is not itself foreign: what `migrate APP TARGET`
/// goes back to. `None` is `zero`.
fn unapply_target(
    graph: &Graph,
    app: &str,
    foreign: &BTreeSet<&MigrationKey>,
) -> Option<MigrationKey> {
    let mut common: Option<BTreeSet<MigrationKey>> = None;
    for key in foreign {
        let parents: Vec<&MigrationKey> = graph
            .parents(key)
            .filter(|p| p.app == app && graph.is_real(p))
            .collect();
        if parents.iter().any(|p| foreign.contains(p)) {
            continue; // not a root of the foreign migrations
        }
        if parents.is_empty() {
            return None;
        }
        for parent in parents {
            let ancestors = ancestors_in_app(graph, parent);
            common = Some(match common {
                None => ancestors,
                Some(c) => c.intersection(&ancestors).cloned().collect(),
            });
        }
    }
    let common = common?;
    // The latest: the one with the most ancestors among the candidates.
    common
        .iter()
        .max_by_key(|k| ancestors_in_app(graph, k).len())
        .cloned()
}

/// Django's `migration_plan` for `migrate APP TARGET` with `TARGET`
/// applied (or `zero`): removes what it unapplies from `applied`.
fn unapply_plan(
    graph: &Graph,
    app: &str,
    target: Option<&MigrationKey>,
    applied: &mut AppliedSet,
) -> Vec<MigrationKey> {
    let starts: Vec<MigrationKey> = match target {
        // Django would migrate forwards to an unapplied target instead.
        Some(target) if !applied.contains(target) => Vec::new(),
        Some(target) => graph
            .children(target)
            .filter(|c| c.app == app)
            .cloned()
            .collect(),
        None => graph.root_nodes(app),
    };
    let mut out = Vec::new();
    for start in starts {
        for key in graph.backwards_plan(&start) {
            if applied.remove(&key) {
                out.push(key);
            }
        }
    }
    out
}

/// The schema effects of each of `keys` that `project` has.
///
/// An operation acts on models of its own migration's app, and what is
/// described (tables, columns, indexes) belongs to those models: only the
/// migrations of the apps concerned are replayed, in plan order.
fn describe_all(project: &Project, keys: &[MigrationKey]) -> BTreeMap<MigrationKey, Vec<String>> {
    let wanted: BTreeSet<&MigrationKey> = keys.iter().collect();
    let apps: BTreeSet<&str> = keys.iter().map(|k| k.app.as_str()).collect();
    let upto: Vec<MigrationKey> = keys
        .iter()
        .filter(|k| is_migration_node(project, k))
        .cloned()
        .collect();
    let mut out = BTreeMap::new();
    if upto.is_empty() {
        return out;
    }
    let mut state = ProjectState::default();
    for key in state::plan(project, Some(&upto)) {
        if !apps.contains(key.app.as_str()) {
            continue;
        }
        let Some(migration) = node_migration(project, &key) else {
            continue;
        };
        if wanted.contains(&key) {
            out.insert(
                key.clone(),
                schema_effects(migration, &state, &project.settings),
            );
        }
        // Warnings are the replay's business elsewhere.
        let _ = state.apply_migration(migration, &project.settings);
    }
    out
}

/// What a migration does to the schema, in words, given the state before
/// it: `creates table shop_coupon`, `adds column blog_post.subtitle`,
/// `adds index blog_post_slug_idx on blog_post`.
pub fn schema_effects(
    migration: &Migration,
    before: &ProjectState,
    settings: &DjangoSettings,
) -> Vec<String> {
    let mut state = before.clone();
    let mut out: Vec<String> = Vec::new();
    for op in &migration.operations {
        let mut after = state.clone();
        // Warnings are the replay's business; the effect is described anyway.
        let _ = after.apply_operation(migration, op, settings);
        describe_db(op, &migration.key.app, &state, &after, &mut out);
        state = after;
    }
    let mut seen = BTreeSet::new();
    out.retain(|e| seen.insert(e.clone()));
    out
}

/// Django's default table name, or `Meta.db_table`.
fn table(state: &ProjectState, app: &str, model: &str) -> String {
    state
        .model(app, model)
        .and_then(|m| m.option("db_table"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{app}_{}", model.to_lowercase()))
}

fn is_many_to_many(field: &Call) -> bool {
    field.class_name().ends_with("ManyToManyField")
}

/// The column of a field: `db_column`, else its name, `_id` added for a
/// foreign key or one-to-one field. `None` for fields without a column.
fn column(name: &str, field: &Call) -> Option<String> {
    if is_many_to_many(field)
        || field.class_name() == "ForeignObject"
        || field.class_name() == "GenericForeignKey"
    {
        return None;
    }
    if let Some(col) = field_arg(field, "db_column").and_then(Value::as_str) {
        return Some(col.to_owned());
    }
    let relation = field_params(field).first() == Some(&"to") && state::is_relation(field);
    Some(if relation {
        format!("{name}_id")
    } else {
        name.to_owned()
    })
}

/// The join table a many-to-many field creates; `None` with `through`.
fn join_table(table: &str, name: &str, field: &Call) -> Option<String> {
    if field.kwarg("through").is_some_and(|v| !v.is_none()) {
        return None;
    }
    Some(match field.kwarg("db_table").and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None => format!("{table}_{name}"),
    })
}

/// `name=` of an `Index(...)` or constraint call.
fn object_name(value: Option<&Value>) -> Option<String> {
    value?.as_call()?.kwarg("name")?.as_str().map(str::to_owned)
}

/// The index a field's own options give its column: `unique=True` a
/// unique one, `db_index=True` a plain one; none for a primary key (its
/// own constraint) or a field without a column. As in Django, a
/// `OneToOneField` is unique and a `ForeignKey` indexed unless it says
/// `db_index=False`.
fn implied_index(field: &Call) -> Option<&'static str> {
    let arg = |name: &str| field_arg(field, name).and_then(Value::as_bool);
    let class = field.class_name();
    let (unique, db_index) = match class {
        "OneToOneField" => (arg("unique").unwrap_or(true), arg("db_index")),
        "ForeignKey" => (
            arg("unique").unwrap_or(false),
            Some(arg("db_index").unwrap_or(true)),
        ),
        _ => (arg("unique").unwrap_or(false), arg("db_index")),
    };
    if arg("primary_key") == Some(true) || is_many_to_many(field) {
        None
    } else if unique {
        Some("unique index")
    } else if db_index == Some(true) {
        Some("index")
    } else {
        None
    }
}

fn field_call(value: Option<&Value>) -> Option<&Call> {
    value?.as_call()
}

/// One operation's effect on the database (nested database operations of
/// `SeparateDatabaseAndState` included, its state operations not).
fn describe_db(
    op: &Operation,
    app: &str,
    before: &ProjectState,
    after: &ProjectState,
    out: &mut Vec<String>,
) {
    use OperationKind::*;
    let model = || op.model_name_lower().unwrap_or_default();
    let table_before = || table(before, app, &model());
    let table_after = || table(after, app, &model());
    let name = |arg: &str| op.str_arg(arg).unwrap_or("?").to_owned();
    match op.kind {
        SeparateDatabaseAndState => {
            for sub in &op.database_operations {
                describe_db(sub, app, before, before, out);
            }
        }
        CreateModel => {
            let table = table_after();
            out.push(format!("creates table {table}"));
            if let Some(fields) = op.arg("fields").and_then(Value::as_seq) {
                for pair in fields {
                    let Some([Value::Str(fname), Value::Call(field)]) = pair.as_seq() else {
                        continue;
                    };
                    if is_many_to_many(field) {
                        if let Some(join) = join_table(&table, fname, field) {
                            out.push(format!("creates table {join}"));
                        }
                    } else if let (Some(index), Some(col)) =
                        (implied_index(field), column(fname, field))
                    {
                        out.push(format!("adds {index} on {table}.{col}"));
                    }
                }
            }
        }
        DeleteModel => out.push(format!("drops table {}", table_before())),
        RenameModel | AlterModelTable => {
            let old = table_before();
            let new_model = op
                .str_arg("new_name")
                .map(str::to_lowercase)
                .unwrap_or_else(model);
            let new = table(after, app, &new_model);
            if old != new {
                out.push(format!("renames table {old} to {new}"));
            }
        }
        AlterModelTableComment => {
            out.push(format!("changes the comment of table {}", table_before()))
        }
        AlterUniqueTogether => out.push(format!("changes unique_together on {}", table_before())),
        AlterIndexTogether => out.push(format!("changes index_together on {}", table_before())),
        AlterOrderWithRespectTo => out.push(format!("changes column {}._order", table_before())),
        AlterModelOptions | AlterModelManagers => {}
        AddField | RemoveField | AlterField => {
            let fname = name("name");
            let field = match op.kind {
                RemoveField => before
                    .field(app, &model(), &fname)
                    .or_else(|| field_call(op.arg("field"))),
                _ => field_call(op.arg("field")),
            };
            let table = table_before();
            let Some(field) = field else {
                out.push(format!("changes field {table}.{fname}"));
                return;
            };
            let verb = match op.kind {
                AddField => ("adds column", "creates table"),
                RemoveField => ("removes column", "drops table"),
                _ => ("alters column", "alters table"),
            };
            if is_many_to_many(field) {
                if let Some(join) = join_table(&table, &fname, field) {
                    out.push(format!("{} {join}", verb.1));
                }
            } else if let Some(col) = column(&fname, field) {
                out.push(format!("{} {table}.{col}", verb.0));
                // A dropped column takes its indexes along.
                let was = match op.kind {
                    AddField => None,
                    RemoveField => return,
                    _ => before
                        .field(app, &model(), &fname)
                        .and_then(|f| Some((implied_index(f)?, column(&fname, f)?))),
                };
                let now = implied_index(field);
                if was.as_ref().map(|(index, _)| *index) != now {
                    if let Some((index, old_col)) = was {
                        out.push(format!("removes {index} on {table}.{old_col}"));
                    }
                    if let Some(index) = now {
                        out.push(format!("adds {index} on {table}.{col}"));
                    }
                }
            }
        }
        RenameField => {
            let (old, new) = (name("old_name"), name("new_name"));
            let table = table_before();
            let old_col = before
                .field(app, &model(), &old)
                .and_then(|f| column(&old, f))
                .unwrap_or(old.clone());
            let new_col = after
                .field(app, &model(), &new)
                .and_then(|f| column(&new, f))
                .unwrap_or(new.clone());
            if old_col != new_col {
                out.push(format!("renames column {table}.{old_col} to {new_col}"));
            }
        }
        AddIndex | AddIndexConcurrently => {
            let index = object_name(op.arg("index")).unwrap_or_else(|| "(unnamed)".into());
            out.push(format!("adds index {index} on {}", table_before()));
        }
        RemoveIndex | RemoveIndexConcurrently => {
            out.push(format!(
                "removes index {} from {}",
                name("name"),
                table_before()
            ));
        }
        RenameIndex => {
            let new = name("new_name");
            match op.str_arg("old_name") {
                Some(old) => out.push(format!(
                    "renames index {old} to {new} on {}",
                    table_before()
                )),
                None => out.push(format!("renames an index to {new} on {}", table_before())),
            }
        }
        AddConstraint | AddConstraintNotValid => {
            let constraint =
                object_name(op.arg("constraint")).unwrap_or_else(|| "(unnamed)".into());
            out.push(format!(
                "adds constraint {constraint} on {}",
                table_before()
            ));
        }
        RemoveConstraint => {
            out.push(format!(
                "removes constraint {} from {}",
                name("name"),
                table_before()
            ));
        }
        AlterConstraint => {
            out.push(format!(
                "alters constraint {} on {}",
                name("name"),
                table_before()
            ));
        }
        ValidateConstraint => {
            out.push(format!(
                "validates constraint {} on {}",
                name("name"),
                table_before()
            ));
        }
        RunSQL => match op.sql.as_ref().and_then(|s| s.literal()) {
            Some(sql) => out.push(format!("runs SQL `{}`", shorten(&sql, 72))),
            None => out.push("runs SQL".to_owned()),
        },
        RunPython => match op.arg("code").and_then(Value::as_ref_path) {
            Some(path) => out.push(format!(
                "runs Python code {}",
                path.rsplit('.').next().unwrap_or(path)
            )),
            None => out.push("runs Python code".to_owned()),
        },
        CreateExtension => out.push(format!("creates extension {}", name("name"))),
        BloomExtension | BtreeGinExtension | BtreeGistExtension | CITextExtension
        | CryptoExtension | HStoreExtension | TrigramExtension | UnaccentExtension => {
            let ext = op.kind.name().trim_end_matches("Extension").to_lowercase();
            out.push(format!("creates extension {ext}"));
        }
        CreateCollation => out.push(format!("creates collation {}", name("name"))),
        RemoveCollation => out.push(format!("removes collation {}", name("name"))),
        Custom => out.push(format!("runs custom operation {}", op.type_name())),
    }
}

/// The first line of `text`, cut to `max` characters.
fn shorten(text: &str, max: usize) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(max).collect();
    if line.chars().count() > max || text.trim().lines().count() > 1 {
        out.push_str("...");
    }
    out
}

/// How the reports name things; supplied by the caller, which knows git.
pub struct Labels<'a> {
    /// The revision the database is compared with: `main`, `commit 1a2b3c4`.
    pub branch: &'a str,
    /// Where a foreign migration's file is known from (`branch feature`).
    pub from: &'a dyn Fn(&ForeignMigration) -> Option<String>,
    /// The commands that unapply a foreign migration, when known.
    pub fix: &'a dyn Fn(&ForeignMigration) -> Option<String>,
    /// `python manage.py`, as the user runs it.
    pub manage: &'a str,
}

/// One diagnostic per migration: `schema-mismatch` for each foreign one,
/// `unapplied-migrations` for each unapplied one (in plan order), and
/// `inconsistent-history` for each applied one with unapplied dependencies.
pub fn diagnostics(drift: &Drift, new: &Project, labels: &Labels<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for foreign in &drift.foreign {
        out.push(Diagnostic::new(
            &SchemaMismatch {
                key: foreign.key.clone(),
                branch: labels.branch.to_owned(),
                from: (labels.from)(foreign),
                effects: foreign.effects.clone(),
                fix: (labels.fix)(foreign),
            },
            Location::default().in_migration(&foreign.key.app, &foreign.key.name),
        ));
    }
    let total = drift.unapplied.len();
    for (index, key) in drift.unapplied.iter().enumerate() {
        out.push(Diagnostic::new(
            &UnappliedMigrations {
                key: key.clone(),
                position: index + 1,
                total,
                command: format!("{} migrate", labels.manage),
            },
            located(new, key),
        ));
    }
    for inconsistency in &drift.inconsistent {
        out.push(Diagnostic::new(
            &InconsistentHistory {
                key: inconsistency.key.clone(),
                missing: inconsistency.missing.clone(),
                manage: labels.manage.to_owned(),
            },
            located(new, &inconsistency.key),
        ));
    }
    out
}

/// A migration's file and class line, when the project has it.
fn located(project: &Project, key: &MigrationKey) -> Location {
    match project.migration(key) {
        Some(m) => Location::file(m.path.clone())
            .at(m.line, m.column, Some(m.span))
            .in_migration(&key.app, &key.name),
        None => Location::default().in_migration(&key.app, &key.name),
    }
}

#[cfg(test)]
mod tests;
