use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind, Value};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, model_lower, table_is_new};

pub const DOC: &str = r#"# unique-together-change (MG433)

## What it does
Reports an `AlterUniqueTogether` on an existing table (not on a model
created in the same migration, in an `initial = True` migration or by an
earlier migration of the same push).

## Why is this bad?
Django drops the unique indexes of the old `unique_together` and builds the
new ones with a plain `CREATE UNIQUE INDEX` / `ADD CONSTRAINT ... UNIQUE`:
on PostgreSQL this blocks writes to the table while the index is built,
and the migration fails half-way when existing rows are not unique (on
MySQL, without transactional DDL, it leaves the schema half-changed).
`unique_together` is also discouraged by Django in favour of
`Meta.constraints`.

## Example
```python
operations = [
    migrations.AlterUniqueTogether(
        name="supplier",
        unique_together={("name", "country")},
    ),
]
```

## How to fix
Check for duplicates before deploying (`values(...).annotate(n=Count("id"))
.filter(n__gt=1)`). Prefer a `UniqueConstraint` in `Meta.constraints`; on
PostgreSQL build its index with `CREATE UNIQUE INDEX CONCURRENTLY` in a
non-atomic migration and add the constraint to the state only (see
`blocking-index-creation`).
"#;

/// An `AlterUniqueTogether` on a table that may hold rows.
pub struct UniqueTogetherChange {
    pub model_name: String,
    /// The new field sets; empty when `unique_together` is removed.
    pub unique_together: Vec<Vec<String>>,
}

impl Violation for UniqueTogetherChange {
    fn rule(&self) -> Rule {
        Rule::UniqueTogetherChange
    }

    fn message(&self) -> String {
        if self.unique_together.is_empty() {
            format!(
                "`AlterUniqueTogether` drops the unique indexes of `{}`",
                self.model_name
            )
        } else {
            let sets: Vec<String> = self
                .unique_together
                .iter()
                .map(|s| format!("({})", s.join(", ")))
                .collect();
            format!(
                "`AlterUniqueTogether` rebuilds the unique indexes of `{}` as {}: writes block while they build, \
                 and it fails on duplicate rows",
                self.model_name,
                sets.join(", ")
            )
        }
    }

    fn help(&self) -> Option<String> {
        Some("check existing rows for duplicates first; prefer `UniqueConstraint` built concurrently on PostgreSQL".into())
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "model_name": self.model_name, "unique_together": self.unique_together })
    }
}

/// `{("a", "b")}`, `[["a", "b"]]` or Django's short form `("a", "b")`.
fn field_sets(value: Option<&Value>) -> Vec<Vec<String>> {
    let Some(items) = value.and_then(Value::as_seq) else {
        return Vec::new();
    };
    if items.iter().all(|v| v.as_str().is_some()) && !items.is_empty() {
        return vec![items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()];
    }
    items
        .iter()
        .filter_map(Value::as_seq)
        .map(|set| {
            set.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::AlterUniqueTogether)
        .filter_map(|op| {
            let model_name = model_lower(op);
            if table_is_new(migration, &model_name) {
                return None;
            }
            Some(Diagnostic::new(
                &UniqueTogetherChange {
                    model_name,
                    unique_together: field_sets(op.arg("unique_together")),
                },
                at_operation(migration, op),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{lint_errors, lint_ok};

    #[test]
    fn fires_on_an_existing_table() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.AlterUniqueTogether(name="supplier", unique_together={("name", "id")}),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn new_tables_and_state_only_are_fine() {
        lint_ok(
            r#"migrations.CreateModel(name="Coupon", fields=[("id", models.BigAutoField(primary_key=True)), ("code", models.CharField(max_length=10))]),
migrations.AlterUniqueTogether(name="coupon", unique_together={("code", "id")}),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.SeparateDatabaseAndState(state_operations=[
    migrations.AlterUniqueTogether(name="supplier", unique_together={("name", "id")}),
]),"#,
            |_, m| check(m),
        );
    }
}
