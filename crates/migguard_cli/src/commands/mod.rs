//! One file per command.

pub(crate) mod check;
mod fix;
mod graph;
mod install;
mod review;
mod rule;
mod snapshot;
mod status;
mod sync;

use anyhow::Result;

use crate::args::{Cli, Command};
use crate::{ExitStatus, Printer};

pub fn run(cli: Cli, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    match cli.command {
        Command::Check(args) => check::run(&args, printer),
        Command::Graph(args) => graph::run(&args, printer),
        Command::Rule(args) => rule::run(&args, printer),
        Command::Merge(args) => fix::merge(&args, printer),
        Command::Rebase(args) => fix::rebase(&args, printer),
        Command::Lock(args) => fix::lock(&args, printer),
        Command::Review(args) => review::run(&args, printer),
        Command::Install(args) => install::install(&args, printer),
        Command::Uninstall(args) => install::uninstall(&args, printer),
        Command::Status(args) => status::status(&args, printer),
        Command::Plan(args) => status::plan(&args, printer),
        Command::Sync(args) => sync::run(&args, printer),
        Command::Snapshot(args) => snapshot::run(&args, printer),
    }
}
