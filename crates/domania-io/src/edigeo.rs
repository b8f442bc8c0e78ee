//! EDIGÉO PCI-Vecteur sheets from the DGFiP (`edigeo-DDCCCPPPSSFF.tar.bz2`, each holding a
//! `.THF` and its `.VEC`, `.GEO`, `.DIC`, `.SCD`, `.QAL` files): the parcels (`PARCELLE_id`), the
//! buildings (`BATIMENT_id`) and the sections (`SECTION_id`), read through GDAL's EDIGEO driver
//! (feature `gdal`).
//!
//! A path is one sheet (an archive, or a `.THF` in a folder named after its sheet), or a folder
//! of sheets of one or several communes. The IDU is the département (from the sheet's name: the
//! files themselves do not hold it) followed by the sheet's 12-character `IDU`; the contenance is
//! `SUPF`; the geometry goes through the same policy as every other reader, from the sheet's
//! CRS (its `.GEO` file's `RELSA`: Lambert-93 or a CC zone). A parcel found on two sheets (a
//! sheet edge) is one parcel: its pieces are joined. Each sheet's PCI-Vecteur version, export
//! date and the gap between geometric areas and `SUPF` go in the report (kept with the layer's
//! version). Without the feature, [`looks_like_edigeo`] still recognises such a path, so that the
//! error says which build reads it.

use std::path::{Path, PathBuf};

/// Whether `path` is EDIGÉO: a `.tar.bz2` sheet, a `.THF`, or a folder holding either (or a
/// sheet's `.VEC` files).
#[must_use]
pub fn looks_like_edigeo(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".tar.bz2") || name.ends_with(".thf") {
        return true;
    }
    path.is_dir()
        && std::fs::read_dir(path).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let n = e.file_name().to_string_lossy().to_lowercase();
                n.ends_with(".tar.bz2") || n.ends_with(".thf") || n.ends_with(".vec")
            })
        })
}

/// The sheet identifier in a name: 12 characters, département (2), commune (3), prefix (3),
/// section (2), sheet number (2), as in `edigeo-740240000A01.tar.bz2` or a folder `740240000A01`.
#[must_use]
pub fn sheet_id(name: &str) -> Option<String> {
    let stem = name.strip_prefix("edigeo-").unwrap_or(name);
    let stem = stem.split('.').next().unwrap_or(stem);
    let ok = stem.len() == 12
        && stem.is_ascii()
        && stem[..2].chars().all(|c| c.is_ascii_digit() || c == 'A' || c == 'B')
        && stem[2..8].chars().all(|c| c.is_ascii_digit())
        && stem[8..10].chars().all(|c| c.is_ascii_alphanumeric())
        && stem[10..].chars().all(|c| c.is_ascii_digit());
    ok.then(|| stem.to_owned())
}

/// What a sheet's `.THF` says of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SheetHeader {
    /// PCI-Vecteur export version (`3.10`), from `ADRST`.
    pub version: Option<String>,
    /// Export date (`2024-01-16`), from `TDASD`.
    pub date: Option<String>,
}

/// Reads the `TDASD` date and the PCI-Vecteur version of a `.THF` (ISO-8859-1, CRLF).
#[must_use]
pub fn parse_thf(bytes: &[u8]) -> SheetHeader {
    // Latin-1: each byte is its code point.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut h = SheetHeader::default();
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(v) = line.strip_prefix("TDASD").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim())
            && v.len() == 8
            && v.chars().all(|c| c.is_ascii_digit())
        {
            h.date = Some(format!("{}-{}-{}", &v[..4], &v[4..6], &v[6..]));
        }
        if let Some(v) = line.strip_prefix("ADRST").and_then(|r| r.split_once(':')).map(|(_, v)| v)
            && let Some(i) = v.find("version ")
        {
            let version: String =
                v[i + "version ".len()..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            let version = version.trim_end_matches('.').to_owned();
            if !version.is_empty() {
                h.version = Some(version);
            }
        }
    }
    h
}

