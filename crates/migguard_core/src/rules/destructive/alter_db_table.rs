use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, model_lower};

pub const DOC: &str = r#"# alter-db-table (MG413)

## What it does
Reports an `AlterModelTable` that reaches the database: a change of a
model's `Meta.db_table`, which renames its table (and the tables of its
many-to-many fields). An `AlterModelTable` only in `state_operations` is not
reported.

## Why is this bad?
The release still running during the deploy, and anything else reading the
table (reports, other services, raw SQL), uses the old name and fails until
it is updated.

Setting `db_table` to Django's default name for the model
(`<app_label>_<model_name>`, what the table is already called unless an
earlier migration changed it) is not reported: that pins the name, for
example before a `RenameModel`, and renames nothing.

## Example
```python
operations = [
    migrations.AlterModelTable(name="vendor", table="shop_vendors"),
]
```

## How to fix
Deploy it while old code is stopped, or create a view with the old name
for the time of the rollout. When the table had a custom name and the new
one is intended, mark the reviewed line with
`# migguard: ignore[alter-db-table]`.
"#;

/// An `AlterModelTable` that renames a table.
pub struct AlterDbTable {
    pub model_name: String,
    /// The new table name; `None` back to Django's default name.
    pub table: Option<String>,
}

impl Violation for AlterDbTable {
    fn rule(&self) -> Rule {
        Rule::AlterDbTable
    }

    fn message(&self) -> String {
        match &self.table {
            Some(table) => format!(
                "`AlterModelTable` renames the table of `{}` to `{table}`: code still deployed that uses the old name fails",
                self.model_name
            ),
            None => format!(
                "`AlterModelTable` renames the table of `{}` back to Django's default name: code still deployed fails",
                self.model_name
            ),
        }
    }

    fn help(&self) -> Option<String> {
        Some(
            "deploy the rename while old code is stopped, or keep the old name for the rollout"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "model_name": self.model_name, "table": self.table })
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::AlterModelTable)
        .filter(|op| {
            let default = format!("{}_{}", migration.key.app, model_lower(op));
            !op.str_arg("table")
                .is_some_and(|t| t.eq_ignore_ascii_case(&default))
        })
        .map(|op| {
            Diagnostic::new(
                &AlterDbTable {
                    model_name: model_lower(op),
                    table: op.str_arg("table").map(str::to_owned),
                },
                at_operation(migration, op),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{lint_errors, lint_ok};

    #[test]
    fn fires_on_a_table_rename() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.AlterModelTable(name="supplier", table="shop_suppliers"),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn state_only_and_options_are_fine() {
        lint_ok(
            r#"migrations.SeparateDatabaseAndState(state_operations=[
    migrations.AlterModelTable(name="supplier", table="shop_suppliers"),
]),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.AlterModelOptions(name="supplier", options={"ordering": ["name"]}),"#,
            |_, m| check(m),
        );
        // Pinning the name the table already has renames nothing.
        lint_ok(
            r#"migrations.AlterModelTable(name="supplier", table="shop_supplier"),"#,
            |_, m| check(m),
        );
    }
}
