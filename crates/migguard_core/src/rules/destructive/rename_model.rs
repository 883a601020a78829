use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, model_lower};

pub const DOC: &str = r#"# rename-model (MG412)

## What it does
Reports a `RenameModel` that reaches the database. Unless the model sets
`Meta.db_table`, Django renames its table (`app_oldname` to `app_newname`),
the columns of foreign keys pointing at it, and the tables and columns of
its many-to-many relations. A `RenameModel` only in `state_operations` is
not reported.

## Why is this bad?
The rename is backward incompatible: the release still running during the
deploy queries the old table name and fails until it is replaced. Renaming
many tables and columns also takes locks on every table involved.

## Example
```python
operations = [
    migrations.RenameModel(old_name="Supplier", new_name="Vendor"),
]
```

## How to fix
Deploy the rename while old code is stopped, or keep the table in two
steps. First pin the name the table already has, `db_table =
"shop_supplier"` in `Meta`, and release that: its `AlterModelTable`
renames nothing. Then rename the model: when old and new `db_table` are
equal, Django leaves the table alone (only the columns named after the
model in auto-created many-to-many tables are renamed).
"#;

/// A `RenameModel` that renames a table.
pub struct RenameModel {
    /// Lower-cased old name, as Django keys models.
    pub model_name: String,
    pub old_name: String,
    pub new_name: String,
}

impl Violation for RenameModel {
    fn rule(&self) -> Rule {
        Rule::RenameModel
    }

    fn message(&self) -> String {
        format!(
            "`RenameModel` renames `{}` to `{}` and its table: code still deployed that uses the old table fails",
            self.old_name, self.new_name
        )
    }

    fn help(&self) -> Option<String> {
        Some("keep the old table with `Meta.db_table`, or deploy the rename while old code is stopped".into())
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model_name": self.model_name,
            "old_name": self.old_name,
            "new_name": self.new_name,
        })
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::RenameModel)
        .map(|op| {
            Diagnostic::new(
                &RenameModel {
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
            r#"migrations.RenameModel(old_name="Supplier", new_name="Vendor"),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn state_only_rename_is_fine() {
        lint_ok(
            r#"migrations.SeparateDatabaseAndState(state_operations=[
    migrations.RenameModel(old_name="Supplier", new_name="Vendor"),
]),"#,
            |_, m| check(m),
        );
    }
}
