//! French for French users, English for those who ask: the reasons of the rule, through the
//! command line (its `--lang`, then its locale) and HTTP (`Accept-Language`), with no raw
//! identifier or English word in French and the same stable error codes in both.

use serde_json::Value;

use crate::one_answer::demo_store;
use crate::serve::Server;
use crate::support::{bad_input, command, domania, texts};

/// Words a French reader must never meet in an explanation: raw identifiers and English.
const NOT_FRENCH: [&str; 9] = [
    "bailleur_social",
    "communaute_urbaine",
    "green_spaces",
    "sub-sector",
    "delegated",
    "held by",
    "convention needed",
    "always goes",
    "default service",
];

fn french(text: &str) -> bool {
    let lower = text.to_lowercase();
    !NOT_FRENCH.iter().any(|w| lower.contains(w))
}

/// The `explanation` column of `domania assign --dry-run` run with `env` and `args`.
fn explanations(store: &std::path::Path, rules: &str, env: &[(&str, &str)], args: &[&str]) -> Vec<String> {
    let mut cmd = command(store);
    cmd.env_remove("DOMANIA_LANG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).args(["assign", "--dry-run", "--format", "csv", "--rules", rules]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let mut r = csv::Reader::from_reader(stdout.as_bytes());
    let at = r.headers().unwrap().iter().position(|h| h == "explanation").unwrap();
    r.records().map(|x| x.unwrap()[at].to_owned()).collect()
}

#[test]
fn the_rules_reasons_are_said_in_french_by_default_and_in_english_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let rules = dir.path().join("domania-demo/rules.toml");
    let rules = rules.to_str().unwrap();

    // The command line: French by default (a C locale says nothing), by the locale, or asked.
    for (env, args) in [
        (&[("LANG", "C.UTF-8")][..], &[][..]),
        (&[("LANG", "fr_FR.UTF-8")], &[]),
        (&[("LC_ALL", "en_GB.UTF-8")], &["--lang", "fr"]),
    ] {
        let said = explanations(&store, rules, env, args);
        assert!(!said.is_empty());
        let english: Vec<_> = said.iter().filter(|e| !french(e)).collect();
        assert!(english.is_empty(), "{env:?} {args:?}: {:?}", english.first());
        assert!(said.iter().any(|e| e.contains("« Nettoiement »")), "{:?}", said.first());
    }
    for (env, args) in [(&[("LANG", "en_US.UTF-8")][..], &[][..]), (&[("LANG", "fr_FR.UTF-8")], &["--lang", "en"])] {
        let said = explanations(&store, rules, env, args);
        assert!(said.iter().all(|e| e.contains("sub-sector") || e.contains("always goes")), "{:?}", said.first());
    }

    // HTTP: the request's language, French when it names neither.
    let server = Server::start_with(&store, &["--rules", rules]);
    let ask = |path: &str, lang: Option<&str>| -> (u16, Value) {
        let mut req = ureq::get(&format!("{}{path}", server.url));
        if let Some(l) = lang {
            req = req.set("Accept-Language", l);
        }
        let (status, body) = match req.call() {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        };
        (status, serde_json::from_str(&body).unwrap())
    };
    for (lang, is_french) in
        [(None, true), (Some("fr-FR,fr;q=0.9"), true), (Some("de-DE"), true), (Some("en-US,en;q=0.9"), false)]
    {
        let (status, v) = ask("/v1/subsectors/QN078001-03", lang);
        assert_eq!(status, 200);
        let mut said = vec![v["explanation"].as_str().unwrap().to_owned()];
        for s in v["spaces"].as_array().unwrap() {
            for m in s["managers"].as_array().unwrap() {
                said.push(m["explanation"].as_str().unwrap().to_owned());
            }
        }
        let (_, items) = ask("/collections/subsectors/items?limit=3", lang);
        for f in items["features"].as_array().unwrap() {
            said.push(f["properties"]["explanation"].as_str().unwrap().to_owned());
        }
        for e in &said {
            assert_eq!(french(e), is_french, "{lang:?}: {e}");
        }
        // An error's code does not change with the language.
        let (status, err) = ask("/v1/subsectors/NOPE", lang);
        assert_eq!((status, err["code"].as_str()), (404, Some("not_found")), "{lang:?}");
    }
}

/// English words and command-line or server details a French reader of an error, a refusal or
/// a table must never meet.
const ENGLISH: [&str; 14] = [
    "error:",
    "not in the store",
    "rejected",
    "nothing was",
    "imported",
    "use --",
    "pass --",
    "layer ",
    "feature ",
    "line ",
    "warning",
    "the file",
    "/tmp/",
    "median_hours",
];

fn no_english(text: &str) -> bool {
    let lower = text.to_lowercase();
    !ENGLISH.iter().any(|w| lower.contains(w))
}

/// `domania --lang LANG ARGS…` on the store: (success, stdout, stderr).
fn run(store: &std::path::Path, lang: &str, args: &[&str]) -> (bool, String, String) {
    let out = command(store).args(["--lang", lang]).args(args).output().unwrap();
    let (stdout, stderr) = texts(&out);
    (out.status.success(), stdout, stderr)
}

