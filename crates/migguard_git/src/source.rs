//! [`ProjectSource`]s reading from git: a commit's tree and the staging
//! area.
//!
//! Both list their files once, when made (a sorted `(path, blob id)` table),
//! so `list` and `content_id` cost nothing afterwards; blobs are read only
//! when asked for. Both are restricted to a project directory `prefix`
//! inside the repository: the paths they return and accept are relative to
//! it and `/`-separated (`""` is the repository's top).
//!
//! Like the working-tree source, they leave out directories that never hold
//! a Django app ([`is_pruned_dir`], and virtualenvs: a directory holding
//! `pyvenv.cfg`), and also submodules (gitlinks), symbolic links and paths
//! that are not UTF-8.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository, Tree};
use migguard_core::error::SourceError;
use migguard_core::source::{is_pruned_dir, ProjectSource};

use crate::error::{git_message, GitError};
use crate::repo::{lock, resolve_commit, short_id, Repo};

/// Regular files in git: `100644` and `100755`.
pub(crate) fn is_regular_file_mode(mode: u32) -> bool {
    matches!(mode, 0o100644 | 0o100755)
}

/// `path/to/project/` → `path/to/project`; `.` and `./` → ``.
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    let parts: Vec<&str> = prefix
        .split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    parts.join("/")
}

/// `path` relative to `prefix` (normalized), if it lies below it.
pub(crate) fn relative_to<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(path);
    }
    path.strip_prefix(prefix)?.strip_prefix('/')
}

/// `rel` joined below `prefix`.
pub(crate) fn join_prefix(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_owned()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// Whether no directory on the way to `rel` is pruned.
fn in_kept_dirs(rel: &str) -> bool {
    match rel.rsplit_once('/') {
        Some((dirs, _)) => dirs.split('/').all(|dir| !is_pruned_dir(dir)),
        None => true,
    }
}

/// The file table shared by both sources: sorted by path, one row per
/// path; `None` for a path in conflict.
#[derive(Debug, Default)]
struct Files {
    rows: Vec<(String, Option<Oid>)>,
}

impl Files {
    fn new(mut rows: Vec<(String, Option<Oid>)>) -> Files {
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        // Conflicted index entries come once per stage: keep one row.
        rows.dedup_by(|next, kept| {
            if next.0 == kept.0 {
                kept.1 = None;
                true
            } else {
                false
            }
        });
        // Virtualenvs below the project root, as the working tree does.
        let venvs: Vec<String> = rows
            .iter()
            .filter_map(|(path, _)| path.strip_suffix("/pyvenv.cfg"))
            .map(|dir| format!("{dir}/"))
            .collect();
        if !venvs.is_empty() {
            rows.retain(|(path, _)| !venvs.iter().any(|dir| path.starts_with(dir.as_str())));
        }
        Files { rows }
    }

    fn paths(&self) -> Vec<String> {
        self.rows.iter().map(|(path, _)| path.clone()).collect()
    }

    fn get(&self, path: &str) -> Option<Option<Oid>> {
        self.rows
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .map(|i| self.rows[i].1)
    }
}

fn not_found(path: &str) -> SourceError {
    SourceError::Read {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
    }
}

fn read_blob(repo: &Mutex<Repository>, oid: Oid, path: &str) -> Result<Vec<u8>, SourceError> {
    let repo = lock(repo);
    let blob = repo.find_blob(oid).map_err(|error| {
        SourceError::Backend(format!(
            "cannot read {path} (blob {oid}) from the git object database: {}",
            git_message(&error)
        ))
    })?;
    Ok(blob.content().to_vec())
}

/// The files of one commit. Never looks at the working tree.
pub struct TreeSource {
    repo: Arc<Mutex<Repository>>,
    commit: Oid,
    description: String,
    files: Files,
    root_name: Option<String>,
}

impl std::fmt::Debug for TreeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeSource")
            .field("commit", &self.commit)
            .field("description", &self.description)
            .field("files", &self.files.rows.len())
            .finish_non_exhaustive()
    }
}

