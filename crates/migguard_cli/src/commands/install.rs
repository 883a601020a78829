//! `migguard install` and `migguard uninstall`: put the shims of
//! `hooks/shim.sh` into the repository's hooks directory, and take them out.
//!
//! The hooks directory is the one git uses ([`Repo::hooks_dir`], what
//! `git rev-parse --git-path hooks` says), so `core.hooksPath`, linked
//! worktrees and submodules are covered.
//! A hook that is not ours is never overwritten: it is moved to
//! `<hook>.legacy` (the hook binaries run it first, see
//! [`crate::hooks::chain`]) and moved back by `uninstall`. Both commands
//! are safe to rerun. Everything is checked before anything is changed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use migguard_git::Repo;

use crate::args::{HookName, InstallArgs};
use crate::hooks::chain::legacy_path;
use crate::{ExitStatus, Printer};

/// The shim template; `@HOOK@` and `@BIN_DIR@` are filled in.
const SHIM_TEMPLATE: &str = include_str!("../../../../hooks/shim.sh");

/// The line that marks a shim as ours. Every version of the shim has a line
/// starting with it (`... v1`, `... v2`), so shims written by older and newer
/// migguards are recognised and replaced, not moved aside.
const MARKER_PREFIX: &str = "# migguard-managed hook";

fn hook_name(hook: HookName) -> &'static str {
    match hook {
        HookName::PreCommit => "pre-commit",
        HookName::PreMergeCommit => "pre-merge-commit",
        HookName::PostCheckout => "post-checkout",
        HookName::PrePush => "pre-push",
    }
}

/// The shim for `hook`, looking for the binaries in `bin_dir` first.
pub fn render_shim(hook: &str, bin_dir: &str) -> String {
    // `@BIN_DIR@` sits between single quotes in the template.
    let quoted = bin_dir.replace('\'', r"'\''");
    SHIM_TEMPLATE
        .replace("@BIN_DIR@", &quoted)
        .replace("@HOOK@", hook)
}

/// Is this hook file one of our shims (of any version)?
pub fn is_ours(content: &[u8]) -> bool {
    content
        .split(|&b| b == b'\n')
        .take(10)
        .any(|line| line.starts_with(MARKER_PREFIX.as_bytes()))
}

/// Where the hooks directory is, relative to the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    /// Inside the git directory (`.git/hooks`, `.git/modules/x/hooks`): the usual case.
    GitDir,
    /// In the work tree (`core.hooksPath = .husky`): the files can be committed.
    WorkTree,
    /// Elsewhere (a shared `core.hooksPath`): other repositories run them too.
    Elsewhere,
}

struct HooksDir {
    path: PathBuf,
    location: Location,
}

/// `path` made absolute with its existing part canonicalised, so paths can
/// be compared with `starts_with` whatever symlinks (`/tmp` on macOS) or
/// `..` git printed.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(canonical, |acc, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// The hooks directory of the repository containing `repo`, as git finds
/// it ([`Repo::hooks_dir`]: `core.hooksPath`, else the common git
/// directory's `hooks`), and where it lies.
fn find_hooks_dir(repo: &Path) -> Result<HooksDir> {
    if !repo.is_dir() {
        bail!("{} is not a directory", repo.display());
    }
    let found = Repo::open(repo)
        .with_context(|| format!("{} is not in a git repository", repo.display()))?;
    let hooks = normalize(&found.hooks_dir());
    let (git_dir, common_dir) = (normalize(&found.git_dir()), normalize(&found.common_dir()));
    let top_level = found.workdir().map(|top| normalize(&top));
    let location = if hooks.starts_with(&git_dir) || hooks.starts_with(&common_dir) {
        Location::GitDir
    } else if top_level.is_some_and(|top| hooks.starts_with(top)) {
        Location::WorkTree
    } else {
        Location::Elsewhere
    };
    Ok(HooksDir {
        path: hooks,
        location,
    })
}

/// What is at a hook's path now.
enum Existing {
    Absent,
    Ours { up_to_date: bool },
    Foreign,
    Directory,
}

fn existing(path: &Path, wanted: &[u8]) -> Result<Existing> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    if meta.is_dir() {
        return Ok(Existing::Directory);
    }
    if meta.is_symlink() {
        // Moved aside as it is, link and all; uninstall moves it back.
        return Ok(Existing::Foreign);
    }
    let content = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !is_ours(&content) {
        return Ok(Existing::Foreign);
    }
    Ok(Existing::Ours {
        up_to_date: content == wanted && is_executable(&meta),
    })
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Same bytes (through symlinks); unreadable counts as different.
fn same_content(a: &Path, b: &Path) -> bool {
    matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    true
}

