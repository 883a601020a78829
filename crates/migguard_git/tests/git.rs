//! The git adapters against real repositories made with the git CLI.

mod support;

use std::path::{Path, PathBuf};

use migguard_core::error::SourceError;
use migguard_core::source::{blob_id, ProjectSource};
use migguard_git::{
    changed_between, path_exists_at, staged_changes_with_index_file, Change, ChangeStatus,
    GitError, IndexSource, Oid, Repo, TreeSource,
};
use support::{Fixture, MIGRATION};

const PATH: &str = "blog/migrations/0001_initial.py";

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn text(source: &dyn ProjectSource, path: &str) -> String {
    String::from_utf8(source.read(path).expect("readable")).expect("utf-8")
}

fn change(status: ChangeStatus, old: Option<&str>, new: Option<&str>) -> Change {
    Change {
        status,
        old_path: old.map(str::to_owned),
        new_path: new.map(str::to_owned),
    }
}

#[test]
fn sources_and_cache_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<TreeSource>();
    check::<IndexSource>();
    check::<Repo>();
    check::<migguard_git::DiskCache>();
}

#[test]
fn tree_source_reads_the_commit_not_the_working_tree() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    fx.write("blog/models.py", "x = 1\n");
    fx.write(".venv/lib/site.py", "");
    fx.write("node_modules/pkg/index.py", "");
    fx.write("blog/__pycache__/x.py", "");
    fx.write("env/pyvenv.cfg", "home = /usr\n");
    fx.write("env/lib/mod.py", "");
    fx.write(".github/workflows/ci.yml", "");
    fx.write(".env", "SECRET=1\n");
    #[cfg(unix)]
    std::os::unix::fs::symlink("models.py", fx.root.join("blog/link.py")).expect("symlink");
    let head = fx.commit_all("one");
    fx.write(PATH, "# v2, not committed\n");
    fx.write("blog/new.py", "untracked\n");

    let repo = Repo::open(&fx.root).expect("repo");
    let source = TreeSource::at(&repo, "HEAD", "").expect("tree");
    assert_eq!(text(&source, PATH), "# v1\n");
    assert_eq!(
        source.list().expect("list"),
        vec![".env", "blog/migrations/0001_initial.py", "blog/models.py"]
    );
    assert_eq!(
        source.content_id(PATH),
        Some(fx.git(&["rev-parse", &format!("HEAD:{PATH}")]))
    );
    assert_eq!(source.content_id(PATH), Some(blob_id(b"# v1\n")));
    assert_eq!(source.content_id("blog/new.py"), None);
    assert!(matches!(
        source.read("blog/new.py"),
        Err(SourceError::Read { .. })
    ));
    assert_eq!(source.commit().to_string(), head);
    let describe = source.describe();
    assert!(
        describe.starts_with(&format!("commit {}", &head[..7])),
        "{describe}"
    );
    assert!(describe.ends_with(" (HEAD)"), "{describe}");
    let by_sha = TreeSource::at(&repo, &head, "").expect("by sha");
    assert_eq!(by_sha.describe(), format!("commit {}", &head[..7]));
}

#[test]
fn sources_restricted_to_a_prefix() {
    let fx = Fixture::new();
    fx.write(&format!("backend/{PATH}"), "# in backend\n");
    fx.write("backend/manage.py", "");
    fx.write("frontend/app.py", "");
    fx.write("backendish/x.py", "");
    fx.commit_all("one");

    let repo = Repo::open(&fx.root).expect("repo");
    for prefix in ["backend", "backend/", "./backend"] {
        let tree = TreeSource::at(&repo, "HEAD", prefix).expect("tree");
        assert_eq!(tree.list().expect("list"), vec![PATH, "manage.py"]);
        assert_eq!(text(&tree, PATH), "# in backend\n");
        let index = IndexSource::with_index_file(&repo, None, prefix).expect("index");
        assert_eq!(index.list().expect("list"), vec![PATH, "manage.py"]);
        assert_eq!(index.content_id(PATH), tree.content_id(PATH));
        // The project directory's name, as the working-tree source gives it
        // (the label of an app whose migrations/ sits at the project root).
        assert_eq!(tree.root_name().as_deref(), Some("backend"));
        assert_eq!(index.root_name().as_deref(), Some("backend"));
    }
    let top = TreeSource::at(&repo, "HEAD", "").expect("tree");
    assert_eq!(
        top.root_name(),
        migguard_core::source::WorkTree::new(&fx.root).root_name()
    );
    assert!(top.root_name().is_some());
    let missing = TreeSource::at(&repo, "HEAD", "nowhere").expect("tree");
    assert!(missing.list().expect("list").is_empty());
}

