use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Severity, Violation};
use crate::model::MigrationKey;
use crate::project::Project;
use crate::rules::Rule;

pub const DOC: &str = r#"# conflicting-migrations (MG103)

## What it does
Reports an app with more than one leaf migration: two migrations that both
extend the same parent and that nothing merges, typically two branches that
each ran `makemigrations` for the same app.

## Why is this bad?
`makemigrations` and `migrate` refuse to run: "Conflicting migrations
detected; multiple leaf nodes in the migration graph". The conflict shows up
on whoever merges last, often on the main branch after a pull request was
merged on a hosting site.

## Example
```text
blog/migrations/0001_initial.py
blog/migrations/0002_post_subtitle.py   (dependencies: 0001_initial)
blog/migrations/0002_post_rating.py     (dependencies: 0001_initial)
```

## How to fix
Write a merge migration with `migguard merge` (the same file
`python manage.py makemigrations --merge` writes), or move your branch's
migration after the other one with `migguard rebase APP MIGRATION`.
"#;

/// An app whose graph has more than one leaf.
pub struct ConflictingMigrations {
    pub app: String,
    pub leaves: Vec<String>,
    /// A migration of the app whose graph edges are computed: the leaves
    /// may be joined by an edge migguard could not read.
    pub uncertain: Option<String>,
}

impl Violation for ConflictingMigrations {
    fn rule(&self) -> Rule {
        Rule::ConflictingMigrations
    }

    fn message(&self) -> String {
        let mut message = format!(
            "conflicting migrations in app `{}`: {} leaf nodes ({})",
            self.app,
            self.leaves.len(),
            self.leaves.join(", ")
        );
        if let Some(name) = &self.uncertain {
            message.push_str(&format!(
                "; uncertain: `{name}` computes its dependencies, which may join them"
            ));
        }
        message
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "run `migguard merge {app}` (or `python manage.py makemigrations --merge {app}`)",
            app = self.app
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "app": self.app,
            "leaves": self.leaves,
            "uncertain": self.uncertain,
        })
    }
}

pub fn check(project: &Project) -> Vec<Diagnostic> {
    // An app with a migration that could not be read has unknown leaves
    // (the unread file may be the child of each): its own diagnostic says
    // what is wrong, a conflict would be a guess.
    let unreadable: BTreeSet<&str> = project
        .unreadable()
        .into_iter()
        .map(|k| k.app.as_str())
        .collect();
    project
        .graph
        .conflicts
        .iter()
        .filter(|(app, _)| !unreadable.contains(app.as_str()))
        .map(|(app, leaves)| {
            // Point at the last leaf in name order, the likeliest newcomer.
            let anchor = MigrationKey::new(app, leaves.last().cloned().unwrap_or_default());
            // A computed `dependencies` (swapper, a helper function) may
            // hold the edge that joins the leaves: said, as a warning.
            let uncertain = project
                .migrations
                .iter()
                .find(|m| &m.key.app == app && !m.graph_complete)
                .map(|m| m.key.name.clone());
            let demote = uncertain.is_some();
            let mut diagnostic = Diagnostic::new(
                &ConflictingMigrations {
                    app: app.clone(),
                    leaves: leaves.clone(),
                    uncertain,
                },
                super::at_migration(project, &anchor),
            );
            if demote {
                diagnostic.severity = Severity::Warning;
            }
            diagnostic
        })
        .collect()
}
