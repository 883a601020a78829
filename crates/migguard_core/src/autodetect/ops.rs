//! The operations the autodetector generates, with what Django's optimizer
//! needs of them: `references_model`, `references_field` and `reduce`
//! (`django/db/migrations/operations/`), and `MigrationOptimizer`.

use std::collections::BTreeSet;

use crate::model::{Call, Value};
use crate::models::SourceLine;
use crate::project::DjangoSettings;
use crate::state::ModelKey;

/// An operation class the autodetector writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    CreateModel,
    DeleteModel,
    AddField,
    RemoveField,
    AlterField,
    AlterModelOptions,
    AlterModelManagers,
    AlterModelTable,
    AlterModelTableComment,
    AlterUniqueTogether,
    AlterIndexTogether,
    AlterOrderWithRespectTo,
    AddIndex,
    RemoveIndex,
    RenameIndex,
    AddConstraint,
    RemoveConstraint,
    AlterConstraint,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::CreateModel => "CreateModel",
            OpKind::DeleteModel => "DeleteModel",
            OpKind::AddField => "AddField",
            OpKind::RemoveField => "RemoveField",
            OpKind::AlterField => "AlterField",
            OpKind::AlterModelOptions => "AlterModelOptions",
            OpKind::AlterModelManagers => "AlterModelManagers",
            OpKind::AlterModelTable => "AlterModelTable",
            OpKind::AlterModelTableComment => "AlterModelTableComment",
            OpKind::AlterUniqueTogether => "AlterUniqueTogether",
            OpKind::AlterIndexTogether => "AlterIndexTogether",
            OpKind::AlterOrderWithRespectTo => "AlterOrderWithRespectTo",
            OpKind::AddIndex => "AddIndex",
            OpKind::RemoveIndex => "RemoveIndex",
            OpKind::RenameIndex => "RenameIndex",
            OpKind::AddConstraint => "AddConstraint",
            OpKind::RemoveConstraint => "RemoveConstraint",
            OpKind::AlterConstraint => "AlterConstraint",
        }
    }

    fn is_field_op(self) -> bool {
        matches!(
            self,
            OpKind::AddField | OpKind::RemoveField | OpKind::AlterField
        )
    }

    fn is_option_op(self) -> bool {
        matches!(
            self,
            OpKind::AlterModelOptions
                | OpKind::AlterModelManagers
                | OpKind::AlterModelTable
                | OpKind::AlterModelTableComment
                | OpKind::AlterUniqueTogether
                | OpKind::AlterIndexTogether
                | OpKind::AlterOrderWithRespectTo
        )
    }

    fn is_together(self) -> bool {
        matches!(
            self,
            OpKind::AlterUniqueTogether | OpKind::AlterIndexTogether
        )
    }
}

/// Django's `OperationDependency.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DepType {
    Create,
    Remove,
    Alter,
    RemoveOrderWrt,
    AlterFooTogether,
}

/// `OperationDependency(app_label, model_name, field_name, type)`;
/// `app == "__setting__"` names a swappable setting in `model`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dep {
    pub app: String,
    pub model: String,
    pub field: Option<String>,
    pub ty: DepType,
}

impl Dep {
    pub fn new(app: &str, model: &str, field: Option<&str>, ty: DepType) -> Dep {
        Dep {
            app: app.to_owned(),
            model: model.to_owned(),
            field: field.map(str::to_owned),
            ty,
        }
    }
}

/// One generated operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub kind: OpKind,
    /// `name` of model operations (`CreateModel`: the model's name as
    /// written; others: lower-cased), `model_name` of field and index ones.
    pub model: String,
    /// The field, index or constraint name (`new_name` of `RenameIndex`).
    pub name: Option<String>,
    /// `CreateModel`: its fields. `AddField`/`AlterField`: the field.
    pub fields: Vec<(String, Call)>,
    /// `CreateModel`: its bases.
    pub bases: Vec<Value>,
    /// `CreateModel`: `options["proxy"]`.
    pub proxy: bool,
    /// `AlterUniqueTogether`/`AlterIndexTogether`: the option value.
    pub together: Option<BTreeSet<Vec<String>>>,
    /// `AlterOrderWithRespectTo`: the field.
    pub order_wrt: Option<String>,
    pub deps: Vec<Dep>,
    /// Where in `models.py` the change is.
    pub location: Option<SourceLine>,
    /// What differs, for people.
    pub detail: String,
}

