//! Byte offsets to 1-based line and column, computed once per file.

/// Line starts of a text. Columns count characters, not bytes, so they match
/// what an editor shows.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i as u32 + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i as u32 + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    /// 1-based line and column of a byte offset. Offsets past the end or
    /// inside a multi-byte character are clamped, never a panic.
    pub fn location(&self, text: &str, offset: u32) -> (u32, u32) {
        let offset = offset.min(text.len() as u32);
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line] as usize;
        let mut end = offset as usize;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = text.get(start..end).map_or(0, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }

    /// Byte range of a 1-based line, without its line ending.
    pub fn line_range(&self, text: &str, line: u32) -> Option<(usize, usize)> {
        let idx = line.checked_sub(1)? as usize;
        let start = *self.starts.get(idx)? as usize;
        let mut end = self
            .starts
            .get(idx + 1)
            .map_or(text.len(), |&next| next as usize);
        let bytes = text.as_bytes();
        while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        Some((start, end))
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\r\ncé\nx\ry";
        let idx = LineIndex::new(text);
        assert_eq!(idx.location(text, 0), (1, 1));
        assert_eq!(idx.location(text, 4), (2, 1));
        // 'é' is two bytes; the offset after it is column 3.
        assert_eq!(idx.location(text, 7), (2, 3));
        assert_eq!(idx.location(text, 10), (4, 1));
        assert_eq!(
            idx.location(text, 6),
            (2, 2),
            "inside a character clamps back"
        );
        assert_eq!(idx.location(text, 999), (4, 2), "past the end clamps");
        assert_eq!(idx.line_range(text, 2), Some((4, 7)));
        assert_eq!(idx.line_range(text, 9), None);
    }
}
