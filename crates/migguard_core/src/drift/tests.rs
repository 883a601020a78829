use super::*;
use crate::config::Settings;
use crate::parse::parse_migration;
use crate::project::{analyze, AnalyzeOptions};
use crate::source::MemorySource;

fn migration(deps: &str, ops: &str) -> String {
    format!(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [{deps}]\n    operations = [\n{ops}\n    ]\n"
    )
}

fn k(app: &str, name: &str) -> MigrationKey {
    MigrationKey::new(app, name)
}

const INITIAL: &str = "        migrations.CreateModel(name='Post', fields=[('id', models.BigAutoField(primary_key=True, serialize=False)), ('title', models.CharField(max_length=100)), ('tags', models.ManyToManyField(to='blog.tag'))]),\n        migrations.CreateModel(name='Tag', fields=[('id', models.BigAutoField(primary_key=True, serialize=False))], options={'db_table': 'tags'}),";

fn project(files: &[(&str, String)]) -> Project {
    let mut source = MemorySource::new("test");
    source.insert("blog/__init__.py", "");
    source.insert("blog/migrations/__init__.py", "");
    for (path, text) in files {
        source.insert(*path, text.clone());
    }
    analyze(&source, &Settings::default(), &AnalyzeOptions::default()).expect("analysis runs")
}

fn main_files() -> Vec<(&'static str, String)> {
    vec![
        ("blog/migrations/0001_initial.py", migration("", INITIAL)),
        (
            "blog/migrations/0002_post_slug.py",
            migration(
                "('blog', '0001_initial')",
                "        migrations.AddField(model_name='post', name='slug', field=models.SlugField(default='')),",
            ),
        ),
    ]
}

fn feature_file() -> (&'static str, String) {
    (
        "blog/migrations/0003_post_subtitle.py",
        migration(
            "('blog', '0002_post_slug')",
            "        migrations.AddField(model_name='post', name='subtitle', field=models.CharField(max_length=50, null=True)),\n        migrations.AddField(model_name='post', name='tag', field=models.ForeignKey(on_delete=models.CASCADE, to='blog.tag', null=True)),\n        migrations.AddIndex(model_name='post', index=models.Index(fields=['slug'], name='blog_post_slug_idx')),\n        migrations.RemoveField(model_name='post', name='tags'),",
        ),
    )
}

fn applied(keys: &[(&str, &str)]) -> AppliedSet {
    keys.iter().map(|(a, n)| k(a, n)).collect()
}

#[test]
fn foreign_migrations_from_the_old_revision_are_described() {
    let new = project(&main_files());
    let mut old_files = main_files();
    old_files.push(feature_file());
    let old = project(&old_files);
    let applied = applied(&[
        ("blog", "0001_initial"),
        ("blog", "0002_post_slug"),
        ("blog", "0003_post_subtitle"),
        ("auth", "0001_initial"),
    ]);
    let drift = compute(&DriftInput {
        new: &new,
        old: Some(&old),
        stored: &[],
        applied: &applied,
    });
    assert_eq!(drift.foreign.len(), 1, "{drift:#?}");
    let foreign = &drift.foreign[0];
    assert_eq!(foreign.key, k("blog", "0003_post_subtitle"));
    assert_eq!(foreign.provenance, Provenance::OldRevision);
    assert_eq!(
        foreign.path.as_deref(),
        Some("blog/migrations/0003_post_subtitle.py")
    );
    assert_eq!(
        foreign.effects,
        vec![
            "adds column blog_post.subtitle",
            "adds column blog_post.tag_id",
            "adds index on blog_post.tag_id",
            "adds index blog_post_slug_idx on blog_post",
            "drops table blog_post_tags",
        ]
    );
    assert_eq!(
        drift.unapply,
        vec![UnapplyStep {
            app: "blog".into(),
            target: Some("0002_post_slug".into()),
            unapplies: vec![k("blog", "0003_post_subtitle")],
        }]
    );
    assert!(drift.unapplied.is_empty() && drift.apply.is_empty());
    assert!(drift.inconsistent.is_empty());
}

