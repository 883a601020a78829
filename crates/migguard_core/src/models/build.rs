//! Models as Django builds them from their classes (`ModelBase.__new__`,
//! `Options`), and their `ModelState` as `ModelState.from_model` makes it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use super::builtin;
use super::canon::{canonical_constraint, canonical_index, fix_migration_value, IndexNaming};
use super::classes::{ClassInfo, EnumKind, MroItem};
use super::equality::canonical_path;
use super::eval::{reference, truthy};
use super::fields::{argument, deconstruct, FieldClass, FieldCtx, Kind, ModelRefs};
use super::modules::{ClassId, Symbol};
use super::{Analysis, Env, ModelSource, SourceLine, Unresolved};
use crate::model::{Call, Ref, Value};
use crate::parse::models::{app_configs, BindingKind, PyClass};
use crate::parse::module_facts;
use crate::project::Project;
use crate::state::{
    default_base, normalize_together, reference_key, ModelKey, ModelState, StateReplay,
};

/// `Options.DEFAULT_NAMES` (Django 5.2), in order.
pub(crate) const DEFAULT_NAMES: &[&str] = &[
    "verbose_name",
    "verbose_name_plural",
    "db_table",
    "db_table_comment",
    "ordering",
    "unique_together",
    "permissions",
    "get_latest_by",
    "order_with_respect_to",
    "app_label",
    "db_tablespace",
    "abstract",
    "managed",
    "proxy",
    "swappable",
    "auto_created",
    "apps",
    "default_permissions",
    "select_on_save",
    "default_related_name",
    "required_db_features",
    "required_db_vendor",
    "base_manager_name",
    "default_manager_name",
    "indexes",
    "constraints",
];

/// Modules imported from a models module that are followed, at most.
const MAX_APP_MODULES: usize = 256;

/// A project app: its label, its module, and the primary key class new
/// models get.
pub(crate) struct AppEntry {
    pub label: String,
    pub module: String,
    /// The same package under other import roots (`core` from
    /// `src/baserow/`, `baserow.core` from `src/`), when INSTALLED_APPS did
    /// not say which name Django imports.
    pub aliases: Vec<String>,
    /// `None` when it cannot be known (no settings module found).
    pub auto_field: Option<String>,
}

pub(crate) struct AppTable {
    pub apps: Vec<AppEntry>,
    /// Django's database backend's identifier limit, when known.
    pub max_name_length: Option<usize>,
}

