//! migguard's core: a static model of a Django project's migrations.
//!
//! Text goes in, data and diagnostics come out. This crate does not know
//! git, databases or terminals; it never prints and never panics on input.
//!
//! - [`source`]: where files come from, and byte offsets to lines;
//! - [`parse`]: Python source to [`model`] types (the only user of the parser);
//! - [`graph`]: the migration graph with the semantics of Django's loader;
//! - [`project`]: discovery of apps and a whole-project analysis;
//! - [`rules`]: the rule registry, one file per rule;
//! - [`render`]: diagnostics as text, JSON or GitHub annotations.

pub mod audit;
pub mod autodetect;
pub mod config;
pub mod diagnostic;
pub mod drift;
pub mod error;
pub mod fix;
pub mod graph;
pub mod model;
pub mod models;
pub mod parse;
pub mod project;
pub mod render;
pub mod review;
pub mod rules;
pub mod source;
pub mod state;
