//! A file of flat sections: what a server keeps between starts so that it reads its state
//! instead of rebuilding it.
//!
//! The layout (all little-endian, every section aligned on 8 bytes):
//!
//! ```text
//! magic      8 bytes   b"DOMANIA\x1a"
//! kind       8 bytes   what the file holds (b"SNAPSHOT")
//! format     u32       the layout's version: a file of another format is rebuilt, not read
//! order      u32       0x0102_0304 as written (a file from a machine of the other byte order is rebuilt)
//! key        u64       what the content was computed from (store versions, rules, date, program…)
//! then, per section:
//!   length   u64       in bytes
//!   bytes    length bytes, then zeros up to the next multiple of 8
//! sections   u64       how many sections there are
//! crc        u32       CRC-32 of everything before it
//! ```
//!
//! The count and the checksum come last so that the file is written in one pass, section
//! after section, without holding it whole in memory.
//!
//! A checkpoint ([`FlatWriter::checkpoint`]) is a section of three numbers: `b"CHECKPNT"`, its
//! own offset and the CRC-32 of everything before it. A reader that needs only the sections
//! before it reads the file up to there ([`read_head`]) and checks that much
//! ([`FlatReader::open_head`]): the shares of a million parcels need 50 MB of a 400 MB file.
//!
//! A section is a slice of plain numbers (`bytemuck::Pod`: integers, floats, arrays of them),
//! borrowed from the bytes read (copied where they are not aligned); nothing is parsed. A
//! server's start reads the file as it needs it instead ([`FlatReader::open_stream`]): the whole
//! is checked through one small buffer, then each section read straight into the numbers it
//! holds and dropped once used, so that no copy of the file stays beside what is made of it (a
//! 400 MB buffer freed at the end of a start was kept by the allocator: 1.54 GB resident at a
//! million parcels instead of 1.0 GB). Why not rkyv, why no memory map: mapping a file needs
//! `unsafe`, which the workspace forbids,
//! and every structure a server keeps is already a set of flat arrays (coordinates with
//! offsets, arcs, indices), so a section per array says everything, needs no schema derive on
//! the engine's types and keeps the format readable from this page alone. One exception: an
//! R-tree (`rstar`'s nodes are not flat arrays, and bulk-loading a million boxes again takes
//! longer than the rest of a start) is a section of its nodes in postcard's encoding, read back
//! as they were and then checked against the boxes it indexes. The CRC (SIMD, several GB/s)
//! catches a damaged or truncated file; the key a stale one. Neither is ever trusted: a file
//! that fails any check is rebuilt.
//!
//! This module touches no file: it writes to any `io::Write` and reads bytes; where the file
//! lives and how it is written atomically belongs to the application.

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom, Write};

use bytemuck::Pod;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rayon::iter::ParallelIterator;
use rayon::slice::ParallelSlice;

const MAGIC: &[u8; 8] = b"DOMANIA\x1a";
/// The first number of a checkpoint section.
const CHECKPOINT: u64 = u64::from_le_bytes(*b"CHECKPNT");
const ORDER: u32 = 0x0102_0304;
const HEADER: usize = 8 + 8 + 4 + 4 + 8;
/// The section count and the checksum.
const TRAILER: usize = 8 + 4;

/// Why a file was not read (it is then rebuilt).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlatError {
    #[error("not a Domania file of this kind")]
    NotOurs,
    #[error("written in format {0}, this program reads format {1}")]
    OtherFormat(u32, u32),
    #[error("computed from another state (key {found:016x}, expected {expected:016x})")]
    Stale { found: u64, expected: u64 },
    #[error("truncated")]
    Truncated,
    #[error("damaged (checksum)")]
    Damaged,
    #[error("inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// Writes sections one after the other into `W` (a file, or memory), checksumming as it goes;
/// [`FlatWriter::finish`] seals them.
#[derive(Debug)]
pub struct FlatWriter<W: Write = Vec<u8>> {
    out: W,
    crc: crc32fast::Hasher,
    written: u64,
    sections: u64,
}

impl FlatWriter<Vec<u8>> {
    /// A file of `kind`, layout `format`, computed from `key`, written in memory.
    #[must_use]
    pub fn new(kind: &[u8; 8], format: u32, key: u64) -> Self {
        Self::to(Vec::new(), kind, format, key).unwrap_or_else(|_| unreachable!("writing to memory does not fail"))
    }
}

