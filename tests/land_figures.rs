//! Land figures that never guess: unknown owners stated as unknown, indivision one answer in
//! every command, overlapping sub-sectors reported and counted once, land outside sub-sectors
//! stated.

use std::path::Path;

use crate::support::{domania, shared_data, texts};
use crate::{fails, json, ok};

/// A Lambert-93 rectangle as GeoJSON coordinates.
pub(crate) fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> serde_json::Value {
    serde_json::json!([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])
}

/// A FeatureCollection in Lambert-93 of `(properties, coordinates)`.
pub(crate) fn l93_collection(path: &Path, features: Vec<(serde_json::Value, serde_json::Value)>) {
    let features: Vec<_> = features
        .into_iter()
        .map(|(p, c)| serde_json::json!({"type": "Feature", "properties": p, "geometry": {"type": "Polygon", "coordinates": c}}))
        .collect();
    let fc = serde_json::json!({"type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}, "features": features});
    std::fs::write(path, fc.to_string()).unwrap();
}

#[test]
fn a_parcel_no_owner_file_covers_has_an_unknown_owner_never_natural_persons() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    json(&store, &["import", "parcels", shared_data("cadastre-91216-parcelles.json").to_str().unwrap()]);
    json(&store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    json(&store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    // Épinay (91): no owner file.
    let p = json(&store, &["parcel", "91216000AB0037"]);
    assert_eq!((p["actor"].as_str(), p["owner_file"].as_bool()), (Some("owner_unknown"), Some(false)), "{p}");
    let text = ok(&store, &["parcel", "91216000AB0037"]);
    assert!(text.contains("owner unknown: no owner file covers commune 91216 (import the PPM file of département 91)"));
    // Paris 18e: a parcel without a legal person is held by natural persons.
    let p = json(&store, &["parcel", "75118000AA0001"]);
    assert_eq!(p["owner_file"].as_bool(), Some(true));
    assert_ne!(p["actor"].as_str(), Some("owner_unknown"));

    // A sub-sector over Épinay's centre: its land is of unknown owners, with its area, and no
    // manager is named for it.
    let sub = dir.path().join("subsectors.geojson");
    l93_collection(&sub, vec![(serde_json::json!({"id": "E1"}), rect(649_500.0, 6_841_000.0, 650_100.0, 6_841_600.0))]);
    json(&store, &["import", "subsectors", sub.to_str().unwrap()]);
    let shares = json(&store, &["shares", "--format", "json"]);
    let z = &shares["zones"][0];
    let unknown = z["by_actor"]["owner_unknown"]["area_m2"].as_f64().expect("owner_unknown land");
    assert!(unknown > 1000.0, "{z}");
    assert!(z["by_actor"].get("private").is_none(), "{z}");
    let csv = ok(&store, &["assign", "--dry-run", "--date", "2025-06-01"]);
    let unknown_rows: Vec<&str> = csv.lines().filter(|l| l.contains(",owner_unknown,")).collect();
    assert!(!unknown_rows.is_empty());
    // Waste is the CU's everywhere (a fixed rule); every other kind names no manager, and says why.
    for l in &unknown_rows {
        assert!(l.contains(",waste,cu-dechets,") || l.contains("no manager can be named"), "{l}");
    }
    assert!(unknown_rows.iter().any(|l| l.contains(",cleaning,,")));
}

/// A small territory in 78440: three parcels side by side, one held by a bailleur and the CU
/// together (indivision), one by the bailleur, one by the CU; a sub-sector over the three.
fn indivision_territory(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("s.gpkg");
    let (x, y) = (620_000.0, 6_870_000.0);
    let parcels = dir.join("cadastre-78440-parcelles.json");
    l93_collection(
        &parcels,
        (1..=3)
            .map(|n| {
                let x0 = x + f64::from(n - 1) * 100.0;
                (
                    serde_json::json!({"id": format!("78440000AB{n:04}"), "commune": "78440", "prefixe": "000",
                        "section": "AB", "numero": n.to_string(), "contenance": 10000}),
                    rect(x0, y, x0 + 100.0, y + 100.0),
                )
            })
            .collect(),
    );
    let header = std::fs::read_to_string(crate::support::bad_input("ppm-header-only.csv")).unwrap();
    let row = |plan: &str, siren: &str, groupe: &str, forme: &str, name: &str| {
        format!(
            "78;0;440;LES MUREAUX;;AB;{plan};;;;;;;10000;;S - Sols;10000;P - Propriétaire;PX;{siren};{groupe};{forme};X;{name}\n"
        )
    };
    let ppm = dir.join("ppm.csv");
    std::fs::write(
        &ppm,
        format!(
            "{}{}{}{}{}",
            header.trim_end().to_owned() + "\n",
            row("0001", "344810825", "5 - Office HLM", "4140", "OPH TEST"),
            row("0001", "200059889", "4 - Commune", "7343", "CU GPSO"),
            row("0002", "344810825", "5 - Office HLM", "4140", "OPH TEST"),
            row("0003", "200059889", "4 - Commune", "7343", "CU GPSO"),
        ),
    )
    .unwrap();
    let sub = dir.join("subsectors.geojson");
    l93_collection(&sub, vec![(serde_json::json!({"id": "S1"}), rect(x, y, x + 300.0, y + 100.0))]);
    json(&store, &["import", "parcels", parcels.to_str().unwrap()]);
    json(&store, &["import", "owners", ppm.to_str().unwrap()]);
    json(&store, &["import", "subsectors", sub.to_str().unwrap()]);
    store
}

#[test]
fn indivision_is_one_answer_in_parcel_shares_assign_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let store = indivision_territory(dir.path());
    let p = json(&store, &["parcel", "78440000AB0001"]);
    assert_eq!(p["actor"].as_str(), Some("indivision"));
    let shares = json(&store, &["shares", "--format", "json"]);
    let z = &shares["zones"][0];
    let area = |a: &str| z["by_actor"][a]["area_m2"].as_f64().unwrap_or(0.0);
    // Each actor's own parcel, and the shared one under indivision, once.
    assert!((area("indivision") - 10_000.0).abs() < 0.01, "{z}");
    assert!((area("bailleur_social") - 10_000.0).abs() < 0.01 && (area("communaute_urbaine") - 10_000.0).abs() < 0.01);
    let sum: f64 = z["by_actor"].as_object().unwrap().values().map(|a| a["area_m2"].as_f64().unwrap()).sum();
    assert!((sum - 30_000.0).abs() < 0.01);
    // The per-owner list: each co-owner's half, under indivision, with its own actor.
    let co: Vec<&serde_json::Value> =
        z["by_owner"].as_array().unwrap().iter().filter(|o| o["actor"] == "indivision").collect();
    assert_eq!(co.len(), 2);
    assert!(co.iter().all(|o| (o["area_m2"].as_f64().unwrap() - 5_000.0).abs() < 0.01));
    // The rule: 1/3 each for the bailleur and the CU, the indivision third for neither.
    let assign = json(&store, &["assign", "--dry-run", "--format", "json", "--date", "2025-06-01"]);
    let d = &assign["decisions"][0];
    assert!(d["explanation"].as_str().unwrap().contains("bailleur_social 33.3%"), "{d}");
    let space = assign["spaces"].as_array().unwrap().iter().find(|s| s["space"]["idu"] == "78440000AB0001").unwrap();
    assert_eq!(space["space"]["actor"], "indivision");
    // No service acts for co-owners of different kinds unless the rules say so: each
    // intervention says that a convention between them must name one.
    for a in space["assignments"].as_array().unwrap() {
        if a["rule"] == "fixed" {
            continue;
        }
        assert!(a["service"].is_null(), "{a}");
        assert!(a["explanation"].as_str().unwrap().contains("a convention between the co-owners must name"), "{a}");
    }
    let csv = ok(&store, &["shares"]);
    assert!(csv.lines().any(|l| l.starts_with("S1,indivision,344810825,OPH TEST,bailleur_social,1,5000.00,")), "{csv}");
}

#[test]
fn overlapping_sub_sectors_are_reported_refused_on_demand_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    json(&store, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
    json(&store, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    // Two 500 m squares over the 18e overlapping on a 200 × 500 m band, and a third apart.
    let (x, y) = (651_000.0, 6_865_300.0);
    let sub = dir.path().join("subsectors.geojson");
    l93_collection(
        &sub,
        vec![
            (serde_json::json!({"id": "A"}), rect(x, y, x + 500.0, y + 500.0)),
            (serde_json::json!({"id": "B"}), rect(x + 300.0, y, x + 800.0, y + 500.0)),
            (serde_json::json!({"id": "C"}), rect(x + 1_500.0, y, x + 1_900.0, y + 400.0)),
        ],
    );
    let err = fails(&store, &["import", "subsectors", "--no-overlaps", sub.to_str().unwrap()]);
    assert!(err.contains("overlapping_subsectors") && err.contains("sub-sector B overlaps sub-sector A"), "{err}");
    assert!(err.contains("100000.00 m²"), "{err}");
    let out = domania(&store, &["import", "subsectors", sub.to_str().unwrap()]);
    let (_, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "Warning [overlapping_subsectors]: sub-sector B overlaps sub-sector A (feature 0) by 100000.00 m²"
        ),
        "{stderr}"
    );
    let history = json(&store, &["history", "subsectors"]);
    assert_eq!(history[0]["rejected"].as_i64(), Some(0));

    // A perimeter of the two overlapping sub-sectors, and one running outside them.
    let per = dir.path().join("perimeters.toml");
    std::fs::write(
        &per,
        format!(
            "[[perimeter]]\nid = \"AB\"\nsubsectors = [\"A\", \"B\"]\n\n[[perimeter]]\nid = \"wide\"\npolygon = [[{}, {}], [{}, {}], [{}, {}], [{}, {}]]\n",
            x,
            y,
            x + 1_000.0,
            y,
            x + 1_000.0,
            y + 1_000.0,
            x,
            y + 1_000.0
        ),
    )
    .unwrap();
    let figures = json(&store, &["perimeters", per.to_str().unwrap(), "--format", "json", "--date", "2025-06-01"]);
    let ab = &figures[0];
    // Union of the two squares: 2 × 250,000 − 100,000 m².
    assert!((ab["area_m2"].as_f64().unwrap() - 400_000.0).abs() < 0.5, "{}", ab["area_m2"]);
    assert!((ab["in_subsectors_m2"].as_f64().unwrap() - 400_000.0).abs() < 0.5);
    for f in figures.as_array().unwrap() {
        let area = f["area_m2"].as_f64().unwrap();
        for (kind, actors) in f["managed_m2"].as_object().unwrap() {
            let total: f64 = actors.as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
            assert!(total <= area + 0.5, "{}: {kind}: {total} m² managed in {area} m²", f["id"]);
            assert!((total - f["in_subsectors_m2"].as_f64().unwrap()).abs() < 0.5, "{}: {kind}", f["id"]);
        }
    }
    let wide = &figures[1];
    // The 1 km square: A ∪ B (400,000 m²) inside sub-sectors, the rest stated as outside.
    assert!((wide["in_subsectors_m2"].as_f64().unwrap() - 400_000.0).abs() < 0.5, "{wide}");
    assert!((wide["outside_subsectors_m2"].as_f64().unwrap() - 600_000.0).abs() < 0.5, "{wide}");
    let csv = ok(&store, &["perimeters", per.to_str().unwrap(), "--date", "2025-06-01"]);
    let outside: f64 = csv
        .lines()
        .filter(|l| l.starts_with("wide,") && l.contains(",cleaning,outside_subsectors,"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((outside - 600_000.0).abs() < 0.5, "{csv}");

    // Shares per sub-sector still add up to each sub-sector's area.
    let shares = json(&store, &["shares", "--format", "json"]);
    for z in shares["zones"].as_array().unwrap() {
        let by_actor: f64 = z["by_actor"].as_object().unwrap().values().map(|a| a["area_m2"].as_f64().unwrap()).sum();
        assert!((by_actor + z["non_cadastre_m2"].as_f64().unwrap() - z["area_m2"].as_f64().unwrap()).abs() < 0.01);
        let soa: f64 = z["by_actor"].as_object().unwrap().values().map(|a| a["share_of_area"].as_f64().unwrap()).sum();
        assert!((soa + z["non_cadastre_share_of_area"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{}", z["key"]);
    }

    // The spaces: the overlapped band is a space of A and of B, each naming the other; a total
    // over `counted_m2` counts it once and equals the union of the sub-sectors.
    let assign = json(&store, &["assign", "--dry-run", "--format", "json", "--date", "2025-06-01"]);
    let spaces = assign["spaces"].as_array().unwrap();
    let total = |field: &str| spaces.iter().map(|s| s[field].as_f64().unwrap()).sum::<f64>();
    let union = 400_000.0 + 160_000.0;
    assert!((total("area_m2") - (union + 100_000.0)).abs() < 1.0, "{}", total("area_m2"));
    assert!((total("counted_m2") - union).abs() < 1.0, "{}", total("counted_m2"));
    let named = |id: &str, other: &str| {
        spaces
            .iter()
            .filter(|s| s["subsector"] == id)
            .any(|s| s["overlaps"].as_array().unwrap().iter().any(|o| o == other))
    };
    assert!(named("A", "B") && named("B", "A") && !named("C", "A"));
    assert!(spaces.iter().filter(|s| s["subsector"] == "A").all(|s| s["counted_m2"] == s["area_m2"]), "A comes first");
}

/// The real Paris owner file cut in the middle of the 18e into two numbered parts, as owner
/// files circulate: `dir/PM_25_NB_750_part_001.csv` and `…_002.csv` (each with the header).
fn paris_in_two_parts(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(shared_data("dgfip_pm/PM_25_NB_750_part_003.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let in_18e: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].starts_with("75;0;118;")).collect();
    let cut = in_18e[in_18e.len() / 2];
    let (one, two) = (dir.join("PM_25_NB_750_part_001.csv"), dir.join("PM_25_NB_750_part_002.csv"));
    std::fs::write(&one, format!("{header}\n{}\n", rows[..cut].join("\n"))).unwrap();
    std::fs::write(&two, format!("{header}\n{}\n", rows[cut..].join("\n"))).unwrap();
    (one, two)
}

#[test]
fn an_owner_file_in_parts_gives_what_the_whole_file_gives_and_a_half_loaded_commune_is_partly_covered() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = paris_in_two_parts(dir.path());
    let grid = dir.path().join("grid.geojson");
    crate::paris_grid_named(&grid, "S");
    let store = |name: &str| {
        let s = dir.path().join(name);
        json(&s, &["import", "parcels", shared_data("cadastre-75118-parcelles.json").to_str().unwrap()]);
        json(&s, &["import", "subsectors", grid.to_str().unwrap()]);
        s
    };
    let figures = |s: &Path| {
        let shares = json(s, &["shares", "--format", "json"]);
        let mut by_actor = std::collections::BTreeMap::new();
        for z in shares["zones"].as_array().unwrap() {
            for (actor, a) in z["by_actor"].as_object().unwrap() {
                *by_actor.entry(actor.clone()).or_insert(0.0) += a["area_m2"].as_f64().unwrap();
            }
        }
        by_actor.into_iter().map(|(a, m2): (String, f64)| (a, (m2 * 100.0).round() / 100.0)).collect::<Vec<_>>()
    };

    // The whole file, and both parts in one command: the same owners, the same figures.
    let whole = store("whole.gpkg");
    json(&whole, &["import", "owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv").to_str().unwrap()]);
    let together = store("together.gpkg");
    json(&together, &["import", "owners", two.to_str().unwrap(), one.to_str().unwrap()]);
    assert_eq!(json(&together, &["owners"]), json(&whole, &["owners"]));
    assert_eq!(figures(&together), figures(&whole));

    // Part 1 alone: the 18e is only partly covered, said at import; its parcels without an
    // owner row are of unknown owner, not natural persons.
    let by_parts = store("parts.gpkg");
    let out = domania(&by_parts, &["import", "owners", one.to_str().unwrap()]);
    let (_, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("cover 75118 only in part"), "{stderr}");
    let half = figures(&by_parts);
    let area = |f: &[(String, f64)], a: &str| f.iter().find(|(x, _)| x == a).map_or(0.0, |(_, m2)| *m2);
    assert!(area(&half, "owner_unknown") > 100_000.0, "{half:?}");
    assert!(area(&half, "private") < 1.0, "{half:?}");
    // Part 2 next: accepted (the 18e's rows of part 1 are kept beside its own), and the figures
    // are the whole file's.
    let out = domania(&by_parts, &["import", "owners", two.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    assert!(!texts(&out).1.contains("75118"), "{}", texts(&out).1);
    assert_eq!(json(&by_parts, &["owners"]), json(&whole, &["owners"]));
    assert_eq!(figures(&by_parts), figures(&whole));
}
