use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# edited-upstream-migration (MG304)

## What it does
Reports a staged modification, deletion or rename of a migration file that
already exists on the upstream branch (the remote's default branch, or
`upstream` in `[tool.migguard]`).

## Why is this bad?
A migration on the upstream branch has been applied by colleagues, CI and
maybe production. Django records migrations by name only: an edited file is
never re-run where the old version was applied, so databases silently
diverge; a deleted or renamed one breaks every migration that depends on it.

## Example
```text
$ git diff --cached --stat
 blog/migrations/0003_post_slug.py | 2 +-    (0003 is on origin/main)
```

## How to fix
Leave the upstream migration as it is and make the change in a new migration
(`python manage.py makemigrations`). If the edit is deliberate (a comment, a
squash that keeps names), commit with `git commit --no-verify` or silence the
rule for the file in `per-file-ignores`.
"#;

/// How a staged change touches an upstream migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamEdit {
    Modified,
    Deleted,
    Renamed,
}

/// A staged change to a migration the upstream branch already has.
pub struct EditedUpstreamMigration {
    pub path: String,
    pub upstream: String,
    pub edit: UpstreamEdit,
    /// For a rename, the new path.
    pub renamed_to: Option<String>,
}

impl Violation for EditedUpstreamMigration {
    fn rule(&self) -> Rule {
        Rule::EditedUpstreamMigration
    }

    fn message(&self) -> String {
        match (self.edit, &self.renamed_to) {
            (UpstreamEdit::Renamed, Some(to)) => format!(
                "`{}` exists on {} and is renamed to `{to}`",
                self.path, self.upstream
            ),
            (UpstreamEdit::Deleted, _) | (UpstreamEdit::Renamed, None) => {
                format!("`{}` exists on {} and is deleted", self.path, self.upstream)
            }
            (UpstreamEdit::Modified, _) => {
                format!(
                    "`{}` exists on {} and is modified",
                    self.path, self.upstream
                )
            }
        }
    }

    fn help(&self) -> Option<String> {
        Some("databases that applied the upstream version will not see this change; put it in a new migration instead".into())
    }

    fn details(&self) -> serde_json::Value {
        let edit = match self.edit {
            UpstreamEdit::Modified => "modified",
            UpstreamEdit::Deleted => "deleted",
            UpstreamEdit::Renamed => "renamed",
        };
        serde_json::json!({ "upstream": self.upstream, "edit": edit, "renamed_to": self.renamed_to })
    }
}
