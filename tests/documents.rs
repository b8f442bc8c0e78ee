//! The documents Domania typesets itself (PDF), read back by an independent reader: poppler's
//! `pdfinfo` and `pdftotext`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::serve::Server;
use crate::support::{domania, root, texts};

/// What `pdfinfo` says of a PDF: its pages and page size.
fn info(pdf: &Path) -> (usize, String, String) {
    let out = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo runs");
    assert!(out.status.success(), "pdfinfo {}: {}", pdf.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim_start_matches(':').trim().to_owned()))
            .unwrap_or_default()
    };
    (field("Pages").parse().expect("a page count"), field("Page size"), field("Title"))
}

/// The text of each page, in reading order (`pdftotext`, pages split at form feeds).
fn pages(pdf: &Path) -> Vec<String> {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext {}", pdf.display());
    let text = String::from_utf8(out.stdout).expect("UTF-8 text");
    text.split('\u{c}').filter(|p| !p.trim().is_empty()).map(str::to_owned).collect()
}

/// Every page is A4 and says `page K / N`; no page ends on one of `headings` (a heading is
/// kept with what follows it).
fn paged(pdf: &Path, headings: &[&str]) -> Vec<String> {
    let (n, size, _) = info(pdf);
    assert!(size.contains("595.") && size.contains("841.") && size.contains("A4"), "{size}");
    let texts = pages(pdf);
    assert_eq!(texts.len(), n, "pdftotext reads as many pages as pdfinfo counts");
    for (k, page) in texts.iter().enumerate() {
        let numbered = format!("page {} / {n}", k + 1);
        assert!(page.contains(&numbered), "page {} lacks « {numbered} »:\n{page}", k + 1);
        // The last line of the page's body (the footer is the reference and the number).
        let body: Vec<&str> = page.lines().map(str::trim).filter(|l| !l.is_empty() && !l.contains(&numbered)).collect();
        let last = body.iter().rev().find(|l| !l.contains(" · ")).copied().unwrap_or_default();
        assert!(!headings.contains(&last), "page {} ends on the heading « {last} »", k + 1);
    }
    texts
}

/// Page 1 of `pdf` as a PNG in `target/documents/`, to look at.
fn screenshot(pdf: &Path, name: &str) {
    let dir = root().join("target/documents");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-r", "80", "-f", "1", "-l", "1", "-png", "-singlefile"])
        .arg(pdf)
        .arg(dir.join(name))
        .output()
        .expect("pdftoppm runs");
    assert!(out.status.success(), "pdftoppm {}", String::from_utf8_lossy(&out.stderr));
}

const CAHIER_HEADINGS: [&str; 8] = [
    "Données et versions",
    "Plan du sous-secteur",
    "Propriété du sol",
    "Décision de gestion",
    "Qui fait quoi",
    "Conventions",
    "Signatures",
    "Annexe — les espaces du sous-secteur",
];

