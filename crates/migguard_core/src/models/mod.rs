//! The project's models read statically from `models.py`, in the shape of
//! the state replayed from the migrations, so that the two can be compared
//! the way `makemigrations` compares them.
//!
//! For every app with migrations, its models module (`models.py` or a
//! `models/` package, with the modules of the app it imports) is read; the
//! model classes are found through their bases (across the project's apps
//! and Django's own abstract models), fields are inherited from abstract
//! parents as Django copies them, and each field is turned into what
//! Django's `deconstruct()` returns. The migrations' state goes through the
//! same `deconstruct()`, so both sides are in one canonical form.
//!
//! Nothing is guessed: a value that cannot be known statically (a custom
//! field class with its own `__init__`, a computed default, a base class
//! from a third-party package, a dynamic class body) becomes an
//! [`Unresolved`] note, and the model, field or option concerned is left
//! out of the comparison ([`Skip`]).
//!
//! - `modules`: module files by dotted name, and name lookup across them;
//! - `eval`: values evaluated (constants, enums, `Q`, `gettext_lazy`);
//! - `classes`: bases, MRO, enums;
//! - `fields`: Django's field classes and `deconstruct()`;
//! - `build`: models, their fields, `Meta` and managers;
//! - `canon`: the migrations' state in the same canonical form, and the
//!   canonical forms of indexes and constraints;
//! - `equality`: Python's `==` on values;
//! - `builtin`: Django's abstract models (`AbstractUser`, ...).

mod build;
mod builtin;
mod canon;
mod classes;
pub mod equality;
pub(crate) mod eval;
pub mod fields;
mod md5;
mod modules;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::parse::module_facts::{self, DjangoPatch};
use crate::project::{DjangoSettings, ParseCache, Project};
use crate::source::ProjectSource;
use crate::state::{ModelKey, ProjectState, StateReplay};

use classes::{ClassInfo, EnumInfo};
use modules::{ClassId, ModuleIndex};

/// Where something is in the project's sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLine {
    /// Project-relative path.
    pub path: String,
    pub line: u32,
    pub column: u32,
}

/// Where a model and its fields are defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSource {
    /// The `class` statement.
    pub class: SourceLine,
    /// Each field's assignment (in an abstract parent for inherited ones);
    /// fields Django adds (`id`, `<parent>_ptr`) point at the class.
    pub fields: BTreeMap<String, SourceLine>,
}

/// Something that cannot be known statically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unresolved {
    pub app: String,
    /// The model concerned, as written.
    pub model: Option<String>,
    /// The field (or `Meta` option) concerned.
    pub item: Option<String>,
    /// Why it cannot be known.
    pub reason: String,
    pub location: SourceLine,
}

/// What the comparison leaves out because it is not known statically.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// Apps whose models (or migrations) cannot be read at all.
    pub apps: BTreeSet<String>,
    /// Apps that may define models migguard does not see: a model only in
    /// the migrations is not reported deleted.
    pub incomplete_apps: BTreeSet<String>,
    pub models: BTreeSet<ModelKey>,
    pub fields: BTreeSet<(ModelKey, String)>,
    /// Fields known to exist whose definition is not known: added and
    /// removed like any other, never reported altered.
    pub alter_fields: BTreeSet<(ModelKey, String)>,
    /// `(model, option)`: a `Meta` option, or `managers`.
    pub options: BTreeSet<(ModelKey, String)>,
}

impl Skip {
    pub fn skips_model(&self, key: &ModelKey) -> bool {
        self.apps.contains(&key.0) || self.models.contains(key)
    }

    pub fn skips_field(&self, key: &ModelKey, field: &str) -> bool {
        self.skips_model(key) || self.fields.contains(&(key.clone(), field.to_owned()))
    }

    pub fn skips_alter(&self, key: &ModelKey, field: &str) -> bool {
        self.skips_field(key, field) || self.alter_fields.contains(&(key.clone(), field.to_owned()))
    }

    pub fn skips_option(&self, key: &ModelKey, option: &str) -> bool {
        self.skips_model(key) || self.options.contains(&(key.clone(), option.to_owned()))
    }
}

/// Both sides of the comparison, canonical.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The models as `models.py` defines them: fields as Django's writer
    /// would write them, options and managers as `ModelState.from_model`
    /// keeps them.
    pub models: ProjectState,
    /// The migrations' state (the project's apps only), every field
    /// through the same `deconstruct()`.
    pub migrations: ProjectState,
    /// Where each model of `models` is defined.
    pub sources: BTreeMap<ModelKey, ModelSource>,
    /// The models module of each app (`blog/models.py`), when there is one.
    pub models_files: BTreeMap<String, String>,
    pub unresolved: Vec<Unresolved>,
    pub skip: Skip,
    /// What the project changes in Django itself (netbox's `core/apps.py`
    /// drops `verbose_name` from the options `makemigrations` compares and
    /// replaces `Field.deconstruct`), where.
    pub patches: Vec<(DjangoPatch, SourceLine)>,
}

/// Evaluation context shared by the readers.
pub(crate) struct Env<'a> {
    pub(crate) index: ModuleIndex<'a>,
    pub(crate) settings: &'a DjangoSettings,
    pub(crate) depth: Cell<u32>,
    pub(crate) classes: RefCell<HashMap<ClassId, Option<Rc<ClassInfo>>>>,
    pub(crate) in_progress: RefCell<HashSet<ClassId>>,
    pub(crate) enums: RefCell<HashMap<ClassId, Option<Rc<EnumInfo>>>>,
}

impl<'a> Env<'a> {
    fn new(index: ModuleIndex<'a>, settings: &'a DjangoSettings) -> Env<'a> {
        Env {
            index,
            settings,
            depth: Cell::new(0),
            classes: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(HashSet::new()),
            enums: RefCell::new(HashMap::new()),
        }
    }
}

