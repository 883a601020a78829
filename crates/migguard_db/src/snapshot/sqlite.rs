//! SQLite snapshots: the online backup API, both ways.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;

use super::{file_name, io_error, SnapshotInfo};
use crate::backend::sqlite::{open_read_only, open_read_write, sqlite_error};
use crate::error::DbError;

/// How long a copy waits for another process's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(5);
const EXTENSION: &str = "sqlite3";

pub(super) fn path_for(dir: &Path, branch: &str) -> PathBuf {
    dir.join(format!("{}.{EXTENSION}", file_name(branch)))
}

fn info(path: &Path) -> SnapshotInfo {
    SnapshotInfo {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        branch: None,
        location: path.display().to_string(),
    }
}

/// Copy every page of `from` into `to` in one step (so the copy is one
/// consistent read of the source and one write transaction on the
/// destination), retrying while another process holds a lock.
fn copy(from: &Connection, to: &mut Connection, locked: &Path) -> Result<(), DbError> {
    let backup = Backup::new(from, to).map_err(|e| sqlite_error(locked, &e))?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match backup.step(-1).map_err(|e| sqlite_error(locked, &e))? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked => {
                if Instant::now() >= deadline {
                    return Err(DbError::InUse {
                        what: "SQLite database",
                        database: locked.display().to_string(),
                        sessions: Vec::new(),
                        query: format!("fuser {} (or lsof)", locked.display()),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // `StepResult` is non-exhaustive.
            _ => {}
        }
    }
}

pub(super) fn save(live: &Path, dir: &Path, branch: &str) -> Result<SnapshotInfo, DbError> {
    let source = open_read_only(live)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| io_error("cannot create the snapshot directory", dir, e))?;
    let path = path_for(dir, branch);
    // Write beside the target and rename: an older snapshot is replaced only
    // by a complete copy.
    let temp = dir.join(format!(".{}.{}.tmp", file_name(branch), std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut dest = open_read_write(&temp)?;
        copy(&source, &mut dest, live)?;
        dest.close().map_err(|(_, e)| sqlite_error(&temp, &e))?;
        std::fs::rename(&temp, &path)
            .map_err(|e| io_error("cannot move the snapshot into place at", &path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map(|()| info(&path))
}

pub(super) fn restore(live: &Path, dir: &Path, branch: &str) -> Result<(), DbError> {
    let path = path_for(dir, branch);
    if !path.is_file() {
        return Err(DbError::SnapshotMissing {
            branch: branch.to_owned(),
            name: path.display().to_string(),
        });
    }
    // Make sure the snapshot is a readable database before touching the
    // live file.
    let source = open_read_only(&path)?;
    source
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(|e| sqlite_error(&path, &e))?;
    let mut dest = open_read_write(live)?;
    copy(&source, &mut dest, live)?;
    dest.close().map_err(|(_, e)| sqlite_error(live, &e))?;
    Ok(())
}

pub(super) fn list(dir: &Path) -> Result<Vec<SnapshotInfo>, DbError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("cannot list the snapshot directory", dir, e)),
    };
    let mut out: Vec<SnapshotInfo> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == EXTENSION)
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                && p.is_file()
        })
        .map(|p| info(&p))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub(super) fn drop(dir: &Path, branch: &str) -> Result<bool, DbError> {
    let path = path_for(dir, branch);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("cannot delete the snapshot", &path, e)),
    }
}