#[test]
fn unapplied_follow_the_plan_and_the_store_fills_in_a_deleted_branch() {
    let mut files = main_files();
    files.push((
        "blog/migrations/0003_post_body.py",
        migration(
            "('blog', '0002_post_slug')",
            "        migrations.AddField(model_name='post', name='body', field=models.TextField(default='')),",
        ),
    ));
    let new = project(&files);
    let (path, text) = feature_file();
    let stored = parse_migration(
        &k("blog", "0003_post_subtitle"),
        path,
        "blog.migrations",
        text.as_bytes(),
    )
    .migration
    .expect("parses");
    let applied = applied(&[
        ("blog", "0001_initial"),
        ("blog", "0002_post_slug"),
        ("blog", "0003_post_subtitle"),
        ("blog", "0009_gone"),
    ]);
    let drift = compute(&DriftInput {
        new: &new,
        old: None,
        stored: std::slice::from_ref(&stored),
        applied: &applied,
    });
    let keys: Vec<_> = drift
        .foreign
        .iter()
        .map(|f| (f.key.name.as_str(), f.provenance))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("0003_post_subtitle", Provenance::Store),
            ("0009_gone", Provenance::Unknown)
        ]
    );
    assert_eq!(
        drift.foreign[0].effects[0],
        "adds column blog_post.subtitle"
    );
    assert!(drift.foreign[1].effects.is_empty());
    assert_eq!(drift.unapplied, vec![k("blog", "0003_post_body")]);
    // Only the migration whose file is known can be unapplied.
    assert_eq!(drift.unapply.len(), 1);
    assert_eq!(drift.unapply[0].target_name(), "0002_post_slug");
    assert_eq!(
        drift.unapply[0].unapplies,
        vec![k("blog", "0003_post_subtitle")]
    );
    assert_eq!(drift.apply, vec![k("blog", "0003_post_body")]);
    assert!(drift.inconsistent.is_empty(), "{drift:#?}");
}

#[test]
fn inconsistent_history_is_found() {
    let mut files = main_files();
    files.push(feature_file());
    let p = project(&files);
    let applied = applied(&[("blog", "0001_initial"), ("blog", "0003_post_subtitle")]);
    let drift = compute(&DriftInput {
        new: &p,
        old: None,
        stored: &[],
        applied: &applied,
    });
    assert_eq!(
        drift.inconsistent,
        vec![Inconsistency {
            key: k("blog", "0003_post_subtitle"),
            missing: vec![k("blog", "0002_post_slug")],
        }]
    );
    assert_eq!(drift.unapplied, vec![k("blog", "0002_post_slug")]);
    let labels = Labels {
        branch: "main",
        from: &|_| None,
        fix: &|_| None,
        manage: "python manage.py",
    };
    let diagnostics = diagnostics(&drift, &p, &labels);
    let rules: Vec<&str> = diagnostics.iter().map(|d| d.rule.name()).collect();
    assert_eq!(rules, vec!["unapplied-migrations", "inconsistent-history"]);
    assert_eq!(
        diagnostics[1].location.migration.as_deref(),
        Some("0003_post_subtitle")
    );
    assert!(
        diagnostics[1]
            .message
            .contains("`blog.0002_post_slug` is not"),
        "{}",
        diagnostics[1].message
    );
}

#[test]
fn a_new_app_is_unapplied_to_zero_and_squashes_are_not_foreign() {
    let mut old_files = main_files();
    old_files.push(("shop/__init__.py", String::new()));
    old_files.push(("shop/migrations/__init__.py", String::new()));
    old_files.push((
        "shop/migrations/0001_initial.py",
        migration(
            "('blog', '0001_initial')",
            "        migrations.CreateModel(name='Coupon', fields=[('id', models.BigAutoField(primary_key=True, serialize=False))]),",
        ),
    ));
    let old = project(&old_files);
    // The new revision squashed blog 0001-0002.
    let mut new_files = main_files();
    new_files.push((
        "blog/migrations/0001_squashed_0002.py",
        migration("", INITIAL).replace(
            "    dependencies",
            "    replaces = [('blog', '0001_initial'), ('blog', '0002_post_slug')]\n    dependencies",
        ),
    ));
    let mut new = project(&new_files);
    let applied = applied(&[
        ("blog", "0001_initial"),
        ("blog", "0002_post_slug"),
        ("shop", "0001_initial"),
    ]);
    rebuild_graph(&mut new, &applied);
    let drift = compute(&DriftInput {
        new: &new,
        old: Some(&old),
        stored: &[],
        applied: &applied,
    });
    assert_eq!(drift.foreign.len(), 1, "{drift:#?}");
    assert_eq!(drift.foreign[0].effects, vec!["creates table shop_coupon"]);
    assert_eq!(drift.unapply[0].target, None);
    assert_eq!(drift.unapply[0].target_name(), "zero");
    assert!(
        drift.unapplied.is_empty(),
        "the squash counts as applied: {drift:#?}"
    );
}

