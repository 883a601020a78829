//! The pre-push hook.
//!
//! It reads git's arguments and standard input (githooks(5): arguments
//! `<remote name> <remote url>`, then one line per ref to update,
//! `<local ref> <local sha> <remote ref> <remote sha>`), runs the previous
//! hook, `<hook-dir>/pre-push.legacy`, with the same arguments and the same
//! standard input (git gives it to us once; we replay it), then audits the
//! pushed commits ([`super::push_audit`]).
//!
//! Under the pre-commit framework, which passes neither (see
//! [`chain::run_by_pre_commit_framework`]), the range comes from its
//! `PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF` environment.
//!
//! Exit status: 1 if the previous hook failed, 2 if git's input cannot be
//! understood (the message names `--no-verify` / `MIGGUARD=0`), else 0.

use std::ffi::OsString;
use std::io::Read;

use super::chain::{self, is_object_name, is_zero_object_name, ProtocolError};
use crate::{ExitStatus, Printer};

pub const HOOK: &str = "pre-push";

/// One line of pre-push's standard input: a ref git is about to update on
/// the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushUpdate {
    /// The local ref pushed (`refs/heads/main`, `HEAD`, ...), or `(delete)`.
    pub local_ref: String,
    /// The commit pushed; all zeros for a deletion.
    pub local_sha: String,
    /// The ref updated on the remote.
    pub remote_ref: String,
    /// What the remote ref is now; all zeros if it does not exist yet.
    pub remote_sha: String,
}

impl PushUpdate {
    /// `git push origin :branch` / `--delete`: nothing is pushed.
    pub fn is_deletion(&self) -> bool {
        is_zero_object_name(&self.local_sha)
    }

    /// The remote ref does not exist yet (a new branch or tag): the commits
    /// to check are `rev-list <local sha> --not --remotes=<remote>`, not a
    /// range from the remote sha.
    pub fn creates_remote_ref(&self) -> bool {
        is_zero_object_name(&self.remote_sha)
    }
}

/// pre-push's arguments and standard input, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrePush {
    /// The remote's name, or its URL when pushing to a URL directly.
    pub remote_name: String,
    pub remote_url: String,
    pub updates: Vec<PushUpdate>,
}

impl PrePush {
    pub fn parse(args: &[OsString], stdin: &[u8]) -> Result<PrePush, ProtocolError> {
        let [name, url] = args else {
            return Err(ProtocolError(format!(
                "{HOOK} expects 2 arguments (remote name, remote URL), got {}",
                args.len()
            )));
        };
        Ok(PrePush {
            remote_name: name.to_string_lossy().into_owned(),
            remote_url: url.to_string_lossy().into_owned(),
            updates: parse_updates(stdin)?,
        })
    }
}

impl PrePush {
    /// The push as the pre-commit framework describes it in its environment
    /// (`PRE_COMMIT_FROM_REF`: what the remote has, `PRE_COMMIT_TO_REF`:
    /// what is pushed, `PRE_COMMIT_REMOTE_NAME` / `_URL` / `_BRANCH`,
    /// `PRE_COMMIT_LOCAL_BRANCH`). `None` when the range is not given (the
    /// framework run by hand, `pre-commit run --all-files`).
    pub fn from_pre_commit_framework(var: impl Fn(&str) -> Option<String>) -> Option<PrePush> {
        let to = var("PRE_COMMIT_TO_REF").filter(|sha| is_object_name(sha))?;
        let from = var("PRE_COMMIT_FROM_REF")
            .filter(|sha| is_object_name(sha) && sha.len() == to.len())
            .unwrap_or_else(|| "0".repeat(to.len()));
        Some(PrePush {
            remote_name: var("PRE_COMMIT_REMOTE_NAME").unwrap_or_else(|| "origin".into()),
            remote_url: var("PRE_COMMIT_REMOTE_URL").unwrap_or_default(),
            updates: vec![PushUpdate {
                local_ref: var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".into()),
                local_sha: to,
                remote_ref: var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|| "HEAD".into()),
                remote_sha: from,
            }],
        })
    }
}

