//! Classes of the project: their bases resolved, their method resolution
//! order (C3, as Python computes it), whether they are models, and what an
//! enum class's members are.

use std::collections::HashSet;
use std::rc::Rc;

use super::builtin;
use super::modules::{ClassId, Symbol};
use super::Env;
use crate::model::Value;
use crate::parse::models::{BindingKind, PyClass};

/// An entry of a class's MRO.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MroItem {
    Project(ClassId),
    /// A class outside the project; `known` when it is Django's, the
    /// standard library's or a builtin (so it is known not to be a model
    /// unless it is `models.Model`).
    External {
        path: String,
        known: bool,
    },
}

impl MroItem {
    fn key(&self) -> String {
        match self {
            MroItem::Project(id) => id.path(),
            MroItem::External { path, .. } => path.clone(),
        }
    }
}

/// What is known of a class.
#[derive(Debug, Clone)]
pub struct ClassInfo {
    pub id: ClassId,
    pub class: Rc<PyClass>,
    /// `None` when Python could not build one (or a base is unreadable).
    pub mro: Option<Vec<MroItem>>,
    /// Bases that could not be resolved to a known class, as written.
    pub unknown_bases: Vec<String>,
}

impl ClassInfo {
    /// True when `django.db.models.Model` is among the ancestors.
    pub fn is_model(&self) -> bool {
        self.mro.as_ref().is_some_and(|mro| {
            mro.iter()
                .any(|item| matches!(item, MroItem::External { path, .. } if builtin::is_model_root(path)))
        })
    }

    /// True when an ancestor is a class outside Django and the standard
    /// library, which may or may not be a model.
    pub fn has_unknown_ancestor(&self) -> bool {
        !self.unknown_bases.is_empty()
            || self.mro.is_none()
            || self.mro.as_ref().is_some_and(|mro| {
                mro.iter()
                    .any(|item| matches!(item, MroItem::External { known: false, .. }))
            })
    }

    /// The project classes of the MRO, in order (the class itself first).
    pub fn project_mro(&self) -> Vec<ClassId> {
        match &self.mro {
            Some(mro) => mro
                .iter()
                .filter_map(|item| match item {
                    MroItem::Project(id) => Some(id.clone()),
                    _ => None,
                })
                .collect(),
            None => vec![self.id.clone()],
        }
    }

    pub fn has_external(&self, paths: &[&str]) -> bool {
        self.mro.as_ref().is_some_and(|mro| {
            mro.iter()
                .any(|item| matches!(item, MroItem::External { path, .. } if paths.contains(&path.as_str())))
        })
    }
}

/// Which kind of enum a class is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumKind {
    NotEnum,
    /// `models.TextChoices`.
    Text,
    /// `models.IntegerChoices`.
    Integer,
    /// `models.Choices` with no mixin type.
    Choices,
    /// A standard library enum: members are written as references.
    PyEnum,
}

/// A member of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberValue {
    pub name: String,
    pub value: Value,
    pub label: Value,
}

/// An enum class's members.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumInfo {
    pub kind: EnumKind,
    pub members: Vec<MemberValue>,
    /// The label of `__empty__`.
    pub empty: Option<Value>,
}

impl EnumInfo {
    /// `(value, label)` pairs, `__empty__` first.
    pub fn choice_pairs(&self) -> Vec<(Value, Value)> {
        let mut out = Vec::new();
        if let Some(label) = &self.empty {
            out.push((Value::None, label.clone()));
        }
        out.extend(
            self.members
                .iter()
                .map(|m| (m.value.clone(), m.label.clone())),
        );
        out
    }

    /// Django's `Choices.choices`: a list of `(value, label)` tuples.
    pub fn choices(&self) -> Value {
        Value::List(
            self.choice_pairs()
                .into_iter()
                .map(|(v, l)| Value::Tuple(vec![v, l]))
                .collect(),
        )
    }
}

/// Longer chains of bases are not followed.
const MAX_CLASS_CHAIN: usize = 200;

const TEXT_CHOICES: &[&str] = &[
    "django.db.models.TextChoices",
    "django.db.models.enums.TextChoices",
];
const INTEGER_CHOICES: &[&str] = &[
    "django.db.models.IntegerChoices",
    "django.db.models.enums.IntegerChoices",
];
const CHOICES: &[&str] = &["django.db.models.Choices", "django.db.models.enums.Choices"];
const PY_ENUMS: &[&str] = &[
    "enum.Enum",
    "enum.IntEnum",
    "enum.StrEnum",
    "enum.Flag",
    "enum.IntFlag",
];

/// Classes outside Django known to be no model.
fn known_external(path: &str) -> bool {
    let first = path.split('.').next().unwrap_or(path);
    path.starts_with("django.")
        || matches!(
            first,
            "object"
                | "enum"
                | "typing"
                | "abc"
                | "collections"
                | "dataclasses"
                | "str"
                | "int"
                | "float"
                | "dict"
                | "list"
                | "tuple"
                | "set"
                | "bytes"
                | "Exception"
                | "functools"
                | "datetime"
                | "decimal"
                | "uuid"
                | "typing_extensions"
        )
}

