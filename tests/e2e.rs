//! End-to-end tests: the real binaries, real git, real Django, real databases.

mod support;

mod cli;
mod corpus;
mod django_agreement;
mod install;
mod merge_rebase;
mod post_checkout;
mod pre_commit;
mod pre_push;
mod realworld;
mod status_agreement;
mod sync;
