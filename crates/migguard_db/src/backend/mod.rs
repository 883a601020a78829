//! Reading `django_migrations`: one [`AppliedReader`] per backend, opened by
//! [`open`]. Every reader is read-only (SQLite opened with
//! `SQLITE_OPEN_READ_ONLY`, server reads inside a `READ ONLY` transaction)
//! and every connection attempt gives up after [`CONNECT_TIMEOUT`].

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use std::time::Duration;

use migguard_core::graph::AppliedSet;
use migguard_core::model::MigrationKey;

use crate::error::DbError;
use crate::url::DatabaseUrl;

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Run a connection attempt on a worker thread and give up when it has not
/// finished after [`CONNECT_TIMEOUT`]. The drivers' own timeouts cover
/// opening the socket, not a server that accepts it and never answers the
/// handshake, which would otherwise hang a checkout. A thread given up on
/// ends with the process (or when its socket times out).
pub(crate) fn within_deadline<T: Send + 'static, E: Send + 'static>(
    connect: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Option<Result<T, E>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("migguard-connect".into())
        .spawn(move || {
            let _ = tx.send(connect());
        })
        .ok()?;
    rx.recv_timeout(CONNECT_TIMEOUT).ok()
}

/// Why a connection given up on by [`within_deadline`] failed.
pub(crate) fn no_answer() -> String {
    format!("no answer within {} s", CONNECT_TIMEOUT.as_secs_f32())
}

/// The query every backend runs (with a backend-specific cast of `applied`).
pub(crate) const TABLE: &str = "django_migrations";

/// One row of `django_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    pub app: String,
    pub name: String,
    /// The `applied` column as the database prints it
    /// (`2024-01-01 12:00:00.123456+00`, `2024-01-01 12:00:00.123456`).
    pub applied: Option<String>,
}

impl AppliedRow {
    pub fn key(&self) -> MigrationKey {
        MigrationKey::new(self.app.clone(), self.name.clone())
    }
}

/// The rows of `django_migrations`, in the order they were applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedMigrations {
    pub rows: Vec<AppliedRow>,
}

impl AppliedMigrations {
    /// The `(app, name)` keys, as the graph builder takes them.
    pub fn keys(&self) -> AppliedSet {
        self.rows.iter().map(AppliedRow::key).collect()
    }

    pub fn contains(&self, key: &MigrationKey) -> bool {
        self.rows
            .iter()
            .any(|r| r.app == key.app && r.name == key.name)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A connection that can read which migrations the database has applied.
pub trait AppliedReader {
    /// The rows of `django_migrations`. Never writes.
    fn applied(&mut self) -> Result<AppliedMigrations, DbError>;

    /// The database, for messages (password redacted).
    fn describe(&self) -> String;
}

/// Connect to the database `url` names (at most [`CONNECT_TIMEOUT`]).
/// A relative SQLite path is taken relative to the current directory: pass
/// URLs through [`DatabaseUrl::resolved`] first.
pub fn open(url: &DatabaseUrl) -> Result<Box<dyn AppliedReader>, DbError> {
    Ok(match url {
        DatabaseUrl::Sqlite(_) => Box::new(sqlite::SqliteReader::open(url)?),
        DatabaseUrl::Postgres(_) => Box::new(postgres::PostgresReader::open(url)?),
        DatabaseUrl::Mysql(_) => Box::new(mysql::MysqlReader::open(url)?),
    })
}

/// Connect and read in one go.
pub fn read_applied(url: &DatabaseUrl) -> Result<AppliedMigrations, DbError> {
    open(url)?.applied()
}
