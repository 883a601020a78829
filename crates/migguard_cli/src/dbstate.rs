//! The database side of the commands and hooks that compare a database
//! with a branch (`status`, `plan`, post-checkout, `sync`): which database,
//! what it has applied, and how to say what to do about it.
//!
//! Every failure to read the database is a [`DbProblem`]: one line, for a
//! person, never holding a password.

use std::fmt;
use std::path::{Path, PathBuf};

use migguard_core::config::Settings;
use migguard_core::drift::{Drift, ForeignMigration, Provenance};
use migguard_core::graph::AppliedSet;
use migguard_core::model::{Migration, MigrationKey, OperationKind, Reverse, Value};
use migguard_core::parse::parse_migration;
use migguard_core::project::{DjangoSettings, Project};
use migguard_db::{AppliedMigrations, Backend, DatabaseUrl, DbError, LocateError, Located};
use migguard_git::{AppliedStore, Repo};

/// A database and what it has applied.
#[derive(Debug, Clone)]
pub struct DbView {
    /// The database for messages, password shown as `***`.
    pub url_display: String,
    /// The `(app, name)` rows of `django_migrations`.
    pub applied: AppliedSet,
    /// The database itself (holds the password: never format it with `{:?}`
    /// into output; its `Display` is safe).
    pub url: DatabaseUrl,
    /// How it was found: `the DATABASE_URL environment variable`.
    pub how: String,
    /// The rows, in the order they were applied.
    pub rows: AppliedMigrations,
}

/// Why the database could not be read: one line, no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbProblem {
    pub message: String,
}

impl fmt::Display for DbProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbProblem {}

impl DbProblem {
    fn new(message: impl Into<String>, secret: Option<&str>) -> DbProblem {
        let mut message: String = message.into();
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            message = message.replace(secret, "***");
        }
        DbProblem {
            message: collapse(&message),
        }
    }

    pub fn from_db(error: &DbError) -> DbProblem {
        let hint = match error {
            DbError::SqliteFileMissing { .. } => " (`manage.py migrate` creates it)",
            _ => "",
        };
        // `DbError` has hidden the password where it is rendered (the URL,
        // the server's words); hiding it again in the finished sentence would
        // also hide every word that happens to contain it (`postgres`).
        DbProblem::new(format!("{error}{hint}"), None)
    }
}

/// One line, whatever a server said.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A database error as one line. [`DbError`] hides the password where it
/// is made (the URL, the server's words); hiding it again here would also
/// hide every word that happens to contain it (`postgres`).
pub fn one_line(error: &DbError) -> String {
    collapse(&error.to_string())
}

/// Which database: `override_url` (`--database`) when given, else
/// `DATABASE_URL`, `[tool.migguard] database`, the Django settings (read
/// statically), `db.sqlite3` beside `manage.py`. `root` is the project
/// directory on disk (relative SQLite paths are resolved against it, or
/// against `manage.py`'s directory); a relative SQLite path in
/// `override_url` is taken from the current directory.
pub fn locate_database(
    root: &Path,
    settings: &Settings,
    django: &DjangoSettings,
    override_url: Option<&str>,
) -> Result<Located, DbProblem> {
    if let Some(text) = override_url {
        let url = DatabaseUrl::parse(text)
            .map_err(|e| DbProblem::new(format!("--database: {e}"), None))?;
        let cwd = std::env::current_dir().unwrap_or_else(|_| root.to_path_buf());
        return Ok(Located {
            url: url.resolved(&cwd),
            how: "--database".to_owned(),
        });
    }
    migguard_db::locate(root, settings.options.database.as_deref(), django).map_err(
        |e: LocateError| {
            // A URL that does not parse never quotes itself, so no secret here.
            DbProblem::new(e.to_string(), None)
        },
    )
}

