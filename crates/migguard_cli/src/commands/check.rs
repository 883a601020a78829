//! `migguard check`: every rule that needs only the files; with `--since`,
//! also the per-migration rules over what changed since a revision; with
//! `--django`, Django's own verdict on missing migrations.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use migguard_core::audit::{self, Selection};
use migguard_core::autodetect::makemigrations;
use migguard_core::diagnostic::{Diagnostic, Summary};
use migguard_core::project::{self, ParseCache, Project};
use migguard_core::render::{self, Format, RenderOptions};
use migguard_core::review::{self, ReviewFile};
use migguard_core::rules::{self, Rule};
use migguard_core::source::ProjectSource;

use crate::args::{CheckArgs, CheckFormat};
use crate::workspace::Workspace;
use crate::{ExitStatus, Printer};

pub fn run(args: &CheckArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    let workspace = Workspace::open(&args.source)?;
    let project = workspace.analyze()?;
    let source = workspace.source.as_ref();
    // Analysis and the audit finish their own findings (configuration,
    // suppressions); the model rules' are finished here, once.
    let mut all = project.diagnostics.clone();
    let mut models = Vec::new();
    // Django's refusal is reported after the other findings, which often
    // say why (conflicting migrations, a broken dependency).
    let mut django_failed = None;
    if args.django {
        match django_verdict(args, &workspace, &project) {
            Ok(found) => models.extend(found),
            Err(err) => django_failed = Some(err),
        }
    } else {
        models.extend(model_rules(
            &project,
            &workspace.settings,
            source,
            workspace.cache(),
        ));
    }
    let selection = match &args.since {
        Some(rev) => {
            if workspace.git.is_none() {
                bail!(
                    "--since needs a git repository; {} is not in one",
                    workspace.root.display()
                );
            }
            Some(workspace.changed_since(&project, rev)?)
        }
        None if args.audit => Some(Selection {
            changed: project.migrations.iter().map(|m| m.key.clone()).collect(),
            new: Default::default(),
        }),
        None => None,
    };
    if let Some(selection) = selection {
        let findings = audit::audit(&project, &workspace.settings, &selection);
        // What pre-push lets through, CI does too: a reviewed finding is
        // not reported again.
        let reviews = review::load(source).unwrap_or_else(|err| {
            printer.error(&format!(
                "{err}; every review in it is ignored until it is fixed"
            ));
            ReviewFile::default()
        });
        let (open, _reviewed) = review::split_reviewed(findings, &reviews, &|path| {
            workspace.stored_content(path).ok()
        });
        all.extend(open);
    }
    all.extend(project::finish(&project, &workspace.settings, models));
    let diagnostics = project::sorted(all);
    let format = match args.format {
        CheckFormat::Text => Format::Text,
        CheckFormat::Concise => Format::Concise,
        CheckFormat::Json => Format::Json,
        CheckFormat::Github => Format::Github,
        CheckFormat::Sarif => Format::Sarif,
    };
    // Code scanning and workflow annotations name files from the top of
    // the repository, wherever the project lies in it.
    let path_prefix = match (format, &workspace.git) {
        (Format::Github | Format::Sarif, Some((_, prefix))) if !prefix.is_empty() => {
            format!("{prefix}/")
        }
        _ => String::new(),
    };
    let options = RenderOptions {
        color: printer.color,
        path_prefix,
        coverage: Some(render::Coverage::of(&project)),
    };
    render::render(format, &diagnostics, source, &options, printer.out)?;
    if let Some(err) = django_failed {
        printer.error(&format!("{err:#}"));
        return Ok(ExitStatus::Error);
    }
    Ok(if Summary::of(&diagnostics).errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `missing-migration` and `unresolved-model` from the static autodetector,
/// unless both are switched off.
pub fn model_rules(
    project: &Project,
    settings: &migguard_core::config::Settings,
    source: &dyn ProjectSource,
    cache: Option<&dyn ParseCache>,
) -> Vec<Diagnostic> {
    if settings.is_enabled(Rule::MissingMigration) || settings.is_enabled(Rule::UnresolvedModel) {
        rules::models::check_cached(project, source, cache)
    } else {
        Vec::new()
    }
}

/// Run `python manage.py makemigrations --check --dry-run --verbosity 3`
/// in `manage.py`'s directory and turn what Django would write into
/// `missing-migration` diagnostics.
fn django_verdict(
    args: &CheckArgs,
    workspace: &Workspace,
    project: &Project,
) -> Result<Vec<Diagnostic>> {
    let manage_py = project.settings.manage_py.as_deref().context(
        "--django needs manage.py, and none was found (set `[tool.migguard] manage-py`)",
    )?;
    let python = crate::dbstate::python(args.python.as_deref(), &workspace.settings).to_owned();
    let manage = workspace.root.join(manage_py);
    let dir = manage.parent().unwrap_or(Path::new("."));
    let output = Command::new(&python)
        .arg(manage.file_name().unwrap_or(manage.as_os_str()))
        .args([
            "makemigrations",
            "--check",
            "--dry-run",
            "--verbosity",
            "3",
            "--no-color",
            "--noinput",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .with_context(|| {
            format!("cannot run {python} (set the interpreter with --python or `[tool.migguard] python`)")
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let proposed = makemigrations::proposed_migrations(&stdout);
    if proposed.is_empty() && !output.status.success() {
        // Not a verdict: Django could not run (an import error, a
        // conflict it refuses to look past, a settings problem).
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .find(|l| l.starts_with("CommandError: "))
            .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("no output");
        bail!(
            "`{python} {manage_py} makemigrations --check --dry-run` failed ({}): {}",
            output.status,
            last.trim()
        );
    }
    let changes = makemigrations::changes(&proposed);
    Ok(rules::models::from_django(
        project,
        workspace.source.as_ref(),
        changes,
    ))
}
