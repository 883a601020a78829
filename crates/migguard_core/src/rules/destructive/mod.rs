//! `MG4xx`: operations that destroy data, break code that is still deployed,
//! cannot be undone, or lock or fail on a table that already holds rows.
//!
//! Every rule here looks at one migration. Operations inside
//! `state_operations` (of `SeparateDatabaseAndState` or `RunSQL`) change
//! Django's model state only and never reach the database, so they are never
//! reported here; `database_operations` are.

pub mod add_non_null_field_without_default;
pub mod alter_db_table;
pub mod blocking_index_creation;
pub mod delete_model;
pub mod destructive_sql;
pub mod irreversible_run_python;
pub mod irreversible_run_sql;
pub mod lossy_alter_field;
pub mod remove_field;
pub mod rename_field;
pub mod rename_model;
pub mod sql;
pub mod unique_together_change;

#[cfg(test)]
pub(crate) mod testing;

use crate::diagnostic::{Diagnostic, Location};
use crate::model::{Migration, Operation, OperationKind};
use crate::project::Project;

/// Every per-migration rule of the family, in code order. None of them needs
/// more than the migration today; the project is taken so that every family
/// is run the same way.
pub fn check(_project: &Project, migration: &Migration) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(remove_field::check(migration));
    out.extend(delete_model::check(migration));
    out.extend(destructive_sql::check(migration));
    out.extend(rename_field::check(migration));
    out.extend(rename_model::check(migration));
    out.extend(alter_db_table::check(migration));
    out.extend(irreversible_run_python::check(migration));
    out.extend(irreversible_run_sql::check(migration));
    out.extend(add_non_null_field_without_default::check(migration));
    out.extend(blocking_index_creation::check(migration));
    out.extend(unique_together_change::check(migration));
    out
}

/// Where an operation's call is.
pub(crate) fn at_operation(m: &Migration, op: &Operation) -> Location {
    Location::file(m.path.clone())
        .in_migration(&m.key.app, &m.key.name)
        .at(op.line, op.column, Some(op.span))
}

/// Every operation of a migration that reaches the database, nested ones
/// included, depth first (`SeparateDatabaseAndState` itself is yielded too,
/// and does nothing by itself).
pub(crate) fn database_operations(m: &Migration) -> impl Iterator<Item = &Operation> {
    m.all_operations().filter(|(_, db)| *db).map(|(op, _)| op)
}

/// Every database-reaching operation of one kind.
pub(crate) fn database_operations_of(
    m: &Migration,
    kind: OperationKind,
) -> impl Iterator<Item = &Operation> {
    database_operations(m).filter(move |op| op.kind == kind)
}

/// True when the model's table cannot hold rows yet when this migration
/// runs: the migration itself creates the model, or it is an `initial`
/// migration (Django splits a new app's tables over `0001_initial` and
/// `0002_initial` when foreign keys point both ways; both run on empty tables).
pub(crate) fn table_is_new(m: &Migration, model_lower: &str) -> bool {
    m.initial == Some(true)
        || database_operations_of(m, OperationKind::CreateModel)
            .any(|op| op.model_name_lower().as_deref() == Some(model_lower))
}

/// The field name argument of `AddField`/`RemoveField`/`AlterField`.
pub(crate) fn field_name(op: &Operation) -> String {
    op.str_arg("name").unwrap_or_default().to_owned()
}

/// The lower-cased model name of an operation, empty when not literal.
pub(crate) fn model_lower(op: &Operation) -> String {
    op.model_name_lower().unwrap_or_default()
}
