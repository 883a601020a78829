//! Which database a project uses, in this order:
//!
//! 1. the `DATABASE_URL` environment variable;
//! 2. `[tool.migguard] database`;
//! 3. `DATABASES["default"]` of the Django settings, read statically: a dict
//!    literal (`ENGINE`, `NAME`, `USER`, `PASSWORD`, `HOST`, `PORT`), with
//!    `BASE_DIR / "db.sqlite3"`, `os.path.join(...)`, `os.environ[...]`,
//!    `os.environ.get` / `os.getenv` / django-environ `env(...)` resolved
//!    through the process environment, or a whole entry from
//!    `dj_database_url.config()` / `.parse()` / `env.db()`; values wrapped
//!    in `int(...)` / `str(...)`; the entry set by `DATABASES["default"] =
//!    {...}` (and its keys by `DATABASES["default"]["NAME"] = ...`) or named
//!    by a settings name bound to a dict (`{"default": DEFAULT_DB}`), both
//!    followed when the settings are read (migguard_core);
//! 4. with no `DATABASES` at all, `db.sqlite3` beside `manage.py`.
//!
//! Relative SQLite paths are made absolute: against the project root for
//! `[tool.migguard] database`, against the directory of `manage.py` (where
//! Django runs) otherwise.

mod expr;

use std::path::{Path, PathBuf};

use migguard_core::project::DjangoSettings;

use crate::url::{Backend, DatabaseUrl, Password, ServerAddress, UrlError};
use expr::{Ctx, Node, Val};

/// The database a project uses, and how migguard found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub url: DatabaseUrl,
    /// For messages: `DATABASES['default'] in config/settings.py`.
    pub how: String,
}

/// Why the database could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    #[error("the DATABASE_URL environment variable is not usable: {0}")]
    EnvUrl(UrlError),
    #[error("`[tool.migguard] database` is not usable: {0}")]
    ConfigUrl(UrlError),
    #[error("cannot tell which database DATABASES['default'] in {settings} uses: {reason}; set DATABASE_URL or `[tool.migguard] database`")]
    Unresolved { settings: String, reason: String },
    #[error("cannot tell which database the project uses: no DATABASE_URL, no `[tool.migguard] database`, and neither Django settings with DATABASES nor manage.py were found")]
    NotFound,
}

/// [`locate_with_env`] with the real process environment.
pub fn locate(
    project_root: &Path,
    configured: Option<&str>,
    settings: &DjangoSettings,
) -> Result<Located, LocateError> {
    let env = |name: &str| std::env::var(name).ok();
    locate_with_env(project_root, configured, settings, &env)
}

/// The directory `manage.py` runs in, where Django resolves relative
/// paths: `manage.py`'s own, else the project root.
fn manage_dir(project_root: &Path, settings: &DjangoSettings) -> std::path::PathBuf {
    settings
        .manage_py
        .as_deref()
        .and_then(|manage| Path::new(manage).parent())
        .map_or_else(|| project_root.to_owned(), |dir| project_root.join(dir))
}

