//! `domania serve` behind a real reverse proxy: Debian's nginx with the sample site of
//! `deploy/nginx.conf`, TLS with a throwaway certificate. Through it, the absolute links
//! Domania writes (TileJSON tile URLs, OGC `self`/`next` links, Open311 discovery, style
//! sources) are the proxy's `https://` address, so a browser loads the map; tiles and OGC pages
//! come through it; and GDAL's OAPIF client reads the collections over TLS. Without the proxy
//! trusted, the same headers are ignored.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve::Server;
use crate::support::{domania, root, texts};

/// A free TCP port on the loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nginx running the sample site, stopped when dropped.
struct Nginx {
    child: Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx on a free port, proxying to `upstream` (`127.0.0.1:PORT`) with the sample site, its
/// certificate and key made now in `dir`.
fn nginx(dir: &std::path::Path, upstream: &str) -> Nginx {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (installed with nginx by .ci/run)");
    assert!(made.status.success(), "{}", texts(&made).1);
    let port = free_port();
    let site = std::fs::read_to_string(root().join("deploy/nginx.conf"))
        .unwrap()
        .replace("@UPSTREAM@", upstream)
        .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
        .replace("@SERVER_NAME@", "localhost")
        .replace("@CERT@", &cert.display().to_string())
        .replace("@KEY@", &key.display().to_string());
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n  proxy_bind 127.0.0.2;\n  include {d}/site.conf;\n}}\n"
    );
    let conf = dir.join("nginx.conf");
    std::fs::File::create(&conf).unwrap().write_all(main.as_bytes()).unwrap();
    let nginx = ["/usr/sbin/nginx", "nginx"].into_iter().find(|n| Command::new(n).arg("-v").output().is_ok());
    let child = Command::new(nginx.expect("nginx (installed by .ci/run)"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");
    let n = Nginx { child, port };
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "nginx did not listen: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    n
}

/// `curl` through the proxy, trusting the throwaway certificate: (status, body).
fn curl(dir: &std::path::Path, url: &str) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "30", "--cacert"])
        .arg(dir.join("cert.pem"))
        .args(["-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {url}: {}", texts(&out).1);
    let mut body = out.stdout;
    let split = body.iter().rposition(|b| *b == b'\n').unwrap();
    let code = String::from_utf8_lossy(&body[split + 1..]).parse().unwrap();
    body.truncate(split);
    (code, body)
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

#[test]
#[cfg_attr(
    any(domania_without_nginx, domania_without_gdal),
    ignore = "needs nginx, openssl and curl, and GDAL's ogrinfo (gdal-bin)"
)]
fn behind_nginx_with_tls_every_link_is_the_proxys_https_address() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = domania(&store, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    // nginx reaches Domania from 127.0.0.2 (its `proxy_bind`), the only address trusted: the
    // test itself, on 127.0.0.1, is any other client.
    let server = Server::start_with(&store, &["--trusted-proxy", "127.0.0.2"]);
    let upstream = server.url.trim_start_matches("http://").to_owned();
    let proxy = nginx(dir.path(), &upstream);
    let public = format!("https://localhost:{}", proxy.port);

    // TileJSON: its tile URLs are the proxy's, in https; a tile comes through it.
    let (code, body) = curl(dir.path(), &format!("{public}/tiles/parcels,spaces.json"));
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let tj = json(&body);
    let tiles = tj["tiles"][0].as_str().unwrap();
    assert!(tiles.starts_with(&format!("{public}/tiles/parcels,spaces/")), "{tiles}");
    let tile = tiles.replace("{z}/{x}/{y}", "16/33096/22526");
    let (code, mvt) = curl(dir.path(), &tile);
    assert_eq!(code, 200);
    assert!(!mvt.is_empty(), "a tile over the demo territory holds features");

    // OGC API Features: self and next links through the proxy.
    let (code, body) = curl(dir.path(), &format!("{public}/collections/parcels/items?limit=5"));
    assert_eq!(code, 200);
    let page = json(&body);
    let links: Vec<&str> = page["links"].as_array().unwrap().iter().map(|l| l["href"].as_str().unwrap()).collect();
    assert!(
        links.len() == 2 && links.iter().all(|l| l.starts_with(&format!("{public}/collections/parcels/items?"))),
        "{links:?}"
    );
    let (code, next) = curl(dir.path(), links[1]);
    assert_eq!((code, json(&next)["features"].as_array().unwrap().len()), (200, 5));

    // Open311 discovery and the styles' tile source.
    let (_, body) = curl(dir.path(), &format!("{public}/open311/v2/discovery.json"));
    assert_eq!(json(&body)["endpoints"][0]["url"], format!("{public}/open311/v2"));
    let (_, body) = curl(dir.path(), &format!("{public}/styles/owners.json"));
    let style = json(&body);
    let source = style["sources"].as_object().unwrap().values().next().unwrap()["url"].as_str().unwrap().to_owned();
    assert!(source.starts_with(&format!("{public}/tiles/")), "{source}");

    // GDAL's OAPIF client over TLS, through the proxy.
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", &format!("OAPIF:{public}"), "parcels"])
        .env("CURL_CA_BUNDLE", dir.path().join("cert.pem"))
        .env("GDAL_HTTP_TIMEOUT", "30")
        .output()
        .expect("ogrinfo (gdal-bin, installed by .ci/run)");
    let (o, e) = texts(&out);
    assert!(out.status.success(), "ogrinfo through the proxy: {e}");
    assert!(o.contains("Feature Count:") || o.contains("parcels"), "{o}");

    // The same headers from a client that is not the trusted proxy are not believed.
    let direct = Command::new("curl")
        .args(["-s", "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: evil.example"])
        .arg(format!("{}/tiles/parcels.json", server.url))
        .output()
        .unwrap();
    let tj = json(&direct.stdout);
    assert!(tj["tiles"][0].as_str().unwrap().starts_with("http://127.0.0.1:"), "{tj}");
    drop(proxy);
    server.stop();
}

#[test]
fn a_public_url_is_every_links_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = domania(&store, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let server = Server::start_with(&store, &["--public-url", "https://sig.example.org/domania/"]);
    let text = ureq::get(&format!("{}/tiles/parcels.json", server.url)).call().unwrap().into_string().unwrap();
    let tj = json(text.as_bytes());
    assert!(tj["tiles"][0].as_str().unwrap().starts_with("https://sig.example.org/domania/tiles/parcels/"), "{tj}");
    let bad = domania(&store, &["serve", "--public-url", "sig.example.org"]);
    assert!(!bad.status.success() && texts(&bad).1.contains("--public-url"), "{}", texts(&bad).1);
    server.stop();
}
