//! Review records: a committed, human-readable file acknowledging the
//! destructive or irreversible operations of a migration, bound to the
//! SHA-256 of the file's content so that any later change voids it.
//!
//! ```toml
//! [[review]]
//! path = "blog/migrations/0005_remove_post_subtitle.py"
//! sha256 = "3f1c…"
//! rules = ["remove-field"]
//! reviewer = "Ada Lovelace <ada@example.com>"
//! date = "2026-11-22"
//! note = "subtitle has been unused since 2.3"
//! ```
//!
//! One block per migration, sorted by path, so that two branches reviewing
//! different migrations merge without conflict.

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
/// away.
pub fn split_reviewed(
    findings: Vec<Diagnostic>,
    reviews: &ReviewFile,
    source: &dyn ProjectSource,
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
        let sha = hashes.entry(path.clone()).or_insert_with(|| {
            source
                .read(&path)
                .map(|b| sha256_hex(&b))
                .unwrap_or_default()
        });
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

    /// The file's text: a header comment, then one block per review.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# Reviews of destructive or irreversible migration operations, written by\n\
             # `migguard review`. Each is bound to the SHA-256 of the migration's content:\n\
             # changing the file voids its review.\n",
        );
        for review in &self.reviews {
            let block = toml::to_string(&ReviewFile {
                reviews: vec![review.clone()],
            })
            .unwrap_or_default();
            out.push('\n');
            out.push_str(&block);
        }
        out
    }
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
}
