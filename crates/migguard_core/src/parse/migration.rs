//! One migration module: `class Migration` and its attributes.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr, Ranged, Stmt};

use super::imports::ImportMap;
use super::value::ValueReader;
use crate::diagnostic::{Diagnostic, Location};
use crate::model::{
    Dependency, DependencyTarget, Migration, MigrationKey, Operation, OperationFamily,
    OperationKind, Reverse, SqlText, Value,
};
use crate::rules::input::dynamic_migration::DynamicMigration;
use crate::source::{LineIndex, Span};

/// Nested `SeparateDatabaseAndState` deeper than this is not read.
const MAX_OPERATION_DEPTH: u32 = 16;

/// The class attributes migguard reads.
const READ: [&str; 6] = [
    "dependencies",
    "replaces",
    "run_before",
    "initial",
    "atomic",
    "operations",
];

/// The ones that are edges of the graph.
const GRAPH: [&str; 3] = ["dependencies", "replaces", "run_before"];

pub(super) struct MigrationReader<'a> {
    pub key: &'a MigrationKey,
    pub path: &'a str,
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub values: ValueReader<'a>,
    pub diagnostics: Vec<Diagnostic>,
    /// Operation classes the module defines on a Django operation without
    /// changing its state effect: name -> the base's resolved path.
    pub local_operations: HashMap<String, String>,
}

impl<'a> MigrationReader<'a> {
    fn location(&self, span: Span) -> Location {
        let (line, column) = self.lines.location(self.text, span.start);
        Location::file(self.path)
            .in_migration(&self.key.app, &self.key.name)
            .at(line, column, Some(span))
    }

    fn dynamic(&mut self, what: &str, expr: &Expr) {
        let span = ValueReader::span(expr);
        let found = first_line(&self.values.source(expr));
        let location = self.location(span);
        self.diagnostics.push(Diagnostic::new(
            &DynamicMigration {
                what: what.to_owned(),
                found,
            },
            location,
        ));
    }

    pub fn read_class(&mut self, class: &ast::StmtClassDef) -> Migration {
        let span = Span::new(class.range.start().into(), class.range.end().into());
        let (line, column) = self.lines.location(self.text, span.start);
        let mut migration = Migration {
            key: self.key.clone(),
            path: self.path.to_owned(),
            span,
            line,
            column,
            dependencies: Vec::new(),
            replaces: Vec::new(),
            run_before: Vec::new(),
            graph_complete: true,
            initial: None,
            atomic: None,
            operations: Vec::new(),
            suppressions: Vec::new(),
        };
        for stmt in &class.body {
            let (target, value) = match stmt {
                Stmt::Assign(assign) if assign.targets.len() == 1 => {
                    (&assign.targets[0], &*assign.value)
                }
                Stmt::AnnAssign(ast::StmtAnnAssign {
                    target,
                    value: Some(value),
                    ..
                }) => (&**target, &**value),
                other => {
                    if self
                        .changed_elsewhere(other)
                        .iter()
                        .any(|name| GRAPH.contains(name))
                    {
                        migration.graph_complete = false;
                    }
                    continue;
                }
            };
            let Expr::Name(name) = target else { continue };
            match name.id.as_str() {
                "dependencies" => {
                    let (read, complete) = self.read_dependencies("`dependencies`", value, true);
                    migration.dependencies = read;
                    migration.graph_complete &= complete;
                }
                "replaces" => {
                    let (read, complete) = self.read_dependencies("`replaces`", value, false);
                    migration.replaces = read;
                    migration.graph_complete &= complete;
                }
                "run_before" => {
                    let (read, complete) = self.read_dependencies("`run_before`", value, false);
                    migration.run_before = read;
                    migration.graph_complete &= complete;
                }
                "initial" => migration.initial = self.read_flag("`initial`", value),
                "atomic" => migration.atomic = self.read_flag("`atomic`", value),
                "operations" => {
                    migration.operations = self.read_operations("`operations`", value, 0)
                }
                _ => {}
            }
        }
        migration
    }

