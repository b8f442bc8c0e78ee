//! Reading files into the store: a new version of a layer per import, or a validation report
//! without importing.
//!
//! An import runs on three threads: a reader parses, validates, reprojects and encodes the
//! rows and sends them in batches; the calling thread writes them into the store's import
//! transaction; a third hashes the file. The transaction commits only if the reader's report
//! and the import's scope checks allow it: a refused import writes nothing.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use domania_core::Layer;
use domania_core::crs::Crs;
use domania_core::parts::{part_of, parts_of_source};
use domania_io::features::ReadOptions;
pub use domania_io::geometry::IN_REPAIR;
use domania_io::geometry::InvalidPolicy;
pub use domania_io::report::ValidationReport;
use domania_store::{ImportMeta, ImportOptions, Row, Scope, Store, VersionInfo, owner_rows, parcel_row, perimeter_row};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::App;
use crate::error::{AppError, Context as _, ErrorCode, Result};

/// A file to read and how.
#[derive(Debug, Clone)]
pub struct Source {
    pub layer: Layer,
    pub file: PathBuf,
    /// More owner files read with `file` as one (the parts of a département's owner file); an
    /// owners `file` that is a folder means its `.csv` and `.txt` files.
    pub more: Vec<PathBuf>,
    /// The owner files are the last part of their département's file: no part follows, so
    /// their last commune is whole (see [`domania_core::parts`]).
    pub last_part: bool,
    /// Owner rows already in the store that these parts continue: the rows of a commune that
    /// straddles the previous (or next) part, kept beside the new ones (filled by the import).
    pub carry: Vec<Row>,
    pub read: ReadOptions,
    /// PPM text encoding overriding detection (`utf-8`, `latin1`, `windows-1252`).
    pub encoding: Option<String>,
}

impl Source {
    /// A file read with the default options.
    #[must_use]
    pub fn new(layer: Layer, file: impl Into<PathBuf>) -> Self {
        Self {
            layer,
            file: file.into(),
            more: Vec::new(),
            last_part: false,
            carry: Vec::new(),
            read: ReadOptions::default(),
            encoding: None,
        }
    }

    /// The files read: `file` and `more`, or an owners folder's `.csv`/`.txt` files; parts of a
    /// split owner file in the order of their numbers.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for f in std::iter::once(&self.file).chain(&self.more) {
            if self.layer == Layer::Owners && f.is_dir() {
                let unreadable = |e: std::io::Error| {
                    AppError::new(ErrorCode::FileUnreadable, format!("reading {}: {e}", f.display()))
                };
                let mut inside: Vec<PathBuf> = std::fs::read_dir(f)
                    .map_err(unreadable)?
                    .map(|e| e.map(|e| e.path()).map_err(unreadable))
                    .collect::<Result<Vec<_>>>()?;
                inside.retain(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| ["csv", "txt"].contains(&e.to_ascii_lowercase().as_str()))
                });
                inside.sort();
                if inside.is_empty() {
                    return Err(AppError::new(
                        ErrorCode::FileUnreadable,
                        format!("{}: no owner file (.csv, .txt) in this folder", f.display()),
                    ));
                }
                files.extend(inside);
            } else {
                files.push(f.clone());
            }
        }
        if files.len() > 1 && self.layer != Layer::Owners {
            return Err(AppError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "the {} layer is imported from one file at a time; several files are for owner files in parts",
                    self.layer
                ),
            ));
        }
        let part = |p: &PathBuf| part_of(&p.display().to_string());
        if files.iter().all(|f| part(f).is_some()) {
            files.sort_by_key(|f| part(f));
        }
        Ok(files)
    }

    /// How the version's provenance names what was read: the file, or the files joined
    /// ([`domania_core::parts::JOINED`]), marked when declared the last part.
    #[must_use]
    pub fn name(&self, files: &[PathBuf]) -> String {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let mut name = names.join(domania_core::parts::JOINED);
        if self.last_part {
            name.push_str(domania_core::parts::LAST_PART);
        }
        name
    }
}

/// How to read coordinates: a CRS overriding the file's, and what to do with invalid polygons.
pub fn read_options(crs: Option<&str>, invalid: InvalidPolicy) -> Result<ReadOptions> {
    let crs = crs
        .map(|c| {
            Crs::parse(c).ok_or_else(|| {
                AppError::new(
                    ErrorCode::UnknownCrs,
                    format!("--crs {c}: unknown or unsupported CRS (supported: {})", domania_core::crs::SUPPORTED),
                )
            })
        })
        .transpose()?;
    Ok(ReadOptions { crs, invalid, reject_overlaps: false })
}

