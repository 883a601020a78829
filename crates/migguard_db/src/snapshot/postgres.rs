//! PostgreSQL snapshots: `CREATE DATABASE ... TEMPLATE`, both ways.
//!
//! Every statement runs on a connection to the `postgres` maintenance
//! database (PostgreSQL cannot copy, rename or drop the database a session
//! is connected to). The snapshot's branch is kept in the snapshot
//! database's comment, which [`list`] reads back.

use postgres::error::SqlState;
use postgres::Client;

use super::{postgres_name, SnapshotInfo};
use crate::backend::postgres::Login;
use crate::error::DbError;
use crate::url::DatabaseUrl;

const SNAPSHOT_MARKER: &str = "__mg_";
const TEMP_MARKER: &str = "__mgtmp_";
const COMMENT_PREFIX: &str = "migguard snapshot";

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn comment(db: &str, branch: &str) -> String {
    format!("{COMMENT_PREFIX}\ndb={db}\nbranch={branch}")
}

/// `(db, branch)` from a snapshot comment.
fn parse_comment(text: &str) -> Option<(String, String)> {
    let mut lines = text.lines();
    if lines.next()? != COMMENT_PREFIX {
        return None;
    }
    let db = lines.next()?.strip_prefix("db=")?.to_owned();
    let branch = lines.next()?.strip_prefix("branch=")?.to_owned();
    Some((db, branch))
}

/// A connection to the maintenance database (`postgres`, else `template1`;
/// never the live database itself).
fn maintenance(login: &Login) -> Result<Client, DbError> {
    if login.database == "postgres" {
        return login.connect("template1");
    }
    match login.connect("postgres") {
        Err(DbError::NoDatabase { .. }) => login.connect("template1"),
        other => other,
    }
}

fn location(login: &Login, name: &str) -> String {
    let mut address = login.address.clone();
    address.database = name.to_owned();
    DatabaseUrl::Postgres(address).to_string()
}

fn database_exists(login: &Login, client: &mut Client, name: &str) -> Result<bool, DbError> {
    client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .map(|row| row.is_some())
        .map_err(|e| login.error_for("postgres", &e))
}

