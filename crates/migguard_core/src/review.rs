//! Review records: a committed, human-readable file acknowledging the
//! destructive or irreversible operations of a migration, bound to the
//! SHA-256 of the file's content so that any later change voids it.
//!
//! ```toml
//! review = [
//!     { path = "blog/migrations/0005_remove_post_subtitle.py", sha256 = "3f1c…", rules = ["remove-field"], reviewer = "Ada Lovelace <ada@example.com>", date = "2026-11-22", note = "subtitle has been unused since 2.3" },
//! ]
//! ```
//!
//! One line per migration, sorted by path: with `merge=union` for the
//! file in `.gitattributes` (which `migguard install` and `migguard
//! review` add), two branches reviewing different migrations merge without
//! conflict. `[[review]]` blocks (the earlier layout) are read too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::ProjectSource;

/// The file's name, at the project root.
pub const FILE_NAME: &str = "migguard-reviews.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub path: String,
    pub sha256: String,
    pub rules: Vec<String>,
    pub reviewer: String,
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFile {
    #[serde(default, rename = "review")]
    pub reviews: Vec<Review>,
}

#[derive(Debug, thiserror::Error)]
#[error("{FILE_NAME}: {0}")]
pub struct ReviewFileError(String);

/// The hex SHA-256 of a file's bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The review file of `source`: none is an empty one; one that does not
/// parse is an error (and its reviews count for nothing).
pub fn load(source: &dyn ProjectSource) -> Result<ReviewFile, ReviewFileError> {
    match source.read(FILE_NAME) {
        Ok(bytes) => ReviewFile::parse(&String::from_utf8_lossy(&bytes)),
        Err(_) => Ok(ReviewFile::default()),
    }
}

/// Split `findings` into those still to act on and the errors a review
/// covers (its file's current content, its rule), as pre-push and
/// `check --since` both judge them. Warnings and notes are never reviewed
/// away. `content` gives a file as git stores it, what reviews are bound
/// to (a working tree under `core.autocrlf` differs in line endings).
pub fn split_reviewed(
    findings: Vec<Diagnostic>,
    reviews: &ReviewFile,
    content: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut hashes: BTreeMap<String, String> = BTreeMap::new();
    let mut open = Vec::new();
    let mut reviewed = Vec::new();
    for d in findings {
        let Some(path) = d
            .location
            .path
            .clone()
            .filter(|_| d.severity == Severity::Error)
        else {
            open.push(d);
            continue;
        };
        let sha = hashes
            .entry(path.clone())
            .or_insert_with(|| content(&path).map(|b| sha256_hex(&b)).unwrap_or_default());
        if reviews.covers(&path, sha, d.rule.name()) {
            reviewed.push(d);
        } else {
            open.push(d);
        }
    }
    (open, reviewed)
}

impl ReviewFile {
    pub fn parse(text: &str) -> Result<ReviewFile, ReviewFileError> {
        toml::from_str(text).map_err(|e| ReviewFileError(e.to_string()))
    }

    /// Whether `rule` is acknowledged for this exact content of `path`.
    pub fn covers(&self, path: &str, sha256: &str, rule: &str) -> bool {
        self.reviews
            .iter()
            .any(|r| r.path == path && r.sha256 == sha256 && r.rules.iter().any(|x| x == rule))
    }

    /// The review of `path`, if any, whatever its content hash.
    pub fn find(&self, path: &str) -> Option<&Review> {
        self.reviews.iter().find(|r| r.path == path)
    }

    /// Add a review, replacing any earlier one of the same path.
    pub fn record(&mut self, review: Review) {
        self.reviews.retain(|r| r.path != review.path);
        self.reviews.push(review);
        self.reviews.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// The file's text: a header comment, then the reviews, one line each,
    /// sorted by path. Two branches reviewing different migrations add
    /// different lines, which git's `merge=union` (see
    /// [`GITATTRIBUTES_LINE`]) keeps both of: every line is a whole review
    /// ending in a comma, so any union of them is still this file.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# Reviews of destructive or irreversible migration operations, written by\n\
             # `migguard review`. Each is bound to the SHA-256 of the migration's content:\n\
             # changing the file voids its review. One line per review, so that git merges\n\
             # the reviews of two branches (`migguard-reviews.toml merge=union` in .gitattributes).\n\n\
             review = [\n",
        );
        for review in &self.reviews {
            let rules: Vec<String> = review.rules.iter().map(|r| basic_string(r)).collect();
            out.push_str(&format!(
                "    {{ path = {}, sha256 = {}, rules = [{}], reviewer = {}, date = {}",
                basic_string(&review.path),
                basic_string(&review.sha256),
                rules.join(", "),
                basic_string(&review.reviewer),
                basic_string(&review.date),
            ));
            if let Some(note) = &review.note {
                out.push_str(&format!(", note = {}", basic_string(note)));
            }
            out.push_str(" },\n");
        }
        out.push_str("]\n");
        out
    }
}

