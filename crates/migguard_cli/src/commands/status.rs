//! `migguard status` and `migguard plan`: the database next to the
//! branch's migrations.
//!
//! `status` lists, per app, what `showmigrations` lists (`[X]` applied,
//! `[ ]` not) plus the migrations the database has applied that the branch
//! lacks (`[!]`), then one diagnostic per migration (`schema-mismatch`,
//! `unapplied-migrations`, `inconsistent-history`); `--format json` is the
//! `check` contract. `plan` says what `manage.py migrate` would do now, or
//! after switching to `--to REV`: the unapplies first (Django's
//! `backwards_plan` order), then the applies.
//!
//! Exit status: 0, 1 when Django would refuse the history
//! (`inconsistent-history`), 2 when the database cannot be read (one line).

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::{Context, Result};
use migguard_core::diagnostic::{Diagnostic, Severity, Summary};
use migguard_core::drift::{self, Drift, DriftInput, ForeignMigration, Labels, Provenance};
use migguard_core::graph::NodeKind;
use migguard_core::model::{Migration, MigrationKey};
use migguard_core::project::Project;
use migguard_core::render::{self, Format, RenderOptions};
use migguard_core::rules::Rule;
use migguard_git::AppliedStore;

use crate::args::{PlanArgs, SourceArgs, StatusArgs, StatusFormat};
use crate::dbstate::{self, DbView, FileSource, FixContext};
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

/// The working tree's project next to the database.
struct Compared {
    /// The project directory, absolute.
    root: std::path::PathBuf,
    workspace: Workspace,
    project: Project,
    db: DbView,
    drift: Drift,
    store: Option<AppliedStore>,
    /// The foreign migrations' files from migguard's store.
    stored: Vec<Migration>,
    manage: String,
}

impl Compared {
    /// The current branch's name, or `None` (detached, no repository).
    fn branch(&self) -> Option<String> {
        self.workspace
            .git
            .as_ref()
            .and_then(|(repo, _)| repo.current_branch())
    }

    fn branch_label(&self) -> String {
        self.branch().unwrap_or_else(|| "this branch".to_owned())
    }

    /// Where to come back to after switching: the branch, else HEAD's commit.
    fn current_rev(&self) -> Option<String> {
        let (repo, _) = self.workspace.git.as_ref()?;
        repo.current_branch()
            .or_else(|| repo.head_commit().map(|oid| oid.to_string()))
    }

    /// The migrations to unapply that Django cannot reverse, and the way
    /// back instead; `None` when the commands can work.
    fn stuck(&self) -> Option<(Vec<String>, String)> {
        let known = self.stored.iter().chain(self.project.migrations.iter());
        let list = dbstate::irreversible_unapplies(&self.drift, known);
        if list.is_empty() {
            return None;
        }
        let repo = self.workspace.git.as_ref().map(|(r, _)| r);
        let way = dbstate::irreversible_way_out(&self.db.url, repo, self.branch().as_deref());
        Some((list, way))
    }

    fn source_of(&self, foreign: &ForeignMigration) -> FileSource {
        dbstate::file_source(
            foreign,
            None,
            self.workspace.git.as_ref().map(|(r, p)| (r, p.as_str())),
            self.store.as_ref(),
        )
    }
}

/// Open the project at `path` (working tree), read the database, compare.
/// `Err(Ok(status))` is a database problem already reported.
fn compare(
    path: &std::path::Path,
    database: Option<&str>,
    printer: &mut Printer<'_>,
) -> Result<Result<Compared, ExitStatus>> {
    let workspace = Workspace::open(&SourceArgs {
        at: None,
        staged: false,
        path: path.to_path_buf(),
    })?;
    let mut project = workspace.analyze()?;
    let root = workspace
        .root
        .canonicalize()
        .unwrap_or_else(|_| workspace.root.clone());
    let db = match dbstate::read_database(&root, &workspace.settings, &project.settings, database) {
        Ok(db) => db,
        Err(problem) => {
            printer.error(&format!("cannot read the database: {problem}"));
            return Ok(Err(ExitStatus::Error));
        }
    };
    drift::rebuild_graph(&mut project, &db.applied);
    let store = workspace
        .git
        .as_ref()
        .map(|(repo, _)| AppliedStore::open(repo));
    let stored = store
        .as_ref()
        .map(|s| dbstate::stored_migrations(s, &project, None, &db.applied))
        .unwrap_or_default();
    let drift = drift::compute(&DriftInput {
        new: &project,
        old: None,
        stored: &stored,
        applied: &db.applied,
    });
    let manage = dbstate::manage_command(&workspace.settings, &project.settings);
    Ok(Ok(Compared {
        root,
        workspace,
        project,
        db,
        drift,
        store,
        stored,
        manage,
    }))
}

