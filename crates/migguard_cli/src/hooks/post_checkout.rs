//! The post-checkout hook: the database next to the branch just checked
//! out.
//!
//! git passes the previous HEAD, the new HEAD and a flag (githooks(5): 1 for
//! a branch checkout, 0 for a file checkout). Only branch checkouts are
//! looked at; a file checkout, a step of a rebase (`rebase-merge` /
//! `rebase-apply` in the git directory) and a checkout that does not move
//! HEAD stay silent and cost next to nothing. The previous hook,
//! `<hook-dir>/post-checkout.legacy`, runs first.
//!
//! The migrations are read from both commits' trees (never the working
//! tree), parsed through the shared parse cache; the applied set is read
//! from the real database, located with the settings of the new commit.
//! The report says, in a few lines on standard error:
//! - `schema-mismatch`: each migration the database has applied that the
//!   new branch lacks, with the branch or commit it comes from (the branch
//!   left, from `HEAD`'s reflog) and what it did to the schema (the state is
//!   replayed only then);
//! - `unapplied-migrations`: the new branch's migrations not applied, as
//!   `migrate` would run them;
//! - the commands that fix it, and `migguard sync`.
//!
//! Every applied migration seen in either tree is kept in migguard's store
//! ([`migguard_git::AppliedStore`]) so `sync` can still unapply it once its
//! branch is gone. With `[tool.migguard] snapshots = true`, per-branch
//! snapshots are saved and restored first ([`super::snapshots`]).
//!
//! A database that is down, refuses the login, does not exist yet or was
//! never migrated, a detached HEAD and the first checkout of a clone each
//! give one line. The hook always exits 0: the checkout has already
//! happened, and git returns the hook's status as the status of `git
//! checkout` / `git switch`, so a failure would only confuse scripts.

use std::ffi::OsString;
use std::path::Path;

use migguard_core::config::Settings;
use migguard_core::diagnostic::{Diagnostic, Location};
use migguard_core::drift::{self, Drift, DriftInput, ForeignMigration, Labels};
use migguard_core::project::{self, AnalyzeOptions, Project};
use migguard_core::rules::branch::unapplied_migrations::UnappliedMigrations;
use migguard_core::rules::Rule;
use migguard_git::{AppliedStore, DiskCache, Oid, Repo, TreeSource};

use super::chain::{self, is_object_name, ProtocolError};
use super::{report, snapshots};
use crate::dbstate::{self, FixContext};
use crate::workspace::{load_settings, project_prefix};
use crate::{ExitStatus, Printer};

pub const HOOK: &str = "post-checkout";

/// What kind of checkout git did (the third argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutKind {
    /// `1`: HEAD moved to another branch or commit (`git checkout BRANCH`,
    /// `git switch`, `git clone`, `git worktree add`).
    Branch,
    /// `0`: files were checked out of the index or a commit; HEAD did not move.
    Files,
}

/// post-checkout's arguments, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCheckout {
    /// The previous HEAD; all zeros after `git clone` (see
    /// [`chain::is_zero_object_name`]).
    pub prev_head: String,
    pub new_head: String,
    pub kind: CheckoutKind,
}

impl PostCheckout {
    pub fn parse(args: &[OsString]) -> Result<PostCheckout, ProtocolError> {
        let [prev, new, flag] = args else {
            return Err(ProtocolError(format!(
                "{HOOK} expects 3 arguments (previous HEAD, new HEAD, checkout flag), got {}",
                args.len()
            )));
        };
        let oid = |arg: &OsString, what: &str| match arg.to_str() {
            Some(text) if is_object_name(text) => Ok(text.to_owned()),
            _ => Err(ProtocolError(format!(
                "{HOOK}: the {what} argument is not an object name: {:?}",
                arg
            ))),
        };
        let kind = match flag.to_str() {
            Some("1") => CheckoutKind::Branch,
            Some("0") => CheckoutKind::Files,
            _ => {
                return Err(ProtocolError(format!(
                    "{HOOK}: the checkout flag must be 0 or 1, got {flag:?}"
                )))
            }
        };
        Ok(PostCheckout {
            prev_head: oid(prev, "previous HEAD")?,
            new_head: oid(new, "new HEAD")?,
            kind,
        })
    }
}

