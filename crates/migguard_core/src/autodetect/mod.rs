//! Django's `MigrationAutodetector`, statically: the migrations' state
//! against the models' state (both from [`crate::models::analyze`]), into
//! the operations `makemigrations` would write, per app, in Django's order:
//! generated in the order of `_detect_changes`, sorted by their
//! dependencies within each app, cut into migrations where another app's
//! operations must come first, and optimised as `MigrationOptimizer` does.
//!
//! Renames are never detected: `makemigrations` without a terminal
//! declines them, so a renamed model or field is a removal and an
//! addition. Whatever [`Skip`] names is left out on both sides.

pub mod makemigrations;
mod ops;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{Call, Value};
use crate::models::equality::{call_eq, py_eq};
use crate::models::eval::truthy;
use crate::models::{Analysis, Skip, SourceLine};
use crate::parse::module_facts::DjangoPatch;
use crate::project::DjangoSettings;
use crate::state::{ModelKey, ModelState, ProjectState, ALTER_OPTION_KEYS};

pub use ops::OpKind;
use ops::{remote, Dep, DepType, Op, Optimizer};

/// One operation `makemigrations` would write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// `AddField`, `CreateModel`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The model, lower-cased.
    pub model_name: String,
    /// The field, index or constraint concerned; the model's name for
    /// operations on a whole model.
    pub name: String,
    /// Where in `models.py` (for removals: the model, or the models file).
    pub location: Option<SourceLine>,
    /// What differs.
    pub detail: String,
    /// Why the change may not be real (a value read from code migguard
    /// does not run, a model module not fully read): such a change is
    /// reported as an info, never an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<String>,
}

/// The operations per app, in Django's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub apps: BTreeMap<String, Vec<Change>>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.apps.values().all(Vec::is_empty)
    }
}

/// The operations that would make the migrations match the models.
pub fn detect(analysis: &Analysis, settings: &DjangoSettings) -> Changes {
    let mut detector = Detector::new(analysis, settings);
    detector.generate();
    detector.arrange()
}

/// A model state's `options` value, `None` when absent.
fn option<'m>(model: &'m ModelState, name: &str) -> Option<&'m Value> {
    model
        .options
        .get(name)
        .filter(|v| !matches!(v, Value::None))
}

/// Python truthiness of an option; a value that is not a literal counts
/// as set.
fn is_truthy(value: Option<&Value>) -> bool {
    value.is_some_and(|v| truthy(v).unwrap_or(true))
}

fn opt_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => py_eq(x, y),
        _ => false,
    }
}

