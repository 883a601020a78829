//! The short report hooks print: one block per finding, with the file,
//! the line and the fix, then one closing line.

use migguard_core::diagnostic::{Diagnostic, Severity, Summary};

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
        let place = match (&d.location.path, d.location.line) {
            (Some(path), Some(line)) => {
                format!(" {path}:{line}:{}", d.location.column.unwrap_or(1))
            }
            (Some(path), None) => format!(" {path}"),
            _ => String::new(),
        };
        let _ = writeln!(printer.err, "{head}{place}");
        let _ = writeln!(printer.err, "  {}", d.message);
        if let Some(help) = &d.help {
            let _ = writeln!(printer.err, "  {} {help}", paint(color, "1;32", "fix:"));
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