/// `migguard-post-checkout [--hook-dir DIR] [--] PREV NEW FLAG`. Always
/// [`ExitStatus::Success`], even after a panic (the panic hook has printed it).
pub fn run(argv: impl IntoIterator<Item = OsString>, printer: &mut Printer<'_>) -> ExitStatus {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(argv, printer)));
    ExitStatus::Success
}

fn check(argv: Vec<OsString>, printer: &mut Printer<'_>) {
    let mut hook = chain::parse_hook_args(argv);
    if chain::run_by_pre_commit_framework(&hook) {
        // The framework passes git's arguments in the environment and runs
        // the previous hook itself.
        let var = |name: &str| std::env::var_os(name).unwrap_or_default();
        hook.args = vec![
            var("PRE_COMMIT_FROM_REF"),
            var("PRE_COMMIT_TO_REF"),
            var("PRE_COMMIT_CHECKOUT_TYPE"),
        ];
    } else if let Some(dir) = &hook.hook_dir {
        match chain::run_legacy(HOOK, dir, &hook.args, None) {
            Ok(None | Some(0)) => {}
            Ok(Some(code)) => printer.warn(&format!(
                "the previous {HOOK} hook ({}) exited with status {code}; the checkout is done either way",
                chain::legacy_path(HOOK, dir).display()
            )),
            Err(err) => printer.warn(&format!(
                "cannot run the previous {HOOK} hook ({}): {err}",
                chain::legacy_path(HOOK, dir).display()
            )),
        }
    }
    match PostCheckout::parse(&hook.args) {
        Ok(checkout) => compare(&checkout, printer),
        Err(err) => printer.warn(&err.to_string()),
    }
}

/// The apps of `django.contrib` that keep migrations: their rows are never
/// a branch's.
fn is_djangos_own_app(label: &str) -> bool {
    matches!(
        label,
        "admin"
            | "auth"
            | "contenttypes"
            | "sessions"
            | "sites"
            | "flatpages"
            | "redirects"
            | "messages"
            | "staticfiles"
    )
}

/// Whether git is in the middle of a rebase (its checkouts are steps).
fn rebase_in_progress(repo: &Repo) -> bool {
    let dir = repo.git_dir();
    dir.join("rebase-merge").exists() || dir.join("rebase-apply").exists()
}

/// Whether the repository is a linked worktree (`git worktree add`), whose
/// git directory is not the common one.
fn is_linked_worktree(repo: &Repo) -> bool {
    let canonical = |path: std::path::PathBuf| path.canonicalize().unwrap_or(path);
    canonical(repo.git_dir()) != canonical(repo.common_dir())
}

/// The revision left, as `(rev, label)`: the branch named by the reflog's
/// `checkout: moving from X to Y` when it still points at `prev`, else the
/// commit.
fn previous(repo: &Repo, prev: Oid) -> (String, String, Option<String>) {
    if let Some((from, _)) = repo.last_checkout() {
        if repo.branch_points_at(&from, prev) {
            return (from.clone(), format!("branch {from}"), Some(from));
        }
    }
    let short = repo.short_id(prev);
    (short.clone(), format!("commit {short}"), None)
}

fn analyze(source: &TreeSource, settings: &Settings, cache: &DiskCache) -> Option<Project> {
    project::analyze(
        source,
        settings,
        &AnalyzeOptions {
            cache: Some(cache),
            applied: None,
        },
    )
    .ok()
}

