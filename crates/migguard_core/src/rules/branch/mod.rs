//! `MG3xx`: a branch's migrations against another revision or a database.

pub mod edited_upstream_migration;
pub mod inconsistent_history;
pub mod schema_mismatch;
pub mod unapplied_migrations;
pub mod upstream_migration_conflict;
