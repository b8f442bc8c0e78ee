//! Coordinate reference systems, in pure Rust.
//!
//! Domania stores everything in Lambert-93 (EPSG:2154). This module converts to and from the
//! systems French territorial data comes in: WGS84 / CRS84 (EPSG:4326), RGF93 geographic
//! (EPSG:4171), Lambert-93, the nine *conique conforme* zones CC42–CC50 (EPSG:3942–3950),
//! Web Mercator (EPSG:3857), WGS84 UTM zones (EPSG:326xx/327xx) and the overseas UTM
//! projections (EPSG:2972 Guyane, 5490 Antilles, 2975 Réunion, 4471 Mayotte).
//!
//! All the geodetic datums involved (RGF93, RGFG95, RGAF09, RGR92, RGM04, WGS84) are
//! realisations of ITRS that PROJ relates to WGS84 by a null transformation, so a transform is
//! "inverse projection to latitude/longitude, then forward projection". Accuracy against PROJ's
//! `cs2cs` is tested (`tests/crs_vs_cs2cs.rs`): below a millimetre.
//!
//! Formulas: Lambert conic conformal 2SP and Mercator from IOGP Guidance Note 7-2; transverse
//! Mercator by the Krüger series to order n⁴ (Karney 2011), inverse latitude by fixed-point
//! iteration on the isometric latitude.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
use std::fmt;

/// An ellipsoid by semi-major axis and inverse flattening.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ellipsoid {
    a: f64,
    e: f64,
    n: f64,
}

impl Ellipsoid {
    const fn new(a: f64, inv_f: f64) -> Self {
        let f = 1.0 / inv_f;
        let e2 = f * (2.0 - f);
        // const fn cannot call sqrt: the eccentricity is filled in lazily by `e()`.
        Self { a, e: e2, n: f / (2.0 - f) }
    }
    fn e(&self) -> f64 {
        self.e.sqrt()
    }
}

const GRS80: Ellipsoid = Ellipsoid::new(6_378_137.0, 298.257_222_101);
const WGS84: Ellipsoid = Ellipsoid::new(6_378_137.0, 298.257_223_563);

/// Isometric latitude ψ of geodetic latitude φ.
fn isometric(phi: f64, e: f64) -> f64 {
    phi.tan().asinh() - e * (e * phi.sin()).atanh()
}

/// Geodetic latitude from isometric latitude, by fixed-point iteration (converges to 1e-15 rad
/// in a handful of steps for the Earth's eccentricity).
fn from_isometric(psi: f64, e: f64) -> f64 {
    let mut phi = 2.0 * psi.exp().atan() - FRAC_PI_2;
    for _ in 0..30 {
        let s = e * phi.sin();
        let next = 2.0 * (psi.exp() * ((1.0 + s) / (1.0 - s)).powf(e / 2.0)).atan() - FRAC_PI_2;
        if (next - phi).abs() < 1e-15 {
            return next;
        }
        phi = next;
    }
    phi
}

/// The coefficients of the series from conformal latitude χ to geodetic latitude φ, in the
/// third flattening `n` to n⁴ (Karney 2011): φ = χ + Σ dₖ·sin(2kχ).
fn conformal_to_geodetic(n: f64) -> [f64; 4] {
    let (n2, n3, n4) = (n * n, n * n * n, n * n * n * n);
    [
        2.0 * n - 2.0 / 3.0 * n2 - 2.0 * n3 + 116.0 / 45.0 * n4,
        7.0 / 3.0 * n2 - 8.0 / 5.0 * n3 - 227.0 / 45.0 * n4,
        56.0 / 15.0 * n3 - 136.0 / 35.0 * n4,
        4279.0 / 630.0 * n4,
    ]
}

/// Lambert conic conformal with two standard parallels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Lcc {
    ell: Ellipsoid,
    lon0: f64,
    x0: f64,
    y0: f64,
    n: f64,
    af: f64,
    r0: f64,
    /// The series from conformal to geodetic latitude (see [`Lcc::web_mercator_of`]).
    chi_to_phi: [f64; 4],
}

