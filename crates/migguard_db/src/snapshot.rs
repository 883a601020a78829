//! Per-branch database snapshots, so that switching branches can put the
//! database back the way that branch left it.
//!
//! * SQLite: a consistent copy made with SQLite's online backup API into a
//!   directory the caller chooses (`<git common dir>/migguard/snapshots/`),
//!   in a subdirectory per live database (its file name and a hash of its
//!   canonical path: two worktrees or two databases never share a
//!   snapshot), one `<sanitised branch>.sqlite3` per branch; restoring
//!   copies it back into the live file with the same API.
//! * PostgreSQL: `CREATE DATABASE "<db>__mg_<branch>" TEMPLATE "<db>"`;
//!   restoring builds the live database anew from that template. PostgreSQL
//!   refuses to copy or drop a database others are connected to: that is
//!   [`DbError::InUse`], which says how to find the sessions.
//! * MySQL/MariaDB: [`DbError::Unsupported`].
//!
//! Nothing is ever lost: a restore checks that the snapshot exists before it
//! touches the live database, and on PostgreSQL the live database is only
//! renamed aside until the copy has replaced it. A restore does not save the
//! current state first: the caller snapshots it under its own branch.

mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

use crate::backend::postgres::Login;
use crate::error::DbError;
use crate::url::{Backend, DatabaseUrl};

/// PostgreSQL's limit on identifier length, in bytes.
pub const POSTGRES_MAX_NAME: usize = 63;
/// Longest snapshot file stem for SQLite.
const FILE_MAX_NAME: usize = 100;

/// One snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The file stem (SQLite) or database name (PostgreSQL).
    pub name: String,
    /// The branch it was saved for, when recorded (PostgreSQL keeps it in
    /// the database's comment; SQLite file names are sanitised).
    pub branch: Option<String>,
    /// The snapshot file, or `postgres://host/<name>` (no password).
    pub location: String,
}

/// The snapshots of one live database.
#[derive(Debug, Clone)]
pub struct Snapshots {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Sqlite { live: PathBuf, dir: PathBuf },
    Postgres(Login),
}

impl Snapshots {
    /// Snapshots of the database `url` names. `dir` holds SQLite snapshot
    /// files, in a subdirectory of its own per live database (created on
    /// the first save); PostgreSQL keeps its snapshots on the server, named
    /// after the live database.
    pub fn new(url: &DatabaseUrl, dir: impl Into<PathBuf>) -> Result<Snapshots, DbError> {
        let inner = match url {
            DatabaseUrl::Sqlite(live) => Inner::Sqlite {
                live: live.clone(),
                dir: dir.into().join(database_dir_name(live)),
            },
            DatabaseUrl::Postgres(address) => Inner::Postgres(Login::new(address)),
            DatabaseUrl::Mysql(_) => {
                return Err(DbError::Unsupported(format!(
                    "per-branch snapshots are not supported for {}: it cannot copy a database cheaply \
                     (no CREATE DATABASE ... TEMPLATE, no single file); keep a copy with mysqldump instead",
                    Backend::Mysql
                )))
            }
        };
        Ok(Snapshots { inner })
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite { .. } => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// The snapshot's file stem or database name for `branch`.
    pub fn name_for(&self, branch: &str) -> String {
        match &self.inner {
            Inner::Sqlite { .. } => file_name(branch),
            Inner::Postgres(login) => postgres_name(&login.database, "__mg_", branch),
        }
    }

    /// Copy the live database into `branch`'s snapshot, replacing an older
    /// one only once the new copy is complete.
    pub fn save(&self, branch: &str) -> Result<SnapshotInfo, DbError> {
        match &self.inner {
            Inner::Sqlite { live, dir } => sqlite::save(live, dir, branch),
            Inner::Postgres(login) => postgres::save(login, branch),
        }
    }

    /// Replace the live database with `branch`'s snapshot (which is kept).
    /// [`DbError::SnapshotMissing`] when there is none; the live database is
    /// untouched by every failure. On PostgreSQL every other connection to
    /// the live database (including an open [`AppliedReader`]) must be
    /// closed first, or this is [`DbError::InUse`].
    ///
    /// [`AppliedReader`]: crate::AppliedReader
    pub fn restore(&self, branch: &str) -> Result<(), DbError> {
        match &self.inner {
            Inner::Sqlite { live, dir } => sqlite::restore(live, dir, branch),
            Inner::Postgres(login) => postgres::restore(login, branch),
        }
    }

    /// Whether `branch` has a snapshot.
    pub fn exists(&self, branch: &str) -> Result<bool, DbError> {
        match &self.inner {
            Inner::Sqlite { dir, .. } => Ok(sqlite::path_for(dir, branch).is_file()),
            Inner::Postgres(login) => postgres::exists(login, branch),
        }
    }

    /// The URL of `branch`'s snapshot, to read it as a database of its own
    /// (the snapshot file; the snapshot database on the same server).
    /// [`DbError::SnapshotMissing`] for an SQLite snapshot that is not there.
    pub fn url_of(&self, branch: &str) -> Result<DatabaseUrl, DbError> {
        match &self.inner {
            Inner::Sqlite { dir, .. } => {
                let path = sqlite::path_for(dir, branch);
                if !path.is_file() {
                    return Err(DbError::SnapshotMissing {
                        branch: branch.to_owned(),
                        name: self.name_for(branch),
                    });
                }
                Ok(DatabaseUrl::Sqlite(path))
            }
            Inner::Postgres(login) => {
                let mut address = login.address.clone();
                address.database = self.name_for(branch);
                Ok(DatabaseUrl::Postgres(address))
            }
        }
    }

    /// Every snapshot of this live database.
    pub fn list(&self) -> Result<Vec<SnapshotInfo>, DbError> {
        match &self.inner {
            Inner::Sqlite { dir, .. } => sqlite::list(dir),
            Inner::Postgres(login) => postgres::list(login),
        }
    }

    /// Delete `branch`'s snapshot; `false` when there was none.
    pub fn drop_snapshot(&self, branch: &str) -> Result<bool, DbError> {
        match &self.inner {
            Inner::Sqlite { dir, .. } => sqlite::drop(dir, branch),
            Inner::Postgres(login) => postgres::drop(login, branch),
        }
    }
}

/// The directory of one SQLite database's snapshots: its file name and a
/// hash of its canonical path (`db.sqlite3-1f2e3d4c5b6a7988`), so the same
/// file reached through a symlink or a relative path has the same one and
/// another file (another worktree's, another project's) never does.
fn database_dir_name(live: &Path) -> String {
    let canonical = live.canonicalize().unwrap_or_else(|_| {
        // Not created yet: its directory, canonical, and its name.
        let absolute = std::path::absolute(live).unwrap_or_else(|_| live.to_path_buf());
        match (absolute.parent(), absolute.file_name()) {
            (Some(parent), Some(name)) => parent
                .canonicalize()
                .map(|p| p.join(name))
                .unwrap_or(absolute.clone()),
            _ => absolute.clone(),
        }
    });
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let name = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (clean, _) = sanitise(&name, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
    });
    format!(
        "{}-{hash:016x}",
        truncate(clean.trim_start_matches('.'), 40)
    )
}

