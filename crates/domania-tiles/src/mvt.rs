//! Mapbox Vector Tile 2.1: the model, the encoder, and a strict decoder that refuses what the
//! specification calls invalid (the `mvt-fixtures` suite's invalid tiles), rather than guessing.

use rustc_hash::FxHashMap;

use crate::pbf::{Reader, Wire, WireError, Writer, unzigzag, zigzag};

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Float(f32),
    Double(f64),
    Int(i64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}

/// A geometry in tile coordinates (x right, y down, 0..extent inside the tile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Geometry {
    Points(Vec<[i32; 2]>),
    Lines(Vec<Vec<[i32; 2]>>),
    /// Polygons, each its exterior ring then its holes; rings are not closed (the first point
    /// is not repeated). Exterior rings have a positive area by the surveyor's formula in tile
    /// coordinates (clockwise on screen), holes a negative one, as the specification requires.
    Polygons(Vec<Vec<Vec<[i32; 2]>>>),
    /// A geometry of type UNKNOWN (0, also what a missing type means in proto2): its command
    /// integers, left uninterpreted as the specification allows.
    Unknown(Vec<u32>),
}

/// One feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: Option<u64>,
    pub properties: Vec<(String, Value)>,
    pub geometry: Geometry,
}

/// One layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub extent: u32,
    pub features: Vec<Feature>,
}

/// Twice the signed area of a ring by the surveyor's formula (positive: exterior).
#[must_use]
pub fn ring_area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

fn command(id: u32, count: u32) -> u32 {
    (id & 7) | (count << 3)
}

/// The command integers of a geometry.
/// A geometry's type and command integers, into `out` (cleared first).
fn encode_geometry(g: &Geometry, out: &mut Vec<u32>) -> u64 {
    out.clear();
    let mut cursor = [0i32; 2];
    let push = |out: &mut Vec<u32>, p: [i32; 2], cursor: &mut [i32; 2]| {
        out.push(zigzag(p[0] - cursor[0]));
        out.push(zigzag(p[1] - cursor[1]));
        *cursor = p;
    };
    match g {
        Geometry::Points(ps) => {
            out.push(command(1, ps.len() as u32));
            for &p in ps {
                push(out, p, &mut cursor);
            }
            1
        }
        Geometry::Lines(ls) => {
            for l in ls {
                out.push(command(1, 1));
                push(out, l[0], &mut cursor);
                out.push(command(2, (l.len() - 1) as u32));
                for &p in &l[1..] {
                    push(out, p, &mut cursor);
                }
            }
            2
        }
        Geometry::Polygons(polys) => {
            for ring in polys.iter().flatten() {
                out.push(command(1, 1));
                push(out, ring[0], &mut cursor);
                out.push(command(2, (ring.len() - 1) as u32));
                for &p in &ring[1..] {
                    push(out, p, &mut cursor);
                }
                out.push(command(7, 1));
            }
            3
        }
        Geometry::Unknown(cmds) => {
            out.extend_from_slice(cmds);
            0
        }
    }
}

/// A value as a key of the layer's value table: equal when the encoded values are (floats by
/// their bits), hashed without allocating.
struct ValueKey<'a>(&'a Value);

impl PartialEq for ValueKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits(),
            (Value::Int(a), Value::Int(b)) | (Value::Sint(a), Value::Sint(b)) => a == b,
            (Value::Uint(a), Value::Uint(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for ValueKey<'_> {}

impl std::hash::Hash for ValueKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self.0).hash(h);
        match self.0 {
            Value::String(s) => s.hash(h),
            Value::Float(f) => f.to_bits().hash(h),
            Value::Double(d) => d.to_bits().hash(h),
            Value::Int(i) | Value::Sint(i) => i.hash(h),
            Value::Uint(u) => u.hash(h),
            Value::Bool(b) => b.hash(h),
        }
    }
}

