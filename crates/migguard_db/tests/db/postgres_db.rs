use std::time::{Duration, Instant};

use migguard_db::{backend, DatabaseUrl, DbError, Snapshots};

use crate::common::{PgDb, Project};

fn url(text: &str) -> DatabaseUrl {
    DatabaseUrl::parse(text).expect("url")
}

fn migrated() -> (Project, PgDb) {
    let db = PgDb::create();
    let project = Project::copy();
    project.write_settings("settings_pg", &db.settings_module());
    project.manage(&[
        "migrate",
        "--settings",
        "config.settings_pg",
        "--verbosity",
        "0",
    ]);
    (project, db)
}

#[test]
fn reads_what_django_applied() {
    let (project, db) = migrated();
    let applied = backend::read_applied(&url(&db.url())).expect("read django_migrations");
    assert_eq!(
        applied.keys(),
        project.django_applied(Some("config.settings_pg"))
    );
    assert!(applied.len() > 10);
    assert!(applied
        .rows
        .iter()
        .all(|r| r.applied.as_deref().is_some_and(|a| a.starts_with("20"))));
}

#[test]
fn server_down_answers_quickly() {
    let start = Instant::now();
    let err = backend::open(&url("postgres://postgres:s3cr3t-pw@127.0.0.1:1/x"))
        .err()
        .expect("down");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert!(matches!(err, DbError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("cannot reach") && !text.contains("s3cr3t-pw"),
        "{text}"
    );
}

#[test]
fn missing_database() {
    let name = crate::common::unique_name();
    let err = backend::open(&url(&format!("postgres://postgres@127.0.0.1:5432/{name}")))
        .err()
        .expect("missing");
    assert!(
        matches!(err, DbError::NoDatabase { ref database, .. } if *database == name),
        "{err:?}"
    );
}

#[test]
fn database_without_django_migrations() {
    let db = PgDb::create();
    let err = backend::read_applied(&url(&db.url())).expect_err("no table");
    assert!(matches!(err, DbError::NoMigrationsTable { .. }), "{err:?}");
}

fn rows(db: &PgDb) -> Vec<(String, String, Option<String>)> {
    backend::read_applied(&url(&db.url()))
        .expect("read")
        .rows
        .into_iter()
        .map(|r| (r.app, r.name, r.applied))
        .collect()
}

#[test]
fn snapshot_round_trip_and_busy_databases() {
    let (project, db) = migrated();
    let live_url = url(&db.url());
    let snapshots = Snapshots::new(&live_url, "/nonexistent-unused").expect("snapshots");
    let original = rows(&db);

    let saved = snapshots.save("feature/login").expect("save");
    assert!(
        saved
            .name
            .starts_with(&format!("{}__mg_feature_login", db.name)),
        "{saved:?}"
    );
    assert!(saved.name.len() <= 63);
    let listed = snapshots.list().expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].branch.as_deref(), Some("feature/login"));

    // Change the live database: unapply the orders migrations.
    project.manage(&[
        "migrate",
        "orders",
        "zero",
        "--settings",
        "config.settings_pg",
        "--verbosity",
        "0",
    ]);
    assert!(rows(&db).len() < original.len());

    // Another session on the live database: restore refuses, says how to
    // find it, and leaves the live database as it was; save refuses at
    // once (PostgreSQL itself would wait 5 s for the session to go).
    let changed = rows(&db);
    {
        let mut holder = db.client();
        holder.batch_execute("SELECT 1").expect("hold");
        let started = std::time::Instant::now();
        let err = snapshots.save("busy").expect_err("in use");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "save answered in {:?}",
            started.elapsed()
        );
        match &err {
            DbError::InUse { what, sessions, .. } => {
                assert_eq!(*what, "database");
                assert!(
                    sessions.iter().any(|(_, app)| app == "mg_test_holder"),
                    "{sessions:?}"
                );
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        assert!(!snapshots.exists("busy").expect("exists"));
        let err = snapshots.restore("feature/login").expect_err("in use");
        match &err {
            DbError::InUse {
                database, sessions, ..
            } => {
                assert_eq!(database, &db.name);
                assert!(
                    sessions.iter().any(|(_, app)| app == "mg_test_holder"),
                    "{sessions:?}"
                );
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("pg_stat_activity") && text.contains(&db.name),
            "{text}"
        );
    }
    assert_eq!(rows(&db), changed);

    // Someone connected to the snapshot itself.
    {
        let conn = format!(
            "host=127.0.0.1 port=5432 user=postgres dbname={} application_name=mg_test_holder",
            saved.name
        );
        let _holder =
            postgres::Client::connect(&conn, postgres::NoTls).expect("connect to the snapshot");
        let err = snapshots
            .restore("feature/login")
            .expect_err("snapshot in use");
        assert!(
            matches!(
                err,
                DbError::InUse {
                    what: "snapshot",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(rows(&db), changed);

    let err = snapshots.restore("no-such-branch").expect_err("missing");
    assert!(matches!(err, DbError::SnapshotMissing { .. }), "{err:?}");
    assert_eq!(rows(&db), changed);

    snapshots.restore("feature/login").expect("restore");
    assert_eq!(rows(&db), original);
    project.manage(&[
        "migrate",
        "--check",
        "--settings",
        "config.settings_pg",
        "--verbosity",
        "0",
    ]);
    // The snapshot is kept after a restore, and nothing is left behind.
    assert!(snapshots.exists("feature/login").expect("exists"));

    // Saving over an existing snapshot replaces it.
    project.manage(&[
        "migrate",
        "orders",
        "zero",
        "--settings",
        "config.settings_pg",
        "--verbosity",
        "0",
    ]);
    snapshots.save("feature/login").expect("save again");
    snapshots.restore("feature/login").expect("restore");
    assert_eq!(rows(&db), changed);

    assert!(snapshots.drop_snapshot("feature/login").expect("drop"));
    assert!(snapshots.list().expect("list").is_empty());
    let mut admin =
        postgres::Client::connect(crate::common::PG_ADMIN, postgres::NoTls).expect("admin");
    let left: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, $1 || '__')",
            &[&db.name],
        )
        .expect("count")
        .get(0);
    assert_eq!(left, 0, "no temporary databases left behind");
}

/// The TCP connection is accepted but the handshake never comes: given up
/// on (not hung), as unreachable. The bound is loose: it is not a timing.
#[test]
fn a_server_that_never_answers_is_given_up_on() {
    let port = crate::common::silent_server();
    let start = Instant::now();
    let err = backend::open(&url(&format!(
        "postgres://postgres:s3cr3t-pw@127.0.0.1:{port}/x"
    )))
    .err()
    .expect("no answer");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, DbError::Unreachable { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cr3t-pw"), "{err}");
}
