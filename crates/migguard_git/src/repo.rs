//! Opening a repository and asking it about revisions.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags as OpenFlags};

use crate::error::{git_message, GitError};

/// A git repository.
///
/// The underlying `git2::Repository` is `Send` but not `Sync`; it sits
/// behind a mutex that the sources made from this `Repo` share, so they can
/// be handed to the parser's worker threads. Each call holds the lock only
/// for one lookup (a ref, a blob), which costs microseconds.
pub struct Repo {
    inner: Arc<Mutex<Repository>>,
    git_dir: PathBuf,
    common_dir: PathBuf,
    workdir: Option<PathBuf>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("git_dir", &self.git_dir)
            .field("workdir", &self.workdir)
            .finish_non_exhaustive()
    }
}

impl Repo {
    /// The repository git itself would use from `path`.
    ///
    /// When `GIT_DIR` is set (git sets it for hooks in some setups, and a
    /// user may export it) the repository is opened from the environment as
    /// git does, honouring `GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`,
    /// `GIT_OBJECT_DIRECTORY`, ...; `path` is then not used. Otherwise the
    /// repository is searched for from `path` upwards, stopping at
    /// `GIT_CEILING_DIRECTORIES`.
    pub fn discover(path: &Path) -> Result<Repo, GitError> {
        let opened = if std::env::var_os("GIT_DIR").is_some() {
            Repository::open_from_env()
        } else {
            let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| p.is_absolute())
                        .collect()
                })
                .unwrap_or_default();
            Repository::open_ext(path, OpenFlags::FROM_ENV, &ceilings)
        };
        opened
            .map_err(|error| GitError::NotARepository {
                path: path.to_path_buf(),
                message: git_message(&error),
            })
            .map(Repo::from_repository)
    }

    /// The repository containing `path`, ignoring every `GIT_*` variable of
    /// the environment.
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        Repository::open_ext(path, OpenFlags::empty(), std::iter::empty::<OsString>())
            .map_err(|error| GitError::NotARepository {
                path: path.to_path_buf(),
                message: git_message(&error),
            })
            .map(Repo::from_repository)
    }

    /// Wrap an already open repository.
    pub fn from_repository(repo: Repository) -> Repo {
        let git_dir = repo.path().to_path_buf();
        let common_dir = repo.commondir().to_path_buf();
        let workdir = repo.workdir().map(Path::to_path_buf);
        Repo {
            inner: Arc::new(Mutex::new(repo)),
            git_dir,
            common_dir,
            workdir,
        }
    }

    /// The shared handle, for the sources made from this repository.
    pub(crate) fn handle(&self) -> Arc<Mutex<Repository>> {
        Arc::clone(&self.inner)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Repository> {
        lock(&self.inner)
    }

    /// The top of the working tree; `None` for a bare repository.
    pub fn workdir(&self) -> Option<PathBuf> {
        self.workdir.clone()
    }

    /// The repository's git directory (`.git`, or `.git/worktrees/<name>`
    /// in a linked worktree).
    pub fn git_dir(&self) -> PathBuf {
        self.git_dir.clone()
    }

    /// The directory shared by all worktrees of the repository (`.git` of
    /// the main worktree): where the parse cache lives.
    pub fn common_dir(&self) -> PathBuf {
        self.common_dir.clone()
    }

    /// Where git looks for hooks: what `git rev-parse --git-path hooks`
    /// prints, made absolute. `core.hooksPath` when set (a relative value
    /// is taken relative to the top of the working tree, where git runs
    /// hooks; `~/` is expanded), else `<common dir>/hooks`.
    pub fn hooks_dir(&self) -> PathBuf {
        let configured = {
            let repo = self.lock();
            repo.config()
                .ok()
                .and_then(|config| config.get_path("core.hooksPath").ok())
        };
        match configured {
            Some(path) if path.as_os_str().is_empty() => self.common_dir.join("hooks"),
            Some(path) if path.is_absolute() => path,
            Some(path) => self.workdir.as_deref().unwrap_or(&self.git_dir).join(path),
            None => self.common_dir.join("hooks"),
        }
    }

    /// The commit `HEAD` points at; `None` on an unborn branch (before the
    /// first commit).
    pub fn head_commit(&self) -> Option<Oid> {
        let repo = self.lock();
        let head = repo.head().ok()?;
        head.peel_to_commit().ok().map(|c| c.id())
    }

    /// The commit a revision (`main`, `origin/main`, `HEAD~2`, a sha, ...)
    /// names.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        let repo = self.lock();
        resolve_commit(&repo, rev)
    }

    /// The checked-out branch's short name (`main`), also on an unborn
    /// branch; `None` when `HEAD` is detached.
    pub fn current_branch(&self) -> Option<String> {
        let repo = self.lock();
        let head = repo.find_reference("HEAD").ok()?;
        let target = head.symbolic_target()?;
        target.strip_prefix("refs/heads/").map(str::to_owned)
    }

    /// The checked-out branch's tracking branch (`git branch -u`), local
    /// or remote: its short name and commit. `None` when there is none.
    pub fn tracking_branch(&self) -> Option<(String, Oid)> {
        let repo = self.lock();
        let head = repo.find_reference("HEAD").ok()?;
        let name = head
            .symbolic_target()?
            .strip_prefix("refs/heads/")?
            .to_owned();
        let branch = repo.find_branch(&name, git2::BranchType::Local).ok()?;
        let upstream = branch.upstream().ok()?;
        let commit = upstream.get().peel_to_commit().ok()?.id();
        let display = upstream.name().ok().flatten()?.to_owned();
        Some((display, commit))
    }

    /// The branch this one will be merged into, for "already upstream"
    /// checks: its display name (`origin/main`) and commit.
    ///
    /// `configured` (the `upstream` setting) wins when given; if it does not
    /// resolve, the answer is `None` rather than a guess. Otherwise:
    /// `refs/remotes/origin/HEAD`'s target, then `origin/main`, then
    /// `origin/master`. `None` when none of them exists.
    pub fn upstream(&self, configured: Option<&str>) -> Option<(String, Oid)> {
        let repo = self.lock();
        if let Some(rev) = configured {
            let (object, reference) = repo.revparse_ext(rev).ok()?;
            let commit = object.peel(ObjectType::Commit).ok()?.id();
            let name = reference
                .as_ref()
                .and_then(|r| r.shorthand().map(str::to_owned))
                .unwrap_or_else(|| rev.to_owned());
            return Some((name, commit));
        }
        let mut candidates = Vec::new();
        if let Ok(head) = repo.find_reference("refs/remotes/origin/HEAD") {
            if let Some(target) = head.symbolic_target() {
                candidates.push(target.to_owned());
            }
        }
        candidates.push("refs/remotes/origin/main".to_owned());
        candidates.push("refs/remotes/origin/master".to_owned());
        candidates.into_iter().find_map(|name| {
            let reference = repo.find_reference(&name).ok()?;
            let commit = reference.peel_to_commit().ok()?.id();
            let display = name
                .strip_prefix("refs/remotes/")
                .unwrap_or(&name)
                .to_owned();
            Some((display, commit))
        })
    }

    /// The shortest unambiguous abbreviation of a commit id (at least
    /// `core.abbrev`).
    pub fn short_id(&self, oid: Oid) -> String {
        let repo = self.lock();
        short_id(&repo, oid)
    }
}

