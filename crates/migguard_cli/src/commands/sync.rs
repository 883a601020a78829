//! `migguard sync`: bring the database to the checked-out migrations (or
//! `--to REV`'s), the branch-switching protocol made safe:
//!
//! 1. read `django_migrations`; find the *foreign* migrations (applied, not
//!    in the target) and the unapplied ones;
//! 2. find the files of the foreign migrations: a commit from `HEAD`'s
//!    reflog or a branch that has them, else migguard's store of applied
//!    migrations (recorded by the post-checkout hook); name every migration
//!    to unapply that Django cannot reverse, and stop before anything runs;
//! 3. back the database up (a snapshot: SQLite file copy, PostgreSQL
//!    template copy; MySQL/MariaDB needs `--no-backup` and a manual dump);
//! 4. in a temporary `git worktree` of a commit that has the files (the
//!    stored files written in when needed), pointed at the same database,
//!    with the untracked files the settings may read (`.env`,
//!    `local_settings.py`) linked in, run the project's own
//!    `manage.py migrate APP TARGET` per app;
//! 5. run `manage.py migrate` for the target's migrations;
//! 6. read `django_migrations` again and check it matches.
//!
//! Each step is printed as it runs; `--plan` prints them all and changes
//! nothing. A failure stops at once, removes the temporary worktree, keeps
//! the backup and says how to restore it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use migguard_core::drift::{self, Drift, DriftInput, Provenance};
use migguard_core::graph::{AppliedSet, NodeKind};
use migguard_core::model::{Migration, MigrationKey};
use migguard_core::project::{self, AnalyzeOptions, Project};
use migguard_db::{Backend, DatabaseUrl, DbError, Snapshots};
use migguard_git::{AppliedStore, DiskCache, Oid, Repo, TreeSource};

use crate::args::{SourceArgs, SyncArgs};
use crate::dbstate::{self, quote};
use crate::hooks::snapshots::{fresh_name, save_retrying, snapshots_for};
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

/// How many commits (from the reflog and the branches) are searched for the
/// files of foreign migrations.
const MAX_CANDIDATES: usize = 64;

/// Everything the steps need to know about where things are.
struct Env {
    repo: Repo,
    /// The repository's work tree, canonical.
    workdir: PathBuf,
    /// The project directory inside it (`""` at the top).
    prefix: String,
    /// The project directory, canonical.
    root: PathBuf,
    settings: migguard_core::config::Settings,
    cache: DiskCache,
    python: String,
    /// `manage.py`, project-relative.
    manage_py: String,
    url: DatabaseUrl,
    /// `DATABASE_URL` for the commands, when `--database` was given.
    database_arg: Option<String>,
    /// Untracked files the settings may read, repository-relative: linked
    /// into each temporary worktree that lacks them (see [`untracked_companions`]).
    companions: Vec<String>,
}

impl Env {
    /// Analyse the project as of `commit`.
    fn analyze_at(&self, commit: &str, applied: &AppliedSet) -> Result<Project> {
        let source = TreeSource::at(&self.repo, commit, &self.prefix)?;
        let options = AnalyzeOptions {
            cache: Some(&self.cache),
            applied: Some(applied),
        };
        project::analyze(&source, &self.settings, &options)
            .with_context(|| format!("cannot read the project at {commit}"))
    }

    /// The directory of `manage.py` below a work tree's top.
    fn manage_dir(&self, top: &Path) -> PathBuf {
        let project = if self.prefix.is_empty() {
            top.to_path_buf()
        } else {
            top.join(&self.prefix)
        };
        match Path::new(&self.manage_py).parent() {
            Some(dir) if !dir.as_os_str().is_empty() => project.join(dir),
            _ => project,
        }
    }

    fn manage_file(&self) -> String {
        Path::new(&self.manage_py)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "manage.py".to_owned())
    }

    /// `migguard snapshot restore NAME`, runnable from anywhere and
    /// pasteable as it is: a `--database` URL with a password (which is
    /// never shown) is passed as `"$DATABASE_URL"`; see [`Env::restore_note`].
    fn restore_command(&self, name: &str) -> String {
        let mut cmd = format!("migguard snapshot restore {}", quote(name));
        if std::env::current_dir()
            .ok()
            .and_then(|d| d.canonicalize().ok())
            .as_deref()
            != Some(self.root.as_path())
        {
            cmd.push_str(&format!(
                " --path {}",
                quote(&self.root.display().to_string())
            ));
        }
        if self.database_arg.is_some() {
            if self.url.password().is_some() {
                cmd.push_str(" --database \"$DATABASE_URL\"");
            } else {
                cmd.push_str(&format!(" --database {}", quote(&self.url.to_string())));
            }
        }
        cmd
    }
}

impl Env {
    /// What to say after [`Env::restore_command`]: how to set
    /// `$DATABASE_URL` when it stands for the URL given to `--database`.
    fn restore_note(&self) -> &'static str {
        if self.database_arg.is_some() && self.url.password().is_some() {
            " (with DATABASE_URL set to the URL given to --database)"
        } else {
            ""
        }
    }
}

