use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# no-migrations-found (MG007)

## What it does
Reports a project in which migguard found no app with a `migrations`
package, so that nothing was checked.

## Why is this bad?
A check that read nothing must not look like a check that passed. The usual
causes: migguard runs in the wrong directory (the Django project lives in a
subdirectory of the repository), the installed apps live outside the tree,
or `MIGRATION_MODULES` points every app at a package that is not there.

## Example
```text
repo/
  pyproject.toml
  backend/manage.py        <- the project; migguard ran at repo/
  backend/shop/migrations/
```

## How to fix
Tell migguard where the project is, in the repository's `pyproject.toml`:

```toml
[tool.migguard]
root = "backend"                 # the directory holding manage.py
settings = "config.settings"     # when manage.py does not say
```

A repository that has no Django migrations yet can ignore the rule
(`ignore = ["no-migrations-found"]`) until it does.
"#;

/// Nothing was read.
pub struct NoMigrationsFound {
    /// What was looked at, as a clause.
    pub looked: String,
}

impl Violation for NoMigrationsFound {
    fn rule(&self) -> Rule {
        Rule::NoMigrationsFound
    }

    fn message(&self) -> String {
        format!(
            "no Django app with a migrations package was found ({}): nothing was checked",
            self.looked
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "set `root`, `settings` or `apps` under [tool.migguard] in pyproject.toml, or run \
             migguard in the directory that holds manage.py"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "looked": self.looked })
    }
}
