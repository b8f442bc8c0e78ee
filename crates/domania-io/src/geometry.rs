//! From raw coordinates to a valid Lambert-93 `MultiPolygon`, under an explicit policy.
//!
//! Steps, in order:
//! 1. the geometry must be a `Polygon` or `MultiPolygon`;
//! 2. every coordinate must be finite and inside the source CRS's plausible envelope;
//! 3. an unclosed ring is closed (a reported repair), a ring with fewer than 4 positions is
//!    rejected;
//! 4. coordinates are transformed to Lambert-93;
//! 5. OGC validity is checked; an invalid polygon (self-intersection, crossing rings…) is
//!    rebuilt under the even-odd rule by `i_overlay` (through `geo::BooleanOps`) under
//!    [`InvalidPolicy::Repair`], or rejected under [`InvalidPolicy::Reject`]. The repair is
//!    deterministic: the same input gives the same polygons, bit for bit (`geo::MakeValid`,
//!    used before, triangulates through hash maps and gave different vertices and areas from
//!    one run to the next on the real QPV file);
//! 6. a polygon of zero area is rejected;
//! 7. the result is written in canonical form ([`domania_core::canonical`]): ring orientation,
//!    start vertex and order no longer depend on how the file spelled the shape.

use geo::algorithm::bool_ops::{FillRule, OpType};
use geo::{Area, BooleanOps, Validation};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};

use crate::crs::Crs;
use crate::geojson::{Coords, RawGeometry};

/// What to do with an invalid polygon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidPolicy {
    /// Rebuild a valid geometry (odd-even rule) and report it with the area before and after.
    #[default]
    Repair,
    /// Reject the feature.
    Reject,
}

/// A geometry problem that rejects the feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
}

/// A repair that was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    pub code: &'static str,
    pub message: String,
}

fn problem(code: &'static str, message: impl Into<String>) -> Problem {
    Problem { code, message: message.into() }
}

/// Minimal area (m²) under which a polygon is considered empty: a square centimetre.
pub const MIN_AREA_M2: f64 = 1e-4;

/// Converts a raw GeoJSON geometry in `from` to a valid Lambert-93 multipolygon.
pub fn polygonal_l93(
    geom: Option<&RawGeometry>,
    from: &Crs,
    policy: InvalidPolicy,
) -> Result<(MultiPolygon<f64>, Vec<Repair>), Problem> {
    let geom = geom.ok_or_else(|| problem("missing_geometry", "the feature has no geometry"))?;
    let coords = geom.coords.as_ref().ok_or_else(|| problem("missing_geometry", "the geometry has no coordinates"))?;
    let polys: Vec<&Coords> = match (geom.kind.as_str(), coords) {
        ("Polygon", c) => vec![c],
        ("MultiPolygon", Coords::List(items)) => items.iter().collect(),
        ("MultiPolygon", Coords::Pos(_)) => {
            return Err(problem("bad_coordinates", "MultiPolygon coordinates are a position"));
        }
        (other, _) => {
            return Err(problem("wrong_geometry_type", format!("expected Polygon or MultiPolygon, found {other}")));
        }
    };
    let mut rings_out = Vec::with_capacity(polys.len());
    for (pi, poly) in polys.iter().enumerate() {
        let Coords::List(rings) = poly else {
            return Err(problem("bad_coordinates", format!("polygon {pi}: expected an array of rings")));
        };
        let mut parsed = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.iter().enumerate() {
            let Coords::List(points) = ring else {
                return Err(problem(
                    "bad_coordinates",
                    format!("polygon {pi} ring {ri}: expected an array of positions"),
                ));
            };
            let mut pts = Vec::with_capacity(points.len() + 1);
            for (ci, p) in points.iter().enumerate() {
                let Coords::Pos([x, y]) = p else {
                    return Err(problem(
                        "bad_coordinates",
                        format!("polygon {pi} ring {ri} position {ci} is not a position"),
                    ));
                };
                pts.push(Coord { x: *x, y: *y });
            }
            parsed.push(pts);
        }
        rings_out.push(parsed);
    }
    rings_to_l93(rings_out, from, policy)
}

