//! The messages of service requests through a real SMTP server (aiosmtpd, started by the test):
//! a request posted over Open311 reaches the routed service, with its place, its photo and why
//! this service, and is acknowledged to its reporter; a status change reaches the reporter; a
//! server killed with messages queued loses none and, restarted, sends each once; a mail server
//! that does not answer leaves the messages queued, tried again, and listed. And a commune's
//! software (a receiver started by the test) told of each step by a signed webhook.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::serve::Server;
use crate::support::{domania, root, texts};

/// The records a helper wrote in `folder` (one JSON file each, in order).
fn records(folder: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.iter().map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()).collect()
}

/// A helper of the test (the SMTP server, a commune's receiver): a Python script on a free port
/// of 127.0.0.1 writing what it is given in `folder`, stopped when dropped.
struct Helper {
    child: Child,
    port: u16,
    folder: PathBuf,
}

impl Helper {
    /// `python3 tools/SCRIPT PORT ARGS…`, once it says it is listening.
    fn start(script: &str, args: &[&str], folder: &Path) -> Helper {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("python3")
            .arg(root().join("tools").join(script))
            .arg(port.to_string())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 {script}: {e}"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "listening", "{script}");
        Helper { child, port, folder: folder.to_owned() }
    }

    /// Everything written so far.
    fn records(&self) -> Vec<Value> {
        records(&self.folder)
    }

    /// The records once `done` says they are enough, or after `limit`.
    fn wait(&self, done: impl Fn(&[Value]) -> bool, limit: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let r = self.records();
            if done(&r) || start.elapsed() > limit {
                return r;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The SMTP server of the test (aiosmtpd): each message as a record.
fn smtp(folder: &Path) -> Helper {
    Helper::start("mail/sink.py", &[folder.to_str().unwrap()], folder)
}

/// `domania serve` on `store`, sending its mail to `sink` from `gup@example.org`.
fn serve_mailing(store: &Path, sink: &Helper) -> Server {
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let env = [("DOMANIA_SMTP_URL", Path::new(&smtp)), ("DOMANIA_MAIL_FROM", Path::new("GUP <gup@example.org>"))];
    Server::start_env(store, &[], &env)
}

/// The messages once there are at least `n` (at most 20 s).
fn wait_for(sink: &Helper, n: usize) -> Vec<Value> {
    sink.wait(|m| m.len() >= n, Duration::from_secs(20))
}

fn post(base: &str, key: &str, description: &str, email: Option<&str>) -> String {
    post_at(base, key, description, email, "1.806")
}

/// [`post`] at longitude `long` (0.001° is about 73 m: not a duplicate).
fn post_at(base: &str, key: &str, description: &str, email: Option<&str>, long: &str) -> String {
    let mut fields = vec![
        ("api_key", key),
        ("service_code", "dumping"),
        ("lat", "48.927"),
        ("long", long),
        ("description", description),
        ("media_url", "https://photos.example.org/hall-b.jpg"),
        ("first_name", "Camille"),
        ("last_name", "Martin"),
    ];
    if let Some(e) = email {
        fields.push(("email", e));
    }
    let r = ureq::post(&format!("{base}/open311/v2/requests.json")).send_form(&fields).unwrap();
    let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    v[0]["service_request_id"].as_str().unwrap().to_owned()
}

fn to(m: &Value) -> String {
    m["to"][0].as_str().unwrap().to_owned()
}

#[test]
#[cfg_attr(
    domania_without_smtp,
    ignore = "needs the aiosmtpd Python package (pip install -r tools/mail/requirements.txt)"
)]
fn the_routed_service_and_the_reporter_are_told_by_email_and_nothing_is_lost_or_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::one_answer::demo_store(dir.path());
    let key =
        texts(&domania(&store, &["token", "create", "--name", "mairie", "--role", "reporter"])).0.trim().to_owned();
    let editor = texts(&domania(&store, &["token", "create", "--name", "ctc", "--role", "editor"])).0.trim().to_owned();
    let sink = smtp(&dir.path().join("mail"));

