//! `migguard status` against Django's `showmigrations --list` on every state
//! of `django_migrations` a project's history can leave: all applied, a
//! squash partly applied through the migrations it replaces, all of them
//! applied without the squash's own row, none applied, rows of an app that
//! is no longer installed, a migration file deleted with its row kept, and
//! a migration fake-applied. Real Django, a real SQLite file and a real
//! PostgreSQL database; the `[X]`/`[-]`/`[ ]` marks of the project's apps
//! must be the same, and `migguard plan` must list what `migrate --plan`
//! would apply, in its order.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::db::PgDb;
use crate::support::git::describe;
use crate::support::*;

/// `(app, migration, mark)`.
type Marks = BTreeSet<(String, String, char)>;

struct Project {
    dir: tempfile::TempDir,
    postgres: Option<String>,
}

impl Project {
    fn new(postgres: Option<&PgDb>) -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture_project("basic"), dir.path());
        let postgres = postgres.map(|db| db.name.clone());
        if let Some(name) = &postgres {
            std::fs::write(
                dir.path().join("config/settings_db.py"),
                format!(
                    "from .settings import *  # noqa: F401,F403\n\nDATABASES = {{\"default\": {{\"ENGINE\": \
                     \"django.db.backends.postgresql\", \"NAME\": \"{name}\", \"USER\": \"postgres\", \
                     \"HOST\": \"127.0.0.1\", \"PORT\": \"5432\"}}}}\n"
                ),
            )
            .unwrap();
            std::fs::write(
                dir.path().join("pyproject.toml"),
                format!(
                    "[tool.migguard]\ndatabase = \"postgres://postgres@127.0.0.1:5432/{name}\"\n"
                ),
            )
            .unwrap();
        }
        Project { dir, postgres }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn manage(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(python());
        cmd.arg("manage.py")
            .args(args)
            .current_dir(self.root())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("DATABASE_URL");
        if self.postgres.is_some() {
            cmd.args(["--settings", "config.settings_db"]);
        }
        let out = run(&mut cmd, Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Change `django_migrations` through Django's own connection: `rows`
    /// of `(app, name)` deleted for `app`, then inserted.
    fn set_rows(&self, app: &str, rows: &[&str]) {
        let names: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
        let code = format!(
            "from django.db import connection\n\
             from django.utils import timezone\n\
             with connection.cursor() as c:\n\
             \x20   c.execute('DELETE FROM django_migrations WHERE app = %s', [{app:?}])\n\
             \x20   for name in [{}]:\n\
             \x20       c.execute('INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)', [{app:?}, name, timezone.now()])\n",
            names.join(", ")
        );
        self.manage(&["shell", "-c", &code]);
    }

    fn showmigrations(&self) -> Marks {
        marks(&self.manage(&["showmigrations", "--list"]))
    }

    fn status(&self) -> Marks {
        let mut cmd = Command::new(migguard_bin("migguard"));
        cmd.arg("status")
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL");
        let out = cmd.output().expect("run migguard");
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "migguard status: {}",
            describe(&out)
        );
        marks(&String::from_utf8_lossy(&out.stdout))
    }

    /// `migrate --plan`'s migrations (forwards), in order; `Err` with the
    /// exception's name when Django refuses the history.
    fn django_plan(&self) -> Result<Vec<String>, String> {
        let mut cmd = Command::new(python());
        cmd.args(["manage.py", "migrate", "--plan"])
            .current_dir(self.root())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("DATABASE_URL");
        if self.postgres.is_some() {
            cmd.args(["--settings", "config.settings_db"]);
        }
        let out = cmd.output().expect("run python");
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("InconsistentMigrationHistory"),
                "migrate --plan: {}",
                describe(&out)
            );
            return Err("InconsistentMigrationHistory".to_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with(' ') && l.contains('.') && !l.contains(' '))
            .map(str::to_owned)
            .collect())
    }

    /// `migguard plan`'s `+ apply app.name` lines, in order, and its text.
    fn plan(&self) -> (Vec<String>, String) {
        let mut cmd = Command::new(migguard_bin("migguard"));
        cmd.arg("plan")
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL");
        let out = cmd.output().expect("run migguard");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "migguard plan: {}",
            describe(&out)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let applies = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("+ apply "))
            .map(str::to_owned)
            .collect();
        (applies, text)
    }

    /// Both views, restricted to the project's apps (migguard lists those).
    fn assert_agree(&self, state: &str) {
        let ours = self.status();
        let apps: BTreeSet<&String> = ours.iter().map(|(a, _, _)| a).collect();
        assert!(!apps.is_empty(), "{state}: status listed nothing");
        let django: Marks = self
            .showmigrations()
            .into_iter()
            .filter(|(a, _, _)| apps.contains(a))
            .collect();
        assert_eq!(ours, django, "{state}: migguard status vs showmigrations");
        let (plan, text) = self.plan();
        match self.django_plan() {
            Ok(django_plan) => {
                let django_plan: Vec<String> = django_plan
                    .into_iter()
                    .filter(|k| apps.iter().any(|a| k.starts_with(&format!("{a}."))))
                    .collect();
                assert_eq!(
                    plan, django_plan,
                    "{state}: migguard plan vs migrate --plan"
                );
            }
            // Django refuses to migrate: migguard's plan says so.
            Err(exception) => assert!(
                text.contains(&exception),
                "{state}: Django raises {exception}, migguard plan says:\n{text}"
            ),
        }
    }
}

