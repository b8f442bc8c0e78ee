//! The photo of a report (GeoReport's `media`, sent as a multipart part): its type read from
//! its bytes (JPEG, PNG, WebP, HEIC; never from its name or the type the client declares), its
//! metadata taken out — the place, the date, the camera and the phone's owner that EXIF, XMP
//! and text chunks carry about a resident — except the orientation, which a viewer needs to
//! show it upright, and a small JPEG thumbnail for lists and emails. The image is decoded to
//! make the thumbnail, so a file that is not a readable picture is refused; decoding is bounded
//! (dimensions and memory), so a small file claiming a huge picture is refused too.
//!
//! The picture's own bytes are kept as they came (no new compression): only the segments or
//! chunks that hold metadata are left out, and the orientation is written back in a minimal
//! EXIF block. An iPhone's HEIC is not decoded (no maintained HEVC decoder in Rust): its
//! metadata items are written over in place (see `heif`), its structure checked, and it has no
//! thumbnail.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use crate::error::{AppError, ErrorCode, Result};

/// The largest photo taken, in MB (a phone's photo is 2–6 MB).
pub const MAX_PHOTO_MB: usize = 15;
/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// The widest and tallest picture decoded, in pixels (a 200-megapixel phone sensor is 16,320
/// pixels wide).
const MAX_SIDE: u32 = 20_000;
/// The most memory the decoder may take, in bytes.
const MAX_DECODE_BYTES: u64 = 1 << 30;

/// A photo as stored: the picture without its metadata, its type, and a thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// `image/jpeg`, `image/png`, `image/webp` or `image/heic`.
    pub mime: &'static str,
    pub bytes: Vec<u8>,
    /// A JPEG at most [`THUMBNAIL_SIDE`] pixels on its longest side, upright (none of a HEIC).
    pub thumbnail: Option<Vec<u8>>,
}

/// The picture types taken, read from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Png,
    WebP,
}

impl Kind {
    fn sniff(b: &[u8]) -> Option<Kind> {
        if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Kind::Png)
        } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
            Some(Kind::WebP)
        } else {
            None
        }
    }

    fn mime(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::WebP => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::WebP => ImageFormat::WebP,
        }
    }
}

/// An HEIF/HEIC file (an iPhone's photo kept as it was taken): an ISO box `ftyp` of a HEIF brand.
fn is_heif(b: &[u8]) -> bool {
    b.len() >= 12
        && &b[4..8] == b"ftyp"
        && matches!(&b[8..12], b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1")
}

/// The photo `name` (its file name as sent, for the messages) made ready to store.
///
/// # Errors
/// Larger than [`MAX_PHOTO_MB`], of a type not taken, or not a picture that decodes.
pub fn accept(name: &str, bytes: &[u8]) -> Result<Photo> {
    let shown = if name.trim().is_empty() { "media".to_owned() } else { name.to_owned() };
    if bytes.len() > MAX_PHOTO_MB * 1024 * 1024 {
        return Err(AppError::said(
            ErrorCode::UploadTooLarge,
            "error-photo-too-large",
            vec![("name", shown.into()), ("mb", MAX_PHOTO_MB.to_string().into())],
        ));
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        AppError::said(
            ErrorCode::BadUpload,
            "error-photo-unreadable",
            vec![("name", shown.clone().into()), ("reason", e.to_string().into())],
        )
    };
    if is_heif(bytes) {
        let stripped = super::heif::strip(bytes).map_err(|e| unreadable(&e))?;
        return Ok(Photo { mime: "image/heic", bytes: stripped, thumbnail: None });
    }
    let Some(kind) = Kind::sniff(bytes) else {
        let args = vec![("name", shown.clone().into())];
        return Err(AppError::said(ErrorCode::UnsupportedMediaType, "error-photo-type", args));
    };
    let (stripped, orientation) = match kind {
        Kind::Jpeg => strip_jpeg(bytes),
        Kind::Png => strip_png(bytes),
        Kind::WebP => strip_webp(bytes),
    }
    .map_err(|e| unreadable(&e))?;
    let mut reader = ImageReader::with_format(Cursor::new(&stripped), kind.format());
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut picture = reader.decode().map_err(|e| unreadable(&e))?;
    if let Some(o) = orientation.and_then(image::metadata::Orientation::from_exif) {
        picture.apply_orientation(o);
    }
    // Smaller than a thumbnail already: kept at its size, not blown up.
    let small = if picture.width().max(picture.height()) > THUMBNAIL_SIDE {
        picture.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).into_rgb8()
    } else {
        picture.into_rgb8()
    };
    let mut thumbnail = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut thumbnail, 80)
        .encode_image(&small)
        .map_err(|e| unreadable(&e))?;
    Ok(Photo { mime: kind.mime(), bytes: stripped, thumbnail: Some(thumbnail) })
}

