use crate::diagnostic::Violation;
use crate::model::MigrationKey;
use crate::rules::Rule;

pub const DOC: &str = r#"# unapplied-migrations (MG302)

## What it does
Reports each migration of the checked-out branch that the database has not
applied, in the order `python manage.py migrate` would apply it (Django's
migration plan over every app's leaf).

Reported by the post-checkout hook, `migguard status` and `migguard plan`.

## Why is this bad?
The branch's models expect the schema these migrations create. Until they
are applied, queries touching the new tables or columns fail, and tests or
the development server behave differently from the code being read.

## Example
```text
$ git checkout feature
warning[MG302 unapplied-migrations]
  `blog.0011_post_legacy_id` is not applied in the database (1 of 2 to apply)
```

## How to fix
Run `python manage.py migrate` (or `migguard sync`, which first unapplies
migrations of the branch just left, then migrates).
"#;

/// A migration of the branch the database has not applied.
pub struct UnappliedMigrations {
    pub key: MigrationKey,
    /// 1-based place in the plan `migrate` would run.
    pub position: usize,
    pub total: usize,
    /// The command that applies it: `python manage.py migrate`.
    pub command: String,
}

impl Violation for UnappliedMigrations {
    fn rule(&self) -> Rule {
        Rule::UnappliedMigrations
    }

    fn message(&self) -> String {
        format!(
            "`{}` is not applied in the database ({} of {} to apply)",
            self.key, self.position, self.total
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!("run `{}`", self.command))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "position": self.position, "total": self.total, "command": self.command })
    }
}