impl TreeSource {
    /// The tree of the commit `rev` names, below `prefix`. A `prefix` the
    /// commit does not have gives an empty source.
    pub fn at(repo: &Repo, rev: &str, prefix: &str) -> Result<TreeSource, GitError> {
        let handle = repo.handle();
        let (commit, description, rows) = {
            let git = lock(&handle);
            let commit = resolve_commit(&git, rev)?;
            let short = short_id(&git, commit);
            let description = if commit.to_string().starts_with(&rev.to_ascii_lowercase()) {
                format!("commit {short}")
            } else {
                format!("commit {short} ({rev})")
            };
            let tree = git
                .find_commit(commit)
                .and_then(|c| c.tree())
                .map_err(|error| {
                    GitError::git(format!("cannot read the tree of {description}"), &error)
                })?;
            let rows = list_tree(&git, &tree, &normalize_prefix(prefix))
                .map_err(|error| GitError::git(format!("cannot list {description}"), &error))?;
            (commit, description, rows)
        };
        Ok(TreeSource {
            repo: handle,
            commit,
            description,
            files: Files::new(rows),
            root_name: root_name(repo, prefix),
        })
    }

    /// The commit read.
    pub fn commit(&self) -> Oid {
        self.commit
    }
}

/// Every regular file below `prefix` in `tree`, relative to `prefix`,
/// pruned directories not entered.
fn list_tree(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: &str,
) -> Result<Vec<(String, Option<Oid>)>, git2::Error> {
    let start = if prefix.is_empty() {
        tree.clone()
    } else {
        match tree.get_path(Path::new(prefix)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => repo.find_tree(entry.id())?,
            Ok(_) => return Ok(Vec::new()),
            Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        }
    };
    let mut rows = Vec::new();
    let mut pending = vec![(String::new(), start)];
    while let Some((dir, tree)) = pending.pop() {
        for entry in tree.iter() {
            let Ok(name) = std::str::from_utf8(entry.name_bytes()) else {
                continue;
            };
            match entry.kind() {
                Some(ObjectType::Tree) if !is_pruned_dir(name) => {
                    let sub = repo.find_tree(entry.id())?;
                    pending.push((format!("{dir}{name}/"), sub));
                }
                Some(ObjectType::Blob) if is_regular_file_mode(entry.filemode() as u32) => {
                    rows.push((format!("{dir}{name}"), Some(entry.id())));
                }
                _ => {}
            }
        }
    }
    Ok(rows)
}

/// The name of the project directory: the last part of `prefix`, or the
/// work tree's own directory at the top (what the working-tree source
/// answers for the same directory, so an app whose `migrations/` sits at the
/// project root gets the same label from every source).
fn root_name(repo: &Repo, prefix: &str) -> Option<String> {
    let prefix = normalize_prefix(prefix);
    if let Some(last) = prefix.rsplit('/').next().filter(|p| !p.is_empty()) {
        return Some(last.to_owned());
    }
    let workdir = repo.workdir()?;
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    Some(workdir.file_name()?.to_string_lossy().into_owned())
}

impl ProjectSource for TreeSource {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.files.paths())
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        match self.files.get(path) {
            Some(Some(oid)) => read_blob(&self.repo, oid, path),
            _ => Err(not_found(path)),
        }
    }

    fn content_id(&self, path: &str) -> Option<String> {
        self.files.get(path).flatten().map(|oid| oid.to_string())
    }

    fn root_name(&self) -> Option<String> {
        self.root_name.clone()
    }
}

/// The staging area: what `git commit` is about to record.
///
/// A path with unresolved merge conflicts (index stages 1-3) is listed
/// once, has no content id, and reading it fails with
/// [`SourceError::Backend`] naming the path: there is no single staged
/// version to judge, and git refuses to commit such an index anyway.
/// Intent-to-add entries (`git add -N`) are left out: they are not
/// committed.
pub struct IndexSource {
    repo: Arc<Mutex<Repository>>,
    files: Files,
    root_name: Option<String>,
}

impl std::fmt::Debug for IndexSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexSource")
            .field("files", &self.files.rows.len())
            .finish_non_exhaustive()
    }
}

