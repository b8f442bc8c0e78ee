//! The commands behind the CLI. `anyhow` with context on every fallible step.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use domania_core::{Actor, ClassificationConfig, Classifier, parcel_actor};
use domania_io::cadastre::read_cadastre_with;
use domania_io::crs::Crs;
use domania_io::features::ReadOptions;
use domania_io::geometry::InvalidPolicy;
use domania_io::perimeter::{PerimeterKind, read_perimeters_with};
use domania_io::ppm::read_ppm;
use domania_io::report::ValidationReport;
use domania_store::{ImportMeta, Layer, Row, Store, StoredRight, VersionInfo, owner_rows, parcel_row, perimeter_row};
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
        Command::Import { kind, file, crs, invalid, skip_invalid, author, encoding } => {
            let opts = read_options(crs.as_deref(), *invalid)?;
            let info =
                import(&cli.store, *kind, file, opts, encoding.as_deref(), *skip_invalid, author.as_deref(), cli.json)?;
            print_version(&info, cli.json)
        }
        Command::Layers => layers(cli),
        Command::History { layer } => {
            let store = open(&cli.store)?;
            let history = store.history(layer.parse()?)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&history)?);
            } else {
                for v in &history {
                    println!(
                        "v{:<3} {:<8} {} by {:<10} {:>8} features  +{} -{} ~{} (reshaped {})  rejected {}  repaired {}  {}",
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
                        v.source
                    );
                }
            }
            Ok(())
        }
        Command::Diff { layer, v1, v2 } => {
            let store = open(&cli.store)?;
            let d = store.diff(layer.parse()?, *v1, *v2)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                println!("{layer} v{v1} → v{v2}");
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
                        println!("  {label}: {} — {}{more}", keys.len(), shown.join(", "));
                    }
                }
            }
            Ok(())
        }
        Command::Rollback { layer, version, author } => {
            let mut store = open(&cli.store)?;
            let info = store.rollback(layer.parse()?, *version, &author_name(author.as_deref()))?;
            print_version(&info, cli.json)
        }
        Command::Parcel { idu } => parcel(cli, idu),
        Command::Owners => owners(cli),
        Command::Validate { file, kind, crs, invalid } => {
            let kind = match kind {
                Some(k) => *k,
                None => guess_kind(file)?,
            };
            let report = read_rows(kind, file, read_options(crs.as_deref(), *invalid)?, None, |_| {})?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
                print!("{}", report.render_issues(50));
            }
            if report.is_clean() {
                Ok(())
            } else {
                bail!("{}: {} feature(s) or line(s) rejected", file.display(), report.rejected)
            }
        }
        Command::Synth { parcels, seed, out } => {
            let t = Instant::now();
            let s = domania_io::synth::generate(*parcels, *seed, out)
                .with_context(|| format!("generating into {}", out.display()))?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({"parcels": s.parcels, "owner_rows": s.owner_rows, "qpv": s.qpv, "subsectors": s.subsectors,
                        "files": s.files, "seconds": t.elapsed().as_secs_f64()})
                );
            } else {
                println!(
                    "{} parcels, {} owner rows, {} QPV, {} sub-sectors in {:.2} s → {}",
                    s.parcels,
                    s.owner_rows,
                    s.qpv,
                    s.subsectors,
                    t.elapsed().as_secs_f64(),
                    out.display()
                );
            }
            Ok(())
        }
        Command::Shares { zones, format, rules } => crate::compute::shares(cli, *zones, *format, rules.as_deref()),
        Command::Assign { judging, dry_run } => crate::compute::assign(cli, judging, *dry_run),
        Command::Report { what: crate::ReportKind::Qpv { code, format } } => {
            crate::compute::report_qpv(cli, code, *format)
        }
        Command::Report { what: crate::ReportKind::Tfpb { format } } => crate::compute::report_tfpb(cli, *format),
        Command::Perimeters { file, judging } => crate::compute::perimeters(cli, file, judging),
        Command::Blocks { qpv } => crate::compute::blocks(cli, qpv),
        Command::Scenario { file, judging } => crate::compute::scenario(cli, file, judging),
        Command::Demo { dir } => demo(cli, dir),
    }
}

