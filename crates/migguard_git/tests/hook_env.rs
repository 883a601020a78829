//! Inside a real `git commit`: the environment git gives a hook. This file
//! is its own test process with a single test, so setting environment
//! variables here cannot disturb other tests.

#![cfg(unix)]

mod support;

use migguard_core::source::ProjectSource;
use migguard_git::{staged_changes, ChangeStatus, IndexSource, Repo};
use support::Fixture;

const PATH: &str = "blog/migrations/0001_initial.py";

#[test]
fn partial_commits_use_the_index_git_hands_the_hook() {
    use std::os::unix::fs::PermissionsExt;

    let fx = Fixture::new();
    fx.write(PATH, "# v1\n");
    fx.write("blog/other.py", "# other v1\n");
    fx.commit_all("one");

    // A pre-commit hook that keeps the index it was given and its env.
    let captured = fx.sibling("captured-index");
    let env_file = fx.sibling("hook-env");
    let hook = fx.root.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ncp \"$GIT_INDEX_FILE\" '{}'\nprintf '%s\\n%s\\n' \"$GIT_INDEX_FILE\" \"$PWD\" > '{}'\n",
            captured.display(),
            env_file.display()
        ),
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    // `git commit PATH`: commits PATH as in the working tree, leaves the
    // other staged edit out, through a temporary index.
    fx.write(PATH, "# v2 in the working tree\n");
    fx.write("blog/other.py", "# other v2, staged\n");
    fx.git(&["add", "blog/other.py"]);
    fx.git(&["commit", "-q", "-m", "partial", PATH]);

    let env = std::fs::read_to_string(&env_file).expect("hook ran");
    let mut lines = env.lines();
    let index_file = lines.next().expect("GIT_INDEX_FILE").to_owned();
    let hook_cwd = lines.next().expect("PWD").to_owned();
    assert!(
        !index_file.ends_with("/index"),
        "a temporary index: {index_file}"
    );

    // What the hook sees, reproduced: cwd = top of the work tree,
    // GIT_INDEX_FILE = the copy of the temporary index.
    std::env::set_current_dir(&hook_cwd).expect("cd");
    std::env::set_var("GIT_INDEX_FILE", &captured);
    std::env::remove_var("GIT_DIR");
    let repo = Repo::discover(&fx.root.join("blog")).expect("repo");
    let staged = IndexSource::staged(&repo, "").expect("index");
    assert_eq!(
        staged.read(PATH).expect("read"),
        b"# v2 in the working tree\n"
    );
    assert_eq!(staged.read("blog/other.py").expect("read"), b"# other v1\n");
    // HEAD has moved on since the hook ran: compare with it all the same.
    let changes = staged_changes(&repo, "").expect("changes");
    assert_eq!(changes.len(), 0, "{changes:?}");

    // A relative GIT_INDEX_FILE is taken from the current directory.
    std::fs::copy(&captured, fx.root.join("rel-index")).expect("copy");
    std::env::set_current_dir(&fx.root).expect("cd");
    std::env::set_var("GIT_INDEX_FILE", "rel-index");
    let staged = IndexSource::staged(&repo, "").expect("index");
    assert_eq!(
        staged.read(PATH).expect("read"),
        b"# v2 in the working tree\n"
    );

    // GIT_DIR wins over the path searched from.
    std::env::set_var("GIT_DIR", fx.root.join(".git"));
    std::env::remove_var("GIT_INDEX_FILE");
    let elsewhere = fx.sibling("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let repo = Repo::discover(&elsewhere).expect("GIT_DIR");
    let staged = IndexSource::staged(&repo, "").expect("index");
    assert_eq!(
        staged.read("blog/other.py").expect("read"),
        b"# other v2, staged\n"
    );
    let changes = staged_changes(&repo, "").expect("changes");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].status, ChangeStatus::Modified);
    assert_eq!(changes[0].new_path.as_deref(), Some("blog/other.py"));
    std::env::remove_var("GIT_DIR");
}