/// `set(normalize_together(value))` as sets of field-name tuples.
fn together(model: &ModelState, option: &str) -> BTreeSet<Vec<String>> {
    model
        .options
        .get(option)
        .and_then(Value::as_seq)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| {
                    g.as_seq().map(|names| {
                        names
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn calls(model: &ModelState, option: &str) -> Vec<Call> {
    model
        .options
        .get(option)
        .and_then(Value::as_seq)
        .map(|items| items.iter().filter_map(Value::as_call).cloned().collect())
        .unwrap_or_default()
}

fn call_name(call: &Call) -> Option<String> {
    call.kwarg("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn without(call: &Call, names: &[&str]) -> Call {
    Call {
        func: call.func.clone(),
        args: call.args.clone(),
        kwargs: call
            .kwargs
            .iter()
            .filter(|(k, _)| !names.contains(&k.as_str()))
            .cloned()
            .collect(),
    }
}

fn contains(list: &[Call], item: &Call) -> bool {
    list.iter().any(|c| call_eq(c, item))
}

/// `(old value, new value, model, dependencies)` of a changed `unique_together`.
type AlteredTogether = (
    BTreeSet<Vec<String>>,
    BTreeSet<Vec<String>>,
    ModelKey,
    Vec<Dep>,
);

struct Detector<'a> {
    from: &'a ProjectState,
    to: &'a ProjectState,
    analysis: &'a Analysis,
    skip: &'a Skip,
    settings: &'a DjangoSettings,
    old_model_keys: BTreeSet<ModelKey>,
    old_proxy_keys: BTreeSet<ModelKey>,
    old_unmanaged_keys: BTreeSet<ModelKey>,
    new_model_keys: BTreeSet<ModelKey>,
    new_proxy_keys: BTreeSet<ModelKey>,
    new_unmanaged_keys: BTreeSet<ModelKey>,
    kept_model_keys: BTreeSet<ModelKey>,
    old_field_keys: BTreeSet<(String, String, String)>,
    new_field_keys: BTreeSet<(String, String, String)>,
    through_users: HashMap<ModelKey, (String, String, String)>,
    generated: BTreeMap<String, Vec<Op>>,
}

impl<'a> Detector<'a> {
    fn new(analysis: &'a Analysis, settings: &'a DjangoSettings) -> Detector<'a> {
        let skip = &analysis.skip;
        let mut d = Detector {
            from: &analysis.migrations,
            to: &analysis.models,
            analysis,
            skip,
            settings,
            old_model_keys: BTreeSet::new(),
            old_proxy_keys: BTreeSet::new(),
            old_unmanaged_keys: BTreeSet::new(),
            new_model_keys: BTreeSet::new(),
            new_proxy_keys: BTreeSet::new(),
            new_unmanaged_keys: BTreeSet::new(),
            kept_model_keys: BTreeSet::new(),
            old_field_keys: BTreeSet::new(),
            new_field_keys: BTreeSet::new(),
            through_users: HashMap::new(),
            generated: BTreeMap::new(),
        };
        let classify = |model: &ModelState| -> u8 {
            if option(model, "managed").is_some_and(|v| !is_truthy(Some(v))) {
                2
            } else if is_truthy(option(model, "proxy")) {
                1
            } else {
                0
            }
        };
        for (key, model) in &d.from.models {
            if skip.skips_model(key) {
                continue;
            }
            // A model missing from an app migguard cannot see completely
            // is not reported deleted.
            if skip.incomplete_apps.contains(&key.0) && !d.to.models.contains_key(key) {
                continue;
            }
            match classify(model) {
                2 => d.old_unmanaged_keys.insert(key.clone()),
                1 => d.old_proxy_keys.insert(key.clone()),
                _ => d.old_model_keys.insert(key.clone()),
            };
        }
        for (key, model) in &d.to.models {
            if skip.skips_model(key) {
                continue;
            }
            match classify(model) {
                2 => d.new_unmanaged_keys.insert(key.clone()),
                1 => d.new_proxy_keys.insert(key.clone()),
                _ => d.new_model_keys.insert(key.clone()),
            };
        }
        d
    }

    fn old(&self, key: &ModelKey) -> &'a ModelState {
        &self.from.models[key]
    }

    fn new_state(&self, key: &ModelKey) -> &'a ModelState {
        &self.to.models[key]
    }

    fn add(&mut self, app: &str, op: Op, beginning: bool) {
        let list = self.generated.entry(app.to_owned()).or_default();
        if beginning {
            list.insert(0, op);
        } else {
            list.push(op);
        }
    }

    fn model_location(&self, key: &ModelKey) -> Option<SourceLine> {
        match self.analysis.sources.get(key) {
            Some(source) => Some(source.class.clone()),
            None => self
                .analysis
                .models_files
                .get(&key.0)
                .map(|path| SourceLine {
                    path: path.clone(),
                    line: 1,
                    column: 1,
                }),
        }
    }

    fn field_location(&self, key: &ModelKey, field: &str) -> Option<SourceLine> {
        self.analysis
            .sources
            .get(key)
            .and_then(|s| s.fields.get(field).cloned())
            .or_else(|| self.model_location(key))
    }

    fn generate(&mut self) {
        self.prepare_field_lists();
        self.generate_through_model_map();
        self.generate_deleted_models();
        self.generate_created_models();
        self.generate_deleted_proxies();
        self.generate_created_proxies();
        self.generate_altered_options();
        self.generate_altered_managers();
        self.generate_altered_db_table_comment();
        let indexes = self.create_altered_indexes();
        let constraints = self.create_altered_constraints();
        for (key, (_, removed, _)) in &constraints {
            for c in removed {
                let name = call_name(c).unwrap_or_default();
                let mut op = Op::new(OpKind::RemoveConstraint, &key.1, Some(&name));
                op.location = self.model_location(key);
                op.detail = format!("constraint `{name}` of `{}` was removed", key.1);
                self.add(&key.0, op, false);
            }
        }
        for (key, (_, removed, _)) in &indexes {
            for i in removed {
                let name = call_name(i).unwrap_or_default();
                let mut op = Op::new(OpKind::RemoveIndex, &key.1, Some(&name));
                op.location = self.model_location(key);
                op.detail = format!("index `{name}` of `{}` was removed", key.1);
                self.add(&key.0, op, false);
            }
        }
        for (key, (_, _, renamed)) in &indexes {
            for (old, new) in renamed {
                let mut op = Op::new(OpKind::RenameIndex, &key.1, Some(new));
                op.location = self.model_location(key);
                op.detail = match old {
                    Some(old) => format!("index `{old}` of `{}` was renamed to `{new}`", key.1),
                    None => format!(
                        "an `index_together` entry of `{}` became index `{new}`",
                        key.1
                    ),
                };
                self.add(&key.0, op, false);
            }
        }
        self.generate_removed_altered_unique_together();
        self.generate_removed_fields();
        self.generate_added_fields();
        self.generate_altered_fields();
        self.generate_altered_order_with_respect_to();
        self.generate_altered_unique_together();
        for (key, (added, _, _)) in &indexes {
            let deps = self.dependencies_for_model(key);
            for i in added {
                let name = call_name(i).unwrap_or_default();
                let mut op = Op::new(OpKind::AddIndex, &key.1, Some(&name));
                op.deps = deps.clone();
                op.location = self.model_location(key);
                op.detail = format!("index `{name}` was added to `{}`", key.1);
                self.add(&key.0, op, false);
            }
        }
        for (key, (added, _, _)) in &constraints {
            let deps = self.dependencies_for_model(key);
            for c in added {
                let name = call_name(c).unwrap_or_default();
                let mut op = Op::new(OpKind::AddConstraint, &key.1, Some(&name));
                op.deps = deps.clone();
                op.location = self.model_location(key);
                op.detail = format!("constraint `{name}` was added to `{}`", key.1);
                self.add(&key.0, op, false);
            }
        }
        for (key, (_, _, altered)) in &constraints {
            let deps = self.dependencies_for_model(key);
            for c in altered {
                let name = call_name(c).unwrap_or_default();
                let mut op = Op::new(OpKind::AlterConstraint, &key.1, Some(&name));
                op.deps = deps.clone();
                op.location = self.model_location(key);
                op.detail = format!(
                    "constraint `{name}` of `{}` changed its error code or message",
                    key.1
                );
                self.add(&key.0, op, false);
            }
        }
        self.generate_altered_db_table();
    }

    fn prepare_field_lists(&mut self) {
        self.kept_model_keys = self
            .old_model_keys
            .intersection(&self.new_model_keys)
            .cloned()
            .collect();
        for key in &self.kept_model_keys {
            for name in self.from.models[key].field_names() {
                if !self.skip.skips_field(key, name) {
                    self.old_field_keys
                        .insert((key.0.clone(), key.1.clone(), name.to_owned()));
                }
            }
            for name in self.to.models[key].field_names() {
                if !self.skip.skips_field(key, name) {
                    self.new_field_keys
                        .insert((key.0.clone(), key.1.clone(), name.to_owned()));
                }
            }
        }
    }

    fn generate_through_model_map(&mut self) {
        for key in &self.old_model_keys {
            for (name, field) in &self.from.models[key].fields {
                if let Some(remote) = remote(field, &key.0, &key.1, self.settings) {
                    if let Some(through) = remote.through {
                        self.through_users
                            .insert(through, (key.0.clone(), key.1.clone(), name.clone()));
                    }
                }
            }
        }
    }

    /// `_get_dependencies_for_foreign_key`.
    fn fk_dependencies(&self, app: &str, model: &str, field: &Call) -> Vec<Dep> {
        let Some(remote) = remote(field, app, model, self.settings) else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        match (&remote.setting, &remote.to) {
            (Some(setting), _) => {
                deps.push(Dep::new("__setting__", setting, None, DepType::Create))
            }
            (None, Some(to)) => deps.push(Dep::new(&to.0, &to.1, None, DepType::Create)),
            (None, None) => {}
        }
        if let Some(through) = &remote.through {
            deps.push(Dep::new(&through.0, &through.1, None, DepType::Create));
        }
        deps
    }

    /// `_get_dependencies_for_model`.
    fn dependencies_for_model(&self, key: &ModelKey) -> Vec<Dep> {
        let mut deps = Vec::new();
        for (_, field) in &self.new_state(key).fields {
            deps.extend(self.fk_dependencies(&key.0, &key.1, field));
        }
        deps
    }

    /// Fields of `state` pointing at `target` (`state.relations[target]`).
    fn relations(&self, state: &ProjectState, target: &ModelKey) -> Vec<(ModelKey, String, bool)> {
        let mut out = Vec::new();
        for (key, model) in &state.models {
            for (name, field) in &model.fields {
                if let Some(remote) = remote(field, &key.0, &key.1, self.settings) {
                    if remote.to.as_ref() == Some(target) || remote.through.as_ref() == Some(target)
                    {
                        out.push((key.clone(), name.clone(), remote.many_to_many));
                    }
                }
            }
        }
        out
    }

    fn generate_deleted_models(&mut self) {
        let new_keys: BTreeSet<ModelKey> = self
            .new_model_keys
            .union(&self.new_unmanaged_keys)
            .cloned()
            .collect();
        let deleted: Vec<ModelKey> = self.old_model_keys.difference(&new_keys).cloned().collect();
        let deleted_unmanaged: Vec<ModelKey> = self
            .old_unmanaged_keys
            .difference(&new_keys)
            .cloned()
            .collect();
        for key in deleted.into_iter().chain(deleted_unmanaged) {
            let model = self.old(&key);
            let related: Vec<String> = model
                .fields
                .iter()
                .filter(|(_, f)| remote(f, &key.0, &key.1, self.settings).is_some())
                .map(|(n, _)| n.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if is_truthy(option(model, "unique_together")) {
                let mut op = Op::new(OpKind::AlterUniqueTogether, &key.1, None);
                op.together = Some(BTreeSet::new());
                op.location = self.model_location(&key);
                op.detail = format!("`unique_together` of removed model `{}`", model.name);
                op.uncertain = self.partly_read(&key.0);
                self.add(&key.0, op, false);
            }
            for name in &related {
                let op = Op::new(OpKind::RemoveField, &key.1, Some(name));
                self.add(&key.0, op, false);
            }
            let mut deps = Vec::new();
            for (other, field, m2m) in self.relations(self.from, &key) {
                deps.push(Dep::new(&other.0, &other.1, Some(&field), DepType::Remove));
                if !m2m {
                    deps.push(Dep::new(&other.0, &other.1, Some(&field), DepType::Alter));
                }
            }
            for name in &related {
                deps.push(Dep::new(&key.0, &key.1, Some(name), DepType::Remove));
            }
            if let Some((a, m, f)) = self.through_users.get(&key) {
                deps.push(Dep::new(a, m, Some(f), DepType::Remove));
            }
            let mut op = Op::new(OpKind::DeleteModel, &model.name, None);
            op.deps = deps;
            op.location = self.model_location(&key);
            op.detail = format!("model `{}` was removed", model.name);
            self.add(&key.0, op, false);
        }
    }

    /// `swappable_first_key`.
    fn swappable_first(&self, key: &ModelKey) -> (String, String) {
        let model = self.new_state(key);
        let user = self.settings.auth_user_model.to_lowercase() == format!("{}.{}", key.0, key.1);
        let base_user = model.bases.iter().any(|b| match b {
            Value::Ref(r) => {
                let name = r.path.rsplit('.').next().unwrap_or("");
                name == "AbstractUser" || name == "AbstractBaseUser"
            }
            _ => false,
        });
        if is_truthy(option(model, "swappable")) || base_user || user {
            (format!("___{}", key.0), format!("___{}", key.1))
        } else {
            key.clone()
        }
    }

    fn generate_created_models(&mut self) {
        let old_keys: BTreeSet<ModelKey> = self
            .old_model_keys
            .union(&self.old_unmanaged_keys)
            .cloned()
            .collect();
        let mut added: Vec<ModelKey> = self.new_model_keys.difference(&old_keys).cloned().collect();
        let mut added_unmanaged: Vec<ModelKey> = self
            .new_unmanaged_keys
            .difference(&old_keys)
            .cloned()
            .collect();
        added.sort_by_key(|k| std::cmp::Reverse(self.swappable_first(k)));
        added_unmanaged.sort_by_key(|k| std::cmp::Reverse(self.swappable_first(k)));
        let unmanaged: BTreeSet<ModelKey> = added_unmanaged.iter().cloned().collect();
        for key in added.into_iter().chain(added_unmanaged) {
            let model = self.new_state(&key);
            let mut related: BTreeMap<String, Call> = BTreeMap::new();
            let mut primary_key_rel: Option<ModelKey> = None;
            for (name, field) in &model.fields {
                if let Some(remote) = remote(field, &key.0, &key.1, self.settings) {
                    if remote.to.is_some() || remote.setting.is_some() {
                        if remote.primary_key {
                            primary_key_rel = remote.to.clone();
                        } else if !remote.parent_link {
                            related.insert(name.clone(), field.clone());
                        }
                    }
                    if remote.many_to_many {
                        related.insert(name.clone(), field.clone());
                    }
                }
            }
            let mut deps = vec![Dep::new(&key.0, &key.1, None, DepType::Remove)];
            for base in &model.bases {
                if let Value::Str(label) = base {
                    if let Some((base_app, base_name)) = label.split_once('.') {
                        deps.push(Dep::new(base_app, base_name, None, DepType::Create));
                        let base_key = (base_app.to_owned(), base_name.to_lowercase());
                        if let (Some(old_base), Some(new_base)) = (
                            self.from.models.get(&base_key),
                            self.to.models.get(&base_key),
                        ) {
                            for removed in old_base.field_names() {
                                if new_base.field(removed).is_none()
                                    && model.field(removed).is_some()
                                {
                                    deps.push(Dep::new(
                                        base_app,
                                        base_name,
                                        Some(removed),
                                        DepType::Remove,
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            if let Some(pk) = &primary_key_rel {
                deps.push(Dep::new(&pk.0, &pk.1, None, DepType::Create));
            }
            let mut op = Op::new(OpKind::CreateModel, &model.name, None);
            op.fields = model
                .fields
                .iter()
                .filter(|(n, _)| !related.contains_key(n))
                .cloned()
                .collect();
            op.bases = model.bases.clone();
            op.proxy = is_truthy(option(model, "proxy"));
            op.deps = deps;
            op.location = self.model_location(&key);
            op.detail = format!("model `{}` is new", model.name);
            self.add(&key.0, op, true);
            if unmanaged.contains(&key) {
                continue;
            }
            for (name, field) in &related {
                let mut deps = self.fk_dependencies(&key.0, &key.1, field);
                deps.push(Dep::new(&key.0, &key.1, None, DepType::Create));
                deps.sort();
                deps.dedup();
                let mut op = Op::new(OpKind::AddField, &key.1, Some(name));
                op.fields = vec![(name.clone(), field.clone())];
                op.deps = deps;
                op.location = self.field_location(&key, name);
                op.detail = format!("model `{}` is new", model.name);
                self.add(&key.0, op, false);
            }
            if let Some(Value::Str(wrt)) = option(model, "order_with_respect_to") {
                let mut op = Op::new(OpKind::AlterOrderWithRespectTo, &key.1, None);
                op.order_wrt = Some(wrt.clone());
                op.deps = vec![
                    Dep::new(&key.0, &key.1, Some(wrt), DepType::Create),
                    Dep::new(&key.0, &key.1, None, DepType::Create),
                ];
                op.location = self.model_location(&key);
                self.add(&key.0, op, false);
            }
            let mut related_deps: Vec<Dep> = related
                .keys()
                .map(|n| Dep::new(&key.0, &key.1, Some(n), DepType::Create))
                .collect();
            related_deps.push(Dep::new(&key.0, &key.1, None, DepType::Create));
            for index in calls(model, "indexes") {
                let mut op = Op::new(OpKind::AddIndex, &key.1, call_name(&index).as_deref());
                op.deps = related_deps.clone();
                op.location = self.model_location(&key);
                self.add(&key.0, op, false);
            }
            for constraint in calls(model, "constraints") {
                let mut op = Op::new(
                    OpKind::AddConstraint,
                    &key.1,
                    call_name(&constraint).as_deref(),
                );
                op.deps = related_deps.clone();
                op.location = self.model_location(&key);
                self.add(&key.0, op, false);
            }
            let unique = together(model, "unique_together");
            if !unique.is_empty() {
                let mut op = Op::new(OpKind::AlterUniqueTogether, &key.1, None);
                op.together = Some(unique);
                op.deps = related_deps.clone();
                op.location = self.model_location(&key);
                self.add(&key.0, op, false);
            }
            if self.old_proxy_keys.contains(&key) {
                for (other, field, _) in self.relations(self.to, &key) {
                    let Some(field_call) = self.to.models[&other].field(&field).cloned() else {
                        continue;
                    };
                    let other_name = self.to.models[&other].name.clone();
                    let mut op = Op::new(OpKind::AlterField, &other_name, Some(&field));
                    op.fields = vec![(field.clone(), field_call)];
                    op.deps = vec![Dep::new(&key.0, &key.1, None, DepType::Create)];
                    op.location = self.field_location(&other, &field);
                    op.detail = format!("`{}` is no longer a proxy model", model.name);
                    self.add(&other.0, op, false);
                }
            }
        }
    }

    fn generate_deleted_proxies(&mut self) {
        let deleted: Vec<ModelKey> = self
            .old_proxy_keys
            .difference(&self.new_proxy_keys)
            .cloned()
            .collect();
        for key in deleted {
            let model = self.old(&key);
            let mut op = Op::new(OpKind::DeleteModel, &model.name, None);
            op.location = self.model_location(&key);
            op.detail = format!("proxy model `{}` was removed", model.name);
            self.add(&key.0, op, false);
        }
    }

    fn generate_created_proxies(&mut self) {
        let added: Vec<ModelKey> = self
            .new_proxy_keys
            .difference(&self.old_proxy_keys)
            .cloned()
            .collect();
        for key in added {
            let model = self.new_state(&key);
            let mut deps = vec![Dep::new(&key.0, &key.1, None, DepType::Remove)];
            for base in &model.bases {
                if let Value::Str(label) = base {
                    if let Some((a, m)) = label.split_once('.') {
                        deps.push(Dep::new(a, m, None, DepType::Create));
                    }
                }
            }
            let mut op = Op::new(OpKind::CreateModel, &model.name, None);
            op.bases = model.bases.clone();
            op.proxy = true;
            op.deps = deps;
            op.location = self.model_location(&key);
            op.detail = format!("proxy model `{}` is new", model.name);
            self.add(&key.0, op, false);
        }
    }

    fn kept_all(&self) -> BTreeSet<ModelKey> {
        let kept_proxy: BTreeSet<ModelKey> = self
            .old_proxy_keys
            .intersection(&self.new_proxy_keys)
            .cloned()
            .collect();
        let kept_unmanaged: BTreeSet<ModelKey> = self
            .old_unmanaged_keys
            .intersection(&self.new_unmanaged_keys)
            .cloned()
            .collect();
        self.kept_model_keys
            .iter()
            .chain(&kept_proxy)
            .chain(&kept_unmanaged)
            .cloned()
            .collect()
    }

    fn generate_altered_options(&mut self) {
        let mut keys = self.kept_all();
        keys.extend(
            self.old_unmanaged_keys
                .intersection(&self.new_model_keys)
                .cloned(),
        );
        keys.extend(
            self.old_model_keys
                .intersection(&self.new_unmanaged_keys)
                .cloned(),
        );
        for key in keys {
            let (old, new) = (self.old(&key), self.new_state(&key));
            let mut differs = Vec::new();
            for option_name in ALTER_OPTION_KEYS {
                if self.skip.skips_option(&key, option_name) || self.option_key_removed(option_name)
                {
                    continue;
                }
                let (a, b) = (old.options.get(*option_name), new.options.get(*option_name));
                if !opt_eq(a, b) {
                    differs.push(*option_name);
                }
            }
            if !differs.is_empty() {
                let mut op = Op::new(OpKind::AlterModelOptions, &key.1, None);
                op.location = self.model_location(&key);
                op.detail = format!(
                    "Meta option{} {} of `{}` changed",
                    if differs.len() > 1 { "s" } else { "" },
                    differs
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    new.name
                );
                op.uncertain = self.patched(|p| matches!(p, DjangoPatch::OptionKeysChanged));
                self.add(&key.0, op, false);
            }
        }
    }

    fn generate_altered_managers(&mut self) {
        let keys: Vec<ModelKey> = self.kept_model_keys.iter().cloned().collect();
        for key in keys {
            if self.skip.skips_option(&key, "managers") {
                continue;
            }
            let (old, new) = (self.old(&key), self.new_state(&key));
            let same = old.managers.len() == new.managers.len()
                && old
                    .managers
                    .iter()
                    .zip(&new.managers)
                    .all(|((a, x), (b, y))| a == b && py_eq(x, y));
            if !same {
                let mut op = Op::new(OpKind::AlterModelManagers, &key.1, None);
                op.location = self.model_location(&key);
                op.detail = format!("the managers of `{}` used in migrations changed", new.name);
                self.add(&key.0, op, false);
            }
        }
    }

    fn generate_altered_db_table_comment(&mut self) {
        for key in self.kept_all() {
            if self.skip.skips_option(&key, "db_table_comment") {
                continue;
            }
            let (old, new) = (self.old(&key), self.new_state(&key));
            if !opt_eq(
                option(old, "db_table_comment"),
                option(new, "db_table_comment"),
            ) {
                let mut op = Op::new(OpKind::AlterModelTableComment, &key.1, None);
                op.location = self.model_location(&key);
                op.detail = format!("`Meta.db_table_comment` of `{}` changed", new.name);
                self.add(&key.0, op, false);
            }
        }
    }

    /// `create_altered_indexes`: per kept model, added, removed and renamed
    /// (`(old name or None for index_together, new name)`) indexes.
    #[allow(clippy::type_complexity)]
    fn create_altered_indexes(
        &self,
    ) -> Vec<(
        ModelKey,
        (Vec<Call>, Vec<Call>, Vec<(Option<String>, String)>),
    )> {
        let mut out = Vec::new();
        for key in &self.kept_model_keys {
            if self.skip.skips_option(key, "indexes") {
                continue;
            }
            let (old, new) = (self.old(key), self.new_state(key));
            let old_indexes = calls(old, "indexes");
            let new_indexes = calls(new, "indexes");
            let mut added: Vec<Call> = new_indexes
                .iter()
                .filter(|i| !contains(&old_indexes, i))
                .cloned()
                .collect();
            let mut removed: Vec<Call> = old_indexes
                .iter()
                .filter(|i| !contains(&new_indexes, i))
                .cloned()
                .collect();
            let mut renamed: Vec<(Option<String>, String)> = Vec::new();
            let mut remove_from_added: Vec<Call> = Vec::new();
            let mut remove_from_removed: Vec<Call> = Vec::new();
            for new_index in &added {
                let new_dec = without(new_index, &["name"]);
                let new_name = call_name(new_index);
                for old_index in &removed {
                    let old_dec = without(old_index, &["name"]);
                    let old_name = call_name(old_index);
                    if call_eq(&new_dec, &old_dec) && new_name != old_name {
                        renamed.push((old_name.clone(), new_name.clone().unwrap_or_default()));
                        remove_from_added.push(new_index.clone());
                        remove_from_removed.push(old_index.clone());
                    }
                }
            }
            // index_together entries turned into indexes.
            if !self.skip.skips_option(key, "index_together") {
                let old_value = together(old, "index_together");
                let new_value = together(new, "index_together");
                if old_value != new_value {
                    for removed_entry in old_value.difference(&new_value) {
                        let matching: Vec<&Call> = added
                            .iter()
                            .filter(|i| {
                                let fields: Option<Vec<String>> =
                                    i.kwarg("fields").and_then(Value::as_seq).map(|f| {
                                        f.iter()
                                            .filter_map(Value::as_str)
                                            .map(str::to_owned)
                                            .collect()
                                    });
                                i.args.is_empty()
                                    && fields.as_ref() == Some(removed_entry)
                                    && i.kwargs.iter().all(|(k, _)| k == "name" || k == "fields")
                            })
                            .collect();
                        if let [only] = matching.as_slice() {
                            remove_from_added.push((*only).clone());
                            renamed.push((None, call_name(only).unwrap_or_default()));
                        }
                    }
                }
            }
            added.retain(|i| !contains(&remove_from_added, i));
            removed.retain(|i| !contains(&remove_from_removed, i));
            out.push((key.clone(), (added, removed, renamed)));
        }
        out
    }

    /// `create_altered_constraints`: added, removed and altered (only
    /// their error code or message changed) constraints.
    #[allow(clippy::type_complexity)]
    fn create_altered_constraints(&self) -> Vec<(ModelKey, (Vec<Call>, Vec<Call>, Vec<Call>))> {
        let non_db = ["violation_error_code", "violation_error_message"];
        let mut out = Vec::new();
        for key in &self.kept_model_keys {
            if self.skip.skips_option(key, "constraints") {
                continue;
            }
            let (old, new) = (self.old(key), self.new_state(key));
            let old_constraints = calls(old, "constraints");
            let new_constraints = calls(new, "constraints");
            let mut altered: Vec<Call> = Vec::new();
            let mut altered_names: Vec<String> = Vec::new();
            for old_c in &old_constraints {
                for new_c in &new_constraints {
                    if !call_eq(old_c, new_c)
                        && call_name(old_c) == call_name(new_c)
                        && call_eq(&without(old_c, &non_db), &without(new_c, &non_db))
                    {
                        altered.push(new_c.clone());
                        altered_names.push(call_name(new_c).unwrap_or_default());
                    }
                }
            }
            let added: Vec<Call> = new_constraints
                .iter()
                .filter(|c| {
                    !contains(&old_constraints, c)
                        && !altered_names.contains(&call_name(c).unwrap_or_default())
                })
                .cloned()
                .collect();
            let removed: Vec<Call> = old_constraints
                .iter()
                .filter(|c| {
                    !contains(&new_constraints, c)
                        && !altered_names.contains(&call_name(c).unwrap_or_default())
                })
                .cloned()
                .collect();
            out.push((key.clone(), (added, removed, altered)));
        }
        out
    }

    /// `_get_altered_foo_together_operations("unique_together")`.
    fn altered_unique_together(&self) -> Vec<AlteredTogether> {
        let mut out = Vec::new();
        for key in &self.kept_model_keys {
            if self.skip.skips_option(key, "unique_together") {
                continue;
            }
            let (old, new) = (self.old(key), self.new_state(key));
            let old_value = together(old, "unique_together");
            let new_value = together(new, "unique_together");
            if old_value != new_value {
                let mut deps = Vec::new();
                for fields in &new_value {
                    for name in fields {
                        if let Some(field) = new.field(name) {
                            deps.extend(self.fk_dependencies(&key.0, &key.1, field));
                        }
                    }
                }
                out.push((old_value, new_value, key.clone(), deps));
            }
        }
        out
    }

    fn generate_removed_altered_unique_together(&mut self) {
        for (old_value, new_value, key, deps) in self.altered_unique_together() {
            let removal: BTreeSet<Vec<String>> =
                new_value.intersection(&old_value).cloned().collect();
            if !removal.is_empty() || !old_value.is_empty() {
                let mut op = Op::new(OpKind::AlterUniqueTogether, &key.1, None);
                op.together = Some(removal);
                op.deps = deps;
                op.location = self.model_location(&key);
                op.detail = format!("`Meta.unique_together` of `{}` changed", key.1);
                self.add(&key.0, op, false);
            }
        }
    }

    fn generate_altered_unique_together(&mut self) {
        for (old_value, new_value, key, deps) in self.altered_unique_together() {
            let removal: BTreeSet<Vec<String>> =
                new_value.intersection(&old_value).cloned().collect();
            if new_value != removal {
                let mut op = Op::new(OpKind::AlterUniqueTogether, &key.1, None);
                op.together = Some(new_value);
                op.deps = deps;
                op.location = self.model_location(&key);
                op.detail = format!("`Meta.unique_together` of `{}` changed", key.1);
                self.add(&key.0, op, false);
            }
        }
    }

    fn removed_field(&mut self, app: &str, model: &str, name: &str, detail: String) {
        let mut op = Op::new(OpKind::RemoveField, model, Some(name));
        op.deps = vec![
            Dep::new(app, model, Some(name), DepType::RemoveOrderWrt),
            Dep::new(app, model, Some(name), DepType::AlterFooTogether),
        ];
        let key = (app.to_owned(), model.to_owned());
        op.location = self.model_location(&key);
        op.detail = detail;
        self.add(app, op, false);
    }

    fn added_field(&mut self, app: &str, model: &str, name: &str, detail: String) {
        let key = (app.to_owned(), model.to_owned());
        let Some(field) = self.to.models[&key].field(name).cloned() else {
            return;
        };
        let mut deps = vec![Dep::new(app, model, Some(name), DepType::Remove)];
        if remote(&field, app, model, self.settings)
            .is_some_and(|r| r.to.is_some() || r.setting.is_some())
        {
            deps.extend(self.fk_dependencies(app, model, &field));
        }
        let mut op = Op::new(OpKind::AddField, model, Some(name));
        op.fields = vec![(name.to_owned(), field)];
        op.deps = deps;
        op.location = self.field_location(&key, name);
        op.detail = detail;
        self.add(app, op, false);
    }

    fn generate_removed_fields(&mut self) {
        let removed: Vec<_> = self
            .old_field_keys
            .difference(&self.new_field_keys)
            .cloned()
            .collect();
        for (app, model, name) in removed {
            let detail = format!("field `{model}.{name}` was removed");
            self.removed_field(&app, &model, &name, detail);
        }
    }

    fn generate_added_fields(&mut self) {
        let added: Vec<_> = self
            .new_field_keys
            .difference(&self.old_field_keys)
            .cloned()
            .collect();
        for (app, model, name) in added {
            let detail = format!("field `{model}.{name}` is new");
            self.added_field(&app, &model, &name, detail);
        }
    }

    fn generate_altered_fields(&mut self) {
        let kept: Vec<_> = self
            .old_field_keys
            .intersection(&self.new_field_keys)
            .cloned()
            .collect();
        for (app, model, name) in kept {
            let key = (app.clone(), model.clone());
            if self.skip.skips_alter(&key, &name) {
                continue;
            }
            let (Some(old_field), Some(new_field)) = (
                self.old(&key).field(&name),
                self.new_state(&key).field(&name),
            ) else {
                continue;
            };
            if call_eq(old_field, new_field) {
                continue;
            }
            let detail = describe_field_change(&model, &name, old_field, new_field);
            let old_m2m =
                remote(old_field, &app, &model, self.settings).is_some_and(|r| r.many_to_many);
            let new_m2m =
                remote(new_field, &app, &model, self.settings).is_some_and(|r| r.many_to_many);
            if old_m2m == new_m2m {
                let deps = if remote(new_field, &app, &model, self.settings).is_some() {
                    self.fk_dependencies(&app, &model, new_field)
                } else {
                    Vec::new()
                };
                let mut op = Op::new(OpKind::AlterField, &model, Some(&name));
                op.fields = vec![(name.clone(), new_field.clone())];
                op.deps = deps;
                op.location = self.field_location(&key, &name);
                op.detail = detail;
                op.uncertain = unknowable_difference(old_field, new_field)
                    .or_else(|| self.patched(|p| matches!(p, DjangoPatch::DeconstructReplaced)));
                self.add(&app, op, false);
            } else {
                self.removed_field(&app, &model, &name, detail.clone());
                self.added_field(&app, &model, &name, detail);
            }
        }
    }

    fn generate_altered_order_with_respect_to(&mut self) {
        let keys: Vec<ModelKey> = self.kept_model_keys.iter().cloned().collect();
        for key in keys {
            if self.skip.skips_option(&key, "order_with_respect_to") {
                continue;
            }
            let old = option(self.old(&key), "order_with_respect_to").cloned();
            let new = option(self.new_state(&key), "order_with_respect_to").cloned();
            if !opt_eq(old.as_ref(), new.as_ref()) {
                let mut op = Op::new(OpKind::AlterOrderWithRespectTo, &key.1, None);
                if let Some(Value::Str(wrt)) = &new {
                    op.deps
                        .push(Dep::new(&key.0, &key.1, Some(wrt), DepType::Create));
                    op.order_wrt = Some(wrt.clone());
                }
                op.location = self.model_location(&key);
                op.detail = format!("`Meta.order_with_respect_to` of `{}` changed", key.1);
                self.add(&key.0, op, false);
            }
        }
    }

    fn generate_altered_db_table(&mut self) {
        for key in self.kept_all() {
            if self.skip.skips_option(&key, "db_table") {
                continue;
            }
            let (old, new) = (self.old(&key), self.new_state(&key));
            if !opt_eq(option(old, "db_table"), option(new, "db_table")) {
                let mut op = Op::new(OpKind::AlterModelTable, &key.1, None);
                op.location = self.model_location(&key);
                op.detail = format!("`Meta.db_table` of `{}` changed", new.name);
                self.add(&key.0, op, false);
            }
        }
    }

    // ------------------------------------------------------------------
    // Ordering, splitting, optimising

    fn resolve_dep(&self, dep: &Dep) -> (Dep, bool) {
        if dep.app != "__setting__" {
            return (dep.clone(), false);
        }
        match self.settings.swappable(&dep.model) {
            Some(target) => {
                let (app, model) = target.split_once('.').unwrap_or((target.as_str(), ""));
                (
                    Dep {
                        app: app.to_owned(),
                        model: model.to_lowercase(),
                        field: dep.field.clone(),
                        ty: dep.ty,
                    },
                    true,
                )
            }
            None => (dep.clone(), true),
        }
    }

    /// `check_dependency`.
    fn check_dependency(op: &Op, dep: &Dep) -> bool {
        let model = dep.model.to_lowercase();
        let same_name = || {
            op.name.as_deref().map(str::to_lowercase) == dep.field.as_deref().map(str::to_lowercase)
        };
        match (&dep.field, dep.ty) {
            (None, DepType::Create) => op.kind == OpKind::CreateModel && op.model_lower() == model,
            (Some(field), DepType::Create) => {
                (op.kind == OpKind::CreateModel
                    && op.model_lower() == model
                    && op.fields.iter().any(|(n, _)| n == field))
                    || (op.kind == OpKind::AddField && op.model_lower() == model && same_name())
            }
            (Some(_), DepType::Remove) => {
                op.kind == OpKind::RemoveField && op.model_lower() == model && same_name()
            }
            (None, DepType::Remove) => op.kind == OpKind::DeleteModel && op.model_lower() == model,
            (Some(_), DepType::Alter) => {
                op.kind == OpKind::AlterField && op.model_lower() == model && same_name()
            }
            (Some(field), DepType::RemoveOrderWrt) => {
                op.kind == OpKind::AlterOrderWithRespectTo
                    && op.model_lower() == model
                    && op.order_wrt.as_deref().unwrap_or("").to_lowercase() != field.to_lowercase()
            }
            (Some(_), DepType::AlterFooTogether) => {
                matches!(
                    op.kind,
                    OpKind::AlterUniqueTogether | OpKind::AlterIndexTogether
                ) && op.model_lower() == model
            }
            _ => false,
        }
    }

    /// `_sort_migrations`: a topological order within each app, as
    /// `graphlib.TopologicalSorter.static_order()` gives it.
    fn sort_operations(&mut self) {
        let apps: Vec<String> = self.generated.keys().cloned().collect();
        for app in apps {
            let ops = std::mem::take(self.generated.get_mut(&app).unwrap_or(&mut Vec::new()));
            let n = ops.len();
            // Node order = first time a node is added; predecessors in order.
            let mut order: Vec<usize> = Vec::new();
            let mut npred: Vec<i64> = vec![0; n];
            let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
            let mut seen = vec![false; n];
            let touch = |i: usize, order: &mut Vec<usize>, seen: &mut Vec<bool>| {
                if !seen[i] {
                    seen[i] = true;
                    order.push(i);
                }
            };
            for (i, op) in ops.iter().enumerate() {
                touch(i, &mut order, &mut seen);
                for dep in &op.deps {
                    let (dep, _) = self.resolve_dep(dep);
                    if dep.app != app {
                        continue;
                    }
                    let preds: Vec<usize> = ops
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| Self::check_dependency(x, &dep))
                        .map(|(j, _)| j)
                        .collect();
                    npred[i] += preds.len() as i64;
                    for p in preds {
                        touch(p, &mut order, &mut seen);
                        successors[p].push(i);
                    }
                }
            }
            let mut ready: Vec<usize> = order.iter().copied().filter(|&i| npred[i] == 0).collect();
            let mut out: Vec<usize> = Vec::new();
            while !ready.is_empty() {
                let group = std::mem::take(&mut ready);
                out.extend(&group);
                for node in group {
                    for &s in &successors[node] {
                        npred[s] -= 1;
                        if npred[s] == 0 {
                            ready.push(s);
                        }
                    }
                }
            }
            let sorted = if out.len() == n {
                let mut slots: Vec<Option<Op>> = ops.into_iter().map(Some).collect();
                out.iter().filter_map(|&i| slots[i].take()).collect()
            } else {
                // A cycle: Django fails; keep the generation order.
                ops
            };
            self.generated.insert(app, sorted);
        }
    }

    /// `_build_migration_list` then `_optimize_migrations`: the operations
    /// of each app, migration by migration.
    fn arrange(mut self) -> Changes {
        self.sort_operations();
        let mut migrations: BTreeMap<String, Vec<Vec<Op>>> = BTreeMap::new();
        let mut generated: BTreeMap<String, Vec<Op>> = std::mem::take(&mut self.generated);
        let count = |g: &BTreeMap<String, Vec<Op>>| g.values().map(Vec::len).sum::<usize>();
        let mut num_ops = count(&generated);
        let mut chop_mode = false;
        let mut rounds = 0;
        while num_ops > 0 && rounds < 100_000 {
            rounds += 1;
            let apps: Vec<String> = generated.keys().cloned().collect();
            for app in &apps {
                let mut chopped: Vec<Op> = Vec::new();
                let mut dependencies = false;
                while let Some(op) = generated.get(app).and_then(|ops| ops.first()).cloned() {
                    let mut satisfied = true;
                    let mut op_deps = false;
                    for dep in &op.deps {
                        let (dep, swappable) = self.resolve_dep(dep);
                        if dep.app == *app {
                            continue;
                        }
                        if generated.get(&dep.app).is_some_and(|others| {
                            others.iter().any(|o| Self::check_dependency(o, &dep))
                        }) {
                            satisfied = false;
                            break;
                        }
                        if swappable || migrations.contains_key(&dep.app) || chop_mode {
                            op_deps = true;
                        } else {
                            satisfied = false;
                        }
                    }
                    if !satisfied {
                        break;
                    }
                    dependencies |= op_deps;
                    chopped.push(op);
                    if let Some(ops) = generated.get_mut(app) {
                        ops.remove(0);
                    }
                }
                if dependencies || !chopped.is_empty() {
                    let rest_empty = generated.get(app).is_none_or(Vec::is_empty);
                    if rest_empty || chop_mode {
                        migrations.entry(app.clone()).or_default().push(chopped);
                        chop_mode = false;
                    } else if let Some(ops) = generated.get_mut(app) {
                        let mut all = chopped;
                        all.append(ops);
                        *ops = all;
                    }
                }
            }
            let new_num = count(&generated);
            if new_num == num_ops {
                if !chop_mode {
                    chop_mode = true;
                } else {
                    // Django: "Cannot resolve operation dependencies".
                    for (app, ops) in std::mem::take(&mut generated) {
                        if !ops.is_empty() {
                            migrations.entry(app).or_default().push(ops);
                        }
                    }
                    break;
                }
            }
            num_ops = new_num;
        }
        let mut changes = Changes::default();
        for (app, list) in migrations {
            let optimizer = Optimizer {
                app: app.clone(),
                settings: self.settings,
            };
            let mut out = Vec::new();
            for ops in list {
                for op in optimizer.optimize(ops) {
                    out.push(self.change(&app, op));
                }
            }
            if !out.is_empty() {
                changes.apps.insert(app, out);
            }
        }
        changes
    }

    fn change(&self, app: &str, op: Op) -> Change {
        let model_name = op.model_lower();
        // Model operations name their model (lower-cased); the others the
        // field, index or constraint.
        let name = match op.kind {
            OpKind::AddField
            | OpKind::RemoveField
            | OpKind::AlterField
            | OpKind::AddIndex
            | OpKind::RemoveIndex
            | OpKind::RenameIndex
            | OpKind::AddConstraint
            | OpKind::RemoveConstraint
            | OpKind::AlterConstraint => op.name.clone().unwrap_or_default(),
            _ => model_name.clone(),
        };
        let location = op
            .location
            .clone()
            .or_else(|| self.model_location(&(app.to_owned(), model_name.clone())));
        let detail = if op.detail.is_empty() {
            format!("{} `{}`", op.kind.name(), name)
        } else {
            op.detail.clone()
        };
        // Whatever goes with a removal (the `unique_together` emptied
        // first, a field dropped) is as sure as the removal.
        let key = (app.to_owned(), model_name.clone());
        let of_removed_model = (self.old_model_keys.contains(&key)
            || self.old_unmanaged_keys.contains(&key))
            && !self.new_model_keys.contains(&key)
            && !self.new_unmanaged_keys.contains(&key);
        let uncertain = op.uncertain.clone().or_else(|| match op.kind {
            OpKind::RemoveField | OpKind::DeleteModel => self.partly_read(app),
            _ if of_removed_model => self.partly_read(app),
            _ => None,
        });
        Change {
            kind: op.kind.name().to_owned(),
            model_name,
            name,
            location,
            detail,
            uncertain,
        }
    }

    /// Why a comparison is uncertain when the project patches Django in a
    /// way `is` matches, with where.
    fn patched(&self, is: impl Fn(&DjangoPatch) -> bool) -> Option<String> {
        self.analysis
            .patches
            .iter()
            .find(|(patch, _)| is(patch))
            .map(|(patch, at)| {
                let what = match patch {
                    DjangoPatch::DeconstructReplaced => "`Field.deconstruct` is replaced",
                    _ => "`AlterModelOptions.ALTER_OPTION_KEYS` is changed",
                };
                format!("{what} at {}:{}", at.path, at.line)
            })
    }

    /// `ALTER_OPTION_KEYS.remove(option)` somewhere in the project: Django
    /// no longer compares the option.
    fn option_key_removed(&self, option: &str) -> bool {
        self.analysis
            .patches
            .iter()
            .any(|(patch, _)| matches!(patch, DjangoPatch::OptionKeyRemoved(k) if k == option))
    }

    /// A removal is only as sure as the reading of the models: when part of
    /// the app's models could not be read (a base class, a field or a model
    /// built by code), what seems gone may just be unread.
    fn partly_read(&self, app: &str) -> Option<String> {
        // Any note of the app: a field read from an unknown base, a model
        // under a condition or a module that failed may be where the
        // "removed" one lives (on kiwitcms and baserow, always elsewhere
        // than the model named).
        self.analysis
            .unresolved
            .iter()
            .find(|n| n.app == app)
            .map(|note| {
                format!(
                    "part of the app's models could not be read ({})",
                    note.reason
                )
            })
    }
}

/// Why two field definitions that differ may still be equal once Python
/// runs: a differing argument is a name or call migguard cannot evaluate
/// (a constant of another library, `settings.LANGUAGES`, a function of the
/// project), or the source text of an expression.
fn unknowable_difference(old: &Call, new: &Call) -> Option<String> {
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    keys.extend(old.kwargs.iter().map(|(k, _)| k.as_str()));
    keys.extend(new.kwargs.iter().map(|(k, _)| k.as_str()));
    for key in keys {
        let (a, b) = (old.kwarg(key), new.kwarg(key));
        if opt_eq(a, b) {
            continue;
        }
        for value in [a, b].into_iter().flatten() {
            if let Some(what) = unknowable(value) {
                return Some(format!(
                    "`{key}` is {what}, which migguard does not evaluate"
                ));
            }
        }
    }
    None
}

/// The first part of `value` that cannot be known statically.
fn unknowable(value: &Value) -> Option<String> {
    match value {
        Value::Ref(r)
            if !r.path.starts_with("django.") || r.path.starts_with("django.conf.settings") =>
        {
            Some(format!("`{}`", r.path))
        }
        // Django fills these in per concrete model of an abstract base.
        Value::Str(s) if s.contains("%(class)s") || s.contains("%(app_label)s") => {
            Some(format!("'{s}'"))
        }
        Value::Expr(text) => Some(format!("`{text}`")),
        Value::Call(call) => {
            if !call.func.path.starts_with("django.") {
                return Some(format!("a call of `{}`", call.func.path));
            }
            call.args
                .iter()
                .chain(call.kwargs.iter().map(|(_, v)| v))
                .find_map(unknowable)
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            items.iter().find_map(unknowable)
        }
        Value::Dict(pairs) => pairs
            .iter()
            .find_map(|(k, v)| unknowable(k).or_else(|| unknowable(v))),
        _ => None,
    }
}

/// "field `post.title`: `max_length` 100 -> 200".
fn describe_field_change(model: &str, name: &str, old: &Call, new: &Call) -> String {
    if crate::models::equality::canonical_path(&old.func.path)
        != crate::models::equality::canonical_path(&new.func.path)
    {
        let short = |c: &Call| {
            c.func
                .path
                .rsplit('.')
                .next()
                .unwrap_or(&c.func.path)
                .to_owned()
        };
        return format!(
            "field `{model}.{name}` changed from {} to {}",
            short(old),
            short(new)
        );
    }
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    keys.extend(old.kwargs.iter().map(|(k, _)| k.as_str()));
    keys.extend(new.kwargs.iter().map(|(k, _)| k.as_str()));
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| !opt_eq(old.kwarg(k), new.kwarg(k)))
        .map(|k| match (old.kwarg(k), new.kwarg(k)) {
            (Some(a), Some(b)) => format!("`{k}` {} -> {}", short_value(a), short_value(b)),
            (None, Some(b)) => format!("`{k}` set to {}", short_value(b)),
            (Some(_), None) => format!("`{k}` removed"),
            (None, None) => String::new(),
        })
        .collect();
    format!("field `{model}.{name}` changed: {}", changed.join(", "))
}

fn short_value(value: &Value) -> String {
    let text = match value {
        Value::Str(s) => format!("'{s}'"),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::None => "None".to_owned(),
        Value::Ref(r) => r.path.rsplit('.').next().unwrap_or(&r.path).to_owned(),
        Value::Float(f) => f.to_string(),
        other => serde_json::to_string(&other.to_json()).unwrap_or_default(),
    };
    if text.chars().count() > 40 {
        let mut short: String = text.chars().take(39).collect();
        short.push('…');
        short
    } else {
        text
    }
}
