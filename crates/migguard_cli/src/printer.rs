//! The one place output is written: standard output for results, standard
//! error for messages. Colour only on a terminal, never with `NO_COLOR`.

use std::io::{IsTerminal, Write};

pub struct Printer<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Colour the results written to `out`.
    pub color: bool,
    /// Colour the messages written to `err`.
    pub color_err: bool,
}

impl<'a> Printer<'a> {
    /// A printer on the process's own streams, colouring each stream only
    /// when it is a terminal and `NO_COLOR` is unset (or `FORCE_COLOR` set).
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write) -> Printer<'a> {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let force = std::env::var_os("FORCE_COLOR").is_some_and(|v| !v.is_empty());
        Printer {
            out,
            err,
            color: force || (!no_color && std::io::stdout().is_terminal()),
            color_err: force || (!no_color && std::io::stderr().is_terminal()),
        }
    }

    /// A printer that never colours: for tests and captured output.
    pub fn plain(out: &'a mut dyn Write, err: &'a mut dyn Write) -> Printer<'a> {
        Printer {
            out,
            err,
            color: false,
            color_err: false,
        }
    }

    pub fn error(&mut self, message: &str) {
        let label = if self.color_err {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        };
        let _ = writeln!(self.err, "migguard: {label}: {message}");
    }

    pub fn warn(&mut self, message: &str) {
        let label = if self.color_err {
            "\x1b[1;33mwarning\x1b[0m"
        } else {
            "warning"
        };
        let _ = writeln!(self.err, "migguard: {label}: {message}");
    }

    pub fn note(&mut self, message: &str) {
        let _ = writeln!(self.err, "migguard: {message}");
    }
}
