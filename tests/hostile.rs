//! Hostile and heavy clients against a real `domania serve`: thousands of half-sent
//! connections, a zipped Shapefile whose table unpacks to 3.3 GB, zip bombs sent together. The
//! resources the server used are measured from /proc and printed.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::one_answer::demo_store;
use crate::serve::Server;
use crate::support::{domania, texts};

/// Where the measurements of these tests are written too, for CI to print (a passing test's
/// standard output is not shown): `target/tmp/hostile-measured.txt`.
fn measured_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-measured.txt")
}

/// Prints a measurement and appends it to [`measured_file`].
macro_rules! measured {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        println!("{line}");
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(measured_file()) {
            let _ = writeln!(f, "{line}");
        }
    }};
}

/// The server's open descriptors.
fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// A line of /proc/PID/status (`VmHWM`, `VmRSS`) in kB.
fn status_kb(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(key).and_then(|r| r.trim_start_matches(':').split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// GET `url`: its status (0 when the connection failed) and how long it took.
fn ask(agent: &ureq::Agent, url: &str) -> (u16, Duration) {
    let t = Instant::now();
    let status = match agent.get(url).timeout(Duration::from_secs(10)).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(ureq::Error::Transport(_)) => 0,
    };
    (status, t.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Raises this process's descriptor limit towards `want`; the limit now in force.
fn raise_own_limit(want: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut l = getrlimit(Resource::Nofile);
    let hard = l.maximum.unwrap_or(u64::MAX);
    l.current = Some(want.min(hard));
    let _ = setrlimit(Resource::Nofile, l);
    getrlimit(Resource::Nofile).current.unwrap_or(1024)
}

#[test]
fn thousands_of_half_sent_connections_do_not_keep_a_normal_client_out() {
    const CAP: usize = 256;
    let limit = raise_own_limit(8192);
    let attackers = usize::try_from(limit.saturating_sub(200)).unwrap_or(0).min(3000);
    assert!(attackers >= 2000, "this test needs 2,200 descriptors (ulimit -n {limit})");
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let cap = CAP.to_string();
    let server = Server::start_with(&store, &["--max-connections", &cap, "--header-timeout", "5"]);
    let pid = server.child.id();
    let url = format!("{}/v1/who?lon=1.8&lat=48.93", server.url);
    let addr = server.url.trim_start_matches("http://").to_owned();

    let agent = ureq::AgentBuilder::new().build();
    let mut quiet: Vec<Duration> = (0..50).map(|_| ask(&agent, &url).1).collect();
    quiet.sort();

    // A normal client keeps asking while the attack runs.
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (stop, agent, url) = (Arc::clone(&stop), agent.clone(), url.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                seen.push(ask(&agent, &url));
                std::thread::sleep(Duration::from_millis(10));
            }
            seen
        })
    };
    let mut held = Vec::with_capacity(attackers);
    let mut most = 0;
    let started = Instant::now();
    for i in 0..attackers {
        let mut s = TcpStream::connect(&addr).expect("the server still accepts connections");
        // A request line and one header, never the blank line that ends the header.
        s.write_all(b"GET /v1/version HTTP/1.1\r\nHost: x\r\n").unwrap();
        held.push(s);
        if i % 50 == 0 {
            most = most.max(descriptors(pid));
        }
    }
    let opening = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    most = most.max(descriptors(pid));
    stop.store(true, Ordering::Relaxed);
    let seen = client.join().unwrap();
    let failed: Vec<_> = seen.iter().filter(|(s, _)| *s != 200).collect();
    let mut busy: Vec<Duration> = seen.iter().map(|(_, d)| *d).collect();
    busy.sort();
    // The attackers the server closed to make room.
    let mut closed = 0;
    for s in &mut held {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            _ => closed += 1,
        }
    }
    measured!(
        "{attackers} half-sent connections opened in {:.1} s against a cap of {CAP}: the server held at most {most} \
         descriptors and closed {closed} of them; a normal client made {} requests meanwhile, {} failed; latency \
         quiet p50 {:.2} ms p99 {:.2} ms, under attack p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        opening.as_secs_f64(),
        seen.len(),
        failed.len(),
        percentile(&quiet, 0.5).as_secs_f64() * 1e3,
        percentile(&quiet, 0.99).as_secs_f64() * 1e3,
        percentile(&busy, 0.5).as_secs_f64() * 1e3,
        percentile(&busy, 0.99).as_secs_f64() * 1e3,
        busy.last().unwrap().as_secs_f64() * 1e3,
    );
    assert!(failed.is_empty(), "the normal client was refused: {failed:?}");
    assert!(seen.len() >= 10, "the normal client asked only {} times", seen.len());
    assert!(most <= CAP + 64, "the server held {most} descriptors for a cap of {CAP} connections");
    assert!(closed >= attackers - CAP, "only {closed} of {attackers} half-sent connections were closed");

    // Connections that send nothing more are closed after the header timeout.
    drop(held);
    let mut idle: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    let t = Instant::now();
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut b = [0u8; 1];
        assert!(matches!(s.read(&mut b), Ok(0) | Err(_)), "an idle connection is closed");
    }
    measured!("20 idle connections closed by the server after {:.1} s (header timeout 5 s)", t.elapsed().as_secs_f64());
    assert!(t.elapsed() < Duration::from_secs(20));
    drop(server);
}