/// The body of the hook for a parsed checkout. Prints at most a short
/// report; never fails.
fn compare(checkout: &PostCheckout, printer: &mut Printer<'_>) {
    if checkout.kind == CheckoutKind::Files {
        return;
    }
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    let Ok(repo) = Repo::discover(&cwd) else {
        return;
    };
    if rebase_in_progress(&repo) {
        return;
    }
    // The all-zero previous HEAD: the first checkout of a clone, or of a
    // worktree made by `git worktree add` (which has nothing to say).
    let first_checkout = chain::is_zero_object_name(&checkout.prev_head);
    if first_checkout && is_linked_worktree(&repo) {
        return;
    }
    let Ok(new_oid) = Oid::from_str(&checkout.new_head) else {
        return;
    };
    let Ok(top) = TreeSource::at(&repo, &checkout.new_head, "") else {
        return;
    };
    // The project, wherever it lives in the repository (as of the branch
    // entered).
    let prefix = match project_prefix(&top) {
        Ok(prefix) => prefix,
        Err(err) => {
            printer.warn(&format!(
                "cannot compare the database with the branch: {err:#}"
            ));
            return;
        }
    };
    let new_source = if prefix.is_empty() {
        top
    } else {
        let Ok(source) = TreeSource::at(&repo, &checkout.new_head, &prefix) else {
            return;
        };
        source
    };
    let root = repo.workdir().unwrap_or(cwd).join(&prefix);
    let root = root.canonicalize().unwrap_or(root);
    let settings = match load_settings(&new_source, &root) {
        Ok(settings) => settings,
        Err(err) => {
            printer.warn(&format!(
                "cannot compare the database with the branch: {err:#}"
            ));
            return;
        }
    };
    let same_commit = checkout.prev_head == checkout.new_head;
    let snapshots_on = settings.options.snapshots == Some(true);
    if same_commit && !snapshots_on {
        // `git checkout -b new` or `git switch` to a branch at the same
        // commit: the migrations cannot differ.
        return;
    }

    // The branch entered, analysed once for the snapshots and the report.
    let cache = DiskCache::open(&repo.common_dir());
    let Some(mut new) = analyze(&new_source, &settings, &cache) else {
        return;
    };
    if new.discovery.apps.is_empty() {
        // Not a Django project (or not one migguard can see).
        let _ = cache.flush();
        return;
    }
    if first_checkout {
        let _ = cache.flush();
        printer.note(&format!(
            "first checkout of this clone: once the database is set up (`{} migrate`), `migguard status` compares it with the branch",
            dbstate::manage_command(&settings, &new.settings)
        ));
        return;
    }
    let Ok(prev_oid) = Oid::from_str(&checkout.prev_head) else {
        return;
    };
    let new_branch = repo.current_branch();
    let (old_rev, old_label, old_branch) = previous(&repo, prev_oid);
    snapshots::on_checkout(
        &repo,
        &root,
        &settings,
        &new,
        old_branch.as_deref(),
        new_branch.as_deref(),
        printer,
    );
    if same_commit {
        // The snapshot of the branch left is taken above.
        let _ = cache.flush();
        return;
    }
    let new_label = match &new_branch {
        Some(branch) => branch.clone(),
        None => format!("commit {}", repo.short_id(new_oid)),
    };
    let db = match dbstate::read_database(&root, &settings, &new.settings, None) {
        Ok(db) => db,
        Err(problem) => {
            let _ = cache.flush();
            printer.note(&format!(
                "cannot compare the database with {new_label}: {problem}"
            ));
            return;
        }
    };
    drift::rebuild_graph(&mut new, &db.applied);
    let mut store = AppliedStore::open(&repo);
    let first = drift::compute(&DriftInput {
        new: &new,
        old: None,
        stored: &[],
        applied: &db.applied,
    });
    // The old tree only matters when something applied is not on the new
    // one: a migration the new tree lacks, or a row of an app the new tree
    // does not have at all (which only the old tree can tell apart from a
    // package's app).
    let new_apps = new.discovery.app_labels();
    let unknown_app = db
        .applied
        .iter()
        .any(|key| !new_apps.contains(&key.app) && !is_djangos_own_app(&key.app));
    let old = if first.foreign.is_empty() && !unknown_app {
        None
    } else {
        TreeSource::at(&repo, &checkout.prev_head, &prefix)
            .ok()
            .and_then(|source| {
                let settings = load_settings(&source, &root).unwrap_or_else(|_| settings.clone());
                analyze(&source, &settings, &cache)
            })
            .map(|mut old| {
                drift::rebuild_graph(&mut old, &db.applied);
                old
            })
    };
    let _ = cache.flush();
    let mut stored = Vec::new();
    let drift = if old.is_none() && first.foreign.is_empty() {
        first
    } else {
        stored = dbstate::stored_migrations(&store, &new, old.as_ref(), &db.applied);
        drift::compute(&DriftInput {
            new: &new,
            old: old.as_ref(),
            stored: &stored,
            applied: &db.applied,
        })
    };
    dbstate::record_applied(&mut store, &new, &db.applied, None);
    if let Some(old) = &old {
        dbstate::record_applied(&mut store, old, &db.applied, Some(&new));
    }
    if let Err(err) = store.save() {
        printer.warn(&format!(
            "could not update the store of applied migrations: {err}"
        ));
    }

    if drift.is_clean() {
        return;
    }
    let manage = dbstate::manage_command(&settings, &new.settings);
    if new_branch.is_none() {
        printer.note(&format!(
            "HEAD is detached at {}: the database differs from it ({}); `migguard status` for details",
            repo.short_id(new_oid),
            counts(&drift)
        ));
        return;
    }
    let source_of = |f: &ForeignMigration| {
        dbstate::file_source(
            f,
            Some((&old_rev, &old_label)),
            Some((&repo, "")),
            Some(&store),
        )
    };
    let current = new_branch.clone();
    let ctx = FixContext {
        manage: &manage,
        current: current.as_deref(),
        source_of: &source_of,
    };
    let from = |f: &ForeignMigration| source_of(f).label();
    let no_fix = |_: &ForeignMigration| None;
    let labels = Labels {
        branch: &new_label,
        from: &from,
        fix: &no_fix,
        manage: &manage,
    };
    let all = settings.apply(drift::diagnostics(&drift, &new, &labels));
    let known = old
        .iter()
        .flat_map(|o| o.migrations.iter())
        .chain(stored.iter())
        .chain(new.migrations.iter());
    let irreversible = dbstate::irreversible_unapplies(&drift, known);
    let way_out = (!irreversible.is_empty())
        .then(|| dbstate::irreversible_way_out(&db.url, Some(&repo), current.as_deref()));
    let remedy = Remedy {
        irreversible: way_out.as_deref().map(|w| (irreversible.as_slice(), w)),
        sync: dbstate::sync_hint(&db.url),
    };
    write_report(printer, &all, &drift, &new_label, &ctx, &root, &remedy);
}

