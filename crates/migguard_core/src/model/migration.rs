//! One migration file, as read statically.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::operation::Operation;
use crate::source::Span;

/// `(app_label, migration_name)`, Django's node key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MigrationKey {
    pub app: String,
    pub name: String,
}

impl MigrationKey {
    pub fn new(app: impl Into<String>, name: impl Into<String>) -> Self {
        MigrationKey {
            app: app.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for MigrationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.app, self.name)
    }
}

/// An entry of `dependencies` (or `run_before`/`replaces`) as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub target: DependencyTarget,
    pub span: Span,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DependencyTarget {
    /// `("blog", "0001_initial")`, `("blog", "__first__")`, `("blog", "__latest__")`.
    Key(MigrationKey),
    /// `migrations.swappable_dependency(settings.X)`: resolved against the
    /// project's settings when the graph is built, to `(app_of_X, "__first__")`.
    Swappable { setting: String },
}

/// One migration module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    pub key: MigrationKey,
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    /// Where `class Migration` starts.
    pub span: Span,
    pub line: u32,
    pub column: u32,
    pub dependencies: Vec<Dependency>,
    pub replaces: Vec<Dependency>,
    pub run_before: Vec<Dependency>,
    /// False when `dependencies`, `replaces` or `run_before` is computed (a
    /// call, a name, an entry migguard cannot evaluate, an assignment under
    /// `if`): the edges read are then only part of the ones Django sees, so
    /// the app's leaves and roots are not known for sure.
    #[serde(default = "graph_complete_default")]
    pub graph_complete: bool,
    /// The `initial` class attribute; `None` when not set.
    pub initial: Option<bool>,
    /// The `atomic` class attribute; `None` when not set (Django's default is `True`).
    pub atomic: Option<bool>,
    pub operations: Vec<Operation>,
    /// Inline suppressions (`# migguard: ignore[rule-name]`) by 1-based line.
    pub suppressions: Vec<Suppression>,
}

/// `# migguard: ignore[rule-a, rule-b]` on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub line: u32,
    /// Rule names or codes as written.
    pub rules: Vec<String>,
}

fn graph_complete_default() -> bool {
    true
}

impl Migration {
    /// Every operation including nested ones, with whether it reaches the database.
    pub fn all_operations(&self) -> impl Iterator<Item = (&Operation, bool)> {
        self.operations.iter().flat_map(Operation::walk)
    }
}
