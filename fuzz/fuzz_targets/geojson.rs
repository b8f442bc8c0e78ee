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

/// libFuzzer's panic hook aborts on any panic, even one the code catches: the repair catches
/// i_overlay's (see `geometry::repair`), so those are let through; any other still aborts.
fn hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !domania_io::geometry::IN_REPAIR.with(std::cell::Cell::get) {
                fuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    hook();
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
