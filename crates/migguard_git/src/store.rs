//! migguard's store of applied migrations: the content of every migration
//! file the post-checkout hook has seen applied in the database, so that a
//! migration can still be unapplied (and described) after its branch was
//! deleted or rebased away.
//!
//! Content-addressed by blob id, as git stores the file, under
//! `<common dir>/migguard/applied/`:
//!
//! ```text
//! index.json              {"blog.0011_post_legacy_id": {"blob": "<id>", "path": "blog/migrations/0011_post_legacy_id.py", "seen": "2025-01-31T12:00:00Z"}, ...}
//! objects/ab/cdef...      the file's bytes, named by its git blob id
//! ```
//!
//! The bytes are also written into the repository's object database, so
//! `git cat-file blob <id>` shows them; the copy under `objects/` is what
//! survives `git gc` once no commit holds the file any more. The index is
//! written atomically (a temporary file renamed over it), merged with what
//! another process may have written meanwhile. Like the parse cache, the
//! store never decides an answer on its own: an unreadable index is empty.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository};

use crate::error::{git_message, CacheError};
use crate::repo::{lock, Repo};

const INDEX: &str = "index.json";

/// One migration in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMigration {
    /// The git blob id of the file's content.
    pub blob: String,
    /// Where the file was, project-relative.
    pub path: String,
    /// When the hook last saw it applied (UTC, RFC 3339).
    pub seen: String,
}

/// The store of one repository. See the module documentation.
pub struct AppliedStore {
    dir: PathBuf,
    repo: Option<Arc<Mutex<Repository>>>,
    entries: BTreeMap<String, StoredMigration>,
    dirty: bool,
}

impl std::fmt::Debug for AppliedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppliedStore")
            .field("dir", &self.dir)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

fn key(app: &str, name: &str) -> String {
    format!("{app}.{name}")
}

impl AppliedStore {
    /// The store of `repo`, in its common git directory (shared by all
    /// worktrees).
    pub fn open(repo: &Repo) -> AppliedStore {
        let dir = repo.common_dir().join("migguard").join("applied");
        AppliedStore {
            entries: read_index(&dir.join(INDEX)),
            dir,
            repo: Some(repo.handle()),
            dirty: false,
        }
    }

