//! Geometry blobs: GeoPackageBinary (header, XY envelope, ISO WKB) as the store keeps every
//! shape, WKB as PostGIS gives it back, and EWKB as PostGIS's `COPY` takes it. The same bytes
//! on both engines, so a shape has the same content hash wherever it is stored.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use crate::error::{Result, StoreError};

/// The storage SRS.
pub const SRS_L93: i32 = 2154;

/// Envelope [min_x, max_x, min_y, max_y] of a GeoPackageBinary blob with an XY envelope.
#[must_use]
pub fn envelope(blob: &[u8]) -> Option<[f64; 4]> {
    if blob.len() < 8 || &blob[0..2] != b"GP" {
        return None;
    }
    let flags = blob[3];
    let little = flags & 1 == 1;
    let env_kind = (flags >> 1) & 0b111;
    if env_kind == 0 || blob.len() < 40 {
        return None;
    }
    let mut e = [0.0; 4];
    for (i, v) in e.iter_mut().enumerate() {
        let bytes: [u8; 8] = blob[8 + i * 8..16 + i * 8].try_into().ok()?;
        *v = if little { f64::from_le_bytes(bytes) } else { f64::from_be_bytes(bytes) };
    }
    Some(e)
}

/// Encodes a multipolygon as a GeoPackageBinary blob (little-endian, XY envelope, SRS 2154).
#[must_use]
pub fn encode_multipolygon(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let n_coords: usize =
        mp.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum();
    let mut out = Vec::with_capacity(40 + 9 + mp.0.len() * 9 + n_coords * 16 + 64);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in &mp.0 {
        for c in &p.exterior().0 {
            x0 = x0.min(c.x);
            x1 = x1.max(c.x);
            y0 = y0.min(c.y);
            y1 = y1.max(c.y);
        }
    }
    let empty = mp.0.is_empty();
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    out.push(if empty { 0b1_0001 } else { 0b0011 }); // little-endian, XY envelope (or empty)
    out.extend_from_slice(&SRS_L93.to_le_bytes());
    if !empty {
        for v in [x0, x1, y0, y1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.push(1);
    out.extend_from_slice(&6u32.to_le_bytes());
    out.extend_from_slice(&(mp.0.len() as u32).to_le_bytes());
    for p in &mp.0 {
        out.push(1);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&((1 + p.interiors().len()) as u32).to_le_bytes());
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            out.extend_from_slice(&(ring.0.len() as u32).to_le_bytes());
            for c in &ring.0 {
                out.extend_from_slice(&c.x.to_le_bytes());
                out.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    out
}

struct Wkb<'a> {
    b: &'a [u8],
    pos: usize,
    little: bool,
}

impl Wkb<'_> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.pos..self.pos + N)?;
        self.pos += N;
        s.try_into().ok()
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes::<4>()?;
        Some(if self.little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }
    fn f64(&mut self) -> Option<f64> {
        let b = self.bytes::<8>()?;
        Some(if self.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) })
    }
    fn header(&mut self) -> Option<u32> {
        self.little = self.bytes::<1>()?[0] == 1;
        self.u32()
    }
    /// Bytes left to read: every count in a blob is checked against them before anything is
    /// allocated (a count of 4 billion in a damaged blob must not ask for 100 GB).
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }
    fn polygon(&mut self) -> Option<Polygon<f64>> {
        let n_rings = self.u32()? as usize;
        // A ring takes at least its 4-byte count.
        if n_rings > self.left() / 4 {
            return None;
        }
        let mut rings = Vec::with_capacity(n_rings);
        for _ in 0..n_rings {
            let n = self.u32()? as usize;
            // A point takes 16 bytes.
            if n > self.left() / 16 {
                return None;
            }
            let mut pts = Vec::with_capacity(n);
            for _ in 0..n {
                pts.push(Coord { x: self.f64()?, y: self.f64()? });
            }
            rings.push(LineString::new(pts));
        }
        if rings.is_empty() {
            return Some(Polygon::new(LineString::new(vec![]), vec![]));
        }
        let ext = rings.remove(0);
        Some(Polygon::new(ext, rings))
    }
}

