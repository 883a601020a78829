//! `migguard-pre-merge-commit`: run by the pre-merge-commit shim. Everything
//! lives in `migguard_cli::hooks::pre_commit`.

use std::process::ExitCode;

fn main() -> ExitCode {
    migguard_cli::install_panic_hook("migguard-pre-merge-commit");
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut printer = migguard_cli::Printer::new(&mut out, &mut err);
    migguard_cli::hooks::pre_commit::run_merge(std::env::args_os(), &mut printer).into()
}
