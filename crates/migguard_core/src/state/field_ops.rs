//! `state_forwards` of the field operations: `AddField`, `RemoveField`,
//! `AlterField`, `RenameField`.

use super::model_ops::model_mut;
use super::options::TOGETHER_OPTIONS;
use super::relations::{rename_in_seq, rename_own_references, rename_to_fields};
use super::replay::{Ctx, Engine, Outcome};
use super::{Field, FieldOrigin, ModelKey};
use crate::model::Value;

/// The `field` argument, with Django's `preserve_default=False` applied: the
/// default is only for the rows that exist when the migration runs, the
/// state keeps the field without it.
fn field_for_state(ctx: &Ctx<'_>) -> Result<Field, String> {
    let mut field = match ctx.op.arg("field") {
        Some(Value::Call(call)) => (**call).clone(),
        Some(_) => return Err("`field` is not a literal field call".to_owned()),
        None => return Err("argument `field` is missing".to_owned()),
    };
    if ctx.op.arg("preserve_default") == Some(&Value::Bool(false)) {
        field.kwargs.retain(|(k, _)| k != "default");
    }
    Ok(field)
}

fn key(app: &str, model: &str) -> ModelKey {
    (app.to_owned(), model.to_lowercase())
}

/// `AddField`: `fields[name] = field` (a field of that name is replaced in place).
pub(crate) fn add_field(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let name = ctx.str_arg("name")?;
    let field = field_for_state(ctx)?;
    let model = model_mut(engine, ctx.app(), model_name)?;
    let existed = model.field(name).is_some();
    model.set_field(name, field);
    record(engine, ctx, model_name, name, true);
    if existed {
        engine.warn(
            ctx,
            format!("`{model_name}` already has a field `{name}`; Django's state replaces it"),
        );
    }
    Ok(())
}

/// `RemoveField`: `fields.pop(name)`.
pub(crate) fn remove_field(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let name = ctx.str_arg("name")?;
    let model = model_mut(engine, ctx.app(), model_name)?;
    if model.remove_field(name).is_none() {
        return Err(format!(
            "`{}.{model_name}` has no field `{name}`",
            ctx.app()
        ));
    }
    if let Some(origin) = engine
        .origin
        .as_deref_mut()
        .and_then(|o| o.get_mut(&key(ctx.app(), model_name)))
    {
        origin.fields.remove(name);
    }
    Ok(())
}

/// `AlterField`: `fields[name] = field` (in place; appended when missing,
/// as Django's dict assignment does).
pub(crate) fn alter_field(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let name = ctx.str_arg("name")?;
    let field = field_for_state(ctx)?;
    let model = model_mut(engine, ctx.app(), model_name)?;
    let existed = model.field(name).is_some();
    model.set_field(name, field);
    record(engine, ctx, model_name, name, !existed);
    if !existed {
        engine.warn(
            ctx,
            format!("`{model_name}` has no field `{name}` to alter; Django's state adds it"),
        );
    }
    Ok(())
}

/// `RenameField`: the field moves to the end under its new name; the
/// model's `from_fields`, `CompositePrimaryKey` names, `unique_together`
/// and `index_together` follow, and so do the `to_field`/`to_fields` of
/// relations (from any model) pointing at it. `order_with_respect_to` and
/// index/constraint field lists do not: Django's state leaves them.
pub(crate) fn rename_field(engine: &mut Engine<'_>, ctx: &Ctx<'_>) -> Outcome {
    let model_name = ctx.str_arg("model_name")?;
    let old_name = ctx.str_arg("old_name")?;
    let new_name = ctx.str_arg("new_name")?;
    let app = ctx.app();
    let model = model_mut(engine, app, model_name)?;
    let Some(field) = model.remove_field(old_name) else {
        return Err(format!(
            "`{app}.{model_name}` has no field named `{old_name}`"
        ));
    };
    model.set_field(new_name, field);
    rename_own_references(&mut model.fields, old_name, new_name);
    for option in TOGETHER_OPTIONS {
        if let Some(Value::List(groups) | Value::Tuple(groups) | Value::Set(groups)) =
            model.options.get_mut(*option)
        {
            for group in groups.iter_mut() {
                rename_in_seq(group, old_name, new_name);
            }
        }
    }
    let model_key = key(app, model_name);
    rename_to_fields(
        engine.state,
        &model_key,
        old_name,
        new_name,
        engine.settings,
    );
    if let Some(origin) = engine
        .origin
        .as_deref_mut()
        .and_then(|o| o.get_mut(&model_key))
    {
        let here = ctx.origin();
        let previous = origin.fields.remove(old_name);
        origin.fields.insert(
            new_name.to_owned(),
            FieldOrigin {
                added: previous.map_or_else(|| here.clone(), |p| p.added),
                last_set: here,
            },
        );
    }
    Ok(())
}

/// Note that `ctx` set `model.name` (and added it when `added`).
fn record(engine: &mut Engine<'_>, ctx: &Ctx<'_>, model_name: &str, name: &str, added: bool) {
    let Some(origin) = engine
        .origin
        .as_deref_mut()
        .and_then(|o| o.get_mut(&key(ctx.app(), model_name)))
    else {
        return;
    };
    let here = ctx.origin();
    match origin.fields.get_mut(name) {
        Some(entry) if !added => entry.last_set = here,
        _ => {
            origin.fields.insert(
                name.to_owned(),
                FieldOrigin {
                    added: here.clone(),
                    last_set: here,
                },
            );
        }
    }
}
