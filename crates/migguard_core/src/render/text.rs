//! The human format: a header, a source frame and footers per diagnostic,
//! the way rustc prints them, then a summary line.
//!
//! ```text
//! error[MG103]: conflicting migrations in app `blog`: 2 leaf nodes (0002_a, 0002_b)
//!  --> blog/migrations/0002_b.py:5:1
//!   |
//! 5 |     dependencies = [("blog", "0001_initial")]
//!   |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ conflicting-migrations
//!   |
//!   = help: run `migguard merge blog` (or `python manage.py makemigrations --merge blog`)
//! ```
//!
//! A diagnostic whose file cannot be shown (no path, missing, not text, no
//! such line) gets `= note:` footers with its location and rule instead.

use std::collections::HashMap;
use std::io::{self, Write};
use std::ops::Range;

use annotate_snippets::{Level, Renderer, Snippet};

use super::{control_picture, file_position, sanitize, write_summary, RenderOptions};
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::source::{decode_python, LineIndex, ProjectSource};

/// A span over more lines than this is shown by its first line only.
const MAX_FRAME_LINES: u32 = 6;

pub(super) fn render(
    diagnostics: &[Diagnostic],
    source: &dyn ProjectSource,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut files = Files {
        source,
        cache: HashMap::new(),
    };
    for diagnostic in diagnostics {
        let frame = diagnostic
            .location
            .path
            .as_deref()
            .and_then(|path| files.get(path))
            .and_then(|file| frame(file, &diagnostic.location));
        writeln!(out, "{}", render_one(&renderer, diagnostic, frame, options))?;
        writeln!(out)?;
    }
    write_summary(diagnostics, options, out)
}

fn level(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    }
}

fn render_one(
    renderer: &Renderer,
    diagnostic: &Diagnostic,
    frame: Option<Frame>,
    options: &RenderOptions,
) -> String {
    let level = level(diagnostic.severity);
    let rule = diagnostic.rule;
    let title = sanitize(&diagnostic.message, false);
    let help = diagnostic.help.as_deref().map(|help| sanitize(help, false));
    let origin = diagnostic
        .location
        .path
        .as_deref()
        .map(|path| options.display_path(&sanitize(path, true)));

    let mut notes = Vec::new();
    if frame.is_none() {
        if let Some(at) = where_(&diagnostic.location, options) {
            notes.push(at);
        }
        notes.push(format!("rule {}", rule.name()));
    }

    let mut message = level.title(&title).id(rule.code());
    if let (Some(frame), Some(origin)) = (&frame, &origin) {
        message = message.snippet(
            Snippet::source(&frame.text)
                .line_start(frame.line_start)
                .origin(origin)
                .fold(true)
                .annotation(level.span(frame.range.clone()).label(rule.name())),
        );
    }
    for note in &notes {
        message = message.footer(Level::Note.title(note));
    }
    if let Some(help) = &help {
        message = message.footer(Level::Help.title(help));
    }
    let rendered = renderer.render(message).to_string();
    rendered
}

/// The location of a diagnostic shown without a frame.
fn where_(location: &Location, options: &RenderOptions) -> Option<String> {
    if let Some(position) = file_position(location, options) {
        return Some(format!("at {}", sanitize(&position, true)));
    }
    match (&location.app, &location.migration) {
        (Some(app), Some(migration)) => Some(format!("in migration {app}.{migration}")),
        (Some(app), None) => Some(format!("in app {app}")),
        _ => None,
    }
    .map(|text| sanitize(&text, true).into_owned())
}

/// Decoded files, read once per render.
struct Files<'a> {
    source: &'a dyn ProjectSource,
    cache: HashMap<String, Option<Decoded>>,
}

struct Decoded {
    text: String,
    index: LineIndex,
}

impl Files<'_> {
    fn get(&mut self, path: &str) -> Option<&Decoded> {
        let source = self.source;
        self.cache
            .entry(path.to_owned())
            .or_insert_with(|| {
                let bytes = source.read(path).ok()?;
                let text = decode_python(&bytes).ok()?;
                // Offsets are u32 throughout.
                u32::try_from(text.len()).ok()?;
                let index = LineIndex::new(&text);
                Some(Decoded { text, index })
            })
            .as_ref()
    }
}

