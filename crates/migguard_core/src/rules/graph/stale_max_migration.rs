use crate::diagnostic::{Diagnostic, Location, Violation};
use crate::fix::lock;
use crate::project::Project;
use crate::rules::Rule;

pub const DOC: &str = r#"# stale-max-migration (MG104)

## What it does
For an app that keeps a `migrations/max_migration.txt` (written by
`migguard lock`, in django-linear-migrations' format), reports when the name
in it is not the app's leaf migration.

## Why is this bad?
The file exists so that two branches that both add a migration to one app
change the same line and conflict in git, even when the merge happens on a
hosting site where no hook runs. A stale file defeats that: the next branch
edits a different line, git merges silently, and the app ends up with two
leaves.

## Example
```text
blog/migrations/0003_post_subtitle.py       (the leaf)
blog/migrations/max_migration.txt           0002_post_slug
```

## How to fix
Run `migguard lock` (or `migguard lock blog`) and commit the file. In CI,
`migguard lock --check` reports the same.
"#;

/// `max_migration.txt` does not name the app's leaf.
pub struct StaleMaxMigration {
    pub app: String,
    /// The file's content as read ([`lock::recorded`]).
    pub recorded: String,
    pub leaf: String,
}

impl Violation for StaleMaxMigration {
    fn rule(&self) -> Rule {
        Rule::StaleMaxMigration
    }

    fn message(&self) -> String {
        if self.recorded.is_empty() {
            format!(
                "max_migration.txt of app `{}` is empty; the leaf is `{}`",
                self.app, self.leaf
            )
        } else if self.recorded.contains('\n') {
            format!(
                "max_migration.txt of app `{}` holds {} lines; it must hold only the leaf `{}`",
                self.app,
                self.recorded.lines().count(),
                self.leaf
            )
        } else {
            format!(
                "max_migration.txt of app `{}` names `{}`, but the leaf is `{}`",
                self.app, self.recorded, self.leaf
            )
        }
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "run `migguard lock {}` and commit the file",
            self.app
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "recorded": self.recorded, "leaf": self.leaf })
    }
}

pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for app in &project.discovery.apps {
        // A missing file is `lock --check --require`'s business, a
        // conflicted app conflicting-migrations'.
        let lock::State::Stale { recorded, leaf } = lock::state(project, app) else {
            continue;
        };
        out.push(Diagnostic::new(
            &StaleMaxMigration {
                app: app.label.clone(),
                recorded,
                leaf,
            },
            Location::file(lock::path(app))
                .in_app(&app.label)
                .at(1, 1, None),
        ));
    }
    out
}