/// The ISO WKB inside a GeoPackageBinary blob (after its header and envelope).
pub fn wkb_of(blob: &[u8]) -> Result<&[u8]> {
    let bad = |why: &str| StoreError::Corrupt(format!("geometry blob: {why}"));
    if blob.len() < 8 || &blob[0..2] != b"GP" {
        return Err(bad("no GP header"));
    }
    let env_len = match (blob[3] >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return Err(bad("bad envelope code")),
    };
    blob.get(8 + env_len..).ok_or_else(|| bad("truncated"))
}

/// Decodes a GeoPackageBinary blob holding a Polygon or MultiPolygon (XY).
pub fn decode_multipolygon(blob: &[u8]) -> Result<MultiPolygon<f64>> {
    decode_wkb(wkb_of(blob)?)
}

/// Decodes ISO WKB holding a Polygon or MultiPolygon (XY), as PostGIS's `ST_AsBinary` gives it.
pub fn decode_wkb(wkb: &[u8]) -> Result<MultiPolygon<f64>> {
    let bad = |why: &str| StoreError::Corrupt(format!("geometry blob: {why}"));
    let mut w = Wkb { b: wkb, pos: 0, little: true };
    match w.header().ok_or_else(|| bad("truncated"))? {
        3 => Ok(MultiPolygon::new(vec![w.polygon().ok_or_else(|| bad("truncated polygon"))?])),
        6 => {
            let n = w.u32().ok_or_else(|| bad("truncated"))? as usize;
            // A member polygon takes at least 9 bytes (byte order, type, ring count).
            if n > w.left() / 9 {
                return Err(bad("more polygons announced than bytes"));
            }
            let mut polys = Vec::with_capacity(n);
            for _ in 0..n {
                if w.header() != Some(3) {
                    return Err(bad("multipolygon member is not a polygon"));
                }
                polys.push(w.polygon().ok_or_else(|| bad("truncated polygon"))?);
            }
            Ok(MultiPolygon::new(polys))
        }
        t => Err(bad(&format!("unsupported WKB type {t}"))),
    }
}

/// The hexadecimal EWKB of a GeoPackageBinary blob, SRID 2154 inside: what PostGIS reads in a
/// `COPY` into a `geometry(MultiPolygon, 2154)` column.
pub fn ewkb_hex(blob: &[u8], out: &mut String) -> Result<()> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let wkb = wkb_of(blob)?;
    if wkb.len() < 5 {
        return Err(StoreError::Corrupt("geometry blob: truncated".into()));
    }
    let little = wkb[0] == 1;
    let ty = if little {
        u32::from_le_bytes(wkb[1..5].try_into().unwrap_or_default())
    } else {
        u32::from_be_bytes(wkb[1..5].try_into().unwrap_or_default())
    };
    let (ty, srid) = (ty | 0x2000_0000, SRS_L93 as u32);
    let head: Vec<u8> = if little {
        [&[1u8][..], &ty.to_le_bytes(), &srid.to_le_bytes()].concat()
    } else {
        [&[0u8][..], &ty.to_be_bytes(), &srid.to_be_bytes()].concat()
    };
    out.reserve((head.len() + wkb.len()) * 2);
    for b in head.iter().chain(&wkb[5..]) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn blob_round_trip_and_envelope() {
        let p = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 5.0), (x: 0.0, y: 0.0)];
        let mp = MultiPolygon::new(vec![p]);
        let blob = encode_multipolygon(&mp);
        assert_eq!(envelope(&blob), Some([0.0, 10.0, 0.0, 5.0]));
        assert_eq!(decode_multipolygon(&blob).unwrap(), mp);
        assert!(decode_multipolygon(&blob[..30]).is_err());
    }

    /// Regression (found by review for the fuzz target): counts in a damaged blob sized vectors
    /// before any byte was checked; 4 billion rings asked for ~100 GB.
    #[test]
    fn counts_larger_than_the_blob_are_refused_without_allocating() {
        let mp =
            MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)]]);
        let mut blob = encode_multipolygon(&mp);
        // Header 8 + envelope 32, then 1 byte order + 4 type + 4 count (multipolygon), then the
        // member polygon: 1 + 4 type, then its ring count.
        let rings_at = 8 + 32 + 9 + 5;
        blob[rings_at..rings_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_multipolygon(&blob).is_err());
        let mut blob = encode_multipolygon(&mp);
        blob[8 + 32 + 5..8 + 32 + 9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_multipolygon(&blob).is_err());
    }
}