fn encode_value(v: &Value) -> Vec<u8> {
    let mut w = Writer::default();
    match v {
        Value::String(s) => w.bytes(1, s.as_bytes()),
        Value::Float(f) => {
            w.varint(2 << 3 | 5);
            w.buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(d) => w.double(3, *d),
        Value::Int(i) => w.uint(4, *i as u64),
        Value::Uint(u) => w.uint(5, *u),
        Value::Sint(i) => w.uint(6, ((*i << 1) ^ (*i >> 63)) as u64),
        Value::Bool(b) => w.uint(7, u64::from(*b)),
    }
    w.buf
}

/// Encodes layers into one tile. Layers without features are left out.
#[must_use]
pub fn encode(layers: &[Layer]) -> Vec<u8> {
    let mut tile = Writer::default();
    for layer in layers.iter().filter(|l| !l.features.is_empty()) {
        let mut keys: Vec<&str> = Vec::new();
        let mut key_pos: FxHashMap<&str, u32> = FxHashMap::default();
        let mut values: Vec<&Value> = Vec::new();
        let mut value_pos: FxHashMap<ValueKey<'_>, u32> = FxHashMap::default();
        let mut lw = Writer::default();
        lw.uint(15, 2);
        lw.bytes(1, layer.name.as_bytes());
        let (mut fw, mut tags, mut geometry) = (Writer::default(), Vec::new(), Vec::new());
        for f in &layer.features {
            fw.buf.clear();
            tags.clear();
            if let Some(id) = f.id {
                fw.uint(1, id);
            }
            for (k, v) in &f.properties {
                let ki = *key_pos.entry(k.as_str()).or_insert_with(|| {
                    keys.push(k.as_str());
                    (keys.len() - 1) as u32
                });
                let vi = *value_pos.entry(ValueKey(v)).or_insert_with(|| {
                    values.push(v);
                    (values.len() - 1) as u32
                });
                tags.push(ki);
                tags.push(vi);
            }
            if !tags.is_empty() {
                fw.packed(2, &tags);
            }
            let kind = encode_geometry(&f.geometry, &mut geometry);
            if kind != 0 {
                fw.uint(3, kind);
            }
            fw.packed(4, &geometry);
            lw.bytes(2, &fw.buf);
        }
        for k in keys {
            lw.bytes(3, k.as_bytes());
        }
        for v in values {
            lw.bytes(4, &encode_value(v));
        }
        lw.uint(5, u64::from(layer.extent));
        tile.bytes(3, &lw.buf);
    }
    tile.buf
}

/// Why a tile is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("{0}")]
    Invalid(String),
}

fn invalid<T>(what: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError::Invalid(what.into()))
}

fn expect(wire: Wire, want: Wire, what: &str) -> Result<(), DecodeError> {
    if wire == want { Ok(()) } else { invalid(format!("{what} has the wrong wire type")) }
}

fn decode_value(mut r: Reader<'_>) -> Result<Value, DecodeError> {
    let mut value = None;
    while let Some((n, wire)) = r.field()? {
        let v = match n {
            1 => {
                expect(wire, Wire::Len, "a string value")?;
                let b = r.bytes()?;
                Value::String(
                    String::from_utf8(b.to_vec())
                        .map_err(|_| DecodeError::Invalid("a string value is not UTF-8".into()))?,
                )
            }
            2 => {
                expect(wire, Wire::Fixed32, "a float value")?;
                Value::Float(f32::from_le_bytes(r.fixed32()?))
            }
            3 => {
                expect(wire, Wire::Fixed64, "a double value")?;
                Value::Double(f64::from_le_bytes(r.fixed64()?))
            }
            4 => {
                expect(wire, Wire::Varint, "an int value")?;
                Value::Int(r.varint()? as i64)
            }
            5 => {
                expect(wire, Wire::Varint, "a uint value")?;
                Value::Uint(r.varint()?)
            }
            6 => {
                expect(wire, Wire::Varint, "a sint value")?;
                let v = r.varint()?;
                Value::Sint(((v >> 1) as i64) ^ -((v & 1) as i64))
            }
            7 => {
                expect(wire, Wire::Varint, "a bool value")?;
                Value::Bool(r.varint()? != 0)
            }
            _ => return invalid(format!("a value of unknown type (field {n})")),
        };
        if value.replace(v).is_some() {
            return invalid("a value with two types");
        }
    }
    value.map_or_else(|| invalid("an empty value"), Ok)
}

