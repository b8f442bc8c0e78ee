//! Small geometric helpers the scenarios, blocks and perimeters share.

use geo_types::MultiPolygon;

/// Whether the bounding boxes of two shapes meet (edges included): the cheap test before an
/// exact boolean operation.
pub(crate) fn boxes_meet(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    use geo::{BoundingRect, Intersects};
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(ra), Some(rb)) => ra.intersects(&rb),
        _ => false,
    }
}

/// A polygon from a Lambert-93 ring of `[x, y]` (closed or not); `None` under 3 points.
pub(crate) fn ring_shape(ring: &[[f64; 2]]) -> Option<MultiPolygon<f64>> {
    (ring.len() >= 3).then(|| {
        let ls = geo_types::LineString::from(ring.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>());
        MultiPolygon::new(vec![geo_types::Polygon::new(ls, vec![])])
    })
}
