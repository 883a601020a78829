//! A small static evaluator for the expressions settings modules use to
//! name their database: literals, `BASE_DIR / "db.sqlite3"`,
//! `os.path.join(...)`, f-strings, `os.environ[...]`, `os.environ.get`,
//! `os.getenv`, django-environ's `env(...)` / `env.db()`,
//! `dj_database_url.config()` / `.parse()`, and `int(...)` / `str(...)`.
//! Environment variables come from a lookup function (the real process
//! environment in production).
//!
//! Values arrive as migguard_core [`Value`]s; the parts the core reader kept
//! as source text ([`Value::Expr`]) are parsed here.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use migguard_core::model::Value;

/// An expression, from a [`Value`] or parsed from source text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Str(String),
    Num(String),
    None,
    /// A (dotted) name as written, and as resolved through imports.
    Name {
        written: String,
        path: String,
    },
    FStr(Vec<FPart>),
    Call {
        func: Box<Node>,
        args: Vec<Node>,
        kwargs: Vec<(String, Node)>,
    },
    Subscript(Box<Node>, Box<Node>),
    BinOp(char, Box<Node>, Box<Node>),
    Dict(Vec<(Node, Node)>),
    /// Something this evaluator does not model, as source text.
    Opaque(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FPart {
    Lit(String),
    Expr(Node),
}

impl Node {
    pub fn from_value(value: &Value) -> Node {
        match value {
            Value::None => Node::None,
            Value::Str(s) => Node::Str(s.clone()),
            Value::Int(i) => Node::Num(i.to_string()),
            Value::BigInt(t) => Node::Num(t.clone()),
            Value::Float(f) => Node::Num(f.to_string()),
            Value::Ref(r) => Node::Name {
                written: r.written.clone(),
                path: r.path.clone(),
            },
            Value::Call(c) => Node::Call {
                func: Box::new(Node::Name {
                    written: c.func.written.clone(),
                    path: c.func.path.clone(),
                }),
                args: c.args.iter().map(Node::from_value).collect(),
                kwargs: c
                    .kwargs
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::from_value(v)))
                    .collect(),
            },
            Value::Dict(items) => Node::Dict(
                items
                    .iter()
                    .map(|(k, v)| (Node::from_value(k), Node::from_value(v)))
                    .collect(),
            ),
            Value::Expr(text) => parse(text).unwrap_or_else(|| Node::Opaque(text.clone())),
            Value::Bool(b) => Node::Opaque(if *b { "True" } else { "False" }.to_owned()),
            Value::Bytes(_) | Value::List(_) | Value::Tuple(_) | Value::Set(_) => {
                Node::Opaque("a list or bytes value".to_owned())
            }
        }
    }

    /// The value of key `key` of a dict literal.
    pub fn dict_get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Dict(items) => items
                .iter()
                .find(|(k, _)| matches!(k, Node::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Path(PathBuf),
    None,
    /// A database URL from `dj_database_url` or `env.db()`, which return a
    /// whole `DATABASES` entry.
    DbUrl(String),
}

impl Val {
    pub fn into_string(self) -> Option<String> {
        match self {
            Val::Str(s) | Val::DbUrl(s) => Some(s),
            Val::Path(p) => Some(p.to_string_lossy().into_owned()),
            Val::None => None,
        }
    }
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unresolved {
    /// An environment variable without a default is not set.
    EnvMissing(String),
    /// Source text this evaluator cannot follow.
    Opaque(String),
    /// Anything else, already phrased.
    Other(String),
}

impl Unresolved {
    /// The same reason without quoting source text (for `PASSWORD`).
    pub fn without_source(self) -> Unresolved {
        match self {
            Unresolved::Opaque(_) => {
                Unresolved::Other("its value cannot be read statically".to_owned())
            }
            other => other,
        }
    }
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unresolved::EnvMissing(var) => {
                write!(
                    f,
                    "environment variable {var} is not set and has no default"
                )
            }
            Unresolved::Opaque(text) => {
                let short: String = text.chars().take(80).collect();
                write!(f, "`{short}` cannot be evaluated statically")
            }
            Unresolved::Other(text) => f.write_str(text),
        }
    }
}

/// What evaluation may look at.
pub(crate) struct Ctx<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// What `BASE_DIR` (anything derived from `__file__`) stands for: the
    /// directory of `manage.py`.
    pub base_dir: PathBuf,
    /// The settings module's top-level assignments.
    pub settings: &'a HashMap<String, Value>,
}

