//! `migguard_db`: the only migguard crate that talks to databases.
//!
//! Everything else in migguard reads files and git objects; this crate is
//! where a connection is opened, so every database concern lives here and
//! nowhere else:
//!
//! * [`url`]: [`DatabaseUrl`], parsed from `sqlite:///…`, `postgres://…`,
//!   `mysql://…`; its `Display` never shows the password.
//! * [`mod@locate`]: which database a project uses: `DATABASE_URL`, else
//!   `[tool.migguard] database`, else `DATABASES["default"]` read statically
//!   from the Django settings, else `db.sqlite3` beside `manage.py`.
//! * [`backend`]: [`AppliedReader`], which reads the `django_migrations`
//!   table (SQLite, PostgreSQL, MySQL/MariaDB) without ever writing, and
//!   gives up on a connection after two seconds.
//! * [`snapshot`]: per-branch copies of the database (SQLite through the
//!   online backup API, PostgreSQL through `CREATE DATABASE … TEMPLATE`).
//! * [`error`]: [`DbError`], one variant per thing a person can act on
//!   (server down, wrong password, no such database, missing SQLite file,
//!   `migrate` never ran, database in use).
//!
//! The crate never prints and never panics on input; no error message or
//! `Display` output contains a password.
//!
//! ```no_run
//! use migguard_db::{backend, DatabaseUrl};
//!
//! let url = DatabaseUrl::parse("postgres://app@localhost/shop")?;
//! let applied = backend::read_applied(&url)?;
//! for key in applied.keys() {
//!     let _ = key; // (app, name)
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
pub mod error;
pub mod locate;
pub mod snapshot;
pub mod url;

pub use backend::{
    open, read_applied, AppliedMigrations, AppliedReader, AppliedRow, CONNECT_TIMEOUT,
};
pub use error::DbError;
pub use locate::{locate, locate_with_env, settings_database_with_env, LocateError, Located};
pub use snapshot::{SnapshotInfo, Snapshots};
pub use url::{Backend, DatabaseUrl, Password, ServerAddress, UrlError};
