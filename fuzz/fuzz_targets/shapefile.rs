//! Shapefile: the DBF attributes (our own parser) and the .shp shapes through the geometry
//! policy. The input is split at its first 0xFF 0xFE pair: DBF bytes, then SHP bytes.
#![no_main]

use std::path::Path;

use domania_io::crs::Crs;
use domania_io::geometry::InvalidPolicy;
use domania_io::shp::{parse_dbf, parse_shp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.windows(2).position(|w| w == [0xFF, 0xFE]).unwrap_or(data.len());
    let (dbf, shp) = (&data[..split], data.get(split + 2..).unwrap_or(&[]));
    let _ = parse_dbf(Path::new("fuzz.dbf"), dbf, None);
    let _ = parse_dbf(Path::new("fuzz.dbf"), dbf, Some("UTF-8"));
    let _ = parse_shp(Path::new("fuzz.shp"), shp, &Crs::lambert93(), InvalidPolicy::Repair);
});
