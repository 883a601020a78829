//! Diagnostics as text for people, one line each for hooks, JSON for
//! machines, or GitHub Actions workflow commands.
//!
//! Renderers never print and never look at the environment: the caller
//! chooses the format and whether to colour ([`RenderOptions`]), and hands
//! over a writer. Nothing here panics on input: a diagnostic whose file is
//! missing, undecodable or shorter than its line number is still rendered,
//! without a source frame.

mod concise;
mod github;
mod json;
mod sarif;
mod text;

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use annotate_snippets::renderer::{AnsiColor, Effects, Style};

use crate::diagnostic::{Diagnostic, Location, Severity, Summary};
use crate::source::ProjectSource;

/// An output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// rustc-like messages with source frames, then a summary line.
    #[default]
    Text,
    /// The `migguard check --format json` contract.
    Json,
    /// GitHub Actions workflow commands (`::error file=...::message`).
    Github,
    /// One line per diagnostic, then a summary line.
    Concise,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

impl Format {
    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: &'static [Format] = &[
        Format::Text,
        Format::Json,
        Format::Github,
        Format::Concise,
        Format::Sarif,
    ];
    /// The names [`FromStr`] accepts.
    pub const NAMES: &'static [&'static str] = &["text", "json", "github", "concise", "sarif"];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Github => "github",
            Format::Concise => "concise",
            Format::Sarif => "sarif",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format `{0}` (expected one of: text, json, github, concise)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// How to render; decided by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Emit ANSI colours (text and concise formats only).
    pub color: bool,
    /// Prepended to every project-relative path shown (text, concise and
    /// github formats; the JSON contract keeps project-relative paths), e.g.
    /// `"backend/"` when the project root is a subdirectory of the repository.
    pub path_prefix: String,
    /// What was read, when the caller analysed a project: said in the
    /// summary line and the JSON summary, so that a check that read
    /// nothing never looks like one that passed.
    pub coverage: Option<Coverage>,
}

/// How much of a project was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Apps with a migrations package Django would load.
    pub apps: usize,
    /// Migration files read.
    pub migrations: usize,
    /// Migration files found that could not be read.
    pub unreadable: usize,
}

impl Coverage {
    pub fn of(project: &crate::project::Project) -> Coverage {
        Coverage {
            apps: project.discovery.apps.len(),
            migrations: project.migrations.len(),
            unreadable: project.unreadable().len(),
        }
    }
}

impl RenderOptions {
    /// A project-relative path as shown to the user.
    pub(crate) fn display_path(&self, path: &str) -> String {
        format!("{}{}", self.path_prefix, path)
    }
}

/// Write `diagnostics`, in the order given, to `out`. The text formats read
/// the files the diagnostics point at through `source`.
pub fn render(
    format: Format,
    diagnostics: &[Diagnostic],
    source: &dyn ProjectSource,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(diagnostics, source, options, out),
        Format::Json => json::render(diagnostics, options.coverage, out),
        Format::Github => github::render(diagnostics, options, out),
        Format::Concise => concise::render(diagnostics, options, out),
        Format::Sarif => sarif::render(diagnostics, options, out),
    }
}

/// [`render`] into a string.
pub fn render_to_string(
    format: Format,
    diagnostics: &[Diagnostic],
    source: &dyn ProjectSource,
    options: &RenderOptions,
) -> String {
    let mut buffer = Vec::new();
    // Writing into a Vec cannot fail; whatever was written is kept.
    let _ = render(format, diagnostics, source, options, &mut buffer);
    match String::from_utf8(buffer) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    }
}

/// `Found 2 errors, 1 warning.` or `All checks passed.`, after what was
/// read when that is known: `Checked 3 apps, 41 migrations: all checks
/// passed.`; never "passed" when nothing was read.
pub fn summary_line_with(summary: Summary, coverage: Option<Coverage>) -> String {
    let verdict = summary_line(summary);
    let Some(coverage) = coverage else {
        return verdict;
    };
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut read = format!(
        "Checked {}, {}",
        plural(coverage.apps, "app", "apps"),
        plural(coverage.migrations, "migration", "migrations")
    );
    if coverage.unreadable > 0 {
        read.push_str(&format!(" ({} unreadable)", coverage.unreadable));
    }
    if coverage.apps == 0 && coverage.migrations == 0 && summary == Summary::default() {
        return format!("{read}: nothing was checked.");
    }
    let mut verdict = verdict.trim_end_matches('.').to_owned();
    if let Some(first) = verdict.get(..1) {
        verdict = first.to_lowercase() + &verdict[1..];
    }
    format!("{read}: {verdict}.")
}

