//! How a connection to PostgreSQL is secured: libpq's `sslmode` and `sslrootcert`, read from
//! the connection string (URL or `key=value` form), over rustls.
//!
//! | `sslmode`            | encrypted                    | the server's certificate is checked          |
//! |----------------------|------------------------------|----------------------------------------------|
//! | `disable`            | never                        | –                                            |
//! | `allow`, `prefer` (default) | when the server offers it | not                                      |
//! | `require`            | always                       | against `sslrootcert` when one is given or `~/.postgresql/root.crt` exists, as libpq does; not otherwise |
//! | `verify-ca`          | always                       | signed by `sslrootcert`                      |
//! | `verify-full`        | always                       | signed by `sslrootcert` and made out to the host connected to |
//!
//! `sslrootcert` is a PEM file of authorities, or `system` for the machine's own (as libpq 16).
//! tokio-postgres knows only `disable`, `prefer` and `require`, and no `sslrootcert`: both are
//! taken out of the string before it reads it. Client certificates (`sslcert`, `sslkey`) and
//! revocation lists are not supported, and are refused as such.

use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// What `sslmode` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// How to open the connection: the configuration tokio-postgres reads, and the TLS to use.
pub(crate) struct Secured {
    pub config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// Why the password file was not read, if it was not (see `pg_env`).
    pub note: Option<String>,
}

impl Secured {
    pub fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }
}

/// libpq's parameters for client certificates and revocation lists, which are refused.
const UNSUPPORTED: [&str; 4] = ["sslcert", "sslkey", "sslpassword", "sslcrl"];

/// Reads a connection string: its TLS parameters, then the rest, then what libpq's
/// environment adds (see `pg_env`). The error names the parameter and what is wrong with it,
/// never the string (it may hold a password).
pub(crate) fn secured(conn: &str) -> Result<Secured, String> {
    secured_in(conn, &super::env::process_vars)
}

/// [`secured`] in the environment `var`.
fn secured_in(conn: &str, var: super::env::Vars<'_>) -> Result<Secured, String> {
    let keys: Vec<&str> = ["sslmode", "sslrootcert"].into_iter().chain(UNSUPPORTED).collect();
    let (rest, mut taken) = take_params(conn, &keys);
    if let Some(key) = UNSUPPORTED.into_iter().find(|k| taken.contains_key(*k)) {
        return Err(format!(
            "{key}: client certificates and revocation lists are not supported; authenticate by password"
        ));
    }
    // Named as the user wrote it: in the string, or in the environment.
    let (mode, mode_name) = match taken.remove("sslmode") {
        Some(m) => (Some(m), "sslmode"),
        None => (var("PGSSLMODE"), "PGSSLMODE"),
    };
    let rootcert = taken.remove("sslrootcert").or_else(|| var("PGSSLROOTCERT"));
    let mode = match mode.as_deref() {
        None | Some("prefer" | "allow") => Mode::Prefer,
        Some("disable") => Mode::Disable,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(other) => {
            return Err(format!(
                "{mode_name} `{other}`: expected disable, allow, prefer, require, verify-ca or verify-full"
            ));
        }
    };
    let mut config: postgres::Config = rest
        .parse()
        .map_err(|e: postgres::Error| format!("not a PostgreSQL connection string: {}", crate::error::described(&e)))?;
    let note = super::env::complete(&mut config, var)?;
    // As libpq, `sslmode` is for TCP: PostgreSQL has no TLS over a Unix socket.
    let sockets_only = !config.get_hosts().is_empty()
        && config.get_hostaddrs().is_empty()
        && config.get_hosts().iter().all(|h| !matches!(h, postgres::config::Host::Tcp(_)));
    let mode = if sockets_only { Mode::Disable } else { mode };
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = match mode {
        Mode::Disable => return Ok(Secured { config, tls: None, note }),
        Mode::Prefer => None,
        // libpq's default authorities, when the string names none.
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => match rootcert.or_else(default_rootcert) {
            None if mode == Mode::Require => None,
            None => {
                return Err(format!(
                    "sslmode={}: give the authority that signed the server's certificate, \
                     sslrootcert=FILE (PEM) or sslrootcert=system",
                    if mode == Mode::VerifyCa { "verify-ca" } else { "verify-full" }
                ));
            }
            Some(file) => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots(&file)?), provider.clone())
                    .build()
                    .map_err(|e| format!("sslrootcert {file}: {e}"))?,
            ),
        },
    };
    let verifier =
        Verifier { webpki, check_name: mode == Mode::VerifyFull, algs: provider.signature_verification_algorithms };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Secured { config, tls: Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)), note })
}

/// `~/.postgresql/root.crt` when it exists: libpq's authorities when the string names none.
fn default_rootcert() -> Option<String> {
    let home = std::env::var_os("HOME")?;
    let file = std::path::Path::new(&home).join(".postgresql/root.crt");
    file.exists().then(|| file.to_string_lossy().into_owned())
}

