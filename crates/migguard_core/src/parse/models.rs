//! Ordinary Python modules (`models.py`, the modules it imports, `apps.py`)
//! read for what the static autodetector needs: module-level bindings,
//! classes with their bases, attributes and nested classes, and the
//! statements that could change models at import time.
//!
//! Names in values are resolved as Python would at the point they are
//! read: through the module's imports, to the module's own definitions
//! (`blog.models.Post`), or to an earlier attribute of the class body being
//! read (`blog.models.Post.STATUS_CHOICES`). Operators become calls of the
//! `operator` module (`~Q(a=1)` is `operator.invert(Q(a=1))`), a method
//! called on something that is not a dotted name becomes a `$method.<name>`
//! call whose first argument is the receiver, and anything else is kept as
//! [`Value::Expr`]. Nothing here evaluates: `crate::models` does.

use std::collections::HashSet;

use rustpython_parser::ast::{self, Constant, Expr, Ranged, Stmt};
use serde::{Deserialize, Serialize};

use super::imports::{resolve_relative, ImportMap};
use super::value::ValueReader;
use crate::model::{Call, Ref, Value};
use crate::source::{decode_python, LineIndex};

/// Larger modules are not read (see `parse::FORGET_TREE_ABOVE`).
const MAX_MODULE_BYTES: usize = 2 * 1024 * 1024;
/// Deeper expressions are kept as source text.
const MAX_DEPTH: u32 = 64;
/// Nested classes deeper than this are not read.
const MAX_CLASS_DEPTH: u32 = 8;

/// One module, as far as it is statically known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PyModule {
    /// Dotted module name (`blog.models`).
    pub name: String,
    /// Module-level bindings in source order; the last one of a name wins.
    pub bindings: Vec<Binding>,
    /// Modules star-imported (`from .base import *`), resolved.
    pub star_imports: Vec<String>,
    /// Module-level statements that may change models at import time
    /// (`Post.add_to_class(...)`, `setattr(...)`).
    pub dynamic: Vec<Note>,
}

/// A name bound in a module or a class body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub name: String,
    pub kind: BindingKind,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BindingKind {
    /// `NAME = <expr>` (or `NAME: T = <expr>`).
    Value(Value),
    /// `class NAME(...)`.
    Class(Box<PyClass>),
    /// `def NAME(...)`.
    Function,
    /// `import x` / `from x import y`: the dotted path the name stands for.
    Import(String),
}

/// A class statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PyClass {
    pub name: String,
    /// `Post`, `Post.Meta`.
    pub qualname: String,
    pub bases: Vec<Value>,
    /// Class keywords other than bases (`metaclass=...`).
    pub keywords: Vec<(String, Value)>,
    /// Attributes, methods and nested classes, in source order.
    pub body: Vec<Binding>,
    /// Statements of the body that are not plain definitions
    /// (`if DEBUG: ...`, `locals()[...] = ...`).
    pub dynamic: Vec<Note>,
    /// The module-level condition migguard cannot evaluate that the class
    /// statement is under (`if settings.X:`), if any: it may not run.
    #[serde(default)]
    pub conditional: Option<Note>,
    /// A `contribute_to_class` here adds the field privately (passes
    /// `private_only=True`) or not at all (never calls the parent's): the
    /// field is no column, and no migration has it.
    #[serde(default)]
    pub contributes_privately: bool,
    pub line: u32,
    pub column: u32,
}

/// A statement that cannot be read statically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub line: u32,
    pub column: u32,
    pub what: String,
}

impl PyModule {
    /// The last binding of a name at module level.
    pub fn binding(&self, name: &str) -> Option<&Binding> {
        self.bindings.iter().rev().find(|b| b.name == name)
    }
}

impl PyClass {
    /// The last binding of a name in the class body.
    pub fn binding(&self, name: &str) -> Option<&Binding> {
        self.body.iter().rev().find(|b| b.name == name)
    }

    /// A nested class by name (`Meta`).
    pub fn nested(&self, name: &str) -> Option<&PyClass> {
        match &self.binding(name)?.kind {
            BindingKind::Class(class) => Some(class),
            _ => None,
        }
    }

    pub fn has_method(&self, name: &str) -> bool {
        self.body
            .iter()
            .any(|b| b.name == name && matches!(b.kind, BindingKind::Function))
    }
}