pub(crate) fn lock(inner: &Mutex<Repository>) -> MutexGuard<'_, Repository> {
    // A panic in another thread while holding the lock leaves the
    // repository usable: every use is a read.
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn resolve_commit(repo: &Repository, rev: &str) -> Result<Oid, GitError> {
    let object = repo
        .revparse_single(rev)
        .map_err(|error| GitError::Resolve {
            rev: rev.to_owned(),
            message: git_message(&error),
        })?;
    let commit = object
        .peel(ObjectType::Commit)
        .map_err(|error| GitError::Resolve {
            rev: rev.to_owned(),
            message: format!("not a commit ({})", git_message(&error)),
        })?;
    Ok(commit.id())
}

pub(crate) fn short_id(repo: &Repository, oid: Oid) -> String {
    repo.find_object(oid, None)
        .ok()
        .and_then(|o| o.short_id().ok())
        .and_then(|buf| buf.as_str().map(str::to_owned))
        .unwrap_or_else(|| oid.to_string().chars().take(7).collect())
}

impl Repo {
    /// `user.name <user.email>` from git's configuration, as a review's
    /// reviewer; `None` when neither is set.
    pub fn user_identity(&self) -> Option<String> {
        let git = self.lock();
        let config = git.config().ok()?;
        let name = config.get_string("user.name").ok();
        let email = config.get_string("user.email").ok();
        match (name, email) {
            (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
            (Some(n), None) => Some(n),
            (None, Some(e)) => Some(format!("<{e}>")),
            (None, None) => None,
        }
    }
}

impl Repo {
    /// What git would store for a file of the working tree: its content
    /// with git's clean filters applied (`core.autocrlf`, `text`/`eol` in
    /// `.gitattributes`, ...), so that it matches the blob a commit of the
    /// file holds, whatever line endings the working tree has. `file` is a
    /// path on disk inside the work tree. Like `git hash-object -w`, this
    /// writes the blob to the object database (git keeps one copy of each).
    pub fn stored_content(&self, file: &Path) -> Result<Vec<u8>, GitError> {
        let repo = self.lock();
        let what = || format!("cannot read {} as git would store it", file.display());
        let oid = repo
            .blob_path(file)
            .map_err(|e| GitError::git(what(), &e))?;
        let blob = repo.find_blob(oid).map_err(|e| GitError::git(what(), &e))?;
        Ok(blob.content().to_vec())
    }
}

/// A git operation stopped half-way in the working tree, as conflict
/// markers read differently in each: in a merge the top side (`HEAD`) is
/// the branch being merged into and the bottom the incoming one; in a
/// rebase the top is the branch rebased onto and the bottom the commit
/// being replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InProgress {
    /// `git merge` (`MERGE_HEAD`): the commit being merged in.
    Merge { incoming: Oid },
    /// `git rebase` (`rebase-merge/` or `rebase-apply/`): the commit the
    /// branch is rebased onto, when git recorded it.
    Rebase { onto: Option<Oid> },
    /// Another operation (cherry-pick, revert, `git am`, bisect).
    Other,
}

