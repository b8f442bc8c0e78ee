//! Where a store is (a GeoPackage file or a PostgreSQL database), how it is shown without
//! its password, and how long an opening waits for a store another process holds.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Result, StoreError};

/// How long and with what message an opening waits for a store another process holds.
pub struct Wait<'a> {
    /// The longest wait, for the writer lock and for SQLite's own locks.
    pub timeout: Duration,
    /// Told once, when the store is found busy, who holds it.
    pub on_wait: &'a dyn Fn(&str),
}

impl Default for Wait<'_> {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), on_wait: &|_| {} }
    }
}

impl Wait<'_> {
    /// Takes a writers' lock: `try_take` answers `None` once the lock is ours, or who holds it.
    /// Who holds it is told once, the first time, and is in the error when the wait is over.
    pub(crate) fn for_lock(
        &self,
        shown: &Path,
        every: Duration,
        mut try_take: impl FnMut() -> Result<Option<String>>,
    ) -> Result<()> {
        let start = std::time::Instant::now();
        let mut told = false;
        while let Some(holder) = try_take()? {
            let holder = format!("being written by {holder}");
            if start.elapsed() >= self.timeout {
                return Err(StoreError::Busy { path: shown.to_path_buf(), holder, waited_s: self.timeout.as_secs() });
            }
            if !told {
                (self.on_wait)(&format!("{}: {holder}; waiting up to {} s", shown.display(), self.timeout.as_secs()));
                told = true;
            }
            std::thread::sleep(every);
        }
        Ok(())
    }
}

/// Where a store is: a GeoPackage file, or a PostgreSQL database (`postgresql://…`,
/// `postgres://…`, or a libpq key-value string starting with `postgresql:`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    File(PathBuf),
    /// A libpq connection string (URL or key-value form).
    Postgres(String),
}

impl Location {
    /// Whether a store may already be there: the file exists, or (a database) always.
    #[must_use]
    pub fn exists(&self) -> bool {
        match self {
            Location::File(p) => p.exists(),
            Location::Postgres(_) => true,
        }
    }

    /// The file of a GeoPackage store.
    #[must_use]
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// The location as it may be shown: a database's password is masked.
    #[must_use]
    pub fn display(&self) -> impl fmt::Display + '_ {
        self
    }

    /// The location as a path in error messages (a database's masked URL).
    pub(crate) fn as_error_path(&self) -> PathBuf {
        PathBuf::from(self.to_string())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

/// `postgresql://user:secret@host/db` → `postgresql://user:***@host/db`; `password=secret` →
/// `password=***`.
fn mask_password(url: &str) -> String {
    if let Some(rest) = url.split_once("://").map(|(_, r)| r)
        && let Some((auth, _)) = rest.split_once('@')
        && let Some((_, pw)) = auth.split_once(':')
        && !pw.is_empty()
    {
        return url.replacen(&format!(":{pw}@"), ":***@", 1);
    }
    key_values(url)
        .into_iter()
        .map(|(k, _, raw)| if k == "password" { "password=***".to_owned() } else { raw })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `s` is a libpq `key=value` connection string (`host=… dbname=…`): its first word
/// is one of the keys that name a server or a database.
fn is_conninfo(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("");
    first.split_once('=').is_some_and(|(k, _)| {
        matches!(k.trim(), "host" | "hostaddr" | "port" | "dbname" | "user" | "password" | "service")
    })
}

impl FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Self {
        if s.starts_with("postgresql:") || s.starts_with("postgres:") || is_conninfo(s) {
            Location::Postgres(s.to_owned())
        } else {
            Location::File(PathBuf::from(s))
        }
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        p.to_str().map_or_else(|| Location::File(p.to_path_buf()), Location::from)
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::from(p.as_path())
    }
}

/// The `key = value` pairs of a libpq string: key, unquoted value, and the text as written.
/// A string that is not made of such pairs gives what it could read; tokio-postgres then says
/// what is wrong with it.
pub(crate) fn key_values(conn: &str) -> Vec<(String, String, String)> {
    let b: Vec<char> = conn.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_whitespace() {
            i += 1;
        }
        if i == b.len() {
            return out;
        }
        let start = i;
        while i < b.len() && b[i] != '=' && !b[i].is_whitespace() {
            i += 1;
        }
        let key: String = b[start..i].iter().collect();
        while i < b.len() && b[i].is_whitespace() {
            i += 1;
        }
        if i == b.len() || b[i] != '=' {
            // Not a pair: kept as written.
            out.push((String::new(), String::new(), b[start..].iter().collect()));
            return out;
        }
        i += 1;
        while i < b.len() && b[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        let quoted = i < b.len() && b[i] == '\'';
        if quoted {
            i += 1;
        }
        while i < b.len() {
            match b[i] {
                '\\' if i + 1 < b.len() => {
                    value.push(b[i + 1]);
                    i += 2;
                }
                '\'' if quoted => {
                    i += 1;
                    break;
                }
                c if c.is_whitespace() && !quoted => break,
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        out.push((key, value, b[start..i].iter().collect()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_say_which_engine_and_never_show_a_password() {
        let url = Location::from("postgresql://gis:s3cret@db.example/sig?sslmode=verify-full");
        assert!(matches!(url, Location::Postgres(_)));
        assert_eq!(url.to_string(), "postgresql://gis:***@db.example/sig?sslmode=verify-full");
        let kv = Location::from("host=db.example dbname=sig password='s3 cret' user=gis");
        assert!(matches!(kv, Location::Postgres(_)));
        assert_eq!(kv.to_string(), "host=db.example dbname=sig password=*** user=gis");
        assert!(matches!(Location::from("postgres:///sig?host=/run/postgresql"), Location::Postgres(_)));
        for file in ["store.gpkg", "/srv/sig/host.gpkg", "a b=c.gpkg", "data/domania.gpkg"] {
            assert!(matches!(Location::from(file), Location::File(_)), "{file}");
        }
    }
}
