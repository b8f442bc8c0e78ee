//! libpq's environment, for what a connection string leaves out, as psql reads it:
//!
//! | variable            | stands for                                                       |
//! |---------------------|------------------------------------------------------------------|
//! | `PGHOST`            | `host` (a name, an address, or a socket directory; several with commas) |
//! | `PGPORT`            | `port`                                                           |
//! | `PGDATABASE`        | `dbname`                                                         |
//! | `PGUSER`            | `user`                                                           |
//! | `PGPASSWORD`        | `password`                                                       |
//! | `PGPASSFILE`        | the password file, `~/.pgpass` by default                        |
//! | `PGSSLMODE`, `PGSSLROOTCERT` | `sslmode`, `sslrootcert` (read by `pg_tls`)             |
//! | `PGCONNECT_TIMEOUT` | `connect_timeout`, in seconds                                    |
//!
//! A password then need not be written on the command line, where `ps` shows it to every user
//! of the machine. With no host anywhere, the server's Unix socket is looked for in
//! `/var/run/postgresql` (Debian's) and `/tmp`, as libpq built by either would; with neither,
//! `localhost`.
//!
//! The password file has a line `host:port:database:user:password` per server (a field that is
//! just `*` matches anything, `\:` and `\\` are a colon and a backslash, the password ends at
//! the next unescaped colon); the first line matching the connection gives its password. As
//! libpq, the file is not read when others may read it (`chmod 600`), and a connection that
//! then lacks a password says why (`Completed::note`).

use std::path::{Path, PathBuf};

use postgres::config::Host;

/// An environment variable, unset when empty (the process's, or a test's).
pub(crate) type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment.
pub(crate) fn process_vars(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Libpq's directories of Unix sockets, searched when no host is given.
const SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// Fills what `config` lacks from the environment `var`, then the password from the password
/// file. The error names the variable or the file, and what is wrong; the note, a password
/// file left unread, to be told if the server then asks for a password.
pub(crate) fn complete(config: &mut postgres::Config, var: Vars<'_>) -> Result<Option<String>, String> {
    if config.get_ports().is_empty()
        && let Some(port) = var("PGPORT")
    {
        for p in port.split(',') {
            config.port(p.trim().parse().map_err(|_| format!("PGPORT `{port}`: not a port number"))?);
        }
    }
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        if let Some(hosts) = var("PGHOST") {
            for h in hosts.split(',').map(str::trim) {
                if h.starts_with('/') {
                    config.host_path(h);
                } else {
                    config.host(h);
                }
            }
        } else {
            let port = config.get_ports().first().copied().unwrap_or(5432);
            match SOCKET_DIRS.iter().find(|d| Path::new(d).join(format!(".s.PGSQL.{port}")).exists()) {
                Some(dir) => config.host_path(dir),
                None => config.host("localhost"),
            };
        }
    }
    if config.get_user().is_none()
        && let Some(user) = var("PGUSER")
    {
        config.user(&user);
    }
    if config.get_dbname().is_none()
        && let Some(db) = var("PGDATABASE")
    {
        config.dbname(&db);
    }
    if config.get_connect_timeout().is_none()
        && let Some(t) = var("PGCONNECT_TIMEOUT")
    {
        let secs: i64 = t.trim().parse().map_err(|_| format!("PGCONNECT_TIMEOUT `{t}`: not a number of seconds"))?;
        // As libpq: zero or less is no limit.
        if let Ok(secs @ 1..) = u64::try_from(secs) {
            config.connect_timeout(std::time::Duration::from_secs(secs));
        }
    }
    if config.get_password().is_none() {
        if let Some(pw) = var("PGPASSWORD") {
            config.password(pw);
        } else {
            match from_password_file(config, var)? {
                Found::Password(pw) => {
                    config.password(pw);
                }
                Found::Nothing => {}
                Found::Unread(note) => return Ok(Some(note)),
            }
        }
    }
    Ok(None)
}

/// What the password file gives a connection.
enum Found {
    Password(String),
    Nothing,
    /// The file was not read, and why.
    Unread(String),
}

