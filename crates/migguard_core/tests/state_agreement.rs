//! migguard's replayed model state against Django's own
//! `MigrationLoader.project_state()`, on the fixture projects written by
//! real Django and on a small project written here whose migrations use
//! every state-changing operation (renames of models and fields with
//! relations pointing at them, `preserve_default=False`, option
//! operations, `RenameIndex` of an unnamed `index_together`, nested
//! `state_operations`, ...). The oracle (`tests/fixtures/django/state_oracle.py`)
//! runs live with `python3`, or `MIGGUARD_TEST_PYTHON`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use migguard_core::config::Settings;
use migguard_core::model::{Call, Value};
use migguard_core::project::{analyze, AnalyzeOptions, DjangoSettings, Project};
use migguard_core::source::WorkTree;
use migguard_core::state::{self, ModelState, StateReplay};
use serde_json::{json, Value as J};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> String {
    std::env::var("MIGGUARD_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Django's answer for a project directory.
fn oracle(dir: &Path) -> J {
    let script = repo_root().join("tests/fixtures/django/state_oracle.py");
    let output = Command::new(python())
        .arg(script)
        .arg(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("DJANGO_SETTINGS_MODULE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    assert!(
        output.status.success(),
        "state_oracle.py failed on {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let value: J = serde_json::from_slice(&output.stdout).expect("the oracle prints JSON");
    assert!(
        value.get("error").is_none(),
        "Django could not load {}: {value}",
        dir.display()
    );
    value
}

fn analyse(dir: &Path) -> Project {
    analyze(
        &WorkTree::new(dir),
        &Settings::default(),
        &AnalyzeOptions::default(),
    )
    .expect("analysis runs")
}

// ---------------------------------------------------------------------------
// Our values in the oracle's JSON vocabulary, and a comparison that only
// skips what neither side can show (`{"repr"}` from Django, `{"opaque"}` here).

fn ours(value: &Value) -> J {
    match value {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Str(s) => J::String(s.clone()),
        Value::BigInt(_) | Value::Bytes(_) | Value::Expr(_) => {
            json!({ "opaque": format!("{value:?}") })
        }
        Value::List(items) | Value::Tuple(items) => J::Array(items.iter().map(ours).collect()),
        Value::Set(items) => json!({ "set": items.iter().map(ours).collect::<Vec<_>>() }),
        Value::Dict(items) => {
            if items.iter().all(|(k, _)| k.as_str().is_some()) {
                J::Object(
                    items
                        .iter()
                        .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), ours(v)))
                        .collect(),
                )
            } else {
                J::Array(
                    items
                        .iter()
                        .map(|(k, v)| json!([ours(k), ours(v)]))
                        .collect(),
                )
            }
        }
        Value::Ref(r) => json!({ "ref": r.path }),
        Value::Call(call) => ours_call(call, &call.args, &call.kwargs),
    }
}

fn ours_call(call: &Call, args: &[Value], kwargs: &[(String, Value)]) -> J {
    json!({
        "path": call.func.path,
        "args": args.iter().map(ours).collect::<Vec<_>>(),
        "kwargs": J::Object(kwargs.iter().map(|(k, v)| (k.clone(), ours(v))).collect()),
    })
}

/// Whether our value shows what Django's shows; `Err` says where not.
fn agree(mine: &J, theirs: &J, at: &str) -> Result<(), String> {
    let differ = || Err(format!("{at}: ours {mine} != Django's {theirs}"));
    if theirs.get("repr").is_some() || mine.get("opaque").is_some() {
        return Ok(());
    }
    if let Some(path) = mine.get("ref").and_then(J::as_str) {
        let same = theirs["path"].as_str() == Some(path)
            || theirs["aliases"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(path)));
        return if same { Ok(()) } else { differ() };
    }
    if let Some(items) = mine.get("set").and_then(J::as_array) {
        let Some(their_items) = theirs.as_array() else {
            return differ();
        };
        return unordered(items, their_items, at).or_else(|_| differ());
    }
    match (mine, theirs) {
        (J::Array(a), J::Array(b)) => {
            if a.len() != b.len() {
                return differ();
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                agree(x, y, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        (J::Object(a), J::Object(b)) => {
            let keys_a: BTreeSet<&String> = a.keys().collect();
            let keys_b: BTreeSet<&String> = b.keys().collect();
            if keys_a != keys_b {
                return Err(format!("{at}: keys {keys_a:?} != Django's {keys_b:?}"));
            }
            for (k, v) in a {
                agree(v, &b[k], &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (J::Number(a), J::Number(b)) => {
            if a.as_f64() == b.as_f64() {
                Ok(())
            } else {
                differ()
            }
        }
        _ if mine == theirs => Ok(()),
        _ => differ(),
    }
}

/// The same elements, in any order.
fn unordered(mine: &[J], theirs: &[J], at: &str) -> Result<(), String> {
    if mine.len() != theirs.len() {
        return Err(format!(
            "{at}: {} elements, Django has {}",
            mine.len(),
            theirs.len()
        ));
    }
    let mut used = vec![false; theirs.len()];
    for m in mine {
        let found = (0..theirs.len()).find(|&i| !used[i] && agree(m, &theirs[i], at).is_ok());
        match found {
            Some(i) => used[i] = true,
            None => return Err(format!("{at}: {m} has no match in Django's {theirs:?}")),
        }
    }
    Ok(())
}

/// `to` as Django deconstructs it: `"app.model"` lower-cased (`"model"`
/// when no app is given), a swappable setting through the settings.
fn deconstructed_to(value: &Value, settings: &DjangoSettings) -> Option<String> {
    let text = match value {
        Value::Str(s) => s.clone(),
        Value::Ref(r) => settings.swappable(r.path.rsplit('.').next()?)?,
        _ => return None,
    };
    Some(match text.split_once('.') {
        Some((app, model)) => format!("{app}.{}", model.to_lowercase()),
        None => text.to_lowercase(),
    })
}

/// `normalize_together` on Django's side: the oracle shows the option as
/// Django holds it (`CreateModel` keeps it as written).
fn together_groups(value: &J) -> Vec<J> {
    match value.as_array() {
        Some(items) if items.first().is_some_and(|f| !f.is_array()) => vec![value.clone()],
        Some(items) => items.clone(),
        None => Vec::new(),
    }
}

#[derive(Default)]
struct Tally {
    models: usize,
    fields: usize,
    options: usize,
}

fn compare_model(
    mine: &ModelState,
    theirs: &J,
    settings: &DjangoSettings,
    tally: &mut Tally,
    errors: &mut Vec<String>,
) {
    let model = format!("{}.{}", mine.app_label, mine.name);
    tally.models += 1;
    if theirs["name"].as_str() != Some(mine.name.as_str()) {
        errors.push(format!("{model}: Django names it {}", theirs["name"]));
    }

    // Fields: names in order, class path, every keyword argument.
    let their_fields = theirs["fields"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = mine.field_names().collect();
    let their_names: Vec<&str> = their_fields.iter().filter_map(|f| f[0].as_str()).collect();
    if names != their_names {
        errors.push(format!(
            "{model}: fields {names:?} != Django's {their_names:?}"
        ));
        return;
    }
    for ((name, field), their) in mine.fields.iter().zip(&their_fields) {
        tally.fields += 1;
        let at = format!("{model}.{name}");
        let their = &their[1];
        if their["path"].as_str() != Some(field.func.path.as_str()) {
            errors.push(format!(
                "{at}: class {} != Django's {}",
                field.func.path, their["path"]
            ));
        }
        let (rest, kwargs) = state::normalized_kwargs(field);
        if let Err(e) = agree(
            &J::Array(rest.iter().map(ours).collect()),
            &their["args"],
            &format!("{at} args"),
        ) {
            errors.push(e);
        }
        let their_kwargs = their["kwargs"].as_object().cloned().unwrap_or_default();
        let keys: BTreeSet<&str> = kwargs.iter().map(|(k, _)| k.as_str()).collect();
        let their_keys: BTreeSet<&str> = their_kwargs.keys().map(String::as_str).collect();
        if keys != their_keys {
            errors.push(format!("{at}: kwargs {keys:?} != Django's {their_keys:?}"));
            continue;
        }
        for (key, value) in &kwargs {
            let their_value = &their_kwargs[key.as_str()];
            if key == "to" {
                let to = deconstructed_to(value, settings);
                if to.as_deref() != their_value.as_str() {
                    errors.push(format!("{at}: to {to:?} != Django's {their_value}"));
                }
                continue;
            }
            if let Err(e) = agree(&ours(value), their_value, &format!("{at}.{key}")) {
                errors.push(e);
            }
        }
    }

    // Options: the same keys; together options as sets; the rest as values.
    let their_options = theirs["options"].as_object().cloned().unwrap_or_default();
    let keys: BTreeSet<&str> = mine.options.keys().map(String::as_str).collect();
    let their_keys: BTreeSet<&str> = their_options.keys().map(String::as_str).collect();
    if keys != their_keys {
        errors.push(format!(
            "{model}: options {keys:?} != Django's {their_keys:?}"
        ));
    }
    for (key, value) in &mine.options {
        let Some(their_value) = their_options.get(key) else {
            continue;
        };
        tally.options += 1;
        let at = format!("{model} options.{key}");
        let result = if key == "unique_together" || key == "index_together" {
            match (ours(value), their_value) {
                (J::Array(groups), _) => unordered(&groups, &together_groups(their_value), &at),
                (mine, theirs) => agree(&mine, theirs, &at),
            }
        } else {
            agree(&ours(value), their_value, &at)
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }

    let bases = J::Array(mine.bases.iter().map(ours).collect());
    if let Err(e) = agree(&bases, &theirs["bases"], &format!("{model} bases")) {
        errors.push(e);
    }
    let managers: Vec<&str> = mine.managers.iter().map(|(n, _)| n.as_str()).collect();
    let their_managers: Vec<&str> = theirs["managers"]
        .as_array()
        .map(|a| a.iter().filter_map(J::as_str).collect())
        .unwrap_or_default();
    if managers != their_managers {
        errors.push(format!(
            "{model}: managers {managers:?} != Django's {their_managers:?}"
        ));
    }
}

/// Replay `dir`, ask Django, compare everything; returns our replay.
/// Prints a one-line summary (see it with `--nocapture`).
#[allow(clippy::print_stderr)]
fn check_agreement(label: &str, dir: &Path) -> StateReplay {
    let project = analyse(dir);
    let replay = state::replay(&project, None);
    let django = oracle(dir);
    let theirs = django["models"].as_array().cloned().unwrap_or_default();

    let mut errors = Vec::new();
    let our_keys: BTreeSet<(String, String)> = replay.state.models.keys().cloned().collect();
    let their_keys: BTreeSet<(String, String)> = theirs
        .iter()
        .map(|m| {
            let app = m["app_label"].as_str().unwrap_or_default().to_owned();
            (app, m["name"].as_str().unwrap_or_default().to_lowercase())
        })
        .collect();
    if our_keys != their_keys {
        errors.push(format!(
            "models differ: only ours {:?}, only Django's {:?}",
            our_keys.difference(&their_keys).collect::<Vec<_>>(),
            their_keys.difference(&our_keys).collect::<Vec<_>>()
        ));
    }
    let mut tally = Tally::default();
    for their in &theirs {
        let app = their["app_label"].as_str().unwrap_or_default();
        let name = their["name"].as_str().unwrap_or_default();
        if let Some(mine) = replay.state.model(app, name) {
            compare_model(mine, their, &project.settings, &mut tally, &mut errors);
        }
    }
    assert!(
        replay.warnings.is_empty(),
        "{label}: unexpected state warnings:\n{}",
        replay
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        errors.is_empty(),
        "{label}: {} disagreement(s) with Django's project_state():\n{}",
        errors.len(),
        errors
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "state agreement {label}: {} migrations replayed, {} models, {} fields, {} options: all agree with Django {}",
        replay.plan.len(),
        tally.models,
        tally.fields,
        tally.options,
        django["django_version"].as_str().unwrap_or("?")
    );
    replay
}

fn fixture(name: &str) -> PathBuf {
    repo_root()
        .join("tests/fixtures/django/projects")
        .join(name)
}

#[test]
fn basic_agrees_with_django() {
    let replay = check_agreement("basic", &fixture("basic"));
    // The squashed catalogue migration stands for 0001-0004.
    assert!(replay
        .plan
        .iter()
        .any(|k| k.app == "catalogue" && k.name == "0001_squashed_0004_item_price"));
    assert!(!replay
        .plan
        .iter()
        .any(|k| k.app == "catalogue" && k.name == "0002_item"));
    let origin = replay
        .field_origin("blog", "post", "legacy_id")
        .expect("legacy_id has an origin");
    assert_eq!(origin.added.migration.name, "0011_post_legacy_id");
}

#[test]
fn conflict_merged_agrees_with_django() {
    check_agreement("conflict_merged", &fixture("conflict_merged"));
}

#[test]
fn large_agrees_with_django() {
    check_agreement("large", &fixture("large"));
}

// ---------------------------------------------------------------------------
// A project written here, with every state-changing operation.
//
// `unique_together` is written as makemigrations writes it (a set of tuples)
// on the model whose fields are renamed: Django keeps `CreateModel`'s value
// as written and `rename_field` iterates it, so a flat tuple there would be
// turned into lists of characters in Django's state. migguard normalises it
// first; the flat form is exercised on `Club`, which no rename touches.

const HEADER: &str = "import django.db.models.deletion\nimport django.db.models.manager\nimport django.utils.timezone\nfrom django.conf import settings\nfrom django.db import migrations, models\n\n\n";

const ZOO_0001: &str = r#"class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Animal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50)),
                ('code', models.CharField(max_length=10, unique=True)),
                ('legs', models.IntegerField(default=4)),
                ('born', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['name'],
                'verbose_name': 'animal',
                'unique_together': {('name', 'legs')},
            },
        ),
        migrations.CreateModel(
            name='Keeper',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField('Name', max_length=30)),
                ('animal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='keepers', to='zoo.animal', to_field='code')),
                ('boss', models.ForeignKey('self', models.SET_NULL, null=True, blank=True)),
                ('favourites', models.ManyToManyField(related_name='fans', to='zoo.Animal')),
                ('user', models.OneToOneField(null=True, on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='Club',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=20)),
            ],
            options={'unique_together': ('title',)},
        ),
        migrations.CreateModel(
            name='Membership',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('club', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='zoo.club')),
                ('keeper', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='Keeper')),
            ],
        ),
        migrations.AddField(
            model_name='club',
            name='members',
            field=models.ManyToManyField(through='zoo.Membership', to='zoo.keeper'),
        ),
    ]
"#;

const ZOO_0002: &str = r#"class Migration(migrations.Migration):

    dependencies = [
        ('zoo', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='animal',
            name='weight',
            field=models.DecimalField(decimal_places=2, default=0, max_digits=6),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='animal',
            name='name',
            field=models.CharField(max_length=80, null=True),
        ),
        migrations.RenameField(model_name='animal', old_name='code', new_name='tag'),
        migrations.RenameField(model_name='animal', old_name='name', new_name='title'),
        migrations.AlterIndexTogether(name='animal', index_together={('title', 'legs'), ('legs',)}),
        migrations.AddIndex(model_name='animal', index=models.Index(fields=['legs'], name='zoo_legs_idx')),
        migrations.RenameIndex(model_name='animal', new_name='zoo_legs_idx2', old_name='zoo_legs_idx'),
        migrations.RenameIndex(model_name='animal', new_name='zoo_title_legs_idx', old_fields=('title', 'legs')),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.CheckConstraint(condition=models.Q(('legs__gte', 0)), name='zoo_legs_pos'),
        ),
        migrations.AlterConstraint(
            model_name='animal',
            name='zoo_legs_pos',
            constraint=models.CheckConstraint(condition=models.Q(('legs__gte', 0)), name='zoo_legs_pos', violation_error_message='negative legs'),
        ),
        migrations.AddConstraint(
            model_name='animal',
            constraint=models.UniqueConstraint(fields=('title',), name='zoo_title_uniq'),
        ),
        migrations.RemoveConstraint(model_name='animal', name='zoo_title_uniq'),
        migrations.AlterModelOptions(
            name='animal',
            options={'permissions': [('pet', 'Can pet')], 'verbose_name': 'beast'},
        ),
        migrations.AlterModelTable(name='animal', table='zoo_beasts'),
        migrations.AlterModelTableComment(name='animal', table_comment='All the animals'),
        migrations.AlterModelManagers(
            name='keeper',
            managers=[('people', django.db.models.manager.Manager())],
        ),
        migrations.AlterOrderWithRespectTo(name='keeper', order_with_respect_to='animal'),
        migrations.AlterUniqueTogether(name='keeper', unique_together={('name', 'animal')}),
        migrations.AddField(model_name='keeper', name='nickname', field=models.SlugField(default='x')),
        migrations.RemoveField(model_name='keeper', name='nickname'),
        migrations.AddField(model_name='keeper', name='badge', field=models.PositiveIntegerField(null=True)),
    ]
"#;

const PARK_0001: &str = r#"class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ('zoo', '0002_changes'),
    ]

    operations = [
        migrations.CreateModel(
            name='Enclosure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=5)),
                ('resident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='zoo.animal')),
                ('warden', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to='zoo.keeper')),
            ],
        ),
        migrations.CreateModel(
            name='Gate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('enclosure', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, to='park.enclosure')),
            ],
        ),
    ]
