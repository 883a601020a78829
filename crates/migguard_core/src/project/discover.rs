//! Finding a project's apps and migration modules the way Django's loader
//! would, from a file listing.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Settings;
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::model::MigrationKey;
use crate::model::Value;
use crate::parse::module_facts;
use crate::rules::input::duplicate_app_label::DuplicateAppLabel;
use crate::rules::input::invalid_migration::InvalidMigration;
use crate::rules::input::no_migrations_found::NoMigrationsFound;
use crate::rules::input::unread_installed_apps::UnreadInstalledApps;
use crate::source::ProjectSource;

use super::DjangoSettings;

/// A Django app with a migrations package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub label: String,
    /// The app's directory, project-relative (`""` for an app at the root).
    pub dir: String,
    /// The migrations package's directory, project-relative.
    pub migrations_dir: String,
    /// Dotted module of the migrations package: `blog.migrations`.
    pub migrations_package: String,
    /// The content of `max_migration.txt` in the migrations package, when
    /// the project keeps one (see `migguard lock`).
    pub max_migration: Option<String>,
    /// The app's package as `INSTALLED_APPS` names it (`baserow.core`),
    /// when it was found through an entry.
    pub module: Option<String>,
}

/// One migration module found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    pub key: MigrationKey,
    pub path: String,
    pub package: String,
}

#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub apps: Vec<App>,
    pub files: Vec<MigrationFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// The apps were guessed from the tree's `migrations` packages because
    /// the project's `INSTALLED_APPS` could not be followed: Django may load
    /// none of a given package.
    pub guessed: bool,
}

impl Discovery {
    pub fn app_labels(&self) -> BTreeSet<String> {
        self.apps.iter().map(|a| a.label.clone()).collect()
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, f)| f)
}

/// A directory of tests, examples or docs, whose apps a project installs
/// only in its test settings, if at all.
fn test_like(dir: &str) -> bool {
    dir.split('/').any(|part| {
        matches!(
            part,
            "tests" | "test" | "testing" | "testapp" | "testapps" | "examples" | "example" | "docs"
        )
    })
}

fn dotted(dir: &str) -> String {
    dir.replace('/', ".")
}