/// Locate the database and read `django_migrations` (read-only, at most
/// two seconds to connect).
pub fn read_database(
    root: &Path,
    settings: &Settings,
    django: &DjangoSettings,
    override_url: Option<&str>,
) -> Result<DbView, DbProblem> {
    let located = locate_database(root, settings, django, override_url)?;
    let rows = migguard_db::read_applied(&located.url).map_err(|e| DbProblem::from_db(&e))?;
    Ok(DbView {
        url_display: located.url.to_string(),
        applied: rows.keys(),
        url: located.url,
        how: located.how,
        rows,
    })
}

/// The interpreter that runs Django when neither `--python` nor
/// `[tool.migguard] python` names one: the name a virtualenv and every Unix
/// system with Python 3 have.
pub const DEFAULT_PYTHON: &str = "python3";

/// The interpreter that runs Django: `--python` (`given`), else
/// `[tool.migguard] python`, else [`DEFAULT_PYTHON`].
pub fn python<'a>(given: Option<&'a str>, settings: &'a Settings) -> &'a str {
    given
        .or(settings.options.python.as_deref())
        .unwrap_or(DEFAULT_PYTHON)
}

/// `python3 manage.py` as the user runs it from the project directory: the
/// interpreter of [`python`] and `manage.py`'s project-relative path.
pub fn manage_command(settings: &Settings, django: &DjangoSettings) -> String {
    let python = python(None, settings);
    let manage = django.manage_py.as_deref().unwrap_or("manage.py");
    format!("{} {}", quote(python), quote(manage))
}

/// Quote a word for a POSIX shell when it needs it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@+,%".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Where the file of a foreign migration can be had, for the commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// A revision that has it (`feature`, a commit id): switch back to it.
    Revision {
        /// As git takes it.
        rev: String,
        /// For people: `branch feature`, `commit 1a2b3c4`.
        label: String,
    },
    /// Only migguard's store has it: its blob id, and the store's copy.
    Blob { blob: String, file: PathBuf },
    /// Nowhere.
    Unknown,
}

impl FileSource {
    /// `branch feature`, `migguard's store (blob 1a2b3c4, its branch is gone)`.
    pub fn label(&self) -> Option<String> {
        match self {
            FileSource::Revision { label, .. } => Some(label.clone()),
            FileSource::Blob { blob, .. } => Some(format!(
                "a branch that is gone; its file is in migguard's store as blob {}",
                &blob[..blob.len().min(10)]
            )),
            FileSource::Unknown => None,
        }
    }
}

/// How to name things in fixes.
pub struct FixContext<'a> {
    /// `python manage.py`.
    pub manage: &'a str,
    /// What to switch back to after unapplying on another revision (the
    /// current branch's name, or the commit id when detached); `None` when
    /// the commands must not switch (nothing to come back to).
    pub current: Option<&'a str>,
    /// Where a foreign migration's file is.
    pub source_of: &'a dyn Fn(&ForeignMigration) -> FileSource,
}

/// The steps of `drift.unapply` grouped by where their files are.
fn grouped<'d>(
    drift: &'d Drift,
    ctx: &FixContext<'_>,
) -> Vec<(FileSource, Vec<&'d migguard_core::drift::UnapplyStep>)> {
    let mut groups: Vec<(FileSource, Vec<&migguard_core::drift::UnapplyStep>)> = Vec::new();
    for step in &drift.unapply {
        let sources: Vec<FileSource> = drift
            .foreign
            .iter()
            .filter(|f| f.key.app == step.app && f.provenance != Provenance::Unknown)
            .map(|f| (ctx.source_of)(f))
            .collect();
        let source = sources
            .iter()
            .find(|s| matches!(s, FileSource::Revision { .. }))
            .or_else(|| sources.first())
            .cloned()
            .unwrap_or(FileSource::Unknown);
        match groups.iter_mut().find(|(s, _)| *s == source) {
            Some((_, steps)) => steps.push(step),
            None => groups.push((source, vec![step])),
        }
    }
    groups
}

