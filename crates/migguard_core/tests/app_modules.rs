//! Which modules of an app hold its models: `models.py`, what it imports,
//! and what the app's `AppConfig` imports when Django starts.

mod common;

use migguard_core::config::Settings;
use migguard_core::project::{analyze, AnalyzeOptions};
use migguard_core::rules;
use migguard_core::source::MemorySource;

const INITIAL: &str = r#"
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="History",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
        ),
        migrations.CreateModel(
            name="TaskState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("state", models.CharField(max_length=20)),
            ],
        ),
    ]
"#;

#[test]
fn models_imported_by_app_config_ready_are_the_apps() {
    // label-studio's fsm app: `state_models` is imported in `ready()` only.
    let source = common::with_settings_module("INSTALLED_APPS = ['fsm.apps.FsmConfig']\nDEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'\n")
        .with("fsm/__init__.py", "")
        .with(
            "fsm/apps.py",
            "from django.apps import AppConfig\n\nclass FsmConfig(AppConfig):\n    name = 'fsm'\n\n    def ready(self):\n        from . import (\n            state_models,  # noqa: F401\n        )\n",
        )
        .with(
            "fsm/models.py",
            "from django.db import models\n\nclass History(models.Model):\n    pass\n",
        )
        .with(
            "fsm/state_models.py",
            "from django.db import models\n\nclass TaskState(models.Model):\n    state = models.CharField(max_length=20)\n",
        )
        .with("fsm/migrations/__init__.py", "")
        .with("fsm/migrations/0001_initial.py", INITIAL);
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let found = rules::models::check(&project, &source);
    assert!(found.is_empty(), "{found:#?}");

    // A change there is seen.
    let changed = source.with(
        "fsm/state_models.py",
        "from django.db import models\n\nclass TaskState(models.Model):\n    state = models.CharField(max_length=30)\n",
    );
    let project = analyze(&changed, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let found = rules::models::check(&project, &changed);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].message.contains("taskstate.state"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_field_class_with_its_own_contribute_to_class_is_never_reported_new() {
    // netbox's GenericArrayForeignKey: `contribute_to_class(...,
    // private_only=True)`, no column, so no migration has it.
    let source = MemorySource::new("test")
        .with("docs/__init__.py", "")
        .with(
            "docs/fields.py",
            "from django.db import models\n\nclass GenericArray(models.Field):\n    def __init__(self, field):\n        super().__init__(editable=False)\n\n    def contribute_to_class(self, cls, name, **kwargs):\n        super().contribute_to_class(cls, name, private_only=True, **kwargs)\n",
        )
        .with(
            "docs/models.py",
            "from django.db import models\nfrom .fields import GenericArray\n\nclass History(models.Model):\n    objects_in_path = GenericArray('path')\n",
        )
        .with("docs/migrations/__init__.py", "")
        .with(
            "docs/migrations/0001_initial.py",
            "from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel(\n            name='History',\n            fields=[('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID'))],\n        ),\n    ]\n",
        );
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default()).unwrap();
    let found = rules::models::check(&project, &source);
    assert!(
        found
            .iter()
            .all(|d| d.severity != migguard_core::diagnostic::Severity::Error),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("contribute_to_class")),
        "{found:#?}"
    );
}