/// Why sync must not run when the database it reads and backs up is not
/// the one `manage.py migrate` changes: `--database`, `DATABASE_URL` or
/// `[tool.migguard] database` name one database, and the settings (which
/// the commands run with, `DATABASE_URL` set as for them) another, or one
/// migguard cannot tell. `None` when they agree, or when the settings are
/// where the database was found in the first place.
fn settings_mismatch(
    env: &Env,
    settings: &migguard_core::config::Settings,
    django: &migguard_core::project::DjangoSettings,
    args: &SyncArgs,
) -> Option<String> {
    let process_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let configured = settings
        .options
        .database
        .as_deref()
        .filter(|u| !u.trim().is_empty());
    let source = if args.database.is_some() {
        "--database"
    } else if process_url.is_some() {
        "the DATABASE_URL environment variable"
    } else if configured.is_some() {
        "`[tool.migguard] database`"
    } else {
        return None;
    };
    // The environment `manage.py` runs in (see `run_command`).
    let command_url = env.database_arg.clone().or(process_url);
    let lookup = |name: &str| {
        if name == "DATABASE_URL" {
            command_url.clone()
        } else {
            std::env::var(name).ok()
        }
    };
    let manage = dbstate::manage_command(settings, django);
    match migguard_db::settings_database_with_env(&env.root, django, &lookup) {
        Ok(own) if own.url.same_database(&env.url) => None,
        Ok(own) => Some(format!(
            "{source} names {}, but `{manage} migrate` would change {} ({}): the settings do not read \
             DATABASE_URL for it. sync would read and back up one database and migrate the other. \
             Nothing was changed. Run sync without {source} to sync the database the settings use, \
             or make the settings read DATABASE_URL (e.g. `dj_database_url.config()`).",
            env.url, own.url, own.how
        )),
        Err(e) => Some(format!(
            "{source} names {}, but migguard cannot tell which database `{manage} migrate` would change, \
             so it cannot make sure they are the same: {e}. Nothing was changed. Run sync without {source} \
             if the settings use that database, or make the settings read DATABASE_URL \
             (e.g. `dj_database_url.config()`).",
            env.url
        )),
    }
}

/// What is being synced to.
struct Target {
    project: Project,
    /// `the working tree of branch main`, `feature (commit 1a2b3c4)`.
    label: String,
    /// The commit of `--to`: the forward `migrate` then runs in a worktree of it.
    to_commit: Option<Oid>,
}

/// A commit that has (some of) the foreign migrations' files.
struct Candidate {
    oid: Oid,
    label: String,
    project: Project,
}

/// A foreign migration's file from migguard's store.
struct Stored {
    path: String,
    /// Where the bytes were read, for the command that shows the step.
    origin: StoredOrigin,
    bytes: Vec<u8>,
    migration: Migration,
}

/// Where migguard's store had a file.
#[derive(Clone)]
enum StoredOrigin {
    /// Its own copy (`<common dir>/migguard/applied/objects/..`).
    File(PathBuf),
    /// Only git's object database (the copy was deleted): the blob id.
    GitObject(String),
}

impl StoredOrigin {
    /// The shell command that writes the file to `dest`.
    fn copy_command(&self, dest: &str) -> String {
        match self {
            StoredOrigin::File(file) => {
                format!("cp {} {dest}", quote(&file.display().to_string()))
            }
            StoredOrigin::GitObject(blob) => format!("git cat-file blob {blob} > {dest}"),
        }
    }
}

/// A temporary worktree to create.
struct WorktreePlan {
    dir: PathBuf,
    commit: Oid,
    why: String,
    /// Files to write into it (repository-relative path, origin, content).
    writes: Vec<(String, StoredOrigin, Vec<u8>)>,
    /// Files to delete from it (repository-relative).
    removes: Vec<String>,
    /// `(link in the worktree, the real SQLite file)`.
    link: Option<(PathBuf, PathBuf)>,
}

enum Step {
    Backup {
        name: String,
    },
    AddWorktree(usize),
    Migrate {
        cwd: PathBuf,
        args: Vec<String>,
        why: String,
        /// Must no longer be applied afterwards (an unapplying step).
        unapplies: Vec<MigrationKey>,
    },
    RemoveWorktree(usize),
}

/// Why a run stopped.
struct Failure {
    step: usize,
    message: String,
}