#[test]
fn index_source_sees_staged_not_unstaged_edits() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    fx.commit_all("one");
    fx.write(PATH, "# v2 staged\n");
    fx.git(&["add", PATH]);
    fx.write(PATH, "# v3 unstaged\n");
    fx.write("blog/untracked.py", "");
    fx.write("blog/intent.py", "x\n");
    fx.git(&["add", "-N", "blog/intent.py"]);

    let repo = Repo::open(&fx.root).expect("repo");
    let source = IndexSource::with_index_file(&repo, None, "").expect("index");
    assert_eq!(source.describe(), "the staging area");
    assert_eq!(text(&source, PATH), "# v2 staged\n");
    assert_eq!(
        source.content_id(PATH),
        Some(fx.git(&["rev-parse", &format!(":{PATH}")]))
    );
    assert_eq!(source.list().expect("list"), vec![PATH]);
}

#[test]
fn index_source_honours_a_separate_index_file() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    fx.commit_all("one");
    let alt = fx.sibling("alt-index");
    fx.git_env("GIT_INDEX_FILE", &alt, &["read-tree", "HEAD"]);
    fx.write(PATH, "# only in the other index\n");
    fx.write("blog/extra.py", "");
    fx.git_env("GIT_INDEX_FILE", &alt, &["add", PATH, "blog/extra.py"]);

    let repo = Repo::open(&fx.root).expect("repo");
    let default = IndexSource::with_index_file(&repo, None, "").expect("index");
    assert_eq!(text(&default, PATH), "# v1\n");
    let other = IndexSource::with_index_file(&repo, Some(&alt), "").expect("alt index");
    assert_eq!(text(&other, PATH), "# only in the other index\n");
    assert_eq!(other.list().expect("list"), vec!["blog/extra.py", PATH]);

    let changes = staged_changes_with_index_file(&repo, Some(&alt), "").expect("changes");
    assert_eq!(
        changes,
        vec![
            change(ChangeStatus::Added, None, Some("blog/extra.py")),
            change(ChangeStatus::Modified, Some(PATH), Some(PATH)),
        ]
    );
    assert!(staged_changes_with_index_file(&repo, None, "")
        .expect("changes")
        .is_empty());
}

#[test]
fn index_written_with_git_performance_options_is_readable() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    fx.commit_all("one");
    fx.git(&[
        "-c",
        "index.version=4",
        "-c",
        "index.skipHash=true",
        "update-index",
        "--index-version",
        "4",
    ]);
    fx.write(PATH, "# v2\n");
    fx.git(&[
        "-c",
        "index.version=4",
        "-c",
        "index.skipHash=true",
        "add",
        PATH,
    ]);

    let repo = Repo::open(&fx.root).expect("repo");
    let source = IndexSource::with_index_file(&repo, None, "").expect("index");
    assert_eq!(text(&source, PATH), "# v2\n");
}

#[test]
fn conflicted_paths_are_listed_once_and_not_read() {
    let fx = Fixture::new();
    fx.write(PATH, "base\n");
    fx.commit_all("base");
    fx.git(&["checkout", "-q", "-b", "other"]);
    fx.write(PATH, "theirs\n");
    fx.commit_all("theirs");
    fx.git(&["checkout", "-q", "main"]);
    fx.write(PATH, "ours\n");
    fx.commit_all("ours");
    let mut merge = support::git_command(fx.home(), &fx.root);
    merge.args(["merge", "-q", "other"]);
    let status = merge.output().expect("git runs").status;
    assert!(!status.success(), "the merge conflicts");

    let repo = Repo::open(&fx.root).expect("repo");
    let source = IndexSource::with_index_file(&repo, None, "").expect("index");
    assert_eq!(source.list().expect("list"), vec![PATH]);
    assert_eq!(source.content_id(PATH), None);
    match source.read(PATH) {
        Err(SourceError::Backend(message)) => assert!(message.contains(PATH), "{message}"),
        other => panic!("expected a conflict error, got {other:?}"),
    }
}

