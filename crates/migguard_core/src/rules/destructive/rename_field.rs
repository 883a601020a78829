use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, model_lower};

pub const DOC: &str = r#"# rename-field (MG411)

## What it does
Reports a `RenameField` that reaches the database. Django renames the
column (`ALTER TABLE ... RENAME COLUMN`) unless the field sets `db_column`.
A `RenameField` only in `state_operations` is not reported.

## Why is this bad?
The rename is backward incompatible: between `migrate` and the end of the
rollout, the release that is still running (and any worker, cron job or
other service sharing the database) queries the old column name and fails.
The migration protocol prefers `RenameField` to a remove-and-add, since it
keeps the data; this rule is a warning so the deploy is planned, not a ban.

## Example
```python
operations = [
    migrations.RenameField(model_name="product", old_name="price", new_name="unit_price"),
]
```

## How to fix
Either deploy during a window where old code is stopped, or keep the
column name and rename only the attribute:
```python
# models.py
unit_price = models.DecimalField(..., db_column="price")
```
(Django then writes an `AlterField`, and the column is not touched.) For a
real rename without downtime: add the new column, write to both, backfill,
switch reads, then remove the old column in a later release.
"#;

/// A `RenameField` that renames a column.
pub struct RenameField {
    pub model_name: String,
    pub old_name: String,
    pub new_name: String,
}

impl Violation for RenameField {
    fn rule(&self) -> Rule {
        Rule::RenameField
    }

    fn message(&self) -> String {
        format!(
            "`RenameField` renames `{model}.{old}` to `{new}`: code still deployed that uses `{old}` fails",
            model = self.model_name,
            old = self.old_name,
            new = self.new_name
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "keep the column with `db_column=\"{}\"` on the renamed field, or plan the rename over several releases",
            self.old_name
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model_name": self.model_name,
            "name": self.old_name,
            "old_name": self.old_name,
            "new_name": self.new_name,
        })
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::RenameField)
        .map(|op| {
            Diagnostic::new(
                &RenameField {
                    model_name: model_lower(op),
                    old_name: op.str_arg("old_name").unwrap_or_default().to_owned(),
                    new_name: op.str_arg("new_name").unwrap_or_default().to_owned(),
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
    fn fires_on_a_rename() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.RenameField(model_name="product", old_name="price", new_name="unit_price"),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn state_only_rename_and_alter_field_are_fine() {
        lint_ok(
            r#"migrations.SeparateDatabaseAndState(state_operations=[
    migrations.RenameField(model_name="product", old_name="price", new_name="unit_price"),
]),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.AlterField(model_name="product", name="price", field=models.DecimalField(decimal_places=2, max_digits=12)),"#,
            |_, m| check(m),
        );
    }
}
