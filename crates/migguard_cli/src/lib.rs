//! migguard's command line: argument parsing, the commands, the git hooks
//! and all terminal output. The binaries in `crates/migguard/` only call
//! [`run_migguard`] or one of [`hooks`]; library crates below never print.

mod args;
mod commands;
pub mod dbstate;
pub mod hooks;
mod printer;
mod workspace;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

pub use printer::Printer;

/// Every migguard binary links this crate, so this is their allocator:
/// an analysis builds many small strings and trees, and mimalloc serves
/// them in a fraction of the time glibc's malloc takes (see `benches/`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, as an exit code: 0 nothing at error level, 1
/// errors found, 2 usage or internal failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Failure,
    Error,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// `migguard ...`: parse `args` (including the program name) and run.
pub fn run_migguard(
    args: impl IntoIterator<Item = OsString>,
    printer: &mut Printer<'_>,
) -> ExitStatus {
    let cli = match <args::Cli as clap::Parser>::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let is_info = matches!(
                err.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            let text = err.render().to_string();
            if is_info {
                let _ = write!(printer.out, "{text}");
                return ExitStatus::Success;
            }
            let _ = write!(printer.err, "{text}");
            return ExitStatus::Error;
        }
    };
    match commands::run(cli, printer) {
        Ok(status) => status,
        // `migguard graph | head`: the reader has all it wanted.
        Err(err) if is_broken_pipe(&err) => ExitStatus::Success,
        Err(err) => {
            printer.error(&format!("{err:#}"));
            ExitStatus::Error
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Install a panic hook that turns a bug into one clear line instead of a
/// backtrace, and says how to get past a blocking hook.
pub fn install_panic_hook(program: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let mut stderr = std::io::stderr();
        let _ = writeln!(
            stderr,
            "{program}: internal error (this is a bug in migguard, please report it): {info}\n\
             To commit or push anyway: set MIGGUARD=0 or pass --no-verify to git."
        );
    }));
}

#[cfg(test)]
mod broken_pipe_tests {
    use super::is_broken_pipe;

    #[test]
    fn a_closed_pipe_is_told_apart_from_other_failures() {
        let closed = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("cannot write the graph");
        assert!(is_broken_pipe(&closed));
        let full = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(!is_broken_pipe(&full));
        assert!(!is_broken_pipe(&anyhow::anyhow!("no such revision")));
    }
}
