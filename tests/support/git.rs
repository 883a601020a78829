//! `GitRepo`: a throwaway repository driven by the real `git`, in a
//! hermetic environment (no system or user config, no inherited `GIT_*`,
//! fixed identities and dates, an empty template directory).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use super::{migguard_bin, run};

/// A repository in `<tmp>/repo`, with a private home in `<tmp>/home`; other
/// directories (remotes, worktrees, prefixes) go beside it, see [`GitRepo::scratch`].
pub struct GitRepo {
    tmp: TempDir,
    /// The work tree's top level.
    pub root: PathBuf,
}

impl GitRepo {
    /// `git init -b main` in a fresh temporary directory.
    pub fn new() -> GitRepo {
        let tmp = tempfile::Builder::new()
            .prefix("migguard-e2e-")
            .tempdir()
            .expect("cannot create a temporary directory");
        let root = tmp.path().join("repo");
        for dir in ["home", "home/.config", "templates", "repo"] {
            std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
        }
        std::fs::write(
            tmp.path().join("home/.gitconfig"),
            "[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n\
             [advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let repo = GitRepo { tmp, root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// The temporary directory holding the repository.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// `<tmp>/<name>`: a path beside the repository (not created).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A command in the repository with the hermetic environment. `PATH` is
    /// kept; every inherited `GIT_*` and `MIGGUARD*` variable is removed.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("GIT_") || key_text.starts_with("MIGGUARD") {
                cmd.env_remove(&key);
            }
        }
        let home = self.tmp.path().join("home");
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TEMPLATE_DIR", self.tmp.path().join("templates"))
            .env("GIT_AUTHOR_NAME", "Migguard Test")
            .env("GIT_AUTHOR_EMAIL", "test@migguard.invalid")
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .env("GIT_COMMITTER_NAME", "Migguard Test")
            .env("GIT_COMMITTER_EMAIL", "test@migguard.invalid")
            .env("GIT_COMMITTER_DATE", "1700000000 +0000")
            .env("NO_COLOR", "1");
        cmd
    }

    /// `git ARGS` in the repository's root.
    pub fn git_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.command("git");
        cmd.args(args);
        cmd
    }

    /// `git ARGS`, which must succeed.
    pub fn git(&self, args: &[&str]) -> Output {
        run(&mut self.git_cmd(args), Some(0))
    }

    /// `git ARGS`, whatever its status.
    pub fn git_status(&self, args: &[&str]) -> Output {
        run(&mut self.git_cmd(args), None)
    }

    /// `git ARGS` with standard output as a trimmed string; must succeed.
    pub fn git_stdout(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.git(args).stdout)
            .trim()
            .to_owned()
    }

    /// Write a file under the root, creating its directories.
    pub fn write(&self, path: &str, text: &str) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Write `text` and `git add` it.
    pub fn stage(&self, path: &str, text: &str) {
        self.write(path, text);
        self.git(&["add", "--", path]);
    }

    /// `git add` a file and commit it; the commit must succeed.
    pub fn commit_file(&self, path: &str, text: &str, message: &str) {
        self.stage(path, text);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// The number of commits on HEAD (0 before the first).
    pub fn commit_count(&self) -> usize {
        let out = self.git_status(&["rev-list", "--count", "HEAD"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// The directory of the test build's binaries.
    pub fn bin_dir() -> PathBuf {
        migguard_bin("migguard").parent().unwrap().to_path_buf()
    }

    /// `migguard ARGS` in the repository, in the hermetic environment.
    pub fn migguard(&self, args: &[&OsStr], expect_code: Option<i32>) -> Output {
        let mut cmd = self.command(migguard_bin("migguard"));
        cmd.args(args);
        run(&mut cmd, expect_code)
    }

    /// The real `migguard install --repo <root> --bin-dir <test binaries>`; must succeed.
    pub fn install(&self) -> Output {
        self.install_with_bin_dir(&Self::bin_dir())
    }

    /// `migguard install` with the shims pointing at `bin_dir`; must succeed.
    pub fn install_with_bin_dir(&self, bin_dir: &Path) -> Output {
        self.migguard(
            &[
                "install".as_ref(),
                "--repo".as_ref(),
                self.root.as_os_str(),
                "--bin-dir".as_ref(),
                bin_dir.as_os_str(),
            ],
            Some(0),
        )
    }

    /// `migguard uninstall --repo <root>`; must succeed.
    pub fn uninstall(&self) -> Output {
        self.migguard(
            &[
                "uninstall".as_ref(),
                "--repo".as_ref(),
                self.root.as_os_str(),
            ],
            Some(0),
        )
    }

    /// The hooks directory git uses (`git rev-parse --git-path hooks`), absolute.
    pub fn hooks_dir(&self) -> PathBuf {
        let path = PathBuf::from(self.git_stdout(&["rev-parse", "--git-path", "hooks"]));
        self.root.join(path)
    }
}

impl Default for GitRepo {
    fn default() -> GitRepo {
        GitRepo::new()
    }
}

/// Write an executable file (mode 0755).
pub fn write_executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    set_mode(path, 0o755);
}

/// Set the permission bits of a file (nothing to do off unix).
pub fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// The permission bits of a file (unix).
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Standard output and error of a command, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
