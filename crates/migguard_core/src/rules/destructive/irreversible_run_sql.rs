use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind, Reverse};
use crate::rules::Rule;

use super::{at_operation, database_operations_of};

pub const DOC: &str = r#"# irreversible-run-sql (MG422)

## What it does
Reports a `RunSQL` without `reverse_sql` (or with `reverse_sql=None`).
`reverse_sql=migrations.RunSQL.noop` (or `""`) is reversible and not
reported.

## Why is this bad?
Django cannot unapply the migration: migrating back past it stops with
`IrreversibleError`, which blocks rolling back a release and switching the
database to another branch.

## Example
```python
operations = [
    migrations.RunSQL("CREATE INDEX shop_product_name ON shop_product (name)"),
]
```

## How to fix
Write the SQL that undoes it, or `RunSQL.noop` when there is nothing to
undo:
```python
operations = [
    migrations.RunSQL(
        "CREATE INDEX shop_product_name ON shop_product (name)",
        reverse_sql="DROP INDEX shop_product_name",
    ),
]
```
"#;

/// A `RunSQL` that cannot be unapplied.
pub struct IrreversibleRunSql {
    /// The forward SQL when literal.
    pub sql: Option<String>,
}

impl Violation for IrreversibleRunSql {
    fn rule(&self) -> Rule {
        Rule::IrreversibleRunSql
    }

    fn message(&self) -> String {
        "`RunSQL` has no `reverse_sql`: the migration cannot be unapplied".into()
    }

    fn help(&self) -> Option<String> {
        Some("pass `reverse_sql` that undoes it, or `migrations.RunSQL.noop` when there is nothing to undo".into())
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "sql": self.sql })
    }
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::RunSQL)
        .filter(|op| matches!(op.reverse, None | Some(Reverse::Missing)))
        .map(|op| {
            Diagnostic::new(
                &IrreversibleRunSql {
                    sql: op.sql.as_ref().and_then(|s| s.literal()),
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
    fn fires_without_reverse_sql() {
        insta::assert_snapshot!(lint_errors(
            "migrations.RunSQL(\"UPDATE shop_product SET name = upper(name)\"),\nmigrations.RunSQL(sql=\"SELECT 1\", reverse_sql=None),",
            |_, m| check(m)
        ));
    }

    #[test]
    fn noop_or_reverse_sql_is_fine() {
        lint_ok(
            "migrations.RunSQL(\"SELECT 1\", migrations.RunSQL.noop),",
            |_, m| check(m),
        );
        lint_ok(
            "migrations.RunSQL(\"SELECT 1\", reverse_sql=\"SELECT 2\"),",
            |_, m| check(m),
        );
        lint_ok(
            "migrations.RunSQL([\"SELECT 1\"], [\"SELECT 2\"]),",
            |_, m| check(m),
        );
    }
}