#[test]
fn staged_changes_detect_renames_and_deletions() {
    let fx = Fixture::new();
    let body = "from django.db import migrations\n\n".to_owned()
        + &"# a line that makes the file similar\n".repeat(20);
    fx.write("blog/migrations/0002_auto_20240101_1200.py", &body);
    fx.write("blog/migrations/0003_gone.py", "gone\n");
    fx.write("blog/models.py", "x = 1\n");
    let first = fx.commit_all("one");
    fx.git(&[
        "mv",
        "blog/migrations/0002_auto_20240101_1200.py",
        "blog/migrations/0002_add_title.py",
    ]);
    fx.git(&["rm", "-q", "blog/migrations/0003_gone.py"]);
    fx.write("blog/models.py", "x = 2\n");
    fx.write("blog/migrations/0004_new.py", MIGRATION);
    fx.git(&["add", "-A"]);

    let repo = Repo::open(&fx.root).expect("repo");
    let changes = staged_changes_with_index_file(&repo, None, "").expect("changes");
    let expected = vec![
        change(
            ChangeStatus::Renamed,
            Some("blog/migrations/0002_auto_20240101_1200.py"),
            Some("blog/migrations/0002_add_title.py"),
        ),
        change(
            ChangeStatus::Deleted,
            Some("blog/migrations/0003_gone.py"),
            None,
        ),
        change(
            ChangeStatus::Added,
            None,
            Some("blog/migrations/0004_new.py"),
        ),
        change(
            ChangeStatus::Modified,
            Some("blog/models.py"),
            Some("blog/models.py"),
        ),
    ];
    assert_eq!(changes, expected);

    // The same once committed, between the two commits.
    let second = fx.commit_all("two");
    let between = changed_between(
        &repo,
        Oid::from_str(&first).expect("oid"),
        Oid::from_str(&second).expect("oid"),
        "",
    )
    .expect("changes");
    assert_eq!(between, expected);
    // Restricted to a prefix, paths relative to it.
    let in_blog = changed_between(
        &repo,
        Oid::from_str(&first).expect("oid"),
        Oid::from_str(&second).expect("oid"),
        "blog/migrations",
    )
    .expect("changes");
    assert_eq!(in_blog.len(), 3);
    assert_eq!(in_blog[0].new_path.as_deref(), Some("0002_add_title.py"));

    let first = Oid::from_str(&first).expect("oid");
    assert!(path_exists_at(
        &repo,
        first,
        "blog/migrations/0003_gone.py",
        ""
    ));
    assert!(path_exists_at(
        &repo,
        first,
        "migrations/0003_gone.py",
        "blog"
    ));
    assert!(!path_exists_at(
        &repo,
        first,
        "blog/migrations/0004_new.py",
        ""
    ));
    assert!(!path_exists_at(&repo, first, "blog/migrations", ""));
    assert!(!path_exists_at(&repo, Oid::zero(), "blog/models.py", ""));
}

#[test]
fn first_commit_on_an_unborn_branch() {
    let fx = Fixture::new();
    fx.write(PATH, MIGRATION);
    fx.git(&["add", "-A"]);

    let repo = Repo::open(&fx.root).expect("repo");
    assert_eq!(repo.head_commit(), None);
    assert_eq!(repo.current_branch().as_deref(), Some("main"));
    assert_eq!(repo.upstream(None), None);
    let changes = staged_changes_with_index_file(&repo, None, "").expect("changes");
    assert_eq!(changes, vec![change(ChangeStatus::Added, None, Some(PATH))]);
    let source = IndexSource::with_index_file(&repo, None, "").expect("index");
    assert_eq!(text(&source, PATH), MIGRATION);
    match TreeSource::at(&repo, "HEAD", "") {
        Err(err @ GitError::Resolve { .. }) => assert!(err.to_string().contains("`HEAD`"), "{err}"),
        other => panic!("expected a resolve error, got {other:?}"),
    }
}

#[test]
fn revisions_and_branches() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    let first = fx.commit_all("one");
    fx.write(PATH, "# v2\n");
    let second = fx.commit_all("two");

    let repo = Repo::open(&fx.root).expect("repo");
    assert_eq!(
        repo.head_commit().map(|o| o.to_string()),
        Some(second.clone())
    );
    assert_eq!(repo.resolve("HEAD~1").expect("resolves").to_string(), first);
    assert_eq!(repo.resolve("main").expect("resolves").to_string(), second);
    let err = repo
        .resolve("no-such-branch")
        .expect_err("does not resolve");
    assert!(err.to_string().contains("`no-such-branch`"), "{err}");
    let tree_id = fx.git(&["rev-parse", "HEAD^{tree}"]);
    assert!(repo.resolve(&tree_id).is_err(), "a tree is not a commit");
    assert_eq!(
        text(&TreeSource::at(&repo, "HEAD~1", "").expect("tree"), PATH),
        "# v1\n"
    );
    assert_eq!(repo.current_branch().as_deref(), Some("main"));

    fx.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let repo = Repo::open(&fx.root).expect("repo");
    assert_eq!(repo.current_branch(), None);
    assert_eq!(repo.head_commit().map(|o| o.to_string()), Some(first));
}

