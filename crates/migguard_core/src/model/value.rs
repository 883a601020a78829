//! Python values as they appear in migration and model files, kept as data.
//!
//! Migration files are written by Django's `MigrationWriter`, which serialises
//! every argument as a literal, a reference (`django.db.models.deletion.CASCADE`)
//! or a call (`models.CharField(max_length=100)`). [`Value`] mirrors exactly
//! those shapes; anything else is kept as its source text in [`Value::Expr`],
//! so nothing is guessed.

use serde::{Deserialize, Serialize};

/// A statically read Python value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    None,
    Bool(bool),
    /// Integers outside `i64` are kept as their decimal text.
    Int(i64),
    BigInt(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Set(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// A dotted name, resolved through the module's imports where possible:
    /// `models.CASCADE` -> `django.db.models.CASCADE`.
    Ref(Ref),
    /// A call of a dotted name: a field, an index, a constraint, a manager.
    Call(Box<Call>),
    /// Anything that is not a literal (a lambda, an f-string, arithmetic): its source text.
    Expr(String),
}

/// A dotted name as written, and as resolved through the file's imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    /// As written in the source: `models.CASCADE`.
    pub written: String,
    /// Resolved through imports: `django.db.models.CASCADE`. Equal to
    /// `written` when the first component was not imported.
    pub path: String,
}

/// A call such as `models.CharField(max_length=100)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub func: Ref,
    pub args: Vec<Value>,
    pub kwargs: Vec<(String, Value)>,
}

impl Call {
    /// A keyword argument by name.
    pub fn kwarg(&self, name: &str) -> Option<&Value> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The last component of the callee: `CharField` for `models.CharField`.
    pub fn class_name(&self) -> &str {
        self.func.path.rsplit('.').next().unwrap_or(&self.func.path)
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_call(&self) -> Option<&Call> {
        match self {
            Value::Call(c) => Some(c),
            _ => None,
        }
    }

    pub fn as_ref_path(&self) -> Option<&str> {
        match self {
            Value::Ref(r) => Some(&r.path),
            _ => None,
        }
    }

    /// Elements of a list, tuple or set.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// True when the value holds no [`Value::Expr`] anywhere: it was read
    /// completely, without any source text left unevaluated.
    pub fn is_fully_literal(&self) -> bool {
        match self {
            Value::Expr(_) => false,
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => {
                v.iter().all(Value::is_fully_literal)
            }
            Value::Dict(items) => items
                .iter()
                .all(|(k, v)| k.is_fully_literal() && v.is_fully_literal()),
            Value::Call(c) => {
                c.args.iter().all(Value::is_fully_literal)
                    && c.kwargs.iter().all(|(_, v)| v.is_fully_literal())
            }
            _ => true,
        }
    }
}

impl Value {
    /// JSON form, meant for people and other tools: literals map to JSON
    /// literals, lists/tuples/sets to arrays, dicts with string keys to
    /// objects, and the rest to small tagged objects (`{"ref": ...}`,
    /// `{"call": ..., "args": ..., "kwargs": ...}`, `{"expr": ...}`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value as J};
        match self {
            Value::None => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => json!(i),
            Value::BigInt(t) => json!({ "int": t }),
            Value::Float(f) => json!(f),
            Value::Str(t) => J::String(t.clone()),
            Value::Bytes(b) => json!({ "bytes": String::from_utf8_lossy(b) }),
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => {
                J::Array(v.iter().map(Value::to_json).collect())
            }
            Value::Dict(items) => {
                if items.iter().all(|(k, _)| k.as_str().is_some()) {
                    let map: Map<String, J> = items
                        .iter()
                        .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.to_json()))
                        .collect();
                    J::Object(map)
                } else {
                    J::Array(
                        items
                            .iter()
                            .map(|(k, v)| J::Array(vec![k.to_json(), v.to_json()]))
                            .collect(),
                    )
                }
            }
            Value::Ref(r) => json!({ "ref": r.path }),
            Value::Call(c) => c.to_json(),
            Value::Expr(src) => json!({ "expr": src }),
        }
    }
}

impl Call {
    /// See [`Value::to_json`].
    pub fn to_json(&self) -> serde_json::Value {
        let kwargs: serde_json::Map<String, serde_json::Value> = self
            .kwargs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        serde_json::json!({
            "call": self.func.path,
            "args": self.args.iter().map(Value::to_json).collect::<Vec<_>>(),
            "kwargs": kwargs,
        })
    }
}
