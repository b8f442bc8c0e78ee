//! One use case, one answer: for the same question on the same store, the command line and the
//! HTTP server give the same figures and the same messages (both call the same use case of
//! `domania-app`; this test fails if either front end starts computing on its own).

use serde_json::Value;

use crate::serve::Server;
use crate::support::{command, texts};

/// The demo territory in `dir` (its files in `dir/domania-demo`), stored in `dir/demo.gpkg`.
pub(crate) fn demo_store(dir: &std::path::Path) -> std::path::PathBuf {
    let store = dir.join("demo.gpkg");
    let out = command(&store).current_dir(dir).arg("demo").output().expect("run domania demo");
    assert!(out.status.success(), "{}", texts(&out).1);
    store
}

/// `domania --json ARGS…` on the store: its standard output as JSON.
fn cli_json(store: &std::path::Path, args: &[&str]) -> Value {
    let out = command(store).arg("--json").args(args).output().expect("run domania");
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "domania {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("domania {args:?}: {e}: {stdout}"))
}

/// The message of a failing `domania --lang LANG ARGS…` (its standard error without the
/// `error: ` or `erreur : ` prefix).
fn cli_error(store: &std::path::Path, lang: &str, args: &[&str]) -> String {
    let out = command(store).args(["--lang", lang]).args(args).output().expect("run domania");
    let (stdout, stderr) = texts(&out);
    assert!(!out.status.success(), "domania {args:?} should fail: {stdout}");
    let prefix = if lang == "fr" { "erreur : " } else { "error: " };
    let line = stderr.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no error line: {stderr}"));
    line[prefix.len()..].to_owned()
}

/// GET `url`: status and body as JSON.
fn http_json(url: &str) -> (u16, Value) {
    http_json_in(url, "en")
}

/// GET `url` asking for `lang`: status and body as JSON.
fn http_json_in(url: &str, lang: &str) -> (u16, Value) {
    let (status, body) = match ureq::get(url).set("Accept-Language", lang).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{url}: {e}"),
    };
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}")))
}

#[test]
fn the_command_line_and_http_give_the_same_figures_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let files = dir.path().join("domania-demo");
    let rules = files.join("rules.toml");
    let rules = rules.to_str().unwrap();
    let server = Server::start_with(&store, &["--rules", rules]);
    let base = &server.url;

    // A QPV's report: the same document, to the last digit.
    let cli = cli_json(&store, &["report", "qpv", "QN078001", "--format", "json"]);
    let (status, http) = http_json(&format!("{base}/v1/qpv/QN078001/report"));
    assert_eq!(status, 200, "{http}");
    assert_eq!(cli, http, "the QPV report differs between the command line and HTTP");
    assert!(cli["by_actor"].as_object().is_some_and(|a| !a.is_empty()), "{cli}");

    // An unknown QPV, parcel, or a malformed IDU: the same message, in each language, with
    // the same code.
    for (args, path) in [
        (vec!["report", "qpv", "QN999"], "/v1/qpv/QN999/report"),
        (vec!["parcel", "78005000AB9999"], "/v1/parcels/78005000AB9999"),
        (vec!["parcel", "pas-un-idu"], "/v1/parcels/pas-un-idu"),
    ] {
        let mut codes = Vec::new();
        for lang in ["fr", "en"] {
            let message = cli_error(&store, lang, &args);
            let (status, http) = http_json_in(&format!("{base}{path}"), lang);
            assert!((400..500).contains(&status), "{path}: {status} {http}");
            assert_eq!(http["message"].as_str(), Some(message.as_str()), "{args:?} and {path} in {lang}");
            codes.push(http["code"].clone());
        }
        assert_eq!(codes[0], codes[1], "{path}: the code changed with the language");
    }

    // A parcel: the figures HTTP serves are the command line's (which adds its history).
    let cli = cli_json(&store, &["parcel", "78005000AB0187"]);
    let (status, http) = http_json(&format!("{base}/v1/parcels/78005000AB0187"));
    assert_eq!(status, 200, "{http}");
    for field in ["idu", "area_m2", "contenance_m2", "actor", "owner_file"] {
        assert_eq!(cli[field], http[field], "parcel field {field}");
    }
    let names = |v: &Value| -> Vec<(Value, Value, Value)> {
        v["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["siren"].clone(), o["name"].clone(), o["actor"].clone()))
            .collect()
    };
    assert_eq!(names(&cli), names(&http));

    // A sub-sector's shares and decision: `shares` (every sub-sector) against one sub-sector.
    let shares = cli_json(&store, &["shares", "--rules", rules, "--format", "json"]);
    let zones = shares["zones"].as_array().unwrap();
    assert!(zones.len() > 1);
    for zone in zones {
        let id = zone["key"].as_str().unwrap();
        let (status, http) = http_json(&format!("{base}/v1/subsectors/{id}"));
        assert_eq!(status, 200, "{http}");
        for field in ["name", "area_m2", "cadastre_m2", "non_cadastre_m2"] {
            assert_eq!(zone[field], http[field], "{id}: {field}");
        }
        for (actor, figures) in zone["by_actor"].as_object().unwrap() {
            assert_eq!(figures["share"], http["shares"][actor], "{id}: share of {actor}");
        }
        let owners = |v: &Value| -> Vec<(Value, Value)> {
            v["by_owner"].as_array().unwrap().iter().map(|o| (o["siren"].clone(), o["area_m2"].clone())).collect()
        };
        assert_eq!(owners(zone), owners(&http), "{id}: owners");
    }

    // A remembrement scenario: the TOML file on the command line, the same transfers as JSON
    // over HTTP, the same outcome, its reasons in the same words in French and in English.
    let scenario = files.join("scenario-example.toml");
    let body = serde_json::json!({
        "name": "Îlot QN078001-03 : cession du square communal au bailleur",
        "transfer": [
            {"idu": "78005000AB0187", "note": "cession du square, délibération à venir",
             "to": {"siren": "900000045", "name": "FOYERS ET LOGIS SA D'HLM", "actor": "bailleur_social"}},
            {"polygon": [[612_744.0, 6_870_356.0], [612_854.0, 6_870_356.0], [612_854.0, 6_870_362.0], [612_744.0, 6_870_362.0]],
             "note": "élargissement du mail piéton",
             "to": {"siren": "200059889", "name": "COMMUNAUTE URBAINE GRAND PARIS SEINE ET OISE", "actor": "communaute_urbaine"}}
        ]
    });
    let mut said = Vec::new();
    for lang in ["fr", "en"] {
        let cli = cli_json(
            &store,
            &["--lang", lang, "scenario", "--rules", rules, "--format", "json", scenario.to_str().unwrap()],
        );
        let http = ureq::post(&format!("{base}/v1/scenarios"))
            .set("Content-Type", "application/json")
            .set("Accept-Language", &format!("{lang};q=1, de;q=0.5"))
            .send_string(&body.to_string())
            .expect("POST /v1/scenarios");
        let http: Value = serde_json::from_str(&http.into_string().unwrap()).unwrap();
        assert_eq!(cli, http, "the scenario differs between the command line and HTTP in {lang}");
        assert!(cli["subsectors_changed"].as_array().is_some_and(|c| !c.is_empty()), "{cli}");
        said.push(cli["subsectors_changed"][0]["decision_after"].as_str().unwrap().to_owned());
    }
    assert!(said[0].contains("gestion déléguée à « Bailleur social »"), "{}", said[0]);
    assert!(said[1].contains("delegated to bailleur_social"), "{}", said[1]);
}
