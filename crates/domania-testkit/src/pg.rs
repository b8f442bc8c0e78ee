//! Throwaway PostgreSQL databases for the tests and benchmarks of the PostGIS engine.

use domania_store::pg::client;

/// A throwaway database on a PostgreSQL server, dropped when this is dropped: what the tests
/// and benchmarks of the PostGIS engine run on. The server is named by `$DOMANIA_TEST_PG`, a
/// URL of a role that may create databases (`postgresql://domania:domania@localhost/postgres`).
pub struct ScratchDatabase {
    admin: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// A new empty database named after `tag`, on the server of `$DOMANIA_TEST_PG`. The tests
    /// that call it are ignored, with the reason, where no server is named (the
    /// `domania_without_pg` cfg of their crate's build script).
    ///
    /// # Panics
    /// When `$DOMANIA_TEST_PG` is unset, or the server cannot be reached or the database made.
    #[must_use]
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let admin = std::env::var("DOMANIA_TEST_PG").unwrap_or_else(|_| {
            panic!("this test needs a PostgreSQL/PostGIS server: DOMANIA_TEST_PG=$(tools/postgres/cluster start test 54329)")
        });
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name: String = format!("domania_test_{tag}_{}_{n}", std::process::id())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        let mut client = client(&admin).unwrap_or_else(|e| panic!("{e}"));
        // Databases of earlier runs whose process is gone (a panic or a kill skips `Drop`).
        let stale = "SELECT datname::text FROM pg_database WHERE datname LIKE 'domania\\_test\\_%'";
        for row in client.query(stale, &[]).unwrap() {
            let old: String = row.get(0);
            let pid = old.rsplit('_').nth(1).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)"));
            }
        }
        // One statement each: neither may run inside the implicit transaction of a batch.
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = with_database(&admin, &name);
        Self { admin, name, url }
    }

    /// The connection URL of the database.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = client(&self.admin) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The URL `url` with its database replaced by `db`.
#[must_use]
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_url_with_another_database() {
        assert_eq!(with_database("postgresql://u:p@h:5432/postgres", "x"), "postgresql://u:p@h:5432/x");
        assert_eq!(with_database("postgresql://h/postgres?sslmode=disable", "x"), "postgresql://h/x?sslmode=disable");
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
    }
}