impl Op {
    pub fn new(kind: OpKind, model: &str, name: Option<&str>) -> Op {
        Op {
            kind,
            model: model.to_owned(),
            name: name.map(str::to_owned),
            fields: Vec::new(),
            bases: Vec::new(),
            proxy: false,
            together: None,
            order_wrt: None,
            deps: Vec::new(),
            location: None,
            detail: String::new(),
        }
    }

    pub fn model_lower(&self) -> String {
        self.model.to_lowercase()
    }

    fn field(&self) -> Option<&Call> {
        match self.kind {
            OpKind::AddField | OpKind::AlterField => self.fields.first().map(|(_, f)| f),
            _ => None,
        }
    }

    fn same_field(&self, other: &Op) -> bool {
        self.model_lower() == other.model_lower()
            && self.name.as_deref().map(str::to_lowercase)
                == other.name.as_deref().map(str::to_lowercase)
    }
}

/// What a relational field points at, resolved.
pub struct Remote {
    pub to: Option<ModelKey>,
    pub through: Option<ModelKey>,
    /// The swappable setting `to` is written through.
    pub setting: Option<String>,
    pub to_field: Option<String>,
    pub many_to_many: bool,
    pub primary_key: bool,
    pub parent_link: bool,
}

fn key_of(label: &str, app: &str, model_lower: &str) -> ModelKey {
    if label == "self" {
        return (app.to_owned(), model_lower.to_owned());
    }
    match label.split_once('.') {
        Some((a, m)) => (a.to_owned(), m.to_lowercase()),
        None => (app.to_owned(), label.to_lowercase()),
    }
}

/// The relation of a canonical field, seen from `(app, model_lower)`.
pub fn remote(
    field: &Call,
    app: &str,
    model_lower: &str,
    settings: &DjangoSettings,
) -> Option<Remote> {
    let to = field.kwarg("to")?;
    let (to, setting) = match to {
        Value::Str(s) => (Some(key_of(s, app, model_lower)), None),
        Value::Ref(r) => {
            let setting = r.path.rsplit('.').next().unwrap_or(&r.path).to_owned();
            let target = settings
                .swappable(&setting)
                .map(|t| key_of(&t, app, model_lower));
            (target, Some(setting))
        }
        _ => (None, None),
    };
    let through = match field.kwarg("through") {
        Some(Value::Str(s)) => Some(key_of(s, app, model_lower)),
        _ => None,
    };
    let truthy = |name: &str| matches!(field.kwarg(name), Some(Value::Bool(true)));
    Some(Remote {
        to,
        through,
        setting,
        to_field: field
            .kwarg("to_field")
            .and_then(Value::as_str)
            .map(str::to_owned),
        many_to_many: field.kwarg("on_delete").is_none(),
        primary_key: truthy("primary_key"),
        parent_link: truthy("parent_link"),
    })
}

/// `field_references()`.
fn field_references(
    model: &ModelKey,
    field: &Call,
    reference: &ModelKey,
    field_name: Option<&str>,
    settings: &DjangoSettings,
) -> bool {
    let Some(remote) = remote(field, &model.0, &model.1, settings) else {
        return false;
    };
    if remote.to.as_ref() == Some(reference) {
        let to_any = match (&remote.to_field, field_name) {
            (_, None) => true,
            (None, _) => true,
            (Some(to_field), Some(name)) => to_field == name,
        };
        if to_any || remote.many_to_many {
            return true;
        }
    }
    if remote.through.as_ref() == Some(reference) {
        let through_fields = field.kwarg("through_fields").and_then(Value::as_seq);
        return match (through_fields, field_name) {
            (None, _) | (_, None) => true,
            (Some(names), Some(name)) => names.iter().any(|n| n.as_str() == Some(name)),
        };
    }
    false
}

pub struct Optimizer<'s> {
    pub app: String,
    pub settings: &'s DjangoSettings,
}

