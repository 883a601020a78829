//! `migguard-pre-push`: run by the pre-push shim, with git's ref lines on
//! standard input. Everything lives in `migguard_cli::hooks::pre_push`.

use std::process::ExitCode;

fn main() -> ExitCode {
    migguard_cli::install_panic_hook("migguard-pre-push");
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut printer = migguard_cli::Printer::new(&mut out, &mut err);
    let mut stdin = std::io::stdin().lock();
    migguard_cli::hooks::pre_push::run(std::env::args_os(), &mut stdin, &mut printer).into()
}
