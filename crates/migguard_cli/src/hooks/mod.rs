//! Hook entry points (one module per git hook).

pub mod chain;
pub mod post_checkout;
pub mod pre_commit;
pub mod pre_push;
mod push_audit;
mod report;
pub mod snapshots;
