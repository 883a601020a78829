//! What relational fields point at, and how renames repoint them: Django's
//! `resolve_relation`, `field_references` and the repointing done by
//! `ProjectState.rename_model` / `rename_field`.

use super::params::{field_arg, field_arg_mut, field_params};
use super::{Field, ModelKey, ProjectState};
use crate::model::Value;
use crate::project::DjangoSettings;

/// True for a field with a `to` (Django's `field.remote_field` is set):
/// `ForeignKey`, `OneToOneField`, `ManyToManyField`, `ForeignObject` and
/// classes of other packages named like them.
pub fn is_relation(field: &Field) -> bool {
    relation_target(field).is_some()
}

/// The `to` of a relational field, keyword or positional.
pub fn relation_target(field: &Field) -> Option<&Value> {
    if let Some(to) = field.kwarg("to") {
        return Some(to);
    }
    if field_params(field).first() == Some(&"to") {
        return field.args.first();
    }
    None
}

fn relation_target_mut(field: &mut Field) -> Option<&mut Value> {
    if let Some(index) = field.kwargs.iter().position(|(k, _)| k == "to") {
        return field.kwargs.get_mut(index).map(|(_, v)| v);
    }
    if field_params(field).first() == Some(&"to") {
        return field.args.first_mut();
    }
    None
}

/// Django's `resolve_relation(model, app_label, model_name)`: a model
/// reference as the `(app_label, model_name_lower)` key it names, seen from
/// the model `(app_label, model_lower)` that holds the field. `'self'` is
/// that model, `'Post'` a model of the same app, `'blog.Post'` any model,
/// and `settings.AUTH_USER_MODEL` (or another swappable setting) what the
/// project's settings say. `None` when the value is not a literal reference.
pub fn resolve_model_reference(
    value: &Value,
    app_label: &str,
    model_lower: &str,
    settings: &DjangoSettings,
) -> Option<ModelKey> {
    let text = match value {
        Value::Str(s) => s.clone(),
        Value::Ref(r) => {
            let mut parts = r.path.rsplit('.');
            let setting = parts.next()?;
            if parts.next() != Some("settings") {
                return None;
            }
            settings.swappable(setting)?
        }
        _ => return None,
    };
    Some(reference_key(&text, app_label, model_lower))
}

/// The key a model reference written as text names (`"self"`, `"Post"`,
/// `"blog.Post"`), seen from the model `(app_label, model_lower)`.
pub(crate) fn reference_key(text: &str, app_label: &str, model_lower: &str) -> ModelKey {
    if text == "self" {
        return (app_label.to_owned(), model_lower.to_owned());
    }
    match text.split_once('.') {
        Some((app, model)) => (app.to_owned(), model.to_lowercase()),
        None => (app_label.to_owned(), text.to_lowercase()),
    }
}

/// `rename_model`'s repointing: every field whose `to` (or `through`) names
/// `old` now names `new_reference` (`"app.NewName"`, as Django writes it).
/// Returns the keys of the models whose fields changed.
pub(crate) fn repoint_model(
    state: &mut ProjectState,
    old: &ModelKey,
    new_reference: &str,
    settings: &DjangoSettings,
) -> Vec<ModelKey> {
    let mut changed = Vec::new();
    for (key, model) in state.models.iter_mut() {
        let mut touched = false;
        for field in model.fields.values_mut() {
            let points_at = |v: &Value| {
                resolve_model_reference(v, &key.0, &key.1, settings).as_ref() == Some(old)
            };
            if relation_target(field).is_some_and(points_at) {
                if let Some(to) = relation_target_mut(field) {
                    *to = Value::Str(new_reference.to_owned());
                    touched = true;
                }
            }
            if field.kwarg("through").is_some_and(points_at) {
                if let Some((_, through)) = field.kwargs.iter_mut().find(|(k, _)| k == "through") {
                    *through = Value::Str(new_reference.to_owned());
                    touched = true;
                }
            }
        }
        if touched {
            changed.push(key.clone());
        }
    }
    changed
}

/// `rename_field`'s "fix to_fields": relational fields of any model that
/// point at `target` and name `old` as their `to_field` (or in `to_fields`)
/// now name `new`.
pub(crate) fn rename_to_fields(
    state: &mut ProjectState,
    target: &ModelKey,
    old: &str,
    new: &str,
    settings: &DjangoSettings,
) {
    for (key, model) in state.models.iter_mut() {
        for field in model.fields.values_mut() {
            let points_at = relation_target(field)
                .and_then(|v| resolve_model_reference(v, &key.0, &key.1, settings))
                .is_some_and(|k| &k == target);
            if !points_at {
                continue;
            }
            if let Some(to_field) = field_arg_mut(field, "to_field") {
                if to_field.as_str() == Some(old) {
                    *to_field = Value::Str(new.to_owned());
                }
            }
            if let Some(to_fields) = field_arg_mut(field, "to_fields") {
                rename_in_seq(to_fields, old, new);
            }
        }
    }
}

/// `rename_field`'s fixes inside the model itself: `from_fields` of its
/// foreign objects, and the field names of a `CompositePrimaryKey`.
pub(crate) fn rename_own_references(fields: &mut super::Fields, old: &str, new: &str) {
    for field in fields.values_mut() {
        if field_arg(field, "from_fields").is_some() {
            if let Some(from_fields) = field_arg_mut(field, "from_fields") {
                rename_in_seq(from_fields, old, new);
            }
        }
        if field.class_name() == "CompositePrimaryKey" {
            for arg in field.args.iter_mut() {
                if arg.as_str() == Some(old) {
                    *arg = Value::Str(new.to_owned());
                }
            }
        }
    }
}

/// Replace `old` by `new` among the strings of a list or tuple.
pub(crate) fn rename_in_seq(value: &mut Value, old: &str, new: &str) {
    if let Value::List(items) | Value::Tuple(items) | Value::Set(items) = value {
        for item in items.iter_mut() {
            if item.as_str() == Some(old) {
                *item = Value::Str(new.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ref;

    #[test]
    fn references_resolve_like_djangos_resolve_relation() {
        let settings = DjangoSettings {
            auth_user_model: "accounts.User".into(),
            ..DjangoSettings::default()
        };
        let r = |v: Value| resolve_model_reference(&v, "blog", "post", &settings);
        let key = |a: &str, m: &str| Some((a.to_owned(), m.to_owned()));
        assert_eq!(r(Value::Str("self".into())), key("blog", "post"));
        assert_eq!(r(Value::Str("Tag".into())), key("blog", "tag"));
        assert_eq!(r(Value::Str("shop.Order".into())), key("shop", "order"));
        let user = Value::Ref(Ref {
            written: "settings.AUTH_USER_MODEL".into(),
            path: "django.conf.settings.AUTH_USER_MODEL".into(),
        });
        assert_eq!(r(user), key("accounts", "user"));
        assert_eq!(r(Value::Expr("get_model()".into())), None);
    }
}
