//! GeoPackage geometry blobs: header, envelope, WKB polygons and multipolygons.
#![no_main]

use domania_store::blob::{decode_multipolygon, encode_multipolygon, envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = envelope(data);
    if let Ok(mp) = decode_multipolygon(data) {
        // What decodes must survive a round trip.
        let again = decode_multipolygon(&encode_multipolygon(&mp)).expect("a blob we wrote decodes");
        assert_eq!(again.0.len(), mp.0.len());
    }
});