impl<W: Write> FlatWriter<W> {
    /// A file of `kind`, layout `format`, computed from `key`, written to `out`.
    pub fn to(out: W, kind: &[u8; 8], format: u32, key: u64) -> std::io::Result<Self> {
        let mut w = Self { out, crc: crc32fast::Hasher::new(), written: 0, sections: 0 };
        w.put(MAGIC)?;
        w.put(kind)?;
        w.put(&format.to_le_bytes())?;
        w.put(&ORDER.to_ne_bytes())?;
        w.put(&key.to_le_bytes())?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    /// Appends a section holding `items`.
    pub fn section<T: Pod>(&mut self, items: &[T]) -> std::io::Result<()> {
        let bytes: &[u8] = bytemuck::cast_slice(items);
        self.put(&(bytes.len() as u64).to_le_bytes())?;
        self.put(bytes)?;
        let pad = self.written.next_multiple_of(8) - self.written;
        self.put(&[0u8; 8][..pad as usize])?;
        self.sections += 1;
        Ok(())
    }

    /// Appends a section of strings: their bytes end to end, then their end offsets.
    pub fn strings<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        let mut ends: Vec<u64> = Vec::new();
        for s in items {
            bytes.extend_from_slice(s.as_bytes());
            ends.push(bytes.len() as u64);
        }
        self.section(&bytes)?;
        self.section(&ends)
    }

    /// Appends a section of strings that may be absent: a mask (1 where present), then the
    /// strings (absent ones empty).
    pub fn opt_strings<'a>(&mut self, items: impl IntoIterator<Item = Option<&'a str>>) -> std::io::Result<()> {
        let items: Vec<Option<&str>> = items.into_iter().collect();
        self.section(&items.iter().map(|s| u8::from(s.is_some())).collect::<Vec<u8>>())?;
        self.strings(items.iter().map(|s| s.unwrap_or_default()))
    }

    /// An R-tree as it is, its nodes in postcard's encoding: a reader takes them back instead
    /// of bulk-loading every entry again (a million boxes: several tenths of a second).
    pub fn tree<T: rstar::RTreeObject>(&mut self, tree: &rstar::RTree<T>) -> std::io::Result<()>
    where
        rstar::RTree<T>: serde::Serialize,
    {
        self.section(&postcard::to_allocvec(tree).map_err(std::io::Error::other)?)
    }

    /// Appends shapes: every coordinate, then where each ring, polygon and shape starts.
    pub fn shapes<'a>(&mut self, shapes: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> std::io::Result<()> {
        let (mut coords, mut rings, mut polys, mut starts): (Vec<[f64; 2]>, Vec<u64>, Vec<u64>, Vec<u64>) =
            (Vec::new(), vec![0], vec![0], vec![0]);
        for shape in shapes {
            for poly in &shape.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    coords.extend(ring.0.iter().map(|c| [c.x, c.y]));
                    rings.push(coords.len() as u64);
                }
                polys.push(rings.len() as u64 - 1);
            }
            starts.push(polys.len() as u64 - 1);
        }
        self.section(&coords)?;
        self.section(&rings)?;
        self.section(&polys)?;
        self.section(&starts)
    }

    /// Appends a checkpoint: a section of the checksum of everything before it, so that a
    /// reader can trust the sections before it without reading the rest ([`read_head`]).
    pub fn checkpoint(&mut self) -> std::io::Result<()> {
        let (at, crc) = (self.written, u64::from(self.crc.clone().finalize()));
        self.section(&[CHECKPOINT, at, crc])
    }

    /// Seals the file (its section count and checksum) and gives back what it was written to.
    pub fn finish(mut self) -> std::io::Result<W> {
        let sections = self.sections.to_le_bytes();
        self.put(&sections)?;
        let crc = self.crc.clone().finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads the sections of a file in the order they were written, after checking everything
/// about it.
#[derive(Debug)]
pub struct FlatReader<'a> {
    src: Source<'a>,
    /// Where the next section's length is.
    pos: usize,
    /// Where the sections end (the trailer's start).
    end: usize,
    /// How many sections are left.
    left: u64,
}

