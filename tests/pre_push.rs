//! The installed pre-push hook, fired by the real `git push` to a real
//! bare remote, on migrations made by real Django.

use std::path::Path;

use crate::support::git::{describe, GitRepo};
use crate::support::repo_root;

fn rules_project() -> std::path::PathBuf {
    repo_root().join("tests/fixtures/django/rules")
}

fn copy_tree(repo: &GitRepo, from: &Path, rel: &str, skip: &dyn Fn(&str) -> bool) {
    for entry in std::fs::read_dir(from.join(rel)).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if name == "__pycache__" || name.ends_with(".sqlite3") || skip(&child) {
            continue;
        }
        if entry.path().is_dir() {
            copy_tree(repo, from, &child, skip);
        } else {
            repo.write(&child, &std::fs::read_to_string(entry.path()).unwrap());
        }
    }
}

/// The rules fixture project with only its initial migrations, pushed to
/// a bare remote through the installed hook.
fn pushed_project() -> GitRepo {
    let repo = GitRepo::new();
    repo.install();
    copy_tree(&repo, &rules_project(), "", &|rel| {
        rel.starts_with("store/migrations/")
            && !rel.ends_with("__init__.py")
            && !rel.ends_with("0001_initial.py")
    });
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "project"]);
    let remote = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "main"]);
    assert!(
        out.status.success(),
        "the initial push passes: {}",
        describe(&out)
    );
    repo.git(&["remote", "set-head", "origin", "main"]);
    repo
}

/// Commit one file without the pre-commit hook. The fixture's `models.py`
/// is the state after all its migrations, so the early commits made here
/// would be held by pre-commit's `missing-migration` (tested on its own);
/// pre-push judges what is pushed however it was committed.
fn commit_file(repo: &GitRepo, path: &str, text: &str, message: &str) {
    repo.stage(path, text);
    repo.git(&["commit", "--no-verify", "-q", "-m", message]);
}

fn remote_head(repo: &GitRepo, branch: &str) -> String {
    let remote = repo.scratch("remote.git");
    let out = repo.git_status(&[
        "--git-dir",
        remote.to_str().unwrap(),
        "rev-parse",
        "--verify",
        "-q",
        &format!("refs/heads/{branch}"),
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(rules_project().join(rel)).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const REMOVE: &str = "store/migrations/0002_remove_legacy_code.py";

#[test]
fn an_unreviewed_remove_field_is_refused_until_reviewed() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("error[MG401]"), "{err}");
    assert!(
        err.contains("0002_remove_legacy_code.py:17"),
        "the frame points at the operation: {err}"
    );
    assert!(err.contains(&format!("migguard review {REMOVE}")), "{err}");
    // The suppression that matches nothing is reported too.
    assert!(err.contains("MG005 unused-suppression"), "{err}");
    assert_eq!(remote_head(&repo, "feature"), "", "the remote did not move");

    // Review it without a terminal, commit the record, push.
    let root = repo.root.to_str().unwrap().to_owned();
    let out = repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--note".as_ref(),
            "column unused since 2.3".as_ref(),
            "--path".as_ref(),
            root.as_ref(),
            REMOVE.as_ref(),
        ],
        Some(0),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Recorded 1 review"),
        "{}",
        describe(&out)
    );
    let record = std::fs::read_to_string(repo.root.join("migguard-reviews.toml")).unwrap();
    assert!(
        record.contains(REMOVE)
            && record.contains("remove-field")
            && record.contains("column unused since 2.3"),
        "{record}"
    );
    repo.git(&["add", "migguard-reviews.toml"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "review"]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        remote_head(&repo, "feature"),
        repo.git_stdout(&["rev-parse", "HEAD"]).trim()
    );

    // Editing the reviewed file voids the review.
    let edited = fixture(REMOVE).replace("# Generated by", "# Edited.\n# Generated by");
    commit_file(&repo, REMOVE, &edited, "edit the reviewed migration");
    let out = repo.git_status(&["push", "-q", "origin", "feature"]);
    assert!(
        !out.status.success(),
        "a changed file needs a new review: {}",
        describe(&out)
    );
    assert!(stderr(&out).contains("error[MG401]"));
}

