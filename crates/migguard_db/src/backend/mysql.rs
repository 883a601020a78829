//! MySQL and MariaDB, through the `mysql` crate without TLS.

use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{AccessMode, Conn, OptsBuilder, TxOpts};

use super::{
    no_answer, within_deadline, AppliedMigrations, AppliedReader, AppliedRow, CONNECT_TIMEOUT,
};
use crate::error::{redact, DbError};
use crate::url::{Backend, DatabaseUrl, Password, ServerAddress};

/// How long one read or write on an open connection may block.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

// Server error codes (include/mysqld_error.h).
const ER_DBACCESS_DENIED_ERROR: u16 = 1044;
const ER_ACCESS_DENIED_ERROR: u16 = 1045;
const ER_BAD_DB_ERROR: u16 = 1049;
const ER_NO_SUCH_TABLE: u16 = 1146;
const ER_ACCESS_DENIED_NO_PASSWORD_ERROR: u16 = 1698;

/// A connection to one MySQL/MariaDB database.
pub struct MysqlReader {
    conn: Conn,
    address: ServerAddress,
    user: String,
}

impl MysqlReader {
    /// Connect to the database `url` names (a MySQL URL).
    pub fn open(url: &DatabaseUrl) -> Result<MysqlReader, DbError> {
        let DatabaseUrl::Mysql(address) = url else {
            return Err(DbError::Other {
                backend: url.backend(),
                target: url.to_string(),
                message: "not a MySQL/MariaDB database".to_owned(),
            });
        };
        let user = address
            .user
            .clone()
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "root".to_owned());
        let password = address.password.as_ref().map(Password::expose);
        let mut opts = OptsBuilder::new()
            .user(Some(user.as_str()))
            .pass(password)
            .db_name(Some(address.database.as_str()))
            .tcp_connect_timeout(Some(CONNECT_TIMEOUT))
            .read_timeout(Some(IO_TIMEOUT))
            .write_timeout(Some(IO_TIMEOUT))
            .prefer_socket(false);
        opts = match &address.socket {
            Some(socket) => opts.socket(Some(socket.to_string_lossy())),
            None => opts
                .ip_or_hostname(Some(address.host_or_default()))
                .tcp_port(address.port.unwrap_or(3306)),
        };
        let mut reader = MysqlReader {
            conn: match within_deadline(move || Conn::new(opts)) {
                Some(Ok(conn)) => conn,
                Some(Err(e)) => return Err(classify(address, &user, &e, true)),
                None => {
                    return Err(DbError::Unreachable {
                        backend: Backend::Mysql,
                        target: DatabaseUrl::Mysql(address.clone()).to_string(),
                        reason: no_answer(),
                    })
                }
            },
            address: address.clone(),
            user,
        };
        // Make a client's wait bounded, whatever the server's defaults are.
        let _ = reader.conn.query_drop("SET SESSION lock_wait_timeout = 10");
        Ok(reader)
    }

    fn error(&self, err: &mysql::Error) -> DbError {
        classify(&self.address, &self.user, err, false)
    }
}

impl AppliedReader for MysqlReader {
    fn applied(&mut self) -> Result<AppliedMigrations, DbError> {
        let mut rows = Vec::new();
        let result = (|| -> Result<(), mysql::Error> {
            let mut tx = self
                .conn
                .start_transaction(TxOpts::default().set_access_mode(Some(AccessMode::ReadOnly)))?;
            let mut result = tx.query_iter(
                "SELECT app, name, CAST(applied AS CHAR) FROM django_migrations ORDER BY id",
            )?;
            if let Some(set) = result.iter() {
                for row in set {
                    let (app, name, applied) =
                        mysql::from_row_opt::<(String, String, Option<String>)>(row?)
                            .map_err(|e| mysql::Error::FromRowError(e.0))?;
                    rows.push(AppliedRow { app, name, applied });
                }
            }
            drop(result);
            tx.rollback()
        })();
        result.map_err(|e| self.error(&e))?;
        Ok(AppliedMigrations { rows })
    }

    fn describe(&self) -> String {
        DatabaseUrl::Mysql(self.address.clone()).to_string()
    }
}

fn classify(address: &ServerAddress, user: &str, err: &mysql::Error, connecting: bool) -> DbError {
    let backend = Backend::Mysql;
    let target = DatabaseUrl::Mysql(address.clone()).to_string();
    let password = address.password.as_ref().map(Password::expose);
    match err {
        mysql::Error::MySqlError(e) => match e.code {
            ER_ACCESS_DENIED_ERROR
            | ER_ACCESS_DENIED_NO_PASSWORD_ERROR
            | ER_DBACCESS_DENIED_ERROR => DbError::AuthFailed {
                backend,
                target,
                user: user.to_owned(),
            },
            ER_BAD_DB_ERROR => DbError::NoDatabase {
                backend,
                target,
                database: address.database.clone(),
            },
            ER_NO_SUCH_TABLE if e.message.contains("django_migrations") => {
                DbError::NoMigrationsTable { target }
            }
            _ => DbError::Other {
                backend,
                target,
                message: redact(&e.to_string(), password),
            },
        },
        mysql::Error::IoError(e) if connecting => DbError::Unreachable {
            backend,
            target,
            reason: redact(&e.to_string(), password),
        },
        mysql::Error::DriverError(
            d @ (mysql::DriverError::ConnectTimeout | mysql::DriverError::CouldNotConnect(_)),
        ) => DbError::Unreachable {
            backend,
            target,
            reason: redact(&d.to_string(), password),
        },
        other => DbError::Other {
            backend,
            target,
            message: redact(&other.to_string(), password),
        },
    }
}