/// The rings of a polygon or multipolygon (first ring of each polygon exterior), for
/// [`rings_to_l93`]; `None` for another kind of geometry.
#[must_use]
pub fn geo_rings(g: &geo_types::Geometry<f64>) -> Option<Vec<Vec<Vec<Coord<f64>>>>> {
    let poly = |p: &geo_types::Polygon<f64>| {
        std::iter::once(p.exterior()).chain(p.interiors()).map(|r| r.0.clone()).collect::<Vec<_>>()
    };
    match g {
        geo_types::Geometry::Polygon(p) => Some(vec![poly(p)]),
        geo_types::Geometry::MultiPolygon(mp) => Some(mp.0.iter().map(poly).collect()),
        _ => None,
    }
}

/// Steps 2–6 on polygons given as rings of source-CRS coordinates (first ring exterior).
pub fn rings_to_l93(
    polys: Vec<Vec<Vec<Coord<f64>>>>,
    from: &Crs,
    policy: InvalidPolicy,
) -> Result<(MultiPolygon<f64>, Vec<Repair>), Problem> {
    let l93 = Crs::lambert93();
    let (xmin, ymin, xmax, ymax) = from.plausible_bounds();
    let mut repairs = Vec::new();
    let mut out = Vec::with_capacity(polys.len());
    if polys.is_empty() {
        return Err(problem("empty_geometry", "the geometry has no polygon"));
    }
    for (pi, rings) in polys.into_iter().enumerate() {
        if rings.is_empty() {
            return Err(problem("empty_geometry", format!("polygon {pi} has no ring")));
        }
        let mut lines = Vec::with_capacity(rings.len());
        for (ri, mut pts) in rings.into_iter().enumerate() {
            for (ci, c) in pts.iter().enumerate() {
                if !c.x.is_finite() || !c.y.is_finite() {
                    return Err(problem(
                        "non_finite_coordinate",
                        format!("polygon {pi} ring {ri} position {ci} is not finite"),
                    ));
                }
                if c.x < xmin || c.x > xmax || c.y < ymin || c.y > ymax {
                    return Err(problem(
                        "coordinate_out_of_range",
                        format!(
                            "polygon {pi} ring {ri} position {ci} ({}, {}) is outside the range of {from}",
                            c.x, c.y
                        ),
                    ));
                }
            }
            if pts.len() >= 2 && pts.first() != pts.last() {
                pts.push(pts[0]);
                repairs.push(Repair {
                    code: "unclosed_ring",
                    message: format!("polygon {pi} ring {ri} was not closed; closed it"),
                });
            }
            if pts.len() < 4 {
                return Err(problem(
                    "too_few_points",
                    format!("polygon {pi} ring {ri} has {} positions; a ring needs at least 4", pts.len()),
                ));
            }
            if from.epsg() != l93.epsg() {
                for c in &mut pts {
                    let (x, y) = from.transform_to(&l93, c.x, c.y);
                    *c = Coord { x, y };
                }
            }
            lines.push(LineString::new(pts));
        }
        let exterior = lines.remove(0);
        out.push(Polygon::new(exterior, lines));
    }
    let mut mp = MultiPolygon::new(out);
    // Fast path: a single polygon without holes (nearly every parcel) is valid iff its ring is
    // simple. Anything else, or a ring that is not simple, goes through geo's full validation,
    // which also names the problem.
    let fast_valid = mp.0.len() == 1 && mp.0[0].interiors().is_empty() && ring_is_simple(&mp.0[0].exterior().0);
    if !fast_valid && let Err(invalid) = mp.check_validation() {
        let reason = invalid.to_string();
        match policy {
            InvalidPolicy::Reject => return Err(problem("invalid_geometry", reason)),
            InvalidPolicy::Repair => {
                let before = mp.unsigned_area();
                let Some(fixed) = repair(&mp) else {
                    return Err(problem(
                        "invalid_geometry",
                        format!("{reason}; the repair failed on this shape (fix it in a GIS, or --invalid reject)"),
                    ));
                };
                if let Err(still) = fixed.check_validation() {
                    return Err(problem("invalid_geometry", format!("{reason}; repair failed: {still}")));
                }
                let after = fixed.unsigned_area();
                repairs.push(Repair {
                    code: "invalid_geometry",
                    message: format!(
                        "{reason}; rebuilt as {} valid polygon(s), area {before:.2} → {after:.2} m²",
                        fixed.0.len()
                    ),
                });
                mp = fixed;
            }
        }
    }
    if mp.unsigned_area() < MIN_AREA_M2 {
        return Err(problem("empty_geometry", "the polygon has no area"));
    }
    domania_core::canonical::canonicalize(&mut mp);
    Ok((mp, repairs))
}