#[test]
fn tags_deletions_and_branches_without_migrations_are_silent() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "docs"]);
    commit_file(&repo, "README.md", "docs\n", "docs only");
    let out = repo.git_status(&["push", "-q", "-u", "origin", "docs"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        stderr(&out),
        "",
        "nothing to say about a branch without migrations"
    );

    repo.git(&["tag", "v1"]);
    let out = repo.git_status(&["push", "-q", "origin", "v1"]);
    assert!(
        out.status.success() && stderr(&out).is_empty(),
        "{}",
        describe(&out)
    );

    // A tag on an unreviewed destructive commit is not a branch push either.
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    repo.git(&["tag", "v2"]);
    let out = repo.git_status(&["push", "-q", "origin", "v2"]);
    assert!(out.status.success(), "{}", describe(&out));

    let out = repo.git_status(&["push", "-q", "origin", "--delete", "docs"]);
    assert!(
        out.status.success() && stderr(&out).is_empty(),
        "{}",
        describe(&out)
    );
    assert_eq!(remote_head(&repo, "docs"), "");
}

#[test]
fn removing_what_the_same_push_added_is_not_flagged() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "experiment"]);
    let add = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0001_initial'),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name='product',\n            name='scratch',\n            field=models.IntegerField(null=True),\n        ),\n    ]\n";
    let remove = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0002_product_scratch'),\n    ]\n\n    operations = [\n        migrations.RemoveField(\n            model_name='product',\n            name='scratch',\n        ),\n    ]\n";
    commit_file(
        &repo,
        "store/migrations/0002_product_scratch.py",
        add,
        "add scratch",
    );
    commit_file(
        &repo,
        "store/migrations/0003_remove_product_scratch.py",
        remove,
        "remove scratch",
    );
    let out = repo.git_status(&["push", "-q", "-u", "origin", "experiment"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!stderr(&out).contains("MG401"), "{}", describe(&out));
}

#[test]
fn a_branch_behind_upstream_in_the_same_app_is_warned() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "late"]);
    let ours = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0001_initial'),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name='product',\n            name='colour',\n            field=models.CharField(max_length=20, null=True),\n        ),\n    ]\n";
    commit_file(
        &repo,
        "store/migrations/0002_product_colour.py",
        ours,
        "colour",
    );
    // Meanwhile main gains its own 0002 in the same app.
    repo.git(&["checkout", "-q", "main"]);
    commit_file(
        &repo,
        "store/migrations/0002_product_size.py",
        &ours.replace("colour", "size"),
        "size",
    );
    let out = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe(&out));
    repo.git(&["checkout", "-q", "late"]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "late"]);
    assert!(
        out.status.success(),
        "a warning does not block: {}",
        describe(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("MG305 upstream-migration-conflict"), "{err}");
    assert!(err.contains("0002_product_size"), "{err}");
}

/// A clean `git rebase main` of a branch whose `0002_*` extends the same
/// parent as main's: no file conflicts, yet the pushed tip has two leaves
/// and Django's `migrate` refuses it. The push is warned, not blocked.
#[test]
fn a_pushed_tip_with_two_leaves_is_warned() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "late"]);
    let ours = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0001_initial'),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name='product',\n            name='colour',\n            field=models.CharField(max_length=20, null=True),\n        ),\n    ]\n";
    commit_file(
        &repo,
        "store/migrations/0002_product_colour.py",
        ours,
        "colour",
    );
    repo.git(&["checkout", "-q", "main"]);
    commit_file(
        &repo,
        "store/migrations/0002_product_size.py",
        &ours.replace("colour", "size"),
        "size",
    );
    let out = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe(&out));
    repo.git(&["checkout", "-q", "late"]);
    repo.git(&["rebase", "-q", "main"]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "late"]);
    assert!(
        out.status.success(),
        "a warning does not block: {}",
        describe(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("conflicting-migrations"), "{err}");
    assert!(err.contains("0002_product_colour"), "{err}");
    assert!(err.contains("0002_product_size"), "{err}");
    assert!(err.contains("migguard merge store"), "{err}");

    // main itself, pushed again with nothing of ours, is not warned about.
    repo.git(&["checkout", "-q", "main"]);
    commit_file(&repo, "README.md", "docs\n", "docs");
    let out = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !stderr(&out).contains("conflicting-migrations"),
        "{}",
        describe(&out)
    );
}

