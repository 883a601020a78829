use crate::diagnostic::Violation;
use crate::rules::Rule;

pub const DOC: &str = r#"# syntax-error (MG001)

## What it does
Reports a migration file that Python cannot parse, with the line and column
where parsing stopped.

## Why is this bad?
Django imports every module of an app's `migrations` package. One file that
does not parse stops `migrate`, `makemigrations` and `showmigrations` for the
whole project, usually with a traceback on a colleague's machine after a
merge. A half-resolved merge conflict (`<<<<<<< HEAD`) is the usual cause.

## Example
```python
class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0001_initial"),
<<<<<<< HEAD
```

## How to fix
Fix the file at the reported line. For a conflicted merge, resolve the
conflict markers, then run `migguard check` (or `python manage.py
makemigrations --check`) again.
"#;

/// Python could not parse the file.
pub struct SyntaxError {
    pub message: String,
}

impl Violation for SyntaxError {
    fn rule(&self) -> Rule {
        Rule::SyntaxError
    }

    fn message(&self) -> String {
        format!("syntax error: {}", self.message)
    }

    fn help(&self) -> Option<String> {
        Some("fix the file so that Python can import it; Django loads every migration module of the app".into())
    }
}