/// The shell commands that bring the database to the current revision, to
/// paste from the project directory: unapply the foreign migrations with
/// their own files (switching back to the revision that has them, or
/// taking them out of migguard's store for the time of the command), then
/// `migrate`. Foreign migrations whose files are unknown cannot be undone
/// by Django and are left out (see [`unknown_foreign`]).
pub fn fix_commands(drift: &Drift, ctx: &FixContext<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    for (source, steps) in grouped(drift, ctx) {
        let migrate: Vec<String> = steps
            .iter()
            .map(|s| {
                format!(
                    "{} migrate {} {}",
                    ctx.manage,
                    quote(&s.app),
                    quote(s.target_name())
                )
            })
            .collect();
        match &source {
            FileSource::Revision { rev, .. } => {
                let Some(current) = ctx.current else {
                    continue;
                };
                // The round trip is a step of the fix, not a branch
                // switch: migguard's own hook must not run (with snapshots
                // on it would save and restore the database mid-fix).
                lines.push(format!("MIGGUARD=0 git checkout {}", quote(rev)));
                lines.extend(migrate);
                lines.push(format!("MIGGUARD=0 git checkout {}", quote(current)));
            }
            FileSource::Blob { .. } => {
                let files: Vec<(PathBuf, String)> = drift
                    .foreign
                    .iter()
                    .filter(|f| steps.iter().any(|s| s.app == f.key.app))
                    .filter_map(|f| match ((ctx.source_of)(f), &f.path) {
                        (FileSource::Blob { file, .. }, Some(path)) => Some((file, path.clone())),
                        _ => None,
                    })
                    .collect();
                for (file, path) in &files {
                    lines.push(format!(
                        "cp {} {}",
                        quote(&file.to_string_lossy()),
                        quote(path)
                    ));
                }
                lines.extend(migrate);
                let paths: Vec<String> = files.iter().map(|(_, p)| quote(p)).collect();
                if !paths.is_empty() {
                    lines.push(format!("rm {}", paths.join(" ")));
                }
            }
            FileSource::Unknown => {}
        }
    }
    lines.push(format!("{} migrate", ctx.manage));
    lines
}

/// The one-line fix for one foreign migration (for its diagnostic).
pub fn fix_for(foreign: &ForeignMigration, drift: &Drift, ctx: &FixContext<'_>) -> Option<String> {
    let step = drift.unapply.iter().find(|s| s.app == foreign.key.app)?;
    let migrate = format!(
        "{} migrate {} {}",
        ctx.manage,
        quote(&step.app),
        quote(step.target_name())
    );
    match (ctx.source_of)(foreign) {
        FileSource::Revision { rev, .. } => {
            let current = ctx.current?;
            Some(format!(
                "`MIGGUARD=0 git checkout {} && {migrate} && MIGGUARD=0 git checkout {}`",
                quote(&rev),
                quote(current)
            ))
        }
        FileSource::Blob { file, .. } => {
            let path = quote(foreign.path.as_deref()?);
            let file = quote(&file.to_string_lossy());
            Some(format!("`cp {file} {path} && {migrate} && rm {path}`"))
        }
        FileSource::Unknown => None,
    }
}

/// Foreign migrations whose files nobody has: Django cannot unapply them.
pub fn unknown_foreign(drift: &Drift) -> Vec<&ForeignMigration> {
    drift
        .foreign
        .iter()
        .filter(|f| f.provenance == Provenance::Unknown)
        .collect()
}

/// Migrations the database has applied that neither `new` nor `old` has,
/// as far as migguard's store knows them, parsed.
pub fn stored_migrations(
    store: &AppliedStore,
    new: &Project,
    old: Option<&Project>,
    applied: &AppliedSet,
) -> Vec<Migration> {
    let mut out = Vec::new();
    for key in applied {
        if new.migration(key).is_some() || old.is_some_and(|o| o.migration(key).is_some()) {
            continue;
        }
        if let Some((_, _, migration)) = stored_migration(store, key) {
            out.push(migration);
        }
    }
    out
}