pub fn status(args: &StatusArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let compared = match compare(&args.path, args.database.as_deref(), printer)? {
        Ok(c) => c,
        Err(status) => return Ok(status),
    };
    let current = compared.current_rev();
    let source_of = |f: &ForeignMigration| compared.source_of(f);
    let ctx = FixContext {
        manage: &compared.manage,
        current: current.as_deref(),
        source_of: &source_of,
    };
    let branch = compared.branch_label();
    let from = |f: &ForeignMigration| source_of(f).label();
    let fix = |f: &ForeignMigration| dbstate::fix_for(f, &compared.drift, &ctx);
    let labels = Labels {
        branch: &branch,
        from: &from,
        fix: &fix,
        manage: &compared.manage,
    };
    let mut diagnostics = compared.workspace.settings.apply(drift::diagnostics(
        &compared.drift,
        &compared.project,
        &labels,
    ));
    let stuck = compared.stuck();
    if let Some((list, way)) = &stuck {
        // Their fix, `migrate APP TARGET` or `migguard sync`, would stop
        // with IrreversibleError.
        for d in diagnostics
            .iter_mut()
            .filter(|d| d.rule == Rule::SchemaMismatch)
        {
            d.help = Some(format!(
                "`migrate` cannot unapply it: it would stop with IrreversibleError ({}); the way back: {way}",
                list.join("; ")
            ));
            if let Some(details) = d.details.as_object_mut() {
                details.insert("fix".to_owned(), serde_json::Value::Null);
            }
        }
    }
    match args.format {
        StatusFormat::Json => {
            let options = RenderOptions::default();
            render::render(
                Format::Json,
                &diagnostics,
                compared.workspace.source.as_ref(),
                &options,
                printer.out,
            )?;
        }
        StatusFormat::Text => write_text(&compared, &diagnostics, stuck.as_ref(), &ctx, printer)?,
    }
    Ok(if Summary::of(&diagnostics).errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `showmigrations --list`, foreign migrations added, then the findings.
fn write_text(
    c: &Compared,
    diagnostics: &[Diagnostic],
    stuck: Option<&(Vec<String>, String)>,
    ctx: &FixContext<'_>,
    printer: &mut Printer<'_>,
) -> Result<()> {
    let color = printer.color;
    let out = &mut *printer.out;
    writeln!(out, "Database: {} ({})", c.db.url_display, c.db.how)?;
    let applied = drift::loader_applied(&c.project, &c.db.applied);
    let graph = &c.project.graph.graph;
    let mut apps: BTreeSet<String> = c.project.discovery.app_labels();
    apps.extend(c.drift.foreign.iter().map(|f| f.key.app.clone()));
    for app in &apps {
        writeln!(out, "{}", paint(color, "1", app))?;
        let mut shown: BTreeSet<MigrationKey> = BTreeSet::new();
        for leaf in graph.leaf_nodes(app) {
            for key in graph.forwards_plan(&leaf) {
                if key.app != *app || shown.contains(&key) {
                    continue;
                }
                let Some(NodeKind::Migration(index)) = graph.kind(&key) else {
                    continue;
                };
                let mut title = key.name.clone();
                if let Some(m) = c.project.migrations.get(*index) {
                    if !m.replaces.is_empty() {
                        title.push_str(&format!(" ({} squashed migrations)", m.replaces.len()));
                    }
                }
                let mark = if !applied.contains(&key) {
                    "[ ]".to_owned()
                } else if c.db.applied.contains(&key) {
                    paint(color, "32", "[X]")
                } else {
                    // A squash whose replaced migrations are all applied
                    // but which has no row of its own: showmigrations says
                    // so the same way.
                    title.push_str(" Run 'manage.py migrate' to finish recording.");
                    paint(color, "33", "[-]")
                };
                writeln!(out, " {mark} {title}")?;
                shown.insert(key);
            }
        }
        let foreign: Vec<&ForeignMigration> = c
            .drift
            .foreign
            .iter()
            .filter(|f| f.key.app == *app)
            .collect();
        for f in &foreign {
            writeln!(
                out,
                " {} {} (applied in the database, not on this branch)",
                paint(color, "1;33", "[!]"),
                f.key.name
            )?;
        }
        if shown.is_empty() && foreign.is_empty() {
            writeln!(out, " (no migrations)")?;
        }
    }

    if diagnostics.is_empty() {
        writeln!(out, "\nThe database matches {}.", c.branch_label())?;
        return Ok(());
    }
    writeln!(out)?;
    let unapplied: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.rule == Rule::UnappliedMigrations)
        .collect();
    for d in diagnostics
        .iter()
        .filter(|d| d.rule != Rule::UnappliedMigrations)
    {
        if stuck.is_some() && d.rule == Rule::SchemaMismatch {
            // Its fix is a `migrate APP TARGET` Django cannot do; the
            // way back is said below.
            let mut d = d.clone();
            d.help = None;
            write_block(out, color, &d, &d.message)?;
        } else {
            write_block(out, color, d, &d.message)?;
        }
    }
    if let Some(first) = unapplied.first() {
        let n = unapplied.len();
        let text = format!(
            "{n} migration{} of {} {} not applied (marked [ ] above): `{} migrate` applies {}",
            if n == 1 { "" } else { "s" },
            c.branch_label(),
            if n == 1 { "is" } else { "are" },
            c.manage,
            if n == 1 { "it" } else { "them in plan order" },
        );
        let mut summary = (*first).clone();
        summary.help = None;
        write_block(out, color, &summary, &text)?;
    }
    if let (false, Some((list, way))) = (c.drift.foreign.is_empty(), &stuck) {
        let head = format!("\nDjango cannot bring the database to {}", c.branch_label());
        write_irreversible(out, &head, list, way)?;
    } else if !c.drift.foreign.is_empty() {
        writeln!(
            out,
            "\nTo bring the database to {}, from {}: {}; or by hand:",
            c.branch_label(),
            c.root.display(),
            dbstate::sync_hint(&c.db.url)
        )?;
        for line in dbstate::fix_commands(&c.drift, ctx) {
            writeln!(out, "    {line}")?;
        }
        for f in dbstate::unknown_foreign(&c.drift) {
            writeln!(
                out,
                "    # {} cannot be unapplied: no file for it is known (restore a backup, or `{} migrate --fake {} <previous>` once its changes are undone)",
                f.key, c.manage, f.key.app
            )?;
        }
    }
    writeln!(out, "{}", render::summary_line(Summary::of(diagnostics)))?;
    Ok(())
}

fn write_block(out: &mut dyn Write, color: bool, d: &Diagnostic, message: &str) -> Result<()> {
    let (label, code) = match d.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
        Severity::Info => ("info", "1;36"),
    };
    let head = paint(
        color,
        code,
        &format!("{label}[{} {}]", d.rule.code(), d.rule.name()),
    );
    writeln!(out, "{head} {message}")?;
    if let Some(help) = &d.help {
        writeln!(out, "  {} {help}", paint(color, "1;32", "fix:"))?;
    }
    Ok(())
}