/// The authorities of `sslrootcert`: a PEM file, or the machine's own for `system`.
fn roots(file: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if file == "system" {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err("sslrootcert=system: the machine has no certificate authorities".into());
        }
        return Ok(roots);
    }
    let certs = CertificateDer::pem_file_iter(file)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("sslrootcert {file}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("sslrootcert {file}: no certificate in it (PEM expected)"));
    }
    for cert in certs {
        roots.add(cert).map_err(|e| format!("sslrootcert {file}: {e}"))?;
    }
    Ok(roots)
}

/// Checks the server's certificate as the mode asks: not at all (`webpki` is `None`), signed by
/// the authorities, and made out to the host when `check_name`. Handshake signatures are always
/// checked.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else { return Ok(ServerCertVerified::assertion()) };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The connection string without the parameters `keys`, and their values (decoded).
fn take_params(conn: &str, keys: &[&str]) -> (String, std::collections::HashMap<String, String>) {
    let mut taken = std::collections::HashMap::new();
    let mut take = |key: &str, value: String| {
        let ours = keys.contains(&key);
        if ours {
            taken.insert(key.to_owned(), value);
        }
        ours
    };
    let rest = if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        match conn.split_once('?') {
            None => conn.to_owned(),
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(k, percent_decoded(v))
                    })
                    .collect();
                if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) }
            }
        }
    } else {
        crate::location::key_values(conn)
            .into_iter()
            .filter(|(k, v, _)| !take(k, v.clone()))
            .map(|(_, _, raw)| raw)
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, taken)
}

/// `%XX` decoded (a file path in a URL).
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_both_forms() {
        let tls = ["sslmode", "sslrootcert"];
        let take = |conn: &str| {
            let (rest, mut taken) = take_params(conn, &tls);
            (rest, taken.remove("sslmode"), taken.remove("sslrootcert"))
        };
        let (rest, mode, root) =
            take("postgresql://u:p@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%201.pem");
        assert_eq!(rest, "postgresql://u:p@h:5432/db?application_name=x");
        assert_eq!((mode.as_deref(), root.as_deref()), (Some("verify-full"), Some("/etc/ca 1.pem")));
        let (rest, mode, root) = take("postgres://h/db?sslmode=require");
        assert_eq!((rest.as_str(), mode.as_deref(), root), ("postgres://h/db", Some("require"), None));
        let (rest, mode, root) =
            take("host=h  dbname = db sslrootcert='/a b/c\\'d.pem' sslmode=verify-ca password='x y'");
        assert_eq!(rest, "host=h dbname = db password='x y'");
        assert_eq!((mode.as_deref(), root.as_deref()), (Some("verify-ca"), Some("/a b/c'd.pem")));
        // What is not a pair is left for tokio-postgres to refuse.
        assert_eq!(take("host=h nonsense").0, "host=h nonsense");
        assert_eq!(percent_decoded("a%2Fb%zz%4"), "a/b%zz%4");
    }

    #[test]
    fn modes_are_checked_before_connecting() {
        let secured = |conn: &str| secured_in(conn, &|_| None);
        let e = secured("postgresql://h/db?sslmode=verify").err().unwrap();
        assert!(e.contains("sslmode `verify`"), "{e}");
        let e = secured("host=h sslmode=verify-full sslrootcert=/nonexistent/ca.pem").err().unwrap();
        assert!(e.contains("sslrootcert /nonexistent/ca.pem"), "{e}");
        let e = secured("postgresql://h/db?sslcert=/x.pem").err().unwrap();
        assert!(e.contains("sslcert: client certificates"), "{e}");
        let e = secured("postgresql://h/db?foo=bar").err().unwrap();
        assert!(e.contains("unknown option `foo`"), "{e}");
        let s = secured("host=h sslmode=disable").unwrap();
        assert!(s.tls.is_none());
        assert_eq!(s.config.get_ssl_mode(), SslMode::Disable);
        let s = secured("postgresql://h/db").unwrap();
        assert_eq!(s.config.get_ssl_mode(), SslMode::Prefer);
        assert!(s.tls.is_some());
    }

    #[test]
    fn the_environment_gives_the_mode_the_string_leaves_out() {
        let env = |k: &str| match k {
            "PGSSLMODE" => Some("verify-full".to_owned()),
            "PGSSLROOTCERT" => Some("/nonexistent/env-ca.pem".to_owned()),
            _ => None,
        };
        let e = secured_in("host=h", &env).err().unwrap();
        assert!(e.contains("sslrootcert /nonexistent/env-ca.pem"), "{e}");
        // A wrong mode is named where it was written.
        let e = secured_in("host=h", &|k: &str| (k == "PGSSLMODE").then(|| "maybe".to_owned())).err().unwrap();
        assert!(e.starts_with("PGSSLMODE `maybe`: expected disable"), "{e}");
        let s = secured_in("host=h sslmode=disable", &env).unwrap();
        assert_eq!(s.config.get_ssl_mode(), SslMode::Disable);
        // A Unix socket has no TLS: the mode is not for it.
        let s = secured_in("host=/var/run/postgresql", &env).unwrap();
        assert_eq!(s.config.get_ssl_mode(), SslMode::Disable);
        assert!(s.tls.is_none());
    }
}