thread_local! {
    /// Set while [`repair`] runs: a panic hook may keep quiet about a panic that `repair`
    /// catches and turns into a rejection.
    pub static IN_REPAIR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Rebuilds an invalid multipolygon as the valid one that covers the same points under the
/// even-odd rule (a bow-tie becomes two triangles, a hole outside its shell a polygon of its
/// own): the union of the shape with nothing, which `i_overlay` computes deterministically.
///
/// `None` when `i_overlay` cannot: version 4.5 fails an internal assertion on some degenerate
/// rings (found by the fuzz target on a QPV ring given a 100 km spike,
/// `tests/bad-inputs/repair-fails.json`). That is a refusal of the feature, not a crash of the
/// import.
#[must_use]
pub fn repair(mp: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    IN_REPAIR.with(|f| f.set(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mp.boolean_op_with_fill_rule(&MultiPolygon::new(vec![]), OpType::Union, FillRule::EvenOdd)
    }));
    IN_REPAIR.with(|f| f.set(false));
    out.ok()
}

use domania_core::overlay::orient;

/// Whether `c` (collinear with `a`–`b`) lies within the segment's bounding box.
fn on_segment(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> bool {
    c.x >= a.x.min(b.x) && c.x <= a.x.max(b.x) && c.y >= a.y.min(b.y) && c.y <= a.y.max(b.y)
}

/// Whether two closed segments share at least one point (exact predicates).
fn segments_touch(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let (o1, o2, o3, o4) = (orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b));
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return true;
    }
    (o1 == 0.0 && on_segment(a, b, c))
        || (o2 == 0.0 && on_segment(a, b, d))
        || (o3 == 0.0 && on_segment(c, d, a))
        || (o4 == 0.0 && on_segment(c, d, b))
}

