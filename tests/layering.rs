//! The layout the architecture promises, checked: the crates' dependency graph (from `cargo
//! metadata`), the front ends depending on the application only and writing no `json!`, the
//! test kit used by tests only, and no import circle between the modules of any crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::root;

/// The workspace's crates and their normal (not dev, not build) dependencies on each other.
fn workspace_graph() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let ours: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|n| ours.contains(n))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn the_crates_depend_downwards_and_the_front_ends_on_the_application_only() {
    let g = workspace_graph();
    let deps = |c: &str| -> Vec<&str> { g[c].iter().map(String::as_str).collect() };
    // The layers, bottom up: each may depend on those listed for it, never upwards.
    let allowed: [(&str, &[&str]); 12] = [
        ("domania-i18n", &[]),
        // Typst as a library: it knows nothing of Domania, only templates and figures.
        ("domania-typeset", &[]),
        ("domania-core", &[]),
        ("domania-rules", &["domania-core", "domania-i18n"]),
        ("domania-io", &["domania-core"]),
        ("domania-store", &["domania-core"]),
        ("domania-engine", &["domania-core", "domania-rules", "domania-store"]),
        ("domania-tiles", &["domania-core", "domania-engine", "domania-rules"]),
        (
            "domania-app",
            &[
                "domania-core",
                "domania-engine",
                "domania-i18n",
                "domania-io",
                "domania-rules",
                "domania-store",
                "domania-tiles",
                "domania-typeset",
            ],
        ),
        ("domania-server", &["domania-app"]),
        ("domania-cli", &["domania-app", "domania-server"]),
        ("domania-testkit", &["domania-core", "domania-engine", "domania-io", "domania-store"]),
    ];
    assert_eq!(g.len(), allowed.len(), "a crate this test does not know of: {:?}", g.keys().collect::<Vec<_>>());
    for (krate, may) in allowed {
        for d in deps(krate) {
            assert!(may.contains(&d), "{krate} depends on {d}; it may depend on {may:?} only");
        }
    }
    // The test kit is scaffolding: no library or binary depends on it.
    for (krate, ds) in &g {
        assert!(!ds.contains("domania-testkit"), "{krate} depends on the test kit outside its tests");
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_front_ends_build_no_json_by_hand() {
    for krate in ["domania-server", "domania-cli"] {
        for f in rust_files(&root().join("crates").join(krate).join("src")) {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(!text.contains("json!("), "{}: the front ends present typed answers; no json!", f.display());
        }
    }
}

/// A module's path in its crate (`pg::schema`), from its file.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
        parts.pop();
    }
    parts
}

/// The modules a file names: `crate::a::b…`, `super::x…`, and `child::…` for a child module it
/// declares; each as the longest prefix that is a module of the crate.
fn references(module: &[String], text: &str, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let children: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')).map(str::to_owned)
        })
        .collect();
    let mut out = BTreeSet::new();
    let mut resolve = |mut path: Vec<String>| {
        while !path.is_empty() {
            if modules.contains(&path) {
                out.insert(path);
                return;
            }
            path.pop();
        }
    };
    let words = |s: &str| -> Vec<String> {
        s.split("::").map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')).to_owned()).collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest: String =
            text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        resolve(words(&rest));
    }
    for (i, _) in text.match_indices("super::") {
        if text[..i].ends_with("use ")
            || text[..i].ends_with("::")
            || text[..i].ends_with(' ')
            || text[..i].ends_with('(')
        {
            let rest: String =
                text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut base = module[..module.len().saturating_sub(1)].to_vec();
            base.extend(words(&rest));
            resolve(base);
        }
    }
    for line in text.lines() {
        let l = line.trim_start();
        if let Some(rest) = l.strip_prefix("use ").or_else(|| l.strip_prefix("pub use ")) {
            let first = rest.split("::").next().unwrap_or("");
            if children.contains(first) {
                let mut p = module.to_vec();
                p.extend(words(rest.trim_end_matches(';')));
                resolve(p);
            }
        }
    }
    out
}

