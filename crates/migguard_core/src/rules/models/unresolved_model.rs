use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# unresolved-model (MG202)

## What it does
Reports a part of a model that migguard cannot know without running
Python, and therefore leaves out when it looks for missing migrations
(`missing-migration`): a field of a custom class that defines its own
`__init__` or `deconstruct()`, a field class or base class from a
third-party package, a default or choices computed by a function, a class
body with `if`/`for` statements, a model or constant defined under a
module-level `if` whose condition needs Python to evaluate, a `Meta` option
built at import time, a model changed with `add_to_class()`, the definition
of a `CompositePrimaryKey` or `ForeignObject`, or whether a third-party field
written with `**options` is the primary key (then the automatic `id`).

## Why is this bad?
It is not wrong in itself. It means that a change to that part of the
model would go unnoticed by `missing-migration`: migguard never guesses a
value and never claims a missing migration it cannot prove.

## Example
```python
from model_utils.models import TimeStampedModel  # a third-party base

class Post(TimeStampedModel):
    slug = models.SlugField(default=make_slug())  # computed at import time
```

## How to fix
Nothing is required. To have more compared:

- a base class or field class from a library is read from the project's
  virtualenv (`.venv`, `venv` or `env` in the project, else `$VIRTUAL_ENV`):
  create it, or point `site-packages` at it in `[tool.migguard]`;
- a project field class whose `__init__` keeps Django's `deconstruct()`
  can be declared: `field-classes = { "shop.fields.MoneyField" =
  "django.db.models.DecimalField" }`;
- write a value as a literal or a constant where it is practical
  (`default=make_slug` passes the function itself, which Django and
  migguard both read as a reference).

Run `makemigrations --check` in CI for what stays dynamic. Silence the rule
in the configuration if the notes are not wanted.
"#;

/// Something of a model that cannot be known statically.
pub struct UnresolvedModel {
    pub app: String,
    pub model: Option<String>,
    pub item: Option<String>,
    pub reason: String,
}

impl Violation for UnresolvedModel {
    fn rule(&self) -> Rule {
        Rule::UnresolvedModel
    }

    fn message(&self) -> String {
        let subject = match (&self.model, &self.item) {
            (Some(model), Some(item)) => format!("`{}.{model}.{item}`", self.app),
            (Some(model), None) => format!("`{}.{model}`", self.app),
            _ => format!("app `{}`", self.app),
        };
        format!(
            "{subject} is not compared with the migrations: {}",
            self.reason
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "migguard cannot know this statically; run `makemigrations --check` to cover it"
                .to_owned(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model": self.model,
            "item": self.item,
            "reason": self.reason,
        })
    }
}
