//! Python's `==` on statically read values, with the paths of Django's
//! classes and functions compared under one name whichever module they are
//! imported from (`models.CASCADE` is `django.db.models.deletion.CASCADE`).

use std::borrow::Cow;

use crate::model::{Call, Value};

/// One name for a Django object exported under several module paths:
/// `django.X.Y` followed by the path from the first capitalised component
/// (`django.db.models.fields.related.ForeignKey` and
/// `django.db.models.ForeignKey` are both `django.db.models.ForeignKey`).
/// Other paths are returned unchanged.
pub fn canonical_path(path: &str) -> Cow<'_, str> {
    if !path.starts_with("django.") {
        return Cow::Borrowed(path);
    }
    let parts: Vec<&str> = path.split('.').collect();
    if parts.len() <= 4 {
        return Cow::Borrowed(path);
    }
    match parts
        .iter()
        .enumerate()
        .skip(3)
        .find(|(_, p)| p.chars().next().is_some_and(|c| c.is_uppercase()))
    {
        Some((i, _)) if i > 3 => {
            Cow::Owned(format!("{}.{}", parts[..3].join("."), parts[i..].join(".")))
        }
        _ => Cow::Borrowed(path),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Call(c) if is_decimal(c) => match c.args.as_slice() {
            [Value::Str(s)] => s.trim().parse::<f64>().ok(),
            [Value::Int(i)] => Some(*i as f64),
            [Value::Float(f)] => Some(*f),
            [] => Some(0.0),
            _ => None,
        },
        _ => None,
    }
}

fn is_decimal(c: &Call) -> bool {
    c.func.path == "decimal.Decimal" && c.kwargs.is_empty()
}

/// Python's `a == b` for the values Django compares.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => seq_eq(x, y),
        (Value::Set(x), Value::Set(y)) => {
            x.iter().all(|i| y.iter().any(|j| py_eq(i, j)))
                && y.iter().all(|j| x.iter().any(|i| py_eq(i, j)))
        }
        (Value::Dict(x), Value::Dict(y)) => dict_eq(x, y),
        (Value::Ref(x), Value::Ref(y)) => canonical_path(&x.path) == canonical_path(&y.path),
        (Value::Call(x), Value::Call(y)) if is_decimal(x) || is_decimal(y) => {
            match (number(a), number(b)) {
                (Some(p), Some(q)) => p == q,
                _ => false,
            }
        }
        (Value::Call(x), Value::Call(y)) => match (temporal(x), temporal(y)) {
            (Some(p), Some(q)) => p == q,
            (None, None) => call_eq(x, y),
            _ => false,
        },
        (Value::Expr(_), _) | (_, Value::Expr(_)) => false,
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// `datetime.timedelta`/`date`/`datetime`/`time` as comparable numbers:
/// the writer spells them by `repr()`, which normalises the arguments.
fn temporal(c: &Call) -> Option<(String, Vec<i64>)> {
    let (params, defaults): (&[&str], &[i64]) = match c.func.path.as_str() {
        "datetime.timedelta" => (
            &[
                "days",
                "seconds",
                "microseconds",
                "milliseconds",
                "minutes",
                "hours",
                "weeks",
            ],
            &[0, 0, 0, 0, 0, 0, 0],
        ),
        "datetime.date" => (&["year", "month", "day"], &[0, 0, 0]),
        "datetime.datetime" => (
            &[
                "year",
                "month",
                "day",
                "hour",
                "minute",
                "second",
                "microsecond",
            ],
            &[0, 0, 0, 0, 0, 0, 0],
        ),
        "datetime.time" => (&["hour", "minute", "second", "microsecond"], &[0, 0, 0, 0]),
        _ => return None,
    };
    let mut values = defaults.to_vec();
    if c.args.len() > params.len() {
        return None;
    }
    for (i, arg) in c.args.iter().enumerate() {
        values[i] = arg.as_int()?;
    }
    for (k, v) in &c.kwargs {
        let i = params.iter().position(|p| p == k)?;
        values[i] = v.as_int()?;
    }
    if c.func.path == "datetime.timedelta" {
        let [days, seconds, micros, millis, minutes, hours, weeks] = values[..] else {
            return None;
        };
        let total = weeks
            .checked_mul(7)?
            .checked_add(days)?
            .checked_mul(86_400)?
            .checked_add(hours.checked_mul(3600)?)?
            .checked_add(minutes.checked_mul(60)?)?
            .checked_add(seconds)?
            .checked_mul(1_000_000)?
            .checked_add(millis.checked_mul(1000)?)?
            .checked_add(micros)?;
        return Some((c.func.path.clone(), vec![total]));
    }
    Some((c.func.path.clone(), values))
}

pub fn seq_eq(x: &[Value], y: &[Value]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| py_eq(a, b))
}

fn dict_eq(x: &[(Value, Value)], y: &[(Value, Value)]) -> bool {
    let lookup = |items: &[(Value, Value)], key: &Value| -> Option<Value> {
        items
            .iter()
            .rev()
            .find(|(k, _)| py_eq(k, key))
            .map(|(_, v)| v.clone())
    };
    let keys = |items: &[(Value, Value)]| -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for (k, _) in items {
            if !out.iter().any(|o| py_eq(o, k)) {
                out.push(k.clone());
            }
        }
        out
    };
    let (kx, ky) = (keys(x), keys(y));
    kx.len() == ky.len()
        && kx.iter().all(|k| match (lookup(x, k), lookup(y, k)) {
            (Some(a), Some(b)) => py_eq(&a, &b),
            _ => false,
        })
}

/// Two deconstructed objects: same class, same arguments.
pub fn call_eq(x: &Call, y: &Call) -> bool {
    canonical_path(&x.func.path) == canonical_path(&y.func.path)
        && seq_eq(&x.args, &y.args)
        && kwargs_eq(&x.kwargs, &y.kwargs)
}

pub fn kwargs_eq(x: &[(String, Value)], y: &[(String, Value)]) -> bool {
    x.len() == y.len()
        && x.iter().all(|(k, v)| {
            y.iter()
                .find(|(k2, _)| k2 == k)
                .is_some_and(|(_, w)| py_eq(v, w))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ref;

    fn r(p: &str) -> Value {
        Value::Ref(Ref {
            written: p.into(),
            path: p.into(),
        })
    }

    #[test]
    fn django_paths_compare_under_one_name() {
        assert_eq!(
            canonical_path("django.db.models.deletion.CASCADE"),
            "django.db.models.CASCADE"
        );
        assert_eq!(
            canonical_path("django.db.models.fields.related.ForeignKey"),
            "django.db.models.ForeignKey"
        );
        assert_eq!(
            canonical_path("django.db.models.ForeignKey"),
            "django.db.models.ForeignKey"
        );
        assert_eq!(
            canonical_path("django.utils.timezone.now"),
            "django.utils.timezone.now"
        );
        assert_eq!(
            canonical_path("django.db.models.constraints.Deferrable.DEFERRED"),
            "django.db.models.Deferrable.DEFERRED"
        );
        assert!(py_eq(
            &r("django.db.models.CASCADE"),
            &r("django.db.models.deletion.CASCADE")
        ));
        assert!(py_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(py_eq(&Value::Bool(true), &Value::Int(1)));
        assert!(!py_eq(
            &Value::List(vec![Value::Int(1)]),
            &Value::Tuple(vec![Value::Int(1)])
        ));
        assert!(py_eq(
            &Value::Set(vec![Value::Int(1), Value::Int(2)]),
            &Value::Set(vec![Value::Int(2), Value::Int(1)])
        ));
    }
}
