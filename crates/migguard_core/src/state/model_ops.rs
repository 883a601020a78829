//! `state_forwards` of the model operations: `CreateModel`, `DeleteModel`,
//! `RenameModel`, the option operations, indexes and constraints.

use super::options::{object_name, state_option, ALTER_OPTION_KEYS};
use super::relations::repoint_model;
use super::replay::{missing_model, Ctx, Engine, Outcome};
use super::{default_base, Field, FieldOrigin, ModelKey, ModelOrigin, ModelState};
use crate::model::{Call, Ref, Value};

/// A `(name, Field(...))` entry of `CreateModel.fields`.
pub(crate) fn field_entry(item: &Value) -> Option<(&str, &Field)> {
    match item.as_seq()? {
        [name, field] => Some((name.as_str()?, field.as_call()?)),
        _ => None,
    }
}

fn key(app: &str, model: &str) -> ModelKey {
    (app.to_owned(), model.to_lowercase())
}

/// `CreateModel`: `state.add_model(ModelState(app, name, fields, options,
/// bases, managers))`; a model of the same name is replaced.
pub(crate) fn create_model(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let name = ctx.str_arg("name")?;
    let app = ctx.app();
    let op = ctx.op;
    let mut model = ModelState::new(app, name);
    let mut notes = Vec::new();

    match op.arg("fields").map(|v| v.as_seq()) {
        Some(Some(items)) => {
            for item in items {
                match field_entry(item) {
                    Some((field_name, field)) => model.set_field(field_name, field.clone()),
                    None => notes.push(
                        "an entry of `fields` is not a literal `(name, Field(...))` pair; it is left out"
                            .to_owned(),
                    ),
                }
            }
        }
        Some(None) => notes
            .push("`fields` is not a literal list; the model is created without fields".to_owned()),
        None => notes.push("argument `fields` is missing".to_owned()),
    }

    match op.arg("options") {
        None | Some(Value::None) => {}
        Some(Value::Dict(items)) => {
            for (k, v) in items {
                match k.as_str() {
                    Some(option) => {
                        model
                            .options
                            .insert(option.to_owned(), state_option(option, v));
                    }
                    None => notes
                        .push("an option name is not a literal string; it is left out".to_owned()),
                }
            }
        }
        Some(_) => notes.push("`options` is not a literal dict; it is left out".to_owned()),
    }

    match op.arg("bases") {
        None | Some(Value::None) => {}
        Some(value) => match value.as_seq() {
            // Django: `bases or (models.Model,)`.
            Some([]) => model.bases = vec![default_base()],
            Some(items) => model.bases = items.to_vec(),
            None => {
                notes.push("`bases` is not a literal tuple; `models.Model` is assumed".to_owned())
            }
        },
    }

    match op.arg("managers") {
        None | Some(Value::None) => {}
        Some(value) => match value.as_seq() {
            Some(items) => {
                for item in items {
                    match item.as_seq() {
                        Some([Value::Str(manager), call]) => {
                            model.managers.push((manager.clone(), call.clone()))
                        }
                        _ => notes.push(
                            "an entry of `managers` is not a literal `(name, Manager())` pair"
                                .to_owned(),
                        ),
                    }
                }
            }
            None => notes.push("`managers` is not a literal list; it is left out".to_owned()),
        },
    }

    let model_key = key(app, name);
    if let Some(origins) = engine.origin.as_deref_mut() {
        let origin = ctx.origin();
        let fields = model
            .fields
            .iter()
            .map(|(n, _)| {
                (
                    n.clone(),
                    FieldOrigin {
                        added: origin.clone(),
                        last_set: origin.clone(),
                    },
                )
            })
            .collect();
        origins.insert(
            model_key.clone(),
            ModelOrigin {
                created: origin,
                fields,
            },
        );
    }
    engine.state.models.insert(model_key, model);
    for note in notes {
        engine.warn(ctx, note);
    }
    Ok(())
}

/// `DeleteModel`: `state.remove_model(app, name_lower)`.
pub(crate) fn delete_model(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let name = ctx.str_arg("name")?;
    let model_key = key(ctx.app(), name);
    if engine.state.models.remove(&model_key).is_none() {
        return Err(missing_model(ctx.app(), name));
    }
    if let Some(origins) = engine.origin.as_deref_mut() {
        origins.remove(&model_key);
    }
    Ok(())
}

