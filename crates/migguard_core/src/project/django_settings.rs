//! The project's Django settings, read statically: which module, and the
//! values migguard needs (`INSTALLED_APPS`, `AUTH_USER_MODEL`, `DATABASES`).

use std::collections::{BTreeSet, HashMap};

use crate::config::Settings;
use crate::model::Value;
use crate::parse::module_facts;
use crate::source::ProjectSource;

/// What migguard knows of `settings.py`.
#[derive(Debug, Clone, Default)]
pub struct DjangoSettings {
    /// The settings module, when found: `config.settings`.
    pub module: Option<String>,
    /// `manage.py`, project-relative, when found.
    pub manage_py: Option<String>,
    /// The file the settings module was read from, when it was found.
    pub module_path: Option<String>,
    /// Top-level assignments of the module, star imports merged in.
    pub values: HashMap<String, Value>,
    /// `AUTH_USER_MODEL`: configuration, else settings, else `auth.User`.
    pub auth_user_model: String,
    /// `AUTH_USER_MODEL` was set in `[tool.migguard]`.
    pub auth_user_model_configured: bool,
    /// Other swappable settings from `[tool.migguard] swappable`.
    pub swappable: HashMap<String, String>,
    /// Where Python imports the project's packages from, project-relative,
    /// in order: `manage.py`'s directory, `[tool.migguard] python-path`, a
    /// `src/` of packages, the project root.
    pub import_roots: Vec<String>,
    /// Libraries' `site-packages` directories (`[tool.migguard]
    /// site-packages`, resolved by the caller).
    pub site_packages: Vec<std::path::PathBuf>,
    /// `[tool.migguard] field-classes`: a project field class's path -> the
    /// Django field class whose deconstruction it shares.
    pub field_classes: HashMap<String, String>,
}

impl DjangoSettings {
    /// The directory of `manage.py`, project-relative (`""` at the root):
    /// the directory Django's imports start from.
    pub fn base_dir(&self) -> String {
        dir_of(self.manage_py.as_deref())
    }

    /// The import roots, `manage.py`'s directory first (see
    /// [`DjangoSettings::import_roots`]); never empty.
    pub fn roots(&self) -> Vec<String> {
        if self.import_roots.is_empty() {
            vec![self.base_dir()]
        } else {
            self.import_roots.clone()
        }
    }

    /// The model a swappable setting names (`AUTH_USER_MODEL` ->
    /// `accounts.User`).
    pub fn swappable(&self, setting: &str) -> Option<String> {
        if setting == "AUTH_USER_MODEL" {
            return Some(self.auth_user_model.clone());
        }
        self.swappable.get(setting).cloned().or_else(|| {
            self.values
                .get(setting)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    }

    pub fn read(
        files: &[String],
        source: &dyn ProjectSource,
        settings: &Settings,
    ) -> DjangoSettings {
        let listed: BTreeSet<&str> = files.iter().map(String::as_str).collect();
        let options = &settings.options;
        let manage_py = match &options.manage_py {
            Some(path) => Some(path.clone()),
            None => files
                .iter()
                .filter(|p| p.rsplit('/').next() == Some("manage.py"))
                .min_by_key(|p| p.matches('/').count())
                .cloned(),
        };
        let base_dir = dir_of(manage_py.as_deref());
        let module = options.settings.clone().or_else(|| {
            let path = manage_py.as_deref()?;
            module_facts::manage_py_settings(&source.read(path).ok()?)
        });
        let mut values = HashMap::new();
        let module_path = module
            .as_deref()
            .and_then(|module| collect(module, &base_dir, &listed, source, &mut values, 0));
        let auth_user_model = options
            .auth_user_model
            .clone()
            .or_else(|| {
                values
                    .get("AUTH_USER_MODEL")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "auth.User".to_owned());
        let mut import_roots = vec![base_dir.clone()];
        let src_layout = files.iter().any(|f| {
            f.strip_prefix("src/")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(_, file)| file == "__init__.py")
        });
        for root in options
            .python_path
            .iter()
            .map(|r| r.trim_matches('/').to_owned())
            .chain(src_layout.then(|| "src".to_owned()))
            .chain([String::new()])
        {
            if !import_roots.contains(&root) {
                import_roots.push(root);
            }
        }
        DjangoSettings {
            module,
            manage_py,
            module_path,
            values,
            import_roots,
            site_packages: options.site_packages.iter().map(Into::into).collect(),
            field_classes: options
                .field_classes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            auth_user_model_configured: options.auth_user_model.is_some(),
            auth_user_model,
            swappable: options
                .swappable
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// Run a module's top-level statements that migguard follows into
/// `values`, as importing it would. Returns the file read, when the module
/// was found and parsed.
fn collect(
    module: &str,
    base_dir: &str,
    listed: &BTreeSet<&str>,
    source: &dyn ProjectSource,
    values: &mut HashMap<String, Value>,
    depth: u32,
) -> Option<String> {
    if depth > 4 {
        return None;
    }
    let rel = module.replace('.', "/");
    let join = |p: String| {
        if base_dir.is_empty() {
            p
        } else {
            format!("{base_dir}/{p}")
        }
    };
    let candidates = [
        (
            join(format!("{rel}.py")),
            module.rsplit_once('.').map_or("", |(p, _)| p).to_owned(),
        ),
        (join(format!("{rel}/__init__.py")), module.to_owned()),
    ];
    for (path, package) in candidates {
        if !listed.contains(path.as_str()) {
            continue;
        }
        let Ok(bytes) = source.read(&path) else {
            continue;
        };
        let Some(parsed) = module_facts::settings_module(&bytes, &package) else {
            continue;
        };
        // Statements in order: a star import's values land where the
        // import is, so `INSTALLED_APPS += [...]` after it extends them.
        parsed.apply(values, &mut |star, values| {
            collect(star, base_dir, listed, source, values, depth + 1);
        });
        return Some(path);
    }
    None
}

/// The directory of `manage.py` in the project (`""` at the top): where
/// Django's `BASE_DIR` usually points.
fn dir_of(manage_py: Option<&str>) -> String {
    manage_py
        .and_then(|p| p.rsplit_once('/').map(|(d, _)| d.to_owned()))
        .unwrap_or_default()
}