    /// A store kept in `dir` itself, without a repository.
    pub fn in_dir(dir: &Path) -> AppliedStore {
        AppliedStore {
            entries: read_index(&dir.join(INDEX)),
            dir: dir.to_path_buf(),
            repo: None,
            dirty: false,
        }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the store knows of a migration.
    pub fn entry(&self, app: &str, name: &str) -> Option<&StoredMigration> {
        self.entries.get(&key(app, name))
    }

    /// Every migration in the store: `(app, name)` and its entry.
    pub fn entries(&self) -> impl Iterator<Item = ((&str, &str), &StoredMigration)> {
        self.entries.iter().map(|(k, v)| {
            let (app, name) = k.split_once('.').unwrap_or((k.as_str(), ""));
            ((app, name), v)
        })
    }

    /// Whether the store holds this content for this migration.
    pub fn has(&self, app: &str, name: &str, blob: &str) -> bool {
        self.entry(app, name).is_some_and(|e| e.blob == blob) && self.object_path(blob).is_file()
    }

    /// Where the store keeps the content of blob `blob` (whether or not it
    /// holds it).
    pub fn object_file(&self, blob: &str) -> PathBuf {
        self.object_path(blob)
    }

    fn object_path(&self, blob: &str) -> PathBuf {
        let (dir, file) = blob.split_at(blob.len().min(2));
        self.dir.join("objects").join(dir).join(file)
    }

    /// Keep `bytes` as the content of migration `app.name` at `path`.
    /// `blob_id` must be git's blob id of `bytes`. Written to disk by
    /// [`AppliedStore::save`] (the object file at once).
    pub fn record(
        &mut self,
        app: &str,
        name: &str,
        path: &str,
        blob_id: &str,
        bytes: &[u8],
    ) -> Result<(), CacheError> {
        let actual = Oid::hash_object(ObjectType::Blob, bytes)
            .map(|o| o.to_string())
            .unwrap_or_default();
        if actual != blob_id {
            return Err(CacheError::Write {
                path: self.object_path(blob_id),
                error: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the content of {path} is blob {actual}, not {blob_id}"),
                ),
            });
        }
        let object = self.object_path(blob_id);
        if !object.is_file() {
            write_atomically(&object, bytes)?;
        }
        if let Some(repo) = &self.repo {
            let git = lock(repo);
            let exists = git
                .odb()
                .map(|odb| Oid::from_str(blob_id).is_ok_and(|oid| odb.exists(oid)))
                .unwrap_or(false);
            if !exists {
                // The copy under objects/ is what counts; this is a courtesy.
                let _ = git.blob(bytes);
            }
        }
        let entry = StoredMigration {
            blob: blob_id.to_owned(),
            path: path.to_owned(),
            seen: now_utc(),
        };
        let slot = self.entries.entry(key(app, name));
        match slot {
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if o.get().blob != entry.blob
                    || o.get().path != entry.path
                    || !same_day(&o.get().seen, &entry.seen)
                {
                    o.insert(entry);
                    self.dirty = true;
                }
            }
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(entry);
                self.dirty = true;
            }
        }
        Ok(())
    }

    /// [`AppliedStore::record`] for a file git already has (from a commit's
    /// tree): read only when the store does not hold that content yet.
    /// Returns whether anything was added.
    pub fn record_blob(
        &mut self,
        app: &str,
        name: &str,
        path: &str,
        blob_id: &str,
    ) -> Result<bool, CacheError> {
        if self.has(app, name, blob_id) {
            if let Some(entry) = self.entries.get_mut(&key(app, name)) {
                let now = now_utc();
                if !same_day(&entry.seen, &now) || entry.path != path {
                    entry.seen = now;
                    entry.path = path.to_owned();
                    self.dirty = true;
                }
            }
            return Ok(false);
        }
        let Some(repo) = &self.repo else {
            return Ok(false);
        };
        let bytes = {
            let git = lock(repo);
            let oid = Oid::from_str(blob_id).map_err(|e| read_error(&self.dir, &e))?;
            let blob = git.find_blob(oid).map_err(|e| read_error(&self.dir, &e))?;
            blob.content().to_vec()
        };
        self.record(app, name, path, blob_id, &bytes)?;
        Ok(true)
    }

    /// The stored file of a migration: its path and content. The object
    /// file first, then the repository's object database.
    pub fn lookup(&self, app: &str, name: &str) -> Option<(String, Vec<u8>)> {
        let entry = self.entry(app, name)?;
        if let Ok(bytes) = std::fs::read(self.object_path(&entry.blob)) {
            return Some((entry.path.clone(), bytes));
        }
        let repo = self.repo.as_ref()?;
        let git = lock(repo);
        let blob = git.find_blob(Oid::from_str(&entry.blob).ok()?).ok()?;
        Some((entry.path.clone(), blob.content().to_vec()))
    }

    /// Write the index if anything changed, merged with the one on disk.
    pub fn save(&mut self) -> Result<(), CacheError> {
        if !self.dirty {
            return Ok(());
        }
        let mut merged = read_index(&self.dir.join(INDEX));
        for (k, v) in &self.entries {
            merged.insert(k.clone(), v.clone());
        }
        let object: serde_json::Map<String, serde_json::Value> = merged
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::json!({ "blob": v.blob, "path": v.path, "seen": v.seen }),
                )
            })
            .collect();
        let mut text =
            serde_json::to_string_pretty(&serde_json::Value::Object(object)).unwrap_or_default();
        text.push('\n');
        write_atomically(&self.dir.join(INDEX), text.as_bytes())?;
        self.entries = merged;
        self.dirty = false;
        Ok(())
    }
}

fn read_error(dir: &Path, error: &git2::Error) -> CacheError {
    CacheError::Write {
        path: dir.to_path_buf(),
        error: std::io::Error::other(git_message(error)),
    }
}

/// The index at `path`; empty when missing or unreadable.
fn read_index(path: &Path) -> BTreeMap<String, StoredMigration> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text)
    else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| {
            let field = |name: &str| v.get(name).and_then(|x| x.as_str()).map(str::to_owned);
            let blob = field("blob")?;
            if blob.len() < 40 || !blob.bytes().all(|b| b.is_ascii_hexdigit()) || !k.contains('.') {
                return None;
            }
            Some((
                k,
                StoredMigration {
                    blob,
                    path: field("path").unwrap_or_default(),
                    seen: field("seen").unwrap_or_default(),
                },
            ))
        })
        .collect()
}

/// Write `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let error = |error: std::io::Error| CacheError::Write {
        path: path.to_path_buf(),
        error,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".applied-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(error)?;
    temp.write_all(bytes).map_err(error)?;
    temp.flush().map_err(error)?;
    temp.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

fn same_day(a: &str, b: &str) -> bool {
    a.get(..10).is_some() && a.get(..10) == b.get(..10)
}

/// Now, `YYYY-MM-DDTHH:MM:SSZ`.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A commit of [`Repo::recent_commits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentCommit {
    pub oid: Oid,
    /// A branch whose tip it is (`main`, `origin/feature`), if any.
    pub branch: Option<String>,
}

