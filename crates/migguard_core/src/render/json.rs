//! The `migguard check --format json` contract:
//! `{"diagnostics": [...], "summary": {"errors": N, "warnings": N, "infos": N}}`,
//! each diagnostic as [`Diagnostic::to_json`], pretty-printed. When a
//! project was analysed, the summary also says what was read: `apps`,
//! `migrations` and `unreadable`.

use std::io::{self, Write};

use super::Coverage;
use crate::diagnostic::{Diagnostic, Summary};

pub(super) fn render(
    diagnostics: &[Diagnostic],
    coverage: Option<Coverage>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let summary = Summary::of(diagnostics);
    let mut document = serde_json::json!({
        "diagnostics": diagnostics.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
        "summary": {
            "errors": summary.errors,
            "warnings": summary.warnings,
            "infos": summary.infos,
        },
    });
    if let Some(coverage) = coverage {
        document["summary"]["apps"] = coverage.apps.into();
        document["summary"]["migrations"] = coverage.migrations.into();
        document["summary"]["unreadable"] = coverage.unreadable.into();
    }
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::super::Format;
    use serde_json::{json, Value};

    fn parse(output: &str) -> Value {
        assert!(output.ends_with("}\n"), "{output}");
        match serde_json::from_str(output) {
            Ok(value) => value,
            Err(err) => panic!("invalid JSON ({err}):\n{output}"),
        }
    }

    #[test]
    fn the_summary_counts_what_was_read_when_known() {
        let options = super::super::RenderOptions {
            coverage: Some(super::super::Coverage {
                apps: 2,
                migrations: 7,
                unreadable: 1,
            }),
            ..Default::default()
        };
        let output =
            super::super::render_to_string(Format::Json, &[], &fixtures::source(), &options);
        assert_eq!(
            parse(&output)["summary"],
            json!({"errors": 0, "warnings": 0, "infos": 0, "apps": 2, "migrations": 7, "unreadable": 1})
        );
    }

    #[test]
    fn contract() {
        let output = fixtures::render_plain(Format::Json, &fixtures::diagnostics());
        let value = parse(&output);
        assert_eq!(
            value["summary"],
            json!({"errors": 2, "warnings": 1, "infos": 1})
        );
        let diagnostics = value["diagnostics"].as_array().cloned().unwrap_or_default();
        assert_eq!(diagnostics.len(), 4);
        let first = &diagnostics[0];
        for key in [
            "rule",
            "code",
            "severity",
            "app",
            "migration",
            "path",
            "line",
            "column",
            "message",
            "help",
            "details",
        ] {
            assert!(first.get(key).is_some(), "`{key}` missing from {first}");
        }
        assert_eq!(first["code"], "MG103");
        assert_eq!(first["rule"], "conflicting-migrations");
        assert_eq!(first["severity"], "error");
        assert_eq!(first["path"], "blog/migrations/0002_b.py");
        assert_eq!(first["line"], 5);
        assert_eq!(first["details"]["leaves"], json!(["0002_a", "0002_b"]));
        assert_eq!(diagnostics[3]["path"], Value::Null);
        assert_eq!(diagnostics[2]["severity"], "info");
    }

    #[test]
    fn broken_and_empty() {
        let broken = fixtures::broken();
        let value = parse(&fixtures::render_plain(Format::Json, &broken));
        assert_eq!(
            value["diagnostics"].as_array().map(Vec::len),
            Some(broken.len())
        );
        let value = parse(&fixtures::render_plain(Format::Json, &[]));
        assert_eq!(
            value,
            json!({"diagnostics": [], "summary": {"errors": 0, "warnings": 0, "infos": 0}})
        );
    }
}
