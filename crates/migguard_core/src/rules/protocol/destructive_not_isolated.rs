use crate::diagnostic::{Diagnostic, Violation};
use crate::model::{Migration, Operation, OperationKind};
use crate::rules::destructive::destructive_sql::destructive_sql;
use crate::rules::destructive::{at_operation, database_operations};
use crate::rules::Rule;

use super::{describe_all, OperationRef};

pub const DOC: &str = r#"# destructive-not-isolated (MG501)

## What it does
Reports a migration that mixes destructive operations (`RemoveField`,
`DeleteModel`, `RunSQL` that drops, truncates or deletes; see
`destructive-sql`) with additive ones (`CreateModel`, `AddField`,
`AddIndex`, `AddConstraint` and their PostgreSQL variants). Only
operations that reach the database count: `state_operations` are ignored.
A model or field that the migration itself creates and then drops held no
data and stays nowhere: it counts as neither.

## Why is this bad?
The migration protocol asks for destructive changes in their own migration,
deployed after the code stopped using what they remove. Mixed with
additions, the drop ships in the same release as the feature that needs
the additions: it cannot be held back, reviewed or rolled back on its own,
and unapplying the additions unapplies the drop as well (which cannot
bring the data back).

## Example
```python
operations = [
    migrations.AddField(model_name="product", name="description", field=models.TextField(blank=True)),
    migrations.DeleteModel(name="Coupon"),
]
```

## How to fix
Split the migration: keep the additive operations here and move the
destructive ones to a later migration (`makemigrations` after removing the
model or field in a separate change), deployed once nothing uses them.
"#;

/// A migration with both destructive and additive operations.
pub struct DestructiveNotIsolated {
    pub destructive: Vec<OperationRef>,
    pub additive: Vec<OperationRef>,
}

impl Violation for DestructiveNotIsolated {
    fn rule(&self) -> Rule {
        Rule::DestructiveNotIsolated
    }

    fn message(&self) -> String {
        format!(
            "destructive operations ({}) are mixed with additive ones ({}) in one migration",
            describe_all(&self.destructive),
            describe_all(&self.additive)
        )
    }

    fn help(&self) -> Option<String> {
        Some("move the destructive operations to a migration of their own, deployed after the code stops using them".into())
    }

    fn details(&self) -> serde_json::Value {
        let first = self.destructive.first();
        serde_json::json!({
            "model_name": first.and_then(|o| o.model_name.clone()),
            "name": first.and_then(|o| o.name.clone()),
            "destructive": self.destructive.iter().map(OperationRef::to_json).collect::<Vec<_>>(),
            "additive": self.additive.iter().map(OperationRef::to_json).collect::<Vec<_>>(),
        })
    }
}

/// `RemoveField`, `DeleteModel`, or `RunSQL` with destructive literal SQL.
pub fn is_destructive(op: &Operation) -> bool {
    match op.kind {
        OperationKind::RemoveField | OperationKind::DeleteModel => true,
        OperationKind::RunSQL => destructive_sql(op).is_some(),
        _ => false,
    }
}

pub fn is_additive(op: &Operation) -> bool {
    matches!(
        op.kind,
        OperationKind::CreateModel
            | OperationKind::AddField
            | OperationKind::AddIndex
            | OperationKind::AddConstraint
            | OperationKind::AddIndexConcurrently
            | OperationKind::AddConstraintNotValid
    )
}

/// The model and, for field operations, the field an operation acts on,
/// lower-cased.
fn target(op: &Operation) -> Option<(String, Option<String>)> {
    let model = op.model_name_lower()?;
    let field = match op.kind {
        OperationKind::AddField | OperationKind::RemoveField => {
            Some(op.str_arg("name")?.to_lowercase())
        }
        _ => None,
    };
    Some((model, field))
}

