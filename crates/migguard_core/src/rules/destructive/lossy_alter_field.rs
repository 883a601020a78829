use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Location, Violation};
use crate::model::{Call, Migration, Operation, OperationKind, Value};
use crate::project::Project;
use crate::rules::Rule;
use crate::state::{self, field_arg, ProjectState};

pub const DOC: &str = r#"# lossy-alter-field (MG404)

## What it does
Reports an `AlterField` that reaches the database and whose new definition
can lose or reject data the column already holds, compared with the
field's previous definition (the model state replayed from every migration
before this one, and from the operations before it in the same migration):

- a different field class, except the widening changes below;
- a shorter `max_length` (or a limit on a `CharField` that had none);
- fewer `decimal_places`, or fewer digits before the decimal point
  (`max_digits - decimal_places`) on a `DecimalField`;
- `null=True` to `null=False` without a `default` or `db_default` (with
  one, Django fills the existing NULLs before adding `NOT NULL`).

Changes that are never reported, because every existing value fits:
`SmallIntegerField` → `IntegerField` → `BigIntegerField` (and the
`Positive*` and `*AutoField` variants to a type at least as wide that
accepts their values; a positive type to a signed one only when it is
strictly wider), `CharField`/`SlugField`/`EmailField`/`URLField`/`FileField`/
`ImageField`/`FilePathField` → `TextField` or to one another with a
`max_length` at least as long, `DateField` → `DateTimeField`,
`OneToOneField` → `ForeignKey`.

An `AlterField` inside the `state_operations` of
`SeparateDatabaseAndState` (or of `RunSQL`) does not touch the database and
is not reported, nor is one on a model created earlier in the same
migration (its table is empty).

## Why is this bad?
The database converts every row when the column changes: values too long
are truncated (MySQL, SQLite) or make the migration fail (PostgreSQL),
decimals are rounded, a text that is not a number cannot become an
integer, and `SET NOT NULL` fails as soon as one row holds NULL. A
migration that fails halfway through a deploy leaves the database and the
code out of step; one that silently truncates loses data for good, and
unapplying it does not bring the data back.

## Example
```python
# 0001: models.CharField(max_length=200), models.IntegerField(null=True)
operations = [
    migrations.AlterField(
        model_name="product",
        name="name",
        field=models.CharField(max_length=50),
    ),
    migrations.AlterField(
        model_name="product",
        name="stock",
        field=models.IntegerField(),
    ),
]
```

## How to fix
Check the data first (`SELECT max(length(name)) FROM shop_product`,
`SELECT count(*) FROM shop_product WHERE stock IS NULL`), and clean it in a
`RunPython` or `RunSQL` that runs before the `AlterField` (shorten the
values, fill the NULLs, convert what does not convert), or give the field
a `default` when it becomes NOT NULL. For a type change, add a new field,
copy and convert the data, then remove the old field in a later deploy.
When the data is known to fit, silence the finding with
`# migguard: ignore[lossy-alter-field]` on the operation's line.
"#;

/// How an `AlterField` can lose data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossReason {
    /// A different field class, not a known widening.
    TypeChange,
    /// A shorter `max_length` (or a limit where there was none).
    ShorterMaxLength,
    /// Fewer `decimal_places`: values are rounded.
    FewerDecimalPlaces,
    /// Fewer digits before the decimal point: large values do not fit.
    FewerIntegerDigits,
    /// `null=True` to `null=False` without a default.
    NullToNotNull,
}

impl LossReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LossReason::TypeChange => "type-change",
            LossReason::ShorterMaxLength => "shorter-max-length",
            LossReason::FewerDecimalPlaces => "fewer-decimal-places",
            LossReason::FewerIntegerDigits => "fewer-integer-digits",
            LossReason::NullToNotNull => "null-to-not-null",
        }
    }
}

