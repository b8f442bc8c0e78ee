//! EDIGÉO through GDAL (feature `gdal`) on the ten real PCI-Vecteur sheets of
//! `../shared/data/edigeo` (or `$DOMANIA_DATA/edigeo`): every parcel, IDU and SUPF against
//! `EXPECTED_parcelles_from_VEC.csv` (a plain extraction of the `.VEC` records), the area gap per
//! sheet, and damaged sheets refused with the sheet and the file named.
#![cfg(feature = "gdal")]

use std::collections::BTreeMap;
use std::path::PathBuf;

use domania_io::IoError;
use domania_io::edigeo::{read_edigeo, sheet_id};
use domania_io::features::ReadOptions;

fn edigeo_dir() -> PathBuf {
    let dir = std::env::var_os("DOMANIA_DATA")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"), PathBuf::from)
        .join("edigeo");
    assert!(dir.exists(), "{} is missing (set DOMANIA_DATA to the shared data folder)", dir.display());
    dir
}

/// sheet → (IDU → SUPF), from the expected extraction.
fn expected() -> BTreeMap<String, BTreeMap<String, i64>> {
    let text = std::fs::read_to_string(edigeo_dir().join("EXPECTED_parcelles_from_VEC.csv")).unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        out.entry(cols[0].to_owned()).or_default().insert(cols[1].to_owned(), cols[2].parse().unwrap());
    }
    out
}

#[test]
fn the_ten_sheets_give_every_parcel_with_its_idu_and_supf() {
    let expected = expected();
    assert_eq!(expected.values().map(BTreeMap::len).sum::<usize>(), 1304);
    // One folder of ten sheets of three communes, in one read.
    let read = read_edigeo(&edigeo_dir(), ReadOptions::default()).expect("the ten sheets");
    assert_eq!(read.sheets.len(), 10);
    assert_eq!(read.parcels.len(), 1304, "{}", read.report.format);
    assert_eq!(read.report.rejected, 0, "{:?}", read.report.issues);
    let got: BTreeMap<String, i64> =
        read.parcels.iter().map(|p| (p.idu.to_string(), p.contenance.expect("SUPF"))).collect();
    let want: BTreeMap<String, i64> = expected.values().flat_map(|m| m.iter().map(|(k, v)| (k.clone(), *v))).collect();
    assert_eq!(got, want, "every IDU with its SUPF");
    for s in &read.sheets {
        assert_eq!(s.parcels, expected[&s.sheet].len(), "sheet {}", s.sheet);
        assert!(s.header.version.is_some() && s.header.date.is_some(), "{s:?}");
        eprintln!(
            "edigeo: sheet {} (PCI-Vecteur {}, {}, {}): {} parcels, median |area − SUPF| / SUPF {:.2} %, worst {:?}",
            s.sheet,
            s.header.version.as_deref().unwrap_or("?"),
            s.header.date.as_deref().unwrap_or("?"),
            s.crs,
            s.parcels,
            s.median_area_gap * 100.0,
            s.worst
        );
        // The drawn parcels are the fiscal ones: the typical gap is small.
        assert!(s.parcels == 0 || s.median_area_gap < 0.05, "{s:?}");
    }
    // The versions and dates of the sheets are in the report kept with the layer's version.
    assert!(read.report.format.contains("740240000A01 v3.10 2024-01-16"), "{}", read.report.format);
    assert!(read.report.issues.iter().any(|i| i.code == "area_gap"));
    // Geometry in Lambert-93 where the sheet is: Ayse (74) is in the Alps.
    let ayse = read.parcels.iter().find(|p| p.idu.as_str().starts_with("74024")).unwrap();
    let c = geo::Centroid::centroid(&ayse.geom_l93).unwrap();
    assert!((960_000.0..970_000.0).contains(&c.x()) && (6_555_000.0..6_565_000.0).contains(&c.y()), "{c:?}");
}

/// A copy of one sheet's files in a folder named after it, to damage.
fn sheet_folder(sheet: &str, tmp: &std::path::Path) -> PathBuf {
    let dir = tmp.join(sheet);
    std::fs::create_dir_all(&dir).unwrap();
    let archive = edigeo_dir().join(format!("edigeo-{sheet}.tar.bz2"));
    let status = std::process::Command::new("tar").arg("xjf").arg(&archive).arg("-C").arg(&dir).status().unwrap();
    assert!(status.success());
    dir
}

fn edigeo_error(e: IoError) -> (String, String, String) {
    match e {
        IoError::Edigeo { sheet, file, reason, .. } => (sheet, file, reason),
        other => panic!("expected an EDIGÉO error, got {other}"),
    }
}

