use std::path::Path;

use migguard_core::config::Settings;
use migguard_core::project::DjangoSettings;
use migguard_core::source::{ProjectSource, WorkTree};
use migguard_db::{backend, locate_with_env, DatabaseUrl, DbError, Snapshots};

use crate::common::{file_bytes, path_in, Project};

fn located_url(project: &Project) -> migguard_db::Located {
    let source = WorkTree::new(project.root());
    let files = source.list().expect("list project");
    let settings = DjangoSettings::read(&files, &source, &Settings::default());
    let no_env = |_: &str| None;
    locate_with_env(project.root(), None, &settings, &no_env).expect("locate")
}

#[test]
fn reads_what_django_applied_via_the_located_settings() {
    let project = Project::copy();
    project.manage(&["migrate", "--verbosity", "0"]);
    // The fixture's settings say `"NAME": BASE_DIR / "db.sqlite3"`.
    let located = located_url(&project);
    let db = path_in(&project, "db.sqlite3");
    assert_eq!(located.url, DatabaseUrl::Sqlite(db.clone()));
    assert_eq!(located.how, "DATABASES['default'] in config/settings.py");

    let before = file_bytes(&db);
    let applied = backend::read_applied(&located.url).expect("read django_migrations");
    assert_eq!(applied.keys(), project.django_applied(None));
    assert!(applied.len() > 10, "auth, contenttypes, inventory, orders");
    assert!(applied
        .rows
        .iter()
        .all(|r| r.applied.as_deref().is_some_and(|a| a.starts_with("20"))));
    assert_eq!(file_bytes(&db), before, "reading must not write");
}

#[test]
fn missing_file_is_reported_and_not_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.sqlite3");
    let err = backend::open(&DatabaseUrl::Sqlite(path.clone()))
        .err()
        .expect("an error");
    assert!(matches!(err, DbError::SqliteFileMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!path.exists(), "opening must not create the file");
}

#[test]
fn database_without_django_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.sqlite3");
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch("CREATE TABLE other (id integer)"))
        .expect("make a database");
    let err = backend::read_applied(&DatabaseUrl::Sqlite(path)).expect_err("no table");
    assert!(matches!(err, DbError::NoMigrationsTable { .. }), "{err:?}");
    assert!(err.to_string().contains("migrate` has never run"), "{err}");
}

#[test]
fn not_a_database_is_an_other_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("junk.sqlite3");
    std::fs::write(
        &path,
        b"this is not an sqlite file, just some text that is long enough",
    )
    .expect("write");
    let err = backend::read_applied(&DatabaseUrl::Sqlite(path)).expect_err("junk");
    assert!(matches!(err, DbError::Other { .. }), "{err:?}");
}

fn rows(db: &Path) -> Vec<(String, String, Option<String>)> {
    backend::read_applied(&DatabaseUrl::Sqlite(db.to_owned()))
        .expect("read")
        .rows
        .into_iter()
        .map(|r| (r.app, r.name, r.applied))
        .collect()
}

#[test]
fn snapshot_round_trip() {
    let project = Project::copy();
    project.manage(&["migrate", "--verbosity", "0"]);
    let db = path_in(&project, "db.sqlite3");
    let url = DatabaseUrl::Sqlite(db.clone());
    let snap_dir = tempfile::tempdir().expect("tempdir");
    let snapshots =
        Snapshots::new(&url, snap_dir.path().join("migguard/snapshots")).expect("snapshots");

    let original = rows(&db);
    let saved = snapshots.save("feature/login").expect("save");
    assert!(saved.name.starts_with("feature_login-"), "{saved:?}");
    assert!(snapshots.exists("feature/login").expect("exists"));
    assert_eq!(snapshots.list().expect("list").len(), 1);

    // Change the live database for real: unapply the orders migrations.
    project.manage(&["migrate", "orders", "zero", "--verbosity", "0"]);
    let changed = rows(&db);
    assert!(changed.len() < original.len());

    // A branch without a snapshot: an error, and the live file untouched.
    let before = file_bytes(&db);
    let err = snapshots.restore("other").expect_err("no snapshot");
    assert!(matches!(err, DbError::SnapshotMissing { .. }), "{err:?}");
    assert_eq!(file_bytes(&db), before);

    snapshots.restore("feature/login").expect("restore");
    assert_eq!(rows(&db), original);
    assert_eq!(
        project.django_applied(None),
        backend::read_applied(&url).expect("read").keys()
    );
    // The orders tables are back too: Django sees a consistent database.
    project.manage(&["migrate", "--check", "--verbosity", "0"]);

    assert!(snapshots.drop_snapshot("feature/login").expect("drop"));
    assert!(!snapshots
        .drop_snapshot("feature/login")
        .expect("drop again"));
    assert!(snapshots.list().expect("list").is_empty());
}

#[test]
fn snapshot_of_a_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = Snapshots::new(
        &DatabaseUrl::Sqlite(dir.path().join("gone.sqlite3")),
        dir.path().join("snaps"),
    )
    .expect("snapshots");
    let err = snapshots.save("main").expect_err("missing");
    assert!(matches!(err, DbError::SqliteFileMissing { .. }), "{err:?}");
    assert!(!dir.path().join("gone.sqlite3").exists());
}

/// Two live databases (two worktrees' `db.sqlite3`, say) with one snapshot
/// directory: each sees only its own snapshots, and a path that reaches
/// the same file another way shares them.
#[cfg(unix)]
#[test]
fn snapshots_are_kept_per_database() {
    let project = Project::copy();
    project.manage(&["migrate", "--verbosity", "0"]);
    let live_a = path_in(&project, "db.sqlite3");
    let other = tempfile::tempdir().expect("tempdir");
    let live_b = other.path().join("db.sqlite3");
    std::fs::copy(&live_a, &live_b).expect("copy");
    let snap_dir = tempfile::tempdir().expect("tempdir");
    let shared = snap_dir.path().join("migguard/snapshots");
    let a = Snapshots::new(&DatabaseUrl::Sqlite(live_a.clone()), &shared).expect("a");
    let b = Snapshots::new(&DatabaseUrl::Sqlite(live_b.clone()), &shared).expect("b");

    let rows_a = rows(&live_a);
    a.save("main").expect("save a");
    assert!(a.exists("main").expect("exists"));
    assert!(
        !b.exists("main").expect("exists"),
        "a's snapshot is not b's"
    );
    assert!(b.list().expect("list").is_empty());
    let before = file_bytes(&live_b);
    let err = b.restore("main").expect_err("b has no snapshot");
    assert!(matches!(err, DbError::SnapshotMissing { .. }), "{err:?}");
    assert_eq!(file_bytes(&live_b), before, "b is untouched");

    // b's own snapshot of the same branch leaves a's alone.
    rusqlite::Connection::open(&live_b)
        .and_then(|c| c.execute_batch("DELETE FROM django_migrations"))
        .expect("change b");
    b.save("main").expect("save b");
    a.restore("main").expect("restore a");
    assert_eq!(rows(&live_a), rows_a);
    b.restore("main").expect("restore b");
    assert!(rows(&live_b).is_empty());

    // The same file through a symlinked directory is the same database.
    let link = other.path().join("linked");
    std::os::unix::fs::symlink(live_a.parent().expect("dir"), &link).expect("symlink");
    let via_link =
        Snapshots::new(&DatabaseUrl::Sqlite(link.join("db.sqlite3")), &shared).expect("link");
    assert!(via_link.exists("main").expect("exists"));
    assert_eq!(via_link.list().expect("list"), a.list().expect("list"));
}
