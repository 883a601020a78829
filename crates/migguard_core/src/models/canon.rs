//! Canonical forms of `Meta.indexes` and `Meta.constraints` entries (what
//! their `deconstruct()` returns, unnamed indexes named as Django names
//! them), and values of migration files made comparable with evaluated ones.

use std::collections::{BTreeMap, HashMap};

use super::equality::canonical_path;
use super::eval::{reference, truthy};
use super::md5::hex_digest;
use crate::model::{Call, Ref, Value};

/// What naming an index or constraint needs: `%(app_label)s` and
/// `%(class)s`, and the table and columns of unnamed indexes.
pub(crate) struct IndexNaming {
    pub app_label: String,
    pub model_lower: String,
    pub db_table: String,
    pub columns: HashMap<String, String>,
}

impl IndexNaming {
    /// `name %= {"app_label": ..., "class": ...}`.
    fn format(&self, name: &str) -> Result<String, String> {
        if !name.contains('%') {
            return Ok(name.to_owned());
        }
        let mut out = String::new();
        let mut rest = name;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i..];
            if let Some(tail) = after.strip_prefix("%%") {
                out.push('%');
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("%(app_label)s") {
                out.push_str(&self.app_label);
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("%(class)s") {
                out.push_str(&self.model_lower);
                rest = tail;
            } else {
                return Err(format!("the name `{name}` cannot be formatted"));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn f_expression(value: &Value) -> Value {
    match value {
        Value::Str(s) => Value::Call(Box::new(Call {
            func: reference("django.db.models.F"),
            args: vec![Value::Str(s.clone())],
            kwargs: Vec::new(),
        })),
        other => other.clone(),
    }
}

fn kwargs_map(call: &Call) -> BTreeMap<String, Value> {
    call.kwargs.iter().cloned().collect()
}

fn suffix_of(class: &str) -> Option<&'static str> {
    Some(match class {
        "Index" => "idx",
        "BrinIndex" => "brin",
        "BTreeIndex" => "btree",
        "GinIndex" => "gin",
        "GistIndex" => "gist",
        "HashIndex" => "hash",
        "SpGistIndex" => "spgist",
        "BloomIndex" => "bloom",
        _ => return None,
    })
}

/// `Index.deconstruct()` of an index written `call`.
pub(crate) fn canonical_index(call: &Call, naming: Option<&IndexNaming>) -> Result<Call, String> {
    let path = canonical_path(&call.func.path).into_owned();
    let class = path.rsplit('.').next().unwrap_or(&path).to_owned();
    let postgres = path.starts_with("django.contrib.postgres.");
    if !(path == "django.db.models.Index" || (postgres && class.ends_with("Index"))) {
        return Err(format!(
            "the index class `{}` is not one migguard knows",
            call.func.path
        ));
    }
    if !Value::Call(Box::new(call.clone())).is_fully_literal() {
        return Err("an index is not known statically".to_owned());
    }
    let mut given = kwargs_map(call);
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let fields: Vec<Value> = match given.remove("fields") {
        Some(v) => v.as_seq().ok_or("`fields` is not a literal list")?.to_vec(),
        None => Vec::new(),
    };
    let mut name = match given.remove("name") {
        Some(Value::Str(s)) => s,
        None | Some(Value::None) => String::new(),
        Some(_) => return Err("the index name is not a literal string".to_owned()),
    };
    if let Some(naming) = naming {
        name = naming.format(&name)?;
        if name.is_empty() {
            name = auto_index_name(&fields, &class, naming)?;
        }
    }
    out.insert("name".to_owned(), Value::Str(name));
    if !fields.is_empty() {
        out.insert("fields".to_owned(), Value::List(fields));
    }
    for (k, v) in given {
        match k.as_str() {
            "db_tablespace" if matches!(v, Value::None) => {}
            "opclasses" | "condition" if !truthy(&v).unwrap_or(true) => {}
            "include" => {
                if truthy(&v).unwrap_or(true) {
                    let items = v
                        .as_seq()
                        .ok_or("`include` is not a literal list")?
                        .to_vec();
                    out.insert(k, Value::Tuple(items));
                }
            }
            "db_tablespace" | "opclasses" | "condition" => {
                out.insert(k, v);
            }
            _ if postgres => {
                if !matches!(v, Value::None) {
                    out.insert(k, v);
                }
            }
            _ => return Err(format!("unknown index argument `{k}`")),
        }
    }
    Ok(Call {
        func: Ref {
            written: call.func.written.clone(),
            path,
        },
        args: call.args.iter().map(f_expression).collect(),
        kwargs: out.into_iter().collect(),
    })
}

/// `Index.set_name_with_model`.
fn auto_index_name(fields: &[Value], class: &str, naming: &IndexNaming) -> Result<String, String> {
    let suffix = suffix_of(class).ok_or_else(|| format!("`{class}` has no known name suffix"))?;
    if fields.is_empty() {
        return Err("an unnamed index without fields".to_owned());
    }
    let table = match naming.db_table.split_once("\".\"") {
        Some((_, t)) => t.trim_matches('"').to_owned(),
        None => naming.db_table.trim_matches('"').to_owned(),
    };
    let mut columns = Vec::new();
    let mut ordered = Vec::new();
    for field in fields {
        let name = field
            .as_str()
            .ok_or("an index field is not a literal string")?;
        let (bare, descending) = match name.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (name, false),
        };
        let column = naming
            .columns
            .get(bare)
            .ok_or_else(|| format!("the index field `{bare}` is not a field of the model"))?;
        ordered.push(if descending {
            format!("-{column}")
        } else {
            column.clone()
        });
        columns.push(column.clone());
    }
    let mut data = table.clone();
    for c in &ordered {
        data.push_str(c);
    }
    data.push_str(suffix);
    let digest: String = hex_digest(data.as_bytes()).chars().take(6).collect();
    let table_part: String = table.chars().take(11).collect();
    let column_part: String = columns[0].chars().take(7).collect();
    let mut name = format!("{table_part}_{column_part}_{digest}_{suffix}");
    if name
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_digit())
    {
        name = format!("D{}", &name[1..]);
    }
    if name.len() > 30 {
        return Err("the generated index name is too long".to_owned());
    }
    Ok(name)
}

const DEFAULT_VIOLATION_MESSAGE: &str = "Constraint “%(name)s” is violated.";

/// A constraint's `deconstruct()`.
pub(crate) fn canonical_constraint(
    call: &Call,
    naming: Option<&IndexNaming>,
) -> Result<Call, String> {
    let path = canonical_path(&call.func.path).into_owned();
    let class = path.rsplit('.').next().unwrap_or(&path).to_owned();
    let postgres = path.starts_with("django.contrib.postgres.");
    if !matches!(
        path.as_str(),
        "django.db.models.CheckConstraint" | "django.db.models.UniqueConstraint"
    ) && !postgres
    {
        return Err(format!(
            "the constraint class `{}` is not one migguard knows",
            call.func.path
        ));
    }
    if !Value::Call(Box::new(call.clone())).is_fully_literal() {
        return Err("a constraint is not known statically".to_owned());
    }
    let mut given = kwargs_map(call);
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut name = match given.remove("name") {
        Some(Value::Str(s)) => s,
        _ => return Err("the constraint name is not a literal string".to_owned()),
    };
    if let Some(naming) = naming {
        name = naming.format(&name)?;
    }
    out.insert("name".to_owned(), Value::Str(name));
    match given.remove("violation_error_message") {
        None | Some(Value::None) => {}
        Some(Value::Str(s)) if s == DEFAULT_VIOLATION_MESSAGE => {}
        Some(v) => {
            out.insert("violation_error_message".to_owned(), v);
        }
    }
    match given.remove("violation_error_code") {
        None | Some(Value::None) => {}
        Some(v) => {
            out.insert("violation_error_code".to_owned(), v);
        }
    }
    let mut args: Vec<Value> = Vec::new();
    match class.as_str() {
        "CheckConstraint" if !postgres => {
            if !call.args.is_empty() {
                return Err("positional arguments to CheckConstraint".to_owned());
            }
            let condition = given
                .remove("condition")
                .or_else(|| given.remove("check"))
                .ok_or("`condition` is missing")?;
            out.insert("condition".to_owned(), condition);
        }
        "UniqueConstraint" if !postgres => {
            args = call.args.iter().map(f_expression).collect();
            if let Some(fields) = given.remove("fields") {
                let items = fields
                    .as_seq()
                    .ok_or("`fields` is not a literal list")?
                    .to_vec();
                if !items.is_empty() {
                    out.insert("fields".to_owned(), Value::Tuple(items));
                }
            }
            for key in ["condition", "deferrable", "opclasses"] {
                if let Some(v) = given.remove(key) {
                    if truthy(&v).unwrap_or(true) {
                        out.insert(key.to_owned(), v);
                    }
                }
            }
            if let Some(v) = given.remove("include") {
                if truthy(&v).unwrap_or(true) {
                    let items = v
                        .as_seq()
                        .ok_or("`include` is not a literal list")?
                        .to_vec();
                    out.insert("include".to_owned(), Value::Tuple(items));
                }
            }
            if let Some(v) = given.remove("nulls_distinct") {
                if !matches!(v, Value::None) {
                    out.insert("nulls_distinct".to_owned(), v);
                }
            }
        }
        _ => {
            args = call.args.clone();
            for (k, v) in std::mem::take(&mut given) {
                if !matches!(v, Value::None) {
                    out.insert(k, v);
                }
            }
        }
    }
    if let Some(k) = given.keys().next() {
        return Err(format!("unknown constraint argument `{k}`"));
    }
    Ok(Call {
        func: Ref {
            written: call.func.written.clone(),
            path,
        },
        args,
        kwargs: out.into_iter().collect(),
    })
}

/// Values of migration files made comparable: `module.Enum['NAME']`
/// (how the writer spells an enum member, kept as source text by the
/// parser) becomes a reference to `module.Enum.NAME`.
pub(crate) fn fix_migration_value(value: &Value) -> Value {
    match value {
        Value::Expr(text) => enum_subscript(text).unwrap_or_else(|| value.clone()),
        Value::List(items) => Value::List(items.iter().map(fix_migration_value).collect()),
        Value::Tuple(items) => Value::Tuple(items.iter().map(fix_migration_value).collect()),
        Value::Set(items) => Value::Set(items.iter().map(fix_migration_value).collect()),
        Value::Dict(items) => Value::Dict(
            items
                .iter()
                .map(|(k, v)| (fix_migration_value(k), fix_migration_value(v)))
                .collect(),
        ),
        Value::Call(c) => Value::Call(Box::new(Call {
            func: c.func.clone(),
            args: c.args.iter().map(fix_migration_value).collect(),
            kwargs: c
                .kwargs
                .iter()
                .map(|(k, v)| (k.clone(), fix_migration_value(v)))
                .collect(),
        })),
        other => other.clone(),
    }
}

fn enum_subscript(text: &str) -> Option<Value> {
    let text = text.trim();
    let open = text.find('[')?;
    let (path, rest) = text.split_at(open);
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?.trim();
    let name = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    };
    (valid(path) && valid(name) && !name.contains('.'))
        .then(|| Value::Ref(reference(format!("{path}.{name}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming() -> IndexNaming {
        IndexNaming {
            app_label: "blog".into(),
            model_lower: "post".into(),
            db_table: "blog_post".into(),
            columns: [
                ("title".to_owned(), "title".to_owned()),
                ("author".to_owned(), "author_id".to_owned()),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn index(kwargs: Vec<(&str, Value)>) -> Call {
        Call {
            func: reference("django.db.models.Index"),
            args: Vec::new(),
            kwargs: kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    #[test]
    fn unnamed_indexes_are_named_like_django() {
        // Django 5.2: Index(fields=["title"]) on blog.Post -> blog_post_title_2cda2c_idx
        let c = canonical_index(
            &index(vec![(
                "fields",
                Value::List(vec![Value::Str("title".into())]),
            )]),
            Some(&naming()),
        )
        .unwrap();
        assert_eq!(
            c.kwarg("name"),
            Some(&Value::Str(expected_name("blog_post", &["title"], "title")))
        );
        let c = canonical_index(
            &index(vec![
                ("fields", Value::List(vec![Value::Str("x".into())])),
                ("name", Value::Str("%(app_label)s_%(class)s_x".into())),
            ]),
            Some(&naming()),
        )
        .unwrap();
        assert_eq!(c.kwarg("name"), Some(&Value::Str("blog_post_x".into())));
    }

    fn expected_name(table: &str, columns: &[&str], first: &str) -> String {
        let mut data = table.to_owned();
        for c in columns {
            data.push_str(c);
        }
        data.push_str("idx");
        let digest: String = hex_digest(data.as_bytes()).chars().take(6).collect();
        format!(
            "{}_{}_{}_idx",
            &table[..table.len().min(11)],
            &first[..first.len().min(7)],
            digest
        )
    }

    #[test]
    fn enum_members_of_migrations_become_references() {
        assert_eq!(
            enum_subscript("django.db.models.constraints.Deferrable['DEFERRED']"),
            Some(Value::Ref(reference(
                "django.db.models.constraints.Deferrable.DEFERRED"
            )))
        );
        assert_eq!(enum_subscript("x[0]"), None);
    }
}