/// A circle in `edges`, if any (as the modules along it).
fn circle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        n: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    return Some(stack[at..].to_vec());
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, edges, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    for e in std::fs::read_dir(root().join("crates")).unwrap() {
        let src = e.unwrap().path().join("src");
        let files = rust_files(&src);
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for f in &files {
            let m = module_of(&src, f);
            if m.is_empty() {
                // The crate's root declares the modules and re-exports: it is no room of its own.
                continue;
            }
            // Comments (doc links among them) import nothing, nor do the inline test modules at
            // a file's end (their `super` is the file's own module).
            let text: String = std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .take_while(|l| l.trim() != "#[cfg(test)]")
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| format!("{l}\n"))
                .collect();
            let to: BTreeSet<Vec<String>> =
                references(&m, &text, &modules).into_iter().filter(|t| *t != m && !t.is_empty()).collect();
            edges.insert(m, to);
        }
        if let Some(c) = circle(&edges) {
            let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
            panic!("{}: a circle of imports: {}", src.display(), names.join(" → "));
        }
    }
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let m = |s: &str| vec![s.to_owned()];
    let edges = BTreeMap::from([
        (m("a"), BTreeSet::from([m("b")])),
        (m("b"), BTreeSet::from([m("c")])),
        (m("c"), BTreeSet::from([m("a")])),
    ]);
    assert_eq!(circle(&edges).map(|c| c.len()), Some(3));
    let modules = BTreeSet::from([m("state"), m("extract")]);
    assert_eq!(references(&m("extract"), "use crate::state::Shared;", &modules), BTreeSet::from([m("state")]));
}

/// The sentences written as literals in a front end's code (not its tests, doc comments, logs
/// or its API document): a literal of three words or more, its `{…}` placeholders left out, with the file it
/// is in (`domania-cli/src/commands/store.rs: copied {} to {}…`).
fn literal_sentences() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for krate in ["domania-server", "domania-cli"] {
        let src = root().join("crates").join(krate).join("src");
        // The API document is written for the programmers of clients, in English (as the
        // OGC's and GeoReport's own).
        for f in rust_files(&src).into_iter().filter(|f| !f.ends_with("openapi.rs")) {
            let text = std::fs::read_to_string(&f).unwrap();
            // The code before its tests.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let name = format!("{krate}/{}", f.strip_prefix(root().join("crates").join(krate)).unwrap().display());
            for line in code.lines() {
                let t = line.trim_start();
                if t.starts_with("//") || t.starts_with("#[") || t.contains("tracing::") {
                    continue;
                }
                for (i, piece) in line.split('"').enumerate() {
                    // Odd pieces are inside quotes (escaped quotes are rare in these sentences).
                    if i % 2 == 0 {
                        continue;
                    }
                    let mut words = 0;
                    let mut depth = 0;
                    let mut plain = String::new();
                    for c in piece.chars() {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ if depth == 0 => plain.push(c),
                            _ => {}
                        }
                    }
                    // Words of a sentence: lower-case words between spaces (not a path, a header
                    // or a media type).
                    for w in plain.split(' ') {
                        let w = w.trim_matches(|c: char| !c.is_alphabetic());
                        if w.chars().count() >= 2 && w.chars().all(|c| c.is_lowercase() || c == '\'' || c == '’') {
                            words += 1;
                        }
                    }
                    if words >= 3 {
                        found.insert(format!("{name}: {piece}"));
                    }
                }
            }
        }
    }
    found
}

/// What a person reads is said through the catalogues (`crates/domania-i18n/locales`): a
/// front end that writes a new sentence in its code fails this test. The sentences written
/// before the catalogues existed are listed in `tests/literal-sentences.txt` (technical
/// answers of the API, the CLI's administration commands); the list may only shrink: a
/// sentence moved into the catalogues is to be removed from it, and this test says which.
#[test]
fn the_front_ends_write_no_new_sentence_outside_the_catalogues() {
    let list = root().join("tests/literal-sentences.txt");
    // `DOMANIA_BLESS_SENTENCES=1` writes the list as the code is (to shrink it after moving
    // sentences into the catalogues; a review sees what changed).
    if std::env::var_os("DOMANIA_BLESS_SENTENCES").is_some() {
        let head = "# Sentences the front ends still write in their code (see tests/layering.rs). This list may only shrink.\n";
        let body: Vec<String> = literal_sentences().into_iter().collect();
        std::fs::write(&list, format!("{head}{}\n", body.join("\n"))).unwrap();
    }
    let listed: BTreeSet<String> = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let found = literal_sentences();
    let new: Vec<_> = found.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&found).collect();
    assert!(new.is_empty(), "sentences written outside the catalogues (say them with Lang::t): {new:#?}");
    assert!(
        gone.is_empty(),
        "sentences no longer in the code: remove them from tests/literal-sentences.txt: {gone:#?}"
    );
}

#[test]
fn the_sentence_finder_finds_sentences_and_leaves_placeholders() {
    let found = literal_sentences();
    assert!(found.iter().all(|s| s.starts_with("domania-server/src/") || s.starts_with("domania-cli/src/")));
    assert!(!found.iter().any(|s| s.contains("Accept-Language")), "a header name is not a sentence");
    assert!(!found.iter().any(|s| s.ends_with(": cadastre-synth-parcelles.json")), "a file name is not a sentence");
    assert!(!found.iter().any(|s| s.contains("openapi.rs")), "the API document is written for programmers");
    assert!(found.iter().any(|s| s.contains("copied {} to {}")), "the CLI's copy summary is a sentence");
}
