//! `MigrationLoader.project_state()`: the plan, and each operation's
//! `state_forwards` dispatched to `model_ops` / `field_ops`.

use super::{field_ops, model_ops, Origin, Origins, ProjectState, StateReplay, StateWarning};
use crate::graph::{Graph, NodeKind};
use crate::model::{Migration, MigrationKey, Operation, OperationKind, Value};
use crate::project::{DjangoSettings, Project};

/// Django's `MigrationGraph._generate_plan(nodes, at_end=True)`: the
/// forwards plan of each node in turn, without repeats. `None` is Django's
/// default, every leaf of every app (sorted), which is the whole project.
/// External and missing nodes are part of the plan, as in Django; they have
/// no migration to apply.
pub fn plan(project: &Project, upto: Option<&[MigrationKey]>) -> Vec<MigrationKey> {
    let graph = &project.graph.graph;
    let nodes: Vec<MigrationKey> = match upto {
        Some(nodes) => nodes.to_vec(),
        None => all_leaves(graph),
    };
    graph.forwards_plan_all(&nodes)
}

/// Django's `leaf_nodes()` over every app: nodes with no child in their app.
fn all_leaves(graph: &Graph) -> Vec<MigrationKey> {
    graph
        .keys()
        .filter(|k| graph.children(k).all(|c| c.app != k.app))
        .cloned()
        .collect()
}

/// Replay the project's migrations into Django's project state: every leaf
/// (`upto = None`, Django's `loader.project_state()`), or the given nodes
/// and their ancestors (`loader.project_state(nodes)`).
pub fn replay(project: &Project, upto: Option<&[MigrationKey]>) -> StateReplay {
    replay_with(project, upto, |_, _| {})
}

/// [`replay`], calling `before` with each migration and the state just
/// before it is applied (the state every rule comparing with "what was there
/// before" needs, without cloning it).
pub fn replay_with(
    project: &Project,
    upto: Option<&[MigrationKey]>,
    mut before: impl FnMut(&Migration, &ProjectState),
) -> StateReplay {
    let mut out = StateReplay::default();
    for key in plan(project, upto) {
        let Some(NodeKind::Migration(index)) = project.graph.graph.kind(&key) else {
            continue;
        };
        let Some(migration) = project.migrations.get(*index) else {
            continue;
        };
        before(migration, &out.state);
        let mut engine = Engine {
            state: &mut out.state,
            settings: &project.settings,
            warnings: &mut out.warnings,
            origin: Some(&mut out.origin),
        };
        engine.apply_migration(migration);
        out.plan.push(key);
    }
    out
}

impl ProjectState {
    /// Django's `Migration.mutate_state`: apply one migration's operations.
    pub fn apply_migration(
        &mut self,
        migration: &Migration,
        settings: &DjangoSettings,
    ) -> Vec<StateWarning> {
        let mut warnings = Vec::new();
        Engine {
            state: self,
            settings,
            warnings: &mut warnings,
            origin: None,
        }
        .apply_migration(migration);
        warnings
    }

    /// One operation's `state_forwards` (with its nested `state_operations`),
    /// as an operation of `migration`.
    pub fn apply_operation(
        &mut self,
        migration: &Migration,
        operation: &Operation,
        settings: &DjangoSettings,
    ) -> Vec<StateWarning> {
        let mut warnings = Vec::new();
        Engine {
            state: self,
            settings,
            warnings: &mut warnings,
            origin: None,
        }
        .apply_operations(migration, std::slice::from_ref(operation));
        warnings
    }
}

/// The state being replayed, and what the replay records.
pub(crate) struct Engine<'a> {
    pub(crate) state: &'a mut ProjectState,
    pub(crate) settings: &'a DjangoSettings,
    pub(crate) warnings: &'a mut Vec<StateWarning>,
    /// `None` when origins are not wanted.
    pub(crate) origin: Option<&'a mut Origins>,
}

/// The operation being applied.
pub(crate) struct Ctx<'m> {
    pub(crate) migration: &'m Migration,
    pub(crate) op: &'m Operation,
}

impl Ctx<'_> {
    pub(crate) fn app(&self) -> &str {
        &self.migration.key.app
    }

    pub(crate) fn origin(&self) -> Origin {
        Origin {
            migration: self.migration.key.clone(),
            line: self.op.line,
        }
    }

    /// A required string argument.
    pub(crate) fn str_arg(&self, name: &str) -> Result<&str, String> {
        match self.op.arg(name) {
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(format!("argument `{name}` is not a literal string")),
            None => Err(format!("argument `{name}` is missing")),
        }
    }
}

/// Why an operation could not be applied; becomes a [`StateWarning`].
pub(crate) type Outcome = Result<(), String>;

