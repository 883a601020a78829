//! `migguard install` / `uninstall` and `install.sh`, through real git:
//! where the shims go, that git fires them (commit, checkout, push, linked
//! worktrees, `core.hooksPath`), that a user's hook keeps running and comes
//! back byte for byte, and that nothing blocks git when migguard is gone.
//!
//! Some tests give the shims a `--bin-dir` holding a recording stand-in for
//! `migguard-pre-commit`, so they test exactly the shim and the install,
//! whatever the real pre-commit analysis decides about these tiny repos.

#![cfg(unix)]

use std::path::{Path, PathBuf};

use crate::support::git::{describe, mode, set_mode, write_executable, GitRepo};
use crate::support::{migguard_bin, run};

const HOOKS: [&str; 4] = [
    "pre-commit",
    "pre-merge-commit",
    "post-checkout",
    "pre-push",
];

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A user's hook that appends its name and arguments to `log`, then exits
/// with `code`.
fn user_hook(log: &Path, code: i32) -> String {
    format!(
        "#!/bin/sh\n# the user's own hook\necho \"$(basename \"$0\") $*\" >> '{}'\nexit {code}\n",
        log.display()
    )
}

/// A directory with a stand-in `migguard-pre-commit` that appends
/// `hook-dir=<dir> args=<args>` to `<tmp>/<name>.log`. Returns (dir, log).
fn recording_bin_dir(repo: &GitRepo, name: &str) -> (PathBuf, PathBuf) {
    let dir = repo.scratch(name);
    let log = repo.scratch(&format!("{name}.log"));
    write_executable(
        &dir.join("migguard-pre-commit"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = --hook-dir ] || exit 9\nprintf 'hook-dir=%s args=%s\\n' \"$2\" \"$*\" >> '{}'\n",
            log.display()
        ),
    );
    (dir, log)
}

