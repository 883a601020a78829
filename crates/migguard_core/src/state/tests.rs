use super::*;
use crate::config::Settings;
use crate::model::OperationKind;
use crate::project::{analyze, AnalyzeOptions, Project};
use crate::source::MemorySource;

fn migration(deps: &str, ops: &str) -> String {
    format!(
        "from django.db import migrations, models\nimport django.db.models.deletion\nimport myapp.operations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [{deps}]\n    operations = [\n{ops}\n    ]\n"
    )
}

fn project(files: &[(&str, String)]) -> Project {
    let mut source = MemorySource::new("test");
    source.insert("blog/__init__.py", "");
    source.insert("blog/migrations/__init__.py", "");
    for (path, text) in files {
        source.insert(*path, text.clone());
    }
    analyze(&source, &Settings::default(), &AnalyzeOptions::default()).expect("analysis runs")
}

const INITIAL_OPS: &str = "        migrations.CreateModel(name='Post', fields=[('id', models.BigAutoField(primary_key=True, serialize=False)), ('title', models.CharField(max_length=100))]),";

#[test]
fn custom_and_external_operations_warn_without_touching_the_state() {
    let p = project(&[
        ("blog/migrations/0001_initial.py", migration("", INITIAL_OPS)),
        (
            "blog/migrations/0002_more.py",
            migration(
                "('blog', '0001_initial'), ('auth', '0012_alter_user_first_name_max_length')",
                "        myapp.operations.LoadFixture('posts.json'),\n        migrations.AddField(model_name='user', name='x', field=models.IntegerField()),\n        migrations.RemoveField(model_name='post', name='nope'),\n        migrations.AddField(model_name='post', name='body', field=models.TextField(default=''), preserve_default=False),",
            ),
        ),
    ]);
    let replay = replay(&p, None);
    let messages: Vec<String> = replay.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(replay.warnings.len(), 3, "{messages:#?}");
    assert_eq!(
        replay.warnings[0].message,
        "custom operation myapp.operations.LoadFixture: its effect on the state is unknown"
    );
    assert_eq!(replay.warnings[0].line, 9);
    assert_eq!(
        replay.warnings[0].migration,
        MigrationKey::new("blog", "0002_more")
    );
    assert!(
        replay.warnings[1]
            .message
            .contains("`blog.user` is not in the state"),
        "{messages:#?}"
    );
    assert_eq!(replay.warnings[1].operation, "AddField");
    assert!(
        replay.warnings[2].message.contains("no field `nope`"),
        "{messages:#?}"
    );
    let post = replay.state.model("blog", "Post").expect("post");
    assert_eq!(
        post.field_names().collect::<Vec<_>>(),
        ["id", "title", "body"]
    );
    assert_eq!(post.field("body").and_then(|f| f.kwarg("default")), None);
    assert_eq!(post.indexes().len(), 0);
    assert_eq!(post.bases, vec![default_base()]);
}

#[test]
fn upto_replays_only_the_ancestors() {
    let p = project(&[
        ("blog/migrations/0001_initial.py", migration("", INITIAL_OPS)),
        (
            "blog/migrations/0002_slug.py",
            migration(
                "('blog', '0001_initial')",
                "        migrations.AddField(model_name='post', name='slug', field=models.SlugField()),",
            ),
        ),
    ]);
    let first = [MigrationKey::new("blog", "0001_initial")];
    let early = replay(&p, Some(&first));
    assert_eq!(early.plan, first.to_vec());
    assert!(early.state.field("blog", "post", "slug").is_none());
    let full = replay(&p, None);
    assert!(full.state.field("blog", "post", "slug").is_some());
    assert_eq!(
        full.field_origin("blog", "post", "slug")
            .map(|o| o.added.migration.name.as_str()),
        Some("0002_slug")
    );

    // `replay_with` sees the state before each migration.
    let mut seen = Vec::new();
    replay_with(&p, None, |m, before| {
        seen.push((
            m.key.name.clone(),
            before.field("blog", "post", "slug").is_some(),
        ));
    });
    assert_eq!(
        seen,
        [
            ("0001_initial".to_owned(), false),
            ("0002_slug".to_owned(), false)
        ]
    );
}

