//! Parsing a module, with newer Python syntax the parser predates read too.
//!
//! `rustpython-parser` 0.4 reads Python 3.11. Two later forms occur in real
//! projects and are valid for the Python that runs them:
//!
//! - PEP 758 (3.14): `except A, B:` without parentheses;
//! - PEP 701 (3.12): f-strings that reuse their quote inside a replacement
//!   field, `f"{x["key"]}"`, or nest deeper than before.
//!
//! When the first parse fails, a copy of the text is rewritten into the
//! older form with every byte offset kept (`except A, B:` becomes
//! `except(A,B):`; an f-string's contents become spaces, newlines kept) and
//! parsed again. Every range in the tree is then one of the original text,
//! so source slices (an f-string kept as `Value::Expr`) read the original.
//! When the copy fails too, the first error is the one reported.

use rustpython_parser::ast::{self, Stmt};
use rustpython_parser::{Parse, ParseError};

/// Parse `text` as a module (see the module docs).
pub fn parse_suite(text: &str, name: &str) -> Result<Vec<Stmt>, ParseError> {
    let first = match ast::Suite::parse(text, name) {
        Ok(body) => return Ok(body),
        Err(err) => err,
    };
    let rewritten = blank_fstrings(&parenthesize_excepts(text));
    if rewritten == text {
        return Err(first);
    }
    ast::Suite::parse(&rewritten, name).map_err(|_| first)
}

/// `except A, B:` as `except(A,B):`, same length: the `(` takes the space
/// after `except`, the `)` the space before `:` or one after a comma.
fn parenthesize_excepts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&parenthesize_except(line).unwrap_or_else(|| line.to_owned()));
    }
    out
}

fn parenthesize_except(line: &str) -> Option<String> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let keyword = if rest.starts_with("except*") {
        "except*"
    } else {
        "except"
    };
    let after = rest.strip_prefix(keyword)?;
    if !after.starts_with([' ', '\t']) {
        return None;
    }
    // The clause ends at the last `:` before a comment; strings with `:`
    // or `#` in an except clause are not worth the trouble.
    let body_end = after.find('#').unwrap_or(after.len());
    let colon = after[..body_end].rfind(':')?;
    let expr = &after[1..colon];
    if expr.contains(['"', '\'', '(', '[', '{'])
        || !expr.contains(',')
        || expr.split_whitespace().any(|w| w == "as")
    {
        return None;
    }
    let mut inner: String = expr.to_owned();
    if inner.ends_with([' ', '\t']) {
        inner.pop();
    } else {
        // Take one blank after a comma instead.
        let at = inner.find(", ").or_else(|| inner.find(",\t"))?;
        inner.remove(at + 1);
    }
    let start = indent + keyword.len();
    let mut fixed = String::with_capacity(line.len());
    fixed.push_str(&line[..start]);
    fixed.push('(');
    fixed.push_str(&inner);
    fixed.push(')');
    fixed.push_str(&after[colon..]);
    (fixed.len() == line.len()).then_some(fixed)
}

/// Every f-string's contents as spaces (newlines kept), quotes and prefix
/// untouched; the rest of the text as it is.
fn blank_fstrings(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let prefix = string_prefix(bytes, i);
                let end = string_end(bytes, i, prefix.contains(&b'f'));
                if prefix.contains(&b'f') {
                    let quote = quote_width(bytes, i);
                    for b in &mut out[i + quote..end.saturating_sub(quote).max(i + quote)] {
                        if *b != b'\n' {
                            *b = b' ';
                        }
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    // Each blanked range starts and ends at an ASCII quote, so every
    // character in it is replaced whole: the bytes stay UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// The lower-cased prefix letters of the string literal whose quote is at
/// `at` (`rb`, `f`, ...), when they are a prefix and not a name's tail.
fn string_prefix(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut start = at;
    while start > 0 && bytes[start - 1].is_ascii_alphabetic() && at - start < 3 {
        start -= 1;
    }
    if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        return Vec::new();
    }
    let prefix: Vec<u8> = bytes[start..at]
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    if prefix
        .iter()
        .all(|b| matches!(b, b'r' | b'b' | b'u' | b'f'))
    {
        prefix
    } else {
        Vec::new()
    }
}

fn quote_width(bytes: &[u8], at: usize) -> usize {
    let q = bytes[at];
    if bytes.get(at..at + 3) == Some(&[q, q, q][..]) {
        3
    } else {
        1
    }
}

/// The offset just past the string literal whose quote is at `at`. In an
/// f-string, replacement fields may hold any expression, strings with the
/// same quote and nested f-strings included (PEP 701).
fn string_end(bytes: &[u8], at: usize, fstring: bool) -> usize {
    let q = bytes[at];
    let width = quote_width(bytes, at);
    let mut i = at + width;
    let mut depth = 0u32;
    while i < bytes.len() {
        let b = bytes[i];
        if depth == 0 {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q && (width == 1 || bytes.get(i..i + 3) == Some(&[q, q, q][..])) {
                return i + width;
            }
            if b == b'\n' && width == 1 {
                return i;
            }
            if fstring && b == b'{' {
                if bytes.get(i + 1) == Some(&b'{') {
                    i += 2;
                    continue;
                }
                depth = 1;
            }
            i += 1;
            continue;
        }
        // Inside a replacement field: an expression.
        match b {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b'\'' | b'"' => {
                let nested_f = string_prefix(bytes, i).contains(&b'f');
                i = string_end(bytes, i, nested_f);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn except_without_parentheses_is_read_pep_758() {
        let text = "try:\n    pass\nexcept ValueError, TypeError:\n    pass\ntry:\n    pass\nexcept* A, B :\n    pass\n";
        let body = parse_suite(text, "m").unwrap();
        assert_eq!(body.len(), 2);
        assert_eq!(
            parenthesize_except("except ValueError, TypeError:\n").unwrap(),
            "except(ValueError,TypeError):\n"
        );
        // `as` needs the parentheses in every version: still an error.
        assert!(parse_suite("try:\n    pass\nexcept A, B as e:\n    pass\n", "m").is_err());
    }

    #[test]
    fn fstrings_reusing_their_quotes_are_read_pep_701() {
        let text = "X = f\"{f\"{'a'}\"}\"\nY = f'{d['k']}' + \"#\"\nZ = 1\n";
        let body = parse_suite(text, "m").unwrap();
        assert_eq!(body.len(), 3);
        // Offsets are the original text's.
        let ast::Stmt::Assign(x) = &body[0] else {
            panic!()
        };
        let range = rustpython_parser::ast::Ranged::range(&*x.value);
        assert_eq!(
            &text[usize::from(range.start())..usize::from(range.end())],
            "f\"{f\"{'a'}\"}\""
        );
        let ast::Stmt::Assign(z) = &body[2] else {
            panic!()
        };
        assert_eq!(
            usize::from(rustpython_parser::ast::Ranged::range(z).start()),
            text.rfind('Z').unwrap()
        );
    }

    #[test]
    fn a_real_syntax_error_is_reported_as_first_found() {
        let err = parse_suite("x = f\"{a[\"k\"]}\"\ndef (:\n", "m").unwrap_err();
        assert!(err.offset > rustpython_parser::text_size::TextSize::from(0));
    }
}
