//! The per-migration rules (destructive, irreversible, unsafe, protocol,
//! naming) over a chosen set of a project's migrations: those a push
//! carries, or those changed since a revision.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::model::{MigrationKey, OperationKind};
use crate::project::{finish, finish_recording, sorted, Project};
use crate::rules::destructive::{self, lossy_alter_field};
use crate::rules::naming::auto_named_migration;
use crate::rules::protocol::{self, multiple_migrations_per_app, unused_suppression};
use crate::rules::Rule;
use crate::source::ProjectSource;
use crate::state;

/// Which migrations to audit.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Added or modified migrations: their operations are judged.
    pub changed: BTreeSet<MigrationKey>,
    /// Of those, the ones that are new (absent from the remote or the base
    /// revision). A destructive operation on something a new migration
    /// created destroys no deployed data.
    pub new: BTreeSet<MigrationKey>,
}

impl Selection {
    /// The migrations whose content differs from `base`'s (a revision, the
    /// upstream branch); those `base` lacks are new.
    ///
    /// Contents are compared as git stores them. A file whose bytes differ
    /// from `base`'s is asked about once more through `stored_id`, the blob
    /// id of what git would store for it (for a working tree under
    /// `core.autocrlf`, its bytes differ by line endings only); a source
    /// whose contents are blobs already answers with its own content id.
    pub fn changed_since(
        project: &Project,
        base: &dyn ProjectSource,
        stored_id: &dyn Fn(&str) -> Option<String>,
    ) -> Selection {
        let mut selection = Selection::default();
        for migration in &project.migrations {
            let theirs = base.content_id(&migration.path).or_else(|| {
                base.read(&migration.path)
                    .ok()
                    .map(|bytes| crate::source::blob_id(&bytes))
            });
            let same = |id: Option<String>| id.is_some() && id == theirs;
            // A file `base` lacks is new whatever git would store of it.
            if theirs.is_some()
                && (same(project.content_ids.get(&migration.path).cloned())
                    || same(stored_id(&migration.path)))
            {
                continue;
            }
            selection.changed.insert(migration.key.clone());
            if theirs.is_none() {
                selection.new.insert(migration.key.clone());
            }
        }
        selection
    }

    /// Exactly the `named` migrations, each judged whether changed or not;
    /// new are those `base` lacks (none without a base).
    pub fn named(
        project: &Project,
        named: BTreeSet<MigrationKey>,
        base: Option<&dyn ProjectSource>,
    ) -> Selection {
        let new = match base {
            Some(base) => Selection::changed_since(project, base, &|_| None)
                .new
                .intersection(&named)
                .cloned()
                .collect(),
            None => BTreeSet::new(),
        };
        Selection {
            changed: named,
            new,
        }
    }
}

/// Findings on the selected migrations, configuration and suppressions
/// applied, unused suppressions reported, sorted.
pub fn audit(project: &Project, settings: &Settings, selection: &Selection) -> Vec<Diagnostic> {
    let mut raw = Vec::new();
    state::replay_with(project, None, |migration, before| {
        if selection.changed.contains(&migration.key) {
            raw.extend(lossy_alter_field::check(project, migration, before));
        }
    });
    let mut new_migrations = Vec::new();
    for key in &selection.changed {
        let Some(migration) = project.migration(key) else {
            continue;
        };
        raw.extend(destructive::check(project, migration));
        raw.extend(protocol::check(project, migration));
        if selection.new.contains(key) {
            raw.extend(auto_named_migration::check(migration));
            new_migrations.push(migration);
        }
    }
    raw.extend(multiple_migrations_per_app::check(project, &new_migrations));
    let created = Created::by(project, &selection.new);
    raw.retain(|d| !created.covers(d));

    // Every finding before suppressions (configuration applied), so that
    // each suppression is judged once, against every rule: the audit's
    // findings, and those of the input and graph rules that analysis
    // suppressed already.
    let (mut kept, suppressed) = finish_recording(project, settings, raw);
    let mut unused = Vec::new();
    for key in &selection.changed {
        let Some(migration) = project.migration(key) else {
            continue;
        };
        let own: Vec<Diagnostic> = kept
            .iter()
            .chain(&suppressed)
            .chain(&project.suppressed)
            .filter(|d| d.location.path.as_deref() == Some(migration.path.as_str()))
            .cloned()
            .collect();
        unused.extend(unused_suppression::check(migration, &own));
    }
    kept.extend(finish(project, settings, unused));
    sorted(kept)
}

/// Models and fields created by the new migrations.
#[derive(Default)]
struct Created {
    models: BTreeSet<(String, String)>,
    fields: BTreeSet<(String, String, String)>,
}

