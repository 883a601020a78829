//! The `migguard` command line: its JSON contracts, its exit codes, and the
//! three places it reads a project from.

use std::ffi::OsStr;

use crate::support::git::{describe, GitRepo};
use crate::support::*;

fn os<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

#[test]
fn check_json_follows_the_contract() {
    let project = fixture_project("conflict");
    let out = migguard(
        &["check", "--format", "json", project.to_str().unwrap()],
        &repo_root(),
        Some(1),
    );
    let value = stdout_json(&out);
    let diagnostics = value["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(value["summary"]["errors"], 2);
    assert_eq!(value["summary"]["warnings"], 0);
    let inventory = diagnostics
        .iter()
        .find(|d| d["app"] == "inventory")
        .expect("inventory conflict");
    for key in [
        "rule",
        "code",
        "severity",
        "app",
        "migration",
        "path",
        "line",
        "column",
        "message",
        "help",
        "details",
    ] {
        assert!(
            inventory.get(key).is_some(),
            "missing `{key}` in {inventory}"
        );
    }
    assert_eq!(inventory["rule"], "conflicting-migrations");
    assert_eq!(inventory["code"], "MG103");
    assert_eq!(inventory["severity"], "error");
    assert_eq!(
        inventory["details"]["leaves"],
        serde_json::json!(["0002_a_item_sku", "0002_b_item_weight"])
    );
    assert_eq!(
        inventory["path"],
        "inventory/migrations/0002_b_item_weight.py"
    );
}

#[test]
fn graph_json_follows_the_contract() {
    let project = fixture_project("basic");
    let out = migguard(
        &["graph", "--format", "json", project.to_str().unwrap()],
        &repo_root(),
        Some(0),
    );
    let value = stdout_json(&out);
    for key in ["migrations", "leaves", "conflicts", "errors"] {
        assert!(value.get(key).is_some(), "missing `{key}`");
    }
    let migration = value["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["app"] == "blog" && m["name"] == "0002_post_slug")
        .expect("blog 0002_post_slug");
    assert_eq!(migration["path"], "blog/migrations/0002_post_slug.py");
    assert_eq!(
        migration["dependencies"],
        serde_json::json!([["blog", "0001_initial"]])
    );
    for key in ["replaces", "run_before", "initial", "atomic", "operations"] {
        assert!(
            migration.get(key).is_some(),
            "missing `{key}` in {migration}"
        );
    }
    let op = &migration["operations"][0];
    assert_eq!(op["type"], "AddField");
    assert_eq!(op["model_name"], "post");
    assert_eq!(op["name"], "slug");
    assert!(op["line"].as_u64().unwrap() > 0);
    assert_eq!(op["field"]["call"], "django.db.models.SlugField");
    // RunPython and RunSQL carry their reversibility.
    let all_ops: Vec<&serde_json::Value> = value["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["operations"].as_array().unwrap())
        .collect();
    assert!(all_ops.iter().any(|op| op["type"] == "RunPython"
        && op["reversible"] == true
        && op["reverse_noop"] == true));
    assert!(all_ops
        .iter()
        .any(|op| op["type"] == "RunSQL" && op["sql"].is_string()));
    assert!(all_ops
        .iter()
        .any(|op| op["type"] == "SeparateDatabaseAndState" && op["state_operations"].is_array()));
    assert_eq!(value["leaves"]["blog"].as_array().unwrap().len(), 1);
}

#[test]
fn usage_and_input_errors_exit_2() {
    let out = migguard(&["check", "--no-such-flag"], &repo_root(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
    let out = migguard(&["check", "/no/such/dir"], &repo_root(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dir"));
    let out = migguard(&["rule", "no-such-rule"], &repo_root(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-rule"));
    let out = migguard(&["rule", "MG103"], &repo_root(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# conflicting-migrations (MG103)"));
}

#[test]
fn at_staged_and_working_tree_each_read_their_own_version() {
    let repo = GitRepo::new();
    let source = fixture_project("conflict");
    for rel in [
        "manage.py",
        "config/__init__.py",
        "config/settings.py",
        "inventory/__init__.py",
        "inventory/apps.py",
        "inventory/migrations/__init__.py",
        "inventory/migrations/0001_initial.py",
        "inventory/migrations/0002_a_item_sku.py",
    ] {
        repo.write(rel, &std::fs::read_to_string(source.join(rel)).unwrap());
    }
    // The models as of 0002_a_item_sku (the fixture's also have `weight`).
    let models = std::fs::read_to_string(source.join("inventory/models.py")).unwrap();
    repo.write(
        "inventory/models.py",
        &models.replace(
            "    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True)\n",
            "",
        ),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "clean"]);
    let second = "inventory/migrations/0002_b_item_weight.py";
    repo.stage(
        second,
        &std::fs::read_to_string(source.join(second)).unwrap(),
    );
    repo.write("inventory/migrations/0003_broken.py", "class Migration(:\n");
    let root = repo.root.to_str().unwrap().to_owned();

    // HEAD: clean. The index: a conflict. The working tree: that and a syntax error.
    repo.migguard(&os(&["check", "--at", "HEAD", &root]), Some(0));
    let out = repo.migguard(
        &os(&["check", "--staged", "--format", "concise", &root]),
        Some(1),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("MG103") && !text.contains("MG001"), "{text}");
    let out = repo.migguard(&os(&["check", "--format", "concise", &root]), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MG001") && text.contains("inventory/migrations/0003_broken.py:1:"),
        "{text}"
    );
    let out = repo.migguard(&os(&["check", "--at", "no-such-rev", &root]), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-rev"),
        "{}",
        describe(&out)
    );
}

/// The models of the rules fixture's `store` app as its `0001_initial`
/// creates them.
const STORE_MODELS_0001: &str = r#"from django.db import models


class Coupon(models.Model):
    code = models.CharField(max_length=20)


class HistoricalProduct(models.Model):
    id = models.BigIntegerField(db_index=True)
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=32)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    legacy_code = models.CharField(max_length=50, null=True)
    history_id = models.AutoField(primary_key=True)
    history_date = models.DateTimeField(db_index=True)
    history_type = models.CharField(max_length=1)


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=32)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    legacy_code = models.CharField(max_length=50, null=True)


class Supplier(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="GB")
"#;

#[test]
fn since_judges_what_changed_in_sarif_and_github_formats() {
    let repo = GitRepo::new();
    let rules = repo_root().join("tests/fixtures/django/rules");
    for rel in [
        "manage.py",
        "config/__init__.py",
        "config/settings.py",
        "store/__init__.py",
        "store/apps.py",
        "store/migrations/__init__.py",
        "store/migrations/0001_initial.py",
    ] {
        repo.write(rel, &std::fs::read_to_string(rules.join(rel)).unwrap());
    }
    repo.write("store/models.py", STORE_MODELS_0001);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "base"]);
    let remove = "store/migrations/0002_remove_legacy_code.py";
    repo.write(
        remove,
        &std::fs::read_to_string(rules.join(remove)).unwrap(),
    );
    repo.write(
        "store/models.py",
        &STORE_MODELS_0001.replace(
            "    legacy_code = models.CharField(max_length=50, null=True)\n",
            "",
        ),
    );
    let root = repo.root.to_str().unwrap().to_owned();

    // Without --since only graph-level rules run: clean.
    repo.migguard(&os(&["check", &root]), Some(0));
    let out = repo.migguard(
        &os(&["check", "--since", "HEAD", "--format", "sarif", &root]),
        Some(1),
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let remove_field = results
        .iter()
        .find(|r| r["ruleId"] == "MG401")
        .expect("MG401 in SARIF");
    assert_eq!(
        remove_field["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        remove
    );
    assert_eq!(
        remove_field["locations"][0]["physicalLocation"]["region"]["startLine"],
        17
    );
    let out = repo.migguard(
        &os(&["check", "--since", "HEAD", "--format", "github", &root]),
        Some(1),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l
                .starts_with("::error file=store/migrations/0002_remove_legacy_code.py,line=17")),
        "{text}"
    );
}

/// Copy a fixture project into a temporary directory.
fn project_copy(name: &str) -> tempfile::TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == "__pycache__" || name.to_string_lossy().ends_with(".sqlite3") {
                continue;
            }
            if entry.path().is_dir() {
                copy(&entry.path(), &to.join(&name));
            } else {
                std::fs::copy(entry.path(), to.join(&name)).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture_project(name), dir.path());
    dir
}

fn operations(diagnostic: &serde_json::Value) -> Vec<(String, String, String)> {
    diagnostic["details"]["operations"]
        .as_array()
        .expect("details.operations")
        .iter()
        .map(|op| {
            let s = |k: &str| op[k].as_str().unwrap_or_default().to_owned();
            (s("type"), s("model_name"), s("name"))
        })
        .collect()
}

/// A field added to `models.py` with no migration: the static autodetector
/// and Django's own `makemigrations --check` (`check --django`, run with
/// the real interpreter) report the same operations in the same shape.
#[test]
fn missing_migration_statically_and_by_django() {
    let dir = project_copy("basic");
    let root = dir.path().to_str().unwrap().to_owned();
    let python = python();
    // Nothing missing: both agree.
    migguard(&["check", &root], dir.path(), Some(0));
    migguard(
        &["check", "--django", "--python", &python, &root],
        dir.path(),
        Some(0),
    );

    let models = dir.path().join("blog/models.py");
    let text = std::fs::read_to_string(&models).unwrap();
    let changed = text.replacen(
        "class Post(models.Model):\n",
        "class Post(models.Model):\n    subtitle = models.CharField(max_length=200, blank=True)\n",
        1,
    );
    assert_ne!(text, changed);
    std::fs::write(&models, changed).unwrap();

    let expected = vec![(
        "AddField".to_owned(),
        "post".to_owned(),
        "subtitle".to_owned(),
    )];
    let ours = stdout_json(&migguard(
        &["check", "--format", "json", &root],
        dir.path(),
        Some(1),
    ));
    let theirs = stdout_json(&migguard(
        &[
            "check", "--django", "--python", &python, "--format", "json", &root,
        ],
        dir.path(),
        Some(1),
    ));
    for (value, verdict) in [(&ours, "static"), (&theirs, "makemigrations")] {
        let found: Vec<&serde_json::Value> = value["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["rule"] == "missing-migration")
            .collect();
        assert_eq!(found.len(), 1, "{value}");
        let d = found[0];
        assert_eq!(d["code"], "MG201");
        assert_eq!(d["app"], "blog");
        assert_eq!(d["path"], "blog/models.py");
        assert_eq!(d["line"], 14, "the line of the new field: {d}");
        assert_eq!(d["details"]["verdict"], verdict);
        assert_eq!(operations(d), expected, "{d}");
    }
}

/// Django refusing to answer (here: two leaves in an app) is an error
/// with Django's own reason, after migguard's findings.
#[test]
fn check_django_reports_why_django_refused() {
    let dir = project_copy("conflict");
    let root = dir.path().to_str().unwrap().to_owned();
    let out = migguard(
        &["check", "--django", "--python", &python(), &root],
        dir.path(),
        Some(2),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("conflicting-migrations"), "{stdout}");
    assert!(
        stderr.contains("CommandError: Conflicting migrations detected"),
        "{stderr}"
    );

    let out = migguard(
        &["check", "--django", "--python", "no-such-python", &root],
        dir.path(),
        Some(2),
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot run no-such-python"),
        "{}",
        describe(&out)
    );
}

/// `check --audit` judges every suppression once, against every rule: one
/// that silences a graph rule's finding is used, not reported unused.
#[test]
fn a_working_suppression_of_a_graph_rule_is_not_called_unused() {
    let dir = project_copy("basic");
    let file = dir.path().join("blog/migrations/0002_post_slug.py");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "        ('blog', '0001_initial'),\n",
        "        ('blog', '0001_initial'),\n        ('blog', '0000_ghost'),  # migguard: ignore[missing-dependency]\n",
    );
    std::fs::write(&file, text).unwrap();
    let root = dir.path().to_str().unwrap();
    let out = migguard(
        &["check", "--audit", "--format", "json", root],
        dir.path(),
        None,
    );
    let json = stdout_json(&out);
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .filter(|d| d["path"] == "blog/migrations/0002_post_slug.py")
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(!codes.contains(&"MG005"), "{codes:?}\n{json}");
    assert!(!codes.contains(&"MG101"), "{codes:?}");
    // The same comment on a line with nothing to silence is unused.
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("('blog', '0000_ghost'),  # migguard", "# migguard");
    std::fs::write(&file, text).unwrap();
    let json = stdout_json(&migguard(
        &["check", "--audit", "--format", "json", root],
        dir.path(),
        None,
    ));
    assert!(json.to_string().contains("MG005"), "{json}");
}

#[test]
fn check_reads_libraries_from_the_projects_virtualenv() {
    // A model on a library's abstract base: unknown without the library,
    // compared once `.venv` has it, as in a developer's checkout.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "manage.py",
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
    );
    write("config/__init__.py", "");
    write("config/settings.py", "INSTALLED_APPS = ['notes']\n");
    write("notes/__init__.py", "");
    write(
        "notes/models.py",
        "from django.db import models\nfrom stamps.base import TimeStamped\n\nclass Note(TimeStamped):\n    text = models.TextField(blank=True)\n",
    );
    write("notes/migrations/__init__.py", "");
    write(
        "notes/migrations/0001_initial.py",
        "from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel(\n            name='Note',\n            fields=[\n                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n                ('created', models.DateTimeField(auto_now_add=True)),\n                ('text', models.TextField()),\n            ],\n            options={'abstract': False},\n        ),\n    ]\n",
    );
    let check = || {
        let mut cmd = std::process::Command::new(migguard_bin("migguard"));
        cmd.args(["check", "--format", "json"])
            .current_dir(root)
            .env("NO_COLOR", "1")
            .env_remove("VIRTUAL_ENV");
        stdout_json(&run(&mut cmd, None))
    };
    let before = check();
    assert_eq!(before["summary"]["errors"], 0, "{before}");
    write(".venv/lib/python3.12/site-packages/stamps/__init__.py", "");
    write(
        ".venv/lib/python3.12/site-packages/stamps/base.py",
        "from django.db import models\n\nclass TimeStamped(models.Model):\n    created = models.DateTimeField(auto_now_add=True)\n\n    class Meta:\n        abstract = True\n",
    );
    let after = check();
    assert_eq!(after["summary"]["errors"], 1, "{after}");
    let finding = &after["diagnostics"].as_array().unwrap()[0];
    assert_eq!(finding["rule"], "missing-migration", "{after}");
    assert!(
        finding["message"].as_str().unwrap().contains("note.text"),
        "{finding}"
    );

    // Another virtualenv activated in the shell, whose `stamps` differs,
    // does not win over the project's own.
    let other = tempfile::tempdir().unwrap();
    let other_site = other.path().join("lib/python3.12/site-packages/stamps");
    std::fs::create_dir_all(&other_site).unwrap();
    std::fs::write(other_site.join("__init__.py"), "").unwrap();
    std::fs::write(
        other_site.join("base.py"),
        "from django.db import models

class TimeStamped(models.Model):
    stamp = models.IntegerField()

    class Meta:
        abstract = True
",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(migguard_bin("migguard"));
    cmd.args(["check", "--format", "json"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env("VIRTUAL_ENV", other.path());
    let activated = stdout_json(&run(&mut cmd, None));
    assert_eq!(
        activated["diagnostics"], after["diagnostics"],
        "{activated}"
    );
}
