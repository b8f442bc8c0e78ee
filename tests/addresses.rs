//! Addresses: a file in the Base Adresse Nationale's published format, made here from the real
//! parcels and street addresses of Paris 18e (no real BAN extract of these communes is in a
//! public repository we could find), imported as the `addresses` layer and searched; where the
//! BAN is not loaded, the owner file's street addresses answer, and each answer says which.

use std::io::Write as _;

use crate::support::{domania, shared_data, texts};

/// The BAN's header, as adresse.data.gouv.fr publishes `adresses-NN.csv.gz`.
const HEADER: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles";

/// `RUE DU MARCHE ORDENER` → `Rue Du Marche Ordener`: the BAN writes names in mixed case.
fn title(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// A BAN file of Paris 18e: one address per numbered street address the owner file gives a
/// parcel of the cadastre, at the parcel's inner point (Lambert-93), the parcel in
/// `cad_parcelles`; and a row the BAN would never publish (no commune code), refused by line.
fn ban_of_paris(out: &std::path::Path) -> usize {
    use geo::InteriorPoint;
    let mut points = std::collections::HashMap::new();
    domania_io::cadastre::read_cadastre_with(
        &shared_data("cadastre-75118-parcelles.json"),
        domania_io::features::ReadOptions::default(),
        |p| {
            if let Some(pt) = p.geom_l93.interior_point() {
                points.insert(p.idu.to_string(), (pt.x(), pt.y()));
            }
        },
    )
    .unwrap();
    let ppm = domania_io::ppm::read_ppm(&shared_data("dgfip_pm/PM_25_NB_750_part_003.csv"), None).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut lines = vec![HEADER.to_owned()];
    for r in &ppm.rows {
        let Some(address) = &r.address else { continue };
        let Some(&(x, y)) = points.get(r.idu.as_str()) else { continue };
        let mut words = address.split_whitespace();
        let Some(numero) = words.next().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let rest: Vec<&str> = words.collect();
        let (rep, voie) = match rest.split_first() {
            Some((r, v)) if r.len() == 1 && !v.is_empty() => ((*r).to_lowercase(), v.join(" ")),
            _ => (String::new(), rest.join(" ")),
        };
        if !seen.insert((numero, rep.clone(), voie.clone())) {
            continue;
        }
        let key = format!(
            "75118_{:04x}_{numero:05}{}",
            seen.len(),
            if rep.is_empty() { String::new() } else { format!("_{rep}") }
        );
        lines.push(format!(
            "{key};;{numero};{rep};{};75018;75118;Paris 18e Arrondissement;;;{x:.2};{y:.2};;;entrée;;;PARIS;{voie};commune;commune;1;{}",
            title(&voie),
            r.idu
        ));
    }
    let n = lines.len() - 1;
    lines.push(";;12;;Rue Sans Commune;75018;;Paris;;;652000;6865000;;;entrée;;;;;;;;".into());
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), flate2::Compression::fast());
    gz.write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
    gz.finish().unwrap();
    n
}

