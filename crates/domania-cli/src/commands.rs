//! The commands behind the CLI. `anyhow` with context on every fallible step.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use domania_core::{Actor, ClassificationConfig, Classifier};
use domania_io::cadastre::read_cadastre_with;
use domania_io::crs::Crs;
use domania_io::features::ReadOptions;
use domania_io::geometry::InvalidPolicy;
use domania_io::perimeter::{PerimeterKind, read_perimeters_with};
use domania_io::ppm::read_ppm;
use domania_io::report::ValidationReport;
use domania_store::{
    ImportMeta, ImportOptions, Layer, Row, Store, StoredRight, VersionInfo, Wait, owner_rows, parcel_row, perimeter_row,
};
use geo::Area;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Cli, Command, ImportKind, InvalidArg};

/// The territory TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TerritoryFile {
    #[serde(default)]
    owners: ClassificationConfig,
}

pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Init { adopt } => {
            let store = open_create(cli, *adopt)?;
            let layers = store.layers()?;
            if cli.json {
                crate::outln!("{}", serde_json::to_string_pretty(&layers)?)?;
            } else {
                crate::outln!("{}: a Domania store with {} layers", cli.store.display(), layers.len())?;
            }
            Ok(())
        }
        Command::Import {
            kind,
            file,
            scope,
            force,
            max_removed,
            crs,
            invalid,
            skip_invalid,
            no_overlaps,
            author,
            encoding,
        } => {
            let layer = layer_of(*kind);
            let mut opts = ImportOptions::for_layer(layer);
            if let Some(s) = scope {
                s.check(layer)?;
                opts.scope = s.clone();
            }
            opts.force = *force;
            opts.max_removed = *max_removed / 100.0;
            let mut read = read_options(crs.as_deref(), *invalid)?;
            read.reject_overlaps = *no_overlaps;
            let source = Source { kind: *kind, file, read, encoding: encoding.as_deref() };
            let info = import(cli, &source, &opts, *skip_invalid, author.as_deref())?;
            print_version(&info, cli.json)
        }
        Command::Layers => layers(cli),
        Command::Scopes { layer } => {
            let store = open(cli)?;
            let scopes = store.scopes(*layer)?;
            if cli.json {
                crate::outln!("{}", serde_json::to_string_pretty(&scopes)?)?;
            } else {
                crate::outln!(
                    "{:<12} {:<11} {:>8} {:>9}  {:<24} source",
                    "scope",
                    "kind",
                    "version",
                    "features",
                    "imported"
                )?;
                for s in &scopes {
                    let code = if s.scope.is_empty() { "(layer)" } else { s.scope.as_str() };
                    crate::outln!(
                        "{code:<12} {:<11} {:>8} {:>9}  {:<24} {}",
                        s.scope_kind.as_str(),
                        s.version,
                        s.features,
                        s.created_at,
                        s.source
                    )?;
                }
            }
            Ok(())
        }
        Command::Dump => {
            let store = open(cli)?;
            let mut text = store.dump()?.join("\n");
            text.push('\n');
            crate::output::emit(&text)
        }
        Command::History { layer } => {
            let store = open(cli)?;
            let history = store.history(*layer)?;
            if cli.json {
                crate::outln!("{}", serde_json::to_string_pretty(&history)?)?;
            } else {
                for v in &history {
                    crate::outln!(
                        "v{:<3} {:<8} {} by {:<10} {:>8} features  +{} -{} ~{} (reshaped {})  rejected {}  repaired {}  {}  {}",
                        v.version,
                        v.kind,
                        v.created_at,
                        v.author,
                        v.features,
                        v.added,
                        v.removed,
                        v.changed,
                        v.reshaped,
                        v.rejected,
                        v.repaired,
                        v.scope,
                        v.source
                    )?;
                }
            }
            Ok(())
        }
        Command::Diff { layer, v1, v2 } => {
            let store = open(cli)?;
            let d = store.diff(*layer, *v1, *v2)?;
            if cli.json {
                crate::outln!("{}", serde_json::to_string_pretty(&d)?)?;
            } else {
                crate::outln!("{layer} v{v1} → v{v2}")?;
                for (label, keys) in [
                    ("added", &d.added),
                    ("removed", &d.removed),
                    ("reshaped", &d.reshaped),
                    ("attributes changed", &d.attributes_changed),
                    ("parcels whose owners changed", &d.parcels_with_owner_changes),
                ] {
                    if !keys.is_empty() {
                        let shown: Vec<&str> = keys.iter().take(20).map(String::as_str).collect();
                        let more = if keys.len() > 20 { format!(" … (+{})", keys.len() - 20) } else { String::new() };
                        crate::outln!("  {label}: {} — {}{more}", keys.len(), shown.join(", "))?;
                    }
                }
            }
            Ok(())
        }
        Command::Rollback { layer, version, scope, author } => {
            let mut store = open_write(cli)?;
            let info = store.rollback(*layer, *version, scope.clone(), &author_name(author.as_deref()))?;
            print_version(&info, cli.json)
        }
        Command::Parcel { idu } => parcel(cli, idu),
        Command::Owners => owners(cli),
        Command::Validate { file, kind, crs, invalid } => {
            let kind = match kind {
                Some(k) => *k,
                None => guess_kind(file)?,
            };
            let source = Source { kind, file, read: read_options(crs.as_deref(), *invalid)?, encoding: None };
            let report = read_rows(&source, |_| {})?;
            if cli.json {
                crate::outln!("{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                crate::outln!("{report}")?;
                crate::output::emit(&report.render_issues(50))?;
            }
            if report.is_clean() {
                Ok(())
            } else {
                bail!("{}: {} feature(s) or line(s) rejected", file.display(), report.rejected)
            }
        }
        Command::Synth { parcels, seed, out } => {
            let t = Instant::now();
            let parcels = usize::try_from(*parcels).context("--parcels is too large for this machine")?;
            let s = domania_io::synth::generate(parcels, *seed, out)
                .with_context(|| format!("generating into {}", out.display()))?;
            if cli.json {
                crate::outln!(
                    "{}",
                    serde_json::json!({"parcels": s.parcels, "owner_rows": s.owner_rows, "qpv": s.qpv, "subsectors": s.subsectors,
                        "files": s.files, "seconds": t.elapsed().as_secs_f64()})
                )?;
            } else {
                crate::outln!(
                    "{} parcels, {} owner rows, {} QPV, {} sub-sectors in {:.2} s → {}",
                    s.parcels,
                    s.owner_rows,
                    s.qpv,
                    s.subsectors,
                    t.elapsed().as_secs_f64(),
                    out.display()
                )?;
            }
            Ok(())
        }
        Command::Shares { zones, format, rules } => crate::compute::shares(cli, *zones, *format, rules.as_deref()),
        Command::Assign { judging, format, dry_run } => crate::compute::assign(cli, judging, *format, *dry_run),
        Command::Report { what: crate::ReportKind::Qpv { code, format } } => {
            crate::compute::report_qpv(cli, code, *format)
        }
        Command::Report { what: crate::ReportKind::Tfpb { format } } => crate::compute::report_tfpb(cli, *format),
        Command::Perimeters { file, judging, format } => crate::compute::perimeters(cli, file, judging, *format),
        Command::Blocks { qpv } => crate::compute::blocks(cli, qpv),
        Command::Scenario { file, judging, format } => crate::compute::scenario(cli, file, judging, *format),
        Command::Demo { dir } => demo(cli, dir),
    }
}

