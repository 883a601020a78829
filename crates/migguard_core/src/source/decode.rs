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

/// Decode a Python source file. Returns the text without a BOM.
pub fn decode_python(bytes: &[u8]) -> Result<String, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match declared_encoding(bytes).as_deref() {
        None | Some("utf-8" | "utf8" | "utf_8" | "ascii" | "us-ascii") => decode_utf8(bytes),
        Some("latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "iso-latin-1" | "l1") => {
            Ok(bytes.iter().map(|&b| b as char).collect())
        }
        Some(other) => Err(DecodeError {
            offset: 0,
            line: 1,
            message: format!(
                "the file declares the encoding `{other}`, which migguard does not read; \
                 Django writes migrations as UTF-8"
            ),
        }),
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(err) => {
            let offset = err.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            Err(DecodeError {
                offset,
                line,
                message: format!(
                    "byte 0x{:02x} at offset {offset} is not valid UTF-8",
                    bytes[offset]
                ),
            })
        }
    }
}

/// The PEP 263 declaration on one of the first two lines, lower-cased.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            // Only a comment line may carry it; the first line may be a
            // shebang, which is a comment too.
            continue;
        }
        if let Some(pos) = trimmed.find("coding") {
            let rest = &trimmed[pos + "coding".len()..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if !name.is_empty() {
                    return Some(name.to_ascii_lowercase());
                }
            }
        }
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
}
