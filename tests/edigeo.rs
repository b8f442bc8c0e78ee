//! EDIGÉO through the real binary: the ten sheets of `../shared/data/edigeo` as one version of
//! the parcels layer, exported again to GeoPackage, FlatGeobuf and MapInfo and read by GDAL, and
//! a damaged sheet refused with nothing stored (with `--features gdal`);
//! without the feature, a clear error saying which build reads EDIGÉO.

use crate::support::{domania, shared_data, texts};

#[cfg(feature = "gdal")]
#[test]
#[cfg_attr(domania_without_gdal, ignore = "needs GDAL's ogrinfo (gdal-bin)")]
fn the_ten_edigeo_sheets_are_one_version_and_a_damaged_sheet_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    let sheets = shared_data("edigeo");
    let out = domania(&store, &["--json", "import", "parcels", sheets.to_str().unwrap()]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!((v["features"].as_i64(), v["version"].as_i64()), (Some(1304), Some(1)), "{v}");
    // Three communes in one version, each its own scope.
    assert_eq!(v["scope"], "commune=13029,25354,74024", "{v}");
    // A parcel as the store has it: the IDU with its département, SUPF as contenance.
    let p = domania(&store, &["--json", "parcel", "740240000A0328"]);
    let (p, err) = texts(&p);
    assert!(err.is_empty() || !err.contains("error"), "{err}");
    let p: serde_json::Value = serde_json::from_str(p.trim()).unwrap();
    assert_eq!(p["contenance_m2"].as_i64().or_else(|| p["contenance"].as_i64()), Some(25726), "{p}");

    // Buildings and sections, each their own layer, from the same sheets. PROVENANCE.md counts
    // the buildings of each sheet (239 + 252 + 81); the ten sheets are ten sections.
    for (layer, n) in [("buildings", 572), ("sections", 10)] {
        let out = domania(&store, &["--json", "import", layer, sheets.to_str().unwrap()]);
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{layer}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!((v["layer"].as_str(), v["features"].as_i64()), (Some(layer), Some(n)), "{v}");
    }
    let sections = dir.path().join("sections.gpkg");
    let out = domania(&store, &["export", "ogr", "sections", sections.to_str().unwrap()]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let one = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-q", "-where", "key = '740240000A'"])
        .arg(&sections)
        .output()
        .unwrap();
    let one = String::from_utf8_lossy(&one.stdout).into_owned();
    assert!(one.contains("Section A") && one.contains("74024"), "{one}");

    // Out again to GDAL's formats, read by GDAL's ogrinfo: every parcel, its contenance.
    for file in ["parcelles.gpkg", "parcelles.fgb", "parcelles.tab"] {
        let out_file = dir.path().join(file);
        let out = domania(&store, &["export", "ogr", "parcels", out_file.to_str().unwrap()]);
        assert!(out.status.success(), "{file}: {}", texts(&out).1);
        let info = std::process::Command::new("ogrinfo")
            .args(["-ro", "-al", "-so"])
            .arg(&out_file)
            .output()
            .expect("ogrinfo (gdal-bin)");
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        assert!(info.contains("Feature Count: 1304"), "{file}: {info}");
        let one = std::process::Command::new("ogrinfo")
            .args(["-ro", "-al", "-q", "-where", "idu = '740240000A0328'"])
            .arg(&out_file)
            .output()
            .unwrap();
        let one = String::from_utf8_lossy(&one.stdout).into_owned();
        assert!(one.contains("contenance") && one.contains("25726"), "{file}: {one}");
    }

    // A damaged sheet: refused, naming the sheet and the file; the store unchanged.
    let before = texts(&domania(&store, &["dump"])).0;
    let broken = dir.path().join("740240000A01");
    std::fs::create_dir_all(&broken).unwrap();
    let archive = sheets.join("edigeo-740240000A01.tar.bz2");
    assert!(
        std::process::Command::new("tar").arg("xjf").arg(&archive).arg("-C").arg(&broken).status().unwrap().success()
    );
    let vec = broken.join("ED0A01T1.VEC");
    let bytes = std::fs::read(&vec).unwrap();
    std::fs::write(&vec, &bytes[..bytes.len() / 3]).unwrap();
    let out = domania(&store, &["import", "parcels", broken.to_str().unwrap()]);
    let err = texts(&out).1;
    assert!(!out.status.success());
    assert!(err.contains("740240000A01") && err.contains("ED0A01T1.VEC"), "{err}");
    assert_eq!(texts(&domania(&store, &["dump"])).0, before, "nothing stored");
}

#[cfg(not(feature = "gdal"))]
#[test]
fn without_gdal_an_edigeo_sheet_is_refused_with_the_build_that_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.gpkg");
    let sheet = shared_data("edigeo/edigeo-740240000A01.tar.bz2");
    let out = domania(&store, &["import", "parcels", sheet.to_str().unwrap()]);
    let err = texts(&out).1;
    assert!(!out.status.success());
    assert!(err.contains("EDIGÉO") && err.contains("--features gdal"), "{err}");
    // And export to GDAL's formats says the same.
    let out = domania(&store, &["export", "ogr", "parcels", dir.path().join("p.gpkg").to_str().unwrap()]);
    let err = texts(&out).1;
    assert!(!out.status.success() && err.contains("--features gdal"), "{err}");
}