impl Lcc {
    // The single-letter names are those of IOGP Guidance Note 7-2.
    #[allow(clippy::many_single_char_names)]
    fn new(ell: Ellipsoid, lat0: f64, lat1: f64, lat2: f64, lon0: f64, x0: f64, y0: f64) -> Self {
        let e = ell.e();
        let m = |phi: f64| phi.cos() / (1.0 - (e * phi.sin()).powi(2)).sqrt();
        let t = |phi: f64| (-isometric(phi, e)).exp();
        let (p0, p1, p2) = (lat0.to_radians(), lat1.to_radians(), lat2.to_radians());
        let n = (m(p1).ln() - m(p2).ln()) / (t(p1).ln() - t(p2).ln());
        let f = m(p1) / (n * t(p1).powf(n));
        let af = ell.a * f;
        let r0 = af * t(p0).powf(n);
        Self { ell, lon0: lon0.to_radians(), x0, y0, n, af, r0, chi_to_phi: conformal_to_geodetic(ell.n) }
    }
    fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let r = self.af * (-self.n * isometric(lat, self.ell.e())).exp();
        let theta = self.n * (lon - self.lon0);
        (self.x0 + r * theta.sin(), self.y0 + self.r0 - r * theta.cos())
    }
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let (lon, psi) = self.inverse_isometric(x, y);
        (lon, from_isometric(psi, self.ell.e()))
    }
    /// Longitude and isometric latitude of a point: the inverse before the latitude.
    fn inverse_isometric(&self, x: f64, y: f64) -> (f64, f64) {
        let dx = x - self.x0;
        let dy = self.r0 - (y - self.y0);
        let r = dx.hypot(dy).copysign(self.n);
        let theta = (dx * self.n.signum()).atan2(dy * self.n.signum());
        let psi = -(r / self.af).ln() / self.n;
        (theta / self.n + self.lon0, psi)
    }
    /// Web Mercator of a point, without its geodetic latitude (what the tiles project every
    /// point by): Web Mercator's northing is `a·asinh(tan φ)`, which is the isometric latitude ψ
    /// the inverse gives plus `e·atanh(e·sin φ)`; only `sin φ` is needed, from the conformal
    /// latitude by its series (Karney 2011, to n⁴), instead of the iteration to φ (six or seven
    /// rounds of `exp`, `sin`, `pow`, `atan`) and a `tan` and `ln` after it. The two agree to
    /// 2e-8 m over France and around it (a tile's grid unit is 9 mm). The series' coefficients
    /// are worked out once, in [`Lcc::new`]. The single letters are the formulas' (e the
    /// eccentricity, d the series' coefficients).
    #[allow(clippy::many_single_char_names)]
    fn web_mercator_of(&self, x: f64, y: f64) -> (f64, f64) {
        let (lon, psi) = self.inverse_isometric(x, y);
        let d = &self.chi_to_phi;
        let chi = psi.sinh().atan();
        let (s2, c2) = (2.0 * chi).sin_cos();
        let (s4, c4) = (2.0 * s2 * c2, 1.0 - 2.0 * s2 * s2);
        let (s6, s8) = (s4 * c2 + c4 * s2, 2.0 * s4 * c4);
        let phi = chi + d[0] * s2 + d[1] * s4 + d[2] * s6 + d[3] * s8;
        let e = self.ell.e();
        let r = WGS84.a;
        (r * lon, r * (psi + e * (e * phi.sin()).atanh()))
    }
}

/// Transverse Mercator (Krüger series).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tm {
    ell: Ellipsoid,
    lon0: f64,
    k0a: f64,
    x0: f64,
    y0: f64,
    alpha: [f64; 4],
    beta: [f64; 4],
}

