//! Zipped Shapefiles, as SIG officers send them: the one Shapefile in a zip (its `.shp`, `.shx`,
//! `.dbf`, `.prj`, `.cpg`) unpacked under one stem, so that the reader finds its siblings;
//! macOS resource forks skipped; a zip holding two Shapefiles refused rather than one half of
//! each read; what is unpacked bounded in bytes (a zip bomb does not get through).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// Whether the file at `path` is a zip archive (by its first bytes, whatever its name).
#[must_use]
pub fn is_zip(path: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == *b"PK\x03\x04"
}

/// Unpacks the one Shapefile of the zip at `archive` into `dir` as `upload.*`, at most
/// `budget` bytes in all; the path of its `.shp`.
pub fn unzip_shapefile(archive: &Path, dir: &Path, budget: u64) -> Result<PathBuf> {
    let bad = |reason: String| IoError::Archive { path: archive.to_path_buf(), reason };
    let file = std::fs::File::open(archive).map_err(|source| IoError::Open { path: archive.to_path_buf(), source })?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| bad(format!("not a zip file: {e}")))?;
    let mut stem: Option<String> = None;
    let mut shp = None;
    let mut left = budget;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| bad(format!("zip entry {i}: {e}")))?;
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
        let out_path = dir.join(format!("upload.{ext}"));
        let mut out =
            std::fs::File::create(&out_path).map_err(|source| IoError::Write { path: out_path.clone(), source })?;
        let copied =
            std::io::copy(&mut f.by_ref().take(left + 1), &mut out).map_err(|e| bad(format!("{name}: {e}")))?;
        if copied > left {
            return Err(IoError::ArchiveTooLarge { path: archive.to_path_buf(), limit_mb: budget >> 20 });
        }
        left -= copied;
        if ext == "shp" {
            shp = Some(out_path);
        }
    }
    shp.ok_or_else(|| bad("the zip file holds no .shp".to_owned()))
}