impl Engine<'_> {
    fn apply_migration(&mut self, migration: &Migration) {
        self.apply_operations(migration, &migration.operations);
    }

    /// Apply operations in order; nested `state_operations` are applied in
    /// place of their parent, through an explicit stack (no recursion).
    fn apply_operations(&mut self, migration: &Migration, operations: &[Operation]) {
        let mut stack: Vec<&Operation> = operations.iter().rev().collect();
        while let Some(op) = stack.pop() {
            let ctx = Ctx { migration, op };
            match op.kind {
                // Only the state half: `database_operations` never touch the state.
                OperationKind::SeparateDatabaseAndState | OperationKind::RunSQL => {
                    stack.extend(op.state_operations.iter().rev());
                }
                _ => {
                    if let Err(message) = self.apply_one(&ctx) {
                        self.warn(&ctx, message);
                    }
                }
            }
        }
    }

    pub(crate) fn warn(&mut self, ctx: &Ctx<'_>, message: String) {
        let operation = match ctx.op.kind {
            OperationKind::Custom => ctx.op.callee.path.clone(),
            kind => kind.name().to_owned(),
        };
        self.warnings.push(StateWarning {
            migration: ctx.migration.key.clone(),
            path: ctx.migration.path.clone(),
            line: ctx.op.line,
            column: ctx.op.column,
            operation,
            message,
        });
    }

    fn apply_one(&mut self, ctx: &Ctx<'_>) -> Outcome {
        use OperationKind::*;
        match ctx.op.kind {
            CreateModel => model_ops::create_model(self, ctx),
            DeleteModel => model_ops::delete_model(self, ctx),
            RenameModel => model_ops::rename_model(self, ctx),
            AlterModelTable => model_ops::set_option(self, ctx, "name", "table", "db_table"),
            AlterModelTableComment => {
                model_ops::set_option(self, ctx, "name", "table_comment", "db_table_comment")
            }
            AlterUniqueTogether => model_ops::alter_together(self, ctx, "unique_together"),
            AlterIndexTogether => model_ops::alter_together(self, ctx, "index_together"),
            AlterOrderWithRespectTo => model_ops::set_option(
                self,
                ctx,
                "name",
                "order_with_respect_to",
                "order_with_respect_to",
            ),
            AlterModelOptions => model_ops::alter_model_options(self, ctx),
            AlterModelManagers => model_ops::alter_model_managers(self, ctx),
            AddIndex | AddIndexConcurrently => model_ops::add_object(self, ctx, "indexes", "index"),
            RemoveIndex | RemoveIndexConcurrently => model_ops::remove_object(self, ctx, "indexes"),
            RenameIndex => model_ops::rename_index(self, ctx),
            AddConstraint | AddConstraintNotValid => {
                model_ops::add_object(self, ctx, "constraints", "constraint")
            }
            RemoveConstraint => model_ops::remove_object(self, ctx, "constraints"),
            AlterConstraint => model_ops::alter_constraint(self, ctx),
            AddField => field_ops::add_field(self, ctx),
            RemoveField => field_ops::remove_field(self, ctx),
            AlterField => field_ops::alter_field(self, ctx),
            RenameField => field_ops::rename_field(self, ctx),
            // No state effect: `RunPython.state_forwards` and the postgres
            // extension, collation and validation operations do nothing.
            RunPython | CreateExtension | BloomExtension | BtreeGinExtension
            | BtreeGistExtension | CITextExtension | CryptoExtension | HStoreExtension
            | TrigramExtension | UnaccentExtension | CreateCollation | RemoveCollation
            | ValidateConstraint => Ok(()),
            // Handled by the caller; nothing of their own.
            SeparateDatabaseAndState | RunSQL => Ok(()),
            Custom if STATELESS_LIBRARY_OPERATIONS.contains(&ctx.op.callee.path.as_str()) => Ok(()),
            Custom => Err(format!(
                "custom operation {}: its effect on the state is unknown",
                ctx.op.callee.path
            )),
        }
    }
}

/// Operations of libraries whose `state_forwards` does nothing (read off
/// their sources): django-migration-linter 6's `IgnoreMigration`.
const STATELESS_LIBRARY_OPERATIONS: &[&str] = &[
    "django_migration_linter.IgnoreMigration",
    "django_migration_linter.operations.IgnoreMigration",
];

/// "`op` on `app.model`: the model is not in the state".
pub(crate) fn missing_model(app: &str, model: &str) -> String {
    format!(
        "model `{app}.{model}` is not in the state (an app outside the project, \
         or a migration missing from the plan); the operation is skipped"
    )
}
