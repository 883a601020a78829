//! `[tool.migguard]` in `pyproject.toml`. Every key is optional; a missing
//! file means the defaults. Unknown keys and bad values are errors that
//! name the key, never silently ignored.

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::ConfigError;
use crate::rules::Rule;

/// The options as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    /// Rules to run (names or codes); default: all.
    pub select: Option<Vec<String>>,
    /// Rules never to run.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Severity per rule: `{ auto-named-migration = "error" }`.
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// Rules to ignore per path glob: `{ "legacy/**" = ["remove-field"] }`.
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    /// Path globs (relative to the project root) where no app is looked for.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The branch others build on: `origin/main`. Default: the remote's
    /// default branch (`origin/HEAD`).
    pub upstream: Option<String>,
    /// The Django project's directory, relative to the repository root.
    pub root: Option<String>,
    /// `manage.py`, relative to the project root.
    pub manage_py: Option<String>,
    /// Dotted settings module: `config.settings`.
    pub settings: Option<String>,
    /// Directories (relative to the project root) Python imports the
    /// project's packages from, besides `manage.py`'s: `["src"]`. A `src/`
    /// holding packages is one without saying.
    #[serde(default)]
    pub python_path: Vec<String>,
    /// Where the project's libraries are installed (a virtualenv's
    /// `site-packages`), read like the project's own modules so that a
    /// model built on a library's class is compared. Without it, the
    /// project's `.venv`, `venv` or `env`, else the virtualenv of
    /// `$VIRTUAL_ENV`, is used when there is one.
    #[serde(default)]
    pub site_packages: Vec<String>,
    /// The project's own field classes whose `deconstruct()` is a Django
    /// class's, by the path the migration writer gives them:
    /// `{ "shop.fields.MoneyField" = "django.db.models.DecimalField" }`.
    /// Such a field is compared like the Django class, not left out.
    #[serde(default)]
    pub field_classes: BTreeMap<String, String>,
    /// The installed apps, as `INSTALLED_APPS` entries (`shop.orders`,
    /// `accounts.apps.AccountsConfig`), for a project whose settings compute
    /// them: replaces what is read from the settings module.
    pub apps: Option<Vec<String>>,
    /// `AUTH_USER_MODEL`, when the settings cannot be read statically.
    pub auth_user_model: Option<String>,
    /// Other swappable settings: `{ SOCIAL_ACCOUNT_MODEL = "social.Account" }`.
    #[serde(default)]
    pub swappable: BTreeMap<String, String>,
    /// Django's MIGRATION_MODULES: `{ blog = "blog.db_migrations" }`.
    #[serde(default)]
    pub migration_modules: BTreeMap<String, String>,
    /// Database URL (`sqlite:///db.sqlite3`, `postgres://...`, `mysql://...`).
    pub database: Option<String>,
    /// Per-branch database snapshots on checkout.
    pub snapshots: Option<bool>,
    /// Python interpreter for the commands that run Django.
    pub python: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<Tool>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    migguard: Option<toml::Value>,
}