/// Tells, on standard error, that the store is busy and what the command waits for.
fn tell_wait(message: &str) {
    eprintln!("domania: {message}");
}

fn wait_of(cli: &Cli) -> Wait<'static> {
    Wait { timeout: Duration::from_secs(cli.wait), on_wait: &tell_wait }
}

/// Opens the store for a command that only reads: read-only, never created or changed.
pub(crate) fn open(cli: &Cli) -> Result<Store> {
    Ok(Store::open_read(&cli.store, &wait_of(cli))?)
}

/// Opens an existing store for writing (rollback, the spaces layer).
pub(crate) fn open_write(cli: &Cli) -> Result<Store> {
    Ok(Store::open_write(&cli.store, &wait_of(cli))?)
}

/// Opens the store for an import, creating it when nothing is at the path.
fn open_create(cli: &Cli, adopt: bool) -> Result<Store> {
    Ok(Store::create(&cli.store, adopt, &wait_of(cli))?)
}

fn read_options(crs: Option<&str>, invalid: InvalidArg) -> Result<ReadOptions> {
    let crs = crs
        .map(|c| {
            Crs::parse(c).ok_or_else(|| {
                anyhow!("--crs {c}: unknown or unsupported CRS (supported: {})", domania_io::crs::SUPPORTED)
            })
        })
        .transpose()?;
    let invalid = match invalid {
        InvalidArg::Repair => InvalidPolicy::Repair,
        InvalidArg::Reject => InvalidPolicy::Reject,
    };
    Ok(ReadOptions { crs, invalid, reject_overlaps: false })
}

