//! The pre-commit hook: judge what is staged, block on errors.
//!
//! It reads the staging area (the index git is about to commit, including
//! the temporary one of `git commit -a` / `git commit PATH`), never the
//! working tree, so a half-staged file is judged as staged.
//!
//! A commit that touches no Python file, `pyproject.toml` or
//! `max_migration.txt` (templates, docs, assets) cannot change what
//! `makemigrations` or the migration graph sees: it is not analysed, and
//! not held up by an earlier commit made with `--no-verify`.
//!
//! The same checks run as the pre-merge-commit hook ([`run_merge`]): git
//! runs it after a `git merge` that completed without conflicts, with the
//! merge result in the index, before it makes the merge commit (a merge
//! with conflicts is committed by `git commit`, which runs pre-commit). Two
//! branches that each add a `0002_*` to one app merge cleanly in git and
//! leave two leaves: that is what this hook catches. The per-file rules
//! (`auto-named-migration`, `edited-upstream-migration`) are left out there:
//! the merged files were judged when they were committed on their own
//! branch, and what only a merge creates is the combination.

use std::ffi::OsString;

use anyhow::{Context, Result};
use migguard_core::config::Settings;
use migguard_core::diagnostic::{Diagnostic, Location};
use migguard_core::project::{self, AnalyzeOptions, Project};
use migguard_core::rules::branch::edited_upstream_migration::{
    EditedUpstreamMigration, UpstreamEdit,
};
use migguard_core::rules::naming::auto_named_migration;
use migguard_core::source::ProjectSource;
use migguard_git::{staged_changes, Change, ChangeStatus, DiskCache, IndexSource, Repo};

use super::chain;
use super::report;
use crate::workspace::{load_settings, project_prefix};
use crate::{ExitStatus, Printer};

/// What git is about to record from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staged {
    /// `git commit`: the pre-commit hook.
    Commit,
    /// `git merge` without conflicts: the pre-merge-commit hook.
    Merge,
}

impl Staged {
    fn hook(self) -> &'static str {
        match self {
            Staged::Commit => "pre-commit",
            Staged::Merge => "pre-merge-commit",
        }
    }

    /// The git command whose `--no-verify` skips this hook.
    fn command(self) -> &'static str {
        match self {
            Staged::Commit => "commit",
            Staged::Merge => "merge",
        }
    }
}

/// The pre-commit hook.
pub fn run(argv: impl IntoIterator<Item = OsString>, printer: &mut Printer<'_>) -> ExitStatus {
    run_for(Staged::Commit, argv, printer)
}

/// The pre-merge-commit hook: the same checks on the merge result.
pub fn run_merge(
    argv: impl IntoIterator<Item = OsString>,
    printer: &mut Printer<'_>,
) -> ExitStatus {
    run_for(Staged::Merge, argv, printer)
}

fn run_for(
    staged: Staged,
    argv: impl IntoIterator<Item = OsString>,
    printer: &mut Printer<'_>,
) -> ExitStatus {
    let hook = chain::parse_hook_args(argv);
    let name = staged.hook();
    let legacy = match &hook.hook_dir {
        Some(dir) => match chain::run_legacy(name, dir, &hook.args, None) {
            Ok(code) => code,
            Err(err) => {
                printer.error(&format!("cannot run the previous {name} hook: {err}"));
                Some(1)
            }
        },
        None => None,
    };
    let ours = match check_staged(staged, printer) {
        Ok(status) => status,
        Err(err) => {
            let command = staged.command();
            printer.error(&format!("{err:#}"));
            printer.note(&format!(
                "to {command} anyway: `git {command} --no-verify` (or MIGGUARD=0 git {command})"
            ));
            ExitStatus::Error
        }
    };
    match legacy {
        Some(code) if code != 0 && ours == ExitStatus::Success => ExitStatus::Failure,
        _ => ours,
    }
}

