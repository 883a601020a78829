//! Bytes to text, the way CPython reads a source file: UTF-8 unless a PEP 263
//! coding declaration says otherwise, with an optional UTF-8 BOM.

/// Why a file's bytes are not text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset of the first byte that could not be decoded.
    pub offset: usize,
    /// 1-based line of that byte.
    pub line: u32,
    pub message: String,
}

/// The encodings migguard reads, by CPython's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Latin1,
    Ascii,
}

/// Decode a Python source file. Returns the text without a BOM.
pub fn decode_python(bytes: &[u8]) -> Result<String, DecodeError> {
    let (bom, bytes) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let encoding = match declared_encoding(bytes) {
        None => Encoding::Utf8,
        Some((declared, line)) => match known(&declared) {
            Some(Encoding::Utf8) => Encoding::Utf8,
            // CPython: a BOM says UTF-8, and a declaration must agree.
            Some(_) if bom => {
                return Err(at_line(
                    bytes,
                    line,
                    format!(
                        "the file starts with a UTF-8 BOM but declares the encoding `{declared}`"
                    ),
                ))
            }
            Some(other) => other,
            None => {
                return Err(at_line(
                    bytes,
                    line,
                    format!(
                    "the file declares the encoding `{declared}`, which migguard does not read; \
                         Django writes migrations as UTF-8"
                ),
                ))
            }
        },
    };
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError {
            offset,
            line: line_of(bytes, offset),
            message: "source code cannot contain null bytes".to_owned(),
        });
    }
    match encoding {
        Encoding::Utf8 => decode_utf8(bytes),
        Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
        Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
            Some(offset) => Err(DecodeError {
                offset,
                line: line_of(bytes, offset),
                message: format!(
                    "byte 0x{:02x} at offset {offset} is not ASCII, the encoding the file declares",
                    bytes[offset]
                ),
            }),
            None => decode_utf8(bytes),
        },
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    let err = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text.to_owned()),
        Err(err) => err,
    };
    // What `import` does (CPython 3.10 to 3.13 compile the bytes, and
    // their tokenizer never decodes a comment): bytes that are not UTF-8
    // are accepted in comments, and nowhere else. Each becomes `?`, one
    // byte for one, so offsets and columns stay those of the file.
    let invalid = invalid_utf8(bytes);
    let comments = comment_ranges(bytes);
    let in_comment = |at: usize| comments.iter().any(|r| r.contains(&at));
    match invalid.iter().find(|&&at| !in_comment(at)) {
        None => {
            let mut fixed = bytes.to_vec();
            for at in invalid {
                fixed[at] = b'?';
            }
            Ok(String::from_utf8(fixed)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
        }
        Some(_) => {
            let offset = err.valid_up_to();
            let offset = invalid
                .iter()
                .copied()
                .find(|&at| !in_comment(at))
                .unwrap_or(offset);
            Err(DecodeError {
                offset,
                line: line_of(bytes, offset),
                message: format!(
                    "byte 0x{:02x} at offset {offset} is not valid UTF-8",
                    bytes[offset]
                ),
            })
        }
    }
}

/// The offsets of every byte that is not part of valid UTF-8.
fn invalid_utf8(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match std::str::from_utf8(&bytes[at..]) {
            Ok(_) => break,
            Err(err) => {
                let start = at + err.valid_up_to();
                let len = err.error_len().unwrap_or(bytes.len() - start);
                out.extend(start..start + len);
                at = start + len;
            }
        }
    }
    out
}

/// Byte ranges of the comments of Python source (from `#` to the end of
/// its line), skipping string literals, triple-quoted ones included.
fn comment_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p);
                out.push(i..end);
                i = end;
            }
            quote @ (b'\'' | b'"') => {
                let triple = bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]);
                let width = if triple { 3 } else { 1 };
                i += width;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b if b == quote
                            && (!triple
                                || bytes.get(i..i + 3) == Some(&[quote, quote, quote][..])) =>
                        {
                            i += width;
                            break;
                        }
                        // An unterminated one-line string ends at the line
                        // (a syntax error the parser reports).
                        b'\n' if !triple => break,
                        _ => i += 1,
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn line_of(bytes: &[u8], offset: usize) -> u32 {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u32 + 1
}

fn at_line(bytes: &[u8], line: u32, message: String) -> DecodeError {
    let offset = if line <= 1 {
        0
    } else {
        bytes.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1)
    };
    DecodeError {
        offset,
        line,
        message,
    }
}

