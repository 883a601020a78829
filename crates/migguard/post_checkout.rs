//! `migguard-post-checkout`: run by the post-checkout shim. Everything lives
//! in `migguard_cli::hooks::post_checkout`; it always exits 0.

use std::process::ExitCode;

fn main() -> ExitCode {
    migguard_cli::install_panic_hook("migguard-post-checkout");
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut printer = migguard_cli::Printer::new(&mut out, &mut err);
    migguard_cli::hooks::post_checkout::run(std::env::args_os(), &mut printer).into()
}
