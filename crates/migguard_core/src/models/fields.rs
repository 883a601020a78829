//! Django's model fields: which classes there are, their positional
//! parameters, and `deconstruct()` — what `makemigrations` writes for a
//! field, with the keyword arguments equal to Django's defaults left out.
//! Both sides of the comparison go through [`deconstruct`], so a field
//! written in `models.py` and the same field written by Django in a
//! migration come out equal.

use std::collections::BTreeMap;

use super::equality::{canonical_path, py_eq};
use super::eval::{reference, truthy};
use crate::model::{Call, Ref, Value};
use crate::project::DjangoSettings;
use crate::state::params::FIELD as FIELD_PARAMS;
use crate::state::ModelKey;

/// The Django field classes migguard knows the `deconstruct()` of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `models.Field` itself, for project fields derived from it.
    Base,
    Auto,
    BigAuto,
    SmallAuto,
    Boolean,
    Char,
    Date,
    DateTime,
    Decimal,
    Duration,
    Email,
    FilePath,
    Float,
    Integer,
    BigInteger,
    SmallInteger,
    GenericIp,
    PositiveBigInteger,
    PositiveInteger,
    PositiveSmallInteger,
    Slug,
    Text,
    Time,
    Url,
    Binary,
    Uuid,
    Json,
    File,
    Image,
    ForeignKey,
    OneToOne,
    ManyToMany,
    Generated,
    /// `django.contrib.postgres.fields.ArrayField`.
    Array,
    /// django-taggit's `TaggableManager` (its default tag models only).
    Taggable,
}

impl Kind {
    /// A class of `django.db.models` by name.
    pub fn from_name(name: &str) -> Option<Kind> {
        use Kind::*;
        Some(match name {
            "Field" => Base,
            "AutoField" => Auto,
            "BigAutoField" => BigAuto,
            "SmallAutoField" => SmallAuto,
            "BooleanField" => Boolean,
            "CharField" => Char,
            "DateField" => Date,
            "DateTimeField" => DateTime,
            "DecimalField" => Decimal,
            "DurationField" => Duration,
            "EmailField" => Email,
            "FilePathField" => FilePath,
            "FloatField" => Float,
            "IntegerField" => Integer,
            "BigIntegerField" => BigInteger,
            "SmallIntegerField" => SmallInteger,
            "GenericIPAddressField" => GenericIp,
            "PositiveBigIntegerField" => PositiveBigInteger,
            "PositiveIntegerField" => PositiveInteger,
            "PositiveSmallIntegerField" => PositiveSmallInteger,
            "SlugField" => Slug,
            "TextField" => Text,
            "TimeField" => Time,
            "URLField" => Url,
            "BinaryField" => Binary,
            "UUIDField" => Uuid,
            "JSONField" => Json,
            "FileField" => File,
            "ImageField" => Image,
            "ForeignKey" => ForeignKey,
            "OneToOneField" => OneToOne,
            "ManyToManyField" => ManyToMany,
            "GeneratedField" => Generated,
            _ => return None,
        })
    }

    pub fn is_relation(self) -> bool {
        matches!(self, Kind::ForeignKey | Kind::OneToOne | Kind::ManyToMany)
    }

    /// Positional parameters of the class's `__init__`.
    fn params(self) -> Vec<&'static str> {
        use Kind::*;
        match self {
            Date | DateTime | Time => vec!["verbose_name", "name", "auto_now", "auto_now_add"],
            Decimal => vec!["verbose_name", "name", "max_digits", "decimal_places"],
            FilePath => vec![
                "verbose_name",
                "name",
                "path",
                "match",
                "recursive",
                "allow_files",
                "allow_folders",
            ],
            GenericIp => {
                let mut p = vec!["verbose_name", "name", "protocol", "unpack_ipv4"];
                p.extend(&FIELD_PARAMS[2..]);
                p
            }
            Url => vec!["verbose_name", "name"],
            Uuid => vec!["verbose_name"],
            Json => vec!["verbose_name", "name", "encoder", "decoder"],
            File => vec!["verbose_name", "name", "upload_to", "storage"],
            Image => vec!["verbose_name", "name", "width_field", "height_field"],
            ForeignKey => vec![
                "to",
                "on_delete",
                "related_name",
                "related_query_name",
                "limit_choices_to",
                "parent_link",
                "to_field",
                "db_constraint",
            ],
            OneToOne => vec!["to", "on_delete", "to_field"],
            ManyToMany => vec![
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
            ],
            Generated => Vec::new(),
            Array => vec!["base_field", "size"],
            Taggable => vec![
                "verbose_name",
                "help_text",
                "through",
                "blank",
                "related_name",
                "to",
                "ordering",
                "manager",
            ],
            _ => FIELD_PARAMS.to_vec(),
        }
    }

    /// Keyword arguments the class accepts besides `Field`'s.
    fn own_params(self) -> &'static [&'static str] {
        use Kind::*;
        match self {
            Char | Text | Email | Url => &["db_collation"],
            Slug => &["db_collation", "allow_unicode"],
            Date | DateTime | Time => &["auto_now", "auto_now_add"],
            Decimal => &["max_digits", "decimal_places"],
            FilePath => &["path", "match", "recursive", "allow_files", "allow_folders"],
            GenericIp => &["protocol", "unpack_ipv4"],
            Json => &["encoder", "decoder"],
            File => &["upload_to", "storage"],
            Image => &["upload_to", "storage", "width_field", "height_field"],
            ForeignKey | OneToOne => &[
                "to",
                "on_delete",
                "related_name",
                "related_query_name",
                "limit_choices_to",
                "parent_link",
                "to_field",
                "db_constraint",
                "swappable",
            ],
            ManyToMany => &[
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
            ],
            Generated => &["expression", "output_field", "db_persist"],
            Array => &["base_field", "size"],
            Taggable => &["through", "to", "related_name", "ordering", "manager"],
            _ => &[],
        }
    }
}

