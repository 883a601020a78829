//! Model options as Django's state keeps them.

use crate::model::Value;

/// `AlterModelOptions.ALTER_OPTION_KEYS`: the options an `AlterModelOptions`
/// owns. One of them that the operation does not name is removed.
pub const ALTER_OPTION_KEYS: &[&str] = &[
    "base_manager_name",
    "default_manager_name",
    "default_related_name",
    "get_latest_by",
    "managed",
    "ordering",
    "permissions",
    "default_permissions",
    "select_on_save",
    "verbose_name",
    "verbose_name_plural",
];

/// The options holding field-name tuples.
pub(crate) const TOGETHER_OPTIONS: &[&str] = &["unique_together", "index_together"];

/// Django's `normalize_together`, and the set Django makes of it: a flat
/// tuple `('a', 'b')` becomes `[('a', 'b')]`, a list or set of sequences
/// becomes a list of tuples (duplicates dropped), an empty value an empty
/// list. `None` and values that are not sequences are kept verbatim, as
/// Django keeps them.
pub fn normalize_together(value: &Value) -> Value {
    let items = match value {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items,
        other => return other.clone(),
    };
    let Some(first) = items.first() else {
        return Value::List(Vec::new());
    };
    let groups: Vec<Value> = if first.as_seq().is_some() {
        items.iter().map(to_tuple).collect()
    } else if matches!(value, Value::Set(_)) {
        // Django: a set is not a list or tuple, so it is returned verbatim.
        return value.clone();
    } else {
        vec![Value::Tuple(items.clone())]
    };
    let mut out: Vec<Value> = Vec::with_capacity(groups.len());
    for group in groups {
        if !out.contains(&group) {
            out.push(group);
        }
    }
    Value::List(out)
}

fn to_tuple(value: &Value) -> Value {
    match value.as_seq() {
        Some(items) => Value::Tuple(items.to_vec()),
        None => value.clone(),
    }
}

/// An option value as the state keeps it: the together options normalised.
pub(crate) fn state_option(name: &str, value: &Value) -> Value {
    if TOGETHER_OPTIONS.contains(&name) {
        normalize_together(value)
    } else {
        value.clone()
    }
}

/// The `name` keyword of an `Index(...)` or a constraint.
pub(crate) fn object_name(value: &Value) -> Option<&str> {
    value.as_call()?.kwarg("name")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str) -> Value {
        Value::Str(t.to_owned())
    }

    #[test]
    fn together_is_normalised_like_django() {
        let flat = Value::Tuple(vec![s("a"), s("b")]);
        assert_eq!(
            normalize_together(&flat),
            Value::List(vec![Value::Tuple(vec![s("a"), s("b")])])
        );
        let set = Value::Set(vec![
            Value::Tuple(vec![s("a"), s("b")]),
            Value::List(vec![s("c")]),
            Value::Tuple(vec![s("a"), s("b")]),
        ]);
        assert_eq!(
            normalize_together(&set),
            Value::List(vec![
                Value::Tuple(vec![s("a"), s("b")]),
                Value::Tuple(vec![s("c")])
            ])
        );
        assert_eq!(normalize_together(&Value::Set(vec![])), Value::List(vec![]));
        assert_eq!(normalize_together(&Value::None), Value::None);
    }
}
