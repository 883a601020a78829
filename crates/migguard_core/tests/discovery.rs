//! Finding apps as Django does: INSTALLED_APPS when it can be read, the
//! label from apps.py, and an app that is the analysed directory itself.

mod common;

use migguard_core::config::Settings;
use migguard_core::project::{analyze, AnalyzeOptions};
use migguard_core::source::{MemorySource, WorkTree};

const MIGRATION: &str = "from django.db import migrations\n\nclass Migration(migrations.Migration):\n    operations = []\n";

#[test]
fn only_installed_apps_are_loaded_when_installed_apps_is_literal() {
    let source = common::with_settings_module(
        "INSTALLED_APPS = ['django.contrib.auth', 'blog.config.BlogAppConfig', 'shop']\n",
    )
    .with("blog/migrations/__init__.py", "")
    .with("blog/migrations/0001_initial.py", MIGRATION)
    .with("shop/migrations/__init__.py", "")
    .with("shop/migrations/0001_initial.py", MIGRATION)
    // A helper package that happens to be called `migrations`.
    .with("blocks/migrations/__init__.py", "")
    .with("blocks/migrations/operations.py", "def helper(): pass\n");
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let labels: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    assert_eq!(labels, vec!["blog", "shop"]);
    assert!(project.diagnostics.is_empty(), "{:#?}", project.diagnostics);
}