/// A Shapefile of one square in Lambert-93 (its .shp, .shx, .prj) beside a table of `records`
/// records of `record_len` bytes, written to `zip` as the table's bytes stream (a header, then
/// spaces).
fn write_shapefile_zip(out: &std::path::Path, records: u32, record_len: u16) {
    let (x0, y0, x1, y1) = (612_744.0f64, 6_870_356.0f64, 612_854.0f64, 6_870_462.0f64);
    let header = |file_words: i32| {
        let mut h = vec![0u8; 100];
        h[0..4].copy_from_slice(&9994i32.to_be_bytes());
        h[24..28].copy_from_slice(&file_words.to_be_bytes());
        h[28..32].copy_from_slice(&1000i32.to_le_bytes());
        h[32..36].copy_from_slice(&5i32.to_le_bytes());
        for (k, v) in [x0, y0, x1, y1].iter().enumerate() {
            h[36 + 8 * k..44 + 8 * k].copy_from_slice(&v.to_le_bytes());
        }
        h
    };
    let mut content = Vec::new();
    content.extend_from_slice(&5i32.to_le_bytes());
    for v in [x0, y0, x1, y1] {
        content.extend_from_slice(&v.to_le_bytes());
    }
    content.extend_from_slice(&1i32.to_le_bytes());
    content.extend_from_slice(&5i32.to_le_bytes());
    content.extend_from_slice(&0i32.to_le_bytes());
    for (x, y) in [(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)] {
        content.extend_from_slice(&x.to_le_bytes());
        content.extend_from_slice(&y.to_le_bytes());
    }
    let words = i32::try_from(content.len() / 2).unwrap();
    let mut shp = header(50 + 4 + words);
    shp.extend_from_slice(&1i32.to_be_bytes());
    shp.extend_from_slice(&words.to_be_bytes());
    shp.extend_from_slice(&content);
    let mut shx = header(50 + 4);
    shx.extend_from_slice(&50i32.to_be_bytes());
    shx.extend_from_slice(&words.to_be_bytes());
    let prj = r#"PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]]]]"#;
    // The table: one text field `id`, each record a deletion flag and the field.
    let mut dbf = vec![0u8; 65];
    dbf[0] = 3;
    dbf[4..8].copy_from_slice(&records.to_le_bytes());
    dbf[8..10].copy_from_slice(&65u16.to_le_bytes());
    dbf[10..12].copy_from_slice(&record_len.to_le_bytes());
    dbf[32..34].copy_from_slice(b"id");
    dbf[43] = b'C';
    dbf[48] = u8::try_from(record_len - 1).unwrap_or(255);
    dbf[64] = 0x0D;

    let file = std::fs::File::create(out).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default().compression_level(Some(1)).large_file(true);
    for (name, bytes) in [("ilots.shp", &shp[..]), ("ilots.shx", &shx[..]), ("ilots.prj", prj.as_bytes())] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.start_file("ilots.dbf", opts).unwrap();
    zip.write_all(&dbf).unwrap();
    let chunk = vec![b' '; 1 << 20];
    let mut left = u64::from(records) * u64::from(record_len);
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).unwrap();
        zip.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    zip.finish().unwrap();
}

