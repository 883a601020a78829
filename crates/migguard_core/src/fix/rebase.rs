//! Move one branch's migrations after the other branch's leaf instead of
//! merging (django-linear-migrations' `rebase_migration`, for whole chains):
//! renumber the files, point the first one at the other leaf, and rewrite
//! every reference to the renamed migrations. Operations are not touched.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Dependency, DependencyTarget, MigrationKey};
use crate::project::Project;
use crate::source::{decode_python, ProjectSource};

use super::merge::Branch;
use super::{lock, overlap, parse_number, py_repr, touched, FileWrite};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebasePlan {
    pub app: String,
    /// The leaf the moved migrations now follow.
    pub onto: String,
    /// The migration both branches share, which the first moved migration
    /// followed: `migrate APP BASE` unapplies the moved ones.
    pub base: Option<String>,
    /// `(old name, new name)` in order.
    pub moved: Vec<(String, String)>,
    /// Files to delete (the old paths of moved migrations).
    pub removes: Vec<String>,
    /// Files to write: moved migrations at their new paths, and every file
    /// whose references changed.
    pub writes: Vec<FileWrite>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebaseRefusal {
    #[error(transparent)]
    UnknownApp(#[from] super::UnknownApps),
    #[error("app `{0}` has one leaf; there is nothing to rebase")]
    NoConflict(String),
    #[error(
        "`{path}` of app `{app}` cannot be read as a migration, so the app's leaves are unknown: \
         fix or remove it first (nothing was written)"
    )]
    UnreadableMigration { app: String, path: String },
    #[error(
        "app `{app}` has {count} leaves; rebase needs exactly two (merge or rebase them pairwise)"
    )]
    TooManyLeaves { app: String, count: usize },
    #[error(
        "the leaves of app `{app}` ({leaves}) have no common ancestor: one branch cannot follow the other. \
         Make one depend on the other by hand"
    )]
    NoCommonAncestor { app: String, leaves: String },
    #[error(
        "`{migration}` of app `{app}` depends on `{missing}`, which is missing, and no single migration \
         of `{app}` is `{missing}` renumbered. Point the dependency at the migration it should follow by hand"
    )]
    MissingDependency {
        app: String,
        migration: String,
        missing: String,
    },
    #[error("`{migration}` is not on either branch of app `{app}` (branches end at {leaves})")]
    NotOnABranch {
        app: String,
        migration: String,
        leaves: String,
    },
    #[error("the branches of app `{app}` both change {what}; moving one after the other would change what it does. Resolve it by hand")]
    SameField { app: String, what: String },
    #[error(
        "`{migration}` of app `{app}` is already on {place}: rebase never renames a migration others have. {}",
        match other {
            Some(other) => format!("Move the other branch instead (`migguard rebase {app} {other}`), or merge the branches (`migguard merge {app}`)"),
            None => format!("The other branch's migrations are published too: merge the branches (`migguard merge {app}`)"),
        }
    )]
    Published {
        app: String,
        migration: String,
        place: String,
        /// The other branch's leaf, when none of its migrations is
        /// published: that branch can move instead.
        other: Option<String>,
    },
    #[error("`{0}` already exists")]
    Exists(String),
    #[error("cannot read `{path}`: {message}")]
    Unreadable { path: String, message: String },
    #[error(
        "cannot rewrite a dependency of `{path}`: bytes {start}..{end} are not where it was read \
         (was the file changed meanwhile?); nothing was written, run it again"
    )]
    BadSpan {
        path: String,
        start: usize,
        end: usize,
    },
}

/// The two branches of a two-leaf app, `migration` on the first.
fn two_branches(
    project: &Project,
    app: &str,
    migration: &str,
) -> Result<(Branch, Branch), RebaseRefusal> {
    if let Some(path) = super::unreadable(project, app) {
        return Err(RebaseRefusal::UnreadableMigration {
            app: app.to_owned(),
            path: path.to_owned(),
        });
    }
    let leaves = project
        .graph
        .conflicts
        .get(app)
        .cloned()
        .ok_or_else(|| RebaseRefusal::NoConflict(app.to_owned()))?;
    if leaves.len() != 2 {
        return Err(RebaseRefusal::TooManyLeaves {
            app: app.to_owned(),
            count: leaves.len(),
        });
    }
    let Some(branches) = super::branches(project, app, &leaves) else {
        return renamed_branches(project, app, &leaves, migration);
    };
    let [first, second]: [Branch; 2] =
        branches
            .try_into()
            .map_err(|_: Vec<Branch>| RebaseRefusal::TooManyLeaves {
                app: app.to_owned(),
                count: leaves.len(),
            })?;
    let on = |b: &Branch| b.migrations.iter().any(|k| k.name == migration);
    match (on(&first), on(&second)) {
        (true, _) => Ok((first, second)),
        (_, true) => Ok((second, first)),
        _ => Err(RebaseRefusal::NotOnABranch {
            app: app.to_owned(),
            migration: migration.to_owned(),
            leaves: leaves.join(", "),
        }),
    }
}