impl Repo {
    /// The last branch switch recorded in `HEAD`'s reflog: `(from, to)` of
    /// its message `checkout: moving from X to Y` (branch names, or commit
    /// ids for a detached HEAD). `None` when the last entry is something
    /// else (a commit, a reset) or there is no reflog.
    pub fn last_checkout(&self) -> Option<(String, String)> {
        let git = self.lock();
        let reflog = git.reflog("HEAD").ok()?;
        let entry = reflog.get(0)?;
        let message = entry.message()?;
        let rest = message.strip_prefix("checkout: moving from ")?;
        let (from, to) = rest.rsplit_once(" to ")?;
        Some((from.trim().to_owned(), to.trim().to_owned()))
    }

    /// Whether `name` is a local branch pointing at commit `oid`.
    pub fn branch_points_at(&self, name: &str, oid: Oid) -> bool {
        let git = self.lock();
        git.find_branch(name, git2::BranchType::Local)
            .ok()
            .and_then(|b| b.get().peel_to_commit().ok())
            .is_some_and(|c| c.id() == oid)
    }

    /// Where the files of a migration applied from another branch are most
    /// likely to be: the commits of `HEAD`'s reflog, newest first (the
    /// previous `HEAD` is usually it), then the tips of the local and
    /// remote-tracking branches, most recently committed first; each commit
    /// once, at most `max`, with the first branch whose tip it is.
    pub fn recent_commits(&self, max: usize) -> Vec<RecentCommit> {
        let git = self.lock();
        let mut tips: Vec<(i64, Oid, String)> = git
            .branches(None)
            .map(|branches| {
                branches
                    .flatten()
                    .filter(|(branch, _)| branch.get().symbolic_target().is_none())
                    .filter_map(|(branch, _)| {
                        let commit = branch.get().peel_to_commit().ok()?;
                        let name = branch.name().ok().flatten()?.to_owned();
                        let when = commit.committer().when().seconds();
                        Some((when, commit.id(), name))
                    })
                    .collect()
            })
            .unwrap_or_default();
        tips.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
        let reflog: Vec<Oid> = git
            .reflog("HEAD")
            .map(|log| log.iter().take(500).map(|e| e.id_new()).collect())
            .unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        reflog
            .into_iter()
            .chain(tips.iter().map(|(_, oid, _)| *oid))
            .filter(|oid| !oid.is_zero() && seen.insert(*oid))
            .take(max)
            .map(|oid| RecentCommit {
                oid,
                branch: tips
                    .iter()
                    .find(|(_, tip, _)| *tip == oid)
                    .map(|(_, _, name)| name.clone()),
            })
            .collect()
    }

    /// Local branches whose tip has exactly blob `blob` at `path`
    /// (repository-relative), sorted.
    pub fn branches_with_file(&self, path: &str, blob: &str) -> Vec<String> {
        let git = self.lock();
        let Ok(branches) = git.branches(Some(git2::BranchType::Local)) else {
            return Vec::new();
        };
        let mut out: Vec<String> = branches
            .flatten()
            .filter_map(|(branch, _)| {
                let tree = branch.get().peel_to_tree().ok()?;
                let entry = tree.get_path(Path::new(path)).ok()?;
                if entry.id().to_string() != blob {
                    return None;
                }
                branch.name().ok().flatten().map(str::to_owned)
            })
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let now = now_utc();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
        assert!(same_day("2025-01-31T00:00:00Z", "2025-01-31T23:59:59Z"));
        assert!(!same_day("2025-01-31T00:00:00Z", "2025-02-01T00:00:00Z"));
    }

    #[test]
    fn records_and_looks_up_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"class Migration: pass\n";
        let blob = Oid::hash_object(ObjectType::Blob, bytes)
            .unwrap()
            .to_string();
        let mut store = AppliedStore::in_dir(dir.path());
        assert!(store
            .record(
                "blog",
                "0001_x",
                "blog/migrations/0001_x.py",
                &"0".repeat(40),
                bytes
            )
            .is_err());
        store
            .record("blog", "0001_x", "blog/migrations/0001_x.py", &blob, bytes)
            .unwrap();
        store.save().unwrap();
        let again = AppliedStore::in_dir(dir.path());
        assert!(again.has("blog", "0001_x", &blob));
        assert_eq!(
            again.lookup("blog", "0001_x"),
            Some(("blog/migrations/0001_x.py".to_owned(), bytes.to_vec()))
        );
        assert_eq!(again.lookup("blog", "0002_y"), None);
        let listed: Vec<_> = again.entries().map(|(k, _)| k).collect();
        assert_eq!(listed, vec![("blog", "0001_x")]);
        // A corrupt index is an empty store.
        std::fs::write(dir.path().join(INDEX), "{not json").unwrap();
        assert_eq!(AppliedStore::in_dir(dir.path()).entries().count(), 0);
    }
}
