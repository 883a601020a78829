use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, field_name, model_lower};

pub const DOC: &str = r#"# remove-field (MG401)

## What it does
Reports a `RemoveField` that reaches the database: Django drops the
column (`ALTER TABLE ... DROP COLUMN`). A `RemoveField` listed only in the
`state_operations` of `SeparateDatabaseAndState` is not reported, since it
changes Django's model state and leaves the column in place.

## Why is this bad?
The column's data is gone: unapplying the migration adds the column back
empty (or with the field's default), not with what it held. And during a
deploy, the code that is still running reads and writes the column:
`migrate` runs before (or while) the new code rolls out, so every query of
the old code that names the column fails with "column does not exist"
until the rollout ends. The migration protocol asks for destructive
changes to ship separately, after the code stopped using the field.

## Example
```python
operations = [
    migrations.RemoveField(model_name="product", name="legacy_code"),
]
```

## How to fix
Deploy in two steps. First remove every use of the field from the code
and take it out of Django's state only, keeping the column (make it
nullable first if it is required):
```python
operations = [
    migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.RemoveField(model_name="product", name="legacy_code"),
        ],
    ),
]
```
Then, once no running code knows the column, drop it in a migration of
its own (`RunSQL("ALTER TABLE ... DROP COLUMN ...")`, reviewed and
suppressed with `# migguard: ignore[remove-field]`), after a backup.
"#;

/// A `RemoveField` that drops a column.
pub struct RemoveField {
    pub model_name: String,
    pub name: String,
}

impl Violation for RemoveField {
    fn rule(&self) -> Rule {
        Rule::RemoveField
    }

    fn message(&self) -> String {
        format!(
            "`RemoveField` drops the column of `{}.{}`: its data is lost and code still reading it fails",
            self.model_name, self.name
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "stop using `{}.{}` in a deploy first, remove it from state only with `SeparateDatabaseAndState`, \
             and drop the column in a later migration of its own",
            self.model_name, self.name
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "model_name": self.model_name, "name": self.name })
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::RemoveField)
        .map(|op| {
            Diagnostic::new(
                &RemoveField {
                    model_name: model_lower(op),
                    name: field_name(op),
                },
                at_operation(migration, op),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::project::finish;
    use crate::rules::destructive::testing::{lint_errors, lint_ok, migration, project, run};

    #[test]
    fn fires_on_a_database_remove_field() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.RemoveField(model_name="product", name="price"),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn fires_inside_database_operations() {
        let text = lint_errors(
            r#"migrations.SeparateDatabaseAndState(
    database_operations=[migrations.RemoveField(model_name="product", name="price")],
    state_operations=[migrations.RemoveField(model_name="product", name="price")],
),"#,
            |_, m| check(m),
        );
        assert_eq!(text.matches("MG401").count(), 1, "{text}");
    }

    #[test]
    fn state_only_removal_is_fine() {
        lint_ok(
            r#"migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="product", name="price")],
),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.RunSQL("SELECT 1", migrations.RunSQL.noop, state_operations=[
    migrations.RemoveField(model_name="product", name="price"),
]),"#,
            |_, m| check(m),
        );
    }

    #[test]
    fn other_field_operations_are_fine() {
        lint_ok(
            r#"migrations.AddField(model_name="product", name="sku", field=models.CharField(max_length=10, null=True)),"#,
            |_, m| check(m),
        );
    }

    #[test]
    fn an_inline_ignore_suppresses_it() {
        let ignored = project(&[(
            "0002_change",
            migration(
                r#"migrations.RemoveField(model_name="product", name="price"),  # migguard: ignore[remove-field]"#,
            ),
        )]);
        let found = run(&ignored, "0002_change", |_, m| check(m));
        assert_eq!(found.len(), 1);
        assert!(finish(&ignored, &Settings::default(), found).is_empty());

        let other_rule = project(&[(
            "0002_change",
            migration(
                r#"migrations.RemoveField(model_name="product", name="price"),  # migguard: ignore[MG402]"#,
            ),
        )]);
        let found = run(&other_rule, "0002_change", |_, m| check(m));
        assert_eq!(finish(&other_rule, &Settings::default(), found).len(), 1);
    }
}