fn author_name(author: Option<&str>) -> String {
    author
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(crate) fn classifier(cli: &Cli) -> Result<Classifier> {
    classifier_from(cli.config.as_deref())
}

/// The classifier of a territory file (none: the PPM layers alone).
fn classifier_from(config: Option<&Path>) -> Result<Classifier> {
    let config = match config {
        None => TerritoryFile::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: invalid territory configuration", path.display()))?
        }
    };
    Classifier::new(&config.owners).with_context(|| "territory configuration")
}

fn guess_kind(file: &Path) -> Result<ImportKind> {
    let name = file.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    Ok(if name.ends_with(".csv") || name.ends_with(".txt") {
        ImportKind::Owners
    } else if name.contains("parcelle") {
        ImportKind::Parcels
    } else if name.contains("qp") {
        ImportKind::Qpv
    } else if name.contains("subsector") || name.contains("secteur") {
        ImportKind::Subsectors
    } else if name.contains("convention") {
        ImportKind::Conventions
    } else {
        bail!("{}: cannot guess what the file holds from its name; pass --kind", file.display())
    })
}

fn sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().fold(String::with_capacity(64), |mut acc, b| {
        use std::fmt::Write as _;
        let _ = write!(acc, "{b:02x}");
        acc
    }))
}

/// A file to read and how.
struct Source<'a> {
    kind: ImportKind,
    file: &'a Path,
    read: ReadOptions,
    encoding: Option<&'a str>,
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("static template"));
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Reads a file of the given kind, handing each store row to `on_row` as soon as it is ready
/// (the PPM file is read whole first: its SUF duplicates are collapsed across the file).
fn read_rows(source: &Source<'_>, mut on_row: impl FnMut(Row)) -> Result<ValidationReport> {
    let (kind, file, opts, encoding) = (source.kind, source.file, source.read, source.encoding);
    domania_io::sniff::check_kind(file, sniff_kind(kind))?;
    let ctx = || format!("reading {}", file.display());
    Ok(match kind {
        ImportKind::Parcels => read_cadastre_with(file, opts, |p| on_row(parcel_row(&p))).with_context(ctx)?,
        ImportKind::Owners => {
            let forced = encoding
                .map(|e| encoding_for(e).ok_or_else(|| anyhow!("--encoding {e}: unknown encoding")))
                .transpose()?;
            let read = read_ppm(file, forced).with_context(ctx)?;
            owner_rows(read.rows.iter().map(|r| (&r.idu, r.right, &r.owner))).into_iter().for_each(on_row);
            read.report
        }
        ImportKind::Qpv | ImportKind::Subsectors | ImportKind::Conventions => {
            let pk = match kind {
                ImportKind::Qpv => PerimeterKind::Qpv,
                ImportKind::Subsectors => PerimeterKind::Subsector,
                _ => PerimeterKind::Convention,
            };
            read_perimeters_with(file, pk, opts, |p| {
                let props = serde_json::to_string(&p.properties).expect("a JSON map serialises");
                on_row(perimeter_row(&p.key, p.name.as_deref(), &props, &p.geom_l93));
            })
            .with_context(ctx)?
        }
    })
}