/// Where a reader takes its sections from.
enum Source<'a> {
    /// Bytes in memory: a section aligned for what it holds is borrowed from them.
    Bytes(&'a [u8]),
    /// A file read section after section, each into memory of its own, once its checksum has
    /// been checked over the whole ([`FlatReader::open_stream`]).
    Stream(Box<dyn Read + Send + 'a>),
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Source::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl<'a> FlatReader<'a> {
    /// Checks `bytes` (magic, kind, format, byte order, key, length, checksum) and reads its
    /// sections from the first.
    pub fn open(bytes: &'a [u8], kind: &[u8; 8], format: u32, key: u64) -> Result<Self, FlatError> {
        Self::header(bytes, *kind, format)?;
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().unwrap_or_default()) {
            // A file cut short fails here too: its last four bytes are not its checksum.
            return Err(FlatError::Damaged);
        }
        Self::key(bytes, key)?;
        let end = body.len() - 8;
        Ok(Self { src: Source::Bytes(&body[..end]), pos: HEADER, end, left: u64_at(end) })
    }

    /// [`FlatReader::open`] on a file read as it is needed rather than whole in memory: the
    /// whole is read once through a small buffer to check it (header, key, checksum), then each
    /// section is read into memory of its own when asked for and dropped by its reader once
    /// used, so that a start holds no copy of the file beside what it makes of it.
    pub fn open_stream<R: Read + Seek + Send + 'a>(
        mut src: R,
        kind: &[u8; 8],
        format: u32,
        key: u64,
    ) -> Result<Self, FlatError> {
        let len = src.seek(SeekFrom::End(0)).map_err(|_| FlatError::Truncated)?;
        let len = usize::try_from(len).map_err(|_| FlatError::Truncated)?;
        src.seek(SeekFrom::Start(0)).map_err(|_| FlatError::Truncated)?;
        let mut head = vec![0u8; (HEADER + TRAILER).min(len)];
        src.read_exact(&mut head).map_err(|_| FlatError::Truncated)?;
        Self::header(&head, *kind, format)?;
        // The checksum of everything before it, read through one buffer.
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        let mut left = len - 4 - head.len();
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(buf.len());
            src.read_exact(&mut buf[..n]).map_err(|_| FlatError::Truncated)?;
            crc.update(&buf[..n]);
            left -= n;
        }
        let mut trailer = [0u8; TRAILER];
        src.seek(SeekFrom::Start((len - TRAILER) as u64)).map_err(|_| FlatError::Truncated)?;
        src.read_exact(&mut trailer).map_err(|_| FlatError::Truncated)?;
        if crc.finalize() != u32::from_le_bytes(trailer[8..].try_into().unwrap_or_default()) {
            return Err(FlatError::Damaged);
        }
        Self::key(&head, key)?;
        src.seek(SeekFrom::Start(HEADER as u64)).map_err(|_| FlatError::Truncated)?;
        let sections = u64::from_le_bytes(trailer[..8].try_into().unwrap_or_default());
        Ok(Self { src: Source::Stream(Box::new(src)), pos: HEADER, end: len - TRAILER, left: sections })
    }

    /// Checks the beginning of a file up to its first checkpoint ([`read_head`]: magic, kind,
    /// format, byte order, key, every section's length, the checkpoint's checksum) and reads
    /// its sections from the first; [`FlatReader::end`] says whether all were read.
    pub fn open_head(bytes: &'a [u8], kind: &[u8; 8], format: u32, key: u64) -> Result<Self, FlatError> {
        Self::header(bytes, *kind, format)?;
        let at = bytes.len().checked_sub(8 + 24).ok_or(FlatError::Truncated)?;
        let numbers: [u64; 4] = std::array::from_fn(|i| {
            u64::from_le_bytes(bytes[at + 8 * i..at + 8 * i + 8].try_into().unwrap_or_default())
        });
        if numbers[..3] != [24, CHECKPOINT, at as u64] {
            return Err(FlatError::Truncated);
        }
        if u64::from(crc32fast::hash(&bytes[..at])) != numbers[3] {
            return Err(FlatError::Damaged);
        }
        Self::key(bytes, key)?;
        let mut r = Self { src: Source::Bytes(&bytes[..at]), pos: HEADER, end: at, left: u64::MAX };
        let mut sections = 0;
        while r.pos < at {
            r.raw()?;
            sections += 1;
        }
        Ok(Self { src: Source::Bytes(&bytes[..at]), pos: HEADER, end: at, left: sections })
    }

    /// The header's key (after [`FlatReader::header`] and the checksum): what the content was
    /// computed from must be `key`.
    fn key(bytes: &[u8], key: u64) -> Result<(), FlatError> {
        let found = u64::from_le_bytes(bytes[24..32].try_into().unwrap_or_default());
        if found == key { Ok(()) } else { Err(FlatError::Stale { found, expected: key }) }
    }

    /// Magic, kind, format and byte order: the header's checks but the key.
    fn header(bytes: &[u8], kind: [u8; 8], format: u32) -> Result<(), FlatError> {
        if bytes.len() < HEADER + TRAILER {
            return Err(if bytes.starts_with(&MAGIC[..bytes.len().min(8)]) {
                FlatError::Truncated
            } else {
                FlatError::NotOurs
            });
        }
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
        if &bytes[0..8] != MAGIC || bytes[8..16] != kind {
            return Err(FlatError::NotOurs);
        }
        if u32_at(16) != format || u32::from_ne_bytes(bytes[20..24].try_into().unwrap_or_default()) != ORDER {
            return Err(FlatError::OtherFormat(u32_at(16), format));
        }
        Ok(())
    }

    /// The next section, which must be a checkpoint ([`FlatWriter::checkpoint`]; its checksum
    /// is the file's business: [`FlatReader::open`] checked the whole).
    pub fn checkpoint(&mut self) -> Result<(), FlatError> {
        let at = self.pos as u64;
        match self.section::<u64>()?[..] {
            [CHECKPOINT, pos, _] if pos == at => Ok(()),
            _ => Err(FlatError::Inconsistent("no checkpoint where one belongs")),
        }
    }

    fn raw(&mut self) -> Result<Cow<'a, [u8]>, FlatError> {
        self.slice()
    }

    /// The next section, as the numbers it was written from.
    pub fn section<T: Pod>(&mut self) -> Result<Vec<T>, FlatError> {
        Ok(self.slice()?.into_owned())
    }

    /// The next section, borrowed from the bytes read when they are aligned for `T` (sections
    /// are on 8-byte offsets, and a large buffer's start is in practice), else copied: nothing
    /// is allocated for what is only read through. From a file read as needed, the section
    /// is read straight into the numbers given back.
    pub fn slice<T: Pod>(&mut self) -> Result<Cow<'a, [T]>, FlatError> {
        if self.left == 0 || self.pos + 8 > self.end {
            return Err(FlatError::Truncated);
        }
        let mut n = [0u8; 8];
        match &mut self.src {
            Source::Bytes(b) => n.copy_from_slice(&b[self.pos..self.pos + 8]),
            Source::Stream(s) => s.read_exact(&mut n).map_err(|_| FlatError::Truncated)?,
        }
        let start = self.pos + 8;
        let len = usize::try_from(u64::from_le_bytes(n)).map_err(|_| FlatError::Truncated)?;
        let end = start.checked_add(len).filter(|&e| e <= self.end).ok_or(FlatError::Truncated)?;
        if len % size_of::<T>().max(1) != 0 {
            return Err(FlatError::Inconsistent("a section's length is not a whole number of items"));
        }
        self.pos = end.next_multiple_of(8);
        self.left -= 1;
        match &mut self.src {
            Source::Bytes(b) => {
                let raw = &b[start..end];
                Ok(bytemuck::try_cast_slice(raw)
                    .map_or_else(|_| Cow::Owned(bytemuck::pod_collect_to_vec(raw)), Cow::Borrowed))
            }
            Source::Stream(s) => {
                let mut items: Vec<T> = bytemuck::zeroed_vec(len / size_of::<T>().max(1));
                s.read_exact(bytemuck::cast_slice_mut(&mut items)).map_err(|_| FlatError::Truncated)?;
                s.read_exact(&mut [0u8; 8][..self.pos - end]).map_err(|_| FlatError::Truncated)?;
                Ok(Cow::Owned(items))
            }
        }
    }

    /// The next section of strings ([`FlatWriter::strings`]) as they lie in the file, checked
    /// (UTF-8, every end on a character's boundary), each one taken when asked for.
    pub fn str_table(&mut self) -> Result<StrTable<'a>, FlatError> {
        let not_utf8 = |_| FlatError::Inconsistent("a string that is not UTF-8");
        let text: Cow<'a, str> = match self.raw()? {
            Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).map_err(not_utf8)?),
            Cow::Owned(v) => Cow::Owned(String::from_utf8(v).map_err(|e| not_utf8(e.utf8_error()))?),
        };
        let ends: Cow<'a, [u64]> = self.slice()?;
        let mut from = 0u64;
        for &end in ends.iter() {
            let at = usize::try_from(end).map_err(|_| FlatError::Truncated)?;
            if end < from || !text.is_char_boundary(at) || at > text.len() {
                return Err(FlatError::Inconsistent("a string past its section"));
            }
            from = end;
        }
        if from as usize != text.len() {
            return Err(FlatError::Inconsistent("bytes after the last string"));
        }
        Ok(StrTable { text, ends })
    }

    /// The next R-tree ([`FlatWriter::tree`]): its nodes as they were, not bulk-loaded again
    /// (the caller checks that its entries name what is there).
    pub fn tree<T: rstar::RTreeObject>(&mut self) -> Result<rstar::RTree<T>, FlatError>
    where
        rstar::RTree<T>: serde::de::DeserializeOwned,
    {
        postcard::from_bytes(&self.raw()?).map_err(|_| FlatError::Inconsistent("an R-tree"))
    }

    /// The next section of strings ([`FlatWriter::strings`]).
    pub fn strings(&mut self) -> Result<Vec<String>, FlatError> {
        let table = self.str_table()?;
        Ok((0..table.len()).map(|i| table.get(i).to_owned()).collect())
    }

    /// The next section of strings that may be absent ([`FlatWriter::opt_strings`]).
    pub fn opt_strings(&mut self) -> Result<Vec<Option<String>>, FlatError> {
        let mask: Vec<u8> = self.section()?;
        let strings = self.strings()?;
        if mask.len() != strings.len() {
            return Err(FlatError::Inconsistent("a mask and its strings disagree"));
        }
        Ok(strings.into_iter().zip(mask).map(|(s, m)| (m != 0).then_some(s)).collect())
    }

    /// The next shapes ([`FlatWriter::shapes`]), every offset checked.
    pub fn shapes(&mut self) -> Result<Vec<MultiPolygon<f64>>, FlatError> {
        let coords: Cow<'_, [[f64; 2]]> = self.slice()?;
        let [rings, polys, starts]: [Cow<'_, [u64]>; 3] = [self.slice()?, self.slice()?, self.slice()?];
        check_offsets(&rings, coords.len())?;
        check_offsets(&polys, rings.len() - 1)?;
        check_offsets(&starts, polys.len() - 1)?;
        let ring = |r: usize| {
            LineString(coords[rings[r] as usize..rings[r + 1] as usize].iter().map(|&[x, y]| Coord { x, y }).collect())
        };
        // Each shape is its own allocations: made on every core.
        Ok(starts
            .par_windows(2)
            .map(|s| {
                MultiPolygon(
                    (s[0] as usize..s[1] as usize)
                        .map(|p| {
                            let (first, end) = (polys[p] as usize, polys[p + 1] as usize);
                            if first == end {
                                return Polygon::new(LineString(Vec::new()), Vec::new());
                            }
                            Polygon::new(ring(first), (first + 1..end).map(ring).collect())
                        })
                        .collect(),
                )
            })
            .collect())
    }

    /// Checks that every section was read.
    pub fn end(self) -> Result<(), FlatError> {
        if self.left == 0 && self.pos == self.end {
            Ok(())
        } else {
            Err(FlatError::Inconsistent("sections left unread"))
        }
    }
}