/// The name without its number: `item_color` of `0002_item_color`.
fn description(name: &str) -> &str {
    let rest = name.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.strip_prefix('_').unwrap_or(rest)
}

/// The one migration of `app` that is `missing` under another number (an
/// earlier step of a multi-commit `git rebase` renumbered it), other than
/// `except`.
fn renumbered(
    project: &Project,
    missing: &MigrationKey,
    except: &MigrationKey,
) -> Option<MigrationKey> {
    let wanted = description(&missing.name);
    if wanted.is_empty() || wanted.len() == missing.name.len() {
        return None;
    }
    let mut found = project
        .migrations
        .iter()
        .map(|m| &m.key)
        .filter(|k| k.app == missing.app && k != &except && description(&k.name) == wanted);
    match (found.next(), found.next()) {
        (Some(only), None) => Some(only.clone()),
        _ => None,
    }
}

/// The migrations of `app` depending on a migration of `app` that does
/// not exist: `(migration, missing)`.
fn dangling(project: &Project, app: &str) -> Vec<(MigrationKey, MigrationKey)> {
    let mut out = Vec::new();
    for m in project.migrations.iter().filter(|m| m.key.app == app) {
        for dep in &m.dependencies {
            if let DependencyTarget::Key(target) = &dep.target {
                if target.app == app && project.migration(target).is_none() {
                    out.push((m.key.clone(), target.clone()));
                }
            }
        }
    }
    out
}

/// Two leaves without a common ancestor because one branch depends on a
/// migration of the other under its old name: the second commit of a
/// `git rebase` whose first commit's migration `migguard rebase` renamed.
/// That branch is ours, after the migration's new name; the dependency is
/// rewritten like the link to any common ancestor. Otherwise the refusal
/// names the missing dependency when there is one.
fn renamed_branches(
    project: &Project,
    app: &str,
    leaves: &[String],
    migration: &str,
) -> Result<(Branch, Branch), RebaseRefusal> {
    let graph = &project.graph.graph;
    let ancestry = |leaf: &str| -> Vec<MigrationKey> {
        graph
            .forwards_plan(&MigrationKey::new(app, leaf))
            .into_iter()
            .filter(|k| k.app == app && project.migration(k).is_some())
            .collect()
    };
    for (i, leaf) in leaves.iter().enumerate() {
        let other = &leaves[1 - i];
        let theirs = ancestry(other);
        let ours: Vec<MigrationKey> = ancestry(leaf)
            .into_iter()
            .filter(|k| !theirs.contains(k))
            .collect();
        let resolved = dangling(project, app)
            .into_iter()
            .filter(|(m, _)| ours.contains(m))
            .find_map(|(m, missing)| renumbered(project, &missing, &m))
            .and_then(|r| theirs.iter().position(|k| *k == r));
        let Some(position) = resolved else {
            continue;
        };
        if !ours.iter().any(|k| k.name == migration) {
            return Err(RebaseRefusal::NotOnABranch {
                app: app.to_owned(),
                migration: migration.to_owned(),
                leaves: leaves.join(", "),
            });
        }
        return Ok((
            Branch {
                leaf: leaf.clone(),
                migrations: ours,
            },
            Branch {
                leaf: other.clone(),
                migrations: theirs[position + 1..].to_vec(),
            },
        ));
    }
    Err(match dangling(project, app).into_iter().next() {
        Some((m, missing)) => RebaseRefusal::MissingDependency {
            app: app.to_owned(),
            migration: m.name,
            missing: missing.name,
        },
        None => RebaseRefusal::NoCommonAncestor {
            app: app.to_owned(),
            leaves: leaves.join(", "),
        },
    })
}

