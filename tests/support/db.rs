//! Databases of their own for the tests: one per test on the PostgreSQL
//! server at 127.0.0.1:5432 and the MariaDB server at 127.0.0.1:3306,
//! dropped (with any snapshot migguard made beside them) by a guard.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::git::describe;

/// A database name no other test (or earlier run) uses.
pub fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "mg_e2e_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(out.status.success(), "psql {sql}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PostgreSQL database, dropped with its snapshots on drop.
pub struct PgDb {
    pub name: String,
}

impl PgDb {
    pub fn create() -> PgDb {
        let name = unique_name();
        psql(&format!("CREATE DATABASE \"{name}\""));
        PgDb { name }
    }

    /// The databases migguard made beside it (snapshots, backups).
    pub fn snapshot_count(&self) -> usize {
        psql(&format!(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, '{}__mg_')",
            self.name
        ))
        .trim()
        .parse()
        .unwrap()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let names = psql(&format!(
            "SELECT datname FROM pg_database WHERE datname = '{0}' OR starts_with(datname, '{0}__')",
            self.name
        ));
        for name in names.lines().filter(|l| !l.is_empty()) {
            let _ = Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
                .arg(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .output();
        }
    }
}

/// A MariaDB database, dropped on drop.
pub struct MyDb {
    pub name: String,
}

pub fn mysql(sql: &str) {
    let out = Command::new("mysql")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", sql])
        .output()
        .expect("run mysql");
    assert!(out.status.success(), "mysql {sql}: {}", describe(&out));
}

impl MyDb {
    pub fn create() -> MyDb {
        let name = unique_name();
        mysql(&format!("CREATE DATABASE `{name}`"));
        MyDb { name }
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let _ = Command::new("mysql")
            .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .output();
    }
}
