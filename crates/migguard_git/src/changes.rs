//! What a commit (or a range of commits) changes, with renames detected.

use std::path::Path;

use git2::{
    Delta, Diff, DiffFindOptions, DiffOptions, FileMode, ObjectType, Oid, Repository, Tree,
};

use crate::error::GitError;
use crate::repo::Repo;
use crate::source::{
    index_file_from_env, is_regular_file_mode, join_prefix, normalize_prefix, open_index,
    relative_to,
};

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One changed file. Paths are relative to the project prefix.
///
/// `Added`: only `new_path`. `Deleted`: only `old_path`. `Modified`: both,
/// equal. `Renamed`: both, different (the content may also have changed,
/// up to git's 50% similarity threshold).
///
/// Only regular files count: a submodule or a symbolic link is not a
/// change, and a file replaced by one is `Deleted`. A file renamed across
/// the prefix boundary is `Added` or `Deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    pub status: ChangeStatus,
    pub old_path: Option<String>,
    pub new_path: Option<String>,
}

/// What the commit being made changes: `HEAD`'s tree (an empty tree before
/// the first commit) against the index being committed (`GIT_INDEX_FILE`
/// when set, else the repository's index).
pub fn staged_changes(repo: &Repo, prefix: &str) -> Result<Vec<Change>, GitError> {
    staged_changes_with_index_file(repo, index_file_from_env().as_deref(), prefix)
}

/// [`staged_changes`] against the index in `index_file` (relative to the
/// current directory), or the repository's index when `None`.
pub fn staged_changes_with_index_file(
    repo: &Repo,
    index_file: Option<&Path>,
    prefix: &str,
) -> Result<Vec<Change>, GitError> {
    let prefix = normalize_prefix(prefix);
    let git = repo.lock();
    let head = match git.head() {
        Ok(head) => Some(
            head.peel_to_tree()
                .map_err(|error| GitError::git("cannot read HEAD's tree", &error))?,
        ),
        Err(error) if is_unborn(&git, &error) => None,
        Err(error) => return Err(GitError::git("cannot read HEAD", &error)),
    };
    let index = open_index(&git, index_file)?;
    let mut options = diff_options(&prefix);
    let diff = git
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut options))
        .map_err(|error| GitError::git("cannot compare the index with HEAD", &error))?;
    collect(diff, &prefix)
}

/// What changed from commit `from` to commit `to`. A zero `from` (what git
/// passes for a branch that does not exist yet) means an empty tree.
pub fn changed_between(
    repo: &Repo,
    from: Oid,
    to: Oid,
    prefix: &str,
) -> Result<Vec<Change>, GitError> {
    let prefix = normalize_prefix(prefix);
    let git = repo.lock();
    let old = if from.is_zero() {
        None
    } else {
        Some(commit_tree(&git, from)?)
    };
    let new = if to.is_zero() {
        None
    } else {
        Some(commit_tree(&git, to)?)
    };
    let mut options = diff_options(&prefix);
    let diff = git
        .diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut options))
        .map_err(|error| GitError::git(format!("cannot compare {from} with {to}"), &error))?;
    collect(diff, &prefix)
}

/// Whether commit `commit` has a regular file at `path` (relative to
/// `prefix`). Any failure to look (unknown commit, ...) answers `false`.
pub fn path_exists_at(repo: &Repo, commit: Oid, path: &str, prefix: &str) -> bool {
    let full = join_prefix(&normalize_prefix(prefix), path);
    let git = repo.lock();
    let Ok(tree) = commit_tree(&git, commit) else {
        return false;
    };
    tree.get_path(Path::new(&full))
        .map(|entry| {
            entry.kind() == Some(ObjectType::Blob) && is_regular_file_mode(entry.filemode() as u32)
        })
        .unwrap_or(false)
}

fn is_unborn(repo: &Repository, error: &git2::Error) -> bool {
    error.code() == git2::ErrorCode::UnbornBranch
        || (error.code() == git2::ErrorCode::NotFound && repo.is_empty().unwrap_or(false))
}

fn commit_tree(repo: &Repository, commit: Oid) -> Result<Tree<'_>, GitError> {
    repo.find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|error| GitError::git(format!("cannot read the tree of commit {commit}"), &error))
}

fn diff_options(prefix: &str) -> DiffOptions {
    let mut options = DiffOptions::new();
    options.ignore_submodules(true).skip_binary_check(true);
    if !prefix.is_empty() {
        // A literal directory, not a glob.
        options
            .disable_pathspec_match(true)
            .pathspec(format!("{prefix}/"));
    }
    options
}

fn collect(mut diff: Diff<'_>, prefix: &str) -> Result<Vec<Change>, GitError> {
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))
        .map_err(|error| GitError::git("cannot detect renames", &error))?;
    let mut changes = Vec::new();
    for delta in diff.deltas() {
        let (had_old, had_new) = match delta.status() {
            Delta::Added | Delta::Copied => (false, true),
            Delta::Deleted => (true, false),
            Delta::Modified | Delta::Renamed | Delta::Typechange | Delta::Conflicted => {
                (true, true)
            }
            Delta::Unmodified | Delta::Ignored | Delta::Untracked | Delta::Unreadable => continue,
        };
        let side = |present: bool, file: git2::DiffFile<'_>| -> Option<String> {
            if !present || !is_regular(file.mode()) {
                return None;
            }
            let path = std::str::from_utf8(file.path_bytes()?).ok()?;
            relative_to(path, prefix).map(str::to_owned)
        };
        let old = side(had_old, delta.old_file());
        let new = side(had_new, delta.new_file());
        let status = match (&old, &new) {
            (Some(o), Some(n)) if o != n => ChangeStatus::Renamed,
            (Some(_), Some(_)) => ChangeStatus::Modified,
            (Some(_), None) => ChangeStatus::Deleted,
            (None, Some(_)) => ChangeStatus::Added,
            (None, None) => continue,
        };
        changes.push(Change {
            status,
            old_path: old,
            new_path: new,
        });
    }
    changes.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    Ok(changes)
}

/// Changes are ordered by the path they leave behind.
fn sort_key(change: &Change) -> Option<&str> {
    change.new_path.as_deref().or(change.old_path.as_deref())
}

fn is_regular(mode: FileMode) -> bool {
    matches!(
        mode,
        FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable
    )
}
