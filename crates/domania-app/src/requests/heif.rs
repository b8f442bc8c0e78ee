//! The metadata of a HEIF photo (an iPhone's HEIC) taken out without decoding it. A HEIF file is
//! a tree of ISO boxes (ISO/IEC 14496-12): its `meta` box lists the file's items (`iinf`) and
//! where their bytes are (`iloc`): the picture's tiles, and the EXIF block (item type `Exif`:
//! where and when it was taken, the phone, its owner) and the XMP packet (item type `mime`, an
//! XML content type). Those two items' bytes are written over in place — the EXIF with an empty
//! one, the XMP with an empty packet, spaces after — so no offset of the file moves and every
//! reader still opens it. The orientation a HEIF reader applies is not in the EXIF but in the
//! picture's `irot`/`imir` properties, which stay.

/// A box: its type, and where its content starts and ends in the file.
#[derive(Debug, Clone, Copy)]
struct Box4 {
    kind: [u8; 4],
    start: usize,
    end: usize,
}

/// The boxes laid one after the other in `b[from..to]`.
fn boxes(b: &[u8], from: usize, to: usize) -> Result<Vec<Box4>, String> {
    let mut out = Vec::new();
    let mut i = from;
    while i + 8 <= to {
        let size32 = u32::from_be_bytes(b[i..i + 4].try_into().map_err(|_| "a box")?) as usize;
        let kind: [u8; 4] = b[i + 4..i + 8].try_into().map_err(|_| "a box")?;
        let (header, size) = match size32 {
            0 => (8, to - i),
            1 => {
                let large = b.get(i + 8..i + 16).ok_or("a box cut short")?;
                (
                    16,
                    usize::try_from(u64::from_be_bytes(large.try_into().map_err(|_| "a box")?))
                        .map_err(|e| e.to_string())?,
                )
            }
            n => (8, n),
        };
        if size < header || size > to - i {
            return Err(format!("the box {} at byte {i} runs past its parent", String::from_utf8_lossy(&kind)));
        }
        out.push(Box4 { kind, start: i + header, end: i + size });
        i += size;
    }
    Ok(out)
}

fn find(list: &[Box4], kind: [u8; 4]) -> Option<&Box4> {
    list.iter().find(|x| x.kind == kind)
}

/// A big-endian unsigned number of `n` bytes (0, 4 or 8, as `iloc` writes them) at `*at`.
fn uint(b: &[u8], at: &mut usize, n: usize) -> Result<u64, String> {
    let bytes = b.get(*at..*at + n).ok_or("the item locations are cut short")?;
    *at += n;
    Ok(bytes.iter().fold(0u64, |v, x| (v << 8) | u64::from(*x)))
}

/// The items whose bytes are metadata: EXIF, and XMP (a `mime` item of an XML type).
fn metadata_items(b: &[u8], iinf: &Box4) -> Result<Vec<(u32, bool)>, String> {
    let version = *b.get(iinf.start).ok_or("iinf")?;
    let first = iinf.start + 4 + if version == 0 { 2 } else { 4 };
    let mut out = Vec::new();
    for infe in boxes(b, first, iinf.end)?.iter().filter(|x| &x.kind == b"infe") {
        let v = *b.get(infe.start).ok_or("infe")?;
        if v < 2 {
            continue;
        }
        let mut at = infe.start + 4;
        let id = uint(b, &mut at, if v == 2 { 2 } else { 4 })? as u32;
        at += 2;
        let kind = b.get(at..at + 4).ok_or("infe")?;
        at += 4;
        let rest = b.get(at..infe.end).unwrap_or_default();
        let mut strings = rest.split(|c| *c == 0);
        let _name = strings.next();
        if kind == b"Exif" {
            out.push((id, true));
        } else if kind == b"mime"
            && strings.next().is_some_and(|t| t.windows(3).any(|w| w.eq_ignore_ascii_case(b"xml")))
        {
            out.push((id, false));
        }
    }
    Ok(out)
}

