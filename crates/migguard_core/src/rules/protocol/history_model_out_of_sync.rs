use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, Operation, OperationKind, Value};
use crate::project::Project;
use crate::rules::destructive::at_operation;
use crate::rules::Rule;

pub const DOC: &str = r#"# history-model-out-of-sync (MG503)

## What it does
For projects using django-simple-history: reports a field operation
(`AddField`, `RemoveField`, `AlterField`, `RenameField`) on a model `Foo`
whose history model `HistoricalFoo` exists in the same app (an earlier
migration of the app creates it), when the same migration does not do the
same operation on the same field of `historicalfoo`.

Both database and state operations count. Not reported: many-to-many
fields (simple-history does not track them), and models whose history
model is created in the same migration (its `CreateModel` carries the
current fields). Simple-history changes some field options on the history
model (a `unique` field becomes `db_index`, foreign keys lose their
constraint), so an `AlterField` that only touches such options may have no
counterpart; ignore it on that line.

## Why is this bad?
The history table is written on every save. When it misses a field the
model gained, history rows silently lose that value; when it keeps a
required column the model dropped, every save fails with a `NOT NULL`
violation on the history table. It usually means `makemigrations` ran
with simple-history missing or outdated, or the migration was written by
hand. The migration protocol asks for historical models to follow every
model change.

## Example
```python
operations = [
    migrations.AddField(model_name="product", name="stock", field=models.IntegerField(default=0)),
    # no AddField on "historicalproduct"
]
```

## How to fix
Run `makemigrations` with django-simple-history installed so it writes the
history model's operations, or add them by hand:
```python
migrations.AddField(model_name="historicalproduct", name="stock", field=models.IntegerField(default=0)),
```
"#;

/// A field change on a tracked model that its history model does not follow.
pub struct HistoryModelOutOfSync {
    pub model_name: String,
    pub name: String,
    /// `AddField`, `RemoveField`, `AlterField` or `RenameField`.
    pub operation: String,
    /// `historicalfoo`.
    pub history_model: String,
}

impl Violation for HistoryModelOutOfSync {
    fn rule(&self) -> Rule {
        Rule::HistoryModelOutOfSync
    }

    fn message(&self) -> String {
        format!(
            "`{op}` on `{model}.{field}` has no matching `{op}` on its history model `{history}`",
            op = self.operation,
            model = self.model_name,
            field = self.name,
            history = self.history_model
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "add the same `{}` for `{}` (run `makemigrations` with django-simple-history installed)",
            self.operation, self.history_model
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model_name": self.model_name,
            "name": self.name,
            "operation": self.operation,
            "history_model": self.history_model,
        })
    }
}

const FIELD_OPERATIONS: &[OperationKind] = &[
    OperationKind::AddField,
    OperationKind::RemoveField,
    OperationKind::AlterField,
    OperationKind::RenameField,
];

const PREFIX: &str = "historical";

/// The field an operation is about (`old_name` for a rename).
fn field_of(op: &Operation) -> Option<&str> {
    match op.kind {
        OperationKind::RenameField => op.str_arg("old_name"),
        _ => op.str_arg("name"),
    }
}

/// `historicalfoo` models created by `CreateModel` in these migrations.
fn created_history_models<'a>(migrations: impl Iterator<Item = &'a Migration>) -> BTreeSet<String> {
    migrations
        .flat_map(|m| m.all_operations())
        .filter(|(op, _)| op.kind == OperationKind::CreateModel)
        .filter_map(|(op, _)| op.model_name_lower())
        .filter(|name| name.len() > PREFIX.len() && name.starts_with(PREFIX))
        .collect()
}

/// The migrations of `migration`'s app that run before it, in plan order;
/// every other migration of the app when it is not in the graph.
fn earlier_in_app<'a>(project: &'a Project, migration: &Migration) -> Vec<&'a Migration> {
    let plan = project.graph.graph.forwards_plan(&migration.key);
    if plan.is_empty() {
        return project
            .migrations
            .iter()
            .filter(|m| m.key.app == migration.key.app && m.key != migration.key)
            .collect();
    }
    plan.iter()
        .filter(|k| k.app == migration.key.app && **k != migration.key)
        .filter_map(|k| project.migration(k))
        .collect()
}

/// The class of a field as last defined in these migrations (plan order).
fn field_class(migrations: &[&Migration], model: &str, field: &str) -> Option<String> {
    let mut class = None;
    for (op, _) in migrations.iter().flat_map(|m| m.all_operations()) {
        if op.model_name_lower().as_deref() != Some(model) {
            continue;
        }
        match op.kind {
            OperationKind::CreateModel => {
                let fields = op.arg("fields").and_then(Value::as_seq).unwrap_or_default();
                for item in fields {
                    if let Some([name, value]) = item.as_seq() {
                        if name.as_str() == Some(field) {
                            class = value.as_call().map(|c| c.class_name().to_owned());
                        }
                    }
                }
            }
            OperationKind::AddField | OperationKind::AlterField
                if op.str_arg("name") == Some(field) =>
            {
                class = op
                    .arg("field")
                    .and_then(Value::as_call)
                    .map(|c| c.class_name().to_owned());
            }
            _ => {}
        }
    }
    class
}

