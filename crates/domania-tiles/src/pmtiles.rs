//! PMTiles v3 archives: one file of tiles, directories and metadata that MapLibre and the
//! `pmtiles` tools read over HTTP range requests, so a map can be hosted on static storage.
//!
//! Layout: the 127-byte header, the root directory, the JSON metadata, the leaf directories,
//! then the tile data in tile-id (Hilbert) order; directories and metadata gzip-compressed,
//! tiles gzip-compressed, identical tiles stored once.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::tile::TileId;

/// The tile id of a tile: tiles of lower zooms first, then the Hilbert curve's order.
#[must_use]
#[allow(clippy::many_single_char_names)]
pub fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    let acc = ((1u64 << (2 * u32::from(z))) - 1) / 3;
    let n = 1u64 << z;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    acc + d
}

/// One directory entry: a run of `run_length` tiles from `tile_id` sharing the data at
/// `offset` (a leaf directory when `run_length` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u32,
    run_length: u32,
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes)?;
    e.finish()
}

/// A directory, serialised as the specification says, gzip-compressed.
fn directory(entries: &[Entry]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    varint(&mut out, entries.len() as u64);
    let mut last = 0;
    for e in entries {
        varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        varint(&mut out, u64::from(e.run_length));
    }
    for e in entries {
        varint(&mut out, u64::from(e.length));
    }
    for (i, e) in entries.iter().enumerate() {
        let contiguous = i > 0 && e.offset == entries[i - 1].offset + u64::from(entries[i - 1].length);
        varint(&mut out, if contiguous { 0 } else { e.offset + 1 });
    }
    gzip(&out)
}

/// The root directory and the leaf directories: all entries in the root when it fits in the
/// first 16 KiB with the header, else leaves of as many entries as keep the root small enough.
fn directories(entries: &[Entry]) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let root = directory(entries)?;
    if root.len() + HEADER_LEN <= 16_384 {
        return Ok((root, Vec::new()));
    }
    let mut leaf_size = 4096;
    loop {
        let mut leaves = Vec::new();
        let mut roots = Vec::new();
        for chunk in entries.chunks(leaf_size) {
            let leaf = directory(chunk)?;
            roots.push(Entry {
                tile_id: chunk[0].tile_id,
                offset: leaves.len() as u64,
                length: u32::try_from(leaf.len()).map_err(std::io::Error::other)?,
                run_length: 0,
            });
            leaves.extend_from_slice(&leaf);
        }
        let root = directory(&roots)?;
        if root.len() + HEADER_LEN <= 16_384 {
            return Ok((root, leaves));
        }
        leaf_size *= 2;
    }
}

const HEADER_LEN: usize = 127;

/// What an archive holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Tiles addressed (identical ones counted each time).
    pub tiles: u64,
    /// Directory entries.
    pub entries: u64,
    /// Distinct tile contents stored.
    pub contents: u64,
    /// Bytes of the archive.
    pub bytes: u64,
}

/// Archive-wide facts for the header and the metadata.
#[derive(Debug, Clone)]
pub struct Meta {
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// WGS84 bounds: west, south, east, north.
    pub bounds: [f64; 4],
    /// The JSON metadata (name, `vector_layers`…).
    pub json: String,
}

/// Writes tiles into a PMTiles archive. `add` takes tiles in increasing tile-id order
/// (clustered archive) and keeps only their data in a scratch file; `finish` writes the archive.
pub struct Writer<S: Read + Write + Seek> {
    scratch: S,
    entries: Vec<Entry>,
    seen: HashMap<u64, (u64, u32)>,
    data_len: u64,
    contents: u64,
    last_id: Option<u64>,
}

impl<S: Read + Write + Seek> Writer<S> {
    /// A writer keeping tile data in `scratch` (a temporary file) until [`Writer::finish`].
    pub fn new(scratch: S) -> Self {
        Self { scratch, entries: Vec::new(), seen: HashMap::new(), data_len: 0, contents: 0, last_id: None }
    }

    /// Adds a tile (its MVT bytes, compressed here). Tiles must come in increasing tile id.
    pub fn add(&mut self, tile: TileId, mvt: &[u8]) -> std::io::Result<()> {
        let id = tile_id(tile.z, tile.x, tile.y);
        if self.last_id.is_some_and(|l| id <= l) {
            return Err(std::io::Error::other(format!("tile {}/{}/{} out of order", tile.z, tile.x, tile.y)));
        }
        self.last_id = Some(id);
        let gz = gzip(mvt)?;
        let key = domania_core::hash::fnv1a(&gz);
        let (offset, length) = if let Some(&at) = self.seen.get(&key) {
            at
        } else {
            let at = (self.data_len, u32::try_from(gz.len()).map_err(std::io::Error::other)?);
            self.scratch.write_all(&gz)?;
            self.data_len += gz.len() as u64;
            self.contents += 1;
            self.seen.insert(key, at);
            at
        };
        // A run: the same data for the next tile id.
        if let Some(last) = self.entries.last_mut()
            && last.offset == offset
            && last.tile_id + u64::from(last.run_length) == id
        {
            last.run_length += 1;
            return Ok(());
        }
        self.entries.push(Entry { tile_id: id, offset, length, run_length: 1 });
        Ok(())
    }