/// True when a closed ring neither crosses nor touches itself (repeated consecutive points are
/// allowed, as OGC allows them). A sweep over the segments sorted by their smallest x; exact
/// orientation predicates, so a ring rejected here is really not simple.
#[must_use]
#[allow(clippy::many_single_char_names)] // a, b, c, d: the segment end points, as in the literature
pub fn ring_is_simple(ring: &[Coord<f64>]) -> bool {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    for &c in ring {
        if pts.last() != Some(&c) {
            pts.push(c);
        }
    }
    let n = pts.len().saturating_sub(1); // segments; pts is closed
    if n < 3 {
        return false;
    }
    // Adjacent segments may share only their common vertex: no spike doubling back.
    for i in 0..n {
        let (a, b, c) = (pts[i], pts[i + 1], pts[if i + 2 > n { 1 } else { i + 2 }]);
        if orient(a, b, c) == 0.0 && (b.x - a.x) * (c.x - b.x) + (b.y - a.y) * (c.y - b.y) < 0.0 {
            return false;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |i: usize| pts[i].x.min(pts[i + 1].x);
    order.sort_unstable_by(|&i, &j| min_x(i).total_cmp(&min_x(j)));
    for (k, &i) in order.iter().enumerate() {
        let (a, b) = (pts[i], pts[i + 1]);
        let max_x = a.x.max(b.x);
        let (ylo, yhi) = (a.y.min(b.y), a.y.max(b.y));
        for &j in &order[k + 1..] {
            if min_x(j) > max_x {
                break;
            }
            let adjacent = i.abs_diff(j) == 1 || i.abs_diff(j) == n - 1;
            let (c, d) = (pts[j], pts[j + 1]);
            if adjacent || c.y.max(d.y) < ylo || c.y.min(d.y) > yhi {
                continue;
            }
            if segments_touch(a, b, c, d) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_ring_check_agrees_with_geo() {
        let shapes: &[&[(f64, f64)]] = &[
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)],
            &[(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0), (0.0, 0.0)], // bowtie
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 0.0)], // repeated point
            &[(0.0, 0.0), (10.0, 0.0), (20.0, 0.0), (5.0, 0.0), (5.0, 5.0), (0.0, 0.0)], // spike
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (5.0, 0.0), (0.0, 10.0), (0.0, 0.0)], // touches itself
            &[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (2.0, 2.0), (0.0, 4.0), (0.0, 0.0)],
        ];
        for s in shapes {
            let ring: Vec<Coord<f64>> = s.iter().map(|&(x, y)| Coord { x, y }).collect();
            let poly = Polygon::new(LineString::new(ring.clone()), vec![]);
            assert_eq!(ring_is_simple(&ring), poly.is_valid(), "{s:?}");
        }
    }

    /// A ring near the Lambert-93 origin, so coordinates are plausible.
    fn ring(pts: &[(f64, f64)]) -> Vec<Coord<f64>> {
        pts.iter().map(|&(x, y)| Coord { x: x + 700_000.0, y: y + 6_600_000.0 }).collect()
    }
    fn l93() -> Crs {
        Crs::lambert93()
    }

    #[test]
    fn closes_unclosed_ring_and_reports() {
        let r = ring(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]);
        let (mp, repairs) = rings_to_l93(vec![vec![r]], &l93(), InvalidPolicy::Reject).unwrap();
        assert_eq!(repairs[0].code, "unclosed_ring");
        assert!((mp.unsigned_area() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn bowtie_is_repaired_or_rejected_by_policy() {
        let bowtie = ring(&[(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0), (0.0, 0.0)]);
        let err = rings_to_l93(vec![vec![bowtie.clone()]], &l93(), InvalidPolicy::Reject).unwrap_err();
        assert_eq!(err.code, "invalid_geometry");
        let (mp, repairs) = rings_to_l93(vec![vec![bowtie]], &l93(), InvalidPolicy::Repair).unwrap();
        assert_eq!(repairs[0].code, "invalid_geometry");
        assert!(mp.is_valid());
        assert!((mp.unsigned_area() - 50.0).abs() < 1e-6, "{}", mp.unsigned_area());
    }

    /// Regression (fuzz target `geojson`): i_overlay panicked while repairing this ring, and the
    /// panic took the whole import down.
    #[test]
    fn a_shape_the_repair_cannot_rebuild_is_rejected_not_a_crash() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-inputs/repair-fails.json");
        let bytes = std::fs::read(path).unwrap();
        let mut codes = Vec::new();
        crate::geojson::read_features_slice(std::path::Path::new("repair-fails.json"), &bytes, |f, _| {
            if let Err(p) = polygonal_l93(f.geometry.as_ref(), &Crs::wgs84(), InvalidPolicy::Repair) {
                codes.push((f.index, p.code, p.message));
            }
        })
        .unwrap();
        assert!(
            codes.iter().any(|(i, c, m)| *i == 0 && *c == "invalid_geometry" && m.contains("the repair failed")),
            "{codes:?}"
        );
    }

    #[test]
    fn rejects_bad_coordinates() {
        let wgs = Crs::wgs84();
        let deg = |pts: &[(f64, f64)]| pts.iter().map(|&(x, y)| Coord { x, y }).collect::<Vec<_>>();
        let huge = deg(&[(2.0, 48.0), (1e300, 48.0), (2.1, 48.1), (2.0, 48.0)]);
        assert_eq!(
            rings_to_l93(vec![vec![huge]], &wgs, InvalidPolicy::Repair).unwrap_err().code,
            "coordinate_out_of_range"
        );
        let nan = deg(&[(2.0, 48.0), (f64::NAN, 48.0), (2.1, 48.1), (2.0, 48.0)]);
        assert_eq!(
            rings_to_l93(vec![vec![nan]], &wgs, InvalidPolicy::Repair).unwrap_err().code,
            "non_finite_coordinate"
        );
        let short = ring(&[(0.0, 0.0), (1.0, 0.0), (0.0, 0.0)]);
        assert_eq!(rings_to_l93(vec![vec![short]], &l93(), InvalidPolicy::Repair).unwrap_err().code, "too_few_points");
        let flat = ring(&[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.0)]);
        assert!(rings_to_l93(vec![vec![flat]], &l93(), InvalidPolicy::Repair).is_err());
    }
}