const MAX_DEPTH: u32 = 12;

impl Ctx<'_> {
    pub fn eval(&self, node: &Node) -> Result<Val, Unresolved> {
        self.eval_at(node, 0)
    }

    fn eval_at(&self, node: &Node, depth: u32) -> Result<Val, Unresolved> {
        if depth > MAX_DEPTH {
            return Err(Unresolved::Other(
                "the settings refer to themselves too deeply".to_owned(),
            ));
        }
        let eval = |n: &Node| self.eval_at(n, depth + 1);
        match node {
            Node::Str(s) => Ok(Val::Str(s.clone())),
            Node::Num(n) => Ok(Val::Str(n.clone())),
            Node::None => Ok(Val::None),
            Node::Name { written, .. } => self.name(written, depth),
            Node::FStr(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        FPart::Lit(s) => out.push_str(s),
                        FPart::Expr(e) => out
                            .push_str(&eval(e)?.into_string().unwrap_or_else(|| "None".to_owned())),
                    }
                }
                Ok(Val::Str(out))
            }
            Node::BinOp(op, left, right) => {
                let (l, r) = (eval(left)?, eval(right)?);
                match (op, l, r) {
                    ('/', Val::Path(p), r) => {
                        let r = r.into_string().ok_or_else(|| {
                            Unresolved::Other("a path joined with None".to_owned())
                        })?;
                        Ok(Val::Path(p.join(r)))
                    }
                    ('+', l @ (Val::Str(_) | Val::Path(_)), r @ (Val::Str(_) | Val::Path(_))) => {
                        let mut s = l.into_string().unwrap_or_default();
                        s.push_str(&r.into_string().unwrap_or_default());
                        Ok(Val::Str(s))
                    }
                    _ => Err(Unresolved::Other(format!(
                        "an operator `{op}` on values that are not paths or strings"
                    ))),
                }
            }
            Node::Subscript(target, key) => {
                if let Node::Name { written, path } = &**target {
                    if is_environ(written) || is_environ(path) {
                        let var = self.string_arg(key, depth)?;
                        return (self.env)(&var)
                            .map(Val::Str)
                            .ok_or(Unresolved::EnvMissing(var));
                    }
                }
                Err(Unresolved::Other(
                    "a subscript other than os.environ[...]".to_owned(),
                ))
            }
            Node::Call { func, args, kwargs } => self.call(func, args, kwargs, depth),
            Node::Dict(_) => Err(Unresolved::Other(
                "a dict where a string was expected".to_owned(),
            )),
            Node::Opaque(text) => Err(Unresolved::Opaque(text.clone())),
        }
    }

    fn string_arg(&self, node: &Node, depth: u32) -> Result<String, Unresolved> {
        self.eval_at(node, depth + 1)?
            .into_string()
            .ok_or_else(|| Unresolved::Other("None where a name was expected".to_owned()))
    }

    fn name(&self, name: &str, depth: u32) -> Result<Val, Unresolved> {
        match name {
            "None" => return Ok(Val::None),
            "__file__" => return Ok(Val::Path(self.base_dir.clone())),
            _ => {}
        }
        let Some(value) = self.settings.get(name) else {
            return Err(Unresolved::Other(format!(
                "`{name}` is not a top-level name of the settings module"
            )));
        };
        if mentions_file(value) {
            // `BASE_DIR = Path(__file__).resolve().parent.parent` and friends:
            // the project directory, where manage.py is.
            return Ok(Val::Path(self.base_dir.clone()));
        }
        self.eval_at(&Node::from_value(value), depth + 1)
    }

    fn call(
        &self,
        func: &Node,
        args: &[Node],
        kwargs: &[(String, Node)],
        depth: u32,
    ) -> Result<Val, Unresolved> {
        let Node::Name { written, path } = func else {
            return Err(Unresolved::Other(
                "a call of something that is not a plain name".to_owned(),
            ));
        };
        let kwarg = |name: &str| kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let arg = |i: usize, name: &str| args.get(i).or_else(|| kwarg(name));
        let eval = |n: &Node| self.eval_at(n, depth + 1);
        let names = [written.as_str(), path.as_str()];
        let is = |candidates: &[&str]| names.iter().any(|n| candidates.contains(n));

        // os.environ.get("X", default), os.getenv("X", default)
        if is(&["os.environ.get", "os.getenv", "getenv", "environ.get"])
            && !self.is_django_environ(written)
        {
            let var = match arg(0, "key") {
                Some(n) => self.string_arg(n, depth)?,
                None => {
                    return Err(Unresolved::Other(format!(
                        "{written}() without a variable name"
                    )))
                }
            };
            return match (self.env)(&var) {
                Some(v) => Ok(Val::Str(v)),
                None => match arg(1, "default") {
                    Some(d) => eval(d),
                    None => Ok(Val::None),
                },
            };
        }
        // dj_database_url.config(env="DATABASE_URL", default=...)
        if path.ends_with("dj_database_url.config") || written.ends_with("dj_database_url.config") {
            let var = match arg(0, "env") {
                Some(n) => self.string_arg(n, depth)?,
                None => "DATABASE_URL".to_owned(),
            };
            if let Some(url) = (self.env)(&var).filter(|v| !v.is_empty()) {
                return Ok(Val::DbUrl(url));
            }
            return match arg(1, "default") {
                Some(d) => match eval(d)? {
                    Val::None => Err(Unresolved::EnvMissing(var)),
                    v => Ok(Val::DbUrl(v.into_string().unwrap_or_default())),
                },
                None => Err(Unresolved::EnvMissing(var)),
            };
        }
        // dj_database_url.parse("...")
        if path.ends_with("dj_database_url.parse") || written.ends_with("dj_database_url.parse") {
            let url = match arg(0, "url") {
                Some(n) => self.string_arg(n, depth)?,
                None => {
                    return Err(Unresolved::Other(
                        "dj_database_url.parse() without a URL".to_owned(),
                    ))
                }
            };
            return Ok(Val::DbUrl(url));
        }
        // django-environ: env("X", default=...), env.str(...), env.db(...)
        if let Some(method) = self.django_environ_method(written) {
            return self.environ_call(method, args, kwargs, depth);
        }
        // Paths and strings.
        if is(&["os.path.join"]) {
            let mut out: Option<PathBuf> = None;
            for a in args {
                let part = eval(a)?
                    .into_string()
                    .ok_or_else(|| Unresolved::Other("os.path.join() of None".to_owned()))?;
                out = Some(match out {
                    Some(p) => p.join(part),
                    None => PathBuf::from(part),
                });
            }
            return out
                .map(Val::Path)
                .ok_or_else(|| Unresolved::Other("os.path.join() without arguments".to_owned()));
        }
        // int("5432"), int(os.environ.get("DB_PORT", 5432)): a whole number.
        if written == "int" && args.len() == 1 {
            let text = eval(&args[0])?
                .into_string()
                .ok_or_else(|| Unresolved::Other("int(None)".to_owned()))?;
            return text
                .trim()
                .parse::<i64>()
                .map(|n| Val::Str(n.to_string()))
                .map_err(|_| {
                    Unresolved::Other("int() of a value that is not a whole number".to_owned())
                });
        }
        if is(&[
            "str",
            "os.fspath",
            "os.path.abspath",
            "os.path.realpath",
            "os.path.normpath",
            "os.path.expanduser",
        ]) {
            if let Some(a) = args.first() {
                return match eval(a)? {
                    Val::Path(p) if written != "str" && path != "os.fspath" => Ok(Val::Path(p)),
                    v => Ok(v
                        .into_string()
                        .map(Val::Str)
                        .unwrap_or(Val::Str("None".to_owned()))),
                };
            }
        }
        if is(&["Path", "pathlib.Path", "PurePath", "pathlib.PurePath"]) {
            if let Some(a) = args.first() {
                return match eval(a)? {
                    Val::None => Err(Unresolved::Other("Path(None)".to_owned())),
                    v => Ok(Val::Path(PathBuf::from(
                        v.into_string().unwrap_or_default(),
                    ))),
                };
            }
        }
        Err(Unresolved::Other(format!(
            "a call of `{written}()` cannot be evaluated statically"
        )))
    }

    /// `env` in `env(...)` / `env.db()`: a settings name bound to
    /// `environ.Env(...)`, or simply `env`.
    fn is_django_environ(&self, written: &str) -> bool {
        self.django_environ_method(written).is_some()
    }

    fn django_environ_method<'n>(&self, written: &'n str) -> Option<&'n str> {
        let (object, method) = match written.split_once('.') {
            Some((o, m)) if !m.contains('.') => (o, m),
            Some(_) => return None,
            None => (written, ""),
        };
        let bound_to_env = match self.settings.get(object) {
            Some(Value::Call(c)) => {
                c.func.path.ends_with("Env") || c.func.path.ends_with("environ.Env")
            }
            Some(_) => false,
            None => object == "env",
        };
        bound_to_env.then_some(method)
    }

    fn environ_call(
        &self,
        method: &str,
        args: &[Node],
        kwargs: &[(String, Node)],
        depth: u32,
    ) -> Result<Val, Unresolved> {
        let kwarg = |name: &str| kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let eval = |n: &Node| self.eval_at(n, depth + 1);
        let is_db = matches!(method, "db" | "db_url" | "database_url" | "db_url_config");
        let var = match args.first().or_else(|| kwarg("var")) {
            Some(n) => self.string_arg(n, depth)?,
            None if is_db => "DATABASE_URL".to_owned(),
            None => {
                return Err(Unresolved::Other(
                    "env() without a variable name".to_owned(),
                ))
            }
        };
        // `env("X", cast, default)`: the default is keyword-only in practice;
        // the typed getters (`env.str("X", "d")`) take it second.
        let default =
            kwarg("default").or_else(|| if method.is_empty() { None } else { args.get(1) });
        let value = match (self.env)(&var) {
            Some(v) => Val::Str(v),
            None => match default {
                Some(d) => eval(d)?,
                None => return Err(Unresolved::EnvMissing(var)),
            },
        };
        if is_db {
            return match value {
                Val::None => Err(Unresolved::EnvMissing(var)),
                v => Ok(Val::DbUrl(v.into_string().unwrap_or_default())),
            };
        }
        Ok(value)
    }
}

