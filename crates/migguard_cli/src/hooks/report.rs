//! The short report hooks print: one block per finding, with the file,
//! the line and the fix, then one closing line.

use migguard_core::diagnostic::{Diagnostic, Severity, Summary};
use migguard_core::render::sanitize;

use crate::Printer;

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Write each diagnostic as a block on standard error (git shows a hook's
/// standard error to the user). Returns the counts.
pub fn write_blocks(printer: &mut Printer<'_>, diagnostics: &[Diagnostic]) -> Summary {
    let color = printer.color_err;
    for d in diagnostics {
        let (label, code) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
            Severity::Info => ("info", "1;36"),
        };
        let head = paint(
            color,
            code,
            &format!("{label}[{} {}]", d.rule.code(), d.rule.name()),
        );
        // Paths and messages quote file names and source text: control
        // characters in them are shown, never sent to the terminal.
        let place = match (&d.location.path, d.location.line) {
            (Some(path), Some(line)) => format!(
                " {}:{line}:{}",
                sanitize(path, true),
                d.location.column.unwrap_or(1)
            ),
            (Some(path), None) => format!(" {}", sanitize(path, true)),
            _ => String::new(),
        };
        let _ = writeln!(printer.err, "{head}{place}");
        let _ = writeln!(printer.err, "  {}", sanitize(&d.message, true));
        if let Some(help) = &d.help {
            let _ = writeln!(
                printer.err,
                "  {} {}",
                paint(color, "1;32", "fix:"),
                sanitize(help, true)
            );
        }
    }
    Summary::of(diagnostics)
}

/// "1 error, 2 warnings".
pub fn counts(summary: &Summary) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
    ];
    if summary.infos > 0 {
        parts.push(plural(summary.infos, "note"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use migguard_core::diagnostic::{Diagnostic, Location};
    use migguard_core::rules::naming::auto_named_migration::AutoNamedMigration;

    use super::*;

    #[test]
    fn control_characters_in_a_file_name_never_reach_the_terminal() {
        let path = "blog/migrations/0012_auto_x\u{1b}]0;PWNED\u{7}.py";
        let d = Diagnostic::new(
            &AutoNamedMigration {
                name: "0012_auto_x\u{1b}]0;PWNED\u{7}".to_owned(),
            },
            Location::file(path).at(1, 1, None),
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut printer = Printer::plain(&mut out, &mut err);
        write_blocks(&mut printer, &[d]);
        let text = String::from_utf8(err).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(
            text.contains("0012_auto_x\u{241b}]0;PWNED\u{2407}.py:1:1"),
            "{text:?}"
        );
    }
}
