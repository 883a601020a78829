use crate::diagnostic::{Diagnostic, Violation};
use crate::project::Project;
use crate::rules::Rule;

use super::at_location;

pub const DOC: &str = r#"# nested-squash (MG105)

## What it does
Reports a squashed migration whose `replaces` names another squashed
migration that still has its own `replaces` list.

## Why is this bad?
Django's loader (up to 5.2) applies replacements in the order it happens to
load the migration modules, which is the iteration order of a set of names
and so changes with Python's hash seed. In one order the outer squash
replaces the inner one and all is well; in the other the inner squash is
removed first and the loader stops with `NodeNotFoundError: Unable to find
replacement node`. The same checkout then works on one run of `migrate` and
fails on the next, on one machine and not on another.

## Example
```python
# blog/migrations/0001_squashed_0002_b.py
    replaces = [("blog", "0001_initial"), ("blog", "0002_b")]

# blog/migrations/0001_squashed_0003_c.py
    replaces = [("blog", "0001_squashed_0002_b"), ("blog", "0003_c")]
```

## How to fix
Finish the first squash before squashing again, as Django's documentation
describes: once every environment has applied it, delete the migrations it
replaces, point their dependents at the squashed migration, and remove its
`replaces` attribute. It is then an ordinary migration that a later squash
can replace.
"#;

/// A squash that replaces a squash still in transition.
pub struct NestedSquash {
    pub outer: String,
    pub inner: String,
}

impl Violation for NestedSquash {
    fn rule(&self) -> Rule {
        Rule::NestedSquash
    }

    fn message(&self) -> String {
        format!(
            "squashed migration `{}` replaces `{}`, which is itself a squash with `replaces`; \
             Django's loader fails or not depending on Python's hash seed",
            self.outer, self.inner
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "finish squashing `{}` first: delete the migrations it replaces and remove its `replaces` list",
            self.inner
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "inner": self.inner })
    }
}

pub fn check(project: &Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for outer in &project.migrations {
        for replaced in &outer.replaces {
            let crate::model::DependencyTarget::Key(key) = &replaced.target else {
                continue;
            };
            let Some(inner) = project.migration(key) else {
                continue;
            };
            if inner.replaces.is_empty() {
                continue;
            }
            out.push(Diagnostic::new(
                &NestedSquash {
                    outer: outer.key.to_string(),
                    inner: inner.key.to_string(),
                },
                at_location(outer).at(replaced.line, replaced.column, Some(replaced.span)),
            ));
        }
    }
    out
}
