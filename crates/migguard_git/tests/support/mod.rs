//! Real git repositories in temporary directories, made with the `git`
//! command line, isolated from the user's and the system's configuration
//! and from any `GIT_*` variable of the environment running the tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub struct Fixture {
    pub tmp: TempDir,
    pub root: PathBuf,
}

const CLEARED: &[&str] = &[
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_GLOBAL",
];

/// A `git` command run in `dir`, isolated.
pub fn git_command(home: &Path, dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.current_dir(dir);
    for name in CLEARED {
        command.env_remove(name);
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-01T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T12:00:00Z");
    command
}

pub fn run(mut command: Command) -> String {
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

impl Fixture {
    /// An empty repository on branch `main`.
    pub fn new() -> Fixture {
        let tmp = TempDir::new().expect("temp dir");
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(&root).expect("mkdir");
        let fixture = Fixture { tmp, root };
        fixture.git(&["init", "-q", "-b", "main"]);
        fixture
    }

    pub fn home(&self) -> &Path {
        self.tmp.path()
    }

    /// Another directory in the same temporary directory.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let mut command = git_command(self.home(), dir);
        command.args(args);
        run(command)
    }

    /// `git` with one more environment variable.
    pub fn git_env(&self, key: &str, value: &Path, args: &[&str]) -> String {
        let mut command = git_command(self.home(), &self.root);
        command.env(key, value).args(args);
        run(command)
    }

    pub fn write(&self, path: &str, content: &str) {
        let full = self.root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, content).expect("write");
    }

    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

pub const MIGRATION: &str = "from django.db import migrations\n\nclass Migration(migrations.Migration):\n    operations = []\n";
