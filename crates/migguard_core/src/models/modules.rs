//! The project's Python modules by dotted name, read on demand, and the
//! lookup of a dotted path through them (imports, star imports, class
//! attributes), the way Python's import system would find it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

use super::builtin;
use crate::model::Value;
use crate::parse::models::{read_module, BindingKind, ModuleError, PyClass, PyModule};
use crate::project::{module_cache_key, ModuleRead, ParseCache};
use crate::source::{blob_id, ProjectSource};

/// Import cycles and chains of re-exports longer than this are not followed.
const MAX_LOOKUP_DEPTH: u32 = 24;

/// A class defined in a module: `(module, qualname)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId {
    pub module: String,
    pub qualname: String,
}

impl ClassId {
    /// `blog.models.Post`, the path Django's writer would use.
    pub fn path(&self) -> String {
        if self.module.is_empty() {
            self.qualname.clone()
        } else {
            format!("{}.{}", self.module, self.qualname)
        }
    }

    pub fn name(&self) -> &str {
        self.qualname.rsplit('.').next().unwrap_or(&self.qualname)
    }
}

/// What a dotted path names.
#[derive(Debug, Clone, PartialEq)]
pub enum Symbol {
    Module(String),
    Class(ClassId),
    /// The value bound to a name, unevaluated.
    Value(Value),
    /// A function of a project module, by its path.
    Function(String),
    /// An attribute of a class beyond what a binding says (`Status.DRAFT`,
    /// `Status.choices`, an inherited constant): the evaluator decides.
    ClassAttr(ClassId, Vec<String>),
    /// A path outside the project (Django, the standard library, a
    /// third-party package), as written.
    External(String),
    /// Inside a project module, but not found there.
    Missing(String),
}

/// One module file of the project.
#[derive(Debug, Clone)]
struct ModuleFile {
    path: String,
    /// The package relative imports start from.
    package: String,
}

/// Python builtins that may appear as values (`default=dict`).
const BUILTINS: &[&str] = &[
    "dict",
    "list",
    "set",
    "tuple",
    "str",
    "int",
    "float",
    "bool",
    "bytes",
    "object",
    "frozenset",
    "len",
    "range",
    "True",
    "False",
    "None",
    "type",
    "property",
    "staticmethod",
    "classmethod",
    "getattr",
];

pub struct ModuleIndex<'s> {
    source: &'s dyn ProjectSource,
    /// Where modules read earlier are kept (by content), when there is one.
    cache: Option<&'s dyn ParseCache>,
    files: BTreeMap<String, ModuleFile>,
    parsed: RefCell<HashMap<String, Rc<Result<PyModule, ModuleError>>>>,
    /// What each dotted path looked up so far names: the same paths
    /// (`models.CharField`, a constants module) come up for every field.
    lookups: RefCell<HashMap<String, Symbol>>,
    /// Installed libraries (a virtualenv's `site-packages`): top-level
    /// package name -> the directory holding it.
    libraries: HashMap<String, PathBuf>,
    /// Library modules found so far: dotted name -> (file, package).
    library_files: RefCell<HashMap<String, Option<(PathBuf, String)>>>,
}