fn is_environ(name: &str) -> bool {
    matches!(name, "os.environ" | "environ")
}

/// True when a value is derived from `__file__` (`BASE_DIR`).
fn mentions_file(value: &Value) -> bool {
    match value {
        Value::Expr(text) => text.contains("__file__"),
        Value::Ref(r) => r.written == "__file__",
        Value::Call(c) => {
            c.args.iter().any(mentions_file) || c.kwargs.iter().any(|(_, v)| mentions_file(v))
        }
        Value::List(v) | Value::Tuple(v) | Value::Set(v) => v.iter().any(mentions_file),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Parsing source text.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str { text: String, fstring: bool },
    Num(String),
    Op(char),
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == '\\' {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_ascii_lowercase();
            let is_prefix = lower.len() <= 2 && lower.chars().all(|ch| "rbfu".contains(ch));
            if is_prefix && i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                let (text, next) = read_string(&chars, i, lower.contains('r'))?;
                out.push(Tok::Str {
                    text,
                    fstring: lower.contains('f'),
                });
                i = next;
            } else {
                out.push(Tok::Name(word));
            }
            continue;
        }
        if c == '"' || c == '\'' {
            let (text, next) = read_string(&chars, i, false)?;
            out.push(Tok::Str {
                text,
                fstring: false,
            });
            i = next;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
            continue;
        }
        if "()[]{},:/+-*.=%".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
            continue;
        }
        return None;
    }
    Some(out)
}

