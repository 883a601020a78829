//! Diagnostics are data; rendering them is `crate::render`'s job.

use serde::{Deserialize, Serialize};

use crate::rules::Rule;
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// What a rule found, in terms of its own typed fields. Each rule file has
/// one implementation; the text is built here, not where it is reported.
pub trait Violation {
    fn rule(&self) -> Rule;
    fn message(&self) -> String;
    fn help(&self) -> Option<String> {
        None
    }
    /// Machine-readable facts for the JSON output's `details` object.
    fn details(&self) -> serde_json::Value {
        serde_json::Value::Object(serde_json::Map::new())
    }
}

/// Where a diagnostic points.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub app: Option<String>,
    pub migration: Option<String>,
    /// Project-relative, `/`-separated.
    pub path: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub span: Option<Span>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: Some(path.into()),
            ..Location::default()
        }
    }

    pub fn at(mut self, line: u32, column: u32, span: Option<Span>) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self.span = span;
        self
    }

    pub fn in_migration(mut self, app: impl Into<String>, name: impl Into<String>) -> Self {
        self.app = Some(app.into());
        self.migration = Some(name.into());
        self
    }

    pub fn in_app(mut self, app: impl Into<String>) -> Self {
        self.app = Some(app.into());
        self
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub rule: Rule,
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    pub help: Option<String>,
    pub details: serde_json::Value,
}

impl Diagnostic {
    pub fn new(violation: &dyn Violation, location: Location) -> Self {
        let rule = violation.rule();
        Diagnostic {
            rule,
            severity: rule.default_severity(),
            location,
            message: violation.message(),
            help: violation.help(),
            details: violation.details(),
        }
    }

    /// The JSON object of the `migguard check --format json` contract.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rule": self.rule.name(),
            "code": self.rule.code(),
            "severity": self.severity,
            "app": self.location.app,
            "migration": self.location.migration,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "help": self.help,
            "details": self.details,
        })
    }

    /// A stable order: by path, line, column, then code.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.location.path.as_deref().unwrap_or(""),
            self.location.line.unwrap_or(0),
            self.location.column.unwrap_or(0),
            self.rule.code(),
            self.message.as_str(),
        )
    }
}

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}
