//! What the literal SQL of a `RunSQL` does, statement by statement.
//!
//! The text is parsed with `sqlparser`, trying a permissive dialect first
//! (generic, then PostgreSQL, MySQL and SQLite), and the statement trees are
//! walked. A statement no dialect can parse (Django's `%s` placeholders,
//! vendor syntax, procedural blocks) falls back to a conservative keyword
//! scan of the statement with comments and string literals removed; its
//! facts are marked `parsed: false`. Bodies of dollar-quoted functions and
//! `DO` blocks are not looked into.

use crate::model::SqlText;
use sqlparser::ast::{AlterTableOperation, FromTable, ObjectType, Query, SetExpr, Statement};
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// What a statement changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementClass {
    /// `CREATE`, `ALTER`, `DROP`, `RENAME`, `COMMENT`.
    Schema,
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `TRUNCATE`.
    Data,
    /// Anything else: `SELECT`, `SET`, `VACUUM`, ...
    Other,
}

/// One destructive part of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destruction {
    /// `DROP TABLE`, `TRUNCATE`, `DELETE`, `ALTER TABLE DROP COLUMN`, ...
    pub kind: String,
    /// Tables, indexes or `table.column`s, as written.
    pub targets: Vec<String>,
    /// A `DELETE` with a `WHERE` clause: it removes chosen rows, not all.
    pub filtered: bool,
    /// False when found by the keyword scan.
    pub parsed: bool,
}

/// The facts of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFacts {
    pub class: StatementClass,
    pub destructions: Vec<Destruction>,
    pub parsed: bool,
}

/// Every statement of a `RunSQL`'s SQL, list items one by one (Django runs
/// them as separate statements); `None` when the SQL is not literal.
pub fn analyze_sql(sql: &SqlText) -> Option<Vec<StatementFacts>> {
    match sql {
        SqlText::Literal(parts) => Some(parts.iter().flat_map(|part| analyze(part)).collect()),
        SqlText::Dynamic(_) => None,
    }
}

/// Every statement of a SQL text.
pub fn analyze(sql: &str) -> Vec<StatementFacts> {
    if let Some(statements) = parse(sql) {
        return statements.iter().map(|s| of_statement(s, true)).collect();
    }
    let mut out = Vec::new();
    for piece in split(sql) {
        if piece.cleaned.trim().is_empty() {
            continue;
        }
        match parse(piece.original) {
            Some(statements) => out.extend(statements.iter().map(|s| of_statement(s, true))),
            None => out.push(scan(&piece.cleaned)),
        }
    }
    out
}

fn parse(sql: &str) -> Option<Vec<Statement>> {
    let dialects: [&dyn Dialect; 4] = [
        &GenericDialect {},
        &PostgreSqlDialect {},
        &MySqlDialect {},
        &SQLiteDialect {},
    ];
    dialects
        .iter()
        .find_map(|d| Parser::parse_sql(*d, sql).ok())
}

fn destruction(kind: impl Into<String>, targets: Vec<String>, filtered: bool) -> Destruction {
    Destruction {
        kind: kind.into(),
        targets,
        filtered,
        parsed: true,
    }
}