#[test]
fn upstream_after_clone_and_without_remote() {
    let fx = Fixture::new();
    fx.write(PATH, MIGRATION);
    let commit = fx.commit_all("one");
    let lonely = Repo::open(&fx.root).expect("repo");
    assert_eq!(lonely.upstream(None), None);
    assert_eq!(lonely.upstream(Some("origin/main")), None);

    let bare = fx.sibling("origin.git");
    let clone = fx.sibling("clone");
    fx.git_in(
        fx.home(),
        &[
            "clone",
            "-q",
            "--bare",
            fx.root.to_str().expect("utf-8"),
            bare.to_str().expect("utf-8"),
        ],
    );
    fx.git_in(
        fx.home(),
        &[
            "clone",
            "-q",
            bare.to_str().expect("utf-8"),
            clone.to_str().expect("utf-8"),
        ],
    );

    let repo = Repo::open(&clone).expect("clone");
    let commit = Oid::from_str(&commit).expect("oid");
    assert_eq!(
        repo.upstream(None),
        Some(("origin/main".to_owned(), commit))
    );
    assert_eq!(
        repo.upstream(Some("origin/main")),
        Some(("origin/main".to_owned(), commit))
    );
    assert_eq!(
        repo.upstream(Some("refs/remotes/origin/main")),
        Some(("origin/main".to_owned(), commit))
    );
    assert_eq!(repo.upstream(Some("origin/nope")), None);

    // Without origin/HEAD, origin/main is found by name.
    fx.git_in(&clone, &["remote", "set-head", "origin", "-d"]);
    let repo = Repo::open(&clone).expect("clone");
    assert_eq!(
        repo.upstream(None),
        Some(("origin/main".to_owned(), commit))
    );
}

#[test]
fn directories_and_linked_worktrees() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    fx.commit_all("one");
    let sub = fx.root.join("blog");
    let repo = Repo::open(&sub).expect("discovered from a subdirectory");
    assert_eq!(
        repo.workdir().map(|p| canonical(&p)),
        Some(canonical(&fx.root))
    );
    assert_eq!(canonical(&repo.git_dir()), canonical(&fx.root.join(".git")));
    assert_eq!(
        canonical(&repo.common_dir()),
        canonical(&fx.root.join(".git"))
    );

    let git_hooks = |dir: &Path| {
        let mut command = std::process::Command::new("git");
        command
            .current_dir(dir)
            .args(["rev-parse", "--git-path", "hooks"]);
        for name in [
            "GIT_DIR",
            "GIT_INDEX_FILE",
            "GIT_WORK_TREE",
            "GIT_COMMON_DIR",
        ] {
            command.env_remove(name);
        }
        canonical(&dir.join(support::run(command)))
    };
    assert_eq!(canonical(&repo.hooks_dir()), git_hooks(&fx.root));
    fx.git(&["config", "core.hooksPath", "tools/hooks"]);
    std::fs::create_dir_all(fx.root.join("tools/hooks")).expect("mkdir");
    let repo = Repo::open(&fx.root).expect("repo");
    assert_eq!(
        canonical(&repo.hooks_dir()),
        canonical(&fx.root.join("tools/hooks"))
    );
    assert_eq!(canonical(&repo.hooks_dir()), git_hooks(&fx.root));
    fx.git(&["config", "--unset", "core.hooksPath"]);

    let wt = fx.sibling("wt");
    fx.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().expect("utf-8"),
    ]);
    std::fs::write(wt.join(PATH), "# v2 in the worktree\n").expect("write");
    fx.git_in(&wt, &["add", PATH]);
    let linked = Repo::open(&wt).expect("worktree");
    assert_eq!(
        canonical(&linked.common_dir()),
        canonical(&fx.root.join(".git"))
    );
    assert_eq!(
        canonical(&linked.git_dir()),
        canonical(&fx.root.join(".git/worktrees/wt"))
    );
    assert_eq!(
        canonical(&linked.hooks_dir()),
        canonical(&fx.root.join(".git/hooks"))
    );
    assert_eq!(canonical(&linked.hooks_dir()), git_hooks(&wt));
    assert_eq!(linked.current_branch().as_deref(), Some("feature"));
    let staged = IndexSource::with_index_file(&linked, None, "").expect("index");
    assert_eq!(text(&staged, PATH), "# v2 in the worktree\n");
    let main_index = IndexSource::with_index_file(&repo, None, "").expect("index");
    assert_eq!(text(&main_index, PATH), "# v1\n");
}