pub fn run(args: &SyncArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let mut workspace = Workspace::open(&SourceArgs {
        at: None,
        staged: false,
        path: args.path.clone(),
    })?;
    let Some((repo, prefix)) = workspace.git.take() else {
        anyhow::bail!(
            "{} is not inside a git repository: sync takes the files of migrations to unapply from git",
            args.path.display()
        );
    };
    let root = args
        .path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", args.path.display()))?;
    let workdir = repo
        .workdir()
        .context("the repository is bare; run sync in a work tree")?;
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    let settings = workspace.settings.clone();
    let working = {
        let options = AnalyzeOptions {
            cache: None,
            applied: None,
        };
        project::analyze(workspace.source.as_ref(), &settings, &options)
            .with_context(|| format!("cannot read the project in {}", root.display()))?
    };
    let manage_py = working
        .settings
        .manage_py
        .clone()
        .context("no manage.py found in the project (set `[tool.migguard] manage-py`)")?;
    let located = dbstate::locate_database(
        &root,
        &settings,
        &working.settings,
        args.database.as_deref(),
    )?;
    // `manage.py` runs in a temporary worktree too: a relative interpreter
    // path (`.venv/bin/python`) is made absolute first, against the current
    // directory for --python and the project for the configuration.
    let absolute = |python: String, base: &Path| -> String {
        let path = Path::new(&python);
        if path.is_relative() && path.components().count() > 1 {
            base.join(path).to_string_lossy().into_owned()
        } else {
            python
        }
    };
    let python = match (&args.python, &settings.options.python) {
        (Some(python), _) => absolute(python.clone(), &std::env::current_dir()?),
        (None, Some(python)) => absolute(python.clone(), &root),
        (None, None) => dbstate::DEFAULT_PYTHON.to_owned(),
    };
    let companions = untracked_companions(
        &workdir,
        &prefix,
        &manage_py,
        working.settings.module.as_deref(),
        located.url.sqlite_path(),
    );
    let env = Env {
        companions,
        cache: DiskCache::open(&repo.common_dir()),
        repo,
        workdir,
        prefix,
        root,
        settings,
        python,
        manage_py,
        url: located.url.clone(),
        database_arg: args.database.clone(),
    };
    writeln!(printer.out, "Database: {} ({})", env.url, located.how)?;

    // (a) What the database has applied.
    let (applied, db_exists) = match migguard_db::read_applied(&env.url) {
        Ok(rows) => (rows.keys(), true),
        Err(DbError::SqliteFileMissing { .. }) => {
            writeln!(
                printer.out,
                "The database does not exist yet: `migrate` creates it."
            )?;
            (AppliedSet::new(), false)
        }
        Err(DbError::NoMigrationsTable { .. }) => {
            writeln!(
                printer.out,
                "The database has no django_migrations table yet."
            )?;
            (AppliedSet::new(), true)
        }
        Err(e) => {
            // As `migguard status`: a database that cannot be read is not
            // a finding (exit 1) but a failure to do the job (exit 2).
            printer.error(&dbstate::one_line(&e));
            return Ok(ExitStatus::Error);
        }
    };
    // Only reading so far: a database that cannot be read is exit 2 as
    // for `migguard status`; one that is not the settings' one is refused
    // before anything changes.
    if let Some(problem) = settings_mismatch(&env, &env.settings, &working.settings, args) {
        printer.error(&problem);
        return Ok(ExitStatus::Failure);
    }

    let target = target(&env, args, working, &applied)?;
    writeln!(printer.out, "Target: {}", target.label)?;
    let first = drift::compute(&DriftInput {
        new: &target.project,
        old: None,
        stored: &[],
        applied: &applied,
    });
    if first.is_clean() {
        writeln!(
            printer.out,
            "The database already matches {}: nothing to do.",
            target.label
        )?;
        return Ok(ExitStatus::Success);
    }

    // (a, d) The files of the foreign migrations, and the real plan.
    let foreign: Vec<MigrationKey> = first.foreign.iter().map(|f| f.key.clone()).collect();
    let candidate = if foreign.is_empty() {
        None
    } else {
        find_candidate(&env, &foreign, &applied)?
    };
    let covered = |key: &MigrationKey| {
        candidate
            .as_ref()
            .is_some_and(|c| c.project.migration(key).is_some())
    };
    let stored = if foreign.iter().all(covered) {
        Vec::new()
    } else {
        from_store(&env, foreign.iter().filter(|k| !covered(k)))
    };
    let stored_migrations: Vec<Migration> = stored.iter().map(|s| s.migration.clone()).collect();
    let drift = drift::compute(&DriftInput {
        new: &target.project,
        old: candidate.as_ref().map(|c| &c.project),
        stored: &stored_migrations,
        applied: &applied,
    });
    describe_drift(printer, &drift, candidate.as_ref(), &stored)?;

    // Stop before anything runs: files nobody has, irreversible operations,
    // a history Django refuses.
    let unknown: Vec<&MigrationKey> = drift
        .foreign
        .iter()
        .filter(|f| f.provenance == Provenance::Unknown)
        .map(|f| &f.key)
        .collect();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown.iter().map(|k| k.to_string()).collect();
        printer.error(&format!(
            "cannot unapply {}: no commit in HEAD's reflog or on a branch has the file, and migguard's store \
             of applied migrations has no copy (the post-checkout hook records them once installed: \
             `migguard install`). Django cannot reverse a migration without its file. Nothing was changed. \
             Ways out: restore a snapshot taken before it was applied (`migguard snapshot list`), or put the \
             file back (from a colleague, a stash, a remote branch) and run sync again",
            names.join(", ")
        ));
        return Ok(ExitStatus::Failure);
    }
    let known = candidate
        .iter()
        .flat_map(|c| c.project.migrations.iter())
        .chain(stored_migrations.iter())
        .chain(target.project.migrations.iter());
    let irreversible = dbstate::irreversible_unapplies(&drift, known);
    let unapplying: BTreeSet<&MigrationKey> = drift
        .unapply
        .iter()
        .flat_map(|s| s.unapplies.iter())
        .collect();
    let inconsistent: Vec<String> = drift
        .inconsistent
        .iter()
        .filter(|i| !unapplying.contains(&i.key))
        .map(|i| {
            let missing: Vec<String> = i.missing.iter().map(|k| k.to_string()).collect();
            format!(
                "{} is applied but not its dependency {}",
                i.key,
                missing.join(", ")
            )
        })
        .collect();
    let mut refusal = false;
    if !irreversible.is_empty() {
        let current = env.repo.current_branch();
        let way_out = match current.as_deref() {
            Some(branch) => format!(
                "restore a snapshot instead: `migguard snapshot restore {}` if one was saved for this branch \
                 (`migguard snapshot list`; `[tool.migguard] snapshots = true` saves one on every checkout)",
                quote(branch)
            ),
            None => "restore a snapshot instead (`migguard snapshot list`)".to_owned(),
        };
        let list = format!(
            "{} migration(s) to unapply cannot be reversed, so Django would stop half-way:\n  {}",
            irreversible.len(),
            irreversible.join("\n  ")
        );
        if args.force {
            printer.warn(&format!("{list}\n--force: trying anyway, after a backup"));
        } else {
            printer.error(&format!(
                "{list}\nNothing was changed. The way out: {way_out}; or rerun with --force to try anyway \
                 (Django will refuse unless migguard misread the file; a backup is taken first)."
            ));
            refusal = true;
        }
    }
    if !inconsistent.is_empty() {
        let text = format!(
            "Django will refuse this history (InconsistentMigrationHistory): {}",
            inconsistent.join("; ")
        );
        if args.force {
            printer.warn(&text);
        } else {
            printer.error(&format!(
                "{text}; nothing was changed (--force runs anyway)"
            ));
            refusal = true;
        }
    }
    if refusal {
        return Ok(ExitStatus::Failure);
    }

    // (c) The backup.
    let snapshots = match env.url.backend() {
        Backend::Mysql => None,
        _ => Some(snapshots_for(&env.url, &env.repo)?),
    };
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    if !db_exists {
        notes.push("no backup: the database does not exist yet".to_owned());
    } else if args.no_backup {
        notes.push("no backup (--no-backup)".to_owned());
    } else if let Some(snapshots) = &snapshots {
        steps.push(Step::Backup {
            name: fresh_name(snapshots, "sync-backup"),
        });
    } else if args.plan {
        // The same steps as for the others, minus the backup sync cannot take.
        notes.push(format!(
            "no backup: migguard cannot back up MySQL/MariaDB, and sync refuses to run without --no-backup. \
             Back the database up by hand first:\n  {}\nthen run `migguard sync --no-backup`",
            dbstate::mysqldump_command(&env.url)
        ));
    } else {
        printer.error(&format!(
            "no automatic backup is possible for MySQL/MariaDB; nothing was changed. Back the database up by hand:\n  {}\n\
             then run sync again with --no-backup",
            dbstate::mysqldump_command(&env.url)
        ));
        return Ok(ExitStatus::Failure);
    }

    // (d) Unapply in a worktree of a commit that has the files.
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        crate::hooks::snapshots::timestamp()
    );
    let mut worktrees: Vec<WorktreePlan> = Vec::new();
    if !drift.unapply.is_empty() {
        let plan = unapply_worktree(&env, &stamp, candidate.as_ref(), &stored, &applied)?;
        let manage_dir = env.manage_dir(&plan.dir);
        worktrees.push(plan);
        steps.push(Step::AddWorktree(0));
        for step in &drift.unapply {
            let names: Vec<String> = step.unapplies.iter().map(|k| k.to_string()).collect();
            steps.push(Step::Migrate {
                cwd: manage_dir.clone(),
                args: vec![
                    env.manage_file(),
                    "migrate".into(),
                    step.app.clone(),
                    step.target_name().to_owned(),
                    "--noinput".into(),
                ],
                why: format!("unapplies {}", names.join(", ")),
                unapplies: step.unapplies.clone(),
            });
        }
        steps.push(Step::RemoveWorktree(0));
    }

    // (e) Apply the target's migrations.
    let applies: Vec<String> = drift.apply.iter().map(|k| k.to_string()).collect();
    let why = if applies.is_empty() {
        "nothing left to apply; checks".to_owned()
    } else {
        format!("applies {}", applies.join(", "))
    };
    let migrate = vec![env.manage_file(), "migrate".into(), "--noinput".into()];
    match target.to_commit {
        Some(commit) => {
            let dir = std::env::temp_dir().join(format!("migguard-sync-{stamp}-to"));
            let link = sqlite_link(&env, &dir);
            let index = worktrees.len();
            let manage_dir = env.manage_dir(&dir);
            worktrees.push(WorktreePlan {
                dir,
                commit,
                why: format!("the migrations of {}", target.label),
                writes: Vec::new(),
                removes: Vec::new(),
                link,
            });
            steps.push(Step::AddWorktree(index));
            steps.push(Step::Migrate {
                cwd: manage_dir,
                args: migrate,
                why,
                unapplies: Vec::new(),
            });
            steps.push(Step::RemoveWorktree(index));
        }
        None => steps.push(Step::Migrate {
            cwd: env.manage_dir(&env.workdir),
            args: migrate,
            why,
            unapplies: Vec::new(),
        }),
    }

    // (f) Print, then run.
    for note in &notes {
        writeln!(printer.out, "Note: {note}")?;
    }
    if args.plan {
        writeln!(printer.out, "Plan:")?;
        for (i, step) in steps.iter().enumerate() {
            for (j, line) in describe(&env, step, &worktrees).iter().enumerate() {
                if j == 0 {
                    writeln!(printer.out, "  {}. {line}", i + 1)?;
                } else {
                    writeln!(printer.out, "     {line}")?;
                }
            }
        }
        writeln!(printer.out, "Nothing was changed (--plan).")?;
        return Ok(ExitStatus::Success);
    }
    let backup = steps.iter().find_map(|s| match s {
        Step::Backup { name } => Some(name.clone()),
        _ => None,
    });
    match execute(printer, &env, &steps, &worktrees, snapshots.as_ref()) {
        Ok(()) => {}
        Err(failure) => {
            printer.error(&format!(
                "step {} failed: {}",
                failure.step + 1,
                failure.message
            ));
            match &backup {
                Some(name) if failure.step > 0 => printer.note(&format!(
                    "nothing after that step ran; the backup taken before is kept: to put the database back \
                     as it was, run: {}{}",
                    env.restore_command(name),
                    env.restore_note()
                )),
                _ => printer.note("nothing after that step ran"),
            }
            return Ok(ExitStatus::Failure);
        }
    }

    // Check the result as Django left it.
    let after = match migguard_db::read_applied(&env.url) {
        Ok(rows) => rows.keys(),
        Err(e) => {
            printer.error(&format!(
                "cannot read the database after migrating: {}",
                dbstate::one_line(&e)
            ));
            return Ok(ExitStatus::Failure);
        }
    };
    let mut check_project = target.project;
    drift::rebuild_graph(&mut check_project, &after);
    let left = drift::compute(&DriftInput {
        new: &check_project,
        old: None,
        stored: &[],
        applied: &after,
    });
    if !left.foreign.is_empty() || !left.unapplied.is_empty() {
        let foreign: Vec<String> = left.foreign.iter().map(|f| f.key.to_string()).collect();
        let unapplied: Vec<String> = left.unapplied.iter().map(|k| k.to_string()).collect();
        printer.error(&format!(
            "every command succeeded but the database {url} still differs from {}: applied but absent [{}], \
             not applied [{}]. Django may use another database than migguard read (check DATABASES, \
             DATABASE_URL, --database){}",
            target.label,
            foreign.join(", "),
            unapplied.join(", "),
            backup
                .as_ref()
                .map(|n| format!(
                    "; the backup is kept: {}{}",
                    env.restore_command(n),
                    env.restore_note()
                ))
                .unwrap_or_default(),
            url = env.url,
        ));
        return Ok(ExitStatus::Failure);
    }
    writeln!(
        printer.out,
        "Done: the database matches {} ({} migration(s) of the project applied).",
        target.label,
        after
            .iter()
            .filter(|k| check_project.migration(k).is_some())
            .count()
    )?;
    if let Some(name) = &backup {
        writeln!(
            printer.out,
            "The backup is snapshot `{name}`: `{}` puts it back{}; `migguard snapshot drop {}` deletes it.",
            env.restore_command(name),
            env.restore_note(),
            quote(name)
        )?;
    }
    Ok(ExitStatus::Success)
}

