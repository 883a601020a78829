//! [`DatabaseUrl`]: which database, as `dj-database-url` spells it.
//!
//! * `sqlite:///relative/path`, `sqlite:////absolute/path`
//! * `postgres://` / `postgresql://user:pass@host:port/name?host=/socket/dir`
//! * `mysql://` / `mariadb://user:pass@host:port/name?socket=/path/mysqld.sock`
//!
//! User name, password, host and database name are percent-decoded. The
//! password never leaves this module in readable form: `Display` and
//! `Debug` show `***`, and [`UrlError`] never quotes the input.

use std::fmt;
use std::path::{Path, PathBuf};

/// The database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL/MariaDB",
        })
    }
}

/// A password: shown as `***` by `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Self {
        Password(password.into())
    }

    /// The password itself, to hand to a driver. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a PostgreSQL or MySQL server is, and how to log in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerAddress {
    pub user: Option<String>,
    pub password: Option<Password>,
    /// Host name or IP address; `None` means `localhost`.
    pub host: Option<String>,
    /// `None` means the backend's default port (5432, 3306).
    pub port: Option<u16>,
    /// A Unix-domain socket instead of TCP: the socket directory for
    /// PostgreSQL, the socket file for MySQL.
    pub socket: Option<PathBuf>,
    pub database: String,
}

impl ServerAddress {
    /// The host as shown to people (`localhost` when unset).
    pub fn host_or_default(&self) -> &str {
        self.host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
    }
}

/// A database, parsed from a URL or built from Django's `DATABASES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file; relative paths are relative to the project (see
    /// [`DatabaseUrl::resolved`]).
    Sqlite(PathBuf),
    Postgres(ServerAddress),
    Mysql(ServerAddress),
}

/// Why a string is not a usable database URL. Never quotes the input, which
/// may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    #[error("not a database URL: expected `scheme://...`, e.g. `postgres://user@localhost/app` or `sqlite:///db.sqlite3`")]
    NoScheme,
    #[error("unsupported database scheme `{0}`: migguard reads sqlite, postgres and mysql/mariadb databases")]
    UnknownScheme(String),
    #[error("an in-memory SQLite database has no migrations to read")]
    InMemory,
    #[error("a SQLite URL is `sqlite:///relative/path` or `sqlite:////absolute/path`")]
    BadSqlite,
    #[error("the port of the database URL is not a number between 1 and 65535")]
    BadPort,
    #[error("the {0} in the database URL has invalid percent-encoding")]
    BadEncoding(&'static str),
    #[error("the database URL names no database (`{0}://user@host/NAME`)")]
    NoDatabase(&'static str),
}

impl DatabaseUrl {
    /// Parse a `dj-database-url` style URL.
    pub fn parse(text: &str) -> Result<DatabaseUrl, UrlError> {
        let text = text.trim();
        let (scheme, rest) = text.split_once("://").ok_or(UrlError::NoScheme)?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(UrlError::NoScheme);
        }
        let scheme_lower = scheme.to_ascii_lowercase();
        // `postgresql+psycopg://` (SQLAlchemy style) names the same server.
        let base = scheme_lower.split('+').next().unwrap_or_default();
        match base {
            "sqlite" | "sqlite3" | "spatialite" => parse_sqlite(rest),
            "postgres" | "postgresql" | "pgsql" | "postgis" | "psql" => {
                parse_server(rest).map(DatabaseUrl::Postgres)
            }
            "mysql" | "mysql2" | "mysqlgis" | "mariadb" | "mysql-connector" => {
                let address = parse_server(rest)?;
                if address.database.is_empty() {
                    return Err(UrlError::NoDatabase("mysql"));
                }
                Ok(DatabaseUrl::Mysql(address))
            }
            _ => Err(UrlError::UnknownScheme(scheme_lower)),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Mysql(_) => Backend::Mysql,
        }
    }

    /// The server address, for PostgreSQL and MySQL.
    pub fn server(&self) -> Option<&ServerAddress> {
        match self {
            DatabaseUrl::Sqlite(_) => None,
            DatabaseUrl::Postgres(a) | DatabaseUrl::Mysql(a) => Some(a),
        }
    }

    /// The SQLite file, for SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite(p) => Some(p),
            _ => None,
        }
    }

    /// A relative SQLite path made absolute against `base` (the directory of
    /// `manage.py`); other URLs unchanged.
    pub fn resolved(self, base: &Path) -> DatabaseUrl {
        match self {
            DatabaseUrl::Sqlite(p) if p.is_relative() => DatabaseUrl::Sqlite(base.join(p)),
            other => other,
        }
    }

    /// Whether two URLs name the same database: the same SQLite file (after
    /// following symlinks, when it exists), or the same database name on
    /// the same server (`localhost`, `127.0.0.1`, `::1` and a Unix socket
    /// all count as this machine; an unset port is the backend's default).
    /// User and password do not matter.
    pub fn same_database(&self, other: &DatabaseUrl) -> bool {
        fn file(p: &Path) -> PathBuf {
            p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
        }
        fn local(a: &ServerAddress) -> String {
            match a.host.as_deref().filter(|h| !h.is_empty()) {
                None | Some("localhost" | "127.0.0.1" | "::1" | "[::1]") => "localhost".to_owned(),
                Some(h) => h.to_ascii_lowercase(),
            }
        }
        match (self, other) {
            (DatabaseUrl::Sqlite(a), DatabaseUrl::Sqlite(b)) => file(a) == file(b),
            (DatabaseUrl::Postgres(a), DatabaseUrl::Postgres(b))
            | (DatabaseUrl::Mysql(a), DatabaseUrl::Mysql(b)) => {
                let default = if self.backend() == Backend::Postgres {
                    5432
                } else {
                    3306
                };
                a.database == b.database
                    && local(a) == local(b)
                    && a.port.unwrap_or(default) == b.port.unwrap_or(default)
            }
            _ => false,
        }
    }

    /// The password, when one was given.
    pub fn password(&self) -> Option<&str> {
        self.server()?.password.as_ref().map(Password::expose)
    }
}