    // A request: the routed service hears of it at once, the reporter is acknowledged.
    let server = serve_mailing(&store, &sink);
    let id = post(&server.url, &key, "Matelas et sacs devant le hall B", Some("habitant@example.org"));
    // The service, its referent for the commune (Poissy's sorting ambassador in the demo), and
    // the reporter.
    let first = wait_for(&sink, 3);
    let mut told: Vec<String> = first.iter().map(to).collect();
    told.sort();
    assert_eq!(told, ["dechets@example.org", "habitant@example.org", "tri.poissy@example.org"], "{first:?}");
    let service = first.iter().find(|m| to(m) == "dechets@example.org").unwrap_or_else(|| panic!("{first:?}"));
    assert_eq!(service["from"], "gup@example.org");
    let subject = service["subject"].as_str().unwrap();
    assert!(subject.contains(&format!("[Signalement {id}]")) && subject.contains("Dépôt sauvage"), "{subject}");
    let text = service["text"].as_str().unwrap();
    for said in [
        "Matelas et sacs devant le hall B",
        "https://photos.example.org/hall-b.jpg",
        "48.927000, 1.806000",
        "openstreetmap.org/?mlat=48.927000&mlon=1.806000",
        "Pourquoi vous : les signalements « Dépôt sauvage, encombrants » vont directement à Direction de la gestion \
         des déchets",
        &format!("/open311/v2/requests/{id}.json"),
    ] {
        assert!(text.contains(said), "{said} not in:\n{text}");
    }
    let ack = first.iter().find(|m| to(m) == "habitant@example.org").unwrap();
    assert!(ack["subject"].as_str().unwrap().contains("Votre signalement est reçu"), "{ack}");

    // A status change reaches the reporter.
    let moved = ureq::post(&format!("{}/v1/reports/{id}/status", server.url))
        .set("Authorization", &format!("Bearer {editor}"))
        .set("Content-Type", "application/json")
        .send_string(r#"{"status": "acknowledged", "note": "Enlèvement prévu jeudi"}"#)
        .unwrap();
    assert_eq!(moved.status(), 200);
    // The reporter, and the commune's own referent (Poissy's technical services in the demo).
    let after = wait_for(&sink, 5);
    let mut told: Vec<String> = after[3..].iter().map(to).collect();
    told.sort();
    assert_eq!(told, ["dst@ville-poissy.example.org", "habitant@example.org"], "{after:?}");
    let change = after[3..].iter().find(|m| to(m) == "habitant@example.org").unwrap();
    assert!(change["subject"].as_str().unwrap().contains("pris en compte"), "{change}");
    assert!(change["text"].as_str().unwrap().contains("Enlèvement prévu jeudi"), "{change}");
    assert!(server.stop().success());

    // Messages queued by a server without mail, then kill -9: nothing is lost; a server with
    // mail sends each once.
    let quiet = Server::start(&store);
    let ids: Vec<String> =
        (0..3).map(|k| post(&quiet.url, &key, &format!("Sacs {k}"), Some(&format!("voisin{k}@example.org")))).collect();
    let pid = quiet.child.id().to_string();
    Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    drop(quiet);
    let unsent = domania(&store, &["requests", "deliveries", "--unsent", "--format", "json"]);
    let unsent: Vec<Value> = serde_json::from_slice(&unsent.stdout).unwrap();
    // Three reports of the same thing as the first (open, 30 m, 72 h): duplicates, so the
    // service is not told again; each reporter is.
    assert_eq!(unsent.len(), 3, "each duplicate's reporter only: {unsent:?}");
    assert!(unsent.iter().all(|d| d["role"] == "reporter" && d["status"] == "duplicate"), "{unsent:?}");
    let before = sink.records().len();
    let again = serve_mailing(&store, &sink);
    let all = wait_for(&sink, before + 3);
    assert_eq!(all.len(), before + 3);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.records().len(), before + 3, "a message was sent twice");
    for (k, id) in ids.iter().enumerate() {
        let reporter = format!("voisin{k}@example.org");
        let mine: Vec<&Value> = all[before..].iter().filter(|m| to(m) == reporter).collect();
        assert_eq!(mine.len(), 1, "{reporter}");
        assert!(mine[0]["subject"].as_str().unwrap().contains(&format!("[Signalement {id}]")));
    }
    assert!(again.stop().success());

    // A mail server that does not answer: the messages stay queued, tried again, and listed
    // with the error.
    let closed = format!(
        "smtp://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let down = Server::start_env(&store, &[], &[("DOMANIA_SMTP_URL", Path::new(&closed))]);
    post_at(&down.url, &key, "Encore des sacs, plus loin", None, "1.807");
    std::thread::sleep(Duration::from_secs(3));
    assert!(down.stop().success());
    let listed = domania(&store, &["requests", "deliveries", "--unsent", "--format", "json"]);
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.len(), 2, "the service and its referent: {listed:?}");
    for d in &listed {
        assert_eq!(d["attempts"].as_i64(), Some(1), "{d}");
        assert!(d["last_error"].as_str().is_some_and(|e| !e.is_empty()) && d["next_at"].is_string(), "{d}");
    }
}