/// POSTs `body` to the server's sub-sectors as the editor `token`: status and body.
fn upload(url: &str, token: &str, body: &[u8]) -> (u16, String) {
    let r = ureq::post(&format!("{url}/v1/layers/subsectors"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/zip")
        .timeout(Duration::from_mins(2))
        .send_bytes(body);
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

fn editor_token(store: &std::path::Path) -> String {
    let out = domania(store, &["token", "create", "--name", "sig", "--role", "editor"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    texts(&out).0.trim().to_owned()
}

/// The bytes under `dir`, recursively.
fn disk_use(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| if m.is_dir() { disk_use(&e.path()) } else { m.len() }))
            .sum()
    })
}

#[test]
fn a_table_of_three_gigabytes_beside_one_shape_is_refused_unread_and_zip_bombs_stay_within_the_disk_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let token = editor_token(&store);
    let tmp = dir.path().join("server-tmp");
    std::fs::create_dir(&tmp).unwrap();
    let server = Server::start_env(&store, &["--upload-disk-mb", "3600"], &[("TMPDIR", &tmp)]);
    let pid = server.child.id();
    let before = status_kb(pid, "VmRSS");

    // One square and a 3.3 GB table (13 million records of 255 bytes): a 3 MB zip.
    let zipped = dir.path().join("big-table.zip");
    let t = Instant::now();
    write_shapefile_zip(&zipped, 13_000_000, 255);
    let body = std::fs::read(&zipped).unwrap();
    let made = t.elapsed();
    let t = Instant::now();
    let (status, text) = upload(&server.url, &token, &body);
    let took = t.elapsed();
    let peak = status_kb(pid, "VmHWM");
    measured!(
        "a {:.1} MB zip holding a 3.3 GB table beside one shape (made in {:.1} s): answered {status} in {:.2} s; \
         server resident {} MB before, peak {} MB",
        body.len() as f64 / 1e6,
        made.as_secs_f64(),
        took.as_secs_f64(),
        before / 1024,
        peak / 1024
    );
    assert!((400..500).contains(&status), "{status}: {text}");
    assert!(text.contains("ilots.dbf"), "the answer names the table: {text}");
    assert!(!text.contains(tmp.to_str().unwrap()) && !text.contains("/tmp/"), "no server path: {text}");
    assert!(peak < 1 << 20, "the server peaked at {} MB", peak / 1024);

    drop(server);

    // Two zip bombs at once (each a Shapefile whose .shp unpacks to 1 GB of zeros) against a
    // budget of 64 MB per upload and one upload at a time.
    let server = Server::start_env(&store, &["--upload-disk-mb", "64", "--max-uploads", "1"], &[("TMPDIR", &tmp)]);
    let bomb = {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_level(Some(1));
        zip.start_file("bombe.shp", opts).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            zip.write_all(&zeros).unwrap();
        }
        zip.start_file("bombe.dbf", opts).unwrap();
        zip.write_all(&[0u8; 100]).unwrap();
        zip.finish().unwrap();
        Arc::new(buf.into_inner())
    };
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (watching, tmp) = (Arc::clone(&watching), tmp.clone());
        std::thread::spawn(move || {
            let mut most = 0;
            while watching.load(Ordering::Relaxed) {
                most = most.max(disk_use(&tmp));
                std::thread::sleep(Duration::from_millis(20));
            }
            most
        })
    };
    let senders: Vec<_> = (0..2)
        .map(|_| {
            let (url, token, bomb) = (server.url.clone(), token.clone(), Arc::clone(&bomb));
            std::thread::spawn(move || upload(&url, &token, &bomb))
        })
        .collect();
    let answers: Vec<_> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    watching.store(false, Ordering::Relaxed);
    let most = watcher.join().unwrap();
    measured!(
        "two zip bombs of {:.1} MB (1 GB unpacked each) sent together: answered {:?}; temporary disk at most {:.1} MB \
         (budget 64 MB)",
        bomb.len() as f64 / 1e6,
        answers.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        most as f64 / 1e6
    );
    for (status, text) in &answers {
        assert!(matches!(status, 413 | 503), "{status}: {text}");
    }
    assert!(most <= 64 << 20, "the uploads took {most} bytes of temporary disk");
    assert_eq!(disk_use(&tmp), 0, "every temporary file is removed");
    // The store is as it was: one version of the sub-sectors.
    let layers = texts(&domania(&store, &["--json", "layers"])).0;
    let v: serde_json::Value = serde_json::from_str(&layers).unwrap();
    let subsectors = v.as_array().unwrap().iter().find(|l| l["layer"] == "subsectors").unwrap();
    assert_eq!(subsectors["version"], 1, "{subsectors}");
}

