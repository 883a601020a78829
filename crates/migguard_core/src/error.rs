//! Errors that stop an analysis from running at all.
//!
//! A problem *found* in the project (a syntax error, a conflict) is a
//! [`crate::diagnostic::Diagnostic`], never an error: these types mean
//! "could not look".

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("cannot list {path}: {message}")]
    Walk { path: PathBuf, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Backend(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: unknown key `{key}` in [tool.migguard]{hint}")]
    UnknownKey {
        path: String,
        key: String,
        hint: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}