/// The working tree (default) or `--to REV`.
fn target(env: &Env, args: &SyncArgs, working: Project, applied: &AppliedSet) -> Result<Target> {
    match &args.to {
        Some(rev) => {
            let commit = env.repo.resolve(rev)?;
            let mut project = env.analyze_at(&commit.to_string(), applied)?;
            drift::rebuild_graph(&mut project, applied);
            let short = env.repo.short_id(commit);
            let label = if commit.to_string().starts_with(rev.as_str()) {
                format!("commit {short}")
            } else {
                format!("{rev} (commit {short})")
            };
            Ok(Target {
                project,
                label,
                to_commit: Some(commit),
            })
        }
        None => {
            let mut project = working;
            drift::rebuild_graph(&mut project, applied);
            let label = match env.repo.current_branch() {
                Some(branch) => format!("the working tree of branch {branch}"),
                None => match env.repo.head_commit() {
                    Some(head) => format!(
                        "the working tree (detached HEAD at {})",
                        env.repo.short_id(head)
                    ),
                    None => "the working tree".to_owned(),
                },
            };
            Ok(Target {
                project,
                label,
                to_commit: None,
            })
        }
    }
}

/// The commit that has the most of `foreign`'s files (all of them, if any
/// does), among [`Repo::recent_commits`].
fn find_candidate(
    env: &Env,
    foreign: &[MigrationKey],
    applied: &AppliedSet,
) -> Result<Option<Candidate>> {
    let mut best: Option<(usize, Candidate)> = None;
    for commit in env.repo.recent_commits(MAX_CANDIDATES) {
        let Ok(project) = env.analyze_at(&commit.oid.to_string(), applied) else {
            continue;
        };
        let count = foreign
            .iter()
            .filter(|k| project.migration(k).is_some())
            .count();
        if count == 0 || best.as_ref().is_some_and(|(n, _)| *n >= count) {
            continue;
        }
        let short = env.repo.short_id(commit.oid);
        let label = match &commit.branch {
            Some(branch) => format!("branch {branch} (commit {short})"),
            None => format!("commit {short} (from HEAD's reflog)"),
        };
        let done = count == foreign.len();
        best = Some((
            count,
            Candidate {
                oid: commit.oid,
                label,
                project,
            },
        ));
        if done {
            break;
        }
    }
    let _ = env.cache.flush();
    Ok(best.map(|(_, c)| c))
}