/// The other sessions connected to `name`.
fn sessions(client: &mut Client, name: &str) -> Vec<(i32, String)> {
    client
        .query(
            "SELECT pid, COALESCE(application_name, '') FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY pid",
            &[&name],
        )
        .map(|rows| {
            rows.iter()
                .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn in_use(client: &mut Client, what: &'static str, name: &str) -> DbError {
    DbError::InUse {
        what,
        database: name.to_owned(),
        sessions: sessions(client, name),
        query: format!(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = {};",
            literal(name)
        ),
    }
}

/// Fail with [`DbError::InUse`] when others are connected to `name`.
fn ensure_unused(client: &mut Client, what: &'static str, name: &str) -> Result<(), DbError> {
    if sessions(client, name).is_empty() {
        Ok(())
    } else {
        Err(in_use(client, what, name))
    }
}

/// Run one utility statement; "object in use" becomes [`DbError::InUse`]
/// about `busy` (`(what, database)`).
fn run(
    login: &Login,
    client: &mut Client,
    sql: &str,
    busy: (&'static str, &str),
) -> Result<(), DbError> {
    match client.batch_execute(sql) {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) => Err(in_use(client, busy.0, busy.1)),
        Err(e) => Err(login.error_for(busy.1, &e)),
    }
}

pub(super) fn save(login: &Login, branch: &str) -> Result<SnapshotInfo, DbError> {
    let live = login.database.as_str();
    let name = postgres_name(live, SNAPSHOT_MARKER, branch);
    let temp = postgres_name(live, TEMP_MARKER, "save");
    let mut client = maintenance(login)?;
    if !database_exists(login, &mut client, live)? {
        return Err(DbError::NoDatabase {
            backend: crate::url::Backend::Postgres,
            target: login.target(),
            database: live.to_owned(),
        });
    }
    // PostgreSQL waits about 5 s for the other sessions of a template to go
    // before it refuses: ask first, and say so at once.
    ensure_unused(&mut client, "database", live)?;
    run(
        login,
        &mut client,
        &format!("DROP DATABASE IF EXISTS {}", ident(&temp)),
        ("database", &temp),
    )?;
    run(
        login,
        &mut client,
        &format!("CREATE DATABASE {} TEMPLATE {}", ident(&temp), ident(live)),
        ("database", live),
    )?;
    let finish = (|| {
        run(
            login,
            &mut client,
            &format!(
                "COMMENT ON DATABASE {} IS {}",
                ident(&temp),
                literal(&comment(live, branch))
            ),
            ("database", &temp),
        )?;
        run(
            login,
            &mut client,
            &format!("DROP DATABASE IF EXISTS {}", ident(&name)),
            ("snapshot", &name),
        )?;
        run(
            login,
            &mut client,
            &format!("ALTER DATABASE {} RENAME TO {}", ident(&temp), ident(&name)),
            ("database", &temp),
        )
    })();
    if let Err(e) = finish {
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {}", ident(&temp)));
        return Err(e);
    }
    Ok(SnapshotInfo {
        location: location(login, &name),
        name,
        branch: Some(branch.to_owned()),
    })
}

pub(super) fn restore(login: &Login, branch: &str) -> Result<(), DbError> {
    let live = login.database.as_str();
    let name = postgres_name(live, SNAPSHOT_MARKER, branch);
    let fresh = postgres_name(live, TEMP_MARKER, "restore");
    let old = postgres_name(live, TEMP_MARKER, "old");
    let mut client = maintenance(login)?;
    if !database_exists(login, &mut client, &name)? {
        return Err(DbError::SnapshotMissing {
            branch: branch.to_owned(),
            name,
        });
    }
    let mut live_exists = database_exists(login, &mut client, live)?;
    if database_exists(login, &mut client, &old)? {
        if live_exists {
            // Left by a restore whose last step failed: no longer needed.
            run(
                login,
                &mut client,
                &format!("DROP DATABASE {}", ident(&old)),
                ("database", &old),
            )?;
        } else {
            // A restore stopped between its two renames: the live data is
            // in `old`; put it back first.
            run(
                login,
                &mut client,
                &format!("ALTER DATABASE {} RENAME TO {}", ident(&old), ident(live)),
                ("database", &old),
            )?;
            live_exists = true;
        }
    }
    ensure_unused(&mut client, "snapshot", &name)?;
    if live_exists {
        ensure_unused(&mut client, "database", live)?;
    }
    // 1. Copy the snapshot; the live database is untouched so far.
    run(
        login,
        &mut client,
        &format!("DROP DATABASE IF EXISTS {}", ident(&fresh)),
        ("database", &fresh),
    )?;
    run(
        login,
        &mut client,
        &format!(
            "CREATE DATABASE {} TEMPLATE {}",
            ident(&fresh),
            ident(&name)
        ),
        ("snapshot", &name),
    )?;
    // 2. Move the live database aside (fails, harmlessly, if someone
    //    connected in the meantime).
    if live_exists {
        if let Err(e) = run(
            login,
            &mut client,
            &format!("ALTER DATABASE {} RENAME TO {}", ident(live), ident(&old)),
            ("database", live),
        ) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {}", ident(&fresh)));
            return Err(e);
        }
    }
    // 3. Put the copy in its place.
    if let Err(e) = run(
        login,
        &mut client,
        &format!("ALTER DATABASE {} RENAME TO {}", ident(&fresh), ident(live)),
        ("database", &fresh),
    ) {
        if live_exists {
            let _ = client.batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                ident(&old),
                ident(live)
            ));
        }
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {}", ident(&fresh)));
        return Err(e);
    }
    // 4. The old live database is no longer needed; a failure here leaves it
    //    for the next restore to drop.
    if live_exists {
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {}", ident(&old)));
    }
    Ok(())
}

pub(super) fn exists(login: &Login, branch: &str) -> Result<bool, DbError> {
    let name = postgres_name(&login.database, SNAPSHOT_MARKER, branch);
    let mut client = maintenance(login)?;
    database_exists(login, &mut client, &name)
}

pub(super) fn list(login: &Login) -> Result<Vec<SnapshotInfo>, DbError> {
    let mut client = maintenance(login)?;
    let rows = client
        .query(
            "SELECT datname::text, shobj_description(oid, 'pg_database') FROM pg_database \
             WHERE shobj_description(oid, 'pg_database') LIKE $1 ORDER BY datname",
            &[&format!("{COMMENT_PREFIX}%")],
        )
        .map_err(|e| login.error_for("postgres", &e))?;
    let mut out = Vec::new();
    for row in rows {
        let (Ok(name), Ok(Some(text))) = (
            row.try_get::<_, String>(0),
            row.try_get::<_, Option<String>>(1),
        ) else {
            continue;
        };
        let Some((db, branch)) = parse_comment(&text) else {
            continue;
        };
        if db == login.database && name == postgres_name(&db, SNAPSHOT_MARKER, &branch) {
            out.push(SnapshotInfo {
                location: location(login, &name),
                name,
                branch: Some(branch),
            });
        }
    }
    Ok(out)
}

pub(super) fn drop(login: &Login, branch: &str) -> Result<bool, DbError> {
    let name = postgres_name(&login.database, SNAPSHOT_MARKER, branch);
    let mut client = maintenance(login)?;
    if !database_exists(login, &mut client, &name)? {
        return Ok(false);
    }
    run(
        login,
        &mut client,
        &format!("DROP DATABASE {}", ident(&name)),
        ("snapshot", &name),
    )?;
    Ok(true)
}