/// `Found 2 errors, 1 warning.` or `All checks passed.`
pub fn summary_line(summary: Summary) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if summary.errors > 0 {
        parts.push(plural(summary.errors, "error", "errors"));
    }
    if summary.warnings > 0 {
        parts.push(plural(summary.warnings, "warning", "warnings"));
    }
    if summary.infos > 0 {
        parts.push(plural(summary.infos, "info", "infos"));
    }
    if parts.is_empty() {
        "All checks passed.".to_owned()
    } else {
        format!("Found {}.", parts.join(", "))
    }
}

/// The summary line, bold when colouring.
pub(crate) fn write_summary(
    diagnostics: &[Diagnostic],
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let line = summary_line_with(Summary::of(diagnostics), options.coverage);
    let style = if options.color {
        Style::new().effects(Effects::BOLD)
    } else {
        Style::new()
    };
    writeln!(out, "{}", paint(style, &line))
}

/// The colour of a severity.
pub(crate) fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Error => AnsiColor::BrightRed,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::BrightBlue,
    };
    color.on_default().effects(Effects::BOLD)
}

/// `text` wrapped in `style`'s escape codes (none for a plain style).
pub(crate) fn paint(style: Style, text: &str) -> String {
    if style == Style::new() {
        text.to_owned()
    } else {
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

/// `path:line:col` (as much of it as is known), or `None` without a path.
pub(crate) fn file_position(location: &Location, options: &RenderOptions) -> Option<String> {
    let path = location.path.as_deref()?;
    let mut text = options.display_path(path);
    if let Some(line) = location.line {
        text.push_str(&format!(":{line}"));
        if let Some(column) = location.column {
            text.push_str(&format!(":{column}"));
        }
    }
    Some(text)
}

/// The picture of a control character, so that file contents and messages
/// cannot send escape sequences to a terminal.
pub(crate) fn control_picture(c: char) -> Option<char> {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        '\u{80}'..='\u{9f}' => Some('\u{fffd}'),
        _ => None,
    }
}

/// Text for a terminal: line endings become `\n` (or, when `single_line`,
/// spaces), tabs spaces, other control characters their pictures.
pub fn sanitize(text: &str, single_line: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| control_picture(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let newline = if single_line { ' ' } else { '\n' };
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                clean.push(newline);
            }
            '\n' => clean.push(newline),
            '\t' => clean.push(' '),
            c => clean.push(control_picture(c).unwrap_or(c)),
        }
    }
    Cow::Owned(clean)
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A small project and diagnostics that every renderer's tests share.

    use super::*;
    use crate::diagnostic::Location;
    use crate::rules::graph::conflicting_migrations::ConflictingMigrations;
    use crate::rules::input::duplicate_app_label::DuplicateAppLabel;
    use crate::rules::naming::auto_named_migration::AutoNamedMigration;
    use crate::source::{MemorySource, Span};

    pub const MIGRATION: &str = "\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [(\"blog\", \"0001_initial\")]

    operations = [
        migrations.AddField(\"post\", \"rating\", models.IntegerField(default=0)),
    ]
";

    pub const AUTO_PATH: &str = "blog/migrations/0003_auto_20240101_1200.py";

    pub fn source() -> MemorySource {
        MemorySource::new("memory")
            .with("blog/migrations/0002_b.py", MIGRATION)
            .with(AUTO_PATH, MIGRATION)
            .with(
                "blog/migrations/0004_latin.py",
                b"x = '\xff\xfe'\n".to_vec(),
            )
    }

    pub fn conflict() -> ConflictingMigrations {
        ConflictingMigrations {
            app: "blog".into(),
            leaves: vec!["0002_a".into(), "0002_b".into()],
            uncertain: None,
        }
    }

    /// An error on a whole line, a warning with a span, an info, and one
    /// without a path.
    pub fn diagnostics() -> Vec<Diagnostic> {
        let conflict = Diagnostic::new(
            &conflict(),
            Location::file("blog/migrations/0002_b.py")
                .in_migration("blog", "0002_b")
                .at(5, 1, None),
        );
        let start = MIGRATION.find("dependencies").unwrap_or(0) as u32;
        let auto = Diagnostic::new(
            &AutoNamedMigration {
                name: "0003_auto_20240101_1200".into(),
            },
            Location::file(AUTO_PATH)
                .in_migration("blog", "0003_auto_20240101_1200")
                .at(5, 5, Some(Span::new(start, start + 12))),
        );
        let mut info = auto.clone();
        info.severity = Severity::Info;
        // The whole `operations` list: a frame over four lines.
        let ops = MIGRATION.find("operations").unwrap_or(0) as u32;
        info.location =
            Location::file(AUTO_PATH).at(7, 5, Some(Span::new(ops, MIGRATION.len() as u32 - 1)));
        let no_path = Diagnostic::new(
            &DuplicateAppLabel {
                label: "blog".into(),
                first: "blog".into(),
                second: "legacy/blog".into(),
            },
            Location::default().in_app("blog"),
        );
        vec![conflict, auto, info, no_path]
    }

    /// Diagnostics whose frame cannot be shown.
    pub fn broken() -> Vec<Diagnostic> {
        let at = |path: &str, line: u32, span: Option<Span>| {
            Diagnostic::new(&conflict(), Location::file(path).at(line, 1, span))
        };
        vec![
            // Past the end of the file, by line and by span.
            at("blog/migrations/0002_b.py", 99, None),
            at(
                "blog/migrations/0002_b.py",
                99,
                Some(Span::new(10_000, 10_010)),
            ),
            // A span that ends past the end of the file: clamped.
            at("blog/migrations/0002_b.py", 8, Some(Span::new(120, 10_000))),
            // Line 0.
            at("blog/migrations/0002_b.py", 0, None),
            // Not UTF-8.
            at("blog/migrations/0004_latin.py", 1, None),
            // Missing.
            at("blog/migrations/0009_gone.py", 3, None),
            // No line at all.
            Diagnostic::new(&conflict(), Location::file("blog/migrations/0002_b.py")),
            // Nothing at all.
            Diagnostic::new(&conflict(), Location::default()),
        ]
    }

    pub fn render_plain(format: Format, diagnostics: &[Diagnostic]) -> String {
        let options = RenderOptions {
            color: false,
            path_prefix: String::new(),
            coverage: None,
        };
        render_to_string(format, diagnostics, &source(), &options)
    }

    /// Guard before a snapshot: never accept empty output.
    pub fn checked(output: String, codes: &[&str]) -> String {
        assert!(!output.trim().is_empty(), "empty output");
        for code in codes {
            assert!(output.contains(code), "`{code}` missing from:\n{output}");
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_was_read_and_never_passes_an_empty_read() {
        let read = |apps, migrations, unreadable| {
            Some(Coverage {
                apps,
                migrations,
                unreadable,
            })
        };
        let clean = Summary::default();
        assert_eq!(
            summary_line_with(clean, read(3, 41, 0)),
            "Checked 3 apps, 41 migrations: all checks passed."
        );
        assert_eq!(
            summary_line_with(clean, read(0, 0, 0)),
            "Checked 0 apps, 0 migrations: nothing was checked."
        );
        let found = Summary {
            errors: 1,
            warnings: 2,
            infos: 0,
        };
        assert_eq!(
            summary_line_with(found, read(1, 1, 2)),
            "Checked 1 app, 1 migration (2 unreadable): found 1 error, 2 warnings."
        );
        assert_eq!(summary_line_with(clean, None), "All checks passed.");
    }

    #[test]
    fn format_names_round_trip() {
        for (format, name) in Format::ALL.iter().zip(Format::NAMES) {
            assert_eq!(format.as_str(), *name);
            assert_eq!(name.parse::<Format>(), Ok(*format));
            assert_eq!(format.to_string(), *name);
        }
        assert_eq!(" JSON ".parse::<Format>(), Ok(Format::Json));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn summary_lines() {
        let s = |errors, warnings, infos| {
            summary_line(Summary {
                errors,
                warnings,
                infos,
            })
        };
        assert_eq!(s(0, 0, 0), "All checks passed.");
        assert_eq!(s(2, 1, 0), "Found 2 errors, 1 warning.");
        assert_eq!(s(1, 0, 3), "Found 1 error, 3 infos.");
        assert_eq!(s(0, 2, 1), "Found 2 warnings, 1 info.");
    }

    #[test]
    fn sanitize_controls() {
        assert_eq!(sanitize("plain", false), "plain");
        assert_eq!(
            sanitize("a\r\nb\rc\td\u{1b}[31m", false),
            "a\nb\nc d\u{241b}[31m"
        );
        assert_eq!(sanitize("a\nb", true), "a b");
    }

    #[test]
    fn every_format_survives_broken_locations() {
        let broken = fixtures::broken();
        for format in Format::ALL {
            let output = fixtures::render_plain(*format, &broken);
            let count = output
                .matches("conflicting migrations in app `blog`")
                .count();
            assert_eq!(count, broken.len(), "{format}:\n{output}");
        }
    }
}