/// Migration `key` as migguard's store has it: its project-relative path,
/// its bytes and the parsed migration; `None` when the store does not have
/// it or it does not parse.
pub fn stored_migration(
    store: &AppliedStore,
    key: &MigrationKey,
) -> Option<(String, Vec<u8>, Migration)> {
    let (path, bytes) = store.lookup(&key.app, &key.name)?;
    let package = path
        .rsplit_once('/')
        .map(|(dir, _)| dir.replace('/', "."))
        .unwrap_or_default();
    let migration = parse_migration(key, &path, &package, &bytes).migration?;
    Some((path, bytes, migration))
}

/// Where a foreign migration's file is: the revision left (`old`, as
/// `(rev, label)`) when it has it, else a local branch that has the stored
/// content at that path, else the store itself.
pub fn file_source(
    foreign: &ForeignMigration,
    old: Option<(&str, &str)>,
    repo: Option<(&Repo, &str)>,
    store: Option<&AppliedStore>,
) -> FileSource {
    match foreign.provenance {
        Provenance::OldRevision => match old {
            Some((rev, label)) => FileSource::Revision {
                rev: rev.to_owned(),
                label: label.to_owned(),
            },
            None => FileSource::Unknown,
        },
        Provenance::Store => {
            let Some(entry) = store.and_then(|s| s.entry(&foreign.key.app, &foreign.key.name))
            else {
                return FileSource::Unknown;
            };
            if let Some((repo, prefix)) = repo {
                let path = if prefix.is_empty() {
                    entry.path.clone()
                } else {
                    format!("{prefix}/{}", entry.path)
                };
                if let Some(branch) = repo
                    .branches_with_file(&path, &entry.blob)
                    .into_iter()
                    .next()
                {
                    return FileSource::Revision {
                        label: format!("branch {branch}"),
                        rev: branch,
                    };
                }
            }
            FileSource::Blob {
                file: store
                    .map(|s| s.object_file(&entry.blob))
                    .unwrap_or_default(),
                blob: entry.blob.clone(),
            }
        }
        Provenance::Unknown => FileSource::Unknown,
    }
}

/// Record in the store every applied migration `project` has (content by
/// blob id, as read from git), but those `except` has (recorded from it
/// already). Returns how many were added.
pub fn record_applied(
    store: &mut AppliedStore,
    project: &Project,
    applied: &AppliedSet,
    except: Option<&Project>,
) -> usize {
    let mut added = 0;
    for migration in &project.migrations {
        if !applied.contains(&migration.key)
            || except.is_some_and(|e| e.migration(&migration.key).is_some())
        {
            continue;
        }
        let Some(blob) = project.content_ids.get(&migration.path) else {
            continue;
        };
        if let Ok(true) = store.record_blob(
            &migration.key.app,
            &migration.key.name,
            &migration.path,
            blob,
        ) {
            added += 1;
        }
    }
    added
}

/// What makes a migration irreversible for Django: a `RunPython` without
/// `reverse_code`, a `RunSQL` without `reverse_sql` (where they reach the
/// database).
pub fn irreversible_operations(migration: &Migration) -> Vec<String> {
    migration
        .all_operations()
        .filter(|(_, db)| *db)
        .filter(|(op, _)| matches!(op.reverse, None | Some(Reverse::Missing)))
        .filter_map(|(op, _)| match op.kind {
            OperationKind::RunPython => {
                let code = op
                    .arg("code")
                    .and_then(Value::as_ref_path)
                    .map(|p| format!("({})", p.rsplit('.').next().unwrap_or(p)))
                    .unwrap_or_default();
                Some(format!(
                    "RunPython{code} at line {} has no reverse_code",
                    op.line
                ))
            }
            OperationKind::RunSQL => Some(format!("RunSQL at line {} has no reverse_sql", op.line)),
            _ => None,
        })
        .collect()
}

