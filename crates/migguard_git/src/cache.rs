//! The on-disk parse cache: parsed migrations by content, shared by every
//! worktree of a repository.
//!
//! One pack file, `<common dir>/migguard/cache/parse-v1.pack`:
//!
//! ```text
//! migguard-parse-cache 1
//! <key>\t<ParsedMigration as one line of JSON>
//! ...
//! ```
//!
//! Loading only splits the file into lines and indexes them by key (no
//! JSON is parsed), so opening a pack of thousands of entries costs about
//! one file read; an entry is deserialized when asked for, on the caller's
//! thread, so the parser's worker threads share that work. New entries are
//! kept in memory and written by one [`DiskCache::flush`]: merged with what
//! another process may have written meanwhile, to a temporary file in the
//! same directory renamed over the pack (readers see the old or the new
//! pack, never half of one).
//!
//! The cache only ever saves time: an unreadable, foreign or corrupt pack
//! is treated as empty, an entry that does not deserialize is a miss (and
//! is replaced by the fresh parse on the next flush).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use migguard_core::parse::ParsedMigration;
use migguard_core::project::{ModuleRead, ParseCache};

use crate::error::CacheError;

const HEADER: &str = "migguard-parse-cache 1";
const FILE_NAME: &str = "parse-v1.pack";
/// Entries not used by a run are dropped once the pack holds more than
/// this many times the entries used...
const PRUNE_FACTOR: usize = 4;
/// ...and more than this many entries (so that two projects sharing a
/// repository do not evict each other).
const PRUNE_FLOOR: usize = 2048;

/// The parse cache of one repository. See the module documentation.
pub struct DiskCache {
    dir: PathBuf,
    file: PathBuf,
    pack: OnceLock<Pack>,
    run: Mutex<Run>,
}

/// A pack as read: its text and, by key, where each entry's JSON is.
#[derive(Default)]
struct Pack {
    text: String,
    index: HashMap<String, Range<usize>>,
}

/// This run's use of the cache.
#[derive(Default)]
struct Run {
    /// Keys answered from the pack.
    used: HashSet<String>,
    /// Entries put, as JSON.
    fresh: HashMap<String, String>,
    /// Whether something was put since the last flush.
    dirty: bool,
    /// Whether this cache has written the pack.
    written: bool,
}

impl std::fmt::Debug for DiskCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskCache")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl DiskCache {
    /// The cache of the repository whose common git directory is
    /// `common_dir` (see [`crate::Repo::common_dir`]). Nothing is read
    /// until the first lookup, nothing written until [`DiskCache::flush`].
    pub fn open(common_dir: &Path) -> DiskCache {
        DiskCache::in_dir(&common_dir.join("migguard").join("cache"))
    }

    /// A cache kept in `dir` itself.
    pub fn in_dir(dir: &Path) -> DiskCache {
        DiskCache {
            dir: dir.to_path_buf(),
            file: dir.join(FILE_NAME),
            pack: OnceLock::new(),
            run: Mutex::new(Run::default()),
        }
    }

    /// The pack file.
    pub fn path(&self) -> &Path {
        &self.file
    }

    fn pack(&self) -> &Pack {
        self.pack.get_or_init(|| Pack::read(&self.file))
    }

    fn run(&self) -> MutexGuard<'_, Run> {
        self.run
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write this run's new entries, if any, merged with the pack as it is
    /// on disk now. Entries this run did not use are dropped when the pack
    /// has grown past four times the used set (and past 2,048 entries).
    /// Does nothing when there is nothing new.
    pub fn flush(&self) -> Result<(), CacheError> {
        let pack = self.pack();
        let mut run = self.run();
        let live = run.used.len() + run.fresh.keys().filter(|k| !run.used.contains(*k)).count();
        let known = pack.index.len()
            + run
                .fresh
                .keys()
                .filter(|k| !pack.index.contains_key(*k))
                .count();
        // A run that read nothing (an analysis that failed early, a command
        // that never got to the files) says nothing about what is live.
        let prune = live > 0 && known > (PRUNE_FACTOR * live).max(PRUNE_FLOOR);
        if !run.dirty && (run.written || !prune) {
            return Ok(());
        }

        // Another process may have written entries since this one loaded.
        let now = Pack::read(&self.file);
        let mut entries: BTreeMap<&str, &str> = BTreeMap::new();
        for source in [&now, pack] {
            for (key, range) in &source.index {
                entries
                    .entry(key.as_str())
                    .or_insert(&source.text[range.clone()]);
            }
        }
        for (key, json) in &run.fresh {
            entries.insert(key.as_str(), json.as_str());
        }
        if live > 0 && entries.len() > (PRUNE_FACTOR * live).max(PRUNE_FLOOR) {
            entries.retain(|key, _| run.used.contains(*key) || run.fresh.contains_key(*key));
        }

        let error = |error: std::io::Error| CacheError::Write {
            path: self.file.clone(),
            error,
        };
        std::fs::create_dir_all(&self.dir).map_err(error)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".parse-")
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(error)?;
        {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, temp.as_file_mut());
            writeln!(out, "{HEADER}").map_err(error)?;
            for (key, json) in &entries {
                writeln!(out, "{key}\t{json}").map_err(error)?;
            }
            out.flush().map_err(error)?;
        }
        temp.persist(&self.file).map_err(|e| error(e.error))?;
        run.dirty = false;
        run.written = true;
        Ok(())
    }
}