/// The `--hook-dir` of each run the stand-in recorded, resolved (git ran it
/// in `top_level`) and canonical; and each run's arguments
/// must be `--hook-dir DIR --` (pre-commit has none of its own).
fn recorded_hook_dirs(top_level: &Path, log: &Path) -> Vec<PathBuf> {
    read(log)
        .lines()
        .map(|line| {
            let (dir, args) = line
                .strip_prefix("hook-dir=")
                .and_then(|rest| rest.split_once(" args="))
                .unwrap_or_else(|| panic!("unexpected record: {line}"));
            assert_eq!(args, format!("--hook-dir {dir} --"), "{line}");
            let dir = Path::new(dir);
            let dir = if dir.is_absolute() {
                dir.to_path_buf()
            } else {
                top_level.join(dir)
            };
            dir.canonicalize().unwrap()
        })
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn install_writes_the_four_shims_and_rerunning_changes_nothing() {
    let repo = GitRepo::new();
    let output = repo.install();
    let hooks = repo.hooks_dir();
    assert_eq!(hooks, repo.root.join(".git/hooks"));
    for hook in HOOKS {
        let path = hooks.join(hook);
        let text = read(&path);
        assert!(
            text.starts_with("#!/bin/sh\n# migguard-managed hook v1\n"),
            "{text}"
        );
        assert!(text.contains(&format!("migguard-{hook}")), "{text}");
        assert!(
            text.contains(&GitRepo::bin_dir().display().to_string()),
            "{text}"
        );
        assert_eq!(mode(&path), 0o755);
        assert!(stdout(&output).contains(&format!("{hook}: installed {}", path.display())));
        assert!(!hooks.join(format!("{hook}.legacy")).exists());
    }

    let before: Vec<Vec<u8>> = HOOKS
        .iter()
        .map(|h| std::fs::read(hooks.join(h)).unwrap())
        .collect();
    let again = repo.install();
    let after: Vec<Vec<u8>> = HOOKS
        .iter()
        .map(|h| std::fs::read(hooks.join(h)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        stdout(&again).matches("already installed").count(),
        4,
        "{}",
        describe(&again)
    );
    for hook in HOOKS {
        assert!(
            !hooks.join(format!("{hook}.legacy")).exists(),
            "a rerun must not move our shim aside"
        );
    }
    let mut entries: Vec<String> = std::fs::read_dir(&hooks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "post-checkout",
            "pre-commit",
            "pre-merge-commit",
            "pre-push"
        ],
        "no stray files"
    );

    let output = repo.uninstall();
    for hook in HOOKS {
        assert!(!hooks.join(hook).exists(), "{}", describe(&output));
    }
}

#[test]
fn a_users_hooks_keep_running_and_uninstall_restores_them_exactly() {
    let repo = GitRepo::new();
    let log = repo.scratch("user-hooks.log");
    let hooks = repo.hooks_dir();
    let pre_commit = user_hook(&log, 0);
    write_executable(&hooks.join("pre-commit"), &pre_commit);
    write_executable(&hooks.join("post-checkout"), &user_hook(&log, 0));
    set_mode(&hooks.join("post-checkout"), 0o750);

    let output = repo.install();
    assert!(
        stdout(&output).contains("pre-commit.legacy"),
        "{}",
        describe(&output)
    );
    assert_eq!(read(&hooks.join("pre-commit.legacy")), pre_commit);
    assert!(read(&hooks.join("pre-commit")).contains("# migguard-managed hook v1"));

    // A real commit runs the user's hook (through migguard-pre-commit), with git's arguments.
    repo.stage("README.md", "hello\n");
    let commit = repo.git_status(&["commit", "-q", "-m", "first"]);
    assert!(
        read_or_empty(&log).contains("pre-commit.legacy"),
        "the user's pre-commit hook did not run\n{}",
        describe(&commit)
    );
    // A real checkout runs the user's post-checkout hook with git's three arguments.
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "--allow-empty",
        "-m",
        "for the checkout",
    ]);
    repo.git(&["checkout", "-q", "-b", "feat"]);
    let logged = read(&log);
    let line = logged
        .lines()
        .find(|l| l.starts_with("post-checkout.legacy "))
        .unwrap_or_else(|| panic!("the user's post-checkout hook did not run:\n{logged}"));
    assert_eq!(line.split(' ').count(), 4, "{line}");
    assert!(line.ends_with(" 1"), "a branch checkout: {line}");

    repo.uninstall();
    assert_eq!(read(&hooks.join("pre-commit")), pre_commit, "byte for byte");
    assert_eq!(mode(&hooks.join("pre-commit")), 0o755);
    assert_eq!(
        mode(&hooks.join("post-checkout")),
        0o750,
        "the mode comes back too"
    );
    assert!(!hooks.join("pre-commit.legacy").exists());
    assert!(!hooks.join("post-checkout.legacy").exists());
    assert!(
        !hooks.join("pre-push").exists(),
        "ours is gone, and there was none before"
    );

    // The restored hook is the one git runs again.
    std::fs::remove_file(&log).unwrap();
    repo.commit_file("b.txt", "b\n", "second");
    assert_eq!(
        read(&log).trim(),
        "pre-commit",
        "git ran the restored hook itself"
    );
}