/// A feature branch that merges main carries main's migrations: they are on
/// the remote already, reviewed or not, and this push does not add them.
#[test]
fn migrations_merged_in_from_the_remote_are_not_this_pushs() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit_file(&repo, "README.md", "feature\n", "docs");
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(out.status.success(), "{}", describe(&out));

    // main gains an unreviewed RemoveField, pushed past the hook.
    repo.git(&["checkout", "-q", "main"]);
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    let out = repo.git_status(&["push", "-q", "--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{}", describe(&out));

    repo.git(&["checkout", "-q", "feature"]);
    // Past pre-merge-commit, as `commit_file` is past pre-commit: the
    // fixture's models.py is ahead of these early migrations.
    repo.git(&["merge", "-q", "--no-edit", "--no-verify", "main"]);
    let out = repo.git_status(&["push", "-q", "origin", "feature"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!stderr(&out).contains("MG401"), "{}", describe(&out));

    // The branch's own destructive migration after the merge is still judged.
    let drop = "store/migrations/0003_remove_product_sku.py";
    let text = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0002_remove_legacy_code'),\n    ]\n\n    operations = [\n        migrations.RemoveField(\n            model_name='product',\n            name='sku',\n        ),\n    ]\n";
    commit_file(&repo, drop, text, "remove sku");
    let out = repo.git_status(&["push", "-q", "origin", "feature"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("0003_remove_product_sku.py"), "{err}");
    assert!(!err.contains("0002_remove_legacy_code.py:"), "{err}");
}

/// A pushed migration that does not parse cannot be reviewed: it blocks,
/// with its location, until fixed.
#[test]
fn a_pushed_migration_that_does_not_parse_blocks() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "broken"]);
    let path = "store/migrations/0002_half_written.py";
    commit_file(
        &repo,
        path,
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration:\n    operations = []\n",
        "half written",
    );
    let out = repo.git_status(&["push", "-q", "-u", "origin", "broken"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG001"), "{err}");
    assert!(err.contains(&format!("{path}:4:")), "{err}");
    assert!(err.contains("cannot read"), "{err}");
    assert_eq!(remote_head(&repo, "broken"), "");
}

/// A review file migguard cannot read (not UTF-8) is never written over:
/// the reviews in it would be lost.
#[test]
fn review_never_writes_over_a_review_file_it_cannot_read() {
    let repo = pushed_project();
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    let file = repo.root.join("migguard-reviews.toml");
    let unreadable = b"# r\xe9views kept by hand\n".to_vec();
    std::fs::write(&file, &unreadable).unwrap();
    let root = repo.root.to_str().unwrap().to_owned();
    let out = repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--path".as_ref(),
            root.as_ref(),
            REMOVE.as_ref(),
        ],
        Some(2),
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read(&file).unwrap(), unreadable);
}

