//! The positional parameters of Django's field classes, so that a field
//! written `models.CharField('Title', max_length=10)` or
//! `models.ForeignKey('blog.Post', models.CASCADE)` can be read by
//! parameter name, as Django's `deconstruct()` would give it.

use crate::model::{Call, Value};

/// `Field.__init__`'s parameters, in order.
pub(crate) const FIELD: &[&str] = &[
    "verbose_name",
    "name",
    "primary_key",
    "max_length",
    "unique",
    "blank",
    "null",
    "db_index",
    "rel",
    "default",
    "editable",
    "serialize",
    "unique_for_date",
    "unique_for_month",
    "unique_for_year",
    "choices",
    "help_text",
    "db_column",
    "db_tablespace",
    "auto_created",
    "validators",
    "error_messages",
    "db_comment",
    "db_default",
];
const FOREIGN_KEY: &[&str] = &[
    "to",
    "on_delete",
    "related_name",
    "related_query_name",
    "limit_choices_to",
    "parent_link",
    "to_field",
    "db_constraint",
];
const ONE_TO_ONE: &[&str] = &["to", "on_delete", "to_field"];
const FOREIGN_OBJECT: &[&str] = &[
    "to",
    "on_delete",
    "from_fields",
    "to_fields",
    "rel",
    "related_name",
    "related_query_name",
    "limit_choices_to",
    "parent_link",
    "swappable",
];
const MANY_TO_MANY: &[&str] = &[
    "to",
    "related_name",
    "related_query_name",
    "limit_choices_to",
    "symmetrical",
    "through",
    "through_fields",
    "db_constraint",
    "db_table",
    "swappable",
];
const DECIMAL: &[&str] = &["verbose_name", "name", "max_digits", "decimal_places"];
const DATE: &[&str] = &["verbose_name", "name", "auto_now", "auto_now_add"];
const FILE_PATH: &[&str] = &[
    "verbose_name",
    "name",
    "path",
    "match",
    "recursive",
    "allow_files",
    "allow_folders",
];
const IP: &[&str] = &["verbose_name", "name", "protocol", "unpack_ipv4"];
const FILE: &[&str] = &["verbose_name", "name", "upload_to", "storage"];
const IMAGE: &[&str] = &["verbose_name", "name", "width_field", "height_field"];
const VERBOSE_NAME_ONLY: &[&str] = &["verbose_name"];
const VERBOSE_AND_NAME: &[&str] = &["verbose_name", "name"];
const ARRAY: &[&str] = &["base_field", "size"];
const NONE: &[&str] = &[];

/// The positional parameter names of a field class's `__init__`, as far as
/// migguard knows the class: Django's own classes by name, and classes of
/// other packages whose name says they are relations (`TreeForeignKey`:
/// `to`, `on_delete`). Empty for anything else, and for
/// `CompositePrimaryKey`, whose positional arguments are field names.
pub fn field_params(field: &Call) -> &'static [&'static str] {
    let name = field.class_name();
    if !field.func.path.starts_with("django.") {
        return if name.ends_with("ForeignKey") || name.ends_with("OneToOneField") {
            &FOREIGN_KEY[..2]
        } else if name.ends_with("ManyToManyField") {
            &MANY_TO_MANY[..1]
        } else {
            NONE
        };
    }
    match name {
        "ForeignKey" => FOREIGN_KEY,
        "OneToOneField" => ONE_TO_ONE,
        "ForeignObject" => FOREIGN_OBJECT,
        "ManyToManyField" => MANY_TO_MANY,
        "DecimalField" => DECIMAL,
        "DateField" | "DateTimeField" | "TimeField" => DATE,
        "FilePathField" => FILE_PATH,
        "GenericIPAddressField" => IP,
        "FileField" => FILE,
        "ImageField" => IMAGE,
        "UUIDField" => VERBOSE_NAME_ONLY,
        "URLField" => VERBOSE_AND_NAME,
        "ArrayField" => ARRAY,
        "CompositePrimaryKey" => NONE,
        _ if name.ends_with("Field") => FIELD,
        _ => NONE,
    }
}

/// An argument of a field by parameter name: the keyword argument, else the
/// positional argument at that parameter's place.
pub fn field_arg<'a>(field: &'a Call, name: &str) -> Option<&'a Value> {
    if let Some(value) = field.kwarg(name) {
        return Some(value);
    }
    let index = field_params(field).iter().position(|p| *p == name)?;
    field.args.get(index)
}

pub(crate) fn field_arg_mut<'a>(field: &'a mut Call, name: &str) -> Option<&'a mut Value> {
    if let Some(index) = field.kwargs.iter().position(|(k, _)| k == name) {
        return field.kwargs.get_mut(index).map(|(_, v)| v);
    }
    let index = field_params(field).iter().position(|p| *p == name)?;
    field.args.get_mut(index)
}

/// The field's arguments as keyword arguments, positional ones named after
/// their parameter where the class is known. Returns the positional
/// arguments left unnamed and the keyword arguments (positional ones first).
pub fn normalized_kwargs(field: &Call) -> (Vec<Value>, Vec<(String, Value)>) {
    let params = field_params(field);
    let mut rest = Vec::new();
    let mut kwargs = Vec::new();
    for (index, value) in field.args.iter().enumerate() {
        match params.get(index) {
            Some(name) => kwargs.push(((*name).to_owned(), value.clone())),
            None => rest.push(value.clone()),
        }
    }
    kwargs.extend(field.kwargs.iter().cloned());
    (rest, kwargs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ref;

    fn call(path: &str, args: Vec<Value>, kwargs: Vec<(&str, Value)>) -> Call {
        Call {
            func: Ref {
                written: path.to_owned(),
                path: path.to_owned(),
            },
            args,
            kwargs: kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    #[test]
    fn positional_arguments_get_their_parameter_names() {
        let fk = call(
            "django.db.models.ForeignKey",
            vec![Value::Str("blog.Post".into())],
            vec![("null", Value::Bool(true))],
        );
        assert_eq!(field_arg(&fk, "to"), Some(&Value::Str("blog.Post".into())));
        assert_eq!(field_arg(&fk, "null"), Some(&Value::Bool(true)));
        assert_eq!(field_arg(&fk, "on_delete"), None);
        let title = call(
            "django.db.models.CharField",
            vec![Value::Str("Title".into())],
            vec![],
        );
        let (rest, kwargs) = normalized_kwargs(&title);
        assert!(rest.is_empty());
        assert_eq!(
            kwargs,
            vec![("verbose_name".to_owned(), Value::Str("Title".into()))]
        );
        let custom = call("myapp.fields.Thing", vec![Value::Int(1)], vec![]);
        assert_eq!(normalized_kwargs(&custom).0, vec![Value::Int(1)]);
    }
}
