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
//! The password file has a line `host:port:database:user:password` per server (`*` matches
//! anything, `\:` and `\\` are a colon and a backslash); the first line matching the
//! connection gives its password. As libpq, the file is not read when others may read it
//! (`chmod 600`); unlike libpq, which then goes on without it and fails to log in, that is an
//! error saying so.

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
/// file. The error names the variable or the file, and what is wrong.
pub(crate) fn complete(config: &mut postgres::Config, var: Vars<'_>) -> Result<(), String> {
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
        let secs: u64 = t.trim().parse().map_err(|_| format!("PGCONNECT_TIMEOUT `{t}`: not a number of seconds"))?;
        config.connect_timeout(std::time::Duration::from_secs(secs));
    }
    if config.get_password().is_none() {
        if let Some(pw) = var("PGPASSWORD") {
            config.password(pw);
        } else if let Some(pw) = from_password_file(config, var)? {
            config.password(pw);
        }
    }
    Ok(())
}

/// The password the password file gives this connection, if the file exists and has a line
/// for it. Several hosts must get the same one: a connection string has one password.
fn from_password_file(config: &postgres::Config, var: Vars<'_>) -> Result<Option<String>, String> {
    let Some(file) =
        var("PGPASSFILE").map(PathBuf::from).or_else(|| var("HOME").map(|h| Path::new(&h).join(".pgpass")))
    else {
        return Ok(None);
    };
    let Ok(meta) = std::fs::metadata(&file) else { return Ok(None) };
    if !meta.is_file() {
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "password file {}: others may read it (mode {mode:03o}); make it yours only: chmod 600",
                file.display()
            ));
        }
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("password file {}: {e}", file.display()))?;
    let entries = entries(&text);
    let user = match config.get_user() {
        Some(u) => u.to_owned(),
        // Whom tokio-postgres logs in as when no user is given.
        None => whoami::username().map_err(|e| format!("no user given and the system's is unknown: {e}"))?,
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
        let pw =
            entries.iter().find(|e| e[..4].iter().zip(wanted).all(|(f, w)| f == "*" || f == w)).map(|e| e[4].as_str());
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
    Ok(found.flatten().map(str::to_owned))
}

/// The lines of a password file as five fields (host, port, database, user, password), with
/// `\:` and `\\` unescaped; comments, blank lines and lines of fewer fields are skipped, and a
/// password keeps any unescaped colon after the fourth, as libpq reads them.
fn entries(text: &str) -> Vec<[String; 5]> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields: Vec<String> = vec![String::new()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        fields.last_mut().expect("one field").push(next);
                    }
                }
                ':' if fields.len() < 5 => fields.push(String::new()),
                c => fields.last_mut().expect("one field").push(c),
            }
        }
        if let Ok(five) = <[String; 5]>::try_from(fields) {
            out.push(five);
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
        let mut config: postgres::Config = conn.parse().unwrap();
        complete(&mut config, &vars(pairs))?;
        Ok(config)
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
             *:*:*:sig:c\\:olon\\\\s:and:more\n\
             short:line\n\
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
        assert_eq!(pw("host=other user=sig").unwrap().as_deref(), Some("c:olon\\s:and:more"));
        assert_eq!(pw("host=/var/run/postgresql user=x").unwrap().as_deref(), Some("sock"));
        assert_eq!(pw("host=other user=nobody").unwrap(), None);
        // Given in the string or the environment, the file is not read.
        assert_eq!(pw("host=db1 user=sig password=mine").unwrap().as_deref(), Some("mine"));
        // Two hosts, one password: they must agree.
        assert!(pw("host=db1,other port=6000 user=sig dbname=x").unwrap_err().contains("different passwords"));
        assert_eq!(pw("host=a,b user=sig").unwrap().as_deref(), Some("c:olon\\s:and:more"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = pw("host=db1 user=sig").unwrap_err();
            assert!(e.contains("others may read it (mode 644)") && e.contains("chmod 600"), "{e}");
        }
        // No file: no password.
        let none = completed("host=h user=u", &[("HOME", dir.path().join("absent").to_str().unwrap())]).unwrap();
        assert_eq!(none.get_password(), None);
    }
}
