//! The destructive (`MG4xx`) and protocol (`MG5xx`, `MG005`) rules on a
//! project whose migrations real Django 5.2 wrote:
//! `tests/fixtures/django/rules`, made by
//! `tests/fixtures/django/generate_rules.py` (each step there names the
//! findings expected here).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use migguard_core::config::Settings;
use migguard_core::diagnostic::{Diagnostic, Severity};
use migguard_core::model::Migration;
use migguard_core::project::{analyze, finish, AnalyzeOptions, Project};
use migguard_core::rules::{destructive, protocol, Rule};
use migguard_core::source::WorkTree;

/// Per migration file, the rules that report something on it once
/// suppressions are applied.
const EXPECTED: &[(&str, &[&str])] = &[
    ("notes/migrations/0001_initial.py", &[]),
    ("store/migrations/0001_initial.py", &[]),
    (
        "store/migrations/0002_remove_legacy_code.py",
        &["remove-field", "unused-suppression"],
    ),
    (
        "store/migrations/0003_delete_coupon_add_description.py",
        &["delete-model", "destructive-not-isolated"],
    ),
    ("store/migrations/0004_product_stock.py", &[]),
    ("store/migrations/0005_shorten_product_name.py", &[]),
    (
        "store/migrations/0006_alter_product_sku.py",
        &["history-model-out-of-sync"],
    ),
    (
        "store/migrations/0007_rename_price_unit_price.py",
        &["rename-field"],
    ),
    (
        "store/migrations/0008_rename_supplier_vendor.py",
        &["rename-model"],
    ),
    ("store/migrations/0009_vendor_table.py", &["alter-db-table"]),
    (
        "store/migrations/0010_product_name_index.py",
        &["blocking-index-creation"],
    ),
    (
        "store/migrations/0011_vendor_unique_together.py",
        &["unique-together-change"],
    ),
    ("store/migrations/0012_backfill_descriptions.py", &[]),
    (
        "store/migrations/0013_normalise_skus.py",
        &["irreversible-run-python"],
    ),
    (
        "store/migrations/0014_drop_legacy_import_table.py",
        &["destructive-sql"],
    ),
    (
        "store/migrations/0015_purge_out_of_stock.py",
        &["destructive-sql", "irreversible-run-sql"],
    ),
    ("store/migrations/0016_trim_vendor_names.py", &[]),
    ("store/migrations/0017_stop_tracking_sku.py", &[]),
    (
        "store/migrations/0018_vendor_is_active.py",
        &["mixed-schema-and-data"],
    ),
    (
        "store/migrations/0019_vendor_rating.py",
        &["add-non-null-field-without-default"],
    ),
];

fn fixture() -> Project {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/django/rules");
    analyze(
        &WorkTree::new(dir),
        &Settings::default(),
        &AnalyzeOptions::default(),
    )
    .expect("the fixture project is readable")
}

/// What both families report on one migration, before suppressions.
fn raw(project: &Project, migration: &Migration) -> Vec<Diagnostic> {
    let mut found = destructive::check(project, migration);
    found.extend(protocol::check(project, migration));
    found
}

/// What is left per migration path after configuration and suppressions,
/// with the unused suppressions added.
fn findings(project: &Project) -> BTreeMap<String, Vec<Diagnostic>> {
    let mut out: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
    for migration in &project.migrations {
        let before = raw(project, migration);
        let mut after = finish(project, &Settings::default(), before.clone());
        after.extend(protocol::unused_suppression::check(migration, &before));
        out.insert(migration.path.clone(), after);
    }
    out
}

fn rules_of(diagnostics: &[Diagnostic]) -> BTreeSet<&'static str> {
    diagnostics.iter().map(|d| d.rule.name()).collect()
}

#[test]
fn the_fixture_is_read_without_findings_of_its_own() {
    let project = fixture();
    assert!(project.diagnostics.is_empty(), "{:#?}", project.diagnostics);
    assert_eq!(project.migrations.len(), EXPECTED.len());
}