/// Django's conventions: an app's `migrations/` package has `__init__.py`;
/// its migration modules are the `.py` files directly inside whose names do
/// not start with `_` or `~`; the label is the app directory's name unless
/// `apps.py` sets `label`. `MIGRATION_MODULES` entries from the settings
/// point an app at another package.
pub fn discover(
    files: &[String],
    source: &dyn ProjectSource,
    settings: &Settings,
    django: &DjangoSettings,
) -> Discovery {
    let mut out = Discovery::default();
    let listed: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    let (installed, unread, open) = match installed_apps(settings, django, &listed) {
        Ok((installed, open)) if open.is_empty() => (Some(installed), None, open),
        // Entries that cannot be evaluated beside ones that can: the named
        // apps are installed; when none of them has migrations here, the
        // rest must be where they are, so every package counts.
        Ok((installed, open)) => {
            let has_migrations = installed.keys().any(|dir| {
                let init = if dir.is_empty() {
                    "migrations/__init__.py".to_owned()
                } else {
                    format!("{dir}/migrations/__init__.py")
                };
                listed.contains(init.as_str())
            });
            if has_migrations {
                (Some(installed), None, open)
            } else {
                let reason = format!(
                    "INSTALLED_APPS in `{}` is built partly by code migguard does not run ({}), \
                     and none of the apps it names has a `migrations` package in the tree",
                    django.module.as_deref().unwrap_or("the settings"),
                    quoted(&open)
                );
                (None, Some(reason), Vec::new())
            }
        }
        Err(reason) => (None, Some(reason), Vec::new()),
    };
    let roots = django.roots();
    let modules = migration_modules(settings, django);
    // Packages named by MIGRATION_MODULES, by the dotted name Django
    // imports (relative to manage.py's directory).
    let overrides: BTreeMap<&str, &str> = modules
        .iter()
        .filter_map(|(app, module)| Some((module.as_deref()?, app.as_str())))
        .collect();
    let mut by_label: BTreeMap<String, App> = BTreeMap::new();
    // Apps whose migrations MIGRATION_MODULES turns off (`{"cms": None}`).
    let mut disabled: Vec<String> = Vec::new();
    for path in files {
        if file_name(path) != "__init__.py" || settings.is_excluded(path) {
            continue;
        }
        let package_dir = parent(path);
        let package = dotted(package_dir);
        let override_app = roots
            .iter()
            .find_map(|root| overrides.get(dotted(strip_dir(package_dir, root)).as_str()));
        let (label, app_dir, module) = if let Some(app) = override_app {
            // The app's own directory: the installed one named like its
            // label, else the package's parent (`blog.db_migrations`).
            let app_dir = installed
                .as_ref()
                .and_then(|i| i.keys().find(|d| file_name(d) == *app).cloned())
                .unwrap_or_else(|| parent(package_dir).to_owned());
            let module = installed
                .as_ref()
                .and_then(|i| i.get(&app_dir))
                .map(|e| e.module.clone());
            ((*app).to_owned(), app_dir, module)
        } else if file_name(package_dir) == "migrations" {
            let app_dir = parent(package_dir).to_owned();
            let (named, module) = match &installed {
                Some(installed) => match installed.get(&app_dir) {
                    Some(entry) => (entry.named.as_ref(), Some(entry.module.clone())),
                    // Not in INSTALLED_APPS: Django never loads it.
                    None => continue,
                },
                None => (None, None),
            };
            let in_app = |file: &str| {
                if app_dir.is_empty() {
                    file.to_owned()
                } else {
                    format!("{app_dir}/{file}")
                }
            };
            // The module holding the named class, when it is a file of the
            // app; else `apps.py`, where Django looks by default.
            let (config_py, class) =
                match named.map(|n| (in_app(&format!("{}.py", n.module)), n.class.as_str())) {
                    Some((file, class)) if listed.contains(file.as_str()) => (file, Some(class)),
                    _ => (in_app("apps.py"), None),
                };
            let label = listed
                .contains(config_py.as_str())
                .then(|| source.read(&config_py).ok())
                .flatten()
                .and_then(|bytes| module_facts::app_config_label(&bytes, class))
                .unwrap_or_else(|| {
                    if app_dir.is_empty() {
                        source.root_name().unwrap_or_default()
                    } else {
                        file_name(&app_dir).to_owned()
                    }
                });
            if label.is_empty() {
                continue;
            }
            // MIGRATION_MODULES points this app elsewhere (or, with None,
            // nowhere): Django never reads its `migrations` package.
            if let Some(target) = modules.get(&label) {
                if target.is_none() && !disabled.contains(&label) {
                    disabled.push(label);
                }
                continue;
            }
            (label, app_dir, module)
        } else {
            continue;
        };
        let app = App {
            label: label.clone(),
            dir: app_dir,
            migrations_dir: package_dir.to_owned(),
            migrations_package: package,
            max_migration: None,
            module,
        };
        if let Some(first) = by_label.get(&label) {
            let mut diagnostic = Diagnostic::new(
                &DuplicateAppLabel {
                    label: label.clone(),
                    first: first.dir.clone(),
                    second: app.dir.clone(),
                },
                Location::file(path.clone()).in_app(&label),
            );
            if installed.is_none() {
                // Counted without INSTALLED_APPS: which one Django loads is
                // a guess, so is the clash (a test tree's copy of an app).
                diagnostic.severity = Severity::Warning;
                if test_like(&first.dir) && !test_like(&app.dir) {
                    by_label.insert(label, app);
                }
            }
            out.diagnostics.push(diagnostic);
            continue;
        }
        by_label.insert(label, app);
    }
    for app in by_label.values() {
        let prefix = format!("{}/", app.migrations_dir);
        for path in files {
            let Some(rest) = path.strip_prefix(&prefix) else {
                continue;
            };
            if rest.contains('/') {
                continue;
            }
            let Some(name) = rest.strip_suffix(".py") else {
                continue;
            };
            if name.is_empty() || name.starts_with('_') || name.starts_with('~') {
                continue;
            }
            if name.contains('.') {
                // pkgutil lists `0003.x.py` as module `0003.x`, which Django
                // then fails to import: its loader stops there.
                out.diagnostics.push(Diagnostic::new(
                    &InvalidMigration {
                        reason: format!(
                            "the module name `{name}` contains a dot, so Django cannot import it \
                             (ModuleNotFoundError); rename the file"
                        ),
                    },
                    Location::file(path.clone())
                        .in_migration(&app.label, name)
                        .at(1, 1, None),
                ));
                continue;
            }
            out.files.push(MigrationFile {
                key: MigrationKey::new(&app.label, name),
                path: path.clone(),
                package: app.migrations_package.clone(),
            });
        }
    }
    for app in by_label.values_mut() {
        let path = format!("{}/max_migration.txt", app.migrations_dir);
        if listed.contains(path.as_str()) {
            app.max_migration = source
                .read(&path)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned());
        }
    }
    out.apps = by_label.into_values().collect();
    // Without any settings (a reusable app's repository) every migrations
    // package is the right answer; with settings that could not be
    // followed it is a guess.
    out.guessed = installed.is_none()
        && !out.apps.is_empty()
        && (django.module.is_some() || django.manage_py.is_some());
    // Where a finding about the settings points: the settings file, else
    // manage.py, else the project itself.
    let settings_location = || {
        django
            .module_path
            .clone()
            .or_else(|| django.manage_py.clone())
            .map(Location::file)
            .unwrap_or_default()
    };
    if out.apps.is_empty() {
        let looked = match (&unread, &django.module) {
            (None, Some(module)) if !disabled.is_empty() => format!(
                "MIGRATION_MODULES in `{module}` turns off the migrations of {} (set to None, \
                 as test settings do); point `settings` at the settings the project migrates with",
                quoted(&disabled)
            ),
            (Some(reason), _) => format!("{reason}; no `migrations` package was found either"),
            (None, Some(module)) => format!(
                "none of the INSTALLED_APPS of `{module}` has a `migrations` package in the tree"
            ),
            (None, None) => "no `migrations` package in the tree".to_owned(),
        };
        out.diagnostics.push(Diagnostic::new(
            &NoMigrationsFound { looked },
            settings_location(),
        ));
    } else if !open.is_empty() {
        let mut diagnostic = Diagnostic::new(
            &UnreadInstalledApps {
                reason: format!(
                    "INSTALLED_APPS in `{}` also has entries migguard cannot evaluate ({})",
                    django.module.as_deref().unwrap_or("the settings"),
                    quoted(&open)
                ),
                module: django.module.clone(),
                packages: out.apps.len(),
                open: open.clone(),
            },
            settings_location(),
        );
        // What is read is what the settings name; only apps the other
        // entries add are missed, never reported falsely.
        diagnostic.severity = Severity::Info;
        out.diagnostics.push(diagnostic);
    } else if let (Some(reason), true) = (
        unread,
        // No settings at all (a reusable app's repository): every
        // migrations package is the right answer, nothing to report.
        django.module.is_some() || django.manage_py.is_some(),
    ) {
        out.diagnostics.push(Diagnostic::new(
            &UnreadInstalledApps {
                reason,
                module: django.module.clone(),
                packages: out.apps.len(),
                open: Vec::new(),
            },
            settings_location(),
        ));
    }
    out
}