/// The orientation (EXIF tag 0x0112, 1–8) in a TIFF structure (EXIF's body, after `Exif\0\0`).
fn tiff_orientation(t: &[u8]) -> Option<u8> {
    let big = match t.get(0..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let b: [u8; 2] = t.get(i..i + 2)?.try_into().ok()?;
        Some(if big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b: [u8; 4] = t.get(i..i + 4)?.try_into().ok()?;
        Some(if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let ifd = u32_at(4)? as usize;
    let n = usize::from(u16_at(ifd)?);
    (0..n)
        .find_map(|k| {
            let e = ifd + 2 + 12 * k;
            (u16_at(e)? == 0x0112 && u16_at(e + 2)? == 3).then(|| u16_at(e + 8)).flatten()
        })
        .and_then(|o| u8::try_from(o).ok())
        .filter(|o| (2..=8).contains(o))
}

/// A TIFF structure holding the orientation alone (big-endian, one entry in IFD0).
fn tiff_with_orientation(o: u8) -> Vec<u8> {
    let mut t = b"MM\0*".to_vec();
    t.extend_from_slice(&8u32.to_be_bytes());
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&0x0112u16.to_be_bytes());
    t.extend_from_slice(&3u16.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&u16::from(o).to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_be_bytes());
    t
}

type Stripped = std::result::Result<(Vec<u8>, Option<u8>), String>;

/// A JPEG without its metadata segments — APP1 (EXIF, XMP), APP2 but the colour profile
/// (`ICC_PROFILE`; the multi-picture index goes), APP3–APP13, APP15 and comments — wherever they
/// are, between scans too; JFIF (APP0), the colour profile and Adobe's colour transform (APP14)
/// stay, as do the tables and scans. Nothing after the end of the picture is kept: phones append
/// other pictures there (depth and gain maps), each with its own EXIF. The orientation comes back
/// in a minimal APP1.
fn strip_jpeg(b: &[u8]) -> Stripped {
    let mut out = vec![0xFF, 0xD8];
    let mut orientation = None;
    let mut i = 2;
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut in_scan = false;
    loop {
        if in_scan {
            // The scan's coded bytes, up to the next marker (0xFF not followed by a stuffed 0 or
            // a restart marker).
            let start = i;
            while i + 1 < b.len() && !(b[i] == 0xFF && b[i + 1] != 0 && !(0xD0..=0xD7).contains(&b[i + 1])) {
                i += 1;
            }
            if i + 1 >= b.len() {
                return Err("the picture has no end (EOI)".into());
            }
            kept.push(&b[start..i]);
        }
        // Fill bytes before a marker are allowed.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(i), b.get(i + 1)) else {
            return Err(format!("no JPEG marker at byte {i}"));
        };
        if marker == 0xD9 {
            kept.push(&b[i..i + 2]);
            break;
        }
        let len =
            usize::from(u16::from_be_bytes([*b.get(i + 2).ok_or("cut short")?, *b.get(i + 3).ok_or("cut short")?]));
        let seg = b.get(i..i + 2 + len).ok_or_else(|| format!("a segment at byte {i} runs past the end"))?;
        let body = &seg[4.min(seg.len())..];
        match marker {
            0xE1 if body.starts_with(b"Exif\0\0") => orientation = orientation.or_else(|| tiff_orientation(&body[6..])),
            0xE2 if body.starts_with(b"ICC_PROFILE\0") => kept.push(seg),
            0xE1..=0xED | 0xEF | 0xFE => {}
            _ => kept.push(seg),
        }
        i += 2 + len;
        // Coded bytes follow a scan's header (SOS) only.
        in_scan = marker == 0xDA;
    }
    // The JFIF header first when there is one, then the orientation, then the rest.
    let jfif = kept.first().is_some_and(|s| s.len() > 1 && s[1] == 0xE0);
    if jfif {
        out.extend_from_slice(kept[0]);
    }
    if let Some(o) = orientation {
        let mut body = b"Exif\0\0".to_vec();
        body.extend(tiff_with_orientation(o));
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&u16::try_from(body.len() + 2).unwrap_or(u16::MAX).to_be_bytes());
        out.extend(body);
    }
    for s in kept.iter().skip(usize::from(jfif)) {
        out.extend_from_slice(s);
    }
    Ok((out, orientation))
}