"#;

const ZOO_0003: &str = r#"class Migration(migrations.Migration):

    dependencies = [
        ('zoo', '0002_changes'),
        ('park', '0001_initial'),
    ]

    operations = [
        migrations.RenameModel(old_name='Animal', new_name='Creature'),
        migrations.RenameModel(old_name='Membership', new_name='Enrolment'),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql="ALTER TABLE zoo_keeper ADD COLUMN note text DEFAULT ''",
                    reverse_sql="ALTER TABLE zoo_keeper DROP COLUMN note",
                ),
            ],
            state_operations=[
                migrations.AddField(model_name='keeper', name='note', field=models.TextField(blank=True, default='')),
            ],
        ),
        migrations.RunSQL(
            sql="SELECT 1",
            reverse_sql=migrations.RunSQL.noop,
            state_operations=[
                migrations.RemoveField(model_name='keeper', name='badge'),
            ],
        ),
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
        migrations.CreateModel(
            name='Temp',
            fields=[('id', models.AutoField(primary_key=True, serialize=False))],
        ),
        migrations.DeleteModel(name='Temp'),
        migrations.CreateModel(
            name='Pet',
            fields=[],
            options={'proxy': True, 'indexes': [], 'constraints': []},
            bases=('zoo.creature',),
        ),
    ]
