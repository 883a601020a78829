//! Fixes as plans: what files to write or rename. This module decides;
//! the command line applies, so nothing here touches the disk.

pub mod lock;
pub mod merge;
pub mod rebase;

use std::collections::BTreeSet;

use crate::model::{MigrationKey, OperationKind};
use crate::project::{App, Project};

/// One file to create or overwrite, project-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub path: String,
    pub content: String,
}

/// `MigrationAutodetector.parse_number`: the number a migration name
/// starts with, or for `0001_squashed_0004_x` the number after `_squashed_`.
pub fn parse_number(name: &str) -> Option<u32> {
    if let Some(pos) = name.rfind("_squashed_") {
        let digits: String = name[pos + "_squashed_".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse() {
            return Some(n);
        }
    }
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A Python string literal as `repr()` writes it.
pub fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Named apps the project does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no app labelled {} in this project (its apps with migrations: {known})", quoted(.unknown))]
pub struct UnknownApps {
    pub unknown: Vec<String>,
    pub known: String,
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The apps `apps` names (all when empty), in discovery order; an error
/// naming those the project does not have.
/// The first migration file of `app` that could not be read (a syntax
/// error, not a migration): its dependencies are unknown, and so are the
/// app's leaves, so neither merge nor rebase can be planned.
pub fn unreadable<'p>(project: &'p Project, app: &str) -> Option<&'p str> {
    project
        .discovery
        .files
        .iter()
        .filter(|f| f.key.app == app)
        .find(|f| project.migration(&f.key).is_none())
        .map(|f| f.path.as_str())
}

pub fn select<'p>(project: &'p Project, apps: &[String]) -> Result<Vec<&'p App>, UnknownApps> {
    let unknown: Vec<String> = apps
        .iter()
        .filter(|name| !project.discovery.apps.iter().any(|a| &a.label == *name))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(unknown_apps(project, unknown));
    }
    Ok(project
        .discovery
        .apps
        .iter()
        .filter(|a| apps.is_empty() || apps.contains(&a.label))
        .collect())
}

/// The error for app labels the project does not have.
pub fn unknown_apps(project: &Project, unknown: Vec<String>) -> UnknownApps {
    let known: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    UnknownApps {
        unknown,
        known: if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        },
    }
}

/// The branches of an app's `leaves`: each leaf with the app's migrations
/// after the longest ancestry all leaves share (Django's `handle_merge`).
/// `None` when they share no migration of the app.
pub(crate) fn branches(
    project: &Project,
    app: &str,
    leaves: &[String],
) -> Option<Vec<merge::Branch>> {
    let graph = &project.graph.graph;
    let ancestries: Vec<Vec<MigrationKey>> = leaves
        .iter()
        .map(|leaf| {
            graph
                .forwards_plan(&MigrationKey::new(app, leaf))
                .into_iter()
                .filter(|k| k.app == app)
                .collect()
        })
        .collect();
    let shortest = ancestries.iter().map(Vec::len).min().unwrap_or(0);
    let common = (0..shortest)
        .take_while(|&i| ancestries.iter().all(|a| a[i] == ancestries[0][i]))
        .count();
    if common == 0 {
        return None;
    }
    Some(
        leaves
            .iter()
            .zip(&ancestries)
            .map(|(leaf, ancestry)| merge::Branch {
                leaf: leaf.clone(),
                migrations: ancestry[common..].to_vec(),
            })
            .collect(),
    )
}

/// What a set of migrations does to models and fields: `(model, field)`
/// pairs, with `field = None` for operations on the whole model.
pub fn touched(project: &Project, keys: &[MigrationKey]) -> BTreeSet<(String, Option<String>)> {
    let mut out = BTreeSet::new();
    for key in keys {
        let Some(migration) = project.migration(key) else {
            continue;
        };
        for (op, _) in migration.all_operations() {
            let Some(model) = op.model_name_lower() else {
                continue;
            };
            let field = |name: &str| op.str_arg(name).map(str::to_lowercase);
            match op.kind {
                OperationKind::AddField
                | OperationKind::RemoveField
                | OperationKind::AlterField => {
                    out.insert((model, field("name")));
                }
                OperationKind::RenameField => {
                    out.insert((model.clone(), field("old_name")));
                    out.insert((model, field("new_name")));
                }
                OperationKind::DeleteModel
                | OperationKind::RenameModel
                | OperationKind::CreateModel => {
                    out.insert((model, None));
                }
                _ => {}
            }
        }
    }
    out
}

/// Pairs both sets touch: the same field, or a whole model one side
/// creates, deletes or renames while the other changes it.
pub fn overlap(
    a: &BTreeSet<(String, Option<String>)>,
    b: &BTreeSet<(String, Option<String>)>,
) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for (model, field) in a {
        let clash = b
            .iter()
            .any(|(m, f)| m == model && (f == field || f.is_none() || field.is_none()));
        if clash {
            out.push((model.clone(), field.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_reprs_as_python_writes_them() {
        assert_eq!(parse_number("0002_post_slug"), Some(2));
        assert_eq!(parse_number("0001_squashed_0004_item_price"), Some(4));
        assert_eq!(parse_number("initial"), None);
        assert_eq!(py_repr("0002_a"), "'0002_a'");
        assert_eq!(py_repr("it's"), "\"it's\"");
    }
}