/// The migrations `drift`'s unapply steps would unapply that Django cannot
/// reverse, as `key (path): reasons`; `known` are the migrations whose
/// files migguard has (the first with a key wins).
pub fn irreversible_unapplies<'a>(
    drift: &Drift,
    known: impl IntoIterator<Item = &'a Migration>,
) -> Vec<String> {
    let known: Vec<&Migration> = known.into_iter().collect();
    drift
        .unapply
        .iter()
        .flat_map(|s| s.unapplies.iter())
        .filter_map(|key| {
            let migration = known.iter().find(|m| &m.key == key)?;
            let reasons = irreversible_operations(migration);
            (!reasons.is_empty())
                .then(|| format!("{key} ({}): {}", migration.path, reasons.join("; ")))
        })
        .collect()
}

/// The way back when Django cannot unapply: the snapshot saved for
/// `branch` when there is one, else a backup or a new database.
pub fn irreversible_way_out(
    url: &DatabaseUrl,
    repo: Option<&Repo>,
    branch: Option<&str>,
) -> String {
    let saved = match (repo, branch) {
        (Some(repo), Some(branch)) => crate::hooks::snapshots::snapshots_for(url, repo)
            .ok()
            .and_then(|s| s.exists(branch).ok())
            .unwrap_or(false)
            .then_some(branch),
        _ => None,
    };
    match saved {
        Some(branch) => format!(
            "restore the snapshot saved for {branch} instead: `migguard snapshot restore {}`",
            quote(branch)
        ),
        None => "no snapshot was saved for this branch (`migguard snapshot list`), so the database must be \
                 restored from a backup taken before they were applied, or recreated (dropped, then `migrate`)"
            .to_owned(),
    }
}

/// `mysqldump ...` for a MySQL/MariaDB database, without the password.
pub fn mysqldump_command(url: &DatabaseUrl) -> String {
    let Some(server) = url.server() else {
        return "mysqldump DATABASE > backup.sql".to_owned();
    };
    let mut cmd = vec!["mysqldump".to_owned(), "--single-transaction".to_owned()];
    match &server.socket {
        Some(socket) => cmd.push(format!("--socket={}", quote(&socket.display().to_string()))),
        None => {
            cmd.push(format!("-h {}", quote(server.host_or_default())));
            if let Some(port) = server.port {
                cmd.push(format!("-P {port}"));
            }
        }
    }
    if let Some(user) = &server.user {
        cmd.push(format!("-u {}", quote(user)));
    }
    if server.password.is_some() {
        cmd.push("-p".to_owned());
    }
    cmd.push(quote(&server.database));
    format!(
        "{} > {}",
        cmd.join(" "),
        quote(&format!(
            "{}-{}.sql",
            server.database,
            crate::hooks::snapshots::timestamp()
        ))
    )
}

