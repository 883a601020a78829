//! Tests against real databases: SQLite files, the PostgreSQL server on
//! 127.0.0.1:5432 and the MariaDB server on 127.0.0.1:3306, with tables
//! written by real Django (`manage.py migrate` on the `conflict_merged`
//! fixture project). Each test makes its own uniquely named database and
//! drops it at the end, also when it fails.

mod common;
mod locate;
mod mysql_db;
mod postgres_db;
mod sqlite_db;
