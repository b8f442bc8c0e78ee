//! French for French users, English for those who ask: the reasons of the rule, through the
//! command line (its `--lang`, then its locale) and HTTP (`Accept-Language`), with no raw
//! identifier or English word in French and the same stable error codes in both.

use serde_json::Value;

use crate::one_answer::demo_store;
use crate::serve::Server;
use crate::support::{command, texts};

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
    let out = cmd.args(args).args(["assign", "--dry-run", "--rules", rules]).output().unwrap();
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