impl Tm {
    fn new(ell: Ellipsoid, lon0: f64, k0: f64, x0: f64, y0: f64) -> Self {
        let n = ell.n;
        let (n2, n3, n4) = (n * n, n * n * n, n * n * n * n);
        let big_a = ell.a / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0);
        let alpha = [
            n / 2.0 - 2.0 / 3.0 * n2 + 5.0 / 16.0 * n3 + 41.0 / 180.0 * n4,
            13.0 / 48.0 * n2 - 3.0 / 5.0 * n3 + 557.0 / 1440.0 * n4,
            61.0 / 240.0 * n3 - 103.0 / 140.0 * n4,
            49561.0 / 161_280.0 * n4,
        ];
        let beta = [
            n / 2.0 - 2.0 / 3.0 * n2 + 37.0 / 96.0 * n3 - 1.0 / 360.0 * n4,
            1.0 / 48.0 * n2 + 1.0 / 15.0 * n3 - 437.0 / 1440.0 * n4,
            17.0 / 480.0 * n3 - 37.0 / 840.0 * n4,
            4397.0 / 161_280.0 * n4,
        ];
        Self { ell, lon0: lon0.to_radians(), k0a: k0 * big_a, x0, y0, alpha, beta }
    }
    fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let t = isometric(lat, self.ell.e()).sinh();
        let dl = lon - self.lon0;
        let xi_p = t.atan2(dl.cos());
        let eta_p = (dl.sin() / t.hypot(1.0)).atanh();
        let (mut xi, mut eta) = (xi_p, eta_p);
        for (j, a) in self.alpha.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
            eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
        }
        (self.x0 + self.k0a * eta, self.y0 + self.k0a * xi)
    }
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let xi = (y - self.y0) / self.k0a;
        let eta = (x - self.x0) / self.k0a;
        let (mut xi_p, mut eta_p) = (xi, eta);
        for (j, b) in self.beta.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi_p -= b * (k * xi).sin() * (k * eta).cosh();
            eta_p -= b * (k * xi).cos() * (k * eta).sinh();
        }
        let chi = (xi_p.sin() / eta_p.cosh()).asin();
        let lon = self.lon0 + eta_p.sinh().atan2(xi_p.cos());
        (lon, from_isometric(chi.tan().asinh(), self.ell.e()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Geographic,
    Lcc(Lcc),
    Tm(Tm),
    WebMercator,
}

/// A supported coordinate reference system. Build it with [`Crs::from_epsg`] or
/// [`Crs::parse`].
///
/// ```
/// use domania_io::crs::Crs;
/// let l93 = Crs::from_epsg(2154).unwrap();
/// let wgs = Crs::from_epsg(4326).unwrap();
/// // The origin of Lambert-93: 3°E, 46°30'N.
/// let (x, y) = wgs.transform_to(&l93, 3.0, 46.5);
/// assert!((x - 700_000.0).abs() < 1e-6 && (y - 6_600_000.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crs {
    epsg: u32,
    kind: Kind,
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EPSG:{}", self.epsg)
    }
}

/// EPSG:2154, RGF93 v1 / Lambert-93: the CRS everything is stored in.
pub const LAMBERT93: u32 = 2154;