impl Repo {
    /// The operation in progress in this working tree, if any.
    pub fn in_progress(&self) -> Option<InProgress> {
        use git2::RepositoryState as State;
        let repo = self.lock();
        let onto = |dir: &str| {
            std::fs::read_to_string(self.git_dir.join(dir).join("onto"))
                .ok()
                .and_then(|text| Oid::from_str(text.trim()).ok())
        };
        match repo.state() {
            State::Clean => None,
            State::Merge => {
                let incoming = repo
                    .find_reference("MERGE_HEAD")
                    .ok()
                    .and_then(|r| r.target())
                    .or_else(|| {
                        std::fs::read_to_string(self.git_dir.join("MERGE_HEAD"))
                            .ok()
                            .and_then(|t| Oid::from_str(t.lines().next()?.trim()).ok())
                    });
                Some(match incoming {
                    Some(incoming) => InProgress::Merge { incoming },
                    None => InProgress::Other,
                })
            }
            State::Rebase | State::RebaseInteractive | State::RebaseMerge => {
                Some(InProgress::Rebase {
                    onto: onto("rebase-merge").or_else(|| onto("rebase-apply")),
                })
            }
            State::ApplyMailboxOrRebase if self.git_dir.join("rebase-apply/rebasing").exists() => {
                Some(InProgress::Rebase {
                    onto: onto("rebase-apply"),
                })
            }
            _ => Some(InProgress::Other),
        }
    }
}