fn strip_dir<'a>(path: &'a str, dir: &str) -> &'a str {
    if dir.is_empty() {
        return path;
    }
    path.strip_prefix(dir)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(path)
}

/// `MIGRATION_MODULES`: label -> dotted package, `None` for an app Django
/// is told has no migrations. The settings module's dict, with
/// `[tool.migguard] migration-modules` entries taking precedence.
fn migration_modules(
    settings: &Settings,
    django: &DjangoSettings,
) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    if let Some(Value::Dict(entries)) = django.values.get("MIGRATION_MODULES") {
        for (app, module) in entries {
            let Value::Str(app) = app else { continue };
            match module {
                Value::Str(module) => {
                    out.insert(app.clone(), Some(module.clone()));
                }
                Value::None => {
                    out.insert(app.clone(), None);
                }
                _ => {}
            }
        }
    }
    for (app, module) in &settings.options.migration_modules {
        out.insert(app.clone(), Some(module.clone()));
    }
    out
}

/// The directories (project-relative) of the apps a literal
/// The `AppConfig` class an `INSTALLED_APPS` entry names, in a module of
/// the app's package: `blog.apps.BlogConfig` -> (`apps`, `BlogConfig`),
/// `blog.config.BlogAppConfig` -> (`config`, `BlogAppConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct NamedConfig {
    module: String,
    class: String,
}

/// `INSTALLED_APPS` names, each with the `AppConfig` class the entry names
/// when it names one: `[tool.migguard] apps`, else the settings' list when
/// it was read and is literal. Otherwise why not, as a clause (then every
/// migrations package counts). Entries are modules (`blog`, `apps.blog`) or
/// AppConfig paths.
/// The second part of the answer lists the entries that cannot be evaluated
/// (`*env_apps`, `get_core_apps()`), as written.
type InstalledApps = (BTreeMap<String, InstalledDir>, Vec<String>);