/// The box holding two boxes.
#[must_use]
pub fn box_union(a: geo_types::Rect<f64>, b: geo_types::Rect<f64>) -> geo_types::Rect<f64> {
    geo_types::Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

/// A Lambert-93 box as `[west, south, east, north]` in CRS84 degrees: the box of its four
/// corners (a projected box is not a box in degrees).
#[must_use]
pub fn lambert93_box_to_crs84(r: geo_types::Rect<f64>) -> [f64; 4] {
    let (l93, wgs) = (Crs::lambert93(), Crs::wgs84());
    let corners = [(r.min().x, r.min().y), (r.max().x, r.min().y), (r.min().x, r.max().y), (r.max().x, r.max().y)]
        .map(|(x, y)| l93.transform_to(&wgs, x, y));
    corners.iter().fold([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], |m, c| {
        [m[0].min(c.0), m[1].min(c.1), m[2].max(c.0), m[3].max(c.1)]
    })
}

impl Crs {
    /// Lambert-93, the storage CRS.
    ///
    /// # Panics
    /// Never: EPSG:2154 is built in.
    #[must_use]
    pub fn lambert93() -> Self {
        Self::from_epsg(LAMBERT93).expect("EPSG:2154 is built in")
    }
    /// WGS84 longitude/latitude in degrees (GeoJSON's default).
    ///
    /// # Panics
    /// Never: EPSG:4326 is built in.
    #[must_use]
    pub fn wgs84() -> Self {
        Self::from_epsg(4326).expect("EPSG:4326 is built in")
    }

    /// The EPSG code.
    #[must_use]
    pub fn epsg(&self) -> u32 {
        self.epsg
    }

    /// True for longitude/latitude systems (coordinates in degrees, x = longitude).
    #[must_use]
    pub fn is_geographic(&self) -> bool {
        matches!(self.kind, Kind::Geographic)
    }

    /// A built-in CRS by EPSG code, or `None` when it is not supported.
    #[must_use]
    pub fn from_epsg(epsg: u32) -> Option<Self> {
        let kind = match epsg {
            4326 | 4171 | 4258 | 4624 | 4627 | 7084 | 4470 | 5489 => Kind::Geographic,
            2154 => Kind::Lcc(Lcc::new(GRS80, 46.5, 49.0, 44.0, 3.0, 700_000.0, 6_600_000.0)),
            3942..=3950 => {
                let lat0 = f64::from(epsg - 3900);
                let y0 = 1_200_000.0 + f64::from(epsg - 3942) * 1_000_000.0;
                Kind::Lcc(Lcc::new(GRS80, lat0, lat0 - 0.75, lat0 + 0.75, 3.0, 1_700_000.0, y0))
            }
            3857 => Kind::WebMercator,
            32601..=32660 => Kind::Tm(utm(WGS84, epsg - 32600, false)),
            32701..=32760 => Kind::Tm(utm(WGS84, epsg - 32700, true)),
            2972 => Kind::Tm(utm(GRS80, 22, false)), // RGFG95 / UTM 22N (Guyane)
            5490 => Kind::Tm(utm(GRS80, 20, false)), // RGAF09 / UTM 20N (Antilles)
            2975 => Kind::Tm(utm(GRS80, 40, true)),  // RGR92 / UTM 40S (Réunion)
            4471 => Kind::Tm(utm(GRS80, 38, true)),  // RGM04 / UTM 38S (Mayotte)
            _ => return None,
        };
        Some(Self { epsg, kind })
    }

    /// Parses `EPSG:2154`, `epsg:2154`, `2154`, the OGC URNs (`urn:ogc:def:crs:EPSG::2154`,
    /// `urn:ogc:def:crs:OGC:1.3:CRS84`) and the OGC http URIs. `None` if not understood or
    /// not supported.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let upper = t.to_ascii_uppercase();
        if upper.ends_with("CRS84") || upper == "WGS84" {
            return Self::from_epsg(4326);
        }
        let code = upper.rsplit([':', '/']).next()?;
        code.parse().ok().and_then(Self::from_epsg)
    }

    /// Converts one coordinate from this CRS to longitude/latitude in radians.
    fn inverse_to_lonlat(&self, x: f64, y: f64) -> (f64, f64) {
        match &self.kind {
            Kind::Geographic => (x.to_radians(), y.to_radians()),
            Kind::Lcc(p) => p.inverse(x, y),
            Kind::Tm(p) => p.inverse(x, y),
            Kind::WebMercator => {
                let r = WGS84.a;
                (x / r, 2.0 * (y / r).exp().atan() - FRAC_PI_2)
            }
        }
    }

    fn forward_from_lonlat(&self, lon: f64, lat: f64) -> (f64, f64) {
        match &self.kind {
            Kind::Geographic => (lon.to_degrees(), lat.to_degrees()),
            Kind::Lcc(p) => p.forward(lon, lat),
            Kind::Tm(p) => p.forward(lon, lat),
            Kind::WebMercator => {
                let r = WGS84.a;
                (r * lon, r * (FRAC_PI_4 + lat / 2.0).tan().ln())
            }
        }
    }

    /// Transforms one coordinate (x = easting or longitude) from this CRS to `to`.
    #[must_use]
    pub fn transform_to(&self, to: &Crs, x: f64, y: f64) -> (f64, f64) {
        if self.epsg == to.epsg {
            return (x, y);
        }
        if let (Kind::Lcc(p), Kind::WebMercator) = (&self.kind, &to.kind) {
            return p.web_mercator_of(x, y);
        }
        let (lon, lat) = self.inverse_to_lonlat(x, y);
        to.forward_from_lonlat(lon, lat)
    }

    /// A rough validity envelope (x_min, y_min, x_max, y_max) of coordinates in this CRS;
    /// anything outside is not a real French coordinate and is rejected by readers.
    #[must_use]
    pub fn plausible_bounds(&self) -> (f64, f64, f64, f64) {
        match self.kind {
            Kind::Geographic => (-180.0, -90.0, 180.0, 90.0),
            Kind::WebMercator => (-20_037_508.35, -20_048_966.11, 20_037_508.35, 20_048_966.11),
            Kind::Lcc(p) => (p.x0 - 2_000_000.0, p.y0 - 3_000_000.0, p.x0 + 2_000_000.0, p.y0 + 3_000_000.0),
            Kind::Tm(p) => (p.x0 - 1_000_000.0, -1.0e7, p.x0 + 1_000_000.0, 2.0e7),
        }
    }
}

fn utm(ell: Ellipsoid, zone: u32, south: bool) -> Tm {
    let lon0 = f64::from(zone) * 6.0 - 183.0;
    Tm::new(ell, lon0, 0.9996, 500_000.0, if south { 10_000_000.0 } else { 0.0 })
}

