//! Where a question is asked: a point given in WGS84 or Lambert-93 and checked to be where
//! Lambert-93 is defined, a box in either system, and a page of a long answer. The server and
//! the command line take them from their arguments and hand them to the use cases.

use domania_core::crs::Crs;
use serde::Serialize;

use crate::error::{AppError, ErrorCode, Result};

/// Where Lambert-93 is defined (EPSG:2154's area of use, WGS84 degrees): metropolitan France
/// and Corsica. A point outside it is not one the store can hold.
pub const FRANCE_LON_LAT: (f64, f64, f64, f64) = (-9.86, 41.15, 10.38, 51.56);

/// The point in both systems, checked to be in metropolitan France.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Located {
    pub lon: f64,
    pub lat: f64,
    pub x: f64,
    pub y: f64,
}

/// A point given as `lon`/`lat` (WGS84 degrees) or as `x`/`y` (Lambert-93 metres), never both.
#[allow(clippy::many_single_char_names)]
pub fn locate(lon: Option<f64>, lat: Option<f64>, x: Option<f64>, y: Option<f64>) -> Result<Located> {
    let bad = |m: &str| AppError::new(ErrorCode::BadPoint, m);
    let (l93, wgs) = (Crs::lambert93(), Crs::wgs84());
    let (lon, lat, x, y) = match (lon, lat, x, y) {
        (Some(lon), Some(lat), None, None) => {
            if !(lon.is_finite() && lat.is_finite()) {
                return Err(bad("lon and lat must be numbers"));
            }
            let (x, y) = wgs.transform_to(&l93, lon, lat);
            (lon, lat, x, y)
        }
        (None, None, Some(x), Some(y)) => {
            if !(x.is_finite() && y.is_finite()) {
                return Err(bad("x and y must be numbers"));
            }
            let (lon, lat) = l93.transform_to(&wgs, x, y);
            (lon, lat, x, y)
        }
        _ => return Err(bad("give either lon and lat (WGS84 degrees) or x and y (Lambert-93 metres), not both")),
    };
    let (w, s, e, n) = FRANCE_LON_LAT;
    if !(w..=e).contains(&lon) || !(s..=n).contains(&lat) {
        return Err(AppError::said(
            ErrorCode::OutsideFrance,
            "error-outside-france",
            vec![("lon", format!("{lon:.6}").into()), ("lat", format!("{lat:.6}").into())],
        ));
    }
    Ok(Located { lon, lat, x, y })
}

/// A `bbox` filter: the box as asked, in Lambert-93, and the Lambert-93 rectangle around it (to
/// find candidates in an index). A feature is in it when its shape meets the box, not merely its
/// own box (an L-shaped parcel whose box meets the query's may lie metres away from it), as
/// PostGIS's `ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(…), 2154))` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Bbox {
    /// The box's corners, projected to Lambert-93 (a projected box is a quadrilateral).
    pub shape: geo_types::Polygon<f64>,
    /// The rectangle holding `shape`, edge midpoints included.
    pub rect: geo_types::Rect<f64>,
}

impl Bbox {
    /// Whether a Lambert-93 shape meets the box.
    #[must_use]
    pub fn meets(&self, geom_l93: &geo_types::MultiPolygon<f64>) -> bool {
        use geo::{BoundingRect, Intersects};
        geom_l93.bounding_rect().is_some_and(|r| r.intersects(&self.rect)) && geom_l93.intersects(&self.shape)
    }
}

