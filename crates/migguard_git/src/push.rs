//! What a push carries: the commits the remote does not have yet, and the
//! files they add or modify.

use std::collections::BTreeMap;

use git2::{Oid, Sort};

use crate::changes::{changed_between, ChangeStatus};
use crate::error::GitError;
use crate::repo::Repo;

/// A path the pushed commits add or modify, as it is at the pushed tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedFile {
    pub path: String,
    /// Added by one of the pushed commits (not on the remote before).
    pub added: bool,
}

/// The commits reachable from `local` that the remote lacks: `remote..local`
/// when the remote ref exists (and is known locally), otherwise those no
/// remote-tracking ref of `remote_name` has (a new branch). Oldest first.
pub fn commits_to_push(
    repo: &Repo,
    local: Oid,
    remote: Option<Oid>,
    remote_name: &str,
) -> Result<Vec<Oid>, GitError> {
    let git = repo.lock();
    let fail = |what: &str, e: &git2::Error| GitError::git(what.to_owned(), e);
    let mut walk = git.revwalk().map_err(|e| fail("cannot walk history", &e))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(|e| fail("cannot walk history", &e))?;
    walk.push(local)
        .map_err(|e| fail(&format!("unknown commit {local}"), &e))?;
    match remote.filter(|oid| git.find_commit(*oid).is_ok()) {
        Some(remote) => walk
            .hide(remote)
            .map_err(|e| fail("cannot walk history", &e))?,
        None => {
            let glob = format!("refs/remotes/{remote_name}/*");
            // No remote-tracking ref yet (a first push) hides nothing.
            let _ = walk.hide_glob(&glob);
        }
    }
    let mut out = Vec::new();
    for oid in walk {
        out.push(oid.map_err(|e| fail("cannot walk history", &e))?);
    }
    Ok(out)
}

/// Files added or modified by `commits` (each against its first parent)
/// that still exist at the last one, relative to `prefix`.
pub fn pushed_files(
    repo: &Repo,
    commits: &[Oid],
    prefix: &str,
) -> Result<Vec<PushedFile>, GitError> {
    let mut files: BTreeMap<String, bool> = BTreeMap::new();
    for &commit in commits {
        let parent = {
            let git = repo.lock();
            let c = git
                .find_commit(commit)
                .map_err(|e| GitError::git(format!("unknown commit {commit}"), &e))?;
            c.parent_id(0).unwrap_or_else(|_| Oid::zero())
        };
        for change in changed_between(repo, parent, commit, prefix)? {
            match change.status {
                ChangeStatus::Added | ChangeStatus::Renamed => {
                    if let Some(path) = change.new_path {
                        files.insert(path, true);
                    }
                }
                ChangeStatus::Modified => {
                    if let Some(path) = change.new_path {
                        files.entry(path).or_insert(false);
                    }
                }
                ChangeStatus::Deleted => {
                    if let Some(path) = change.old_path {
                        files.remove(&path);
                    }
                }
            }
        }
    }
    Ok(files
        .into_iter()
        .map(|(path, added)| PushedFile { path, added })
        .collect())
}
