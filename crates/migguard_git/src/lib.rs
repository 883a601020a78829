//! migguard's git adapters: the only crate that touches git.
//!
//! `migguard_core` analyses any [`migguard_core::source::ProjectSource`];
//! this crate supplies the ones git provides and the git facts the hooks
//! need, all through libgit2 (no `git` process is run):
//!
//! - [`Repo`]: finding the repository (as git does inside a hook, honouring
//!   `GIT_DIR` and friends), revisions, the current branch, the upstream
//!   branch, the hooks directory, the merge or rebase in progress
//!   ([`InProgress`]), and what git would store of a working-tree file
//!   (clean filters such as `core.autocrlf` applied);
//! - [`TreeSource`] (a commit's files) and [`IndexSource`] (the staging
//!   area, `GIT_INDEX_FILE` honoured), never the working tree;
//! - [`staged_changes`] and [`changed_between`]: added, modified, deleted
//!   and renamed files;
//! - [`DiskCache`]: the parse cache, kept in the repository's common git
//!   directory so all worktrees share it.
//!
//! Nothing here prints or panics on input; failures are [`GitError`] and
//! [`CacheError`].

mod cache;
mod changes;
mod error;
mod push;
mod repo;
mod source;
mod store;

pub use cache::DiskCache;
pub use changes::{
    changed_between, path_exists_at, staged_changes, staged_changes_with_index_file, Change,
    ChangeStatus,
};
pub use error::{CacheError, GitError};
pub use git2::Oid;
pub use push::{commits_to_push, pushed_files, PushedFile};
pub use repo::{InProgress, Repo};
pub use source::{IndexSource, TreeSource};
pub use store::{AppliedStore, RecentCommit, StoredMigration};