/// An `AlterField` whose new definition can lose or reject existing data.
pub struct LossyAlterField {
    /// The model as the operation names it.
    pub model: String,
    pub field: String,
    /// The previous definition, as far as it matters for `reason`
    /// (`IntegerField`, `max_length=100`, `null=True`, ...).
    pub old: String,
    /// The new definition, the same way.
    pub new: String,
    pub reason: LossReason,
}

impl Violation for LossyAlterField {
    fn rule(&self) -> Rule {
        Rule::LossyAlterField
    }

    fn message(&self) -> String {
        let (model, field, old, new) = (&self.model, &self.field, &self.old, &self.new);
        match self.reason {
            LossReason::TypeChange => format!(
                "`AlterField` changes `{model}.{field}` from `{old}` to `{new}`: existing values may not convert"
            ),
            LossReason::ShorterMaxLength => format!(
                "`AlterField` shortens `{model}.{field}` from {old} to {new}: longer values are truncated or fail"
            ),
            LossReason::FewerDecimalPlaces => format!(
                "`AlterField` reduces the decimal places of `{model}.{field}` ({old} to {new}): existing values are rounded"
            ),
            LossReason::FewerIntegerDigits => format!(
                "`AlterField` leaves `{model}.{field}` fewer digits before the decimal point ({old} to {new}): larger values fail"
            ),
            LossReason::NullToNotNull => format!(
                "`AlterField` makes `{model}.{field}` NOT NULL without a default: the migration fails if any row holds NULL"
            ),
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self.reason {
            LossReason::TypeChange => format!(
                "add a new field, copy and convert the data in a `RunPython`, then remove `{}` in a later deploy",
                self.field
            ),
            LossReason::ShorterMaxLength | LossReason::FewerDecimalPlaces | LossReason::FewerIntegerDigits => format!(
                "check that every value of `{}.{}` fits, and fix those that do not in a `RunPython` before this operation",
                self.model, self.field
            ),
            LossReason::NullToNotNull => format!(
                "fill the NULLs of `{}.{}` in a `RunPython` before this operation, or give the field a `default`",
                self.model, self.field
            ),
        })
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model_name": self.model,
            "name": self.field,
            "reason": self.reason.as_str(),
            "old": self.old,
            "new": self.new,
        })
    }
}

/// Frames of `SeparateDatabaseAndState.database_operations` followed (each
/// clones the state); deeper ones are not checked.
const MAX_FRAMES: usize = 8;

/// Every lossy `AlterField` of `migration`, `before` being the project state
/// just before it (see [`state::replay_with`]). The state is stepped through
/// the migration's operations, so an `AlterField` is compared with the
/// definition the previous operations left.
pub fn check(project: &Project, migration: &Migration, before: &ProjectState) -> Vec<Diagnostic> {
    if !migration
        .all_operations()
        .any(|(op, db)| db && op.kind == OperationKind::AlterField)
    {
        return Vec::new();
    }
    struct Frame<'a> {
        ops: &'a [Operation],
        next: usize,
        state: ProjectState,
    }
    let settings = &project.settings;
    let app = migration.key.app.as_str();
    let mut out = Vec::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut stack = vec![Frame {
        ops: &migration.operations,
        next: 0,
        state: touched_models(before, migration),
    }];
    while let Some(top) = stack.len().checked_sub(1) {
        let frame = &stack[top];
        let Some(op) = frame.ops.get(frame.next) else {
            // A frame of database operations is done: its parent applies the
            // `SeparateDatabaseAndState` (state operations only) and moves on.
            stack.pop();
            if let Some(parent) = stack.last_mut() {
                if let Some(sdas) = parent.ops.get(parent.next) {
                    parent.state.apply_operation(migration, sdas, settings);
                }
                parent.next += 1;
            }
            continue;
        };
        if op.kind == OperationKind::SeparateDatabaseAndState
            && stack.len() < MAX_FRAMES
            && has_database_alter_field(&op.database_operations)
        {
            // Django runs each database operation against its own copy of the state.
            let state = frame.state.clone();
            stack.push(Frame {
                ops: &op.database_operations,
                next: 0,
                state,
            });
            continue;
        }
        match op.kind {
            OperationKind::CreateModel => {
                if let Some(model) = op.model_name_lower() {
                    created.insert(model);
                }
            }
            OperationKind::AlterField => {
                let lower = op.model_name_lower().unwrap_or_default();
                if !created.contains(&lower) {
                    out.extend(findings(migration, op, app, &frame.state));
                }
            }
            _ => {}
        }
        let frame = &mut stack[top];
        frame.state.apply_operation(migration, op, settings);
        frame.next += 1;
    }
    out
}

