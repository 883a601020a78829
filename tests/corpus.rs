//! Every rule over real-world migrations it was not written against:
//! Django's own contrib apps, as installed with the pinned Django. Nothing
//! may crash or be unreadable; the counts are reported by
//! `benches/corpus.py` in docs/corpus.md.

use std::process::Command;

use crate::support::*;

#[test]
fn every_rule_runs_over_djangos_own_migrations() {
    let out = run(
        Command::new(python()).args([
            "-c",
            "import django, os; print(os.path.dirname(django.__file__))",
        ]),
        Some(0),
    );
    let django = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let contrib = std::path::Path::new(&django).join("contrib");
    let out = migguard(
        &[
            "check",
            "--audit",
            "--format",
            "json",
            contrib.to_str().unwrap(),
        ],
        &repo_root(),
        None,
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "no internal error: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = stdout_json(&out);
    let diagnostics = value["diagnostics"].as_array().unwrap();
    for d in diagnostics {
        let rule = d["rule"].as_str().unwrap();
        assert!(
            !matches!(
                rule,
                "syntax-error"
                    | "invalid-migration"
                    | "missing-dependency"
                    | "dependency-cycle"
                    | "conflicting-migrations"
            ),
            "Django's own migrations must read cleanly: {d}"
        );
    }
    // Django's contrib apps do contain operations the rules exist for.
    assert!(
        diagnostics
            .iter()
            .any(|d| d["rule"] == "irreversible-run-python"
                || d["rule"] == "lossy-alter-field"
                || d["rule"] == "remove-field"),
        "{value}"
    );
    let graph = stdout_json(&migguard(
        &["graph", "--format", "json", contrib.to_str().unwrap()],
        &repo_root(),
        None,
    ));
    let read = graph["migrations"].as_array().unwrap().len();
    assert_eq!(
        read,
        migration_files(&contrib),
        "every migration file of django.contrib is read"
    );
    assert!(read > 0);
}

/// Modules directly inside a `migrations` package whose names do not start
/// with `_` or `~`, counted on disk.
fn migration_files(dir: &std::path::Path) -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            count += migration_files(&path);
        } else if dir.file_name().is_some_and(|n| n == "migrations")
            && dir.join("__init__.py").exists()
        {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".py") && !name.starts_with('_') && !name.starts_with('~') {
                count += 1;
            }
        }
    }
    count
}
