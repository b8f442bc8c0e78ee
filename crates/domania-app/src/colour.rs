//! Colours that keep their meaning: one colour per actor, the same in every view (who owns, who
//! manages, how a sub-sector is managed, the documents' maps); the services of one actor in
//! shades of its colour (lighter and darker in CIELAB, its hue kept); and the distance two
//! colours of a legend must keep, CIEDE2000 (Sharma, Wu and Dalal's formulation).

use domania_core::Actor;

/// The least CIEDE2000 distance between two colours of one legend: below it, readers confuse
/// them (about three just-noticeable differences on a map at 80 % opacity).
pub const MIN_DISTANCE: f64 = 15.0;

/// The colours of Domania's maps, defined once in `styles/colours.json` (built in).
#[derive(Debug, serde::Deserialize)]
pub struct Colours {
    /// By actor (`Actor::as_str`).
    pub actors: std::collections::BTreeMap<String, String>,
    /// What no rule or table names (a service left unassigned, an unknown value).
    pub other: String,
    /// The non-cadastré space where no manager colours it (the documents' maps, who owns).
    pub non_cadastre: String,
    /// A sub-sector managed by domaniality (each owner its own land): a colour no actor has.
    pub domanialite: String,
    /// A sub-sector the rule cannot decide while owners are unknown.
    pub undecided: String,
    /// A report's point by its status (`Status::as_str`; `//` is the file's comment).
    pub report_status: std::collections::BTreeMap<String, String>,
}

/// The colours (`styles/colours.json`, read once).
///
/// # Panics
/// Never: the built-in file is checked by the tests (every actor has a colour).
#[must_use]
pub fn colours() -> &'static Colours {
    static COLOURS: std::sync::OnceLock<Colours> = std::sync::OnceLock::new();
    COLOURS.get_or_init(|| {
        serde_json::from_str(include_str!("../../../styles/colours.json")).expect("styles/colours.json is valid")
    })
}

/// Each actor's colour (`styles/colours.json`): the public owners take Okabe–Ito's colours
/// (safe for the colour-blind), the others Paul Tol's, every pair of the fourteen at
/// CIEDE2000 ≥ 17 (checked by a test).
#[must_use]
pub fn actor_colour(a: Actor) -> &'static str {
    colours().actors.get(a.as_str()).map_or(colours().other.as_str(), String::as_str)
}

/// The `n`-th shade of a colour (0: the colour itself; then lighter, darker, lighter still…):
/// CIELAB lightness moved by [`SHADE_STEP`] each time, hue and chroma kept as far as sRGB
/// allows; a shade sRGB's gamut would bring closer than [`MIN_DISTANCE`] to an earlier one is
/// passed over.
#[must_use]
pub fn shade(hex: &str, n: usize) -> String {
    let [l, a, b] = lab(hex);
    let mut kept = vec![hex.to_ascii_uppercase()];
    for k in (1..8).flat_map(|k| [f64::from(k), -f64::from(k)]) {
        if kept.len() > n {
            break;
        }
        let target = l + k * SHADE_STEP;
        if !(20.0..=95.0).contains(&target) {
            continue;
        }
        let candidate = hex_of(target, a, b);
        if kept.iter().all(|c| ciede2000(c, &candidate) >= MIN_DISTANCE) {
            kept.push(candidate);
        }
    }
    kept.get(n).cloned().unwrap_or_else(|| kept[kept.len() - 1].clone())
}

/// How much lighter or darker each shade of an actor's colour is (CIELAB L*).
pub const SHADE_STEP: f64 = 20.0;