    /// Writes the archive to `out`.
    #[allow(clippy::many_single_char_names)]
    pub fn finish(mut self, out: &mut impl Write, meta: &Meta) -> std::io::Result<Stats> {
        let (root, leaves) = directories(&self.entries)?;
        let metadata = gzip(meta.json.as_bytes())?;
        let root_off = HEADER_LEN as u64;
        let meta_off = root_off + root.len() as u64;
        let leaf_off = meta_off + metadata.len() as u64;
        let data_off = leaf_off + leaves.len() as u64;
        let tiles: u64 = self.entries.iter().map(|e| u64::from(e.run_length)).sum();
        let mut h = Vec::with_capacity(HEADER_LEN);
        h.extend_from_slice(b"PMTiles");
        h.push(3);
        for v in [
            root_off,
            root.len() as u64,
            meta_off,
            metadata.len() as u64,
            leaf_off,
            leaves.len() as u64,
            data_off,
            self.data_len,
            tiles,
            self.entries.len() as u64,
            self.contents,
        ] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        // Clustered; gzip directories; gzip tiles; MVT.
        h.extend_from_slice(&[1, 2, 2, 1, meta.min_zoom, meta.max_zoom]);
        let e7 = |v: f64| ((v * 1e7).round() as i32).to_le_bytes();
        let [w, s, e, n] = meta.bounds;
        for v in [w, s, e, n] {
            h.extend_from_slice(&e7(v));
        }
        h.push(meta.max_zoom.min(meta.min_zoom.max(15)));
        h.extend_from_slice(&e7(f64::midpoint(w, e)));
        h.extend_from_slice(&e7(f64::midpoint(s, n)));
        debug_assert_eq!(h.len(), HEADER_LEN);
        out.write_all(&h)?;
        out.write_all(&root)?;
        out.write_all(&metadata)?;
        out.write_all(&leaves)?;
        self.scratch.seek(std::io::SeekFrom::Start(0))?;
        std::io::copy(&mut self.scratch.take(self.data_len), out)?;
        Ok(Stats {
            tiles,
            entries: self.entries.len() as u64,
            contents: self.contents,
            bytes: data_off + self.data_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_ids_follow_the_specification() {
        assert_eq!(tile_id(0, 0, 0), 0);
        assert_eq!(tile_id(1, 0, 0), 1);
        assert_eq!(tile_id(1, 0, 1), 2);
        assert_eq!(tile_id(1, 1, 1), 3);
        assert_eq!(tile_id(1, 1, 0), 4);
        assert_eq!(tile_id(2, 1, 3), 11);
        assert_eq!(tile_id(3, 3, 0), 26);
        assert_eq!(tile_id(12, 3423, 1763), 19_078_479);
    }

    #[test]
    fn an_archive_has_its_header_and_stores_identical_tiles_once() {
        let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
        let mut tiles: Vec<TileId> = (0..4).flat_map(|x| (0..4).map(move |y| TileId::new(2, x, y).unwrap())).collect();
        tiles.sort_by_key(|t| tile_id(t.z, t.x, t.y));
        for t in &tiles {
            w.add(*t, if t.x == 0 { b"same".as_slice() } else { b"other".as_slice() }).unwrap();
        }
        assert!(w.add(tiles[0], b"x").is_err(), "out of order");
        let mut out = Vec::new();
        let meta = Meta { min_zoom: 2, max_zoom: 2, bounds: [1.0, 48.0, 2.0, 49.0], json: "{}".into() };
        let stats = w.finish(&mut out, &meta).unwrap();
        assert_eq!((stats.tiles, stats.contents), (16, 2));
        assert_eq!(&out[0..7], b"PMTiles");
        assert_eq!(out[7], 3);
        assert_eq!(stats.bytes, out.len() as u64);
        let u64_at = |i: usize| u64::from_le_bytes(out[i..i + 8].try_into().unwrap());
        assert_eq!(u64_at(8), 127);
        assert_eq!(u64_at(72), 16);
    }
}