/// Every cell of a CSV text separated by `delimiter`, with the header.
fn cells(text: &str, delimiter: u8) -> Vec<String> {
    let mut r =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    r.records().flat_map(|x| x.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()).collect()
}

#[test]
fn no_csv_domania_writes_carries_a_live_formula() {
    const FORMULA: &str = "=cmd|' /C calc'!A0";
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    // A bailleur whose name in the owner file is a formula.
    let ppm = std::fs::read_to_string(dir.path().join("domania-demo/ppm-synth.csv")).unwrap();
    assert!(ppm.contains("FOYERS ET LOGIS SA D'HLM"));
    let spoiled = dir.path().join("ppm-formule.csv");
    std::fs::write(&spoiled, ppm.replace("FOYERS ET LOGIS SA D'HLM", FORMULA)).unwrap();
    let out = domania(&store, &["import", "owners", spoiled.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let out = domania(&store, &["token", "create", "--name", "mairie", "--role", "reporter"]);
    let key = texts(&out).0.trim().to_owned();
    let server = Server::start(&store);
    // A resident's description that is a formula.
    let posted = ureq::post(&format!("{}/open311/v2/requests.json", server.url)).send_form(&[
        ("api_key", &key),
        ("service_code", "dumping"),
        ("lat", "48.927"),
        ("long", "1.806"),
        ("description", "=HYPERLINK(\"https://example.org\";\"cliquer\")"),
    ]);
    assert!(posted.is_ok(), "{posted:?}");
    let http =
        ureq::get(&format!("{}/v1/qpv/QN078001/report?f=csv", server.url)).call().unwrap().into_string().unwrap();
    let mut outputs = vec![("GET /v1/qpv/QN078001/report?f=csv".to_owned(), http)];
    for args in [
        &["owners"][..],
        &["shares", "--format", "csv"],
        &["report", "qpv", "QN078001"],
        &["requests", "list"],
        &["--delimiter", ";", "shares", "--format", "csv"],
    ] {
        let out = domania(&store, args);
        assert!(out.status.success(), "{args:?}: {}", texts(&out).1);
        outputs.push((format!("domania {}", args.join(" ")), texts(&out).0));
    }
    for (what, text) in &outputs {
        let all = cells(text, if what.contains("--delimiter") { b';' } else { b',' });
        let live: Vec<_> = all.iter().filter(|c| c.starts_with(['=', '+', '@', '\t', '\r'])).collect();
        assert!(live.is_empty(), "{what}: {live:?}");
        let shown = all.iter().any(|c| c == &format!("'{FORMULA}") || c.starts_with("'=HYPERLINK"));
        assert!(shown, "{what} shows the text, neutralised:\n{text}");
    }
}

#[test]
fn a_token_revoked_from_the_command_line_stops_working_on_every_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let out = domania(&store, &["token", "create", "--name", "lecteur", "--role", "viewer"]);
    let secret = texts(&out).0.trim().to_owned();
    let servers = [Server::start_with(&store, &["--private-reads"]), Server::start_with(&store, &["--private-reads"])];
    let status = |s: &Server| match ureq::get(&format!("{}/v1/version", s.url))
        .set("Authorization", &format!("Bearer {secret}"))
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{e}"),
    };
    // Both servers know the token (and keep it in their cache).
    for s in &servers {
        assert_eq!(status(s), 200);
    }
    let out = domania(&store, &["token", "revoke", "lecteur"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let t = Instant::now();
    for (k, s) in servers.iter().enumerate() {
        while status(s) == 200 {
            assert!(t.elapsed() < Duration::from_secs(10), "server {k} still takes the revoked token");
            std::thread::sleep(Duration::from_millis(20));
        }
        measured!(
            "server {k} refuses the revoked token {:.0} ms after the revocation",
            t.elapsed().as_secs_f64() * 1e3
        );
        assert_eq!(status(s), 401);
    }
}

/// Starts sending an upload of `file` to the sub-sectors and stops halfway, the connection left
/// open: the server is then receiving it.
fn half_an_upload(url: &str, token: &str, file: &std::path::Path) -> TcpStream {
    let body = std::fs::read(file).unwrap();
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /v1/layers/subsectors HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: \
         application/geo+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body[..body.len() / 2]).unwrap();
    s
}

#[test]
fn an_upload_cut_short_by_sigterm_or_kill_leaves_no_version_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let token = editor_token(&store);
    let file = dir.path().join("domania-demo/subsectors-synth.geojson");
    let tmp = dir.path().join("server-tmp");
    std::fs::create_dir(&tmp).unwrap();
    let versions = || {
        let v: serde_json::Value = serde_json::from_str(&texts(&domania(&store, &["--json", "layers"])).0).unwrap();
        v.as_array().unwrap().iter().find(|l| l["layer"] == "subsectors").unwrap()["version"].clone()
    };
    let before = versions();

    // SIGTERM while an upload is half sent: the server waits its grace period, then stops.
    let server = Server::start_env(&store, &["--shutdown-grace", "2"], &[("TMPDIR", &tmp)]);
    let stream = half_an_upload(&server.url, &token, &file);
    std::thread::sleep(Duration::from_millis(300));
    let entries = |d: &std::path::Path| std::fs::read_dir(d).map_or(0, Iterator::count);
    assert_eq!(entries(&tmp), 1, "the upload is being received into a temporary folder");
    let t = Instant::now();
    let status = server.stop();
    measured!("stopped {:.1} s after SIGTERM with an upload half received (grace 2 s)", t.elapsed().as_secs_f64());
    assert!(t.elapsed() < Duration::from_secs(20), "the grace period bounds the stop");
    assert!(status.success(), "{status:?}");
    drop(stream);
    assert_eq!(versions(), before, "no version from the cut upload");

    // kill -9 while an upload is half sent: its folder stays until the next start removes it.
    let mut server = Server::start_env(&store, &[], &[("TMPDIR", &tmp)]);
    let stream = half_an_upload(&server.url, &token, &file);
    std::thread::sleep(Duration::from_millis(300));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(stream);
    assert_eq!(entries(&tmp), 1, "a killed server leaves its folder");
    let server = Server::start_env(&store, &[], &[("TMPDIR", &tmp)]);
    assert_eq!(entries(&tmp), 0, "the next start removed the folder left behind");
    assert_eq!(versions(), before);
    drop(server);
}
