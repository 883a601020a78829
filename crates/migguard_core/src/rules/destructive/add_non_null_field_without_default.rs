use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Call, Migration, OperationKind, Value};
use crate::rules::Rule;

use super::{at_operation, database_operations_of, field_name, model_lower, table_is_new};

pub const DOC: &str = r#"# add-non-null-field-without-default (MG431)

## What it does
Reports an `AddField` that adds a `NOT NULL` column with nothing to put in
the rows the table already holds. It follows what Django's schema editor
uses to fill existing rows (`effective_default`), so these are **not**
reported:
- `null=True`;
- a `default` other than `None`, or a `db_default`. With
  `preserve_default=False` (what `makemigrations` writes when you type a
  one-off default at its prompt) the default is still applied to existing
  rows while the column is added; it is only left out of the model state
  afterwards;
- `blank=True` on a field that stores strings (`CharField`, `TextField`,
  `SlugField`, `EmailField`, `URLField`, `FileField`, `BinaryField`, ...):
  Django fills existing rows with `""`. Unknown field classes with
  `blank=True` are given the benefit of the doubt;
- `auto_now=True` / `auto_now_add=True` date and time fields (filled with
  the current time), auto fields, `GeneratedField`, `ManyToManyField`
  (no column);
- a model created in the same migration, or any `initial = True`
  migration, or by an earlier migration of the same push (or of the
  same `check --since` selection): the table has no rows yet.

## Why is this bad?
Adding a `NOT NULL` column without a default fails on any table that has
rows: PostgreSQL says `column "stock" of relation "shop_product" contains
null values`, SQLite `NOT NULL constraint failed`. It passes in
development and tests, where tables are empty, and breaks the deploy.
`makemigrations` never writes this shape itself (it asks for a default);
it comes from hand-written or hand-edited migrations.

## Example
```python
operations = [
    migrations.AddField(
        model_name="product",
        name="stock",
        field=models.PositiveIntegerField(),
    ),
]
```

## How to fix
Give existing rows a value: a `default` (a one-off one with
`preserve_default=False` if the model should not keep it), a `db_default`,
or add the column with `null=True`, backfill it, and make it `NOT NULL` in
a later migration.
"#;

/// An `AddField` of a `NOT NULL` column without any default.
pub struct AddNonNullFieldWithoutDefault {
    pub model_name: String,
    pub name: String,
    /// The field class as written: `PositiveIntegerField`.
    pub field_class: String,
}

impl Violation for AddNonNullFieldWithoutDefault {
    fn rule(&self) -> Rule {
        Rule::AddNonNullFieldWithoutDefault
    }

    fn message(&self) -> String {
        format!(
            "`AddField` adds `{}.{}` ({}) as NOT NULL without a default: it fails on a table that has rows",
            self.model_name, self.name, self.field_class
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "give it a `default` (with `preserve_default=False` for a one-off value), a `db_default`, \
             or add it with `null=True` and tighten it after a backfill"
                .into(),
        )
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model_name": self.model_name,
            "name": self.name,
            "field_class": self.field_class,
        })
    }
}

/// Field classes whose `empty_strings_allowed` is false in Django: for
/// them `blank=True` gives existing rows no value.
const NON_STRING_FIELDS: &[&str] = &[
    "BooleanField",
    "NullBooleanField",
    "DateField",
    "DateTimeField",
    "TimeField",
    "DurationField",
    "DecimalField",
    "FloatField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "IPAddressField",
    "GenericIPAddressField",
    "UUIDField",
    "ForeignKey",
    "OneToOneField",
    "JSONField",
    "ArrayField",
    "HStoreField",
    "IntegerRangeField",
    "BigIntegerRangeField",
    "DecimalRangeField",
    "DateTimeRangeField",
    "DateRangeField",
];

/// Fields that need no value from the migration.
const SELF_FILLING_FIELDS: &[&str] = &[
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "GeneratedField",
    "ManyToManyField",
];

fn is_true(call: &Call, name: &str) -> bool {
    call.kwarg(name).and_then(Value::as_bool) == Some(true)
}

/// True when Django would add the column with nothing for existing rows.
pub fn lacks_effective_default(field: &Call) -> bool {
    let class = field.class_name();
    if SELF_FILLING_FIELDS.contains(&class) {
        return false;
    }
    // `null=<something not literal>` might be true: do not guess.
    if field
        .kwarg("null")
        .is_some_and(|v| v.as_bool() != Some(false))
    {
        return false;
    }
    if field.kwarg("db_default").is_some() || field.kwarg("default").is_some_and(|v| !v.is_none()) {
        return false;
    }
    if field
        .kwarg("blank")
        .is_some_and(|v| v.as_bool() != Some(false))
        && !NON_STRING_FIELDS.contains(&class)
    {
        return false;
    }
    !(is_true(field, "auto_now") || is_true(field, "auto_now_add"))
}

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations_of(migration, OperationKind::AddField)
        .filter_map(|op| {
            let field = op.arg("field")?.as_call()?;
            let model_name = model_lower(op);
            if !lacks_effective_default(field) || table_is_new(migration, &model_name) {
                return None;
            }
            Some(Diagnostic::new(
                &AddNonNullFieldWithoutDefault {
                    model_name,
                    name: field_name(op),
                    field_class: field.class_name().to_owned(),
                },
                at_operation(migration, op),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{
        lint_errors, lint_ok, lint_ok_in, migration_with, project,
    };

    fn add(field: &str) -> String {
        format!(r#"migrations.AddField(model_name="product", name="extra", field={field}),"#)
    }

    #[test]
    fn fires_without_any_default() {
        insta::assert_snapshot!(lint_errors(
            &[
                add("models.PositiveIntegerField()"),
                add("models.IntegerField(default=None)"),
                add(
                    "models.ForeignKey(on_delete=models.CASCADE, to=\"shop.supplier\", blank=True)"
                ),
            ]
            .join("\n"),
            |_, m| check(m)
        ));
    }

    #[test]
    fn anything_that_fills_existing_rows_is_fine() {
        for field in [
            "models.IntegerField(null=True)",
            "models.IntegerField(default=0)",
            "models.IntegerField(db_default=0)",
            "models.CharField(max_length=10, blank=True)",
            "models.TextField(blank=True)",
            "models.DateTimeField(auto_now_add=True)",
            "models.DateField(auto_now=True)",
            "models.ManyToManyField(to=\"shop.supplier\")",
            "models.BigAutoField(primary_key=True, serialize=False)",
        ] {
            lint_ok(&add(field), |_, m| check(m));
        }
        // What `makemigrations` writes after a one-off default at its prompt.
        lint_ok(
            r#"migrations.AddField(model_name="product", name="stock", field=models.PositiveIntegerField(default=0), preserve_default=False),"#,
            |_, m| check(m),
        );
    }

    #[test]
    fn new_tables_are_fine() {
        lint_ok(
            r#"migrations.CreateModel(name="Coupon", fields=[("id", models.BigAutoField(primary_key=True))]),
migrations.AddField(model_name="coupon", name="product", field=models.ForeignKey(on_delete=models.CASCADE, to="shop.product")),"#,
            |_, m| check(m),
        );
        let initial = project(&[(
            "0002_initial",
            migration_with("    initial = True\n", &add("models.IntegerField()")),
        )]);
        lint_ok_in(&initial, "0002_initial", |_, m| check(m));
    }

    #[test]
    fn state_only_is_fine() {
        lint_ok(
            &format!(
                "migrations.SeparateDatabaseAndState(state_operations=[{}]),",
                add("models.IntegerField()").trim_end_matches(',')
            ),
            |_, m| check(m),
        );
    }
}