/// The password the password file gives this connection, if the file exists and has a line
/// for it. Several hosts must get the same one: a connection string has one password.
fn from_password_file(config: &postgres::Config, var: Vars<'_>) -> Result<Found, String> {
    let Some(file) =
        var("PGPASSFILE").map(PathBuf::from).or_else(|| var("HOME").map(|h| Path::new(&h).join(".pgpass")))
    else {
        return Ok(Found::Nothing);
    };
    let Ok(meta) = std::fs::metadata(&file) else { return Ok(Found::Nothing) };
    if !meta.is_file() {
        return Ok(Found::Nothing);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Ok(Found::Unread(format!(
                "the password file {} was not read: others may read it (mode {mode:03o}); make it yours \
                 only: chmod 600",
                file.display()
            )));
        }
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("password file {}: {e}", file.display()))?;
    let entries = entries(&text);
    let user = match config.get_user() {
        Some(u) => u.to_owned(),
        // Whom tokio-postgres logs in as when no user is given (which fails there when unknown).
        None => match whoami::username() {
            Ok(u) => u,
            Err(_) => return Ok(Found::Nothing),
        },
    };
    let dbname = config.get_dbname().unwrap_or(&user).to_owned();
    let ports = config.get_ports();
    let hosts: Vec<String> = if config.get_hosts().is_empty() {
        config.get_hostaddrs().iter().map(ToString::to_string).collect()
    } else {
        config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                // A default socket directory is `localhost` to libpq's password file.
                Host::Unix(dir) if SOCKET_DIRS.iter().any(|d| Path::new(d) == dir) => "localhost".to_owned(),
                Host::Unix(dir) => dir.to_string_lossy().into_owned(),
            })
            .collect()
    };
    let mut found: Option<Option<&str>> = None;
    for (i, host) in hosts.iter().enumerate() {
        let port = ports.get(i).or_else(|| ports.first()).copied().unwrap_or(5432).to_string();
        let wanted = [host.as_str(), &port, &dbname, &user];
        let pw = entries
            .iter()
            .find(|e| e.fields.iter().zip(wanted).all(|(f, w)| f.as_deref().is_none_or(|f| f == w)))
            .map(|e| e.password.as_str());
        match found {
            Some(earlier) if earlier != pw => {
                return Err(format!(
                    "password file {}: the hosts of this connection have different passwords; a connection \
                     has one: give it in PGPASSWORD or in the connection string",
                    file.display()
                ));
            }
            _ => found = Some(pw),
        }
    }
    Ok(found.flatten().map_or(Found::Nothing, |pw| Found::Password(pw.to_owned())))
}

/// A line of a password file: host, port, database and user (`None` for `*`), and the password.
struct Entry {
    fields: [Option<String>; 4],
    password: String,
}

