//! Finding apps as Django does: INSTALLED_APPS when it can be read, the
//! label from apps.py, and an app that is the analysed directory itself.

use migguard_core::config::Settings;
use migguard_core::project::{analyze, AnalyzeOptions};
use migguard_core::source::{MemorySource, WorkTree};

const MIGRATION: &str = "from django.db import migrations\n\nclass Migration(migrations.Migration):\n    operations = []\n";

#[test]
fn only_installed_apps_are_loaded_when_installed_apps_is_literal() {
    let source = MemorySource::new("test")
        .with(
            "manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
        )
        .with("config/__init__.py", "")
        .with(
            "config/settings.py",
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
            "INSTALLED_APPS = BASE_APPS + ['blog']\n",
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