/// The files of `keys` from migguard's store of applied migrations.
fn from_store<'k>(env: &Env, keys: impl Iterator<Item = &'k MigrationKey>) -> Vec<Stored> {
    let store = AppliedStore::open(&env.repo);
    let mut out = Vec::new();
    for key in keys {
        let Some((path, bytes, migration)) = dbstate::stored_migration(&store, key) else {
            continue;
        };
        let blob = store
            .entry(&key.app, &key.name)
            .map(|e| e.blob.clone())
            .unwrap_or_default();
        let file = store.object_file(&blob);
        let origin = if file.is_file() {
            StoredOrigin::File(file)
        } else {
            StoredOrigin::GitObject(blob)
        };
        out.push(Stored {
            path,
            origin,
            bytes,
            migration,
        });
    }
    out
}

fn describe_drift(
    printer: &mut Printer<'_>,
    drift: &Drift,
    candidate: Option<&Candidate>,
    stored: &[Stored],
) -> Result<()> {
    if drift.foreign.is_empty() {
        writeln!(printer.out, "Applied but absent from the target: none.")?;
    } else {
        writeln!(
            printer.out,
            "Applied but absent from the target ({}):",
            drift.foreign.len()
        )?;
        for f in &drift.foreign {
            let from = match f.provenance {
                Provenance::OldRevision => candidate
                    .map(|c| format!("file from {}", c.label))
                    .unwrap_or_default(),
                Provenance::Store => {
                    if stored.iter().any(|s| s.migration.key == f.key) {
                        "file from migguard's store: its branch is gone".to_owned()
                    } else {
                        candidate
                            .map(|c| format!("file from {}", c.label))
                            .unwrap_or_default()
                    }
                }
                Provenance::Unknown => "file not found anywhere".to_owned(),
            };
            let effects = if f.effects.is_empty() {
                String::new()
            } else {
                format!(": {}", f.effects.join(", "))
            };
            writeln!(printer.out, "  {} ({from}){effects}", f.key)?;
        }
    }
    if drift.unapplied.is_empty() {
        writeln!(printer.out, "Not applied: none.")?;
    } else {
        let names: Vec<String> = drift.unapplied.iter().map(|k| k.to_string()).collect();
        writeln!(
            printer.out,
            "Not applied ({}): {}",
            names.len(),
            names.join(", ")
        )?;
    }
    Ok(())
}