#[test]
fn effects_of_other_operations() {
    let p = project(&[("blog/migrations/0001_initial.py", migration("", INITIAL))]);
    let before = crate::state::replay(&p, None).state;
    let text = migration(
        "('blog', '0001_initial')",
        "        migrations.RenameField(model_name='post', old_name='title', new_name='headline'),\n        migrations.AlterField(model_name='post', name='headline', field=models.CharField(max_length=200, db_column='hl')),\n        migrations.AddConstraint(model_name='tag', constraint=models.UniqueConstraint(fields=['id'], name='tag_uniq')),\n        migrations.DeleteModel(name='Tag'),\n        migrations.RunSQL('UPDATE blog_post SET headline = upper(headline)', migrations.RunSQL.noop),\n        migrations.AlterModelOptions(name='post', options={'ordering': ['id']}),",
    );
    let m = parse_migration(
        &k("blog", "0002_x"),
        "blog/migrations/0002_x.py",
        "blog.migrations",
        text.as_bytes(),
    )
    .migration
    .expect("parses");
    assert_eq!(
        schema_effects(&m, &before, &p.settings),
        vec![
            "renames column blog_post.title to headline",
            "alters column blog_post.hl",
            "adds constraint tag_uniq on tags",
            "drops table tags",
            "runs SQL `UPDATE blog_post SET headline = upper(headline)`",
        ]
    );
}

#[test]
fn effects_name_the_indexes_field_options_imply() {
    let p = project(&[("blog/migrations/0001_initial.py", migration("", INITIAL))]);
    let before = crate::state::replay(&p, None).state;
    let text = migration(
        "('blog', '0001_initial')",
        "        migrations.CreateModel(name='Coupon', fields=[('id', models.BigAutoField(primary_key=True, serialize=False)), ('code', models.CharField(max_length=20, unique=True)), ('kind', models.CharField(max_length=5, db_index=True)), ('note', models.TextField())]),\n        migrations.AddField(model_name='post', name='slug', field=models.SlugField(db_index=True, db_column='sl')),\n        migrations.AddField(model_name='post', name='body', field=models.TextField(db_index=False)),\n        migrations.AlterField(model_name='post', name='title', field=models.CharField(max_length=100, unique=True)),\n        migrations.AlterField(model_name='coupon', name='kind', field=models.CharField(max_length=5)),\n        migrations.RemoveField(model_name='coupon', name='code'),\n        migrations.AddField(model_name='coupon', name='post', field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='blog.post')),\n        migrations.AddField(model_name='coupon', name='owner', field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='blog.post')),\n        migrations.AddField(model_name='coupon', name='main', field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, to='blog.post')),",
    );
    let m = parse_migration(
        &k("blog", "0002_x"),
        "blog/migrations/0002_x.py",
        "blog.migrations",
        text.as_bytes(),
    )
    .migration
    .expect("parses");
    assert_eq!(
        schema_effects(&m, &before, &p.settings),
        vec![
            "creates table blog_coupon",
            "adds unique index on blog_coupon.code",
            "adds index on blog_coupon.kind",
            "adds column blog_post.sl",
            "adds index on blog_post.sl",
            "adds column blog_post.body",
            "alters column blog_post.title",
            "adds unique index on blog_post.title",
            "alters column blog_coupon.kind",
            "removes index on blog_coupon.kind",
            "removes column blog_coupon.code",
            "adds column blog_coupon.post_id",
            "adds index on blog_coupon.post_id",
            "adds column blog_coupon.owner_id",
            "adds column blog_coupon.main_id",
            "adds unique index on blog_coupon.main_id",
        ]
    );
}

#[test]
fn the_shared_traversal_is_djangos_plan() {
    for name in ["basic", "conflict_merged", "large"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/django/projects")
            .join(name);
        let p = analyze(
            &crate::source::WorkTree::new(&dir),
            &Settings::default(),
            &AnalyzeOptions::default(),
        )
        .expect("analysis runs");
        let django: Vec<MigrationKey> = crate::state::plan(&p, None)
            .into_iter()
            .filter(|k| is_migration_node(&p, k))
            .collect();
        assert!(django.len() > 5, "{name}: {}", django.len());
        assert_eq!(apply_plan(&p, &AppliedSet::new()), django, "{name}");
        let half: AppliedSet = django.iter().step_by(2).cloned().collect();
        let rest: Vec<MigrationKey> = django
            .iter()
            .filter(|k| !half.contains(*k))
            .cloned()
            .collect();
        assert_eq!(apply_plan(&p, &half), rest, "{name}");
    }
}
