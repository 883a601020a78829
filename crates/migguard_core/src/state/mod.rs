//! Django's model state, replayed statically from the migrations.
//!
//! [`replay`] is `MigrationLoader.project_state()`: every migration of the
//! graph's plan (squashed ones in place of what they replace, as the graph
//! decided) applies its operations' `state_forwards` to a [`ProjectState`].
//! Nothing is rendered and nothing is guessed: a field is kept as the call
//! the migration wrote (`models.CharField(max_length=100)`), options are kept
//! as Django keeps them, and whatever cannot be known statically (a custom
//! operation, an operation on a model from outside the project) becomes a
//! [`StateWarning`] instead.
//!
//! - `replay`: the plan and the dispatch of each operation;
//! - `model_ops`: operations on models, their options, indexes, constraints;
//! - `field_ops`: operations on fields;
//! - `relations`: what a relational field points at, and repointing on renames;
//! - `options`: `normalize_together` and the option keys Django treats specially;
//! - `params`: the positional parameters of Django's field classes.

mod field_ops;
mod fields;
mod model_ops;
mod options;
pub(crate) mod params;
mod relations;
mod replay;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use options::{normalize_together, ALTER_OPTION_KEYS};
pub use params::{field_arg, field_params, normalized_kwargs};
pub(crate) use relations::reference_key;
pub use relations::{is_relation, relation_target, resolve_model_reference};
pub use replay::{plan, replay, replay_with};

use crate::model::{Call, MigrationKey, Value};
pub use fields::Fields;

/// A field as the migration wrote it: class path, positional arguments and
/// keyword arguments (`models.ForeignKey(on_delete=..., to='blog.post')`).
pub type Field = Call;

/// `(app_label, model_name_lower)`, Django's key of `ProjectState.models`.
pub type ModelKey = (String, String);

/// Django's `ProjectState`, restricted to what migrations say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectState {
    pub models: BTreeMap<ModelKey, ModelState>,
}

/// Django's `ModelState`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    pub app_label: String,
    /// As written (`Post`); the key holds it lower-cased.
    pub name: String,
    /// In Django's order: a renamed field moves to the end, an altered one
    /// keeps its place.
    pub fields: Fields,
    /// Meta options as Django's state keeps them. `indexes` and
    /// `constraints` are always present (lists of `Index`/constraint calls);
    /// `unique_together`/`index_together` are normalised to a list of tuples
    /// (Django's `normalize_together`).
    pub options: BTreeMap<String, Value>,
    /// `bases`, `(models.Model,)` when the migration does not say.
    pub bases: Vec<Value>,
    /// `(name, manager call)`.
    pub managers: Vec<(String, Value)>,
}

impl ModelState {
    /// A model with Django's defaults: no field, `indexes`/`constraints`
    /// empty, bases `(models.Model,)`, no manager.
    pub fn new(app_label: impl Into<String>, name: impl Into<String>) -> ModelState {
        let mut options = BTreeMap::new();
        options.insert("indexes".to_owned(), Value::List(Vec::new()));
        options.insert("constraints".to_owned(), Value::List(Vec::new()));
        ModelState {
            app_label: app_label.into(),
            name: name.into(),
            fields: Fields::new(),
            options,
            bases: vec![default_base()],
            managers: Vec::new(),
        }
    }

    pub fn name_lower(&self) -> String {
        self.name.to_lowercase()
    }

    pub fn key(&self) -> ModelKey {
        (self.app_label.clone(), self.name_lower())
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.get(name)
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }

    /// Django's `fields[name] = field`: replaces in place, else appends.
    pub fn set_field(&mut self, name: &str, field: Field) {
        self.fields.set(name, field);
    }

    /// Django's `fields.pop(name)`.
    pub fn remove_field(&mut self, name: &str) -> Option<Field> {
        self.fields.remove(name)
    }

    pub fn option(&self, name: &str) -> Option<&Value> {
        self.options.get(name)
    }

    /// The `Index(...)` calls of `options["indexes"]`.
    pub fn indexes(&self) -> Vec<&Call> {
        self.option_calls("indexes")
    }

    /// The constraint calls of `options["constraints"]`.
    pub fn constraints(&self) -> Vec<&Call> {
        self.option_calls("constraints")
    }

    fn option_calls(&self, name: &str) -> Vec<&Call> {
        self.options
            .get(name)
            .and_then(Value::as_seq)
            .map(|items| items.iter().filter_map(Value::as_call).collect())
            .unwrap_or_default()
    }

    /// `unique_together` (or `index_together`) as lists of field names;
    /// entries that are not literal strings are left out.
    pub fn together(&self, option: &str) -> Vec<Vec<String>> {
        let Some(items) = self.options.get(option).and_then(Value::as_seq) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|t| {
                t.as_seq().map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
            })
            .collect()
    }
}

/// `models.Model`, the base Django assumes when `bases` is not given.
pub fn default_base() -> Value {
    Value::Ref(crate::model::Ref {
        written: "models.Model".to_owned(),
        path: "django.db.models.Model".to_owned(),
    })
}

impl ProjectState {
    /// A model by app label and name (any case).
    pub fn model(&self, app_label: &str, model_name: &str) -> Option<&ModelState> {
        self.models
            .get(&(app_label.to_owned(), model_name.to_lowercase()))
    }

    /// A field of a model, by its exact name.
    pub fn field(&self, app_label: &str, model_name: &str, field: &str) -> Option<&Field> {
        self.model(app_label, model_name)?.field(field)
    }
}

/// Something the replay could not know or could not do. The state stays as
/// it was for that operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateWarning {
    pub migration: MigrationKey,
    /// Project-relative path of the migration file.
    pub path: String,
    /// Where the operation's call is (1-based).
    pub line: u32,
    pub column: u32,
    /// `AddField`, or a custom operation's class path.
    pub operation: String,
    pub message: String,
}

impl fmt::Display for StateWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}:{}): {}: {}",
            self.migration, self.path, self.line, self.operation, self.message
        )
    }
}

/// An operation of a migration: which one, and the line of its call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub migration: MigrationKey,
    pub line: u32,
}

/// Where a field of the state comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOrigin {
    /// The `CreateModel`/`AddField` that added it (a `RenameField` keeps it).
    pub added: Origin,
    /// The last operation that set its definition or its name
    /// (`CreateModel`, `AddField`, `AlterField`, `RenameField`).
    pub last_set: Origin,
}

/// Where a model of the state comes from, and its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelOrigin {
    /// The `CreateModel` (a `RenameModel` keeps it).
    pub created: Origin,
    pub fields: BTreeMap<String, FieldOrigin>,
}

/// Origins by model key.
pub type Origins = BTreeMap<ModelKey, ModelOrigin>;

/// What [`replay`] produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateReplay {
    pub state: ProjectState,
    pub warnings: Vec<StateWarning>,
    /// Per model (and per field), the migration that last set it.
    pub origin: Origins,
    /// The migrations applied, in order (external and missing nodes left out).
    pub plan: Vec<MigrationKey>,
}

impl StateReplay {
    /// Which migration added a field, and which last set it: "this column
    /// comes from migration X".
    pub fn field_origin(
        &self,
        app_label: &str,
        model_name: &str,
        field: &str,
    ) -> Option<&FieldOrigin> {
        self.origin
            .get(&(app_label.to_owned(), model_name.to_lowercase()))?
            .fields
            .get(field)
    }

    pub fn model_origin(&self, app_label: &str, model_name: &str) -> Option<&ModelOrigin> {
        self.origin
            .get(&(app_label.to_owned(), model_name.to_lowercase()))
    }
}

#[cfg(test)]
mod tests;