/// An import: a file, the layer it goes to, and the store's policy.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub source: Source,
    pub options: ImportOptions,
    /// Import the valid features even when some are rejected (they are listed in the report
    /// stored with the version). Without it, any rejection aborts and nothing is written.
    pub skip_invalid: bool,
    /// Who imports.
    pub author: String,
    /// How the version's provenance names the file (default: its path), e.g. `HTTP upload by
    /// sig-officer` for a file the server wrote to a temporary folder.
    pub source_name: Option<String>,
    /// The most bytes a zipped Shapefile may unpack to.
    pub unpack_budget: u64,
}

/// The default of [`ImportRequest::unpack_budget`]: a département's Shapefile is a few GB at
/// most; a zip that unpacks to more is refused before it fills the disk.
pub const UNPACK_BUDGET: u64 = 16 << 30;

/// A source whose zipped Shapefile is unpacked into a folder that lives as long as the source
/// is read (`None`: the source as it is).
fn unpacked(source: &Source, budget: u64) -> Result<(Source, Option<tempfile::TempDir>)> {
    if !domania_io::archive::is_zip(&source.file) {
        return Ok((source.clone(), None));
    }
    let dir = crate::temporary::dir(crate::temporary::UNZIP)?;
    let shp = domania_io::archive::unzip_shapefile(&source.file, dir.path(), budget)?;
    Ok((Source { file: shp, ..source.clone() }, Some(dir)))
}

impl ImportRequest {
    /// An import of `file` into `layer` with the default policy of the layer.
    #[must_use]
    pub fn new(layer: Layer, file: impl Into<PathBuf>, author: &str) -> Self {
        Self {
            source: Source::new(layer, file),
            options: ImportOptions::for_layer(layer),
            skip_invalid: false,
            author: author.to_owned(),
            source_name: None,
            unpack_budget: UNPACK_BUDGET,
        }
    }

    /// Replaces `scope` instead of the layer's default, once it is checked against the layer.
    pub fn scope(mut self, scope: Scope) -> Result<Self> {
        scope.check(self.source.layer)?;
        self.options.scope = scope;
        Ok(self)
    }
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Progress {
    /// Rows written into the import transaction so far.
    Rows { rows: u64 },
    /// Every row is in; the version is being committed.
    Committing { rows: u64 },
}

/// A committed (or unchanged) import and the validation report of its file.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub version: VersionInfo,
    pub report: ValidationReport,
    /// After an owners import, the communes only partly covered by the owner files loaded
    /// (see [`domania_store::Store::owner_partly_covered`]): their parcels without an owner
    /// row are of unknown owner until the rest of the file arrives.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partly_covered: Vec<String>,
}

/// Rows travel from the reader thread to the writer in batches: one channel operation per
/// batch, not per row.
const BATCH: usize = 512;

/// The threads of an import: the rows the reader sends, the reader, the file's hash.
type Workers = (
    std::sync::mpsc::Receiver<Vec<Row>>,
    std::thread::JoinHandle<Result<ValidationReport>>,
    std::thread::JoinHandle<Result<String>>,
);

fn joined<T>(h: std::thread::JoinHandle<Result<T>>, what: &str) -> Result<T> {
    h.join().map_err(|_| AppError::new(ErrorCode::Internal, format!("the {what} thread panicked")))?
}

