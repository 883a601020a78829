//! The data model everything else works on: migrations, operations, values.
//!
//! Nothing here knows about the parser: `parse` builds these types, and the
//! graph, state and rules only read them.

mod migration;
mod operation;
mod value;

pub use migration::{Dependency, DependencyTarget, Migration, MigrationKey, Suppression};
pub use operation::{Operation, OperationFamily, OperationKind, Reverse, SqlText};
pub use value::{Call, Ref, Value};