/// The `.gitattributes` line that makes git merge the review files of two
/// branches by keeping the lines of both.
pub const GITATTRIBUTES_LINE: &str = "migguard-reviews.toml merge=union";

/// Whether `.gitattributes` text already gives the review file a union
/// merge (a pattern naming it, at any level, with `merge=union`).
pub fn has_union_merge(gitattributes: &str) -> bool {
    gitattributes.lines().any(|line| {
        let mut words = line.split_whitespace();
        let pattern = words.next().unwrap_or_default();
        let names_it = pattern
            .rsplit('/')
            .next()
            .is_some_and(|last| last == FILE_NAME);
        names_it && words.any(|w| w == "merge=union")
    })
}

/// A TOML basic string on one line: quotes, backslashes and control
/// characters escaped.
fn basic_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding_to_content() {
        let mut file = ReviewFile::default();
        let sha = sha256_hex(b"content");
        file.record(Review {
            path: "b/migrations/0002_x.py".into(),
            sha256: sha.clone(),
            rules: vec!["remove-field".into()],
            reviewer: "Ada <ada@example.com>".into(),
            date: "2026-11-22".into(),
            note: Some("unused column".into()),
        });
        file.record(Review {
            path: "a/migrations/0003_y.py".into(),
            sha256: sha256_hex(b"other"),
            rules: vec!["delete-model".into()],
            reviewer: "Ada <ada@example.com>".into(),
            date: "2026-11-22".into(),
            note: None,
        });
        let text = file.to_toml();
        let back = ReviewFile::parse(&text).unwrap();
        assert_eq!(back, file);
        assert_eq!(
            back.reviews[0].path, "a/migrations/0003_y.py",
            "sorted by path"
        );
        assert!(back.covers("b/migrations/0002_x.py", &sha, "remove-field"));
        assert!(!back.covers(
            "b/migrations/0002_x.py",
            &sha256_hex(b"changed"),
            "remove-field"
        ));
        assert!(!back.covers("b/migrations/0002_x.py", &sha, "delete-model"));
        assert!(ReviewFile::parse("[[review]]\npath = 1\n").is_err());
    }

    #[test]
    fn one_line_per_review_whatever_the_note_and_the_old_layout_still_reads() {
        let mut file = ReviewFile::default();
        file.record(Review {
            path: "a/migrations/0002_x.py".into(),
            sha256: "ab".into(),
            rules: vec!["remove-field".into()],
            reviewer: "Ada \"the first\" <ada@example.com>".into(),
            date: "2026-11-22".into(),
            note: Some("two\nlines, a tab\t, a \\ and a \u{7}".into()),
        });
        let text = file.to_toml();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("path = ")).collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(lines[0].trim_end().ends_with("},"), "{text}");
        assert_eq!(ReviewFile::parse(&text).unwrap(), file);

        let old = "[[review]]\npath = \"a.py\"\nsha256 = \"ab\"\nrules = [\"remove-field\"]\nreviewer = \"Ada\"\ndate = \"2026-11-22\"\n";
        assert!(ReviewFile::parse(old)
            .unwrap()
            .covers("a.py", "ab", "remove-field"));
    }

    #[test]
    fn union_merge_attribute_is_recognised_at_any_level() {
        assert!(has_union_merge(
            "*.py diff=python\nmigguard-reviews.toml merge=union\n"
        ));
        assert!(has_union_merge(
            "/backend/migguard-reviews.toml  -text merge=union"
        ));
        assert!(!has_union_merge("migguard-reviews.toml -text\n"));
        assert!(!has_union_merge("other.toml merge=union\n"));
    }
}