#[test]
fn errors_refusals_tables_and_walks_speak_french_and_english_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path());
    let bad = bad_input("repair-fails.json");
    let bad = bad.to_str().unwrap();

    // The demo's summary of each version: a whole layer said as such, in French.
    let demo = command(&dir.path().join("again.gpkg"))
        .current_dir(dir.path())
        .args(["--lang", "fr", "demo"])
        .output()
        .unwrap();
    let (summary, _) = texts(&demo);
    assert!(summary.contains("Couche des sous-secteurs, version 1 (import, « toute la couche »)"), "{summary}");
    assert!(!summary.contains("« layer »"), "{summary}");

    // A CLI error: French by default, English on request, and nothing of the other language.
    let (ok, _, fr) = run(&store, "fr", &["parcel", "78005000AB9999"]);
    assert!(!ok && fr.contains("erreur : La parcelle 78005000AB9999 n’est pas dans les données."), "{fr}");
    assert!(no_english(&fr), "{fr}");
    let (_, _, en) = run(&store, "en", &["parcel", "78005000AB9999"]);
    assert!(en.contains("error: Parcel 78005000AB9999 is not in the store."), "{en}");
    assert!(!en.contains("erreur") && !en.contains("données"), "{en}");

    // A refused file at the command line: each rejection and what to do, in the CLI's words.
    let (ok, _, fr) = run(&store, "fr", &["import", "subsectors", bad]);
    assert!(!ok);
    assert!(fr.contains("objet 0 : refusé [invalid_geometry] : la géométrie n’est pas valide"), "{fr}");
    assert!(fr.contains("rien n’a été importé") && fr.contains("--skip-invalid"), "{fr}");
    let (_, _, en) = run(&store, "en", &["import", "subsectors", bad]);
    assert!(en.contains("nothing was imported") && !en.contains("objet"), "{en}");

    // A table for a French spreadsheet; `--format csv` for programs, unchanged.
    let (ok, sheet, err) = run(&store, "fr", &["report", "service-levels"]);
    assert!(ok, "{err}");
    assert!(sheet.starts_with("\u{feff}par;groupe;mois;signalements;traités;délai médian (heures)"), "{sheet}");
    assert!(no_english(&sheet), "{sheet}");
    let (ok, shares, _) = run(&store, "fr", &["shares"]);
    assert!(ok);
    let row = shares.lines().nth(1).unwrap();
    assert!(row.contains(";Bailleur social;") && row.contains(','), "{row}");
    let (_, program, _) = run(&store, "fr", &["shares", "--format", "csv"]);
    assert!(program.starts_with("subsector_id,actor,"), "{program}");
    assert!(program.lines().nth(1).unwrap().contains(",bailleur_social,"), "{program}");

    // A walk's grid as a French spreadsheet saves it: BOM, French headers, a category by its
    // name, decimal commas.
    let walk = dir.path().join("tournée.csv");
    std::fs::write(
        &walk,
        "\u{feff}longitude;latitude;catégorie;remarque;photo\n1,806;48,927;Dépôt sauvage;Encombrants devant le hall;IMG_1.jpg\n",
    )
    .unwrap();
    let lists = dir.path().join("listes");
    let (ok, _, err) = run(
        &store,
        "fr",
        &["requests", "walk", walk.to_str().unwrap(), "--by", "DVQ", "--out", lists.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    let (_, listed, _) = run(&store, "fr", &["requests", "list", "--format", "json"]);
    assert!(
        listed.contains("\"service_code\": \"dumping\"") && listed.contains("Encombrants devant le hall"),
        "{listed}"
    );
    let headless = dir.path().join("sans-entete.csv");
    std::fs::write(&headless, "x;y;z\n1;2;3\n").unwrap();
    let (ok, _, fr) = run(
        &store,
        "fr",
        &["requests", "walk", headless.to_str().unwrap(), "--by", "DVQ", "--out", lists.to_str().unwrap()],
    );
    assert!(!ok && fr.contains("l’en-tête doit nommer les colonnes"), "{fr}");

    // The annual report's figures as France writes them.
    let annual = dir.path().join("annuel");
    let (ok, _, err) = run(&store, "fr", &["report", "annual", "--out", annual.to_str().unwrap()]);
    assert!(ok, "{err}");
    let md = std::fs::read_dir(&annual)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-territoire.md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap();
    assert!(md.contains("\u{a0}ha |") && !md.contains(" h |"), "{md}");

    // HTTP: an upload refused for the person in the viewer (no flag, no path), the same code
    // in English.
    let server = Server::start_with(&store, &[]);
    let out = domania(&store, &["token", "create", "--name", "sig", "--role", "editor"]);
    let token = texts(&out).0.trim().to_owned();
    let body = std::fs::read(bad).unwrap();
    for (lang, french_words) in [("fr", true), ("en", false)] {
        let answer = ureq::post(&format!("{}/v1/layers/subsectors", server.url))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/geo+json")
            .set("Accept-Language", lang)
            .send_bytes(&body);
        let Err(ureq::Error::Status(422, r)) = answer else { panic!("{lang}: not refused") };
        let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
        assert_eq!(v["code"], "features_rejected");
        let message = v["message"].as_str().unwrap();
        let issue = v["details"]["issues"][0]["message"].as_str().unwrap();
        assert!(!message.contains("--") && !message.contains("/tmp"), "{message}");
        if french_words {
            assert!(message.contains("cochez « Importer les objets valides") && no_english(message), "{message}");
            assert!(issue.starts_with("la géométrie n’est pas valide"), "{issue}");
        } else {
            assert!(message.contains("tick") && !message.contains("objet"), "{message}");
        }
    }
}
