use crate::diagnostic::{Diagnostic, Location, Violation};
use crate::model::Migration;
use crate::rules::Rule;

pub const DOC: &str = r#"# unused-suppression (MG005)

## What it does
Reports a `# migguard: ignore[rule]` comment, rule by rule, when that rule
reported nothing on the comment's line, including names that are no rule
at all. It compares the comment with the findings of every rule before
suppressions are applied, so a rule turned off in the configuration makes
its comments unused too.

## Why is this bad?
A suppression outlives the problem it hid: after the line changes, the
comment would silently hide the next, different finding of that rule. A
misspelt rule name suppresses nothing while looking as if it does.

## Example
```python
operations = [
    migrations.AddField(  # migguard: ignore[remove-field]
        model_name="product", name="stock", field=models.IntegerField(default=0),
    ),
]
```

## How to fix
Delete the comment, or the rule's name from it. When the finding moved,
put the comment on the line the finding points at: the first line of the
operation.
"#;

/// A suppression that suppresses nothing.
pub struct UnusedSuppression {
    /// The rule as written in the comment.
    pub rule: String,
    /// False when the text names no rule.
    pub known: bool,
    pub line: u32,
}

impl Violation for UnusedSuppression {
    fn rule(&self) -> Rule {
        Rule::UnusedSuppression
    }

    fn message(&self) -> String {
        if self.known {
            format!(
                "`# migguard: ignore[{}]` suppresses nothing on line {}",
                self.rule, self.line
            )
        } else {
            format!("`# migguard: ignore[{}]` names no known rule", self.rule)
        }
    }

    fn help(&self) -> Option<String> {
        Some(if self.known {
            "remove it, or move it to the line the finding points at".into()
        } else {
            "use a rule name or code: `migguard rule` lists them".into()
        })
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "rule": self.rule, "known": self.known })
    }
}

/// `diagnostics`: every finding on the migration before suppressions were
/// applied.
pub fn check(migration: &Migration, diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for suppression in &migration.suppressions {
        for written in &suppression.rules {
            let rule = Rule::lookup(written);
            if rule == Some(Rule::UnusedSuppression) {
                continue;
            }
            let used = rule.is_some_and(|rule| {
                diagnostics.iter().any(|d| {
                    d.rule == rule
                        && d.location.line == Some(suppression.line)
                        && d.location.path.as_deref() == Some(migration.path.as_str())
                })
            });
            if !used {
                out.push(Diagnostic::new(
                    &UnusedSuppression {
                        rule: written.clone(),
                        known: rule.is_some(),
                        line: suppression.line,
                    },
                    Location::file(migration.path.clone())
                        .in_migration(&migration.key.app, &migration.key.name)
                        .at(suppression.line, 1, None),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive;
    use crate::rules::destructive::testing::{lint_errors_in, lint_ok_in, migration, project};

    fn run(p: &crate::project::Project, m: &Migration) -> Vec<Diagnostic> {
        check(m, &destructive::check(p, m))
    }

    #[test]
    fn fires_on_unused_and_unknown_names() {
        let p = project(&[(
            "0002_change",
            migration(
                r#"migrations.RemoveField(model_name="product", name="price"),  # migguard: ignore[remove-field, delete-model, no-such-rule]
migrations.RunPython(forwards, backwards),  # migguard: ignore[MG421]"#,
            ),
        )]);
        insta::assert_snapshot!(lint_errors_in(&p, "0002_change", run));
    }

    #[test]
    fn used_suppressions_are_fine() {
        let p = project(&[(
            "0002_change",
            migration(
                r#"migrations.RemoveField(model_name="product", name="price"),  # migguard: ignore[MG401]
migrations.RunPython(forwards),  # migguard: ignore[irreversible-run-python, unused-suppression]"#,
            ),
        )]);
        lint_ok_in(&p, "0002_change", run);
    }
}