/// A `bbox` (4 numbers `minx,miny,maxx,maxy` in `crs`) as a Lambert-93 [`Bbox`].
pub fn bbox_l93(text: &str, crs: &Crs) -> Result<Bbox> {
    let bad = |m: String| AppError::new(ErrorCode::BadBbox, m);
    let nums: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad(format!("bbox {text:?}: expected four numbers minx,miny,maxx,maxy")))?;
    let [x0, y0, x1, y1] = nums[..] else {
        return Err(bad(format!("bbox {text:?}: expected four numbers")));
    };
    if !(x0 <= x1 && y0 <= y1) || nums.iter().any(|v| !v.is_finite()) {
        return Err(bad(format!("bbox {text:?}: min must not exceed max")));
    }
    let l93 = Crs::lambert93();
    if crs.is_geographic() && (x0 < -180.0 || x1 > 180.0 || y0 < -90.0 || y1 > 90.0) {
        return Err(bad(format!("bbox {text:?}: not longitudes and latitudes")));
    }
    // The box's corners and edge midpoints, projected: a projected box is not a box.
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (x, y) in [(x0, y0), (x1, y0), (x0, y1), (x1, y1), (f64::midpoint(x0, x1), y0), (f64::midpoint(x0, x1), y1)] {
        let (px, py) = crs.transform_to(&l93, x, y);
        xs.push(px);
        ys.push(py);
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let corner = |i: usize| (xs[i], ys[i]);
    let shape = geo_types::Polygon::new(
        geo_types::LineString::from(vec![corner(0), corner(1), corner(3), corner(2), corner(0)]),
        vec![],
    );
    Ok(Bbox { shape, rect: geo_types::Rect::new((min(&xs), min(&ys)), (max(&xs), max(&ys))) })
}

/// The largest page of a list answer.
pub const MAX_LIMIT: usize = 10_000;

/// A page of a long answer: at most `limit` items after `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: 100, offset: 0 }
    }
}

impl Page {
    /// `limit` (1 to [`MAX_LIMIT`], `default` when absent) and `offset` (0 or more), checked.
    pub fn checked(limit: Option<i64>, offset: Option<i64>, default: usize) -> Result<Self> {
        let limit = limit.unwrap_or(default as i64);
        if !(1..=MAX_LIMIT as i64).contains(&limit) {
            return Err(AppError::said(
                ErrorCode::BadLimit,
                "error-limit",
                vec![("max", MAX_LIMIT.to_string().into())],
            ));
        }
        Self::clamped(Some(limit), offset, default)
    }

    /// `limit` of at least 1, a larger one than [`MAX_LIMIT`] served as the largest page (as
    /// OGC API Features asks of a server), `offset` checked.
    pub fn clamped(limit: Option<i64>, offset: Option<i64>, default: usize) -> Result<Self> {
        if limit.is_some_and(|l| l < 1) {
            return Err(AppError::new(
                ErrorCode::BadLimit,
                format!("limit must be 1 or more (at most {MAX_LIMIT} are served)"),
            ));
        }
        let limit = limit.map_or(default, |l| l.min(MAX_LIMIT as i64) as usize);
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(AppError::said(ErrorCode::BadOffset, "error-offset", vec![]));
        }
        Ok(Self { limit, offset: offset as usize })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_boxes_and_pages_are_checked() {
        assert_eq!(locate(Some(200.0), Some(48.0), None, None).unwrap_err().code(), ErrorCode::OutsideFrance);
        assert_eq!(locate(Some(2.0), None, None, None).unwrap_err().code(), ErrorCode::BadPoint);
        let p = locate(Some(2.35), Some(48.85), None, None).unwrap();
        assert!((locate(None, None, Some(p.x), Some(p.y)).unwrap().lon - 2.35).abs() < 1e-9);
        assert_eq!(bbox_l93("1,2,3", &Crs::wgs84()).unwrap_err().code(), ErrorCode::BadBbox);
        assert_eq!(Page::checked(Some(0), None, 10).unwrap_err().code(), ErrorCode::BadLimit);
        assert_eq!(Page::clamped(Some(1_000_000), None, 10).unwrap().limit, MAX_LIMIT);
        assert_eq!(Page::clamped(None, Some(-1), 10).unwrap_err().code(), ErrorCode::BadOffset);
    }
}
