//! Helpers: a temp copy of the fixture project, running Django, and
//! database guards that drop what they created.

#![allow(clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use migguard_core::graph::AppliedSet;
use migguard_core::model::MigrationKey;

pub const PG_ADMIN: &str =
    "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5";
pub const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

/// `mg_test_<pid>_<n>`: unique across parallel tests and test binaries.
pub fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "mg_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A temporary copy of `tests/fixtures/django/projects/conflict_merged`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn copy() -> Project {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/django/projects/conflict_merged");
        let dir = tempfile::tempdir().expect("tempdir");
        copy_tree(&fixture, dir.path());
        Project { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `config/<module>.py` importing the fixture's settings and replacing
    /// `DATABASES`.
    pub fn write_settings(&self, module: &str, body: &str) {
        std::fs::write(
            self.root().join("config").join(format!("{module}.py")),
            body,
        )
        .expect("write settings");
    }

    /// Run `python3 manage.py <args>` and return its standard output.
    pub fn manage(&self, args: &[&str]) -> String {
        let out = Command::new("python3")
            .arg("manage.py")
            .args(args)
            .current_dir(self.root())
            .env_remove("DATABASE_URL")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "manage.py {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Django's own view: the `[X]` lines of `showmigrations --list`.
    pub fn django_applied(&self, settings: Option<&str>) -> AppliedSet {
        let mut args = vec!["showmigrations", "--list"];
        if let Some(settings) = settings {
            args.extend(["--settings", settings]);
        }
        parse_showmigrations(&self.manage(&args))
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str == "__pycache__" || name_str.ends_with(".sqlite3") {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub fn parse_showmigrations(text: &str) -> AppliedSet {
    let mut app = String::new();
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            app = line.trim().to_owned();
        } else if let Some(rest) = line.trim_start().strip_prefix("[X] ") {
            // `0001_squashed_0004 (4 squashed migrations)`
            let name = rest.split_whitespace().next().unwrap_or_default();
            out.insert(MigrationKey::new(app.clone(), name));
        }
    }
    out
}

/// A PostgreSQL database that is dropped (with its snapshots) on drop.
pub struct PgDb {
    pub name: String,
}

impl PgDb {
    pub fn create() -> PgDb {
        let name = unique_name();
        let mut client =
            postgres::Client::connect(PG_ADMIN, postgres::NoTls).expect("connect to PostgreSQL");
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        PgDb { name }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    pub fn settings_module(&self) -> String {
        format!(
            "from .settings import *  # noqa: F401,F403\n\nDATABASES = {{\n    \"default\": {{\n        \
             \"ENGINE\": \"django.db.backends.postgresql\",\n        \"NAME\": \"{}\",\n        \
             \"USER\": \"postgres\",\n        \"HOST\": \"127.0.0.1\",\n        \"PORT\": \"5432\",\n    }}\n}}\n",
            self.name
        )
    }

    pub fn client(&self) -> postgres::Client {
        let conn = format!(
            "host=127.0.0.1 port=5432 user=postgres dbname={} application_name=mg_test_holder",
            self.name
        );
        postgres::Client::connect(&conn, postgres::NoTls).expect("connect to the test database")
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let Ok(mut client) = postgres::Client::connect(PG_ADMIN, postgres::NoTls) else {
            eprintln!("could not connect to drop {}", self.name);
            return;
        };
        let rows = client
            .query(
                "SELECT datname::text FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '__')",
                &[&self.name],
            )
            .unwrap_or_default();
        for row in rows {
            let name: String = row.get(0);
            if let Err(e) =
                client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            {
                eprintln!("could not drop {name}: {e}");
            }
        }
    }
}

/// A MariaDB database that is dropped on drop.
pub struct MyDb {
    pub name: String,
}

impl MyDb {
    pub fn create() -> MyDb {
        use mysql::prelude::Queryable;
        let name = unique_name();
        let mut conn = mysql::Conn::new(mysql::Opts::from_url(MYSQL_ADMIN).expect("url"))
            .expect("connect to MariaDB");
        conn.query_drop(format!("CREATE DATABASE `{name}`"))
            .expect("create database");
        MyDb { name }
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:3306/{}", self.name)
    }

    pub fn settings_module(&self) -> String {
        format!(
            "import pymysql\n\npymysql.install_as_MySQLdb()\n\nfrom .settings import *  # noqa: E402,F401,F403\n\n\
             DATABASES = {{\n    \"default\": {{\n        \"ENGINE\": \"django.db.backends.mysql\",\n        \
             \"NAME\": \"{}\",\n        \"USER\": \"root\",\n        \"PASSWORD\": \"\",\n        \
             \"HOST\": \"127.0.0.1\",\n        \"PORT\": \"3306\",\n    }}\n}}\n",
            self.name
        )
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        let Ok(opts) = mysql::Opts::from_url(MYSQL_ADMIN) else {
            return;
        };
        match mysql::Conn::new(opts) {
            Ok(mut conn) => {
                if let Err(e) = conn.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name))
                {
                    eprintln!("could not drop {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!("could not connect to drop {}: {e}", self.name),
        }
    }
}

/// A file's bytes, to show a read changed nothing.
pub fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read file")
}

pub fn path_in(project: &Project, rel: &str) -> PathBuf {
    project.root().join(rel)
}

/// A TCP server that accepts connections and never says a word (a hung
/// database, a port forwarded to nothing). Returns its port; it runs until
/// the test process ends.
pub fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}