/// A field class: its `deconstruct()` is the one of Django's `kind`, and
/// `path` is what the writer names it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldClass {
    pub kind: Kind,
    pub path: String,
    /// Keyword arguments the class's `__init__` sets when they are not
    /// given (`kwargs.setdefault("on_delete", CASCADE)`), as dotted names.
    pub defaults: &'static [(&'static str, &'static str)],
}

impl FieldClass {
    /// A class of `django.db.models` by any of its paths.
    pub fn django(path: &str) -> Option<FieldClass> {
        let canonical = canonical_path(path);
        let name = canonical.strip_prefix("django.db.models.")?;
        let kind = Kind::from_name(name)?;
        Some(FieldClass {
            kind,
            path: format!("django.db.models.{name}"),
            defaults: &[],
        })
    }

    /// [`FieldClass::known`], or a class the project declares in
    /// `[tool.migguard] field-classes`.
    pub fn known_in(path: &str, settings: &DjangoSettings) -> Option<FieldClass> {
        if let Some(django) = settings.field_classes.get(path) {
            let kind = FieldClass::known(django)?.kind;
            return Some(FieldClass {
                kind,
                path: path.to_owned(),
                defaults: &[],
            });
        }
        FieldClass::known(path)
    }

    /// A class of Django's, or of a library in [`LIBRARY_FIELDS`], by any
    /// of the paths it is imported as.
    pub fn known(path: &str) -> Option<FieldClass> {
        FieldClass::django(path).or_else(|| {
            LIBRARY_FIELDS
                .iter()
                .find(|f| path == f.path || f.aliases.contains(&path))
                .map(|f| FieldClass {
                    kind: f.kind,
                    path: f.written.unwrap_or(f.path).to_owned(),
                    defaults: f.defaults,
                })
        })
    }
}

/// A library's field class whose `deconstruct()` is a Django class's.
pub struct LibraryField {
    /// Where the class is defined.
    pub path: &'static str,
    /// Other paths it is imported as.
    pub aliases: &'static [&'static str],
    /// The Django class whose deconstruction it shares.
    pub kind: Kind,
    /// The path its `deconstruct()` writes, when not its own.
    pub written: Option<&'static str>,
    /// Arguments its `__init__` sets by default.
    pub defaults: &'static [(&'static str, &'static str)],
}

