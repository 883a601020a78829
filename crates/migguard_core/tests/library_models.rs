//! Models built on libraries' classes migguard knows without their source:
//! `django.contrib.postgres` fields, django-mptt's relation fields,
//! django-solo's `SingletonModel`, django-tree-queries' `TreeNode`,
//! django-modelcluster's `ParentalKey`, django-annoying's
//! `AutoOneToOneField`, django-migration-linter's `IgnoreMigration`. They are compared like Django's own, so
//! a missing migration is found and an unchanged model reports nothing.

mod common;

use migguard_core::config::Settings;
use migguard_core::diagnostic::Diagnostic;
use migguard_core::project::{analyze, AnalyzeOptions};
use migguard_core::rules::{self, Rule};

const MODELS: &str = r#"
from django.contrib.postgres.fields import ArrayField, HStoreField, IntegerRangeField
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from annoying.fields import AutoOneToOneField
from modelcluster.fields import ParentalKey
from mptt.fields import TreeForeignKey
from solo.models import SingletonModel
from tree_queries.models import TreeNode


class Folder(models.Model):
    parent = TreeForeignKey("self", null=True, on_delete=models.CASCADE, related_name="children")
    attrs = HStoreField(default=dict)
    pages = IntegerRangeField(null=True)
    search = SearchVectorField(null=True)
    tags = ArrayField(models.CharField(max_length=10, blank=True), size=8, default=list)
    grid = ArrayField(ArrayField(models.IntegerField()), null=True)


class SiteConfig(SingletonModel):
    title = models.CharField(max_length=50)


class Page(TreeNode):
    folder = ParentalKey(Folder, related_name="pages")
    summary = AutoOneToOneField("docs.Folder", on_delete=models.CASCADE, related_name="summary")
"#;

/// What `makemigrations` writes for MODELS (paths as the writer puts them;
/// the contrib.postgres fields as Django 5.2.19 wrote them).
const INITIAL: &str = r#"
import django.contrib.postgres.fields
import django.contrib.postgres.fields.hstore
import django.contrib.postgres.fields.ranges
import django.contrib.postgres.search
import annoying.fields
import django.db.models.deletion
import modelcluster.fields
import mptt.fields
from django.db import migrations, models
from django_migration_linter import IgnoreMigration


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="SiteConfig",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=50)),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="Folder",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("attrs", django.contrib.postgres.fields.hstore.HStoreField(default=dict)),
                ("pages", django.contrib.postgres.fields.ranges.IntegerRangeField(null=True)),
                ("search", django.contrib.postgres.search.SearchVectorField(null=True)),
                ("tags", django.contrib.postgres.fields.ArrayField(base_field=models.CharField(blank=True, max_length=10), default=list, size=8)),
                ("grid", django.contrib.postgres.fields.ArrayField(base_field=django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), size=None), null=True, size=None)),
                ("parent", mptt.fields.TreeForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="children", to="docs.folder")),
            ],
        ),
        IgnoreMigration(),
        migrations.CreateModel(
            name="Page",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("parent", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="children", to="docs.page", verbose_name="parent")),
                ("folder", modelcluster.fields.ParentalKey(on_delete=django.db.models.deletion.CASCADE, related_name="pages", to="docs.folder")),
                ("summary", annoying.fields.AutoOneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="summary", to="docs.folder")),
            ],
            options={"abstract": False},
        ),
    ]
"#;

fn check(models: &str) -> Vec<Diagnostic> {
    let source = common::with_settings_module(
        "INSTALLED_APPS = ['django.contrib.postgres', 'mptt', 'solo', 'docs']\n",
    )
    .with("docs/__init__.py", "")
    .with("docs/models.py", models)
    .with("docs/migrations/__init__.py", "")
    .with("docs/migrations/0001_initial.py", INITIAL);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    rules::models::check(&project, &source)
}

