//! Small static facts read from ordinary project modules: an `AppConfig`'s
//! label, a settings module's assignments, `manage.py`'s settings module.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr, Stmt};

use super::imports::{resolve_relative, ImportMap};
use super::value::ValueReader;
use crate::model::{Call, Ref, Value};
use crate::source::decode_python;

fn parse(bytes: &[u8]) -> Option<(String, Vec<Stmt>)> {
    let text = decode_python(bytes).ok()?;
    if super::nesting::too_deep(&text).is_some() || text.len() > 4 * 1024 * 1024 {
        return None;
    }
    let body = super::syntax::parse_suite(&text, "<module>").ok()?;
    Some((text, body))
}

/// Run `read` on a thread with a large stack, as migration files are read:
/// a hostile module (a 300,000-term sum) builds a syntax tree too deep to
/// walk or drop on the caller's stack. `None` when no thread can be had.
fn on_large_stack<T: Send>(read: impl FnOnce() -> Option<T> + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("migguard-facts".into())
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(scope, read)
            .ok()?
            .join()
            .ok()?
    })
}

/// Which `AppConfig` of an app's `apps.py` Django uses, by its rule
/// (`AppConfig.create`): the class `INSTALLED_APPS` names, when it names one;
/// else the only subclass that does not say `default = False`; else the only
/// one that says `default = True`; else none (Django's plain `AppConfig`).
/// `class_of` and `default_of` read a candidate's class name and its
/// `default` attribute.
pub fn choose_app_config<'a, T>(
    configs: &'a [T],
    named: Option<&str>,
    class_of: impl Fn(&T) -> &str,
    default_of: impl Fn(&T) -> Option<bool>,
) -> Option<&'a T> {
    if let Some(named) = named {
        return configs.iter().find(|c| class_of(c) == named);
    }
    let candidates: Vec<&T> = configs
        .iter()
        .filter(|c| default_of(c) != Some(false))
        .collect();
    if let [only] = candidates.as_slice() {
        return Some(only);
    }
    let defaults: Vec<&T> = configs
        .iter()
        .filter(|c| default_of(c) == Some(true))
        .collect();
    match defaults.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

/// An `AppConfig` subclass of `apps.py`, as far as the label goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigClass {
    class: String,
    label: Option<String>,
    default: Option<bool>,
}

/// The label of the app whose `apps.py` is `bytes`, when the `AppConfig`
/// Django picks (see [`choose_app_config`]) sets one, itself or through a
/// base class of the same module. `named` is the class `INSTALLED_APPS`
/// names (`blog.apps.BlogConfig` -> `BlogConfig`), if any.
pub fn app_config_label(bytes: &[u8], named: Option<&str>) -> Option<String> {
    let configs = on_large_stack(|| config_classes(bytes))?;
    choose_app_config(&configs, named, |c| &c.class, |c| c.default)?
        .label
        .clone()
}

fn config_classes(bytes: &[u8]) -> Option<Vec<ConfigClass>> {
    let (_, body) = parse(bytes)?;
    let mut out: Vec<ConfigClass> = Vec::new();
    for stmt in &body {
        let Stmt::ClassDef(class) = stmt else {
            continue;
        };
        let base_names: Vec<String> = class
            .bases
            .iter()
            .filter_map(|b| match b {
                Expr::Name(n) => Some(n.id.to_string()),
                Expr::Attribute(a) => Some(a.attr.to_string()),
                _ => None,
            })
            .collect();
        // A subclass of `AppConfig` (or of another config of this module):
        // Django only looks at those.
        let local_base = base_names
            .iter()
            .find_map(|b| out.iter().find(|c| &c.class == b).cloned());
        if local_base.is_none() && !base_names.iter().any(|b| b.ends_with("Config")) {
            continue;
        }
        let attribute = |name: &str| {
            class.body.iter().find_map(|s| match s {
                Stmt::Assign(a) => match (a.targets.as_slice(), &*a.value) {
                    ([Expr::Name(n)], Expr::Constant(c)) if n.id.as_str() == name => {
                        Some(c.value.clone())
                    }
                    _ => None,
                },
                _ => None,
            })
        };
        let label = attribute("label")
            .and_then(|c| c.as_str().cloned())
            .or_else(|| local_base.as_ref().and_then(|b| b.label.clone()));
        let default = match attribute("default") {
            Some(ast::Constant::Bool(b)) => Some(b),
            _ => local_base.as_ref().and_then(|b| b.default),
        };
        out.push(ConfigClass {
            class: class.name.to_string(),
            label,
            default,
        });
    }
    Some(out)
}

/// One top-level statement of a settings module that migguard can follow,
/// in source order. Evaluating the steps in order gives the values the
/// module has after import, as far as they can be known statically.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingsStep {
    /// `NAME = value` (or an annotated assignment).
    Set(String, Value),
    /// `NAME += [...]`, `NAME = NAME + [...]`, `NAME.extend([...])`.
    Extend(String, Value),
    /// `NAME.append(value)`.
    Append(String, Value),
    /// `NAME.insert(index, value)`.
    Insert(String, i64, Value),
    /// `NAME["a"]["b"] = value`: the keys, outermost first.
    SetItem(String, Vec<String>, Value),
    /// `from module import *`, resolved to a dotted name.
    StarImport(String),
    /// A statement that changes `NAME` in a way migguard cannot follow
    /// (`NAME.remove(...)`, `NAME *= 2`, an assignment inside a loop).
    Unknown(String),
}

/// A settings module's statements, in order.
#[derive(Debug, Default, Clone)]
pub struct SettingsModule {
    pub steps: Vec<SettingsStep>,
}

