use crate::diagnostic::{Diagnostic, Location, Violation};
use crate::project::Project;
use crate::rules::Rule;

pub const DOC: &str = r#"# upstream-migration-conflict (MG305)

## What it does
When a branch is pushed, reports each app in which the branch adds
migrations while the upstream branch (the remote's default branch, or
`upstream` in `[tool.migguard]`) has meanwhile gained migrations this branch
does not have.

## Why is this bad?
Both branches extend the app from the same older leaf. Once they are merged,
the app has two leaves: `makemigrations` and `migrate` refuse to run until a
merge migration exists, and when the merge happens on a hosting site no
local hook is there to notice.

## Example
```text
origin/main:  blog 0004_post_rating   (new since this branch started)
this branch:  blog 0004_post_subtitle (also after 0003)
```

## How to fix
Bring upstream into the branch (`git merge origin/main` or `git rebase
origin/main`), then either move your migration after theirs with `migguard
rebase blog 0004_post_subtitle`, or add a merge migration with `migguard
merge blog`.
"#;

/// The upstream branch gained migrations in an app this push extends.
pub struct UpstreamMigrationConflict {
    pub app: String,
    pub upstream: String,
    pub theirs: Vec<String>,
    pub ours: Vec<String>,
}

impl Violation for UpstreamMigrationConflict {
    fn rule(&self) -> Rule {
        Rule::UpstreamMigrationConflict
    }

    fn message(&self) -> String {
        format!(
            "{} has new migrations in app `{}` ({}) that this branch lacks, while this branch adds {}: merging will leave two leaves",
            self.upstream,
            self.app,
            self.theirs.join(", "),
            self.ours.join(", ")
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "`git merge {}` (or rebase onto it), then `migguard rebase {} {}` or `migguard merge {}`",
            self.upstream,
            self.app,
            self.ours.last().cloned().unwrap_or_default(),
            self.app
        ))
    }

    fn details(&self) -> serde_json::Value {
        serde_json::json!({ "upstream": self.upstream, "theirs": self.theirs, "ours": self.ours })
    }
}

/// Compare the pushed project with the upstream one, for the apps where the
/// push adds migrations (`new`, by app).
pub fn check(
    ours: &Project,
    upstream: &Project,
    upstream_name: &str,
    new: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (app, added) in new {
        let Some(leaves) = upstream.graph.leaves.get(app) else {
            continue;
        };
        let theirs: Vec<String> = leaves
            .iter()
            .filter(|leaf| {
                !ours
                    .graph
                    .graph
                    .is_real(&crate::model::MigrationKey::new(app, leaf.as_str()))
            })
            .cloned()
            .collect();
        if theirs.is_empty() {
            continue;
        }
        let anchor = added
            .last()
            .and_then(|name| ours.migration(&crate::model::MigrationKey::new(app, name.as_str())));
        let location = match anchor {
            Some(m) => crate::rules::graph::at_location(m),
            None => Location::default().in_app(app),
        };
        out.push(Diagnostic::new(
            &UpstreamMigrationConflict {
                app: app.clone(),
                upstream: upstream_name.to_owned(),
                theirs,
                ours: added.clone(),
            },
            location,
        ));
    }
    out
}