impl AppTable {
    pub fn new(project: &Project, env: &Env<'_>, roots: &[String]) -> AppTable {
        let settings_auto = match project.settings.values.get("DEFAULT_AUTO_FIELD") {
            Some(Value::Str(s)) => Some(s.clone()),
            Some(_) => None,
            None => project
                .settings
                .module
                .as_ref()
                .map(|_| "django.db.models.AutoField".to_owned()),
        };
        // INSTALLED_APPS, when it is a literal list: apps that are not
        // installed are invisible to Django.
        let installed: Option<Vec<String>> =
            project.settings.values.get("INSTALLED_APPS").and_then(|v| {
                v.as_seq()?
                    .iter()
                    .map(|e| e.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
            });
        let mut apps = Vec::new();
        for app in &project.discovery.apps {
            // The app's package as imported: as INSTALLED_APPS names it,
            // else from the first import root that holds it.
            let mut names: Vec<String> = roots
                .iter()
                .filter_map(|root| {
                    if root.is_empty() {
                        return Some(app.dir.clone());
                    }
                    app.dir
                        .strip_prefix(root.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                        .map(str::to_owned)
                })
                .map(|dir| dir.replace('/', "."))
                .filter(|name| !name.is_empty())
                .collect();
            names.dedup();
            let (module, aliases) = match &app.module {
                Some(module) => (module.clone(), Vec::new()),
                None if names.is_empty() => (String::new(), Vec::new()),
                None => {
                    let first = names.remove(0);
                    (first, names)
                }
            };
            if module.is_empty() {
                continue;
            }
            let entry = installed.as_ref().map(|list| {
                list.iter()
                    .find(|e| **e == module || e.starts_with(&format!("{module}.")))
                    .cloned()
            });
            if matches!(entry, Some(None)) {
                continue;
            }
            let mut auto_field = settings_auto.clone();
            // The module of the AppConfig the entry names
            // (`blog.config.BlogAppConfig`), else `apps`, Django's default.
            let named = entry.flatten().and_then(|e| {
                let (config_module, class) =
                    e.strip_prefix(&format!("{module}."))?.split_once('.')?;
                (!class.contains('.')).then(|| (config_module.to_owned(), class.to_owned()))
            });
            let config_module = match &named {
                Some((config_module, _))
                    if env
                        .index
                        .module(&format!("{module}.{config_module}"))
                        .is_some_and(|m| m.is_ok()) =>
                {
                    config_module.as_str()
                }
                _ => "apps",
            };
            let named_in_settings = named
                .as_ref()
                .filter(|(m, _)| m == config_module)
                .map(|(_, class)| class.clone());
            if let Some(Ok(apps_module)) = env
                .index
                .module(&format!("{module}.{config_module}"))
                .as_deref()
            {
                let configs = app_configs(apps_module);
                let chosen = module_facts::choose_app_config(
                    &configs,
                    named_in_settings.as_deref(),
                    |c| &c.class,
                    |c| c.default,
                );
                if let Some(config) = chosen {
                    if let Some(field) = &config.default_auto_field {
                        auto_field = match env.eval(field) {
                            Value::Str(path) => Some(path),
                            _ => None,
                        };
                    }
                }
            }
            apps.push(AppEntry {
                label: app.label.clone(),
                module,
                aliases,
                auto_field,
            });
        }
        let engine = project
            .settings
            .values
            .get("DATABASES")
            .and_then(|d| dict_get(d, "default"))
            .and_then(|d| dict_get(d, "ENGINE"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let max_name_length = if engine.contains("postgres") {
            Some(63)
        } else if engine.contains("mysql") {
            Some(64)
        } else if engine.contains("oracle") {
            Some(30)
        } else {
            None
        };
        AppTable {
            apps,
            max_name_length,
        }
    }

    /// The label of the app a module belongs to (the longest app module
    /// containing it), Django's own apps included.
    pub fn app_of_module(&self, module: &str) -> Option<String> {
        self.apps
            .iter()
            .filter_map(|a| {
                std::iter::once(&a.module)
                    .chain(&a.aliases)
                    .filter(|m| module == m.as_str() || module.starts_with(&format!("{m}.")))
                    .map(|m| (m.len(), a))
                    .max_by_key(|(len, _)| *len)
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, a)| a.label.clone())
            .or_else(|| builtin::app_label(module).map(str::to_owned))
    }

    fn entry(&self, label: &str) -> Option<&AppEntry> {
        self.apps.iter().find(|a| a.label == label)
    }
}

/// True when `AUTH_USER_MODEL` is known: read from the settings (or the
/// configuration), or left at Django's default in a settings module found.
fn user_model_known(project: &Project) -> bool {
    let settings = &project.settings;
    let configured = settings.auth_user_model_configured || settings.auth_user_model != "auth.User";
    match settings.values.get("AUTH_USER_MODEL") {
        Some(Value::Str(_)) => true,
        Some(_) => configured,
        None => configured || settings.module.is_some(),
    }
}

/// A deconstructed field whose `to` goes through a swappable setting.
fn to_setting(field: &Call) -> bool {
    matches!(field.kwarg("to"), Some(Value::Ref(r)) if r.path.starts_with("django.conf.settings."))
}

fn dict_get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Dict(items) => items
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// What an attribute of a class body creates.
#[derive(Debug, Clone)]
enum Attr {
    Field(FieldClass, Call),
    /// A field whose class or arguments are not known statically.
    FieldError(String, Call),
    /// `GenericForeignKey` and the like: not in migrations.
    Private,
    Manager(ManagerValue),
    /// May be a field or a manager; not known statically.
    Unknown(String),
    /// `name = None`: removes an inherited field.
    Removed,
    Other,
}

#[derive(Debug, Clone)]
struct ManagerValue {
    /// `None` when `use_in_migrations` is not known.
    use_in_migrations: Option<bool>,
    /// The manager as `deconstruct()` gives it.
    call: Call,
}

#[derive(Debug, Clone)]
struct FieldDecl {
    name: String,
    field: Result<(FieldClass, Call), String>,
    /// The call as written (evaluated), kept when `field` is an error.
    raw: Call,
    at: SourceLine,
}

#[derive(Debug, Clone)]
struct ManagerDecl {
    name: String,
    value: Result<ManagerValue, String>,
}

/// A model class's `Meta` as Django reads it.
#[derive(Debug, Clone, Default)]
struct MetaFacts {
    /// `original_attrs`, evaluated, in `DEFAULT_NAMES` order.
    attrs: Vec<(String, Value)>,
    /// Options whose value is not known statically, with the reason.
    unresolved: Vec<(String, String)>,
    at: Option<SourceLine>,
}

impl MetaFacts {
    fn get(&self, name: &str) -> Option<&Value> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn is_unresolved(&self, name: &str) -> bool {
        self.unresolved.iter().any(|(k, _)| k == name)
    }
}

/// A model class (abstract or not) as `ModelBase.__new__` leaves it.
#[derive(Debug, Clone)]
struct ClassFacts {
    id: ClassId,
    info: Rc<ClassInfo>,
    at: SourceLine,
    is_abstract: bool,
    is_proxy: bool,
    meta: MetaFacts,
    app_label: Option<String>,
    /// `local_fields` + `local_many_to_many`, inherited copies included.
    fields: Vec<FieldDecl>,
    /// The parent links of multi-table inheritance: `(parent key, field name)`.
    parents: Vec<(ModelKey, String)>,
    managers: Vec<ManagerDecl>,
    /// Attributes that may be fields or managers.
    unknown: Vec<UnknownAttr>,
    /// Why the whole model cannot be known, if it cannot.
    issues: Vec<(SourceLine, String)>,
}

struct Builder<'e, 'a> {
    env: &'e Env<'a>,
    apps: &'e AppTable,
    facts: RefCell<HashMap<ClassId, Option<Rc<ClassFacts>>>>,
    building: RefCell<HashSet<ClassId>>,
    /// [`Builder::declared_abstract`] per class: each answer walks the
    /// class's `Meta` bases, which ask the same of their owners, so a chain
    /// of abstract models would otherwise be read exponentially often.
    abstract_: RefCell<HashMap<ClassId, bool>>,
}

/// Both sides: the models (`models.py`) and the migrations' state.
/// `replay` gives the migrations' replayed state; it is asked for only
/// once the models are read, so it may still be computing meanwhile.
pub(crate) fn analyze<'r>(
    env: &Env<'_>,
    apps: &AppTable,
    project: &Project,
    replay: impl FnOnce() -> std::borrow::Cow<'r, StateReplay>,
    out: &mut Analysis,
) {
    let builder = Builder {
        env,
        apps,
        facts: RefCell::new(HashMap::new()),
        building: RefCell::new(HashSet::new()),
        abstract_: RefCell::new(HashMap::new()),
    };
    builder.read_models(out);
    let replay = replay();
    builder.canonical_migrations(project, &replay, out);
    if !user_model_known(project) {
        // Relations to the user model cannot be compared when which model
        // that is is not known.
        let mut noted: Option<String> = None;
        for state in [&out.models, &out.migrations] {
            for (key, model) in &state.models {
                for (name, field) in &model.fields {
                    if to_setting(field)
                        || field
                            .kwarg("to")
                            .and_then(Value::as_str)
                            .is_some_and(|t| t == "auth.user")
                    {
                        out.skip.alter_fields.insert((key.clone(), name.clone()));
                        noted.get_or_insert_with(|| key.0.clone());
                    }
                }
            }
        }
        if let Some(app) = noted {
            out.unresolved.push(Unresolved {
                app,
                model: None,
                item: None,
                reason: "`AUTH_USER_MODEL` is not known (no settings module was found; set `settings` or `auth_user_model` in [tool.migguard]): relations to the user model are not compared".to_owned(),
                location: SourceLine {
                    path: project.settings.manage_py.clone().unwrap_or_default(),
                    line: 1,
                    column: 1,
                },
            });
        }
    }
}

impl Builder<'_, '_> {
    fn read_models(&self, out: &mut Analysis) {
        let (env, apps, builder) = (self.env, self.apps, self);
        let mut concrete: Vec<Rc<ClassFacts>> = Vec::new();
        for app in &apps.apps {
            let models_module = format!("{}.models", app.module);
            let Some(parsed) = env.index.module(&models_module) else {
                continue;
            };
            let path = env.index.file_of(&models_module).unwrap_or("").to_owned();
            out.models_files.insert(app.label.clone(), path.clone());
            if let Err(err) = parsed.as_ref() {
                out.skip.apps.insert(app.label.clone());
                out.unresolved.push(Unresolved {
                    app: app.label.clone(),
                    model: None,
                    item: None,
                    reason: format!("the models module cannot be read: {}", err.message),
                    location: SourceLine {
                        path,
                        line: err.line,
                        column: err.column,
                    },
                });
                continue;
            }
            for module_name in app_modules(env, apps, &models_module, &app.module) {
                let Some(module) = env.index.module(&module_name) else {
                    continue;
                };
                let Ok(module) = module.as_ref() else {
                    out.skip.incomplete_apps.insert(app.label.clone());
                    continue;
                };
                let module_path = env.index.file_of(&module_name).unwrap_or("").to_owned();
                let dynamic = !module.dynamic.is_empty();
                for note in &module.dynamic {
                    out.skip.incomplete_apps.insert(app.label.clone());
                    out.unresolved.push(Unresolved {
                        app: app.label.clone(),
                        model: None,
                        item: None,
                        reason: format!(
                            "{}; the models of this module are not compared",
                            note.what
                        ),
                        location: SourceLine {
                            path: module_path.clone(),
                            line: note.line,
                            column: note.column,
                        },
                    });
                }
                for binding in &module.bindings {
                    let BindingKind::Class(class) = &binding.kind else {
                        continue;
                    };
                    let id = ClassId {
                        module: module_name.clone(),
                        qualname: class.name.clone(),
                    };
                    let Some(info) = env.class_info(&id) else {
                        continue;
                    };
                    let at = SourceLine {
                        path: module_path.clone(),
                        line: class.line,
                        column: class.column,
                    };
                    if !info.is_model() {
                        if !info.has_unknown_ancestor() {
                            continue;
                        }
                        // It may be a model: never report a model of that name
                        // deleted, nor compare one.
                        out.skip
                            .models
                            .insert((app.label.clone(), class.name.to_lowercase()));
                        if !is_known_non_model(env, &info) {
                            out.unresolved.push(Unresolved {
                            app: app.label.clone(),
                            model: Some(class.name.clone()),
                            item: None,
                            reason: format!(
                                "`{}` inherits from {}, which is not known statically; whether it is a model, and its fields, are unknown",
                                class.name,
                                unknown_bases(&info)
                            ),
                            location: at,
                        });
                        }
                        continue;
                    }
                    let Some(facts) = builder.facts(&id) else {
                        continue;
                    };
                    if facts.is_abstract {
                        continue;
                    }
                    // A model of a module of no app needs `Meta.app_label`
                    // (Django refuses it otherwise).
                    let Some(label) = facts.app_label.clone().or_else(|| {
                        std::iter::once(&app.module)
                            .chain(&app.aliases)
                            .any(|m| module_name == *m || module_name.starts_with(&format!("{m}.")))
                            .then(|| app.label.clone())
                    }) else {
                        continue;
                    };
                    let key = (label, class.name.to_lowercase());
                    if dynamic {
                        out.skip.models.insert(key);
                        continue;
                    }
                    concrete.push(facts);
                }
            }
        }
        builder.finish(concrete, out);
    }
}

/// Classes whose unknown ancestors are certainly not models: enums and
/// classes deriving from Django's non-model classes only through known
/// paths are already excluded; a class with a `Meta` or fields is not.
fn is_known_non_model(env: &Env<'_>, info: &ClassInfo) -> bool {
    if let Some(e) = env.enum_info(&info.id) {
        if e.kind != EnumKind::NotEnum {
            return true;
        }
    }
    // A class with no field-like attribute and no Meta cannot add a model
    // migguard would compare, whatever its base.
    let has_model_parts = info.class.nested("Meta").is_some()
        || info.class.body.iter().any(|b| match &b.kind {
            BindingKind::Value(Value::Call(c)) => {
                let path = &c.func.path;
                path.contains("Field") || path.contains("ForeignKey")
            }
            _ => false,
        });
    !has_model_parts
}

fn unknown_bases(info: &ClassInfo) -> String {
    let mut names: Vec<String> = info.unknown_bases.clone();
    if let Some(mro) = &info.mro {
        for item in mro {
            if let MroItem::External { path, known: false } = item {
                names.push(path.clone());
            }
        }
    }
    names.dedup();
    if names.is_empty() {
        "a base class".to_owned()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The models module and the project modules it imports that are of the
/// same app or of no installed app (a shared module whose models say
/// `Meta.app_label`: importing it registers them), breadth-first.
fn app_modules(
    env: &Env<'_>,
    apps: &AppTable,
    models_module: &str,
    app_module: &str,
) -> Vec<String> {
    let prefix = format!("{app_module}.");
    let own_label = apps.app_of_module(app_module);
    let mut seen: Vec<String> = vec![models_module.to_owned()];
    // Modules of the app that its AppConfig imports (in `ready()`, say):
    // Django imports them at start-up, and the models they define count.
    if let Some((bytes, package)) = env.index.bytes_of(&format!("{app_module}.apps")) {
        for target in crate::parse::module_facts::imported_modules_anywhere(&bytes, &package) {
            if target.starts_with(&prefix)
                && !target.contains(".migrations")
                && env.index.file_of(&target).is_some()
                && !seen.contains(&target)
            {
                seen.push(target);
            }
        }
    }
    let mut next = 0;
    while next < seen.len() && seen.len() < MAX_APP_MODULES {
        let current = seen[next].clone();
        next += 1;
        let Some(module) = env.index.module(&current) else {
            continue;
        };
        let Ok(module) = module.as_ref() else {
            continue;
        };
        let mut targets: Vec<String> = module.star_imports.clone();
        for binding in &module.bindings {
            if let BindingKind::Import(target) = &binding.kind {
                targets.push(target.clone());
            }
        }
        let ours = |name: &str| {
            name.starts_with(&prefix)
                || match apps.app_of_module(name) {
                    // The app's package under another import root.
                    Some(label) => Some(label) == own_label,
                    None => builtin::source(name).is_none(),
                }
        };
        for target in targets {
            if !ours(&target) || target.contains(".migrations") {
                continue;
            }
            let parts: Vec<&str> = target.split('.').collect();
            let Some(k) = (1..=parts.len())
                .rev()
                .find(|&k| env.index.file_of(&parts[..k].join(".")).is_some())
            else {
                continue;
            };
            let name = parts[..k].join(".");
            if ours(&name) && !seen.contains(&name) {
                seen.push(name);
            }
        }
    }
    seen
}

impl<'e, 'a> Builder<'e, 'a> {
    fn at(&self, module: &str, line: u32, column: u32) -> SourceLine {
        SourceLine {
            path: self
                .env
                .index
                .file_of(module)
                .map_or_else(|| format!("<{module}>"), str::to_owned),
            line,
            column,
        }
    }

    fn facts(&self, id: &ClassId) -> Option<Rc<ClassFacts>> {
        if let Some(hit) = self.facts.borrow().get(id) {
            return hit.clone();
        }
        if self.building.borrow().len() > 200 || !self.building.borrow_mut().insert(id.clone()) {
            return None;
        }
        let facts = self.compute_facts(id).map(Rc::new);
        self.building.borrow_mut().remove(id);
        self.facts.borrow_mut().insert(id.clone(), facts.clone());
        facts
    }

    // ------------------------------------------------------------------
    // Meta

    fn meta_id(id: &ClassId) -> ClassId {
        ClassId {
            module: id.module.clone(),
            qualname: format!("{}.Meta", id.qualname),
        }
    }

    /// True when a class's own `Meta` says `abstract = True`.
    fn declared_abstract(&self, id: &ClassId, depth: u32) -> bool {
        if let Some(known) = self.abstract_.borrow().get(id) {
            return *known;
        }
        let answer = self.declared_abstract_uncached(id, depth);
        self.abstract_.borrow_mut().insert(id.clone(), answer);
        answer
    }

    fn declared_abstract_uncached(&self, id: &ClassId, depth: u32) -> bool {
        let Some(info) = self.env.class_info(id) else {
            return false;
        };
        if info.class.nested("Meta").is_none() {
            return false;
        }
        let (attrs, _) = self.merged_meta(&Self::meta_id(id), true, depth + 1);
        attrs
            .get("abstract")
            .and_then(|v| truthy(&self.env.eval(v)))
            .unwrap_or(false)
    }

    /// A `Meta` class's attributes through its own bases (`class
    /// Meta(Parent.Meta)`), unevaluated. The `Meta` of an abstract model
    /// that was already created has `abstract = False` (Django sets it).
    fn merged_meta(
        &self,
        meta: &ClassId,
        own: bool,
        depth: u32,
    ) -> (BTreeMap<String, Value>, Vec<String>) {
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        let mut problems = Vec::new();
        if depth > 16 {
            problems.push("Meta classes nested too deeply".to_owned());
            return (out, problems);
        }
        let Some(info) = self.env.class_info(meta) else {
            problems.push(format!("`{}` cannot be read", meta.path()));
            return (out, problems);
        };
        if info.has_unknown_ancestor() {
            problems.push(format!(
                "`{}` inherits from a class that is not known statically",
                meta.qualname
            ));
        }
        if !info.class.dynamic.is_empty() {
            problems.push(format!(
                "`{}` has statements that are not plain assignments",
                meta.qualname
            ));
        }
        for class_id in info.project_mro().iter().rev() {
            let Some(class) = self.env.index.class(class_id) else {
                continue;
            };
            for binding in &class.body {
                if binding.name.starts_with('_') {
                    continue;
                }
                if let BindingKind::Value(v) = &binding.kind {
                    out.insert(binding.name.clone(), v.clone());
                }
            }
            let created = !(own && class_id == meta) && class_id.qualname.ends_with(".Meta") && {
                let owner = ClassId {
                    module: class_id.module.clone(),
                    qualname: class_id.qualname.trim_end_matches(".Meta").to_owned(),
                };
                self.env.class_info(&owner).is_some_and(|o| o.is_model())
                    && self.declared_abstract(&owner, depth + 1)
            };
            if created {
                out.insert("abstract".to_owned(), Value::Bool(false));
            }
        }
        (out, problems)
    }

    /// The `Meta` Django uses for a class (its own, else the first one
    /// found on its ancestors), read as `original_attrs`.
    fn meta_facts(&self, info: &ClassInfo) -> MetaFacts {
        let own = info.class.nested("Meta").map(|_| Self::meta_id(&info.id));
        let chosen = own.clone().map(|m| (m, true)).or_else(|| {
            info.project_mro().into_iter().skip(1).find_map(|pid| {
                let pinfo = self.env.class_info(&pid)?;
                pinfo.class.nested("Meta")?;
                if pinfo.is_model() && !self.declared_abstract(&pid, 0) {
                    return None;
                }
                Some((Self::meta_id(&pid), false))
            })
        });
        let mut facts = MetaFacts::default();
        let Some((meta, is_own)) = chosen else {
            return facts;
        };
        if let Some(class) = self.env.index.class(&meta) {
            facts.at = Some(self.at(&meta.module, class.line, class.column));
        }
        let (attrs, problems) = self.merged_meta(&meta, is_own, 0);
        for problem in problems {
            facts.unresolved.push(("Meta".to_owned(), problem));
        }
        for name in DEFAULT_NAMES {
            let Some(raw) = attrs.get(*name) else {
                continue;
            };
            let value = self.env.eval(raw);
            if value.is_fully_literal() {
                facts.attrs.push(((*name).to_owned(), value));
            } else {
                facts.unresolved.push((
                    (*name).to_owned(),
                    format!("`Meta.{name}` is not known statically"),
                ));
            }
        }
        facts
    }

    // ------------------------------------------------------------------
    // Attributes

    fn classify(&self, raw: &Value) -> Attr {
        let evaluated = self.env.eval(raw);
        match evaluated {
            Value::None => Attr::Removed,
            Value::Call(call) => self.classify_call(*call),
            // A call migguard cannot read (`IntegerField(**COMMON)`, a
            // conditional, a project function building a field) may well be
            // a field: never guessed to be something else, or a field added
            // this way would read as removed once its migration exists.
            Value::Expr(e) if matches!(raw, Value::Call(_)) || e.contains('(') => {
                Attr::Unknown(format!("`{e}` is not known statically"))
            }
            Value::Expr(_) => Attr::Other,
            _ => Attr::Other,
        }
    }

    fn classify_call(&self, call: Call) -> Attr {
        let path = call.func.path.clone();
        if path == "$as_manager" {
            return Attr::Manager(ManagerValue {
                use_in_migrations: Some(false),
                call: plain_manager(),
            });
        }
        if path == "$manager_from_queryset" {
            let use_in_migrations = match call.args.first() {
                Some(Value::Ref(r)) => self.manager_use(&r.path),
                _ => None,
            };
            return match use_in_migrations {
                Some(false) => Attr::Manager(ManagerValue {
                    use_in_migrations: Some(false),
                    call: plain_manager(),
                }),
                _ => Attr::Unknown("a manager made with `from_queryset()`".to_owned()),
            };
        }
        if path.starts_with('$') || path.starts_with("operator.") {
            return Attr::Other;
        }
        if let Some(class) = FieldClass::known_in(&path, self.env.settings) {
            return Attr::Field(class, call);
        }
        let canonical = canonical_path(&path).into_owned();
        if matches!(
            canonical.as_str(),
            "django.contrib.contenttypes.GenericForeignKey"
                | "django.contrib.contenttypes.GenericRelation"
        ) {
            return Attr::Private;
        }
        if matches!(
            canonical.as_str(),
            COMPOSITE_PRIMARY_KEY | "django.db.models.ForeignObject"
        ) {
            // Fields whose deconstruction migguard does not reproduce: they
            // exist (no AddField/RemoveField of them is wrong), their
            // definition is not compared.
            return Attr::FieldError(
                format!("the field class `{canonical}` is not one migguard knows"),
                call,
            );
        }
        if let Some(use_in_migrations) = builtin::django_manager(&path) {
            return Attr::Manager(ManagerValue {
                use_in_migrations: Some(use_in_migrations),
                call: Call {
                    func: reference("django.db.models.manager.Manager"),
                    args: call.args,
                    kwargs: call.kwargs,
                },
            });
        }
        match self.env.index.lookup(&path) {
            Symbol::Class(id) => self.classify_class_call(&id, call),
            Symbol::External(p) => {
                let last = p.rsplit('.').next().unwrap_or(&p);
                if p.starts_with("django.") {
                    if last.ends_with("Field") || last.ends_with("ForeignKey") {
                        Attr::FieldError(
                            format!("the field class `{p}` is not one migguard knows"),
                            call,
                        )
                    } else {
                        Attr::Other
                    }
                } else if is_stdlib(&p) {
                    Attr::Other
                } else {
                    Attr::Unknown(format!(
                        "`{}(...)` is a class from outside the project",
                        call.func.written
                    ))
                }
            }
            _ => Attr::Unknown(format!(
                "`{}(...)` is not known statically",
                call.func.written
            )),
        }
    }

    fn classify_class_call(&self, id: &ClassId, call: Call) -> Attr {
        let Some(info) = self.env.class_info(id) else {
            return Attr::Unknown(format!("the class `{}` cannot be read", id.path()));
        };
        // A field class: the first Django field class of its MRO, with no
        // project class before it redefining `__init__` or `deconstruct`.
        let mut custom: Option<ClassId> = None;
        // A class redefining `contribute_to_class` may add no column at all
        // (netbox's GenericArrayForeignKey is `private_only`), so even
        // whether the field is in the migrations is unknown.
        let mut contributes: Option<ClassId> = None;
        if let Some(mro) = &info.mro {
            for item in mro {
                match item {
                    MroItem::Project(pid) => {
                        if let Some(class) = self.env.index.class(pid) {
                            if class.has_method("__init__") || class.has_method("deconstruct") {
                                custom.get_or_insert_with(|| pid.clone());
                            }
                            if class.contributes_privately {
                                contributes.get_or_insert_with(|| pid.clone());
                            }
                        }
                    }
                    MroItem::External { path, .. } => {
                        if let Some(django) = FieldClass::known_in(path, self.env.settings) {
                            if let Some(contributes) = contributes {
                                return Attr::Unknown(format!(
                                    "the field class `{}` adds itself to the model privately \
                                     (`contribute_to_class`), so it may be no column",
                                    contributes.path()
                                ));
                            }
                            if let Some(custom) = custom {
                                return Attr::FieldError(
                                    format!(
                                        "the field class `{}` defines its own `__init__` or `deconstruct`",
                                        custom.path()
                                    ),
                                    call,
                                );
                            }
                            if info.has_unknown_ancestor() {
                                return Attr::FieldError(
                                    format!(
                                        "the field class `{}` inherits from a class that is not known statically",
                                        id.path()
                                    ),
                                    call,
                                );
                            }
                            return Attr::Field(
                                FieldClass {
                                    kind: django.kind,
                                    path: id.path(),
                                    defaults: django.defaults,
                                },
                                call,
                            );
                        }
                        if path.starts_with("django.")
                            && path
                                .rsplit('.')
                                .next()
                                .is_some_and(|n| n.ends_with("Field"))
                        {
                            return Attr::FieldError(
                                format!(
                                    "the field class `{}` derives from `{path}`, which migguard does not know",
                                    id.path()
                                ),
                                call,
                            );
                        }
                    }
                }
            }
        }
        if let Some(use_in_migrations) = self.manager_use(&id.path()) {
            return Attr::Manager(ManagerValue {
                use_in_migrations: Some(use_in_migrations),
                call: Call {
                    func: reference(id.path()),
                    args: call.args,
                    kwargs: call.kwargs,
                },
            });
        }
        if info.has_unknown_ancestor() {
            return Attr::Unknown(format!(
                "`{}` inherits from {}, which is not known statically",
                id.path(),
                unknown_bases(&info)
            ));
        }
        Attr::Other
    }

    /// `use_in_migrations` of a manager class; `None` for a class that is
    /// no manager or whose attribute is not known.
    fn manager_use(&self, path: &str) -> Option<bool> {
        if let Some(known) = builtin::django_manager(path) {
            return Some(known);
        }
        let id = self.env.class_of_path(path)?;
        let info = self.env.class_info(&id)?;
        let is_manager = info.mro.as_ref()?.iter().any(|item| {
            matches!(item, MroItem::External { path, .. } if builtin::django_manager(path).is_some())
        });
        if !is_manager || info.has_unknown_ancestor() {
            return None;
        }
        for pid in info.project_mro() {
            let Some(class) = self.env.index.class(&pid) else {
                continue;
            };
            if let Some(binding) = class.binding("use_in_migrations") {
                return match &binding.kind {
                    BindingKind::Value(v) => truthy(&self.env.eval(v)),
                    _ => None,
                };
            }
        }
        Some(false)
    }

    // ------------------------------------------------------------------
    // One class

    fn compute_facts(&self, id: &ClassId) -> Option<ClassFacts> {
        let info = self.env.class_info(id)?;
        if !info.is_model() {
            return None;
        }
        let class: Rc<PyClass> = info.class.clone();
        let at = self.at(&id.module, class.line, class.column);
        let mut issues: Vec<(SourceLine, String)> = Vec::new();
        if info.has_unknown_ancestor() {
            issues.push((
                at.clone(),
                format!(
                    "`{}` inherits from {}, which is not known statically",
                    class.name,
                    unknown_bases(&info)
                ),
            ));
        }
        for note in &class.dynamic {
            issues.push((
                self.at(&id.module, note.line, note.column),
                format!("`{}` has {} in its body", class.name, note.what),
            ));
        }
        if let Some(note) = &class.conditional {
            issues.push((
                self.at(&id.module, note.line, note.column),
                format!(
                    "`{}` is defined under {}, which is not known statically: the class may not exist",
                    class.name, note.what
                ),
            ));
        }
        if class.keywords.iter().any(|(k, _)| k == "metaclass") {
            issues.push((at.clone(), format!("`{}` sets a metaclass", class.name)));
        }
        let is_abstract = self.declared_abstract(id, 0);
        let meta = self.meta_facts(&info);
        if meta.is_unresolved("abstract")
            || meta.is_unresolved("proxy")
            || meta.is_unresolved("Meta")
        {
            for (name, why) in &meta.unresolved {
                if matches!(name.as_str(), "abstract" | "proxy" | "Meta") {
                    issues.push((meta.at.clone().unwrap_or_else(|| at.clone()), why.clone()));
                }
            }
        }
        let is_proxy = meta.get("proxy").and_then(truthy).unwrap_or(false);
        let app_label = match meta.get("app_label") {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => self.apps.app_of_module(&id.module),
        };

        // Own attributes: the last binding of each name, in the order of
        // those bindings.
        let mut last: Vec<usize> = Vec::new();
        for (i, binding) in class.body.iter().enumerate() {
            last.retain(|&j| class.body[j].name != binding.name);
            last.push(i);
        }
        let mut fields: Vec<FieldDecl> = Vec::new();
        let mut managers: Vec<ManagerDecl> = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        let mut unknown = Vec::new();
        let mut field_names: HashSet<String> = HashSet::new();
        for &i in &last {
            let binding = &class.body[i];
            names.insert(binding.name.clone());
            if binding.name == "Meta" {
                continue;
            }
            let BindingKind::Value(raw) = &binding.kind else {
                continue;
            };
            let here = self.at(&id.module, binding.line, binding.column);
            match self.classify(raw) {
                Attr::Field(class, call) => {
                    field_names.insert(binding.name.clone());
                    fields.push(FieldDecl {
                        name: binding.name.clone(),
                        raw: call.clone(),
                        field: Ok((class, call)),
                        at: here,
                    });
                }
                Attr::FieldError(why, call) => {
                    field_names.insert(binding.name.clone());
                    fields.push(FieldDecl {
                        name: binding.name.clone(),
                        field: Err(why),
                        raw: call,
                        at: here,
                    });
                }
                Attr::Private => {
                    field_names.insert(binding.name.clone());
                }
                Attr::Manager(value) => managers.push(ManagerDecl {
                    name: binding.name.clone(),
                    value: Ok(value),
                }),
                Attr::Unknown(why) => {
                    unknown.push(UnknownAttr {
                        name: binding.name.clone(),
                        at: here,
                        why: why.clone(),
                        primary_key: self.primary_key_claim(raw),
                    });
                    managers.push(ManagerDecl {
                        name: binding.name.clone(),
                        value: Err(why),
                    });
                }
                Attr::Removed | Attr::Other => {}
            }
        }
        if is_proxy && !fields.is_empty() {
            issues.push((
                at.clone(),
                format!("the proxy model `{}` declares fields", class.name),
            ));
        }

        // Inheritance (ModelBase.__new__): fields of abstract parents are
        // copied unless a name is taken; concrete parents give a parent link.
        let parents: Vec<ClassId> = class
            .bases
            .iter()
            .filter_map(|b| match self.env.eval(b) {
                Value::Ref(r) => self.env.class_of_path(&r.path),
                _ => None,
            })
            .filter(|pid| self.env.class_info(pid).is_some_and(|p| p.is_model()))
            .collect();
        let mut parent_links: Vec<(ModelKey, String)> = Vec::new();
        let mut inherited: HashSet<String> = HashSet::new();
        let mut parent_facts: Vec<Rc<ClassFacts>> = Vec::new();
        for pid in &parents {
            match self.facts(pid) {
                Some(p) => parent_facts.push(p),
                None => issues.push((
                    at.clone(),
                    format!("the parent `{}` cannot be read", pid.path()),
                )),
            }
        }
        // Explicit parent links among own fields and abstract parents' fields.
        let label_here = app_label.clone().unwrap_or_default();
        let own_lower = class.name.to_lowercase();
        let link_of = |decl: &FieldDecl| -> Option<ModelKey> {
            let (class, call) = decl.field.as_ref().ok()?;
            if class.kind != Kind::OneToOne
                || !argument(class, call, "parent_link")
                    .and_then(truthy)
                    .unwrap_or(false)
            {
                return None;
            }
            let to = argument(class, call, "to")?;
            self.model_key_from(to, &label_here, &own_lower)
        };
        for decl in &fields {
            if let Some(key) = link_of(decl) {
                parent_links.push((key, decl.name.clone()));
            }
        }
        for p in parent_facts.iter().filter(|p| p.is_abstract) {
            for decl in &p.fields {
                if let Some(key) = link_of(decl) {
                    parent_links.push((key, decl.name.clone()));
                }
            }
        }
        let mut link_fields: Vec<(ModelKey, String)> = Vec::new();
        let mut ptr_fields: Vec<FieldDecl> = Vec::new();
        let mut copied: Vec<FieldDecl> = Vec::new();
        for item in info.mro.clone().unwrap_or_default() {
            let MroItem::Project(pid) = item else {
                continue;
            };
            if &pid == id {
                inherited.extend(names.iter().cloned());
                continue;
            }
            let Some(p) = parent_facts.iter().find(|p| p.id == pid) else {
                // Not a direct model parent: its attributes shadow later parents.
                if let Some(other) = self.env.index.class(&pid) {
                    inherited.extend(other.body.iter().map(|b| b.name.clone()));
                }
                continue;
            };
            if !p.is_abstract {
                for decl in &p.fields {
                    if field_names.contains(&decl.name) {
                        issues.push((
                            at.clone(),
                            format!(
                                "field `{}` clashes with the field of the parent `{}`",
                                decl.name,
                                pid.name()
                            ),
                        ));
                    } else {
                        inherited.insert(decl.name.clone());
                    }
                }
                let concrete = self.concrete_key(p);
                let Some(concrete) = concrete else {
                    issues.push((
                        at.clone(),
                        format!("the concrete model of `{}` is not known", pid.name()),
                    ));
                    continue;
                };
                if let Some((_, name)) = parent_links.iter().find(|(k, _)| *k == concrete) {
                    link_fields.push((concrete, name.clone()));
                } else if !is_proxy {
                    let name = format!("{}_ptr", concrete.1);
                    if field_names.contains(&name) {
                        issues.push((
                            at.clone(),
                            format!("the declared field `{name}` clashes with the parent link"),
                        ));
                    } else if !names.contains(&name) && !ptr_fields.iter().any(|f| f.name == name) {
                        let link = parent_link_field(&concrete);
                        ptr_fields.push(FieldDecl {
                            name: name.clone(),
                            raw: link.1.clone(),
                            field: Ok(link),
                            at: at.clone(),
                        });
                        link_fields.push((concrete, name));
                    }
                }
            } else {
                for decl in &p.fields {
                    let taken = field_names.contains(&decl.name)
                        || names.contains(&decl.name)
                        || inherited.contains(&decl.name)
                        || copied.iter().any(|c| c.name == decl.name);
                    if !taken {
                        copied.push(decl.clone());
                    }
                }
                for attr in &p.unknown {
                    if !names.contains(&attr.name) {
                        unknown.push(attr.clone());
                    }
                }
                for (key, name) in &p.parents {
                    if !link_fields.iter().any(|(k, _)| k == key) {
                        link_fields.push((key.clone(), name.clone()));
                    }
                }
                issues.extend(p.issues.iter().cloned());
            }
        }
        // Django orders fields by creation: within one module, inherited
        // fields come in the order they are written.
        let mut files: Vec<String> = Vec::new();
        for decl in &copied {
            if !files.contains(&decl.at.path) {
                files.push(decl.at.path.clone());
            }
        }
        copied.sort_by_key(|d| (files.iter().position(|f| *f == d.at.path), d.at.line));
        let mut all_fields = ptr_fields;
        all_fields.extend(copied);
        all_fields.extend(fields);
        Some(ClassFacts {
            id: id.clone(),
            info: info.clone(),
            at,
            is_abstract,
            is_proxy,
            meta,
            app_label,
            fields: all_fields,
            parents: link_fields,
            managers,
            unknown,
            issues,
        })
    }

    /// The model a proxy stands for, or the model itself.
    fn concrete_key(&self, facts: &ClassFacts) -> Option<ModelKey> {
        if !facts.is_proxy {
            return Some(self.key_of(facts));
        }
        let mut current = facts.id.clone();
        for _ in 0..16 {
            let f = self.facts(&current)?;
            if !f.is_proxy {
                return Some(self.key_of(&f));
            }
            let parent = f
                .info
                .project_mro()
                .into_iter()
                .skip(1)
                .find(|pid| self.facts(pid).is_some_and(|p| !p.is_abstract))?;
            current = parent;
        }
        None
    }

    fn key_of(&self, facts: &ClassFacts) -> ModelKey {
        (
            facts.app_label.clone().unwrap_or_default(),
            facts.id.name().to_lowercase(),
        )
    }

    /// A model reference (`"blog.Post"`, `"self"`, a class, the user
    /// model setting) to the model's key, seen from `(app, model)`.
    fn model_key_from(&self, value: &Value, app: &str, model_lower: &str) -> Option<ModelKey> {
        match value {
            Value::Str(s) => Some(reference_key(s, app, model_lower)),
            Value::Ref(r) => {
                if let Some(setting) = r.path.strip_prefix("django.conf.settings.") {
                    let target = self.env.settings.swappable(setting)?;
                    return Some(reference_key(&target, app, model_lower));
                }
                let id = self.env.class_of_path(&r.path)?;
                let facts = self.facts(&id)?;
                Some(self.key_of(&facts))
            }
            _ => None,
        }
    }

    // ------------------------------------------------------------------
    // The state

    fn finish(&self, concrete: Vec<Rc<ClassFacts>>, out: &mut Analysis) {
        // Primary keys first: `to_field` is written only when it is not
        // the target's primary key.
        let mut pks: HashMap<ModelKey, String> = HashMap::new();
        for facts in &concrete {
            pks.insert(self.key_of(facts), self.pk_of(facts).0);
        }
        let refs = BuiltRefs {
            builder: self,
            pks: &pks,
        };
        let mut auto_noted: HashSet<String> = HashSet::new();
        for facts in &concrete {
            let key = self.key_of(facts);
            if self.apps.entry(&key.0).is_none() {
                continue;
            }
            if out.models.models.contains_key(&key) {
                continue;
            }
            let mut model = ModelState::new(key.0.clone(), facts.id.name());
            let mut source = ModelSource {
                class: facts.at.clone(),
                fields: BTreeMap::new(),
            };
            let note =
                |out: &mut Analysis, item: Option<String>, reason: String, at: SourceLine| {
                    out.unresolved.push(Unresolved {
                        app: key.0.clone(),
                        model: Some(facts.id.name().to_owned()),
                        item,
                        reason,
                        location: at,
                    });
                };
            for (at, why) in &facts.issues {
                note(out, None, why.clone(), at.clone());
                out.skip.models.insert(key.clone());
            }
            for (option, why) in &facts.meta.unresolved {
                let at = facts.meta.at.clone().unwrap_or_else(|| facts.at.clone());
                note(out, Some(format!("Meta.{option}")), why.clone(), at);
                out.skip.options.insert((key.clone(), option.clone()));
                if matches!(option.as_str(), "managed" | "proxy" | "abstract" | "Meta") {
                    out.skip.models.insert(key.clone());
                }
            }
            for UnknownAttr { name, at, why, .. } in &facts.unknown {
                note(
                    out,
                    Some(name.clone()),
                    format!("`{name}`: {why}"),
                    at.clone(),
                );
                out.skip.fields.insert((key.clone(), name.clone()));
                out.skip
                    .options
                    .insert((key.clone(), "managers".to_owned()));
            }

            // Fields, with Django's primary key.
            let (pk_name, pk_kind) = self.pk_of(facts);
            let mut decls: Vec<FieldDecl> = Vec::new();
            if !facts.is_proxy {
                if pk_kind == PkKind::Unsure {
                    note(
                        out,
                        Some("id".to_owned()),
                        "whether Django adds an automatic primary key `id` is not known: a field that is not known statically may be the primary key".to_owned(),
                        facts.at.clone(),
                    );
                    out.skip.fields.insert((key.clone(), "id".to_owned()));
                }
                if matches!(pk_kind, PkKind::Auto | PkKind::Unsure) {
                    let app = self.apps.entry(&key.0);
                    match app.and_then(|a| a.auto_field.clone()) {
                        Some(path) => match self.auto_field_class(&path) {
                            Some(class) => decls.push(FieldDecl {
                                name: "id".to_owned(),
                                field: Ok((class, auto_field_call(&path))),
                                raw: auto_field_call(&path),
                                at: facts.at.clone(),
                            }),
                            None => decls.push(FieldDecl {
                                name: "id".to_owned(),
                                field: Err(format!(
                                    "the primary key class `{path}` is not one migguard knows"
                                )),
                                raw: auto_field_call(&path),
                                at: facts.at.clone(),
                            }),
                        },
                        None => {
                            if auto_noted.insert(key.0.clone()) {
                                note(
                                    out,
                                    Some("id".to_owned()),
                                    "the automatic primary key's class is not known: no settings module was found (set `settings` in [tool.migguard])".to_owned(),
                                    facts.at.clone(),
                                );
                            }
                            decls.push(FieldDecl {
                                name: "id".to_owned(),
                                field: Err(
                                    "the automatic primary key's class is not known".to_owned()
                                ),
                                raw: auto_field_call("django.db.models.AutoField"),
                                at: facts.at.clone(),
                            });
                        }
                    }
                }
                decls.extend(facts.fields.iter().cloned());
            }
            let model_lower = key.1.clone();
            for decl in decls {
                source.fields.insert(decl.name.clone(), decl.at.clone());
                let ctx = FieldCtx {
                    app_label: &key.0,
                    model_lower: &model_lower,
                    settings: self.env.settings,
                    refs: &refs,
                    force_pk: pk_kind == PkKind::ParentLink && decl.name == pk_name,
                };
                let result = decl
                    .field
                    .clone()
                    .and_then(|(class, call)| deconstruct(&class, &call, &ctx));
                match result {
                    Ok(field) => model.set_field(&decl.name, field),
                    Err(why) => {
                        // The field exists; only its definition is unknown.
                        if decl.name != "id" || !auto_noted.contains(&key.0) {
                            note(
                                out,
                                Some(decl.name.clone()),
                                format!("field `{}`: {why}", decl.name),
                                decl.at.clone(),
                            );
                        }
                        out.skip
                            .alter_fields
                            .insert((key.clone(), decl.name.clone()));
                        model.set_field(&decl.name, decl.raw.clone());
                    }
                }
            }

            // Options (ModelState.from_model).
            let naming = IndexNaming {
                app_label: key.0.clone(),
                model_lower: model_lower.clone(),
                db_table: match facts.meta.get("db_table") {
                    Some(Value::Str(t)) if !t.is_empty() => t.clone(),
                    _ => truncate_name(
                        &format!("{}_{}", key.0, model_lower),
                        self.apps.max_name_length,
                    ),
                },
                columns: self.columns(&model),
            };
            for (name, value) in &facts.meta.attrs {
                match name.as_str() {
                    "apps" | "app_label" => {}
                    "unique_together" => {
                        model
                            .options
                            .insert(name.clone(), normalize_together(value));
                    }
                    "indexes" | "constraints" => {
                        let mut items = Vec::new();
                        let mut failed = None;
                        for item in value.as_seq().unwrap_or_default() {
                            let canonical = match item {
                                Value::Call(c) if name == "indexes" => {
                                    canonical_index(c, Some(&naming))
                                }
                                Value::Call(c) => canonical_constraint(c, Some(&naming)),
                                other => Err(format!("{other:?} is not an index or constraint")),
                            };
                            match canonical {
                                Ok(c) => items.push(Value::Call(Box::new(c))),
                                Err(why) => failed = Some(why),
                            }
                        }
                        if value.as_seq().is_none() {
                            failed = Some(format!("`Meta.{name}` is not a literal list"));
                        }
                        if let Some(why) = failed {
                            let at = facts.meta.at.clone().unwrap_or_else(|| facts.at.clone());
                            note(out, Some(format!("Meta.{name}")), why, at);
                            out.skip.options.insert((key.clone(), name.clone()));
                        }
                        model.options.insert(name.clone(), Value::List(items));
                    }
                    _ => {
                        model.options.insert(name.clone(), value.clone());
                    }
                }
            }
            model.bases = self.bases_of(facts);
            match self.managers_of(facts) {
                Ok(managers) => model.managers = managers,
                Err(why) => {
                    note(out, Some("managers".to_owned()), why, facts.at.clone());
                    out.skip
                        .options
                        .insert((key.clone(), "managers".to_owned()));
                }
            }
            out.sources.insert(key.clone(), source);
            out.models.models.insert(key, model);
        }
    }

    /// The primary key's name and how Django made it.
    fn pk_of(&self, facts: &ClassFacts) -> (String, PkKind) {
        for decl in &facts.fields {
            let explicit = match &decl.field {
                Ok((class, call)) => argument(class, call, "primary_key"),
                // `CompositePrimaryKey` is the primary key unless told not.
                Err(_) if canonical_path(&decl.raw.func.path) == COMPOSITE_PRIMARY_KEY => {
                    Some(decl.raw.kwarg("primary_key").unwrap_or(&Value::Bool(true)))
                }
                // A field class migguard cannot deconstruct still takes
                // `primary_key` like every Django field.
                Err(_) => decl.raw.kwarg("primary_key"),
            };
            if explicit.and_then(truthy).unwrap_or(false) {
                return (decl.name.clone(), PkKind::Declared);
            }
        }
        // A field of a class migguard cannot read (a third-party field).
        if let Some(attr) = facts.unknown.iter().find(|a| a.primary_key == Some(true)) {
            return (attr.name.clone(), PkKind::Declared);
        }
        if let Some((_, name)) = facts.parents.first() {
            return (name.clone(), PkKind::ParentLink);
        }
        if facts.is_proxy {
            return ("id".to_owned(), PkKind::Declared);
        }
        if facts.unknown.iter().any(|a| a.primary_key.is_none()) {
            return ("id".to_owned(), PkKind::Unsure);
        }
        ("id".to_owned(), PkKind::Auto)
    }

    /// Whether an attribute migguard cannot classify declares itself the
    /// primary key: `Some(false)` when it certainly does not (no
    /// `primary_key` argument), `None` when that cannot be told
    /// (`primary_key=<unknown>`, `Field(**options)`).
    fn primary_key_claim(&self, raw: &Value) -> Option<bool> {
        match self.env.eval(raw) {
            Value::Call(call) => match call.kwarg("primary_key") {
                Some(value) => truthy(&self.env.eval(value)),
                None => Some(false),
            },
            Value::Expr(text) if text.contains("primary_key") || text.contains("**") => None,
            _ => Some(false),
        }
    }

    fn auto_field_class(&self, path: &str) -> Option<FieldClass> {
        if let Some(class) = FieldClass::known_in(path, self.env.settings) {
            return Some(class);
        }
        let id = self.env.class_of_path(path)?;
        match self.classify_class_call(&id, auto_field_call(path)) {
            Attr::Field(class, _) => Some(class),
            _ => None,
        }
    }

    /// Field name -> column, for index names.
    fn columns(&self, model: &ModelState) -> HashMap<String, String> {
        model
            .fields
            .iter()
            .map(|(name, field)| {
                let column = match field.kwarg("db_column") {
                    Some(Value::Str(c)) => c.clone(),
                    _ => {
                        let class = FieldClass::known(&field.func.path).map(|c| c.kind);
                        if matches!(class, Some(Kind::ForeignKey | Kind::OneToOne))
                            || is_fk_like(field)
                        {
                            format!("{name}_id")
                        } else {
                            name.clone()
                        }
                    }
                };
                (name.clone(), column)
            })
            .collect()
    }

    /// `ModelState.from_model`'s bases: abstract parents flattened away,
    /// models by label, `models.Model` when nothing else is a model.
    fn bases_of(&self, facts: &ClassFacts) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let mut any_model = false;
        let mut stack: Vec<(ClassId, u32)> = vec![(facts.id.clone(), 0)];
        let mut seen: Vec<String> = Vec::new();
        while let Some((id, depth)) = stack.pop() {
            let Some(info) = self.env.class_info(&id) else {
                continue;
            };
            for base in info.class.bases.iter().rev() {
                let Value::Ref(r) = self.env.eval(base) else {
                    continue;
                };
                if builtin::is_model_root(&r.path) {
                    if !seen.contains(&"models.Model".to_owned()) {
                        seen.push("models.Model".to_owned());
                        out.push(default_base());
                        any_model = true;
                    }
                    continue;
                }
                match self
                    .env
                    .class_of_path(&r.path)
                    .and_then(|pid| self.facts(&pid).map(|f| (pid, f)))
                {
                    Some((pid, p)) if p.is_abstract && depth < 16 => stack.push((pid, depth + 1)),
                    Some((_, p)) => {
                        let key = self.key_of(&p);
                        let label = format!("{}.{}", key.0, key.1);
                        if !seen.contains(&label) {
                            seen.push(label.clone());
                            out.push(Value::Str(label));
                            any_model = true;
                        }
                    }
                    None => {
                        if !seen.contains(&r.path) {
                            seen.push(r.path.clone());
                            out.push(Value::Ref(reference(r.path.clone())));
                        }
                    }
                }
            }
        }
        if !any_model {
            return vec![default_base()];
        }
        out
    }

    /// `ModelState.from_model`'s managers.
    fn managers_of(&self, facts: &ClassFacts) -> Result<Vec<(String, Value)>, String> {
        let mut all: Vec<ManagerDecl> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for pid in facts.info.project_mro() {
            let Some(p) = self.facts(&pid) else { continue };
            for manager in &p.managers {
                if seen.insert(manager.name.clone()) {
                    all.push(manager.clone());
                }
            }
        }
        if all.is_empty() {
            return Ok(Vec::new());
        }
        // Options.default_manager / base_manager: the model's own names,
        // else those of the first parent model (the default one only when
        // the model declares no manager itself).
        let first_parent = facts
            .info
            .project_mro()
            .into_iter()
            .skip(1)
            .find_map(|pid| self.facts(&pid));
        let named = |facts: &ClassFacts, option: &str| match facts.meta.get(option) {
            Some(Value::Str(name)) => Some(name.clone()),
            _ => None,
        };
        let default = named(facts, "default_manager_name")
            .or_else(|| {
                if facts.managers.is_empty() {
                    first_parent
                        .as_ref()
                        .and_then(|p| named(p, "default_manager_name"))
                } else {
                    None
                }
            })
            .unwrap_or_else(|| all[0].name.clone());
        let base = named(facts, "base_manager_name").or_else(|| {
            first_parent
                .as_ref()
                .and_then(|p| named(p, "base_manager_name"))
        });
        let mut out: Vec<(String, Value)> = Vec::new();
        let mut default_is_shim = false;
        for manager in &all {
            let value = manager
                .value
                .as_ref()
                .map_err(|why| format!("manager `{}`: {why}", manager.name))?;
            match value.use_in_migrations {
                Some(true) => {
                    let call = Value::Call(Box::new(value.call.clone()));
                    if !call.is_fully_literal() {
                        return Err(format!(
                            "the arguments of manager `{}` are not known statically",
                            manager.name
                        ));
                    }
                    out.push((manager.name.clone(), call));
                }
                Some(false) => {
                    if manager.name == default || base.as_deref() == Some(manager.name.as_str()) {
                        if manager.name == default {
                            default_is_shim = true;
                        }
                        out.push((manager.name.clone(), Value::Call(Box::new(plain_manager()))));
                    }
                }
                None => {
                    return Err(format!(
                        "whether manager `{}` is used in migrations is not known",
                        manager.name
                    ))
                }
            }
        }
        if default_is_shim && out.len() == 1 && out[0].0 == "objects" && default == "objects" {
            out.clear();
        }
        Ok(out)
    }
}

const COMPOSITE_PRIMARY_KEY: &str = "django.db.models.CompositePrimaryKey";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PkKind {
    Declared,
    ParentLink,
    Auto,
    /// Probably automatic, but an unreadable attribute may be the key.
    Unsure,
}

/// A class attribute that may be a field or a manager, of a kind
/// migguard cannot read.
#[derive(Debug, Clone)]
struct UnknownAttr {
    name: String,
    at: SourceLine,
    why: String,
    /// Whether it is declared with `primary_key=True`; `None`: unsure.
    primary_key: Option<bool>,
}

fn is_fk_like(field: &Call) -> bool {
    field.kwarg("on_delete").is_some()
}

fn plain_manager() -> Call {
    Call {
        func: reference("django.db.models.manager.Manager"),
        args: Vec::new(),
        kwargs: Vec::new(),
    }
}

fn auto_field_call(path: &str) -> Call {
    Call {
        func: reference(path),
        args: Vec::new(),
        kwargs: vec![
            ("auto_created".to_owned(), Value::Bool(true)),
            ("primary_key".to_owned(), Value::Bool(true)),
            ("serialize".to_owned(), Value::Bool(false)),
            ("verbose_name".to_owned(), Value::Str("ID".to_owned())),
        ],
    }
}

fn parent_link_field(target: &ModelKey) -> (FieldClass, Call) {
    (
        FieldClass {
            kind: Kind::OneToOne,
            path: "django.db.models.OneToOneField".to_owned(),
            defaults: &[],
        },
        Call {
            func: Ref {
                written: "models.OneToOneField".to_owned(),
                path: "django.db.models.OneToOneField".to_owned(),
            },
            args: Vec::new(),
            kwargs: vec![
                ("auto_created".to_owned(), Value::Bool(true)),
                (
                    "on_delete".to_owned(),
                    Value::Ref(reference("django.db.models.deletion.CASCADE")),
                ),
                ("parent_link".to_owned(), Value::Bool(true)),
                (
                    "to".to_owned(),
                    Value::Str(format!("{}.{}", target.0, target.1)),
                ),
            ],
        },
    )
}

/// Django's `truncate_name` for a backend's identifier limit.
pub(crate) fn truncate_name(name: &str, length: Option<usize>) -> String {
    match length {
        Some(length) if name.len() > length => {
            let hash: String = super::md5::hex_digest(name.as_bytes())
                .chars()
                .take(4)
                .collect();
            let keep: String = name.chars().take(length.saturating_sub(4)).collect();
            format!("{keep}{hash}")
        }
        _ => name.to_owned(),
    }
}

fn is_stdlib(path: &str) -> bool {
    let first = path.split('.').next().unwrap_or(path);
    matches!(
        first,
        "decimal"
            | "datetime"
            | "uuid"
            | "re"
            | "enum"
            | "functools"
            | "collections"
            | "typing"
            | "os"
            | "pathlib"
            | "json"
            | "dict"
            | "list"
            | "set"
            | "tuple"
            | "str"
            | "int"
            | "float"
            | "bool"
            | "bytes"
            | "frozenset"
            | "object"
            | "property"
            | "staticmethod"
            | "classmethod"
            | "zoneinfo"
            | "ipaddress"
    )
}

/// The models side's view of relations, for `deconstruct()`.
struct BuiltRefs<'b, 'e, 'a> {
    builder: &'b Builder<'e, 'a>,
    pks: &'b HashMap<ModelKey, String>,
}

impl ModelRefs for BuiltRefs<'_, '_, '_> {
    fn model_key(&self, value: &Value, app: &str, model_lower: &str) -> Option<ModelKey> {
        self.builder.model_key_from(value, app, model_lower)
    }

    fn pk_name(&self, key: &ModelKey) -> Option<String> {
        self.pks.get(key).cloned()
    }

    fn enum_choices(&self, class_path: &str) -> Option<Value> {
        self.builder.enum_choices(class_path)
    }
}

// ----------------------------------------------------------------------
// The migrations' side

impl Builder<'_, '_> {
    /// The `choices` a Django choices enum stands for (both sides read
    /// enums of the project the same way).
    fn enum_choices(&self, class_path: &str) -> Option<Value> {
        let id = self.env.class_of_path(class_path)?;
        let info = self.env.enum_info(&id)?;
        matches!(
            info.kind,
            EnumKind::Text | EnumKind::Integer | EnumKind::Choices
        )
        .then(|| info.choices())
    }

    /// The replayed state of the project's apps, every field through the
    /// same `deconstruct()` as the models, indexes and constraints in their
    /// canonical form. Apps whose migrations cannot be replayed faithfully
    /// (a custom operation, an unreadable migration) are skipped.
    fn canonical_migrations(&self, project: &Project, replay: &StateReplay, out: &mut Analysis) {
        use crate::rules::Rule;
        for diagnostic in &project.diagnostics {
            let Some(app) = diagnostic.location.app.as_deref() else {
                continue;
            };
            if self.apps.entry(app).is_none() {
                continue;
            }
            if matches!(
                diagnostic.rule,
                Rule::SyntaxError | Rule::InvalidMigration | Rule::DynamicMigration
            ) {
                out.skip.apps.insert(app.to_owned());
                out.unresolved.push(Unresolved {
                    app: app.to_owned(),
                    model: None,
                    item: None,
                    reason: format!(
                        "a migration cannot be read completely ({}); the app's models are not compared",
                        diagnostic.message
                    ),
                    location: SourceLine {
                        path: diagnostic.location.path.clone().unwrap_or_default(),
                        line: diagnostic.location.line.unwrap_or(1),
                        column: diagnostic.location.column.unwrap_or(1),
                    },
                });
            }
        }
        for warning in &replay.warnings {
            let app = &warning.migration.app;
            if self.apps.entry(app).is_none()
                || warning.message.contains("already has a field")
                || warning.message.contains("to alter; Django's state adds it")
            {
                continue;
            }
            out.skip.apps.insert(app.clone());
            out.unresolved.push(Unresolved {
                app: app.clone(),
                model: None,
                item: None,
                reason: format!(
                    "the migrations' state is not known ({}: {}); the app's models are not compared",
                    warning.operation, warning.message
                ),
                location: SourceLine {
                    path: warning.path.clone(),
                    line: warning.line,
                    column: warning.column,
                },
            });
        }
        let refs = MigrationRefs {
            builder: self,
            state: &replay.state,
        };
        for (key, model) in &replay.state.models {
            if self.apps.entry(&key.0).is_none() {
                continue;
            }
            let mut canonical = ModelState::new(key.0.clone(), model.name.clone());
            canonical.bases = model.bases.clone();
            let origin_of = |field: &str| -> SourceLine {
                let origin = replay
                    .field_origin(&key.0, &key.1, field)
                    .map(|o| &o.last_set)
                    .or_else(|| replay.model_origin(&key.0, &key.1).map(|o| &o.created));
                match origin {
                    Some(o) => SourceLine {
                        path: project
                            .migration(&o.migration)
                            .map(|m| m.path.clone())
                            .unwrap_or_default(),
                        line: o.line,
                        column: 1,
                    },
                    None => SourceLine {
                        path: String::new(),
                        line: 1,
                        column: 1,
                    },
                }
            };
            for (name, field) in &model.fields {
                let Value::Call(call) = self
                    .env
                    .eval(&fix_migration_value(&Value::Call(Box::new(field.clone()))))
                else {
                    out.skip.fields.insert((key.clone(), name.clone()));
                    continue;
                };
                let class = match FieldClass::known_in(&call.func.path, self.env.settings) {
                    Some(class) => Ok(class),
                    None => match self.env.class_of_path(&call.func.path) {
                        Some(id) => match self.classify_class_call(&id, (*call).clone()) {
                            Attr::Field(class, _) => Ok(class),
                            Attr::FieldError(why, _) | Attr::Unknown(why) => Err(why),
                            _ => Err(format!("`{}` is not a field class", call.func.path)),
                        },
                        None => Err(format!(
                            "the field class `{}` is not known statically",
                            call.func.path
                        )),
                    },
                };
                let ctx = FieldCtx {
                    app_label: &key.0,
                    model_lower: &key.1,
                    settings: self.env.settings,
                    refs: &refs,
                    force_pk: false,
                };
                match class.and_then(|class| deconstruct(&class, &call, &ctx)) {
                    Ok(field) => canonical.set_field(name, field),
                    Err(why) => {
                        out.skip.alter_fields.insert((key.clone(), name.clone()));
                        canonical.set_field(name, (*call).clone());
                        out.unresolved.push(Unresolved {
                            app: key.0.clone(),
                            model: Some(model.name.clone()),
                            item: Some(name.clone()),
                            reason: format!("field `{name}` as the migrations define it: {why}"),
                            location: origin_of(name),
                        });
                    }
                }
            }
            for (option, value) in &model.options {
                let value = self.env.eval(&fix_migration_value(value));
                match option.as_str() {
                    "indexes" | "constraints" => {
                        let mut items = Vec::new();
                        for item in value.as_seq().unwrap_or_default() {
                            let result = match item {
                                Value::Call(c) if option == "indexes" => canonical_index(c, None),
                                Value::Call(c) => canonical_constraint(c, None),
                                _ => Err("not an index or constraint".to_owned()),
                            };
                            match result {
                                Ok(c) => items.push(Value::Call(Box::new(c))),
                                Err(_) => {
                                    out.skip.options.insert((key.clone(), option.clone()));
                                }
                            }
                        }
                        canonical.options.insert(option.clone(), Value::List(items));
                    }
                    _ => {
                        if !value.is_fully_literal() {
                            out.skip.options.insert((key.clone(), option.clone()));
                        }
                        canonical.options.insert(option.clone(), value);
                    }
                }
            }
            canonical.managers = model
                .managers
                .iter()
                .map(|(name, value)| (name.clone(), self.env.eval(&fix_migration_value(value))))
                .collect();
            out.migrations.models.insert(key.clone(), canonical);
        }
    }
}

/// The migrations side's view of relations.
struct MigrationRefs<'b, 'e, 'a> {
    builder: &'b Builder<'e, 'a>,
    state: &'b crate::state::ProjectState,
}

impl ModelRefs for MigrationRefs<'_, '_, '_> {
    fn model_key(&self, value: &Value, app: &str, model_lower: &str) -> Option<ModelKey> {
        self.builder.model_key_from(value, app, model_lower)
    }

    fn pk_name(&self, key: &ModelKey) -> Option<String> {
        let model = self.state.models.get(key)?;
        let pk = model
            .fields
            .iter()
            .find(|(_, f)| f.kwarg("primary_key").and_then(truthy).unwrap_or(false));
        Some(pk.map_or_else(|| "id".to_owned(), |(name, _)| name.clone()))
    }

    fn enum_choices(&self, class_path: &str) -> Option<Value> {
        self.builder.enum_choices(class_path)
    }
}