pub fn plan(args: &PlanArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let Some(rev) = &args.to else {
        let compared = match compare(&args.path, args.database.as_deref(), printer)? {
            Ok(c) => c,
            Err(status) => return Ok(status),
        };
        let current = compared.current_rev();
        let source_of = |f: &ForeignMigration| compared.source_of(f);
        let ctx = FixContext {
            manage: &compared.manage,
            current: current.as_deref(),
            source_of: &source_of,
        };
        let commands = dbstate::fix_commands(&compared.drift, &ctx);
        let target = format!("{} (the working tree)", compared.branch_label());
        return write_plan(
            printer,
            &compared.db,
            &compared.drift,
            &target,
            &compared.manage,
            &commands,
            compared.stuck(),
        );
    };

    // After switching to REV: REV's migrations, the working tree's files
    // for what REV lacks.
    let current = Workspace::open(&SourceArgs {
        at: None,
        staged: false,
        path: args.path.clone(),
    })?;
    let mut here = current.analyze()?;
    let root = current
        .root
        .canonicalize()
        .unwrap_or_else(|_| current.root.clone());
    let db = match dbstate::read_database(
        &root,
        &current.settings,
        &here.settings,
        args.database.as_deref(),
    ) {
        Ok(db) => db,
        Err(problem) => {
            printer.error(&format!("cannot read the database: {problem}"));
            return Ok(ExitStatus::Error);
        }
    };
    let (repo, _) = current.git.as_ref().with_context(|| {
        format!(
            "--to needs a git repository; {} is not in one",
            current.root.display()
        )
    })?;
    let target_ws = Workspace::open(&SourceArgs {
        at: Some(rev.clone()),
        staged: false,
        path: args.path.clone(),
    })?;
    let mut there = target_ws.analyze()?;
    drift::rebuild_graph(&mut here, &db.applied);
    drift::rebuild_graph(&mut there, &db.applied);
    let store = AppliedStore::open(repo);
    let stored = dbstate::stored_migrations(&store, &there, Some(&here), &db.applied);
    let drift = drift::compute(&DriftInput {
        new: &there,
        old: Some(&here),
        stored: &stored,
        applied: &db.applied,
    });
    let manage = dbstate::manage_command(&target_ws.settings, &there.settings);
    // Unapply with the files here, before switching; what only the store
    // (or another branch) has, after.
    let here_has = |app: &str| {
        drift
            .foreign
            .iter()
            .any(|f| f.key.app == app && f.provenance == Provenance::OldRevision)
    };
    let (now, later): (Vec<_>, Vec<_>) = drift
        .unapply
        .iter()
        .cloned()
        .partition(|s| here_has(&s.app));
    let mut commands: Vec<String> = now
        .iter()
        .map(|s| {
            format!(
                "{manage} migrate {} {}",
                dbstate::quote(&s.app),
                dbstate::quote(s.target_name())
            )
        })
        .collect();
    commands.push(format!("git checkout {}", dbstate::quote(rev)));
    let git = current.git.as_ref().map(|(r, p)| (r, p.as_str()));
    let source_of = |f: &ForeignMigration| dbstate::file_source(f, None, git, Some(&store));
    let ctx = FixContext {
        manage: &manage,
        current: Some(rev),
        source_of: &source_of,
    };
    commands.extend(dbstate::fix_commands(
        &Drift {
            unapply: later,
            ..drift.clone()
        },
        &ctx,
    ));
    let target = match repo.resolve(rev) {
        Ok(oid) => format!("{rev} (commit {})", repo.short_id(oid)),
        Err(_) => rev.clone(),
    };
    let known = here
        .migrations
        .iter()
        .chain(stored.iter())
        .chain(there.migrations.iter());
    let list = dbstate::irreversible_unapplies(&drift, known);
    let stuck = (!list.is_empty()).then(|| {
        let way = dbstate::irreversible_way_out(&db.url, Some(repo), Some(rev));
        (list, way)
    });
    write_plan(printer, &db, &drift, &target, &manage, &commands, stuck)
}

