//! Compares Domania's pure-Rust transforms with PROJ's `cs2cs` (Debian `proj-bin`, installed by
//! `.ci/run`) on 1,200 points per CRS, both directions. Worst error must stay under 1 mm.

use std::io::Write;
use std::process::{Command, Stdio};

use domania_app::Crs;

/// Metres per degree of latitude, to turn a geographic difference into a distance.
const M_PER_DEG: f64 = 111_320.0;
/// The accuracy target: one millimetre.
const TOLERANCE_M: f64 = 1e-3;

/// Deterministic pseudo-random numbers (splitmix64) so failures are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn cs2cs(from: &str, to: &str, input: &str) -> Vec<(f64, f64)> {
    let mut child = Command::new("cs2cs")
        .args(["-f", "%.10f", from, to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cs2cs not found: install PROJ's command-line tools (Debian package proj-bin; .ci/run does)");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "cs2cs {from} {to} failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut it = l.split_whitespace().map(|v| v.parse::<f64>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect()
}

/// A range of degrees.
type Span = (f64, f64);

/// (EPSG, lon range, lat range) of the area each CRS is meant for.
const AREAS: &[(u32, Span, Span)] = &[
    (2154, (-5.0, 9.5), (41.3, 51.1)),
    (3942, (-1.5, 8.3), (41.3, 42.7)),
    (3944, (-1.5, 8.3), (43.2, 44.8)),
    (3946, (-1.5, 8.3), (45.2, 46.8)),
    (3948, (-1.5, 8.3), (47.2, 48.8)),
    (3949, (-1.5, 8.3), (48.2, 49.8)),
    (3950, (-1.5, 8.3), (49.2, 50.8)),
    (3857, (-5.0, 9.5), (41.3, 51.1)),
    (32631, (0.0, 6.0), (42.0, 51.0)),
    (32620, (-66.0, -60.0), (14.0, 18.5)),
    (32740, (54.0, 60.0), (-22.0, -20.0)),
    (2972, (-54.6, -51.6), (2.1, 5.8)),
    (5490, (-63.2, -60.8), (14.4, 16.5)),
    (2975, (55.2, 55.9), (-21.4, -20.8)),
    (4471, (44.9, 45.3), (-13.1, -12.6)),
];

#[test]
#[cfg_attr(domania_without_proj, ignore = "needs PROJ's cs2cs (proj-bin)")]
fn transforms_match_proj_within_a_millimetre() {
    let wgs = Crs::wgs84();
    let mut rng = Rng(2154);
    let mut total = 0;
    for &(epsg, (lon0, lon1), (lat0, lat1)) in AREAS {
        let crs = Crs::from_epsg(epsg).unwrap();
        let pts: Vec<(f64, f64)> =
            (0..1200).map(|_| (lon0 + rng.next() * (lon1 - lon0), lat0 + rng.next() * (lat1 - lat0))).collect();
        // Forward: EPSG:4326 takes latitude first in cs2cs.
        let input: String = pts.iter().map(|(lon, lat)| format!("{lat:.12} {lon:.12}\n")).collect();
        let proj_xy = cs2cs("EPSG:4326", &format!("EPSG:{epsg}"), &input);
        let mut worst_fwd: f64 = 0.0;
        for ((lon, lat), (px, py)) in pts.iter().zip(&proj_xy) {
            let (x, y) = wgs.transform_to(&crs, *lon, *lat);
            worst_fwd = worst_fwd.max((x - px).hypot(y - py));
        }
        // Inverse: from PROJ's projected points back to latitude/longitude.
        let input: String = proj_xy.iter().map(|(x, y)| format!("{x:.6} {y:.6}\n")).collect();
        let proj_ll = cs2cs(&format!("EPSG:{epsg}"), "EPSG:4326", &input);
        let mut worst_inv: f64 = 0.0;
        for ((x, y), (plat, plon)) in proj_xy.iter().zip(&proj_ll) {
            let (lon, lat) = crs.transform_to(&wgs, *x, *y);
            let dx = (lon - plon) * M_PER_DEG * lat.to_radians().cos();
            let dy = (lat - plat) * M_PER_DEG;
            worst_inv = worst_inv.max(dx.hypot(dy));
        }
        println!("EPSG:{epsg}: worst forward {:.3} mm, worst inverse {:.3} mm", worst_fwd * 1e3, worst_inv * 1e3);
        assert!(worst_fwd <= TOLERANCE_M, "EPSG:{epsg} forward: worst error {worst_fwd} m");
        assert!(worst_inv <= TOLERANCE_M, "EPSG:{epsg} inverse: worst error {worst_inv} m");
        total += pts.len();
    }
    assert!(total >= 1000);
}
