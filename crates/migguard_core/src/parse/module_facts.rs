//! Small static facts read from ordinary project modules: an `AppConfig`'s
//! label, a settings module's assignments, `manage.py`'s settings module.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr, Stmt};
use rustpython_parser::Parse;

use super::imports::{resolve_relative, ImportMap};
use super::value::ValueReader;
use crate::model::Value;
use crate::source::decode_python;

fn parse(bytes: &[u8]) -> Option<(String, Vec<Stmt>)> {
    let text = decode_python(bytes).ok()?;
    if super::nesting::too_deep(&text).is_some() || text.len() > 4 * 1024 * 1024 {
        return None;
    }
    let body = ast::Suite::parse(&text, "<module>").ok()?;
    Some((text, body))
}

/// Run `read` on a thread with a large stack, as migration files are read:
/// a hostile module (a 300,000-term sum) builds a syntax tree too deep to
/// walk or drop on the caller's stack. `None` when no thread can be had.
fn on_large_stack<T: Send>(read: impl FnOnce() -> Option<T> + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("migguard-facts".into())
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(scope, read)
            .ok()?
            .join()
            .ok()?
    })
}

/// The `label` class attribute of an `AppConfig` in `apps.py`.
pub fn app_config_label(bytes: &[u8]) -> Option<String> {
    on_large_stack(|| app_config_label_here(bytes))
}

fn app_config_label_here(bytes: &[u8]) -> Option<String> {
    let (_, body) = parse(bytes)?;
    body.iter().find_map(|stmt| {
        let Stmt::ClassDef(class) = stmt else {
            return None;
        };
        class.body.iter().find_map(|s| match s {
            Stmt::Assign(a) => match (a.targets.as_slice(), &*a.value) {
                ([Expr::Name(n)], Expr::Constant(c)) if n.id.as_str() == "label" => {
                    c.value.as_str().cloned()
                }
                _ => None,
            },
            _ => None,
        })
    })
}

/// A settings module's top-level assignments (last one wins) and the
/// modules it star-imports (`from .base import *`), resolved to dotted names.
#[derive(Debug, Default, Clone)]
pub struct SettingsModule {
    pub values: HashMap<String, Value>,
    pub star_imports: Vec<String>,
}

pub fn settings_module(bytes: &[u8], package: &str) -> Option<SettingsModule> {
    on_large_stack(|| settings_module_here(bytes, package))
}

fn settings_module_here(bytes: &[u8], package: &str) -> Option<SettingsModule> {
    let (text, body) = parse(bytes)?;
    let imports = ImportMap::collect(&body, package);
    let constants = HashMap::new();
    let reader = ValueReader {
        text: &text,
        imports: &imports,
        constants: &constants,
    };
    let mut out = SettingsModule::default();
    for stmt in &body {
        match stmt {
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    if let Expr::Name(name) = target {
                        out.values
                            .insert(name.id.to_string(), reader.read(&assign.value));
                    }
                }
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) => {
                if let Expr::Name(name) = &**target {
                    out.values.insert(name.id.to_string(), reader.read(value));
                }
            }
            Stmt::ImportFrom(from) if from.names.iter().any(|a| a.name.as_str() == "*") => {
                let level = from.level.as_ref().map_or(0, |l| l.to_u32());
                let module = from.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                out.star_imports
                    .push(resolve_relative(package, level, module));
            }
            _ => {}
        }
    }
    Some(out)
}

/// `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")`
/// anywhere in `manage.py`.
pub fn manage_py_settings(bytes: &[u8]) -> Option<String> {
    let text = decode_python(bytes).ok()?;
    let needle = "DJANGO_SETTINGS_MODULE";
    let start = text.find(needle)? + needle.len();
    // Step past the closing quote of the key itself.
    let rest = text[start..]
        .strip_prefix(['"', '\''])
        .unwrap_or(&text[start..]);
    let quote_start = rest.find(['"', '\''])?;
    let quote = rest[quote_start..].chars().next()?;
    let after = &rest[quote_start + 1..];
    let end = after.find(quote)?;
    let module = &after[..end];
    module
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        .then(|| module.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_label_settings_and_manage_py() {
        let apps = b"from django.apps import AppConfig\nclass CatalogConfig(AppConfig):\n    name = 'catalog'\n    label = 'catalogue'\n";
        assert_eq!(app_config_label(apps).as_deref(), Some("catalogue"));
        let settings = settings_module(
            b"from .base import *\nAUTH_USER_MODEL = 'accounts.User'\n",
            "config.settings",
        )
        .unwrap();
        assert_eq!(
            settings.values["AUTH_USER_MODEL"],
            Value::Str("accounts.User".into())
        );
        assert_eq!(settings.star_imports, vec!["config.settings.base"]);
        let manage = b"import os\ndef main():\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"config.settings\")\n";
        assert_eq!(
            manage_py_settings(manage).as_deref(),
            Some("config.settings")
        );
    }
}