/// Decodes command integers into a geometry of `kind`, refusing what the specification forbids.
fn decode_geometry(kind: u64, cmds: &[u32]) -> Result<Geometry, DecodeError> {
    let mut i = 0;
    let mut cursor = [0i32; 2];
    let read_points = |i: &mut usize, count: usize, cursor: &mut [i32; 2]| -> Result<Vec<[i32; 2]>, DecodeError> {
        if count > (cmds.len() - *i) / 2 {
            return invalid(format!("a command of {count} points with {} parameters left", cmds.len() - *i));
        }
        let mut pts = Vec::with_capacity(count);
        for _ in 0..count {
            cursor[0] = cursor[0].wrapping_add(unzigzag(cmds[*i]));
            cursor[1] = cursor[1].wrapping_add(unzigzag(cmds[*i + 1]));
            *i += 2;
            pts.push(*cursor);
        }
        Ok(pts)
    };
    let next = |i: &mut usize| -> Option<(u32, usize)> {
        let c = *cmds.get(*i)?;
        *i += 1;
        Some((c & 7, (c >> 3) as usize))
    };
    match kind {
        0 => Ok(Geometry::Unknown(cmds.to_vec())),
        1 => {
            let Some((1, count)) = next(&mut i) else { return invalid("a point geometry must start with MoveTo") };
            if count == 0 {
                return invalid("MoveTo with no point");
            }
            let pts = read_points(&mut i, count, &mut cursor)?;
            if i != cmds.len() {
                return invalid("a point geometry with commands after its MoveTo");
            }
            Ok(Geometry::Points(pts))
        }
        2 | 3 => {
            let mut parts = Vec::new();
            while i < cmds.len() {
                match next(&mut i) {
                    Some((1, 1)) => {}
                    Some((1, _)) => return invalid("MoveTo of a line or ring must have count 1"),
                    Some((7, _)) => return invalid("ClosePath where a MoveTo must come"),
                    _ => return invalid("a line or ring must start with MoveTo"),
                }
                let mut part = read_points(&mut i, 1, &mut cursor)?;
                let Some((2, count)) = next(&mut i) else { return invalid("MoveTo must be followed by LineTo") };
                if count == 0 {
                    return invalid("LineTo with no point");
                }
                for p in read_points(&mut i, count, &mut cursor)? {
                    if kind == 2 && part.last() == Some(&p) {
                        return invalid("a line with two consecutive equal points");
                    }
                    part.push(p);
                }
                if kind == 3 {
                    match next(&mut i) {
                        Some((7, 1)) => {}
                        Some((7, c)) => return invalid(format!("ClosePath with count {c} (must be 1)")),
                        _ => return invalid("a ring must end with ClosePath"),
                    }
                    if part.len() < 3 {
                        return invalid("a ring of fewer than 3 points");
                    }
                } else if cmds.get(i).is_some_and(|c| c & 7 == 7) {
                    return invalid("ClosePath in a line");
                }
                parts.push(part);
            }
            if parts.is_empty() {
                return invalid("an empty geometry");
            }
            if kind == 2 {
                return Ok(Geometry::Lines(parts));
            }
            // Rings into polygons: each exterior ring starts one.
            let mut polys: Vec<Vec<Vec<[i32; 2]>>> = Vec::new();
            for ring in parts {
                let a = ring_area2(&ring);
                if a > 0 || polys.is_empty() {
                    if a < 0 {
                        return invalid("a polygon must start with an exterior ring (positive area)");
                    }
                    polys.push(vec![ring]);
                } else if let Some(p) = polys.last_mut() {
                    p.push(ring);
                }
            }
            Ok(Geometry::Polygons(polys))
        }
        _ => invalid(format!("geometry type {kind} is not point, line or polygon")),
    }
}