/// `head`: the migrations to unapply Django cannot reverse, one a line,
/// then the way back.
fn write_irreversible(
    out: &mut dyn Write,
    head: &str,
    list: &[String],
    way: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{head}: {} migration{} to unapply cannot be reversed \
         (`migrate` would stop with IrreversibleError):",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    )?;
    for line in list {
        writeln!(out, "    {line}")?;
    }
    writeln!(out, "The way back: {way}.")
}

fn write_plan(
    printer: &mut Printer<'_>,
    db: &DbView,
    drift: &Drift,
    target: &str,
    manage: &str,
    commands: &[String],
    stuck: Option<(Vec<String>, String)>,
) -> Result<ExitStatus> {
    let out = &mut *printer.out;
    writeln!(out, "Database: {} ({})", db.url_display, db.how)?;
    writeln!(out, "Plan for {target}:")?;
    let effects = |key: &MigrationKey| {
        drift
            .foreign
            .iter()
            .find(|f| &f.key == key)
            .filter(|f| !f.effects.is_empty())
            .map(|f| format!("  ({})", f.effects.join("; ")))
            .unwrap_or_default()
    };
    let mut steps = 0;
    for step in &drift.unapply {
        if stuck.is_some() {
            // No pasteable `migrate APP TARGET`: it would stop half-way.
            writeln!(
                out,
                "  {} back to {} (not with `migrate`: see below)",
                step.app,
                step.target_name()
            )?;
        } else {
            writeln!(
                out,
                "  {manage} migrate {} {}",
                dbstate::quote(&step.app),
                dbstate::quote(step.target_name())
            )?;
        }
        for key in &step.unapplies {
            writeln!(out, "    - unapply {key}{}", effects(key))?;
            steps += 1;
        }
    }
    for f in dbstate::unknown_foreign(drift) {
        writeln!(
            out,
            "  ! {} stays applied: no file for it is known, Django cannot unapply it",
            f.key
        )?;
    }
    if !drift.apply.is_empty() {
        writeln!(out, "  {manage} migrate")?;
        for key in &drift.apply {
            writeln!(out, "    + apply {key}")?;
            steps += 1;
        }
    }
    for inconsistency in &drift.inconsistent {
        let missing: Vec<String> = inconsistency
            .missing
            .iter()
            .map(ToString::to_string)
            .collect();
        writeln!(
            out,
            "  ! Django refuses to migrate: {} is applied but {} is not (InconsistentMigrationHistory)",
            inconsistency.key,
            missing.join(", ")
        )?;
    }
    if steps == 0 && drift.foreign.is_empty() && drift.inconsistent.is_empty() {
        writeln!(out, "  nothing to do: the database matches")?;
        return Ok(ExitStatus::Success);
    }
    if let (true, Some((list, way))) = (steps > 0, &stuck) {
        write_irreversible(out, "These commands cannot work", list, way)?;
    } else if steps > 0 {
        writeln!(out, "Commands:")?;
        for line in commands {
            writeln!(out, "    {line}")?;
        }
        writeln!(out, "(or {})", dbstate::sync_hint(&db.url))?;
    }
    Ok(if drift.inconsistent.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