fn of_statement(statement: &Statement, parsed: bool) -> StatementFacts {
    let mut destructions = Vec::new();
    let class = match statement {
        Statement::Drop {
            object_type, names, ..
        } => {
            let data_bearing = matches!(
                object_type,
                ObjectType::Table
                    | ObjectType::Index
                    | ObjectType::Schema
                    | ObjectType::Database
                    | ObjectType::Sequence
            );
            if data_bearing {
                destructions.push(destruction(
                    format!("DROP {object_type}"),
                    names.iter().map(ToString::to_string).collect(),
                    false,
                ));
            }
            StatementClass::Schema
        }
        Statement::Truncate(truncate) => {
            destructions.push(destruction(
                "TRUNCATE",
                truncate
                    .table_names
                    .iter()
                    .map(|t| t.name.to_string())
                    .collect(),
                false,
            ));
            StatementClass::Data
        }
        Statement::Delete(delete) => {
            let targets = if delete.tables.is_empty() {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                from.iter().map(|t| t.relation.to_string()).collect()
            } else {
                delete.tables.iter().map(ToString::to_string).collect()
            };
            destructions.push(destruction("DELETE", targets, delete.selection.is_some()));
            StatementClass::Data
        }
        Statement::AlterTable(alter) => {
            let table = alter.name.to_string();
            for operation in &alter.operations {
                let (kind, targets) = match operation {
                    AlterTableOperation::DropColumn { column_names, .. } => (
                        "ALTER TABLE DROP COLUMN",
                        column_names
                            .iter()
                            .map(|c| format!("{table}.{c}"))
                            .collect(),
                    ),
                    AlterTableOperation::DropConstraint { name, .. } => (
                        "ALTER TABLE DROP CONSTRAINT",
                        vec![format!("{table}.{name}")],
                    ),
                    AlterTableOperation::DropForeignKey { name, .. } => (
                        "ALTER TABLE DROP FOREIGN KEY",
                        vec![format!("{table}.{name}")],
                    ),
                    AlterTableOperation::DropIndex { name } => {
                        ("ALTER TABLE DROP INDEX", vec![format!("{table}.{name}")])
                    }
                    AlterTableOperation::DropPrimaryKey { .. } => {
                        ("ALTER TABLE DROP PRIMARY KEY", vec![table.clone()])
                    }
                    AlterTableOperation::DropPartitions { .. } => {
                        ("ALTER TABLE DROP PARTITION", vec![table.clone()])
                    }
                    _ => continue,
                };
                destructions.push(destruction(kind, targets, false));
            }
            StatementClass::Schema
        }
        Statement::Insert(_) | Statement::Update(_) | Statement::Merge(_) => StatementClass::Data,
        Statement::Query(query) => {
            let mut class = StatementClass::Other;
            of_query(query, &mut class, &mut destructions);
            class
        }
        other => class_of_keyword(&first_word(&other.to_string())),
    };
    for d in &mut destructions {
        d.parsed = parsed;
    }
    StatementFacts {
        class,
        destructions,
        parsed,
    }
}

/// Data-changing statements inside a query: `WITH gone AS (DELETE ...) SELECT`.
fn of_query(query: &Query, class: &mut StatementClass, destructions: &mut Vec<Destruction>) {
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            of_query(&cte.query, class, destructions);
        }
    }
    of_set_expr(&query.body, class, destructions);
}

fn of_set_expr(body: &SetExpr, class: &mut StatementClass, destructions: &mut Vec<Destruction>) {
    match body {
        SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
            let facts = of_statement(s, true);
            *class = StatementClass::Data;
            destructions.extend(facts.destructions);
        }
        SetExpr::Query(q) => of_query(q, class, destructions),
        SetExpr::SetOperation { left, right, .. } => {
            of_set_expr(left, class, destructions);
            of_set_expr(right, class, destructions);
        }
        _ => {}
    }
}

fn first_word(text: &str) -> String {
    words(text).next().unwrap_or_default().to_ascii_uppercase()
}

fn class_of_keyword(word: &str) -> StatementClass {
    match word {
        "CREATE" | "ALTER" | "DROP" | "RENAME" | "COMMENT" => StatementClass::Schema,
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "TRUNCATE" | "REPLACE" | "UPSERT" | "COPY" => {
            StatementClass::Data
        }
        _ => StatementClass::Other,
    }
}

/// Words of a cleaned statement: identifiers (dotted and quoted ones kept
/// whole, so a quoted `"delete"` is never a keyword) and keywords.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '"' | '`' | '$')))
        .filter(|w| !w.is_empty())
}

