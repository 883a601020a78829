//! Locating the database from settings read statically (in memory).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use migguard_core::config::Settings;
use migguard_core::project::DjangoSettings;
use migguard_core::source::{MemorySource, ProjectSource};
use migguard_db::{locate_with_env, DatabaseUrl, LocateError, Located};

const MANAGE: &str =
    "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"config.settings\")\n";

fn settings_for(files: &[(&str, &str)]) -> DjangoSettings {
    let mut source = MemorySource::new("test");
    for (path, text) in files {
        source.insert(*path, text.as_bytes().to_vec());
    }
    let listed = source.list().expect("list");
    DjangoSettings::read(&listed, &source, &Settings::default())
}

fn locate(
    settings_py: &str,
    env: &[(&str, &str)],
    configured: Option<&str>,
) -> Result<Located, LocateError> {
    let settings = settings_for(&[
        ("src/manage.py", MANAGE),
        ("src/config/__init__.py", ""),
        ("src/config/settings.py", settings_py),
    ]);
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.get(k).cloned();
    locate_with_env(Path::new("/repo"), configured, &settings, &lookup)
}

const SQLITE_SETTINGS: &str = "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n\
DATABASES = {\"default\": {\"ENGINE\": \"django.db.backends.sqlite3\", \"NAME\": BASE_DIR / \"db.sqlite3\"}}\n";

#[test]
fn order_env_then_config_then_settings() {
    let found = locate(
        SQLITE_SETTINGS,
        &[("DATABASE_URL", "postgres://u:pw@h/app")],
        Some("sqlite:///x.db"),
    )
    .unwrap();
    assert_eq!(found.how, "the DATABASE_URL environment variable");
    assert_eq!(found.url.to_string(), "postgres://u:***@h/app");

    let found = locate(SQLITE_SETTINGS, &[], Some("sqlite:///var/x.db")).unwrap();
    assert_eq!(
        found.url,
        DatabaseUrl::Sqlite(PathBuf::from("/repo/var/x.db"))
    );
    assert_eq!(found.how, "`[tool.migguard] database`");

    let found = locate(SQLITE_SETTINGS, &[], None).unwrap();
    assert_eq!(
        found.url,
        DatabaseUrl::Sqlite(PathBuf::from("/repo/src/db.sqlite3"))
    );
    assert_eq!(found.how, "DATABASES['default'] in config.settings");

    let err = locate(SQLITE_SETTINGS, &[("DATABASE_URL", "nonsense")], None).unwrap_err();
    assert!(matches!(err, LocateError::EnvUrl(_)), "{err:?}");
}

#[test]
fn os_path_join_and_str() {
    let s = "import os\nBASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n\
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': os.path.join(BASE_DIR, 'data', 'db.sqlite3')}}\n";
    assert_eq!(
        locate(s, &[], None).unwrap().url,
        DatabaseUrl::Sqlite(PathBuf::from("/repo/src/data/db.sqlite3"))
    );
    let s = "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n\
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': str(BASE_DIR / 'db.sqlite3')}}\n";
    assert_eq!(
        locate(s, &[], None).unwrap().url,
        DatabaseUrl::Sqlite(PathBuf::from("/repo/src/db.sqlite3"))
    );
}

#[test]
fn literal_postgres_dict_with_environment() {
    let s = "import os\nDATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.postgresql',\n        \
'NAME': os.environ['DB_NAME'],\n        'USER': os.getenv('DB_USER', 'app'),\n        \
'PASSWORD': os.environ.get('DB_PASSWORD', 'dev-secret'),\n        'HOST': os.environ.get('DB_HOST', 'localhost'),\n        \
'PORT': 5433,\n    }\n}\n";
    let found = locate(s, &[("DB_NAME", "shop")], None).unwrap();
    assert_eq!(
        found.url.to_string(),
        "postgres://app:***@localhost:5433/shop"
    );
    assert_eq!(found.url.password(), Some("dev-secret"));
    assert!(!format!("{found:?}").contains("dev-secret"));

    let err = locate(s, &[], None).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("NAME") && text.contains("DB_NAME is not set"),
        "{text}"
    );
}

#[test]
fn mysql_dict() {
    let s = "DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'NAME': 'shop', 'USER': 'root', \
'PASSWORD': '', 'HOST': '127.0.0.1', 'PORT': '3306'}}\n";
    assert_eq!(
        locate(s, &[], None).unwrap().url.to_string(),
        "mysql://root@127.0.0.1:3306/shop"
    );
}