/// Besides the commands: what stops them, and what `migguard sync` does.
struct Remedy<'a> {
    /// The migrations to unapply Django cannot reverse, and the way back.
    irreversible: Option<(&'a [String], &'a str)>,
    /// `migguard sync`, said truthfully for the database.
    sync: String,
}

/// `2 applied migrations not on it, 1 unapplied`.
fn counts(drift: &Drift) -> String {
    let mut parts = Vec::new();
    if !drift.foreign.is_empty() {
        parts.push(format!(
            "{} applied migration{} not in it: {}",
            drift.foreign.len(),
            if drift.foreign.len() == 1 { "" } else { "s" },
            names(drift.foreign.iter().map(|f| f.key.to_string()), 3)
        ));
    }
    if !drift.unapplied.is_empty() {
        parts.push(format!("{} unapplied", drift.unapplied.len()));
    }
    if !drift.inconsistent.is_empty() {
        parts.push(format!(
            "{} with an inconsistent history",
            drift.inconsistent.len()
        ));
    }
    parts.join(", ")
}

/// The first `max` names, then "and N more".
fn names(all: impl Iterator<Item = String>, max: usize) -> String {
    let all: Vec<String> = all.collect();
    let mut text = all.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > max {
        text.push_str(&format!(" and {} more", all.len() - max));
    }
    text
}