/// The keyword scan for a statement no dialect parses. It errs towards
/// reporting: any `DROP TABLE/INDEX/SCHEMA/DATABASE/SEQUENCE`, `TRUNCATE`,
/// `DELETE` (first word, or followed by `FROM`), and `ALTER TABLE ... DROP`
/// other than `DROP DEFAULT` / `DROP NOT NULL` / `DROP EXPRESSION` /
/// `DROP IDENTITY`.
fn scan(cleaned: &str) -> StatementFacts {
    let upper: Vec<String> = words(cleaned).map(str::to_ascii_uppercase).collect();
    let raw: Vec<&str> = words(cleaned).collect();
    let word = |i: usize| upper.get(i).map(String::as_str).unwrap_or("");
    let first = word(0);
    let mut class = class_of_keyword(first);
    if first == "WITH"
        && upper
            .iter()
            .any(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE"))
    {
        class = StatementClass::Data;
    }
    let stop = |w: &str| {
        matches!(
            w,
            "CASCADE"
                | "RESTRICT"
                | "ON"
                | "RESTART"
                | "CONTINUE"
                | "IDENTITY"
                | "WHERE"
                | "USING"
                | "PURGE"
        )
    };
    let names_from = |mut i: usize| {
        let mut names = Vec::new();
        while i < upper.len() && !stop(word(i)) {
            names.push(raw[i].to_owned());
            i += 1;
        }
        names
    };
    let mut destructions = Vec::new();
    let scanned = |kind: String, targets: Vec<String>, filtered: bool| Destruction {
        kind,
        targets,
        filtered,
        parsed: false,
    };
    if first == "DROP" {
        let mut i = 1;
        if word(i) == "TEMPORARY" {
            i += 1;
        }
        let object = word(i).to_owned();
        if matches!(
            object.as_str(),
            "TABLE" | "INDEX" | "SCHEMA" | "DATABASE" | "SEQUENCE"
        ) {
            i += 1;
            if word(i) == "CONCURRENTLY" {
                i += 1;
            }
            if word(i) == "IF" && word(i + 1) == "EXISTS" {
                i += 2;
            }
            destructions.push(scanned(format!("DROP {object}"), names_from(i), false));
        }
    }
    if first == "TRUNCATE" {
        let mut i = 1;
        while matches!(word(i), "TABLE" | "ONLY") {
            i += 1;
        }
        destructions.push(scanned("TRUNCATE".into(), names_from(i), false));
    }
    for i in 0..upper.len() {
        if word(i) == "DELETE" && (i == 0 || word(i + 1) == "FROM") {
            let from = (i..upper.len()).find(|&j| word(j) == "FROM");
            let targets = from
                .and_then(|j| raw.get(j + 1))
                .map(|t| vec![(*t).to_owned()])
                .unwrap_or_default();
            let filtered = upper[i..].iter().any(|w| w == "WHERE");
            destructions.push(scanned("DELETE".into(), targets, filtered));
        }
    }
    if first == "ALTER" && word(1) == "TABLE" {
        let table = (2..upper.len())
            .find(|&i| !matches!(word(i), "IF" | "EXISTS" | "ONLY"))
            .map(|i| raw[i].to_owned())
            .unwrap_or_default();
        for i in 2..upper.len() {
            if word(i) != "DROP" {
                continue;
            }
            let kind = match word(i + 1) {
                "DEFAULT" | "NOT" | "EXPRESSION" | "IDENTITY" => continue,
                "CONSTRAINT" => "ALTER TABLE DROP CONSTRAINT",
                "INDEX" | "KEY" => "ALTER TABLE DROP INDEX",
                "PRIMARY" => "ALTER TABLE DROP PRIMARY KEY",
                "FOREIGN" => "ALTER TABLE DROP FOREIGN KEY",
                "PARTITION" => "ALTER TABLE DROP PARTITION",
                _ => "ALTER TABLE DROP COLUMN",
            };
            let name = (i + 1..upper.len())
                .find(|&j| {
                    !matches!(
                        word(j),
                        "COLUMN"
                            | "CONSTRAINT"
                            | "INDEX"
                            | "KEY"
                            | "PRIMARY"
                            | "FOREIGN"
                            | "PARTITION"
                            | "IF"
                            | "EXISTS"
                    )
                })
                .map(|j| format!("{table}.{}", raw[j]))
                .unwrap_or_else(|| table.clone());
            destructions.push(scanned(kind.into(), vec![name], false));
        }
    }
    StatementFacts {
        class,
        destructions,
        parsed: false,
    }
}

/// One statement of a text that did not parse as a whole.
struct Piece<'a> {
    /// The statement as written, for a second parse attempt on its own.
    original: &'a str,
    /// The statement with comments removed and string literals and
    /// dollar-quoted bodies emptied, for the keyword scan.
    cleaned: String,
}