/// The lines to show and the byte range to underline in them.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    /// The lines, joined by `\n`, with control characters replaced.
    text: String,
    line_start: usize,
    range: Range<usize>,
}

/// The frame of a location: its span, else its line (from its column, or
/// from the first non-blank character). `None` when neither is in the file.
fn frame(file: &Decoded, location: &Location) -> Option<Frame> {
    let text = file.text.as_str();
    let index = &file.index;
    let len = text.len();
    let span = location
        .span
        .filter(|span| (span.start as usize) <= len)
        .map(|span| {
            let start = floor_char_boundary(text, span.start as usize);
            let end = floor_char_boundary(text, (span.end as usize).min(len)).max(start);
            (start, end)
        });
    let (mut start, mut end) = match span {
        Some(range) => range,
        None => line_target(file, location)?,
    };

    let first = index.location(text, u32::try_from(start).ok()?).0;
    let mut last = if end > start {
        index.location(text, u32::try_from(end - 1).ok()?).0
    } else {
        first
    };
    if last.saturating_sub(first) >= MAX_FRAME_LINES {
        let (line_start, line_end) = index.line_range(text, first)?;
        let content = text.get(line_start..line_end)?;
        last = first;
        start = start.min(line_end);
        end = (line_start + content.trim_end().len()).max(start);
    }

    let mut shown = String::new();
    let mut new_start = None;
    let mut new_end = None;
    for line in first..=last {
        let (line_start, line_end) = index.line_range(text, line)?;
        let content = text.get(line_start..line_end)?;
        if line > first {
            shown.push('\n');
        }
        for (i, c) in content.char_indices() {
            let at = line_start + i;
            if new_start.is_none() && at >= start {
                new_start = Some(shown.len());
            }
            if new_end.is_none() && at >= end {
                new_end = Some(shown.len());
            }
            shown.push(if c == '\t' {
                ' '
            } else {
                control_picture(c).unwrap_or(c)
            });
        }
        // An offset in the line ending, or right after the last character.
        if new_start.is_none() {
            new_start = Some(shown.len());
        }
    }
    let new_start = new_start.unwrap_or(shown.len());
    let new_end = new_end.unwrap_or(shown.len()).max(new_start);
    Some(Frame {
        text: shown,
        line_start: first as usize,
        range: new_start..new_end,
    })
}

