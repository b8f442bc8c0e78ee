//! A layer update sent as bytes (an HTTP upload): GeoJSON, a PPM CSV or a zipped Shapefile,
//! written to a temporary folder the readers read, imported as one new version recorded with
//! who sent it, and the folder removed whatever the outcome. What the person is told names the
//! file as they sent it, never the server's temporary folder.

use std::io::Write as _;

use domania_core::Layer;
use domania_io::geometry::InvalidPolicy;

use crate::App;
use crate::error::{AppError, ErrorCode, Result};
use crate::import::{ImportOutcome, ImportRequest, read_options};

/// An upload.
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    pub layer: Layer,
    pub body: &'a [u8],
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
    if up.body.starts_with(b"PK\x03\x04") || ctype.contains("zip") {
        "upload.zip"
    } else if up.layer == Layer::Owners || ctype.contains("csv") {
        "upload.csv"
    } else {
        "upload.geojson"
    }
}

impl App {
    /// Imports an upload as a new version of its layer.
    pub fn import_upload(&self, up: &Upload<'_>) -> Result<ImportOutcome> {
        if !up.layer.is_imported() {
            return Err(AppError::new(
                ErrorCode::NotImportable,
                format!("the {} layer is computed, not uploaded", up.layer),
            ));
        }
        if up.body.is_empty() {
            return Err(AppError::new(ErrorCode::EmptyUpload, "the request has no body: send the file as the body"));
        }
        let dir = tempfile::Builder::new()
            .prefix("domania-upload-")
            .tempdir()
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("a folder for the upload: {e}")))?;
        let name = file_name(up);
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(up.body))
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("writing the upload: {e}")))?;
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
        // The report names the file as it was sent.
        outcome.map(|mut o| {
            o.report.path = name.into();
            o
        })
    }
}
