//! AST expressions to [`Value`]s.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Constant, Expr, Ranged};

use super::imports::ImportMap;
use crate::model::{Call, Ref, Value};
use crate::source::Span;

/// Deeper nesting than this is kept as source text: values in migrations are
/// shallow, and a bound keeps hostile input from exhausting the stack.
const MAX_DEPTH: u32 = 64;

/// Reads expressions of one module.
pub struct ValueReader<'a> {
    pub text: &'a str,
    pub imports: &'a ImportMap,
    /// Module-level `NAME = <expr>` assignments, used when a value refers
    /// to a module constant (`migrations.RunSQL(SQL)`).
    pub constants: &'a HashMap<String, &'a Expr>,
}

impl<'a> ValueReader<'a> {
    pub fn source(&self, expr: &Expr) -> String {
        let range = expr.range();
        self.text
            .get(usize::from(range.start())..usize::from(range.end()))
            .unwrap_or("")
            .to_owned()
    }

    pub fn span(expr: &Expr) -> Span {
        let range = expr.range();
        Span::new(range.start().into(), range.end().into())
    }

    /// `a.b.c` for a chain of names and attributes (iterative: a hostile
    /// file may chain thousands of attributes).
    pub fn dotted(expr: &Expr) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = expr;
        loop {
            match current {
                Expr::Name(name) => {
                    parts.push(name.id.as_str());
                    break;
                }
                Expr::Attribute(attr) => {
                    parts.push(attr.attr.as_str());
                    current = &attr.value;
                }
                _ => return None,
            }
        }
        parts.reverse();
        Some(parts.join("."))
    }

    pub fn reference(&self, dotted: String) -> Ref {
        Ref {
            path: self.imports.resolve(&dotted),
            written: dotted,
        }
    }

    pub fn read(&self, expr: &Expr) -> Value {
        self.read_at(expr, 0)
    }

    fn read_at(&self, expr: &Expr, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return Value::Expr(self.source(expr));
        }
        let seq = |items: &[Expr]| -> Vec<Value> {
            items.iter().map(|e| self.read_at(e, depth + 1)).collect()
        };
        match expr {
            Expr::Constant(c) => constant(&c.value),
            Expr::List(l) if !has_starred(&l.elts) => Value::List(seq(&l.elts)),
            Expr::Tuple(t) if !has_starred(&t.elts) => Value::Tuple(seq(&t.elts)),
            Expr::Set(s) if !has_starred(&s.elts) => Value::Set(seq(&s.elts)),
            Expr::Dict(d) if d.keys.iter().all(Option::is_some) => Value::Dict(
                d.keys
                    .iter()
                    .zip(&d.values)
                    .map(|(k, v)| {
                        let key = k
                            .as_ref()
                            .map_or(Value::None, |k| self.read_at(k, depth + 1));
                        (key, self.read_at(v, depth + 1))
                    })
                    .collect(),
            ),
            Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::USub) => {
                match self.read_at(&u.operand, depth + 1) {
                    Value::Int(i) => i
                        .checked_neg()
                        .map_or(Value::Expr(self.source(expr)), Value::Int),
                    Value::Float(f) => Value::Float(-f),
                    _ => Value::Expr(self.source(expr)),
                }
            }
            Expr::Name(name) => {
                if let Some(value) = self.constants.get(name.id.as_str()) {
                    // A module constant; guard against `A = A`-style loops by depth.
                    if !matches!(value, Expr::Name(n) if n.id == name.id) {
                        return self.read_at(value, depth + 8);
                    }
                }
                Value::Ref(self.reference(name.id.to_string()))
            }
            Expr::Attribute(_) => match Self::dotted(expr) {
                Some(dotted) => Value::Ref(self.reference(dotted)),
                None => Value::Expr(self.source(expr)),
            },
            Expr::Call(call) => match self.read_call(call, depth) {
                Some(call) => Value::Call(Box::new(call)),
                None => Value::Expr(self.source(expr)),
            },
            _ => Value::Expr(self.source(expr)),
        }
    }

    /// A call of a dotted name with plain arguments; `None` for `f(*a)`,
    /// `f(**k)` or a callee that is not a name.
    pub fn read_call(&self, call: &ast::ExprCall, depth: u32) -> Option<Call> {
        let func = Self::dotted(&call.func)?;
        if has_starred(&call.args) || call.keywords.iter().any(|k| k.arg.is_none()) {
            return None;
        }
        Some(Call {
            func: self.reference(func),
            args: call
                .args
                .iter()
                .map(|a| self.read_at(a, depth + 1))
                .collect(),
            kwargs: call
                .keywords
                .iter()
                .filter_map(|k| {
                    let name = k.arg.as_ref()?.to_string();
                    Some((name, self.read_at(&k.value, depth + 1)))
                })
                .collect(),
        })
    }
}

fn has_starred(items: &[Expr]) -> bool {
    items.iter().any(|e| matches!(e, Expr::Starred(_)))
}

fn constant(c: &Constant) -> Value {
    match c {
        Constant::None => Value::None,
        Constant::Bool(b) => Value::Bool(*b),
        Constant::Str(s) => Value::Str(s.clone()),
        Constant::Bytes(b) => Value::Bytes(b.clone()),
        Constant::Int(i) => {
            i64::try_from(i).map_or_else(|_| Value::BigInt(i.to_string()), Value::Int)
        }
        Constant::Float(f) => Value::Float(*f),
        Constant::Tuple(items) => Value::Tuple(items.iter().map(constant).collect()),
        Constant::Complex { real, imag } => Value::Expr(format!("complex({real}, {imag})")),
        Constant::Ellipsis => Value::Expr("...".to_owned()),
    }
}