/// Split SQL at top-level `;`, skipping `'...'` strings (doubled quotes),
/// `"..."` and `` `...` `` identifiers, `--` and `/* */` comments (nested
/// ones too) and `$tag$...$tag$` bodies.
fn split(sql: &str) -> Vec<Piece<'_>> {
    let chars: Vec<(usize, char)> = sql.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(sql.len(), |&(o, _)| o);
    let mut pieces = Vec::new();
    let mut cleaned = String::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        match c {
            '\'' => {
                i += 1;
                loop {
                    match at(i) {
                        None => break,
                        Some('\'') if at(i + 1) == Some('\'') => i += 2,
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                cleaned.push_str("''");
            }
            '"' | '`' => {
                let from = i;
                i += 1;
                while let Some(d) = at(i) {
                    i += 1;
                    if d == c {
                        break;
                    }
                }
                cleaned.push_str(&sql[offset(from)..offset(i)]);
            }
            '-' if at(i + 1) == Some('-') => {
                while let Some(d) = at(i) {
                    if d == '\n' {
                        break;
                    }
                    i += 1;
                }
                cleaned.push(' ');
            }
            '/' if at(i + 1) == Some('*') => {
                let mut depth = 0usize;
                while i < chars.len() {
                    if at(i) == Some('/') && at(i + 1) == Some('*') {
                        depth += 1;
                        i += 2;
                    } else if at(i) == Some('*') && at(i + 1) == Some('/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                cleaned.push(' ');
            }
            '$' if !i
                .checked_sub(1)
                .and_then(at)
                .is_some_and(|p| p.is_alphanumeric() || p == '_') =>
            {
                // `$tag$` opens a dollar-quoted body; `$1` is a parameter.
                let mut j = i + 1;
                while at(j).is_some_and(|d| d.is_alphanumeric() || d == '_') {
                    j += 1;
                }
                let opens = at(j) == Some('$') && !at(i + 1).is_some_and(|d| d.is_ascii_digit());
                if opens {
                    let tag = &sql[offset(i)..offset(j + 1)];
                    let body_from = offset(j + 1);
                    let end = sql[body_from..]
                        .find(tag)
                        .map_or(sql.len(), |p| body_from + p + tag.len());
                    while i < chars.len() && offset(i) < end {
                        i += 1;
                    }
                    cleaned.push_str("''");
                } else {
                    cleaned.push(c);
                    i += 1;
                }
            }
            ';' => {
                pieces.push(Piece {
                    original: &sql[offset(start)..offset(i)],
                    cleaned: std::mem::take(&mut cleaned),
                });
                i += 1;
                start = i;
            }
            _ => {
                cleaned.push(c);
                i += 1;
            }
        }
    }
    pieces.push(Piece {
        original: &sql[offset(start)..],
        cleaned,
    });
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(String, bool, bool)> {
        analyze(sql)
            .into_iter()
            .flat_map(|s| s.destructions)
            .map(|d| (d.kind, d.filtered, d.parsed))
            .collect()
    }

    fn k(kind: &str, filtered: bool, parsed: bool) -> (String, bool, bool) {
        (kind.to_owned(), filtered, parsed)
    }

    #[test]
    fn parsed_statements() {
        assert_eq!(
            kinds("DROP TABLE shop_legacy"),
            vec![k("DROP TABLE", false, true)]
        );
        assert_eq!(
            kinds("DROP INDEX IF EXISTS shop_idx; SELECT 1"),
            vec![k("DROP INDEX", false, true)]
        );
        assert_eq!(kinds("TRUNCATE shop_log"), vec![k("TRUNCATE", false, true)]);
        assert_eq!(
            kinds("DELETE FROM shop_log"),
            vec![k("DELETE", false, true)]
        );
        assert_eq!(
            kinds("DELETE FROM shop_log WHERE id < 10"),
            vec![k("DELETE", true, true)]
        );
        assert_eq!(
            kinds("ALTER TABLE shop_product DROP COLUMN legacy, ADD COLUMN x int"),
            vec![k("ALTER TABLE DROP COLUMN", false, true)]
        );
        assert_eq!(
            kinds("WITH gone AS (DELETE FROM shop_log RETURNING id) SELECT count(*) FROM gone"),
            vec![k("DELETE", false, true)]
        );
    }

    #[test]
    fn harmless_statements() {
        for sql in [
            "ALTER TABLE shop_product ALTER COLUMN name DROP DEFAULT",
            "ALTER TABLE shop_product ALTER COLUMN name DROP NOT NULL",
            "DROP VIEW shop_summary; CREATE VIEW shop_summary AS SELECT 1",
            "DROP FUNCTION shop_touch()",
            "UPDATE shop_product SET name = 'DROP TABLE x; DELETE FROM y'",
            "-- DROP TABLE shop_product\nSELECT 1",
            "CREATE TABLE shop_x (id int REFERENCES shop_y ON DELETE CASCADE)",
            "",
        ] {
            assert_eq!(kinds(sql), vec![], "{sql}");
        }
    }

    #[test]
    fn unparsable_statements_fall_back_to_the_keyword_scan() {
        assert_eq!(
            kinds("DELETE FROM shop_log WHERE created < %s"),
            vec![k("DELETE", true, false)]
        );
        assert_eq!(
            kinds("SELECT 1; DROP TABLE shop_legacy FROBNICATE; /* DROP TABLE hidden */ SELECT 'DELETE FROM x'"),
            vec![k("DROP TABLE", false, false)]
        );
        assert_eq!(
            kinds("ALTER TABLE shop_product ALTER COLUMN x DROP DEFAULT, DROP legacy %s"),
            vec![k("ALTER TABLE DROP COLUMN", false, false)]
        );
        assert_eq!(
            kinds("CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN DELETE FROM x; END $body$ LANGUAGE plpgsql FROB"),
            vec![]
        );
        let facts = analyze("UPDATE shop_product SET price = %s");
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].class, StatementClass::Data);
        assert!(!facts[0].parsed);
    }

    #[test]
    fn classes() {
        let class = |sql: &str| {
            analyze(sql)
                .into_iter()
                .map(|s| s.class)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            class("CREATE INDEX i ON t (c)"),
            vec![StatementClass::Schema]
        );
        assert_eq!(
            class("INSERT INTO t VALUES (1)"),
            vec![StatementClass::Data]
        );
        assert_eq!(class("UPDATE t SET c = 1"), vec![StatementClass::Data]);
        assert_eq!(class("SELECT 1"), vec![StatementClass::Other]);
        assert_eq!(
            class("ALTER TABLE t ADD COLUMN c int"),
            vec![StatementClass::Schema]
        );
    }

    #[test]
    fn splitting_keeps_multibyte_text_and_unclosed_literals() {
        assert_eq!(
            kinds("SELECT 'é;'; DROP TABLE ü FROB"),
            vec![k("DROP TABLE", false, false)]
        );
        // Unterminated string/comment/dollar body: no panic, nothing found after it.
        assert_eq!(kinds("SELECT 'oops; DROP TABLE x"), vec![]);
        assert_eq!(kinds("SELECT 1 /* DROP TABLE x"), vec![]);
        assert_eq!(kinds("SELECT $$ DROP TABLE x"), vec![]);
    }
}