fn decode_layer(mut r: Reader<'_>) -> Result<Layer, DecodeError> {
    let (mut name, mut version, mut extent) = (None, None, 4096u32);
    let mut keys: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut raw_features = Vec::new();
    while let Some((n, wire)) = r.field()? {
        match n {
            1 => {
                expect(wire, Wire::Len, "the layer name")?;
                name = Some(
                    String::from_utf8(r.bytes()?.to_vec())
                        .map_err(|_| DecodeError::Invalid("a layer name is not UTF-8".into()))?,
                );
            }
            2 => {
                expect(wire, Wire::Len, "a feature")?;
                raw_features.push(r.message()?);
            }
            3 => {
                expect(wire, Wire::Len, "a key")?;
                keys.push(
                    String::from_utf8(r.bytes()?.to_vec())
                        .map_err(|_| DecodeError::Invalid("a key is not UTF-8".into()))?,
                );
            }
            4 => {
                expect(wire, Wire::Len, "a value")?;
                values.push(decode_value(r.message()?)?);
            }
            5 => {
                expect(wire, Wire::Varint, "the extent")?;
                extent = u32::try_from(r.varint()?).map_err(|_| DecodeError::Invalid("extent too large".into()))?;
            }
            15 => {
                expect(wire, Wire::Varint, "the version")?;
                version = Some(r.varint()?);
            }
            _ => r.skip(wire)?,
        }
    }
    let Some(name) = name else { return invalid("a layer without a name") };
    match version {
        Some(1 | 2) => {}
        Some(v) => return invalid(format!("layer {name}: version {v} is not 1 or 2")),
        None => return invalid(format!("layer {name}: no version")),
    }
    let mut features = Vec::with_capacity(raw_features.len());
    for mut f in raw_features {
        let (mut id, mut tags, mut kind, mut geometry) = (None, Vec::new(), None, None);
        while let Some((n, wire)) = f.field()? {
            match n {
                1 => {
                    expect(wire, Wire::Varint, "a feature id")?;
                    id = Some(f.varint()?);
                }
                2 => {
                    expect(wire, Wire::Len, "feature tags")?;
                    tags = f.packed()?;
                }
                3 => {
                    expect(wire, Wire::Varint, "a geometry type")?;
                    kind = Some(f.varint()?);
                }
                4 => {
                    expect(wire, Wire::Len, "a geometry")?;
                    if geometry.is_some() {
                        return invalid(format!("layer {name}: a feature with two geometries"));
                    }
                    geometry = Some(f.packed()?);
                }
                _ => f.skip(wire)?,
            }
        }
        if tags.len() % 2 != 0 {
            return invalid(format!("layer {name}: a feature with an odd number of tags"));
        }
        let mut properties = Vec::with_capacity(tags.len() / 2);
        for pair in tags.chunks(2) {
            let k = keys
                .get(pair[0] as usize)
                .ok_or_else(|| DecodeError::Invalid(format!("layer {name}: a tag points to no key")))?;
            let v = values
                .get(pair[1] as usize)
                .ok_or_else(|| DecodeError::Invalid(format!("layer {name}: a tag points to no value")))?;
            properties.push((k.clone(), v.clone()));
        }
        // A missing type is UNKNOWN, proto2's default (fixtures 003 and 016 are the same bytes).
        let kind = kind.unwrap_or(0);
        let Some(geometry) = geometry else { return invalid(format!("layer {name}: a feature without a geometry")) };
        let cmds: Vec<u32> = geometry
            .into_iter()
            .map(u32::try_from)
            .collect::<Result<_, _>>()
            .map_err(|_| DecodeError::Invalid(format!("layer {name}: a geometry integer beyond 32 bits")))?;
        features.push(Feature { id, properties, geometry: decode_geometry(kind, &cmds)? });
    }
    Ok(Layer { name, extent, features })
}

/// Decodes a tile, refusing anything the specification calls invalid.
pub fn decode(tile: &[u8]) -> Result<Vec<Layer>, DecodeError> {
    let mut r = Reader::new(tile);
    let mut layers: Vec<Layer> = Vec::new();
    while let Some((n, wire)) = r.field()? {
        match n {
            3 => {
                expect(wire, Wire::Len, "a layer")?;
                let layer = decode_layer(r.message()?)?;
                if layers.iter().any(|l| l.name == layer.name) {
                    return invalid(format!("two layers named {}", layer.name));
                }
                layers.push(layer);
            }
            _ => return invalid(format!("a tile field {n} that is not a layer")),
        }
    }
    Ok(layers)
}