impl SettingsModule {
    /// Apply the steps to `values`, reading star imports through `star`.
    pub fn apply(
        &self,
        values: &mut HashMap<String, Value>,
        star: &mut dyn FnMut(&str, &mut HashMap<String, Value>),
    ) {
        for step in &self.steps {
            // A dict changed in place also changes the settings that hold it
            // (`DATABASES = {"default": DB}`, then `DB["NAME"] = ...`):
            // those are no longer known.
            if let SettingsStep::SetItem(changed, ..)
            | SettingsStep::Extend(changed, _)
            | SettingsStep::Append(changed, _)
            | SettingsStep::Insert(changed, ..)
            | SettingsStep::Unknown(changed) = step
            {
                for holder in holders(values, changed) {
                    values.insert(
                        holder.clone(),
                        Value::Expr(format!("{holder} (changed through {changed})")),
                    );
                }
            }
            match step {
                SettingsStep::Set(name, value) => {
                    // Bound to another object now: changing it changes
                    // no setting that held the old one.
                    values.remove(&holders_key(name));
                    record_holder(values, name, value);
                    let value = bound(value, values, 0);
                    values.insert(name.clone(), value);
                }
                SettingsStep::SetItem(name, keys, value) => {
                    record_holder(values, name, value);
                    let value = bound(value, values, 0);
                    let changed = values
                        .get(name)
                        .cloned()
                        .and_then(|mut whole| {
                            set_item(&mut whole, keys, value, values).then_some(whole)
                        })
                        .unwrap_or_else(|| Value::Expr(format!("{name} (changed)")));
                    values.insert(name.clone(), changed);
                }
                SettingsStep::Extend(name, more) => {
                    let more = operand(more, values, 0);
                    let joined = match (values.get(name), more.as_seq()) {
                        (Some(Value::List(items)), Some(more)) => {
                            Value::List(items.iter().chain(more).cloned().collect())
                        }
                        (Some(Value::Tuple(items)), Some(more)) => {
                            Value::Tuple(items.iter().chain(more).cloned().collect())
                        }
                        // `INSTALLED_APPS += get_apps()`: the known entries,
                        // and one that cannot be evaluated.
                        (Some(Value::List(items)), None) => Value::List(
                            items.iter().cloned().chain([unknown_part(&more)]).collect(),
                        ),
                        _ => Value::Expr(format!("{name} (extended)")),
                    };
                    values.insert(name.clone(), joined);
                }
                SettingsStep::Append(name, item) | SettingsStep::Insert(name, _, item) => {
                    // `"a" + b` or `*x` in the item is evaluated like a value
                    // assigned: no marker of a sum stays in the list.
                    let item = &bound(item, values, 0);
                    let changed = match values.get(name) {
                        Some(Value::List(items)) => {
                            let mut items = items.clone();
                            match step {
                                SettingsStep::Insert(_, at, _) => {
                                    let len = items.len() as i64;
                                    let at = if *at < 0 {
                                        (len + at).max(0)
                                    } else {
                                        (*at).min(len)
                                    };
                                    items.insert(at as usize, item.clone());
                                }
                                _ => items.push(item.clone()),
                            }
                            Value::List(items)
                        }
                        _ => Value::Expr(format!("{name} (changed)")),
                    };
                    values.insert(name.clone(), changed);
                }
                SettingsStep::StarImport(module) => star(module, values),
                SettingsStep::Unknown(name) => {
                    values.insert(name.clone(), Value::Expr(format!("{name} (changed)")));
                }
            }
        }
    }
}

/// Where [`SettingsModule::apply`] notes, in the values themselves (so star
/// imports share it), which settings hold the dict a name is bound to: a
/// key no Python name can be.
fn holders_key(name: &str) -> String {
    format!("migguard:held-by:{name}")
}

