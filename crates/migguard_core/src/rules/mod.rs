//! The rule registry: every rule's code, kebab-case name and default
//! severity are written once, in [`rule_table!`] below. Each rule lives in
//! its own file with its documentation (`DOC`) beside its violation type.
//!
//! Code ranges by family:
//! - `MG0xx` input: files that cannot be read as migrations;
//! - `MG1xx` graph: the migration graph as Django's loader builds it;
//! - `MG2xx` models against migrations;
//! - `MG3xx` branch and database against migrations;
//! - `MG4xx` destructive, irreversible and unsafe operations;
//! - `MG5xx` the team's migration protocol (naming, isolation, squashing).

pub mod branch;
pub mod destructive;
pub mod graph;
pub mod input;
pub mod models;
pub mod naming;
pub mod protocol;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diagnostic::Severity;

macro_rules! rule_table {
    ($( $variant:ident => ($code:literal, $name:literal, $severity:ident, $doc:path) ),* $(,)?) => {
        /// A rule, identified by its code (`MG103`) or its name (`conflicting-migrations`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $( $variant, )*
        }

        impl Rule {
            /// Every rule, in code order.
            pub const ALL: &'static [Rule] = &[$( Rule::$variant, )*];

            pub fn code(self) -> &'static str {
                match self { $( Rule::$variant => $code, )* }
            }

            pub fn name(self) -> &'static str {
                match self { $( Rule::$variant => $name, )* }
            }

            pub fn default_severity(self) -> Severity {
                match self { $( Rule::$variant => Severity::$severity, )* }
            }

            /// The rule's documentation, Markdown, from its own file.
            pub fn doc(self) -> &'static str {
                match self { $( Rule::$variant => $doc, )* }
            }
        }
    };
}

rule_table! {
    SyntaxError => ("MG001", "syntax-error", Error, input::syntax_error::DOC),
    InvalidMigration => ("MG002", "invalid-migration", Error, input::invalid_migration::DOC),
    DynamicMigration => ("MG003", "dynamic-migration", Warning, input::dynamic_migration::DOC),
    DuplicateAppLabel => ("MG004", "duplicate-app-label", Error, input::duplicate_app_label::DOC),
    UnusedSuppression => ("MG005", "unused-suppression", Warning, protocol::unused_suppression::DOC),
    UnreadInstalledApps => ("MG006", "unread-installed-apps", Warning, input::unread_installed_apps::DOC),
    NoMigrationsFound => ("MG007", "no-migrations-found", Warning, input::no_migrations_found::DOC),
    MissingDependency => ("MG101", "missing-dependency", Error, graph::missing_dependency::DOC),
    DependencyCycle => ("MG102", "dependency-cycle", Error, graph::dependency_cycle::DOC),
    ConflictingMigrations => ("MG103", "conflicting-migrations", Error, graph::conflicting_migrations::DOC),
    StaleMaxMigration => ("MG104", "stale-max-migration", Error, graph::stale_max_migration::DOC),
    NestedSquash => ("MG105", "nested-squash", Warning, graph::nested_squash::DOC),
    MissingMigration => ("MG201", "missing-migration", Error, models::missing_migration::DOC),
    UnresolvedModel => ("MG202", "unresolved-model", Info, models::unresolved_model::DOC),
    SchemaMismatch => ("MG301", "schema-mismatch", Warning, branch::schema_mismatch::DOC),
    UnappliedMigrations => ("MG302", "unapplied-migrations", Warning, branch::unapplied_migrations::DOC),
    InconsistentHistory => ("MG303", "inconsistent-history", Error, branch::inconsistent_history::DOC),
    EditedUpstreamMigration => ("MG304", "edited-upstream-migration", Warning, branch::edited_upstream_migration::DOC),
    UpstreamMigrationConflict => ("MG305", "upstream-migration-conflict", Warning, branch::upstream_migration_conflict::DOC),
    RemoveField => ("MG401", "remove-field", Error, destructive::remove_field::DOC),
    DeleteModel => ("MG402", "delete-model", Error, destructive::delete_model::DOC),
    DestructiveSql => ("MG403", "destructive-sql", Error, destructive::destructive_sql::DOC),
    LossyAlterField => ("MG404", "lossy-alter-field", Error, destructive::lossy_alter_field::DOC),
    RenameField => ("MG411", "rename-field", Warning, destructive::rename_field::DOC),
    RenameModel => ("MG412", "rename-model", Warning, destructive::rename_model::DOC),
    AlterDbTable => ("MG413", "alter-db-table", Warning, destructive::alter_db_table::DOC),
    IrreversibleRunPython => ("MG421", "irreversible-run-python", Error, destructive::irreversible_run_python::DOC),
    IrreversibleRunSql => ("MG422", "irreversible-run-sql", Error, destructive::irreversible_run_sql::DOC),
    AddNonNullFieldWithoutDefault => ("MG431", "add-non-null-field-without-default", Error, destructive::add_non_null_field_without_default::DOC),
    BlockingIndexCreation => ("MG432", "blocking-index-creation", Warning, destructive::blocking_index_creation::DOC),
    UniqueTogetherChange => ("MG433", "unique-together-change", Warning, destructive::unique_together_change::DOC),
    DestructiveNotIsolated => ("MG501", "destructive-not-isolated", Warning, protocol::destructive_not_isolated::DOC),
    MixedSchemaAndData => ("MG502", "mixed-schema-and-data", Warning, protocol::mixed_schema_and_data::DOC),
    HistoryModelOutOfSync => ("MG503", "history-model-out-of-sync", Warning, protocol::history_model_out_of_sync::DOC),
    AutoNamedMigration => ("MG504", "auto-named-migration", Warning, naming::auto_named_migration::DOC),
    MultipleMigrationsPerApp => ("MG505", "multiple-migrations-per-app", Info, protocol::multiple_migrations_per_app::DOC),
}

impl Rule {
    /// Look a rule up by code or name.
    pub fn lookup(text: &str) -> Option<Rule> {
        let text = text.trim();
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.name() == text || r.code().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown rule name or code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{0}`")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::lookup(s).ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Rule::lookup(&text).ok_or_else(|| serde::de::Error::custom(UnknownRule(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for rule in Rule::ALL {
            assert!(codes.insert(rule.code()), "duplicate code {}", rule.code());
            assert!(names.insert(rule.name()), "duplicate name {}", rule.name());
            assert!(rule.code().starts_with("MG") && rule.code().len() == 5);
            assert!(rule
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(Rule::lookup(rule.name()), Some(*rule));
            assert_eq!(Rule::lookup(&rule.code().to_lowercase()), Some(*rule));
        }
    }

    #[test]
    fn every_rule_documents_the_same_sections() {
        for rule in Rule::ALL {
            let doc = rule.doc();
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## How to fix",
            ] {
                assert!(doc.contains(section), "{} lacks `{section}`", rule.name());
            }
        }
    }
}
