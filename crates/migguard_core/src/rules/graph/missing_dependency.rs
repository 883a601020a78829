use crate::diagnostic::{Diagnostic, Location, Violation};
use crate::model::MigrationKey;
use crate::project::Project;
use crate::rules::input::dynamic_migration::DynamicMigration;
use crate::rules::Rule;

pub const DOC: &str = r#"# missing-dependency (MG101)

## What it does
Reports a `dependencies` (or `run_before`) entry that names a migration of a
project app that does not exist, after squashed migrations have replaced the
ones they replace, exactly as Django's loader resolves them.

## Why is this bad?
Django refuses to build the graph: `NodeNotFoundError: Migration
blog.0005_x dependencies reference nonexistent parent node ('blog',
'0004_y')`. It typically follows a rename of a migration file, a deleted
migration that others still depend on, or a rebase that dropped a file.

## Example
```python
class Migration(migrations.Migration):
    dependencies = [("blog", "0004_post_slug")]  # 0004_post_slug.py was renamed
```

## How to fix
Point the dependency at the migration that exists (usually the app's current
leaf: `migguard graph` shows it), or restore the missing file. Dependencies
on apps outside the project (Django's contrib apps, installed packages) are
not checked.
"#;

/// A dependency on a migration that does not exist.
pub struct MissingDependency {
    pub from: MigrationKey,
    pub target: MigrationKey,
    pub run_before: bool,
}

impl Violation for MissingDependency {
    fn rule(&self) -> Rule {
        Rule::MissingDependency
    }

    fn message(&self) -> String {
        let what = if self.run_before {
            "`run_before` entry"
        } else {
            "dependency"
        };
        if self.target.app == self.from.app && self.target.name == "__latest__" {
            format!(
                "{} depends on `__latest__` of its own app `{}`; Django resolves `__latest__` \
                 only for other apps, so within an app it names a node that does not exist",
                self.from, self.target.app
            )
        } else if self.target.name == "__first__" || self.target.name == "__latest__" {
            format!(
                "{} depends on app `{}`, which has no migrations",
                self.from, self.target.app
            )
        } else {
            format!(
                "{} has a {what} on {}, which does not exist",
                self.from, self.target
            )
        }
    }

    fn help(&self) -> Option<String> {
        if self.target.app == self.from.app && self.target.name == "__latest__" {
            return Some(
                "depend on the previous migration of the app by its name, as makemigrations writes it"
                    .to_owned(),
            );
        }
        Some(format!(
            "point it at an existing migration of `{}` (see `migguard graph`), or restore the missing file",
            self.target.app
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "dependency": [self.target.app, self.target.name], "run_before": self.run_before })
    }
}

pub fn check(project: &Project) -> Vec<Diagnostic> {
    // A dependency on a migration that could not be read is not missing:
    // that file's own diagnostic says what is wrong.
    let unreadable = project.unreadable();
    let unreadable_apps: std::collections::BTreeSet<&str> =
        unreadable.iter().map(|k| k.app.as_str()).collect();
    let explained = |target: &crate::model::MigrationKey| {
        let alias = matches!(target.name.as_str(), "__first__" | "__latest__");
        unreadable.contains(target) || (alias && unreadable_apps.contains(target.app.as_str()))
    };
    let mut out: Vec<Diagnostic> = project
        .graph
        .missing
        .iter()
        .filter(|m| !explained(&m.target))
        .map(|m| {
            let path = project.migration(&m.from).map(|mig| mig.path.clone());
            let mut location = Location::default()
                .in_migration(&m.from.app, &m.from.name)
                .at(m.line, m.column, Some(m.span));
            location.path = path;
            Diagnostic::new(
                &MissingDependency {
                    from: m.from.clone(),
                    target: m.target.clone(),
                    run_before: m.run_before,
                },
                location,
            )
        })
        .collect();
    for (from, setting, line, column) in &project.graph.unresolved_swappable {
        let mut location = Location::default()
            .in_migration(&from.app, &from.name)
            .at(*line, *column, None);
        location.path = project.migration(from).map(|m| m.path.clone());
        out.push(Diagnostic::new(
            &DynamicMigration {
                what: format!("the swappable dependency on `settings.{setting}`"),
                found: format!("settings.{setting} is not set in the settings migguard read; set `swappable` in [tool.migguard]"),
            },
            location,
        ));
    }
    out
}