/// Find the project's database. `configured` is `[tool.migguard] database`;
/// `env` looks up environment variables.
pub fn locate_with_env(
    project_root: &Path,
    configured: Option<&str>,
    settings: &DjangoSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Located, LocateError> {
    let manage_dir = manage_dir(project_root, settings);
    if let Some(url) = env("DATABASE_URL").filter(|u| !u.trim().is_empty()) {
        let url = DatabaseUrl::parse(&url).map_err(LocateError::EnvUrl)?;
        return Ok(Located {
            url: url.resolved(&manage_dir),
            how: "the DATABASE_URL environment variable".to_owned(),
        });
    }
    if let Some(url) = configured.filter(|u| !u.trim().is_empty()) {
        let url = DatabaseUrl::parse(url).map_err(LocateError::ConfigUrl)?;
        return Ok(Located {
            url: url.resolved(project_root),
            how: "`[tool.migguard] database`".to_owned(),
        });
    }
    settings_database_with_env(project_root, settings, env)
}

/// The database Django's settings themselves use (steps 3 and 4 of the
/// module documentation, ignoring `DATABASE_URL` and `[tool.migguard]
/// database` as locations), with `env` as the environment `manage.py` runs
/// in: settings that read `DATABASE_URL` see it there.
pub fn settings_database_with_env(
    project_root: &Path,
    settings: &DjangoSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Located, LocateError> {
    let manage_dir = manage_dir(project_root, settings);
    if let Some(databases) = settings.values.get("DATABASES") {
        let where_ = settings_file(project_root, &manage_dir, settings);
        let unresolved = |reason: String| LocateError::Unresolved {
            settings: where_.clone(),
            reason,
        };
        let ctx = Ctx {
            env,
            base_dir: manage_dir.clone(),
            settings: &settings.values,
        };
        let url = from_databases(&ctx, &Node::from_value(databases)).map_err(unresolved)?;
        return Ok(Located {
            url: url.resolved(&manage_dir),
            how: format!("DATABASES['default'] in {where_}"),
        });
    }
    match &settings.manage_py {
        Some(manage) => Ok(Located {
            url: DatabaseUrl::Sqlite(manage_dir.join("db.sqlite3")),
            how: format!(
                "db.sqlite3 beside {manage} (the settings define no DATABASES migguard can read)"
            ),
        }),
        None => Err(LocateError::NotFound),
    }
}

/// `config/settings.py` (project-relative) for the settings module, as far
/// as it can be told; else the module name.
fn settings_file(root: &Path, manage_dir: &Path, settings: &DjangoSettings) -> String {
    let Some(module) = &settings.module else {
        return "the settings".to_owned();
    };
    let rel = module.replace('.', "/");
    for candidate in [format!("{rel}.py"), format!("{rel}/__init__.py")] {
        let full = manage_dir.join(&candidate);
        if full.is_file() {
            return full
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or(candidate);
        }
    }
    module.clone()
}

fn from_databases(ctx: &Ctx<'_>, databases: &Node) -> Result<DatabaseUrl, String> {
    let Node::Dict(_) = databases else {
        return Err(match ctx.eval(databases) {
            Err(reason) => format!("DATABASES: {reason}"),
            Ok(_) => "DATABASES is not a dict".to_owned(),
        });
    };
    let default = databases
        .dict_get("default")
        .ok_or_else(|| "DATABASES has no \"default\" entry".to_owned())?;
    if let Node::Dict(_) = default {
        return from_entry(ctx, default);
    }
    match ctx.eval(default) {
        Ok(Val::DbUrl(url) | Val::Str(url)) => DatabaseUrl::parse(&url).map_err(|e| e.to_string()),
        Ok(_) => Err("DATABASES[\"default\"] is not a dict".to_owned()),
        Err(reason) => Err(reason.to_string()),
    }
}

/// A `{"ENGINE": ..., "NAME": ...}` entry.
fn from_entry(ctx: &Ctx<'_>, entry: &Node) -> Result<DatabaseUrl, String> {
    let field = |key: &str| -> Result<Option<String>, String> {
        let Some(node) = entry.dict_get(key) else {
            return Ok(None);
        };
        match ctx.eval(node) {
            Ok(v) => Ok(v.into_string()),
            Err(reason) => {
                let reason = if key == "PASSWORD" {
                    reason.without_source()
                } else {
                    reason
                };
                Err(format!("{key}: {reason}"))
            }
        }
    };
    let engine = field("ENGINE")?.ok_or_else(|| "the entry has no ENGINE".to_owned())?;
    let backend = engine_backend(&engine)
        .ok_or_else(|| format!("ENGINE `{engine}` is not SQLite, PostgreSQL or MySQL/MariaDB"))?;
    let name = field("NAME")?.unwrap_or_default();
    if backend == Backend::Sqlite {
        if name.is_empty() || name == ":memory:" || name.starts_with("file::memory:") {
            return Err(UrlError::InMemory.to_string());
        }
        return Ok(DatabaseUrl::Sqlite(PathBuf::from(name)));
    }
    if name.is_empty() {
        return Err("NAME is empty".to_owned());
    }
    let host = field("HOST")?.filter(|h| !h.is_empty());
    let port = match field("PORT")?.filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.trim()
                .parse::<u16>()
                .map_err(|_| "PORT is not a port number".to_owned())?,
        ),
        None => None,
    };
    let (host, socket) = match host {
        Some(h) if h.starts_with('/') => (None, Some(PathBuf::from(h))),
        other => (other, None),
    };
    let address = ServerAddress {
        user: field("USER")?.filter(|u| !u.is_empty()),
        password: field("PASSWORD")?
            .filter(|p| !p.is_empty())
            .map(Password::new),
        host,
        port,
        socket,
        database: name,
    };
    Ok(match backend {
        Backend::Postgres => DatabaseUrl::Postgres(address),
        _ => DatabaseUrl::Mysql(address),
    })
}

/// `django.db.backends.postgresql`, `django.contrib.gis.db.backends.postgis`,
/// third-party wrappers named like them.
fn engine_backend(engine: &str) -> Option<Backend> {
    let last = engine
        .rsplit('.')
        .next()
        .unwrap_or(engine)
        .to_ascii_lowercase();
    let all = engine.to_ascii_lowercase();
    if last.contains("sqlite") || last.contains("spatialite") {
        Some(Backend::Sqlite)
    } else if last.contains("postgres") || last.contains("postgis") || all.contains("postgres") {
        Some(Backend::Postgres)
    } else if last.contains("mysql") || last.contains("mariadb") || all.contains("mysql") {
        Some(Backend::Mysql)
    } else {
        None
    }
}
