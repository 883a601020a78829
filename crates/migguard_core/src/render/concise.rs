//! One line per diagnostic, for hooks that want short output:
//! `path:line:col: MG103 [error] message`, then a summary line.

use std::io::{self, Write};

use annotate_snippets::renderer::{Effects, Style};

use super::{file_position, paint, sanitize, severity_style, write_summary, RenderOptions};
use crate::diagnostic::Diagnostic;

pub(super) fn render(
    diagnostics: &[Diagnostic],
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let style = |style: Style| if options.color { style } else { Style::new() };
    for diagnostic in diagnostics {
        let mut line = String::new();
        if let Some(position) = file_position(&diagnostic.location, options) {
            line.push_str(&paint(
                style(Style::new().effects(Effects::BOLD)),
                &sanitize(&position, true),
            ));
            line.push_str(": ");
        }
        let severity = diagnostic.severity;
        line.push_str(&paint(
            style(severity_style(severity)),
            diagnostic.rule.code(),
        ));
        line.push_str(&format!(
            " [{}] {}",
            paint(style(severity_style(severity)), severity.as_str()),
            sanitize(&diagnostic.message, true)
        ));
        writeln!(out, "{line}")?;
    }
    write_summary(diagnostics, options, out)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{self, checked};
    use super::super::{render_to_string, Format};
    use super::*;

    #[test]
    fn one_line_each() {
        let output = fixtures::render_plain(Format::Concise, &fixtures::diagnostics());
        assert_eq!(output.lines().count(), fixtures::diagnostics().len() + 1);
        insta::assert_snapshot!(checked(output, &["MG103", "MG504", "MG004"]));
    }

    #[test]
    fn broken_locations() {
        let output = fixtures::render_plain(Format::Concise, &fixtures::broken());
        insta::assert_snapshot!(checked(output, &["MG103"]));
    }

    #[test]
    fn prefix_colour_and_newlines() {
        let mut diagnostic = fixtures::diagnostics().remove(0);
        diagnostic.message = "two\nlines\u{1b}".into();
        let options = RenderOptions {
            color: true,
            path_prefix: "backend/".into(),
            coverage: None,
        };
        let output = render_to_string(
            Format::Concise,
            &[diagnostic.clone()],
            &fixtures::source(),
            &options,
        );
        assert!(
            output.contains("backend/blog/migrations/0002_b.py:5:1"),
            "{output}"
        );
        assert!(output.contains("\u{1b}["));
        let plain = fixtures::render_plain(Format::Concise, &[diagnostic]);
        assert_eq!(
            plain,
            "blog/migrations/0002_b.py:5:1: MG103 [error] two lines\u{241b}\nFound 1 error.\n"
        );
    }

    #[test]
    fn empty_run_passes() {
        assert_eq!(
            fixtures::render_plain(Format::Concise, &[]),
            "All checks passed.\n"
        );
    }
}
