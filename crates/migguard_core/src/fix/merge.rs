//! The merge migration `makemigrations --merge --noinput` writes, without
//! starting Django.

use crate::model::MigrationKey;
use crate::project::Project;

use super::{lock, overlap, parse_number, py_repr, touched, FileWrite};

/// The clock readings Django puts into a merge file: the header's (UTC,
/// `%Y-%m-%d %H:%M`) and, for long names, the name's (local, `%Y%m%d_%H%M`).
#[derive(Debug, Clone)]
pub struct Clock {
    pub header: String,
    pub name: String,
}

/// One side of the conflict: a leaf and the app's migrations that only it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub leaf: String,
    pub migrations: Vec<MigrationKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergePlan {
    pub app: String,
    pub name: String,
    pub file: FileWrite,
    /// The app's `max_migration.txt` naming the merge migration, the new
    /// leaf, when the app has one.
    pub lock: Option<FileWrite>,
    pub branches: Vec<Branch>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefusal {
    #[error("app `{0}` has no migrations")]
    UnknownApp(String),
    #[error("app `{0}` has one leaf; there is nothing to merge")]
    NoConflict(String),
    #[error("the leaves of app `{app}` ({leaves}) have no common ancestor; Django refuses too")]
    NoCommonAncestor { app: String, leaves: String },
    #[error(
        "the branches of app `{app}` both change {what}; Django would ask, and a merge migration \
         would apply both changes in an order nobody chose (rebase refuses for the same reason). \
         Decide by hand: run `python manage.py makemigrations --merge {app}` and answer its \
         question, or edit one branch's migrations so they no longer touch it; \
         `migguard merge --force {app}` merges anyway"
    )]
    SameField { app: String, what: String },
    #[error("the merge migration `{0}` already exists")]
    Exists(String),
}

/// Plan the merge migration for one app, as Django's `handle_merge` does.
/// With `force`, branches touching the same field are merged anyway.
pub fn plan(
    project: &Project,
    app_label: &str,
    clock: &Clock,
    force: bool,
) -> Result<MergePlan, MergeRefusal> {
    let app = project
        .discovery
        .apps
        .iter()
        .find(|a| a.label == app_label)
        .ok_or_else(|| MergeRefusal::UnknownApp(app_label.to_owned()))?;
    let leaves = project
        .graph
        .conflicts
        .get(app_label)
        .cloned()
        .ok_or_else(|| MergeRefusal::NoConflict(app_label.to_owned()))?;
    let graph = &project.graph.graph;
    let ancestries: Vec<Vec<MigrationKey>> = leaves
        .iter()
        .map(|leaf| {
            graph
                .forwards_plan(&MigrationKey::new(app_label, leaf))
                .into_iter()
                .filter(|k| k.app == app_label)
                .collect()
        })
        .collect();
    let shortest = ancestries.iter().map(Vec::len).min().unwrap_or(0);
    let common = (0..shortest)
        .take_while(|&i| ancestries.iter().all(|a| a[i] == ancestries[0][i]))
        .count();
    if common == 0 {
        return Err(MergeRefusal::NoCommonAncestor {
            app: app_label.to_owned(),
            leaves: leaves.join(", "),
        });
    }
    let branches: Vec<Branch> = leaves
        .iter()
        .zip(&ancestries)
        .map(|(leaf, ancestry)| Branch {
            leaf: leaf.clone(),
            migrations: ancestry[common..].to_vec(),
        })
        .collect();
    if !force {
        for (i, a) in branches.iter().enumerate() {
            for b in &branches[i + 1..] {
                let clash = overlap(
                    &touched(project, &a.migrations),
                    &touched(project, &b.migrations),
                );
                if let Some((model, field)) = clash.first() {
                    let what = match field {
                        Some(field) => format!("field `{model}.{field}`"),
                        None => format!("model `{model}`"),
                    };
                    return Err(MergeRefusal::SameField {
                        app: app_label.to_owned(),
                        what,
                    });
                }
            }
        }
    }
    let biggest = leaves
        .iter()
        .filter_map(|l| parse_number(l))
        .max()
        .unwrap_or(1);
    let joined = leaves.join("_");
    let suffix = if joined.len() > 47 {
        clock.name.clone()
    } else {
        joined
    };
    let name = format!("{:04}_merge_{suffix}", biggest + 1);
    let path = format!("{}/{name}.py", app.migrations_dir);
    // Any file there, a migration or not (one that does not parse is not
    // in `project.migrations`): never written over.
    if project
        .migration(&MigrationKey::new(app_label, &name))
        .is_some()
        || project.files.contains(&path)
    {
        return Err(MergeRefusal::Exists(name));
    }
    let dependencies: String = leaves
        .iter()
        .map(|leaf| format!("        ({}, {}),\n", py_repr(app_label), py_repr(leaf)))
        .collect();
    let content = format!(
        "# Generated by migguard {} on {}\n\nfrom django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n{dependencies}    ]\n\n    operations = [\n    ]\n",
        env!("CARGO_PKG_VERSION"),
        clock.header
    );
    let lock = app.max_migration.is_some().then(|| FileWrite {
        path: lock::path(app),
        content: format!("{name}\n"),
    });
    Ok(MergePlan {
        app: app_label.to_owned(),
        file: FileWrite { path, content },
        lock,
        name,
        branches,
    })
}
