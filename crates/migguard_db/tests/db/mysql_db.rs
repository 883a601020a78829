use std::time::{Duration, Instant};

use migguard_db::{backend, DatabaseUrl, DbError, Snapshots};

use crate::common::{MyDb, Project};

fn url(text: &str) -> DatabaseUrl {
    DatabaseUrl::parse(text).expect("url")
}

#[test]
fn reads_what_django_applied() {
    let db = MyDb::create();
    let project = Project::copy();
    project.write_settings("settings_mysql", &db.settings_module());
    project.manage(&[
        "migrate",
        "--settings",
        "config.settings_mysql",
        "--verbosity",
        "0",
    ]);
    let applied = backend::read_applied(&url(&db.url())).expect("read django_migrations");
    assert_eq!(
        applied.keys(),
        project.django_applied(Some("config.settings_mysql"))
    );
    assert!(applied.len() > 10);
    assert!(applied
        .rows
        .iter()
        .all(|r| r.applied.as_deref().is_some_and(|a| a.starts_with("20"))));
}

#[test]
fn wrong_password_is_an_auth_error_without_the_password() {
    let err = backend::open(&url("mysql://root:nope@127.0.0.1:3306/test"))
        .err()
        .expect("denied");
    assert!(matches!(err, DbError::AuthFailed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("authentication failed") && !text.contains("nope"),
        "{text}"
    );
    assert!(!format!("{err:?}").contains("nope"));
}

#[test]
fn server_down_answers_quickly() {
    let start = Instant::now();
    let err = backend::open(&url("mysql://root:pw-xyz@127.0.0.1:1/test"))
        .err()
        .expect("down");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert!(matches!(err, DbError::Unreachable { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw-xyz"));
}

#[test]
fn missing_database_and_missing_table() {
    let name = crate::common::unique_name();
    let err = backend::open(&url(&format!("mysql://root@127.0.0.1:3306/{name}")))
        .err()
        .expect("missing");
    assert!(matches!(err, DbError::NoDatabase { .. }), "{err:?}");

    let db = MyDb::create();
    let err = backend::read_applied(&url(&db.url())).expect_err("no table");
    assert!(matches!(err, DbError::NoMigrationsTable { .. }), "{err:?}");
}

#[test]
fn snapshots_are_unsupported() {
    let err =
        Snapshots::new(&url("mariadb://root@127.0.0.1/test"), "/tmp").expect_err("unsupported");
    assert!(matches!(err, DbError::Unsupported(_)), "{err:?}");
    assert!(
        err.to_string().contains("not supported for MySQL/MariaDB"),
        "{err}"
    );
}

/// See the PostgreSQL test of the same name.
#[test]
fn a_server_that_never_answers_is_given_up_on() {
    let port = crate::common::silent_server();
    let start = std::time::Instant::now();
    let err = backend::open(&url(&format!("mysql://root:s3cr3t-pw@127.0.0.1:{port}/x")))
        .err()
        .expect("no answer");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, DbError::Unreachable { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cr3t-pw"), "{err}");
}