/// The lines of a password file, as libpq reads them: comments and blank lines skipped, `\x`
/// is `x`, a field that is just `*` (unescaped) matches anything, and the password runs to the
/// next unescaped colon; a line of fewer than five fields is no entry.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields: Vec<Option<String>> = Vec::with_capacity(4);
        let (mut value, mut raw) = (String::new(), String::new());
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        value.push(next);
                        raw.extend([c, next]);
                    }
                }
                ':' if fields.len() < 4 => {
                    fields.push((raw != "*").then(|| std::mem::take(&mut value)));
                    (value, raw) = (String::new(), String::new());
                }
                ':' => break,
                c => {
                    value.push(c);
                    raw.push(c);
                }
            }
        }
        if let Ok(fields) = <[Option<String>; 4]>::try_from(fields) {
            out.push(Entry { fields, password: value });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    fn completed(conn: &str, pairs: &[(&str, &str)]) -> Result<postgres::Config, String> {
        completed_with_note(conn, pairs).map(|(c, _)| c)
    }

    fn completed_with_note(conn: &str, pairs: &[(&str, &str)]) -> Result<(postgres::Config, Option<String>), String> {
        let mut config: postgres::Config = conn.parse().unwrap();
        let note = complete(&mut config, &vars(pairs))?;
        Ok((config, note))
    }

    #[test]
    fn the_environment_fills_only_what_the_string_leaves_out() {
        let env = [
            ("PGHOST", "db1.example, /run/pg"),
            ("PGPORT", "6543"),
            ("PGUSER", "sig"),
            ("PGDATABASE", "gpso"),
            ("PGPASSWORD", "from env"),
            ("PGCONNECT_TIMEOUT", "7"),
        ];
        let c = completed("postgresql:///", &env).unwrap();
        assert_eq!(c.get_hosts(), [Host::Tcp("db1.example".into()), Host::Unix("/run/pg".into())]);
        assert_eq!(c.get_ports(), [6543]);
        assert_eq!((c.get_user(), c.get_dbname()), (Some("sig"), Some("gpso")));
        assert_eq!(c.get_password(), Some(&b"from env"[..]));
        assert_eq!(c.get_connect_timeout(), Some(&std::time::Duration::from_secs(7)));
        let c = completed("postgresql://u:p@h:5/d?connect_timeout=2", &env).unwrap();
        assert_eq!(c.get_hosts(), [Host::Tcp("h".into())]);
        assert_eq!((c.get_ports(), c.get_user(), c.get_dbname()), (&[5][..], Some("u"), Some("d")));
        assert_eq!(c.get_password(), Some(&b"p"[..]));
        assert_eq!(c.get_connect_timeout(), Some(&std::time::Duration::from_secs(2)));
        let e = completed("host=h", &[("PGPORT", "54x")]).unwrap_err();
        assert_eq!(e, "PGPORT `54x`: not a port number");
        let e = completed("host=h", &[("PGCONNECT_TIMEOUT", "soon")]).unwrap_err();
        assert!(e.starts_with("PGCONNECT_TIMEOUT `soon`"), "{e}");
        // As libpq, zero or less is no limit (not a limit of nothing).
        for t in ["0", "-3"] {
            assert_eq!(completed("host=h", &[("PGCONNECT_TIMEOUT", t)]).unwrap().get_connect_timeout(), None);
        }
        // No host anywhere: a socket where the server's is, else localhost.
        let c = completed("dbname=d", &[("PGPORT", "1")]).unwrap();
        assert_eq!(c.get_hosts(), [Host::Tcp("localhost".into())]);
    }

    #[test]
    fn the_password_file_gives_the_first_matching_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\n\
             \n\
             db1:5432:gpso:sig:first\n\
             db1:*:*:sig:second\n\
             *:*:*:sig:c\\:olon\\\\s:and:not:this\n\
             short:line\n\
             \\*:*:*:star:literal\n\
             *:*:*:nopassword\n\
             localhost:5432:*:*:sock\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let f = file.to_str().unwrap();
        let pw = |conn: &str| {
            completed(conn, &[("PGPASSFILE", f)])
                .map(|c| c.get_password().map(|p| String::from_utf8_lossy(p).into_owned()))
        };
        assert_eq!(pw("host=db1 user=sig dbname=gpso").unwrap().as_deref(), Some("first"));
        assert_eq!(pw("host=db1 port=6000 user=sig dbname=x").unwrap().as_deref(), Some("second"));
        // Escapes, and the password ends at the next unescaped colon.
        assert_eq!(pw("host=other user=sig").unwrap().as_deref(), Some("c:olon\\s"));
        // An escaped `*` is the character, not a wildcard; a line of four fields is no entry.
        assert_eq!(pw("host=other user=star").unwrap(), None);
        assert_eq!(pw("host=* user=star").unwrap().as_deref(), Some("literal"));
        assert_eq!(pw("host=other user=nopassword").unwrap(), None);
        assert_eq!(pw("host=/var/run/postgresql user=x").unwrap().as_deref(), Some("sock"));
        assert_eq!(pw("host=other user=nobody").unwrap(), None);
        // Given in the string or the environment, the file is not read.
        assert_eq!(pw("host=db1 user=sig password=mine").unwrap().as_deref(), Some("mine"));
        // Two hosts, one password: they must agree.
        assert!(pw("host=db1,other port=6000 user=sig dbname=x").unwrap_err().contains("different passwords"));
        assert_eq!(pw("host=a,b user=sig").unwrap().as_deref(), Some("c:olon\\s"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            // Not read, as libpq; the note says why, for when the server asks for a password.
            let (c, note) = completed_with_note("host=db1 user=sig", &[("PGPASSFILE", f)]).unwrap();
            assert_eq!(c.get_password(), None);
            let note = note.unwrap();
            assert!(
                note.contains("was not read: others may read it (mode 644)") && note.contains("chmod 600"),
                "{note}"
            );
        }
        // No file: no password.
        let none = completed("host=h user=u", &[("HOME", dir.path().join("absent").to_str().unwrap())]).unwrap();
        assert_eq!(none.get_password(), None);
    }
}
