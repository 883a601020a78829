//! Module-level names: what each imported name stands for, and simple
//! module-level constants.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Stmt};

/// Local name -> dotted module path, from a module's import statements.
#[derive(Debug, Clone, Default)]
pub struct ImportMap {
    names: HashMap<String, String>,
}

impl ImportMap {
    /// Collect imports from top-level statements, including those inside
    /// `try`/`if` blocks (`try: from x import y except ImportError: ...`).
    /// `package` is the dotted package of the module, for relative imports.
    pub fn collect(body: &[Stmt], package: &str) -> ImportMap {
        let mut map = ImportMap::default();
        map.visit(body, package);
        map
    }

    fn visit(&mut self, body: &[Stmt], package: &str) {
        for stmt in body {
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let full = alias.name.as_str();
                        match &alias.asname {
                            Some(asname) => {
                                self.names.insert(asname.to_string(), full.to_owned());
                            }
                            None => {
                                // `import a.b.c` binds `a`.
                                let first = full.split('.').next().unwrap_or(full);
                                self.names.insert(first.to_owned(), first.to_owned());
                            }
                        }
                    }
                }
                Stmt::ImportFrom(from) => {
                    let level = from.level.as_ref().map_or(0, |l| l.to_u32());
                    let module = from.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                    let base = resolve_relative(package, level, module);
                    for alias in &from.names {
                        if alias.name.as_str() == "*" {
                            continue;
                        }
                        let local = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                        let path = if base.is_empty() {
                            alias.name.to_string()
                        } else {
                            format!("{base}.{}", alias.name)
                        };
                        self.names.insert(local, path);
                    }
                }
                Stmt::Try(ast::StmtTry {
                    body,
                    handlers,
                    orelse,
                    finalbody,
                    ..
                })
                | Stmt::TryStar(ast::StmtTryStar {
                    body,
                    handlers,
                    orelse,
                    finalbody,
                    ..
                }) => {
                    self.visit(body, package);
                    for handler in handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = handler;
                        self.visit(&h.body, package);
                    }
                    self.visit(orelse, package);
                    self.visit(finalbody, package);
                }
                Stmt::If(ast::StmtIf { body, orelse, .. }) => {
                    self.visit(body, package);
                    self.visit(orelse, package);
                }
                _ => {}
            }
        }
    }

    /// Resolve a dotted name through the imports: `models.CASCADE` ->
    /// `django.db.models.CASCADE`. Names that were not imported are returned
    /// unchanged.
    pub fn resolve(&self, dotted: &str) -> String {
        let (first, rest) = match dotted.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (dotted, None),
        };
        match (self.names.get(first), rest) {
            (Some(path), Some(rest)) => format!("{path}.{rest}"),
            (Some(path), None) => path.clone(),
            (None, _) => dotted.to_owned(),
        }
    }
}

/// `from ..x import y` inside package `a.b.c` (level 2) -> `a.b.x`.
pub fn resolve_relative(package: &str, level: u32, module: &str) -> String {
    if level == 0 {
        return module.to_owned();
    }
    let mut parts: Vec<&str> = if package.is_empty() {
        Vec::new()
    } else {
        package.split('.').collect()
    };
    for _ in 1..level {
        parts.pop();
    }
    if !module.is_empty() {
        parts.push(module);
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustpython_parser::{ast::Suite, Parse};

    #[test]
    fn resolves_imports() {
        let src = "from django.db import migrations, models\nimport django.db.models.deletion\nfrom ..fields import Money as M\ntry:\n    from x import y\nexcept ImportError:\n    y = None\n";
        let body = Suite::parse(src, "<test>").unwrap();
        let map = ImportMap::collect(&body, "shop.migrations");
        assert_eq!(
            map.resolve("models.CharField"),
            "django.db.models.CharField"
        );
        assert_eq!(
            map.resolve("django.db.models.deletion.CASCADE"),
            "django.db.models.deletion.CASCADE"
        );
        assert_eq!(map.resolve("M"), "shop.fields.Money");
        assert_eq!(map.resolve("y"), "x.y");
        assert_eq!(map.resolve("unknown.thing"), "unknown.thing");
    }
}
