//! Migration operations, normalised to Django's own parameter names.

use serde::{Deserialize, Serialize};

use super::value::{Ref, Value};
use crate::source::Span;

/// Where an operation class comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperationFamily {
    /// `django.db.migrations.operations`.
    Django,
    /// `django.contrib.postgres.operations`.
    Postgres,
    /// Anything else: a project's or a third-party package's own operation.
    Custom,
}

macro_rules! operation_kinds {
    ($( $family:ident :: $kind:ident => [$($param:literal),*] ),* $(,)?) => {
        /// Every operation Django and `django.contrib.postgres` ship, and
        /// [`OperationKind::Custom`] for the rest.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum OperationKind {
            $( $kind, )*
            Custom,
        }

        impl OperationKind {
            /// Resolve a class name within a family.
            pub fn from_name(family: OperationFamily, name: &str) -> OperationKind {
                match (family, name) {
                    $( (OperationFamily::$family, stringify!($kind)) => OperationKind::$kind, )*
                    _ => OperationKind::Custom,
                }
            }

            /// The class name, as Django spells it (`Custom` for custom ones).
            pub fn name(self) -> &'static str {
                match self {
                    $( OperationKind::$kind => stringify!($kind), )*
                    OperationKind::Custom => "Custom",
                }
            }

            /// The positional parameter names of the class's `__init__`, in
            /// order, so positional arguments get Django's keyword names.
            pub fn params(self) -> &'static [&'static str] {
                match self {
                    $( OperationKind::$kind => &[$($param),*], )*
                    OperationKind::Custom => &[],
                }
            }

            pub fn family(self) -> OperationFamily {
                match self {
                    $( OperationKind::$kind => OperationFamily::$family, )*
                    OperationKind::Custom => OperationFamily::Custom,
                }
            }
        }
    };
}

operation_kinds! {
    Django::CreateModel => ["name", "fields", "options", "bases", "managers"],
    Django::DeleteModel => ["name"],
    Django::RenameModel => ["old_name", "new_name"],
    Django::AlterModelTable => ["name", "table"],
    Django::AlterModelTableComment => ["name", "table_comment"],
    Django::AlterUniqueTogether => ["name", "unique_together"],
    Django::AlterIndexTogether => ["name", "index_together"],
    Django::AlterOrderWithRespectTo => ["name", "order_with_respect_to"],
    Django::AlterModelOptions => ["name", "options"],
    Django::AlterModelManagers => ["name", "managers"],
    Django::AddField => ["model_name", "name", "field", "preserve_default"],
    Django::RemoveField => ["model_name", "name", "field"],
    Django::AlterField => ["model_name", "name", "field", "preserve_default"],
    Django::RenameField => ["model_name", "old_name", "new_name"],
    Django::AddIndex => ["model_name", "index"],
    Django::RemoveIndex => ["model_name", "name"],
    Django::RenameIndex => ["model_name", "new_name", "old_name", "old_fields"],
    Django::AddConstraint => ["model_name", "constraint"],
    Django::RemoveConstraint => ["model_name", "name"],
    Django::AlterConstraint => ["model_name", "name", "constraint"],
    Django::RunSQL => ["sql", "reverse_sql", "state_operations", "hints", "elidable"],
    Django::RunPython => ["code", "reverse_code", "atomic", "hints", "elidable"],
    Django::SeparateDatabaseAndState => ["database_operations", "state_operations"],
    Postgres::CreateExtension => ["name"],
    Postgres::BloomExtension => [],
    Postgres::BtreeGinExtension => [],
    Postgres::BtreeGistExtension => [],
    Postgres::CITextExtension => [],
    Postgres::CryptoExtension => [],
    Postgres::HStoreExtension => [],
    Postgres::TrigramExtension => [],
    Postgres::UnaccentExtension => [],
    Postgres::CreateCollation => ["name", "locale"],
    Postgres::RemoveCollation => ["name", "locale"],
    Postgres::AddIndexConcurrently => ["model_name", "index"],
    Postgres::RemoveIndexConcurrently => ["model_name", "name"],
    Postgres::AddConstraintNotValid => ["model_name", "constraint"],
    Postgres::ValidateConstraint => ["model_name", "name"],
}

/// How a `RunPython`/`RunSQL` can be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reverse {
    /// No reverse given: Django raises `IrreversibleError` when unapplying.
    Missing,
    /// `RunPython.noop` / `RunSQL.noop`: reversible, doing nothing.
    Noop,
    /// A function or SQL is given.
    Given,
}

impl Reverse {
    pub fn is_reversible(&self) -> bool {
        !matches!(self, Reverse::Missing)
    }
}

