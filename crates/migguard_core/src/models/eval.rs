//! Values of models modules evaluated statically: names to what they are
//! bound to (across the project's modules), classes and functions to the
//! path Django's writer would use, `gettext_lazy("x")` to `"x"`, enum
//! members to their values, `Status.choices` to Django's list of pairs,
//! `Q` objects to their deconstructed form (with `~`, `&` and `|` applied),
//! and simple arithmetic on constants. What cannot be known statically is
//! returned as [`Value::Expr`]; callers treat that as unresolved.

use std::cell::Cell;

use super::classes::{EnumKind, MemberValue};
use super::modules::{ClassId, Symbol};
use super::Env;
use crate::model::{Call, Ref, Value};

/// Chains of names longer than this are not followed.
const MAX_EVAL_DEPTH: u32 = 48;

pub(crate) const Q_PATH: &str = "django.db.models.Q";

/// A guard that counts evaluation depth.
pub(crate) struct Depth<'c>(&'c Cell<u32>);

impl<'c> Depth<'c> {
    pub(crate) fn enter(cell: &'c Cell<u32>) -> Option<Depth<'c>> {
        if cell.get() >= MAX_EVAL_DEPTH {
            return None;
        }
        cell.set(cell.get() + 1);
        Some(Depth(cell))
    }
}

impl Drop for Depth<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

pub(crate) fn reference(path: impl Into<String>) -> Ref {
    let path = path.into();
    Ref {
        written: path.clone(),
        path,
    }
}

fn call(path: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Value {
    Value::Call(Box::new(Call {
        func: reference(path),
        args,
        kwargs,
    }))
}

fn unknown(what: impl Into<String>) -> Value {
    Value::Expr(what.into())
}

/// `django.utils.translation` functions whose value is their message.
fn translation_message(path: &str) -> Option<usize> {
    let name = path.strip_prefix("django.utils.translation.")?;
    match name {
        "gettext" | "gettext_lazy" | "ugettext" | "ugettext_lazy" | "gettext_noop"
        | "ugettext_noop" => Some(0),
        "pgettext" | "pgettext_lazy" => Some(1),
        _ => None,
    }
}

impl Env<'_> {
    /// Evaluate a value read from a module.
    pub fn eval(&self, value: &Value) -> Value {
        let Some(_depth) = Depth::enter(&self.depth) else {
            return unknown("(too deep)");
        };
        match value {
            Value::Ref(r) => self.eval_ref(r),
            Value::Call(c) => self.eval_call(c),
            Value::List(items) => Value::List(items.iter().map(|v| self.eval(v)).collect()),
            Value::Tuple(items) => Value::Tuple(items.iter().map(|v| self.eval(v)).collect()),
            Value::Set(items) => Value::Set(items.iter().map(|v| self.eval(v)).collect()),
            Value::Dict(items) => Value::Dict(
                items
                    .iter()
                    .map(|(k, v)| (self.eval(k), self.eval(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn eval_ref(&self, r: &Ref) -> Value {
        if let Some(setting) = r.path.strip_prefix("django.conf.settings.") {
            return self.setting(r, setting);
        }
        let symbol = self.index.lookup(&r.path);
        self.eval_symbol(symbol, r)
    }

    fn setting(&self, r: &Ref, name: &str) -> Value {
        if name.contains('.') {
            return unknown(r.written.clone());
        }
        if self.settings.swappable(name).is_some()
            && (name == "AUTH_USER_MODEL" || self.settings.swappable.contains_key(name))
        {
            return Value::Ref(r.clone());
        }
        // Evaluated as a value of the models module would be: the names
        // in it were resolved through the settings module's imports, so
        // `_("Arabic")` in `LANGUAGES` is its message, as the writer puts
        // it in a migration.
        match self.settings.values.get(name).map(|value| self.eval(value)) {
            Some(value) if value.is_fully_literal() => value,
            _ => unknown(r.written.clone()),
        }
    }

    fn eval_symbol(&self, symbol: Symbol, r: &Ref) -> Value {
        match symbol {
            Symbol::Value(value) => self.eval(&value),
            Symbol::Class(id) => Value::Ref(Ref {
                written: r.written.clone(),
                path: id.path(),
            }),
            Symbol::Function(path) | Symbol::Module(path) => Value::Ref(Ref {
                written: r.written.clone(),
                path,
            }),
            Symbol::External(path) => Value::Ref(Ref {
                written: r.written.clone(),
                path,
            }),
            Symbol::ClassAttr(id, rest) => self.class_attr(&id, &rest, &r.written),
            Symbol::Missing(_) => unknown(r.written.clone()),
        }
    }

    /// `Class.attr...`: enum members and their `value`/`label`, the
    /// `choices`/`values`/`labels`/`names` of a choices enum, and class
    /// constants (own or inherited).
    fn class_attr(&self, id: &ClassId, rest: &[String], written: &str) -> Value {
        let Some((first, tail)) = rest.split_first() else {
            return Value::Ref(reference(id.path()));
        };
        if let Some(info) = self.enum_info(id) {
            if info.kind != EnumKind::NotEnum {
                if let Some(member) = info.members.iter().find(|m| &m.name == first) {
                    return match (tail.first().map(String::as_str), tail.len()) {
                        (None, _) => self.member_value(&info.kind, id, member),
                        (Some("value"), 1) => member.value.clone(),
                        (Some("label"), 1) => member.label.clone(),
                        (Some("name"), 1) => Value::Str(member.name.clone()),
                        _ => unknown(written),
                    };
                }
                if tail.is_empty() && info.kind != EnumKind::PyEnum {
                    match first.as_str() {
                        "choices" => return info.choices(),
                        "values" => {
                            return Value::List(
                                info.choice_pairs().into_iter().map(|(v, _)| v).collect(),
                            )
                        }
                        "labels" => {
                            return Value::List(
                                info.choice_pairs().into_iter().map(|(_, l)| l).collect(),
                            )
                        }
                        "names" => {
                            let mut names: Vec<Value> = Vec::new();
                            if info.empty.is_some() {
                                names.push(Value::Str("__empty__".to_owned()));
                            }
                            names.extend(info.members.iter().map(|m| Value::Str(m.name.clone())));
                            return Value::List(names);
                        }
                        _ => {}
                    }
                }
            }
        }
        // A constant of the class or of one of its project bases.
        for class_id in self.mro_classes(id) {
            let Some(class) = self.index.class(&class_id) else {
                continue;
            };
            if let Some(binding) = class.binding(first) {
                return match (&binding.kind, tail.is_empty()) {
                    (crate::parse::models::BindingKind::Value(v), true) => self.eval(v),
                    (crate::parse::models::BindingKind::Function, true) => {
                        Value::Ref(reference(format!("{}.{first}", class_id.path())))
                    }
                    (crate::parse::models::BindingKind::Class(nested), _) => {
                        let nested_id = ClassId {
                            module: class_id.module.clone(),
                            qualname: format!("{}.{}", class_id.qualname, nested.name),
                        };
                        self.class_attr(&nested_id, tail, written)
                    }
                    _ => unknown(written),
                };
            }
        }
        unknown(written)
    }

    /// An enum member used as a value: a choices member is its value (the
    /// writer serialises it so); another enum's member stays a reference.
    fn member_value(&self, kind: &EnumKind, id: &ClassId, member: &MemberValue) -> Value {
        match kind {
            EnumKind::Text | EnumKind::Integer | EnumKind::Choices => member.value.clone(),
            _ => Value::Ref(reference(format!("{}.{}", id.path(), member.name))),
        }
    }

    fn eval_call(&self, c: &Call) -> Value {
        let path = c.func.path.as_str();
        if path.starts_with("operator.") || path.starts_with('$') {
            let args: Vec<Value> = c.args.iter().map(|v| self.eval(v)).collect();
            let kwargs: Vec<(String, Value)> = c
                .kwargs
                .iter()
                .map(|(k, v)| (k.clone(), self.eval(v)))
                .collect();
            return self.operator(path, args, kwargs);
        }
        // `Manager.from_queryset(QS)`, `QS.as_manager()`, `F("x").desc()`
        // written on a dotted name: a method of the receiver.
        if let Some((receiver, method)) = c.func.path.rsplit_once('.') {
            if matches!(method, "from_queryset" | "as_manager" | "desc" | "asc") {
                let written = c.func.written.rsplit_once('.').map_or(receiver, |(w, _)| w);
                let mut args = vec![self.eval_ref(&Ref {
                    written: written.to_owned(),
                    path: receiver.to_owned(),
                })];
                args.extend(c.args.iter().map(|v| self.eval(v)));
                let kwargs: Vec<(String, Value)> = c
                    .kwargs
                    .iter()
                    .map(|(k, v)| (k.clone(), self.eval(v)))
                    .collect();
                return self.operator(&format!("$method.{method}"), args, kwargs);
            }
        }
        let func = match self.eval_ref(&c.func) {
            Value::Ref(r) => r,
            Value::Expr(e) => return unknown(format!("{e}(...)")),
            // What the callee names is not a class or function (an instance
            // built at import time, `Manager.from_queryset(QS)`): said as written.
            _ => return unknown(format!("{}(...)", c.func.written.trim_start_matches('$'))),
        };
        // `getattr(settings, "AUTH_USER_MODEL", "auth.User")` (oscar's
        // compat module): the setting, when it is known.
        if let ("getattr", [Value::Ref(owner), Value::Str(name), ..]) =
            (func.path.as_str(), c.args.as_slice())
        {
            if owner.path == "django.conf.settings" {
                let setting = Ref {
                    written: format!("{}.{name}", owner.written),
                    path: format!("django.conf.settings.{name}"),
                };
                return self.setting(&setting, name);
            }
        }
        let args: Vec<Value> = c.args.iter().map(|v| self.eval(v)).collect();
        let kwargs: Vec<(String, Value)> = c
            .kwargs
            .iter()
            .map(|(k, v)| (k.clone(), self.eval(v)))
            .collect();
        if let Some(index) = translation_message(&func.path) {
            // `gettext_lazy("x")`, or by keyword: `_(message="x")`.
            let message = args
                .get(index)
                .or_else(|| kwargs.iter().find(|(k, _)| k == "message").map(|(_, v)| v));
            return match message {
                Some(Value::Str(s)) => Value::Str(s.clone()),
                _ => unknown(format!("{}(...)", func.written)),
            };
        }
        match (func.path.as_str(), args.as_slice()) {
            ("dict", []) => {
                return Value::Dict(
                    kwargs
                        .into_iter()
                        .map(|(k, v)| (Value::Str(k), v))
                        .collect(),
                )
            }
            ("list", []) if kwargs.is_empty() => return Value::List(Vec::new()),
            ("tuple", []) if kwargs.is_empty() => return Value::Tuple(Vec::new()),
            ("set", []) if kwargs.is_empty() => return Value::Set(Vec::new()),
            ("list", [Value::List(v) | Value::Tuple(v)]) if kwargs.is_empty() => {
                return Value::List(v.clone())
            }
            ("tuple", [Value::List(v) | Value::Tuple(v)]) if kwargs.is_empty() => {
                return Value::Tuple(v.clone())
            }
            _ => {}
        }
        if !self.is_constructor(&func.path) {
            // A function called at import time: its result is not known.
            return unknown(format!("{}(...)", func.written));
        }
        match func.path.as_str() {
            "django.db.models.Q" | "django.db.models.query_utils.Q" => return make_q(args, kwargs),
            "django.contrib.auth.get_user_model" if args.is_empty() => {
                return Value::Ref(reference("django.conf.settings.AUTH_USER_MODEL"))
            }
            "enum.auto" => return call("enum.auto", Vec::new(), Vec::new()),
            _ => {}
        }
        Value::Call(Box::new(Call { func, args, kwargs }))
    }

    /// True when calling `path` builds an object whose arguments are its
    /// value (a class, as Django's writer records them), rather than
    /// running a function whose result is not known statically.
    fn is_constructor(&self, path: &str) -> bool {
        match self.index.lookup(path) {
            Symbol::Class(_) => true,
            Symbol::External(p) => {
                let last = p.rsplit('.').next().unwrap_or(&p);
                last.chars().next().is_some_and(char::is_uppercase)
                    || matches!(
                        p.as_str(),
                        "datetime.date"
                            | "datetime.datetime"
                            | "datetime.time"
                            | "datetime.timedelta"
                            | "re.compile"
                            | "functools.partial"
                            | "enum.auto"
                            | "django.contrib.auth.get_user_model"
                    )
                    || translation_message(&p).is_some()
            }
            _ => false,
        }
    }

    fn operator(&self, path: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Value {
        let what = || unknown(format!("{path}(...)"));
        // Arithmetic on query expressions (`F("views") * 2`): Django's
        // `Combinable._combine`, plain operands wrapped in `Value`.
        if let [a, b] = args.as_slice() {
            let connector = match path {
                "operator.add" => Some("+"),
                "operator.sub" => Some("-"),
                "operator.mul" => Some("*"),
                "operator.truediv" => Some("/"),
                "operator.mod" => Some("%%"),
                "operator.pow" => Some("^"),
                _ => None,
            };
            if let Some(connector) = connector {
                if is_combinable(a) || is_combinable(b) {
                    let wrap = |v: &Value| {
                        if is_combinable(v) {
                            v.clone()
                        } else {
                            call("django.db.models.Value", vec![v.clone()], Vec::new())
                        }
                    };
                    return call(
                        "django.db.models.expressions.CombinedExpression",
                        vec![wrap(a), Value::Str(connector.to_owned()), wrap(b)],
                        Vec::new(),
                    );
                }
            }
        }
        match (path, args.as_slice()) {
            ("operator.add", [a, b]) => match (a, b) {
                (Value::Str(x), Value::Str(y)) => Value::Str(format!("{x}{y}")),
                (Value::Int(x), Value::Int(y)) => x.checked_add(*y).map_or_else(what, Value::Int),
                (Value::List(x), Value::List(y)) => {
                    Value::List(x.iter().chain(y).cloned().collect())
                }
                (Value::Tuple(x), Value::Tuple(y)) => {
                    Value::Tuple(x.iter().chain(y).cloned().collect())
                }
                _ => match (number(a), number(b)) {
                    (Some(x), Some(y)) => Value::Float(x + y),
                    _ => what(),
                },
            },
            ("operator.sub", [Value::Int(x), Value::Int(y)]) => {
                x.checked_sub(*y).map_or_else(what, Value::Int)
            }
            ("operator.mul", [a, b]) => match (a, b) {
                (Value::Int(x), Value::Int(y)) => x.checked_mul(*y).map_or_else(what, Value::Int),
                (Value::Str(s), Value::Int(n)) | (Value::Int(n), Value::Str(s))
                    if (0..=4096).contains(n) =>
                {
                    Value::Str(s.repeat(*n as usize))
                }
                _ => match (number(a), number(b)) {
                    (Some(x), Some(y)) => Value::Float(x * y),
                    _ => what(),
                },
            },
            ("operator.floordiv", [Value::Int(x), Value::Int(y)]) => {
                match (x.checked_div(*y), x.checked_rem(*y)) {
                    (Some(q), Some(r)) => Value::Int(if r != 0 && ((*x < 0) != (*y < 0)) {
                        q - 1
                    } else {
                        q
                    }),
                    _ => what(),
                }
            }
            ("operator.truediv", [a, b]) => match (number(a), number(b)) {
                (Some(x), Some(y)) if y != 0.0 => Value::Float(x / y),
                _ => what(),
            },
            ("operator.mod", [Value::Int(x), Value::Int(y)]) => match x.checked_rem(*y) {
                Some(r) => Value::Int(if r != 0 && ((r < 0) != (*y < 0)) {
                    r + y
                } else {
                    r
                }),
                None => what(),
            },
            ("operator.pow", [Value::Int(x), Value::Int(y)]) if (0..=62).contains(y) => {
                x.checked_pow(*y as u32).map_or_else(what, Value::Int)
            }
            ("operator.or_", [a, b]) | ("operator.and_", [a, b]) => {
                let connector = if path == "operator.or_" { "OR" } else { "AND" };
                if let (Some(x), Some(y)) = (QNode::from_value(a), QNode::from_value(b)) {
                    return x.combine(y, connector).to_value();
                }
                match (a, b) {
                    (Value::Int(x), Value::Int(y)) => {
                        Value::Int(if connector == "OR" { x | y } else { x & y })
                    }
                    (Value::Bool(x), Value::Bool(y)) => Value::Bool(if connector == "OR" {
                        *x || *y
                    } else {
                        *x && *y
                    }),
                    _ => what(),
                }
            }
            ("operator.invert", [a]) => match QNode::from_value(a) {
                Some(mut q) => {
                    q.negated = !q.negated;
                    q.to_value()
                }
                None => match a {
                    Value::Int(x) => Value::Int(!x),
                    _ => what(),
                },
            },
            ("operator.not_", [a]) => match truthy(a) {
                Some(t) => Value::Bool(!t),
                None => what(),
            },
            ("$fstring", parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Value::Str(t) => out.push_str(t),
                        Value::Int(i) => out.push_str(&i.to_string()),
                        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
                        Value::None => out.push_str("None"),
                        _ => return what(),
                    }
                }
                Value::Str(out)
            }
            ("operator.getitem", [container, key]) => {
                self.getitem(container, key).unwrap_or_else(what)
            }
            ("$method.desc", [receiver]) | ("$method.asc", [receiver]) => {
                if !is_expression(receiver) {
                    return what();
                }
                let mut kw = Vec::new();
                if path.ends_with("desc") {
                    kw.push(("descending".to_owned(), Value::Bool(true)));
                }
                kw.extend(kwargs);
                call("django.db.models.OrderBy", vec![receiver.clone()], kw)
            }
            ("$method.as_manager", [Value::Ref(qs)]) if kwargs.is_empty() => {
                call("$as_manager", vec![Value::Ref(qs.clone())], Vec::new())
            }
            ("$method.from_queryset", [Value::Ref(manager), Value::Ref(qs)]) => call(
                "$from_queryset",
                vec![Value::Ref(manager.clone()), Value::Ref(qs.clone())],
                Vec::new(),
            ),
            ("$call", [Value::Call(inner), ..])
                if inner.func.path == "$from_queryset" && args.len() == 1 =>
            {
                call("$manager_from_queryset", inner.args.clone(), kwargs)
            }
            _ => what(),
        }
    }

    fn getitem(&self, container: &Value, key: &Value) -> Option<Value> {
        match (container, key) {
            (Value::List(items) | Value::Tuple(items), Value::Int(i)) => {
                let len = items.len() as i64;
                let index = if *i < 0 { len + i } else { *i };
                items.get(usize::try_from(index).ok()?).cloned()
            }
            (Value::Dict(items), key) => items
                .iter()
                .rev()
                .find(|(k, _)| super::equality::py_eq(k, key))
                .map(|(_, v)| v.clone()),
            (Value::Ref(class), Value::Str(name)) => {
                let Symbol::Class(id) = self.index.lookup(&class.path) else {
                    return None;
                };
                let info = self.enum_info(&id)?;
                let member = info.members.iter().find(|m| &m.name == name)?;
                Some(self.member_value(&info.kind, &id, member))
            }
            _ => None,
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Python truthiness of a literal.
pub(crate) fn truthy(v: &Value) -> Option<bool> {
    Some(match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Bytes(b) => !b.is_empty(),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => !items.is_empty(),
        Value::Dict(items) => !items.is_empty(),
        Value::BigInt(_) => true,
        Value::Ref(_) => true,
        Value::Call(c) if is_q(c) => !c.args.is_empty(),
        Value::Call(_) => true,
        Value::Expr(_) => return None,
    })
}

fn is_q(c: &Call) -> bool {
    c.func.path == Q_PATH || c.func.path == "django.db.models.query_utils.Q"
}

/// A query expression operators combine (`F`, `Value`, functions...), not a `Q`.
fn is_combinable(v: &Value) -> bool {
    matches!(v, Value::Call(c) if c.func.path.starts_with("django.db.models.") && !is_q(c)
        && super::fields::FieldClass::django(&c.func.path).is_none())
}

fn is_expression(v: &Value) -> bool {
    matches!(v, Value::Call(c) if c.func.path.starts_with("django.db.models."))
}

/// Django's `Q`: children, connector, negation.
#[derive(Debug, Clone)]
struct QNode {
    children: Vec<Value>,
    connector: String,
    negated: bool,
}

fn make_q(args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Value {
    let mut connector = "AND".to_owned();
    let mut negated = false;
    let mut lookups: Vec<(String, Value)> = Vec::new();
    for (k, v) in kwargs {
        match (k.as_str(), &v) {
            ("_connector", Value::Str(s)) => connector = s.clone(),
            ("_connector", Value::None) => {}
            ("_negated", v) => match truthy(v) {
                Some(t) => negated = t,
                None => return unknown("Q(_negated=...)"),
            },
            _ => lookups.push((k, v)),
        }
    }
    lookups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut children = args;
    children.extend(
        lookups
            .into_iter()
            .map(|(k, v)| Value::Tuple(vec![Value::Str(k), v])),
    );
    QNode {
        children,
        connector,
        negated,
    }
    .to_value()
}

impl QNode {
    fn from_value(v: &Value) -> Option<QNode> {
        let Value::Call(c) = v else { return None };
        if !is_q(c) {
            return None;
        }
        let mut q = QNode {
            children: c.args.clone(),
            connector: "AND".to_owned(),
            negated: false,
        };
        for (k, v) in &c.kwargs {
            match (k.as_str(), v) {
                ("_connector", Value::Str(s)) => q.connector = s.clone(),
                ("_negated", Value::Bool(b)) => q.negated = *b,
                _ => return None,
            }
        }
        Some(q)
    }

    fn to_value(&self) -> Value {
        let mut kwargs = Vec::new();
        if self.connector != "AND" {
            kwargs.push(("_connector".to_owned(), Value::Str(self.connector.clone())));
        }
        if self.negated {
            kwargs.push(("_negated".to_owned(), Value::Bool(true)));
        }
        call(Q_PATH, self.children.clone(), kwargs)
    }

    /// `Q._combine`: an empty side gives the other; else a new node with
    /// both added (`tree.Node.add`, which squashes same-connector children).
    fn combine(self, other: QNode, connector: &str) -> QNode {
        if self.children.is_empty() {
            return other;
        }
        if other.children.is_empty() {
            return self;
        }
        let mut node = QNode {
            children: Vec::new(),
            connector: connector.to_owned(),
            negated: false,
        };
        node.add(self, connector);
        node.add(other, connector);
        node
    }

    fn add(&mut self, data: QNode, connector: &str) {
        if !data.negated && (data.connector == connector || data.children.len() == 1) {
            self.children.extend(data.children);
        } else {
            self.children.push(data.to_value());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(children: Vec<Value>, kwargs: Vec<(&str, Value)>) -> Value {
        make_q(
            children,
            kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        )
    }

    #[test]
    fn q_objects_combine_like_django() {
        let a = q(vec![], vec![("a", Value::Int(1))]);
        let b = q(vec![], vec![("b", Value::Int(2))]);
        let both = QNode::from_value(&a)
            .unwrap()
            .combine(QNode::from_value(&b).unwrap(), "AND")
            .to_value();
        let pair = |k: &str, v: i64| Value::Tuple(vec![Value::Str(k.into()), Value::Int(v)]);
        assert_eq!(both, call(Q_PATH, vec![pair("a", 1), pair("b", 2)], vec![]));
        let either = QNode::from_value(&a)
            .unwrap()
            .combine(QNode::from_value(&b).unwrap(), "OR")
            .to_value();
        assert_eq!(
            either,
            call(
                Q_PATH,
                vec![pair("a", 1), pair("b", 2)],
                vec![("_connector".into(), Value::Str("OR".into()))]
            )
        );
        let sorted = q(vec![], vec![("z", Value::Int(1)), ("a", Value::Int(2))]);
        assert_eq!(sorted.as_call().unwrap().args[0], pair("a", 2));
    }
}