/// A short, stable hash (FNV-1a, 32 bits, hex) to keep sanitised names apart.
fn short_hash(text: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// `text` cut to at most `max` bytes on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Replace every character outside `keep` by `_`; also says whether anything
/// changed.
fn sanitise(text: &str, keep: impl Fn(char) -> bool) -> (String, bool) {
    let mut changed = false;
    let out = text
        .chars()
        .map(|c| {
            if keep(c) {
                c
            } else {
                changed = true;
                '_'
            }
        })
        .collect();
    (out, changed)
}

/// The snapshot file stem for a branch: `feature_login-7f3a9c01` for
/// `feature/login`; plain names stay as they are.
pub fn file_name(branch: &str) -> String {
    let (clean, changed) = sanitise(branch, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
    });
    let clean = clean.trim_start_matches('.').to_owned();
    if !changed && clean.len() == branch.len() && !clean.is_empty() && clean.len() <= FILE_MAX_NAME
    {
        return clean;
    }
    let hash = short_hash(branch);
    format!(
        "{}-{hash}",
        truncate(&clean, FILE_MAX_NAME - hash.len() - 1)
    )
}

/// `<db><marker><branch>`, sanitised to `[A-Za-z0-9_]` and cut to 63 bytes;
/// a hash of the full names is appended whenever anything was changed, so
/// that different branches never share a name.
pub fn postgres_name(db: &str, marker: &str, branch: &str) -> String {
    let (clean, changed) = sanitise(branch, |c| c.is_ascii_alphanumeric() || c == '_');
    let plain = format!("{db}{marker}{clean}");
    if !changed && !clean.is_empty() && plain.len() <= POSTGRES_MAX_NAME {
        return plain;
    }
    let hash = short_hash(&format!("{db}\0{marker}\0{branch}"));
    // <db part><marker><branch part>_<hash>
    let budget = POSTGRES_MAX_NAME - marker.len() - 1 - hash.len();
    let db_part = truncate(
        db,
        budget
            .min(db.len())
            .min(budget / 2)
            .max(budget.saturating_sub(clean.len())),
    );
    let branch_part = truncate(&clean, budget - db_part.len());
    format!("{db_part}{marker}{branch_part}_{hash}")
}

/// For `DbError::Io`.
fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> DbError {
    DbError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(file_name("main"), "main");
        assert_eq!(file_name("release-1.2"), "release-1.2");
        let a = file_name("feature/login");
        let b = file_name("feature_login");
        assert!(a.starts_with("feature_login-"), "{a}");
        assert_eq!(b, "feature_login");
        assert_ne!(a, b);
        assert!(!file_name("../../etc/passwd").contains('/'));
        assert!(!file_name(".hidden").starts_with('.'));
        assert!(file_name(&"x".repeat(300)).len() <= FILE_MAX_NAME);
    }

    #[test]
    fn postgres_names_fit_and_differ() {
        assert_eq!(postgres_name("shop", "__mg_", "main"), "shop__mg_main");
        let long_branch = "feature/".to_owned() + &"very-long-branch-name-".repeat(5);
        let n1 = postgres_name("shop", "__mg_", &long_branch);
        let n2 = postgres_name("shop", "__mg_", &(long_branch.clone() + "2"));
        assert!(n1.len() <= POSTGRES_MAX_NAME && n2.len() <= POSTGRES_MAX_NAME);
        assert_ne!(n1, n2);
        assert!(n1.starts_with("shop__mg_feature_"), "{n1}");
        let long_db = "d".repeat(63);
        let n3 = postgres_name(&long_db, "__mg_", "main");
        assert!(n3.len() <= POSTGRES_MAX_NAME, "{n3}");
        assert!(n3.contains("__mg_main"), "{n3}");
        let n4 = postgres_name("bäckerei", "__mg_", "ü");
        assert!(n4.len() <= POSTGRES_MAX_NAME);
    }
}