impl Env<'_> {
    /// The class named by a (resolved) path.
    pub fn class_of_path(&self, path: &str) -> Option<ClassId> {
        match self.index.lookup(path) {
            Symbol::Class(id) => Some(id),
            _ => None,
        }
    }

    pub fn class_info(&self, id: &ClassId) -> Option<Rc<ClassInfo>> {
        if let Some(hit) = self.classes.borrow().get(id) {
            return hit.clone();
        }
        if self.in_progress.borrow().len() > MAX_CLASS_CHAIN
            || !self.in_progress.borrow_mut().insert(id.clone())
        {
            // A class among its own ancestors: Python would not import it.
            return None;
        }
        let info = self.compute_class_info(id).map(Rc::new);
        self.in_progress.borrow_mut().remove(id);
        self.classes.borrow_mut().insert(id.clone(), info.clone());
        info
    }

    fn compute_class_info(&self, id: &ClassId) -> Option<ClassInfo> {
        let class = self.index.class(id)?;
        let mut unknown_bases = Vec::new();
        let mut base_mros: Vec<Vec<MroItem>> = Vec::new();
        let mut direct: Vec<MroItem> = Vec::new();
        let mut mro_ok = true;
        for base in &class.bases {
            let mut value = self.eval(base);
            // `models.Manager.from_queryset(QuerySet)`: a subclass of the manager.
            if let Value::Call(c) = &value {
                if c.func.path == "$from_queryset" {
                    if let Some(manager @ Value::Ref(_)) = c.args.first() {
                        value = manager.clone();
                    }
                }
            }
            let item = match &value {
                Value::Ref(r) => match self.index.lookup(&r.path) {
                    Symbol::Class(base_id) => MroItem::Project(base_id),
                    Symbol::External(path) => {
                        let known = known_external(&path);
                        MroItem::External { path, known }
                    }
                    _ => {
                        unknown_bases.push(r.written.clone());
                        continue;
                    }
                },
                // `Generic[T]` and the like.
                Value::Call(c) if c.func.path == "operator.getitem" => match c.args.first() {
                    Some(Value::Ref(r)) if r.path.starts_with("typing.") => continue,
                    _ => {
                        unknown_bases.push(format!("{value:?}"));
                        continue;
                    }
                },
                other => {
                    unknown_bases.push(describe(other));
                    continue;
                }
            };
            let mro = match &item {
                MroItem::Project(base_id) => match self.class_info(base_id) {
                    Some(info) => {
                        unknown_bases.extend(info.unknown_bases.iter().cloned());
                        match &info.mro {
                            Some(mro) => mro.clone(),
                            None => {
                                mro_ok = false;
                                vec![item.clone()]
                            }
                        }
                    }
                    None => {
                        unknown_bases.push(base_id.path());
                        continue;
                    }
                },
                MroItem::External { path, .. } if path == "object" => vec![item.clone()],
                MroItem::External { .. } => vec![
                    item.clone(),
                    MroItem::External {
                        path: "object".to_owned(),
                        known: true,
                    },
                ],
            };
            direct.push(item);
            base_mros.push(mro);
        }
        let this = MroItem::Project(id.clone());
        let mro = if !mro_ok {
            None
        } else if direct.is_empty() {
            Some(vec![
                this,
                MroItem::External {
                    path: "object".to_owned(),
                    known: true,
                },
            ])
        } else {
            base_mros.push(direct);
            c3_merge(base_mros).map(|rest| {
                let mut out = vec![this];
                out.extend(rest);
                out
            })
        };
        Some(ClassInfo {
            id: id.clone(),
            class,
            mro,
            unknown_bases,
        })
    }

    /// The project classes of a class's MRO (the class itself when its MRO
    /// is not known).
    pub fn mro_classes(&self, id: &ClassId) -> Vec<ClassId> {
        match self.class_info(id) {
            Some(info) => info.project_mro(),
            None => vec![id.clone()],
        }
    }

    /// What kind of enum a class is, and its members.
    pub fn enum_info(&self, id: &ClassId) -> Option<Rc<EnumInfo>> {
        if let Some(hit) = self.enums.borrow().get(id) {
            return hit.clone();
        }
        let info = self.compute_enum_info(id).map(Rc::new);
        self.enums.borrow_mut().insert(id.clone(), info.clone());
        info
    }

    fn compute_enum_info(&self, id: &ClassId) -> Option<EnumInfo> {
        let info = self.class_info(id)?;
        let kind = if info.has_external(TEXT_CHOICES) {
            EnumKind::Text
        } else if info.has_external(INTEGER_CHOICES) {
            EnumKind::Integer
        } else if info.has_external(CHOICES) {
            EnumKind::Choices
        } else if info.has_external(PY_ENUMS) {
            EnumKind::PyEnum
        } else {
            return Some(EnumInfo {
                kind: EnumKind::NotEnum,
                members: Vec::new(),
                empty: None,
            });
        };
        if info.has_unknown_ancestor() {
            return None;
        }
        let mut members: Vec<MemberValue> = Vec::new();
        let mut empty = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut last_int: i64 = 0;
        for binding in &info.class.body {
            let BindingKind::Value(raw) = &binding.kind else {
                continue;
            };
            if binding.name == "__empty__" {
                empty = Some(self.eval(raw));
                continue;
            }
            if binding.name.starts_with('_') || !seen.insert(binding.name.clone()) {
                continue;
            }
            let value = self.eval(raw);
            let is_auto = matches!(&value, Value::Call(c) if c.func.path == "enum.auto");
            let (value, label) = match value {
                Value::List(items) | Value::Tuple(items)
                    if items.len() > 1 && matches!(items.last(), Some(Value::Str(_))) =>
                {
                    let mut items = items;
                    let label = items.pop().unwrap_or(Value::None);
                    (Value::Tuple(items), label)
                }
                other => (other, Value::Str(title(&binding.name.replace('_', " ")))),
            };
            let value = match (kind, value) {
                (EnumKind::Text, _) if is_auto => Value::Str(binding.name.clone()),
                (EnumKind::Integer, _) | (EnumKind::Choices, _) | (EnumKind::PyEnum, _)
                    if is_auto =>
                {
                    last_int = last_int.checked_add(1)?;
                    Value::Int(last_int)
                }
                (EnumKind::Text, Value::Tuple(items)) => match items.as_slice() {
                    [Value::Str(s)] => Value::Str(s.clone()),
                    _ => return None,
                },
                (EnumKind::Text, Value::Str(s)) => Value::Str(s),
                (EnumKind::Integer, Value::Tuple(items)) => match items.as_slice() {
                    [Value::Int(i)] => Value::Int(*i),
                    _ => return None,
                },
                (EnumKind::Integer, Value::Int(i)) => Value::Int(i),
                (EnumKind::Choices, Value::Tuple(items)) => match items.as_slice() {
                    [single] if !matches!(single, Value::Expr(_)) => {
                        Value::Tuple(vec![single.clone()])
                    }
                    _ => return None,
                },
                (_, value) => value,
            };
            if !value.is_fully_literal() || !label.is_fully_literal() {
                return None;
            }
            if let Value::Int(i) = value {
                last_int = i;
            }
            members.push(MemberValue {
                name: binding.name.clone(),
                value,
                label,
            });
        }
        // Choices from a project enum subclassing another project enum
        // have no members of their own; Python forbids extending an enum
        // that has members, so the members above are all there are.
        Some(EnumInfo {
            kind,
            members,
            empty,
        })
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Expr(e) => e.clone(),
        other => format!("{other:?}"),
    }
}