"#;

const PARK_0002: &str = r#"class Migration(migrations.Migration):

    dependencies = [
        ('park', '0001_initial'),
        ('zoo', '0003_renames'),
    ]

    operations = [
        migrations.AlterField(model_name='enclosure', name='label', field=models.CharField(max_length=3)),
        migrations.RenameField(model_name='enclosure', old_name='resident', new_name='animal'),
    ]
"#;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn zoo_project(root: &Path) {
    write(
        root,
        "manage.py",
        "import os\nimport sys\n\nif __name__ == '__main__':\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n",
    );
    write(root, "config/__init__.py", "");
    write(
        root,
        "config/settings.py",
        "SECRET_KEY = 'x'\nINSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes', 'zoo', 'park']\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}\nDEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'\nUSE_TZ = True\n",
    );
    for app in ["zoo", "park"] {
        write(root, &format!("{app}/__init__.py"), "");
        write(root, &format!("{app}/models.py"), "");
        write(root, &format!("{app}/migrations/__init__.py"), "");
    }
    for (path, body) in [
        ("zoo/migrations/0001_initial.py", ZOO_0001),
        ("zoo/migrations/0002_changes.py", ZOO_0002),
        ("zoo/migrations/0003_renames.py", ZOO_0003),
        ("park/migrations/0001_initial.py", PARK_0001),
        ("park/migrations/0002_label.py", PARK_0002),
    ] {
        write(root, path, &format!("{HEADER}{body}"));
    }
}

