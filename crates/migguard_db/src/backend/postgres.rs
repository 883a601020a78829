//! PostgreSQL, through the synchronous `postgres` crate without TLS.

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use super::{
    no_answer, within_deadline, AppliedMigrations, AppliedReader, AppliedRow, CONNECT_TIMEOUT,
};
use crate::error::{redact, DbError};
use crate::url::{Backend, DatabaseUrl, Password, ServerAddress};

/// A connection to one PostgreSQL database.
pub struct PostgresReader {
    client: Client,
    login: Login,
}

impl PostgresReader {
    /// Connect to the database `url` names (a PostgreSQL URL).
    pub fn open(url: &DatabaseUrl) -> Result<PostgresReader, DbError> {
        let DatabaseUrl::Postgres(address) = url else {
            return Err(DbError::Other {
                backend: url.backend(),
                target: url.to_string(),
                message: "not a PostgreSQL database".to_owned(),
            });
        };
        let login = Login::new(address);
        let client = login.connect(&login.database)?;
        Ok(PostgresReader { client, login })
    }
}

impl AppliedReader for PostgresReader {
    fn applied(&mut self) -> Result<AppliedMigrations, DbError> {
        let login = &self.login;
        let mut tx = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| login.error(&e))?;
        let rows = tx
            .query(
                "SELECT app, name, applied::text FROM django_migrations ORDER BY id",
                &[],
            )
            .map_err(|e| login.error(&e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(AppliedRow {
                app: row.try_get(0).map_err(|e| login.error(&e))?,
                name: row.try_get(1).map_err(|e| login.error(&e))?,
                applied: row.try_get(2).map_err(|e| login.error(&e))?,
            });
        }
        tx.rollback().map_err(|e| login.error(&e))?;
        Ok(AppliedMigrations { rows: out })
    }

    fn describe(&self) -> String {
        self.login.target()
    }
}

/// A server address with libpq's defaults filled in (`PGUSER`, `USER`,
/// `PGPASSWORD`, `localhost:5432`).
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub address: ServerAddress,
    pub user: String,
    pub database: String,
}

impl Login {
    pub fn new(address: &ServerAddress) -> Login {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let user = address
            .user
            .clone()
            .or_else(|| env("PGUSER"))
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".to_owned());
        let mut address = address.clone();
        if address.password.is_none() {
            address.password = env("PGPASSWORD").map(Password::new);
        }
        let database = if address.database.is_empty() {
            user.clone()
        } else {
            address.database.clone()
        };
        address.user = Some(user.clone());
        address.database = database.clone();
        Login {
            address,
            user,
            database,
        }
    }

    fn password(&self) -> Option<&str> {
        self.address.password.as_ref().map(Password::expose)
    }

    /// The live database's redacted URL.
    pub fn target(&self) -> String {
        DatabaseUrl::Postgres(self.address.clone()).to_string()
    }

    /// Connect to `database` on this server (the live one, a snapshot, or
    /// the `postgres` maintenance database).
    pub fn connect(&self, database: &str) -> Result<Client, DbError> {
        let a = &self.address;
        let mut config = Config::new();
        #[cfg(unix)]
        if let Some(socket) = &a.socket {
            config.host_path(socket);
        }
        match a.host.as_deref().filter(|h| !h.is_empty()) {
            Some(hosts) => {
                for host in hosts.split(',') {
                    config.host(host);
                }
            }
            None if a.socket.is_none() => {
                config.host("localhost");
            }
            None => {}
        }
        config
            .port(a.port.unwrap_or(5432))
            .user(&self.user)
            .dbname(database)
            .connect_timeout(CONNECT_TIMEOUT)
            .application_name("migguard");
        if let Some(password) = self.password() {
            config.password(password);
        }
        match within_deadline(move || config.connect(NoTls)) {
            Some(connected) => connected.map_err(|e| self.error_for(database, &e)),
            None => {
                let mut address = self.address.clone();
                address.database = database.to_owned();
                Err(DbError::Unreachable {
                    backend: Backend::Postgres,
                    target: DatabaseUrl::Postgres(address).to_string(),
                    reason: no_answer(),
                })
            }
        }
    }

    /// Classify an error on the live database.
    pub fn error(&self, err: &postgres::Error) -> DbError {
        self.error_for(&self.database, err)
    }

    /// Classify an error on `database`.
    pub fn error_for(&self, database: &str, err: &postgres::Error) -> DbError {
        let mut address = self.address.clone();
        address.database = database.to_owned();
        let target = DatabaseUrl::Postgres(address).to_string();
        let backend = Backend::Postgres;
        if let Some(db) = err.as_db_error() {
            let code = db.code();
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            {
                return DbError::AuthFailed {
                    backend,
                    target,
                    user: self.user.clone(),
                };
            }
            if *code == SqlState::INVALID_CATALOG_NAME {
                return DbError::NoDatabase {
                    backend,
                    target,
                    database: database.to_owned(),
                };
            }
            if *code == SqlState::UNDEFINED_TABLE && db.message().contains("django_migrations") {
                return DbError::NoMigrationsTable { target };
            }
            if *code == SqlState::CANNOT_CONNECT_NOW {
                return DbError::Unreachable {
                    backend,
                    target,
                    reason: "the server is starting up or shutting down".to_owned(),
                };
            }
            return DbError::Other {
                backend,
                target,
                message: redact(db.message(), self.password()),
            };
        }
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                return DbError::Unreachable {
                    backend,
                    target,
                    reason: io_reason(io, self.password()),
                };
            }
            source = cause.source();
        }
        let message = redact(&err.to_string(), self.password());
        if message.contains("password missing") {
            return DbError::AuthFailed {
                backend,
                target,
                user: self.user.clone(),
            };
        }
        DbError::Other {
            backend,
            target,
            message,
        }
    }
}

/// Why a connection failed at the socket, in words. tokio-util's "bytes
/// remaining on stream" means the peer sent bytes that are no PostgreSQL
/// message and closed the connection: something else listens there (or a
/// proxy or firewall answers for it).
fn io_reason(io: &std::io::Error, password: Option<&str>) -> String {
    use std::io::ErrorKind;
    let garbled = io.kind() == ErrorKind::Other && io.to_string() == "bytes remaining on stream";
    if garbled {
        return "something answered there that is not a PostgreSQL server, then closed the connection \
                (another service on that port, or a proxy or firewall in the way)"
            .to_owned();
    }
    match io.kind() {
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            "the connection was closed before the server answered (a proxy or firewall in the way, \
             or a server that refuses this client)"
                .to_owned()
        }
        _ => redact(&io.to_string(), password),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::io_reason;

    #[test]
    fn a_connection_closed_before_an_answer_is_said_in_words() {
        let garbled = Error::other("bytes remaining on stream");
        let reason = io_reason(&garbled, None);
        assert!(reason.contains("not a PostgreSQL server"), "{reason}");
        assert!(!reason.contains("bytes remaining"), "{reason}");
        let eof = Error::new(ErrorKind::UnexpectedEof, "early eof");
        let reason = io_reason(&eof, None);
        assert!(
            reason.contains("closed before the server answered"),
            "{reason}"
        );
    }

    #[test]
    fn other_socket_errors_keep_their_text_without_the_password() {
        let refused = Error::new(ErrorKind::ConnectionRefused, "refused for s3cret");
        let reason = io_reason(&refused, Some("s3cret"));
        assert!(reason.contains("refused"), "{reason}");
        assert!(!reason.contains("s3cret"), "{reason}");
    }
}
