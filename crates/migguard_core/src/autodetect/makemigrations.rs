//! Django's own verdict: the output of `manage.py makemigrations --check
//! --dry-run --verbosity 3`, read into the same [`Changes`] the static
//! autodetector produces.
//!
//! At verbosity 3 a dry run prints, per app, a heading
//! (`Migrations for 'blog':`), the file it would write, one line per
//! operation (`+ Add field subtitle to post`), then the whole file it would
//! write (`Full migrations file '0002_post_subtitle.py':`). The file is read
//! with migguard's own migration parser, so each operation's type, model and
//! name come from the code Django wrote, not from its English description.

use std::collections::BTreeMap;

use crate::model::{MigrationKey, Operation, OperationKind, Value};
use crate::parse::parse_migration;

use super::{Change, Changes};

/// One migration `makemigrations` would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedMigration {
    pub app: String,
    /// The path Django prints, relative to `manage.py`'s directory.
    pub path: String,
    /// Its operation lines as Django describes them (`+ Add field ...`).
    pub described: Vec<String>,
    /// The module Django would write, when the output includes it.
    pub source: Option<String>,
}

/// Split a dry run's standard output into the migrations it would write.
pub fn proposed_migrations(stdout: &str) -> Vec<ProposedMigration> {
    let mut out: Vec<ProposedMigration> = Vec::new();
    let mut app: Option<String> = None;
    let mut in_file = false;
    for line in stdout.lines() {
        if let Some(label) = heading(line, "Migrations for '") {
            app = Some(label.to_owned());
            in_file = false;
            continue;
        }
        if heading(line, "Full migrations file '").is_some() {
            in_file = true;
            if let Some(last) = out.iter_mut().rev().find(|m| m.source.is_none()) {
                last.source = Some(String::new());
            }
            continue;
        }
        // Django writes code indented by four spaces; a line indented by
        // exactly two is the path of the app's next migration.
        let path_line = line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(".py");
        if in_file && !path_line {
            if let Some(source) = out.last_mut().and_then(|m| m.source.as_mut()) {
                source.push_str(line);
                source.push('\n');
            }
            continue;
        }
        let Some(app) = &app else { continue };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if line.starts_with("    ") {
            if let Some(last) = out.last_mut() {
                last.described.push(trimmed.to_owned());
            }
        } else if path_line {
            in_file = false;
            out.push(ProposedMigration {
                app: app.clone(),
                path: trimmed.to_owned(),
                described: Vec::new(),
                source: None,
            });
        }
    }
    out
}

/// `Migrations for 'blog':` -> `blog`.
fn heading<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix("':")
}

/// The operations of the proposed migrations, per app, as [`Change`]s.
/// An operation line whose file was not printed (lower verbosity) or does
/// not parse is kept with its description as the type.
pub fn changes(proposed: &[ProposedMigration]) -> Changes {
    let mut apps: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for migration in proposed {
        let list = apps.entry(migration.app.clone()).or_default();
        let operations = migration
            .source
            .as_deref()
            .map(|source| operations_of(&migration.app, &migration.path, source))
            .unwrap_or_default();
        if operations.len() == migration.described.len() {
            for (op, described) in operations.iter().zip(&migration.described) {
                list.push(change(op, described));
            }
        } else {
            for described in &migration.described {
                list.push(Change {
                    kind: String::new(),
                    model_name: String::new(),
                    name: String::new(),
                    location: None,
                    detail: described.clone(),
                    uncertain: None,
                });
            }
        }
    }
    apps.retain(|_, list| !list.is_empty());
    Changes { apps }
}

fn operations_of(app: &str, path: &str, source: &str) -> Vec<Operation> {
    let name = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".py");
    let key = MigrationKey::new(app, name);
    let package = format!("{app}.migrations");
    parse_migration(&key, path, &package, source.as_bytes())
        .migration
        .map(|m| m.operations)
        .unwrap_or_default()
}

fn change(op: &Operation, described: &str) -> Change {
    use OperationKind::*;
    let model_name = op.model_name_lower().unwrap_or_default();
    let named = |arg: &str| {
        op.arg(arg)
            .and_then(Value::as_call)
            .and_then(|call| call.kwarg("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let name = match op.kind {
        AddField | RemoveField | AlterField | RemoveIndex | RemoveConstraint | AlterConstraint => {
            op.str_arg("name").map(str::to_owned)
        }
        RenameField | RenameIndex => op.str_arg("new_name").map(str::to_owned),
        AddIndex => named("index"),
        AddConstraint => named("constraint"),
        _ => Some(model_name.clone()),
    }
    .unwrap_or_default();
    Change {
        kind: op.type_name().to_owned(),
        model_name,
        name,
        location: None,
        detail: described.to_owned(),
        uncertain: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Django 5.2 prints for `makemigrations --check --dry-run -v 3`
    /// after a field and an index were added to `blog.Post`.
    const OUTPUT: &str = "Migrations for 'blog':
  blog/migrations/0002_post_subtitle_post_blog_title_idx.py
    + Add field subtitle to post
    + Create index blog_title_idx on field(s) title of model post
Full migrations file '0002_post_subtitle_post_blog_title_idx.py':
# Generated by Django 5.2.19 on 2026-12-03 06:00

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('blog', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='subtitle',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(fields=['title'], name='blog_title_idx'),
        ),
    ]

Migrations for 'shop':
  shop/migrations/0003_delete_coupon.py
    - Delete model Coupon
";

    #[test]
    fn reads_the_operations_from_the_file_django_would_write() {
        let proposed = proposed_migrations(OUTPUT);
        assert_eq!(proposed.len(), 2);
        assert_eq!(proposed[0].app, "blog");
        assert_eq!(
            proposed[0].path,
            "blog/migrations/0002_post_subtitle_post_blog_title_idx.py"
        );
        assert!(proposed[0].source.as_deref().unwrap().contains("AddIndex"));
        assert_eq!(proposed[1].source, None);

        let changes = changes(&proposed);
        let blog: Vec<(&str, &str, &str)> = changes.apps["blog"]
            .iter()
            .map(|c| (c.kind.as_str(), c.model_name.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            blog,
            [
                ("AddField", "post", "subtitle"),
                ("AddIndex", "post", "blog_title_idx")
            ]
        );
        assert_eq!(
            changes.apps["blog"][0].detail,
            "+ Add field subtitle to post"
        );
        // Without the file (lower verbosity), the description is all there is.
        assert_eq!(changes.apps["shop"][0].detail, "- Delete model Coupon");
        assert_eq!(changes.apps["shop"][0].kind, "");
    }

    #[test]
    fn no_changes_is_nothing() {
        assert!(proposed_migrations("No changes detected\n").is_empty());
        assert!(changes(&[]).is_empty());
    }
}
