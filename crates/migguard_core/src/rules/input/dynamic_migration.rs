use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# dynamic-migration (MG003)

## What it does
Reports a part of a migration that is computed at import time, so migguard
cannot read it without running Python: a `dependencies` list built by a
function, an `operations` list extended in a loop, an operation that is a
variable instead of a call.

## Why is this bad?
migguard reads migrations statically. What it cannot read, it does not guess:
the graph and the rules then see less than Django will, and a conflict or a
destructive operation could go unnoticed. Files written by `makemigrations`
never trigger this rule.

## Example
```python
class Migration(migrations.Migration):
    dependencies = build_dependencies()
    operations = [op for op in make_ops()]
```

## How to fix
Write `dependencies` and `operations` as literal lists of tuples and
operation calls, as `makemigrations` does. If the dynamic form is deliberate,
silence this rule for the line with `# migguard: ignore[dynamic-migration]`.
"#;

/// A part of the migration that only exists at runtime.
pub struct DynamicMigration {
    /// What could not be read: "`dependencies`", "an operation".
    pub what: String,
    pub found: String,
}

impl Violation for DynamicMigration {
    fn rule(&self) -> Rule {
        Rule::DynamicMigration
    }

    fn message(&self) -> String {
        format!(
            "{} is computed at runtime (`{}`); migguard cannot read it statically",
            self.what, self.found
        )
    }

    fn help(&self) -> Option<String> {
        Some("write it as a literal list, as makemigrations does".into())
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "what": self.what, "found": self.found })
    }
}