/// `reduce()`'s answer.
enum Reduced {
    Into(Vec<Op>),
    Through(bool),
}

impl Optimizer<'_> {
    fn key(&self, model: &str) -> ModelKey {
        (self.app.clone(), model.to_lowercase())
    }

    fn references_model(&self, op: &Op, name: &str) -> bool {
        let name_lower = name.to_lowercase();
        match op.kind {
            OpKind::DeleteModel => true,
            OpKind::CreateModel => {
                if name_lower == op.model_lower() {
                    return true;
                }
                let reference = self.key(name);
                let own = self.key(&op.model);
                op.bases.iter().any(|b| match b {
                    Value::Str(label) => key_of(label, &self.app, &own.1) == reference,
                    _ => false,
                }) || op
                    .fields
                    .iter()
                    .any(|(_, f)| field_references(&own, f, &reference, None, self.settings))
            }
            k if k.is_option_op() => name_lower == op.model_lower(),
            k if k.is_field_op() => {
                if name_lower == op.model_lower() {
                    return true;
                }
                match op.field() {
                    Some(f) => field_references(
                        &self.key(&op.model),
                        f,
                        &self.key(name),
                        None,
                        self.settings,
                    ),
                    None => false,
                }
            }
            _ => true,
        }
    }

    fn references_field(&self, op: &Op, model: &str, name: &str) -> bool {
        let model_lower = model.to_lowercase();
        match op.kind {
            k if k.is_field_op() => {
                if model_lower == op.model_lower() {
                    if op.name.as_deref() == Some(name) {
                        return true;
                    }
                    if let Some(f) = op.field() {
                        let from = f.kwarg("from_fields").and_then(Value::as_seq);
                        if from.is_some_and(|names| names.iter().any(|n| n.as_str() == Some(name)))
                        {
                            return true;
                        }
                    }
                }
                match op.field() {
                    Some(f) => field_references(
                        &self.key(&op.model),
                        f,
                        &self.key(model),
                        Some(name),
                        self.settings,
                    ),
                    None => false,
                }
            }
            k if k.is_together() => {
                self.references_model(op, model)
                    && match &op.together {
                        None => true,
                        Some(set) if set.is_empty() => true,
                        Some(set) => set.iter().any(|fields| fields.iter().any(|f| f == name)),
                    }
            }
            OpKind::AlterOrderWithRespectTo => {
                self.references_model(op, model)
                    && match &op.order_wrt {
                        None => true,
                        Some(wrt) => wrt == name,
                    }
            }
            _ => self.references_model(op, model),
        }
    }

    fn reduce(&self, op: &Op, other: &Op) -> Reduced {
        let same_model = op.model_lower() == other.model_lower();
        match op.kind {
            OpKind::CreateModel => {
                if other.kind == OpKind::DeleteModel && same_model && !op.proxy {
                    return Reduced::Into(Vec::new());
                }
                if same_model
                    && (other.kind.is_option_op()
                        || matches!(
                            other.kind,
                            OpKind::AddIndex
                                | OpKind::RemoveIndex
                                | OpKind::AddConstraint
                                | OpKind::RemoveConstraint
                        ))
                {
                    return Reduced::Into(vec![op.clone()]);
                }
                if same_model && other.kind.is_field_op() {
                    let mut merged = op.clone();
                    let field = other.name.clone().unwrap_or_default();
                    match other.kind {
                        OpKind::AddField => {
                            if let Some(f) = other.field() {
                                merged.fields.push((field, f.clone()));
                            }
                        }
                        OpKind::AlterField => {
                            if let Some(f) = other.field() {
                                for (n, v) in merged.fields.iter_mut() {
                                    if *n == field {
                                        *v = f.clone();
                                    }
                                }
                            }
                        }
                        _ => merged
                            .fields
                            .retain(|(n, _)| n.to_lowercase() != field.to_lowercase()),
                    }
                    return Reduced::Into(vec![merged]);
                }
                Reduced::Through(!self.references_model(other, &op.model))
            }
            OpKind::DeleteModel => Reduced::Through(!self.references_model(other, &op.model)),
            k if k.is_option_op() => {
                if (other.kind == op.kind || other.kind == OpKind::DeleteModel) && same_model {
                    return Reduced::Into(vec![other.clone()]);
                }
                let through = !self.references_model(other, &op.model)
                    || (k.is_together() && other.kind.is_together() && other.kind != k);
                Reduced::Through(through)
            }
            OpKind::AddField => {
                if other.kind.is_field_op() && op.same_field(other) {
                    match other.kind {
                        OpKind::AlterField => {
                            let mut merged = op.clone();
                            merged.fields = other.fields.clone();
                            return Reduced::Into(vec![merged]);
                        }
                        OpKind::RemoveField => return Reduced::Into(Vec::new()),
                        _ => {}
                    }
                }
                Reduced::Through(!self.references_field(
                    other,
                    &op.model,
                    op.name.as_deref().unwrap_or(""),
                ))
            }
            OpKind::RemoveField => {
                if other.kind == OpKind::DeleteModel && other.model_lower() == op.model_lower() {
                    return Reduced::Into(vec![other.clone()]);
                }
                Reduced::Through(!self.references_field(
                    other,
                    &op.model,
                    op.name.as_deref().unwrap_or(""),
                ))
            }
            OpKind::AlterField => {
                if matches!(other.kind, OpKind::AlterField | OpKind::RemoveField)
                    && op.same_field(other)
                {
                    return Reduced::Into(vec![other.clone()]);
                }
                Reduced::Through(!self.references_field(
                    other,
                    &op.model,
                    op.name.as_deref().unwrap_or(""),
                ))
            }
            OpKind::AddIndex => {
                if other.kind == OpKind::RemoveIndex && op.name == other.name {
                    return Reduced::Into(Vec::new());
                }
                Reduced::Through(false)
            }
            OpKind::AddConstraint => {
                if same_model && op.name == other.name {
                    match other.kind {
                        OpKind::RemoveConstraint => return Reduced::Into(Vec::new()),
                        OpKind::AlterConstraint => {
                            let mut merged = op.clone();
                            merged.detail = other.detail.clone();
                            return Reduced::Into(vec![merged]);
                        }
                        _ => {}
                    }
                }
                Reduced::Through(false)
            }
            OpKind::AlterConstraint => {
                if same_model
                    && op.name == other.name
                    && matches!(
                        other.kind,
                        OpKind::AlterConstraint | OpKind::RemoveConstraint
                    )
                {
                    return Reduced::Into(vec![other.clone()]);
                }
                Reduced::Through(false)
            }
            _ => Reduced::Through(false),
        }
    }

    /// `MigrationOptimizer.optimize`.
    pub fn optimize(&self, mut operations: Vec<Op>) -> Vec<Op> {
        for _ in 0..10_000 {
            match self.optimize_inner(&operations) {
                Some(result) => operations = result,
                None => break,
            }
        }
        operations
    }

    /// One pass of `optimize_inner`; `None` when nothing was reduced.
    fn optimize_inner(&self, operations: &[Op]) -> Option<Vec<Op>> {
        let mut new_operations: Vec<Op> = Vec::new();
        for (i, op) in operations.iter().enumerate() {
            let mut right = true;
            let mut kept = false;
            for (j, other) in operations[i + 1..].iter().enumerate() {
                match self.reduce(op, other) {
                    Reduced::Into(result) => {
                        let in_between = &operations[i + 1..i + j + 1];
                        if right {
                            new_operations.extend(in_between.iter().cloned());
                            new_operations.extend(result);
                        } else if in_between
                            .iter()
                            .all(|b| matches!(self.reduce(b, other), Reduced::Through(true)))
                        {
                            new_operations.extend(result);
                            new_operations.extend(in_between.iter().cloned());
                        } else {
                            // Keep trying with the next operation.
                            new_operations.push(op.clone());
                            kept = true;
                            break;
                        }
                        new_operations.extend(operations[i + j + 2..].iter().cloned());
                        return Some(new_operations);
                    }
                    Reduced::Through(false) => right = false,
                    Reduced::Through(true) => {}
                }
            }
            if !kept {
                new_operations.push(op.clone());
            }
        }
        None
    }
}
