//! How the server's absolute links are made (TileJSON tile URLs, OGC links, Open311
//! discovery, style sources): a fixed public URL, or from the request, believing the
//! forwarding headers (`Forwarded`, `X-Forwarded-Proto`, `X-Forwarded-Host`,
//! `X-Forwarded-Prefix`) of trusted reverse proxies only.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};

/// A network a reverse proxy's address is trusted from (`127.0.0.1`, `10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedNet {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for TrustedNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = a.trim().parse().map_err(|_| format!("{s:?}: an IP address or a network (10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: prefix 0 to {max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl TrustedNet {
    /// Whether `ip` is in the network.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// How the server's absolute links are made: a fixed public URL, or from the request (its
/// `Host`, and behind a trusted proxy its `Forwarded` / `X-Forwarded-Proto` /
/// `X-Forwarded-Host`).
#[derive(Debug, Clone, Default)]
pub struct PublicUrl {
    /// `https://sig.example.org/domania` (no trailing slash): every link starts with it.
    pub fixed: Option<String>,
    /// The proxies whose forwarding headers are believed.
    pub trusted: Vec<TrustedNet>,
}

/// The first value of a `Forwarded` header's `name=` pair (RFC 7239), quotes removed.
fn forwarded(headers: &HeaderMap, name: &str) -> Option<String> {
    let first = headers.get("forwarded")?.to_str().ok()?.split(',').next()?.to_owned();
    first.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?.split(',').next()?.trim().to_owned();
    (!v.is_empty()).then_some(v)
}

/// Whether a host (with its port) is one a link may name: letters, digits, `.-:[]`.
fn plausible_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 255 && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
}

impl PublicUrl {
    /// The client's address: the peer's, or, from a trusted proxy, the first `for=` of
    /// `Forwarded` (else of `X-Forwarded-For`) that is an address.
    #[must_use]
    pub fn client(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        if peer.is_some_and(|ip| self.trusted.iter().any(|n| n.contains(ip))) {
            let said = forwarded(headers, "for").or_else(|| {
                header_value(headers, "x-forwarded-for").and_then(|v| v.split(',').next().map(|s| s.trim().to_owned()))
            });
            // `for="[2001:db8::1]:4711"`, `for=192.0.2.60:80` or a bare address.
            let parsed = said.and_then(|s| {
                let s = s.trim_matches('"');
                s.parse::<IpAddr>()
                    .ok()
                    .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
                    .or_else(|| s.trim_start_matches('[').split(']').next().and_then(|h| h.parse().ok()))
            });
            if parsed.is_some() {
                return parsed;
            }
        }
        peer
    }

    /// The base URL of the server for a request with `headers` from `peer`.
    #[must_use]
    pub fn base(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> String {
        if let Some(f) = &self.fixed {
            return f.clone();
        }
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).filter(|h| plausible_host(h));
        let host = host.unwrap_or("localhost");
        if peer.is_some_and(|ip| self.trusted.iter().any(|n| n.contains(ip))) {
            let proto = forwarded(headers, "proto")
                .or_else(|| header_value(headers, "x-forwarded-proto"))
                .filter(|p| p == "http" || p == "https")
                .unwrap_or_else(|| "http".to_owned());
            let fhost = forwarded(headers, "host")
                .or_else(|| header_value(headers, "x-forwarded-host"))
                .filter(|h| plausible_host(h))
                .unwrap_or_else(|| host.to_owned());
            let prefix = header_value(headers, "x-forwarded-prefix")
                .filter(|p| p.starts_with('/') && !p.contains("//") && p.chars().all(|c| c.is_ascii_graphic()))
                .map(|p| p.trim_end_matches('/').to_owned())
                .unwrap_or_default();
            return format!("{proto}://{fhost}{prefix}");
        }
        format!("http://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_a_trusted_proxy_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        h.insert("x-forwarded-host", "sig.example.org".parse().unwrap());
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let far: IpAddr = "203.0.113.9".parse().unwrap();
        let p = PublicUrl { fixed: None, trusted: vec!["127.0.0.0/8".parse().unwrap()] };
        assert_eq!(p.base(&h, Some(lo)), "https://sig.example.org");
        assert_eq!(p.base(&h, Some(far)), "http://127.0.0.1:8080");
        assert_eq!(p.base(&h, None), "http://127.0.0.1:8080");
        h.insert("forwarded", "for=1.2.3.4;proto=https;host=\"maps.example.org\"".parse().unwrap());
        assert_eq!(p.base(&h, Some(lo)), "https://maps.example.org");
        let fixed = PublicUrl { fixed: Some("https://x.example/domania".into()), trusted: vec![] };
        assert_eq!(fixed.base(&h, Some(far)), "https://x.example/domania");
        let v6: TrustedNet = "::1".parse().unwrap();
        assert!(v6.contains("::1".parse().unwrap()) && !v6.contains("::2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<TrustedNet>().is_err());
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(p.trusted[0].contains(mapped));
        h.insert(header::HOST, "evil.example\"><script>".parse().unwrap());
        assert_eq!(PublicUrl::default().base(&h, None), "http://localhost");
    }
}