/// `RenameModel`: `state.rename_model(app, old_name, new_name)`: the model is
/// cloned under its new name, every field pointing at the old model (by
/// `to` or `through`, from any app) is repointed to `"app.NewName"`, then
/// the old key is removed.
pub(crate) fn rename_model(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let old_name = ctx.str_arg("old_name")?;
    let new_name = ctx.str_arg("new_name")?;
    let app = ctx.app();
    let old_key = key(app, old_name);
    let new_key = key(app, new_name);
    let Some(model) = engine.state.models.get(&old_key) else {
        return Err(missing_model(app, old_name));
    };
    let mut renamed = model.clone();
    renamed.name = new_name.to_owned();
    engine.state.models.insert(new_key.clone(), renamed);
    repoint_model(
        engine.state,
        &old_key,
        &format!("{app}.{new_name}"),
        engine.settings,
    );
    engine.state.models.remove(&old_key);
    if let Some(origins) = engine.origin.as_deref_mut() {
        if let Some(origin) = origins.remove(&old_key) {
            if new_key != old_key {
                origins.insert(new_key.clone(), origin);
            }
        }
    }
    if new_key == old_key {
        // Django adds the renamed copy under the same key, then removes
        // that key: the model is gone from the state.
        return Err(format!(
            "renaming `{old_name}` to `{new_name}` changes only the case: Django's state drops the model"
        ));
    }
    Ok(())
}

/// Operations that set one option: `AlterModelTable` (`db_table`),
/// `AlterModelTableComment` (`db_table_comment`), `AlterOrderWithRespectTo`.
/// Django stores the value as given, `None` included.
pub(crate) fn set_option(
    engine: &mut Engine<'_>,
    ctx: &Ctx<'_>,
    model_param: &str,
    arg: &str,
    option: &str,
) -> Outcome {
    let name = ctx.str_arg(model_param)?;
    let value = ctx
        .op
        .arg(arg)
        .cloned()
        .ok_or_else(|| format!("argument `{arg}` is missing"))?;
    let model = model_mut(engine, ctx.app(), name)?;
    model.options.insert(option.to_owned(), value);
    Ok(())
}

/// `AlterUniqueTogether` / `AlterIndexTogether`: the option normalised.
pub(crate) fn alter_together(engine: &mut Engine<'_>, ctx: &Ctx<'_>, option: &str) -> Outcome {
    let name = ctx.str_arg("name")?;
    let value = ctx.op.arg(option).cloned().unwrap_or(Value::None);
    let model = model_mut(engine, ctx.app(), name)?;
    model
        .options
        .insert(option.to_owned(), state_option(option, &value));
    Ok(())
}

/// `AlterModelOptions`: the options merged in, and every key of
/// `ALTER_OPTION_KEYS` that the operation does not name removed.
pub(crate) fn alter_model_options(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let name = ctx.str_arg("name")?;
    let items = match ctx.op.arg("options") {
        Some(Value::Dict(items)) => items,
        Some(_) => return Err("`options` is not a literal dict".to_owned()),
        None => return Err("argument `options` is missing".to_owned()),
    };
    let mut given: Vec<(&str, &Value)> = Vec::new();
    for (k, v) in items {
        match k.as_str() {
            Some(option) => given.push((option, v)),
            None => return Err("an option name is not a literal string".to_owned()),
        }
    }
    let model = model_mut(engine, ctx.app(), name)?;
    for (option, value) in &given {
        model
            .options
            .insert((*option).to_owned(), state_option(option, value));
    }
    for option in ALTER_OPTION_KEYS {
        if !given.iter().any(|(k, _)| k == option) {
            model.options.remove(*option);
        }
    }
    Ok(())
}

/// `AlterModelManagers`: the managers replaced.
pub(crate) fn alter_model_managers(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let name = ctx.str_arg("name")?;
    let items = ctx
        .op
        .arg("managers")
        .and_then(Value::as_seq)
        .ok_or_else(|| "`managers` is not a literal list".to_owned())?;
    let mut managers = Vec::with_capacity(items.len());
    for item in items {
        match item.as_seq() {
            Some([Value::Str(manager), call]) => managers.push((manager.clone(), call.clone())),
            _ => {
                return Err(
                    "an entry of `managers` is not a literal `(name, Manager())` pair".to_owned(),
                )
            }
        }
    }
    model_mut(engine, ctx.app(), name)?.managers = managers;
    Ok(())
}

