use crate::diagnostic::{Diagnostic, Severity, Violation};
use crate::model::{Migration, Operation, OperationKind};
use crate::rules::Rule;

use super::sql::{self, Destruction};
use super::{at_operation, database_operations_of};

pub const DOC: &str = r#"# destructive-sql (MG403)

## What it does
Reports a `RunSQL` whose literal SQL destroys data or schema:
- `DROP TABLE`, `DROP INDEX`, `DROP SCHEMA`, `DROP DATABASE`, `DROP SEQUENCE`;
- `ALTER TABLE ... DROP COLUMN` (also `DROP CONSTRAINT`, `DROP INDEX`,
  `DROP PRIMARY KEY`, `DROP FOREIGN KEY`, `DROP PARTITION`), but not
  `ALTER COLUMN ... DROP DEFAULT` or `DROP NOT NULL`;
- `TRUNCATE`;
- `DELETE`, including `DELETE ... WHERE`.

The SQL is parsed with `sqlparser` (generic dialect, then PostgreSQL, MySQL
and SQLite) and the statement trees are walked, so a `DROP TABLE` inside a
string literal or a comment is not mistaken for one. A statement no dialect
can parse (Django's `%s` placeholders, vendor syntax) is scanned for the
keywords above with its comments and string literals removed, and the
finding says `"parsed": false`. Only the forward `sql` is read, not
`reverse_sql`; SQL that is not a literal (a variable, a formatted string) is
not reported by this rule. `DROP VIEW`, `DROP FUNCTION` and `DROP TRIGGER`
are not reported: they hold no data and are usually recreated at once.

`DELETE ... WHERE` removes the rows a data migration chose, which is often
the point of the migration, so it is reported as a **warning**. A `DELETE`
without `WHERE`, a `TRUNCATE` or any drop is an **error**. A configured
severity for the rule overrides both.

## Why is this bad?
Nothing brings the data back: a `reverse_sql` can recreate a table or a
column, not what it held. Destructive SQL also hides from reviewers who
look for `RemoveField` and `DeleteModel`, and Django's state does not know
about it, so the models may still use what was dropped.

## Example
```python
operations = [
    migrations.RunSQL(
        "DROP TABLE shop_legacy_import",
        reverse_sql="CREATE TABLE shop_legacy_import (id integer)",
    ),
    migrations.RunSQL("DELETE FROM shop_product WHERE discontinued"),
]
```

## How to fix
Put destructive SQL in a migration of its own, released after the code
that used the data, and take a backup first. Prefer Django's own
operations (`RemoveField`, `DeleteModel`) so that the model state follows.
When the statement is intended, mark the reviewed line with
`# migguard: ignore[destructive-sql]`.
"#;

/// A `RunSQL` whose literal SQL drops, truncates or deletes.
pub struct DestructiveSql {
    pub destructions: Vec<Destruction>,
    /// False when some statement was only scanned for keywords.
    pub parsed: bool,
}

impl DestructiveSql {
    /// Only `DELETE ... WHERE`: a warning rather than an error.
    pub fn only_filtered_deletes(&self) -> bool {
        self.destructions
            .iter()
            .all(|d| d.kind == "DELETE" && d.filtered)
    }

    fn summary(&self) -> String {
        self.destructions
            .iter()
            .map(|d| {
                let mut text = if d.kind == "DELETE" {
                    "DELETE FROM".to_owned()
                } else {
                    d.kind.clone()
                };
                if !d.targets.is_empty() {
                    text.push(' ');
                    text.push_str(&d.targets.join(", "));
                }
                if d.kind == "DELETE" {
                    text.push_str(if d.filtered {
                        " (with WHERE)"
                    } else {
                        " (every row)"
                    });
                }
                text
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl Violation for DestructiveSql {
    fn rule(&self) -> Rule {
        Rule::DestructiveSql
    }

    fn message(&self) -> String {
        format!("`RunSQL` runs destructive SQL: {}", self.summary())
    }

    fn help(&self) -> Option<String> {
        Some(
            "run it in a migration of its own, after the code stopped using the data and after a backup; \
             mark the reviewed line with `# migguard: ignore[destructive-sql]`"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        let statements: Vec<serde_json::Value> = self
            .destructions
            .iter()
            .map(|d| {
                serde_json::json!({
                    "kind": d.kind,
                    "targets": d.targets,
                    "filtered": d.filtered,
                    "parsed": d.parsed,
                })
            })
            .collect();
        serde_json::json!({ "statements": statements, "parsed": self.parsed })
    }
}

/// The destructive statements of a `RunSQL`'s literal forward SQL; `None`
/// for other operations, dynamic SQL, or SQL that destroys nothing.
pub fn destructive_sql(op: &Operation) -> Option<DestructiveSql> {
    if op.kind != OperationKind::RunSQL {
        return None;
    }
    let facts = sql::analyze_sql(op.sql.as_ref()?)?;
    let parsed = facts.iter().all(|f| f.parsed);
    let destructions: Vec<Destruction> = facts.into_iter().flat_map(|f| f.destructions).collect();
    (!destructions.is_empty()).then_some(DestructiveSql {
        destructions,
        parsed,
    })
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::RunSQL)
        .filter_map(|op| {
            let violation = destructive_sql(op)?;
            let mut diagnostic = Diagnostic::new(&violation, at_operation(migration, op));
            if violation.only_filtered_deletes() {
                diagnostic.severity = Severity::Warning;
            }
            Some(diagnostic)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{lint_errors, lint_ok};

    #[test]
    fn fires_on_drops_and_unfiltered_deletes_as_errors() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.RunSQL(
    ["DROP TABLE shop_legacy; ALTER TABLE shop_product DROP COLUMN price", "DELETE FROM shop_supplier"],
    reverse_sql=migrations.RunSQL.noop,
),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn a_filtered_delete_is_a_warning() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.RunSQL("DELETE FROM shop_product WHERE price < 0"),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn unparsable_sql_is_scanned_and_says_so() {
        let text = lint_errors(
            r#"migrations.RunSQL("TRUNCATE shop_product RESTART IDENTITY %s -- DROP TABLE x"),"#,
            |_, m| check(m),
        );
        assert!(text.contains(r#""parsed":false"#), "{text}");
        assert!(text.contains("TRUNCATE shop_product"), "{text}");
        assert!(!text.contains("DROP TABLE"), "{text}");
    }

    #[test]
    fn inside_database_operations_it_fires() {
        lint_errors(
            r#"migrations.SeparateDatabaseAndState(database_operations=[
    migrations.RunSQL("ALTER TABLE shop_product DROP COLUMN price"),
]),"#,
            |_, m| check(m),
        );
    }

    #[test]
    fn harmless_reverse_dynamic_and_quoted_sql_is_fine() {
        lint_ok(
            r#"migrations.RunSQL("CREATE INDEX shop_idx ON shop_product (name)", reverse_sql="DROP INDEX shop_idx"),"#,
            |_, m| check(m),
        );
        lint_ok(r#"migrations.RunSQL(DROP_EVERYTHING),"#, |_, m| check(m));
        lint_ok(
            r#"migrations.RunSQL("UPDATE shop_product SET name = 'DROP TABLE x' -- DELETE FROM y"),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.RunSQL("ALTER TABLE shop_product ALTER COLUMN name DROP DEFAULT"),"#,
            |_, m| check(m),
        );
    }
}