impl App {
    /// Imports a file as a new version of a layer, creating the store when nothing is at its
    /// path. `progress` is called on the calling thread as rows are written.
    pub fn import(&self, request: &ImportRequest, progress: &dyn Fn(Progress)) -> Result<ImportOutcome> {
        // Edits saved in QGIS and not yet a version become one first: this import then
        // replaces them knowingly, and they stay in the history. (A server and every command
        // make them versions as they come; this closes the moment between.)
        if request.source.layer.is_edited() && request.options.absorb.is_none() {
            self.absorb_edits()?;
        }
        let (mut source, _unpacked) = unpacked(&request.source, request.unpack_budget)?;
        let files = source.files()?;
        if source.layer == Layer::Owners {
            source.carry = self.carried_rows(&files)?;
        }
        let named;
        let request = if request.source_name.is_none() && (files.len() > 1 || source.last_part) {
            named = ImportRequest { source_name: Some(source.name(&files)), ..request.clone() };
            &named
        } else {
            request
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Row>>(16);
        let reader = {
            let source = source.clone();
            std::thread::spawn(move || -> Result<ValidationReport> {
                // A send fails only when the writer gave up; its error is the one reported.
                let mut batch = Vec::with_capacity(BATCH);
                let report = read_rows(&source, |row| {
                    batch.push(row);
                    if batch.len() == BATCH {
                        drop(tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))));
                    }
                })?;
                drop(tx.send(batch));
                Ok(report)
            })
        };
        let hasher = std::thread::spawn(move || {
            if files.len() == 1 {
                return sha256(&files[0]);
            }
            // Several files: the hash of their hashes, in the order read.
            let mut h = Sha256::new();
            for f in &files {
                h.update(sha256(f)?.as_bytes());
            }
            Ok(hex(&h.finalize()))
        });
        // Opened once the reader runs: creating a new GeoPackage overlaps with parsing.
        let mut store = match self.open_create(false) {
            Ok(s) => s,
            Err(e) => {
                drop(rx);
                // The reader's error (wrong file) says more than the store's when both fail.
                joined(reader, "reader")?;
                return Err(e);
            }
        };
        let result = import_into(&mut store, request, (rx, reader, hasher), progress);
        if result.is_err() {
            // A store this import created and wrote nothing into goes away: no empty file left.
            store.discard_if_new();
        }
        result
    }

    /// The owner rows already in the store that the parts in `files` continue: where the part
    /// before the first one (or after the last one) is loaded, the rows of its commune at that
    /// edge, which the new parts may hold the rest of (the cut of a split file falls inside a
    /// commune). Kept beside the new rows rather than replaced by them.
    fn carried_rows(&self, files: &[PathBuf]) -> Result<Vec<Row>> {
        let parts: Vec<_> = files.iter().filter_map(|f| part_of(&f.display().to_string())).collect();
        let (Some(first), Some(last)) = (parts.iter().min(), parts.iter().max()) else { return Ok(Vec::new()) };
        let Ok(store) = self.open_read() else { return Ok(Vec::new()) };
        let Some(Some(version)) = store.versions()?.get(&Layer::Owners).copied() else { return Ok(Vec::new()) };
        let mut by_source: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
        for (commune, source) in store.commune_sources(Layer::Owners)? {
            by_source.entry(source).or_default().push(commune);
        }
        let mut wanted = std::collections::BTreeSet::new();
        for (source, communes) in &by_source {
            let theirs = parts_of_source(source);
            if theirs.iter().any(|p| p.series == first.series && p.number + 1 == first.number) {
                wanted.extend(communes.iter().max().cloned());
            }
            if theirs.iter().any(|p| p.series == last.series && p.number == last.number + 1) {
                wanted.extend(communes.iter().min().cloned());
            }
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        Ok(store
            .rows_at(Layer::Owners, version)?
            .into_iter()
            .filter(|r| r.key.get(0..5).is_some_and(|c| wanted.contains(c)))
            .collect())
    }

    /// Reads a file as an import would, without importing it: its validation report. A file
    /// with rejections is not an error here; the report says what they are.
    pub fn validate(&self, source: &Source) -> Result<ValidationReport> {
        let (source, _unpacked) = unpacked(source, UNPACK_BUDGET)?;
        read_rows(&source, |_| {})
    }

    /// Creates an empty store (with `adopt`, adds Domania's layers to a GeoPackage of yours).
    pub fn init(&self, adopt: bool) -> Result<Vec<domania_store::LayerSummary>> {
        Ok(self.open_create(adopt)?.layers()?)
    }
}