#[test]
fn without_readable_settings_every_migrations_package_counts() {
    let source = MemorySource::new("test")
        .with(
            "config/settings.py",
            "INSTALLED_APPS = get_apps(BASE_APPS)\n",
        )
        .with(
            "manage.py",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
        )
        .with("blog/migrations/__init__.py", "")
        .with("blog/migrations/0001_initial.py", MIGRATION)
        .with("shop/migrations/__init__.py", "")
        .with("shop/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    assert_eq!(project.discovery.apps.len(), 2);
    // Said, with where to configure it: the fallback is not silent.
    let rules: Vec<&str> = project.diagnostics.iter().map(|d| d.rule.name()).collect();
    assert_eq!(rules, vec!["unread-installed-apps"]);
    let warning = &project.diagnostics[0];
    assert_eq!(warning.location.path.as_deref(), Some("config/settings.py"));
    assert!(
        warning
            .message
            .contains("is computed by code migguard does not run")
            && warning
                .message
                .contains("checked all 2 `migrations` packages"),
        "{}",
        warning.message
    );
    assert!(warning.help.as_deref().unwrap_or("").contains("apps = ["));

    // `[tool.migguard] apps` replaces the list migguard could not read.
    let settings = migguard_core::config::Options::from_pyproject(
        "[tool.migguard]\napps = ['blog']\n",
        "pyproject.toml",
    )
    .unwrap()
    .resolve("pyproject.toml")
    .unwrap();
    let project = analyze(&source, &settings, &AnalyzeOptions::default()).unwrap();
    let labels: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    assert_eq!(labels, vec!["blog"]);
    assert!(project.diagnostics.is_empty(), "{:#?}", project.diagnostics);
}

#[test]
fn a_settings_module_that_is_not_there_is_said_and_every_package_counts() {
    let source = MemorySource::new("test")
        .with(
            "manage.py",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings')\n",
        )
        .with("blog/migrations/__init__.py", "")
        .with("blog/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    assert_eq!(project.migrations.len(), 1);
    let d = &project.diagnostics[0];
    assert_eq!(d.rule.name(), "unread-installed-apps");
    assert_eq!(d.location.path.as_deref(), Some("manage.py"));
    assert!(
        d.message
            .contains("the settings module `tests.settings` is not a file of the project"),
        "{}",
        d.message
    );
}

#[test]
fn a_project_where_nothing_is_found_says_so() {
    let source = MemorySource::new("test")
        .with(
            "manage.py",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
        )
        .with(
            "config/settings.py",
            "INSTALLED_APPS = ['django.contrib.auth']\n",
        )
        .with("blog/models.py", "");
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    assert!(project.migrations.is_empty());
    let rules: Vec<&str> = project.diagnostics.iter().map(|d| d.rule.name()).collect();
    assert_eq!(rules, vec!["no-migrations-found"]);
    assert!(project.diagnostics[0]
        .message
        .contains("none of the INSTALLED_APPS of `config.settings` has a `migrations` package"));
}

#[test]
fn an_app_at_the_root_takes_the_directory_name() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("taggit");
    std::fs::create_dir_all(app.join("migrations")).unwrap();
    std::fs::write(app.join("__init__.py"), "").unwrap();
    std::fs::write(app.join("migrations/__init__.py"), "").unwrap();
    std::fs::write(app.join("migrations/0001_initial.py"), MIGRATION).unwrap();
    let project = analyze(
        &WorkTree::new(&app),
        &Settings::default(),
        &AnalyzeOptions::default(),
    )
    .unwrap();
    assert_eq!(project.discovery.apps[0].label, "taggit");
    assert_eq!(project.migrations[0].key.to_string(), "taggit.0001_initial");
}

#[test]
fn settings_are_followed_as_django_imports_them() {
    let apps_py = "from django.apps import AppConfig\n\nclass ShopAdmin(AppConfig):\n    name = 'shop'\n    label = 'shop_admin'\n\nclass ShopConfig(AppConfig):\n    default = True\n    name = 'shop'\n    label = 'store'\n";
    let source = MemorySource::new("test")
        .with(
            "manage.py",
            "import os\n# DJANGO_SETTINGS_MODULE = 'nowhere'\ndef main():\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.dev')\n",
        )
        .with("config/__init__.py", "")
        .with("config/settings/__init__.py", "")
        .with(
            "config/settings/base.py",
            "INSTALLED_APPS = ['django.contrib.auth', 'blog']\nMIGRATION_MODULES = {'blog': 'blog.db_migrations', 'legacy': None}\n",
        )
        .with(
            "config/settings/dev.py",
            "from .base import *\n\nINSTALLED_APPS += ['shop']\nINSTALLED_APPS.append('legacy')\n",
        )
        // blog's migrations live in the package MIGRATION_MODULES names;
        // the old `migrations` package beside it is never read by Django.
        .with("blog/migrations/__init__.py", "")
        .with("blog/migrations/0001_initial.py", MIGRATION)
        .with("blog/migrations/0002_stale.py", "syntax error here(\n")
        .with("blog/db_migrations/__init__.py", "")
        .with("blog/db_migrations/0001_initial.py", MIGRATION)
        .with("shop/apps.py", apps_py)
        .with("shop/migrations/__init__.py", "")
        .with("shop/migrations/0001_initial.py", MIGRATION)
        // MIGRATION_MODULES says `legacy` has no migrations.
        .with("legacy/migrations/__init__.py", "")
        .with("legacy/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let apps: Vec<(&str, &str)> = project
        .discovery
        .apps
        .iter()
        .map(|a| (a.label.as_str(), a.migrations_dir.as_str()))
        .collect();
    assert_eq!(
        apps,
        vec![("blog", "blog/db_migrations"), ("store", "shop/migrations")]
    );
    assert_eq!(
        project.settings.module.as_deref(),
        Some("config.settings.dev")
    );
    assert!(project.diagnostics.is_empty(), "{:#?}", project.diagnostics);
}

/// `INSTALLED_APPS` naming an AppConfig in a module other than `apps.py`
/// (`blog.config.BlogAppConfig`): its `label` is the app's, as Django
/// imports that class; `apps.py`'s default config does not decide.
#[test]
fn an_app_config_outside_apps_py_gives_the_label() {
    let source = common::with_settings_module("INSTALLED_APPS = ['blog.config.BlogAppConfig', 'shop.apps.ShopConfig']\n")
        .with("blog/__init__.py", "")
        .with(
            "blog/config.py",
            "from django.apps import AppConfig\n\nclass BlogAppConfig(AppConfig):\n    name = 'blog'\n    label = 'weblog'\n",
        )
        .with(
            "blog/apps.py",
            "from django.apps import AppConfig\n\nclass BlogConfig(AppConfig):\n    name = 'blog'\n",
        )
        .with("blog/migrations/__init__.py", "")
        .with("blog/migrations/0001_initial.py", MIGRATION)
        .with("shop/__init__.py", "")
        .with(
            "shop/apps.py",
            "from django.apps import AppConfig\n\nclass ShopConfig(AppConfig):\n    name = 'shop'\n    label = 'store'\n",
        )
        .with("shop/migrations/__init__.py", "")
        .with("shop/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let labels: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    assert_eq!(labels, vec!["store", "weblog"]);
}

#[test]
fn without_installed_apps_a_test_copy_of_an_app_is_a_warning_and_the_real_one_counts() {
    // baserow: `src/baserow/core` and `tests/baserow/core` both have a
    // `migrations` package; only the first is installed, which migguard
    // cannot know without INSTALLED_APPS.
    let source = MemorySource::new("test")
        .with("src/baserow/core/migrations/__init__.py", "")
        .with("src/baserow/core/migrations/0001_initial.py", MIGRATION)
        .with("tests/baserow/core/migrations/__init__.py", "")
        .with("tests/baserow/core/migrations/0001_initial.py", MIGRATION)
        .with("a_tests/core/migrations/__init__.py", "")
        .with("a_tests/core/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let core: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .filter(|a| a.label == "core")
        .map(|a| a.dir.as_str())
        .collect();
    // `a_tests` is no test directory: it is found first and kept.
    assert_eq!(core, vec!["a_tests/core"]);
    let clashes: Vec<_> = project
        .diagnostics
        .iter()
        .filter(|d| d.rule == migguard_core::rules::Rule::DuplicateAppLabel)
        .collect();
    assert_eq!(clashes.len(), 2, "{clashes:#?}");
    assert!(clashes
        .iter()
        .all(|d| d.severity == migguard_core::diagnostic::Severity::Warning));

    let source = MemorySource::new("test")
        .with("tests/baserow/core/migrations/__init__.py", "")
        .with("tests/baserow/core/migrations/0001_initial.py", MIGRATION)
        .with("zsrc/baserow/core/migrations/__init__.py", "")
        .with("zsrc/baserow/core/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let core: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .map(|a| a.dir.as_str())
        .collect();
    assert_eq!(core, vec!["zsrc/baserow/core"]);
}

fn with_settings(settings: &str) -> MemorySource {
    common::with_settings_module(settings)
        .with("blog/migrations/__init__.py", "")
        .with("blog/migrations/0001_initial.py", MIGRATION)
        // Not a Django migration (paperless_ai's vector store upgrades).
        .with("store/migrations/__init__.py", "")
        .with("store/migrations/m0001_v1_to_v2.py", "import sqlite3\n")
}

#[test]
fn an_installed_apps_list_with_entries_read_at_runtime_counts_the_apps_it_names() {
    // paperless-ngx: `INSTALLED_APPS = [..., *env_apps]`.
    let source = with_settings(
        "import os\nenv_apps = os.environ.get('APPS', '').split(',')\nINSTALLED_APPS = ['django.contrib.auth', 'blog', *env_apps]\n",
    );
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let labels: Vec<&str> = project
        .discovery
        .apps
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    assert_eq!(labels, vec!["blog"]);
    assert!(!project.discovery.guessed);
    let [d] = project.diagnostics.as_slice() else {
        panic!("{:#?}", project.diagnostics)
    };
    assert_eq!(d.rule, migguard_core::rules::Rule::UnreadInstalledApps);
    assert_eq!(d.severity, migguard_core::diagnostic::Severity::Info);
    assert!(d.message.contains("`*env_apps`"), "{}", d.message);
    assert_eq!(d.details["open"], serde_json::json!(["*env_apps"]));
}

#[test]
fn a_package_counted_only_by_guess_is_never_an_error() {
    // None of the named apps is in the tree: every `migrations` package
    // counts, and a module that is no migration is a warning, not an error.
    let source = with_settings("INSTALLED_APPS = ['django.contrib.auth'] + get_core_apps()\n");
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    assert!(project.discovery.guessed);
    assert_eq!(project.discovery.apps.len(), 2);
    let invalid: Vec<_> = project
        .diagnostics
        .iter()
        .filter(|d| d.rule == migguard_core::rules::Rule::InvalidMigration)
        .collect();
    assert_eq!(invalid.len(), 1, "{:#?}", project.diagnostics);
    assert_eq!(
        invalid[0].severity,
        migguard_core::diagnostic::Severity::Warning
    );
    assert!(project
        .diagnostics
        .iter()
        .all(|d| d.severity != migguard_core::diagnostic::Severity::Error));
}

#[test]
fn apps_under_src_are_found_when_manage_py_is_elsewhere() {
    // django-oscar: manage.py in `sandbox/`, the apps in `src/oscar/`
    // (setup.py `package_dir={"": "src"}`).
    let source = MemorySource::new("test")
        .with(
            "sandbox/manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')\n",
        )
        .with(
            "sandbox/settings.py",
            "INSTALLED_APPS = ['django.contrib.auth', 'oscar.apps.catalogue.apps.CatalogueConfig']\nINSTALLED_APPS.insert(INSTALLED_APPS.index('django.contrib.auth'), 'sandbox_extra')\n",
        )
        .with("src/oscar/__init__.py", "")
        .with("src/oscar/apps/__init__.py", "")
        .with("src/oscar/apps/catalogue/__init__.py", "")
        .with(
            "src/oscar/apps/catalogue/apps.py",
            "from django.apps import AppConfig\n\nclass CatalogueConfig(AppConfig):\n    label = 'catalogue'\n    name = 'oscar.apps.catalogue'\n",
        )
        .with("src/oscar/apps/catalogue/migrations/__init__.py", "")
        .with("src/oscar/apps/catalogue/migrations/0001_initial.py", MIGRATION)
        // Not installed.
        .with("tests/_site/apps/myapp/migrations/__init__.py", "")
        .with("tests/_site/apps/myapp/migrations/0001_initial.py", MIGRATION);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let apps: Vec<(&str, &str)> = project
        .discovery
        .apps
        .iter()
        .map(|a| (a.label.as_str(), a.dir.as_str()))
        .collect();
    assert_eq!(apps, vec![("catalogue", "src/oscar/apps/catalogue")]);
    assert!(project.diagnostics.is_empty(), "{:#?}", project.diagnostics);
}

#[test]
fn migrations_turned_off_by_test_settings_are_named() {
    // django-cms' only settings are its test settings.
    let source = with_settings(
        "INSTALLED_APPS = ['django.contrib.auth', 'blog']\nMIGRATION_MODULES = {'auth': None, 'blog': None}\n",
    );
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let [d] = project.diagnostics.as_slice() else {
        panic!("{:#?}", project.diagnostics)
    };
    assert_eq!(d.rule, migguard_core::rules::Rule::NoMigrationsFound);
    assert!(
        d.message.contains("turns off the migrations of `blog`"),
        "{}",
        d.message
    );
    // `migration-modules` in the configuration turns them back on.
    let settings = migguard_core::config::Options::from_pyproject(
        "[tool.migguard]\nmigration-modules = { blog = 'blog.migrations' }\n",
        "pyproject.toml",
    )
    .unwrap()
    .resolve("pyproject.toml")
    .unwrap();
    let project = analyze(&source, &settings, &AnalyzeOptions::default()).unwrap();
    assert_eq!(project.discovery.apps.len(), 1);
    assert_eq!(project.discovery.files.len(), 1);
}
