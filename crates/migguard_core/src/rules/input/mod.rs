//! `MG0xx`: files that cannot be read as Django migrations.

pub mod duplicate_app_label;
pub mod dynamic_migration;
pub mod invalid_migration;
pub mod no_migrations_found;
pub mod syntax_error;
pub mod unread_installed_apps;