fn encoding_for(label: &str) -> Option<&'static domania_io::ppm::Encoding> {
    domania_io::ppm::Encoding::for_label(label.as_bytes())
}

fn sniff_kind(kind: ImportKind) -> domania_io::sniff::Expected {
    use domania_io::sniff::Expected;
    match kind {
        ImportKind::Parcels => Expected::Cadastre,
        ImportKind::Owners => Expected::Ppm,
        ImportKind::Qpv => Expected::Qpv,
        ImportKind::Subsectors => Expected::Subsectors,
        ImportKind::Conventions => Expected::Conventions,
    }
}

fn layer_of(kind: ImportKind) -> Layer {
    match kind {
        ImportKind::Parcels => Layer::Parcels,
        ImportKind::Owners => Layer::Owners,
        ImportKind::Qpv => Layer::Qpv,
        ImportKind::Subsectors => Layer::Subsectors,
        ImportKind::Conventions => Layer::Conventions,
    }
}

/// Rows travel from the reader thread to the writer in batches: one channel operation per
/// batch, not per row.
const BATCH: usize = 512;

/// Imports a file as a new version of a layer. Two threads: this one writes into the store
/// while a reader thread parses, validates, reprojects and encodes the rows (and hashes the
/// file). The transaction commits only if the reader's report and the import's scope checks
/// allow it.
fn import(
    cli: &Cli,
    source: &Source<'_>,
    opts: &ImportOptions,
    skip_invalid: bool,
    author: Option<&str>,
) -> Result<VersionInfo> {
    let file = source.file;
    let pb = if cli.json { ProgressBar::hidden() } else { spinner(format!("importing {}", file.display())) };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Row>>(16);
    let reader = {
        let (kind, file, read) = (source.kind, file.to_path_buf(), source.read);
        let encoding = source.encoding.map(str::to_owned);
        std::thread::spawn(move || -> Result<ValidationReport> {
            // A send fails only when the writer gave up; its error is the one reported.
            let mut batch = Vec::with_capacity(BATCH);
            let source = Source { kind, file: &file, read, encoding: encoding.as_deref() };
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
    let hasher = {
        let file = file.to_path_buf();
        std::thread::spawn(move || sha256(&file))
    };
    // Opened once the reader runs: creating a new GeoPackage overlaps with parsing.
    let mut store = match open_create(cli, false) {
        Ok(s) => s,
        Err(e) => {
            drop(rx);
            pb.finish_and_clear();
            // The reader's error (wrong file) says more than the store's when both fail.
            reader.join().map_err(|_| anyhow!("the reader thread panicked"))??;
            return Err(e);
        }
    };
    let result = import_into(&mut store, source, opts, skip_invalid, author, (rx, reader, hasher), &pb);
    pb.finish_and_clear();
    if result.is_err() {
        // A store this import created and wrote nothing into goes away: no empty file left.
        store.discard_if_new();
    }
    result
}

/// The threads of an import: the rows the reader sends, the reader, the file's hash.
type Workers = (
    std::sync::mpsc::Receiver<Vec<Row>>,
    std::thread::JoinHandle<Result<ValidationReport>>,
    std::thread::JoinHandle<Result<String>>,
);

fn import_into(
    store: &mut Store,
    source: &Source<'_>,
    opts: &ImportOptions,
    skip_invalid: bool,
    author: Option<&str>,
    (rx, reader, hasher): Workers,
    pb: &ProgressBar,
) -> Result<VersionInfo> {
    let file = source.file;
    let mut itx = match store.begin_import(layer_of(source.kind), opts.clone()) {
        Ok(t) => t,
        Err(e) => {
            drop(rx);
            reader.join().map_err(|_| anyhow!("the reader thread panicked"))??;
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
        pb.set_message(format!("importing {}: {written} rows", file.display()));
    }
    drop(rx);
    let report = reader.join().map_err(|_| anyhow!("the reader thread panicked"))??;
    let digest = hasher.join().map_err(|_| anyhow!("the hashing thread panicked"))??;
    if let Some(e) = write_error {
        return Err(e).with_context(|| format!("importing {}; nothing was imported", file.display()));
    }
    if !report.is_clean() && !skip_invalid {
        pb.finish_and_clear();
        eprint!("{}", report.render_issues(50));
        bail!(
            "{}: {} feature(s) or line(s) rejected; nothing was imported (use --skip-invalid to import the rest)",
            file.display(),
            report.rejected
        );
    }
    if !report.issues.is_empty() {
        pb.suspend(|| eprint!("{}", report.render_issues(20)));
    }
    let meta = ImportMeta {
        author: author_name(author),
        source: file.display().to_string(),
        source_sha256: Some(digest),
        rejected: report.rejected,
        repaired: report.repaired,
        report_json: Some(serde_json::to_string(&report)?),
    };
    itx.commit(&meta).with_context(|| format!("importing {}; nothing was imported", file.display()))
}

fn print_version(v: &VersionInfo, json: bool) -> Result<()> {
    if json {
        crate::outln!("{}", serde_json::to_string_pretty(v)?)?;
    } else if v.unchanged {
        crate::outln!(
            "{}: unchanged, still version {} ({} features of {} identical to the store)",
            v.layer,
            v.version,
            v.features,
            v.scope
        )?;
    } else {
        crate::outln!(
            "{} v{} ({}, {}): {} features, +{} added, -{} removed, ~{} changed ({} reshaped), {} rejected, {} repaired",
            v.layer,
            v.version,
            v.kind,
            v.scope,
            v.features,
            v.added,
            v.removed,
            v.changed,
            v.reshaped,
            v.rejected,
            v.repaired
        )?;
    }
    Ok(())
}

fn layers(cli: &Cli) -> Result<()> {
    let store = open(cli)?;
    let layers = store.layers()?;
    if cli.json {
        crate::outln!("{}", serde_json::to_string_pretty(&layers)?)?;
    } else {
        crate::outln!("{:<12} {:>8} {:>10} {:>12}", "layer", "version", "features", "history rows")?;
        for l in layers {
            let v = l.version.map_or_else(|| "-".to_owned(), |v| v.to_string());
            crate::outln!("{:<12} {:>8} {:>10} {:>12}", l.layer.table(), v, l.features, l.history_rows)?;
        }
    }
    Ok(())
}

fn parcel(cli: &Cli, spelled: &str) -> Result<()> {
    let idu = domania_core::Idu::normalise(spelled)?;
    if idu.as_str() != spelled {
        eprintln!("domania: read {spelled:?} as the IDU {idu}");
    }
    let idu = idu.as_str();
    let store = open(cli)?;
    let classifier = classifier(cli)?;
    let p = store.parcel(idu)?.ok_or_else(|| anyhow!("parcel {idu} is not in the store {}", cli.store.display()))?;
    let rights = store.rights_of(idu)?;
    let area = p.geom_l93.unsigned_area();
    let mut owners = Vec::new();
    let mut refs = BTreeSet::new();
    for r in rights.iter().filter(|r| r.droit == domania_core::Right::Proprietaire) {
        let c = classifier.classify(&r.owner());
        refs.insert(domania_core::shares::OwnerRef::classified(&r.owner(), &classifier));
        owners.push(serde_json::json!({"siren": r.siren, "name": r.denomination, "actor": c.actor,
            "decided_by": c.decided_by, "confidence": c.confidence, "why": c.why}));
    }
    let covered = store.owner_file_covers(&p.idu[0..5])?;
    let holding = domania_core::shares::Holding { owners: refs.into_iter().collect(), covered };
    let actor = holding.actor();
    let others: Vec<_> = rights
        .iter()
        .filter(|r| r.droit != domania_core::Right::Proprietaire)
        .map(|r| serde_json::json!({"droit": r.droit.code().to_string(), "siren": r.siren, "name": r.denomination}))
        .collect();
    let gap = p.contenance.map(|c| area - c as f64);
    let out = serde_json::json!({
        "idu": p.idu, "version": p.v_from, "area_m2": (area * 100.0).round() / 100.0, "contenance_m2": p.contenance,
        "gap_m2": gap.map(|g| (g * 100.0).round() / 100.0), "actor": actor, "owner_file": covered,
        "owners": owners, "other_rights": others,
    });
    if cli.json {
        crate::outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        crate::outln!("parcel {} (since version {})", p.idu, p.v_from)?;
        match (p.contenance, gap) {
            (Some(c), Some(g)) => crate::outln!(
                "  area {area:.2} m² (Lambert-93), contenance {c} m², gap {g:+.2} m² ({:+.2} %)",
                g / c as f64 * 100.0
            )?,
            _ => crate::outln!("  area {area:.2} m² (Lambert-93), no contenance")?,
        }
        crate::outln!("  actor: {actor} ({})", actor.label_fr())?;
        if owners.is_empty() && covered {
            crate::outln!("  no legal person holds right P in the owner file of its commune: held by natural persons")?;
        } else if owners.is_empty() {
            let commune = &p.idu[0..5];
            let dep = domania_store::ScopeKind::Departement.code_of(commune).unwrap_or(commune);
            crate::outln!(
                "  owner unknown: no owner file covers commune {commune} (import the PPM file of département {dep})"
            )?;
        }
        for o in &owners {
            let text = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
            crate::outln!(
                "  owner {} {} → {} by {} ({})",
                text("siren"),
                text("name"),
                text("actor"),
                text("decided_by"),
                text("why")
            )?;
        }
        for r in &others {
            crate::outln!(
                "  right {} {} {}",
                r["droit"].as_str().unwrap_or(""),
                r["siren"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

/// One owner in the `owners` report.
#[derive(Debug, serde::Serialize)]
struct OwnerLine {
    siren: String,
    name: String,
    groupe: Option<u8>,
    forme: Option<String>,
    actor: Actor,
    decided_by: domania_core::DecidedBy,
    confidence: domania_core::Confidence,
    why: String,
    parcels: usize,
}

fn owners(cli: &Cli) -> Result<()> {
    let store = open(cli)?;
    let classifier = classifier(cli)?;
    let mut by_owner: BTreeMap<(String, String), (StoredRight, BTreeSet<String>)> = BTreeMap::new();
    for r in store.rights_with_code(domania_core::Right::Proprietaire)? {
        let entry =
            by_owner.entry((r.siren.clone(), r.denomination.clone())).or_insert_with(|| (r.clone(), BTreeSet::new()));
        entry.1.insert(r.idu.clone());
    }
    let list: Vec<OwnerLine> = by_owner
        .into_iter()
        .map(|((siren, name), (r, idus))| {
            let c = classifier.classify(&r.owner());
            OwnerLine {
                siren,
                name,
                groupe: r.groupe,
                forme: r.forme,
                actor: c.actor,
                decided_by: c.decided_by,
                confidence: c.confidence,
                why: c.why,
                parcels: idus.len(),
            }
        })
        .collect();
    if cli.json {
        crate::outln!("{}", serde_json::to_string_pretty(&list)?)?;
    } else {
        crate::output::emit(&crate::output::serde_table(cli.delimiter, &list)?)?;
    }
    Ok(())
}

fn find_one(dir: &Path, pred: impl Fn(&str) -> bool) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| pred(&n.to_string_lossy())))
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

/// The main job: import a territory folder and summarise ownership by actor.
fn demo(cli: &Cli, dir: &Path) -> Result<()> {
    let t = Instant::now();
    let parcels = find_one(dir, |n| n.starts_with("cadastre-") && (n.ends_with(".json") || n.ends_with(".json.gz")))?
        .ok_or_else(|| anyhow!("{}: no cadastre-*.json file", dir.display()))?;
    let mut steps = vec![(ImportKind::Parcels, parcels)];
    for (kind, pred) in [
        (ImportKind::Owners, (|n: &str| n.starts_with("ppm") && n.ends_with(".csv")) as fn(&str) -> bool),
        (ImportKind::Qpv, |n: &str| n.starts_with("qpv") && n.ends_with("json")),
        (ImportKind::Subsectors, |n: &str| n.starts_with("subsectors") && n.ends_with("json")),
        (ImportKind::Conventions, |n: &str| n.starts_with("conventions") && n.ends_with("json")),
    ] {
        if let Some(p) = find_one(dir, pred)? {
            steps.push((kind, p));
        }
    }
    let mut imported = Vec::new();
    for (kind, file) in &steps {
        let source = Source { kind: *kind, file, read: ReadOptions::default(), encoding: None };
        let info = import(cli, &source, &ImportOptions::for_layer(layer_of(*kind)), false, Some("demo"))?;
        if !cli.json {
            print_version(&info, false)?;
        }
        imported.push(info);
    }
    let config = cli.config.clone().or_else(|| Some(dir.join("territory.toml")).filter(|p| p.exists()));
    let classifier = classifier_from(config.as_deref())?;
    let store = open(cli)?;
    let snap = domania_engine::Snapshot::load(&store, &classifier)?;
    let mut summary: BTreeMap<Actor, (usize, f64)> = BTreeMap::new();
    let mut total = 0.0;
    for (p, h) in snap.parcels().iter().zip(snap.holdings()) {
        let area = p.geom_l93.unsigned_area();
        total += area;
        let e = summary.entry(h.actor()).or_default();
        e.0 += 1;
        e.1 += area;
    }
    // Sub-sectors and rules: who manages what.
    let rules_path = dir.join("rules.toml");
    let management = if rules_path.exists() {
        let rules = crate::compute::load_rules(Some(rules_path.as_path()))?;
        let (_, report) =
            snap.assign(&rules, &crate::compute::today(), domania_core::overlay::OverlayOptions::default());
        let delegated: Vec<String> = report
            .decisions
            .iter()
            .filter(|d| matches!(d.decision, domania_rules::Decision::Delegated { .. }))
            .map(|d| d.explanation.clone())
            .collect();
        let needs_convention = report.decisions.iter().filter(|d| d.needs_convention).count();
        Some(serde_json::json!({"subsectors": report.decisions.len(), "delegated": delegated,
            "needing_convention": needs_convention, "spaces": report.spaces.len()}))
    } else {
        None
    };
    if cli.json {
        let rows: Vec<_> = summary
            .iter()
            .map(|(a, (n, area))| serde_json::json!({"actor": a, "parcels": n, "area_m2": area.round(), "share": area / total}))
            .collect();
        crate::outln!(
            "{}",
            serde_json::json!({"store": cli.store, "imported": imported, "by_actor": rows, "management": management,
                "seconds": t.elapsed().as_secs_f64()})
        )?;
    } else {
        crate::outln!("\nLand by actor (Lambert-93 areas), store {}:", cli.store.display())?;
        crate::outln!("{:<22} {:>8} {:>14} {:>8}", "actor", "parcels", "area m²", "share")?;
        for (a, (n, area)) in &summary {
            crate::outln!("{:<22} {:>8} {:>14.0} {:>7.2}%", a.as_str(), n, area, area / total * 100.0)?;
        }
        if let Some(m) = &management {
            crate::outln!(
                "\nManagement ({}): {} sub-sectors, {} needing a convention, {} spaces assigned per intervention kind",
                rules_path.display(),
                m["subsectors"],
                m["needing_convention"],
                m["spaces"]
            )?;
            for d in m["delegated"].as_array().into_iter().flatten() {
                crate::outln!("  {}", d.as_str().unwrap_or_default())?;
            }
            crate::outln!("  (details: domania assign --rules {}; domania shares)", rules_path.display())?;
        }
        crate::outln!("done in {:.2} s", t.elapsed().as_secs_f64())?;
    }
    Ok(())
}