fn is_many_to_many(op: &Operation, earlier: &[&Migration], model: &str, field: &str) -> bool {
    let class = match op.arg("field").and_then(Value::as_call) {
        Some(call) => Some(call.class_name().to_owned()),
        None => field_class(earlier, model, field),
    };
    class.as_deref() == Some("ManyToManyField")
}

pub fn check(project: &Project, migration: &Migration) -> Vec<Diagnostic> {
    let app = &migration.key.app;
    // Cheap test first: most apps have no history models at all.
    let anywhere = created_history_models(project.migrations.iter().filter(|m| &m.key.app == app));
    if anywhere.is_empty() {
        return Vec::new();
    }
    let earlier = earlier_in_app(project, migration);
    let tracked = created_history_models(earlier.iter().copied());
    let created_here = created_history_models(std::iter::once(migration));
    let ops: Vec<&Operation> = migration.all_operations().map(|(op, _)| op).collect();
    let mut out = Vec::new();
    for op in &ops {
        if !FIELD_OPERATIONS.contains(&op.kind) {
            continue;
        }
        let (Some(model), Some(field)) = (op.model_name_lower(), field_of(op)) else {
            continue;
        };
        let history = format!("{PREFIX}{model}");
        if model.starts_with(PREFIX)
            || !tracked.contains(&history)
            || created_here.contains(&history)
        {
            continue;
        }
        if is_many_to_many(op, &earlier, &model, field) {
            continue;
        }
        let followed = ops.iter().any(|other| {
            other.kind == op.kind
                && other.model_name_lower().as_deref() == Some(history.as_str())
                && field_of(other) == Some(field)
        });
        if !followed {
            out.push(Diagnostic::new(
                &HistoryModelOutOfSync {
                    model_name: model,
                    name: field.to_owned(),
                    operation: op.type_name().to_owned(),
                    history_model: history,
                },
                at_operation(migration, op),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{
        lint_errors, lint_errors_in, lint_ok, lint_ok_in, migration, project,
    };

    #[test]
    fn fires_when_the_history_model_is_left_behind() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.AddField(model_name="product", name="stock", field=models.IntegerField(default=0)),
migrations.RemoveField(model_name="product", name="price"),
migrations.RemoveField(model_name="historicalproduct", name="name"),
migrations.RenameField(model_name="product", old_name="name", new_name="title"),"#,
            check
        ));
    }

    #[test]
    fn matching_history_operations_are_fine() {
        lint_ok(
            r#"migrations.AddField(model_name="product", name="stock", field=models.IntegerField(default=0)),
migrations.AddField(model_name="historicalproduct", name="stock", field=models.IntegerField(default=0)),
migrations.AlterField(model_name="product", name="name", field=models.CharField(max_length=50)),
migrations.AlterField(model_name="historicalproduct", name="name", field=models.CharField(max_length=50)),
migrations.RenameField(model_name="product", old_name="price", new_name="unit_price"),
migrations.RenameField(model_name="historicalproduct", old_name="price", new_name="unit_price"),"#,
            check,
        );
    }

    #[test]
    fn untracked_models_and_many_to_many_are_fine() {
        lint_ok(
            r#"migrations.AddField(model_name="supplier", name="stock", field=models.IntegerField(default=0)),
migrations.RemoveField(model_name="product", name="tags"),
migrations.AddField(model_name="product", name="suppliers", field=models.ManyToManyField(to="shop.supplier")),"#,
            check,
        );
    }

    #[test]
    fn history_created_later_or_here_does_not_count() {
        let p = project(&[
            (
                "0002_supplier_stock",
                migration(r#"migrations.AddField(model_name="supplier", name="stock", field=models.IntegerField(default=0)),"#),
            ),
            (
                "0003_historicalsupplier",
                migration(
                    r#"migrations.AddField(model_name="supplier", name="code", field=models.IntegerField(default=0)),
migrations.CreateModel(name="HistoricalSupplier", fields=[("history_id", models.AutoField(primary_key=True))]),"#,
                )
                .replace("0001_initial", "0002_supplier_stock"),
            ),
            (
                "0004_supplier_rating",
                migration(r#"migrations.AddField(model_name="supplier", name="rating", field=models.IntegerField(default=0)),"#)
                    .replace("0001_initial", "0003_historicalsupplier"),
            ),
        ]);
        lint_ok_in(&p, "0002_supplier_stock", check);
        lint_ok_in(&p, "0003_historicalsupplier", check);
        let text = lint_errors_in(&p, "0004_supplier_rating", check);
        assert!(text.contains("historicalsupplier"), "{text}");
    }
}