fn search(store: &std::path::Path, q: &str) -> Vec<serde_json::Value> {
    let out = domania(store, &["--json", "search", q, "--limit", "5"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let v: serde_json::Value = serde_json::from_str(&texts(&out).0).unwrap();
    v["hits"].as_array().unwrap().clone()
}

#[test]
fn addresses_of_the_ban_and_of_the_owner_file_are_found_and_say_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    for (layer, file) in
        [("parcels", "cadastre-75118-parcelles.json"), ("owners", "dgfip_pm/PM_25_NB_750_part_003.csv")]
    {
        let out = domania(&store, &["import", layer, shared_data(file).to_str().unwrap()]);
        assert!(out.status.success(), "{}", texts(&out).1);
    }
    // The owner file's addresses first: 11 rue Ordener is parcel CK 28 there.
    for q in ["11 rue Ordener", "11 R ORDENER 75018", "11 rue ordner"] {
        let hits = search(&store, q);
        assert_eq!(
            (hits[0]["kind"].as_str(), hits[0]["id"].as_str()),
            (Some("address"), Some("75118000CK0028")),
            "{q}: {hits:?}"
        );
        assert_eq!(hits[0]["source"], "ppm", "{q}");
        assert!(hits[0]["label"].as_str().unwrap().contains("DGFiP file"), "{q}: {}", hits[0]["label"]);
    }
    // A street alone: all its numbers, no number first.
    let hits = search(&store, "rue Ordener");
    assert_eq!(hits[0]["kind"], "street", "{hits:?}");
    assert!(hits[0]["label"].as_str().unwrap().starts_with("RUE ORDENER, 75118 Paris 18e"), "{}", hits[0]["label"]);
    assert!(
        search(&store, "rue").iter().all(|h| h["kind"] != "street" && h["kind"] != "address"),
        "a kind of way alone names no street"
    );

    let mut ck28 = None;
    domania_io::cadastre::read_cadastre_with(
        &shared_data("cadastre-75118-parcelles.json"),
        domania_io::features::ReadOptions::default(),
        |p| {
            if p.idu.as_str() == "75118000CK0028" {
                ck28 = Some(p.geom_l93);
            }
        },
    )
    .unwrap();
    let ck28 = ck28.unwrap();

    // The BAN loaded: it answers for its communes, the owner file no longer does.
    let ban = dir.path().join("adresses-75.csv.gz");
    let rows = ban_of_paris(&ban);
    assert!(rows > 1_000, "{rows} addresses");
    // The row the BAN would never publish is named by its line, and nothing is imported…
    let out = domania(&store, &["import", "addresses", ban.to_str().unwrap()]);
    assert!(!out.status.success());
    let line = format!("line {}: Rejected [invalid_commune]", rows + 2);
    assert!(texts(&out).1.contains(&line), "{}", texts(&out).1);
    assert_eq!(search(&store, "11 rue Ordener")[0]["source"], "ppm");
    // …unless the rest is asked for.
    let out = domania(&store, &["--json", "import", "addresses", ban.to_str().unwrap(), "--skip-invalid"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((outcome["features"].as_u64(), outcome["rejected"].as_u64()), (Some(rows as u64), Some(1)), "{outcome}");
    assert_eq!(outcome["scope"], "commune=75118");
    for q in ["11 rue Ordener", "11 R ORDENER 75018", "11 rue ordner", "11 Rue Ordener Paris"] {
        let hits = search(&store, q);
        assert_eq!(
            (hits[0]["kind"].as_str(), hits[0]["source"].as_str()),
            (Some("address"), Some("ban")),
            "{q}: {hits:?}"
        );
        assert!(
            hits[0]["label"].as_str().unwrap().contains("11 Rue Ordener, 75018 Paris 18e"),
            "{q}: {}",
            hits[0]["label"]
        );
        assert!(hits[0]["label"].as_str().unwrap().contains("Base Adresse Nationale"), "{}", hits[0]["label"]);
        assert!(hits.iter().all(|h| h["source"] == "ban"), "{q}: {hits:?}");
        // Its point is in the parcel the BAN gives it (where the viewer asks who maintains it).
        let p = hits[0]["point"].as_array().unwrap();
        let (x, y) = domania_io::crs::Crs::wgs84().transform_to(
            &domania_io::crs::Crs::lambert93(),
            p[0].as_f64().unwrap(),
            p[1].as_f64().unwrap(),
        );
        assert!(geo::Contains::contains(&ck28, &geo_types::Point::new(x, y)), "{q}: {x}, {y}");
    }
    // A postcode that is not the street's leaves it out.
    assert!(search(&store, "11 rue Ordener 78440").iter().all(|h| h["kind"] != "address"));
    // The street of the BAN: every number.
    let ordener = std::fs::read(&ban).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&ordener[..]), &mut text).unwrap();
    let numbers = text.lines().filter(|l| l.split(';').nth(4) == Some("Rue Ordener")).count();
    let street = search(&store, "rue ordener");
    assert_eq!(street[0]["kind"], "street");
    assert!(street[0]["label"].as_str().unwrap().contains(&format!("{numbers} addresses")), "{}", street[0]["label"]);

    // Open311: a report placed by its address alone (FixMyStreet's `address_string`), at the
    // address the search finds; a street without a number is not a place.
    let token = domania(&store, &["token", "create", "--name", "mairie", "--role", "reporter"]);
    assert!(token.status.success(), "{}", texts(&token).1);
    let key = texts(&token).0.trim().to_owned();
    let server = crate::serve::Server::start(&store);
    let post = |address: &str| {
        let form = [
            ("api_key", key.as_str()),
            ("service_code", "dumping"),
            ("address_string", address),
            ("description", "Encombrants devant l'immeuble"),
        ];
        match ureq::post(&format!("{}/open311/v2/requests.json", server.url)).send_form(&form) {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let (status, body) = post("11 rue Ordener, 75018 Paris");
    assert_eq!(status, 201, "{body}");
    let id =
        serde_json::from_str::<serde_json::Value>(&body).unwrap()[0]["service_request_id"].as_str().unwrap().to_owned();
    let shown = ureq::get(&format!("{}/open311/v2/requests/{id}.json", server.url)).call().unwrap();
    let shown: serde_json::Value = serde_json::from_str(&shown.into_string().unwrap()).unwrap();
    let (lat, lon) = (shown[0]["lat"].as_f64().unwrap(), shown[0]["long"].as_f64().unwrap());
    let (x, y) = domania_io::crs::Crs::wgs84().transform_to(&domania_io::crs::Crs::lambert93(), lon, lat);
    assert!(geo::Contains::contains(&ck28, &geo_types::Point::new(x, y)), "placed at {lat}, {lon}");
    let (status, body) = post("rue Ordener");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ne se place pas"), "{body}");
    drop(server);

    // Not the BAN's file: the columns it lacks are named.
    let wrong = dir.path().join("adresses.csv");
    std::fs::write(&wrong, "numero;voie;commune\n1;rue;75118\n").unwrap();
    let out = domania(&store, &["import", "addresses", wrong.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(texts(&out).1.contains("missing columns of the Base Adresse Nationale: id, rep"), "{}", texts(&out).1);
}
