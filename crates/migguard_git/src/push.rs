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
    if let Some(remote) = remote.filter(|oid| git.find_commit(*oid).is_ok()) {
        walk.hide(remote)
            .map_err(|e| fail("cannot walk history", &e))?;
    }
    // What any branch of the remote already has is not pushed by this push
    // (a feature branch that merged main carries main's commits). No
    // remote-tracking ref yet (a first push, a URL) hides nothing.
    let _ = walk.hide_glob(&format!("refs/remotes/{remote_name}/*"));
    let mut out = Vec::new();
    for oid in walk {
        out.push(oid.map_err(|e| fail("cannot walk history", &e))?);
    }
    Ok(out)
}

/// Files added or modified by `commits` that still exist at the last one,
/// relative to `prefix`. A commit counts against its parent; a merge only
/// for the paths it changes against every parent (what it resolved), not
/// for what it brings from the branch merged in.
pub fn pushed_files(
    repo: &Repo,
    commits: &[Oid],
    prefix: &str,
) -> Result<Vec<PushedFile>, GitError> {
    let mut files: BTreeMap<String, bool> = BTreeMap::new();
    for &commit in commits {
        let parents: Vec<Oid> = {
            let git = repo.lock();
            let c = git
                .find_commit(commit)
                .map_err(|e| GitError::git(format!("unknown commit {commit}"), &e))?;
            c.parent_ids().collect()
        };
        let first = parents.first().copied().unwrap_or_else(Oid::zero);
        let mut changes = changed_between(repo, first, commit, prefix)?;
        for &other in parents.iter().skip(1) {
            let against: std::collections::BTreeSet<(Option<String>, Option<String>)> =
                changed_between(repo, other, commit, prefix)?
                    .into_iter()
                    .map(|c| (c.old_path, c.new_path))
                    .collect();
            changes.retain(|c| {
                against.iter().any(|(old, new)| {
                    (c.new_path.is_some() && *new == c.new_path)
                        || (c.old_path.is_some() && *old == c.old_path)
                })
            });
        }
        for change in changes {
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