const fn library(path: &'static str, aliases: &'static [&'static str], kind: Kind) -> LibraryField {
    LibraryField {
        path,
        aliases,
        kind,
        written: None,
        defaults: &[],
    }
}

/// Field classes outside `django.db.models` whose `deconstruct()` is the
/// one of a Django class but for the path and the defaults noted (read off
/// their sources: Django 5.2's `contrib.postgres`, django-mptt 0.21,
/// django-annoying 0.10, django-modelcluster 6.5, django-tree-queries 0.28).
pub const LIBRARY_FIELDS: &[LibraryField] = &[
    library(
        "django.contrib.postgres.fields.hstore.HStoreField",
        &["django.contrib.postgres.fields.HStoreField"],
        Kind::Base,
    ),
    library(
        "django.contrib.postgres.fields.ranges.IntegerRangeField",
        &["django.contrib.postgres.fields.IntegerRangeField"],
        Kind::Base,
    ),
    library(
        "django.contrib.postgres.fields.ranges.BigIntegerRangeField",
        &["django.contrib.postgres.fields.BigIntegerRangeField"],
        Kind::Base,
    ),
    library(
        "django.contrib.postgres.fields.ranges.DateRangeField",
        &["django.contrib.postgres.fields.DateRangeField"],
        Kind::Base,
    ),
    library(
        "django.contrib.postgres.search.SearchVectorField",
        &[],
        Kind::Base,
    ),
    library(
        "django.contrib.postgres.search.SearchQueryField",
        &[],
        Kind::Base,
    ),
    LibraryField {
        written: Some("django.contrib.postgres.fields.ArrayField"),
        ..library(
            "django.contrib.postgres.fields.array.ArrayField",
            &["django.contrib.postgres.fields.ArrayField"],
            Kind::Array,
        )
    },
    // Removed in Django 4.0 and 5.1 but for historical migrations; their
    // stand-ins deconstruct as the classes they were built on.
    library(
        "django.contrib.postgres.fields.jsonb.JSONField",
        &["django.contrib.postgres.fields.JSONField"],
        Kind::Json,
    ),
    library(
        "django.contrib.postgres.fields.citext.CICharField",
        &["django.contrib.postgres.fields.CICharField"],
        Kind::Char,
    ),
    library(
        "django.contrib.postgres.fields.citext.CIEmailField",
        &["django.contrib.postgres.fields.CIEmailField"],
        Kind::Email,
    ),
    library(
        "django.contrib.postgres.fields.citext.CITextField",
        &["django.contrib.postgres.fields.CITextField"],
        Kind::Text,
    ),
    library(
        "mptt.fields.TreeForeignKey",
        &["mptt.models.TreeForeignKey"],
        Kind::ForeignKey,
    ),
    library(
        "mptt.fields.TreeOneToOneField",
        &["mptt.models.TreeOneToOneField"],
        Kind::OneToOne,
    ),
    library(
        "mptt.fields.TreeManyToManyField",
        &["mptt.models.TreeManyToManyField"],
        Kind::ManyToMany,
    ),
    library("annoying.fields.AutoOneToOneField", &[], Kind::OneToOne),
    library("taggit.managers.TaggableManager", &[], Kind::Taggable),
    LibraryField {
        defaults: &[("on_delete", "django.db.models.CASCADE")],
        ..library("modelcluster.fields.ParentalKey", &[], Kind::ForeignKey)
    },
    LibraryField {
        written: Some("django.db.models.ForeignKey"),
        ..library(
            "tree_queries.fields.TreeNodeForeignKey",
            &["tree_queries.models.TreeNodeForeignKey"],
            Kind::ForeignKey,
        )
    },
];

/// An argument of a field call by parameter name (keyword, or positional
/// at that parameter's place).
pub fn argument<'c>(class: &FieldClass, call: &'c Call, name: &str) -> Option<&'c Value> {
    if let Some(value) = call.kwarg(name) {
        return Some(value);
    }
    let index = class.kind.params().iter().position(|p| *p == name)?;
    call.args.get(index)
}

/// A validator as Django's migration writer spells it: the instances that
/// `django.core.validators` defines at module level (`validate_email =
/// EmailValidator()`) are written as their deconstructed constructor
/// calls, not by name (Django 5.2.19, `MigrationWriter.serialize`).
fn deconstructed_validator(item: &Value) -> Value {
    let Value::Ref(r) = item else {
        return item.clone();
    };
    let canonical = canonical_path(&r.path);
    let Some(name) = canonical.strip_prefix("django.core.validators.") else {
        return item.clone();
    };
    let str = |s: &str| Value::Str(s.to_owned());
    let call = |class: &str, args: Vec<Value>, kwargs: Vec<(&str, Value)>| {
        Value::Call(Box::new(Call {
            func: reference(format!("django.core.validators.{class}")),
            args,
            kwargs: kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }))
    };
    let regex = |pattern: &str| {
        Value::Call(Box::new(Call {
            func: reference("re.compile"),
            args: vec![str(pattern)],
            kwargs: Vec::new(),
        }))
    };
    match name {
        "validate_email" => call("EmailValidator", vec![], vec![]),
        "validate_domain_name" => call("DomainNameValidator", vec![], vec![]),
        "validate_slug" => call(
            "RegexValidator",
            vec![
                regex(r"^[-a-zA-Z0-9_]+\Z"),
                str("Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
                str("invalid"),
            ],
            vec![],
        ),
        "validate_unicode_slug" => call(
            "RegexValidator",
            vec![
                regex(r"^[-\w]+\Z"),
                str("Enter a valid “slug” consisting of Unicode letters, numbers, underscores, or hyphens."),
                str("invalid"),
            ],
            vec![],
        ),
        "integer_validator" => call(
            "RegexValidator",
            vec![regex(r"^-?\d+\Z")],
            vec![("code", str("invalid")), ("message", str("Enter a valid integer."))],
        ),
        "validate_comma_separated_integer_list" => call(
            "RegexValidator",
            vec![regex(r"^\d+(?:,\d+)*\Z")],
            vec![
                ("code", str("invalid")),
                ("message", str("Enter only digits separated by commas.")),
            ],
        ),
        _ => item.clone(),
    }
}

/// What a relational field's target and primary keys are, seen from one
/// state (the migrations' or the models').
pub trait ModelRefs {
    /// The model a reference names (`"blog.Post"`, `"self"`, a class,
    /// `settings.AUTH_USER_MODEL`), seen from `(app, model_lower)`.
    fn model_key(&self, value: &Value, app: &str, model_lower: &str) -> Option<ModelKey>;
    /// The name of a model's primary key, when the model is known.
    fn pk_name(&self, key: &ModelKey) -> Option<String>;
    /// `Status.choices` for a choices enum class given as `choices=Status`.
    fn enum_choices(&self, _class_path: &str) -> Option<Value> {
        None
    }
}

/// The model holding the field, for relations.
pub struct FieldCtx<'a> {
    pub app_label: &'a str,
    pub model_lower: &'a str,
    pub settings: &'a DjangoSettings,
    pub refs: &'a dyn ModelRefs,
    /// Django made this field the primary key (the parent link of
    /// multi-table inheritance).
    pub force_pk: bool,
}