/// The `[X]`, `[-]` and `[ ]` lines of a showmigrations-style listing.
fn marks(text: &str) -> Marks {
    let mut out = Marks::new();
    let mut app: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() && !line.contains(' ') {
            app = Some(line.to_owned());
            continue;
        }
        let Some(rest) = line.strip_prefix(" [") else {
            continue;
        };
        let mut chars = rest.chars();
        let (Some(mark), Some(']')) = (chars.next(), chars.next()) else {
            continue;
        };
        if !matches!(mark, 'X' | '-' | ' ') {
            continue;
        }
        let name = chars.as_str().split_whitespace().next().unwrap_or_default();
        if let Some(app) = &app {
            out.insert((app.clone(), name.to_owned(), mark));
        }
    }
    out
}

fn every_state(project: &Project) {
    project.manage(&["migrate", "--noinput"]);
    project.assert_agree("all applied");

    // The squash `catalogue.0001_squashed_0004_item_price` replaces 0001-0004.
    project.set_rows("catalogue", &["0001_initial", "0002_item"]);
    project.assert_agree("squash partly applied through the replaced migrations");
    project.set_rows(
        "catalogue",
        &[
            "0001_initial",
            "0002_item",
            "0003_alter_category_name",
            "0004_item_price",
        ],
    );
    project.assert_agree("every replaced migration applied, no row for the squash");
    project.set_rows("catalogue", &[]);
    project.assert_agree("none of the app applied");
    project.set_rows(
        "catalogue",
        &["0001_squashed_0004_item_price", "0005_item_sku"],
    );
    project.assert_agree("the squash's own row, none of those it replaces");

    // As `migrate` records a squash: its row and those it replaces.
    project.set_rows(
        "catalogue",
        &[
            "0001_initial",
            "0002_item",
            "0003_alter_category_name",
            "0004_item_price",
            "0001_squashed_0004_item_price",
            "0005_item_sku",
        ],
    );
    project.assert_agree("the squash recorded as migrate records it");

    project.set_rows("gone", &["0001_initial", "0002_more"]);
    project.assert_agree("rows of an app no longer installed");

    project.manage(&["migrate", "blog", "0011", "--noinput"]);
    project.manage(&["migrate", "blog", "0012", "--fake", "--noinput"]);
    project.assert_agree("a migration fake-applied");

    std::fs::remove_file(
        project
            .root()
            .join("blog/migrations/0012_alter_comment_unique_together.py"),
    )
    .unwrap();
    project.assert_agree("a migration file deleted, its row kept");
}

#[test]
fn status_agrees_with_showmigrations_on_sqlite() {
    every_state(&Project::new(None));
}

#[test]
fn status_agrees_with_showmigrations_on_postgres() {
    let db = PgDb::create();
    every_state(&Project::new(Some(&db)));
}
