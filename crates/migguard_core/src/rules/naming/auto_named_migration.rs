use crate::diagnostic::{Diagnostic, Violation};
use crate::model::Migration;
use crate::rules::graph::at_location;
use crate::rules::Rule;

pub const DOC: &str = r#"# auto-named-migration (MG504)

## What it does
Reports a migration whose name is the one Django falls back to when it
cannot describe the operations: `0005_auto_20240101_1234`.

## Why is this bad?
The name says nothing about the change, so reviewers, `showmigrations` and
`git log` cannot tell migrations apart, and two branches generating at the
same minute get colliding names. The migration protocol asks for
descriptive names.

## Example
```text
blog/migrations/0005_auto_20240101_1234.py
```

## How to fix
Rename the file before it is pushed (`git mv`, and update any migration
that depends on it), or generate it with a name:
`python manage.py makemigrations blog --name post_subtitle`.
"#;

/// A migration with Django's timestamp fallback name.
pub struct AutoNamedMigration {
    pub name: String,
}

impl Violation for AutoNamedMigration {
    fn rule(&self) -> Rule {
        Rule::AutoNamedMigration
    }

    fn message(&self) -> String {
        format!(
            "`{}` has an automatic name that says nothing about the change",
            self.name
        )
    }

    fn help(&self) -> Option<String> {
        Some("rename it to describe the change, or use `makemigrations --name`".into())
    }
}

/// Django's fallback: `NNNN_auto_YYYYMMDD_HHMM`.
pub fn is_auto_name(name: &str) -> bool {
    let Some((number, rest)) = name.split_once('_') else {
        return false;
    };
    let Some(stamp) = rest.strip_prefix("auto_") else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some((date, time)) = stamp.split_once('_') else {
        return false;
    };
    digits(number, number.len().max(1)) && digits(date, 8) && digits(time, 4)
}

pub fn check(migration: &Migration) -> Option<Diagnostic> {
    is_auto_name(&migration.key.name).then(|| {
        Diagnostic::new(
            &AutoNamedMigration {
                name: migration.key.name.clone(),
            },
            at_location(migration),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_djangos_fallback_names() {
        assert!(is_auto_name("0005_auto_20240101_1234"));
        assert!(!is_auto_name("0005_automatic_slug"));
        assert!(!is_auto_name("0005_auto_2024_1234"));
        assert!(!is_auto_name("0001_initial"));
    }
}
