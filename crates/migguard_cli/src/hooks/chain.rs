//! What every hook binary shares: the arguments the shim passes, and
//! running the hook that was there before `migguard install`.
//!
//! The shim (`hooks/shim.sh`) runs `migguard-<hook> --hook-dir DIR -- ARGS`.
//! `migguard install` moved a foreign hook to `DIR/<hook>.legacy`; the hook
//! binaries run it with git's arguments (and, for pre-push, the same
//! standard input) through [`run_legacy`] and fold its status into theirs.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Set in the environment of a legacy hook. A hook binary that sees it does
/// not run a legacy hook again, which stops a loop if a `.legacy` file is
/// (or execs) a migguard shim.
pub const LEGACY_RUNNING_ENV: &str = "MIGGUARD_LEGACY_RUNNING";

/// A hook binary's command line: `[prog] [--hook-dir DIR] [--] args...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookArgs {
    /// The directory of the shim git ran, where `<hook>.legacy` lives.
    /// `None` when the binary is run by hand without `--hook-dir`.
    pub hook_dir: Option<PathBuf>,
    /// git's arguments for the hook, unchanged.
    pub args: Vec<OsString>,
}

/// Parse a hook binary's command line. `argv` starts with the program name,
/// as [`std::env::args_os`] does. Only a leading `--hook-dir DIR` (or
/// `--hook-dir=DIR`) and then a leading `--` are ours; everything after
/// them is git's, so a binary run by hand with just git's arguments works.
pub fn parse_hook_args(argv: impl IntoIterator<Item = OsString>) -> HookArgs {
    let mut rest = argv.into_iter().skip(1).peekable();
    let mut hook_dir = None;
    if let Some(first) = rest.peek() {
        if first == "--hook-dir" {
            rest.next();
            hook_dir = rest.next();
        } else if let Some(dir) = first.to_str().and_then(|s| s.strip_prefix("--hook-dir=")) {
            hook_dir = Some(OsString::from(dir));
            rest.next();
        }
    }
    if rest.peek().is_some_and(|arg| arg == "--") {
        rest.next();
    }
    HookArgs {
        hook_dir: hook_dir.filter(|dir| !dir.is_empty()).map(PathBuf::from),
        args: rest.collect(),
    }
}

/// Run as a hook of the pre-commit framework (`.pre-commit-hooks.yaml`)
/// rather than by our shim: the framework sets `PRE_COMMIT=1` and passes
/// neither git's arguments nor pre-push's standard input on. It exposes
/// them as `PRE_COMMIT_FROM_REF`, `PRE_COMMIT_TO_REF`,
/// `PRE_COMMIT_CHECKOUT_TYPE`, `PRE_COMMIT_REMOTE_NAME`, ... instead, and
/// runs the previous hook itself.
pub fn run_by_pre_commit_framework(hook: &HookArgs) -> bool {
    hook.hook_dir.is_none()
        && hook.args.is_empty()
        && std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1")
}

/// git's hook arguments or input are not what githooks(5) describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

