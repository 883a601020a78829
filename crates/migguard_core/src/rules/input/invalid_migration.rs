use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# invalid-migration (MG002)

## What it does
Reports a module in a `migrations` package that Django cannot load as a
migration: it has no `Migration` class, or its bytes are not text in the
encoding Python would read it with (UTF-8 unless a PEP 263 `coding:` line says
otherwise).

## Why is this bad?
Django's loader raises `BadMigrationError` for a module without a `Migration`
class, and Python refuses to import a file that is not valid in its declared
encoding. Either way every management command that loads migrations fails.

## Example
```python
# blog/migrations/0003_helpers.py: a helper module placed in migrations/
def slugify_all(apps, schema_editor):
    ...
```

## How to fix
Give the module a `class Migration(migrations.Migration)`, or move helper code
out of the `migrations` package, or rename it with a leading underscore
(`_helpers.py`), which Django's loader skips. Save the file as UTF-8.
"#;

/// A migration module Django cannot load.
pub struct InvalidMigration {
    pub reason: String,
}

impl Violation for InvalidMigration {
    fn rule(&self) -> Rule {
        Rule::InvalidMigration
    }

    fn message(&self) -> String {
        self.reason.clone()
    }

    fn help(&self) -> Option<String> {
        Some("a module in migrations/ must define `class Migration`; helper modules belong elsewhere or start with `_`".into())
    }
}