/// sRGB `#RRGGBB` to CIELAB (D65).
#[must_use]
#[allow(clippy::many_single_char_names)]
pub fn lab(hex: &str) -> [f64; 3] {
    let h = hex.trim_start_matches('#');
    let ch = |i: usize| f64::from(u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0)) / 255.0;
    let lin = |c: f64| if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) };
    let (r, g, b) = (lin(ch(0)), lin(ch(2)), lin(ch(4)));
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b;
    let z = (0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| if t > 216.0 / 24_389.0 { t.cbrt() } else { (24_389.0 / 27.0 * t + 16.0) / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB to sRGB `#RRGGBB`, each channel clamped into its range.
#[allow(clippy::many_single_char_names)]
fn hex_of(l: f64, a: f64, b: f64) -> String {
    let fy = (l + 16.0) / 116.0;
    let (fx, fz) = (fy + a / 500.0, fy - b / 200.0);
    let inv = |t: f64| if t.powi(3) > 216.0 / 24_389.0 { t.powi(3) } else { (116.0 * t - 16.0) / (24_389.0 / 27.0) };
    let (x, y, z) = (inv(fx) * 0.950_47, inv(fy), inv(fz) * 1.088_83);
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266_0 * x + 1.876_010_8 * y + 0.041_556_0 * z;
    let bl = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    let gamma = |c: f64| if c <= 0.003_130_8 { 12.92 * c } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
    let byte = |c: f64| (gamma(c) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02X}{:02X}{:02X}", byte(r), byte(g), byte(bl))
}

/// The CIEDE2000 colour difference of two sRGB colours.
#[must_use]
pub fn ciede2000(c1: &str, c2: &str) -> f64 {
    ciede2000_lab(lab(c1), lab(c2))
}

/// The CIEDE2000 colour difference of two CIELAB colours.
#[must_use]
#[allow(clippy::many_single_char_names, clippy::similar_names)]
pub fn ciede2000_lab([l1, a1, b1]: [f64; 3], [l2, a2, b2]: [f64; 3]) -> f64 {
    let c_bar = f64::midpoint(a1.hypot(b1), a2.hypot(b2));
    let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
    let hue = |b: f64, a: f64| if a == 0.0 && b == 0.0 { 0.0 } else { b.atan2(a).to_degrees().rem_euclid(360.0) };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let big_dh = 2.0 * (c1p * c2p).sqrt() * (dh.to_radians() / 2.0).sin();
    let l_bar = f64::midpoint(l1, l2);
    let c_bar_p = f64::midpoint(c1p, c2p);
    let h_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        f64::midpoint(h1p, h2p)
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (h_bar - 30.0).to_radians().cos()
        + 0.24 * (2.0 * h_bar).to_radians().cos()
        + 0.32 * (3.0 * h_bar + 6.0).to_radians().cos()
        - 0.20 * (4.0 * h_bar - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (c_bar_p.powi(7) / (c_bar_p.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * c_bar_p;
    let sh = 1.0 + 0.015 * c_bar_p * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (big_dh / sh).powi(2) + rt * (dc / sc) * (big_dh / sh)).sqrt()
}

/// The closest pair of a set of colours and their CIEDE2000 distance.
#[must_use]
pub fn closest<'a>(colours: &[&'a str]) -> Option<(f64, &'a str, &'a str)> {
    let mut best: Option<(f64, &str, &str)> = None;
    for (i, a) in colours.iter().enumerate() {
        for b in &colours[i + 1..] {
            let d = ciede2000(a, b);
            if best.is_none_or(|(x, _, _)| d < x) {
                best = Some((d, a, b));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciede2000_matches_sharma_s_test_data() {
        // Pairs 1, 7, 17 and 25 of Sharma, Wu and Dalal's table (Color Res. Appl. 30, 2005).
        for (p, q, want) in [
            ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
            ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
            ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
            ([60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644),
        ] {
            let d = ciede2000_lab(p, q);
            assert!((d - want).abs() < 1e-4, "{p:?} {q:?}: {d} instead of {want}");
        }
        assert!((ciede2000("#000000", "#FFFFFF") - 100.0).abs() < 0.01);
    }

    #[test]
    fn the_fourteen_actors_keep_their_distance() {
        assert!(Actor::ALL.iter().all(|a| colours().actors.contains_key(a.as_str())), "every actor has its colour");
        let all: Vec<&str> = Actor::ALL.iter().map(|&a| actor_colour(a)).collect();
        let (d, a, b) = closest(&all).unwrap();
        assert!(d >= 17.0, "{a} and {b}: {d:.1}");
    }

    #[test]
    fn shades_keep_the_hue_and_step_in_lightness() {
        for a in Actor::ALL {
            let base = actor_colour(a);
            let shades: Vec<String> = (0..3).map(|n| shade(base, n)).collect();
            for s in &shades[1..] {
                // Lighter or darker by about a step (less where sRGB's gamut clips the colour).
                let step = (lab(s)[0] - lab(base)[0]).abs();
                assert!(step >= SHADE_STEP / 2.0, "{a}: {s} is only {step:.1} lighter or darker");
            }
            let refs: Vec<&str> = shades.iter().map(String::as_str).collect();
            let (d, x, y) = closest(&refs).unwrap();
            assert!(d >= MIN_DISTANCE, "{a}: {x} and {y}: {d:.1}");
        }
    }
}
