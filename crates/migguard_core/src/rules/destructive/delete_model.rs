use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, model_lower};

pub const DOC: &str = r#"# delete-model (MG402)

## What it does
Reports a `DeleteModel` that reaches the database: Django drops the
model's table (`DROP TABLE`) with every row in it. A `DeleteModel` listed
only in `state_operations` is not reported.

## Why is this bad?
The rows are gone; unapplying the migration recreates an empty table. Code
that is still deployed while `migrate` runs (the old release during a
rollout, workers, cron jobs) fails on every query of the model. Foreign
keys from other tables to it must already be gone, or the drop fails
half-way on databases without transactional DDL (MySQL).

## Example
```python
operations = [
    migrations.DeleteModel(name="Coupon"),
]
```

## How to fix
Release the code that no longer uses the model first. Take a backup or
export the rows you may need. Then delete the model in a migration of its
own, and mark the reviewed line with `# migguard: ignore[delete-model]`.
To keep the table for a while, remove the model from Django's state only:
```python
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.DeleteModel(name="Coupon")],
)
```
"#;

/// A `DeleteModel` that drops a table.
pub struct DeleteModel {
    /// The model as written (`Coupon`).
    pub name: String,
    /// Lower-cased, as Django keys models (`coupon`).
    pub model_name: String,
}

impl Violation for DeleteModel {
    fn rule(&self) -> Rule {
        Rule::DeleteModel
    }

    fn message(&self) -> String {
        format!(
            "`DeleteModel` drops the table of `{}` and every row in it",
            self.name
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "release code that no longer uses `{}` first and delete it in a migration of its own, after a backup",
            self.name
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "model_name": self.model_name, "model": self.name })
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::DeleteModel)
        .map(|op| {
            Diagnostic::new(
                &DeleteModel {
                    name: op.str_arg("name").unwrap_or_default().to_owned(),
                    model_name: model_lower(op),
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
    fn fires_on_a_database_delete_model() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.DeleteModel(name="Supplier"),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn state_only_and_other_operations_are_fine() {
        lint_ok(
            r#"migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Supplier")]),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.RenameModel(old_name="Supplier", new_name="Vendor"),"#,
            |_, m| check(m),
        );
    }
}