fn import_into(
    store: &mut Store,
    request: &ImportRequest,
    (rx, reader, hasher): Workers,
    progress: &dyn Fn(Progress),
) -> Result<ImportOutcome> {
    let file = &request.source.file;
    let nothing = || format!("importing {}; nothing was imported", file.display());
    let mut itx = match store.begin_import(request.source.layer, request.options.clone()) {
        Ok(t) => t,
        Err(e) => {
            drop(rx);
            joined(reader, "reader")?;
            return Err(e.into());
        }
    };
    let mut written = 0u64;
    let mut write_error = None;
    'batches: for batch in &rx {
        for row in batch {
            if let Err(e) = itx.push(row) {
                write_error = Some(e);
                break 'batches;
            }
            written += 1;
        }
        progress(Progress::Rows { rows: written });
    }
    drop(rx);
    let report = joined(reader, "reader")?;
    let digest = joined(hasher, "hashing")?;
    if let Some(e) = write_error {
        return Err(AppError::from(e).context(nothing()));
    }
    if !report.is_clean() && !request.skip_invalid {
        let said = vec![("file", file.display().to_string().into()), ("count", report.rejected.into())];
        return Err(AppError::said(ErrorCode::FeaturesRejected, "error-features-rejected", said).with_report(report));
    }
    progress(Progress::Committing { rows: written });
    let meta = ImportMeta {
        author: request.author.clone(),
        source: request.source_name.clone().unwrap_or_else(|| file.display().to_string()),
        source_sha256: Some(digest),
        rejected: report.rejected,
        repaired: report.repaired,
        report_json: Some(
            serde_json::to_string(&report).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?,
        ),
    };
    let version = itx.commit(&meta).context(nothing)?;
    let partly_covered = if request.source.layer == Layer::Owners {
        store.owner_partly_covered()?.into_iter().collect()
    } else {
        Vec::new()
    };
    Ok(ImportOutcome { version, report, partly_covered })
}

/// Reads a file for a layer, handing each store row to `on_row` as soon as it is ready (the
/// PPM file is read whole first: its SUF duplicates are collapsed across the file).
fn read_rows(source: &Source, mut on_row: impl FnMut(Row)) -> Result<ValidationReport> {
    let (layer, file, opts) = (source.layer, source.file.as_path(), source.read);
    if !layer.is_imported() {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("the {layer} layer is computed by `assign`, not imported from a file"),
        ));
    }
    let edigeo = matches!(layer, Layer::Parcels | Layer::Buildings | Layer::Sections)
        && domania_io::edigeo::looks_like_edigeo(file);
    if !edigeo {
        for f in source.files()? {
            domania_io::sniff::check_kind(&f, layer)?;
        }
    }
    let ctx = || format!("reading {}", file.display());
    Ok(match layer {
        Layer::Parcels if edigeo => edigeo_parcels(file, opts, &mut on_row).context(ctx)?,
        Layer::Buildings | Layer::Sections if edigeo => edigeo_zones(file, opts, layer, &mut on_row).context(ctx)?,
        Layer::Parcels => {
            domania_io::cadastre::read_cadastre_with(file, opts, |p| on_row(parcel_row(&p))).context(ctx)?
        }
        Layer::Owners => {
            let forced = source
                .encoding
                .as_deref()
                .map(|e| {
                    domania_io::ppm::Encoding::for_label(e.as_bytes()).ok_or_else(|| {
                        AppError::new(ErrorCode::InvalidArgument, format!("--encoding {e}: unknown encoding"))
                    })
                })
                .transpose()?;
            let mut rights = Vec::new();
            let mut report: Option<ValidationReport> = None;
            for f in source.files()? {
                let read = domania_io::ppm::read_ppm(&f, forced).context(|| format!("reading {}", f.display()))?;
                rights.extend(read.rows);
                report = Some(match report {
                    None => read.report,
                    Some(mut r) => {
                        r.merge(read.report);
                        r
                    }
                });
            }
            let mut rows = owner_rows(rights.iter().map(|r| (&r.idu, r.right, &r.owner, r.address.as_deref())));
            carry_into(&mut rows, &source.carry);
            rows.into_iter().for_each(on_row);
            report.expect("a source names at least one file")
        }
        Layer::Addresses => {
            domania_io::ban::read_ban_with(file, |a| on_row(domania_store::address_row(&a))).context(ctx)?
        }
        _ => domania_io::perimeter::read_perimeters_with(file, layer, opts, |p| {
            let props = serde_json::to_string(&p.properties).expect("a JSON map serialises");
            on_row(perimeter_row(&p.key, p.name.as_deref(), &props, &p.geom_l93));
        })
        .context(ctx)?,
    })
}

/// The carried rows ([`Source::carry`]) of the communes the new rows hold, merged with them: a
/// right read in both parts (a parcel whose rows the cut split) counts the source rows of both.
fn carry_into(rows: &mut Vec<Row>, carry: &[Row]) {
    if carry.is_empty() {
        return;
    }
    let communes: std::collections::BTreeSet<&str> = rows.iter().filter_map(|r| r.key.get(0..5)).collect();
    let carried: Vec<&Row> = carry.iter().filter(|r| r.key.get(0..5).is_some_and(|c| communes.contains(c))).collect();
    let index: std::collections::HashMap<String, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.key.clone(), i)).collect();
    for row in carried {
        match index.get(&row.key) {
            Some(&i) => {
                if let (Some(domania_store::Value::Integer(n)), Some(domania_store::Value::Integer(m))) =
                    (rows[i].values.get_mut(7), row.values.get(7))
                {
                    *n += m;
                }
            }
            None => rows.push(row.clone()),
        }
    }
}