#[test]
fn dj_database_url_and_django_environ() {
    let s = "import dj_database_url\nfrom pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n\
DATABASES = {'default': dj_database_url.config(default=f\"sqlite:///{BASE_DIR / 'db.sqlite3'}\", conn_max_age=600)}\n";
    assert_eq!(
        locate(s, &[], None).unwrap().url,
        DatabaseUrl::Sqlite(PathBuf::from("/repo/src/db.sqlite3"))
    );

    let s = "import dj_database_url\nDATABASES = {'default': dj_database_url.parse('postgres://a:b@db/x')}\n";
    assert_eq!(
        locate(s, &[], None).unwrap().url.to_string(),
        "postgres://a:***@db/x"
    );

    let s = "import environ\nenv = environ.Env()\nDATABASES = {'default': env.db(default='mysql://r@h/app')}\n";
    assert_eq!(
        locate(s, &[], None).unwrap().url.to_string(),
        "mysql://r@h/app"
    );

    let s = "import environ\nenv = environ.Env()\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', \
'NAME': env('DB_NAME', default='app'), 'HOST': env.str('DB_HOST', 'db')}}\n";
    assert_eq!(
        locate(s, &[("DB_NAME", "prod")], None)
            .unwrap()
            .url
            .to_string(),
        "postgres://db/prod"
    );
}

#[test]
fn star_imports_and_fallbacks() {
    let settings = settings_for(&[
        ("manage.py", MANAGE),
        ("config/__init__.py", ""),
        (
            "config/base.py",
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'dev.db'}}\n",
        ),
        ("config/settings.py", "from .base import *\nDEBUG = True\n"),
    ]);
    let none = |_: &str| None;
    let found = locate_with_env(Path::new("/r"), None, &settings, &none).unwrap();
    assert_eq!(found.url, DatabaseUrl::Sqlite(PathBuf::from("/r/dev.db")));

    // No DATABASES: Django's default file beside manage.py.
    let settings = settings_for(&[
        ("manage.py", MANAGE),
        ("config/settings.py", "DEBUG = True\n"),
    ]);
    let found = locate_with_env(Path::new("/r"), None, &settings, &none).unwrap();
    assert_eq!(
        found.url,
        DatabaseUrl::Sqlite(PathBuf::from("/r/db.sqlite3"))
    );
    assert!(found.how.contains("beside manage.py"), "{}", found.how);

    // Nothing at all.
    let settings = settings_for(&[("README.md", "hi")]);
    assert_eq!(
        locate_with_env(Path::new("/r"), None, &settings, &none),
        Err(LocateError::NotFound)
    );
}

#[test]
fn unreadable_settings_are_explained_without_secrets() {
    let s = "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'x', \
'PASSWORD': get_secret('hunter2-db')}}\n";
    let text = locate(s, &[], None).unwrap_err().to_string();
    assert!(
        text.contains("PASSWORD") && !text.contains("hunter2"),
        "{text}"
    );
    let s = "DATABASES = {'default': {'ENGINE': 'django.db.backends.oracle', 'NAME': 'x'}}\n";
    let text = locate(s, &[], None).unwrap_err().to_string();
    assert!(
        text.contains("oracle") && text.contains("DATABASE_URL"),
        "{text}"
    );
}

#[test]
fn databases_written_in_other_forms() {
    let url = |s: &str| locate(s, &[], None).unwrap().url.to_string();
    // PORT through int() / str().
    let s = "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'shop', \
'HOST': 'db', 'PORT': int('5433')}}\n";
    assert_eq!(url(s), "postgres://db:5433/shop");
    let s = "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'NAME': 'shop', \
'HOST': 'db', 'PORT': str(3307), 'USER': str('root')}}\n";
    assert_eq!(url(s), "mysql://root@db:3307/shop");
    let s = "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'shop', \
'PORT': int(os.environ.get('DB_PORT', '5432'))}}\n";
    assert_eq!(
        locate(s, &[("DB_PORT", "6543")], None)
            .unwrap()
            .url
            .to_string(),
        "postgres://localhost:6543/shop"
    );

    // The entry by subscript assignment, then a key of it.
    let s = "DATABASES = {}\n\
DATABASES['default'] = {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'app', 'HOST': 'db'}\n\
DATABASES[\"default\"][\"NAME\"] = 'shop'\n";
    assert_eq!(url(s), "postgres://db/shop");

    // The entry through a name bound to a dict.
    let s = "DEFAULT_DB = {'ENGINE': 'django.db.backends.mysql', 'NAME': 'shop', 'HOST': 'db'}\n\
DATABASES = {'default': DEFAULT_DB}\n";
    assert_eq!(url(s), "mysql://db/shop");
}
