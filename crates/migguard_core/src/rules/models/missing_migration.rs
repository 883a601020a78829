use crate::autodetect::Change;
use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# missing-migration (MG201)

## What it does
Compares each app's models, read statically from `models.py` (or a
`models/` package, with abstract bases and constants from other apps of the
project, and the models of shared modules it imports that set
`Meta.app_label`), with the state its migrations build, the way
`makemigrations` does, and reports an app whose models have changes no migration records.
One diagnostic per app, at the first change in `models.py`; `details` lists
the operations `makemigrations` would write (`type`, `model_name`, `name`).

Fields are compared as Django's `deconstruct()` gives them, so what
`makemigrations` ignores is ignored here too: a default written explicitly
(`SlugField(max_length=50)`), an edited method or docstring, the order of
fields. Renames are reported as a removal and an addition, as
`makemigrations` without a terminal writes them. Whatever cannot be known
without running Python (a custom field class with its own `__init__`, a
computed default, a base class from a third-party package) is left out and
reported by `unresolved-model` instead. A difference that rests on such a
value (a constant of another library, `settings.LANGUAGES`, a call of the
project's own code, `%(class)s` in a name), and a removal in an app whose
models were not all read, is reported at info level with
`details.certain = false`: a false error would block every commit. At module level, what runs is read:
an `if TYPE_CHECKING:` block never does, the `try` body of a
`try`/`except ImportError` does (not its fallback); a class or constant
defined under any other condition is left out the same way.

## Why is this bad?
A model change without its migration is a database that does not match the
code: the next deployment queries a column that does not exist, or the
migration gets generated later on another branch, mixed with unrelated
changes, or twice on two branches that then conflict.

## Example
```python
class Post(models.Model):
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=200, blank=True)  # no migration adds it
```

For an exact answer from the project's own code, `migguard check --django`
runs `python manage.py makemigrations --check --dry-run` with the configured
interpreter and reports Django's verdict as this rule
(`details.verdict` is `"makemigrations"` then, `"static"` otherwise).

## How to fix
Run `python manage.py makemigrations <app>` and commit the migration with
the model change.
"#;

/// An app whose models differ from what its migrations build.
pub struct MissingMigration {
    pub app: String,
    /// The operations `makemigrations` would write, in its order.
    pub changes: Vec<Change>,
    /// The verdict is Django's own (`migguard check --django`), not the
    /// static autodetector's.
    pub by_django: bool,
    /// Every change rests on values migguard read for certain. When not
    /// (`changes[..].uncertain` says why), the finding is an info.
    pub certain: bool,
}

impl Violation for MissingMigration {
    fn rule(&self) -> Rule {
        Rule::MissingMigration
    }

    fn message(&self) -> String {
        let first = self
            .changes
            .first()
            .map_or_else(String::new, |c| c.detail.clone());
        let more = self.changes.len().saturating_sub(1);
        let rest = match more {
            0 => String::new(),
            1 => " (and 1 more change)".to_owned(),
            n => format!(" (and {n} more changes)"),
        };
        let by = if self.by_django {
            " (Django's makemigrations)"
        } else {
            ""
        };
        if !self.certain {
            let why = self
                .changes
                .first()
                .and_then(|c| c.uncertain.as_deref())
                .unwrap_or_default();
            return format!(
                "app `{}` may have model changes without a migration, not certain ({why}): {first}{rest}",
                self.app
            );
        }
        format!(
            "app `{}` has model changes without a migration{by}: {first}{rest}",
            self.app
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "run `python manage.py makemigrations {}`",
            self.app
        ))
    }

    fn details(&self) -> serde_json::Value {
        let operations: Vec<serde_json::Value> = self
            .changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "type": c.kind,
                    "model_name": c.model_name,
                    "name": c.name,
                })
            })
            .collect();
        serde_json::json!({
            "operations": operations,
            "verdict": if self.by_django { "makemigrations" } else { "static" },
            "certain": self.certain,
            // Why each change may not be real, beside `operations` (whose
            // keys are a contract).
            "uncertain": self.changes.iter().filter_map(|c| c.uncertain.as_deref()).collect::<Vec<_>>(),
        })
    }
}
