use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind, Reverse, Value};
use crate::rules::Rule;

use super::{at_operation, database_operations_of};

pub const DOC: &str = r#"# irreversible-run-python (MG421)

## What it does
Reports a `RunPython` without `reverse_code` (or with `reverse_code=None`).
`RunPython(forwards, RunPython.noop)` is reversible and not reported.

## Why is this bad?
Django cannot unapply the migration: `migrate app 0004` (or switching
to a branch whose migrations end earlier and migrating back) stops with
`IrreversibleError: Operation <RunPython ...> is not reversible`, and every
migration before it in the plan stays applied. The migration protocol asks
for reversible data migrations.

## Example
```python
operations = [
    migrations.RunPython(populate_slugs),
]
```

## How to fix
Give a reverse function that undoes the change, or `RunPython.noop` when
there is nothing to undo (for example a backfill of a column that the
reverse of a later migration drops anyway):
```python
operations = [
    migrations.RunPython(populate_slugs, migrations.RunPython.noop),
]
```
"#;

/// A `RunPython` that cannot be unapplied.
pub struct IrreversibleRunPython {
    /// The forward function as written: `populate_slugs`.
    pub code: String,
}

impl Violation for IrreversibleRunPython {
    fn rule(&self) -> Rule {
        Rule::IrreversibleRunPython
    }

    fn message(&self) -> String {
        format!(
            "`RunPython({})` has no `reverse_code`: the migration cannot be unapplied",
            self.code
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "pass a reverse function, or `migrations.RunPython.noop` when there is nothing to undo"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code })
    }
}

/// A callable argument as written.
pub(crate) fn callable_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Ref(r)) => r.written.clone(),
        Some(Value::Expr(text)) => text.clone(),
        Some(other) => other.to_json().to_string(),
        None => String::new(),
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::RunPython)
        .filter(|op| matches!(op.reverse, None | Some(Reverse::Missing)))
        .map(|op| {
            Diagnostic::new(
                &IrreversibleRunPython {
                    code: callable_text(op.arg("code")),
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
    fn fires_without_reverse_code() {
        insta::assert_snapshot!(lint_errors(
            "migrations.RunPython(forwards),\nmigrations.RunPython(code=forwards, reverse_code=None),",
            |_, m| check(m)
        ));
    }

    #[test]
    fn noop_or_a_reverse_function_is_fine() {
        lint_ok(
            "migrations.RunPython(forwards, migrations.RunPython.noop),",
            |_, m| check(m),
        );
        lint_ok(
            "migrations.RunPython(forwards, reverse_code=backwards),",
            |_, m| check(m),
        );
        lint_ok(
            "migrations.RunPython(forwards, lambda apps, schema_editor: None),",
            |_, m| check(m),
        );
    }
}