impl Pack {
    /// The pack at `path`; empty when it is missing, unreadable or not a
    /// pack of this version.
    fn read(path: &Path) -> Pack {
        let Ok(bytes) = std::fs::read(path) else {
            return Pack::default();
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return Pack::default();
        };
        let mut index = HashMap::new();
        let mut lines = text.split_inclusive('\n');
        let mut offset = match lines.next() {
            Some(first) if first.trim_end_matches(['\n', '\r']) == HEADER => first.len(),
            _ => return Pack::default(),
        };
        for line in lines {
            let start = offset;
            offset += line.len();
            let Some(body) = line.strip_suffix('\n') else {
                // A last line without its newline: cut short, not trusted.
                continue;
            };
            let Some((key, json)) = body.split_once('\t') else {
                continue;
            };
            if key.is_empty() || json.is_empty() {
                continue;
            }
            let json_start = start + key.len() + 1;
            index.insert(key.to_owned(), json_start..json_start + json.len());
        }
        Pack { text, index }
    }
}

/// Keys must fit on one line of the pack.
fn usable_key(key: &str) -> bool {
    !key.is_empty() && !key.contains(['\t', '\n', '\r'])
}

impl DiskCache {
    fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        if !usable_key(key) {
            return None;
        }
        let fresh = self.run().fresh.get(key).cloned();
        if let Some(json) = fresh {
            return serde_json::from_str(&json).ok();
        }
        let pack = self.pack();
        let range = pack.index.get(key)?;
        let value: T = serde_json::from_str(pack.text.get(range.clone())?).ok()?;
        self.run().used.insert(key.to_owned());
        Some(value)
    }

    fn put_json<T: serde::Serialize>(&self, key: &str, value: &T) {
        if !usable_key(key) {
            return;
        }
        // Compact JSON never contains a raw newline: one entry, one line.
        let Ok(json) = serde_json::to_string(value) else {
            return;
        };
        let mut run = self.run();
        run.fresh.insert(key.to_owned(), json);
        run.dirty = true;
    }
}

/// Migrations and models modules share the pack: their keys are digests
/// of different inputs (`cache_key`, `module_cache_key`).
impl ParseCache for DiskCache {
    fn get(&self, key: &str) -> Option<ParsedMigration> {
        self.get_json(key)
    }

    fn put(&self, key: &str, value: &ParsedMigration) {
        self.put_json(key, value);
    }

    fn get_module(&self, key: &str) -> Option<ModuleRead> {
        self.get_json(key)
    }

    fn put_module(&self, key: &str, value: &ModuleRead) {
        self.put_json(key, value);
    }
}
