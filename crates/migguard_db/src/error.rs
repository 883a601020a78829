//! [`DbError`]: everything that can go wrong talking to a database, phrased
//! for the person running the hook. No variant ever holds a password: targets
//! are the redacted [`DatabaseUrl`](crate::DatabaseUrl) display, and server
//! messages have any password replaced by `***` first.

use std::path::PathBuf;

use crate::url::Backend;

/// A failure to read from, or snapshot, a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// Nothing answered: the server is down, the host or port is wrong, or a
    /// firewall drops the packets.
    #[error("cannot reach the {backend} server for {target}: {reason} (is the server running, and are host and port right?)")]
    Unreachable {
        backend: Backend,
        target: String,
        reason: String,
    },

    /// The server answered but refused the user name or password.
    #[error("the {backend} server refused the login of user `{user}` for {target}: authentication failed (check the user name and password)")]
    AuthFailed {
        backend: Backend,
        target: String,
        user: String,
    },

    /// The server is up but has no database of that name.
    #[error("database `{database}` does not exist on the {backend} server ({target})")]
    NoDatabase {
        backend: Backend,
        target: String,
        database: String,
    },

    /// The SQLite file is not there (it is never created by reading).
    #[error("SQLite database file {} does not exist", path.display())]
    SqliteFileMissing { path: PathBuf },

    /// The database exists but has no `django_migrations` table.
    #[error("{target} has no django_migrations table: `manage.py migrate` has never run against this database")]
    NoMigrationsTable { target: String },

    /// Another session holds the database (or the snapshot used as a
    /// template), so it cannot be copied, dropped or renamed.
    #[error("{what} `{database}` is in use by {} other session(s){}; close them (stop runserver, shells, database GUIs) and retry; find them with: {query}", sessions.len().max(1), list_sessions(sessions))]
    InUse {
        /// `database` or `snapshot`.
        what: &'static str,
        database: String,
        /// `(pid, application_name)` of the other sessions, as far as known.
        sessions: Vec<(i32, String)>,
        /// The query that lists them.
        query: String,
    },

    /// No snapshot of that branch to restore from.
    #[error("no snapshot `{name}` for branch `{branch}`")]
    SnapshotMissing { branch: String, name: String },

    /// The backend cannot do this (snapshots of MySQL/MariaDB).
    #[error("{0}")]
    Unsupported(String),

    /// A file operation on a snapshot directory or file.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Anything else, with the server's (redacted) message.
    #[error("{backend} database {target}: {message}")]
    Other {
        backend: Backend,
        target: String,
        message: String,
    },
}

fn list_sessions(sessions: &[(i32, String)]) -> String {
    if sessions.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = sessions
        .iter()
        .map(|(pid, app)| {
            if app.is_empty() {
                format!("pid {pid}")
            } else {
                format!("pid {pid} `{app}`")
            }
        })
        .collect();
    format!(" ({})", listed.join(", "))
}

/// `text` with every occurrence of `secret` replaced by `***`.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text.to_owned(),
    }
}