/// The settings that hold the dict `name` is bound to.
fn holders(values: &HashMap<String, Value>, name: &str) -> Vec<String> {
    match values.get(&holders_key(name)) {
        Some(Value::List(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Note that `setting` now holds the dicts the bare names in `value` are
/// bound to (what [`bound`] copies in).
fn record_holder(values: &mut HashMap<String, Value>, setting: &str, value: &Value) {
    let mut names = Vec::new();
    bare_dict_names(value, values, 0, &mut names);
    for name in names {
        let key = holders_key(&name);
        let mut list = match values.remove(&key) {
            Some(Value::List(list)) => list,
            _ => Vec::new(),
        };
        if !list.iter().any(|v| v.as_str() == Some(setting)) {
            list.push(Value::Str(setting.to_owned()));
        }
        values.insert(key, Value::List(list));
    }
}

/// The bare names in `value` that [`bound`] replaces by a dict.
fn bare_dict_names(
    value: &Value,
    values: &HashMap<String, Value>,
    depth: u32,
    out: &mut Vec<String>,
) {
    match value {
        Value::Ref(r) if !r.written.contains('.') => {
            if matches!(values.get(&r.written), Some(Value::Dict(_))) {
                out.push(r.written.clone());
            }
        }
        Value::Dict(items) if depth < 16 => {
            for (_, v) in items {
                bare_dict_names(v, values, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// `value` as assigned: a bare name bound to a dict (`DEFAULT_DB` in
/// `DATABASES = {"default": DEFAULT_DB}`) stands for that dict, as it is
/// when the assignment runs, inside dict literals too; a sum of sequences
/// (`DJANGO_APPS + LOCAL_APPS`) and `*NAME` in a display are evaluated with
/// the sequences known so far. A part that cannot be evaluated stays an
/// entry of source text: `[...] + get_core_apps()` is the known list with
/// one such entry, `[*env_apps]` one holding `*env_apps`.
fn bound(value: &Value, values: &HashMap<String, Value>, depth: u32) -> Value {
    match value {
        Value::Ref(r) if !r.written.contains('.') => match values.get(&r.written) {
            Some(dict @ Value::Dict(_)) => dict.clone(),
            _ => value.clone(),
        },
        Value::Dict(items) if depth < 16 => Value::Dict(
            items
                .iter()
                .map(|(k, v)| (k.clone(), bound(v, values, depth + 1)))
                .collect(),
        ),
        Value::List(items) | Value::Tuple(items) if depth < 16 => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Call(call) if call.func.path == STAR => {
                        match call.args.first().map(|a| operand(a, values, depth + 1)) {
                            Some(Value::List(more) | Value::Tuple(more)) => out.extend(more),
                            _ => out.push(Value::Expr(call.func.written.clone())),
                        }
                    }
                    _ => out.push(bound(item, values, depth + 1)),
                }
            }
            if matches!(value, Value::List(_)) {
                Value::List(out)
            } else {
                Value::Tuple(out)
            }
        }
        Value::Call(call) if call.func.path == CONCAT => {
            let [left, right] = call.args.as_slice() else {
                return Value::Expr(call.func.written.clone());
            };
            let (left, right) = (
                operand(left, values, depth + 1),
                operand(right, values, depth + 1),
            );
            match (left, right) {
                (Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
                (Value::List(mut a), Value::List(b)) => {
                    a.extend(b);
                    Value::List(a)
                }
                (Value::Tuple(mut a), Value::Tuple(b)) => {
                    a.extend(b);
                    Value::Tuple(a)
                }
                // One side is a known sequence, the other is not:
                // the known entries, and one that cannot be evaluated.
                (Value::List(mut a), other) | (Value::Tuple(mut a), other)
                    if !matches!(other, Value::List(_) | Value::Tuple(_)) =>
                {
                    a.push(unknown_part(&other));
                    Value::List(a)
                }
                (other, Value::List(b)) | (other, Value::Tuple(b))
                    if !matches!(other, Value::List(_) | Value::Tuple(_)) =>
                {
                    let mut a = vec![unknown_part(&other)];
                    a.extend(b);
                    Value::List(a)
                }
                _ => Value::Expr(call.func.written.clone()),
            }
        }
        _ => value.clone(),
    }
}

/// An operand of `+` or `*`: a bare name stands for the sequence it is
/// bound to (`A + B` makes a new list, so no alias is kept).
fn operand(value: &Value, values: &HashMap<String, Value>, depth: u32) -> Value {
    if depth >= 16 {
        return Value::Expr(format!("{value:?}"));
    }
    match value {
        Value::Ref(r) if !r.written.contains('.') => match values.get(&r.written) {
            Some(known @ (Value::List(_) | Value::Tuple(_) | Value::Str(_))) => known.clone(),
            _ => value.clone(),
        },
        _ => bound(value, values, depth),
    }
}

/// The entry standing for a part of a sum that cannot be evaluated.
fn unknown_part(value: &Value) -> Value {
    match value {
        Value::Expr(text) => Value::Expr(text.clone()),
        Value::Ref(r) => Value::Expr(r.written.clone()),
        Value::Call(call) => Value::Expr(format!("{}(...)", call.func.written)),
        other => Value::Expr(format!("{other:?}")),
    }
}

/// `target[keys[0]][keys[1]]... = value` on a dict literal, as Python does:
/// the last key is replaced or added, the ones before must exist and be
/// dicts (a bare name bound to a dict counts as that dict). False when it
/// cannot be followed.
fn set_item(
    target: &mut Value,
    keys: &[String],
    value: Value,
    values: &HashMap<String, Value>,
) -> bool {
    let Some((key, rest)) = keys.split_first() else {
        return false;
    };
    let Value::Dict(items) = target else {
        return false;
    };
    let found = items
        .iter_mut()
        .find(|(k, _)| k.as_str() == Some(key.as_str()));
    match (found, rest.is_empty()) {
        (Some((_, slot)), true) => {
            *slot = value;
            true
        }
        (None, true) => {
            items.push((Value::Str(key.clone()), value));
            true
        }
        (Some((_, slot)), false) => {
            *slot = bound(slot, values, 15);
            set_item(slot, rest, value, values)
        }
        // `KeyError`: the module would not import.
        (None, false) => false,
    }
}

/// `NAME["a"]["b"]`: the name and its string keys, outermost first; the
/// name alone (keys `None`) when a key is not a string literal.
fn subscript_chain(target: &Expr) -> Option<(String, Option<Vec<String>>)> {
    let mut keys = Some(Vec::new());
    let mut current = target;
    loop {
        match current {
            Expr::Subscript(sub) => {
                match (&*sub.slice, keys.as_mut()) {
                    (
                        Expr::Constant(ast::ExprConstant {
                            value: ast::Constant::Str(key),
                            ..
                        }),
                        Some(list),
                    ) => list.push(key.clone()),
                    _ => keys = None,
                }
                current = &sub.value;
            }
            Expr::Name(name) => {
                return Some((
                    name.id.to_string(),
                    keys.map(|mut k| {
                        k.reverse();
                        k
                    }),
                ))
            }
            _ => return None,
        }
    }
}

pub fn settings_module(bytes: &[u8], package: &str) -> Option<SettingsModule> {
    on_large_stack(|| settings_module_here(bytes, package))
}

fn settings_module_here(bytes: &[u8], package: &str) -> Option<SettingsModule> {
    let (text, body) = parse(bytes)?;
    let imports = ImportMap::collect(&body, package);
    let constants = HashMap::new();
    let reader = ValueReader {
        text: &text,
        imports: &imports,
        constants: &constants,
    };
    let mut out = SettingsModule::default();
    settings_steps(&body, package, &reader, false, &mut out.steps);
    Some(out)
}

/// Marks a deferred sum (`A + B`) in a settings value: [`bound`] adds the
/// operands once the names they use are known.
const CONCAT: &str = "migguard:concat";
/// Marks `*NAME` in a list or tuple display: [`bound`] splices the sequence
/// `NAME` is bound to, or keeps it as an entry that cannot be evaluated.
const STAR: &str = "migguard:star";

/// A settings value as written, with `+` and `*name` kept for [`bound`] to
/// evaluate against the values assigned so far (`INSTALLED_APPS =
/// DJANGO_APPS + LOCAL_APPS`, `[*BASE_APPS, "blog", *env_apps]`).
fn settings_value(reader: &ValueReader<'_>, expr: &Expr) -> Value {
    settings_value_at(reader, expr, 0)
}

fn settings_value_at(reader: &ValueReader<'_>, expr: &Expr, depth: u32) -> Value {
    let marker = |func: &str, written: String, args: Vec<Value>| {
        Value::Call(Box::new(Call {
            func: Ref {
                written,
                path: func.to_owned(),
            },
            args,
            kwargs: Vec::new(),
        }))
    };
    if depth > 32 {
        return reader.read(expr);
    }
    match expr {
        Expr::BinOp(ast::ExprBinOp {
            left,
            op: ast::Operator::Add,
            right,
            ..
        }) => marker(
            CONCAT,
            reader.source(expr),
            vec![
                settings_value_at(reader, left, depth + 1),
                settings_value_at(reader, right, depth + 1),
            ],
        ),
        Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. })
            if elts.iter().any(|e| matches!(e, Expr::Starred(_))) =>
        {
            let items = elts
                .iter()
                .map(|e| match e {
                    Expr::Starred(star) => marker(
                        STAR,
                        reader.source(e),
                        vec![settings_value_at(reader, &star.value, depth + 1)],
                    ),
                    _ => reader.read(e),
                })
                .collect();
            if matches!(expr, Expr::List(_)) {
                Value::List(items)
            } else {
                Value::Tuple(items)
            }
        }
        _ => reader.read(expr),
    }
}

/// The steps of `body`. `nested` is true inside `if`/`try`/`with` blocks,
/// whose statements may or may not run: a value set there is unknown, but
/// additions to a list (`INSTALLED_APPS += [...]` under `if DEBUG:`) are
/// kept, since an app that may be installed is one whose migrations count.
fn settings_steps(
    body: &[Stmt],
    package: &str,
    reader: &ValueReader<'_>,
    nested: bool,
    out: &mut Vec<SettingsStep>,
) {
    let set = |name: &str, value: &Expr, out: &mut Vec<SettingsStep>| {
        // `NAME = NAME + [...]` extends; anything else replaces.
        if let Expr::BinOp(ast::ExprBinOp {
            left,
            op: ast::Operator::Add,
            right,
            ..
        }) = value
        {
            if matches!(&**left, Expr::Name(n) if n.id.as_str() == name) {
                out.push(SettingsStep::Extend(
                    name.to_owned(),
                    settings_value(reader, right),
                ));
                return;
            }
        }
        if nested {
            out.push(SettingsStep::Unknown(name.to_owned()));
        } else {
            out.push(SettingsStep::Set(
                name.to_owned(),
                settings_value(reader, value),
            ));
        }
    };
    for stmt in body {
        match stmt {
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    match target {
                        Expr::Name(name) => set(name.id.as_str(), &assign.value, out),
                        Expr::Tuple(t) => {
                            for e in &t.elts {
                                if let Expr::Name(n) = e {
                                    out.push(SettingsStep::Unknown(n.id.to_string()));
                                }
                            }
                        }
                        Expr::Subscript(_) => match subscript_chain(target) {
                            Some((name, Some(keys))) if !nested => out.push(SettingsStep::SetItem(
                                name,
                                keys,
                                settings_value(reader, &assign.value),
                            )),
                            Some((name, _)) => out.push(SettingsStep::Unknown(name)),
                            None => {}
                        },
                        _ => {}
                    }
                }
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) => {
                if let Expr::Name(name) = &**target {
                    set(name.id.as_str(), value, out);
                }
            }
            Stmt::AugAssign(aug) => {
                if let Expr::Name(name) = &*aug.target {
                    let name = name.id.to_string();
                    out.push(match aug.op {
                        ast::Operator::Add => {
                            SettingsStep::Extend(name, settings_value(reader, &aug.value))
                        }
                        _ => SettingsStep::Unknown(name),
                    });
                }
            }
            Stmt::Expr(e) => {
                let Expr::Call(call) = &*e.value else {
                    continue;
                };
                let Expr::Attribute(attr) = &*call.func else {
                    continue;
                };
                let name = match &*attr.value {
                    Expr::Name(owner) => owner.id.to_string(),
                    // `DATABASES["default"].update(...)`: a part of it
                    // changed in a way not followed.
                    owner @ Expr::Subscript(_) => match subscript_chain(owner) {
                        Some((name, _)) => {
                            out.push(SettingsStep::Unknown(name));
                            continue;
                        }
                        None => continue,
                    },
                    _ => continue,
                };
                let args = &call.args;
                out.push(match (attr.attr.as_str(), args.as_slice()) {
                    ("append", [item]) => SettingsStep::Append(name, settings_value(reader, item)),
                    ("extend", [items]) => {
                        SettingsStep::Extend(name, settings_value(reader, items))
                    }
                    ("insert", [at, item]) => match settings_value(reader, at) {
                        Value::Int(at) => {
                            SettingsStep::Insert(name, at, settings_value(reader, item))
                        }
                        // `INSTALLED_APPS.insert(INSTALLED_APPS.index("cms"),
                        // app)` (django-cms): where is not known, what is.
                        // Which apps are installed does not depend on it.
                        _ if name == "INSTALLED_APPS" => {
                            SettingsStep::Append(name, settings_value(reader, item))
                        }
                        _ => SettingsStep::Unknown(name),
                    },
                    // `update`, `remove`, `pop`, `setdefault`, ...: changed
                    // in a way not followed. Other calls (`print(...)`,
                    // `os.makedirs(...)`) change nothing of ours, but a
                    // method call on a settings name may.
                    _ if name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()) =>
                    {
                        SettingsStep::Unknown(name)
                    }
                    _ => continue,
                });
            }
            Stmt::ImportFrom(from) if from.names.iter().any(|a| a.name.as_str() == "*") => {
                let level = from.level.as_ref().map_or(0, |l| l.to_u32());
                let module = from.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                out.push(SettingsStep::StarImport(resolve_relative(
                    package, level, module,
                )));
            }
            Stmt::If(s) => {
                settings_steps(&s.body, package, reader, true, out);
                settings_steps(&s.orelse, package, reader, true, out);
            }
            Stmt::Try(s) => {
                // `try: from .local import * / except ImportError: pass`:
                // the try body usually runs; a missing module is skipped
                // when it is read.
                settings_steps(&s.body, package, reader, nested, out);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    settings_steps(&h.body, package, reader, true, out);
                }
                settings_steps(&s.orelse, package, reader, true, out);
                settings_steps(&s.finalbody, package, reader, nested, out);
            }
            Stmt::With(s) => settings_steps(&s.body, package, reader, true, out),
            Stmt::For(s) => settings_steps(&s.body, package, reader, true, out),
            Stmt::While(s) => settings_steps(&s.body, package, reader, true, out),
            _ => {}
        }
    }
}

/// The settings module `manage.py` names: the value of
/// `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")` or
/// `os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"`, wherever it
/// is written (usually inside `main()`), read from the syntax tree so that a
/// comment or a docstring mentioning the variable is not taken for it.
///
/// A `manage.py` the parser cannot read (Python 2 syntax, syntax newer than
/// the parser's) is scanned line by line instead: the first line, outside
/// comments, that names the variable and then a quoted module name.
pub fn manage_py_settings(bytes: &[u8]) -> Option<String> {
    match on_large_stack(|| parse(bytes).map(|(_, body)| settings_in(&body))) {
        Some(found) => found,
        None => settings_in_text(&String::from_utf8_lossy(bytes)),
    }
}

fn settings_in_text(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let code = line.split('#').next().unwrap_or("");
        let after = &code[code.find(SETTINGS_VARIABLE)? + SETTINGS_VARIABLE.len()..];
        // Past the variable's own closing quote, the next quoted text.
        let after = after.trim_start_matches(['"', '\'']);
        let open = after.find(['"', '\''])?;
        let quote = after[open..].chars().next()?;
        let rest = &after[open + 1..];
        let value = &rest[..rest.find(quote)?];
        is_module_name(value).then(|| value.to_owned())
    })
}

