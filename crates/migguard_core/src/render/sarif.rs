//! SARIF 2.1.0: one run, the rules that fired as the driver's rules, one
//! result per diagnostic. GitHub code scanning reads this format.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use super::RenderOptions;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::Rule;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/migguard/migguard";

/// The rule's page: `docs/rules/<name>.md` of the repository.
fn help_uri(rule: Rule) -> String {
    format!("{INFORMATION_URI}/blob/main/docs/rules/{}.md", rule.name())
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The first sentence of the rule's "What it does" section.
fn short_description(rule: Rule) -> String {
    rule.doc()
        .split("## What it does")
        .nth(1)
        .and_then(|rest| rest.trim_start().split("\n\n").next())
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| rule.name().to_owned())
}

pub fn render(
    diagnostics: &[Diagnostic],
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut rules: BTreeMap<&str, Rule> = BTreeMap::new();
    for d in diagnostics {
        rules.insert(d.rule.code(), d.rule);
    }
    let rule_index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, code)| (*code, i))
        .collect();
    let driver_rules: Vec<Value> = rules
        .values()
        .map(|rule| {
            json!({
                "id": rule.code(),
                "name": rule.name(),
                "shortDescription": { "text": short_description(*rule) },
                "fullDescription": { "text": short_description(*rule) },
                "help": { "text": rule.doc(), "markdown": rule.doc() },
                "helpUri": help_uri(*rule),
                "defaultConfiguration": { "level": level(rule.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.rule.code(),
                "ruleIndex": rule_index.get(d.rule.code()).copied().unwrap_or(0),
                "level": level(d.severity),
                "message": { "text": text },
                "properties": { "rule": d.rule.name(), "app": d.location.app, "migration": d.location.migration, "details": d.details },
            });
            if let Some(path) = &d.location.path {
                let mut region = serde_json::Map::new();
                if let Some(line) = d.location.line.filter(|&l| l > 0) {
                    region.insert("startLine".into(), json!(line));
                    if let Some(column) = d.location.column.filter(|&c| c > 0) {
                        region.insert("startColumn".into(), json!(column));
                    }
                }
                let mut physical = json!({ "artifactLocation": { "uri": format!("{}{path}", options.path_prefix) } });
                if !region.is_empty() {
                    physical["region"] = Value::Object(region);
                }
                result["locations"] = json!([{ "physicalLocation": physical }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "migguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }},
            "results": results,
        }],
    });
    let text = serde_json::to_string_pretty(&log).map_err(io::Error::other)?;
    writeln!(out, "{text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Location;
    use crate::rules::graph::conflicting_migrations::ConflictingMigrations;

    #[test]
    fn results_point_at_files_and_rules() {
        let d = Diagnostic::new(
            &ConflictingMigrations {
                app: "blog".into(),
                leaves: vec!["0002_a".into(), "0002_b".into()],
                uncertain: None,
            },
            Location::file("blog/migrations/0002_b.py")
                .in_migration("blog", "0002_b")
                .at(6, 1, None),
        );
        let mut out = Vec::new();
        render(
            &[d],
            &RenderOptions {
                color: false,
                path_prefix: "backend/".into(),
                coverage: None,
            },
            &mut out,
        )
        .unwrap();
        let log: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "MG103");
        assert_eq!(
            run["tool"]["driver"]["rules"][0]["name"],
            "conflicting-migrations"
        );
        assert_eq!(
            run["tool"]["driver"]["rules"][0]["helpUri"],
            "https://github.com/migguard/migguard/blob/main/docs/rules/conflicting-migrations.md"
        );
        assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/rules/conflicting-migrations.md")
            .is_file());
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], "MG103");
        assert_eq!(result["level"], "error");
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "backend/blog/migrations/0002_b.py"
        );
        assert_eq!(
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            6
        );
    }
}