fn read_or_empty(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn install_refuses_to_overwrite_a_different_legacy_hook_unless_forced() {
    let repo = GitRepo::new();
    let log = repo.scratch("log");
    let hooks = repo.hooks_dir();
    write_executable(&hooks.join("pre-commit"), &user_hook(&log, 0));
    write_executable(
        &hooks.join("pre-commit.legacy"),
        "#!/bin/sh\n# an older backup\nexit 0\n",
    );

    let output = repo.migguard(
        &["install".as_ref(), "--repo".as_ref(), repo.root.as_os_str()],
        Some(2),
    );
    assert!(stderr(&output).contains("--force"), "{}", describe(&output));
    assert_eq!(
        read(&hooks.join("pre-commit")),
        user_hook(&log, 0),
        "nothing changed"
    );
    assert!(
        !hooks.join("post-checkout").exists(),
        "nothing changed, not even the other hooks"
    );

    let bin_dir = GitRepo::bin_dir();
    repo.migguard(
        &[
            "install".as_ref(),
            "--repo".as_ref(),
            repo.root.as_os_str(),
            "--bin-dir".as_ref(),
            bin_dir.as_os_str(),
            "--force".as_ref(),
        ],
        Some(0),
    );
    assert_eq!(read(&hooks.join("pre-commit.legacy")), user_hook(&log, 0));
    assert!(read(&hooks.join("pre-commit")).contains("# migguard-managed hook v1"));
}

#[test]
fn core_hooks_path_inside_the_work_tree_is_used_and_fires() {
    let repo = GitRepo::new();
    repo.git(&["config", "core.hooksPath", ".husky"]);
    let (bin_dir, log) = recording_bin_dir(&repo, "recorder");
    let output = repo.install_with_bin_dir(&bin_dir);
    let husky = repo.root.join(".husky");
    assert_eq!(repo.hooks_dir(), husky);
    for hook in HOOKS {
        assert!(read(&husky.join(hook)).contains("# migguard-managed hook v1"));
        assert!(!repo.root.join(".git/hooks").join(hook).exists());
    }
    assert!(
        stderr(&output).contains("work tree"),
        "{}",
        describe(&output)
    );

    repo.stage("README.md", "hello\n");
    let commit = repo.git_status(&["commit", "-q", "-m", "first"]);
    assert!(commit.status.success(), "{}", describe(&commit));
    assert_eq!(
        recorded_hook_dirs(&repo.root, &log),
        [husky.canonicalize().unwrap()]
    );
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn a_commit_in_a_linked_worktree_fires_the_hook() {
    let repo = GitRepo::new();
    repo.commit_file("README.md", "hello\n", "first");
    let worktree = repo.scratch("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "wt",
        worktree.to_str().unwrap(),
    ]);

    // Installing from the worktree puts the shims in the common hooks directory.
    let (bin_dir, log) = recording_bin_dir(&repo, "recorder");
    let output = repo.migguard(
        &[
            "install".as_ref(),
            "--repo".as_ref(),
            worktree.as_os_str(),
            "--bin-dir".as_ref(),
            bin_dir.as_os_str(),
        ],
        Some(0),
    );
    let hooks = repo.root.join(".git/hooks");
    assert!(
        stdout(&output).contains(&hooks.join("pre-commit").display().to_string()),
        "{}",
        describe(&output)
    );
    assert!(!repo.root.join(".git/worktrees/wt/hooks").exists());

    std::fs::write(worktree.join("b.txt"), "b\n").unwrap();
    let mut add = repo.git_cmd(&["add", "b.txt"]);
    run(add.current_dir(&worktree), Some(0));
    let mut commit = repo.git_cmd(&["commit", "-q", "-m", "in the worktree"]);
    run(commit.current_dir(&worktree), Some(0));
    assert_eq!(
        recorded_hook_dirs(&worktree, &log),
        [hooks.canonicalize().unwrap()]
    );
}

#[test]
fn migguard_0_skips_the_hook() {
    let repo = GitRepo::new();
    let (bin_dir, log) = recording_bin_dir(&repo, "recorder");
    repo.install_with_bin_dir(&bin_dir);
    repo.stage("README.md", "hello\n");
    let mut commit = repo.git_cmd(&["commit", "-q", "-m", "first"]);
    run(commit.env("MIGGUARD", "0"), Some(0));
    assert!(!log.exists(), "the hook ran: {}", read(&log));
    assert_eq!(repo.commit_count(), 1);

    // Without it, the same shim fires.
    repo.commit_file("b.txt", "b\n", "second");
    assert_eq!(read(&log).lines().count(), 1);
}

/// Skipping migguard (MIGGUARD=0) or losing its binaries does not skip
/// the hook the repository had before: a failing one still blocks.
#[test]
fn the_users_previous_hook_runs_when_migguard_is_skipped_or_gone() {
    let repo = GitRepo::new();
    let log = repo.scratch("user.log");
    let hooks = repo.hooks_dir();
    std::fs::create_dir_all(&hooks).unwrap();
    crate::support::git::write_executable(&hooks.join("pre-commit"), &user_hook(&log, 1));
    let (bin_dir, _) = recording_bin_dir(&repo, "recorder");
    repo.install_with_bin_dir(&bin_dir);
    assert!(hooks.join("pre-commit.legacy").exists());

    repo.stage("README.md", "hello\n");
    let mut commit = repo.git_cmd(&["commit", "-q", "-m", "skipped"]);
    run(commit.env("MIGGUARD", "0"), Some(1));
    assert_eq!(read(&log).lines().count(), 1, "the user's hook ran");
    assert_eq!(repo.commit_count(), 0, "and its failure blocked the commit");

    std::fs::remove_dir_all(&bin_dir).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("migguard-pre-commit").exists())
        .collect();
    let path = std::env::join_paths(dirs).unwrap();
    let mut commit = repo.git_cmd(&["commit", "-q", "-m", "gone"]);
    run(commit.env("PATH", &path), Some(1));
    assert_eq!(read(&log).lines().count(), 2, "the user's hook ran again");
    assert_eq!(repo.commit_count(), 0);
}

