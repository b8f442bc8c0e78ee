//! DGFiP PPM CSV: encoding detection, both header styles, every row.
#![no_main]

use std::path::Path;

use domania_io::ppm::{Encoding, read_ppm_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_ppm_bytes(Path::new("fuzz.csv"), data, None);
    let _ = read_ppm_bytes(Path::new("fuzz.csv"), data, Encoding::for_label(b"windows-1252"));
});
