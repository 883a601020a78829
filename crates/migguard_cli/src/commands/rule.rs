//! `migguard rule [NAME]`: a rule's documentation.

use anyhow::Result;
use migguard_core::rules::Rule;

use crate::args::RuleArgs;
use crate::{ExitStatus, Printer};

pub fn run(args: &RuleArgs, printer: &mut Printer<'_>) -> Result<ExitStatus> {
    match &args.rule {
        Some(name) => match Rule::lookup(name) {
            Some(rule) => {
                write!(printer.out, "{}", rule.doc())?;
                Ok(ExitStatus::Success)
            }
            None => {
                printer.error(&format!(
                    "unknown rule `{name}`; `migguard rule` lists them"
                ));
                Ok(ExitStatus::Error)
            }
        },
        None => {
            for rule in Rule::ALL {
                writeln!(
                    printer.out,
                    "{}  {:<28} {}",
                    rule.code(),
                    rule.name(),
                    rule.default_severity().as_str()
                )?;
            }
            Ok(ExitStatus::Success)
        }
    }
}
