//! A layer update sent over the network (an HTTP upload): GeoJSON, a PPM CSV or a zipped
//! Shapefile, received piece by piece into a temporary folder of its own ([`Received`], never
//! whole in memory, refused past its size limit), imported as one new version recorded with who
//! sent it, and the folder removed whatever the outcome; a folder a killed process left behind
//! is removed at the next start ([`crate::temporary::sweep`]). What the person is told names the file
//! as they sent it, never the server's temporary folder.

use std::io::Write as _;
use std::path::PathBuf;

use domania_core::Layer;
use domania_io::geometry::InvalidPolicy;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::import::{ImportOutcome, ImportRequest, read_options};

/// A file being received, in a temporary folder removed when this is dropped.
#[derive(Debug)]
pub struct Received {
    dir: tempfile::TempDir,
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    written: u64,
    limit: u64,
    head: Vec<u8>,
}

impl Received {
    /// A new file, refused past `limit` bytes.
    ///
    /// # Errors
    /// The temporary folder cannot be made.
    pub fn new(limit: u64) -> Result<Self> {
        let dir = crate::temporary::dir(crate::temporary::UPLOAD)?;
        let path = dir.path().join("received");
        let file = std::fs::File::create(&path)
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("a file for the upload: {e}")))?;
        Ok(Self {
            dir,
            path,
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            written: 0,
            limit,
            head: Vec::new(),
        })
    }

    /// Appends a piece of the file.
    ///
    /// # Errors
    /// `upload_too_large` past the limit (what was received is then removed), or the disk.
    pub fn write(&mut self, piece: &[u8]) -> Result<()> {
        self.written += piece.len() as u64;
        if self.written > self.limit {
            return Err(AppError::said(
                ErrorCode::UploadTooLarge,
                "error-upload-too-large",
                vec![("mb", (self.limit >> 20).to_string().into())],
            ));
        }
        if self.head.len() < 4 {
            self.head.extend(piece.iter().take(4 - self.head.len()));
        }
        self.file.write_all(piece).map_err(|e| AppError::new(ErrorCode::Internal, format!("writing the upload: {e}")))
    }

    /// The bytes received so far.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.written
    }

    /// Whether nothing was received.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }
}

/// An upload.
#[derive(Debug)]
pub struct Upload<'a> {
    pub layer: Layer,
    pub file: Received,
    /// The media type sent (`application/zip`, `text/csv`…), if any.
    pub content_type: Option<&'a str>,
    /// What the file replaces (`commune`, `departement=75`…), as `domania import --scope`.
    pub scope: Option<&'a str>,
    pub force: bool,
    pub skip_invalid: bool,
    /// A source CRS overriding the file's.
    pub crs: Option<&'a str>,
    /// The token that sent it.
    pub author: &'a str,
    /// The most bytes a zipped Shapefile may unpack to.
    pub unpack_budget: u64,
}

/// The name the upload's file is given: what the readers expect of its format.
fn file_name(up: &Upload<'_>) -> &'static str {
    let ctype = up.content_type.unwrap_or("");
    if up.file.head.starts_with(b"PK\x03\x04") || ctype.contains("zip") {
        "upload.zip"
    } else if up.layer == Layer::Owners || ctype.contains("csv") {
        "upload.csv"
    } else {
        "upload.geojson"
    }
}

impl App {
    /// Imports an upload as a new version of its layer; its folder is removed whatever the
    /// outcome.
    pub fn import_upload(&self, up: Upload<'_>) -> Result<ImportOutcome> {
        if !up.layer.is_imported() {
            return Err(AppError::said(
                ErrorCode::NotImportable,
                "error-not-importable",
                vec![("layer", crate::error::layer_arg(up.layer))],
            ));
        }
        if up.file.is_empty() {
            return Err(AppError::said(ErrorCode::EmptyUpload, "error-upload-empty", vec![]));
        }
        let name = file_name(&up);
        let Upload { file: Received { dir, path: received, file, .. }, .. } = up;
        file.into_inner()
            .map_err(std::io::IntoInnerError::into_error)
            .and_then(|f| f.sync_data())
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("writing the upload: {e}")))?;
        let path = dir.path().join(name);
        std::fs::rename(&received, &path)
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("naming the upload: {e}")))?;
        let mut req = ImportRequest::new(up.layer, &path, up.author);
        req.source_name = Some(format!("HTTP upload by {}", up.author));
        req.unpack_budget = up.unpack_budget;
        if let Some(s) = up.scope {
            let scope = s.parse().map_err(|e: String| AppError::new(ErrorCode::BadScope, e))?;
            req = req.scope(scope)?;
        }
        req.options.force = up.force;
        req.skip_invalid = up.skip_invalid;
        req.source.read = read_options(up.crs, InvalidPolicy::Repair)?;
        let folder = format!("{}/", dir.path().display());
        let outcome = self.import(&req, &|_| {}).map_err(|e| e.without(&folder));
        drop(dir);
        // The report names the file as it was sent.
        outcome.map(|mut o| {
            o.report.path = name.into();
            o
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_past_its_limit_is_refused() {
        let mut r = Received::new(10).unwrap();
        r.write(b"PK\x03\x04abc").unwrap();
        let e = r.write(b"more").unwrap_err();
        assert_eq!(e.code(), ErrorCode::UploadTooLarge);
        let dir = r.dir.path().to_path_buf();
        drop(r);
        assert!(!dir.exists(), "the folder goes with the upload");
    }
}
