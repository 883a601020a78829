//! The installed pre-commit hook, fired by the real `git commit` on a
//! Django project made by real Django.

use std::path::Path;

use crate::support::fixture_project;
use crate::support::git::{describe, GitRepo};

/// Copy a fixture project into the repository, leaving out some files.
fn copy_project(repo: &GitRepo, project: &str, leave_out: &[&str]) {
    let from = fixture_project(project);
    for entry in walk(&from) {
        let rel = entry
            .strip_prefix(&from)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if leave_out.contains(&rel.as_str())
            || rel.contains("__pycache__")
            || rel.ends_with(".sqlite3")
        {
            continue;
        }
        repo.write(&rel, &std::fs::read_to_string(&entry).unwrap());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn fixture_file(project: &str, rel: &str) -> String {
    std::fs::read_to_string(fixture_project(project).join(rel)).unwrap()
}

const SECOND_LEAF: &str = "inventory/migrations/0002_b_item_weight.py";
const OTHER_CONFLICT: &str = "orders/migrations/0002_add_billing_address_to_order.py";
const ITEM_MODELS: &str = "inventory/models.py";
const WEIGHT: &str =
    "    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True)\n";

/// The `conflict` project's `models.py` without the lines its left-out
/// migrations add: the models of the branch before the conflict.
fn without_line(project: &str, rel: &str, line: &str) -> String {
    let text = fixture_file(project, rel);
    assert!(text.contains(line), "{rel} has {line:?}");
    text.replace(line, "")
}

/// A repository holding the `conflict` project without its conflicting
/// files (and the model fields they add), committed through the installed
/// hook.
fn clean_project() -> GitRepo {
    let repo = GitRepo::new();
    repo.install();
    copy_project(&repo, "conflict", &[SECOND_LEAF, OTHER_CONFLICT]);
    repo.write(ITEM_MODELS, &without_line("conflict", ITEM_MODELS, WEIGHT));
    repo.write(
        "orders/models.py",
        &without_line(
            "conflict",
            "orders/models.py",
            "    billing_address = models.TextField(blank=True, default=\"\")\n",
        ),
    );
    repo.git(&["add", "-A"]);
    let out = repo.git_status(&["commit", "-q", "-m", "project"]);
    assert!(
        out.status.success(),
        "the first commit of a clean project passes: {}",
        describe(&out)
    );
    assert_eq!(repo.commit_count(), 1);
    repo
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_second_leaf_is_blocked_until_merged() {
    let repo = clean_project();
    repo.stage(SECOND_LEAF, &fixture_file("conflict", SECOND_LEAF));
    repo.stage(ITEM_MODELS, &fixture_file("conflict", ITEM_MODELS));
    let out = repo.git_status(&["commit", "-q", "-m", "second leaf"]);
    assert!(
        !out.status.success(),
        "a conflict must block: {}",
        describe(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("MG103 conflicting-migrations"), "{err}");
    assert!(err.contains("0002_a_item_sku, 0002_b_item_weight"), "{err}");
    assert!(err.contains("git commit --no-verify"), "{err}");
    assert_eq!(repo.commit_count(), 1, "nothing was committed");

    // The merge migration Django itself writes resolves it.
    let merge = "inventory/migrations/0003_merge_0002_a_item_sku_0002_b_item_weight.py";
    repo.stage(merge, &fixture_file("conflict_merged", merge));
    let out = repo.git_status(&["commit", "-q", "-m", "second leaf, merged"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn only_the_staged_version_is_judged() {
    let repo = clean_project();
    let path = "inventory/migrations/0003_item_note.py";
    let good = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('inventory', '0002_a_item_sku'),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name='item',\n            name='note',\n            field=models.TextField(default=''),\n        ),\n    ]\n";
    let broken = good.replace("model_name='item',", "model_name='item'");

    // A syntax error that is staged blocks, naming the file and line.
    repo.stage(path, &broken);
    let out = repo.git_status(&["commit", "-q", "-m", "broken"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG001 syntax-error"), "{err}");
    assert!(
        err.contains(&format!("{path}:13:")),
        "the error's line is shown: {err}"
    );
    assert_eq!(repo.commit_count(), 1);

    // The good version staged and the broken one only in the working tree:
    // the commit records the good one (and the model field it adds) and passes.
    let models = without_line("conflict", ITEM_MODELS, WEIGHT);
    repo.stage(
        ITEM_MODELS,
        &format!("{models}    note = models.TextField(default='')\n"),
    );
    repo.stage(path, good);
    repo.write(path, &broken);
    let out = repo.git_status(&["commit", "-q", "-m", "good"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(repo.commit_count(), 2);
    let committed = repo.git_stdout(&["show", &format!("HEAD:{path}")]);
    assert!(committed.contains("model_name='item',"));
}

#[test]
fn commit_all_is_judged_through_gits_temporary_index() {
    let repo = clean_project();
    let path = "inventory/migrations/0001_initial.py";
    let text = fixture_file("conflict", path);
    repo.write(
        path,
        &text.replace(
            "class Migration(migrations.Migration):",
            "class Migration(migrations.Migration)",
        ),
    );
    // Not staged: `git commit -a` stages it into a temporary index.
    let out = repo.git_status(&["commit", "-a", "-q", "-m", "all"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("MG001 syntax-error"),
        "{}",
        describe(&out)
    );
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn editing_an_upstream_migration_warns_but_passes() {
    let repo = clean_project();
    let remote = repo.scratch("remote.git");
    let remote = remote.to_str().unwrap();
    repo.git(&["init", "-q", "--bare", remote]);
    repo.git(&["remote", "add", "origin", remote]);
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    repo.git(&["remote", "set-head", "origin", "main"]);

    let path = "inventory/migrations/0001_initial.py";
    let edited = fixture_file("conflict", path)
        .replace("# Generated by", "# Edited after the fact.\n# Generated by");
    repo.stage(path, &edited);
    let out = repo.git_status(&["commit", "-q", "-m", "edit upstream migration"]);
    assert!(
        out.status.success(),
        "a warning does not block: {}",
        describe(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("MG304 edited-upstream-migration"), "{err}");
    assert!(
        err.contains("exists on origin/main and is modified"),
        "{err}"
    );
    assert_eq!(repo.commit_count(), 2);

    // A migration that is not upstream yet can be edited silently.
    let new = "inventory/migrations/0003_item_note.py";
    let text = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('inventory', '0002_a_item_sku')]\n    operations = []\n";
    repo.commit_file(new, text, "local migration");
    repo.stage(
        new,
        &text.replace("operations = []", "operations = []  # nothing yet"),
    );
    let out = repo.git_status(&["commit", "-q", "-m", "edit local migration"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !stderr(&out).contains("edited-upstream-migration"),
        "{}",
        describe(&out)
    );
}

#[test]
fn an_automatic_name_warns_without_blocking() {
    let repo = clean_project();
    let path = "inventory/migrations/0003_auto_20240101_1200.py";
    repo.stage(
        path,
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('inventory', '0002_a_item_sku')]\n    operations = []\n",
    );
    let out = repo.git_status(&["commit", "-q", "-m", "auto"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("MG504 auto-named-migration"),
        "{}",
        describe(&out)
    );
}

#[test]
fn configuration_in_pyproject_changes_what_blocks() {
    let repo = clean_project();
    repo.commit_file(
        "pyproject.toml",
        "[tool.migguard.severity]\nconflicting-migrations = \"warning\"\n",
        "configure",
    );
    repo.stage(SECOND_LEAF, &fixture_file("conflict", SECOND_LEAF));
    repo.stage(ITEM_MODELS, &fixture_file("conflict", ITEM_MODELS));
    let out = repo.git_status(&["commit", "-q", "-m", "second leaf as a warning"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("warning[MG103"), "{}", describe(&out));

    // A misspelt key is an error naming it, and blocks (exit 2) with the way out.
    repo.stage(
        "pyproject.toml",
        "[tool.migguard]\nupstreem = \"origin/main\"\n",
    );
    let out = repo.git_status(&["commit", "-q", "-m", "typo"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("upstreem"), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
}

#[test]
fn migguard_merge_resolves_a_blocked_commit() {
    let repo = clean_project();
    repo.stage(SECOND_LEAF, &fixture_file("conflict", SECOND_LEAF));
    repo.stage(ITEM_MODELS, &fixture_file("conflict", ITEM_MODELS));
    let out = repo.git_status(&["commit", "-q", "-m", "second leaf"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let root = repo.root.to_str().unwrap().to_owned();
    crate::support::migguard(&["merge", "--path", &root], &repo.root, Some(0));
    repo.git(&["add", "-A"]);
    let out = repo.git_status(&["commit", "-q", "-m", "second leaf, merged by migguard"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn a_stale_max_migration_file_blocks() {
    let repo = clean_project();
    let root = repo.root.to_str().unwrap().to_owned();
    crate::support::migguard(&["lock", "--path", &root], &repo.root, Some(0));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "lock"]);
    let path = "inventory/migrations/0003_item_note.py";
    repo.stage(
        path,
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('inventory', '0002_a_item_sku')]\n    operations = []\n",
    );
    let out = repo.git_status(&["commit", "-q", "-m", "new migration, lock not updated"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG104 stale-max-migration"), "{err}");
    assert!(
        err.contains("names `0002_a_item_sku`, but the leaf is `0003_item_note`"),
        "{err}"
    );
    crate::support::migguard(&["lock", "--path", &root], &repo.root, Some(0));
    repo.git(&["add", "-A"]);
    let out = repo.git_status(&["commit", "-q", "-m", "locked"]);
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn the_first_commit_of_a_repository_is_checked() {
    let repo = GitRepo::new();
    repo.install();
    copy_project(&repo, "conflict", &[]);
    repo.git(&["add", "-A"]);
    let out = repo.git_status(&["commit", "-q", "-m", "first"]);
    assert!(
        !out.status.success(),
        "a conflicted first commit is blocked: {}",
        describe(&out)
    );
    assert!(stderr(&out).contains("MG103"), "{}", describe(&out));
    assert_eq!(repo.commit_count(), 0);
}

/// Item.weight as Django's `makemigrations` writes it (the `conflict`
/// fixture's `0002_b_item_weight`, re-based onto the branch's leaf).
fn weight_migration() -> String {
    fixture_file("conflict", SECOND_LEAF).replace("0001_initial", "0002_a_item_sku")
}

#[test]
fn a_model_change_without_its_migration_is_blocked() {
    let repo = clean_project();
    // The field is staged; its migration is not.
    repo.stage(ITEM_MODELS, &fixture_file("conflict", ITEM_MODELS));
    let out = repo.git_status(&["commit", "-q", "-m", "weight, no migration"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG201 missing-migration"), "{err}");
    assert!(
        err.contains("app `inventory` has model changes without a migration"),
        "{err}"
    );
    assert!(err.contains("field `item.weight` is new"), "{err}");
    assert!(
        err.contains("inventory/models.py:7:"),
        "the frame points at the field: {err}"
    );
    assert!(err.contains("makemigrations inventory"), "{err}");
    assert_eq!(repo.commit_count(), 1);

    // The migration only in the working tree does not count...
    let migration = "inventory/migrations/0003_item_weight.py";
    repo.write(migration, &weight_migration());
    let out = repo.git_status(&["commit", "-q", "-m", "weight, migration unstaged"]);
    assert!(!out.status.success(), "{}", describe(&out));
    // ...staged with the model, the commit passes.
    repo.git(&["add", migration]);
    let out = repo.git_status(&["commit", "-q", "-m", "weight"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(repo.commit_count(), 2);

    // An edit Django ignores (a method, a comment) needs no migration.
    let with_method = format!(
        "{}\n    def __str__(self):  # shown in the admin\n        return self.name\n",
        fixture_file("conflict", ITEM_MODELS)
    );
    repo.stage(ITEM_MODELS, &with_method);
    let out = repo.git_status(&["commit", "-q", "-m", "str"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !stderr(&out).contains("missing-migration"),
        "{}",
        describe(&out)
    );

    // A model change committed with --no-verify is not held against a
    // later commit that touches no Python; the next Python commit says it.
    let colour =
        format!("{with_method}    colour = models.CharField(max_length=10, default=\"\")\n");
    repo.stage(ITEM_MODELS, &colour);
    repo.git(&["commit", "--no-verify", "-q", "-m", "colour, bypassed"]);
    repo.stage("README.md", "shop\n");
    let out = repo.git_status(&["commit", "-q", "-m", "docs"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !stderr(&out).contains("missing-migration"),
        "{}",
        describe(&out)
    );
    repo.stage("inventory/admin.py", "from django.contrib import admin\n");
    let out = repo.git_status(&["commit", "-q", "-m", "admin"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("field `item.colour` is new"),
        "{}",
        describe(&out)
    );
}

/// A commit of docs or templates is not analysed at all: an earlier
/// `--no-verify` commit does not hold it up. The next Python commit does.
#[test]
fn a_commit_touching_no_python_is_not_held_up() {
    let repo = clean_project();
    repo.stage(SECOND_LEAF, &fixture_file("conflict", SECOND_LEAF));
    repo.stage(ITEM_MODELS, &fixture_file("conflict", ITEM_MODELS));
    repo.git(&["commit", "--no-verify", "-q", "-m", "second leaf, bypassed"]);
    repo.stage("docs/index.md", "# Shop\n");
    repo.stage("templates/base.html", "<html></html>\n");
    let out = repo.git_status(&["commit", "-q", "-m", "docs"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stderr(&out), "", "nothing to say");
    repo.stage("inventory/admin.py", "from django.contrib import admin\n");
    let out = repo.git_status(&["commit", "-q", "-m", "admin"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("MG103"), "{}", describe(&out));
}

/// A repository whose Django project is in a subdirectory: the hook finds
/// it (the directory of its manage.py, or `[tool.migguard] root`) and
/// honours the project's own pyproject.toml, as `migguard check` run there
/// does.
#[test]
fn a_project_in_a_subdirectory_is_judged_with_its_own_configuration() {
    let repo = GitRepo::new();
    repo.install();
    let from = fixture_project("conflict");
    for entry in walk(&from) {
        let rel = entry
            .strip_prefix(&from)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.contains("__pycache__") || rel.ends_with(".sqlite3") {
            continue;
        }
        repo.write(
            &format!("backend/{rel}"),
            &std::fs::read_to_string(&entry).unwrap(),
        );
    }
    repo.write("frontend/app.js", "console.log('shop')\n");
    repo.git(&["add", "-A"]);
    let out = repo.git_status(&["commit", "-q", "-m", "both leaves"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG103"), "{err}");
    assert!(
        err.contains(" inventory/migrations/0002_b_item_weight.py"),
        "paths are the project's: {err}"
    );

    repo.stage(
        "backend/pyproject.toml",
        "[tool.migguard.severity]\nconflicting-migrations = \"warning\"\n",
    );
    let out = repo.git_status(&["commit", "-q", "-m", "both leaves, configured"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("warning[MG103"), "{}", describe(&out));

    // `root` at the top names the project when manage.py is not enough
    // (here: a second manage.py as deep as the first).
    repo.stage("tools/manage.py", "# not Django\n");
    repo.stage("pyproject.toml", "[tool.migguard]\nroot = \"backend\"\n");
    repo.stage(
        "backend/inventory/admin.py",
        "from django.contrib import admin\n",
    );
    let out = repo.git_status(&["commit", "-q", "-m", "root"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("warning[MG103"), "{}", describe(&out));
}

/// Two branches that each add a `0002_*` to `inventory` merge without a
/// conflict in git, so git runs pre-merge-commit (not pre-commit) on the
/// result: it must block the merge commit like pre-commit blocks a commit.
#[test]
fn a_clean_git_merge_of_two_leaves_is_blocked_by_pre_merge_commit() {
    const FIRST_LEAF: &str = "inventory/migrations/0002_a_item_sku.py";
    const SKU: &str = "    sku = models.CharField(max_length=32, default=\"\")\n";
    const NAME: &str = "    name = models.CharField(max_length=100)\n";
    let repo = GitRepo::new();
    repo.install();
    copy_project(
        &repo,
        "conflict",
        &[FIRST_LEAF, SECOND_LEAF, OTHER_CONFLICT],
    );
    let base_models = without_line("conflict", ITEM_MODELS, WEIGHT).replace(SKU, "");
    repo.write(ITEM_MODELS, &base_models);
    repo.write(
        "orders/models.py",
        &without_line(
            "conflict",
            "orders/models.py",
            "    billing_address = models.TextField(blank=True, default=\"\")\n",
        ),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "project"]);

    // Each branch adds one field and its migration, each commit passing
    // pre-commit; the fields sit apart in models.py so git merges it.
    repo.git(&["checkout", "-q", "-b", "sku"]);
    repo.stage(ITEM_MODELS, &format!("{base_models}{SKU}"));
    repo.stage(FIRST_LEAF, &fixture_file("conflict", FIRST_LEAF));
    repo.git(&["commit", "-q", "-m", "sku"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "weight"]);
    repo.stage(
        ITEM_MODELS,
        &base_models.replace(NAME, &format!("{WEIGHT}{NAME}")),
    );
    repo.stage(SECOND_LEAF, &fixture_file("conflict", SECOND_LEAF));
    repo.git(&["commit", "-q", "-m", "weight"]);
    repo.git(&["checkout", "-q", "sku"]);
    let sku_head = repo.git_stdout(&["rev-parse", "HEAD"]);

    let out = repo.git_status(&["merge", "--no-edit", "weight"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG103 conflicting-migrations"), "{err}");
    assert!(err.contains("0002_a_item_sku, 0002_b_item_weight"), "{err}");
    assert!(err.contains("git merge --no-verify"), "{err}");
    assert_eq!(
        repo.git_stdout(&["rev-parse", "HEAD"]),
        sku_head,
        "no merge commit was made"
    );

    // Finishing the merge by hand goes through pre-commit, which blocks it
    // too until Django's merge migration is added.
    let out = repo.git_status(&["commit", "-q", "--no-edit"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("MG103"), "{}", describe(&out));
    let merge = "inventory/migrations/0003_merge_0002_a_item_sku_0002_b_item_weight.py";
    repo.stage(merge, &fixture_file("conflict_merged", merge));
    let out = repo.git_status(&["commit", "-q", "--no-edit"]);
    assert!(out.status.success(), "{}", describe(&out));
    let parents = repo.git_stdout(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split(' ').count(), 3, "a merge commit: {parents}");

    // `git merge --no-verify` is the deliberate way past the hook.
    repo.git(&["reset", "-q", "--hard", &sku_head]);
    let out = repo.git_status(&["merge", "--no-verify", "--no-edit", "weight"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!stderr(&out).contains("MG103"), "{}", describe(&out));
    assert_ne!(repo.git_stdout(&["rev-parse", "HEAD"]), sku_head);
}

/// The parse cache is saved once a run is done: pruning a pack full of
/// stale entries keeps the models modules the run read after the
/// migrations, so the next run finds everything and writes nothing.
#[test]
fn a_pruned_parse_cache_keeps_the_models_modules() {
    let repo = GitRepo::new();
    copy_project(&repo, "basic", &[]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "project"]);
    repo.migguard(&["check".as_ref()], Some(0));
    let pack = repo.root.join(".git/migguard/cache/parse-v1.pack");
    let complete = std::fs::read_to_string(&pack).unwrap();
    let mut stale = complete.clone();
    for i in 0..3000 {
        stale.push_str(&format!("stale{i:05}\t{{}}\n"));
    }
    std::fs::write(&pack, stale).unwrap();

    repo.migguard(&["check".as_ref()], Some(0));
    let first = std::fs::read_to_string(&pack).unwrap();
    assert!(!first.contains("stale00000"), "stale entries were pruned");
    let keys = |pack: &str| -> Vec<String> {
        pack.lines()
            .skip(1)
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(keys(&first), keys(&complete), "what the run used was kept");
    repo.migguard(&["check".as_ref()], Some(0));
    let second = std::fs::read_to_string(&pack).unwrap();
    assert_eq!(
        keys(&first),
        keys(&second),
        "the second run had to parse again what the first pruned"
    );
}
