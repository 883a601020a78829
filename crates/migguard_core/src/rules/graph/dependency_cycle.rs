use crate::diagnostic::{Diagnostic, Violation};
use crate::model::MigrationKey;
use crate::project::Project;
use crate::rules::Rule;

pub const DOC: &str = r#"# dependency-cycle (MG102)

## What it does
Reports migrations whose dependencies (and `run_before` entries) form a
cycle, listing every migration on it.

## Why is this bad?
Django cannot order the migrations and stops with `CircularDependencyError`
before running anything. Cycles usually come from two apps that each gained
a foreign key to the other on different branches, or a hand-edited
dependency.

## Example
```python
# shop/migrations/0002_order_post.py
dependencies = [("blog", "0003_post_featured")]
# blog/migrations/0003_post_featured.py
dependencies = [("shop", "0002_order_post")]
```

## How to fix
Break the cycle: split one of the migrations so that the part that needs the
other app comes later (Django's autodetector does this itself when it
generates both at once), then point the dependency at that later migration.
"#;

/// Migrations that depend on each other in a loop.
pub struct DependencyCycle {
    pub cycle: Vec<MigrationKey>,
}

impl Violation for DependencyCycle {
    fn rule(&self) -> Rule {
        Rule::DependencyCycle
    }

    fn message(&self) -> String {
        let names: Vec<String> = self.cycle.iter().map(ToString::to_string).collect();
        format!("circular dependency between {}", names.join(", "))
    }

    fn help(&self) -> Option<String> {
        Some("split one migration so that the dependency on the other app comes in a later migration".into())
    }

    fn details(&self) -> serde_json::Value {
        let cycle: Vec<[&str; 2]> = self
            .cycle
            .iter()
            .map(|k| [k.app.as_str(), k.name.as_str()])
            .collect();
        serde_json::json!({ "cycle": cycle })
    }
}

pub fn check(project: &Project) -> Vec<Diagnostic> {
    project
        .graph
        .cycles
        .iter()
        .map(|cycle| {
            let anchor = cycle
                .iter()
                .find(|k| project.migration(k).is_some())
                .unwrap_or(&cycle[0]);
            Diagnostic::new(
                &DependencyCycle {
                    cycle: cycle.clone(),
                },
                super::at_migration(project, anchor),
            )
        })
        .collect()
}