/// How to point at `migguard sync` for the database at `url`, truthfully:
/// it snapshots SQLite and PostgreSQL first, but cannot back up
/// MySQL/MariaDB and refuses to run there without `--no-backup`.
pub fn sync_hint(url: &DatabaseUrl) -> String {
    match url.backend() {
        Backend::Mysql => format!(
            "`migguard sync --no-backup` after a backup by hand (migguard cannot back up MySQL/MariaDB): `{}`",
            mysqldump_command(url)
        ),
        _ => "`migguard sync`, which backs the database up first".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migguard_core::drift::UnapplyStep;

    fn drift() -> Drift {
        Drift {
            foreign: vec![
                ForeignMigration {
                    key: MigrationKey::new("blog", "0003_x"),
                    provenance: Provenance::OldRevision,
                    path: Some("blog/migrations/0003_x.py".into()),
                    effects: vec![],
                },
                ForeignMigration {
                    key: MigrationKey::new("shop", "0002_y"),
                    provenance: Provenance::Store,
                    path: Some("shop/migrations/0002_y.py".into()),
                    effects: vec![],
                },
            ],
            unapply: vec![
                UnapplyStep {
                    app: "blog".into(),
                    target: Some("0002_w".into()),
                    unapplies: vec![],
                },
                UnapplyStep {
                    app: "shop".into(),
                    target: None,
                    unapplies: vec![],
                },
            ],
            ..Drift::default()
        }
    }

    #[test]
    fn commands_switch_back_or_use_the_store() {
        let source_of = |f: &ForeignMigration| match f.provenance {
            Provenance::OldRevision => FileSource::Revision {
                rev: "feature".into(),
                label: "branch feature".into(),
            },
            _ => FileSource::Blob {
                blob: "ab".repeat(20),
                file: PathBuf::from("/g/migguard/applied/objects/ab/abab"),
            },
        };
        let ctx = FixContext {
            manage: "python manage.py",
            current: Some("main"),
            source_of: &source_of,
        };
        let d = drift();
        assert_eq!(
            fix_commands(&d, &ctx),
            vec![
                "MIGGUARD=0 git checkout feature".to_owned(),
                "python manage.py migrate blog 0002_w".into(),
                "MIGGUARD=0 git checkout main".into(),
                "cp /g/migguard/applied/objects/ab/abab shop/migrations/0002_y.py".into(),
                "python manage.py migrate shop zero".into(),
                "rm shop/migrations/0002_y.py".into(),
                "python manage.py migrate".into(),
            ]
        );
        assert_eq!(
            fix_for(&d.foreign[0], &d, &ctx).as_deref(),
            Some("`MIGGUARD=0 git checkout feature && python manage.py migrate blog 0002_w && MIGGUARD=0 git checkout main`")
        );
    }

    #[test]
    fn a_password_that_is_a_common_word_leaves_the_message_intact() {
        let url: DatabaseUrl = "postgres://postgres:postgres@127.0.0.1:1/x"
            .parse()
            .unwrap();
        let error = migguard_db::backend::open(&url)
            .err()
            .expect("nothing listens on port 1");
        let p = DbProblem::from_db(&error);
        assert!(
            p.message
                .contains("PostgreSQL server for postgres://postgres:***@127.0.0.1:1/x"),
            "{}",
            p.message
        );
        assert!(!p.message.contains(":postgres@"), "{}", p.message);
    }

    #[test]
    fn problems_are_one_line_without_secrets() {
        let p = DbProblem::new(
            "cannot log in as app:hunter2\n  server says: no",
            Some("hunter2"),
        );
        assert_eq!(p.message, "cannot log in as app:*** server says: no");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("manage.py"), "manage.py");
    }

    #[test]
    fn the_mysqldump_command_never_shows_the_password() {
        let url = DatabaseUrl::parse("mysql://app:s3cret@db.local:3307/shop").unwrap();
        let cmd = mysqldump_command(&url);
        assert!(
            cmd.starts_with(
                "mysqldump --single-transaction -h db.local -P 3307 -u app -p shop > shop-"
            ),
            "{cmd}"
        );
        assert!(!cmd.contains("s3cret"), "{cmd}");
    }

    #[test]
    fn the_sync_hint_says_when_no_backup_is_taken() {
        let mysql = DatabaseUrl::parse("mysql://root@127.0.0.1:3306/shop").unwrap();
        let hint = sync_hint(&mysql);
        assert!(hint.contains("--no-backup"), "{hint}");
        assert!(hint.contains("mysqldump"), "{hint}");
        assert!(!hint.contains("backs the database up"), "{hint}");
        for url in ["sqlite:///tmp/x.db", "postgres://u@h/db"] {
            let hint = sync_hint(&DatabaseUrl::parse(url).unwrap());
            assert!(hint.contains("backs the database up first"), "{hint}");
            assert!(!hint.contains("--no-backup"), "{hint}");
        }
    }
}