/// The EPSG code of a `.GEO` file's reference system (`RELSA`): `LAMB93` is Lambert-93,
/// `RGF93CC42`…`RGF93CC50` the conic conformal zones.
#[must_use]
pub fn geo_epsg(bytes: &[u8]) -> Option<(String, u32)> {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let code =
        text.lines().find_map(|l| l.strip_prefix("RELSA").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim()))?;
    let epsg = match code {
        "LAMB93" => 2154,
        c => c.strip_prefix("RGF93CC").and_then(|z| z.parse::<u32>().ok()).filter(|z| (42..=50).contains(z))? + 3900,
    };
    Some((code.to_owned(), epsg))
}

/// How many `PARCELLE_id` objects a `.VEC` file declares (its `SCPCP` lines naming the
/// `PARCELLE_id` class): what GDAL must return, or the file is damaged.
#[must_use]
pub fn declared_parcels(vec_bytes: &[u8]) -> usize {
    let text: String = vec_bytes.iter().map(|&b| char::from(b)).collect();
    text.lines().filter(|l| l.starts_with("SCPCP") && l.trim_end().ends_with(";OBJ;PARCELLE_id")).count()
}

/// Whether an EDIGÉO file ends as every one does, with its `EOMT` (end of message) record: a
/// file cut short does not.
#[must_use]
pub fn is_complete(bytes: &[u8]) -> bool {
    let text: String = bytes.iter().rev().take(64).rev().map(|&b| char::from(b)).collect();
    text.trim_end().lines().last().is_some_and(|l| l.starts_with("EOMT"))
}

/// One sheet found under a path: its id and where its `.THF` is (after unpacking).
#[derive(Debug, Clone)]
pub struct SheetSource {
    pub id: String,
    /// The archive or folder it came from.
    pub origin: PathBuf,
}

/// A building or a section of EDIGÉO sheets, keyed by commune first (`74024…`, so that one
/// commune's sheets replace its own): a section by its département and `IDU` (`740240000A`), a
/// building by its commune, sheet and object (`74024:740240000A01:Objet_243903`).
#[derive(Debug, Clone)]
pub struct EdigeoZone {
    pub key: String,
    pub name: Option<String>,
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub geom_l93: geo_types::MultiPolygon<f64>,
}

#[cfg(feature = "gdal")]
pub use reader::{EdigeoRead, SheetSummary, read_edigeo, read_edigeo_with, read_edigeo_zones_with};

#[cfg(feature = "gdal")]
mod reader {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use domania_core::{Idu, Parcel};
    use gdal::vector::LayerAccess;
    use geo::{Area, BooleanOps};
    use geo_types::MultiPolygon;

    use super::{SheetHeader, declared_parcels, geo_epsg, is_complete, parse_thf, sheet_id};
    use crate::crs::Crs;
    use crate::error::{IoError, Result};
    use crate::features::ReadOptions;
    use crate::geometry::{geo_rings, rings_to_l93};
    use crate::report::{Location, Severity, ValidationReport};