/// A section of strings read from a file ([`FlatReader::str_table`]): one text and where each
/// string ends.
#[derive(Debug, Clone)]
pub struct StrTable<'a> {
    text: Cow<'a, str>,
    ends: Cow<'a, [u64]>,
}

impl StrTable<'_> {
    /// How many strings there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `i` (`i < len()`; the ends were checked when the section was read).
    #[must_use]
    pub fn get(&self, i: usize) -> &str {
        let from = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[from..self.ends[i] as usize]
    }
}

/// Checks that `starts` are offsets into `len` items: from 0, never decreasing, ending at
/// `len` (what every `*_start` array of a flat structure must be before it is trusted).
pub fn check_offsets<T: Copy + Ord + TryInto<usize>>(starts: &[T], len: usize) -> Result<(), FlatError> {
    let at = |i: Option<&T>| i.and_then(|&v| v.try_into().ok());
    if at(starts.first()) != Some(0) || at(starts.last()) != Some(len) {
        return Err(FlatError::Inconsistent("offsets do not span their items"));
    }
    if starts.windows(2).any(|w| w[0] > w[1]) {
        return Err(FlatError::Inconsistent("offsets go backwards"));
    }
    Ok(())
}

/// The bytes of the first section of a flat file read from `src`, unchecked (nothing before
/// the whole file is read is: what a reader learns here may only choose the key the file is
/// then opened with, which the header and the checksum check); an error when it is longer than
/// `limit` bytes or runs past the file.
pub fn first_section(src: impl std::io::Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut src = src.take(HEADER as u64 + 8 + limit);
    let mut head = [0u8; HEADER + 8];
    src.read_exact(&mut head)?;
    let mut n = [0u8; 8];
    n.copy_from_slice(&head[HEADER..]);
    let n = u64::from_le_bytes(n);
    if n > limit {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the first section is longer than allowed"));
    }
    let mut bytes = vec![0u8; usize::try_from(n).map_err(std::io::Error::other)?];
    src.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The beginning of a flat file of `len` bytes read from `src`, up to and with its first
/// checkpoint ([`FlatWriter::checkpoint`]), section by section, to be opened with
/// [`FlatReader::open_head`]; the rest is not read. An error when it has none, or a length
/// runs past the file.
pub fn read_head(src: impl std::io::Read, len: u64) -> std::io::Result<Vec<u8>> {
    let mut src = std::io::BufReader::with_capacity(1 << 16, src.take(len));
    let mut head = vec![0u8; HEADER];
    src.read_exact(&mut head)?;
    loop {
        let mut n = [0u8; 8];
        src.read_exact(&mut n)?;
        let n = u64::from_le_bytes(n);
        let from = head.len();
        let body = n
            .checked_next_multiple_of(8)
            .filter(|&b| from as u64 + 8 + b <= len)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "a section runs past the file"))?;
        head.extend_from_slice(&n.to_le_bytes());
        head.resize(from + 8 + body as usize, 0);
        src.read_exact(&mut head[from + 8..])?;
        if n == 24 && head[from + 8..from + 16] == CHECKPOINT.to_le_bytes() {
            return Ok(head);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: u64) -> Vec<u8> {
        let mut w = FlatWriter::new(b"TESTFILE", 3, key);
        w.section(&[1u32, 2, 3]).unwrap();
        w.section(&[[1u32, 2], [3, 4]]).unwrap();
        w.strings(["75118", "", "Épinay"]).unwrap();
        w.section::<f32>(&[]).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn what_is_written_is_read_back() {
        let bytes = file(42);
        let mut r = FlatReader::open(&bytes, b"TESTFILE", 3, 42).unwrap();
        assert_eq!(r.section::<u32>().unwrap(), vec![1, 2, 3]);
        assert_eq!(r.section::<[u32; 2]>().unwrap(), vec![[1, 2], [3, 4]]);
        assert_eq!(r.strings().unwrap(), vec!["75118".to_owned(), String::new(), "Épinay".to_owned()]);
        assert!(r.section::<f32>().unwrap().is_empty());
        r.end().unwrap();
    }

    #[test]
    fn a_stale_damaged_truncated_or_foreign_file_is_refused() {
        let bytes = file(42);
        assert_eq!(
            FlatReader::open(&bytes, b"TESTFILE", 3, 43).unwrap_err(),
            FlatError::Stale { found: 42, expected: 43 }
        );
        assert_eq!(FlatReader::open(&bytes, b"TESTFILE", 4, 42).unwrap_err(), FlatError::OtherFormat(3, 4));
        assert_eq!(FlatReader::open(&bytes, b"OTHERONE", 3, 42).unwrap_err(), FlatError::NotOurs);
        for cut in [0, 5, 40, bytes.len() / 2, bytes.len() - 1] {
            assert!(FlatReader::open(&bytes[..cut], b"TESTFILE", 3, 42).is_err(), "cut at {cut}");
        }
        for at in [20, 41, bytes.len() / 2, bytes.len() - 2] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(FlatReader::open(&bad, b"TESTFILE", 3, 42).is_err(), "flip at {at}");
        }
        assert_eq!(FlatReader::open(b"PK\x03\x04", b"TESTFILE", 3, 42).unwrap_err(), FlatError::NotOurs);
    }

    /// `bytes` opened as a file read as needed.
    fn stream(bytes: &[u8], kind: [u8; 8], format: u32, key: u64) -> Result<FlatReader<'static>, FlatError> {
        FlatReader::open_stream(std::io::Cursor::new(bytes.to_vec()), &kind, format, key)
    }

    #[test]
    fn a_file_read_as_needed_gives_what_the_bytes_give_and_is_refused_alike() {
        let bytes = file(42);
        let mut r = stream(&bytes, *b"TESTFILE", 3, 42).unwrap();
        assert_eq!(r.section::<u32>().unwrap(), vec![1, 2, 3]);
        assert!(matches!(r.slice::<[u32; 2]>().unwrap(), Cow::Owned(v) if v == [[1, 2], [3, 4]]));
        let table = r.str_table().unwrap();
        assert_eq!((0..table.len()).map(|i| table.get(i)).collect::<Vec<_>>(), ["75118", "", "Épinay"]);
        assert!(r.section::<f32>().unwrap().is_empty());
        assert_eq!(r.section::<u8>().unwrap_err(), FlatError::Truncated);
        r.end().unwrap();
        assert!(stream(&bytes, *b"TESTFILE", 3, 42).unwrap().end().is_err(), "sections left unread");
        assert_eq!(stream(&bytes, *b"TESTFILE", 3, 43).unwrap_err(), FlatError::Stale { found: 42, expected: 43 });
        assert_eq!(stream(&bytes, *b"TESTFILE", 4, 42).unwrap_err(), FlatError::OtherFormat(3, 4));
        assert_eq!(stream(&bytes, *b"OTHERONE", 3, 42).unwrap_err(), FlatError::NotOurs);
        assert_eq!(stream(b"PK\x03\x04", *b"TESTFILE", 3, 42).unwrap_err(), FlatError::NotOurs);
        // Every section is checked before the first is given: a flip anywhere, even in the
        // last section, or a file cut short is refused at the opening.
        for cut in [0, 5, 40, bytes.len() / 2, bytes.len() - 1] {
            assert!(stream(&bytes[..cut], *b"TESTFILE", 3, 42).is_err(), "cut at {cut}");
        }
        for at in [20, 41, bytes.len() / 2, bytes.len() - 14, bytes.len() - 2] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(stream(&bad, *b"TESTFILE", 3, 42).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn shapes_and_absent_strings_are_read_back() {
        let square = |x: f64| LineString::from(vec![(x, 0.0), (x + 10.0, 0.0), (x + 10.0, 10.0), (x, 10.0), (x, 0.0)]);
        let shapes = vec![
            MultiPolygon(vec![Polygon::new(square(0.0), vec![square(2.0)]), Polygon::new(square(20.0), vec![])]),
            MultiPolygon(vec![]),
            MultiPolygon(vec![Polygon::new(square(40.0), vec![])]),
        ];
        let mut w = FlatWriter::new(b"TESTFILE", 1, 0);
        w.shapes(&shapes).unwrap();
        w.opt_strings([Some("a"), None, Some("")]).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = FlatReader::open(&bytes, b"TESTFILE", 1, 0).unwrap();
        assert_eq!(r.shapes().unwrap(), shapes);
        assert_eq!(r.opt_strings().unwrap(), vec![Some("a".to_owned()), None, Some(String::new())]);
        r.end().unwrap();
    }

    #[test]
    fn the_head_up_to_a_checkpoint_is_read_and_checked_without_the_rest() {
        let mut w = FlatWriter::new(b"TESTFILE", 2, 7);
        w.strings(["75118000AB0001", "91216000AB0002"]).unwrap();
        w.section(&[24u64, 1, 2]).unwrap(); // 24 bytes, not a checkpoint
        w.checkpoint().unwrap();
        w.section(&vec![9u8; 100_000]).unwrap();
        let bytes = w.finish().unwrap();
        let head = read_head(&bytes[..], bytes.len() as u64).unwrap();
        assert!(head.len() < 200 && bytes.starts_with(&head));
        let mut r = FlatReader::open_head(&head, b"TESTFILE", 2, 7).unwrap();
        assert_eq!(r.strings().unwrap(), vec!["75118000AB0001".to_owned(), "91216000AB0002".to_owned()]);
        assert_eq!(r.section::<u64>().unwrap(), vec![24, 1, 2]);
        r.end().unwrap();
        assert_eq!(
            FlatReader::open_head(&head, b"TESTFILE", 2, 8).unwrap_err(),
            FlatError::Stale { found: 7, expected: 8 }
        );
        // The whole file reads through its checkpoint.
        let mut r = FlatReader::open(&bytes, b"TESTFILE", 2, 7).unwrap();
        let _ = (r.strings().unwrap(), r.section::<u64>().unwrap());
        r.checkpoint().unwrap();
        assert_eq!(r.section::<u8>().unwrap().len(), 100_000);
        r.end().unwrap();
        // Damaged before the checkpoint, a head cut short, a file without a checkpoint or
        // whose lengths run past it: refused.
        let mut bad = head.clone();
        bad[40] ^= 1;
        assert_eq!(FlatReader::open_head(&bad, b"TESTFILE", 2, 7).unwrap_err(), FlatError::Damaged);
        assert!(FlatReader::open_head(&head[..head.len() - 8], b"TESTFILE", 2, 7).is_err());
        assert!(read_head(&file(1)[..], file(1).len() as u64).is_err());
        assert!(read_head(&bytes[..head.len() - 1], head.len() as u64 - 1).is_err());
        let mut long = bytes.clone();
        long[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(read_head(&long[..], long.len() as u64).is_err());
        // A checkpoint read where another section is: an error.
        let mut r = FlatReader::open(&bytes, b"TESTFILE", 2, 7).unwrap();
        assert!(r.checkpoint().is_err());
    }

    #[test]
    fn a_table_of_strings_is_checked_before_it_is_read() {
        let table = |ends: &[u64]| {
            let mut w = FlatWriter::new(b"TESTFILE", 1, 0);
            w.section("Épinay".as_bytes()).unwrap();
            w.section(ends).unwrap();
            let bytes = w.finish().unwrap();
            let mut r = FlatReader::open(&bytes, b"TESTFILE", 1, 0).unwrap();
            r.str_table().map(|t| (0..t.len()).map(|i| t.get(i).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(table(&[2, 7]).unwrap(), vec!["É".to_owned(), "pinay".to_owned()]);
        for bad in [&[1u64, 7][..], &[2, 8], &[7, 2], &[2, 6], &[]] {
            assert!(matches!(table(bad), Err(FlatError::Inconsistent(_) | FlatError::Truncated)), "{bad:?}");
        }
    }

    #[test]
    fn reading_past_the_sections_or_leaving_some_is_an_error() {
        let bytes = file(1);
        let mut r = FlatReader::open(&bytes, b"TESTFILE", 3, 1).unwrap();
        let _ = r.section::<u32>().unwrap();
        assert!(FlatReader::open(&bytes, b"TESTFILE", 3, 1).unwrap().end().is_err());
        let mut r = FlatReader::open(&bytes, b"TESTFILE", 3, 1).unwrap();
        for _ in 0..5 {
            let _ = r.section::<u8>().unwrap();
        }
        assert_eq!(r.section::<u8>().unwrap_err(), FlatError::Truncated);
        assert!(check_offsets(&[0, 2, 1, 3], 3).is_err());
        assert!(check_offsets(&[0, 2, 3], 4).is_err());
        check_offsets(&[0, 2, 2, 3], 3).unwrap();
    }
}
