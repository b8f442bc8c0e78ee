//! The map viewer in a real browser: `domania serve` on the demo territory, Debian's chromium
//! (headless, WebGL through SwiftShader) driven by playwright-core (`tools/browser`, installed by
//! .ci/run with `npm ci --prefix tools/browser`). The browser script checks the map, the search,
//! the popup, the legend, an upload and the cahier's PDF (see tools/browser/viewer-test.mjs);
//! this test prepares the territory, reads the script's summary and checks its artefacts:
//! screenshots at 1,440 and 375 px and the PDF, left in `target/viewer-test/`.

use std::process::Command;

use crate::serve::Server;
use crate::support::{domania, root, shared_data, texts};

#[test]
#[cfg_attr(
    any(domania_without_browser, domania_without_poppler),
    ignore = "needs Chromium, playwright-core and poppler: apt-get install chromium poppler-utils; npm ci --prefix tools/browser"
)]
fn the_viewer_in_headless_chromium_shows_who_maintains_each_space() {
    let script = root().join("tools/browser/viewer-test.mjs");
    let playwright = root().join("tools/browser/node_modules/playwright-core");
    assert!(
        playwright.exists(),
        "{} is missing: npm ci --prefix tools/browser (done by .ci/run)",
        playwright.display()
    );
    let chromium = std::env::var("DOMANIA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: apt-get install chromium (done by .ci/run)"
    );

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let data = root().join("data");
    let out = domania(&store, &["demo", "--dir", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let out = domania(&store, &["token", "create", "--name", "sig", "--role", "editor"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let token = texts(&out).0.trim().to_owned();
    // The new version the page uploads: half of the sub-sectors.
    let mut subsectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("subsectors-synth.geojson")).unwrap()).unwrap();
    let features = subsectors["features"].as_array_mut().unwrap();
    let kept = features.len() / 2;
    features.truncate(kept);
    let upload = dir.path().join("sous-secteurs.geojson");
    std::fs::write(&upload, subsectors.to_string()).unwrap();

    let server = Server::start(&store);
    let artefacts = root().join("target/viewer-test");
    let _ = std::fs::remove_dir_all(&artefacts);
    let run = Command::new("node")
        .arg(&script)
        .args([server.url.as_str(), artefacts.to_str().unwrap(), token.as_str(), upload.to_str().unwrap()])
        // A file whose only feature is rejected: refused in French, then in English.
        .arg(crate::support::bad_input("repair-fails.json"))
        .env("DOMANIA_CHROMIUM", &chromium)
        .output()
        .expect("node (Node.js 20) runs the browser script");
    let (stdout, stderr) = texts(&run);
    assert!(run.status.success(), "the browser test failed:\n{stderr}\n{stdout}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    eprintln!("viewer: {summary}");

    // What the script saw, checked again here.
    assert_eq!(summary["foreign_requests"], 0);
    assert!(summary["rendered"]["spaces"].as_u64().unwrap() > 0);
    assert_eq!(summary["upload"]["subsectors_drawn_after"].as_u64(), Some(kept as u64));
    assert!(summary["popup"]["manager"].as_str().is_some_and(|m| !m.is_empty()));
    // The legend's colours as the page shows them keep their distance (CIEDE2000 ≥ 15).
    for (view, colours) in summary["legend_colours"].as_object().unwrap() {
        let colours: Vec<&str> = colours.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        // Waste goes to one department everywhere: one line; cleaning to several services.
        assert!(colours.len() >= if view == "cleaning" { 3 } else { 1 }, "{view}: {colours:?}");
        if let Some((d, a, b)) = domania_app::colour::closest(&colours) {
            assert!(d >= domania_app::colour::MIN_DISTANCE, "{view}: {a} and {b} are {d:.1} apart");
        }
    }
    // The artefacts: two screenshots that are maps, and a PDF of the cahier.
    for (file, width) in [("viewer-1440.png", 1440), ("viewer-375.png", 375)] {
        let png = std::fs::read(artefacts.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{file} is not a PNG");
        // IHDR's width: the map's width on the page (the panel beside it at 1,440 px; all of
        // it, at twice the pixels, on a phone).
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert!(w > 0 && w <= width * 2, "{file}: {w} px wide");
    }
    let pdf = std::fs::read(summary["cahier"]["pdf"].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "the cahier's PDF");
    let pages = pdf.windows(12).filter(|w| w.starts_with(b"/Type /Page") && w[11] != b's').count();
    assert!((1..=4).contains(&pages), "the cahier's PDF has {pages} A4 pages");
    eprintln!("viewer: the cahier prints on {pages} A4 page(s)");
    // The cahier to sign, as the panel's link gives it: its first page as a picture beside the
    // screenshots.
    let signed = summary["cahier"]["typeset"].as_str().expect("the typeset cahier");
    let png = artefacts.join("cahier-pdf-page-1");
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "80", "-f", "1", "-l", "1", "-png", "-singlefile", signed])
        .arg(&png)
        .output()
        .expect("pdftoppm runs");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(png.with_extension("png")).unwrap().starts_with(b"\x89PNG"));
    assert_eq!(server.stop().code(), Some(0));
}

/// A SIG officer's first import — the cadastre of Paris 18e alone, then with its owners — opens
/// on a map that draws parcels (who owns them, one by one), and says what is missing.
#[test]
#[cfg_attr(
    domania_without_browser,
    ignore = "needs chromium and the browser script's packages (apt-get install chromium; npm ci --prefix tools/browser)"
)]
fn the_first_view_of_a_cadastre_only_store_draws_parcels() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    let out = domania(&store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let artefacts = root().join("target/first-view");
    let _ = std::fs::create_dir_all(&artefacts);
    let look = |queries: &[&str]| {
        let server = Server::start(&store);
        let run = Command::new("node")
            .arg(root().join("tools/browser/first-view.mjs"))
            .args([server.url.as_str(), artefacts.to_str().unwrap()])
            .args(queries)
            .env("DOMANIA_CHROMIUM", std::env::var("DOMANIA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .output()
            .expect("node runs the browser script");
        let (stdout, stderr) = texts(&run);
        assert!(run.status.success(), "the first view draws no parcel:\n{stderr}\n{stdout}");
        serde_json::from_str::<serde_json::Value>(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    let first = look(&[]);
    eprintln!("first view, cadastre only: {first}");
    assert_eq!(first["view"], "owners", "{first}");
    assert!(first["parcels_drawn"].as_u64().unwrap() > 100, "{first}");
    assert_eq!(first["missing"], "subsectors,owners", "{first}");
    // The legend lists what is on the map: every parcel's owner is unknown.
    assert_eq!(first["legend"].as_array().unwrap().len(), 1, "{first}");
    assert!(first["status"].as_str().unwrap().contains("ucun sous-secteur n’est chargé"), "{first}");
    // Where am I: the sections drawn and named; no street yet (no address without the owners).
    assert!(first["sections_drawn"].as_u64().unwrap() > 0 && first["section_labels"].as_u64().unwrap() > 0, "{first}");
    assert_eq!(first["street_labels"], 0, "{first}");
    let out =
        domania(&store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    // Then found as people look for a place: a real address of the owner file (11 rue Ordener
    // is parcel CK 28 there), the same with a typo and abbreviated with its postcode, a
    // commune by its name, a section.
    let second = look(&["11 rue Ordener", "11 rue ordner", "11 R ORDENER 75018", "paris 18e", "75118 CK"]);
    eprintln!("first view, with owners: {second}");
    // The owner file's street addresses name the streets.
    assert!(second["street_labels"].as_u64().unwrap() > 5, "{second}");
    let searches = second["searches"].as_array().unwrap();
    for s in &searches[..3] {
        assert_eq!(s["found"], "address:75118000CK0028", "{s}");
        assert_eq!(s["answer"], "75118000CK0028", "the address's answer opens: {s}");
        assert!(s["first"].as_str().unwrap().contains("11 RUE ORDENER"), "{s}");
        assert!(s["first"].as_str().unwrap().contains("DGFiP"), "the source is said: {s}");
    }
    assert_eq!(searches[3]["found"], "commune:75118", "{}", searches[3]);
    assert_eq!(searches[4]["found"], "section:75118000CK", "{}", searches[4]);
    assert!(second["parcels_drawn"].as_u64().unwrap() > 100 && second["missing"] == "subsectors", "{second}");
    let legend = second["legend"].as_array().unwrap();
    assert!(
        (4..14).contains(&legend.len())
            && !legend.iter().any(|l| l.as_str().unwrap().starts_with("Propriétaire inconnu")),
        "{second}"
    );
}