/// A given argument, `None` when absent (callers check presence first).
fn value_of(given: &BTreeMap<String, Value>, name: &str) -> Value {
    given.get(name).cloned().unwrap_or(Value::None)
}

fn is_none(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::None))
}

fn is_false(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Bool(false)))
}

fn is_true(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Bool(true)))
}

fn truth(v: Option<&Value>) -> Result<bool, String> {
    match v {
        None => Ok(false),
        Some(v) => truthy(v).ok_or_else(|| "a value that is not a literal".to_owned()),
    }
}

/// Django's `deconstruct()` of a field written `call` (arguments already
/// evaluated), as a call with sorted keyword arguments. `Err` says why it
/// cannot be known.
pub fn deconstruct(class: &FieldClass, call: &Call, ctx: &FieldCtx<'_>) -> Result<Call, String> {
    let kind = class.kind;
    let params = kind.params();
    let mut given: BTreeMap<String, Value> = BTreeMap::new();
    if call.args.len() > params.len() {
        return Err(format!("{} positional arguments", call.args.len()));
    }
    for (value, name) in call.args.iter().zip(&params) {
        given.insert((*name).to_owned(), value.clone());
    }
    for (name, value) in &call.kwargs {
        if given.insert(name.clone(), value.clone()).is_some() {
            return Err(format!("`{name}` is given twice"));
        }
    }
    if kind == Kind::Taggable {
        return taggable(class, &given);
    }
    for (name, value) in &given {
        if !FIELD_PARAMS.contains(&name.as_str()) && !kind.own_params().contains(&name.as_str()) {
            return Err(format!("unknown argument `{name}`"));
        }
        if !value.is_fully_literal() {
            return Err(format!("`{name}` is not known statically"));
        }
    }
    for (name, path) in class.defaults {
        given
            .entry((*name).to_owned())
            .or_insert_with(|| Value::Ref(reference(*path)));
    }
    given.remove("name");
    if ctx.force_pk {
        given.insert("primary_key".to_owned(), Value::Bool(true));
    }

    // What each class's `__init__` sets before `Field.__init__`.
    use Kind::*;
    let mut set_default = |name: &str, value: Value| {
        given.entry(name.to_owned()).or_insert(value);
    };
    match kind {
        Email => set_default("max_length", Value::Int(254)),
        Slug => {
            set_default("max_length", Value::Int(50));
            set_default("db_index", Value::Bool(true));
        }
        Url => set_default("max_length", Value::Int(200)),
        FilePath | File | Image => set_default("max_length", Value::Int(100)),
        Binary => set_default("editable", Value::Bool(false)),
        ForeignKey | OneToOne => set_default("db_index", Value::Bool(true)),
        Generated => set_default("blank", Value::Bool(true)),
        _ => {}
    }
    match kind {
        GenericIp => {
            given.insert("max_length".to_owned(), Value::Int(39));
        }
        Uuid => {
            given.insert("max_length".to_owned(), Value::Int(32));
        }
        Auto | BigAuto | SmallAuto => {
            given.insert("blank".to_owned(), Value::Bool(true));
        }
        OneToOne => {
            given.insert("unique".to_owned(), Value::Bool(true));
        }
        Generated => {
            given.insert("editable".to_owned(), Value::Bool(false));
        }
        Date | DateTime | Time
            if truth(given.get("auto_now"))? || truth(given.get("auto_now_add"))? =>
        {
            given.insert("editable".to_owned(), Value::Bool(false));
            given.insert("blank".to_owned(), Value::Bool(true));
        }
        _ => {}
    }
    // Options.setup_pk: the primary key is never serialised.
    if truth(given.get("primary_key"))? {
        given.insert("serialize".to_owned(), Value::Bool(false));
    }

    // Field.deconstruct: every attribute that is not its default.
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let get = |name: &str| given.get(name);
    let mut keep = |name: &str, include: bool| {
        if include {
            if let Some(v) = given.get(name) {
                out.insert(name.to_owned(), v.clone());
            }
        }
    };
    keep("verbose_name", !is_none(get("verbose_name")));
    keep("primary_key", !is_false(get("primary_key")));
    keep("max_length", !is_none(get("max_length")));
    keep("unique", !is_false(get("unique")));
    keep("blank", !is_false(get("blank")));
    keep("null", !is_false(get("null")));
    keep("db_index", !is_false(get("db_index")));
    keep("default", get("default").is_some());
    keep("db_default", get("db_default").is_some());
    keep("editable", !is_true(get("editable")));
    keep("serialize", !is_true(get("serialize")));
    keep("unique_for_date", !is_none(get("unique_for_date")));
    keep("unique_for_month", !is_none(get("unique_for_month")));
    keep("unique_for_year", !is_none(get("unique_for_year")));
    keep(
        "help_text",
        !matches!(get("help_text"), None | Some(Value::Str(_)))
            || matches!(get("help_text"), Some(Value::Str(s)) if !s.is_empty()),
    );
    keep("db_column", !is_none(get("db_column")));
    keep("db_comment", !is_none(get("db_comment")));
    keep("db_tablespace", !is_none(get("db_tablespace")));
    keep("auto_created", !is_false(get("auto_created")));
    keep("error_messages", !is_none(get("error_messages")));
    if let Some(choices) = get("choices") {
        let choices = normalize_choices(choices, 0, ctx.refs);
        if !matches!(choices, Value::None) {
            out.insert("choices".to_owned(), choices);
        }
    }
    if let Some(validators) = get("validators") {
        match validators.as_seq() {
            Some([]) => {}
            Some(items) => {
                let items = items.iter().map(deconstructed_validator).collect();
                out.insert("validators".to_owned(), Value::List(items));
            }
            None => return Err("`validators` is not a literal list".to_owned()),
        }
    }

    // Each class's own deconstruct().
    let eq_int = |v: Option<&Value>, n: i64| v.is_some_and(|v| py_eq(v, &Value::Int(n)));
    if matches!(kind, Char | Text | Email | Url | Slug) && truth(get("db_collation"))? {
        out.insert("db_collation".to_owned(), value_of(&given, "db_collation"));
    }
    match kind {
        Date | DateTime => {
            let now = truth(get("auto_now"))?;
            let now_add = truth(get("auto_now_add"))?;
            if now {
                out.insert("auto_now".to_owned(), Value::Bool(true));
            }
            if now_add {
                out.insert("auto_now_add".to_owned(), Value::Bool(true));
            }
            if now || now_add {
                out.remove("editable");
                out.remove("blank");
            }
        }
        Time => {
            for name in ["auto_now", "auto_now_add"] {
                if !is_false(get(name)) {
                    out.insert(name.to_owned(), value_of(&given, name));
                }
            }
            if truth(get("auto_now"))? || truth(get("auto_now_add"))? {
                out.remove("blank");
                out.remove("editable");
            }
        }
        Decimal => {
            for name in ["max_digits", "decimal_places"] {
                if !is_none(get(name)) {
                    out.insert(name.to_owned(), value_of(&given, name));
                }
            }
        }
        FilePath => {
            if !matches!(get("path"), None | Some(Value::Str(_)))
                || matches!(get("path"), Some(Value::Str(s)) if !s.is_empty())
            {
                out.insert("path".to_owned(), value_of(&given, "path"));
            }
            if !is_none(get("match")) {
                out.insert("match".to_owned(), value_of(&given, "match"));
            }
            if !is_false(get("recursive")) {
                out.insert("recursive".to_owned(), value_of(&given, "recursive"));
            }
            if !is_true(get("allow_files")) {
                out.insert("allow_files".to_owned(), value_of(&given, "allow_files"));
            }
            if !is_false(get("allow_folders")) {
                out.insert(
                    "allow_folders".to_owned(),
                    value_of(&given, "allow_folders"),
                );
            }
            if eq_int(out.get("max_length"), 100) {
                out.remove("max_length");
            }
        }
        GenericIp => {
            if !is_false(get("unpack_ipv4")) {
                out.insert("unpack_ipv4".to_owned(), given["unpack_ipv4"].clone());
            }
            if !matches!(get("protocol"), None | Some(Value::Str(_)))
                || matches!(get("protocol"), Some(Value::Str(s)) if s != "both")
            {
                out.insert("protocol".to_owned(), value_of(&given, "protocol"));
            }
            out.remove("max_length");
        }
        Slug => {
            if eq_int(out.get("max_length"), 50) {
                out.remove("max_length");
            }
            if matches!(get("db_index"), Some(Value::Bool(false))) {
                out.insert("db_index".to_owned(), Value::Bool(false));
            } else {
                out.remove("db_index");
            }
            if !is_false(get("allow_unicode")) {
                out.insert(
                    "allow_unicode".to_owned(),
                    value_of(&given, "allow_unicode"),
                );
            }
        }
        Url if eq_int(out.get("max_length"), 200) => {
            out.remove("max_length");
        }
        Binary => {
            if truth(get("editable"))? {
                out.insert("editable".to_owned(), Value::Bool(true));
            } else {
                out.remove("editable");
            }
        }
        Uuid => {
            out.remove("max_length");
        }
        Auto | BigAuto | SmallAuto => {
            out.remove("blank");
            out.insert("primary_key".to_owned(), Value::Bool(true));
        }
        Json => {
            for name in ["encoder", "decoder"] {
                if !is_none(get(name)) {
                    out.insert(name.to_owned(), value_of(&given, name));
                }
            }
        }
        File | Image => {
            if eq_int(out.get("max_length"), 100) {
                out.remove("max_length");
            }
            out.insert(
                "upload_to".to_owned(),
                get("upload_to")
                    .cloned()
                    .unwrap_or_else(|| Value::Str(String::new())),
            );
            if !is_none(get("storage")) {
                out.insert("storage".to_owned(), value_of(&given, "storage"));
            }
            if kind == Image {
                for name in ["width_field", "height_field"] {
                    if truth(get(name))? {
                        out.insert(name.to_owned(), value_of(&given, name));
                    }
                }
            }
        }
        Generated => {
            out.remove("blank");
            out.remove("editable");
            let persist = get("db_persist").cloned().unwrap_or(Value::None);
            if !matches!(persist, Value::Bool(_)) {
                return Err("`db_persist` must be True or False".to_owned());
            }
            out.insert("db_persist".to_owned(), persist);
            let expression = get("expression").ok_or("`expression` is missing")?;
            out.insert("expression".to_owned(), expression.clone());
            let output = nested_field(get("output_field"), "output_field", ctx)?;
            out.insert("output_field".to_owned(), output);
        }
        Array => {
            // ArrayField.deconstruct: the base field (a clone, written by
            // its own deconstruct) and `size`, None included.
            let base = nested_field(get("base_field"), "base_field", ctx)?;
            out.insert("base_field".to_owned(), base);
            out.insert(
                "size".to_owned(),
                get("size").cloned().unwrap_or(Value::None),
            );
        }
        ForeignKey | OneToOne | ManyToMany => relation(kind, &given, &mut out, ctx)?,
        _ => {}
    }
    let written = match class.path.strip_prefix("django.db.models.") {
        Some(name) => format!("models.{name}"),
        None => class.path.clone(),
    };
    Ok(Call {
        func: Ref {
            written,
            path: class.path.clone(),
        },
        args: Vec::new(),
        kwargs: out.into_iter().collect(),
    })
}