#[test]
fn library_fields_and_bases_are_compared_like_djangos() {
    let found = check(MODELS);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_change_to_a_library_field_is_a_missing_migration() {
    for (old, new) in [
        ("related_name=\"children\"", "related_name=\"kids\""),
        (
            "HStoreField(default=dict)",
            "HStoreField(default=dict, null=True)",
        ),
        ("SearchVectorField(null=True)", "SearchVectorField()"),
        (
            "max_length=10, blank=True), size=8",
            "max_length=12, blank=True), size=8",
        ),
        ("size=8, default=list", "size=9, default=list"),
        (
            "ArrayField(models.IntegerField())",
            "ArrayField(models.IntegerField(), size=2)",
        ),
        (
            "title = models.CharField(max_length=50)",
            "title = models.CharField(max_length=80)",
        ),
    ] {
        let found = check(&MODELS.replace(old, new));
        let missing: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| d.rule == Rule::MissingMigration)
            .collect();
        assert_eq!(missing.len(), 1, "{new}: {found:#?}");
        assert_eq!(
            missing[0].severity,
            migguard_core::diagnostic::Severity::Error,
            "{new}: {found:#?}"
        );
    }
}

#[test]
fn models_built_on_an_installed_library_are_compared() {
    // A virtualenv's site-packages with a library of abstract models (as
    // openwisp_utils is to openwisp-controller); Django there is ignored.
    let site = tempfile::tempdir().unwrap();
    let lib = site.path().join("stamps");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("__init__.py"), "").unwrap();
    std::fs::write(
        lib.join("base.py"),
        "from django.db import models\n\nclass TimeStamped(models.Model):\n    created = models.DateTimeField(auto_now_add=True)\n\n    class Meta:\n        abstract = True\n",
    )
    .unwrap();
    let fake_django = site.path().join("django");
    std::fs::create_dir_all(&fake_django).unwrap();
    std::fs::write(fake_django.join("__init__.py"), "raise SystemExit").unwrap();

    let migration = "from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel(\n            name='Note',\n            fields=[\n                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n                ('created', models.DateTimeField(auto_now_add=True)),\n                ('text', models.TextField()),\n            ],\n            options={'abstract': False},\n        ),\n    ]\n";
    let source = |models: &str| {
        common::with_settings_module("INSTALLED_APPS = ['notes']\n")
            .with("notes/__init__.py", "")
            .with("notes/models.py", models.to_owned())
            .with("notes/migrations/__init__.py", "")
            .with("notes/migrations/0001_initial.py", migration)
    };
    let settings = migguard_core::config::Options::from_pyproject(
        &format!(
            "[tool.migguard]\nsite-packages = [{:?}]\n",
            site.path().display().to_string()
        ),
        "pyproject.toml",
    )
    .unwrap()
    .resolve("pyproject.toml")
    .unwrap();
    let models = "from django.db import models\nfrom stamps.base import TimeStamped\n\nclass Note(TimeStamped):\n    text = models.TextField()\n";
    let run = |models: &str, settings: &Settings| {
        let source = source(models);
        let project = analyze(&source, settings, &AnalyzeOptions::default()).unwrap();
        rules::models::check(&project, &source)
    };
    assert!(
        run(models, &settings).is_empty(),
        "{:#?}",
        run(models, &settings)
    );
    let changed = models.replace("TextField()", "TextField(blank=True)");
    let found = run(&changed, &settings);
    assert!(
        found.iter().any(|d| d.rule == Rule::MissingMigration
            && d.severity == migguard_core::diagnostic::Severity::Error),
        "{found:#?}"
    );
    // Without the library the base is unknown: nothing is asserted of it.
    let found = run(&changed, &Settings::default());
    assert!(
        found
            .iter()
            .all(|d| d.severity != migguard_core::diagnostic::Severity::Error),
        "{found:#?}"
    );
}