/// The byte range to underline on `location.line` when there is no span.
fn line_target(file: &Decoded, location: &Location) -> Option<(usize, usize)> {
    let text = file.text.as_str();
    let (line_start, line_end) = file.index.line_range(text, location.line?)?;
    let content = text.get(line_start..line_end)?;
    let start = match location.column {
        Some(column) if column > 1 => content
            .char_indices()
            .nth(column as usize - 1)
            .map_or(line_end, |(i, _)| line_start + i),
        _ => line_start + (content.len() - content.trim_start().len()),
    };
    let end = (line_start + content.trim_end().len()).max(start);
    Some((start, end))
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{self, checked};
    use super::super::{render_to_string, Format, RenderOptions};
    use super::*;
    use crate::diagnostic::Location;
    use crate::source::{MemorySource, Span};

    fn text(diagnostics: &[Diagnostic]) -> String {
        fixtures::render_plain(Format::Text, diagnostics)
    }

    #[test]
    fn frames_headers_and_footers() {
        let output = checked(text(&fixtures::diagnostics()), &["MG103", "MG504", "MG004"]);
        insta::assert_snapshot!(output);
    }

    #[test]
    fn broken_locations_keep_their_message() {
        let broken = fixtures::broken();
        let output = checked(text(&broken), &["MG103"]);
        assert_eq!(
            output
                .matches("error[MG103]: conflicting migrations in app `blog`")
                .count(),
            broken.len()
        );
        insta::assert_snapshot!(output);
    }

    #[test]
    fn empty_run_passes() {
        assert_eq!(text(&[]), "All checks passed.\n");
    }

    #[test]
    fn path_prefix_and_colour() {
        let options = RenderOptions {
            color: true,
            path_prefix: "backend/".into(),
            coverage: None,
        };
        let output = render_to_string(
            Format::Text,
            &fixtures::diagnostics()[..1],
            &fixtures::source(),
            &options,
        );
        assert!(
            output.contains("backend/blog/migrations/0002_b.py:5:5"),
            "{output}"
        );
        assert!(output.contains("\u{1b}["), "no colour in {output:?}");
        let plain = fixtures::render_plain(Format::Text, &fixtures::diagnostics()[..1]);
        assert!(!plain.contains('\u{1b}'));
    }

    #[test]
    fn control_characters_and_tabs_are_defused() {
        let source = MemorySource::new("m").with("a.py", "x = '\u{1b}[2J'\r\n\ty = 'é'\rz = 1\n");
        let diagnostics = [
            Diagnostic::new(&fixtures::conflict(), Location::file("a.py").at(1, 1, None)),
            Diagnostic::new(&fixtures::conflict(), Location::file("a.py").at(2, 2, None)),
            Diagnostic::new(
                &fixtures::conflict(),
                Location::file("a.py").at(3, 1, Some(Span::new(22, 27))),
            ),
        ];
        let output = render_to_string(
            Format::Text,
            &diagnostics,
            &source,
            &RenderOptions::default(),
        );
        assert!(!output.contains('\u{1b}'), "{output}");
        assert!(output.contains("x = '\u{241b}[2J'"), "{output}");
        assert!(output.contains(" --> a.py:2:2"), "{output}");
        assert!(output.contains(" --> a.py:3:1"), "{output}");
        insta::assert_snapshot!(checked(output, &["MG103"]));
    }

    /// Every span over a text with multi-byte characters, line endings of
    /// every kind and a missing final newline renders without a panic.
    #[test]
    fn any_span_renders() {
        let content = "a = 'é€'\r\nb\r\n\n\tc = \"😀\"\rd";
        let source = MemorySource::new("m").with("f.py", content);
        let len = content.len() as u32 + 3;
        let mut diagnostics = Vec::new();
        for start in 0..len {
            for end in 0..len {
                let location = Location::file("f.py").at(1, 1, Some(Span::new(start, end)));
                diagnostics.push(Diagnostic::new(&fixtures::conflict(), location));
            }
        }
        for line in 0..8 {
            for column in 0..12 {
                let location = Location::file("f.py").at(line, column, None);
                diagnostics.push(Diagnostic::new(&fixtures::conflict(), location));
            }
        }
        let output = render_to_string(
            Format::Text,
            &diagnostics,
            &source,
            &RenderOptions::default(),
        );
        assert_eq!(output.matches("error[MG103]").count(), diagnostics.len());
    }

    #[test]
    fn frame_ranges() {
        let text = "ab\n\tcd  \nef";
        let file = Decoded {
            text: text.to_owned(),
            index: LineIndex::new(text),
        };
        let at = |line, column, span| frame(&file, &Location::file("x").at(line, column, span));
        // The whole line, without indentation or trailing blanks.
        assert_eq!(
            at(2, 1, None),
            Some(Frame {
                text: " cd  ".into(),
                line_start: 2,
                range: 1..3
            })
        );
        // From the column.
        assert_eq!(at(2, 3, None).map(|f| f.range), Some(2..3));
        // A span across lines.
        let f = at(1, 1, Some(Span::new(1, 5)));
        assert_eq!(
            f.as_ref().map(|f| (f.text.as_str(), f.range.clone())),
            Some(("ab\n cd  ", 1..5))
        );
        // A span ending right after a newline stays on its line.
        assert_eq!(
            at(1, 1, Some(Span::new(0, 3))).map(|f| (f.line_start, f.text)),
            Some((1, "ab".into()))
        );
        assert_eq!(at(9, 1, None), None);
    }
}
