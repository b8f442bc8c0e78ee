//! The glyphs a MapLibre map needs to write its labels (street names, sections), made here from
//! a TrueType font rather than fetched from another host: signed distance fields of 24 px
//! glyphs in ranges of 256 code points, in the protobuf MapLibre reads
//! (`glyphs.proto`: `fontstack { name, range, glyph { id, bitmap, width, height, left, top,
//! advance } }`).
//!
//! The field is computed from the glyph's outline itself (curves flattened into segments), as
//! Mapbox's sdf-glyph-foundry does: for every pixel, its distance to the nearest segment, signed
//! by the non-zero winding rule, over a radius of 8 px, the outline at 3/4 of the byte (191,
//! MapLibre's threshold), with a 3 px border. Metrics as node-fontnik writes them: `top` is the
//! glyph's top less the font's ascender at 24 px.

// Curves and distances are written as their formulas are (x, y, t, u, p, q).
#![allow(clippy::many_single_char_names)]

use ttf_parser::{Face, OutlineBuilder};

use crate::pbf::{Writer, zigzag};

/// The size glyphs are drawn at (MapLibre's `ONE_EM`).
const SIZE: f32 = 24.0;
/// The border around a glyph's box, in pixels.
const BUFFER: i32 = 3;
/// The distance the field spans, in pixels.
const RADIUS: f32 = 8.0;
/// Where the outline lies on the byte scale, from 0 to 1.
const CUTOFF: f32 = 0.25;

/// A glyph's outline as segments, in pixels (y up).
#[derive(Default)]
struct Segments {
    scale: f32,
    lines: Vec<[f32; 4]>,
    start: (f32, f32),
    at: (f32, f32),
}

impl Segments {
    fn point(&self, x: f32, y: f32) -> (f32, f32) {
        (x * self.scale, y * self.scale)
    }
    fn line(&mut self, to: (f32, f32)) {
        if to != self.at {
            self.lines.push([self.at.0, self.at.1, to.0, to.1]);
        }
        self.at = to;
    }
}

/// Pieces a curve is cut into: at 24 px, a curve spans a few pixels.
const STEPS: usize = 8;

impl OutlineBuilder for Segments {
    fn move_to(&mut self, x: f32, y: f32) {
        self.start = self.point(x, y);
        self.at = self.start;
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.point(x, y);
        self.line(p);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (p0, p1, p2) = (self.at, self.point(x1, y1), self.point(x, y));
        for i in 1..=STEPS {
            let t = i as f32 / STEPS as f32;
            let u = 1.0 - t;
            let q =
                (u * u * p0.0 + 2.0 * u * t * p1.0 + t * t * p2.0, u * u * p0.1 + 2.0 * u * t * p1.1 + t * t * p2.1);
            self.line(q);
        }
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (p0, p1, p2, p3) = (self.at, self.point(x1, y1), self.point(x2, y2), self.point(x, y));
        for i in 1..=STEPS {
            let t = i as f32 / STEPS as f32;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            let q = (a * p0.0 + b * p1.0 + c * p2.0 + d * p3.0, a * p0.1 + b * p1.1 + c * p2.1 + d * p3.1);
            self.line(q);
        }
    }
    fn close(&mut self) {
        let s = self.start;
        self.line(s);
    }
}