/// EDIGÉO sheets' parcels (a build with the `gdal` feature).
#[cfg(feature = "gdal")]
fn edigeo_parcels(
    file: &Path,
    opts: domania_io::features::ReadOptions,
    on_row: &mut impl FnMut(Row),
) -> domania_io::Result<ValidationReport> {
    domania_io::edigeo::read_edigeo_with(file, opts, |p| on_row(parcel_row(&p))).map(|(report, _)| report)
}

/// EDIGÉO sheets' buildings or sections (a build with the `gdal` feature).
#[cfg(feature = "gdal")]
fn edigeo_zones(
    file: &Path,
    opts: domania_io::features::ReadOptions,
    layer: Layer,
    on_row: &mut impl FnMut(Row),
) -> domania_io::Result<ValidationReport> {
    domania_io::edigeo::read_edigeo_zones_with(file, opts, layer, |z| {
        let props = serde_json::to_string(&z.properties).expect("a JSON map serialises");
        on_row(perimeter_row(&z.key, z.name.as_deref(), &props, &z.geom_l93));
    })
}

/// EDIGÉO needs GDAL: this build says so.
#[cfg(not(feature = "gdal"))]
fn edigeo_zones(
    file: &Path,
    _opts: domania_io::features::ReadOptions,
    _layer: Layer,
    _on_row: &mut impl FnMut(Row),
) -> domania_io::Result<ValidationReport> {
    Err(domania_io::IoError::NeedsGdal { path: file.to_path_buf(), what: "EDIGÉO" })
}

/// EDIGÉO needs GDAL: this build says so.
#[cfg(not(feature = "gdal"))]
fn edigeo_parcels(
    file: &Path,
    _opts: domania_io::features::ReadOptions,
    _on_row: &mut impl FnMut(Row),
) -> domania_io::Result<ValidationReport> {
    Err(domania_io::IoError::NeedsGdal { path: file.to_path_buf(), what: "EDIGÉO" })
}

/// The SHA-256 of a file, or of a folder's files (their relative paths and contents, in name
/// order: a folder of EDIGÉO sheets).
fn sha256(path: &Path) -> Result<String> {
    if path.is_dir() {
        let mut files = Vec::new();
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let unreadable =
                |e: std::io::Error| AppError::new(ErrorCode::FileUnreadable, format!("reading {}: {e}", dir.display()));
            for e in std::fs::read_dir(&dir).map_err(unreadable)? {
                let p = e.map_err(unreadable)?.path();
                if p.is_dir() { stack.push(p) } else { files.push(p) }
            }
        }
        files.sort();
        let mut h = Sha256::new();
        for f in files {
            h.update(f.strip_prefix(path).unwrap_or(&f).to_string_lossy().as_bytes());
            h.update(sha256_file(&f)?.as_bytes());
        }
        return Ok(hex(&h.finalize()));
    }
    sha256_file(path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut acc, b| {
        use std::fmt::Write as _;
        let _ = write!(acc, "{b:02x}");
        acc
    })
}

fn sha256_file(path: &Path) -> Result<String> {
    let unreadable =
        |e: std::io::Error| AppError::new(ErrorCode::FileUnreadable, format!("reading {}: {e}", path.display()));
    let mut f = std::fs::File::open(path).map_err(unreadable)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// What a file holds, guessed from its name (the CLI's `validate` without `--kind`).
pub fn guess_layer(file: &Path) -> Result<Layer> {
    let name = file.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    Ok(if name.ends_with(".csv") || name.ends_with(".txt") {
        Layer::Owners
    } else if name.contains("parcelle") {
        Layer::Parcels
    } else if name.contains("qp") {
        Layer::Qpv
    } else if name.contains("subsector") || name.contains("secteur") {
        Layer::Subsectors
    } else if name.contains("convention") {
        Layer::Conventions
    } else {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("{}: cannot guess what the file holds from its name; pass --kind", file.display()),
        ));
    })
}