/// Where the bytes of each of `items` are in the file: `(item, start, end)`.
fn extents(b: &[u8], iloc: &Box4, idat: Option<&Box4>, items: &[u32]) -> Result<Vec<(u32, usize, usize)>, String> {
    let version = *b.get(iloc.start).ok_or("iloc")?;
    let mut at = iloc.start + 4;
    let sizes = uint(b, &mut at, 2)?;
    let (offset_size, length_size) = ((sizes >> 12) as usize, ((sizes >> 8) & 15) as usize);
    let (base_size, index_size) = (((sizes >> 4) & 15) as usize, if version >= 1 { (sizes & 15) as usize } else { 0 });
    let count = uint(b, &mut at, if version < 2 { 2 } else { 4 })?;
    let mut out = Vec::new();
    for _ in 0..count {
        let id = uint(b, &mut at, if version < 2 { 2 } else { 4 })? as u32;
        let method = if version >= 1 { uint(b, &mut at, 2)? & 15 } else { 0 };
        at += 2;
        let base = uint(b, &mut at, base_size)? as usize;
        let n = uint(b, &mut at, 2)?;
        for _ in 0..n {
            at += index_size;
            let offset = base.saturating_add(uint(b, &mut at, offset_size)? as usize);
            let length = uint(b, &mut at, length_size)? as usize;
            if !items.contains(&id) {
                continue;
            }
            let (start, limit) = match (method, idat) {
                (0, _) => (offset, b.len()),
                (1, Some(d)) => (d.start + offset, d.end),
                _ => return Err(format!("item {id}'s bytes are where this reader does not look (method {method})")),
            };
            let end = if length == 0 { limit } else { start.saturating_add(length) };
            if start > end || end > limit {
                return Err(format!("item {id}'s bytes run past the end"));
            }
            out.push((id, start, end));
        }
    }
    Ok(out)
}