/// Parse pre-push's standard input. Blank lines are skipped (git sends none
/// when there is nothing to push); every other line must have four
/// space-separated fields (the first may contain spaces), with full object
/// names of one length. Ref names that are not UTF-8 are read lossily.
pub fn parse_updates(stdin: &[u8]) -> Result<Vec<PushUpdate>, ProtocolError> {
    let text = String::from_utf8_lossy(stdin);
    let mut updates = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| {
            ProtocolError(format!(
                "{HOOK}: line {} of standard input {why}: {line:?}",
                index + 1
            ))
        };
        // The local ref is what was typed (`HEAD~1`, `main^{/fix it}`) and may
        // hold spaces; the other three fields cannot.
        let mut fields: Vec<&str> = line.trim_end().rsplitn(4, ' ').collect();
        fields.reverse();
        let [local_ref, local_sha, remote_ref, remote_sha] = fields[..] else {
            return Err(bad(
                "does not have 4 fields (<local ref> <local sha> <remote ref> <remote sha>)",
            ));
        };
        if local_ref.is_empty() || remote_ref.is_empty() {
            return Err(bad("has an empty ref"));
        }
        if !is_object_name(local_sha) || !is_object_name(remote_sha) {
            return Err(bad("has a field that is not a full object name"));
        }
        if local_sha.len() != remote_sha.len() {
            return Err(bad("mixes object name lengths"));
        }
        updates.push(PushUpdate {
            local_ref: local_ref.to_owned(),
            local_sha: local_sha.to_owned(),
            remote_ref: remote_ref.to_owned(),
            remote_sha: remote_sha.to_owned(),
        });
    }
    Ok(updates)
}

/// `migguard-pre-push [--hook-dir DIR] [--] REMOTE URL`, with git's ref
/// lines on `stdin` (read once, to the end, and replayed to the previous hook).
pub fn run(
    argv: impl IntoIterator<Item = OsString>,
    stdin: &mut dyn Read,
    printer: &mut Printer<'_>,
) -> ExitStatus {
    let hook = chain::parse_hook_args(argv);
    if chain::run_by_pre_commit_framework(&hook) {
        // The framework has read git's input itself and hands us the range.
        let Some(push) = PrePush::from_pre_commit_framework(|name| std::env::var(name).ok()) else {
            return ExitStatus::Success;
        };
        return match super::push_audit::check(&push, printer) {
            Ok(status) => status,
            Err(err) => {
                printer.error(&format!("{err:#}"));
                escape_hatch(printer);
                ExitStatus::Error
            }
        };
    }
    let mut input = Vec::new();
    if let Err(err) = stdin.read_to_end(&mut input) {
        printer.error(&format!("cannot read {HOOK}'s standard input: {err}"));
        escape_hatch(printer);
        return ExitStatus::Error;
    }
    let legacy = match &hook.hook_dir {
        Some(dir) => match chain::run_legacy(HOOK, dir, &hook.args, Some(&input)) {
            Ok(code) => code,
            Err(err) => {
                printer.error(&format!(
                    "cannot run the previous {HOOK} hook ({}): {err}",
                    chain::legacy_path(HOOK, dir).display()
                ));
                Some(1)
            }
        },
        None => None,
    };
    let ours = match PrePush::parse(&hook.args, &input) {
        Ok(push) => match super::push_audit::check(&push, printer) {
            Ok(status) => status,
            Err(err) => {
                printer.error(&format!("{err:#}"));
                escape_hatch(printer);
                ExitStatus::Error
            }
        },
        Err(err) => {
            printer.error(&err.to_string());
            escape_hatch(printer);
            ExitStatus::Error
        }
    };
    match legacy {
        Some(code) if code != 0 && ours == ExitStatus::Success => ExitStatus::Failure,
        _ => ours,
    }
}