/// Whether `later` drops what `earlier` made: the model it created, or the
/// field it added (or a field of the model it created).
fn undoes(earlier: &Operation, later: &Operation) -> bool {
    let (Some((made_model, made_field)), Some((gone_model, gone_field))) =
        (target(earlier), target(later))
    else {
        return false;
    };
    if made_model != gone_model {
        return false;
    }
    match (earlier.kind, later.kind) {
        (OperationKind::CreateModel, OperationKind::DeleteModel | OperationKind::RemoveField) => {
            true
        }
        (OperationKind::AddField, OperationKind::DeleteModel) => true,
        (OperationKind::AddField, OperationKind::RemoveField) => made_field == gone_field,
        _ => false,
    }
}

pub fn check(migration: &Migration) -> Option<Diagnostic> {
    let ops: Vec<&Operation> = database_operations(migration).collect();
    // A drop of what the same migration made loses no data, and what it
    // made and dropped adds nothing: neither counts.
    let destructive: Vec<&Operation> = ops
        .iter()
        .enumerate()
        .filter(|(i, op)| is_destructive(op) && !ops[..*i].iter().any(|e| undoes(e, op)))
        .map(|(_, op)| *op)
        .collect();
    let additive: Vec<OperationRef> = ops
        .iter()
        .enumerate()
        .filter(|(i, op)| is_additive(op) && !ops[i + 1..].iter().any(|l| undoes(op, l)))
        .map(|(_, op)| OperationRef::of(op))
        .collect();
    let anchor = destructive.first()?;
    if additive.is_empty() {
        return None;
    }
    Some(Diagnostic::new(
        &DestructiveNotIsolated {
            destructive: destructive.iter().map(|op| OperationRef::of(op)).collect(),
            additive,
        },
        at_operation(migration, anchor),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{lint_errors, lint_ok};

    fn run(_: &crate::project::Project, m: &Migration) -> Vec<Diagnostic> {
        check(m).into_iter().collect()
    }

    #[test]
    fn fires_on_a_drop_beside_an_addition() {
        insta::assert_snapshot!(lint_errors(
            r#"migrations.AddField(model_name="product", name="description", field=models.TextField(blank=True)),
migrations.DeleteModel(name="Supplier"),
migrations.RunSQL("DELETE FROM shop_product WHERE price < 0", migrations.RunSQL.noop),"#,
            run
        ));
    }

    #[test]
    fn drops_alone_additions_alone_and_state_only_are_fine() {
        lint_ok(
            r#"migrations.RemoveField(model_name="product", name="price"),
migrations.DeleteModel(name="Supplier"),"#,
            run,
        );
        lint_ok(
            r#"migrations.AddField(model_name="product", name="description", field=models.TextField(blank=True)),
migrations.RunSQL("UPDATE shop_product SET name = upper(name)", migrations.RunSQL.noop),"#,
            run,
        );
        lint_ok(
            r#"migrations.AddField(model_name="product", name="description", field=models.TextField(blank=True)),
migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField(model_name="product", name="price")]),"#,
            run,
        );
    }

    /// A model or field made and dropped in one migration held no data.
    #[test]
    fn dropping_what_the_same_migration_made_is_not_destructive() {
        lint_ok(
            r#"migrations.CreateModel(name="Scratch", fields=[("id", models.AutoField(primary_key=True))]),
migrations.AddField(model_name="product", name="description", field=models.TextField(blank=True)),
migrations.AddField(model_name="product", name="tmp", field=models.TextField(blank=True)),
migrations.RemoveField(model_name="product", name="tmp"),
migrations.DeleteModel(name="scratch"),"#,
            run,
        );
        // A drop of something older still counts, beside what stays.
        let found = lint_errors(
            r#"migrations.CreateModel(name="Scratch", fields=[("id", models.AutoField(primary_key=True))]),
migrations.DeleteModel(name="Scratch"),
migrations.AddField(model_name="product", name="description", field=models.TextField(blank=True)),
migrations.RemoveField(model_name="product", name="price"),"#,
            run,
        );
        assert!(found.contains("RemoveField"), "{found}");
        assert!(!found.contains("DeleteModel"), "{found}");
    }
}