pub(crate) fn open(path: &Path) -> Result<Store> {
    Store::open(path).with_context(|| format!("opening the store {}", path.display()))
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
    Ok(ReadOptions { crs, invalid })
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

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("static template"));
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Reads a file of the given kind, handing each store row to `on_row` as soon as it is ready
/// (the PPM file is read whole first: its SUF duplicates are collapsed across the file).
fn read_rows(
    kind: ImportKind,
    file: &Path,
    opts: ReadOptions,
    encoding: Option<&str>,
    mut on_row: impl FnMut(Row),
) -> Result<ValidationReport> {
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
/// file). The transaction commits only if the reader's report allows it.
#[allow(clippy::too_many_arguments)]
fn import(
    store_path: &Path,
    kind: ImportKind,
    file: &Path,
    opts: ReadOptions,
    encoding: Option<&str>,
    skip_invalid: bool,
    author: Option<&str>,
    json: bool,
) -> Result<VersionInfo> {
    let pb = if json { ProgressBar::hidden() } else { spinner(format!("importing {}", file.display())) };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Row>>(16);
    let reader = {
        let file = file.to_path_buf();
        let encoding = encoding.map(str::to_owned);
        std::thread::spawn(move || -> Result<ValidationReport> {
            // A send fails only when the writer gave up; its error is the one reported.
            let mut batch = Vec::with_capacity(BATCH);
            let report = read_rows(kind, &file, opts, encoding.as_deref(), |row| {
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
    let mut store = open(store_path)?;
    let mut itx = store.begin_import(layer_of(kind))?;
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
        return Err(e).with_context(|| format!("importing {}", file.display()));
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
    if !json && !report.issues.is_empty() {
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
    let info = itx.commit(&meta).with_context(|| format!("importing {}", file.display()))?;
    pb.finish_and_clear();
    Ok(info)
}

fn print_version(v: &VersionInfo, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(v)?);
    } else {
        println!(
            "{} v{} ({}): {} features, +{} added, -{} removed, ~{} changed ({} reshaped), {} rejected, {} repaired",
            v.layer, v.version, v.kind, v.features, v.added, v.removed, v.changed, v.reshaped, v.rejected, v.repaired
        );
    }
    Ok(())
}

fn layers(cli: &Cli) -> Result<()> {
    let store = open(&cli.store)?;
    let layers = store.layers()?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&layers)?);
    } else {
        println!("{:<12} {:>8} {:>10} {:>12}", "layer", "version", "features", "history rows");
        for l in layers {
            let v = l.version.map_or_else(|| "-".to_owned(), |v| v.to_string());
            println!("{:<12} {:>8} {:>10} {:>12}", l.layer.table(), v, l.features, l.history_rows);
        }
    }
    Ok(())
}

fn parcel(cli: &Cli, idu: &str) -> Result<()> {
    let store = open(&cli.store)?;
    let classifier = classifier(cli)?;
    let p = store.parcel(idu)?.ok_or_else(|| anyhow!("parcel {idu} is not in the store {}", cli.store.display()))?;
    let rights = store.rights_of(idu)?;
    let area = p.geom_l93.unsigned_area();
    let mut owners = Vec::new();
    let mut actors = BTreeSet::new();
    for r in rights.iter().filter(|r| r.droit == "P") {
        let c = classifier.classify(&r.owner());
        actors.insert((r.siren.clone(), c.actor));
        owners.push(serde_json::json!({"siren": r.siren, "name": r.denomination, "actor": c.actor, "decided_by": c.decided_by, "why": c.why}));
    }
    let actor = parcel_actor(&actors.iter().map(|(_, a)| *a).collect::<Vec<_>>());
    let others: Vec<_> = rights
        .iter()
        .filter(|r| r.droit != "P")
        .map(|r| serde_json::json!({"droit": r.droit, "siren": r.siren, "name": r.denomination}))
        .collect();
    let gap = p.contenance.map(|c| area - c as f64);
    let out = serde_json::json!({
        "idu": p.idu, "version": p.v_from, "area_m2": (area * 100.0).round() / 100.0, "contenance_m2": p.contenance,
        "gap_m2": gap.map(|g| (g * 100.0).round() / 100.0), "actor": actor, "owners": owners, "other_rights": others,
    });
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("parcel {} (since version {})", p.idu, p.v_from);
        match (p.contenance, gap) {
            (Some(c), Some(g)) => println!(
                "  area {area:.2} m² (Lambert-93), contenance {c} m², gap {g:+.2} m² ({:+.2} %)",
                g / c as f64 * 100.0
            ),
            _ => println!("  area {area:.2} m² (Lambert-93), no contenance"),
        }
        println!("  actor: {actor} ({})", actor.label_fr());
        if owners.is_empty() {
            println!("  no legal person holds right P: held by natural persons");
        }
        for o in &owners {
            let text = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
            println!(
                "  owner {} {} → {} by {} ({})",
                text("siren"),
                text("name"),
                text("actor"),
                text("decided_by"),
                text("why")
            );
        }
        for r in &others {
            println!(
                "  right {} {} {}",
                r["droit"].as_str().unwrap_or(""),
                r["siren"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

fn owners(cli: &Cli) -> Result<()> {
    let store = open(&cli.store)?;
    let classifier = classifier(cli)?;
    let mut by_owner: BTreeMap<(String, String), (StoredRight, BTreeSet<String>)> = BTreeMap::new();
    for r in store.rights_with_code("P")? {
        let entry =
            by_owner.entry((r.siren.clone(), r.denomination.clone())).or_insert_with(|| (r.clone(), BTreeSet::new()));
        entry.1.insert(r.idu.clone());
    }
    let mut list = Vec::new();
    for ((siren, name), (r, idus)) in &by_owner {
        let c = classifier.classify(&r.owner());
        list.push(serde_json::json!({"siren": siren, "name": name, "groupe": r.groupe, "forme": r.forme,
            "actor": c.actor, "decided_by": c.decided_by, "why": c.why, "parcels": idus.len()}));
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        println!("siren;name;groupe;forme;actor;decided_by;why;parcels");
        for o in &list {
            println!(
                "{};{};{};{};{};{};{};{}",
                o["siren"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or(""),
                o["groupe"],
                o["forme"].as_str().unwrap_or(""),
                o["actor"].as_str().unwrap_or(""),
                o["decided_by"].as_str().unwrap_or(""),
                o["why"].as_str().unwrap_or(""),
                o["parcels"]
            );
        }
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
        let info = import(&cli.store, *kind, file, ReadOptions::default(), None, false, Some("demo"), cli.json)?;
        if !cli.json {
            print_version(&info, false)?;
        }
        imported.push(info);
    }
    let config = cli.config.clone().or_else(|| Some(dir.join("territory.toml")).filter(|p| p.exists()));
    let classifier = classifier_from(config.as_deref())?;
    let store = open(&cli.store)?;
    let snap = domania_engine::Snapshot::load(&store, &classifier)?;
    let mut summary: BTreeMap<Actor, (usize, f64)> = BTreeMap::new();
    let mut total = 0.0;
    for (p, h) in snap.parcels.iter().zip(&snap.holdings) {
        let actors: Vec<Actor> = h.owners.iter().map(|o| o.actor).collect();
        let area = p.geom_l93.unsigned_area();
        total += area;
        let e = summary.entry(parcel_actor(&actors)).or_default();
        e.0 += 1;
        e.1 += area;
    }
    // Sub-sectors and rules: who manages what.
    let rules_path = dir.join("rules.toml");
    let management = if rules_path.exists() {
        let rules = crate::compute::load_rules(&rules_path)?;
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
        println!(
            "{}",
            serde_json::json!({"store": cli.store, "imported": imported, "by_actor": rows, "management": management,
                "seconds": t.elapsed().as_secs_f64()})
        );
    } else {
        println!("\nLand by actor (Lambert-93 areas), store {}:", cli.store.display());
        println!("{:<22} {:>8} {:>14} {:>8}", "actor", "parcels", "area m²", "share");
        for (a, (n, area)) in &summary {
            println!("{:<22} {:>8} {:>14.0} {:>7.2}%", a.as_str(), n, area, area / total * 100.0);
        }
        if let Some(m) = &management {
            println!(
                "\nManagement ({}): {} sub-sectors, {} needing a convention, {} spaces assigned per intervention kind",
                rules_path.display(),
                m["subsectors"],
                m["needing_convention"],
                m["spaces"]
            );
            for d in m["delegated"].as_array().into_iter().flatten() {
                println!("  {}", d.as_str().unwrap_or_default());
            }
            println!("  (details: domania assign --rules {}; domania shares)", rules_path.display());
        }
        println!("done in {:.2} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}
