//! `migguard`: the command line. Everything lives in `migguard_cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    migguard_cli::install_panic_hook("migguard");
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut printer = migguard_cli::Printer::new(&mut out, &mut err);
    migguard_cli::run_migguard(std::env::args_os(), &mut printer).into()
}
