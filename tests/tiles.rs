//! `domania export pmtiles` on Paris 18e: the archive read back by an independent reader (the
//! `pmtiles` Python package, installed by .ci/run), its tile decoded by GDAL's MVT driver and by
//! ours, compared with what the store holds.

use std::process::Command;

use crate::support::{domania, shared_data, texts};

#[test]
#[cfg_attr(
    any(domania_without_pmtiles, domania_without_gdal),
    ignore = "needs the pmtiles Python package (pip install pmtiles) and GDAL's ogrinfo (gdal-bin)"
)]
fn paris_pmtiles_read_back_by_the_pmtiles_package_and_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("paris.gpkg");
    for (kind, file) in [
        ("parcels", shared_data("cadastre-75118-parcelles.json")),
        ("owners", shared_data("dgfip_pm/PM_25_NB_750_part_003.csv")),
    ] {
        let out = domania(&store, &["import", kind, file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", texts(&out).1);
    }
    let archive = dir.path().join("paris.pmtiles");
    let out = domania(
        &store,
        &[
            "--json",
            "export",
            "pmtiles",
            archive.to_str().unwrap(),
            "--layers",
            "parcels",
            "--minzoom",
            "14",
            "--maxzoom",
            "16",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(report["tiles"].as_u64().unwrap() > 20, "{report}");

    // The pmtiles package reads the header, the metadata and one tile, which it writes out
    // decompressed.
    let tile = dir.path().join("tile.mvt");
    let script = format!(
        "import gzip, json\n\
         from pmtiles.reader import Reader, MmapSource\n\
         with open({a:?}, 'rb') as f:\n\
         \x20   r = Reader(MmapSource(f))\n\
         \x20   h = r.header()\n\
         \x20   assert (h['min_zoom'], h['max_zoom']) == (14, 16), h\n\
         \x20   assert r.metadata()['vector_layers'][0]['id'] == 'parcels'\n\
         \x20   t = r.get(16, 33195, 22536)\n\
         \x20   open({t:?}, 'wb').write(gzip.decompress(t))\n\
         \x20   print(h['addressed_tiles_count'])\n",
        a = archive.to_str().unwrap(),
        t = tile.to_str().unwrap()
    );
    let py = Command::new("python3").args(["-c", &script]).output().expect("python3");
    assert!(
        py.status.success(),
        "the pmtiles package (pip install pmtiles, done by .ci/run): {}",
        String::from_utf8_lossy(&py.stderr)
    );
    let addressed: u64 = String::from_utf8_lossy(&py.stdout).trim().parse().unwrap();
    assert_eq!(addressed, report["tiles"].as_u64().unwrap());

    // GDAL and our decoder read the same parcels from it, with the actor the store gives each.
    let bytes = std::fs::read(&tile).unwrap();
    let ours = domania_tiles::mvt::decode(&bytes).unwrap();
    let parcels = &ours[0].features;
    assert!(parcels.len() > 20);
    let gdal = Command::new("ogrinfo").args(["-ro", "-al", "-oo", "CLIP=NO"]).arg(&tile).output().expect("ogrinfo");
    let gdal = String::from_utf8_lossy(&gdal.stdout).into_owned();
    assert_eq!(gdal.matches("idu (String) = ").count(), parcels.len());
    for f in parcels.iter().step_by(parcels.len() / 4) {
        let prop = |k: &str| match f.properties.iter().find(|(n, _)| n == k) {
            Some((_, domania_tiles::mvt::Value::String(v))) => v.clone(),
            other => panic!("{k}: {other:?}"),
        };
        let idu = prop("idu");
        assert!(gdal.contains(&format!("idu (String) = {idu}")));
        let out = domania(&store, &["--json", "parcel", &idu]);
        let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(p["actor"].as_str(), Some(prop("actor").as_str()), "{idu}");
    }
}
