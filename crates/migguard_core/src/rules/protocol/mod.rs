//! The team's migration protocol as rules: its code-review checklist
//! ("are destructive changes isolated?", "schema and data apart?", "historical
//! models updated?", "one migration per feature", "squash before merging").
//!
//! [`check`] runs the per-migration rules (`MG501`-`MG503`).
//! [`multiple_migrations_per_app::check`] takes a set of migrations (those of
//! one push, say), and [`unused_suppression::check`] takes the findings of
//! every other rule on a migration, so both are run by their callers.

pub mod destructive_not_isolated;
pub mod history_model_out_of_sync;
pub mod mixed_schema_and_data;
pub mod multiple_migrations_per_app;
pub mod unused_suppression;

use serde_json::json;

use crate::diagnostic::Diagnostic;
use crate::model::{Migration, Operation, OperationKind};
use crate::project::Project;

/// Every per-migration protocol rule, in code order.
pub fn check(project: &Project, migration: &Migration) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(destructive_not_isolated::check(migration));
    out.extend(mixed_schema_and_data::check(migration));
    out.extend(history_model_out_of_sync::check(project, migration));
    out
}

/// An operation named in a finding: its class, model, field and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRef {
    pub operation: String,
    pub model_name: Option<String>,
    /// The field, for field operations (`old_name` for `RenameField`).
    pub name: Option<String>,
    pub line: u32,
}

impl OperationRef {
    pub fn of(op: &Operation) -> Self {
        let name = match op.kind {
            OperationKind::AddField | OperationKind::RemoveField | OperationKind::AlterField => {
                op.str_arg("name")
            }
            OperationKind::RenameField => op.str_arg("old_name"),
            _ => None,
        };
        OperationRef {
            operation: op.type_name().to_owned(),
            model_name: op.model_name_lower(),
            name: name.map(str::to_owned),
            line: op.line,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "operation": self.operation,
            "model_name": self.model_name,
            "name": self.name,
            "line": self.line,
        })
    }

    /// `RemoveField(product.legacy_code)`, `RunPython`.
    pub fn describe(&self) -> String {
        match (&self.model_name, &self.name) {
            (Some(model), Some(field)) => format!("{}({model}.{field})", self.operation),
            (Some(model), None) => format!("{}({model})", self.operation),
            _ => self.operation.clone(),
        }
    }
}

/// Up to three operations, each named once (`2 × RunPython`), then how
/// many more.
pub(crate) fn describe_all(ops: &[OperationRef]) -> String {
    let mut distinct: Vec<(String, usize)> = Vec::new();
    for op in ops {
        let text = op.describe();
        match distinct.iter_mut().find(|(t, _)| *t == text) {
            Some((_, count)) => *count += 1,
            None => distinct.push((text, 1)),
        }
    }
    let mut text: Vec<String> = distinct
        .iter()
        .take(3)
        .map(|(t, n)| {
            if *n == 1 {
                t.clone()
            } else {
                format!("{n} × {t}")
            }
        })
        .collect();
    let rest: usize = distinct.iter().skip(3).map(|(_, n)| n).sum();
    if rest > 0 {
        text.push(format!("{rest} more"));
    }
    text.join(", ")
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    fn op(operation: &str, model: Option<&str>) -> OperationRef {
        OperationRef {
            operation: operation.to_owned(),
            model_name: model.map(str::to_owned),
            name: None,
            line: 1,
        }
    }

    #[test]
    fn each_operation_is_named_once() {
        let ops = [
            op("RunPython", None),
            op("RunPython", None),
            op("DeleteModel", Some("a")),
            op("RunPython", None),
        ];
        assert_eq!(describe_all(&ops), "3 × RunPython, DeleteModel(a)");
        let many: Vec<OperationRef> = ["a", "b", "c", "d", "d"]
            .iter()
            .map(|m| op("DeleteModel", Some(m)))
            .collect();
        assert_eq!(
            describe_all(&many),
            "DeleteModel(a), DeleteModel(b), DeleteModel(c), 2 more"
        );
    }
}