fn check_staged(staged: Staged, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo = Repo::discover(&cwd).context("not inside a git repository")?;
    let top = IndexSource::staged(&repo, "").context("cannot read the staging area")?;
    let prefix = project_prefix(&top)?;
    let changes =
        staged_changes(&repo, &prefix).context("cannot compare the staging area with HEAD")?;
    if !changes.iter().any(touches_python) {
        // Templates, docs, assets: nothing makemigrations or the migration
        // graph reads changes, so there is nothing to judge.
        return Ok(ExitStatus::Success);
    }
    let source = if prefix.is_empty() {
        top
    } else {
        IndexSource::staged(&repo, &prefix).context("cannot read the staging area")?
    };
    let root = repo.workdir().unwrap_or(cwd).join(&prefix);
    let settings = load_settings(&source, &root)?;
    let cache = DiskCache::open(&repo.common_dir());
    let project = project::analyze(
        &source,
        &settings,
        &AnalyzeOptions {
            cache: Some(&cache),
            applied: None,
        },
    )
    .with_context(|| format!("cannot analyse {}", source.describe()))?;

    let mut diagnostics = project.diagnostics.clone();
    // The staged models against the staged migrations.
    diagnostics.extend(crate::commands::check::model_rules(
        &project,
        &settings,
        &source,
        Some(&cache),
    ));
    if let Err(err) = cache.flush() {
        // The cache only saves time; a failure to write it changes nothing.
        printer.warn(&format!("could not update the parse cache: {err}"));
    }
    if staged == Staged::Commit {
        diagnostics.extend(new_migration_names(&project, &changes));
        diagnostics.extend(upstream_edits(
            &repo, &project, &settings, &changes, &prefix,
        ));
    }
    let diagnostics = project::finish(&project, &settings, diagnostics);

    if diagnostics.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let summary = report::write_blocks(printer, &diagnostics);
    if summary.errors > 0 {
        let command = staged.command();
        let _ = writeln!(
            printer.err,
            "migguard: {command} blocked ({}). {}, or {command} anyway with `git {command} --no-verify`.",
            report::counts(&summary),
            match staged {
                Staged::Commit => "Fix the staged files",
                Staged::Merge => "The merge is not committed: fix the result, then `git commit`",
            }
        );
        Ok(ExitStatus::Failure)
    } else {
        let _ = writeln!(
            printer.err,
            "migguard: {} (not blocking).",
            report::counts(&summary)
        );
        Ok(ExitStatus::Success)
    }
}

/// Whether a change can alter the models, the migrations or what migguard
/// makes of them: a Python module, the configuration (`pyproject.toml`),
/// a `max_migration.txt`.
fn touches_python(change: &Change) -> bool {
    [&change.old_path, &change.new_path]
        .into_iter()
        .flatten()
        .any(|path| {
            path.ends_with(".py")
                || path.ends_with("pyproject.toml")
                || path.ends_with("max_migration.txt")
        })
}

/// Whether a path is a migration module of one of the project's apps.
fn is_migration_path(project: &Project, path: &str) -> bool {
    let Some((dir, file)) = path.rsplit_once('/') else {
        return false;
    };
    file.ends_with(".py")
        && !file.starts_with('_')
        && !file.starts_with('~')
        && project
            .discovery
            .apps
            .iter()
            .any(|a| a.migrations_dir == dir)
}

/// `auto-named-migration` for migrations this commit adds (old ones are
/// not this commit's business).
fn new_migration_names(project: &Project, changes: &[Change]) -> Vec<Diagnostic> {
    changes
        .iter()
        .filter(|c| matches!(c.status, ChangeStatus::Added | ChangeStatus::Renamed))
        .filter_map(|c| c.new_path.as_deref())
        .filter_map(|path| project.migration_at(path))
        .filter_map(auto_named_migration::check)
        .collect()
}

/// `edited-upstream-migration` for staged modifications, deletions and
/// renames of migrations the upstream branch has.
fn upstream_edits(
    repo: &Repo,
    project: &Project,
    settings: &Settings,
    changes: &[Change],
    prefix: &str,
) -> Vec<Diagnostic> {
    let Some((upstream, commit)) = repo.upstream(settings.options.upstream.as_deref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for change in changes {
        let (edit, old) = match (&change.status, &change.old_path) {
            (ChangeStatus::Modified, Some(old)) => (UpstreamEdit::Modified, old),
            (ChangeStatus::Deleted, Some(old)) => (UpstreamEdit::Deleted, old),
            (ChangeStatus::Renamed, Some(old)) => (UpstreamEdit::Renamed, old),
            _ => continue,
        };
        if !is_migration_path(project, old)
            || !migguard_git::path_exists_at(repo, commit, old, prefix)
        {
            continue;
        }
        let location = match (edit, project.migration_at(old)) {
            (UpstreamEdit::Modified, Some(m)) => Location::file(old.clone())
                .in_migration(&m.key.app, &m.key.name)
                .at(m.line, m.column, Some(m.span)),
            _ => Location::file(old.clone()),
        };
        out.push(Diagnostic::new(
            &EditedUpstreamMigration {
                path: old.clone(),
                upstream: upstream.clone(),
                edit,
                renamed_to: change
                    .new_path
                    .clone()
                    .filter(|_| edit == UpstreamEdit::Renamed),
            },
            location,
        ));
    }
    out
}