impl Created {
    fn by(project: &Project, new: &BTreeSet<MigrationKey>) -> Created {
        let mut out = Created::default();
        for key in new {
            let Some(migration) = project.migration(key) else {
                continue;
            };
            for (op, reaches_db) in migration.all_operations() {
                if !reaches_db {
                    continue;
                }
                let Some(model) = op.model_name_lower() else {
                    continue;
                };
                match op.kind {
                    OperationKind::CreateModel => {
                        out.models.insert((key.app.clone(), model));
                    }
                    OperationKind::AddField => {
                        if let Some(name) = op.str_arg("name") {
                            out.fields
                                .insert((key.app.clone(), model, name.to_lowercase()));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Whether a finding is about something the audited set itself
    /// created: a destructive one then destroys no deployed data, and one
    /// about a populated table (a non-null column without a default, a
    /// blocking index, a unique constraint) concerns a table that is still
    /// empty when it runs (`CreateModel` in 0005, `AddField` in 0006).
    fn covers(&self, d: &Diagnostic) -> bool {
        let on_table_only = matches!(
            d.rule,
            Rule::AddNonNullFieldWithoutDefault
                | Rule::BlockingIndexCreation
                | Rule::UniqueTogetherChange
        );
        let destructive = matches!(
            d.rule,
            Rule::RemoveField
                | Rule::DeleteModel
                | Rule::LossyAlterField
                | Rule::RenameField
                | Rule::RenameModel
        );
        let Some(app) = d.location.app.clone() else {
            return false;
        };
        if !destructive && !on_table_only {
            return false;
        }
        let text = |key: &str| {
            d.details
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_lowercase)
        };
        let Some(model) = text("model_name").or_else(|| text("old_name")) else {
            return false;
        };
        if self.models.contains(&(app.clone(), model.clone())) {
            return true;
        }
        if on_table_only {
            return false;
        }
        match text("name").or_else(|| text("old_name")) {
            Some(field) if d.rule != Rule::DeleteModel && d.rule != Rule::RenameModel => {
                self.fields.contains(&(app, model, field))
            }
            _ => false,
        }
    }
}

/// Error-level findings, per migration path: what a push needs reviewed.
pub fn blocking(diagnostics: &[Diagnostic]) -> BTreeMap<String, Vec<&Diagnostic>> {
    let mut out: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
    for d in diagnostics {
        if d.severity == crate::diagnostic::Severity::Error {
            if let Some(path) = &d.location.path {
                out.entry(path.clone()).or_default().push(d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::destructive::testing::{migration, project};

    fn keys(project: &Project, names: &[&str]) -> BTreeSet<MigrationKey> {
        project
            .migrations
            .iter()
            .filter(|m| names.contains(&m.key.name.as_str()))
            .map(|m| m.key.clone())
            .collect()
    }

    fn rules(found: &[Diagnostic]) -> Vec<&'static str> {
        found.iter().map(|d| d.rule.name()).collect()
    }

    /// `CreateModel` in one migration, a non-null `AddField` on it in the
    /// next: when both are in the audited set the table is new and empty.
    #[test]
    fn a_table_created_earlier_in_the_same_set_is_new() {
        let create = migration(
            r#"migrations.CreateModel(name="Coupon", fields=[("id", models.BigAutoField(primary_key=True))]),"#,
        );
        let add = migration(
            r#"migrations.AddField(model_name="coupon", name="code", field=models.CharField(max_length=8)),"#,
        )
        .replace("\"0001_initial\"", "\"0002_coupon\"");
        let project = project(&[("0002_coupon", create), ("0003_coupon_code", add)]);
        let settings = Settings::default();
        let both = keys(&project, &["0002_coupon", "0003_coupon_code"]);
        let found = audit(
            &project,
            &settings,
            &Selection {
                changed: both.clone(),
                new: both,
            },
        );
        assert!(
            !rules(&found).contains(&"add-non-null-field-without-default"),
            "{found:#?}"
        );
        // The table deployed already (only 0003 is new): it fires.
        let only = keys(&project, &["0003_coupon_code"]);
        let found = audit(
            &project,
            &settings,
            &Selection {
                changed: only.clone(),
                new: only,
            },
        );
        assert!(
            rules(&found).contains(&"add-non-null-field-without-default"),
            "{found:#?}"
        );
    }

    #[test]
    fn changed_since_compares_stored_contents() {
        use crate::source::{blob_id, MemorySource};
        let project = project(&[("0002_change", migration(""))]);
        let mut base = MemorySource::new("base");
        base.insert("shop/migrations/0001_initial.py", "# as upstream\n");
        let initial = keys(&project, &["0001_initial"]);
        let change = keys(&project, &["0002_change"]);
        // 0001 differs from the base's bytes, 0002 is not in the base.
        let all = Selection::changed_since(&project, &base, &|_| None);
        assert_eq!(all.changed, &initial | &change);
        assert_eq!(all.new, change);
        // What git would store of 0001 is what the base has.
        let stored = Selection::changed_since(&project, &base, &|path| {
            (path == "shop/migrations/0001_initial.py").then(|| blob_id(b"# as upstream\n"))
        });
        assert_eq!(stored.changed, change);
        let named = Selection::named(&project, initial.clone(), Some(&base));
        assert_eq!((named.changed, named.new), (initial, BTreeSet::new()));
    }

    /// A suppression of a graph rule that works (the finding is gone from
    /// the analysis) is used: the audit does not call it unused.
    #[test]
    fn a_working_suppression_of_a_graph_rule_is_used() {
        let text = migration("migrations.RunPython(forwards, backwards),").replace(
            "dependencies = [(\"shop\", \"0001_initial\")]",
            "dependencies = [\n        (\"shop\", \"0001_initial\"),\n        (\"shop\", \"0000_ghost\"),  # migguard: ignore[missing-dependency]\n    ]",
        );
        let project = project(&[("0002_change", text)]);
        assert!(
            rules(&project.suppressed).contains(&"missing-dependency"),
            "the fixture's finding is suppressed: {:#?}",
            project.suppressed
        );
        let changed = keys(&project, &["0002_change"]);
        let found = audit(
            &project,
            &Settings::default(),
            &Selection {
                changed,
                new: BTreeSet::new(),
            },
        );
        assert!(!rules(&found).contains(&"unused-suppression"), "{found:#?}");
    }
}