/// Why a module could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Read a module. `name` is its dotted name, `package` the package relative
/// imports start from (`blog` for `blog/models.py`, `blog.models` for
/// `blog/models/__init__.py`).
pub fn read_module(bytes: &[u8], name: &str, package: &str) -> Result<PyModule, ModuleError> {
    let text = decode_python(bytes).map_err(|err| ModuleError {
        line: err.line,
        column: 1,
        message: format!("cannot read the file as Python source: {}", err.message),
    })?;
    if text.len() > MAX_MODULE_BYTES {
        return Err(ModuleError {
            line: 1,
            column: 1,
            message: "the module is too large to be read".to_owned(),
        });
    }
    let lines = LineIndex::new(&text);
    if let Some(offset) = super::nesting::too_deep(&text) {
        let (line, column) = lines.location(&text, offset as u32);
        return Err(ModuleError {
            line,
            column,
            message: "too many nested parentheses".to_owned(),
        });
    }
    let body = super::syntax::parse_suite(&text, name).map_err(|err| {
        let (line, column) = lines.location(&text, u32::from(err.offset));
        ModuleError {
            line,
            column,
            message: err.error.to_string(),
        }
    })?;
    let imports = ImportMap::collect(&body, package);
    let mut imported = HashSet::new();
    collect_imported_names(&body, &mut imported);
    let mut reader = ModuleReader {
        module: name,
        package,
        text: &text,
        lines: &lines,
        imports: &imports,
        imported: &imported,
    };
    let mut module = PyModule {
        name: name.to_owned(),
        ..PyModule::default()
    };
    reader.read_statements(&body, None, &mut module);
    if text.len() > 512 * 1024 {
        // Dropping a pathologically deep tree recurses once per level.
        std::mem::forget(body);
    }
    Ok(module)
}

/// The value of a module-level `if` test when it is known statically:
/// `TYPE_CHECKING` is false at run time, literals are what they are.
fn static_condition(test: &Expr) -> Option<bool> {
    match test {
        Expr::Constant(c) => match &c.value {
            Constant::Bool(b) => Some(*b),
            Constant::None => Some(false),
            Constant::Int(i) => Some(i.to_string() != "0"),
            _ => None,
        },
        Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::Not) => {
            static_condition(&u.operand).map(|b| !b)
        }
        Expr::Name(_) | Expr::Attribute(_) => match ValueReader::dotted(test).as_deref() {
            Some("TYPE_CHECKING" | "typing.TYPE_CHECKING" | "t.TYPE_CHECKING") => Some(false),
            _ => None,
        },
        // django-oscar's `if not is_model_registered("app", "Model"):`
        // defines the model unless a fork of the app registered its own
        // first; that fork is then the installed app, whose modules define
        // the model unconditionally. For the app that holds this module
        // the model is not registered yet.
        Expr::Call(call)
            if ValueReader::dotted(&call.func).is_some_and(|f| {
                f == "is_model_registered" || f.ends_with(".is_model_registered")
            }) =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// Whether an `except` clause catches a failed import.
fn handles_import_error(kind: Option<&Expr>) -> bool {
    let is_import = |e: &Expr| {
        matches!(
            ValueReader::dotted(e).as_deref(),
            Some("ImportError" | "ModuleNotFoundError")
        )
    };
    match kind {
        Some(Expr::Tuple(t)) => !t.elts.is_empty() && t.elts.iter().all(is_import),
        Some(e) => is_import(e),
        None => false,
    }
}

/// Whether a `contribute_to_class` body adds the field privately: every
/// call of the parent's `contribute_to_class(...)` passes `private_only=True`
/// (or the old `virtual_only=True`), or there is none at all.
fn contributes_privately(body: &[Stmt]) -> bool {
    fn calls<'b>(body: &'b [Stmt], out: &mut Vec<&'b ast::ExprCall>) {
        for stmt in body {
            match stmt {
                Stmt::Expr(e) => {
                    if let Expr::Call(call) = &*e.value {
                        if matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "contribute_to_class")
                        {
                            out.push(call);
                        }
                    }
                }
                Stmt::If(s) => {
                    calls(&s.body, out);
                    calls(&s.orelse, out);
                }
                Stmt::With(s) => calls(&s.body, out),
                Stmt::Try(s) => {
                    calls(&s.body, out);
                    calls(&s.orelse, out);
                    calls(&s.finalbody, out);
                }
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    calls(body, &mut found);
    found.iter().all(|call| {
        call.keywords.iter().any(|k| {
            matches!(k.arg.as_deref(), Some("private_only" | "virtual_only"))
                && matches!(&k.value, Expr::Constant(c) if matches!(c.value, Constant::Bool(true)))
        })
    })
}

/// Values bound under a condition that cannot be evaluated are unknown.
fn unsure_values(bindings: &mut [Binding], under: Option<&Note>) {
    let Some(note) = under else { return };
    for binding in bindings {
        if let BindingKind::Value(_) = binding.kind {
            binding.kind = BindingKind::Value(Value::Expr(format!(
                "`{}` as set under {}",
                binding.name, note.what
            )));
        }
    }
}

/// Names bound by imports, at module level or inside `if`/`try`.
fn collect_imported_names(body: &[Stmt], out: &mut HashSet<String>) {
    for stmt in body {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let local = match &alias.asname {
                        Some(asname) => asname.to_string(),
                        None => alias.name.split('.').next().unwrap_or("").to_owned(),
                    };
                    out.insert(local);
                }
            }
            Stmt::ImportFrom(from) => {
                for alias in &from.names {
                    if alias.name.as_str() != "*" {
                        out.insert(alias.asname.as_ref().unwrap_or(&alias.name).to_string());
                    }
                }
            }
            Stmt::If(s) => {
                collect_imported_names(&s.body, out);
                collect_imported_names(&s.orelse, out);
            }
            Stmt::Try(s) => {
                collect_imported_names(&s.body, out);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    collect_imported_names(&h.body, out);
                }
                collect_imported_names(&s.orelse, out);
                collect_imported_names(&s.finalbody, out);
            }
            _ => {}
        }
    }
}