/// Shows the URL with the password replaced by `***`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, a, socket_param) = match self {
            DatabaseUrl::Sqlite(path) => return write!(f, "sqlite:///{}", path.display()),
            DatabaseUrl::Postgres(a) => ("postgres", a, "host"),
            DatabaseUrl::Mysql(a) => ("mysql", a, "socket"),
        };
        write!(f, "{scheme}://")?;
        if let Some(user) = &a.user {
            f.write_str(user)?;
            if a.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        } else if a.password.is_some() {
            f.write_str(":***@")?;
        }
        if a.socket.is_none() || a.host.is_some() {
            let host = a.host_or_default();
            if host.contains(':') {
                write!(f, "[{host}]")?;
            } else {
                f.write_str(host)?;
            }
        }
        if let Some(port) = a.port {
            write!(f, ":{port}")?;
        }
        write!(f, "/{}", a.database)?;
        if let Some(socket) = &a.socket {
            write!(f, "?{socket_param}={}", socket.display())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

fn parse_sqlite(rest: &str) -> Result<DatabaseUrl, UrlError> {
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    if rest.is_empty() || rest == ":memory:" || rest == "/:memory:" || rest == "/" {
        return Err(if rest == "/" {
            UrlError::BadSqlite
        } else {
            UrlError::InMemory
        });
    }
    // `sqlite:///x` -> `x`, `sqlite:////x` -> `/x`; a host part is not allowed.
    let path = rest.strip_prefix('/').ok_or(UrlError::BadSqlite)?;
    let path = percent_decode(path).ok_or(UrlError::BadEncoding("path"))?;
    if path.is_empty() {
        return Err(UrlError::BadSqlite);
    }
    Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
}

fn parse_server(rest: &str) -> Result<ServerAddress, UrlError> {
    let rest = rest.split('#').next().unwrap_or_default();
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    // The last `@` before the query ends the credentials, so an unencoded
    // `@` or `/` in a password still parses.
    let (userinfo, hostpath) = match before_query.rfind('@') {
        Some(at) => (Some(&before_query[..at]), &before_query[at + 1..]),
        None => (None, before_query),
    };
    let (hostport, path) = match hostpath.split_once('/') {
        Some((h, p)) => (h, p),
        None => (hostpath, ""),
    };
    let mut address = ServerAddress::default();
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            address.user = Some(percent_decode(user).ok_or(UrlError::BadEncoding("user name"))?);
        }
        if let Some(password) = password {
            let password = percent_decode(password).ok_or(UrlError::BadEncoding("password"))?;
            address.password = Some(Password(password));
        }
    }
    let (host, port) = split_host_port(hostport)?;
    if !host.is_empty() {
        let host = percent_decode(host).ok_or(UrlError::BadEncoding("host"))?;
        if host.starts_with('/') {
            address.socket = Some(PathBuf::from(host));
        } else {
            address.host = Some(host);
        }
    }
    address.port = port;
    address.database = percent_decode(path).ok_or(UrlError::BadEncoding("database name"))?;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(value) = percent_decode(value) else {
            // Never say which value: it may be the password.
            return Err(UrlError::BadEncoding("query string"));
        };
        match key {
            "host" if value.starts_with('/') => address.socket = Some(PathBuf::from(value)),
            "host" if !value.is_empty() => address.host = Some(value),
            "socket" | "unix_socket" if !value.is_empty() => {
                address.socket = Some(PathBuf::from(value))
            }
            "port" => address.port = Some(parse_port(&value)?),
            "user" if !value.is_empty() => address.user = Some(value),
            "password" => address.password = Some(Password(value)),
            "dbname" | "database" if !value.is_empty() => address.database = value,
            _ => {}
        }
    }
    Ok(address)
}

