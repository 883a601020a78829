//! The real-world benchmark as CI runs it: `benches/realworld.py` over the
//! pinned PyPI releases of `benches/realworld.toml` (what CI can reach),
//! with the binary under test. Precision gates the run: no unexpected
//! error-level finding and >= 95% of each project's migrations read. Recall
//! is measured (a few tries per project) and printed, not timed; the full
//! table, GitHub sources included, is docs/realworld.md.

use std::process::Command;

use crate::support::*;

#[test]
fn pinned_releases_raise_no_false_error_and_are_read() {
    let work = tempfile::tempdir().unwrap();
    let out = run(
        Command::new(python())
            .arg(repo_root().join("benches/realworld.py"))
            .args(["--source", "pypi", "--recall", "3", "--json", "--migguard"])
            .arg(migguard_bin("migguard"))
            .arg("--work")
            .arg(work.path())
            .current_dir(repo_root()),
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rows = stdout_json(&out);
    let rows = rows.as_array().expect("a list of projects");
    assert!(
        rows.len() >= 12,
        "{} projects measured\n{stderr}",
        rows.len()
    );
    let mut failures = Vec::new();
    let (mut hits, mut tries) = (0, 0);
    for row in rows {
        let name = format!("{} ({})", row["project"], row["source"]);
        if let Some(failure) = row.get("failure") {
            failures.push(format!("{name}: {failure}"));
            continue;
        }
        if row["errors"] != 0 {
            failures.push(format!("{name}: {}", row["error_findings"]));
        }
        let read = row["migrations"].as_f64().unwrap_or(0.0);
        let on_disk = row["on_disk"].as_f64().unwrap_or(0.0);
        if on_disk > 0.0 && read / on_disk < 0.95 {
            failures.push(format!("{name}: read {read} of {on_disk} migrations"));
        }
        hits += row["recall_hits"].as_u64().unwrap_or(0);
        tries += row["recall_tries"].as_u64().unwrap_or(0);
    }
    eprintln!("{stderr}\nrecall on the pinned releases: {hits}/{tries}");
    assert!(tries > 0, "no recall try was made\n{stderr}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