fn escape_hatch(printer: &mut Printer<'_>) {
    printer.note("to push anyway: `git push --no-verify` (or MIGGUARD=0 git push)");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn zero() -> String {
        "0".repeat(40)
    }

    #[test]
    fn parses_an_update_a_new_branch_and_a_deletion() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let stdin = format!(
            "refs/heads/main {a} refs/heads/main {b}\n\
             refs/heads/feat {a} refs/heads/feat {z}\n\
             (delete) {z} refs/heads/old {b}\n",
            z = zero()
        );
        let push = PrePush::parse(&os(&["origin", "../remote.git"]), stdin.as_bytes()).unwrap();
        assert_eq!(push.remote_name, "origin");
        assert_eq!(push.remote_url, "../remote.git");
        assert_eq!(
            push.updates[0],
            PushUpdate {
                local_ref: "refs/heads/main".into(),
                local_sha: a.clone(),
                remote_ref: "refs/heads/main".into(),
                remote_sha: b.clone(),
            }
        );
        let kinds: Vec<(bool, bool)> = push
            .updates
            .iter()
            .map(|u| (u.is_deletion(), u.creates_remote_ref()))
            .collect();
        assert_eq!(kinds, [(false, false), (false, true), (true, false)]);
        assert_eq!(push.updates[2].local_ref, "(delete)");
    }

    #[test]
    fn nothing_to_push_and_sha256() {
        assert_eq!(PrePush::parse(&os(&["o", "u"]), b"").unwrap().updates, []);
        assert_eq!(parse_updates(b"\n\n").unwrap(), []);
        let (c, z) = ("c".repeat(64), "0".repeat(64));
        let updates = parse_updates(format!("HEAD {c} refs/heads/x {z}\r\n").as_bytes()).unwrap();
        assert_eq!(updates.len(), 1);
        assert!(updates[0].creates_remote_ref());
        assert_eq!(updates[0].local_ref, "HEAD");
    }

    #[test]
    fn the_pre_commit_framework_range() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let env = |name: &str| match name {
            "PRE_COMMIT_FROM_REF" => Some(b.clone()),
            "PRE_COMMIT_TO_REF" => Some(a.clone()),
            "PRE_COMMIT_REMOTE_NAME" => Some("upstream".to_owned()),
            "PRE_COMMIT_REMOTE_BRANCH" => Some("refs/heads/main".to_owned()),
            _ => None,
        };
        let push = PrePush::from_pre_commit_framework(env).unwrap();
        assert_eq!(push.remote_name, "upstream");
        assert_eq!(push.updates[0].local_sha, a);
        assert_eq!(push.updates[0].remote_sha, b);
        assert_eq!(push.updates[0].remote_ref, "refs/heads/main");
        assert!(PrePush::from_pre_commit_framework(|_| None).is_none());
        let new_branch = PrePush::from_pre_commit_framework(|name| {
            (name == "PRE_COMMIT_TO_REF").then(|| a.clone())
        })
        .unwrap();
        assert!(new_branch.updates[0].creates_remote_ref());
    }

    #[test]
    fn the_local_ref_may_contain_spaces() {
        let a = "a".repeat(40);
        let updates =
            parse_updates(format!("main^{{/fix it}} {a} refs/heads/x {}\n", zero()).as_bytes())
                .unwrap();
        assert_eq!(updates[0].local_ref, "main^{/fix it}");
        assert_eq!(updates[0].remote_ref, "refs/heads/x");
    }

    #[test]
    fn rejects_what_git_never_sends() {
        let a = "a".repeat(40);
        assert!(PrePush::parse(&os(&["origin"]), b"")
            .unwrap_err()
            .0
            .contains("expects 2 arguments"));
        assert!(PrePush::parse(&os(&["o", "u", "x"]), b"").is_err());
        for line in [
            format!("refs/heads/main {a} refs/heads/main"),
            format!("refs/heads/main {a} refs/heads/main {a} extra"),
            format!("refs/heads/main main refs/heads/main {a}"),
            format!("refs/heads/main {a} refs/heads/main {}", "a".repeat(64)),
            format!(" {a} refs/heads/main {a}"),
        ] {
            let err = parse_updates(format!("{line}\n").as_bytes()).unwrap_err();
            assert!(err.0.contains("line 1"), "{err}");
        }
    }

    #[test]
    fn bad_input_is_an_error_with_the_escape_hatch() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = Printer::plain(&mut out, &mut err);
        let status = run(
            os(&["migguard-pre-push", "origin"]),
            &mut &b""[..],
            &mut printer,
        );
        assert_eq!(status, ExitStatus::Error);
        assert!(String::from_utf8_lossy(&err).contains("--no-verify"));
    }

    #[cfg(unix)]
    #[test]
    fn replays_stdin_to_the_previous_hook_and_returns_its_failure() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let legacy = dir.path().join("pre-push.legacy");
        std::fs::write(
            &legacy,
            format!(
                "#!/bin/sh\n{{ echo \"$1 $2\"; cat; }} > '{}'\nexit 1\n",
                seen.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&legacy, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A deletion: replayed to the previous hook, and nothing of ours to
        // analyse, so the test needs no repository.
        let stdin = format!(
            "(delete) {z} refs/heads/old {a}\n",
            a = "a".repeat(40),
            z = zero()
        );
        let argv = vec![
            OsString::from("migguard-pre-push"),
            OsString::from("--hook-dir"),
            dir.path().as_os_str().to_owned(),
            OsString::from("--"),
            OsString::from("origin"),
            OsString::from("../remote.git"),
        ];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = Printer::plain(&mut out, &mut err);
        assert_eq!(
            run(argv.clone(), &mut stdin.as_bytes(), &mut printer),
            ExitStatus::Failure
        );
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap(),
            format!("origin ../remote.git\n{stdin}")
        );

        std::fs::write(&legacy, "#!/bin/sh\nexit 0\n").unwrap();
        let mut printer = Printer::plain(&mut out, &mut err);
        assert_eq!(
            run(argv, &mut stdin.as_bytes(), &mut printer),
            ExitStatus::Success
        );
    }
}