/// CPython's name for a declared encoding, for the ones migguard reads:
/// `get_normal_name` of its tokenizer (`utf-8-unix` is UTF-8, `latin-1-dos`
/// is Latin-1, `_` is `-`), then the codec aliases of those two and ASCII.
fn known(declared: &str) -> Option<Encoding> {
    let name = declared.to_ascii_lowercase().replace('_', "-");
    let base = |prefix: &str| name == prefix || name.starts_with(&format!("{prefix}-"));
    if base("utf-8") {
        return Some(Encoding::Utf8);
    }
    if base("latin-1") || base("iso-8859-1") || base("iso-latin-1") {
        return Some(Encoding::Latin1);
    }
    match name.as_str() {
        "utf8" | "u8" | "utf" | "cp65001" => Some(Encoding::Utf8),
        "latin1" | "latin" | "l1" | "iso8859-1" | "iso-ir-100" | "cp819" | "8859" | "iso8859" => {
            Some(Encoding::Latin1)
        }
        "ascii" | "us-ascii" | "us" | "646" | "ansi-x3.4-1968" | "cp367" | "csascii" | "ibm367"
        | "iso646-us" | "iso-ir-6" => Some(Encoding::Ascii),
        _ => None,
    }
}

/// The PEP 263 declaration, as CPython's tokenizer finds it: a comment line
/// matching `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on the first line, or
/// on the second when the first is blank or only a comment. With its line.
fn declared_encoding(bytes: &[u8]) -> Option<(String, u32)> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let first = lines.next()?;
    if let Some(found) = declaration(first) {
        return Some((found, 1));
    }
    let first = String::from_utf8_lossy(first);
    let first = first
        .trim_start_matches([' ', '\t', '\x0c'])
        .trim_end_matches('\r');
    if !(first.is_empty() || first.starts_with('#')) {
        return None;
    }
    declaration(lines.next()?).map(|found| (found, 2))
}

fn declaration(line: &[u8]) -> Option<String> {
    let line = String::from_utf8_lossy(line);
    let comment = line
        .trim_start_matches([' ', '\t', '\x0c'])
        .strip_prefix('#')?;
    let mut rest = comment;
    while let Some(pos) = rest.find("coding") {
        let after = &rest[pos + "coding".len()..];
        if let Some(value) = after.strip_prefix([':', '=']) {
            let name: String = value
                .trim_start_matches([' ', '\t'])
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !name.is_empty() {
                return Some(name);
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_declarations() {
        assert_eq!(decode_python(b"\xEF\xBB\xBFx = 1\n").unwrap(), "x = 1\n");
        assert_eq!(
            decode_python(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n").unwrap(),
            "# -*- coding: latin-1 -*-\nx = 'é'\n"
        );
        let err = decode_python(b"x = 1\ny = '\xff'\n").unwrap_err();
        assert_eq!((err.offset, err.line), (11, 2));
        assert!(decode_python(b"# coding: cp1252\n").is_err());
    }

    /// Each case as CPython 3.11 answers it (`compile(bytes, "f", "exec")`).
    #[test]
    fn follows_cpythons_tokenizer() {
        // `utf-8-unix` and `latin-1-dos` are normalised as CPython does.
        assert!(decode_python(b"# coding: utf-8-unix\nx = '\xc3\xa9'\n").is_ok());
        assert_eq!(
            decode_python(b"# vim: set fileencoding=latin_1 :\nx = '\xe9'\n").unwrap(),
            "# vim: set fileencoding=latin_1 :\nx = 'é'\n"
        );
        // The second line counts only after a blank or comment-only line.
        assert_eq!(
            decode_python(b"#!/usr/bin/env python\n# coding: latin-1\nx = '\xe9'\n").unwrap(),
            "#!/usr/bin/env python\n# coding: latin-1\nx = 'é'\n"
        );
        let err = decode_python(b"import os\n# coding: latin-1\nx = '\xe9'\n").unwrap_err();
        assert_eq!(err.line, 3, "read as UTF-8: {err:?}");
        // The first `coding` not followed by `:`/`=` does not end the search.
        assert!(decode_python(b"# coding is fun, coding: latin-1\nx = '\xe9'\n").is_ok());
        // ASCII is strict.
        let err = decode_python(b"# coding: ascii\nx = '\xc3\xa9'\n").unwrap_err();
        assert_eq!((err.offset, err.line), (21, 2));
        // A BOM and a declaration that disagree; a NUL byte.
        assert_eq!(
            decode_python(b"\xEF\xBB\xBF# coding: latin-1\nx = 1\n")
                .unwrap_err()
                .line,
            1
        );
        let err = decode_python(b"x = 1\ny = 2\0\n").unwrap_err();
        assert_eq!((err.offset, err.line), (11, 2));
        assert!(err.message.contains("null bytes"));
        // An unknown encoding is reported on its line.
        assert_eq!(decode_python(b"\n# coding: cp1252\n").unwrap_err().line, 2);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_in_comments_only() {
        // As `import` reads them on CPython 3.10 to 3.13.
        assert_eq!(
            decode_python(b"x = 1  # caf\xe9\ny = '#'\n").unwrap(),
            "x = 1  # caf?\ny = '#'\n"
        );
        assert_eq!(decode_python(b"# \xff\xfe\n").unwrap(), "# ??\n");
        // In a string, or after a `#` inside one, it is an error.
        let err = decode_python(b"x = '# caf\xe9'\n").unwrap_err();
        assert_eq!((err.offset, err.line), (10, 1));
        let err = decode_python(b"# ok \xe9\nx = \"\"\"\n\xe9\n\"\"\"\n").unwrap_err();
        assert_eq!(err.line, 3);
    }
}
