//! Python source to the model. The only module that knows
//! `rustpython_parser`; nothing it returns mentions the parser's types.

mod imports;
mod migration;
pub mod models;
pub mod module_facts;
mod nesting;
pub mod suppression;
mod syntax;
mod value;

use rustpython_parser::ast::Stmt;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Location};
use crate::model::{Migration, MigrationKey};
use crate::rules::input::invalid_migration::InvalidMigration;
use crate::rules::input::syntax_error::SyntaxError;
use crate::source::{decode_python, LineIndex, Span};

/// Files larger than this keep their syntax tree alive instead of dropping
/// it: dropping a pathologically deep tree recurses once per level, and a
/// few megabytes of `1+1+1+...` would exhaust any stack.
const FORGET_TREE_ABOVE: usize = 512 * 1024;

/// What reading one migration file gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedMigration {
    /// `None` when the file is not a usable migration; `diagnostics` says why.
    pub migration: Option<Migration>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Read one migration module.
///
/// `path` is project-relative; `package` is the module's dotted package
/// (`blog.migrations`), used for relative imports.
pub fn parse_migration(
    key: &MigrationKey,
    path: &str,
    package: &str,
    bytes: &[u8],
) -> ParsedMigration {
    let here = || Location::file(path).in_migration(&key.app, &key.name);
    let failed = |diagnostic: Diagnostic| ParsedMigration {
        migration: None,
        diagnostics: vec![diagnostic],
    };
    let text = match decode_python(bytes) {
        Ok(text) => text,
        Err(err) => {
            return failed(Diagnostic::new(
                &InvalidMigration {
                    reason: format!("cannot read the file as Python source: {}", err.message),
                },
                here().at(err.line, 1, None),
            ))
        }
    };
    let lines = LineIndex::new(&text);
    let at = |offset: usize| {
        let (line, column) = lines.location(&text, offset as u32);
        here().at(line, column, Some(Span::new(offset as u32, offset as u32)))
    };
    if let Some(offset) = nesting::too_deep(&text) {
        return failed(Diagnostic::new(
            &SyntaxError {
                message: format!(
                    "too many nested parentheses (Python allows {})",
                    nesting::MAX_NESTING
                ),
            },
            at(offset),
        ));
    }
    let body = match syntax::parse_suite(&text, path) {
        Ok(body) => body,
        Err(err) => {
            return failed(Diagnostic::new(
                &SyntaxError {
                    message: err.error.to_string(),
                },
                at(usize::from(err.offset)),
            ))
        }
    };
    let result = read_module(key, path, package, &text, &lines, &body);
    if text.len() > FORGET_TREE_ABOVE {
        std::mem::forget(body);
    }
    result
}

fn read_module(
    key: &MigrationKey,
    path: &str,
    package: &str,
    text: &str,
    lines: &LineIndex,
    body: &[Stmt],
) -> ParsedMigration {
    // Python keeps the last definition of a name.
    let class = body.iter().rev().find_map(|stmt| match stmt {
        Stmt::ClassDef(class) if class.name.as_str() == "Migration" => Some(class),
        _ => None,
    });
    let Some(class) = class else {
        return ParsedMigration {
            migration: None,
            diagnostics: vec![Diagnostic::new(
                &InvalidMigration {
                    reason: format!(
                        "`{}` has no `Migration` class; Django's loader raises BadMigrationError",
                        key.name
                    ),
                },
                Location::file(path)
                    .in_migration(&key.app, &key.name)
                    .at(1, 1, None),
            )],
        };
    };
    let imports = imports::ImportMap::collect(body, package);
    let constants = migration::module_constants(body);
    let mut reader = migration::MigrationReader {
        key,
        path,
        text,
        lines,
        values: value::ValueReader {
            text,
            imports: &imports,
            constants: &constants,
        },
        diagnostics: Vec::new(),
        local_operations: migration::local_operations(body, &imports),
    };
    let mut migration = reader.read_class(class);
    migration.suppressions = suppression::scan(text);
    ParsedMigration {
        migration: Some(migration),
        diagnostics: reader.diagnostics,
    }
}