impl<'s> ModuleIndex<'s> {
    /// Index every `.py` file under the project root, named from the root
    /// and from each import root (`manage.py`'s directory, which Django
    /// puts on `sys.path`, a `src/`): a name an earlier root gives wins.
    pub fn new(
        source: &'s dyn ProjectSource,
        files: &[String],
        roots: &[String],
    ) -> ModuleIndex<'s> {
        let mut out = BTreeMap::new();
        let mut prefixes = vec![String::new()];
        // Later roots first, so that the first root's names are inserted last.
        for root in roots.iter().rev() {
            if !root.is_empty() {
                prefixes.push(format!("{root}/"));
            }
        }
        for root in &prefixes {
            for path in files {
                let Some(rel) = path.strip_prefix(root.as_str()) else {
                    continue;
                };
                let Some(stem) = rel.strip_suffix(".py") else {
                    continue;
                };
                let (name, package) = match stem
                    .strip_suffix("/__init__")
                    .or(if stem == "__init__" { Some("") } else { None })
                {
                    Some(pkg) => {
                        let dotted = pkg.replace('/', ".");
                        (dotted.clone(), dotted)
                    }
                    None => {
                        let dotted = stem.replace('/', ".");
                        let package = dotted.rsplit_once('.').map_or("", |(p, _)| p).to_owned();
                        (dotted, package)
                    }
                };
                if name.is_empty() || !name.split('.').all(is_identifier) {
                    continue;
                }
                out.insert(
                    name,
                    ModuleFile {
                        path: path.clone(),
                        package,
                    },
                );
            }
        }
        ModuleIndex {
            source,
            cache: None,
            files: out,
            parsed: RefCell::new(HashMap::new()),
            lookups: RefCell::new(HashMap::new()),
            libraries: HashMap::new(),
            library_files: RefCell::new(HashMap::new()),
        }
    }

    /// Read installed libraries' modules from these `site-packages`
    /// directories (the first holding a package wins), as the project's
    /// own are read: a model or field class of a library is then known.
    /// Django itself is never read from there: migguard carries what it
    /// knows of Django.
    pub fn with_libraries(mut self, dirs: &[PathBuf]) -> Self {
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = entry.path();
                let top = if path.join("__init__.py").is_file() {
                    name
                } else if let Some(stem) = name.strip_suffix(".py") {
                    stem.to_owned()
                } else {
                    continue;
                };
                if top == "django" || !is_identifier(&top) {
                    continue;
                }
                self.libraries.entry(top).or_insert_with(|| dir.clone());
            }
        }
        self
    }

    /// The file of a library module, when one of the libraries has it.
    fn library_file(&self, name: &str) -> Option<(PathBuf, String)> {
        if self.libraries.is_empty() {
            return None;
        }
        if let Some(hit) = self.library_files.borrow().get(name) {
            return hit.clone();
        }
        let top = name.split('.').next().unwrap_or(name);
        let found = self.libraries.get(top).and_then(|dir| {
            if !name.split('.').all(is_identifier) {
                return None;
            }
            let rel: PathBuf = name.split('.').collect();
            let package = rel.join("__init__.py");
            let package = dir.join(package);
            if package.is_file() {
                return Some((package, name.to_owned()));
            }
            let file = dir.join(rel.with_extension("py"));
            file.is_file().then(|| {
                (
                    file,
                    name.rsplit_once('.').map_or("", |(p, _)| p).to_owned(),
                )
            })
        });
        self.library_files
            .borrow_mut()
            .insert(name.to_owned(), found.clone());
        found
    }

    /// Keep and find modules read in `cache`.
    pub fn with_cache(mut self, cache: Option<&'s dyn ParseCache>) -> Self {
        self.cache = cache;
        self
    }

    /// The bytes of a project module's file, when it is one.
    pub fn bytes_of(&self, name: &str) -> Option<(Vec<u8>, String)> {
        let file = self.files.get(name)?;
        let bytes = self.source.read(&file.path).ok()?;
        Some((bytes, file.package.clone()))
    }

    /// Read a project file as a module, through the cache (keyed by the
    /// file's content id, or the id of its bytes) when there is one.
    fn read_file(&self, file: &ModuleFile, name: &str) -> ModuleRead {
        let bytes = match self.source.read(&file.path) {
            Ok(bytes) => bytes,
            Err(err) => {
                return Err(ModuleError {
                    line: 1,
                    column: 1,
                    message: err.to_string(),
                })
            }
        };
        let id = self.source.content_id(&file.path);
        self.read_cached(&bytes, id, name, &file.package)
    }

    /// `read_module` through the cache when there is one, keyed by the
    /// content id (else the id of the bytes), the name and the package.
    fn read_cached(
        &self,
        bytes: &[u8],
        id: Option<String>,
        name: &str,
        package: &str,
    ) -> ModuleRead {
        let Some(cache) = self.cache else {
            return read_module(bytes, name, package);
        };
        let id = id.unwrap_or_else(|| blob_id(bytes));
        let key = module_cache_key(&id, name, package);
        if let Some(hit) = cache.get_module(&key) {
            return hit;
        }
        let read = read_module(bytes, name, package);
        cache.put_module(&key, &read);
        read
    }

    /// True when a module of this name is in the project (or is one of the
    /// Django modules migguard carries a model of).
    pub fn has_module(&self, name: &str) -> bool {
        self.files.contains_key(name)
            || builtin::source(name).is_some()
            || self.library_file(name).is_some()
    }

    /// The project-relative file of a module (`None` for Django's own).
    pub fn file_of(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(|f| f.path.as_str())
    }

    /// Read a module (cached). `None` when there is no such module.
    pub fn module(&self, name: &str) -> Option<Rc<Result<PyModule, ModuleError>>> {
        if let Some(hit) = self.parsed.borrow().get(name) {
            return Some(hit.clone());
        }
        let result = if let Some(file) = self.files.get(name) {
            self.read_file(file, name)
        } else if let Some(text) = builtin::source(name) {
            read_module(
                text.as_bytes(),
                name,
                name.rsplit_once('.').map_or("", |(p, _)| p),
            )
        } else if let Some((path, package)) = self.library_file(name) {
            // Libraries change only on an upgrade: parsed once, then read
            // from the cache like the project's files.
            match std::fs::read(&path) {
                Ok(bytes) => self.read_cached(&bytes, None, name, &package),
                Err(err) => Err(ModuleError {
                    line: 1,
                    column: 1,
                    message: format!("{}: {err}", path.display()),
                }),
            }
        } else {
            return None;
        };
        let result = Rc::new(result);
        self.parsed
            .borrow_mut()
            .insert(name.to_owned(), result.clone());
        Some(result)
    }

    /// A class by id, when its module reads.
    pub fn class(&self, id: &ClassId) -> Option<Rc<PyClass>> {
        let module = self.module(&id.module)?;
        let module = module.as_ref().as_ref().ok()?;
        let mut parts = id.qualname.split('.');
        let first = parts.next()?;
        let mut class: &PyClass = match &module.binding(first)?.kind {
            BindingKind::Class(c) => c,
            _ => return None,
        };
        for part in parts {
            class = class.nested(part)?;
        }
        Some(Rc::new(class.clone()))
    }

    /// Whether `from MODULE import *` binds `name`: the names of a literal
    /// `__all__`, else every name not starting with `_`. A computed
    /// `__all__` (`base.__all__ + [...]`) is taken to export it.
    fn star_exports(&self, module: &str, name: &str) -> bool {
        let all = self.module(module).and_then(|m| match m.as_ref() {
            Ok(m) => m.binding("__all__").map(|b| b.kind.clone()),
            Err(_) => None,
        });
        match all {
            Some(BindingKind::Value(Value::List(names) | Value::Tuple(names))) => {
                if names.iter().all(|n| matches!(n, Value::Str(_))) {
                    names
                        .iter()
                        .any(|n| matches!(n, Value::Str(s) if s == name))
                } else {
                    true
                }
            }
            Some(_) => true,
            None => !name.starts_with('_'),
        }
    }

    /// What a dotted path names.
    pub fn lookup(&self, path: &str) -> Symbol {
        if let Some(hit) = self.lookups.borrow().get(path) {
            return hit.clone();
        }
        let found = self.lookup_at(path, 0);
        self.lookups
            .borrow_mut()
            .insert(path.to_owned(), found.clone());
        found
    }

    fn lookup_at(&self, path: &str, depth: u32) -> Symbol {
        if depth > MAX_LOOKUP_DEPTH {
            return Symbol::Missing(path.to_owned());
        }
        let parts: Vec<&str> = path.split('.').collect();
        let Some(split) = (1..=parts.len())
            .rev()
            .find(|&k| self.has_module(&parts[..k].join(".")))
        else {
            return Symbol::External(path.to_owned());
        };
        let module_name = parts[..split].join(".");
        let rest = &parts[split..];
        if rest.is_empty() {
            return Symbol::Module(module_name);
        }
        let Some(module) = self.module(&module_name) else {
            return Symbol::Missing(path.to_owned());
        };
        let Ok(module) = module.as_ref() else {
            return Symbol::Missing(path.to_owned());
        };
        let name = rest[0];
        let tail = &rest[1..];
        let Some(binding) = module.binding(name) else {
            // Star imports, last first (a later import shadows an earlier one).
            for star in module.star_imports.iter().rev() {
                let candidate = format!("{star}.{}", rest.join("."));
                if self.has_module_prefix(star) {
                    if !self.star_exports(star, name) {
                        continue;
                    }
                    match self.lookup_at(&candidate, depth + 1) {
                        Symbol::Missing(_) => continue,
                        found => return found,
                    }
                } else if star == "django.db.models" && builtin::is_models_export(name) {
                    return Symbol::External(candidate);
                }
            }
            if tail.is_empty() && BUILTINS.contains(&name) {
                return Symbol::External(name.to_owned());
            }
            return Symbol::Missing(path.to_owned());
        };
        match &binding.kind {
            BindingKind::Import(target) => {
                let full = if tail.is_empty() {
                    target.clone()
                } else {
                    format!("{target}.{}", tail.join("."))
                };
                if full == path {
                    return Symbol::Missing(path.to_owned());
                }
                self.lookup_at(&full, depth + 1)
            }
            BindingKind::Class(class) => {
                let id = ClassId {
                    module: module_name.clone(),
                    qualname: class.name.clone(),
                };
                self.class_member(id, class, tail)
            }
            BindingKind::Function => {
                if tail.is_empty() {
                    Symbol::Function(format!("{module_name}.{name}"))
                } else {
                    Symbol::Missing(path.to_owned())
                }
            }
            BindingKind::Value(value) => {
                if tail.is_empty() {
                    Symbol::Value(value.clone())
                } else {
                    Symbol::Missing(path.to_owned())
                }
            }
        }
    }

    /// A path below a class: nested classes and the class's own bindings;
    /// anything else is left to the evaluator.
    fn class_member(&self, id: ClassId, class: &PyClass, tail: &[&str]) -> Symbol {
        let Some((first, rest)) = tail.split_first() else {
            return Symbol::Class(id);
        };
        match class.binding(first).map(|b| &b.kind) {
            Some(BindingKind::Class(nested)) => {
                let nested_id = ClassId {
                    module: id.module.clone(),
                    qualname: format!("{}.{}", id.qualname, nested.name),
                };
                self.class_member(nested_id, nested, rest)
            }
            Some(BindingKind::Function) if rest.is_empty() => {
                Symbol::Function(format!("{}.{first}", id.path()))
            }
            _ => Symbol::ClassAttr(id, tail.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    fn has_module_prefix(&self, name: &str) -> bool {
        let parts: Vec<&str> = name.split('.').collect();
        (1..=parts.len()).any(|k| self.has_module(&parts[..k].join(".")))
    }
}

fn is_identifier(part: &str) -> bool {
    let mut chars = part.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    #[test]
    fn follows_imports_star_imports_and_class_members() {
        let source = MemorySource::new("t")
            .with("core/__init__.py", "")
            .with("core/models/__init__.py", "from .base import *\nfrom .consts import MAX as LIMIT\n")
            .with("core/models/base.py", "from django.db import models\nclass Stamped(models.Model):\n    class Meta:\n        abstract = True\n")
            .with("core/models/consts.py", "MAX = 10\n");
        let files = source.list().unwrap();
        let index = ModuleIndex::new(&source, &files, &[]);
        assert_eq!(
            index.lookup("core.models.Stamped"),
            Symbol::Class(ClassId {
                module: "core.models.base".into(),
                qualname: "Stamped".into()
            })
        );
        assert_eq!(
            index.lookup("core.models.LIMIT"),
            Symbol::Value(Value::Int(10))
        );
        assert!(
            matches!(index.lookup("core.models.Stamped.Meta"), Symbol::Class(c) if c.qualname == "Stamped.Meta")
        );
        assert!(matches!(
            index.lookup("core.models.Nope"),
            Symbol::Missing(_)
        ));
        assert_eq!(
            index.lookup("uuid.uuid4"),
            Symbol::External("uuid.uuid4".into())
        );
        assert!(matches!(
            index.lookup("django.contrib.auth.models.AbstractUser"),
            Symbol::Class(_)
        ));
    }

    #[test]
    fn a_star_import_binds_only_what_all_lists() {
        // sentry: `from .base import *` after `from django.db.models import *`
        // must not hide Django's names that `base.__all__` leaves out, and
        // `base.Model` wins where `__all__` lists it.
        let source = MemorySource::new("t")
            .with("core/__init__.py", "")
            .with(
                "core/models/__init__.py",
                "from .fields import *\nfrom .base import *\nfrom .private import *\n",
            )
            .with(
                "core/models/fields.py",
                "from django.db import models\nclass Field(models.Field):\n    pass\nclass Model(models.Model):\n    pass\n",
            )
            .with(
                "core/models/base.py",
                "from django.db import models\n__all__ = ['Model']\nclass Model(models.Model):\n    class Meta:\n        abstract = True\nclass Field(models.Field):\n    pass\n",
            )
            .with("core/models/private.py", "_HIDDEN = 1\nMODEL = 2\n");
        let files = source.list().unwrap();
        let index = ModuleIndex::new(&source, &files, &[]);
        let class = |module: &str, qualname: &str| {
            Symbol::Class(ClassId {
                module: module.into(),
                qualname: qualname.into(),
            })
        };
        assert_eq!(
            index.lookup("core.models.Model"),
            class("core.models.base", "Model")
        );
        assert_eq!(
            index.lookup("core.models.Field"),
            class("core.models.fields", "Field")
        );
        assert_eq!(
            index.lookup("core.models.MODEL"),
            Symbol::Value(Value::Int(2))
        );
        assert!(matches!(
            index.lookup("core.models._HIDDEN"),
            Symbol::Missing(_)
        ));
    }
}