/// `TaggableManager.deconstruct()` (django-taggit 6.1, checked against
/// `makemigrations`): `verbose_name` and `help_text` always, `blank` when
/// true, and `through`/`to` naming taggit's own models unless given. Only
/// those defaults are known: a custom `through` or tag model, `help_text`
/// or any other argument given in `models.py` is not compared.
fn taggable(class: &FieldClass, given: &BTreeMap<String, Value>) -> Result<Call, String> {
    const HELP: &str = "A comma-separated list of tags.";
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for (name, value) in given {
        match (name.as_str(), value) {
            ("verbose_name", Value::Str(_)) | ("blank", Value::Bool(_)) => {}
            ("help_text", Value::Str(text)) if text == HELP => {}
            ("through", Value::Str(text)) if text == "taggit.TaggedItem" => {}
            ("to", Value::Str(text)) if text == "taggit.Tag" => {}
            _ => {
                return Err(format!(
                    "`TaggableManager({name}=...)` is not known statically"
                ))
            }
        }
    }
    out.insert(
        "verbose_name".to_owned(),
        given
            .get("verbose_name")
            .cloned()
            .unwrap_or_else(|| Value::Str("Tags".to_owned())),
    );
    out.insert("help_text".to_owned(), Value::Str(HELP.to_owned()));
    if matches!(given.get("blank"), Some(Value::Bool(true))) {
        out.insert("blank".to_owned(), Value::Bool(true));
    }
    out.insert(
        "through".to_owned(),
        Value::Str("taggit.TaggedItem".to_owned()),
    );
    out.insert("to".to_owned(), Value::Str("taggit.Tag".to_owned()));
    Ok(Call {
        func: Ref {
            written: class.path.clone(),
            path: class.path.clone(),
        },
        args: Vec::new(),
        kwargs: out.into_iter().collect(),
    })
}