/// The list of EPSG codes built in, for error messages and docs.
pub const SUPPORTED: &str = "4326 (WGS84/CRS84), 4171 (RGF93 geographic), 2154 (Lambert-93), 3942-3950 (CC42-CC50), \
3857 (Web Mercator), 32601-32660/32701-32760 (WGS84 UTM), 2972, 5490, 2975, 4471 (overseas UTM)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambert93_to_web_mercator_by_the_series_is_the_iteration_to_a_tenth_of_a_micrometre() {
        let (l93, merc) = (Crs::lambert93(), Crs::from_epsg(3857).unwrap());
        let Kind::Lcc(p) = l93.kind else { unreachable!() };
        let mut worst: f64 = 0.0;
        // Metropolitan France and well beyond, every 7 km.
        for x in (0..300).map(|i| -400_000.0 + f64::from(i) * 7_000.0) {
            for y in (0..300).map(|j| 5_900_000.0 + f64::from(j) * 7_000.0) {
                let (lon, lat) = p.inverse(x, y);
                let slow = merc.forward_from_lonlat(lon, lat);
                let fast = l93.transform_to(&merc, x, y);
                assert_eq!(fast.0.to_bits(), slow.0.to_bits(), "the easting is the same number");
                worst = worst.max((fast.1 - slow.1).abs());
            }
        }
        assert!(worst < 1e-7, "{worst} m");
        // PROJ 9 (`cs2cs -f %.5f EPSG:2154 EPSG:3857`): Paris, Poissy, Nice, Brittany.
        for ((x, y), (mx, my)) in [
            ((652_469.02, 6_861_902.08), (261_847.359_71, 6_250_361.715_06)),
            ((620_000.0, 6_880_000.0), (212_212.073_88, 6_277_393.402_00)),
            ((1_000_000.0, 6_250_000.0), (745_331.029_04, 5_355_602.938_36)),
            ((150_000.0, 6_800_000.0), (-489_250.349_97, 6_118_244.991_18)),
        ] {
            let (fx, fy) = l93.transform_to(&merc, x, y);
            assert!((fx - mx).abs() < 1e-4 && (fy - my).abs() < 1e-4, "{x} {y}: {fx} {fy}");
        }
    }

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn boxes_join_and_go_to_degrees_by_their_corners() {
        let a = geo_types::Rect::new((0.0, 0.0), (1.0, 1.0));
        let b = geo_types::Rect::new((2.0, -1.0), (3.0, 0.5));
        let u = box_union(a, b);
        assert_eq!((u.min().x, u.min().y, u.max().x, u.max().y), (0.0, -1.0, 3.0, 1.0));
        // Around Poissy: a 1 km box is a little over 0.013° of longitude and 0.009° of latitude.
        let r = geo_types::Rect::new((630_000.0, 6_870_000.0), (631_000.0, 6_871_000.0));
        let [w, s, e, n] = lambert93_box_to_crs84(r);
        assert!(w < e && s < n && (1.7..2.1).contains(&w) && (48.8..49.1).contains(&s));
        assert!((e - w - 0.0137).abs() < 0.001 && (n - s - 0.009).abs() < 0.001, "{w} {s} {e} {n}");
    }

    #[test]
    fn round_trips_are_exact_to_a_micrometre() {
        let wgs = Crs::wgs84();
        for epsg in [2154, 3942, 3946, 3950, 3857, 32631, 2972, 5490, 2975, 4471] {
            let crs = Crs::from_epsg(epsg).unwrap();
            let (lon, lat) = match epsg {
                2972 => (-52.3, 4.9),
                5490 => (-61.5, 16.2),
                2975 => (55.5, -21.1),
                4471 => (45.1, -12.8),
                _ => (2.35, 48.85),
            };
            let (x, y) = wgs.transform_to(&crs, lon, lat);
            let (lon2, lat2) = crs.transform_to(&wgs, x, y);
            let (x2, y2) = wgs.transform_to(&crs, lon2, lat2);
            assert!((x - x2).abs() < 1e-6 && (y - y2).abs() < 1e-6, "EPSG:{epsg}: {x},{y} vs {x2},{y2}");
        }
    }

    #[test]
    fn parses_common_spellings() {
        assert_eq!(Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap().epsg(), 4326);
        assert_eq!(Crs::parse("urn:ogc:def:crs:EPSG::2154").unwrap().epsg(), 2154);
        assert_eq!(Crs::parse("EPSG:3948").unwrap().epsg(), 3948);
        assert_eq!(Crs::parse("http://www.opengis.net/def/crs/EPSG/0/3857").unwrap().epsg(), 3857);
        assert!(Crs::parse("EPSG:27572").is_none());
        assert!(Crs::parse("nonsense").is_none());
    }
}