/// Under `core.autocrlf=true` the working tree has CRLF and the pushed blob
/// LF: a review binds the content git stores, so the push it was made for
/// goes through, and `check --since` sees the committed file unchanged.
#[test]
fn a_review_matches_the_pushed_file_under_autocrlf() {
    let repo = pushed_project();
    repo.git(&["config", "core.autocrlf", "true"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit_file(
        &repo,
        REMOVE,
        &fixture(REMOVE).replace('\n', "\r\n"),
        "remove legacy_code",
    );
    assert!(
        std::fs::read(repo.root.join(REMOVE))
            .unwrap()
            .contains(&b'\r'),
        "the working tree keeps CRLF"
    );
    assert!(
        !repo
            .git(&["cat-file", "-p", &format!("HEAD:{REMOVE}")])
            .stdout
            .contains(&b'\r'),
        "the commit holds LF"
    );
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(!out.status.success(), "{}", describe(&out));

    let root = repo.root.to_str().unwrap().to_owned();
    let out = repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--path".as_ref(),
            root.as_ref(),
            REMOVE.as_ref(),
        ],
        Some(0),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Recorded 1 review"),
        "{}",
        describe(&out)
    );
    repo.git(&["add", "migguard-reviews.toml"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "review"]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(
        out.status.success(),
        "the review matches the pushed blob: {}",
        describe(&out)
    );

    // Nothing changed since HEAD: the CRLF working tree file is what HEAD holds.
    let out = repo.migguard(
        &[
            "check".as_ref(),
            "--since".as_ref(),
            "HEAD".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            root.as_ref(),
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("MG401"), "{}", describe(&out));
    // Against the upstream branch, the review command offers only the new file.
    let out = repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--path".as_ref(),
            root.as_ref(),
        ],
        Some(0),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(REMOVE), "{}", describe(&out));
    assert!(
        !text.contains("0001_initial"),
        "the initial migration is upstream as it is: {}",
        describe(&out)
    );
}

/// The rules project moved to `proj/` of the repository, `0002` (adds a
/// column) pushed on `main`, and `feature` (checked out) removing it in
/// `0003`, whose push the hook refused: the repository, the refused push,
/// and the two migrations' repository paths.
fn subdirectory_project() -> (GitRepo, std::process::Output, &'static str, &'static str) {
    let repo = GitRepo::new();
    repo.install();
    copy_tree(&repo, &rules_project(), "", &|rel| {
        rel.starts_with("store/migrations/")
            && !rel.ends_with("__init__.py")
            && !rel.ends_with("0001_initial.py")
    });
    let proj = repo.root.join("proj");
    std::fs::create_dir(&proj).unwrap();
    for entry in std::fs::read_dir(&repo.root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name != "proj" && name != ".git" {
            std::fs::rename(entry.path(), proj.join(&name)).unwrap();
        }
    }
    let add = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0001_initial'),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name='product',\n            name='scratch',\n            field=models.IntegerField(null=True),\n        ),\n    ]\n";
    let remove = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0002_product_scratch'),\n    ]\n\n    operations = [\n        migrations.RemoveField(\n            model_name='product',\n            name='scratch',\n        ),\n    ]\n";
    let (added, removed) = (
        "proj/store/migrations/0002_product_scratch.py",
        "proj/store/migrations/0003_remove_product_scratch.py",
    );
    repo.write(added, add);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "project"]);
    let remote = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "main"]);
    assert!(out.status.success(), "{}", describe(&out));
    repo.git(&["remote", "set-head", "origin", "main"]);

    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit_file(&repo, removed, remove, "remove scratch");
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(
        !out.status.success() && stderr(&out).contains("MG401"),
        "the deployed column's removal needs a review: {}",
        describe(&out)
    );
    (repo, out, added, removed)
}

/// `migguard review FILE...` in a project below the top of the repository
/// compares with the upstream branch at the project's directory: a
/// migration already upstream is not taken for one this branch creates.
#[test]
fn review_of_a_project_in_a_subdirectory_knows_what_is_upstream() {
    let (repo, _, added, removed) = subdirectory_project();
    let proj = repo.root.join("proj");
    let out = repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--path".as_ref(),
            proj.as_os_str(),
            added.as_ref(),
            removed.as_ref(),
        ],
        Some(0),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Reviewed store/migrations/0003_remove_product_scratch.py"),
        "0002 is upstream, so 0003 destroys deployed data: {}",
        describe(&out)
    );
    repo.git(&["add", "proj/migguard-reviews.toml"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "review"]);
    let out = repo.git_status(&["push", "-q", "origin", "feature"]);
    assert!(out.status.success(), "{}", describe(&out));
}