#[test]
fn damaged_sheets_are_refused_naming_the_sheet_and_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    // A truncated .VEC: GDAL reads fewer parcels than the file declares.
    let dir = sheet_folder("740240000A01", tmp.path());
    let vec = dir.join("ED0A01T1.VEC");
    let bytes = std::fs::read(&vec).unwrap();
    std::fs::write(&vec, &bytes[..bytes.len() / 2]).unwrap();
    let e = read_edigeo(&dir, ReadOptions::default()).expect_err("a truncated sheet");
    let text = e.to_string();
    let (sheet, file, reason) = edigeo_error(e);
    assert_eq!(sheet, "740240000A01");
    assert!(file.contains("VEC") && (reason.contains("damaged") || reason.contains("GDAL")), "{text}");

    // No .THF.
    let dir = sheet_folder("130290000A01", tmp.path());
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("thf")) {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let (sheet, file, reason) = edigeo_error(read_edigeo(&dir, ReadOptions::default()).unwrap_err());
    assert_eq!((sheet.as_str(), file.as_str()), ("130290000A01", "*.THF"));
    assert!(reason.contains("no .THF"), "{reason}");

    // Not an archive.
    let fake = tmp.path().join("edigeo-25354000AB01.tar.bz2");
    std::fs::write(&fake, b"this is not bzip2").unwrap();
    let (sheet, _, reason) = edigeo_error(read_edigeo(&fake, ReadOptions::default()).unwrap_err());
    assert_eq!(sheet, "25354000AB01");
    assert!(reason.contains("archive"), "{reason}");

    // A name that does not tell the département.
    let odd = tmp.path().join("feuille.tar.bz2");
    std::fs::copy(edigeo_dir().join("edigeo-25354000AB01.tar.bz2"), &odd).unwrap();
    let (_, _, reason) = edigeo_error(read_edigeo(&odd, ReadOptions::default()).unwrap_err());
    assert!(reason.contains("département"), "{reason}");
    assert_eq!(sheet_id("edigeo-25354000AB01.tar.bz2").as_deref(), Some("25354000AB01"));
}

/// EDIGÉO and Etalab GeoJSON of one commune, parcel by parcel: the same IDUs, drawn areas within
/// 0.5 % (Etalab's GeoJSON is made from the same PCI, rounded to 7 decimals of a degree). On the
/// data at hand the sheets' communes (13029, 25354, 74024) and the Etalab files' (75118, 91216)
/// differ, so there is nothing to compare: the test says so, and compares whenever a commune is
/// in both.
#[test]
fn edigeo_and_etalab_of_one_commune_agree_parcel_by_parcel_where_both_exist() {
    use geo::Area;
    let sheets = read_edigeo(&edigeo_dir(), ReadOptions::default()).unwrap();
    let edigeo: BTreeMap<String, f64> =
        sheets.parcels.iter().map(|p| (p.idu.to_string(), p.geom_l93.unsigned_area())).collect();
    let data = edigeo_dir().join("..");
    let mut compared = 0;
    let mut etalab_communes = Vec::new();
    for e in std::fs::read_dir(&data).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(commune) = name.strip_prefix("cadastre-").and_then(|r| r.strip_suffix("-parcelles.json")) else {
            continue;
        };
        etalab_communes.push(commune.to_owned());
        let mine: Vec<(&String, &f64)> = edigeo.iter().filter(|(idu, _)| idu.starts_with(commune)).collect();
        if mine.is_empty() {
            continue;
        }
        let etalab = domania_io::cadastre::read_cadastre(&e.path(), ReadOptions::default()).unwrap();
        let theirs: BTreeMap<String, f64> =
            etalab.parcels.iter().map(|p| (p.idu.to_string(), p.geom_l93.unsigned_area())).collect();
        for (idu, area) in mine {
            let other = theirs.get(idu).unwrap_or_else(|| panic!("{idu} is in EDIGÉO, not in Etalab's {name}"));
            assert!((area - other).abs() <= 0.005 * area.max(1.0), "{idu}: {area:.1} m² vs {other:.1} m²");
            compared += 1;
        }
    }
    let sheet_communes: std::collections::BTreeSet<&str> = edigeo.keys().map(|i| &i[..5]).collect();
    if compared == 0 {
        eprintln!(
            "edigeo vs etalab: nothing to compare on the data at hand: EDIGÉO sheets cover {sheet_communes:?}, Etalab files {etalab_communes:?}"
        );
        assert!(!etalab_communes.is_empty(), "no Etalab file found beside the EDIGÉO sheets");
    }
}