#[test]
fn every_state_operation_agrees_with_django() {
    let dir = tempfile::tempdir().expect("tempdir");
    zoo_project(dir.path());
    let replay = check_agreement("zoo (every state operation)", dir.path());

    // Spot checks of what the comparison above covers, for readers.
    let creature = replay
        .state
        .model("zoo", "creature")
        .expect("Animal renamed to Creature");
    assert_eq!(creature.name, "Creature");
    assert!(replay.state.model("zoo", "animal").is_none());
    let keeper = replay.state.model("zoo", "keeper").expect("keeper");
    let animal = keeper.field("animal").expect("keeper.animal");
    assert_eq!(
        state::relation_target(animal),
        Some(&Value::Str("zoo.Creature".into()))
    );
    assert_eq!(
        state::field_arg(animal, "to_field"),
        Some(&Value::Str("tag".into()))
    );
    assert!(creature
        .field("weight")
        .is_some_and(|w| w.kwarg("default").is_none()));
    let origin = replay
        .field_origin("park", "enclosure", "animal")
        .expect("origin");
    assert_eq!(
        (
            origin.added.migration.name.as_str(),
            origin.last_set.migration.name.as_str()
        ),
        ("0001_initial", "0002_label")
    );
    let title = replay
        .field_origin("zoo", "creature", "title")
        .expect("origin");
    assert_eq!(title.added.migration.name, "0001_initial");
    assert_eq!(title.last_set.migration.name, "0002_changes");
}
