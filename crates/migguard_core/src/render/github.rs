//! GitHub Actions workflow commands, which the runner turns into
//! annotations on the pull request:
//! `::error file=PATH,line=L,col=C,title=MG103 conflicting-migrations::message`.
//! No summary line: every line is a command.

use std::io::{self, Write};

use super::RenderOptions;
use crate::diagnostic::{Diagnostic, Severity};

pub(super) fn render(
    diagnostics: &[Diagnostic],
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for diagnostic in diagnostics {
        writeln!(out, "{}", command(diagnostic, options))?;
    }
    Ok(())
}

fn command(diagnostic: &Diagnostic, options: &RenderOptions) -> String {
    let name = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let location = &diagnostic.location;
    let mut properties = Vec::new();
    if let Some(path) = &location.path {
        properties.push(format!(
            "file={}",
            escape_property(&options.display_path(path))
        ));
        if let Some(line) = location.line.filter(|&line| line > 0) {
            properties.push(format!("line={line}"));
            if let Some(column) = location.column.filter(|&column| column > 0) {
                properties.push(format!("col={column}"));
            }
        }
    }
    let rule = diagnostic.rule;
    properties.push(format!(
        "title={}",
        escape_property(&format!("{} {}", rule.code(), rule.name()))
    ));
    let mut data = escape_data(&diagnostic.message);
    if let Some(help) = &diagnostic.help {
        data.push_str("%0A");
        data.push_str(&escape_data(help));
    }
    format!("::{name} {}::{data}", properties.join(","))
}

/// The message of a command.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a command.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{self, checked};
    use super::super::{render_to_string, Format};
    use super::*;
    use crate::diagnostic::Location;

    #[test]
    fn commands() {
        let output = fixtures::render_plain(Format::Github, &fixtures::diagnostics());
        assert_eq!(output.lines().count(), 4);
        assert!(output.lines().all(|line| line.starts_with("::")));
        insta::assert_snapshot!(checked(output, &["MG103", "MG504", "MG004", "::notice "]));
    }

    #[test]
    fn broken_locations() {
        let output = fixtures::render_plain(Format::Github, &fixtures::broken());
        insta::assert_snapshot!(checked(output, &["MG103"]));
    }

    #[test]
    fn escaping_and_prefix() {
        let mut diagnostic = Diagnostic::new(
            &fixtures::conflict(),
            Location::file("odd,dir/a:b.py").at(3, 7, None),
        );
        diagnostic.message = "100% wrong\r\nreally".into();
        diagnostic.help = Some("a, b: c".into());
        let options = RenderOptions {
            color: true,
            path_prefix: "backend/".into(),
            coverage: None,
        };
        let output = render_to_string(Format::Github, &[diagnostic], &fixtures::source(), &options);
        assert_eq!(
            output,
            "::error file=backend/odd%2Cdir/a%3Ab.py,line=3,col=7,title=MG103 conflicting-migrations\
             ::100%25 wrong%0D%0Areally%0Aa, b: c\n"
        );
        assert_eq!(fixtures::render_plain(Format::Github, &[]), "");
    }
}
