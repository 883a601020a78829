use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# duplicate-app-label (MG004)

## What it does
Reports two app directories that resolve to the same app label, either
because they share a directory name or because an `AppConfig.label` says so.

## Why is this bad?
Django refuses to start with `ImproperlyConfigured: Application labels aren't
unique`. Migration dependencies name apps by label, so two apps with one label
make every dependency on it ambiguous.

## Example
```text
shop/orders/migrations/__init__.py     -> label "orders"
legacy/orders/migrations/__init__.py   -> label "orders"
```

## How to fix
Give one of them a distinct `label` in its `apps.py` `AppConfig`, or exclude
the directory that is not a real app (a vendored copy, a test fixture) with
`exclude` in `[tool.migguard]`.
"#;

/// Two app directories share a label.
pub struct DuplicateAppLabel {
    pub label: String,
    pub first: String,
    pub second: String,
}

impl Violation for DuplicateAppLabel {
    fn rule(&self) -> Rule {
        Rule::DuplicateAppLabel
    }

    fn message(&self) -> String {
        format!(
            "app label `{}` is used by both `{}` and `{}`",
            self.label, self.first, self.second
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "set a distinct `label` on one AppConfig, or exclude the directory in [tool.migguard]"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "label": self.label, "directories": [self.first, self.second] })
    }
}