/// A demo store in a new folder.
fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("demo.gpkg");
    let out = domania(&store, &["demo", "--dir", root().join("data").to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    (dir, store)
}

/// Words as pdftotext gives them, one space apart, typographic apostrophes as typed.
fn flat(texts: &[String]) -> String {
    texts.join("\n").replace('’', "'").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
#[cfg_attr(domania_without_poppler, ignore = "needs poppler's pdftotext and pdfinfo: apt-get install poppler-utils")]
fn the_cahier_and_the_annuaire_are_pdfs_a_reader_opens_and_the_same_data_gives_the_same_bytes() {
    let (dir, store) = demo();
    let (a, b) = (dir.path().join("a.pdf"), dir.path().join("b.pdf"));
    for file in [&a, &b] {
        let out = domania(&store, &["cahier", "QN078001-03", "--out", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", texts(&out).1);
    }
    let bytes = std::fs::read(&a).unwrap();
    assert_eq!(bytes, std::fs::read(&b).unwrap(), "two cahiers of the same versions are the same bytes");
    let (_, _, title) = info(&a);
    assert_eq!(title, "Cahier des charges localisé — sous-secteur QN078001-03");
    let read = paged(&a, &CAHIER_HEADINGS);
    let all = read.join("\n");
    // Where it is, in words.
    for said in [
        "Cahier des charges localisé",
        "Sous-secteur QN078001-03",
        "Communauté urbaine Grand Paris Seine & Oise",
        "Achères",
        "Quartier synthétique 1 (QN078001)",
    ] {
        assert!(all.contains(said), "the cahier lacks « {said} »:\n{all}");
    }
    // The versions of its data and their vintages, without a path of the importer's machine.
    for said in [
        "Données et versions",
        "Parcelles (plan cadastral)",
        "cadastre-synth-parcelles.json ; parcelles mises à jour jusqu'au",
        "Quartiers prioritaires (QPV)",
        "géographie prioritaire 2024",
        "Règles de gestion",
        "empreinte",
    ] {
        assert!(all.contains(said), "the cahier lacks « {said} »:\n{all}");
    }
    assert!(!all.contains(root().to_str().unwrap()), "no path of this machine");
    // The map's scale, north arrow and bar, the shares with the threshold's line, the decision.
    assert!(all.contains("Échelle 1/") && all.contains("Situation dans le quartier"), "{all}");
    assert!(read[0].lines().any(|l| l.trim() == "N"), "a north arrow:\n{}", read[0]);
    let bar = |l: &str| {
        let n = l.trim().trim_end_matches(" km").trim_end_matches(" m");
        n != l.trim() && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
    };
    assert!(read[0].lines().any(bar), "a scale bar's length (« 20 m »):\n{}", read[0]);
    assert!(all.contains("seuil de 60,0 %"), "the threshold's line is named:\n{all}");
    assert!(all.contains("52,0 % — 4 579 m²"), "the bailleur's share of the cadastré land:\n{all}");
    assert!(all.contains("du sol cadastré (la voirie non cadastrée est hors calcul)"), "{all}");
    assert!(all.contains("Gestion selon la domanialité — une convention est à établir."), "{all}");
    // Who signs: each party, « lu et approuvé ».
    for party in ["Pour : Bailleur social", "Pour : Communauté urbaine (EPCI)"] {
        assert!(all.contains(party), "the cahier lacks « {party} »:\n{all}");
    }
    assert!(all.matches("« lu et approuvé »").count() >= 2, "{all}");
    assert!(all.contains("Annexe — les espaces du sous-secteur"));

    screenshot(&a, "cahier-QN078001-03");

    // The server gives the same cahier, and the annuaire: one table per service.
    let server = Server::start(&store);
    let get = |path: &str| {
        let r = ureq::get(&format!("{}{path}", server.url)).timeout(Duration::from_mins(1)).call().expect(path);
        assert_eq!(r.header("content-type"), Some("application/pdf"), "{path}");
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
        body
    };
    assert_eq!(get("/subsectors/QN078001-03/cahier.pdf"), bytes, "the server's cahier is the command's");
    let annuaire = dir.path().join("annuaire.pdf");
    std::fs::write(&annuaire, get("/annuaire.pdf")).unwrap();
    let all = flat(&paged(&annuaire, &["CTC Seine Aval", "Services techniques municipaux"]));
    assert_eq!(all.matches("CTC Seine Aval").count(), 1, "each service once:\n{all}");
    assert!(all.contains("Le propriétaire (domaine privé)") && all.contains("Là où le sol appartient"), "{all}");
    assert!(all.contains("Poissy (78498)") && all.contains("toutes les communes du territoire"), "{all}");
    match ureq::get(&format!("{}/subsectors/NOPE/cahier.pdf", server.url)).call() {
        Err(ureq::Error::Status(code, _)) => assert_eq!(code, 404),
        other => panic!("an unknown sub-sector: {other:?}"),
    }
}

#[test]
#[cfg_attr(domania_without_poppler, ignore = "needs poppler's pdftotext and pdfinfo: apt-get install poppler-utils")]
fn the_annual_report_is_charts_for_the_territory_and_each_commune_with_their_figures() {
    let (dir, store) = demo();
    // The annual report: a walk's observations, then a PDF of charts for the territory and
    // one per commune, each with the CSV of its figures.
    let walk = dir.path().join("tournee.csv");
    std::fs::write(
        &walk,
        "\u{feff}longitude;latitude;catégorie;remarque;photo\n1,806;48,927;Dépôt sauvage;Encombrants;IMG_1.jpg\n\
         1,8065;48,9272;Dépôt sauvage;Sacs;IMG_2.jpg\n1,807;48,9268;Dépôt sauvage;Matelas;IMG_3.jpg\n",
    )
    .unwrap();
    let lists = dir.path().join("listes");
    let out =
        domania(&store, &["requests", "walk", walk.to_str().unwrap(), "--by", "DVQ", "--out", lists.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let annual = dir.path().join("annuel");
    let out = domania(&store, &["report", "annual", "--year", "2026", "--out", annual.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let pdfs: Vec<_> = std::fs::read_dir(&annual)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    assert!(pdfs.len() >= 3, "the territory's and a commune's at least: {pdfs:?}");
    for pdf in &pdfs {
        assert!(pdf.with_extension("csv").is_file(), "the figures beside {}", pdf.display());
    }
    let territory = annual.join("annual-2026-territoire.pdf");
    let all = flat(&paged(&territory, &["Les signalements reçus", "Les délais", "Le sol des quartiers"]));
    for title in [
        "Bilan annuel des signalements 2026",
        "3 signalements reçus",
        "Signalements par type d'intervention",
        "Signalements par service",
        "Signalements par mois en 2026",
        "Délais par service, au regard du niveau de service attendu",
        "Délais par quartier prioritaire",
        "Doublons et urgences à vérifier, par service",
        "Sol des sous-secteurs par propriétaire, par quartier prioritaire",
        "Carte des signalements de l'année",
        "Les signalements de 2026 dans le quartier Quartier synthétique 1 (QN078001)",
        "nombre de signalements",
        "surface en hectares",
        "Quartier synthétique 1 (QN078001)",
        "Direction de la gestion des déchets",
    ] {
        assert!(all.contains(title), "the annual report lacks « {title} »:\n{all}");
    }
    let csv = std::fs::read_to_string(territory.with_extension("csv")).unwrap();
    for table in ["\nservice,", "\nmonth,2026-01,", "\nqpv,QN078001,", "\nqpv_land,QN078001,"] {
        assert!(csv.contains(table), "the CSV lacks the figures of « {table} »:\n{csv}");
    }
    screenshot(&territory, "annual-2026-territoire");

    // The service levels as a French table and a chart.
    let levels = dir.path().join("niveaux.pdf");
    let out = domania(&store, &["report", "service-levels", "--pdf", levels.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let all = flat(&paged(&levels, &["Les délais attendus", "Les délais constatés"]));
    for said in [
        "Niveaux de service",
        "Les délais attendus",
        "Selon la saison",
        "avril, mai, juin, juillet, août, septembre : 21 jours (14 jours en QPV)",
        "décembre 2026",
        "Collecte des déchets et encombrants",
        "Direction de la gestion des déchets",
        "Part des signalements traités dans le délai attendu, par service et par mois",
    ] {
        assert!(all.contains(said), "the service levels lack « {said} »:\n{all}");
    }
}

#[test]
#[cfg_attr(domania_without_poppler, ignore = "needs poppler's pdftotext and pdfinfo: apt-get install poppler-utils")]
fn a_walk_goes_on_paper_and_back_and_each_service_gets_its_sheet() {
    let (dir, store) = demo();
    // A walk on paper and back: the sheet (route and grid), the grid typed in with French
    // headers, each service's sheet to print.
    let sheet = dir.path().join("marche.pdf");
    let out = domania(&store, &["requests", "walk-sheet", "QN078001", "--out", sheet.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let all = flat(&paged(&sheet, &["Le parcours", "Grille d'observation", "Les catégories"]));
    for said in [
        "Diagnostic en marchant",
        "Quartier synthétique 1 (QN078001)",
        "N° Point Lieu Catégorie Description Urgence Photo (réf.)",
        "Dépôt sauvage, encombrants",
        "QN078001-03",
    ] {
        assert!(all.contains(said), "the walk sheet lacks « {said} »:\n{all}");
    }
    let grid = dir.path().join("grille.csv");
    std::fs::write(
        &grid,
        "\u{feff}point;lieu;catégorie;description;urgence;photo\n3;devant le hall B;Dépôt sauvage;Matelas;oui;IMG_12\n\
         1;;Dépôt sauvage;Sacs;;\n;;;;;\n",
    )
    .unwrap();
    let sheets = dir.path().join("fiches");
    let walk_grid = |extra: &[&str]| {
        let mut args =
            vec!["requests", "walk", grid.to_str().unwrap(), "--by", "DVQ", "--out", sheets.to_str().unwrap()];
        args.extend_from_slice(extra);
        domania(&store, &args)
    };
    let refused = walk_grid(&[]);
    assert!(
        !refused.status.success() && texts(&refused).1.contains("QPV"),
        "a grid without its QPV: {}",
        texts(&refused).1
    );
    let out = walk_grid(&["--qpv", "QN078001"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let all = flat(&paged(&sheets.join("cu-dechets.pdf"), &["Où", "Quoi et qui"]));
    for said in [
        "les observations pour Direction de la gestion des déchets",
        "devant le hall B (point 3) : Matelas",
        "photo : IMG_12",
        "dit urgent, à vérifier",
        "Gestionnaire",
    ] {
        assert!(all.contains(said), "the service's sheet lacks « {said} »:\n{all}");
    }
    std::fs::write(&grid, "point;catégorie;description\n99;Dépôt sauvage;Sacs\n").unwrap();
    let refused = walk_grid(&["--qpv", "QN078001"]);
    let said = texts(&refused).1;
    assert!(!refused.status.success() && said.contains("line 2") && said.contains("point 99"), "{said}");
}
