use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, OperationKind, Value};
use crate::rules::Rule;

use super::{at_operation, database_operations, model_lower, table_is_new};

pub const DOC: &str = r#"# blocking-index-creation (MG432)

## What it does
Reports an operation that builds an index on an existing table the
blocking way: `AddIndex`, and `AddConstraint` of an index-backed
constraint (`UniqueConstraint`, PostgreSQL's `ExclusionConstraint`).
`CheckConstraint` is not index-backed and not reported; neither are
`django.contrib.postgres`'s `AddIndexConcurrently` and
`AddConstraintNotValid`, nor indexes on a model created in the same
migration, in an `initial = True` migration or by an earlier migration of
the same push (the table is empty).

This only matters on **PostgreSQL**, where `CREATE INDEX` holds a lock
that blocks every `INSERT`, `UPDATE` and `DELETE` on the table until the
index is built. MySQL (InnoDB online DDL) builds secondary indexes without
blocking writes, and SQLite has no concurrent writers to block; on those,
turn the rule off.

## Why is this bad?
On a large table the build takes minutes, and all writes to the table
queue behind it: requests time out while the deploy is running. A
`UniqueConstraint` can also fail half-way through when existing rows
are not unique.

## Example
```python
operations = [
    migrations.AddIndex(
        model_name="product",
        index=models.Index(fields=["name"], name="shop_product_name_idx"),
    ),
]
```

## How to fix
Build the index concurrently, in a migration that is not atomic
(`CREATE INDEX CONCURRENTLY` cannot run in a transaction):
```python
from django.contrib.postgres.operations import AddIndexConcurrently

class Migration(migrations.Migration):
    atomic = False

    operations = [
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(fields=["name"], name="shop_product_name_idx"),
        ),
    ]
```
For a `UniqueConstraint`, build the unique index with a non-atomic
`RunSQL("CREATE UNIQUE INDEX CONCURRENTLY ...")` and add the constraint to
the model state only, with `SeparateDatabaseAndState`.
"#;

/// An index built on an existing table with writes blocked.
pub struct BlockingIndexCreation {
    pub model_name: String,
    /// `AddIndex` or `AddConstraint`.
    pub operation: String,
    /// `Index`, `GinIndex`, `UniqueConstraint`, ...
    pub class: String,
    /// The index or constraint name.
    pub index_name: Option<String>,
    pub fields: Vec<String>,
}

impl Violation for BlockingIndexCreation {
    fn rule(&self) -> Rule {
        Rule::BlockingIndexCreation
    }

    fn message(&self) -> String {
        let name = self
            .index_name
            .as_deref()
            .map(|n| format!(" `{n}`"))
            .unwrap_or_default();
        format!(
            "`{}` builds {}{name} on `{}` while blocking writes to the table (PostgreSQL)",
            self.operation, self.class, self.model_name
        )
    }

    fn help(&self) -> Option<String> {
        Some(if self.operation == "AddIndex" {
            "use `AddIndexConcurrently` from `django.contrib.postgres.operations` in a migration with `atomic = False`".into()
        } else {
            "build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY` in a migration with `atomic = False`, \
             and add the constraint to the state only with `SeparateDatabaseAndState`"
                .into()
        })
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "model_name": self.model_name,
            "operation": self.operation,
            "class": self.class,
            "index_name": self.index_name,
            "fields": self.fields,
        })
    }
}

/// Constraint classes that Django implements with an index.
const INDEX_BACKED_CONSTRAINTS: &[&str] = &["UniqueConstraint", "ExclusionConstraint"];

pub fn check(migration: &Migration) -> Vec<Diagnostic> {
    database_operations(migration)
        .filter_map(|op| {
            let call = match op.kind {
                OperationKind::AddIndex => op.arg("index")?.as_call()?,
                OperationKind::AddConstraint => {
                    let call = op.arg("constraint")?.as_call()?;
                    INDEX_BACKED_CONSTRAINTS
                        .contains(&call.class_name())
                        .then_some(call)?
                }
                _ => return None,
            };
            let model_name = model_lower(op);
            if table_is_new(migration, &model_name) {
                return None;
            }
            let fields = call
                .kwarg("fields")
                .and_then(Value::as_seq)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Some(Diagnostic::new(
                &BlockingIndexCreation {
                    model_name,
                    operation: op.type_name().to_owned(),
                    class: call.class_name().to_owned(),
                    index_name: call
                        .kwarg("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    fields,
                },
                at_operation(migration, op),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{lint_errors, lint_ok};

    #[test]
    fn fires_on_add_index_and_unique_constraints() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.AddIndex(model_name="product", index=models.Index(fields=["name"], name="shop_product_name_idx")),
migrations.AddConstraint(model_name="supplier", constraint=models.UniqueConstraint(fields=("name",), name="shop_supplier_name_uniq")),"#,
            |_, m| check(m)
        ));
    }

    #[test]
    fn concurrent_check_and_new_tables_are_fine() {
        lint_ok(
            r#"AddIndexConcurrently(model_name="product", index=models.Index(fields=["name"], name="shop_product_name_idx")),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.AddConstraint(model_name="product", constraint=models.CheckConstraint(condition=models.Q(price__gte=0), name="shop_price_gte_0")),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.CreateModel(name="Coupon", fields=[("id", models.BigAutoField(primary_key=True)), ("code", models.CharField(max_length=10))]),
migrations.AddIndex(model_name="coupon", index=models.Index(fields=["code"], name="shop_coupon_code_idx")),"#,
            |_, m| check(m),
        );
        lint_ok(
            r#"migrations.RunSQL("SELECT 1", migrations.RunSQL.noop, state_operations=[
    migrations.AddIndex(model_name="product", index=models.Index(fields=["name"], name="shop_product_name_idx")),
]),"#,
            |_, m| check(m),
        );
    }
}
