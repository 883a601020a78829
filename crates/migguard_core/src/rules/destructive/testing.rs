//! Test helpers for the `MG4xx`/`MG5xx` migration rules: a small `shop` app
//! in a [`MemorySource`], and squawk's two helpers: [`lint_errors`] refuses
//! to return an empty text to snapshot, [`lint_ok`] asserts nothing fired.

use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::model::Migration;
use crate::project::{analyze, AnalyzeOptions, Project};
use crate::source::MemorySource;

/// `shop/migrations/0001_initial.py`: `Product`, its django-simple-history
/// style `HistoricalProduct`, and `Supplier`.
pub(crate) const INITIAL: &str = r#"from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("price", models.DecimalField(decimal_places=2, max_digits=10)),
                ("tags", models.ManyToManyField(to="shop.supplier")),
            ],
        ),
        migrations.CreateModel(
            name="HistoricalProduct",
            fields=[
                ("id", models.BigIntegerField(db_index=True)),
                ("name", models.CharField(max_length=100)),
                ("price", models.DecimalField(decimal_places=2, max_digits=10)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name="Supplier",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
            ],
        ),
    ]
"#;

/// The path of a test migration.
pub(crate) fn path_of(name: &str) -> String {
    format!("shop/migrations/{name}.py")
}

/// A migration after `0001_initial` whose `operations` list holds `ops`
/// (indented by the caller's text as is, one operation per line or more).
pub(crate) fn migration(ops: &str) -> String {
    migration_with("", ops)
}

/// [`migration`] with extra class attributes (`initial = True`, `atomic = False`).
pub(crate) fn migration_with(attrs: &str, ops: &str) -> String {
    let body: String = ops
        .trim_matches('\n')
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        "from django.contrib.postgres.operations import AddIndexConcurrently\n\
         from django.db import migrations, models\n\
         \n\
         \n\
         def forwards(apps, schema_editor):\n    pass\n\
         \n\
         \n\
         def backwards(apps, schema_editor):\n    pass\n\
         \n\
         \n\
         class Migration(migrations.Migration):\n\
         {attrs}\
         \x20   dependencies = [(\"shop\", \"0001_initial\")]\n\
         \n\
         \x20   operations = [\n{body}    ]\n"
    )
}

/// A project holding `0001_initial` and the given `(name, text)` migrations.
pub(crate) fn project(migrations: &[(&str, String)]) -> Project {
    let mut source = MemorySource::new("test");
    source
        .insert("shop/__init__.py", "")
        .insert("shop/migrations/__init__.py", "")
        .insert(path_of("0001_initial"), INITIAL);
    for (name, text) in migrations {
        source.insert(path_of(name), text.clone());
    }
    let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default())
        .expect("a memory source is always readable");
    assert!(
        project.diagnostics.is_empty(),
        "test migrations must parse cleanly: {:#?}",
        project.diagnostics
    );
    project
}

/// Run `check` on migration `name` of `project`.
pub(crate) fn run<F>(project: &Project, name: &str, check: F) -> Vec<Diagnostic>
where
    F: Fn(&Project, &Migration) -> Vec<Diagnostic>,
{
    let migration = project
        .migrations
        .iter()
        .find(|m| m.key.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no migration {name} in {:?}",
                project
                    .migrations
                    .iter()
                    .map(|m| &m.key)
                    .collect::<Vec<_>>()
            )
        });
    check(project, migration)
}

/// Diagnostics as text for a snapshot: code, name, severity, location,
/// message, help and details.
pub(crate) fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&format!(
            "{} {} {} {}:{}:{}\n  {}\n",
            d.rule.code(),
            d.rule.name(),
            d.severity.as_str(),
            d.location.path.as_deref().unwrap_or("?"),
            d.location.line.unwrap_or(0),
            d.location.column.unwrap_or(0),
            d.message
        ));
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
        out.push_str(&format!("  details: {}\n", d.details));
    }
    out
}

/// The rendered findings of `check` on a migration made of `ops`; panics
/// when there are none, so an empty snapshot can never be accepted.
pub(crate) fn lint_errors<F>(ops: &str, check: F) -> String
where
    F: Fn(&Project, &Migration) -> Vec<Diagnostic>,
{
    lint_errors_in(
        &project(&[("0002_change", migration(ops))]),
        "0002_change",
        check,
    )
}

/// [`lint_errors`] on a migration of a prepared project.
pub(crate) fn lint_errors_in<F>(project: &Project, name: &str, check: F) -> String
where
    F: Fn(&Project, &Migration) -> Vec<Diagnostic>,
{
    let found = run(project, name, check);
    assert!(!found.is_empty(), "expected findings on {name}, found none");
    render(&found)
}

/// Asserts that `check` finds nothing on a migration made of `ops`.
pub(crate) fn lint_ok<F>(ops: &str, check: F)
where
    F: Fn(&Project, &Migration) -> Vec<Diagnostic>,
{
    lint_ok_in(
        &project(&[("0002_change", migration(ops))]),
        "0002_change",
        check,
    );
}

/// [`lint_ok`] on a migration of a prepared project.
pub(crate) fn lint_ok_in<F>(project: &Project, name: &str, check: F)
where
    F: Fn(&Project, &Migration) -> Vec<Diagnostic>,
{
    let found = run(project, name, check);
    assert!(
        found.is_empty(),
        "expected no findings on {name}, found:\n{}",
        render(&found)
    );
}