/// PNG chunks kept: the critical ones, and those that say how to draw (transparency, colour,
/// pixel size, animation); text, time and EXIF chunks are left out, the orientation written back
/// in a minimal `eXIf`.
const PNG_KEPT: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs",
    b"acTL", b"fcTL",
];

fn png_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&kind);
    crc.update(data);
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

fn strip_png(b: &[u8]) -> Stripped {
    let mut chunks: Vec<(&[u8], &[u8])> = Vec::new();
    let mut orientation = None;
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let data = b.get(i + 8..i + 8 + len).ok_or_else(|| format!("the chunk at byte {i} runs past the end"))?;
        if kind == b"eXIf" {
            orientation = tiff_orientation(data);
        } else if PNG_KEPT.iter().any(|k| &k[..] == kind) || kind == b"fdAT" {
            chunks.push((kind, data));
        }
        i += 12 + len;
        if kind == b"IEND" {
            break;
        }
    }
    if chunks.first().is_none_or(|c| c.0 != b"IHDR") {
        return Err("no IHDR chunk first".into());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (k, (kind, data)) in chunks.iter().enumerate() {
        let kind: [u8; 4] = (*kind).try_into().map_err(|_| "a chunk's type")?;
        png_chunk(&mut out, kind, data);
        if let Some(o) = orientation.filter(|_| k == 0) {
            png_chunk(&mut out, *b"eXIf", &tiff_with_orientation(o));
        }
    }
    Ok((out, orientation))
}

