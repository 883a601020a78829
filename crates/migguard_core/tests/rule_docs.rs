//! `docs/rules/<rule-name>.md` and `docs/rules/README.md` are generated from
//! the `DOC` beside each rule. This test fails when they are stale;
//! `MIGGUARD_UPDATE_DOCS=1 cargo test -p migguard_core --test rule_docs`
//! rewrites them.

use std::path::PathBuf;

use migguard_core::rules::Rule;

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules")
}

fn index() -> String {
    let mut text = String::from(
        "# Rules\n\nGenerated from the `DOC` beside each rule in `crates/migguard_core/src/rules/`; \
         do not edit by hand.\n\n| Code | Name | Default severity |\n| --- | --- | --- |\n",
    );
    for rule in Rule::ALL {
        text.push_str(&format!(
            "| {} | [{}]({}.md) | {} |\n",
            rule.code(),
            rule.name(),
            rule.name(),
            rule.default_severity().as_str()
        ));
    }
    text
}

#[test]
fn rule_pages_are_generated_from_the_rules() {
    let dir = docs_dir();
    let mut expected: Vec<(PathBuf, String)> = Rule::ALL
        .iter()
        .map(|r| (dir.join(format!("{}.md", r.name())), r.doc().to_owned()))
        .collect();
    expected.push((dir.join("README.md"), index()));
    if std::env::var_os("MIGGUARD_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (path, text) in &expected {
            std::fs::write(path, text).unwrap();
        }
    }
    for (path, text) in &expected {
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            &on_disk,
            text,
            "{} is stale: run MIGGUARD_UPDATE_DOCS=1 cargo test -p migguard_core --test rule_docs",
            path.display()
        );
    }
    let pages = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(
        pages,
        expected.len(),
        "docs/rules has pages for rules that no longer exist"
    );
}