#[test]
fn each_migration_gets_exactly_the_expected_rules() {
    let project = fixture();
    let found = findings(&project);
    let expected: BTreeMap<&str, BTreeSet<&str>> = EXPECTED
        .iter()
        .map(|(path, rules)| (*path, rules.iter().copied().collect()))
        .collect();
    let actual: BTreeMap<&str, BTreeSet<&str>> = found
        .iter()
        .map(|(path, diagnostics)| (path.as_str(), rules_of(diagnostics)))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn every_finding_points_at_an_operation_of_its_file() {
    let project = fixture();
    for (path, diagnostics) in findings(&project) {
        for d in diagnostics {
            assert_eq!(d.location.path.as_deref(), Some(path.as_str()), "{d:#?}");
            assert!(d.location.line.is_some_and(|l| l > 1), "{d:#?}");
            assert_eq!(
                d.location.app.as_deref(),
                Some(&path[..path.find('/').unwrap()])
            );
        }
    }
}

#[test]
fn an_inline_ignore_hides_only_the_finding_on_its_line() {
    let project = fixture();
    let migration = project
        .migration_at("store/migrations/0002_remove_legacy_code.py")
        .expect("0002 is in the fixture");
    let before = raw(&project, migration);
    assert_eq!(
        before
            .iter()
            .filter(|d| d.rule == Rule::RemoveField)
            .count(),
        2
    );
    let after = finish(&project, &Settings::default(), before.clone());
    let left: Vec<&Diagnostic> = after
        .iter()
        .filter(|d| d.rule == Rule::RemoveField)
        .collect();
    assert_eq!(left.len(), 1, "{after:#?}");
    assert_eq!(left[0].details["model_name"], "product");
    assert_eq!(left[0].details["name"], "legacy_code");
    let unused = protocol::unused_suppression::check(migration, &before);
    assert_eq!(unused.len(), 1, "{unused:#?}");
    assert_eq!(unused[0].details["rule"], "delete-model");
    assert_eq!(unused[0].location.line, left[0].location.line);
}

#[test]
fn severities_and_details() {
    let project = fixture();
    let found = findings(&project);
    let one = |path: &str, rule: Rule| -> Diagnostic {
        let hits: Vec<&Diagnostic> = found[path].iter().filter(|d| d.rule == rule).collect();
        assert_eq!(hits.len(), 1, "{path}: {hits:#?}");
        hits[0].clone()
    };
    // DELETE ... WHERE is a warning; DROP TABLE an error.
    let delete = one(
        "store/migrations/0015_purge_out_of_stock.py",
        Rule::DestructiveSql,
    );
    assert_eq!(delete.severity, Severity::Warning);
    assert_eq!(delete.details["parsed"], true);
    assert_eq!(delete.details["statements"][0]["kind"], "DELETE");
    assert_eq!(delete.details["statements"][0]["filtered"], true);
    let drop = one(
        "store/migrations/0014_drop_legacy_import_table.py",
        Rule::DestructiveSql,
    );
    assert_eq!(drop.severity, Severity::Error);
    assert_eq!(
        drop.details["statements"][0]["targets"][0],
        "store_legacy_import"
    );

    let history = one(
        "store/migrations/0006_alter_product_sku.py",
        Rule::HistoryModelOutOfSync,
    );
    assert_eq!(history.details["model_name"], "product");
    assert_eq!(history.details["name"], "sku");
    assert_eq!(history.details["history_model"], "historicalproduct");

    let non_null = one(
        "store/migrations/0019_vendor_rating.py",
        Rule::AddNonNullFieldWithoutDefault,
    );
    assert_eq!(
        (
            non_null.details["model_name"].as_str(),
            non_null.details["name"].as_str()
        ),
        (Some("vendor"), Some("rating"))
    );

    // Both models renamed their field: one finding each.
    let renames = found["store/migrations/0007_rename_price_unit_price.py"].len();
    assert_eq!(renames, 2);
}

#[test]
fn multiple_migrations_per_app_over_the_whole_project() {
    let project = fixture();
    let all: Vec<&Migration> = project.migrations.iter().collect();
    let found = protocol::multiple_migrations_per_app::check(&project, &all);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].rule, Rule::MultipleMigrationsPerApp);
    assert_eq!(found[0].severity, Severity::Info);
    assert_eq!(found[0].details["app"], "store");
    assert_eq!(
        found[0].details["migrations"].as_array().map(Vec::len),
        Some(19)
    );

    let one_each: Vec<&Migration> = project
        .migrations
        .iter()
        .filter(|m| m.key.name == "0019_vendor_rating" || m.key.app == "notes")
        .collect();
    assert!(protocol::multiple_migrations_per_app::check(&project, &one_each).is_empty());
}