const COLOUR: &str = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('store', '0001_initial'),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name='product',\n            name='colour',\n            field=models.CharField(max_length=20, null=True),\n        ),\n    ]\n";

/// The remote's default branch is `team/main`: pushing `main` is not
/// pushing the upstream branch (its name is not cut at its last `/`), so
/// the migrations `team/main` gained are compared.
#[test]
fn an_upstream_branch_with_a_slash_is_not_taken_for_its_last_part() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "team/main"]);
    commit_file(
        &repo,
        "store/migrations/0002_product_size.py",
        &COLOUR.replace("colour", "size"),
        "size",
    );
    let out = repo.git_status(&["push", "-q", "--no-verify", "origin", "team/main"]);
    assert!(out.status.success(), "{}", describe(&out));
    repo.git(&["remote", "set-head", "origin", "team/main"]);

    repo.git(&["checkout", "-q", "main"]);
    commit_file(
        &repo,
        "store/migrations/0002_product_colour.py",
        COLOUR,
        "colour",
    );
    let out = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("MG305 upstream-migration-conflict"), "{err}");
    assert!(err.contains("0002_product_size"), "{err}");
}

/// A configured upstream that names nothing git knows is said in one line.
#[test]
fn a_configured_upstream_that_does_not_resolve_is_said() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "late"]);
    commit_file(
        &repo,
        "pyproject.toml",
        "[tool.migguard]\nupstream = \"origin/nope\"\n",
        "configure",
    );
    commit_file(
        &repo,
        "store/migrations/0002_product_colour.py",
        COLOUR,
        "colour",
    );
    let out = repo.git_status(&["push", "-q", "-u", "origin", "late"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = stderr(&out);
    let said: Vec<&str> = err.lines().filter(|l| l.contains("origin/nope")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(said[0].contains("does not resolve"), "{err}");
}

/// `check --since` in CI judges a pushed branch as pre-push did: a
/// finding reviewed for the file's current content is not reported, in
/// any format; editing the file brings it back.
#[test]
fn check_since_drops_reviewed_findings_as_pre_push_does() {
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    let root = repo.root.to_str().unwrap().to_owned();
    let check = |format: &str, code: Option<i32>| {
        let out = repo.migguard(
            &[
                "check".as_ref(),
                "--since".as_ref(),
                "origin/main".as_ref(),
                "--format".as_ref(),
                format.as_ref(),
                root.as_ref(),
            ],
            code,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for format in ["text", "json", "github", "sarif"] {
        assert!(check(format, Some(1)).contains("MG401"), "{format}");
    }
    repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--path".as_ref(),
            root.as_ref(),
            REMOVE.as_ref(),
        ],
        Some(0),
    );
    repo.git(&["add", "migguard-reviews.toml"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "review"]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(out.status.success(), "{}", describe(&out));
    for format in ["text", "json", "github", "sarif"] {
        // The fixture's models.py is ahead of its migrations (MG201): the
        // exit code is not this test's business, the review is.
        let stdout = check(format, None);
        assert!(!stdout.contains("MG401"), "{format}: {stdout}");
    }
    // Under core.autocrlf the working tree has CRLF line endings, git
    // stores LF: the review still covers the file, as it does for pre-push.
    repo.git(&["config", "core.autocrlf", "true"]);
    std::fs::write(
        repo.root.join(REMOVE),
        fixture(REMOVE).replace('\n', "\r\n"),
    )
    .unwrap();
    assert_eq!(
        repo.git_stdout(&["hash-object", REMOVE]),
        repo.git_stdout(&["rev-parse", &format!("HEAD:{REMOVE}")]),
        "git stores the CRLF file as the committed one"
    );
    let stdout = check("json", None);
    assert!(!stdout.contains("MG401"), "CRLF working tree: {stdout}");
    repo.git(&["config", "core.autocrlf", "false"]);
    std::fs::write(repo.root.join(REMOVE), fixture(REMOVE)).unwrap();
    let edited = fixture(REMOVE).replace("# Generated by", "# Edited.\n# Generated by");
    commit_file(&repo, REMOVE, &edited, "edit the reviewed migration");
    assert!(check("json", Some(1)).contains("MG401"));
}

/// Two branches each review a different migration: the review file's
/// lines are whole reviews and `migguard install` gave it a union merge,
/// so the real `git merge` keeps both without a conflict, and both
/// reviews still count.
#[test]
fn reviews_of_two_branches_merge_without_conflict() {
    const DELETE: &str = "store/migrations/0003_delete_coupon_add_description.py";
    let repo = pushed_project();
    let attributes = std::fs::read_to_string(repo.root.join(".gitattributes")).unwrap();
    assert!(
        attributes.contains("migguard-reviews.toml merge=union"),
        "{attributes}"
    );
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    commit_file(&repo, DELETE, &fixture(DELETE), "delete coupon");
    repo.git(&["branch", "other"]);
    let root = repo.root.to_str().unwrap().to_owned();
    for (branch, file) in [("main", REMOVE), ("other", DELETE)] {
        repo.git(&["checkout", "-q", branch]);
        repo.migguard(
            &[
                "review".as_ref(),
                "--yes".as_ref(),
                "--path".as_ref(),
                root.as_ref(),
                file.as_ref(),
            ],
            Some(0),
        );
        repo.git(&["add", "migguard-reviews.toml"]);
        repo.git(&["commit", "--no-verify", "-q", "-m", "review"]);
    }
    repo.git(&["checkout", "-q", "main"]);
    // The errors `check --since` still reports on the two files.
    let errors = || -> Vec<serde_json::Value> {
        let out = repo.migguard(
            &[
                "check".as_ref(),
                "--since".as_ref(),
                "origin/main".as_ref(),
                "--format".as_ref(),
                "json".as_ref(),
                root.as_ref(),
            ],
            None,
        );
        assert!(stderr(&out).is_empty(), "{}", describe(&out));
        crate::support::stdout_json(&out)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["path"] == REMOVE || d["path"] == DELETE)
            .filter(|d| d["severity"] == "error")
            .cloned()
            .collect()
    };
    let before = errors();
    assert!(
        !before.is_empty() && before.iter().all(|d| d["path"] == DELETE),
        "main reviewed only {REMOVE}: {before:?}"
    );
    let out = repo.git_status(&["merge", "--no-verify", "--no-edit", "other"]);
    assert!(out.status.success(), "{}", describe(&out));
    let merged = std::fs::read_to_string(repo.root.join("migguard-reviews.toml")).unwrap();
    assert!(
        merged.contains(REMOVE) && merged.contains(DELETE) && !merged.contains("<<<<<<<"),
        "{merged}"
    );
    let after = errors();
    assert!(
        after.is_empty(),
        "both reviews count after the merge: {after:?}"
    );
}

/// `review --yes` without files reviews what differs from upstream but
/// keeps a review that still covers its file (reviewer, date, note); a
/// file named on the command line is reviewed again.
#[test]
fn review_without_files_keeps_reviews_that_still_cover_their_file() {
    const DELETE: &str = "store/migrations/0003_delete_coupon_add_description.py";
    let repo = pushed_project();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    commit_file(&repo, REMOVE, &fixture(REMOVE), "remove legacy_code");
    let root = repo.root.to_str().unwrap().to_owned();
    let review = |note: &str, files: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "review".as_ref(),
            "--yes".as_ref(),
            "--note".as_ref(),
            note.as_ref(),
            "--path".as_ref(),
            root.as_ref(),
        ];
        args.extend(files.iter().map(|f| std::ffi::OsStr::new(*f)));
        let out = repo.migguard(&args, Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line_of = |path: &str| -> String {
        std::fs::read_to_string(repo.root.join("migguard-reviews.toml"))
            .unwrap()
            .lines()
            .find(|l| l.contains(path))
            .unwrap_or_default()
            .to_owned()
    };
    // Without a terminal and without --yes: an error while something
    // needs a review, nothing to do once everything is reviewed.
    let unattended = |code: i32| {
        let out = repo.migguard(
            &["review".as_ref(), "--path".as_ref(), root.as_ref()],
            Some(code),
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    assert!(unattended(2).contains("not a terminal"));
    review("first look", &[REMOVE]);
    let said = unattended(0);
    assert!(
        said.contains(&format!("{REMOVE}: already reviewed by")),
        "{said}"
    );
    commit_file(&repo, DELETE, &fixture(DELETE), "delete coupon");
    let stdout = review("second look", &[]);
    assert!(
        stdout.contains(&format!("{REMOVE}: already reviewed by")),
        "{stdout}"
    );
    assert!(
        line_of(REMOVE).contains("first look"),
        "{}",
        line_of(REMOVE)
    );
    assert!(
        line_of(DELETE).contains("second look"),
        "{}",
        line_of(DELETE)
    );
    review("third look", &[REMOVE]);
    assert!(
        line_of(REMOVE).contains("third look"),
        "{}",
        line_of(REMOVE)
    );
}

/// The project lies in `proj/`, the hooks at the top: pre-push prints
/// paths from the top, and the `migguard review` command it prints works
/// as printed from there, or from inside the project, writing the one
/// review file pre-push reads.
#[test]
fn the_review_command_pre_push_prints_works_where_git_push_runs() {
    let (repo, refused, _, removed) = subdirectory_project();
    let err = stderr(&refused);
    assert!(err.contains(&format!("--> {removed}:")), "{err}");
    let command = err
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("migguard review "))
        .unwrap_or_else(|| panic!("no review command: {err}"));
    assert_eq!(command, format!("migguard review {removed}"));

    // As printed, at the top of the work tree.
    let out = repo.migguard(
        &[
            "review".as_ref(),
            "--yes".as_ref(),
            "--note".as_ref(),
            "from the top".as_ref(),
            removed.as_ref(),
        ],
        Some(0),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Reviewed store/migrations/0003_remove_product_scratch.py"),
        "{}",
        describe(&out)
    );
    assert!(!repo.root.join("migguard-reviews.toml").exists());
    let file = repo.root.join("proj/migguard-reviews.toml");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("from the top"));

    // From a directory inside the project, with the path from the top.
    let mut inside = repo.command(crate::support::migguard_bin("migguard"));
    inside.current_dir(repo.root.join("proj/store")).args([
        "review",
        "--yes",
        "--note",
        "from inside",
        removed,
    ]);
    let out = crate::support::run(&mut inside, Some(0));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("from inside"),
        "{}",
        describe(&out)
    );
    assert!(!repo.root.join("proj/store/migguard-reviews.toml").exists());

    repo.git(&["add", "proj/migguard-reviews.toml"]);
    repo.git(&["commit", "--no-verify", "-q", "-m", "review"]);
    let out = repo.git_status(&["push", "-q", "-u", "origin", "feature"]);
    assert!(out.status.success(), "{}", describe(&out));

    // CI annotations and code scanning name files from the top too.
    let proj = repo.root.join("proj");
    let check = |format: &str| {
        let out = repo.migguard(
            &[
                "check".as_ref(),
                "--since".as_ref(),
                "main".as_ref(),
                "--format".as_ref(),
                format.as_ref(),
                proj.as_os_str(),
            ],
            None,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let github = check("github");
    assert!(
        github.contains("file=proj/store/") && !github.contains("file=store/"),
        "{github}"
    );
    let sarif: serde_json::Value = serde_json::from_str(&check("sarif")).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(
        !uris.is_empty() && uris.iter().all(|u| u.starts_with("proj/")),
        "{uris:?}"
    );
}
