//! What can go wrong when talking to git or to the cache directory.

use std::path::PathBuf;

/// A git operation that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository (searched from {path}): {message}")]
    NotARepository { path: PathBuf, message: String },
    #[error("cannot resolve `{rev}` to a commit: {message}")]
    Resolve { rev: String, message: String },
    #[error("cannot read the index {path}: {message}")]
    Index { path: PathBuf, message: String },
    #[error("{what}: {message}")]
    Git { what: String, message: String },
}

impl GitError {
    pub(crate) fn git(what: impl Into<String>, error: &git2::Error) -> GitError {
        GitError::Git {
            what: what.into(),
            message: git_message(error),
        }
    }
}

/// The parse cache could not be written. Never fatal: the cache only saves
/// time.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// libgit2's message without the "; class=..; code=.." suffix git2 adds.
pub(crate) fn git_message(error: &git2::Error) -> String {
    error.message().to_owned()
}
