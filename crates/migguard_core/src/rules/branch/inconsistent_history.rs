use crate::diagnostic::Violation;
use crate::model::MigrationKey;
use crate::rules::Rule;

pub const DOC: &str = r#"# inconsistent-history (MG303)

## What it does
Reports a migration the database has applied while one of its dependencies
(a migration of this branch) is not applied: what Django refuses with
`InconsistentMigrationHistory` before `migrate` does anything. Squashed
migrations whose replaced migrations are all applied count as applied, as
Django counts them.

## Why is this bad?
`python manage.py migrate` (and `makemigrations`, which checks too) stops
with an error on this database. It usually means a branch was merged whose
migration sits *before* one already applied here, or rows of
`django_migrations` were edited by hand.

## Example
```text
$ migguard status
error[MG303 inconsistent-history]
  `orders.0004_merge` is applied but its dependency `orders.0002_billing` is not
```

## How to fix
If the dependency's changes are already in the schema, record it without
running it: `python manage.py migrate --fake orders 0002_billing`.
Otherwise unapply the dependent migration first (`python manage.py migrate
orders 0003_shipping` while its file is present), then
`python manage.py migrate`.
"#;

/// An applied migration with an unapplied dependency.
pub struct InconsistentHistory {
    pub key: MigrationKey,
    /// Its dependencies that are not applied.
    pub missing: Vec<MigrationKey>,
    /// The Python interpreter and manage.py, for the fix: `python manage.py`.
    pub manage: String,
}

impl Violation for InconsistentHistory {
    fn rule(&self) -> Rule {
        Rule::InconsistentHistory
    }

    fn message(&self) -> String {
        let missing: Vec<String> = self.missing.iter().map(|k| format!("`{k}`")).collect();
        let (noun, verb) = if missing.len() == 1 {
            ("dependency", "is")
        } else {
            ("dependencies", "are")
        };
        format!(
            "`{}` is applied but its {noun} {} {verb} not: Django refuses to migrate (InconsistentMigrationHistory)",
            self.key,
            missing.join(", ")
        )
    }

    fn help(&self) -> Option<String> {
        let first = self.missing.first()?;
        Some(format!(
            "if the schema already has its changes: `{} migrate --fake {} {}`; otherwise unapply `{}` first, then migrate",
            self.manage, first.app, first.name, self.key
        ))
    }

    fn details(&self) -> serde_json::Value {
        let missing: Vec<String> = self.missing.iter().map(ToString::to_string).collect();
        serde_json::json!({ "missing": missing })
    }
}