/// Python's C3 linearisation of the bases' MROs; `None` when it has no
/// solution (Python raises `TypeError`).
fn c3_merge(sequences: Vec<Vec<MroItem>>) -> Option<Vec<MroItem>> {
    use std::collections::{HashMap, VecDeque};
    let mut seqs: Vec<VecDeque<(String, MroItem)>> = sequences
        .into_iter()
        .map(|s| s.into_iter().map(|item| (item.key(), item)).collect())
        .collect();
    // How often each class appears in a sequence's tail.
    let mut in_tails: HashMap<String, usize> = HashMap::new();
    for seq in &seqs {
        for (key, _) in seq.iter().skip(1) {
            *in_tails.entry(key.clone()).or_default() += 1;
        }
    }
    let mut out: Vec<MroItem> = Vec::new();
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Some(out);
        }
        let (key, item) = seqs
            .iter()
            .filter_map(|seq| seq.front())
            .find(|(key, _)| in_tails.get(key).copied().unwrap_or(0) == 0)
            .cloned()?;
        for seq in seqs.iter_mut() {
            if seq.front().map(|(k, _)| k) == Some(&key) {
                seq.pop_front();
                if let Some((next, _)) = seq.front() {
                    if let Some(count) = in_tails.get_mut(next) {
                        *count = count.saturating_sub(1);
                    }
                }
            }
        }
        out.push(item);
        if out.len() > 512 {
            return None;
        }
    }
}

/// Python's `str.title()`.
pub fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_cased = false;
    for c in text.chars() {
        if c.is_alphabetic() {
            if previous_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            previous_cased = true;
        } else {
            out.push(c);
            previous_cased = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_pythons() {
        assert_eq!(title("IN PROGRESS"), "In Progress");
        assert_eq!(title("version2beta"), "Version2Beta");
        assert_eq!(title("a b"), "A B");
    }

    fn ext(p: &str) -> MroItem {
        MroItem::External {
            path: p.into(),
            known: true,
        }
    }

    #[test]
    fn c3_is_pythons() {
        // class A(X, Y); X(O), Y(O)
        let merged = c3_merge(vec![
            vec![ext("X"), ext("O")],
            vec![ext("Y"), ext("O")],
            vec![ext("X"), ext("Y")],
        ])
        .unwrap();
        assert_eq!(merged, vec![ext("X"), ext("Y"), ext("O")]);
        assert!(c3_merge(vec![
            vec![ext("X"), ext("Y")],
            vec![ext("Y"), ext("X")],
            vec![ext("X"), ext("Y")]
        ])
        .is_none());
    }
}