/// The short report: a block per foreign migration and inconsistency, one
/// for the unapplied ones together, then the commands.
fn write_report(
    printer: &mut Printer<'_>,
    diagnostics: &[Diagnostic],
    drift: &Drift,
    branch: &str,
    ctx: &FixContext<'_>,
    root: &Path,
    remedy: &Remedy<'_>,
) {
    if diagnostics.is_empty() {
        return;
    }
    let mut blocks: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.rule != Rule::UnappliedMigrations)
        .cloned()
        .map(|mut d| {
            if d.rule == Rule::SchemaMismatch {
                d.help = None; // the commands below say it
            }
            d
        })
        .collect();
    let unapplied: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.rule == Rule::UnappliedMigrations)
        .collect();
    if let Some(first) = unapplied.first() {
        let n = unapplied.len();
        let mut block = Diagnostic::new(
            &UnappliedMigrations {
                key: drift
                    .unapplied
                    .first()
                    .cloned()
                    .unwrap_or_else(|| migguard_core::model::MigrationKey::new("", "")),
                position: 1,
                total: n,
                command: format!("{} migrate", ctx.manage),
            },
            Location::default(),
        );
        block.severity = first.severity;
        block.message = format!(
            "{n} migration{} of {branch} {} not applied; `migrate` would apply: {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" },
            names(drift.unapplied.iter().map(ToString::to_string), 6)
        );
        block.help = None;
        blocks.push(block);
    }
    report::write_blocks(printer, &blocks);
    if diagnostics
        .iter()
        .any(|d| d.rule == Rule::InconsistentHistory)
    {
        let _ = writeln!(
            printer.err,
            "migguard: Django refuses to migrate this database until its history is repaired (see above)."
        );
        return;
    }
    let has_foreign = diagnostics.iter().any(|d| d.rule == Rule::SchemaMismatch);
    if let (true, Some((list, way_out))) = (has_foreign, remedy.irreversible) {
        // `migrate APP TARGET` would stop half-way with IrreversibleError.
        let _ = writeln!(
            printer.err,
            "migguard: the database does not match {branch}, and Django cannot bring it back: {} migration{} \
             to unapply cannot be reversed:",
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        );
        for line in list {
            let _ = writeln!(printer.err, "    {line}");
        }
        let _ = writeln!(printer.err, "  The way back: {way_out}.");
        return;
    }
    let commands = if has_foreign {
        dbstate::fix_commands(drift, ctx)
    } else {
        vec![format!("{} migrate", ctx.manage)]
    };
    let _ = writeln!(
        printer.err,
        "migguard: the database does not match {branch}. To fix it (from {}):",
        root.display()
    );
    for line in commands {
        let _ = writeln!(printer.err, "    {line}");
    }
    for f in dbstate::unknown_foreign(drift) {
        let _ = writeln!(
            printer.err,
            "    # {} cannot be unapplied by Django: its file is not known",
            f.key
        );
    }
    if has_foreign {
        let _ = writeln!(printer.err, "  or run {}.", remedy.sync);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_a_branch_and_a_file_checkout() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let parsed = PostCheckout::parse(&os(&[&a, &b, "1"])).unwrap();
        assert_eq!(
            parsed,
            PostCheckout {
                prev_head: a.clone(),
                new_head: b.clone(),
                kind: CheckoutKind::Branch
            }
        );
        assert_eq!(
            PostCheckout::parse(&os(&[&a, &a, "0"])).unwrap().kind,
            CheckoutKind::Files
        );
    }

    #[test]
    fn accepts_a_clone_and_sha256() {
        let parsed = PostCheckout::parse(&os(&[&"0".repeat(40), &"c".repeat(40), "1"])).unwrap();
        assert!(chain::is_zero_object_name(&parsed.prev_head));
        assert!(PostCheckout::parse(&os(&[&"d".repeat(64), &"e".repeat(64), "1"])).is_ok());
    }

    #[test]
    fn rejects_what_git_never_passes() {
        let a = "a".repeat(40);
        let err = PostCheckout::parse(&os(&[&a, &a])).unwrap_err();
        assert!(err.0.contains("expects 3 arguments"), "{err}");
        assert!(PostCheckout::parse(&[]).is_err());
        assert!(PostCheckout::parse(&os(&[&a, &a, "1", "x"])).is_err());
        assert!(PostCheckout::parse(&os(&["HEAD", &a, "1"])).is_err());
        assert!(PostCheckout::parse(&os(&[&a, &a, "2"])).is_err());
    }

    #[test]
    fn always_succeeds() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = Printer::plain(&mut out, &mut err);
        let status = run(
            os(&["migguard-post-checkout", "--", "nonsense"]),
            &mut printer,
        );
        assert_eq!(status, ExitStatus::Success);
        assert!(String::from_utf8_lossy(&err).contains("expects 3 arguments"));
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_previous_hook_is_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("post-checkout.legacy");
        std::fs::write(&legacy, "#!/bin/sh\nexit 3\n").unwrap();
        std::fs::set_permissions(&legacy, std::fs::Permissions::from_mode(0o755)).unwrap();
        let a = "a".repeat(40);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = Printer::plain(&mut out, &mut err);
        let argv = vec![
            OsString::from("migguard-post-checkout"),
            OsString::from("--hook-dir"),
            dir.path().as_os_str().to_owned(),
            OsString::from("--"),
            OsString::from(&a),
            OsString::from(&a),
            OsString::from("1"),
        ];
        assert_eq!(run(argv, &mut printer), ExitStatus::Success);
        assert!(String::from_utf8_lossy(&err).contains("exited with status 3"));
    }
}