/// A full object name as git passes it to hooks: 40 (SHA-1) or 64
/// (SHA-256) lowercase hexadecimal digits.
pub fn is_object_name(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The all-zero object name: "no commit" (a new branch, a deletion, the
/// previous HEAD of a fresh clone).
pub fn is_zero_object_name(text: &str) -> bool {
    is_object_name(text) && text.bytes().all(|b| b == b'0')
}

/// The file `migguard install` moved a foreign `<hook>` to.
pub fn legacy_path(hook: &str, hook_dir: &Path) -> PathBuf {
    hook_dir.join(format!("{hook}.legacy"))
}

/// Run `<hook_dir>/<hook>.legacy`, if it exists and is executable (git
/// ignores a hook that is not), with `args`, with `stdin` written to its
/// standard input (`None`: it inherits ours), inheriting standard output
/// and error, and with [`LEGACY_RUNNING_ENV`] set.
///
/// Returns `Ok(None)` when there is nothing to run (or a legacy hook is
/// already running above us), else its exit code; a hook killed by a signal
/// counts as `128 + signal`, as in a shell. `Err` means it could not be
/// started.
pub fn run_legacy(
    hook: &str,
    hook_dir: &Path,
    args: &[OsString],
    stdin: Option<&[u8]>,
) -> std::io::Result<Option<i32>> {
    if std::env::var_os(LEGACY_RUNNING_ENV).is_some_and(|v| !v.is_empty()) {
        return Ok(None);
    }
    let path = legacy_path(hook, hook_dir);
    if !is_executable(&path) {
        return Ok(None);
    }
    let mut child = match spawn(Command::new(&path), args, stdin) {
        Err(err) if is_exec_format_error(&err) => {
            // A script without a `#!` line: git runs those with sh too.
            let mut sh = Command::new("sh");
            sh.arg(&path);
            spawn(sh, args, stdin)?
        }
        other => other?,
    };
    let writer = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            // A thread, so a hook that exits without reading all of its input
            // cannot block us; a broken pipe is then expected, not an error.
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let status = child.wait()?;
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Ok(Some(exit_code(status)))
}

fn spawn(
    mut cmd: Command,
    args: &[OsString],
    stdin: Option<&[u8]>,
) -> std::io::Result<std::process::Child> {
    cmd.args(args)
        .env(LEGACY_RUNNING_ENV, "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let mut attempts = 0;
    loop {
        match cmd.spawn() {
            // "Text file busy": the file was just written and another
            // process still holds it open for a moment. Try again.
            Err(err) if is_text_file_busy(&err) && attempts < 10 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(unix)]
fn is_exec_format_error(err: &std::io::Error) -> bool {
    // ENOEXEC is 8 on Linux, macOS and the BSDs.
    err.raw_os_error() == Some(8)
}

#[cfg(not(unix))]
fn is_exec_format_error(_err: &std::io::Error) -> bool {
    false
}

fn is_text_file_busy(err: &std::io::Error) -> bool {
    // ETXTBSY is 26 on Linux, macOS and the BSDs.
    cfg!(unix) && err.raw_os_error() == Some(26)
}

#[cfg(unix)]
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

#[cfg(not(unix))]
fn exit_code(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn object_names() {
        assert!(is_object_name(&"a".repeat(40)));
        assert!(is_object_name(&"0".repeat(64)));
        assert!(!is_object_name(&"A".repeat(40)), "git prints lowercase");
        assert!(!is_object_name(&"a".repeat(39)));
        assert!(!is_object_name("HEAD"));
        assert!(is_zero_object_name(&"0".repeat(40)));
        assert!(!is_zero_object_name(&format!("{}1", "0".repeat(39))));
        assert!(!is_zero_object_name("0"));
    }

    #[test]
    fn parses_what_the_shim_passes() {
        let parsed = parse_hook_args(os(&[
            "migguard-pre-push",
            "--hook-dir",
            ".git/hooks",
            "--",
            "origin",
            "url",
        ]));
        assert_eq!(parsed.hook_dir, Some(PathBuf::from(".git/hooks")));
        assert_eq!(parsed.args, os(&["origin", "url"]));
    }

    #[test]
    fn parses_a_run_by_hand() {
        let parsed = parse_hook_args(os(&["migguard-post-checkout", "a", "b", "1"]));
        assert_eq!(parsed.hook_dir, None);
        assert_eq!(parsed.args, os(&["a", "b", "1"]));

        let parsed = parse_hook_args(os(&["migguard-pre-commit"]));
        assert_eq!(
            parsed,
            HookArgs {
                hook_dir: None,
                args: vec![]
            }
        );

        let parsed = parse_hook_args(Vec::new());
        assert_eq!(
            parsed,
            HookArgs {
                hook_dir: None,
                args: vec![]
            }
        );

        let parsed = parse_hook_args(os(&["p", "--", "--hook-dir", "x"]));
        assert_eq!(parsed.hook_dir, None, "after `--` everything is git's");
        assert_eq!(parsed.args, os(&["--hook-dir", "x"]));
    }

    #[test]
    fn parses_the_other_spellings() {
        let parsed = parse_hook_args(os(&["p", "--hook-dir=/h", "x"]));
        assert_eq!(parsed.hook_dir, Some(PathBuf::from("/h")));
        assert_eq!(parsed.args, os(&["x"]));

        let parsed = parse_hook_args(os(&["p", "--hook-dir", "/h", "--", "--", "y"]));
        assert_eq!(parsed.args, os(&["--", "y"]), "only the first `--` is ours");

        let parsed = parse_hook_args(os(&["p", "--hook-dir"]));
        assert_eq!(
            parsed,
            HookArgs {
                hook_dir: None,
                args: vec![]
            }
        );

        let parsed = parse_hook_args(os(&["p", "--hook-dir", "", "--", "a"]));
        assert_eq!(parsed.hook_dir, None);
        assert_eq!(parsed.args, os(&["a"]));
    }

    #[cfg(unix)]
    mod legacy {
        use super::*;
        use std::os::unix::fs::PermissionsExt;

        fn write_hook(dir: &Path, name: &str, text: &str, mode: u32) {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }

        #[test]
        fn nothing_to_run() {
            let dir = tempfile::tempdir().unwrap();
            assert_eq!(
                run_legacy("pre-commit", dir.path(), &[], None).unwrap(),
                None
            );
            write_hook(
                dir.path(),
                "pre-commit.legacy",
                "#!/bin/sh\nexit 3\n",
                0o644,
            );
            assert_eq!(
                run_legacy("pre-commit", dir.path(), &[], None).unwrap(),
                None,
                "git ignores a hook that is not executable"
            );
        }

        #[test]
        fn runs_with_args_stdin_and_env_and_returns_the_code() {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("seen");
            write_hook(
                dir.path(),
                "pre-push.legacy",
                &format!(
                    "#!/bin/sh\n{{ printf '%s|' \"$@\"; echo \"env=${LEGACY_RUNNING_ENV}\"; cat; }} > '{}'\nexit 7\n",
                    out.display()
                ),
                0o755,
            );
            let stdin = b"refs/heads/main abc refs/heads/main def\n";
            let code =
                run_legacy("pre-push", dir.path(), &os(&["origin", "a b"]), Some(stdin)).unwrap();
            assert_eq!(code, Some(7));
            let seen = std::fs::read_to_string(&out).unwrap();
            assert_eq!(
                seen,
                "origin|a b|env=1\nrefs/heads/main abc refs/heads/main def\n"
            );
        }

        #[test]
        fn success_and_a_script_without_shebang() {
            let dir = tempfile::tempdir().unwrap();
            write_hook(dir.path(), "post-checkout.legacy", "exit 0\n", 0o755);
            assert_eq!(
                run_legacy("post-checkout", dir.path(), &[], None).unwrap(),
                Some(0)
            );
            write_hook(
                dir.path(),
                "pre-commit.legacy",
                "test \"$1\" = x || exit 4\nexit 5\n",
                0o755,
            );
            assert_eq!(
                run_legacy("pre-commit", dir.path(), &os(&["x"]), None).unwrap(),
                Some(5)
            );
        }

        #[test]
        fn a_hook_that_ignores_a_large_stdin_does_not_hang() {
            let dir = tempfile::tempdir().unwrap();
            write_hook(dir.path(), "pre-push.legacy", "#!/bin/sh\nexit 1\n", 0o755);
            let big = vec![b'x'; 1 << 20];
            assert_eq!(
                run_legacy("pre-push", dir.path(), &[], Some(&big)).unwrap(),
                Some(1)
            );
        }
    }
}
