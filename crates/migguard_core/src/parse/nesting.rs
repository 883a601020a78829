//! CPython refuses more than 200 nested brackets ("too many nested
//! parentheses"). migguard refuses the same before building an AST, so a
//! hostile file cannot make a deep tree.

use rustpython_parser::{lexer, Mode, Tok};

/// CPython's `MAXLEVEL`.
pub const MAX_NESTING: usize = 200;

/// Byte offset of the first bracket nested deeper than CPython allows.
pub fn too_deep(text: &str) -> Option<usize> {
    // A byte scan that ignores strings and comments can over- or
    // under-count, but it can only hide deep nesting if it also goes out of
    // range somewhere; only then is the exact (tokenising) count needed.
    let (mut depth, mut max, mut min) = (0i64, 0i64, 0i64);
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => continue,
        }
        max = max.max(depth);
        min = min.min(depth);
    }
    if max <= MAX_NESTING as i64 && min >= 0 {
        return None;
    }
    let mut depth = 0usize;
    for token in lexer::lex(text, Mode::Module) {
        let Ok((tok, range)) = token else {
            // The parser reports lexical errors itself.
            return None;
        };
        match tok {
            Tok::Lpar | Tok::Lsqb | Tok::Lbrace => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(usize::from(range.start()));
                }
            }
            Tok::Rpar | Tok::Rsqb | Tok::Rbrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_brackets_are_refused_and_strings_do_not_count() {
        let deep = format!("x = {}1{}", "(".repeat(300), ")".repeat(300));
        assert_eq!(too_deep(&deep), Some(4 + MAX_NESTING));
        let in_string = format!("x = '{}'\n", "(".repeat(300));
        assert_eq!(too_deep(&in_string), None);
        assert_eq!(too_deep("x = [1, (2, {3: 4})]"), None);
    }
}
