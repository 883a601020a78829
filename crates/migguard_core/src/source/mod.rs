//! Where project files come from.
//!
//! Every analysis reads through [`ProjectSource`], so the same code runs on
//! the working tree ([`WorkTree`]), on a commit or on the staging area (the
//! git adapters in `migguard_git`), or on files held in memory.

mod decode;
mod line_index;
mod span;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use decode::{decode_python, DecodeError};
pub use line_index::LineIndex;
pub use span::Span;

use crate::error::SourceError;

/// A tree of project files, addressed by `/`-separated paths relative to
/// the project root.
pub trait ProjectSource: Send + Sync {
    /// For messages: "the working tree", "the staging area", "commit 1a2b3c4".
    fn describe(&self) -> String;

    /// Every file below the project root that could matter to Django,
    /// sorted. Virtualenvs, caches, hidden and vendored directories are left
    /// out.
    fn list(&self) -> Result<Vec<String>, SourceError>;

    /// A file's bytes.
    fn read(&self, path: &str) -> Result<Vec<u8>, SourceError>;

    /// The content id of a file (the git blob id) when the source knows it
    /// without reading it. Used as a cache key: equal ids mean equal bytes.
    fn content_id(&self, _path: &str) -> Option<String> {
        None
    }

    /// The name of the project root directory itself, when known: the label
    /// of an app whose `migrations/` sits directly in the root.
    fn root_name(&self) -> Option<String> {
        None
    }
}

/// Directories never worth descending into when looking for Django apps.
pub fn is_pruned_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "node_modules" | "__pycache__" | "site-packages" | "dist-packages" | "htmlcov"
        )
}

/// The files on disk below a directory.
#[derive(Debug, Clone)]
pub struct WorkTree {
    root: PathBuf,
}

impl WorkTree {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        WorkTree { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl ProjectSource for WorkTree {
    fn describe(&self) -> String {
        "the working tree".to_owned()
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        if !self.root.is_dir() {
            return Err(SourceError::NotADirectory(self.root.clone()));
        }
        let walker = walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|entry| {
                if entry.depth() == 0 || !entry.file_type().is_dir() {
                    return true;
                }
                let name = entry.file_name().to_string_lossy();
                // A virtualenv announces itself with pyvenv.cfg.
                !is_pruned_dir(&name) && !entry.path().join("pyvenv.cfg").exists()
            });
        let mut files = Vec::new();
        for entry in walker {
            let entry = entry.map_err(|err| SourceError::Walk {
                path: err.path().map(Path::to_path_buf).unwrap_or_default(),
                message: err.to_string(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            if let Ok(rel) = entry.path().strip_prefix(&self.root) {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push(rel.join("/"));
            }
        }
        files.sort();
        Ok(files)
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        let full = self.root.join(path);
        std::fs::read(&full).map_err(|source| SourceError::Read {
            path: path.to_owned(),
            source,
        })
    }

    fn content_id(&self, _path: &str) -> Option<String> {
        None
    }

    fn root_name(&self) -> Option<String> {
        let root = self.root.canonicalize().ok()?;
        Some(root.file_name()?.to_string_lossy().into_owned())
    }
}

/// Files held in memory: for tests and for content handed over by a caller.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    files: BTreeMap<String, Vec<u8>>,
    name: String,
}

impl MemorySource {
    pub fn new(name: impl Into<String>) -> Self {
        MemorySource {
            files: BTreeMap::new(),
            name: name.into(),
        }
    }

    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(path.into(), content.into());
        self
    }

    pub fn with(mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) -> Self {
        self.insert(path, content);
        self
    }
}

impl ProjectSource for MemorySource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.files.keys().cloned().collect())
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| SourceError::Read {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            })
    }
}

/// The git blob id of some bytes: what `git hash-object` prints. Lets a
/// working-tree file share cache entries with the same content in git.
pub fn blob_id(bytes: &[u8]) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher.digest().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_id_matches_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}