/// `b` (a HEIF file) with its EXIF and XMP items written over; the orientation, in the
/// picture's properties, is kept.
pub(crate) fn strip(b: &[u8]) -> Result<Vec<u8>, String> {
    let top = boxes(b, 0, b.len())?;
    let meta = find(&top, *b"meta").ok_or("no meta box: not a HEIF picture")?;
    let inside = boxes(b, meta.start + 4, meta.end)?;
    find(&inside, *b"pitm").ok_or("no primary picture (pitm)")?;
    let iloc = find(&inside, *b"iloc").ok_or("no item locations (iloc)")?;
    let items = match find(&inside, *b"iinf") {
        Some(iinf) => metadata_items(b, iinf)?,
        None => return Err("no item list (iinf)".into()),
    };
    let ids: Vec<u32> = items.iter().map(|i| i.0).collect();
    let mut out = b.to_vec();
    for (id, start, end) in extents(b, iloc, find(&inside, *b"idat"), &ids)? {
        let exif = items.iter().any(|i| i.0 == id && i.1);
        // EXIF: its TIFF header's offset (0), then a TIFF structure with no entry; XMP: an
        // empty packet; spaces or zeros after either.
        let (blank, pad): (&[u8], u8) = if exif {
            (b"\0\0\0\0MM\0*\0\0\0\x08\0\0\0\0\0\0", 0)
        } else {
            (b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>", b' ')
        };
        let region = &mut out[start..end];
        region.fill(pad);
        if region.len() >= blank.len() {
            region[..blank.len()].copy_from_slice(blank);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: [u8; 4], content: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(content.len() + 8).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(&kind);
        b.extend_from_slice(content);
        b
    }

    fn full(kind: [u8; 4], version: u8, content: &[u8]) -> Vec<u8> {
        let mut c = vec![version, 0, 0, 0];
        c.extend_from_slice(content);
        boxed(kind, &c)
    }

    fn infe(id: u16, kind: [u8; 4], extra: &[u8]) -> Vec<u8> {
        let mut c = id.to_be_bytes().to_vec();
        c.extend_from_slice(&[0, 0]);
        c.extend_from_slice(&kind);
        c.extend_from_slice(b"\0");
        c.extend_from_slice(extra);
        full(*b"infe", 2, &c)
    }

    /// A HEIF file as a phone lays it out: ftyp, meta (pitm, iinf, iloc with 4-byte offsets and
    /// lengths, an irot), then mdat holding the picture's bytes, an EXIF block naming its GPS
    /// position and an XMP packet naming the phone's owner.
    fn heic() -> Vec<u8> {
        let picture = b"HEVC-PICTURE-BYTES".to_vec();
        let exif = b"\0\0\0\x06Exif\0\0MM\0*GPS 48.8915N 2.3490E".to_vec();
        let xmp = b"<x:xmpmeta><dc:creator>Bob</dc:creator></x:xmpmeta>".to_vec();
        let ftyp = boxed(*b"ftyp", b"heic\0\0\0\0mif1heic");
        let build = |mdat_at: u32| {
            let mut iinf = 3u16.to_be_bytes().to_vec();
            iinf.extend(infe(1, *b"hvc1", b""));
            iinf.extend(infe(2, *b"Exif", b""));
            iinf.extend(infe(3, *b"mime", b"application/rdf+xml\0"));
            let mut iloc = vec![0x44, 0x00];
            iloc.extend_from_slice(&3u16.to_be_bytes());
            let mut at = mdat_at + 8;
            for (id, bytes) in [(1u16, &picture), (2, &exif), (3, &xmp)] {
                iloc.extend_from_slice(&id.to_be_bytes());
                iloc.extend_from_slice(&0u16.to_be_bytes());
                iloc.extend_from_slice(&1u16.to_be_bytes());
                iloc.extend_from_slice(&at.to_be_bytes());
                iloc.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_be_bytes());
                at += u32::try_from(bytes.len()).unwrap();
            }
            let mut meta = full(*b"hdlr", 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
            meta.extend(full(*b"pitm", 0, &1u16.to_be_bytes()));
            meta.extend(full(*b"iinf", 0, &iinf));
            meta.extend(full(*b"iloc", 1, &{
                // Version 1: a construction method (0, in the file) per item.
                let mut v1 = iloc[..4].to_vec();
                let mut rest = &iloc[4..];
                while !rest.is_empty() {
                    v1.extend_from_slice(&rest[..2]);
                    v1.extend_from_slice(&[0, 0]);
                    v1.extend_from_slice(&rest[2..14]);
                    rest = &rest[14..];
                }
                v1
            }));
            meta.extend(boxed(*b"iprp", &boxed(*b"ipco", &boxed(*b"irot", &[1]))));
            full(*b"meta", 0, &meta)
        };
        let probe = build(0);
        let mdat_at = u32::try_from(ftyp.len() + probe.len()).unwrap();
        let mut mdat = picture.clone();
        mdat.extend_from_slice(&exif);
        mdat.extend_from_slice(&xmp);
        let mut out = ftyp;
        out.extend(build(mdat_at));
        out.extend(boxed(*b"mdat", &mdat));
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn the_exif_and_xmp_items_are_written_over_in_place() {
        let sent = heic();
        // The end-to-end tests send the same file.
        assert_eq!(sent, include_bytes!("../../tests/fixtures/photo-with-exif.heic"));
        let out = strip(&sent).unwrap();
        assert_eq!(out.len(), sent.len(), "no offset moves");
        for said in [&b"GPS 48.8915N"[..], b"Bob"] {
            assert!(contains(&sent, said) && !contains(&out, said), "{}", String::from_utf8_lossy(said));
        }
        // The picture and its rotation stay.
        assert!(contains(&out, b"HEVC-PICTURE-BYTES") && contains(&out, b"irot"));
        assert!(contains(&out, b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>"));
    }

    #[test]
    fn a_file_that_is_not_a_heif_picture_is_refused() {
        assert!(strip(&boxed(*b"ftyp", b"heic\0\0\0\0")).unwrap_err().contains("meta"));
        let mut cut = heic();
        cut.truncate(cut.len() - 30);
        assert!(strip(&cut).is_err(), "an item past the end");
        // A box claiming the largest size there is (a 64-bit length): refused, not wrapped.
        let mut huge = boxed(*b"ftyp", b"heic\0\0\0\0");
        huge.extend_from_slice(&[0, 0, 0, 1]);
        huge.extend_from_slice(b"meta");
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(strip(&huge).unwrap_err().contains("runs past"));
        // Every byte of the file cut off in turn, and every byte changed: an error or a file,
        // never a panic.
        let whole = heic();
        for n in 0..whole.len() {
            let _ = strip(&whole[..n]);
            let mut bent = whole.clone();
            bent[n] ^= 0xFF;
            let _ = strip(&bent);
        }
    }
}