struct ModuleReader<'a> {
    module: &'a str,
    package: &'a str,
    text: &'a str,
    lines: &'a LineIndex,
    imports: &'a ImportMap,
    imported: &'a HashSet<String>,
}

/// Names visible from a class body besides the module's: earlier
/// attributes of that body, qualified by the class.
struct Scope<'s> {
    qualname: &'s str,
    names: &'s HashSet<String>,
}

impl<'a> ModuleReader<'a> {
    fn position(&self, offset: u32) -> (u32, u32) {
        self.lines.location(self.text, offset)
    }

    fn source(&self, expr: &Expr) -> String {
        let range = expr.range();
        self.text
            .get(usize::from(range.start())..usize::from(range.end()))
            .unwrap_or("")
            .to_owned()
    }

    fn note(&self, offset: u32, what: String) -> Note {
        let (line, column) = self.position(offset);
        Note { line, column, what }
    }

    /// Module-level statements; `under`: the condition they run under when
    /// it cannot be evaluated statically.
    fn read_statements(&mut self, body: &[Stmt], under: Option<&Note>, module: &mut PyModule) {
        for stmt in body {
            let start = u32::from(stmt.range().start());
            let (line, column) = self.position(start);
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let local = match &alias.asname {
                            Some(asname) => asname.to_string(),
                            None => alias.name.split('.').next().unwrap_or("").to_owned(),
                        };
                        let path = self.imports.resolve(&local);
                        module.bindings.push(Binding {
                            name: local,
                            kind: BindingKind::Import(path),
                            line,
                            column,
                        });
                    }
                }
                Stmt::ImportFrom(from) => {
                    for alias in &from.names {
                        if alias.name.as_str() == "*" {
                            let level = from.level.as_ref().map_or(0, |l| l.to_u32());
                            let name = from.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                            module
                                .star_imports
                                .push(resolve_relative(self.package, level, name));
                            continue;
                        }
                        let local = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                        let path = self.imports.resolve(&local);
                        module.bindings.push(Binding {
                            name: local,
                            kind: BindingKind::Import(path),
                            line,
                            column,
                        });
                    }
                }
                Stmt::ClassDef(class) => {
                    let mut class = self.read_class(class, "", 0);
                    class.conditional = under.cloned();
                    module.bindings.push(Binding {
                        name: class.name.clone(),
                        kind: BindingKind::Class(Box::new(class)),
                        line,
                        column,
                    });
                }
                Stmt::FunctionDef(f) => module.bindings.push(Binding {
                    name: f.name.to_string(),
                    kind: BindingKind::Function,
                    line,
                    column,
                }),
                Stmt::AsyncFunctionDef(f) => module.bindings.push(Binding {
                    name: f.name.to_string(),
                    kind: BindingKind::Function,
                    line,
                    column,
                }),
                Stmt::Assign(assign) => {
                    let from = module.bindings.len();
                    for target in &assign.targets {
                        self.bind_target(
                            target,
                            &assign.value,
                            None,
                            line,
                            column,
                            &mut module.bindings,
                        );
                    }
                    unsure_values(&mut module.bindings[from..], under);
                }
                Stmt::AnnAssign(ast::StmtAnnAssign {
                    target,
                    value: Some(value),
                    ..
                }) => {
                    let from = module.bindings.len();
                    self.bind_target(target, value, None, line, column, &mut module.bindings);
                    unsure_values(&mut module.bindings[from..], under);
                }
                Stmt::If(s) => match (under, static_condition(&s.test)) {
                    (None, Some(true)) => self.read_statements(&s.body, None, module),
                    (None, Some(false)) => self.read_statements(&s.orelse, None, module),
                    _ => {
                        let note = under.cloned().unwrap_or_else(|| {
                            self.note(start, format!("`if {}:`", self.source(&s.test)))
                        });
                        self.read_statements(&s.body, Some(&note), module);
                        self.read_statements(&s.orelse, Some(&note), module);
                    }
                },
                Stmt::Try(s) => {
                    // The `try` body is what normally runs; a handler of a
                    // failed import is the fallback, and another handler
                    // may or may not run.
                    self.read_statements(&s.body, under, module);
                    for handler in &s.handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = handler;
                        if handles_import_error(h.type_.as_deref()) {
                            continue;
                        }
                        let note = under.cloned().unwrap_or_else(|| {
                            self.note(u32::from(h.range.start()), "an `except` handler".to_owned())
                        });
                        self.read_statements(&h.body, Some(&note), module);
                    }
                    self.read_statements(&s.orelse, under, module);
                    self.read_statements(&s.finalbody, under, module);
                }
                Stmt::Expr(e) => {
                    if let Some(what) = self.dynamic_call(&e.value) {
                        module.dynamic.push(self.note(start, what));
                    }
                }
                Stmt::For(ast::StmtFor { body, orelse, .. })
                | Stmt::While(ast::StmtWhile { body, orelse, .. })
                    if contains_dynamic(body) || contains_dynamic(orelse) =>
                {
                    module.dynamic.push(self.note(
                        start,
                        "a loop defines classes or sets attributes".to_owned(),
                    ));
                }
                _ => {}
            }
        }
    }

    /// `X.add_to_class(...)`, `X.contribute_to_class(...)`, `setattr(...)`.
    fn dynamic_call(&self, expr: &Expr) -> Option<String> {
        let Expr::Call(call) = expr else { return None };
        let callee = ValueReader::dotted(&call.func)?;
        let last = callee.rsplit('.').next().unwrap_or(&callee);
        matches!(last, "add_to_class" | "contribute_to_class" | "setattr")
            .then(|| format!("`{}(...)` changes a class at import time", callee))
    }

    fn bind_target(
        &self,
        target: &Expr,
        value: &Expr,
        scope: Option<&Scope<'_>>,
        line: u32,
        column: u32,
        out: &mut Vec<Binding>,
    ) {
        match target {
            Expr::Name(n) => out.push(Binding {
                name: n.id.to_string(),
                kind: BindingKind::Value(self.read(value, scope)),
                line,
                column,
            }),
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let values = match value {
                    Expr::Tuple(t) if t.elts.len() == elts.len() => Some(&t.elts),
                    Expr::List(l) if l.elts.len() == elts.len() => Some(&l.elts),
                    _ => None,
                };
                for (i, element) in elts.iter().enumerate() {
                    match values {
                        Some(values) => {
                            self.bind_target(element, &values[i], scope, line, column, out)
                        }
                        None => {
                            if let Expr::Name(n) = element {
                                out.push(Binding {
                                    name: n.id.to_string(),
                                    kind: BindingKind::Value(Value::Expr(self.source(value))),
                                    line,
                                    column,
                                });
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn read_class(&mut self, class: &ast::StmtClassDef, outer: &str, depth: u32) -> PyClass {
        let start = u32::from(class.range.start());
        let (line, column) = self.position(start);
        let qualname = if outer.is_empty() {
            class.name.to_string()
        } else {
            format!("{outer}.{}", class.name)
        };
        let mut out = PyClass {
            name: class.name.to_string(),
            qualname: qualname.clone(),
            // Bases and keywords are evaluated in the enclosing scope; a
            // nested class sees the module's names only (class bodies do
            // not nest scopes).
            bases: class.bases.iter().map(|b| self.read(b, None)).collect(),
            keywords: class
                .keywords
                .iter()
                .map(|k| {
                    let name = k
                        .arg
                        .as_ref()
                        .map_or_else(|| "**".to_owned(), |a| a.to_string());
                    (name, self.read(&k.value, None))
                })
                .collect(),
            body: Vec::new(),
            dynamic: Vec::new(),
            conditional: None,
            contributes_privately: false,
            line,
            column,
        };
        let mut names: HashSet<String> = HashSet::new();
        // Methods defined so far: `get_preview.short_description = _(...)`
        // sets an attribute of the function (for the admin), nothing of
        // the model's state.
        let mut functions: HashSet<String> = HashSet::new();
        for stmt in &class.body {
            let start = u32::from(stmt.range().start());
            let (line, column) = self.position(start);
            let scope = Scope {
                qualname: &qualname,
                names: &names,
            };
            let mut bound: Vec<Binding> = Vec::new();
            match stmt {
                Stmt::Assign(assign) => {
                    let plain = assign
                        .targets
                        .iter()
                        .all(|t| matches!(t, Expr::Name(_) | Expr::Tuple(_) | Expr::List(_)));
                    let on_method = |t: &Expr| match t {
                        Expr::Attribute(a) => {
                            matches!(&*a.value, Expr::Name(n) if functions.contains(n.id.as_str()))
                        }
                        _ => false,
                    };
                    if assign.targets.iter().all(on_method) {
                    } else if plain {
                        for target in &assign.targets {
                            self.bind_target(
                                target,
                                &assign.value,
                                Some(&scope),
                                line,
                                column,
                                &mut bound,
                            );
                        }
                    } else {
                        out.dynamic.push(self.note(
                            start,
                            "an assignment to something other than a name".to_owned(),
                        ));
                    }
                }
                Stmt::AnnAssign(a) => match (&*a.target, &a.value) {
                    (Expr::Name(_), Some(value)) => {
                        self.bind_target(&a.target, value, Some(&scope), line, column, &mut bound)
                    }
                    (Expr::Name(_), None) => {}
                    _ => out.dynamic.push(self.note(
                        start,
                        "an assignment to something other than a name".to_owned(),
                    )),
                },
                Stmt::FunctionDef(f) => {
                    if f.name.as_str() == "contribute_to_class" {
                        out.contributes_privately = contributes_privately(&f.body);
                    }
                    bound.push(Binding {
                        name: f.name.to_string(),
                        kind: BindingKind::Function,
                        line,
                        column,
                    })
                }
                Stmt::AsyncFunctionDef(f) => bound.push(Binding {
                    name: f.name.to_string(),
                    kind: BindingKind::Function,
                    line,
                    column,
                }),
                Stmt::ClassDef(nested) => {
                    if depth < MAX_CLASS_DEPTH {
                        let nested = self.read_class(nested, &qualname, depth + 1);
                        bound.push(Binding {
                            name: nested.name.clone(),
                            kind: BindingKind::Class(Box::new(nested)),
                            line,
                            column,
                        });
                    } else {
                        out.dynamic
                            .push(self.note(start, "classes nested too deeply".to_owned()));
                    }
                }
                Stmt::Pass(_) => {}
                // Docstrings and other bare constants.
                Stmt::Expr(e) if matches!(&*e.value, Expr::Constant(_)) => {}
                Stmt::Import(_) | Stmt::ImportFrom(_) => out
                    .dynamic
                    .push(self.note(start, "an import inside the class body".to_owned())),
                _ => out.dynamic.push(self.note(
                    start,
                    format!("a `{}` statement in the class body", statement_name(stmt)),
                )),
            }
            for binding in &bound {
                names.insert(binding.name.clone());
                if matches!(binding.kind, BindingKind::Function) {
                    functions.insert(binding.name.clone());
                } else {
                    functions.remove(&binding.name);
                }
            }
            out.body.extend(bound);
        }
        out
    }

    fn read(&self, expr: &Expr, scope: Option<&Scope<'_>>) -> Value {
        self.read_at(expr, scope, 0)
    }

    /// A dotted name resolved: class scope, then module definitions, then imports.
    fn reference(&self, dotted: &str, scope: Option<&Scope<'_>>) -> Ref {
        let first = dotted.split('.').next().unwrap_or(dotted);
        let rest = dotted.strip_prefix(first).unwrap_or("");
        let path = if let Some(scope) = scope.filter(|s| s.names.contains(first)) {
            format!("{}.{}{rest}", self.qualified(scope.qualname), first)
        } else if self.imported.contains(first) {
            self.imports.resolve(dotted)
        } else {
            // A module definition, or a name from a star import or the
            // builtins: `crate::models` looks it up in the module.
            format!("{}{dotted}", self.module_prefix())
        };
        Ref {
            written: dotted.to_owned(),
            path,
        }
    }

    fn module_prefix(&self) -> String {
        if self.module.is_empty() {
            String::new()
        } else {
            format!("{}.", self.module)
        }
    }

    fn qualified(&self, qualname: &str) -> String {
        format!("{}{qualname}", self.module_prefix())
    }

    fn read_at(&self, expr: &Expr, scope: Option<&Scope<'_>>, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return Value::Expr(self.source(expr));
        }
        let read = |e: &Expr| self.read_at(e, scope, depth + 1);
        let seq = |items: &[Expr]| -> Option<Vec<Value>> {
            if items.iter().any(|e| matches!(e, Expr::Starred(_))) {
                return None;
            }
            Some(items.iter().map(read).collect())
        };
        match expr {
            Expr::Constant(c) => constant(&c.value),
            Expr::List(l) => {
                seq(&l.elts).map_or_else(|| Value::Expr(self.source(expr)), Value::List)
            }
            Expr::Tuple(t) => {
                seq(&t.elts).map_or_else(|| Value::Expr(self.source(expr)), Value::Tuple)
            }
            Expr::Set(s) => seq(&s.elts).map_or_else(|| Value::Expr(self.source(expr)), Value::Set),
            Expr::Dict(d) if d.keys.iter().all(Option::is_some) => Value::Dict(
                d.keys
                    .iter()
                    .zip(&d.values)
                    .map(|(k, v)| (k.as_ref().map_or(Value::None, read), read(v)))
                    .collect(),
            ),
            Expr::Name(_) | Expr::Attribute(_) => match ValueReader::dotted(expr) {
                Some(dotted) => Value::Ref(self.reference(&dotted, scope)),
                None => match expr {
                    // `something().attr`: an attribute of a computed value.
                    Expr::Attribute(attr) => operator_call(
                        &format!("$attr.{}", attr.attr),
                        vec![read(&attr.value)],
                        Vec::new(),
                    ),
                    _ => Value::Expr(self.source(expr)),
                },
            },
            Expr::UnaryOp(u) => {
                let operand = read(&u.operand);
                match u.op {
                    ast::UnaryOp::USub => match operand {
                        Value::Int(i) => i
                            .checked_neg()
                            .map_or(Value::Expr(self.source(expr)), Value::Int),
                        Value::Float(f) => Value::Float(-f),
                        other => operator_call("operator.neg", vec![other], Vec::new()),
                    },
                    ast::UnaryOp::UAdd => operand,
                    ast::UnaryOp::Invert => {
                        operator_call("operator.invert", vec![operand], Vec::new())
                    }
                    ast::UnaryOp::Not => operator_call("operator.not_", vec![operand], Vec::new()),
                }
            }
            Expr::BinOp(b) => {
                let name = match b.op {
                    ast::Operator::Add => "add",
                    ast::Operator::Sub => "sub",
                    ast::Operator::Mult => "mul",
                    ast::Operator::Div => "truediv",
                    ast::Operator::FloorDiv => "floordiv",
                    ast::Operator::Mod => "mod",
                    ast::Operator::Pow => "pow",
                    ast::Operator::BitOr => "or_",
                    ast::Operator::BitAnd => "and_",
                    ast::Operator::BitXor => "xor",
                    _ => return Value::Expr(self.source(expr)),
                };
                operator_call(
                    &format!("operator.{name}"),
                    vec![read(&b.left), read(&b.right)],
                    Vec::new(),
                )
            }
            // f-strings of plain `{value}` parts: `$fstring(parts...)`.
            Expr::JoinedStr(j) => {
                let mut parts = Vec::with_capacity(j.values.len());
                for part in &j.values {
                    match part {
                        Expr::Constant(c) => parts.push(constant(&c.value)),
                        Expr::FormattedValue(f)
                            if f.format_spec.is_none()
                                && matches!(
                                    f.conversion,
                                    ast::ConversionFlag::None | ast::ConversionFlag::Str
                                ) =>
                        {
                            parts.push(read(&f.value))
                        }
                        _ => return Value::Expr(self.source(expr)),
                    }
                }
                operator_call("$fstring", parts, Vec::new())
            }
            Expr::Subscript(s) => operator_call(
                "operator.getitem",
                vec![read(&s.value), read(&s.slice)],
                Vec::new(),
            ),
            Expr::Call(call) => {
                if call.args.iter().any(|a| matches!(a, Expr::Starred(_)))
                    || call.keywords.iter().any(|k| k.arg.is_none())
                {
                    return Value::Expr(self.source(expr));
                }
                let args: Vec<Value> = call.args.iter().map(read).collect();
                let kwargs: Vec<(String, Value)> = call
                    .keywords
                    .iter()
                    .filter_map(|k| Some((k.arg.as_ref()?.to_string(), read(&k.value))))
                    .collect();
                match ValueReader::dotted(&call.func) {
                    Some(dotted) => Value::Call(Box::new(Call {
                        func: self.reference(&dotted, scope),
                        args,
                        kwargs,
                    })),
                    None => match &*call.func {
                        Expr::Attribute(attr) => {
                            let mut all = vec![read(&attr.value)];
                            all.extend(args);
                            operator_call(&format!("$method.{}", attr.attr), all, kwargs)
                        }
                        other => {
                            let mut all = vec![read(other)];
                            all.extend(args);
                            operator_call("$call", all, kwargs)
                        }
                    },
                }
            }
            _ => Value::Expr(self.source(expr)),
        }
    }
}

fn operator_call(path: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Value {
    Value::Call(Box::new(Call {
        func: Ref {
            written: path.to_owned(),
            path: path.to_owned(),
        },
        args,
        kwargs,
    }))
}

/// True when a loop body defines classes or sets attributes.
fn contains_dynamic(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::ClassDef(_) => true,
        Stmt::Expr(e) => match &*e.value {
            Expr::Call(call) => ValueReader::dotted(&call.func).is_some_and(|d| {
                let last = d.rsplit('.').next().unwrap_or(&d);
                matches!(last, "add_to_class" | "contribute_to_class" | "setattr")
            }),
            _ => false,
        },
        _ => false,
    })
}

fn statement_name(stmt: &Stmt) -> &'static str {
    match stmt {
        Stmt::If(_) => "if",
        Stmt::For(_) | Stmt::AsyncFor(_) => "for",
        Stmt::While(_) => "while",
        Stmt::Try(_) | Stmt::TryStar(_) => "try",
        Stmt::With(_) | Stmt::AsyncWith(_) => "with",
        Stmt::Delete(_) => "del",
        Stmt::AugAssign(_) => "augmented assignment",
        Stmt::Expr(_) => "expression",
        Stmt::Match(_) => "match",
        _ => "statement",
    }
}

fn constant(c: &Constant) -> Value {
    match c {
        Constant::None => Value::None,
        Constant::Bool(b) => Value::Bool(*b),
        Constant::Str(s) => Value::Str(s.clone()),
        Constant::Bytes(b) => Value::Bytes(b.clone()),
        Constant::Int(i) => {
            i64::try_from(i).map_or_else(|_| Value::BigInt(i.to_string()), Value::Int)
        }
        Constant::Float(f) => Value::Float(*f),
        Constant::Tuple(items) => Value::Tuple(items.iter().map(constant).collect()),
        Constant::Complex { real, imag } => Value::Expr(format!("complex({real}, {imag})")),
        Constant::Ellipsis => Value::Expr("...".to_owned()),
    }
}

/// The classes of an `apps.py` (its `AppConfig` subclasses): `name` and
/// `label` where literal strings, `default_auto_field` as written.
pub fn app_configs(module: &PyModule) -> Vec<AppConfigFacts> {
    module
        .bindings
        .iter()
        .filter_map(|b| match &b.kind {
            BindingKind::Class(class) => Some(class),
            _ => None,
        })
        .map(|class| {
            let text = |name: &str| match class.binding(name).map(|b| &b.kind) {
                Some(BindingKind::Value(Value::Str(s))) => Some(s.clone()),
                _ => None,
            };
            AppConfigFacts {
                class: class.name.clone(),
                name: text("name"),
                label: text("label"),
                default_auto_field: match class.binding("default_auto_field").map(|b| &b.kind) {
                    Some(BindingKind::Value(v)) => Some(v.clone()),
                    Some(_) => Some(Value::Expr("default_auto_field".to_owned())),
                    None => None,
                },
                default: match class.binding("default").map(|b| &b.kind) {
                    Some(BindingKind::Value(Value::Bool(b))) => Some(*b),
                    _ => None,
                },
                bases: class.bases.clone(),
            }
        })
        .collect()
}

/// What an `AppConfig` class says.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfigFacts {
    pub class: String,
    pub name: Option<String>,
    pub label: Option<String>,
    /// The `default_auto_field` attribute, unevaluated, when set.
    pub default_auto_field: Option<Value>,
    /// The `default` attribute, when a literal boolean.
    pub default: Option<bool>,
    pub bases: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(v: &Value) -> &Call {
        v.as_call().expect("a call")
    }

    #[test]
    fn reads_classes_scopes_and_operators() {
        let src = r#"
from django.db import models
from django.db.models import Q
from .constants import MAX

LIMIT = MAX + 1

class Post(models.Model):
    """Doc."""
    STATUS = [("d", "Draft")]
    status = models.CharField(max_length=LIMIT, choices=STATUS)
    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(status="") & Q(a=1), name="x")]
    def __str__(self):
        return self.status

Post.add_to_class("extra", models.IntegerField())
"#;
        let module = read_module(src.as_bytes(), "blog.models", "blog").unwrap();
        let Some(BindingKind::Value(limit)) = module.binding("LIMIT").map(|b| &b.kind) else {
            panic!("LIMIT")
        };
        let add = call(limit);
        assert_eq!(add.func.path, "operator.add");
        assert_eq!(add.args[0].as_ref_path(), Some("blog.constants.MAX"));
        let Some(BindingKind::Class(post)) = module.binding("Post").map(|b| &b.kind) else {
            panic!("Post")
        };
        assert_eq!(post.bases[0].as_ref_path(), Some("django.db.models.Model"));
        let Some(BindingKind::Value(status)) = post.binding("status").map(|b| &b.kind) else {
            panic!("status")
        };
        let status = call(status);
        assert_eq!(
            status.kwarg("max_length").and_then(Value::as_ref_path),
            Some("blog.models.LIMIT")
        );
        assert_eq!(
            status.kwarg("choices").and_then(Value::as_ref_path),
            Some("blog.models.Post.STATUS")
        );
        assert!(post.has_method("__str__"));
        let meta = post.nested("Meta").unwrap();
        assert_eq!(meta.qualname, "Post.Meta");
        assert!(post.dynamic.is_empty());
        assert_eq!(module.dynamic.len(), 1);
        assert_eq!(module.dynamic[0].line, 17);
    }

    #[test]
    fn star_imports_and_errors() {
        let module = read_module(
            b"from .base import *\nfrom . import x\n",
            "app.models",
            "app.models",
        )
        .unwrap();
        assert_eq!(module.star_imports, vec!["app.models.base"]);
        assert!(
            matches!(&module.binding("x").unwrap().kind, BindingKind::Import(p) if p == "app.models.x")
        );
        let err = read_module(b"class X(:\n", "m", "").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn attributes_set_on_a_method_leave_the_class_readable() {
        // mayan-edms: `get_preview_widget.short_description = _('Preview')`.
        let src = "from django.db import models\nclass Tag(models.Model):\n    color = models.CharField(max_length=7)\n    def preview(self):\n        return ''\n    preview.short_description = 'Preview'\n    preview.boolean = True\n    color.help = 'x'\n";
        let module = read_module(src.as_bytes(), "tags.models", "tags").unwrap();
        let Some(BindingKind::Class(tag)) = module.binding("Tag").map(|b| &b.kind) else {
            panic!("Tag")
        };
        // The method's attributes are nothing to the model; one set on a
        // field may be.
        assert_eq!(tag.dynamic.len(), 1, "{:?}", tag.dynamic);
        assert_eq!(tag.dynamic[0].line, 8);
    }

    #[test]
    fn a_model_guarded_by_is_model_registered_is_defined() {
        // django-oscar's apps define each model so.
        let src = "from django.db import models\nfrom oscar.core.loading import is_model_registered\n__all__ = []\nif not is_model_registered('wishlists', 'WishList'):\n    class WishList(models.Model):\n        pass\n    __all__.append('WishList')\nif settings.X:\n    class Other(models.Model):\n        pass\n";
        let module = read_module(src.as_bytes(), "wishlists.models", "wishlists").unwrap();
        let class = |name: &str| match module.binding(name).map(|b| &b.kind) {
            Some(BindingKind::Class(c)) => c.clone(),
            _ => panic!("{name}"),
        };
        assert_eq!(class("WishList").conditional, None);
        assert!(class("Other").conditional.is_some());
    }

    #[test]
    fn a_private_contribute_to_class_is_seen() {
        let class = |body: &str| {
            let src = format!("from django.db import models\nclass F(models.Field):\n    def contribute_to_class(self, cls, name, private_only=False, **kwargs):\n{body}\n");
            let module = read_module(src.as_bytes(), "f", "").unwrap();
            match module.binding("F").map(|b| &b.kind) {
                Some(BindingKind::Class(c)) => c.contributes_privately,
                _ => panic!("F"),
            }
        };
        // netbox's GenericArrayForeignKey.
        assert!(class(
            "        super().contribute_to_class(cls, name, private_only=True, **kwargs)"
        ));
        // Only a descriptor added: no field at all.
        assert!(class("        setattr(cls, name, self)"));
        // oscar's NullCharField passes its argument on: a column.
        assert!(!class("        super().contribute_to_class(cls, name, private_only=private_only, **kwargs)\n        setattr(cls, self.name, 1)"));
    }
}