/// Write `content` to `path` with mode 0755, atomically (a hook running
/// right now keeps its old file).
fn write_shim(path: &Path, content: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.migguard-tmp"));
    std::fs::write(&tmp, content).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
}

fn dedup(hooks: &[HookName]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for &hook in hooks {
        let name = hook_name(hook);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn default_bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .context("cannot find the running migguard executable; pass --bin-dir")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("the running migguard executable has no directory; pass --bin-dir")
}

/// What install will do to one hook.
enum Step {
    Write,
    Rewrite,
    Unchanged,
    MoveAsideThenWrite,
}

pub fn install(args: &InstallArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let dir = find_hooks_dir(&args.repo)?;
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => default_bin_dir()?,
    };
    let bin_dir = std::path::absolute(&bin_dir).unwrap_or(bin_dir);
    let Some(bin_dir_text) = bin_dir.to_str() else {
        bail!(
            "the binaries' directory is not valid UTF-8: {}",
            bin_dir.display()
        );
    };
    let hooks = dedup(&args.hooks);

    if dir.location == Location::Elsewhere && !args.force {
        printer.error(&format!(
            "git's hooks directory is {}, outside this repository (core.hooksPath): \
             other repositories may use those hooks too. Pass --force to install there anyway, \
             or unset core.hooksPath (`git config --unset core.hooksPath`) and rerun.",
            dir.path.display()
        ));
        return Ok(ExitStatus::Error);
    }

    // Decide everything first: either every hook can be installed or nothing changes.
    let mut plan = Vec::new();
    let mut refusals = Vec::new();
    for &hook in &hooks {
        let path = dir.path.join(hook);
        let legacy = legacy_path(hook, &dir.path);
        let shim = render_shim(hook, bin_dir_text);
        let step = match existing(&path, shim.as_bytes())? {
            Existing::Absent => Step::Write,
            Existing::Ours { up_to_date: true } => Step::Unchanged,
            Existing::Ours { up_to_date: false } => Step::Rewrite,
            Existing::Directory => {
                refusals.push(format!(
                    "{hook}: {} is a directory; move it away and rerun",
                    path.display()
                ));
                continue;
            }
            Existing::Foreign => {
                if exists(&legacy) && !same_content(&path, &legacy) && !args.force {
                    refusals.push(format!(
                        "{hook}: not installed: {} is not migguard's, and {} already exists with other \
                         content, so the existing hook cannot be moved there. Merge or remove one of \
                         them and rerun, or pass --force to replace {} with the current {hook}.",
                        path.display(),
                        legacy.display(),
                        legacy.display()
                    ));
                    continue;
                }
                Step::MoveAsideThenWrite
            }
        };
        plan.push((hook, path, legacy, shim, step));
    }
    if !refusals.is_empty() {
        for refusal in &refusals {
            printer.error(refusal);
        }
        printer.note("nothing was changed");
        return Ok(ExitStatus::Error);
    }

    std::fs::create_dir_all(&dir.path)
        .with_context(|| format!("cannot create {}", dir.path.display()))?;
    for (hook, path, legacy, shim, step) in plan {
        let chained = exists(&legacy);
        let done = match step {
            Step::Unchanged => format!("already installed: {}", path.display()),
            Step::Write => {
                write_shim(&path, shim.as_bytes())?;
                format!("installed {}", path.display())
            }
            Step::Rewrite => {
                write_shim(&path, shim.as_bytes())?;
                format!("updated {}", path.display())
            }
            Step::MoveAsideThenWrite => {
                rename(&path, &legacy)?;
                write_shim(&path, shim.as_bytes())?;
                format!(
                    "installed {}; your previous hook is now {} and still runs first",
                    path.display(),
                    legacy.display()
                )
            }
        };
        let done = match step {
            Step::MoveAsideThenWrite => done,
            _ if chained => format!("{done} (it runs {} first)", legacy.display()),
            _ => done,
        };
        writeln!(printer.out, "{hook}: {done}")?;
    }

    if dir.location == Location::WorkTree {
        printer.note(&format!(
            "core.hooksPath puts the hooks in the work tree ({}): the shims are files there, \
             which git status shows and which can be committed; they name the binaries in {}",
            dir.path.display(),
            bin_dir.display()
        ));
    }
    let missing: Vec<&str> = hooks
        .iter()
        .copied()
        .filter(|hook| !bin_dir.join(format!("migguard-{hook}")).is_file())
        .collect();
    if !missing.is_empty() {
        printer.warn(&format!(
            "{} has no migguard-{}: those hooks will use the binary on PATH, or do nothing",
            bin_dir.display(),
            missing.join(", migguard-")
        ));
    }
    // Two branches' reviews merge without conflict (a bare repository
    // has no work tree, and no reviews).
    if let Some(top) = Repo::open(&args.repo).ok().and_then(|r| r.workdir()) {
        if super::review::ensure_union_merge(&top)? {
            writeln!(
                printer.out,
                "added `{}` to .gitattributes, so that git merges the reviews of two branches: commit it",
                migguard_core::review::GITATTRIBUTES_LINE
            )?;
        }
    }
    Ok(ExitStatus::Success)
}