/// Where the SQLite file goes in a worktree at `dir`: the same path
/// relative to the work tree, as a link to the real file. `None` when the
/// database is not a file inside the work tree (a server, or a file the
/// worktree's settings reach by the same absolute path).
fn sqlite_link(env: &Env, dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let path = env.url.sqlite_path()?;
    let real = match path.canonicalize() {
        Ok(real) => real,
        Err(_) => {
            let parent = path.parent()?.canonicalize().ok()?;
            parent.join(path.file_name()?)
        }
    };
    let rel = real.strip_prefix(&env.workdir).ok()?;
    Some((dir.join(rel), real))
}

/// The untracked files (git-ignored ones included) that a project's
/// settings typically read and a worktree of a commit does not have:
/// `.env`, `local_settings.py`, `secrets.json`... Only plain files directly
/// in the directories where they live: the top of the work tree, the
/// project's directory, `manage.py`'s directory (Python's first import
/// path) and the packages of the settings module (`config/` for
/// `config.settings`). Directories (`.venv`, `node_modules`) are not
/// followed, and the SQLite database and its journals are left to
/// [`sqlite_link`]. Repository-relative, sorted; empty when git cannot say.
fn untracked_companions(
    workdir: &Path,
    prefix: &str,
    manage_py: &str,
    settings_module: Option<&str>,
    sqlite: Option<&Path>,
) -> Vec<String> {
    let join = |base: &str, rel: &str| match (base.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_owned(),
        (_, true) => base.to_owned(),
        _ => format!("{base}/{rel}"),
    };
    let manage_dir = join(
        prefix,
        Path::new(manage_py)
            .parent()
            .and_then(Path::to_str)
            .unwrap_or(""),
    );
    let mut dirs = BTreeSet::from([String::new(), prefix.to_owned(), manage_dir.clone()]);
    if let Some(module) = settings_module {
        let mut package = manage_dir.clone();
        for part in module.split('.') {
            package = join(&package, part);
            dirs.insert(package.clone());
        }
    }
    // `--others` without `--exclude-standard` lists ignored files too;
    // `--directory` shows an untracked directory as one `dir/` entry.
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(workdir)
        .args(["ls-files", "-z", "--others", "--directory", "--"])
        .args(
            dirs.iter()
                .map(|dir| format!(":(top,glob){}", join(dir, "*"))),
        )
        .stdin(Stdio::null());
    let Ok(out) = cmd.output() else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    let sqlite_name = sqlite
        .and_then(|p| p.canonicalize().ok().or_else(|| Some(p.to_path_buf())))
        .and_then(|p| Some((p.parent()?.canonicalize().ok()?, p.file_name()?.to_owned())));
    let mut found: Vec<String> = out
        .stdout
        .split(|&b| b == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .filter(|entry| !entry.is_empty() && !entry.ends_with('/'))
        .filter(|entry| !entry.ends_with(".pyc") && !entry.ends_with('~'))
        .filter(|entry| workdir.join(entry).is_file())
        .filter(|entry| {
            let Some((dir, name)) = &sqlite_name else {
                return true;
            };
            let path = workdir.join(entry);
            let same_dir = path
                .parent()
                .and_then(|p| p.canonicalize().ok())
                .is_some_and(|p| &p == dir);
            let is_db = path
                .file_name()
                .is_some_and(|f| f.as_encoded_bytes().starts_with(name.as_encoded_bytes()));
            !(same_dir && is_db)
        })
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The worktree in which the foreign migrations are unapplied: the commit
/// that has their files, or (when only the store has them) the target's
/// commit, with the stored files written in; the migrations it has that
/// are not applied are left out where stored files go (they would give the
/// app a second leaf, which `migrate` refuses).
fn unapply_worktree(
    env: &Env,
    stamp: &str,
    candidate: Option<&Candidate>,
    stored: &[Stored],
    applied: &AppliedSet,
) -> Result<WorktreePlan> {
    let dir = std::env::temp_dir().join(format!("migguard-sync-{stamp}"));
    let link = sqlite_link(env, &dir);
    let (commit, base, why) = match candidate {
        Some(c) => (
            c.oid,
            None,
            format!("{}: has the files to unapply", c.label),
        ),
        None => {
            let head = env
                .repo
                .head_commit()
                .context("HEAD has no commit yet: nothing to take a worktree of")?;
            (
                head,
                Some(env.analyze_at(&head.to_string(), applied)?),
                format!(
                    "HEAD (commit {}), with the files from migguard's store",
                    env.repo.short_id(head)
                ),
            )
        }
    };
    let base_project = match (&base, candidate) {
        (Some(p), _) => p,
        (None, Some(c)) => &c.project,
        (None, None) => unreachable!("one of them is set"),
    };
    let repo_path = |rel: &str| {
        if env.prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", env.prefix)
        }
    };
    let writes: Vec<(String, StoredOrigin, Vec<u8>)> = stored
        .iter()
        .filter(|s| base_project.migration(&s.migration.key).is_none())
        .map(|s| (repo_path(&s.path), s.origin.clone(), s.bytes.clone()))
        .collect();
    let mut removes = Vec::new();
    if !writes.is_empty() {
        let apps: BTreeSet<&str> = stored
            .iter()
            .map(|s| s.migration.key.app.as_str())
            .collect();
        let effective = drift::effective_applied(base_project, applied);
        let graph = &base_project.graph.graph;
        let is_plain = |key: &MigrationKey| {
            matches!(graph.kind(key), Some(NodeKind::Migration(_)))
                && !effective.contains(key)
                && base_project
                    .migration(key)
                    .is_some_and(|m| m.replaces.is_empty())
        };
        // Unapplied migrations of those apps, and whatever depends on them.
        let mut out: BTreeSet<MigrationKey> = graph
            .keys()
            .filter(|k| apps.contains(k.app.as_str()) && is_plain(k))
            .cloned()
            .collect();
        let mut pending: Vec<MigrationKey> = out.iter().cloned().collect();
        while let Some(key) = pending.pop() {
            for child in graph.children(&key) {
                if is_plain(child) && out.insert(child.clone()) {
                    pending.push(child.clone());
                }
            }
        }
        let by_key: BTreeMap<&MigrationKey, &Migration> = base_project
            .migrations
            .iter()
            .map(|m| (&m.key, m))
            .collect();
        removes = out
            .iter()
            .filter_map(|k| by_key.get(k).map(|m| repo_path(&m.path)))
            .collect();
    }
    Ok(WorktreePlan {
        dir,
        commit,
        why,
        writes,
        removes,
        link,
    })
}

/// A step as lines: what it does, then the exact command.
fn describe(env: &Env, step: &Step, worktrees: &[WorktreePlan]) -> Vec<String> {
    match step {
        Step::Backup { name } => vec![
            format!("Back up the database as snapshot `{name}`"),
            format!("$ migguard snapshot save {}", quote(name)),
            format!(
                "(restore it with: {}{})",
                env.restore_command(name),
                env.restore_note()
            ),
        ],
        Step::AddWorktree(i) => {
            let w = &worktrees[*i];
            let dir = quote(&w.dir.display().to_string());
            let mut lines = vec![
                format!("Check out a temporary worktree of {}", w.why),
                format!("$ git worktree add --detach {dir} {}", w.commit),
            ];
            for (path, origin, _) in &w.writes {
                let dest = quote(&w.dir.join(path).display().to_string());
                lines.push(format!(
                    "$ {}   (from migguard's store)",
                    origin.copy_command(&dest)
                ));
            }
            for path in &w.removes {
                lines.push(format!("$ rm {dir}/{}", quote(path)));
            }
            for path in &env.companions {
                let real = quote(&env.workdir.join(path).display().to_string());
                let link = quote(&w.dir.join(path).display().to_string());
                lines.push(format!(
                    "$ [ -e {link} ] || ln -s {real} {link}   (untracked; the settings may read it)"
                ));
            }
            if let Some((link, real)) = &w.link {
                lines.push(format!(
                    "$ ln -sf {} {}   (the same database)",
                    quote(&real.display().to_string()),
                    quote(&link.display().to_string())
                ));
            }
            lines
        }
        Step::Migrate { cwd, args, why, .. } => {
            let mut words = vec![quote(&env.python)];
            words.extend(args.iter().map(|a| quote(a)));
            vec![
                format!("Migrate: {why}"),
                format!(
                    "$ cd {} && {}",
                    quote(&cwd.display().to_string()),
                    words.join(" ")
                ),
            ]
        }
        Step::RemoveWorktree(i) => vec![
            "Remove the temporary worktree".to_owned(),
            format!(
                "$ git worktree remove --force {}",
                quote(&worktrees[*i].dir.display().to_string())
            ),
        ],
    }
}

/// Run the steps in order; the first failure stops.
fn execute(
    printer: &mut Printer<'_>,
    env: &Env,
    steps: &[Step],
    worktrees: &[WorktreePlan],
    snapshots: Option<&Snapshots>,
) -> Result<(), Failure> {
    let mut live: Vec<Option<TempWorktree>> = worktrees.iter().map(|_| None).collect();
    for (i, step) in steps.iter().enumerate() {
        let lines = describe(env, step, worktrees);
        let _ = writeln!(printer.out, "==> {}. {}", i + 1, lines[0]);
        for line in &lines[1..] {
            if line.starts_with('$') {
                let _ = writeln!(printer.out, "    {line}");
            }
        }
        let _ = printer.out.flush();
        let fail = |message: String| Failure { step: i, message };
        match step {
            Step::Backup { name } => {
                let Some(snapshots) = snapshots else {
                    return Err(fail("no snapshots for this database".to_owned()));
                };
                match save_retrying(snapshots, name) {
                    Ok(info) => {
                        let _ = writeln!(printer.out, "    saved to {}", info.location);
                    }
                    Err(e) => {
                        let hint = match e {
                            DbError::InUse { .. } => {
                                " (or run sync again with --no-backup to go on without one)"
                            }
                            _ => "",
                        };
                        return Err(fail(format!(
                            "cannot back the database up, so nothing was changed: {}{hint}",
                            dbstate::one_line(&e)
                        )));
                    }
                }
            }
            Step::AddWorktree(w) => {
                let plan = &worktrees[*w];
                let tree = TempWorktree::add(&env.workdir, plan).map_err(fail)?;
                live[*w] = Some(tree);
                prepare_worktree(env, plan).map_err(fail)?;
            }
            Step::Migrate {
                cwd,
                args,
                unapplies,
                ..
            } => {
                run_python(printer, env, cwd, args).map_err(fail)?;
                if !unapplies.is_empty() {
                    let now = migguard_db::read_applied(&env.url)
                        .map(|r| r.keys())
                        .map_err(|e| fail(dbstate::one_line(&e)))?;
                    let still: Vec<String> = unapplies
                        .iter()
                        .filter(|k| now.contains(k))
                        .map(|k| k.to_string())
                        .collect();
                    if !still.is_empty() {
                        return Err(fail(format!(
                            "Django reported success but {} is still applied in {}: the worktree's settings \
                             seem to use another database",
                            still.join(", "),
                            env.url
                        )));
                    }
                }
            }
            Step::RemoveWorktree(w) => {
                if let Some(tree) = live[*w].take() {
                    tree.remove().map_err(fail)?;
                }
            }
        }
    }
    Ok(())
}

/// Write the stored files, remove what would conflict, link the untracked
/// files the commit does not have and the database.
fn prepare_worktree(env: &Env, plan: &WorktreePlan) -> Result<(), String> {
    for (path, _, bytes) in &plan.writes {
        let full = plan.dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&full, bytes)
            .map_err(|e| format!("cannot write {}: {e}", full.display()))?;
    }
    for path in &plan.removes {
        let full = plan.dir.join(path);
        std::fs::remove_file(&full)
            .map_err(|e| format!("cannot remove {}: {e}", full.display()))?;
    }
    for path in &env.companions {
        let link = plan.dir.join(path);
        if link.symlink_metadata().is_ok() {
            continue; // the commit has its own
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let real = env.workdir.join(path);
        symlink(&real, &link)
            .map_err(|e| format!("cannot link {} to {}: {e}", link.display(), real.display()))?;
    }
    if let Some((link, real)) = &plan.link {
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(link)
                .map_err(|e| format!("cannot replace {}: {e}", link.display()))?;
        }
        symlink(real, link)
            .map_err(|e| format!("cannot link {} to {}: {e}", link.display(), real.display()))?;
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(real: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(real, link)
}

#[cfg(windows)]
fn symlink(real: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_file(real, link)
}

/// `python manage.py ARGS` in `cwd`, its output shown as it comes
/// (standard output indented on ours, standard error after it ends).
fn run_python(
    printer: &mut Printer<'_>,
    env: &Env,
    cwd: &Path,
    args: &[String],
) -> Result<(), String> {
    let mut cmd = Command::new(&env.python);
    cmd.args(args)
        .current_dir(cwd)
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = &env.database_arg {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot run {}: {e} (set the interpreter with --python or `[tool.migguard] python`)",
            env.python
        )
    })?;
    let mut stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(printer.out, "    {line}");
            let _ = printer.out.flush();
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {}: {e}", env.python))?;
    let errors = errors.join().unwrap_or_default();
    for line in errors.lines() {
        let _ = writeln!(printer.err, "    {line}");
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{} {}` in {} exited with {}",
            env.python,
            args.join(" "),
            cwd.display(),
            status
                .code()
                .map(|c| format!("status {c}"))
                .unwrap_or_else(|| "a signal".to_owned())
        ))
    }
}

/// A `git worktree` that is removed when dropped (also on failure).
struct TempWorktree {
    workdir: PathBuf,
    dir: PathBuf,
    /// The database link in it, unlinked before the worktree is removed.
    link: Option<PathBuf>,
    removed: bool,
}

impl TempWorktree {
    fn add(workdir: &Path, plan: &WorktreePlan) -> Result<TempWorktree, String> {
        let (dir, commit) = (plan.dir.as_path(), plan.commit);
        if dir.exists() {
            return Err(format!("{} already exists", dir.display()));
        }
        // No hooks in the temporary worktree: migguard's post-checkout must
        // not snapshot or report on it.
        let out = Command::new("git")
            .arg("-C")
            .arg(workdir)
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "worktree",
                "add",
                "--detach",
            ])
            .arg(dir)
            .arg(commit.to_string())
            .env("MIGGUARD", "0")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "git worktree add failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(TempWorktree {
            workdir: workdir.to_path_buf(),
            dir: dir.to_path_buf(),
            link: plan.link.as_ref().map(|(link, _)| link.clone()),
            removed: false,
        })
    }

    fn remove(mut self) -> Result<(), String> {
        self.removed = true;
        self.cleanup()
    }

    fn cleanup(&self) -> Result<(), String> {
        // Unlink the database link ourselves first: only the link goes.
        if let Some(link) = &self.link {
            if link
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                let _ = std::fs::remove_file(link);
            }
        }
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.workdir)
            .args(["worktree", "remove", "--force"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output();
        let ok = out.as_ref().is_ok_and(|o| o.status.success());
        if !ok {
            let _ = std::fs::remove_dir_all(&self.dir);
            let _ = Command::new("git")
                .arg("-C")
                .arg(&self.workdir)
                .args(["worktree", "prune"])
                .stdin(Stdio::null())
                .output();
        }
        if self.dir.exists() {
            return Err(format!(
                "cannot remove the temporary worktree {}: {}",
                self.dir.display(),
                out.map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
                    .unwrap_or_else(|e| e.to_string())
            ));
        }
        Ok(())
    }
}

impl Drop for TempWorktree {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.cleanup();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migguard_core::parse::parse_migration;

    fn migration(operations: &str) -> Migration {
        let text = format!(
            "from django.db import migrations\n\n\ndef f(apps, schema_editor):\n    pass\n\n\n\
             class Migration(migrations.Migration):\n    dependencies = []\n    operations = [\n{operations}\n    ]\n"
        );
        let key = MigrationKey::new("blog", "0002_x");
        parse_migration(
            &key,
            "blog/migrations/0002_x.py",
            "blog.migrations",
            text.as_bytes(),
        )
        .migration
        .expect("parses")
    }

    #[test]
    fn irreversible_operations_are_named() {
        let m = migration(
            "        migrations.RunPython(f),\n\
             \x20       migrations.RunPython(f, migrations.RunPython.noop),\n\
             \x20       migrations.RunSQL('SELECT 1'),\n\
             \x20       migrations.RunSQL('SELECT 1', reverse_sql='SELECT 2'),\n\
             \x20       migrations.SeparateDatabaseAndState(state_operations=[migrations.RunSQL('x')]),",
        );
        let found = dbstate::irreversible_operations(&m);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("RunPython(f) at line"), "{found:?}");
        assert!(found[1].contains("RunSQL") && found[1].contains("reverse_sql"));
    }
}
