use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# unread-installed-apps (MG006)

## What it does
Reports that migguard could not follow the project's `INSTALLED_APPS`
statically, and so counted every `migrations` package under the project as
an installed app's.

## Why is this bad?
Django loads the migrations of installed apps only. When the settings module
is not found (no `manage.py`, or one pointing at a module that is not in the
tree), or `INSTALLED_APPS` is built by code migguard does not run (a helper
function, a library's defaults module, a list read from the environment),
migguard cannot tell an installed app from a test fixture or a vendored
copy. It then checks them all: nothing is silently skipped, but a package
Django never loads may be reported, and an app installed from outside the
tree is not seen.

When the list names apps and also has entries that cannot be evaluated
(`[..., *env_apps]`, `[...] + get_extra_apps()`), the apps it names are
checked and the finding is an info: an app only those entries add is not.

## Example
```python
# settings.py
from oscar.defaults import *          # a library's module, not in the tree
INSTALLED_APPS = [...] + get_core_apps()
```

## How to fix
Point migguard at the settings module Django uses, or list the installed
apps, in `pyproject.toml`:

```toml
[tool.migguard]
settings = "config.settings.production"
# or, when INSTALLED_APPS is computed:
apps = ["shop.orders", "shop.catalogue", "accounts"]
```
"#;

/// `INSTALLED_APPS` could not be followed.
pub struct UnreadInstalledApps {
    /// Why, as a clause: "no settings module was found".
    pub reason: String,
    /// The settings module, when one was named.
    pub module: Option<String>,
    /// How many `migrations` packages were counted instead.
    pub packages: usize,
    /// Entries of a list that is otherwise read (`*env_apps`): the apps it
    /// names were checked, those these entries add were not.
    pub open: Vec<String>,
}

impl Violation for UnreadInstalledApps {
    fn rule(&self) -> Rule {
        Rule::UnreadInstalledApps
    }

    fn message(&self) -> String {
        if !self.open.is_empty() {
            return format!(
                "{}: checked the {} app{} with migrations it names; an app those entries add \
                 is not checked",
                self.reason,
                self.packages,
                if self.packages == 1 { "" } else { "s" }
            );
        }
        format!(
            "INSTALLED_APPS could not be followed ({}): checked all {} `migrations` package{} \
             under the project",
            self.reason,
            self.packages,
            if self.packages == 1 { "" } else { "s" }
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "set `settings = \"<dotted settings module>\"` or `apps = [\"app\", ...]` under \
             [tool.migguard] in pyproject.toml"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "reason": self.reason,
            "settings": self.module,
            "packages": self.packages,
            "open": self.open,
        })
    }
}