    /// A statement of the class body other than a plain assignment that
    /// changes what migguard reads (`dependencies += [...]`,
    /// `operations.append(...)`, an assignment under `if`): the values read
    /// are then not the ones Django sees, which is said, not guessed.
    /// Returns the attributes so changed.
    fn changed_elsewhere(&mut self, stmt: &Stmt) -> Vec<&'static str> {
        let named = |e: &Expr| match e {
            Expr::Name(n) => READ.iter().find(|r| **r == n.id.as_str()).copied(),
            _ => None,
        };
        let found = match stmt {
            Stmt::AugAssign(aug) => named(&aug.target),
            Stmt::Expr(e) => match &*e.value {
                Expr::Call(call) => match &*call.func {
                    Expr::Attribute(attr) => named(&attr.value),
                    _ => None,
                },
                _ => None,
            },
            Stmt::Assign(assign) => assign.targets.iter().find_map(|t| match t {
                Expr::Tuple(t) => t.elts.iter().find_map(named),
                other => named(other),
            }),
            Stmt::If(ast::StmtIf { body, orelse, .. })
            | Stmt::For(ast::StmtFor { body, orelse, .. })
            | Stmt::While(ast::StmtWhile { body, orelse, .. }) => {
                return body
                    .iter()
                    .chain(orelse)
                    .flat_map(|s| self.changed_nested(s))
                    .collect();
            }
            Stmt::Try(t) => {
                return t
                    .body
                    .iter()
                    .chain(&t.orelse)
                    .chain(&t.finalbody)
                    .flat_map(|s| self.changed_nested(s))
                    .collect();
            }
            Stmt::With(w) => return w.body.iter().flat_map(|s| self.changed_nested(s)).collect(),
            _ => None,
        };
        if let Some(name) = found {
            self.dynamic_statement(name, stmt);
        }
        found.into_iter().collect()
    }

    /// Inside a block, even a plain assignment is conditional.
    fn changed_nested(&mut self, stmt: &Stmt) -> Vec<&'static str> {
        let target = match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 => Some(&a.targets[0]),
            Stmt::AnnAssign(a) => Some(&*a.target),
            _ => None,
        };
        match target {
            Some(Expr::Name(n)) => match READ.iter().find(|r| **r == n.id.as_str()) {
                Some(name) => {
                    self.dynamic_statement(name, stmt);
                    vec![*name]
                }
                None => Vec::new(),
            },
            Some(_) => Vec::new(),
            None => self.changed_elsewhere(stmt),
        }
    }

    fn dynamic_statement(&mut self, name: &str, stmt: &Stmt) {
        let range = stmt.range();
        let span = Span::new(range.start().into(), range.end().into());
        let found = first_line(
            self.text
                .get(usize::from(range.start())..usize::from(range.end()))
                .unwrap_or(""),
        );
        let location = self.location(span);
        self.diagnostics.push(Diagnostic::new(
            &DynamicMigration {
                what: format!("`{name}`"),
                found,
            },
            location,
        ));
    }

    fn read_flag(&mut self, what: &str, expr: &Expr) -> Option<bool> {
        match self.values.read(expr) {
            Value::Bool(b) => Some(b),
            Value::None => None,
            _ => {
                self.dynamic(what, expr);
                None
            }
        }
    }

    fn read_dependencies(
        &mut self,
        what: &str,
        expr: &Expr,
        allow_swappable: bool,
    ) -> (Vec<Dependency>, bool) {
        let elements = match expr {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            _ => {
                self.dynamic(what, expr);
                return (Vec::new(), false);
            }
        };
        let mut complete = true;
        let mut out = Vec::new();
        for element in elements {
            let span = ValueReader::span(element);
            let (line, column) = self.lines.location(self.text, span.start);
            let target = match self.values.read(element) {
                Value::Tuple(pair) | Value::List(pair) => match pair.as_slice() {
                    [Value::Str(app), Value::Str(name)] => {
                        Some(DependencyTarget::Key(MigrationKey::new(app, name)))
                    }
                    _ => None,
                },
                Value::Call(call)
                    if allow_swappable && call.func.path.ends_with("swappable_dependency") =>
                {
                    match call.args.as_slice() {
                        [Value::Ref(setting)] => Some(DependencyTarget::Swappable {
                            setting: setting
                                .path
                                .rsplit('.')
                                .next()
                                .unwrap_or(&setting.path)
                                .to_owned(),
                        }),
                        // swappable_dependency("app.Model") is (app, "__first__").
                        [Value::Str(model)] => Some(DependencyTarget::Key(MigrationKey::new(
                            model.split('.').next().unwrap_or(model),
                            "__first__",
                        ))),
                        _ => None,
                    }
                }
                _ => None,
            };
            match target {
                Some(target) => out.push(Dependency {
                    target,
                    span,
                    line,
                    column,
                }),
                None => {
                    complete = false;
                    self.dynamic(&format!("an entry of {what}"), element)
                }
            }
        }
        (out, complete)
    }

    fn read_operations(&mut self, what: &str, expr: &Expr, depth: u32) -> Vec<Operation> {
        let elements = match expr {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            _ => {
                self.dynamic(what, expr);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for element in elements {
            match element {
                Expr::Call(call) if depth < MAX_OPERATION_DEPTH => {
                    match self.read_operation(call, depth) {
                        Some(op) => out.push(op),
                        None => self.dynamic("an operation", element),
                    }
                }
                _ => self.dynamic("an operation", element),
            }
        }
        out
    }

    fn read_operation(&mut self, call: &ast::ExprCall, depth: u32) -> Option<Operation> {
        let callee = self.values.reference(ValueReader::dotted(&call.func)?);
        let kind = match self.local_operations.get(&callee.path) {
            Some(base) => classify(base, base),
            None => classify(&callee.path, &callee.written),
        };
        let params = kind.params();
        let span = Span::new(call.range.start().into(), call.range.end().into());
        let (line, column) = self.lines.location(self.text, span.start);
        let mut op = Operation {
            kind,
            callee,
            args: Vec::new(),
            database_operations: Vec::new(),
            state_operations: Vec::new(),
            reverse: None,
            sql: None,
            span,
            line,
            column,
        };
        let mut raw: Vec<(String, &Expr)> = Vec::new();
        for (i, arg) in call.args.iter().enumerate() {
            if matches!(arg, Expr::Starred(_)) {
                return None;
            }
            let name = params
                .get(i)
                .map_or_else(|| format!("args[{i}]"), |p| (*p).to_owned());
            raw.push((name, arg));
        }
        for keyword in &call.keywords {
            let name = keyword.arg.as_ref()?.to_string();
            raw.push((name, &keyword.value));
        }
        for (name, expr) in &raw {
            let nested = matches!(name.as_str(), "database_operations" | "state_operations")
                && matches!(
                    kind,
                    OperationKind::SeparateDatabaseAndState | OperationKind::RunSQL
                );
            if nested {
                let ops = self.read_operations(&format!("`{name}`"), expr, depth + 1);
                if name == "database_operations" {
                    op.database_operations = ops;
                } else {
                    op.state_operations = ops;
                }
                continue;
            }
            op.args.push((name.clone(), self.values.read(expr)));
        }
        match kind {
            OperationKind::RunPython => {
                op.reverse = Some(reverse_of(op.arg("reverse_code"), "RunPython.noop"));
            }
            OperationKind::RunSQL => {
                op.reverse = Some(reverse_of(op.arg("reverse_sql"), "RunSQL.noop"));
                let sql_expr = raw.iter().find(|(n, _)| n == "sql").map(|(_, e)| *e);
                op.sql = Some(match op.arg("sql") {
                    Some(value) => sql_text(value).unwrap_or_else(|| {
                        SqlText::Dynamic(
                            sql_expr.map(|e| self.values.source(e)).unwrap_or_default(),
                        )
                    }),
                    None => SqlText::Dynamic(String::new()),
                });
            }
            _ => {}
        }
        Some(op)
    }
}

/// Which operation a resolved callee path names.
fn classify(path: &str, written: &str) -> OperationKind {
    let (module, class) = path.rsplit_once('.').unwrap_or(("", path));
    let family = if module == "django.db.migrations"
        || module.starts_with("django.db.migrations.operations")
    {
        OperationFamily::Django
    } else if module.starts_with("django.contrib.postgres.operations") {
        OperationFamily::Postgres
    } else if path == written && module == "migrations" {
        // `migrations.AddField` with no visible import of `migrations`.
        OperationFamily::Django
    } else {
        OperationFamily::Custom
    };
    OperationKind::from_name(family, class)
}

fn reverse_of(value: Option<&Value>, noop_suffix: &str) -> Reverse {
    match value {
        None | Some(Value::None) => Reverse::Missing,
        Some(Value::Ref(r))
            if r.path.ends_with(noop_suffix) || r.written.ends_with(noop_suffix) =>
        {
            Reverse::Noop
        }
        // RunSQL.noop is the empty string.
        Some(Value::Str(s)) if s.is_empty() => Reverse::Noop,
        Some(_) => Reverse::Given,
    }
}

/// The literal statements of a `RunSQL` `sql` argument: a string, or a list
/// of strings and `(sql, params)` pairs.
fn sql_text(value: &Value) -> Option<SqlText> {
    match value {
        Value::Str(s) => Some(SqlText::Literal(vec![s.clone()])),
        Value::List(items) | Value::Tuple(items) => {
            let mut parts = Vec::new();
            for item in items {
                match item {
                    Value::Str(s) => parts.push(s.clone()),
                    Value::Tuple(pair) | Value::List(pair) => match pair.first() {
                        Some(Value::Str(s)) => parts.push(s.clone()),
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            Some(SqlText::Literal(parts))
        }
        _ => None,
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut short: String = line.chars().take(80).collect();
    if short.len() < line.len() || text.lines().nth(1).is_some() {
        short.push('…');
    }
    short
}

/// Module-level `NAME = <expr>` assignments.
/// Classes of the module that subclass a Django operation and leave what it
/// does to the state alone (no `state_forwards`, `__init__`, `deconstruct`
/// or `reduce` of their own): mayan-edms' `AddFieldDynamicDefault(AddField)`
/// only changes `database_forwards`. Name -> the base's resolved path.
pub(super) fn local_operations(body: &[Stmt], imports: &ImportMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for stmt in body {
        let Stmt::ClassDef(class) = stmt else {
            continue;
        };
        let [base] = class.bases.as_slice() else {
            continue;
        };
        let Some(base) = ValueReader::dotted(base).map(|d| imports.resolve(&d)) else {
            continue;
        };
        if classify(&base, &base) == OperationKind::Custom {
            continue;
        }
        let overrides = class.body.iter().any(|s| match s {
            Stmt::FunctionDef(f) => matches!(
                f.name.as_str(),
                "state_forwards" | "__init__" | "deconstruct" | "reduce"
            ),
            _ => false,
        });
        if !overrides && class.keywords.is_empty() {
            out.insert(class.name.to_string(), base);
        }
    }
    out
}

pub(super) fn module_constants(body: &[Stmt]) -> HashMap<String, &Expr> {
    let mut out = HashMap::new();
    for stmt in body {
        if let Stmt::Assign(assign) = stmt {
            if let [Expr::Name(name)] = assign.targets.as_slice() {
                out.insert(name.id.to_string(), &*assign.value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_operations() {
        assert_eq!(
            classify("django.db.migrations.AddField", "migrations.AddField"),
            OperationKind::AddField
        );
        assert_eq!(
            classify(
                "django.contrib.postgres.operations.AddIndexConcurrently",
                "AddIndexConcurrently"
            ),
            OperationKind::AddIndexConcurrently
        );
        assert_eq!(
            classify("migrations.RunSQL", "migrations.RunSQL"),
            OperationKind::RunSQL
        );
        assert_eq!(
            classify("myapp.ops.LoadData", "LoadData"),
            OperationKind::Custom
        );
    }
}
