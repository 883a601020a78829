use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, Operation, OperationKind};
use crate::rules::destructive::sql::{self, StatementClass};
use crate::rules::destructive::{at_operation, database_operations};
use crate::rules::Rule;

use super::{describe_all, OperationRef};

pub const DOC: &str = r#"# mixed-schema-and-data (MG502)

## What it does
Reports a migration that changes data (`RunPython`, or `RunSQL` whose
literal SQL has an `INSERT`, `UPDATE`, `DELETE`, `MERGE` or `TRUNCATE`)
beside operations that change the schema (`CreateModel`, `AddField`,
`AlterField`, `RemoveField`, `AddIndex`, ..., and `RunSQL` with DDL). One
`RunSQL` holding both DDL and DML is not reported on its own. Operations
in `state_operations` do not count; `AlterModelOptions` and
`AlterModelManagers` change no schema. `RunSQL` with non-literal SQL is
counted as neither.

## Why is this bad?
The migration protocol asks to separate schema and data migrations. In
one migration, they share one transaction (on PostgreSQL): updating rows
and then altering their table fails with "cannot ALTER TABLE because it
has pending trigger events", long data changes hold the schema change's
locks for their whole run, and a failure in the data step rolls back the
schema step too. Data migrations are also the ones that need a
maintenance window or a separate run; they cannot be if they ride along
with the schema.

## Example
```python
operations = [
    migrations.AddField(model_name="vendor", name="is_active", field=models.BooleanField(default=True)),
    migrations.RunPython(deactivate_old_vendors, migrations.RunPython.noop),
]
```

## How to fix
Move the data step to a migration of its own that depends on the schema
migration (`makemigrations APP --empty --name backfill_...`), and give it
a reverse.
"#;

/// A migration with both data and schema changes.
pub struct MixedSchemaAndData {
    pub data: Vec<OperationRef>,
    pub schema: Vec<OperationRef>,
}

impl Violation for MixedSchemaAndData {
    fn rule(&self) -> Rule {
        Rule::MixedSchemaAndData
    }

    fn message(&self) -> String {
        format!(
            "data changes ({}) are mixed with schema changes ({}) in one migration",
            describe_all(&self.data),
            describe_all(&self.schema)
        )
    }

    fn help(&self) -> Option<String> {
        Some("move the data changes to their own migration (`makemigrations APP --empty`) after the schema one".into())
    }

    fn details(&self) -> serde_json::Value {
        let first = self.schema.first();
        serde_json::json!({
            "model_name": first.and_then(|o| o.model_name.clone()),
            "name": first.and_then(|o| o.name.clone()),
            "data": self.data.iter().map(OperationRef::to_json).collect::<Vec<_>>(),
            "schema": self.schema.iter().map(OperationRef::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Django operations that change the database schema.
fn is_schema_kind(kind: OperationKind) -> bool {
    use OperationKind::*;
    matches!(
        kind,
        CreateModel
            | DeleteModel
            | RenameModel
            | AlterModelTable
            | AlterModelTableComment
            | AlterUniqueTogether
            | AlterIndexTogether
            | AlterOrderWithRespectTo
            | AddField
            | RemoveField
            | AlterField
            | RenameField
            | AddIndex
            | RemoveIndex
            | RenameIndex
            | AddConstraint
            | RemoveConstraint
            | CreateExtension
            | BloomExtension
            | BtreeGinExtension
            | BtreeGistExtension
            | CITextExtension
            | CryptoExtension
            | HStoreExtension
            | TrigramExtension
            | UnaccentExtension
            | CreateCollation
            | RemoveCollation
            | AddIndexConcurrently
            | RemoveIndexConcurrently
            | AddConstraintNotValid
            | ValidateConstraint
    )
}

/// The statement classes of a `RunSQL`'s literal SQL.
fn sql_classes(op: &Operation) -> Vec<StatementClass> {
    op.sql
        .as_ref()
        .and_then(sql::analyze_sql)
        .map(|facts| facts.into_iter().map(|f| f.class).collect())
        .unwrap_or_default()
}

pub fn check(migration: &Migration) -> Option<Diagnostic> {
    let mut data: Vec<&Operation> = Vec::new();
    let mut schema: Vec<&Operation> = Vec::new();
    for op in database_operations(migration) {
        match op.kind {
            OperationKind::RunPython => data.push(op),
            OperationKind::RunSQL => {
                let classes = sql_classes(op);
                if classes.contains(&StatementClass::Data) {
                    data.push(op);
                }
                if classes.contains(&StatementClass::Schema) {
                    schema.push(op);
                }
            }
            kind if is_schema_kind(kind) => schema.push(op),
            _ => {}
        }
    }
    let mixed = data
        .iter()
        .any(|d| schema.iter().any(|s| !std::ptr::eq(*d, *s)));
    if !mixed {
        return None;
    }
    Some(Diagnostic::new(
        &MixedSchemaAndData {
            data: data.iter().map(|op| OperationRef::of(op)).collect(),
            schema: schema.iter().map(|op| OperationRef::of(op)).collect(),
        },
        at_operation(migration, data[0]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{lint_errors, lint_ok};

    fn run(_: &crate::project::Project, m: &Migration) -> Vec<Diagnostic> {
        check(m).into_iter().collect()
    }

    #[test]
    fn fires_on_run_python_beside_a_schema_change() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.AddField(model_name="supplier", name="active", field=models.BooleanField(default=True)),
migrations.RunPython(forwards, migrations.RunPython.noop),"#,
            run
        ));
    }

    #[test]
    fn fires_on_dml_beside_ddl_sql() {
        lint_errors(
            r#"migrations.RunSQL("UPDATE shop_product SET price = 0 WHERE price IS NULL", migrations.RunSQL.noop),
migrations.RunSQL("CREATE INDEX shop_idx ON shop_product (name)", "DROP INDEX shop_idx"),"#,
            run,
        );
    }

    #[test]
    fn data_alone_schema_alone_and_state_only_are_fine() {
        lint_ok(
            "migrations.RunPython(forwards, backwards),\nmigrations.RunSQL(\"UPDATE shop_product SET price = 0\", migrations.RunSQL.noop),",
            run,
        );
        lint_ok(
            r#"migrations.AddField(model_name="supplier", name="active", field=models.BooleanField(default=True)),
migrations.RunSQL("CREATE INDEX shop_idx ON shop_product (name)", "DROP INDEX shop_idx"),"#,
            run,
        );
        lint_ok(
            r#"migrations.RunPython(forwards, backwards),
migrations.AlterModelOptions(name="supplier", options={"ordering": ["name"]}),
migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField(model_name="product", name="price")]),"#,
            run,
        );
        // One RunSQL that creates a table and seeds it.
        lint_ok(
            r#"migrations.RunSQL("CREATE TABLE shop_seed (id int); INSERT INTO shop_seed VALUES (1)", "DROP TABLE shop_seed"),"#,
            run,
        );
    }
}
