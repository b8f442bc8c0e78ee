//! Zipped Shapefiles, as SIG officers send them: the one Shapefile in a zip (its `.shp`, `.shx`,
//! `.dbf`, `.prj`, `.cpg`) unpacked under one stem, so that the reader finds its siblings;
//! macOS resource forks skipped; a zip holding two Shapefiles refused rather than one half of
//! each read. What is unpacked is bounded before anything is written: the sizes the archive
//! declares must fit the budget, each entry may not unpack to more than it declares (a zip
//! bomb that lies stops there), and the `.dbf` must be the size its own header and the
//! `.shp`'s shapes account for (a 3 GB table beside one shape is refused unread).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// Whether the file at `path` is a zip archive (by its first bytes, whatever its name).
#[must_use]
pub fn is_zip(path: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == *b"PK\x03\x04"
}

/// The entry of the Shapefile at `index` of the zip, with its extension.
struct Entry {
    index: usize,
    name: String,
    ext: String,
    declared: u64,
}

/// Unpacks the one Shapefile of the zip at `archive` into `dir` as `upload.*`, at most
/// `budget` bytes in all; the path of its `.shp`.
///
/// # Errors
/// Not a zip, no or several Shapefiles, sizes past the budget or not what the files say.
pub fn unzip_shapefile(archive: &Path, dir: &Path, budget: u64) -> Result<PathBuf> {
    let bad = |reason: String| IoError::Archive { path: archive.to_path_buf(), reason };
    let too_large = || IoError::ArchiveTooLarge { path: archive.to_path_buf(), limit_mb: budget >> 20 };
    let file = std::fs::File::open(archive).map_err(|source| IoError::Open { path: archive.to_path_buf(), source })?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| bad(format!("not a zip file: {e}")))?;
    // First the directory: which entries, under one stem, and the sizes they declare.
    let mut stem: Option<String> = None;
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| bad(format!("zip entry {i}: {e}")))?;
        let Some(path) = f.enclosed_name() else { continue };
        if path.components().any(|c| c.as_os_str() == "__MACOSX") {
            continue;
        }
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        if name.starts_with("._") {
            continue;
        }
        let lower = name.to_lowercase();
        let Some((this_stem, ext)) = lower.rsplit_once('.') else { continue };
        if !matches!(ext, "shp" | "dbf" | "prj" | "cpg" | "shx") {
            continue;
        }
        match &stem {
            Some(s) if s != this_stem => {
                return Err(bad(format!(
                    "the zip holds more than one Shapefile ({s} and {this_stem}): send one per file"
                )));
            }
            _ => stem = Some(this_stem.to_owned()),
        }
        entries.push(Entry { index: i, name, ext: ext.to_owned(), declared: f.size() });
    }
    let declared: u64 = entries.iter().map(|e| e.declared).fold(0, u64::saturating_add);
    if declared > budget {
        return Err(too_large());
    }
    // The table last, once the shapes it describes are known.
    entries.sort_by_key(|e| e.ext == "dbf");
    let mut shp: Option<PathBuf> = None;
    let mut left = budget;
    for e in entries {
        let mut f = zip.by_index(e.index).map_err(|x| bad(format!("zip entry {}: {x}", e.index)))?;
        let out_path = dir.join(format!("upload.{}", e.ext));
        let mut head = Vec::new();
        if e.ext == "shp" {
            f.by_ref().take(100).read_to_end(&mut head).map_err(|x| bad(format!("{}: {x}", e.name)))?;
            crate::shp::check_shp_header(Path::new(&e.name), &head, e.declared)?;
        }
        if e.ext == "dbf" {
            f.by_ref().take(32).read_to_end(&mut head).map_err(|x| bad(format!("{}: {x}", e.name)))?;
            let expected = crate::shp::dbf_expected_size(Path::new(&e.name), &head)?;
            if e.declared > expected {
                return Err(bad(format!(
                    "{}: {} bytes, but its header accounts for at most {expected}: a damaged or altered table, not unpacked",
                    e.name, e.declared
                )));
            }
            if let Some(shp) = &shp {
                let shapes = crate::shp::shape_count(shp)?;
                let records = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
                if records > shapes {
                    return Err(bad(format!(
                        "{}: {records} records for {shapes} shapes: the table does not belong with the .shp",
                        e.name
                    )));
                }
            }
        }
        let mut out =
            std::fs::File::create(&out_path).map_err(|source| IoError::Write { path: out_path.clone(), source })?;
        std::io::Write::write_all(&mut out, &head)
            .map_err(|source| IoError::Write { path: out_path.clone(), source })?;
        // No more than the entry declares (and the budget), whatever its compressed data holds.
        let allowed = e.declared.min(left).saturating_sub(head.len() as u64);
        let copied =
            std::io::copy(&mut f.by_ref().take(allowed + 1), &mut out).map_err(|x| bad(format!("{}: {x}", e.name)))?;
        if copied > allowed {
            return Err(if e.declared > left {
                too_large()
            } else {
                bad(format!("{}: unpacks to more than the size it declares", e.name))
            });
        }
        left -= copied + head.len() as u64;
        if e.ext == "shp" {
            shp = Some(out_path);
        }
    }
    shp.ok_or_else(|| bad("the zip file holds no .shp".to_owned()))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    /// A `.shp` of `size` bytes whose header says `said` bytes.
    fn shp(said: usize, size: usize) -> Vec<u8> {
        let mut b = vec![0u8; size];
        b[0..4].copy_from_slice(&9994i32.to_be_bytes());
        b[24..28].copy_from_slice(&i32::try_from(said / 2).unwrap().to_be_bytes());
        b
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        buf.into_inner()
    }

    fn unzip(bytes: &[u8], budget: u64) -> Result<PathBuf> {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("in.zip");
        std::fs::write(&archive, bytes).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let got = unzip_shapefile(&archive, &out, budget);
        let written: u64 = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.metadata().unwrap().len()).sum();
        assert!(written <= budget, "{written} bytes written for a budget of {budget}");
        got
    }

    #[test]
    fn sizes_are_checked_before_anything_is_written() {
        // Declared sizes past the budget: refused before unpacking.
        let e = unzip(&zip_of(&[("a.shp", &shp(4000, 4000))]), 1000).unwrap_err();
        assert!(matches!(e, IoError::ArchiveTooLarge { .. }), "{e}");
        // A .shp whose header disagrees with its size, or that is not a Shapefile.
        let e = unzip(&zip_of(&[("a.shp", &shp(200, 1000))]), 1 << 20).unwrap_err().to_string();
        assert!(e.contains("a.shp: its header says 200 bytes, the file holds 1000"), "{e}");
        let e = unzip(&zip_of(&[("a.shp", &[0u8; 1000])]), 1 << 20).unwrap_err().to_string();
        assert!(e.contains("not a Shapefile"), "{e}");
        // A table announcing more records than there are shapes (none here).
        let mut dbf = vec![0u8; 33 + 10 * 5];
        dbf[4..8].copy_from_slice(&10u32.to_le_bytes());
        dbf[8..10].copy_from_slice(&33u16.to_le_bytes());
        dbf[10..12].copy_from_slice(&5u16.to_le_bytes());
        let e = unzip(&zip_of(&[("a.shp", &shp(100, 100)), ("a.dbf", &dbf)]), 1 << 20).unwrap_err().to_string();
        assert!(e.contains("a.dbf: 10 records for 0 shapes"), "{e}");
        // A table larger than its header accounts for.
        let mut big = dbf.clone();
        big[4..8].copy_from_slice(&0u32.to_le_bytes());
        big.resize(33 + 100_000, b' ');
        let e = unzip(&zip_of(&[("a.shp", &shp(100, 100)), ("a.dbf", &big)]), 1 << 20).unwrap_err().to_string();
        assert!(e.contains("its header accounts for at most"), "{e}");
    }

    #[test]
    fn an_entry_unpacking_to_more_than_it_declares_stops_there() {
        // A .shp of 1,000 bytes whose zip entry (and header) claim 200: a lying zip bomb.
        let mut bytes = zip_of(&[("a.shp", &shp(200, 1000))]);
        let set = |bytes: &mut Vec<u8>, at: usize| bytes[at..at + 4].copy_from_slice(&200u32.to_le_bytes());
        set(&mut bytes, 22);
        let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        set(&mut bytes, central + 24);
        let e = unzip(&bytes, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("a.shp: unpacks to more than the size it declares"), "{e}");
    }
}