/// Squared distance from `p` to segment `s`.
fn distance2(p: (f32, f32), s: &[f32; 4]) -> f32 {
    let (dx, dy) = (s[2] - s[0], s[3] - s[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p.0 - s[0]) * dx + (p.1 - s[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (x, y) = (s[0] + t * dx - p.0, s[1] + t * dy - p.1);
    x * x + y * y
}

/// Whether `p` is inside the outline (non-zero winding).
fn inside(p: (f32, f32), lines: &[[f32; 4]]) -> bool {
    let mut winding = 0i32;
    for s in lines {
        let (y0, y1) = (s[1], s[3]);
        if (y0 <= p.1) != (y1 <= p.1) {
            let x = s[0] + (p.1 - y0) / (y1 - y0) * (s[2] - s[0]);
            if x > p.0 {
                winding += if y1 > y0 { 1 } else { -1 };
            }
        }
    }
    winding != 0
}

/// One glyph of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub id: u32,
    /// The field, `(width + 6) × (height + 6)` bytes; empty for a glyph without ink (a space).
    pub bitmap: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub left: i32,
    pub top: i32,
    pub advance: u32,
}

/// The glyph of `c` in `face`, `None` when the font has none.
#[must_use]
pub fn glyph(face: &Face<'_>, c: char) -> Option<Glyph> {
    let id = face.glyph_index(c)?;
    let scale = SIZE / f32::from(face.units_per_em());
    let advance = (f32::from(face.glyph_hor_advance(id).unwrap_or(0)) * scale).round() as u32;
    let ascender = (f32::from(face.ascender()) * scale).round() as i32;
    let mut seg = Segments { scale, ..Segments::default() };
    let Some(b) = face.outline_glyph(id, &mut seg) else {
        return Some(Glyph { id: c as u32, bitmap: Vec::new(), width: 0, height: 0, left: 0, top: -ascender, advance });
    };
    let (left, bottom) = ((f32::from(b.x_min) * scale).floor() as i32, (f32::from(b.y_min) * scale).floor() as i32);
    let (right, top) = ((f32::from(b.x_max) * scale).ceil() as i32, (f32::from(b.y_max) * scale).ceil() as i32);
    let (width, height) = ((right - left).max(0), (top - bottom).max(0));
    let (w, h) = ((width + 2 * BUFFER) as usize, (height + 2 * BUFFER) as usize);
    let mut bitmap = vec![0u8; w * h];
    for (py, row) in bitmap.chunks_mut(w).enumerate() {
        let y = (top + BUFFER) as f32 - (py as f32 + 0.5);
        for (px, v) in row.iter_mut().enumerate() {
            let p = ((left - BUFFER) as f32 + px as f32 + 0.5, y);
            let d = seg.lines.iter().map(|s| distance2(p, s)).fold(f32::INFINITY, f32::min).sqrt();
            let signed = if inside(p, &seg.lines) { -d } else { d };
            let value = 255.0 - 255.0 * (signed / RADIUS + CUTOFF);
            *v = value.round().clamp(0.0, 255.0) as u8;
        }
    }
    Some(Glyph { id: c as u32, bitmap, width: width as u32, height: height as u32, left, top: top - ascender, advance })
}

/// The protobuf of range `start`–`start + 255` of `font` (a TrueType or OpenType file), named
/// `name`: every glyph the font has in it.
///
/// # Errors
/// When `font` is not a font file ttf-parser reads.
pub fn range_pbf(font: &[u8], name: &str, start: u32) -> Result<Vec<u8>, ttf_parser::FaceParsingError> {
    let face = Face::parse(font, 0)?;
    let mut stack = Writer::default();
    stack.bytes(1, name.as_bytes());
    stack.bytes(2, format!("{start}-{}", start + 255).as_bytes());
    for code in start..start + 256 {
        let Some(g) = char::from_u32(code).and_then(|c| glyph(&face, c)) else { continue };
        let mut m = Writer::default();
        m.uint(1, u64::from(g.id));
        if !g.bitmap.is_empty() {
            m.bytes(2, &g.bitmap);
        }
        m.uint(3, u64::from(g.width));
        m.uint(4, u64::from(g.height));
        m.uint(5, u64::from(zigzag(g.left)));
        m.uint(6, u64::from(zigzag(g.top)));
        m.uint(7, u64::from(g.advance));
        stack.bytes(3, &m.buf);
    }
    let mut out = Writer::default();
    out.bytes(1, &stack.buf);
    Ok(out.buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_has_its_outline_at_the_threshold() {
        // A 10 px square: inside, far from the edge, near 255; on the edge, 191; 8 px out, 0.
        let lines =
            vec![[0.0, 0.0, 10.0, 0.0], [10.0, 0.0, 10.0, 10.0], [10.0, 10.0, 0.0, 10.0], [0.0, 10.0, 0.0, 0.0]];
        let value = |p: (f32, f32)| {
            let d = lines.iter().map(|s| distance2(p, s)).fold(f32::INFINITY, f32::min).sqrt();
            let signed = if inside(p, &lines) { -d } else { d };
            (255.0 - 255.0 * (signed / RADIUS + CUTOFF)).round().clamp(0.0, 255.0) as u8
        };
        assert_eq!(value((5.0, 5.0)), 255);
        assert_eq!(value((0.0, 5.0)), 191);
        assert_eq!(value((-6.0, 5.0)), 0);
        assert!(value((-2.0, 5.0)) > 100 && value((-2.0, 5.0)) < 191);
    }
}