/// A field given as an argument of another (`GeneratedField.output_field`,
/// `ArrayField.base_field`), deconstructed in turn.
fn nested_field(value: Option<&Value>, what: &str, ctx: &FieldCtx<'_>) -> Result<Value, String> {
    let Some(Value::Call(field)) = value else {
        return Err(format!("`{what}` is not a field"));
    };
    let class = FieldClass::known_in(&field.func.path, ctx.settings)
        .ok_or_else(|| format!("`{what}` {} is not known", field.func.path))?;
    let nested = FieldCtx {
        force_pk: false,
        ..*ctx
    };
    Ok(Value::Call(Box::new(deconstruct(&class, field, &nested)?)))
}

/// `RelatedField`/`ForeignObject`/`ForeignKey`/`ManyToManyField`'s parts.
fn relation(
    kind: Kind,
    given: &BTreeMap<String, Value>,
    out: &mut BTreeMap<String, Value>,
    ctx: &FieldCtx<'_>,
) -> Result<(), String> {
    let get = |name: &str| given.get(name);
    if !is_none(get("related_name")) {
        out.insert("related_name".to_owned(), value_of(given, "related_name"));
    }
    if !is_none(get("related_query_name")) {
        out.insert(
            "related_query_name".to_owned(),
            value_of(given, "related_query_name"),
        );
    }
    if truth(get("limit_choices_to"))? {
        out.insert(
            "limit_choices_to".to_owned(),
            value_of(given, "limit_choices_to"),
        );
    }
    let to = get("to").ok_or("`to` is missing")?;
    let target = ctx
        .refs
        .model_key(to, ctx.app_label, ctx.model_lower)
        .ok_or_else(|| format!("the related model {} is not known statically", describe(to)))?;
    let label = format!("{}.{}", target.0, target.1);
    let swappable = !matches!(get("swappable"), Some(Value::Bool(false)));
    let setting = if swappable {
        swappable_setting(&label, ctx.settings)
    } else {
        None
    };
    out.insert(
        "to".to_owned(),
        match setting {
            Some(setting) => Value::Ref(Ref {
                written: format!("settings.{setting}"),
                path: format!("django.conf.settings.{setting}"),
            }),
            None => Value::Str(label),
        },
    );
    if kind == Kind::ManyToMany {
        if !is_none(get("db_table")) {
            out.insert("db_table".to_owned(), value_of(given, "db_table"));
        }
        if !is_true(get("db_constraint")) {
            out.insert("db_constraint".to_owned(), value_of(given, "db_constraint"));
        }
        if let Some(through) = get("through").filter(|v| !matches!(v, Value::None)) {
            let key = ctx
                .refs
                .model_key(through, ctx.app_label, ctx.model_lower)
                .ok_or_else(|| {
                    format!(
                        "the through model {} is not known statically",
                        describe(through)
                    )
                })?;
            out.insert(
                "through".to_owned(),
                Value::Str(format!("{}.{}", key.0, key.1)),
            );
        }
        // `through_fields` is not in `ManyToManyField.deconstruct()`:
        // migrations never record it.
        return Ok(());
    }
    let on_delete = get("on_delete").ok_or("`on_delete` is missing")?;
    out.insert(
        "on_delete".to_owned(),
        match on_delete {
            Value::Ref(r) => Value::Ref(reference(canonical_on_delete(&r.path))),
            other => other.clone(),
        },
    );
    if truth(get("parent_link"))? {
        out.insert("parent_link".to_owned(), value_of(given, "parent_link"));
    }
    // db_index: ForeignKey defaults it to True; only False is written.
    match truth(out.get("db_index").or(get("db_index")))? {
        true => {
            out.remove("db_index");
        }
        false => {
            out.insert("db_index".to_owned(), Value::Bool(false));
        }
    }
    if !is_true(get("db_constraint")) {
        out.insert("db_constraint".to_owned(), value_of(given, "db_constraint"));
    }
    if let Some(Value::Str(to_field)) = get("to_field") {
        let pk = ctx.refs.pk_name(&target).unwrap_or_else(|| "id".to_owned());
        if *to_field != pk {
            out.insert("to_field".to_owned(), Value::Str(to_field.clone()));
        }
    } else if !is_none(get("to_field")) {
        return Err("`to_field` is not a literal string".to_owned());
    }
    if kind == Kind::OneToOne {
        out.remove("unique");
    }
    Ok(())
}

