//! SQLite: the file is opened read-only and never created.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{AppliedMigrations, AppliedReader, AppliedRow, CONNECT_TIMEOUT, TABLE};
use crate::error::DbError;
use crate::url::{Backend, DatabaseUrl};

/// A read-only connection to an SQLite file.
pub struct SqliteReader {
    conn: Connection,
    path: PathBuf,
}

impl SqliteReader {
    /// Open `url` (an SQLite URL) read-only; a missing file is
    /// [`DbError::SqliteFileMissing`], never created.
    pub fn open(url: &DatabaseUrl) -> Result<SqliteReader, DbError> {
        let Some(path) = url.sqlite_path() else {
            return Err(DbError::Other {
                backend: url.backend(),
                target: url.to_string(),
                message: "not an SQLite database".to_owned(),
            });
        };
        Ok(SqliteReader {
            conn: open_read_only(path)?,
            path: path.to_owned(),
        })
    }
}

/// Open an existing SQLite file read-only (`mode=ro`: `SQLITE_OPEN_READ_ONLY`
/// without `SQLITE_OPEN_CREATE`), waiting at most [`CONNECT_TIMEOUT`] for
/// locks.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, DbError> {
    if !path.is_file() {
        return Err(DbError::SqliteFileMissing {
            path: path.to_owned(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(path, &e))?;
    conn.busy_timeout(CONNECT_TIMEOUT)
        .map_err(|e| sqlite_error(path, &e))?;
    Ok(conn)
}

/// Open (or create) an SQLite file for writing.
pub(crate) fn open_read_write(path: &Path) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(path, &e))?;
    conn.busy_timeout(Duration::from_secs(2))
        .map_err(|e| sqlite_error(path, &e))?;
    Ok(conn)
}

pub(crate) fn target(path: &Path) -> String {
    DatabaseUrl::Sqlite(path.to_owned()).to_string()
}

pub(crate) fn sqlite_error(path: &Path, err: &rusqlite::Error) -> DbError {
    let message = match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "the file is not an SQLite database".to_owned(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "the database is locked by another process (a running server or shell?)".to_owned()
        }
        Some(ErrorCode::CannotOpen) => format!("cannot open the file ({err})"),
        _ => err.to_string(),
    };
    DbError::Other {
        backend: Backend::Sqlite,
        target: target(path),
        message,
    }
}

impl AppliedReader for SqliteReader {
    fn applied(&mut self) -> Result<AppliedMigrations, DbError> {
        let path = &self.path;
        let exists: bool = self
            .conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [TABLE],
                |row| row.get(0),
            )
            .map_err(|e| sqlite_error(path, &e))?;
        if !exists {
            return Err(DbError::NoMigrationsTable {
                target: target(path),
            });
        }
        let mut stmt = self
            .conn
            .prepare("SELECT app, name, CAST(applied AS TEXT) FROM django_migrations ORDER BY id")
            .map_err(|e| sqlite_error(path, &e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(AppliedRow {
                    app: row.get(0)?,
                    name: row.get(1)?,
                    applied: row.get(2)?,
                })
            })
            .map_err(|e| sqlite_error(path, &e))?;
        let rows = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| sqlite_error(path, &e))?;
        Ok(AppliedMigrations { rows })
    }

    fn describe(&self) -> String {
        target(&self.path)
    }
}