/// A string literal starting at `chars[start]` (the quote); returns its
/// text (escapes resolved unless raw) and the index after it.
fn read_string(chars: &[char], start: usize, raw: bool) -> Option<(String, usize)> {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = String::new();
    loop {
        let c = *chars.get(i)?;
        if c == quote {
            if !triple {
                return Some((out, i + 1));
            }
            if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                return Some((out, i + 3));
            }
        }
        if c == '\\' && !raw {
            let next = *chars.get(i + 1)?;
            match next {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' | '\'' | '"' => out.push(next),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
}

/// Parse an expression's source text; `None` when it is not one this
/// evaluator models.
pub(crate) fn parse(text: &str) -> Option<Node> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let node = p.expr()?;
    (p.pos == p.toks.len()).then_some(node)
}

type Kwargs = Vec<(String, Node)>;

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: u32,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, op: char) -> bool {
        if self.peek() == Some(&Tok::Op(op)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<Node> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let mut left = self.product()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            let right = self.product()?;
            left = Node::BinOp(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Some(left)
    }

    fn product(&mut self) -> Option<Node> {
        let mut left = self.postfix()?;
        while let Some(Tok::Op(op @ ('/' | '*' | '%'))) = self.peek().cloned() {
            self.pos += 1;
            let right = self.postfix()?;
            left = Node::BinOp(op, Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn postfix(&mut self) -> Option<Node> {
        let mut node = self.atom()?;
        loop {
            if self.eat('(') {
                let (args, kwargs) = self.arguments()?;
                node = Node::Call {
                    func: Box::new(node),
                    args,
                    kwargs,
                };
            } else if self.eat('[') {
                let key = self.expr()?;
                if !self.eat(']') {
                    return None;
                }
                node = Node::Subscript(Box::new(node), Box::new(key));
            } else if self.eat('.') {
                let Some(Tok::Name(attr)) = self.peek().cloned() else {
                    return None;
                };
                self.pos += 1;
                node = match node {
                    Node::Name { written, .. } => {
                        let dotted = format!("{written}.{attr}");
                        Node::Name {
                            written: dotted.clone(),
                            path: dotted,
                        }
                    }
                    // `Path(__file__).resolve().parent`: only its link to
                    // `__file__` matters.
                    _ => Node::Opaque(format!("(...).{attr}")),
                };
            } else {
                return Some(node);
            }
        }
    }

    fn arguments(&mut self) -> Option<(Vec<Node>, Kwargs)> {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        loop {
            if self.eat(')') {
                return Some((args, kwargs));
            }
            if let (Some(Tok::Name(name)), Some(Tok::Op('='))) = (
                self.toks.get(self.pos).cloned(),
                self.toks.get(self.pos + 1),
            ) {
                self.pos += 2;
                kwargs.push((name, self.expr()?));
            } else {
                args.push(self.expr()?);
            }
            if !self.eat(',') && self.peek() != Some(&Tok::Op(')')) {
                return None;
            }
        }
    }

    fn atom(&mut self) -> Option<Node> {
        match self.peek().cloned()? {
            Tok::Name(name) => {
                self.pos += 1;
                Some(match name.as_str() {
                    "None" => Node::None,
                    _ => Node::Name {
                        written: name.clone(),
                        path: name,
                    },
                })
            }
            Tok::Num(n) => {
                self.pos += 1;
                Some(Node::Num(n))
            }
            Tok::Str { .. } => {
                // Adjacent literals concatenate.
                let mut parts = Vec::new();
                let mut any_f = false;
                while let Some(Tok::Str { text, fstring }) = self.peek().cloned() {
                    self.pos += 1;
                    if fstring {
                        any_f = true;
                        parts.extend(fstring_parts(&text)?);
                    } else {
                        parts.push(FPart::Lit(text));
                    }
                }
                if any_f {
                    Some(Node::FStr(parts))
                } else {
                    let joined = parts
                        .into_iter()
                        .map(|p| match p {
                            FPart::Lit(s) => s,
                            FPart::Expr(_) => String::new(),
                        })
                        .collect();
                    Some(Node::Str(joined))
                }
            }
            Tok::Op('(') => {
                self.pos += 1;
                let inner = self.expr()?;
                self.eat(')').then_some(inner)
            }
            Tok::Op('{') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat('}') {
                        return Some(Node::Dict(items));
                    }
                    let key = self.expr()?;
                    if !self.eat(':') {
                        return None;
                    }
                    let value = self.expr()?;
                    items.push((key, value));
                    if !self.eat(',') && self.peek() != Some(&Tok::Op('}')) {
                        return None;
                    }
                }
            }
            Tok::Op(_) => None,
        }
    }
}

/// The literal and `{expression}` parts of an f-string's text.
fn fstring_parts(text: &str) -> Option<Vec<FPart>> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                if !lit.is_empty() {
                    parts.push(FPart::Lit(std::mem::take(&mut lit)));
                }
                let mut inner = String::new();
                let mut level = 1;
                for c in chars.by_ref() {
                    match c {
                        '{' => level += 1,
                        '}' => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                // Drop a conversion or format spec (`!r`, `:>10`) at top level.
                let expr_text = inner.split(['!', ':']).next().unwrap_or_default();
                parts.push(FPart::Expr(parse(expr_text)?));
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(FPart::Lit(lit));
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_with(
        text: &str,
        env: &[(&str, &str)],
        settings: &[(&str, Value)],
    ) -> Result<Val, Unresolved> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| env.get(k).cloned();
        let settings: HashMap<String, Value> = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let ctx = Ctx {
            env: &lookup,
            base_dir: PathBuf::from("/proj"),
            settings: &settings,
        };
        ctx.eval(&Node::from_value(&Value::Expr(text.to_owned())))
    }

    fn base() -> Vec<(&'static str, Value)> {
        vec![(
            "BASE_DIR",
            Value::Expr("Path(__file__).resolve().parent.parent".to_owned()),
        )]
    }

    #[test]
    fn base_dir_paths() {
        let p = |t: &str| eval_with(t, &[], &base()).unwrap().into_string().unwrap();
        assert_eq!(p("BASE_DIR / \"db.sqlite3\""), "/proj/db.sqlite3");
        assert_eq!(
            p("BASE_DIR / 'data' / 'db.sqlite3'"),
            "/proj/data/db.sqlite3"
        );
        assert_eq!(
            p("os.path.join(BASE_DIR, 'db.sqlite3')"),
            "/proj/db.sqlite3"
        );
        assert_eq!(p("str(BASE_DIR / 'db.sqlite3')"), "/proj/db.sqlite3");
        assert_eq!(
            p("f\"sqlite:///{BASE_DIR / 'db.sqlite3'}\""),
            "sqlite:////proj/db.sqlite3"
        );
        assert_eq!(
            p("'sqlite:///' + os.path.join(BASE_DIR, 'db.sqlite3')"),
            "sqlite:////proj/db.sqlite3"
        );
    }

    #[test]
    fn environment_lookups() {
        let env = [("DB_NAME", "shop")];
        let s = |t: &str| eval_with(t, &env, &[]).map(|v| v.into_string());
        assert_eq!(s("os.environ['DB_NAME']"), Ok(Some("shop".into())));
        assert_eq!(
            s("os.environ[\"NOPE\"]"),
            Err(Unresolved::EnvMissing("NOPE".into()))
        );
        assert_eq!(s("os.environ.get('NOPE', 'dflt')"), Ok(Some("dflt".into())));
        assert_eq!(s("os.getenv('DB_NAME', 'dflt')"), Ok(Some("shop".into())));
        assert_eq!(s("env('NOPE', default='x')"), Ok(Some("x".into())));
        assert_eq!(s("env('NOPE')"), Err(Unresolved::EnvMissing("NOPE".into())));
        assert_eq!(s("env.str('DB_NAME')"), Ok(Some("shop".into())));
        assert_eq!(
            eval_with("env.db(default='sqlite:///x.db')", &[], &[]),
            Ok(Val::DbUrl("sqlite:///x.db".into()))
        );
        assert_eq!(
            eval_with(
                "dj_database_url.config(default='postgres://a@h/d')",
                &[("DATABASE_URL", "mysql://r@h/x")],
                &[]
            ),
            Ok(Val::DbUrl("mysql://r@h/x".into()))
        );
        assert_eq!(
            eval_with("dj_database_url.parse('postgres://a@h/d')", &[], &[]),
            Ok(Val::DbUrl("postgres://a@h/d".into()))
        );
    }

    #[test]
    fn int_and_str_wrappers() {
        let env = [("DB_PORT", " 5433 ")];
        let s = |t: &str| eval_with(t, &env, &[]).map(|v| v.into_string());
        assert_eq!(s("int('5432')"), Ok(Some("5432".into())));
        assert_eq!(s("int(5432)"), Ok(Some("5432".into())));
        assert_eq!(s("str(5432)"), Ok(Some("5432".into())));
        assert_eq!(s("int(os.environ['DB_PORT'])"), Ok(Some("5433".into())));
        assert_eq!(
            s("int(os.environ.get('NOPE', 3306))"),
            Ok(Some("3306".into()))
        );
        assert_eq!(s("str(int('0042'))"), Ok(Some("42".into())));
        // Not a whole number: Python's ValueError, said without the text.
        let err = s("int('secret')").unwrap_err();
        assert!(
            matches!(&err, Unresolved::Other(t) if !t.contains("secret")),
            "{err:?}"
        );
        assert!(s("int(None)").is_err());
    }

    #[test]
    fn opaque_things_are_reported() {
        assert!(matches!(
            eval_with("get_secret('db')", &[], &[]),
            Err(Unresolved::Other(_))
        ));
        assert!(matches!(
            eval_with("a if b else c", &[], &[]),
            Err(Unresolved::Opaque(_))
        ));
        assert!(eval_with("UNKNOWN_NAME", &[], &[]).is_err());
    }
}
