use crate::diagnostic::Violation;
use crate::model::MigrationKey;
use crate::rules::Rule;

pub const DOC: &str = r#"# schema-mismatch (MG301)

## What it does
Reports a migration that the database has applied (a row in
`django_migrations`) but that the checked-out branch does not have: it was
applied on another branch, or on a branch that has since been deleted or
rebased. Each report says where the migration comes from (the branch or
commit left, or migguard's store of applied migrations) and what it did to
the schema, from the replayed migration state.

Reported by the post-checkout hook, `migguard status` and `migguard plan`.

## Why is this bad?
The database has tables, columns, indexes or constraints this branch's
models do not know. Inserts fail on `NOT NULL` columns the models never set,
a later migration of this branch may clash with them, and Django cannot undo
the migration from this branch: its file is not here. The longer it stays,
the harder the way back.

## Example
```text
$ git checkout main
warning[MG301 schema-mismatch]
  `inventory.0004_item_subtitle` is applied in the database but not on main
  (from branch feature): adds column inventory_item.subtitle
```

## How to fix
Unapply the migration with its own file, then migrate. `migguard sync` does
it safely (it snapshots a SQLite or PostgreSQL database first; for
MySQL/MariaDB, which it cannot back up, it asks for a `mysqldump` by hand
and `--no-backup`). By hand, the report prints the
commands: switch back to the branch that has the file, unapply, come back,
migrate:

```text
git checkout feature
python manage.py migrate inventory 0003_merge
git checkout main
python manage.py migrate
```

For a branch that is gone, migguard's store of applied migrations (kept by
the post-checkout hook) still has the file: `migguard status` prints the
`cp` that puts it back for the time of the `migrate`.
"#;

/// A migration applied in the database that the branch does not have.
pub struct SchemaMismatch {
    pub key: MigrationKey,
    /// The revision checked out: `main`, `commit 1a2b3c4`.
    pub branch: String,
    /// Where its file is known from: `branch feature`, `commit 1a2b3c4`,
    /// `migguard's store of applied migrations`; `None` when unknown.
    pub from: Option<String>,
    /// What it did to the schema: `adds column blog_post.subtitle`.
    pub effects: Vec<String>,
    /// The command that unapplies it, when known.
    pub fix: Option<String>,
}

impl Violation for SchemaMismatch {
    fn rule(&self) -> Rule {
        Rule::SchemaMismatch
    }

    fn message(&self) -> String {
        let mut text = format!(
            "`{}` is applied in the database but not on {}",
            self.key, self.branch
        );
        match &self.from {
            Some(from) => text.push_str(&format!(" (from {from})")),
            None => text.push_str(" (its file is not known)"),
        }
        if !self.effects.is_empty() {
            text.push_str(": ");
            text.push_str(&self.effects.join("; "));
        }
        text
    }

    fn help(&self) -> Option<String> {
        Some(match &self.fix {
            Some(fix) => format!("unapply it before migrating: `migguard sync`, or by hand: {fix}"),
            None => "unapply it before migrating (`migguard sync`), or restore the database from a backup".to_owned(),
        })
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "branch": self.branch,
            "from": self.from,
            "effects": self.effects,
            "fix": self.fix,
        })
    }
}