/// `AddIndex` / `AddConstraint` (and their postgres variants): appended to
/// `options[option]`.
pub(crate) fn add_object(
    engine: &mut Engine<'_>,
    ctx: &Ctx<'_>,
    option: &str,
    param: &str,
) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let object = ctx
        .op
        .arg(param)
        .cloned()
        .ok_or_else(|| format!("argument `{param}` is missing"))?;
    let model = model_mut(engine, ctx.app(), model_name)?;
    option_list(model, option)?.push(object);
    Ok(())
}

/// `RemoveIndex` / `RemoveConstraint`: every object of that name removed.
pub(crate) fn remove_object(engine: &mut Engine<'_>, ctx: &Ctx<'_>, option: &str) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let name = ctx.str_arg("name")?.to_owned();
    let model = model_mut(engine, ctx.app(), model_name)?;
    option_list(model, option)?.retain(|o| object_name(o) != Some(name.as_str()));
    Ok(())
}

/// `AlterConstraint`: the constraint of that name replaced.
pub(crate) fn alter_constraint(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let name = ctx.str_arg("name")?.to_owned();
    let constraint = ctx
        .op
        .arg("constraint")
        .cloned()
        .ok_or_else(|| "argument `constraint` is missing".to_owned())?;
    let model = model_mut(engine, ctx.app(), model_name)?;
    for item in option_list(model, "constraints")?.iter_mut() {
        if object_name(item) == Some(name.as_str()) {
            *item = constraint.clone();
        }
    }
    Ok(())
}

/// `RenameIndex`: with `old_name`, the index renamed; with `old_fields` (an
/// unnamed `index_together` entry), `Index(fields=old_fields, name=new_name)`
/// added and the entry removed from `index_together`.
pub(crate) fn rename_index(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let new_name = ctx.str_arg("new_name")?.to_owned();
    let old_fields = ctx
        .op
        .arg("old_fields")
        .filter(|v| v.as_seq().is_some_and(|s| !s.is_empty()));
    let old_name = match ctx.op.arg("old_name") {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(_) => return Err("argument `old_name` is not a literal string".to_owned()),
    };
    let model = model_mut(engine, ctx.app(), model_name)?;
    if let Some(old_fields) = old_fields {
        let index = Value::Call(Box::new(Call {
            func: Ref {
                written: "models.Index".to_owned(),
                path: "django.db.models.Index".to_owned(),
            },
            args: Vec::new(),
            kwargs: vec![
                ("fields".to_owned(), old_fields.clone()),
                ("name".to_owned(), Value::Str(new_name)),
            ],
        }));
        option_list(model, "indexes")?.push(index);
        let removed = old_fields.as_seq().unwrap_or_default();
        if let Some(Value::List(items) | Value::Tuple(items) | Value::Set(items)) =
            model.options.get_mut("index_together")
        {
            items.retain(|entry| entry.as_seq() != Some(removed));
        }
        return Ok(());
    }
    let Some(old_name) = old_name else {
        return Err("neither `old_name` nor `old_fields` is given".to_owned());
    };
    for item in option_list(model, "indexes")?.iter_mut() {
        if object_name(item) == Some(old_name.as_str()) {
            if let Value::Call(call) = item {
                for (k, v) in call.kwargs.iter_mut() {
                    if k == "name" {
                        *v = Value::Str(new_name.clone());
                    }
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn model_mut<'e>(
    engine: &'e mut Engine<'_>,
    app: &str,
    name: &str,
) -> Result<&'e mut ModelState, String> {
    engine
        .state
        .models
        .get_mut(&key(app, name))
        .ok_or_else(|| missing_model(app, name))
}

/// `options[option]` as a list to change (Django's state always has
/// `indexes` and `constraints`).
fn option_list<'m>(model: &'m mut ModelState, option: &str) -> Result<&'m mut Vec<Value>, String> {
    let value = model
        .options
        .entry(option.to_owned())
        .or_insert_with(|| Value::List(Vec::new()));
    match value {
        Value::List(items) | Value::Tuple(items) => Ok(items),
        _ => Err(format!("option `{option}` is not a literal list")),
    }
}