/// `django.db.models.CASCADE` as the writer spells it.
fn canonical_on_delete(path: &str) -> String {
    let canonical = canonical_path(path);
    match canonical.strip_prefix("django.db.models.") {
        Some(
            name @ ("CASCADE" | "PROTECT" | "SET_NULL" | "SET_DEFAULT" | "DO_NOTHING" | "RESTRICT"),
        ) => {
            format!("django.db.models.deletion.{name}")
        }
        _ => path.to_owned(),
    }
}

/// Django's `swappable_setting`: the setting a relation to `label` is
/// written through (`AUTH_USER_MODEL` for the user model and for
/// `auth.User` itself).
pub fn swappable_setting(label: &str, settings: &DjangoSettings) -> Option<String> {
    let label = label.to_lowercase();
    if label == "auth.user" || settings.auth_user_model.to_lowercase() == label {
        return Some("AUTH_USER_MODEL".to_owned());
    }
    settings
        .swappable
        .iter()
        .find(|(_, model)| model.to_lowercase() == label)
        .map(|(setting, _)| setting.clone())
}

/// Django's `normalize_choices`.
fn normalize_choices(value: &Value, depth: u32, refs: &dyn ModelRefs) -> Value {
    match value {
        Value::Str(_) | Value::Bytes(_) => value.clone(),
        Value::Ref(r) if depth == 0 => refs.enum_choices(&r.path).unwrap_or_else(|| value.clone()),
        Value::Dict(items) if depth < 2 => Value::List(
            items
                .iter()
                .map(|(k, v)| Value::Tuple(vec![k.clone(), normalize_choices(v, depth + 1, refs)]))
                .collect(),
        ),
        Value::List(items) | Value::Tuple(items) | Value::Set(items)
            if depth < 2
                && !items
                    .iter()
                    .any(|i| matches!(i, Value::Str(_) | Value::Bytes(_))) =>
        {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item.as_seq() {
                    Some([k, v]) => out.push(Value::Tuple(vec![
                        k.clone(),
                        normalize_choices(v, depth + 1, refs),
                    ])),
                    _ => return value.clone(),
                }
            }
            Value::List(out)
        }
        _ => value.clone(),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("'{s}'"),
        Value::Ref(r) => r.written.clone(),
        Value::Expr(e) => e.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Refs;
    impl ModelRefs for Refs {
        fn model_key(&self, value: &Value, app: &str, _model: &str) -> Option<ModelKey> {
            let s = value.as_str()?;
            Some(match s.split_once('.') {
                Some((a, m)) => (a.to_owned(), m.to_lowercase()),
                None => (app.to_owned(), s.to_lowercase()),
            })
        }
        fn pk_name(&self, _key: &ModelKey) -> Option<String> {
            Some("id".to_owned())
        }
    }

    fn field(path: &str, kwargs: Vec<(&str, Value)>) -> Call {
        Call {
            func: reference(path),
            args: Vec::new(),
            kwargs: kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    fn run(path: &str, kwargs: Vec<(&str, Value)>) -> Vec<(String, Value)> {
        let settings = DjangoSettings {
            auth_user_model: "accounts.User".into(),
            ..DjangoSettings::default()
        };
        let ctx = FieldCtx {
            app_label: "blog",
            model_lower: "post",
            settings: &settings,
            refs: &Refs,
            force_pk: false,
        };
        let class = FieldClass::django(path).unwrap();
        deconstruct(&class, &field(path, kwargs), &ctx)
            .unwrap()
            .kwargs
    }

    fn kw(pairs: Vec<(&str, Value)>) -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> =
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn defaults_are_dropped_like_django() {
        assert_eq!(
            run(
                "django.db.models.SlugField",
                vec![("max_length", Value::Int(50))]
            ),
            kw(vec![])
        );
        assert_eq!(
            run("django.db.models.EmailField", vec![]),
            kw(vec![("max_length", Value::Int(254))])
        );
        assert_eq!(
            run(
                "django.db.models.URLField",
                vec![("max_length", Value::Int(200))]
            ),
            kw(vec![])
        );
        assert_eq!(
            run(
                "django.db.models.CharField",
                vec![
                    ("max_length", Value::Int(10)),
                    ("blank", Value::Bool(false))
                ]
            ),
            kw(vec![("max_length", Value::Int(10))])
        );
        assert_eq!(
            run(
                "django.db.models.DateTimeField",
                vec![("auto_now_add", Value::Bool(true))]
            ),
            kw(vec![("auto_now_add", Value::Bool(true))])
        );
        assert_eq!(
            run("django.db.models.FileField", vec![]),
            kw(vec![("upload_to", Value::Str(String::new()))])
        );
        assert_eq!(
            run(
                "django.db.models.BigAutoField",
                vec![("primary_key", Value::Bool(true))]
            ),
            kw(vec![
                ("primary_key", Value::Bool(true)),
                ("serialize", Value::Bool(false))
            ])
        );
    }

    #[test]
    fn relations_point_at_lowercased_labels_and_settings() {
        let cascade = Value::Ref(reference("django.db.models.CASCADE"));
        let out = run(
            "django.db.models.ForeignKey",
            vec![
                ("to", Value::Str("accounts.User".into())),
                ("on_delete", cascade.clone()),
            ],
        );
        assert_eq!(out[0].0, "on_delete");
        assert_eq!(
            out[0].1,
            Value::Ref(reference("django.db.models.deletion.CASCADE"))
        );
        assert_eq!(out[1].0, "to");
        assert!(
            matches!(&out[1].1, Value::Ref(r) if r.path == "django.conf.settings.AUTH_USER_MODEL")
        );
        let out = run(
            "django.db.models.OneToOneField",
            vec![
                ("to", Value::Str("Tag".into())),
                ("on_delete", cascade),
                ("to_field", Value::Str("id".into())),
            ],
        );
        assert_eq!(out[1], ("to".to_owned(), Value::Str("blog.tag".into())));
        assert_eq!(out.len(), 2);
    }
}