impl Options {
    /// Read `[tool.migguard]` from a pyproject.toml text. A file without the
    /// table gives the defaults.
    pub fn from_pyproject(text: &str, path: &str) -> Result<Options, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let project: PyProject = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let Some(table) = project.tool.and_then(|t| t.migguard) else {
            return Ok(Options::default());
        };
        Options::deserialize(table).map_err(|e| invalid(format!("[tool.migguard]: {e}")))
    }

    /// Resolve names, globs and severities, rejecting what is unknown.
    pub fn resolve(&self, path: &str) -> Result<Settings, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let rules = |key: &str, names: &[String]| -> Result<Vec<Rule>, ConfigError> {
            names
                .iter()
                .map(|n| {
                    Rule::lookup(n).ok_or_else(|| invalid(format!("`{key}`: unknown rule `{n}`")))
                })
                .collect()
        };
        let selected = match &self.select {
            Some(names) => rules("select", names)?,
            None => Rule::ALL.to_vec(),
        };
        let ignored = rules("ignore", &self.ignore)?;
        let enabled = selected
            .into_iter()
            .filter(|r| !ignored.contains(r))
            .collect();
        let mut severity = BTreeMap::new();
        for (name, level) in &self.severity {
            let rule = Rule::lookup(name)
                .ok_or_else(|| invalid(format!("`severity`: unknown rule `{name}`")))?;
            let level = Severity::parse(level).ok_or_else(|| {
                invalid(format!(
                    "`severity.{name}`: `{level}` is not one of error, warning, info"
                ))
            })?;
            severity.insert(rule, level);
        }
        let mut per_file = Vec::new();
        for (glob, names) in &self.per_file_ignores {
            let matcher = Glob::new(glob)
                .map_err(|e| invalid(format!("`per-file-ignores`: {e}")))?
                .compile_matcher();
            per_file.push((matcher, rules("per-file-ignores", names)?));
        }
        let mut exclude = GlobSetBuilder::new();
        for glob in &self.exclude {
            exclude.add(Glob::new(glob).map_err(|e| invalid(format!("`exclude`: {e}")))?);
        }
        let exclude = exclude
            .build()
            .map_err(|e| invalid(format!("`exclude`: {e}")))?;
        if let Some(model) = &self.auth_user_model {
            if model.split('.').count() != 2 {
                return Err(invalid(format!(
                    "`auth-user-model`: `{model}` is not of the form `app_label.ModelName`"
                )));
            }
        }
        for (class, django) in &self.field_classes {
            if crate::models::fields::FieldClass::known(django).is_none() {
                return Err(invalid(format!(
                    "`field-classes.\"{class}\"`: `{django}` is not a Django field class migguard \
                     knows (write it as `django.db.models.CharField`)"
                )));
            }
        }
        Ok(Settings {
            options: self.clone(),
            enabled,
            severity,
            per_file,
            exclude,
        })
    }
}

/// Options resolved for use.
#[derive(Debug, Clone)]
pub struct Settings {
    pub options: Options,
    enabled: Vec<Rule>,
    severity: BTreeMap<Rule, Severity>,
    per_file: Vec<(globset::GlobMatcher, Vec<Rule>)>,
    exclude: GlobSet,
}

impl Default for Settings {
    fn default() -> Self {
        Options::default()
            .resolve("<defaults>")
            .unwrap_or_else(|_| unreachable!("the default options are valid"))
    }
}

impl Settings {
    pub fn is_enabled(&self, rule: Rule) -> bool {
        self.enabled.contains(&rule)
    }

    pub fn is_excluded(&self, path: &str) -> bool {
        self.exclude.is_match(path)
    }

    /// Drop what the configuration turns off and apply severity overrides.
    pub fn apply(&self, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        diagnostics
            .into_iter()
            .filter(|d| self.is_enabled(d.rule))
            .filter(|d| {
                let Some(path) = &d.location.path else {
                    return true;
                };
                !self
                    .per_file
                    .iter()
                    .any(|(glob, rules)| glob.is_match(path) && rules.contains(&d.rule))
            })
            .map(|mut d| {
                if let Some(level) = self.severity.get(&d.rule) {
                    d.severity = *level;
                }
                d
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_table() {
        let options = Options::from_pyproject("[project]\nname = 'x'\n", "pyproject.toml").unwrap();
        assert!(options
            .resolve("pyproject.toml")
            .unwrap()
            .is_enabled(Rule::ConflictingMigrations));
    }

    #[test]
    fn unknown_keys_and_rules_are_named() {
        let err = Options::from_pyproject(
            "[tool.migguard]\nupstrem = 'origin/main'\n",
            "pyproject.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("upstrem"), "{err}");
        let options = Options::from_pyproject(
            "[tool.migguard]\nignore = ['no-such-rule']\n",
            "pyproject.toml",
        )
        .unwrap();
        let err = options.resolve("pyproject.toml").unwrap_err();
        assert!(err.to_string().contains("no-such-rule"), "{err}");
        let options =
            Options::from_pyproject("[tool.migguard.severity]\nsyntax-error = 'fatal'\n", "p")
                .unwrap();
        assert!(options
            .resolve("p")
            .unwrap_err()
            .to_string()
            .contains("fatal"));
    }

    #[test]
    fn ignores_and_severities() {
        let options = Options::from_pyproject(
            "[tool.migguard]\nignore = ['MG504']\n[tool.migguard.severity]\nconflicting-migrations = 'warning'\n",
            "p",
        )
        .unwrap();
        let settings = options.resolve("p").unwrap();
        assert!(!settings.is_enabled(Rule::AutoNamedMigration));
        assert!(settings.is_enabled(Rule::ConflictingMigrations));
    }
}