/// The new name: the next number, the same description.
fn renumber(name: &str, number: u32) -> String {
    let rest = name.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix('_').unwrap_or(rest);
    if rest.is_empty() {
        format!("{number:04}")
    } else {
        format!("{number:04}_{rest}")
    }
}

/// Move the branch of `app_label` holding `migration` after the other
/// branch's leaf. `published` names the migrations others already have
/// (on the upstream branch, on the branch being merged in, on the commit
/// rebased onto) and where: those are never renamed.
pub fn plan(
    project: &Project,
    source: &dyn ProjectSource,
    app_label: &str,
    migration: &str,
    published: &BTreeMap<MigrationKey, String>,
) -> Result<RebasePlan, RebaseRefusal> {
    let app = project
        .discovery
        .apps
        .iter()
        .find(|a| a.label == app_label)
        .ok_or_else(|| super::unknown_apps(project, vec![app_label.to_owned()]))?;
    let (ours, theirs) = two_branches(project, app_label, migration)?;
    if let Some((key, place)) = ours
        .migrations
        .iter()
        .find_map(|key| published.get(key).map(|place| (key, place)))
    {
        return Err(RebaseRefusal::Published {
            app: app_label.to_owned(),
            migration: key.name.clone(),
            place: place.clone(),
            other: (!theirs.migrations.iter().any(|k| published.contains_key(k)))
                .then(|| theirs.leaf.clone()),
        });
    }
    let clash = overlap(
        &touched(project, &ours.migrations),
        &touched(project, &theirs.migrations),
    );
    if let Some((model, field)) = clash.first() {
        return Err(RebaseRefusal::SameField {
            app: app_label.to_owned(),
            what: match field {
                Some(field) => format!("field `{model}.{field}`"),
                None => format!("model `{model}`"),
            },
        });
    }
    let mut number = parse_number(&theirs.leaf).unwrap_or(0);
    let mut renames: BTreeMap<MigrationKey, MigrationKey> = BTreeMap::new();
    let mut moved = Vec::new();
    let chain_paths: BTreeSet<&str> = ours
        .migrations
        .iter()
        .filter_map(|key| project.migration(key))
        .map(|m| m.path.as_str())
        .collect();
    for key in &ours.migrations {
        number += 1;
        let new = MigrationKey::new(app_label, renumber(&key.name, number));
        let new_path = format!("{}/{}.py", app.migrations_dir, new.name);
        // A file there that is not one of the chain's own (a migration, or
        // one that does not parse) is never written over.
        let taken = (project.migration(&new).is_some() && !ours.migrations.contains(&new))
            || (project.files.contains(&new_path) && !chain_paths.contains(new_path.as_str()));
        if taken {
            return Err(RebaseRefusal::Exists(new.to_string()));
        }
        moved.push((key.name.clone(), new.name.clone()));
        renames.insert(key.clone(), new);
    }
    let chain: BTreeSet<&MigrationKey> = ours.migrations.iter().collect();
    let onto = MigrationKey::new(app_label, &theirs.leaf);
    let base = ours
        .migrations
        .first()
        .and_then(|first| project.migration(first))
        .and_then(|first| {
            first.dependencies.iter().find_map(|dep| match &dep.target {
                DependencyTarget::Key(k) if k.app == app_label && !chain.contains(k) => {
                    match project.migration(k) {
                        Some(_) => Some(k.name.clone()),
                        None => renumbered(project, k, &first.key).map(|r| r.name),
                    }
                }
                _ => None,
            })
        });

    let mut writes = Vec::new();
    let mut removes = Vec::new();
    for m in &project.migrations {
        let in_chain = chain.contains(&m.key);
        // (span, replacement) edits of this file's dependency entries.
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut edit = |dep: &Dependency, key: &MigrationKey| {
            edits.push((
                dep.span.start as usize,
                dep.span.end as usize,
                format!("({}, {})", py_repr(&key.app), py_repr(&key.name)),
            ));
        };
        for (list, is_dependencies) in [
            (&m.dependencies, true),
            (&m.run_before, false),
            (&m.replaces, false),
        ] {
            for dep in list {
                let DependencyTarget::Key(target) = &dep.target else {
                    continue;
                };
                if let Some(new) = renames.get(target) {
                    edit(dep, new);
                } else if in_chain
                    && target.app == app_label
                    && !chain.contains(target)
                    && is_dependencies
                {
                    // The chain's link to the common ancestor moves to the other leaf.
                    edit(dep, &onto);
                }
            }
        }
        if edits.is_empty() && !in_chain {
            continue;
        }
        let bytes = source
            .read(&m.path)
            .map_err(|e| RebaseRefusal::Unreadable {
                path: m.path.clone(),
                message: e.to_string(),
            })?;
        let mut text = decode_python(&bytes).map_err(|e| RebaseRefusal::Unreadable {
            path: m.path.clone(),
            message: e.message,
        })?;
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        // From the end backwards: each edit must lie in the text, on
        // character boundaries, before the one applied just before it.
        // Otherwise the file is not what was parsed: refuse rather than
        // write it with a dependency left unchanged.
        let mut limit = text.len();
        for (start, end, replacement) in edits {
            if start > end
                || end > limit
                || !text.is_char_boundary(start)
                || !text.is_char_boundary(end)
            {
                return Err(RebaseRefusal::BadSpan {
                    path: m.path.clone(),
                    start,
                    end,
                });
            }
            text.replace_range(start..end, &replacement);
            limit = start;
        }
        let path = match renames.get(&m.key) {
            Some(new) => {
                removes.push(m.path.clone());
                format!("{}/{}.py", app.migrations_dir, new.name)
            }
            None => m.path.clone(),
        };
        writes.push(FileWrite {
            path,
            content: text,
        });
    }
    // A file of the chain renamed to where another of its files was (0002
    // -> 0003 while 0003 -> 0004) is written, not removed.
    removes.retain(|path| !writes.iter().any(|w| &w.path == path));
    if app.max_migration.is_some() {
        if let Some((_, last)) = moved.last() {
            writes.push(FileWrite {
                path: lock::path(app),
                content: format!("{last}\n"),
            });
        }
    }
    Ok(RebasePlan {
        app: app_label.to_owned(),
        onto: theirs.leaf,
        base,
        moved,
        removes,
        writes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::project::{analyze, AnalyzeOptions};
    use crate::source::MemorySource;

    fn two_branches_source() -> MemorySource {
        let migration = |dependency: &str| {
            format!(
                "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"shop\", \"{dependency}\")]\n    operations = []\n"
            )
        };
        let mut source = MemorySource::new("test");
        source
            .insert("shop/__init__.py", "")
            .insert("shop/migrations/__init__.py", "")
            .insert(
                "shop/migrations/0001_initial.py",
                "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = []\n",
            )
            .insert("shop/migrations/0002_a.py", migration("0001_initial"))
            .insert("shop/migrations/0002_b.py", migration("0001_initial"));
        source
    }

    /// A dependency whose recorded place is not in the file as read is
    /// an error, never an edit silently left out.
    #[test]
    fn a_dependency_that_is_not_where_it_was_read_is_an_error() {
        let source = two_branches_source();
        let mut project = analyze(&source, &Settings::default(), &AnalyzeOptions::default())
            .expect("memory source");
        let published = BTreeMap::new();
        let moving = plan(&project, &source, "shop", "0002_b", &published).expect("a plan");
        assert_eq!(moving.moved, [("0002_b".to_owned(), "0003_b".to_owned())]);
        let moved = moving
            .writes
            .iter()
            .find(|w| w.path == "shop/migrations/0003_b.py")
            .expect("moved file");
        assert!(
            moved.content.contains("('shop', '0002_a')"),
            "{}",
            moved.content
        );

        let b = project
            .migrations
            .iter_mut()
            .find(|m| m.key.name == "0002_b")
            .expect("0002_b");
        b.dependencies[0].span.start = 10_000;
        b.dependencies[0].span.end = 10_020;
        assert_eq!(
            plan(&project, &source, "shop", "0002_b", &published),
            Err(RebaseRefusal::BadSpan {
                path: "shop/migrations/0002_b.py".to_owned(),
                start: 10_000,
                end: 10_020,
            })
        );
    }

    #[test]
    fn renumbering_keeps_the_description() {
        assert_eq!(renumber("0002_b_item_weight", 3), "0003_b_item_weight");
        assert_eq!(renumber("0010_x", 12), "0012_x");
        assert_eq!(renumber("custom", 5), "0005_custom");
    }
}
