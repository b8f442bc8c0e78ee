//! Connections to the database: secured as the connection string asks ([`super::tls`]),
//! completed from libpq's environment ([`super::env`]), named in `pg_stat_activity`, marked as
//! Domania's (the guard lets them write), and the writers' advisory lock.

use std::path::Path;

use postgres::Client;

use super::schema::WRITER_SETTING;
use crate::error::{Result, StoreError};
use crate::location::{Location, Wait};

/// The key of the writers' advisory lock ("Doma").
pub(super) const WRITER_LOCK: i64 = 0x446F_6D61;

/// The key of the advisory lock every creation or migration of tables is made under ("DomS"),
/// so that processes started together on a new database create them once.
pub(crate) const SCHEMA_LOCK: i64 = 0x446F_6D53;

pub(super) fn connect(url: &str, wait: &Wait<'_>) -> Result<Client> {
    connect_within(url, Some(wait.timeout))
}

/// A connection to `url`, secured as its `sslmode` asks (see `pg_tls`), and named in
/// `pg_stat_activity` by the pid and the command only.
pub fn client(url: &str) -> Result<Client> {
    connect_within(url, None)
}

pub(super) fn connect_within(url: &str, timeout: Option<std::time::Duration>) -> Result<Client> {
    let mut secured = super::tls::secured(url).map_err(|e| StoreError::Postgres(format!("{}: {e}", mask(url))))?;
    // What `pg_stat_activity` shows to every role: the pid and the command, never a URL (its
    // password) nor paths; at most 63 bytes, cut on a character boundary.
    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && !a.contains(':') && !a.contains('/'))
        .take(2)
        .collect();
    let mut app = format!("domania pid {} {}", std::process::id(), command.join(" "));
    while app.len() > 63 {
        app.pop();
    }
    secured.config.application_name(&app);
    if let Some(t) = timeout {
        secured.config.connect_timeout(t);
    }
    let mut client = secured.connect().map_err(|e| match StoreError::from(e) {
        // With its cause: the TLS handshake failed, how.
        StoreError::Postgres(m) if m.ends_with("password missing") => StoreError::Postgres(format!(
            "{}: cannot connect: {m} (the server asks for one: {})",
            mask(url),
            secured
                .note
                .as_deref()
                .unwrap_or("set PGPASSWORD or write it in ~/.pgpass, as for psql, rather than on the command line")
        )),
        StoreError::Postgres(m) => StoreError::Postgres(format!("{}: cannot connect: {m}", mask(url))),
        other => other,
    })?;
    // This session is Domania's: its tables' guard lets it write (see `guard_function`).
    client.batch_execute(&format!("SET {WRITER_SETTING} = on"))?;
    Ok(client)
}

pub(super) fn mask(url: &str) -> String {
    Location::Postgres(url.to_owned()).to_string()
}

/// Takes the writers' advisory lock, waiting at most `wait.timeout` and telling who holds it.
pub(super) fn lock_writer(client: &mut Client, shown: &str, wait: &Wait<'_>) -> Result<()> {
    wait.for_lock(Path::new(shown), std::time::Duration::from_millis(100), || {
        if client.query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK])?.get::<_, bool>(0) {
            return Ok(None);
        }
        let holder = client.query_opt(
            "SELECT a.application_name, a.pid, a.client_addr::text, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1::bigint::oid AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
            &[&WRITER_LOCK],
        )?;
        Ok(Some(holder.map_or_else(
            || "another Domania process".to_owned(),
            |r| {
                format!(
                    "`{}` (backend pid {}, from {}, since {})",
                    r.get::<_, Option<String>>(0).unwrap_or_default(),
                    r.get::<_, i32>(1),
                    r.get::<_, Option<String>>(2).unwrap_or_else(|| "a local socket".into()),
                    r.get::<_, Option<String>>(3).unwrap_or_default()
                )
            },
        )))
    })
}