/// Read the project's models and put the migrations' state (`replay`,
/// from `state::replay(project, None)`) in the same canonical form.
pub fn analyze(project: &Project, source: &dyn ProjectSource, replay: &StateReplay) -> Analysis {
    analyze_cached(project, source, replay, None)
}

/// [`analyze`], keeping what reading each models module gave in `cache`
/// (by content id), as the migration parser keeps parsed migrations.
pub fn analyze_cached(
    project: &Project,
    source: &dyn ProjectSource,
    replay: &StateReplay,
    cache: Option<&dyn ParseCache>,
) -> Analysis {
    on_models_thread(|| analyze_here(project, source, || Cow::Borrowed(replay), cache))
        .unwrap_or_else(|| analyze_here(project, source, || Cow::Borrowed(replay), cache))
}

/// [`analyze_cached`] with the migrations replayed (`state::replay(project,
/// None)`) on a thread of their own while the models modules are read:
/// the two only meet when the migrations' state is put in canonical form.
pub fn analyze_replaying(
    project: &Project,
    source: &dyn ProjectSource,
    cache: Option<&dyn ParseCache>,
) -> Analysis {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("migguard-replay".into())
            .stack_size(64 * 1024 * 1024)
            .spawn_scoped(scope, || crate::state::replay(project, None))
            .ok();
        let slot = std::sync::Mutex::new(spawned);
        // The replay thread's answer, taken once: by the models thread when
        // it gets there, else here; replayed anew if that thread failed.
        let replayed = || {
            slot.lock()
                .ok()
                .and_then(|mut handle| handle.take())
                .and_then(|handle| handle.join().ok())
                .unwrap_or_else(|| crate::state::replay(project, None))
        };
        on_models_thread(|| analyze_here(project, source, || Cow::Owned(replayed()), cache))
            .unwrap_or_else(|| {
                // No models thread could be had, or it failed: read here.
                let replay = replayed();
                analyze_here(project, source, || Cow::Borrowed(&replay), cache)
            })
    })
}

/// The [`DjangoPatch`]es of the modules Django imports before it compares:
/// the settings module, each app's package and `apps.py`, and an app's own
/// `makemigrations` command with the project modules it imports (pretix
/// patches Django there).
fn django_patches(
    project: &Project,
    source: &dyn ProjectSource,
    files: &[String],
    base_dir: &str,
) -> Vec<(DjangoPatch, SourceLine)> {
    let listed: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    let mut modules: BTreeSet<String> = project.settings.module_path.iter().cloned().collect();
    let in_app = |dir: &str, file: &str| {
        if dir.is_empty() {
            file.to_owned()
        } else {
            format!("{dir}/{file}")
        }
    };
    for app in &project.discovery.apps {
        for file in ["apps.py", "__init__.py"] {
            let path = in_app(&app.dir, file);
            if listed.contains(path.as_str()) {
                modules.insert(path);
            }
        }
        let command = in_app(&app.dir, "management/commands/makemigrations.py");
        if !listed.contains(command.as_str()) {
            continue;
        }
        if let Ok(bytes) = source.read(&command) {
            let package = in_app(&app.dir, "management/commands")
                .strip_prefix(base_dir)
                .map(|p| p.trim_start_matches('/'))
                .unwrap_or_default()
                .replace('/', ".");
            for dotted in module_facts::imported_modules(&bytes, &package) {
                let dir = in_app(base_dir, &dotted.replace('.', "/"));
                for path in [format!("{dir}.py"), format!("{dir}/__init__.py")] {
                    if listed.contains(path.as_str()) {
                        modules.insert(path);
                    }
                }
            }
        }
        modules.insert(command);
    }
    let mut out = Vec::new();
    for path in modules {
        let Ok(bytes) = source.read(&path) else {
            continue;
        };
        for (patch, line) in module_facts::django_patches(&bytes) {
            out.push((
                patch,
                SourceLine {
                    path: path.clone(),
                    line,
                    column: 1,
                },
            ));
        }
    }
    out
}

/// Run `read` on a thread with a large stack: syntax trees of hostile
/// modules can be deep, so they are read there, as the migration parser
/// does. `None` when no thread can be had.
fn on_models_thread<T: Send>(read: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("migguard-models".into())
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(scope, read)
            .ok()
            .and_then(|handle| handle.join().ok())
    })
}

fn analyze_here<'r>(
    project: &Project,
    source: &dyn ProjectSource,
    replay: impl FnOnce() -> Cow<'r, StateReplay>,
    cache: Option<&dyn ParseCache>,
) -> Analysis {
    // The project read from this source has listed it already.
    let listed;
    let files: &[String] = if project.files.is_empty() {
        listed = source.list().unwrap_or_default();
        &listed
    } else {
        &project.files
    };
    let base_dir = project
        .settings
        .manage_py
        .as_deref()
        .and_then(|p| p.rsplit_once('/').map(|(d, _)| d.to_owned()))
        .unwrap_or_default();
    let roots = project.settings.roots();
    let index = ModuleIndex::new(source, files, &roots)
        .with_cache(cache)
        .with_libraries(&project.settings.site_packages);
    let env = Env::new(index, &project.settings);
    let mut analysis = Analysis::default();
    let apps = build::AppTable::new(project, &env, &roots);
    build::analyze(&env, &apps, project, replay, &mut analysis);
    analysis.patches = django_patches(project, source, files, &base_dir);
    analysis.unresolved.sort_by(|a, b| {
        (&a.location.path, a.location.line, &a.reason).cmp(&(
            &b.location.path,
            b.location.line,
            &b.reason,
        ))
    });
    analysis.unresolved.dedup();
    analysis
}