#[test]
fn not_a_repository() {
    let tmp = tempfile::TempDir::new().expect("tmp");
    let err = Repo::open(tmp.path()).expect_err("no repository");
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
}

#[test]
fn sources_serve_many_threads() {
    let fx = Fixture::new();
    for i in 0..50 {
        fx.write(&format!("blog/migrations/{i:04}_m.py"), &format!("# {i}\n"));
    }
    fx.commit_all("many");
    let repo = Repo::open(&fx.root).expect("repo");
    let source = TreeSource::at(&repo, "HEAD", "").expect("tree");
    let files = source.list().expect("list");
    std::thread::scope(|scope| {
        for chunk in files.chunks(10) {
            let source = &source;
            scope.spawn(move || {
                for path in chunk {
                    let bytes = source.read(path).expect("read");
                    assert_eq!(source.content_id(path), Some(blob_id(&bytes)));
                }
            });
        }
    });
}

#[test]
fn recent_commits_follow_the_reflog_then_the_branches() {
    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    let first = fx.commit_all("one");
    fx.git(&["checkout", "-q", "-b", "feature"]);
    fx.write(PATH, "# feature\n");
    let feature = fx.commit_all("feature");
    fx.git(&["checkout", "-q", "main"]);
    fx.write(PATH, "# v2\n");
    let second = fx.commit_all("two");
    // A branch HEAD never visited: only the branch list has it.
    fx.git(&["branch", "side", &first]);
    fx.git(&["checkout", "-q", "-b", "later", &second]);
    fx.write(PATH, "# later\n");
    fx.commit_all("later");
    fx.git(&["checkout", "-q", "main"]);
    fx.git(&["branch", "-q", "-D", "later"]);

    let repo = Repo::open(&fx.root).expect("repo");
    let recent = repo.recent_commits(64);
    let seen: Vec<(String, Option<&str>)> = recent
        .iter()
        .map(|c| (c.oid.to_string(), c.branch.as_deref()))
        .collect();
    // HEAD's reflog, newest first: main (checked out again), the commit of
    // the deleted `later` (no branch), then feature and the first commit.
    assert_eq!(seen[0], (second.clone(), Some("main")));
    assert_eq!(seen[1].1, None, "later's commit has no branch any more");
    let position = |oid: &str| seen.iter().position(|(o, _)| o == oid).expect("listed");
    assert!(position(&feature) > 1);
    assert_eq!(seen[position(&feature)].1, Some("feature"));
    assert!(
        matches!(seen[position(&first)].1, Some("side")),
        "the first commit is side's tip: {seen:?}"
    );
    let unique: std::collections::BTreeSet<&String> = seen.iter().map(|(o, _)| o).collect();
    assert_eq!(unique.len(), seen.len(), "each commit once");
    assert_eq!(repo.recent_commits(2).len(), 2);
}

/// Under `core.autocrlf=true` a working-tree file with CRLF line endings is
/// stored with LF: what a review must hash to match the committed blob.
#[test]
fn stored_content_applies_the_clean_filter() {
    let fx = Fixture::new();
    fx.git(&["config", "core.autocrlf", "true"]);
    fx.write(PATH, "# v1\r\nx = 1\r\n");
    fx.commit_all("crlf");
    let repo = Repo::open(&fx.root).expect("repo");
    let stored = repo.stored_content(&fx.root.join(PATH)).expect("stored");
    assert_eq!(stored, b"# v1\nx = 1\n");
    let committed = TreeSource::at(&repo, "HEAD", "").expect("tree");
    assert_eq!(committed.read(PATH).expect("blob"), stored);
    // An untracked file is converted the same way.
    fx.write("blog/new.py", "y = 2\r\n");
    assert_eq!(
        repo.stored_content(&fx.root.join("blog/new.py"))
            .expect("stored"),
        b"y = 2\n"
    );
    // Without the setting, bytes are stored as they are.
    fx.git(&["config", "core.autocrlf", "false"]);
    let repo = Repo::open(&fx.root).expect("repo");
    assert_eq!(
        repo.stored_content(&fx.root.join("blog/new.py"))
            .expect("stored"),
        b"y = 2\r\n"
    );
}