#[test]
fn a_shim_whose_binaries_are_gone_does_not_block_a_commit() {
    let repo = GitRepo::new();
    let (bin_dir, log) = recording_bin_dir(&repo, "gone");
    repo.install_with_bin_dir(&bin_dir);
    std::fs::remove_dir_all(&bin_dir).unwrap();

    // A PATH without any migguard-pre-commit, so the shim finds nothing.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("migguard-pre-commit").exists())
        .collect();
    let path = std::env::join_paths(dirs).unwrap();

    repo.stage("README.md", "hello\n");
    let mut commit = repo.git_cmd(&["commit", "-q", "-m", "first"]);
    let output = run(commit.env("PATH", &path), Some(0));
    assert_eq!(repo.commit_count(), 1);
    assert!(!log.exists());
    let err = stderr(&output);
    assert!(
        err.contains("migguard-pre-commit not found"),
        "{}",
        describe(&output)
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("migguard")).count(),
        1,
        "one line: {err}"
    );
}

#[test]
fn pre_push_replays_stdin_to_the_users_hook_and_its_failure_stops_the_push() {
    let repo = GitRepo::new();
    let remote = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    repo.commit_file("README.md", "hello\n", "first");

    let seen = repo.scratch("pre-push.seen");
    let hooks = repo.hooks_dir();
    write_executable(
        &hooks.join("pre-push"),
        &format!(
            "#!/bin/sh\n{{ echo \"$1 $2\"; cat; }} > '{}'\nexit 1\n",
            seen.display()
        ),
    );
    repo.install();

    let push = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(
        !push.status.success(),
        "the user's hook refused: {}",
        describe(&push)
    );
    let head = repo.git_stdout(&["rev-parse", "HEAD"]);
    let seen = read(&seen);
    assert_eq!(
        seen,
        format!(
            "origin {}\nrefs/heads/main {head} refs/heads/main {}\n",
            remote.display(),
            "0".repeat(40)
        )
    );
    let remote_main = repo.git_status(&[
        "--git-dir",
        remote.to_str().unwrap(),
        "rev-parse",
        "--verify",
        "-q",
        "refs/heads/main",
    ]);
    assert!(!remote_main.status.success(), "the remote did not move");

    // With the user's hook passing, the push goes through our hook.
    write_executable(
        &hooks.join("pre-push.legacy"),
        "#!/bin/sh\ncat >/dev/null\nexit 0\n",
    );
    let push = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(push.status.success(), "{}", describe(&push));
    let remote_head = repo.git(&[
        "--git-dir",
        remote.to_str().unwrap(),
        "rev-parse",
        "refs/heads/main",
    ]);
    assert_eq!(stdout(&remote_head).trim(), head);
}