#[test]
fn a_declared_project_field_class_is_compared_like_its_django_class() {
    // Its own __init__ would leave it out; the configuration says it
    // deconstructs as a DecimalField.
    let fields = "from django.db import models\n\nclass MoneyField(models.DecimalField):\n    def __init__(self, *args, **kwargs):\n        kwargs.setdefault('max_digits', 12)\n        super().__init__(*args, **kwargs)\n";
    let models = "from django.db import models\nfrom .fields import MoneyField\n\nclass Order(models.Model):\n    total = MoneyField(max_digits=12, decimal_places=2)\n";
    let migration = "import shop.fields\nfrom django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel(\n            name='Order',\n            fields=[\n                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n                ('total', shop.fields.MoneyField(decimal_places=2, max_digits=12)),\n            ],\n        ),\n    ]\n";
    let run = |models: &str, config: &str| {
        let source = common::with_settings_module("INSTALLED_APPS = ['shop']\n")
            .with("shop/__init__.py", "")
            .with("shop/fields.py", fields)
            .with("shop/models.py", models.to_owned())
            .with("shop/migrations/__init__.py", "")
            .with("shop/migrations/0001_initial.py", migration);
        let settings = migguard_core::config::Options::from_pyproject(config, "pyproject.toml")
            .unwrap()
            .resolve("pyproject.toml")
            .unwrap();
        let project = analyze(&source, &settings, &AnalyzeOptions::default()).unwrap();
        rules::models::check(&project, &source)
    };
    let declared = "[tool.migguard]\nfield-classes = { \"shop.fields.MoneyField\" = \"django.db.models.DecimalField\" }\n";
    assert!(
        run(models, declared).is_empty(),
        "{:#?}",
        run(models, declared)
    );
    let changed = models.replace("decimal_places=2", "decimal_places=3");
    let found = run(&changed, declared);
    assert!(
        found.iter().any(|d| d.rule == Rule::MissingMigration
            && d.severity == migguard_core::diagnostic::Severity::Error),
        "{found:#?}"
    );
    // A declaration naming no Django field class is refused, with its key.
    let err = migguard_core::config::Options::from_pyproject(
        "[tool.migguard]\nfield-classes = { \"shop.fields.MoneyField\" = \"models.Money\" }\n",
        "pyproject.toml",
    )
    .unwrap()
    .resolve("pyproject.toml")
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("field-classes.\"shop.fields.MoneyField\""),
        "{err}"
    );
    // Undeclared, the change is not asserted: the class is left out.
    let found = run(&changed, "[tool.migguard]\n");
    assert!(
        found
            .iter()
            .all(|d| d.severity != migguard_core::diagnostic::Severity::Error),
        "{found:#?}"
    );
}

#[test]
fn taggit_managers_with_taggits_own_models_are_compared() {
    // The migration is the one Django 5.2.19 writes with django-taggit 6.1.
    let migration = "import taggit.managers\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = [\n        ('taggit', '0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx'),\n    ]\n    operations = [\n        migrations.CreateModel(\n            name='Note',\n            fields=[\n                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n                ('tags', taggit.managers.TaggableManager(help_text='A comma-separated list of tags.', through='taggit.TaggedItem', to='taggit.Tag', verbose_name='Tags')),\n            ],\n        ),\n        migrations.CreateModel(\n            name='Page',\n            fields=[\n                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n                ('labels', taggit.managers.TaggableManager(blank=True, help_text='A comma-separated list of tags.', through='taggit.TaggedItem', to='taggit.Tag', verbose_name='Labels')),\n            ],\n        ),\n    ]\n";
    let models = "from django.db import models\nfrom taggit.managers import TaggableManager\n\nclass Note(models.Model):\n    tags = TaggableManager()\n\nclass Page(models.Model):\n    labels = TaggableManager(blank=True, verbose_name='Labels')\n";
    let run = |models: &str| {
        let source = common::with_settings_module(
            "INSTALLED_APPS = ['django.contrib.contenttypes', 'taggit', 'docs']\n",
        )
        .with("docs/__init__.py", "")
        .with("docs/models.py", models.to_owned())
        .with("docs/migrations/__init__.py", "")
        .with("docs/migrations/0001_initial.py", migration);
        let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
        rules::models::check(&project, &source)
    };
    assert!(run(models).is_empty(), "{:#?}", run(models));
    for (old, new) in [
        ("verbose_name='Labels'", "verbose_name='Tags'"),
        ("TaggableManager(blank=True, ", "TaggableManager("),
        ("    tags = TaggableManager()\n", "    pass\n"),
    ] {
        let found = run(&models.replace(old, new));
        assert!(
            found.iter().any(|d| d.rule == Rule::MissingMigration
                && d.severity == migguard_core::diagnostic::Severity::Error),
            "{new}: {found:#?}"
        );
    }
    // A custom through model is not known: never an error.
    let custom = models.replace(
        "TaggableManager()",
        "TaggableManager(through='docs.Tagged')",
    );
    assert!(run(&custom)
        .iter()
        .all(|d| d.severity != migguard_core::diagnostic::Severity::Error));
}
