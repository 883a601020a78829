//! `MG5xx`: the team's migration protocol: names, isolation, squashing.

pub mod auto_named_migration;
