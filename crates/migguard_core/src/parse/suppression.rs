//! `# migguard: ignore[rule-a, rule-b]` comments.

use crate::model::Suppression;

/// Every suppression comment of a text, by 1-based line. A marker inside a
/// string literal that happens to contain `#` is accepted too; migration
/// files do not carry such strings in practice.
pub fn scan(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(hash) = line.find('#') else { continue };
        let comment = &line[hash + 1..];
        let Some(pos) = comment.find("migguard:") else {
            continue;
        };
        let rest = comment[pos + "migguard:".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("ignore[") else {
            continue;
        };
        let Some(end) = rest.find(']') else { continue };
        let rules: Vec<String> = rest[..end]
            .split(',')
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
        if !rules.is_empty() {
            out.push(Suppression {
                line: index as u32 + 1,
                rules,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_markers() {
        let found = scan("a = 1\nmigrations.RemoveField(  # migguard: ignore[remove-field, MG403]\n# migguard: ignore[]\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].rules, vec!["remove-field", "MG403"]);
    }
}