/// [`check`] on every migration of the project, each against the state
/// replayed up to it.
pub fn check_project(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    state::replay_with(project, None, |migration, before| {
        out.extend(check(project, migration, before));
    });
    out
}

/// The part of `before` the migration's operations name: the models of its
/// app that an operation acts on (by their name at that point; a
/// `RenameModel` names the old one). Field definitions only depend on
/// those, so the rest of the state is not cloned.
fn touched_models(before: &ProjectState, migration: &Migration) -> ProjectState {
    let app = &migration.key.app;
    let names: BTreeSet<String> = migration
        .all_operations()
        .filter_map(|(op, _)| op.model_name_lower())
        .collect();
    ProjectState {
        models: before
            .models
            .iter()
            .filter(|((a, m), _)| a == app && names.contains(m))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn has_database_alter_field(ops: &[Operation]) -> bool {
    ops.iter().any(|o| {
        o.walk()
            .iter()
            .any(|(x, db)| *db && x.kind == OperationKind::AlterField)
    })
}

fn findings(
    migration: &Migration,
    op: &Operation,
    app: &str,
    state: &ProjectState,
) -> Vec<Diagnostic> {
    let (Some(model), Some(name), Some(new)) = (
        op.str_arg("model_name"),
        op.str_arg("name"),
        op.arg("field").and_then(Value::as_call),
    ) else {
        return Vec::new();
    };
    // Unknown previous definition (a model from outside the project): nothing to compare.
    let Some(old) = state.field(app, model, name) else {
        return Vec::new();
    };
    let location = Location::file(migration.path.clone())
        .in_migration(&migration.key.app, &migration.key.name)
        .at(op.line, op.column, Some(op.span));
    losses(old, new)
        .into_iter()
        .map(|(reason, old, new)| {
            Diagnostic::new(
                &LossyAlterField {
                    model: model.to_owned(),
                    field: name.to_owned(),
                    old,
                    new,
                    reason,
                },
                location.clone(),
            )
        })
        .collect()
}

/// How `new` loses data compared with `old`: `(reason, old, new)`.
fn losses(old: &Call, new: &Call) -> Vec<(LossReason, String, String)> {
    let (old_class, new_class) = (class_key(old), class_key(new));
    if old_class != new_class && !is_widening(&old_class, &new_class) {
        return vec![(
            LossReason::TypeChange,
            old.class_name().to_owned(),
            new.class_name().to_owned(),
        )];
    }
    let mut out = Vec::new();
    if let Some(loss) = max_length_loss(old, &old_class, new, &new_class) {
        out.push(loss);
    }
    if old_class == "DecimalField" && new_class == "DecimalField" {
        out.extend(decimal_losses(old, new));
    }
    let many_to_many =
        old_class.ends_with("ManyToManyField") || new_class.ends_with("ManyToManyField");
    let was_null = field_arg(old, "null") == Some(&Value::Bool(true));
    let is_null = field_arg(new, "null").map(|v| v.as_bool());
    let has_default = field_arg(new, "default").is_some() || new.kwarg("db_default").is_some();
    // `null` not literal on the new field: unknown, not reported.
    if !many_to_many && was_null && matches!(is_null, None | Some(Some(false))) && !has_default {
        out.push((
            LossReason::NullToNotNull,
            "null=True".to_owned(),
            "null=False".to_owned(),
        ));
    }
    out
}

/// Django's own classes by name (`models.CharField` and
/// `django.db.models.fields.CharField` are the same class); others by path.
fn class_key(field: &Call) -> String {
    if field.func.path.starts_with("django.") {
        field.class_name().to_owned()
    } else {
        field.func.path.clone()
    }
}

/// Character columns (`varchar`), whose limit is `max_length`.
const VARCHAR: &[&str] = &[
    "CharField",
    "SlugField",
    "EmailField",
    "URLField",
    "FileField",
    "ImageField",
    "FilePathField",
];

/// Integer classes: (width in bytes, accepts negative values).
fn integer(class: &str) -> Option<(u8, bool)> {
    Some(match class {
        "SmallIntegerField" | "SmallAutoField" => (2, true),
        "PositiveSmallIntegerField" => (2, false),
        "IntegerField" | "AutoField" => (4, true),
        "PositiveIntegerField" => (4, false),
        "BigIntegerField" | "BigAutoField" => (8, true),
        "PositiveBigIntegerField" => (8, false),
        _ => return None,
    })
}

/// The class changes that keep every value (documented in `DOC`).
fn is_widening(old: &str, new: &str) -> bool {
    if let (Some((old_width, old_signed)), Some((new_width, new_signed))) =
        (integer(old), integer(new))
    {
        // A positive type may be unsigned (MySQL): a signed type holds all of
        // its values only when strictly wider.
        return match (old_signed, new_signed) {
            (true, true) | (false, false) => new_width >= old_width,
            (false, true) => new_width > old_width,
            (true, false) => false,
        };
    }
    (VARCHAR.contains(&old) && (new == "TextField" || VARCHAR.contains(&new)))
        || (old == "DateField" && new == "DateTimeField")
        || (old == "OneToOneField" && new == "ForeignKey")
}

/// A field's `max_length`: `Some(Some(n))` a limit, `Some(None)` none at all
/// (a `CharField` without one, a `TextField`), `None` unknown.
fn max_length(field: &Call, class: &str) -> Option<Option<i64>> {
    match field_arg(field, "max_length") {
        Some(Value::Int(n)) => return Some(Some(*n)),
        Some(Value::None) if class == "CharField" => return Some(None),
        Some(_) => return None,
        None => {}
    }
    let default = match class {
        "SlugField" => 50,
        "URLField" => 200,
        "EmailField" => 254,
        "FileField" | "ImageField" | "FilePathField" => 100,
        "CharField" | "TextField" => return Some(None),
        _ => return None,
    };
    Some(Some(default))
}

fn describe_length(limit: Option<i64>) -> String {
    limit.map_or_else(|| "no max_length".to_owned(), |n| format!("max_length={n}"))
}

fn max_length_loss(
    old: &Call,
    old_class: &str,
    new: &Call,
    new_class: &str,
) -> Option<(LossReason, String, String)> {
    if !VARCHAR.contains(&new_class) || !(VARCHAR.contains(&old_class) || old_class == "TextField")
    {
        return None;
    }
    let (old_limit, new_limit) = (max_length(old, old_class)?, max_length(new, new_class)?);
    let shorter = match (old_limit, new_limit) {
        (Some(o), Some(n)) => n < o,
        (None, Some(_)) => true,
        (_, None) => false,
    };
    shorter.then(|| {
        (
            LossReason::ShorterMaxLength,
            describe_length(old_limit),
            describe_length(new_limit),
        )
    })
}

fn decimal_losses(old: &Call, new: &Call) -> Vec<(LossReason, String, String)> {
    let digits = |f: &Call| match (field_arg(f, "max_digits"), field_arg(f, "decimal_places")) {
        (Some(Value::Int(m)), Some(Value::Int(d))) => Some((*m, *d)),
        _ => None,
    };
    let (Some((old_digits, old_places)), Some((new_digits, new_places))) =
        (digits(old), digits(new))
    else {
        return Vec::new();
    };
    let describe = |m: i64, d: i64| format!("max_digits={m}, decimal_places={d}");
    let mut out = Vec::new();
    if new_places < old_places {
        out.push((
            LossReason::FewerDecimalPlaces,
            format!("decimal_places={old_places}"),
            format!("decimal_places={new_places}"),
        ));
    }
    if new_digits - new_places < old_digits - old_places {
        out.push((
            LossReason::FewerIntegerDigits,
            describe(old_digits, old_places),
            describe(new_digits, new_places),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::project::{analyze, AnalyzeOptions};
    use crate::source::MemorySource;

    const INITIAL: &str = r#"from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("code", models.SlugField()),
                ("notes", models.TextField(blank=True)),
                ("stock", models.IntegerField(null=True)),
                ("rank", models.PositiveSmallIntegerField(default=0)),
                ("price", models.DecimalField(decimal_places=2, max_digits=10)),
                ("day", models.DateField()),
            ],
        ),
    ]
"#;

    /// A project with `0001_initial` and `0002_change` made of `ops`.
    fn project(ops: &str) -> Project {
        let second = format!(
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\n    operations = [\n{ops}\n    ]\n"
        );
        let source = MemorySource::new("test")
            .with("shop/__init__.py", "")
            .with("shop/migrations/__init__.py", "")
            .with("shop/migrations/0001_initial.py", INITIAL)
            .with("shop/migrations/0002_change.py", second);
        let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default())
            .expect("analysis runs");
        assert!(project.diagnostics.is_empty(), "{:#?}", project.diagnostics);
        project
    }

    fn lint(ops: &str) -> Vec<Diagnostic> {
        let found = check_project(&project(ops));
        assert!(
            found.iter().all(|d| d.rule == Rule::LossyAlterField
                && d.location.path.as_deref() == Some("shop/migrations/0002_change.py")
                && d.location.line.is_some()),
            "{found:#?}"
        );
        found
    }

    fn reasons(ops: &str) -> Vec<String> {
        lint(ops)
            .iter()
            .map(|d| d.details["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn alter(field: &str, definition: &str) -> String {
        format!("        migrations.AlterField(model_name='product', name='{field}', field={definition}),")
    }

    #[test]
    fn type_change_is_reported_with_its_location_and_details() {
        let found = lint(&alter(
            "stock",
            "models.CharField(max_length=10, null=True)",
        ));
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = &found[0];
        assert_eq!(d.location.line, Some(8));
        assert_eq!(d.location.migration.as_deref(), Some("0002_change"));
        assert_eq!(
            d.details,
            serde_json::json!({"model_name": "product", "name": "stock", "reason": "type-change", "old": "IntegerField", "new": "CharField"})
        );
        assert!(
            d.message
                .contains("`product.stock` from `IntegerField` to `CharField`"),
            "{}",
            d.message
        );
        assert_eq!(
            reasons(&alter(
                "notes",
                "models.CharField(blank=True, max_length=500)"
            )),
            ["type-change"]
        );
        assert_eq!(
            reasons(&alter("rank", "models.SmallIntegerField(default=0)")),
            ["type-change"]
        );
        assert_eq!(
            reasons(&alter("stock", "models.PositiveIntegerField(null=True)")),
            ["type-change"]
        );
    }

    #[test]
    fn shorter_lengths_and_fewer_digits_are_reported() {
        assert_eq!(
            reasons(&alter("name", "models.CharField(max_length=50)")),
            ["shorter-max-length"]
        );
        // SlugField's implicit max_length is 50.
        assert_eq!(
            reasons(&alter("code", "models.SlugField(max_length=20)")),
            ["shorter-max-length"]
        );
        assert_eq!(
            reasons(&alter("code", "models.CharField(max_length=40)")),
            ["shorter-max-length"]
        );
        assert_eq!(
            reasons(&alter(
                "price",
                "models.DecimalField(decimal_places=1, max_digits=9)"
            )),
            ["fewer-decimal-places"]
        );
        assert_eq!(
            reasons(&alter(
                "price",
                "models.DecimalField(decimal_places=2, max_digits=8)"
            )),
            ["fewer-integer-digits"]
        );
        // More decimal places within the same max_digits: fewer integer digits.
        assert_eq!(
            reasons(&alter(
                "price",
                "models.DecimalField(decimal_places=4, max_digits=10)"
            )),
            ["fewer-integer-digits"]
        );
        let found = lint(&alter("name", "models.CharField(max_length=50)"));
        assert_eq!(found[0].details["old"], "max_length=100");
        assert_eq!(found[0].details["new"], "max_length=50");
    }

    #[test]
    fn null_to_not_null_without_default_is_reported() {
        assert_eq!(
            reasons(&alter("stock", "models.IntegerField()")),
            ["null-to-not-null"]
        );
        assert_eq!(
            reasons(&alter("stock", "models.IntegerField(null=False)")),
            ["null-to-not-null"]
        );
        // Django fills the NULLs with the default before `SET NOT NULL`.
        assert!(reasons(
            "        migrations.AlterField(model_name='product', name='stock', field=models.IntegerField(default=0), preserve_default=False),"
        )
        .is_empty());
    }

    #[test]
    fn near_misses_are_not_reported() {
        for (field, definition) in [
            ("stock", "models.BigIntegerField(null=True)"),
            ("rank", "models.PositiveIntegerField(default=0)"),
            ("rank", "models.IntegerField(default=0)"),
            ("name", "models.CharField(max_length=200)"),
            ("name", "models.CharField(max_length=100, db_index=True)"),
            ("name", "models.TextField()"),
            ("code", "models.CharField(max_length=50)"),
            ("notes", "models.TextField(blank=True, null=True)"),
            ("stock", "models.IntegerField(null=True, blank=True)"),
            (
                "price",
                "models.DecimalField(decimal_places=3, max_digits=12)",
            ),
            ("day", "models.DateTimeField()"),
        ] {
            let found = lint(&alter(field, definition));
            assert!(found.is_empty(), "{field} -> {definition}: {found:#?}");
        }
        // null=False -> null=True widens.
        assert!(lint(&alter(
            "name",
            "models.CharField(max_length=100, null=True)"
        ))
        .is_empty());
    }

    #[test]
    fn state_only_and_new_tables_are_not_reported() {
        let state_only = "        migrations.SeparateDatabaseAndState(state_operations=[migrations.AlterField(model_name='product', name='name', field=models.CharField(max_length=5))]),";
        assert!(lint(state_only).is_empty());
        let sql_state = "        migrations.RunSQL('SELECT 1', state_operations=[migrations.AlterField(model_name='product', name='stock', field=models.IntegerField())]),";
        assert!(lint(sql_state).is_empty());
        let database = "        migrations.SeparateDatabaseAndState(database_operations=[migrations.AlterField(model_name='product', name='name', field=models.CharField(max_length=5))]),";
        assert_eq!(reasons(database), ["shorter-max-length"]);
        let new_table = "        migrations.CreateModel(name='Box', fields=[('id', models.AutoField(primary_key=True, serialize=False)), ('size', models.CharField(max_length=10))]),\n        migrations.AlterField(model_name='box', name='size', field=models.CharField(max_length=5)),";
        assert!(lint(new_table).is_empty());
    }

    #[test]
    fn earlier_operations_of_the_same_migration_count() {
        // Widened then narrowed back within one migration: compared with the
        // widened definition.
        let ops = format!(
            "{}\n{}",
            alter("name", "models.CharField(max_length=300)"),
            alter("name", "models.CharField(max_length=200)")
        );
        let found = lint(&ops);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].details["old"], "max_length=300");
        // A renamed field is found under its new name.
        let ops = format!(
            "        migrations.RenameField(model_name='product', old_name='name', new_name='title'),\n{}",
            alter("title", "models.CharField(max_length=10)")
        );
        assert_eq!(reasons(&ops), ["shorter-max-length"]);
    }

    #[test]
    fn fields_of_unknown_models_are_skipped() {
        let ops = "        migrations.AlterField(model_name='ghost', name='x', field=models.IntegerField()),";
        assert!(lint(ops).is_empty());
    }
}