#[test]
fn install_sh_copies_the_binaries_installs_and_uninstalls() {
    let repo = GitRepo::new();
    let log = repo.scratch("log");
    let hooks = repo.hooks_dir();
    write_executable(&hooks.join("pre-commit"), &user_hook(&log, 0));
    let prefix = repo.scratch("prefix");
    let script = crate::support::repo_root().join("install.sh");
    let install_sh = |args: &[&str]| {
        let mut cmd = repo.command("bash");
        cmd.arg(&script)
            .args(args)
            .env("MIGGUARD_BUILD_DIR", GitRepo::bin_dir());
        run(&mut cmd, Some(0))
    };
    let args = [
        "--no-build",
        "--prefix",
        prefix.to_str().unwrap(),
        "--repo",
        repo.root.to_str().unwrap(),
    ];

    for _ in 0..2 {
        let output = install_sh(&args);
        let bin = prefix.join("bin");
        for name in [
            "migguard",
            "migguard-pre-commit",
            "migguard-pre-merge-commit",
            "migguard-post-checkout",
            "migguard-pre-push",
        ] {
            assert_eq!(
                std::fs::read(bin.join(name)).unwrap(),
                std::fs::read(migguard_bin(name)).unwrap(),
                "{name}: {}",
                describe(&output)
            );
            assert_eq!(mode(&bin.join(name)) & 0o111, 0o111);
        }
        let shim = read(&hooks.join("pre-commit"));
        assert!(
            shim.contains(&format!("bin_dir='{}'", bin.display())),
            "{shim}"
        );
        assert_eq!(read(&hooks.join("pre-commit.legacy")), user_hook(&log, 0));
    }

    install_sh(&[
        "--uninstall",
        "--prefix",
        prefix.to_str().unwrap(),
        "--repo",
        repo.root.to_str().unwrap(),
    ]);
    assert_eq!(read(&hooks.join("pre-commit")), user_hook(&log, 0));
    assert_eq!(mode(&hooks.join("pre-commit")), 0o755);
    assert!(!hooks.join("pre-commit.legacy").exists());
    assert!(!hooks.join("pre-push").exists());
    let left: Vec<_> = std::fs::read_dir(prefix.join("bin")).unwrap().collect();
    assert!(left.is_empty(), "the binaries are removed: {left:?}");
    // And again: nothing to do, no error.
    install_sh(&[
        "--uninstall",
        "--prefix",
        prefix.to_str().unwrap(),
        "--repo",
        repo.root.to_str().unwrap(),
    ]);
}

#[test]
fn a_legacy_hook_that_is_our_own_shim_does_not_loop() {
    // E.g. the pre-commit framework installed over our shim and kept it as
    // its "legacy" hook, or a user copied the shim by hand.
    let repo = GitRepo::new();
    repo.install();
    let hooks = repo.hooks_dir();
    for hook in ["pre-commit", "pre-push"] {
        std::fs::copy(hooks.join(hook), hooks.join(format!("{hook}.legacy"))).unwrap();
    }
    let remote = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);

    repo.stage("README.md", "hello\n");
    let commit = repo.git_status(&["commit", "-q", "-m", "first"]);
    assert!(
        !stderr(&commit).contains("internal error"),
        "{}",
        describe(&commit)
    );
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "--allow-empty",
        "-m",
        "second",
    ]);
    let push = repo.git_status(&["push", "-q", "origin", "main"]);
    assert!(push.status.success(), "{}", describe(&push));
}

#[test]
fn uninstall_removes_our_shim_that_another_hook_manager_kept_as_legacy() {
    // Another hook manager (the pre-commit framework's `pre-commit install`,
    // for one) installed over our shim and moved it to `<hook>.legacy`,
    // which it keeps running. Our shim runs a recording stand-in.
    let repo = GitRepo::new();
    let (bin_dir, bin_log) = recording_bin_dir(&repo, "recording");
    repo.install_with_bin_dir(&bin_dir);
    let hooks = repo.hooks_dir();
    let log = repo.scratch("log");
    let manager = format!(
        "#!/bin/sh\n# another hook manager\necho \"manager $*\" >> '{}'\n\
         [ -x \"$0.legacy\" ] && exec \"$0.legacy\" \"$@\"\nexit 0\n",
        log.display()
    );
    std::fs::rename(hooks.join("pre-commit"), hooks.join("pre-commit.legacy")).unwrap();
    write_executable(&hooks.join("pre-commit"), &manager);

    let output = repo.uninstall();
    assert!(
        stdout(&output).contains("pre-commit: removed migguard's hook from"),
        "{}",
        describe(&output)
    );
    assert!(
        !hooks.join("pre-commit.legacy").exists(),
        "our shim is gone: {}",
        describe(&output)
    );
    assert_eq!(read(&hooks.join("pre-commit")), manager, "theirs stays");
    for hook in ["pre-merge-commit", "post-checkout", "pre-push"] {
        assert!(!hooks.join(hook).exists(), "{hook}");
    }
    // The manager's hook still runs, and nothing of migguard's with it.
    repo.stage("README.md", "hello\n");
    repo.git(&["commit", "-q", "-m", "first"]);
    assert_eq!(read(&log), "manager \n");
    assert!(!bin_log.exists(), "migguard-pre-commit did not run");
}