/// A WebP without its `EXIF` and `XMP ` chunks (the flags of its `VP8X` header set to match);
/// the orientation written back in a minimal `EXIF`.
fn strip_webp(b: &[u8]) -> Stripped {
    let mut chunks: Vec<(&[u8], &[u8])> = Vec::new();
    let mut orientation = None;
    let mut i = 12;
    while i + 8 <= b.len() {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let data = b.get(i + 8..i + 8 + len).ok_or_else(|| format!("the chunk at byte {i} runs past the end"))?;
        match kind {
            b"EXIF" => {
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                orientation = tiff_orientation(tiff);
            }
            b"XMP " => {}
            _ => chunks.push((kind, data)),
        }
        i += 8 + len + (len & 1);
    }
    let mut body = b"WEBP".to_vec();
    let exif = orientation.map(tiff_with_orientation);
    for (kind, data) in &chunks {
        let mut data = data.to_vec();
        if *kind == b"VP8X" && !data.is_empty() {
            // Flags: XMP (bit 2) gone, EXIF (bit 3) as written below.
            data[0] &= !0x0C;
            if exif.is_some() {
                data[0] |= 0x08;
            }
        }
        webp_chunk(&mut body, kind, &data);
    }
    // EXIF goes after the picture's chunks, and only in an extended file (with VP8X).
    if let Some(t) = exif.filter(|_| chunks.iter().any(|c| c.0 == b"VP8X")) {
        webp_chunk(&mut body, b"EXIF", &t);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend(body);
    Ok((out, orientation))
}

fn webp_chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40×20 JPEG as a phone writes them: an EXIF block with its orientation (6: turned a
    /// quarter), the owner's name ("Bob") and a GPS position, an XMP block ("Bob's phone") and
    /// a comment ("taken by Bob"). The end-to-end tests send it too.
    const SENT: &[u8] = include_bytes!("../../tests/fixtures/photo-with-exif.jpg");

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_jpeg_loses_its_metadata_but_its_orientation() {
        let sent = SENT;
        let p = accept("IMG_0001.jpg", sent).unwrap();
        assert_eq!(p.mime, "image/jpeg");
        for said in [&b"Bob"[..], b"GPS", b"xmpmeta", b"taken by"] {
            assert!(contains(sent, said));
            assert!(!contains(&p.bytes, said), "{}", String::from_utf8_lossy(said));
        }
        // The orientation is kept: the picture still decodes, and says it is turned.
        let kept = p.bytes.windows(6).position(|w| w == b"Exif\0\0").expect("an EXIF block");
        assert_eq!(tiff_orientation(&p.bytes[kept + 6..]), Some(6));
        image::load_from_memory_with_format(&p.bytes, ImageFormat::Jpeg).unwrap();
        // The thumbnail is upright: 40×20 turned a quarter is 20×40.
        let th = image::load_from_memory_with_format(p.thumbnail.as_deref().unwrap(), ImageFormat::Jpeg).unwrap();
        assert_eq!((th.width(), th.height()), (20, 40));
    }

    #[test]
    fn a_jpeg_keeps_its_colour_profile_and_loses_the_pictures_after_its_end() {
        let seg = |marker: u8, body: &[u8]| {
            let mut s = vec![0xFF, marker];
            s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
            s.extend_from_slice(body);
            s
        };
        let mut sent = SENT[..2].to_vec();
        sent.extend(seg(0xE2, b"ICC_PROFILE\0\x01\x01Display P3"));
        sent.extend(seg(0xE2, b"MPF\0II*\0 index of the depth map"));
        sent.extend_from_slice(&SENT[2..]);
        // A depth map after the end, with its own EXIF, as phones append them.
        sent.extend(seg(0xD8, b"").iter().take(2));
        sent.extend(seg(0xE1, b"Exif\0\0GPS 48.8915N of the depth map"));
        sent.extend_from_slice(&[0xFF, 0xD9]);
        let p = accept("IMG_0004.jpg", &sent).unwrap();
        assert!(contains(&p.bytes, b"Display P3"), "the colour profile stays");
        for gone in [&b"index of the depth map"[..], b"GPS 48.8915N", b"Bob"] {
            assert!(!contains(&p.bytes, gone), "{}", String::from_utf8_lossy(gone));
        }
        assert!(p.bytes.ends_with(&[0xFF, 0xD9]));
        image::load_from_memory_with_format(&p.bytes, ImageFormat::Jpeg).unwrap();
    }

    /// Every byte of a file cut off in turn, and every byte changed: an error or a photo, never
    /// a panic (a reporter's phone sends what it sends).
    #[test]
    fn a_broken_or_hostile_file_is_an_error_never_a_panic() {
        let small = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([(x * 30) as u8, (y * 30) as u8, 9]));
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(small.clone()).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let mut webp = Vec::new();
        image::DynamicImage::ImageRgb8(small).write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP).unwrap();
        for file in [SENT.to_vec(), png, webp] {
            for n in 0..file.len() {
                let _ = accept("cut", &file[..n]);
                let mut bent = file.clone();
                bent[n] ^= 0xFF;
                let _ = accept("bent", &bent);
            }
        }
    }

    #[test]
    fn a_png_and_a_webp_keep_their_picture_without_their_text() {
        let img = image::RgbaImage::from_fn(500, 300, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 7, 255]));
        let mut png = Vec::new();
        image::DynamicImage::ImageRgba8(img.clone()).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        // A text chunk after the header, as cameras and editors write them.
        let mut with_text = png[..33].to_vec();
        png_chunk(&mut with_text, *b"tEXt", b"Author\0Bob");
        with_text.extend_from_slice(&png[33..]);
        let p = accept("photo.jpg", &with_text).unwrap();
        assert_eq!(p.mime, "image/png", "the type is read from the bytes, not the name");
        assert!(contains(&with_text, b"Author") && !contains(&p.bytes, b"Author"));
        let back = image::load_from_memory_with_format(&p.bytes, ImageFormat::Png).unwrap();
        assert_eq!(back.to_rgba8(), img);
        let th = image::load_from_memory(p.thumbnail.as_deref().unwrap()).unwrap();
        assert_eq!((th.width(), th.height()), (320, 192));

        let mut webp = Vec::new();
        image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP).unwrap();
        let p = accept("photo.webp", &webp).unwrap();
        assert_eq!(p.mime, "image/webp");
        image::load_from_memory_with_format(&p.bytes, ImageFormat::WebP).unwrap();
    }

    #[test]
    fn what_is_not_a_photo_is_refused_by_its_bytes() {
        let e = accept("photo.jpg", b"<html>not a photo</html>").unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedMediaType);
        assert!(e.message().contains("photo.jpg"), "{}", e.message());
        // A HEIC brand without the boxes of a picture.
        let mut heic = vec![0, 0, 0, 24];
        heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        let e = accept("IMG_0002.HEIC", &heic).unwrap_err();
        assert!(e.code() == ErrorCode::BadUpload && e.message().contains("IMG_0002.HEIC"), "{}", e.message());
        // A JPEG cut short: the header says JPEG, the picture does not decode.
        let cut = &SENT[..300];
        assert_eq!(accept("cut.jpg", cut).unwrap_err().code(), ErrorCode::BadUpload);
        let big = vec![0xFF; MAX_PHOTO_MB * 1024 * 1024 + 1];
        assert_eq!(accept("big.jpg", &big).unwrap_err().code(), ErrorCode::UploadTooLarge);
    }
}