fn split_host_port(hostport: &str) -> Result<(&str, Option<u16>), UrlError> {
    if let Some(inner) = hostport.strip_prefix('[') {
        // `[::1]:5432`
        let (host, after) = inner.split_once(']').ok_or(UrlError::BadPort)?;
        let port = match after.strip_prefix(':') {
            Some(p) if !p.is_empty() => Some(parse_port(p)?),
            _ => None,
        };
        return Ok((host, port));
    }
    match hostport.rsplit_once(':') {
        Some((host, "")) => Ok((host, None)),
        Some((host, port)) => Ok((host, Some(parse_port(port)?))),
        None => Ok((hostport, None)),
    }
}

fn parse_port(text: &str) -> Result<u16, UrlError> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(UrlError::BadPort),
    }
}

/// `%XX` decoding; `None` for a malformed escape or invalid UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> ServerAddress {
        DatabaseUrl::parse(url).unwrap().server().unwrap().clone()
    }

    #[test]
    fn sqlite_relative_and_absolute() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///db.sqlite3").unwrap(),
            DatabaseUrl::Sqlite("db.sqlite3".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:////srv/app/db.sqlite3").unwrap(),
            DatabaseUrl::Sqlite("/srv/app/db.sqlite3".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://:memory:"),
            Err(UrlError::InMemory)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://host/x"),
            Err(UrlError::BadSqlite)
        );
        let abs = DatabaseUrl::parse("sqlite:////srv/db.sqlite3").unwrap();
        assert_eq!(abs.to_string(), "sqlite:////srv/db.sqlite3");
        let rel = DatabaseUrl::parse("sqlite:///a/db.sqlite3").unwrap();
        assert_eq!(
            rel.clone().resolved(Path::new("/p")),
            DatabaseUrl::Sqlite("/p/a/db.sqlite3".into())
        );
        assert_eq!(rel.to_string(), "sqlite:///a/db.sqlite3");
    }

    #[test]
    fn postgres_full_and_redacted() {
        let url = DatabaseUrl::parse(
            "postgresql://app%40corp:p%40ss%3Aw0rd@db.example:6543/shop?sslmode=disable",
        )
        .unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        let a = url.server().unwrap();
        assert_eq!(a.user.as_deref(), Some("app@corp"));
        assert_eq!(a.password.as_ref().map(Password::expose), Some("p@ss:w0rd"));
        assert_eq!(a.host.as_deref(), Some("db.example"));
        assert_eq!(a.port, Some(6543));
        assert_eq!(a.database, "shop");
        let shown = url.to_string();
        assert_eq!(shown, "postgres://app@corp:***@db.example:6543/shop");
        assert!(!format!("{url:?}").contains("w0rd"));
    }

    #[test]
    fn postgres_defaults_sockets_and_ipv6() {
        let a = server("postgres:///app");
        assert_eq!((a.host, a.port, a.database.as_str()), (None, None, "app"));
        let a = server("postgres://u@%2Fvar%2Frun%2Fpostgresql/app");
        assert_eq!(a.socket, Some(PathBuf::from("/var/run/postgresql")));
        let a = server("postgres://u@/app?host=/tmp&password=s3cret");
        assert_eq!(a.socket, Some(PathBuf::from("/tmp")));
        assert_eq!(a.password.as_ref().map(Password::expose), Some("s3cret"));
        let a = server("postgres://u@[::1]:5433/app");
        assert_eq!((a.host.as_deref(), a.port), (Some("::1"), Some(5433)));
        // An unencoded `@` in the password.
        let a = server("postgres://u:a@b@h/app");
        assert_eq!(a.password.as_ref().map(Password::expose), Some("a@b"));
    }

    #[test]
    fn mysql_and_mariadb() {
        let url = DatabaseUrl::parse("mariadb://root:@127.0.0.1:3306/test").unwrap();
        assert_eq!(url.backend(), Backend::Mysql);
        assert_eq!(url.to_string(), "mysql://root:***@127.0.0.1:3306/test");
        assert_eq!(
            DatabaseUrl::parse("mysql://root@localhost"),
            Err(UrlError::NoDatabase("mysql"))
        );
    }

    #[test]
    fn errors_never_quote_the_password() {
        for bad in [
            "postgres://user:hunter2/db",
            "postgres://u:hun%zzter2@h/db",
            "oracle://u:hunter2@h/db",
        ] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(!err.contains("hunter2") && !err.contains("hun"), "{err}");
        }
        assert_eq!(DatabaseUrl::parse("db.sqlite3"), Err(UrlError::NoScheme));
    }
}