    /// What a sheet gave: its header, its parcels, and how their geometric areas compare with
    /// `SUPF`.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct SheetSummary {
        pub sheet: String,
        #[serde(flatten)]
        pub header: SheetHeader,
        /// The `RELSA` code of the sheet's CRS.
        pub crs: String,
        pub parcels: usize,
        /// The median of |geometric area − SUPF| / SUPF over the sheet's parcels.
        pub median_area_gap: f64,
        /// The parcel whose geometric area is furthest from its SUPF: IDU, geometric m², SUPF.
        pub worst: Option<(String, f64, i64)>,
    }

    /// Parcels read from EDIGÉO sheets.
    #[derive(Debug, Clone)]
    pub struct EdigeoRead {
        pub parcels: Vec<Parcel>,
        pub report: ValidationReport,
        pub sheets: Vec<SheetSummary>,
    }

    fn damaged(path: &Path, sheet: &str, file: &str, reason: impl Into<String>) -> IoError {
        IoError::Edigeo {
            path: path.to_path_buf(),
            sheet: sheet.to_owned(),
            file: file.to_owned(),
            reason: reason.into(),
        }
    }

    /// The archives and sheet folders under `path`, in name order.
    fn sources(path: &Path) -> Result<Vec<PathBuf>> {
        if !path.is_dir() {
            return Ok(vec![path.to_path_buf()]);
        }
        let open = |e: std::io::Error| IoError::Open { path: path.to_path_buf(), source: e };
        let mut out = Vec::new();
        let mut thf_here = false;
        for e in std::fs::read_dir(path).map_err(open)? {
            let e = e.map_err(open)?;
            let name = e.file_name().to_string_lossy().to_lowercase();
            if name.ends_with(".tar.bz2") {
                out.push(e.path());
            } else if name.ends_with(".thf") || name.ends_with(".vec") {
                // A sheet's folder (a .VEC without its .THF is a damaged sheet, said later).
                thf_here = true;
            } else if e.path().is_dir() && super::looks_like_edigeo(&e.path()) {
                out.extend(sources(&e.path())?);
            }
        }
        if thf_here {
            out.push(path.to_path_buf());
        }
        out.sort();
        Ok(out)
    }

    /// Unpacks an archive into `dir`; returns the folder holding the sheet's files.
    fn unpack(archive: &Path, sheet: &str, dir: &Path) -> Result<PathBuf> {
        let file =
            std::fs::File::open(archive).map_err(|e| IoError::Open { path: archive.to_path_buf(), source: e })?;
        let mut tar = tar::Archive::new(bzip2::read::BzDecoder::new(std::io::BufReader::new(file)));
        let out = dir.join(sheet);
        std::fs::create_dir_all(&out).map_err(|e| IoError::Write { path: out.clone(), source: e })?;
        let entries =
            tar.entries().map_err(|e| damaged(archive, sheet, "(archive)", format!("not a tar.bz2 archive: {e}")))?;
        for entry in entries {
            let mut entry =
                entry.map_err(|e| damaged(archive, sheet, "(archive)", format!("unreadable archive: {e}")))?;
            let name = entry
                .path()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            if name.is_empty() || !entry.header().entry_type().is_file() {
                continue;
            }
            // Flat: the sheet's files by their own names, never a path from the archive.
            entry.unpack(out.join(&name)).map_err(|e| damaged(archive, sheet, &name, format!("cannot unpack: {e}")))?;
        }
        Ok(out)
    }

    fn find(dir: &Path, ext: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x.to_string_lossy().eq_ignore_ascii_case(ext)))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn date_of(v: Option<i64>) -> Option<String> {
        let v = v?;
        (19_000_101..=29_991_231).contains(&v).then(|| format!("{:04}-{:02}-{:02}", v / 10_000, v / 100 % 100, v % 100))
    }

    /// A feature's polygon in Lambert-93 through the geometry policy, its repairs reported; `None`
    /// (reported as rejected) when it has none or the policy refuses it.
    fn shape(
        report: &mut ValidationReport,
        (i, key, sheet): (usize, &str, &str),
        f: &gdal::vector::Feature<'_>,
        from: &Crs,
        opts: ReadOptions,
    ) -> Option<MultiPolygon<f64>> {
        let mut reject = |code: &'static str, message: String| {
            report.push(Location::Feature(i), Some(key), Severity::Rejected, code, format!("sheet {sheet}: {message}"));
        };
        let Some(rings) = f.geometry().and_then(|g| g.to_geo().ok()).as_ref().and_then(geo_rings) else {
            reject("missing_geometry", "no polygon".into());
            return None;
        };
        let (geom_l93, repairs) = match rings_to_l93(rings, from, opts.invalid) {
            Ok(x) => x,
            Err(p) => {
                reject(p.code, p.message);
                return None;
            }
        };
        for r in &repairs {
            report.push(
                Location::Feature(i),
                Some(key),
                Severity::Repaired,
                r.code,
                format!("sheet {sheet}: {}", r.message),
            );
        }
        report.repaired += usize::from(!repairs.is_empty());
        Some(geom_l93)
    }

    /// Keeps `item` under `key`, or, when an earlier sheet gave the key already, joins its shape
    /// into the first one's (a parcel or a section on a sheet edge is one).
    fn keep<T>(
        map: &mut BTreeMap<String, T>,
        key: String,
        item: T,
        shape: impl Fn(&mut T) -> &mut MultiPolygon<f64>,
        report: &mut ValidationReport,
        i: usize,
    ) {
        match map.entry(key) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(item);
                report.accepted += 1;
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let mut item = item;
                let joined = shape(o.get_mut()).union(shape(&mut item));
                *shape(o.get_mut()) = joined;
                let key = o.key().clone();
                report.push(
                    Location::Feature(i),
                    Some(&key),
                    Severity::Warning,
                    "on_two_sheets",
                    format!("{key} is also on an earlier sheet: its pieces are joined into one"),
                );
            }
        }
    }

    /// One sheet, opened: its id, its header, its CRS, the parcels its `.VEC` files declare,
    /// and GDAL's dataset on its `.THF`. Every check GDAL does not make is made here.
    struct OpenSheet {
        sheet: String,
        source: PathBuf,
        thf_name: String,
        header: SheetHeader,
        crs_code: String,
        from: Crs,
        declared: usize,
        ds: gdal::Dataset,
    }

    fn open_sheet(source: &Path, opts: ReadOptions, tmp: &Path) -> Result<OpenSheet> {
        let source = source.to_path_buf();
        let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let is_thf = name.to_lowercase().ends_with(".thf");
        // The sheet's id: from the archive's name, the folder's, or the THF's folder's.
        let named = if is_thf {
            source.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned())
        } else {
            Some(name.clone())
        };
        let sheet = named.as_deref().and_then(sheet_id).ok_or_else(|| {
            damaged(&source, &name, &name, "the département is not in EDIGÉO files: name the archive edigeo-DDCCCPPPSSFF.tar.bz2 (or its folder DDCCCPPPSSFF), as the DGFiP does")
        })?;
        let dir = if source.is_dir() {
            source.clone()
        } else if is_thf {
            source.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        } else {
            unpack(&source, &sheet, tmp)?
        };
        let thf = find(&dir, "thf");
        let thf = match thf.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(damaged(&source, &sheet, "*.THF", "the sheet has no .THF file (its table of contents)"));
            }
            _ => return Err(damaged(&source, &sheet, "*.THF", "the sheet has several .THF files")),
        };
        let thf_name = thf.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let header = parse_thf(&std::fs::read(&thf).map_err(|e| IoError::Open { path: thf.clone(), source: e })?);
        let geo = find(&dir, "geo");
        let (crs_code, epsg) = match (opts.crs, geo.first()) {
            (Some(c), _) => (c.to_string(), c.epsg()),
            (None, Some(g)) => {
                let bytes = std::fs::read(g).map_err(|e| IoError::Open { path: g.clone(), source: e })?;
                let g_name = g.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                geo_epsg(&bytes).ok_or_else(|| {
                    damaged(
                        &source,
                        &sheet,
                        &g_name,
                        "no RELSA reference system Domania knows (LAMB93, RGF93CC42…50); pass --crs",
                    )
                })?
            }
            (None, None) => {
                return Err(damaged(&source, &sheet, "*.GEO", "the sheet has no .GEO file (its reference system)"));
            }
        };
        let from =
            Crs::from_epsg(epsg).ok_or_else(|| IoError::UnknownCrs { path: source.clone(), crs: crs_code.clone() })?;
        // Every file of the sheet whole, and the parcels its .VEC files declare.
        let mut declared = 0;
        for ext in ["thf", "vec", "geo", "dic", "scd", "qal", "gen"] {
            for f in find(&dir, ext) {
                let bytes = std::fs::read(&f).map_err(|e| IoError::Open { path: f.clone(), source: e })?;
                let f_name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if !is_complete(&bytes) {
                    return Err(damaged(
                        &source,
                        &sheet,
                        &f_name,
                        "the file is cut short (no EOMT end record): the sheet is damaged",
                    ));
                }
                if ext == "vec" {
                    declared += declared_parcels(&bytes);
                }
            }
        }
        let ds = gdal::Dataset::open_ex(
            &thf,
            gdal::DatasetOptions { allowed_drivers: Some(&["EDIGEO"]), ..Default::default() },
        )
        .map_err(|e| damaged(&source, &sheet, &thf_name, format!("GDAL cannot open the sheet: {e}")))?;
        Ok(OpenSheet { sheet, source, thf_name, header, crs_code, from, declared, ds })
    }

    /// The buildings (`layer` = buildings) or the sections (`sections`) of every sheet under
    /// `path`, with the same checks of each sheet as the parcels; a section drawn on several
    /// sheets is one section, its pieces joined.
    ///
    /// # Errors
    /// As [`read_edigeo`], and a layer EDIGÉO does not hold.
    pub fn read_edigeo_zones_with(
        path: &Path,
        opts: ReadOptions,
        layer: crate::sniff::Layer,
        mut on_zone: impl FnMut(super::EdigeoZone),
    ) -> Result<ValidationReport> {
        use crate::sniff::Layer;
        use serde_json::{Value, json};
        let class = match layer {
            Layer::Buildings => "BATIMENT_id",
            Layer::Sections => "SECTION_id",
            other => {
                return Err(IoError::WrongKind {
                    path: path.to_path_buf(),
                    expected: crate::sniff::file_label(other),
                    found: "EDIGÉO sheets (parcels, buildings and sections only)".into(),
                });
            }
        };
        let mut report = ValidationReport::new(path, &format!("edigeo-pci-vecteur {class}"));
        let tmp = tempfile::Builder::new()
            .prefix("domania-edigeo-")
            .tempdir()
            .map_err(|e| IoError::Write { path: std::env::temp_dir(), source: e })?;
        let mut by_key: BTreeMap<String, super::EdigeoZone> = BTreeMap::new();
        let mut crs_seen: Vec<String> = Vec::new();
        let mut index = 0usize;
        for source in sources(path)? {
            let OpenSheet { sheet, crs_code, from, ds, .. } = open_sheet(&source, opts, tmp.path())?;
            if !crs_seen.contains(&crs_code) {
                crs_seen.push(crs_code);
            }
            // A sheet may have no building.
            let Ok(mut features) = ds.layer_by_name(class) else { continue };
            for f in features.features() {
                let i = index;
                index += 1;
                report.read += 1;
                let text = |name: &str| f.field_index(name).and_then(|k| f.field_as_string(k)).ok().flatten();
                let rid = text("OBJECT_RID").unwrap_or_default();
                let (key, name, properties) = if layer == Layer::Sections {
                    let Some(idu) = text("IDU").filter(|s| s.trim().len() == 8) else {
                        report.push(
                            Location::Feature(i),
                            Some(&rid),
                            Severity::Rejected,
                            "missing_idu",
                            format!("sheet {sheet}: a section without its 8-character IDU"),
                        );
                        continue;
                    };
                    let tex = text("TEX").unwrap_or_default();
                    let props = json!({"commune": &sheet[..5], "section": tex.trim()});
                    (format!("{}{}", &sheet[..2], idu.trim()), Some(format!("Section {}", tex.trim())), props)
                } else {
                    // DUR: 01 built hard (bâti dur), 02 light (bâti léger).
                    let dur = text("DUR");
                    let props = json!({"sheet": sheet, "object": rid, "dur": dur});
                    (format!("{}:{sheet}:{rid}", &sheet[..5]), None, props)
                };
                let Value::Object(properties) = properties else { continue };
                let Some(geom_l93) = shape(&mut report, (i, &key, &sheet), &f, &from, opts) else { continue };
                let zone = super::EdigeoZone { key: key.clone(), name, properties, geom_l93 };
                keep(&mut by_key, key, zone, |z| &mut z.geom_l93, &mut report, i);
            }
        }
        report.crs = crs_seen.join(", ");
        for z in by_key.into_values() {
            on_zone(z);
        }
        Ok(report)
    }

    /// Reads every sheet under `path` (see the module's documentation).
    ///
    /// # Errors
    /// A sheet that cannot be read whole (a missing `.THF`, a damaged `.VEC`, a file that is not
    /// an archive, a sheet whose département its name does not tell) is an error naming the sheet
    /// and the file inside it: no parcel of any sheet is returned then.
    pub fn read_edigeo(path: &Path, opts: ReadOptions) -> Result<EdigeoRead> {
        let mut parcels = Vec::new();
        let (report, sheets) = read_edigeo_with(path, opts, |p| parcels.push(p))?;
        Ok(EdigeoRead { parcels, report, sheets })
    }

    /// [`read_edigeo`], handing each parcel to `on_parcel` once every sheet is read (pieces of
    /// one parcel on two sheets are joined first).
    ///
    /// # Errors
    /// As [`read_edigeo`].
    #[allow(clippy::too_many_lines)]
    pub fn read_edigeo_with(
        path: &Path,
        opts: ReadOptions,
        mut on_parcel: impl FnMut(Parcel),
    ) -> Result<(ValidationReport, Vec<SheetSummary>)> {
        let mut report = ValidationReport::new(path, "edigeo-pci-vecteur");
        let tmp = tempfile::Builder::new()
            .prefix("domania-edigeo-")
            .tempdir()
            .map_err(|e| IoError::Write { path: std::env::temp_dir(), source: e })?;
        let mut by_idu: BTreeMap<String, (Parcel, usize)> = BTreeMap::new();
        let mut sheets = Vec::new();
        let mut crs_seen: Vec<String> = Vec::new();
        let mut index = 0usize;
        for source in sources(path)? {
            let OpenSheet { sheet, source, thf_name, header, crs_code, from, declared, ds } =
                open_sheet(&source, opts, tmp.path())?;
            if !crs_seen.contains(&crs_code) {
                crs_seen.push(crs_code.clone());
            }
            let mut layer = match ds.layer_by_name("PARCELLE_id") {
                Ok(l) => l,
                Err(_) if declared == 0 => {
                    sheets.push(SheetSummary {
                        sheet,
                        header,
                        crs: crs_code,
                        parcels: 0,
                        median_area_gap: 0.0,
                        worst: None,
                    });
                    continue;
                }
                Err(e) => return Err(damaged(&source, &sheet, &thf_name, format!("no PARCELLE_id layer: {e}"))),
            };
            let dept = &sheet[..2];
            let mut gaps: Vec<(f64, String, f64, i64)> = Vec::new();
            let mut count = 0usize;
            for f in layer.features() {
                let i = index;
                index += 1;
                count += 1;
                report.read += 1;
                let raw_idu: Option<String> = f.field_index("IDU").and_then(|i| f.field_as_string(i)).ok().flatten();
                let Some(raw_idu) = raw_idu.filter(|s| !s.trim().is_empty()) else {
                    report.push(
                        Location::Feature(i),
                        None,
                        Severity::Rejected,
                        "missing_idu",
                        format!("sheet {sheet}: a parcel has no IDU"),
                    );
                    continue;
                };
                let idu14 = format!("{dept}{}", raw_idu.trim());
                let idu = match Idu::parse(&idu14) {
                    Ok(idu) => idu,
                    Err(e) => {
                        report.push(
                            Location::Feature(i),
                            Some(&idu14),
                            Severity::Rejected,
                            "invalid_idu",
                            format!("sheet {sheet}: {e}"),
                        );
                        continue;
                    }
                };
                let supf =
                    f.field_index("SUPF").and_then(|i| f.field_as_double(i)).ok().flatten().map(|v| v.round() as i64);
                let Some(geom_l93) = shape(&mut report, (i, &idu14, &sheet), &f, &from, opts) else { continue };
                if let Some(s) = supf.filter(|s| *s > 0) {
                    let area = geom_l93.unsigned_area();
                    gaps.push(((area - s as f64).abs() / s as f64, idu14.clone(), area, s));
                }
                let parcel = Parcel {
                    commune: idu.commune().to_owned(),
                    prefixe: idu.prefixe().to_owned(),
                    section: idu.section().trim_start_matches('0').to_owned(),
                    numero: idu.numero().to_owned(),
                    contenance: supf,
                    created: date_of(f.field_index("CREAT_DATE").and_then(|i| f.field_as_integer64(i)).ok().flatten()),
                    updated: date_of(f.field_index("UPDATE_DATE").and_then(|i| f.field_as_integer64(i)).ok().flatten()),
                    geom_l93,
                    idu,
                };
                keep(&mut by_idu, idu14, (parcel, i), |p| &mut p.0.geom_l93, &mut report, i);
            }
            if count != declared {
                return Err(damaged(
                    &source,
                    &sheet,
                    "*.VEC",
                    format!(
                        "the .VEC files declare {declared} parcels but {count} could be read: the sheet is damaged (a truncated file?)"
                    ),
                ));
            }
            gaps.sort_by(|a, b| a.0.total_cmp(&b.0));
            let median_area_gap = if gaps.is_empty() {
                0.0
            } else if gaps.len() % 2 == 1 {
                gaps[gaps.len() / 2].0
            } else {
                f64::midpoint(gaps[gaps.len() / 2 - 1].0, gaps[gaps.len() / 2].0)
            };
            let worst = gaps.last().map(|(_, idu, area, s)| (idu.clone(), (area * 100.0).round() / 100.0, *s));
            if let Some((idu, area, s)) = &worst {
                report.push(
                    Location::Feature(index.saturating_sub(1)),
                    Some(idu),
                    Severity::Warning,
                    "area_gap",
                    format!(
                        "sheet {sheet} (PCI-Vecteur {}, {}): {count} parcels; geometric area vs SUPF: median gap {:.2} %, worst {idu} ({area:.0} m² drawn, SUPF {s} m²)",
                        header.version.as_deref().unwrap_or("?"),
                        header.date.as_deref().unwrap_or("undated"),
                        median_area_gap * 100.0
                    ),
                );
            }
            sheets.push(SheetSummary { sheet, header, crs: crs_code, parcels: count, median_area_gap, worst });
        }
        if sheets.is_empty() {
            return Err(damaged(path, "", "", "no EDIGÉO sheet here (.tar.bz2 archives, or a folder with a .THF)"));
        }
        report.crs = crs_seen.join(", ");
        let versions: Vec<String> = sheets
            .iter()
            .map(|s| {
                format!(
                    "{} v{} {}",
                    s.sheet,
                    s.header.version.as_deref().unwrap_or("?"),
                    s.header.date.as_deref().unwrap_or("?")
                )
            })
            .collect();
        report.format = format!("edigeo-pci-vecteur ({})", versions.join("; "));
        for (p, _) in by_idu.into_values() {
            on_parcel(p);
        }
        Ok((report, sheets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_ids_thf_headers_and_geo_systems() {
        assert_eq!(sheet_id("edigeo-740240000A01.tar.bz2").as_deref(), Some("740240000A01"));
        assert_eq!(sheet_id("2A0040000B01").as_deref(), Some("2A0040000B01"));
        assert_eq!(sheet_id("edigeo-foo.tar.bz2"), None);
        assert_eq!(sheet_id("E0000A01.THF"), None);
        let thf = b"BOMT 12:E0000A01.THF\r\nADRST49:Export PCI-Vecteur, version 3.10. (standard 2012)\r\nTDASD08:20240116\r\nINFST42:Echange issu du plan cadastral informatis\xe9\r\n";
        assert_eq!(parse_thf(thf), SheetHeader { version: Some("3.10".into()), date: Some("2024-01-16".into()) });
        assert_eq!(geo_epsg(b"RTYSA03:GEO\r\nRELSA08:LAMB93\r\n"), Some(("LAMB93".into(), 2154)));
        assert_eq!(geo_epsg(b"RELSA09:RGF93CC49\r\n"), Some(("RGF93CC49".into(), 3949)));
        assert_eq!(geo_epsg(b"RELSA05:NTFLZ\r\n"), None);
        let vec =
            b"RTYSA03:FEA\r\nSCPCP27:EXSO;SeSD;OBJ;PARCELLE_id\r\nSCPCP36:ED0A01;SeSD;REL;ID_S_RCO_PARCELLE_id\r\n\
                    SCPCP24:EXSO;SeSD;OBJ;BORNE_id\r\n";
        assert_eq!(declared_parcels(vec), 1, "the parcel object, not its relations nor other classes");
        assert!(is_complete(b"RTYSA03:FEA\r\nEOMT 00:\r\n") && !is_complete(b"RTYSA03:FEA\r\nSCPCP27:EXSO;Se"));
    }
}
