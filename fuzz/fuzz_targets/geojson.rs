//! GeoJSON: the streaming reader, then every geometry through the repair/reject policy and the
//! property accessors, as an import does.
#![no_main]

use std::path::Path;

use domania_io::crs::Crs;
use domania_io::features::{first_str, prop_int, prop_str};
use domania_io::geojson::read_features_slice;
use domania_io::geometry::{InvalidPolicy, polygonal_l93};
use domania_io::sniff::Evidence;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut evidence = Evidence::default();
    let _ = read_features_slice(Path::new("fuzz.json"), data, |f, info| {
        for crs in [Crs::wgs84(), Crs::lambert93()] {
            for policy in [InvalidPolicy::Repair, InvalidPolicy::Reject] {
                let _ = polygonal_l93(f.geometry.as_ref(), &crs, policy);
            }
        }
        let _ = info.crs.as_deref().map(Crs::parse);
        let _ = prop_str(&f.properties, "id");
        let _ = prop_int(&f.properties, "contenance");
        let _ = first_str(&f.properties, &["code_qp", "nom_qp"]);
        evidence.see(f.id.as_deref(), &f.properties);
    });
});
