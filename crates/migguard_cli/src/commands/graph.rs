//! `migguard graph`: the migration graph as Django's loader sees it.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;
use migguard_core::graph::NodeKind;
use migguard_core::model::{DependencyTarget, Migration, MigrationKey};
use migguard_core::project::Project;
use serde_json::{json, Value};

use crate::args::{GraphArgs, GraphFormat};
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

pub fn run(args: &GraphArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let workspace = Workspace::open(&args.source)?;
    let project = workspace.analyze()?;
    let wanted: BTreeSet<&str> = args.apps.iter().map(String::as_str).collect();
    for app in &wanted {
        if !project.discovery.apps.iter().any(|a| a.label == *app) {
            printer.error(&format!(
                "no app `{app}` with migrations in {}",
                workspace.root.display()
            ));
            return Ok(ExitStatus::Error);
        }
    }
    let shown = |app: &str| wanted.is_empty() || wanted.contains(app);
    match args.format {
        GraphFormat::Json => {
            let value = to_json(&project, &shown);
            writeln!(printer.out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        GraphFormat::Text => write_text(&project, &shown, printer.out)?,
        GraphFormat::Dot => write_dot(&project, &shown, printer.out)?,
        GraphFormat::Mermaid => write_mermaid(&project, &shown, printer.out)?,
    }
    let errors = project
        .diagnostics
        .iter()
        .any(|d| d.severity == migguard_core::diagnostic::Severity::Error);
    Ok(if errors {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn dependency_pair(project: &Project, target: &DependencyTarget) -> Value {
    match target {
        DependencyTarget::Key(k) => json!([k.app, k.name]),
        DependencyTarget::Swappable { setting } => match project.settings.swappable(setting) {
            Some(model) => json!([model.split('.').next().unwrap_or(&model), "__first__"]),
            None => json!({ "swappable": setting }),
        },
    }
}

fn migration_json(project: &Project, m: &Migration) -> Value {
    let deps = |list: &[migguard_core::model::Dependency]| -> Vec<Value> {
        list.iter()
            .map(|d| dependency_pair(project, &d.target))
            .collect()
    };
    json!({
        "app": m.key.app,
        "name": m.key.name,
        "path": m.path,
        "line": m.line,
        "dependencies": deps(&m.dependencies),
        "replaces": deps(&m.replaces),
        "run_before": deps(&m.run_before),
        "initial": m.initial,
        "atomic": m.atomic,
        "operations": m.operations.iter().map(|op| op.to_json()).collect::<Vec<_>>(),
    })
}

/// The `migguard graph --format json` contract, plus the graph's nodes,
/// edges and plan after squash replacement.
pub fn to_json(project: &Project, shown: &dyn Fn(&str) -> bool) -> Value {
    let migrations: Vec<Value> = project
        .migrations
        .iter()
        .filter(|m| shown(&m.key.app))
        .map(|m| migration_json(project, m))
        .collect();
    let per_app =
        |map: &std::collections::BTreeMap<String, Vec<String>>| -> serde_json::Map<String, Value> {
            map.iter()
                .filter(|(app, _)| shown(app))
                .map(|(app, names)| (app.clone(), json!(names)))
                .collect()
        };
    let graph = &project.graph.graph;
    let nodes: Vec<&MigrationKey> = graph
        .keys()
        .filter(|k| shown(&k.app) && matches!(graph.kind(k), Some(NodeKind::Migration(_))))
        .collect();
    let edges: Vec<Value> = nodes
        .iter()
        .flat_map(|k| {
            graph
                .parents(k)
                .map(move |p| json!([k.app, k.name, p.app, p.name]))
        })
        .collect();
    let leaves: Vec<MigrationKey> = project
        .graph
        .leaves
        .iter()
        .filter(|(app, _)| shown(app))
        .flat_map(|(app, leaves)| leaves.iter().map(move |leaf| MigrationKey::new(app, leaf)))
        .collect();
    let plan: Vec<Value> = graph
        .forwards_plan_all(&leaves)
        .into_iter()
        .filter(|key| matches!(graph.kind(key), Some(NodeKind::Migration(_))))
        .map(|key| json!([key.app, key.name]))
        .collect();
    let apps: Vec<Value> = project
        .discovery
        .apps
        .iter()
        .filter(|a| shown(&a.label))
        .map(|a| json!({ "label": a.label, "path": a.dir, "migrations": a.migrations_dir }))
        .collect();
    json!({
        "apps": apps,
        "migrations": migrations,
        "leaves": per_app(&project.graph.leaves),
        "conflicts": per_app(&project.graph.conflicts),
        "graph": {
            "nodes": nodes.iter().map(|k| json!([k.app, k.name])).collect::<Vec<_>>(),
            "edges": edges,
            "replacements": project.graph.replacements_used.iter().map(|k| json!([k.app, k.name])).collect::<Vec<_>>(),
            "plan": plan,
        },
        "errors": project.diagnostics.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
    })
}

fn write_text(project: &Project, shown: &dyn Fn(&str) -> bool, out: &mut dyn Write) -> Result<()> {
    let graph = &project.graph.graph;
    for app in project.discovery.apps.iter().filter(|a| shown(&a.label)) {
        let leaves = project
            .graph
            .leaves
            .get(&app.label)
            .cloned()
            .unwrap_or_default();
        let conflict = project.graph.conflicts.contains_key(&app.label);
        writeln!(
            out,
            "{}{}",
            app.label,
            if conflict {
                "  (CONFLICT: more than one leaf)"
            } else {
                ""
            }
        )?;
        let mut listed = BTreeSet::new();
        for leaf in &leaves {
            for key in graph.forwards_plan(&MigrationKey::new(&app.label, leaf)) {
                if key.app != app.label || !listed.insert(key.clone()) {
                    continue;
                }
                let mut notes = Vec::new();
                if leaves.contains(&key.name) {
                    notes.push("leaf".to_owned());
                }
                if let Some(m) = project.migration(&key) {
                    if !m.replaces.is_empty() {
                        notes.push(format!("squashes {}", m.replaces.len()));
                    }
                    notes.push(format!("{} ops", m.operations.len()));
                }
                let parents: Vec<String> = graph
                    .parents(&key)
                    .map(|p| {
                        if p.app == key.app {
                            p.name.clone()
                        } else {
                            p.to_string()
                        }
                    })
                    .collect();
                writeln!(
                    out,
                    "  {}  <- [{}]  ({})",
                    key.name,
                    parents.join(", "),
                    notes.join(", ")
                )?;
            }
        }
    }
    Ok(())
}

fn node_id(key: &MigrationKey) -> String {
    format!("{}__{}", key.app, key.name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn write_dot(project: &Project, shown: &dyn Fn(&str) -> bool, out: &mut dyn Write) -> Result<()> {
    let graph = &project.graph.graph;
    writeln!(
        out,
        "digraph migrations {{\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];"
    )?;
    for app in project.discovery.apps.iter().filter(|a| shown(&a.label)) {
        writeln!(
            out,
            "  subgraph \"cluster_{}\" {{\n    label=\"{}\";",
            app.label, app.label
        )?;
        let leaves = project.graph.conflicts.get(&app.label);
        for key in graph.keys().filter(|k| k.app == app.label) {
            let mut attrs = vec![format!("label=\"{}\"", key.name)];
            if leaves.is_some_and(|l| l.contains(&key.name)) {
                attrs.push("color=red, penwidth=2".into());
            }
            if project
                .migration(key)
                .is_some_and(|m| !m.replaces.is_empty())
            {
                attrs.push("style=dashed".into());
            }
            writeln!(out, "    {} [{}];", node_id(key), attrs.join(", "))?;
        }
        writeln!(out, "  }}")?;
    }
    for key in graph.keys().filter(|k| shown(&k.app)) {
        for parent in graph.parents(key) {
            writeln!(out, "  {} -> {};", node_id(key), node_id(parent))?;
        }
    }
    writeln!(out, "}}")?;
    Ok(())
}

fn write_mermaid(
    project: &Project,
    shown: &dyn Fn(&str) -> bool,
    out: &mut dyn Write,
) -> Result<()> {
    let graph = &project.graph.graph;
    writeln!(out, "flowchart BT")?;
    let mut conflicted = Vec::new();
    let mut squashed = Vec::new();
    for app in project.discovery.apps.iter().filter(|a| shown(&a.label)) {
        writeln!(
            out,
            "  subgraph {}[\"{}\"]",
            node_id(&MigrationKey::new(&app.label, "")),
            app.label
        )?;
        let leaves = project.graph.conflicts.get(&app.label);
        for key in graph.keys().filter(|k| k.app == app.label) {
            writeln!(out, "    {}[\"{}\"]", node_id(key), key.name)?;
            if leaves.is_some_and(|l| l.contains(&key.name)) {
                conflicted.push(node_id(key));
            }
            if project
                .migration(key)
                .is_some_and(|m| !m.replaces.is_empty())
            {
                squashed.push(node_id(key));
            }
        }
        writeln!(out, "  end")?;
    }
    for key in graph.keys().filter(|k| shown(&k.app)) {
        for parent in graph.parents(key) {
            if shown(&parent.app) {
                writeln!(out, "  {} --> {}", node_id(key), node_id(parent))?;
            }
        }
    }
    if !conflicted.is_empty() {
        writeln!(out, "  classDef conflict stroke:#d00,stroke-width:3px")?;
        writeln!(out, "  class {} conflict", conflicted.join(","))?;
    }
    if !squashed.is_empty() {
        writeln!(out, "  classDef squashed stroke-dasharray: 5 5")?;
        writeln!(out, "  class {} squashed", squashed.join(","))?;
    }
    Ok(())
}
