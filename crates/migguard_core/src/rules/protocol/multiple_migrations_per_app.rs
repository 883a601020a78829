use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{DependencyTarget, Migration, MigrationKey};
use crate::project::Project;
use crate::rules::graph::at_location;
use crate::rules::Rule;

pub const DOC: &str = r#"# multiple-migrations-per-app (MG505)

## What it does
Given a set of new migrations (those of one push, or of one branch against
its upstream), reports each app that gets more than one. Not counted: merge
migrations (no operations, two or more parents in the app), and migrations
replaced by a squashed migration that the graph uses.

## Why is this bad?
The migration protocol asks for one migration per feature. Every extra
migration is another node that can conflict with other branches, another
step in `migrate` on every environment, and a longer history to squash
later. Several small migrations for one change usually come from running
`makemigrations` after each edit while developing.

## Example
```text
shop/migrations/0005_product_stock.py          (new)
shop/migrations/0006_alter_product_stock.py    (new)
shop/migrations/0007_product_stock_index.py    (new)
```

## How to fix
Before merging, squash the new migrations: when they were never applied
outside your machine, delete them, migrate your database back
(`migrate shop 0004`) and run `makemigrations shop --name ...` once;
otherwise `python manage.py squashmigrations shop 0005 0007`. This is
information, not an error: keep separate migrations when they must be
deployed separately (for example a destructive change).
"#;

/// An app with several new migrations.
pub struct MultipleMigrationsPerApp {
    pub app: String,
    pub migrations: Vec<String>,
}

impl Violation for MultipleMigrationsPerApp {
    fn rule(&self) -> Rule {
        Rule::MultipleMigrationsPerApp
    }

    fn message(&self) -> String {
        format!(
            "app `{}` has {} new migrations ({}): consider squashing before merge",
            self.app,
            self.migrations.len(),
            self.migrations.join(", ")
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "regenerate them as one with `makemigrations {}` if they were never applied elsewhere, or run `squashmigrations`",
            self.app
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "app": self.app, "migrations": self.migrations })
    }
}

/// A merge migration: no operations and several parents in its own app.
fn is_merge(m: &Migration) -> bool {
    let parents = m
        .dependencies
        .iter()
        .filter(|d| matches!(&d.target, DependencyTarget::Key(k) if k.app == m.key.app))
        .count();
    m.operations.is_empty() && parents > 1
}

/// Migrations replaced by a squashed migration the graph uses.
fn replaced(project: &Project) -> BTreeSet<MigrationKey> {
    project
        .graph
        .replacements_used
        .iter()
        .filter_map(|key| project.migration(key))
        .flat_map(|m| &m.replaces)
        .filter_map(|d| match &d.target {
            DependencyTarget::Key(k) => Some(k.clone()),
            DependencyTarget::Swappable { .. } => None,
        })
        .collect()
}

pub fn check(project: &Project, migrations: &[&Migration]) -> Vec<Diagnostic> {
    let replaced = replaced(project);
    let mut by_app: BTreeMap<&str, BTreeMap<&str, &Migration>> = BTreeMap::new();
    for m in migrations {
        if is_merge(m) || replaced.contains(&m.key) {
            continue;
        }
        by_app.entry(&m.key.app).or_default().insert(&m.key.name, m);
    }
    by_app
        .into_iter()
        .filter(|(_, found)| found.len() > 1)
        .filter_map(|(app, found)| {
            let last = found.values().last()?;
            Some(Diagnostic::new(
                &MultipleMigrationsPerApp {
                    app: app.to_owned(),
                    migrations: found.keys().map(|n| (*n).to_owned()).collect(),
                },
                at_location(last),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{migration, project, render};

    fn new_ones<'a>(p: &'a Project, names: &[&str]) -> Vec<&'a Migration> {
        p.migrations
            .iter()
            .filter(|m| names.contains(&m.key.name.as_str()))
            .collect()
    }

    #[test]
    fn fires_on_two_new_migrations_of_one_app() {
        let p = project(&[
            (
                "0002_a",
                migration(r#"migrations.AlterModelOptions(name="supplier", options={}),"#),
            ),
            (
                "0003_b",
                migration(r#"migrations.AlterModelOptions(name="product", options={}),"#)
                    .replace("0001_initial", "0002_a"),
            ),
        ]);
        let found = check(&p, &new_ones(&p, &["0002_a", "0003_b"]));
        assert!(!found.is_empty());
        insta::assert_snapshot!(render(&found));
    }

    #[test]
    fn one_new_migration_or_a_merge_is_fine() {
        let merge = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"shop\", \"0002_a\"), (\"shop\", \"0002_b\")]\n\n    operations = []\n";
        let p = project(&[
            (
                "0002_a",
                migration(r#"migrations.AlterModelOptions(name="supplier", options={}),"#),
            ),
            (
                "0002_b",
                migration(r#"migrations.AlterModelOptions(name="product", options={}),"#),
            ),
            ("0003_merge", merge.to_owned()),
        ]);
        assert!(check(&p, &new_ones(&p, &["0002_a"])).is_empty());
        assert!(check(&p, &new_ones(&p, &["0002_a", "0003_merge"])).is_empty());
        assert_eq!(
            check(&p, &new_ones(&p, &["0002_a", "0002_b", "0003_merge"])).len(),
            1
        );
    }
}