/// A form of `fields` and a file part `media`, as `multipart/form-data`: its content type and body.
fn multipart(fields: &[(&str, &str)], file: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "domania-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{file}\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A phone's photo sent with a report (multipart `media`): stored without the owner's name, the
/// GPS position, XMP and comments but with its orientation, served at its `media_url` with a
/// thumbnail, and sent to the routed service attached to its email; an iPhone's HEIC stripped
/// of its EXIF and XMP without a thumbnail; a file that is not a photo is refused by its bytes
/// whatever its name, in GeoReport's error list.
#[test]
#[cfg_attr(
    domania_without_smtp,
    ignore = "needs the aiosmtpd Python package (pip install -r tools/mail/requirements.txt)"
)]
fn a_photo_reaches_the_routed_service_without_what_it_said_of_its_taker() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::one_answer::demo_store(dir.path());
    let key =
        texts(&domania(&store, &["token", "create", "--name", "mairie", "--role", "reporter"])).0.trim().to_owned();
    let sink = smtp(&dir.path().join("mail"));
    let server = serve_mailing(&store, &sink);
    let sent = std::fs::read(root().join("crates/domania-app/tests/fixtures/photo-with-exif.jpg")).unwrap();
    let fields = [
        ("api_key", key.as_str()),
        ("service_code", "dumping"),
        ("lat", "48.927"),
        ("long", "1.806"),
        ("description", "Gravats devant le hall C"),
    ];
    let (kind, body) = multipart(&fields, "IMG_0001.jpg", &sent);
    let posted = ureq::post(&format!("{}/open311/v2/requests.json", server.url))
        .set("Content-Type", &kind)
        .send_bytes(&body)
        .unwrap();
    assert_eq!(posted.status(), 201);
    let v: Value = serde_json::from_str(&posted.into_string().unwrap()).unwrap();
    let id = v[0]["service_request_id"].as_str().unwrap().to_owned();
    let media_url = v[0]["media_url"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned();
    assert_eq!(media_url, format!("{}/v1/reports/{id}/photo", server.url));
    let shown = ureq::get(&format!("{}/open311/v2/requests/{id}.json", server.url)).call().unwrap();
    let shown: Value = serde_json::from_str(&shown.into_string().unwrap()).unwrap();
    assert_eq!(shown[0]["media_url"], media_url.as_str());

    let photo = ureq::get(&media_url).call().unwrap();
    assert_eq!(photo.content_type(), "image/jpeg");
    let mut kept = Vec::new();
    std::io::Read::read_to_end(&mut photo.into_reader(), &mut kept).unwrap();
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for said in [&b"Bob"[..], b"GPS 48.8915N", b"xmpmeta", b"taken by"] {
        assert!(has(&sent, said) && !has(&kept, said), "{}", String::from_utf8_lossy(said));
    }
    assert!(has(&kept, b"Exif\0\0"), "the orientation's EXIF block is kept");
    let thumb = ureq::get(&format!("{media_url}/thumbnail")).call().unwrap();
    assert_eq!(thumb.content_type(), "image/jpeg");
    let mut small = Vec::new();
    std::io::Read::read_to_end(&mut thumb.into_reader(), &mut small).unwrap();
    assert!(small.starts_with(&[0xFF, 0xD8, 0xFF]));

    // The routed service gets the photo itself, attached; its referent and others the link.
    let mails = wait_for(&sink, 2);
    let service = mails.iter().find(|m| to(m) == "dechets@example.org").unwrap_or_else(|| panic!("{mails:?}"));
    let attached = service["attachments"].as_array().unwrap();
    assert_eq!(attached.len(), 1, "{service}");
    assert_eq!(attached[0]["type"], "image/jpeg");
    assert_eq!(attached[0]["sha256"], sha256(&kept).as_str(), "the photo as stored, its metadata out");
    assert!(service["text"].as_str().unwrap().contains(&media_url), "{service}");

    // An iPhone's HEIC: its EXIF and XMP written over, served as it is otherwise; no
    // thumbnail, said.
    let heic = std::fs::read(root().join("crates/domania-app/tests/fixtures/photo-with-exif.heic")).unwrap();
    let mut far = fields.to_vec();
    far[3].1 = "1.809";
    let (kind, body) = multipart(&far, "IMG_0003.HEIC", &heic);
    let posted =
        ureq::post(&format!("{}/open311/v2/requests.json", server.url)).set("Content-Type", &kind).send_bytes(&body);
    let v: Value = serde_json::from_str(&posted.unwrap().into_string().unwrap()).unwrap();
    let heic_url = v[0]["media_url"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned();
    let served = ureq::get(&heic_url).call().unwrap();
    assert_eq!(served.content_type(), "image/heic");
    let mut kept = Vec::new();
    std::io::Read::read_to_end(&mut served.into_reader(), &mut kept).unwrap();
    assert_eq!(kept.len(), heic.len());
    assert!(has(&heic, b"GPS 48.8915N") && !has(&kept, b"GPS 48.8915N") && !has(&kept, b"Bob"));
    let Err(ureq::Error::Status(404, r)) = ureq::get(&format!("{heic_url}/thumbnail")).call() else {
        panic!("a HEIC has no thumbnail")
    };
    assert!(r.into_string().unwrap().contains("HEIC"));

    // Not a photo, whatever its name: refused by its bytes, in the specification's error list.
    let (kind, body) = multipart(&fields, "hall.jpg", b"<html><script>alert(1)</script></html>");
    let refused =
        ureq::post(&format!("{}/open311/v2/requests.json", server.url)).set("Content-Type", &kind).send_bytes(&body);
    let Err(ureq::Error::Status(415, r)) = refused else { panic!("{refused:?}") };
    let errors: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    let said = errors[0]["description"].as_str().unwrap();
    assert!(said.contains("« hall.jpg »") && said.contains("n’est pas une photo JPEG, PNG, WebP ou HEIC"), "{said}");
    assert!(server.stop().success());
}

/// The DVQ's droit d'alerte: an open request made urgent with why, by an admin token only; the
/// routed service (and its referent) and the commune's own referent are emailed at once; the
/// request's steps say it.
#[test]
#[cfg_attr(
    domania_without_smtp,
    ignore = "needs the aiosmtpd Python package (pip install -r tools/mail/requirements.txt)"
)]
fn the_dvq_s_alert_makes_a_request_urgent_and_tells_its_service_and_commune() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::one_answer::demo_store(dir.path());
    let token = |name: &str, role: &str| {
        texts(&domania(&store, &["token", "create", "--name", name, "--role", role])).0.trim().to_owned()
    };
    let (key, editor, dvq) = (token("mairie", "reporter"), token("ctc", "editor"), token("dvq", "admin"));
    let sink = smtp(&dir.path().join("mail"));
    let server = serve_mailing(&store, &sink);
    let id = post(&server.url, &key, "Seringues dans le bac à sable", None);
    let before = wait_for(&sink, 2).len();
    // The answer's status and body.
    let alert = |token: &str, body: &str| {
        let answer = ureq::post(&format!("{}/v1/reports/{id}/alert", server.url))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .send_string(body);
        let r = match answer {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        (r.status(), r.into_string().unwrap())
    };
    // An editor has no droit d'alerte; the DVQ gives a reason.
    assert_eq!(alert(&editor, r#"{"note": "x"}"#).0, 403);
    let (status, said) = alert(&dvq, r#"{"note": "  "}"#);
    assert!(status == 400 && said.contains("droit d’alerte se motive"), "{status} {said}");
    let (status, done) = alert(&dvq, r#"{"note": "Aire de jeux fréquentée par des enfants"}"#);
    assert_eq!(status, 200, "{done}");
    let v: Value = serde_json::from_str(&done).unwrap();
    assert_eq!(v[0]["urgency"], "urgent", "{v}");

    let all = wait_for(&sink, before + 3);
    let mut told: Vec<String> = all[before..].iter().map(to).collect();
    told.sort();
    assert_eq!(told, ["dechets@example.org", "dst@ville-poissy.example.org", "tri.poissy@example.org"], "{all:?}");
    for m in &all[before..] {
        assert!(m["subject"].as_str().unwrap().contains(&format!("[Signalement {id}] Droit d’alerte")), "{m}");
        assert!(m["text"].as_str().unwrap().contains("Pourquoi : Aire de jeux fréquentée par des enfants"), "{m}");
    }
    let shown = ureq::get(&format!("{}/open311/v2/requests/{id}.json", server.url)).call().unwrap();
    let shown: Value = serde_json::from_str(&shown.into_string().unwrap()).unwrap();
    let last = shown[0]["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["by"].as_str()), (Some("alert"), Some("dvq")), "{last}");
    assert!(server.stop().success());
}

/// A commune's receiver (tools/webhook/receiver.py): checks signatures with `secret`, refuses
/// the first `fail_first` well-signed posts with 503; each post as a record.
fn receiver(folder: &Path, secret: &str, fail_first: usize) -> Helper {
    Helper::start("webhook/receiver.py", &[secret, folder.to_str().unwrap(), &fail_first.to_string()], folder)
}

/// The posts once `accepted` of them were accepted (at most a minute: a retry comes 30 s after
/// a failure).
fn wait_accepted(r: &Helper, accepted: usize) -> Vec<Value> {
    r.wait(|p| p.iter().filter(|x| x["code"] == 200).count() >= accepted, Duration::from_mins(1))
}

/// A commune's own software told of every request of the commune and of each step, by a signed
/// webhook: a receiver down at first gets the event after the retry, each event once; a
/// webhook of another commune hears nothing; a message is never sent unsigned.
#[test]
fn a_communes_software_hears_each_step_once_by_a_signed_webhook_after_retries() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::one_answer::demo_store(dir.path());
    let key =
        texts(&domania(&store, &["token", "create", "--name", "mairie", "--role", "reporter"])).0.trim().to_owned();
    let editor = texts(&domania(&store, &["token", "create", "--name", "ctc", "--role", "editor"])).0.trim().to_owned();
    let receiver = receiver(&dir.path().join("hooks"), "s3cret-de-poissy", 1);
    let rules = dir.path().join("rules-webhooks.toml");
    let base_rules = std::fs::read_to_string(dir.path().join("domania-demo/rules.toml")).unwrap();
    let hook = |name: &str, path: &str, commune: &str| {
        format!(
            "\n[[reports.webhook]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:{}/{path}\"\ncommunes = [\"{commune}\"]\n",
            receiver.port
        )
    };
    std::fs::write(&rules, base_rules + &hook("poissy", "poissy", "78498") + &hook("mantes", "mantes", "78361"))
        .unwrap();
    let secret_file = dir.path().join("secret-mantes");
    std::fs::write(&secret_file, "autre\n").unwrap();
    let env = [
        ("DOMANIA_WEBHOOK_SECRET_POISSY", Path::new("s3cret-de-poissy")),
        ("DOMANIA_WEBHOOK_SECRET_MANTES_FILE", secret_file.as_path()),
    ];
    let server = Server::start_env(&store, &["--rules", rules.to_str().unwrap()], &env);
    let id = post(&server.url, &key, "Sacs devant l'école", None);
    let moved = ureq::post(&format!("{}/v1/reports/{id}/status", server.url))
        .set("Authorization", &format!("Bearer {editor}"))
        .set("Content-Type", "application/json")
        .send_string(r#"{"status": "planned", "note": "Passage jeudi"}"#)
        .unwrap();
    assert_eq!(moved.status(), 200);
    // The first post was refused by the receiver (503); it comes again after 30 s, with the
    // change.
    let posts = wait_accepted(&receiver, 2);
    let accepted: Vec<&Value> = posts.iter().filter(|p| p["code"] == 200).collect();
    assert_eq!(accepted.len(), 2, "{posts:?}");
    assert!(posts.iter().all(|p| p["signed"] == true && p["path"] == "/poissy"), "{posts:?}");
    assert_eq!(posts.iter().filter(|p| p["code"] == 503).count(), 1, "{posts:?}");
    let events: Vec<&str> = accepted.iter().map(|p| p["event"]["event"].as_str().unwrap()).collect();
    assert!(events.contains(&"request.created") && events.contains(&"request.changed"), "{events:?}");
    let changed = accepted.iter().find(|p| p["event"]["event"] == "request.changed").unwrap();
    assert_eq!(changed["event"]["status"], "planned");
    assert_eq!(changed["event"]["note"], "Passage jeudi");
    assert_eq!(changed["event"]["request"]["service_request_id"], id.as_str());
    assert_eq!(changed["event"]["request"]["agency_responsible"], "Direction de la gestion des déchets");
    // Each delivery once: no id accepted twice.
    let mut ids: Vec<&str> = accepted.iter().map(|p| p["delivery"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(receiver.records().len(), posts.len(), "a delivery came again after it was accepted");
    assert!(server.stop().success());
    let listed = domania(&store, &["requests", "deliveries", "--format", "json"]);
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let hooks: Vec<&Value> = listed.iter().filter(|d| d["role"].as_str().unwrap().starts_with("webhook:")).collect();
    assert_eq!(hooks.len(), 2, "only Poissy's webhook was told: {hooks:?}");
    assert!(hooks.iter().all(|d| d["sent_at"].is_string()), "{hooks:?}");
}