/// A directory an `INSTALLED_APPS` entry may name as the app's package.
#[derive(Debug, Clone, Default)]
struct InstalledDir {
    /// The `AppConfig` the entry names in it, if any.
    named: Option<NamedConfig>,
    /// The directory as a dotted module under the import root it was
    /// found in.
    module: String,
}

fn installed_apps(
    settings: &Settings,
    django: &DjangoSettings,
    listed: &BTreeSet<&str>,
) -> Result<InstalledApps, String> {
    let configured;
    let entries: &[Value] = match &settings.options.apps {
        Some(apps) => {
            configured = apps.iter().cloned().map(Value::Str).collect::<Vec<_>>();
            &configured
        }
        None => {
            let Some(module) = &django.module else {
                return Err(match &django.manage_py {
                    Some(path) => format!("`{path}` does not name a settings module"),
                    None => "no manage.py or `settings` option names the settings module".into(),
                });
            };
            if django.module_path.is_none() {
                return Err(format!(
                    "the settings module `{module}` is not a file of the project"
                ));
            }
            match django.values.get("INSTALLED_APPS") {
                None => {
                    return Err(format!(
                        "`{module}` does not assign INSTALLED_APPS where migguard can see it"
                    ))
                }
                Some(value) => match value.as_seq() {
                    Some(entries) => entries,
                    None => {
                        return Err(format!(
                            "INSTALLED_APPS in `{module}` is computed by code migguard does not run"
                        ))
                    }
                },
            }
        }
    };
    let roots = django.roots();
    let join = |root: &str, rel: &str| {
        if root.is_empty() {
            rel.to_owned()
        } else {
            format!("{root}/{rel}")
        }
    };
    let mut out: BTreeMap<String, InstalledDir> = BTreeMap::new();
    let mut open = Vec::new();
    for entry in entries {
        let dotted = match entry {
            Value::Str(dotted) => dotted,
            Value::Expr(text) => {
                open.push(text.clone());
                continue;
            }
            Value::Ref(r) => {
                open.push(r.written.clone());
                continue;
            }
            Value::Call(call) => {
                open.push(format!("{}(...)", call.func.written));
                continue;
            }
            _ => {
                return Err(format!(
                    "INSTALLED_APPS in `{}` has an entry that is not a string",
                    django.module.as_deref().unwrap_or("the settings")
                ))
            }
        };
        // Any module prefix of the entry may be the app's package: `blog`,
        // `blog.apps.BlogConfig`, `blog.config.BlogAppConfig`. A component
        // starting with an upper-case letter is a class, not a module.
        let parts: Vec<&str> = dotted.split('.').collect();
        let class = parts
            .last()
            .filter(|p| p.starts_with(|c: char| c.is_ascii_uppercase()))
            .copied();
        let modules = &parts[..parts.len() - usize::from(class.is_some())];
        // The first import root that has the entry's package (`src/` for
        // `oscar.apps.catalogue` when manage.py is in `sandbox/`).
        let whole = modules.join("/");
        let base = roots
            .iter()
            .find(|root| {
                let dir = join(root, &whole);
                has_dir(listed, &dir) || listed.contains(format!("{dir}.py").as_str())
            })
            .unwrap_or(&roots[0]);
        for end in 1..=modules.len() {
            let dir = join(base, &modules[..end].join("/"));
            // `blog.apps.BlogConfig` names the class of `blog/apps.py`,
            // `blog.config.BlogAppConfig` that of `blog/config.py`.
            let named = match (class, modules.get(end)) {
                (Some(class), Some(module)) if end + 1 == modules.len() => Some(NamedConfig {
                    module: (*module).to_owned(),
                    class: class.to_owned(),
                }),
                _ => None,
            };
            let slot = out.entry(dir).or_insert_with(|| InstalledDir {
                named: None,
                module: modules[..end].join("."),
            });
            if named.is_some() {
                slot.named = named;
            }
        }
    }
    Ok((out, open))
}

/// True when some listed file is under `dir`.
fn has_dir(listed: &BTreeSet<&str>, dir: &str) -> bool {
    let prefix = format!("{dir}/");
    listed
        .range(prefix.as_str()..)
        .next()
        .is_some_and(|f| f.starts_with(&prefix))
}

/// `a`, `b`: entries as written, quoted for a message.
fn quoted(entries: &[String]) -> String {
    entries
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