pub fn uninstall(args: &InstallArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let dir = find_hooks_dir(&args.repo)?;
    for hook in dedup(&args.hooks) {
        let path = dir.path.join(hook);
        let legacy = legacy_path(hook, &dir.path);
        // Our shim as `<hook>.legacy`: another hook manager installed over
        // it and runs it as its previous hook (or the shim was copied
        // there). Restoring it would leave migguard installed; it goes.
        let legacy_is_ours = matches!(existing(&legacy, b"")?, Existing::Ours { .. });
        let done = match existing(&path, b"")? {
            Existing::Ours { .. } => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                if legacy_is_ours {
                    remove(&legacy)?;
                    format!("removed {} and {}", path.display(), legacy.display())
                } else if exists(&legacy) {
                    rename(&legacy, &path)?;
                    format!(
                        "removed migguard's hook; restored your previous hook from {}",
                        legacy.display()
                    )
                } else {
                    format!("removed {}", path.display())
                }
            }
            Existing::Absent if legacy_is_ours => {
                remove(&legacy)?;
                format!("removed {}", legacy.display())
            }
            Existing::Absent if exists(&legacy) => {
                rename(&legacy, &path)?;
                format!(
                    "not installed; restored your previous hook from {}",
                    legacy.display()
                )
            }
            Existing::Absent => "not installed".to_owned(),
            Existing::Foreign if legacy_is_ours => {
                remove(&legacy)?;
                format!(
                    "removed migguard's hook from {}, where another hook manager had moved it; \
                     {} is not migguard's and stays",
                    legacy.display(),
                    path.display()
                )
            }
            Existing::Foreign | Existing::Directory => {
                format!("{} is not migguard's; left as it is", path.display())
            }
        };
        writeln!(printer.out, "{hook}: {done}")?;
    }
    Ok(ExitStatus::Success)
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shim_is_filled_in_and_ours() {
        let shim = render_shim("pre-push", "/opt/mg bin/it's");
        assert!(shim.starts_with("#!/bin/sh\n# migguard-managed hook v1\n"));
        assert!(shim.contains(r"bin_dir='/opt/mg bin/it'\''s'"), "{shim}");
        assert!(shim.contains("migguard-pre-push"));
        assert!(
            !shim.contains("@HOOK@") && !shim.contains("@BIN_DIR@"),
            "{shim}"
        );
        assert!(is_ours(shim.as_bytes()));
    }

    #[test]
    fn recognises_every_version_of_the_marker_and_nothing_else() {
        assert!(is_ours(b"#!/bin/sh\n# migguard-managed hook v0\nexit 0\n"));
        assert!(is_ours(b"#!/bin/sh\n# migguard-managed hook v2\n"));
        assert!(!is_ours(b"#!/bin/sh\necho hi\n"));
        assert!(!is_ours(b""));
        assert!(!is_ours(
            b"#!/bin/sh\nmigguard-pre-commit # migguard-managed hook\n"
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_shim_runs_under_sh() {
        use std::os::unix::fs::PermissionsExt;
        use std::process::Command;
        let dir = tempfile::tempdir().unwrap();
        let bin_dir = dir.path().join("b'in");
        std::fs::create_dir(&bin_dir).unwrap();
        let fake = bin_dir.join("migguard-pre-commit");
        std::fs::write(&fake, "#!/bin/sh\nprintf '%s|' \"$@\"\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let shim = dir.path().join("pre-commit");
        std::fs::write(&shim, render_shim("pre-commit", bin_dir.to_str().unwrap())).unwrap();
        let run = |env: &[(&str, &str)]| {
            let mut cmd = Command::new("sh");
            cmd.arg(&shim)
                .args(["a b", "c"])
                .env("PATH", "/usr/bin:/bin");
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.output().unwrap()
        };
        let out = run(&[]);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("--hook-dir|{}|--|a b|c|", dir.path().display())
        );
        let out = run(&[("MIGGUARD", "0")]);
        assert!(out.status.success());
        assert!(out.stdout.is_empty());

        std::fs::remove_file(&fake).unwrap();
        let out = run(&[]);
        assert!(out.status.success(), "a missing binary never blocks");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("migguard-pre-commit not found"), "{stderr}");
    }
}