#[test]
fn case_only_rename_drops_the_model_as_django_does() {
    let p = project(&[
        (
            "blog/migrations/0001_initial.py",
            migration("", INITIAL_OPS),
        ),
        (
            "blog/migrations/0002_case.py",
            migration(
                "('blog', '0001_initial')",
                "        migrations.RenameModel(old_name='Post', new_name='POST'),",
            ),
        ),
    ]);
    let replay = replay(&p, None);
    assert!(replay.state.models.is_empty());
    assert_eq!(replay.warnings.len(), 1);
    assert!(replay.origin.is_empty());
}

#[test]
fn deeply_nested_state_operations_are_applied_without_recursion() {
    // The parser keeps 16 levels of nested operations; stay within them.
    let depth = 12;
    let mut ops =
        "migrations.AddField(model_name='post', name='deep', field=models.IntegerField(null=True))"
            .to_owned();
    for _ in 0..depth {
        ops = format!("migrations.SeparateDatabaseAndState(state_operations=[{ops}])");
    }
    let p = project(&[
        (
            "blog/migrations/0001_initial.py",
            migration("", INITIAL_OPS),
        ),
        (
            "blog/migrations/0002_deep.py",
            migration("('blog', '0001_initial')", &format!("        {ops},")),
        ),
    ]);
    assert!(
        p.migrations.iter().any(|m| m.key.name == "0002_deep"),
        "{:#?}",
        p.diagnostics
    );
    let replay = replay(&p, None);
    assert!(replay.warnings.is_empty(), "{:#?}", replay.warnings);
    assert!(replay.state.field("blog", "post", "deep").is_some());
}

#[test]
fn apply_operation_handles_one_operation_and_its_nested_ones() {
    let p = project(&[
        ("blog/migrations/0001_initial.py", migration("", INITIAL_OPS)),
        (
            "blog/migrations/0002_sql.py",
            migration(
                "('blog', '0001_initial')",
                "        migrations.RunSQL('ALTER TABLE blog_post ADD COLUMN n int', state_operations=[migrations.AddField(model_name='post', name='n', field=models.IntegerField(null=True))]),",
            ),
        ),
    ]);
    let second = p
        .migrations
        .iter()
        .find(|m| m.key.name == "0002_sql")
        .expect("parsed");
    let first = p
        .migrations
        .iter()
        .find(|m| m.key.name == "0001_initial")
        .expect("parsed");
    let mut state = ProjectState::default();
    assert!(state.apply_migration(first, &p.settings).is_empty());
    let op = &second.operations[0];
    assert_eq!(op.kind, OperationKind::RunSQL);
    assert!(state.apply_operation(second, op, &p.settings).is_empty());
    assert!(state.field("blog", "post", "n").is_some());
}

#[test]
fn an_operation_subclass_that_keeps_the_state_effect_replays_as_its_base() {
    // mayan-edms: `class AddFieldDynamicDefault(migrations.AddField)` with
    // only `database_forwards` of its own; one with its own
    // `state_forwards` stays unknown.
    let second = "from django.db import migrations, models\n\n\nclass AddFieldDynamicDefault(migrations.AddField):\n    def database_forwards(self, app_label, schema_editor, from_state, to_state):\n        super().database_forwards(app_label, schema_editor, from_state, to_state)\n\n\nclass Tracked(migrations.AddField):\n    def state_forwards(self, app_label, state):\n        pass\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('blog', '0001_initial')]\n    operations = [\n        AddFieldDynamicDefault(model_name='post', name='score', field=models.IntegerField(default=0)),\n        Tracked(model_name='post', name='hidden', field=models.IntegerField(default=0)),\n    ]\n";
    let p = project(&[
        (
            "blog/migrations/0001_initial.py",
            migration("", INITIAL_OPS),
        ),
        ("blog/migrations/0002_dynamic.py", second.to_owned()),
    ]);
    let m = p
        .migrations
        .iter()
        .find(|m| m.key.name == "0002_dynamic")
        .unwrap();
    assert_eq!(m.operations[0].kind, OperationKind::AddField);
    assert_eq!(m.operations[1].kind, OperationKind::Custom);
    let replay = replay(&p, None);
    let post = replay.state.model("blog", "post").unwrap();
    assert!(post.field("score").is_some());
    assert!(post.field("hidden").is_none());
    assert_eq!(replay.warnings.len(), 1, "{:#?}", replay.warnings);
}