/// `GIT_INDEX_FILE` from the environment, as git sets it for hooks (a
/// temporary index during `git commit -a` / `git commit PATH`).
pub(crate) fn index_file_from_env() -> Option<PathBuf> {
    std::env::var_os("GIT_INDEX_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The index at `index_file` (relative to the current directory), or the
/// repository's own.
pub(crate) fn open_index(
    repo: &Repository,
    index_file: Option<&Path>,
) -> Result<git2::Index, GitError> {
    match index_file {
        Some(path) => {
            let path = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir()
                    .map(|cwd| cwd.join(path))
                    .unwrap_or_else(|_| path.to_path_buf())
            };
            git2::Index::open(&path).map_err(|error| GitError::Index {
                message: git_message(&error),
                path,
            })
        }
        None => {
            let index_error = |error: git2::Error| GitError::Index {
                path: repo.path().join("index"),
                message: git_message(&error),
            };
            let mut index = repo.index().map_err(index_error)?;
            // The repository caches its index; pick up changes made since.
            index.read(false).map_err(index_error)?;
            Ok(index)
        }
    }
}

/// `GIT_INDEX_ENTRY_INTENT_TO_ADD`, in `flags_extended`.
const INTENT_TO_ADD: u16 = 1 << 13;

impl IndexSource {
    /// The index git is committing: `GIT_INDEX_FILE` when set, else the
    /// repository's index.
    pub fn staged(repo: &Repo, prefix: &str) -> Result<IndexSource, GitError> {
        IndexSource::with_index_file(repo, index_file_from_env().as_deref(), prefix)
    }

    /// The index in `index_file` (a relative path is taken from the current
    /// directory), or the repository's index when `None`.
    pub fn with_index_file(
        repo: &Repo,
        index_file: Option<&Path>,
        prefix: &str,
    ) -> Result<IndexSource, GitError> {
        let prefix = normalize_prefix(prefix);
        let handle = repo.handle();
        let rows = {
            let git = lock(&handle);
            let index = open_index(&git, index_file)?;
            let mut rows = Vec::with_capacity(index.len());
            for entry in index.iter() {
                if entry.flags_extended & INTENT_TO_ADD != 0 || !is_regular_file_mode(entry.mode) {
                    continue;
                }
                let Ok(path) = std::str::from_utf8(&entry.path) else {
                    continue;
                };
                let Some(rel) = relative_to(path, &prefix) else {
                    continue;
                };
                if !in_kept_dirs(rel) {
                    continue;
                }
                let stage = (entry.flags >> 12) & 0x3;
                rows.push((rel.to_owned(), (stage == 0).then_some(entry.id)));
            }
            rows
        };
        Ok(IndexSource {
            repo: handle,
            files: Files::new(rows),
            root_name: root_name(repo, &prefix),
        })
    }
}

impl ProjectSource for IndexSource {
    fn describe(&self) -> String {
        "the staging area".to_owned()
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.files.paths())
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        match self.files.get(path) {
            Some(Some(oid)) => read_blob(&self.repo, oid, path),
            Some(None) => Err(SourceError::Backend(format!(
                "{path} has unresolved merge conflicts in the staging area"
            ))),
            None => Err(not_found(path)),
        }
    }

    fn content_id(&self, path: &str) -> Option<String> {
        self.files.get(path).flatten().map(|oid| oid.to_string())
    }

    fn root_name(&self) -> Option<String> {
        self.root_name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("."), "");
        assert_eq!(normalize_prefix("./backend/"), "backend");
        assert_eq!(normalize_prefix("a//b/"), "a/b");
        assert_eq!(relative_to("backend/x.py", "backend"), Some("x.py"));
        assert_eq!(relative_to("backendx/x.py", "backend"), None);
        assert_eq!(relative_to("x.py", ""), Some("x.py"));
        assert_eq!(join_prefix("", "x.py"), "x.py");
        assert_eq!(join_prefix("a", "x.py"), "a/x.py");
    }

    #[test]
    fn pruning() {
        assert!(in_kept_dirs("blog/migrations/0001.py"));
        assert!(in_kept_dirs(".env"));
        assert!(!in_kept_dirs("node_modules/x/y.py"));
        assert!(!in_kept_dirs("a/.venv/y.py"));
        let files = Files::new(vec![
            ("b.py".into(), Some(Oid::zero())),
            ("env/pyvenv.cfg".into(), Some(Oid::zero())),
            ("env/lib/x.py".into(), Some(Oid::zero())),
            ("a.py".into(), Some(Oid::zero())),
            ("a.py".into(), Some(Oid::zero())),
            ("envy.py".into(), Some(Oid::zero())),
        ]);
        assert_eq!(files.paths(), vec!["a.py", "b.py", "envy.py"]);
        assert_eq!(files.get("a.py"), Some(None));
        assert_eq!(files.get("b.py"), Some(Some(Oid::zero())));
    }
}