/// A dotted Python module name: `config.settings`.
fn is_module_name(m: &str) -> bool {
    !m.is_empty()
        && m.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

const SETTINGS_VARIABLE: &str = "DJANGO_SETTINGS_MODULE";

fn settings_in(body: &[Stmt]) -> Option<String> {
    let text = |e: &Expr| match e {
        Expr::Constant(c) => c.value.as_str().cloned(),
        _ => None,
    };
    body.iter().find_map(|stmt| {
        let found = match stmt {
            Stmt::Expr(e) => match &*e.value {
                Expr::Call(call) => match (&*call.func, call.args.as_slice()) {
                    (Expr::Attribute(attr), [key, value])
                        if attr.attr.as_str() == "setdefault"
                            && text(key).as_deref() == Some(SETTINGS_VARIABLE) =>
                    {
                        text(value)
                    }
                    _ => None,
                },
                _ => None,
            },
            Stmt::Assign(assign) => assign.targets.iter().find_map(|target| match target {
                Expr::Subscript(sub) if text(&sub.slice).as_deref() == Some(SETTINGS_VARIABLE) => {
                    text(&assign.value)
                }
                _ => None,
            }),
            Stmt::FunctionDef(f) => settings_in(&f.body),
            Stmt::If(s) => settings_in(&s.body).or_else(|| settings_in(&s.orelse)),
            Stmt::Try(s) => settings_in(&s.body),
            Stmt::With(s) => settings_in(&s.body),
            _ => None,
        };
        found.filter(|m| is_module_name(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluate(modules: &[(&str, &str)]) -> HashMap<String, Value> {
        fn run(name: &str, modules: &[(&str, &str)], values: &mut HashMap<String, Value>) {
            let Some((_, text)) = modules.iter().find(|(m, _)| *m == name) else {
                return;
            };
            let package = name.rsplit_once('.').map_or("", |(p, _)| p);
            let parsed = settings_module(text.as_bytes(), package).unwrap();
            parsed.apply(values, &mut |star, values| run(star, modules, values));
        }
        let mut values = HashMap::new();
        run(modules[0].0, modules, &mut values);
        values
    }

    fn strings(value: &Value) -> Vec<&str> {
        value
            .as_seq()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("a string"))
            .collect()
    }

    #[test]
    fn sums_and_unpacking_of_known_lists_are_evaluated() {
        let values = evaluate(&[
            (
                "config.settings",
                "from .apps import *\nLOCAL_APPS = ['blog']\nINSTALLED_APPS = DJANGO_APPS + THIRD_PARTY + LOCAL_APPS\nINSTALLED_APPS.append(PREFIX + 'shop')\nINSTALLED_APPS.append(unknown + 'x')\nAPPS_TUPLE = ('x',) + ('y',)\nSTARRED = [*DJANGO_APPS, 'shop', *LOCAL_APPS]\n",
            ),
            (
                "config.apps",
                "DJANGO_APPS = ['django.contrib.auth']\nTHIRD_PARTY = ['rest_framework']\nPREFIX = 'apps.'\n",
            ),
        ]);
        let apps = values["INSTALLED_APPS"].as_seq().unwrap();
        assert_eq!(
            apps[..3],
            [
                Value::Str("django.contrib.auth".into()),
                Value::Str("rest_framework".into()),
                Value::Str("blog".into())
            ]
        );
        // An appended sum is evaluated, or kept as the text it is.
        assert_eq!(apps[3], Value::Str("apps.shop".into()));
        assert_eq!(apps[4], Value::Expr("unknown + 'x'".into()));
        assert_eq!(strings(&values["APPS_TUPLE"]), ["x", "y"]);
        assert!(matches!(values["APPS_TUPLE"], Value::Tuple(_)));
        assert_eq!(
            strings(&values["STARRED"]),
            ["django.contrib.auth", "shop", "blog"]
        );
    }

    #[test]
    fn parts_that_cannot_be_evaluated_stay_entries_beside_the_known_ones() {
        let values = evaluate(&[(
            "settings",
            "import os\nenv_apps = os.environ['APPS'].split(',')\nA = ['blog', *env_apps]\nB = ['blog'] + get_core_apps()\nC = ['blog']\nC += get_more()\nD = get_core_apps() + get_more()\nE = {'k': X + Y}\n",
        )]);
        let entries = |name: &str| values[name].as_seq().expect("a list").to_vec();
        assert_eq!(
            entries("A"),
            [Value::Str("blog".into()), Value::Expr("*env_apps".into())]
        );
        assert_eq!(
            entries("B"),
            [
                Value::Str("blog".into()),
                Value::Expr("get_core_apps(...)".into())
            ]
        );
        assert_eq!(
            entries("C"),
            [
                Value::Str("blog".into()),
                Value::Expr("get_more(...)".into())
            ]
        );
        assert_eq!(
            values["D"],
            Value::Expr("get_core_apps() + get_more()".into())
        );
        // No marker of a sum is left inside other values.
        assert_eq!(
            values["E"],
            Value::Dict(vec![(Value::Str("k".into()), Value::Expr("X + Y".into()))])
        );
    }

    #[test]
    fn settings_are_evaluated_in_order_with_star_imports_in_place() {
        let values = evaluate(&[
            (
                "config.settings.dev",
                "from .base import *\nINSTALLED_APPS += ['debug_toolbar']\nAUTH_USER_MODEL = 'accounts.User'\n",
            ),
            (
                "config.settings.base",
                "INSTALLED_APPS = ['django.contrib.auth']\nINSTALLED_APPS.append('blog')\nINSTALLED_APPS.extend(['shop'])\nINSTALLED_APPS.insert(0, 'first')\nINSTALLED_APPS = INSTALLED_APPS + ['last']\nAUTH_USER_MODEL = 'auth.User'\nif DEBUG:\n    INSTALLED_APPS += ['maybe']\n    SECRET = 'x'\ntry:\n    from .local import *\nexcept ImportError:\n    pass\n",
            ),
            ("config.settings.local", "MIGRATION_MODULES = {'blog': 'blog.db'}\n"),
        ]);
        assert_eq!(
            strings(&values["INSTALLED_APPS"]),
            [
                "first",
                "django.contrib.auth",
                "blog",
                "shop",
                "last",
                "maybe",
                "debug_toolbar"
            ]
        );
        // The star import's value is overridden by the module's own, later.
        assert_eq!(
            values["AUTH_USER_MODEL"],
            Value::Str("accounts.User".into())
        );
        // Set under a condition: not known.
        assert!(matches!(values["SECRET"], Value::Expr(_)));
        assert!(matches!(values["MIGRATION_MODULES"], Value::Dict(_)));
        // A change not followed leaves the value unknown, not stale.
        let values = evaluate(&[(
            "s",
            "INSTALLED_APPS = ['a', 'b']\nINSTALLED_APPS.remove('b')\n",
        )]);
        assert!(matches!(values["INSTALLED_APPS"], Value::Expr(_)));
    }

    /// `DATABASES["default"][key]` of `values`, as a string.
    fn db_field<'v>(values: &'v HashMap<String, Value>, key: &str) -> Option<&'v str> {
        let Value::Dict(databases) = &values["DATABASES"] else {
            return None;
        };
        let (_, default) = databases
            .iter()
            .find(|(k, _)| k.as_str() == Some("default"))?;
        let Value::Dict(entry) = default else {
            return None;
        };
        entry
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .and_then(|(_, v)| v.as_str())
    }

    #[test]
    fn databases_by_subscript_assignment() {
        // The entry replaced, then one of its keys, then one added.
        let values = evaluate(&[(
            "s",
            "DATABASES = {'default': {'ENGINE': 'x', 'NAME': 'old'}}\n\
             DATABASES['default'] = {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'app'}\n\
             DATABASES[\"default\"][\"NAME\"] = 'shop'\n\
             DATABASES['default']['HOST'] = 'db'\n",
        )]);
        assert_eq!(
            db_field(&values, "ENGINE"),
            Some("django.db.backends.postgresql")
        );
        assert_eq!(db_field(&values, "NAME"), Some("shop"));
        assert_eq!(db_field(&values, "HOST"), Some("db"));
        // An empty dict filled in, key by key.
        let values = evaluate(&[(
            "s",
            "DATABASES = {}\nDATABASES['default'] = {'ENGINE': 'e'}\nDATABASES['default']['NAME'] = 'n'\n",
        )]);
        assert_eq!(db_field(&values, "ENGINE"), Some("e"));
        assert_eq!(db_field(&values, "NAME"), Some("n"));
        // Through a star import: the base module's dict is the one changed.
        let values = evaluate(&[
            (
                "dev",
                "from base import *\nDATABASES['default']['NAME'] = 'dev'\n",
            ),
            (
                "base",
                "DATABASES = {'default': {'ENGINE': 'e', 'NAME': 'prod'}}\n",
            ),
        ]);
        assert_eq!(db_field(&values, "NAME"), Some("dev"));
        // What cannot be followed leaves the value unknown, not stale: a
        // missing key (KeyError), a key that is not a literal, an
        // assignment under a condition, a name never bound.
        for module in [
            "DATABASES = {}\nDATABASES['default']['NAME'] = 'n'\n",
            "DATABASES = {'default': {'NAME': 'a'}}\nDATABASES[ALIAS]['NAME'] = 'n'\n",
            "DATABASES = {'default': {'NAME': 'a'}}\nif DEBUG:\n    DATABASES['default']['NAME'] = 'n'\n",
            "DATABASES['default'] = {'NAME': 'n'}\n",
        ] {
            let values = evaluate(&[("s", module)]);
            assert!(
                matches!(values["DATABASES"], Value::Expr(_)),
                "{module}: {values:?}"
            );
        }
    }

    #[test]
    fn databases_through_a_name_bound_to_a_dict() {
        let values = evaluate(&[(
            "s",
            "DEFAULT_DB = {'ENGINE': 'django.db.backends.mysql', 'NAME': 'shop'}\n\
             DATABASES = {'default': DEFAULT_DB}\n\
             DEFAULT_DB = {'ENGINE': 'other', 'NAME': 'later'}\n",
        )]);
        // The dict bound when DATABASES was assigned, not a later one.
        assert_eq!(db_field(&values, "NAME"), Some("shop"));
        assert_eq!(
            db_field(&values, "ENGINE"),
            Some("django.db.backends.mysql")
        );
        // The whole setting, and a key set through it.
        let values = evaluate(&[(
            "s",
            "DBS = {'default': {'ENGINE': 'e', 'NAME': 'a'}}\nDATABASES = DBS\n",
        )]);
        assert_eq!(db_field(&values, "NAME"), Some("a"));
        let values = evaluate(&[(
            "s",
            "DEFAULT_DB = {'ENGINE': 'e', 'NAME': 'a'}\nDATABASES = {'default': DEFAULT_DB}\n\
             DATABASES['default']['NAME'] = 'b'\n",
        )]);
        assert_eq!(db_field(&values, "NAME"), Some("b"));
        // The dict changed in place after DATABASES took it, or a part of
        // DATABASES changed by a method: Django sees the change, so the
        // setting is unknown rather than stale.
        for module in [
            "DEFAULT_DB = {'ENGINE': 'e', 'NAME': 'x'}\nDATABASES = {'default': DEFAULT_DB}\n\
             DEFAULT_DB['NAME'] = 'z'\n",
            "DBS = {'default': {'ENGINE': 'e', 'NAME': 'x'}}\nDATABASES = DBS\nDBS.update(other=1)\n",
            "DATABASES = {'default': {'ENGINE': 'e', 'NAME': 'x'}}\n\
             DATABASES['default'].update({'NAME': 'u'})\n",
        ] {
            let values = evaluate(&[("s", module)]);
            assert!(
                matches!(values["DATABASES"], Value::Expr(_)),
                "{module}: {values:?}"
            );
        }
        // Through a star import too.
        let values = evaluate(&[
            ("dev", "from base import *\nDEFAULT_DB['NAME'] = 'dev'\n"),
            (
                "base",
                "DEFAULT_DB = {'ENGINE': 'e', 'NAME': 'prod'}\nDATABASES = {'default': DEFAULT_DB}\n",
            ),
        ]);
        assert!(matches!(values["DATABASES"], Value::Expr(_)), "{values:?}");
        // A name bound anew before it changes holds another dict.
        let values = evaluate(&[(
            "s",
            "DEFAULT_DB = {'ENGINE': 'e', 'NAME': 'x'}\nDATABASES = {'default': DEFAULT_DB}\n\
             DEFAULT_DB = {}\nDEFAULT_DB['NAME'] = 'z'\n",
        )]);
        assert_eq!(db_field(&values, "NAME"), Some("x"));
        // A name bound to something else stays a name.
        let values = evaluate(&[(
            "s",
            "URL = 'postgres://x/y'\nDATABASES = {'default': URL}\n",
        )]);
        let Value::Dict(databases) = &values["DATABASES"] else {
            panic!("{values:?}")
        };
        assert!(matches!(&databases[0].1, Value::Ref(r) if r.written == "URL"));
    }

    #[test]
    fn app_config_is_chosen_by_djangos_rule() {
        let one = b"from django.apps import AppConfig\nclass CatalogConfig(AppConfig):\n    name = 'catalog'\n    label = 'catalogue'\n";
        assert_eq!(app_config_label(one, None).as_deref(), Some("catalogue"));
        // Two configs: the one marked `default = True` wins, not the first.
        let two = b"from django.apps import AppConfig\nclass Other(AppConfig):\n    name = 'catalog'\n    label = 'other'\nclass Main(AppConfig):\n    default = True\n    name = 'catalog'\n    label = 'main'\n";
        assert_eq!(app_config_label(two, None).as_deref(), Some("main"));
        // ... unless INSTALLED_APPS names a class.
        assert_eq!(
            app_config_label(two, Some("Other")).as_deref(),
            Some("other")
        );
        // `default = False` takes a class out, and is inherited like the
        // label: a subclass must say `default = True` to be picked.
        let inherited = b"from django.apps import AppConfig\nclass Base(AppConfig):\n    default = False\n    label = 'shared'\nclass Child(Base):\n    name = 'catalog'\n";
        assert_eq!(app_config_label(inherited, None), None);
        let chosen = b"from django.apps import AppConfig\nclass Base(AppConfig):\n    default = False\n    label = 'shared'\nclass Child(Base):\n    default = True\n    name = 'catalog'\n";
        assert_eq!(app_config_label(chosen, None).as_deref(), Some("shared"));
        // Two candidates and no default: Django uses its plain AppConfig.
        let ambiguous = b"from django.apps import AppConfig\nclass A(AppConfig):\n    label = 'a'\nclass B(AppConfig):\n    label = 'b'\n";
        assert_eq!(app_config_label(ambiguous, None), None);
        // A class that is no AppConfig is not a candidate.
        let helper = b"from django.apps import AppConfig\nclass Helper:\n    label = 'nope'\nclass C(AppConfig):\n    label = 'c'\n";
        assert_eq!(app_config_label(helper, None).as_deref(), Some("c"));
    }

    #[test]
    fn manage_py_is_read_from_the_syntax_tree() {
        let manage = b"import os\n# DJANGO_SETTINGS_MODULE='wrong.settings'\ndef main():\n    \"\"\"Uses DJANGO_SETTINGS_MODULE.\"\"\"\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"config.settings\")\n";
        assert_eq!(
            manage_py_settings(manage).as_deref(),
            Some("config.settings")
        );
        let assigned = b"import os\nif __name__ == '__main__':\n    os.environ['DJANGO_SETTINGS_MODULE'] = 'site.settings.prod'\n";
        assert_eq!(
            manage_py_settings(assigned).as_deref(),
            Some("site.settings.prod")
        );
        assert_eq!(manage_py_settings(b"import os\n"), None);
    }

    /// A `manage.py` the parser refuses (a Python 2 `print` statement) is
    /// scanned as text, comments left out.
    #[test]
    fn an_unparsable_manage_py_is_scanned() {
        let py2 = b"import os, sys\n# DJANGO_SETTINGS_MODULE = 'wrong.settings'\n\
                    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"legacy.settings\")\n\
                    print \"starting\"\n";
        assert_eq!(manage_py_settings(py2).as_deref(), Some("legacy.settings"));
        let assigned =
            b"import os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'site.prod'\nprint 'x'\n";
        assert_eq!(manage_py_settings(assigned).as_deref(), Some("site.prod"));
        assert_eq!(
            manage_py_settings(b"print 'DJANGO_SETTINGS_MODULE'\n"),
            None
        );
    }
}

/// The modules a module imports at its top level (in `try`/`if` blocks
/// too), as dotted names: `from .x import y` inside package `a.b` gives
/// `a.b.x` and `a.b.x.y` (either may be the module).
pub fn imported_modules(bytes: &[u8], package: &str) -> Vec<String> {
    imports_of(bytes, package, false)
}

/// Every module a file imports anywhere, inside functions and classes too:
/// what an `AppConfig.ready()` imports runs when Django starts (label-studio
/// registers its state models so).
pub fn imported_modules_anywhere(bytes: &[u8], package: &str) -> Vec<String> {
    imports_of(bytes, package, true)
}

fn imports_of(bytes: &[u8], package: &str, deep: bool) -> Vec<String> {
    fn visit(body: &[Stmt], package: &str, deep: bool, out: &mut Vec<String>) {
        for stmt in body {
            match stmt {
                Stmt::Import(import) => {
                    out.extend(import.names.iter().map(|a| a.name.to_string()));
                }
                Stmt::ImportFrom(from) => {
                    let level = from.level.as_ref().map_or(0, |l| l.to_u32());
                    let module = from.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                    let base = crate::parse::imports::resolve_relative(package, level, module);
                    for alias in &from.names {
                        if alias.name.as_str() != "*" && !base.is_empty() {
                            out.push(format!("{base}.{}", alias.name));
                        }
                    }
                    if !base.is_empty() {
                        out.push(base);
                    }
                }
                Stmt::Try(t) => {
                    visit(&t.body, package, deep, out);
                    visit(&t.orelse, package, deep, out);
                }
                Stmt::If(i) => {
                    visit(&i.body, package, deep, out);
                    visit(&i.orelse, package, deep, out);
                }
                Stmt::FunctionDef(f) if deep => visit(&f.body, package, deep, out),
                Stmt::ClassDef(c) if deep => visit(&c.body, package, deep, out),
                _ => {}
            }
        }
    }
    on_large_stack(|| {
        let (_, body) = parse(bytes)?;
        let mut out = Vec::new();
        visit(&body, package, deep, &mut out);
        out.sort();
        out.dedup();
        Some(out)
    })
    .unwrap_or_default()
}

/// A change a module makes to Django itself, at import time or in
/// `AppConfig.ready()`, that changes what `makemigrations` compares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DjangoPatch {
    /// `AlterModelOptions.ALTER_OPTION_KEYS.remove("verbose_name")`: the
    /// option is no longer compared.
    OptionKeyRemoved(String),
    /// `ALTER_OPTION_KEYS` changed in another way.
    OptionKeysChanged,
    /// `models.Field.deconstruct = ...` (or a field class's): what fields
    /// deconstruct to is no longer Django's.
    DeconstructReplaced,
}

/// The [`DjangoPatch`]es of a module, each with its 1-based line. Cheap on
/// the modules that have none: only a module that names
/// `ALTER_OPTION_KEYS` or assigns a `deconstruct` is parsed.
pub fn django_patches(bytes: &[u8]) -> Vec<(DjangoPatch, u32)> {
    let marked = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if !marked(b"ALTER_OPTION_KEYS") && !marked(b"deconstruct") {
        return Vec::new();
    }
    on_large_stack(|| {
        let (text, body) = parse(bytes)?;
        let mut out = Vec::new();
        patches_in(&body, &text, &mut out);
        Some(out)
    })
    .unwrap_or_default()
}

fn patches_in(body: &[Stmt], text: &str, out: &mut Vec<(DjangoPatch, u32)>) {
    use rustpython_parser::ast::Ranged;
    let line = |stmt: &Stmt| {
        let at = usize::from(stmt.range().start()).min(text.len());
        text.as_bytes()[..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32
            + 1
    };
    let names_keys = |e: &Expr| {
        matches!(e, Expr::Attribute(a) if a.attr.as_str() == "ALTER_OPTION_KEYS")
            || matches!(e, Expr::Name(n) if n.id.as_str() == "ALTER_OPTION_KEYS")
    };
    for stmt in body {
        match stmt {
            Stmt::Expr(e) => {
                let Expr::Call(call) = &*e.value else {
                    continue;
                };
                let Expr::Attribute(method) = &*call.func else {
                    continue;
                };
                if !names_keys(&method.value) {
                    continue;
                }
                let key = match (method.attr.as_str(), call.args.as_slice()) {
                    ("remove" | "discard", [Expr::Constant(c)]) => match &c.value {
                        ast::Constant::Str(key) => Some(key.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                out.push((
                    key.map_or(
                        DjangoPatch::OptionKeysChanged,
                        DjangoPatch::OptionKeyRemoved,
                    ),
                    line(stmt),
                ));
            }
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    match target {
                        Expr::Attribute(a) if a.attr.as_str() == "deconstruct" => {
                            out.push((DjangoPatch::DeconstructReplaced, line(stmt)));
                        }
                        t if names_keys(t) => {
                            out.push((DjangoPatch::OptionKeysChanged, line(stmt)))
                        }
                        _ => {}
                    }
                }
            }
            Stmt::AugAssign(aug) if names_keys(&aug.target) => {
                out.push((DjangoPatch::OptionKeysChanged, line(stmt)));
            }
            Stmt::FunctionDef(f) => patches_in(&f.body, text, out),
            Stmt::AsyncFunctionDef(f) => patches_in(&f.body, text, out),
            Stmt::ClassDef(c) => patches_in(&c.body, text, out),
            Stmt::If(s) => {
                patches_in(&s.body, text, out);
                patches_in(&s.orelse, text, out);
            }
            Stmt::With(s) => patches_in(&s.body, text, out),
            Stmt::For(s) => patches_in(&s.body, text, out),
            Stmt::Try(s) => {
                patches_in(&s.body, text, out);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    patches_in(&h.body, text, out);
                }
                patches_in(&s.orelse, text, out);
                patches_in(&s.finalbody, text, out);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod patch_tests {
    use super::*;

    #[test]
    fn finds_what_a_project_changes_in_django() {
        let apps_py = b"from django.apps import AppConfig\nfrom django.db import models\nfrom django.db.migrations.operations import AlterModelOptions\n\nAlterModelOptions.ALTER_OPTION_KEYS.remove('verbose_name')\n\nclass CoreConfig(AppConfig):\n    def ready(self):\n        models.Field.deconstruct = custom_deconstruct\n        AlterModelOptions.ALTER_OPTION_KEYS.append('x')\n";
        assert_eq!(
            django_patches(apps_py),
            vec![
                (DjangoPatch::OptionKeyRemoved("verbose_name".into()), 5),
                (DjangoPatch::DeconstructReplaced, 9),
                (DjangoPatch::OptionKeysChanged, 10),
            ]
        );
        assert!(
            django_patches(b"class A:\n    def deconstruct(self):\n        return 1\n").is_empty()
        );
        assert!(django_patches(b"x = 1\n").is_empty());
    }
}