/// The SQL of a `RunSQL`, as far as it is literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SqlText {
    /// Every statement is a literal string (a list is kept statement by statement).
    Literal(Vec<String>),
    /// Not a literal (a variable, a call, a formatted string): its source text.
    Dynamic(String),
}

impl SqlText {
    /// The statements joined as one text, when literal.
    pub fn literal(&self) -> Option<String> {
        match self {
            SqlText::Literal(parts) => Some(parts.join("\n")),
            SqlText::Dynamic(_) => None,
        }
    }
}

/// One operation of a migration's `operations` list (or of a nested list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub kind: OperationKind,
    /// The callee as written and resolved: `migrations.AddField` ->
    /// `django.db.migrations.AddField`; for a custom operation its own path.
    pub callee: Ref,
    /// Arguments under Django's own parameter names, in source order.
    /// Positional arguments beyond the known parameters (and every positional
    /// argument of a custom operation) are named `args[0]`, `args[1]`, ...
    pub args: Vec<(String, Value)>,
    /// Nested operations: `SeparateDatabaseAndState.database_operations`.
    pub database_operations: Vec<Operation>,
    /// Nested operations: `SeparateDatabaseAndState.state_operations` and
    /// `RunSQL.state_operations`.
    pub state_operations: Vec<Operation>,
    /// `RunPython` reverse_code / `RunSQL` reverse_sql.
    pub reverse: Option<Reverse>,
    /// `RunSQL` forward SQL.
    pub sql: Option<SqlText>,
    pub span: Span,
    /// 1-based line and column of the operation's call.
    pub line: u32,
    pub column: u32,
}

impl Operation {
    /// The class name: `AddField`, or a custom operation's own class name.
    pub fn type_name(&self) -> &str {
        match self.kind {
            OperationKind::Custom => self
                .callee
                .path
                .rsplit('.')
                .next()
                .unwrap_or(&self.callee.path),
            kind => kind.name(),
        }
    }

    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn str_arg(&self, name: &str) -> Option<&str> {
        self.arg(name).and_then(Value::as_str)
    }

    /// The model this operation acts on, lower-cased as Django keys models
    /// (`model_name_lower` / `name_lower`).
    pub fn model_name_lower(&self) -> Option<String> {
        use OperationKind::*;
        let raw = match self.kind {
            CreateModel
            | DeleteModel
            | AlterModelTable
            | AlterModelTableComment
            | AlterUniqueTogether
            | AlterIndexTogether
            | AlterOrderWithRespectTo
            | AlterModelOptions
            | AlterModelManagers => self.str_arg("name"),
            RenameModel => self.str_arg("old_name"),
            _ => self.str_arg("model_name"),
        }?;
        Some(raw.to_lowercase())
    }

    /// Every operation including nested ones, depth first, with whether it
    /// reaches the database (`false` inside `state_operations`).
    pub fn walk(&self) -> Vec<(&Operation, bool)> {
        let mut out = Vec::new();
        self.walk_into(true, &mut out);
        out
    }

    fn walk_into<'a>(&'a self, db: bool, out: &mut Vec<(&'a Operation, bool)>) {
        out.push((self, db));
        for op in &self.database_operations {
            op.walk_into(db, out);
        }
        for op in &self.state_operations {
            op.walk_into(false, out);
        }
    }

    /// The JSON object of the `migguard graph --format json` contract:
    /// `type`, `line`, then Django's keyword names.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Value as J};
        let mut obj = serde_json::Map::new();
        obj.insert("type".into(), J::String(self.type_name().to_owned()));
        obj.insert("line".into(), json!(self.line));
        obj.insert("column".into(), json!(self.column));
        if self.kind == OperationKind::Custom {
            obj.insert("path".into(), J::String(self.callee.path.clone()));
        }
        for (name, value) in &self.args {
            if matches!(name.as_str(), "database_operations" | "state_operations") {
                continue;
            }
            obj.insert(name.clone(), value.to_json());
        }
        if let Some(reverse) = &self.reverse {
            obj.insert("reversible".into(), J::Bool(reverse.is_reversible()));
            obj.insert("reverse_noop".into(), J::Bool(*reverse == Reverse::Noop));
        }
        if let Some(sql) = &self.sql {
            obj.insert("sql".into(), sql.literal().map_or(J::Null, J::String));
        }
        let nested = |ops: &[Operation]| J::Array(ops.iter().map(Operation::to_json).collect());
        if self.kind == OperationKind::SeparateDatabaseAndState {
            obj.insert(
                "database_operations".into(),
                nested(&self.database_operations),
            );
        }
        if matches!(
            self.kind,
            OperationKind::SeparateDatabaseAndState | OperationKind::RunSQL
        ) {
            obj.insert("state_operations".into(), nested(&self.state_operations));
        }
        J::Object(obj)
    }
}
