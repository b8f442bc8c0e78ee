//! The commands: each parses what `main` could not type, calls the application
//! (`domania-app`) and presents its result: text for a person, CSV, JSON or GeoJSON from the
//! result's own fields. Nothing is computed here.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use domania_app::geojson::FeatureCollection;
use domania_app::import::{ImportOutcome, ImportRequest, Progress, Source};
use domania_app::table::{Row, to_csv};
use domania_app::{App, Layer};
use domania_io::geometry::InvalidPolicy;
use domania_store::VersionInfo;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::{
    Cli, Command, ExportCommand, InvalidArg, Judging, MapFormat, ReportKind, ReportsCommand, RoleArg, StoreCommand,
    TableFormat, TokenCommand, ZonesArg,
};
use domania_app::tokens::Role;

/// Writes to standard output (a closed pipe ends the command quietly, see `output`).
fn out(text: &str) -> Result<()> {
    crate::output::emit(text)
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    out(&(serde_json::to_string_pretty(value)? + "\n"))
}

/// A store's rows by layer (current, history), a line each: what `store copy` moved and
/// `store verify` read.
fn layer_rows(layers: &std::collections::BTreeMap<String, (usize, usize)>) -> Result<()> {
    for (layer, (current, history)) in layers {
        crate::outln!("  {layer:<12} {current:>9} current rows {history:>9} history rows")?;
    }
    Ok(())
}

fn csv<T: Row>(cli: &Cli, rows: &[T]) -> Result<()> {
    out(&to_csv(rows, cli.delimiter, T::HEADER)?)
}

/// A table whose first column is named after its layer.
fn csv_with<T: Serialize>(cli: &Cli, rows: &[T], header: &[&str]) -> Result<()> {
    out(&to_csv(rows, cli.delimiter, header)?)
}

fn geojson<P: Serialize>(fc: &FeatureCollection<'_, P>) -> Result<()> {
    out(&fc.to_lines()?)
}

/// Tells, on standard error, that the store is busy and what the command waits for.
fn tell_wait(message: &str) {
    eprintln!("domania: {message}");
}

fn app(cli: &Cli) -> Result<App> {
    Ok(App::new(cli.store.clone(), cli.config.as_deref())?
        .with_reports(cli.reports.clone())
        .with_wait(Duration::from_secs(cli.wait), Arc::new(tell_wait)))
}

fn author_name(author: Option<&str>) -> String {
    author
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn invalid_policy(invalid: InvalidArg) -> InvalidPolicy {
    match invalid {
        InvalidArg::Repair => InvalidPolicy::Repair,
        InvalidArg::Reject => InvalidPolicy::Reject,
    }
}

fn date_of(judging: &Judging) -> domania_app::Date {
    judging.date.unwrap_or_else(domania_app::files::today)
}

/// The rules a server would use: the file given, else those saved in the store, else the
/// built-in ones.
fn serving_rules(app: &domania_app::App, judging: &Judging) -> Result<domania_app::files::LoadedRules> {
    Ok(match &judging.rules {
        Some(p) => domania_app::files::rules(Some(p))?,
        None => match app.stored_rules()? {
            Some(r) => r,
            None => domania_app::files::rules(None)?,
        },
    })
}

fn reports(cli: &Cli, app: &domania_app::App, what: &ReportsCommand) -> Result<()> {
    use domania_app::reports::{self as r, ReportLine, Status};
    match what {
        ReportsCommand::List { status, format } => {
            let statuses = match status {
                Some(s) if Status::parse(s).is_none() => bail!("unknown status {s:?}"),
                Some(s) => vec![s.clone()],
                None => Vec::new(),
            };
            let rows = app.reports()?.list(&domania_store::RequestFilter { statuses, ..Default::default() })?;
            let lines: Vec<ReportLine> = rows.iter().map(ReportLine::from).collect();
            match format {
                TableFormat::Json => json(&lines),
                TableFormat::Csv => csv(cli, &lines),
            }
        }
        ReportsCommand::Show { id } => {
            let store = app.reports()?;
            let row = store.get(*id)?.ok_or_else(|| anyhow::anyhow!("no report {id}"))?;
            let events: Vec<serde_json::Value> = store
                .events(*id)?
                .into_iter()
                .map(
                    |e| serde_json::json!({"at": e.at, "kind": e.kind, "status": e.status, "note": e.note, "by": e.by}),
                )
                .collect();
            json(&serde_json::json!({"report": ReportLine::from(&row), "events": events}))
        }
        ReportsCommand::Status { id, status, note, by } => {
            let to = Status::parse(status).ok_or_else(|| anyhow::anyhow!("unknown status {status:?}"))?;
            let row = r::transition(&mut app.reports()?, *id, to, note.as_deref(), by, jiff::Timestamp::now())?;
            crate::outln!("request {} is {} ({})", row.id, row.status, row.service_name)
        }
        ReportsCommand::Reroute { id, by, judging } => {
            let routing = app.routing(serving_rules(app, judging)?, date_of(judging))?;
            let row = routing.with(|t| r::reroute(&mut app.reports()?, t, *id, by, jiff::Timestamp::now()))?;
            crate::outln!("request {} now goes to {} ({})", row.id, row.service_name, row.explanation)
        }
        ReportsCommand::Walk { file, out, by, judging } => {
            let rules = serving_rules(app, judging)?;
            let observations = r::read_observations(file)?;
            let routing = app.routing(rules, date_of(judging))?;
            let name =
                file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            let mut store = app.reports()?;
            let made =
                routing.with(|t| r::import_walk(&mut store, t, observations, &name, by, jiff::Timestamp::now()))?;
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            let mut by_service: std::collections::BTreeMap<String, Vec<&domania_store::RequestRow>> =
                std::collections::BTreeMap::new();
            for m in &made {
                by_service
                    .entry(m.service_id.clone().unwrap_or_else(|| format!("none-{}", m.actor)))
                    .or_default()
                    .push(m);
            }
            for (service, rows) in &by_service {
                let lines: Vec<ReportLine> = rows.iter().map(|r| ReportLine::from(*r)).collect();
                let text = domania_app::table::rows_csv(&lines, b',')?;
                std::fs::write(out.join(format!("{service}.csv")), text)?;
                let features: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|l| {
                        serde_json::json!({"type": "Feature", "properties": l,
                        "geometry": {"type": "Point", "coordinates": [l.long, l.lat]}})
                    })
                    .collect();
                let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
                std::fs::write(out.join(format!("{service}.geojson")), serde_json::to_string_pretty(&fc)?)?;
            }
            for (service, rows) in &by_service {
                crate::outln!("{service}: {} reports ({})", rows.len(), rows[0].service_name)?;
            }
            eprintln!(
                "domania: {} observations of {name} routed to {} services; lists in {}",
                made.len(),
                by_service.len(),
                out.display()
            );
            Ok(())
        }
    }
}

pub fn run(cli: &Cli) -> Result<()> {
    let app = app(cli)?;
    match &cli.command {
        Command::Init { adopt } => {
            let layers = app.init(*adopt)?;
            if cli.json {
                json(&layers)
            } else {
                crate::outln!("{}: a Domania store with {} layers", cli.store.display(), layers.len())
            }
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
            let mut request = ImportRequest::new(*kind, file, &author_name(author.as_deref()));
            if let Some(s) = scope {
                request = request.scope(s.clone())?;
            }
            request.options.force = *force;
            request.options.max_removed = *max_removed / 100.0;
            request.source.read = domania_app::import::read_options(crs.as_deref(), invalid_policy(*invalid))?;
            request.source.read.reject_overlaps = *no_overlaps;
            request.source.encoding.clone_from(encoding);
            request.skip_invalid = *skip_invalid;
            let outcome = import(cli, &app, &request)?;
            print_version(&outcome.version, cli.json)
        }
        Command::Layers => {
            let layers = app.layers()?;
            if cli.json {
                return json(&layers);
            }
            crate::outln!("{:<12} {:>8} {:>10} {:>12}", "layer", "version", "features", "history rows")?;
            for l in layers {
                let v = l.version.map_or_else(|| "-".to_owned(), |v| v.to_string());
                crate::outln!("{:<12} {:>8} {:>10} {:>12}", l.layer.table(), v, l.features, l.history_rows)?;
            }
            Ok(())
        }
        Command::Scopes { layer } => {
            let scopes = app.scopes(*layer)?;
            if cli.json {
                return json(&scopes);
            }
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
            Ok(())
        }
        Command::Store { command: StoreCommand::Copy { from, to } } => {
            let from_app = App::new(from.clone(), cli.config.as_deref())?
                .with_wait(Duration::from_secs(cli.wait), Arc::new(tell_wait));
            let report = from_app.copy_store(to, &|line| eprintln!("{line}"))?;
            if cli.json {
                return json(&report);
            }
            crate::outln!(
                "copied {} to {}: {} versions, {} tokens, {} versions of the rules",
                report.from,
                report.to,
                report.versions,
                report.tokens,
                report.rules_versions
            )?;
            layer_rows(&report.layers)
        }
        Command::Store { command: StoreCommand::Verify { mark } } => {
            let (report, marked) = app.verify_store(*mark)?;
            if cli.json {
                let mut value = serde_json::to_value(&report)?;
                value["marked"] = marked.into();
                json(&value)?;
            } else {
                let rows: usize = report.layers.values().map(|(c, h)| c + h).sum();
                crate::outln!("{}: {rows} rows read, engine check: {}", report.store, report.engine)?;
                layer_rows(&report.layers)?;
                for a in &report.altered {
                    let when = a.v_to.map_or_else(
                        || format!("current, since v{}", a.v_from),
                        |to| format!("history, v{}–v{to}", a.v_from),
                    );
                    let what = match (a.geometry, a.attributes) {
                        (true, true) => "geometry and attributes",
                        (true, false) => "geometry",
                        _ => "attributes",
                    };
                    crate::outln!("  changed outside Domania: {} {} ({when}): {what}", a.layer, a.key)?;
                }
                for m in &report.miscounted {
                    crate::outln!(
                        "  {}: {} current rows where its versions add up to {}, {} history rows where they add \
                         up to {}",
                        m.layer,
                        m.current.0,
                        m.current.1,
                        m.history.0,
                        m.history.1
                    )?;
                }
                if *mark {
                    crate::outln!(
                        "marked {marked} current row(s): the next import of their source file replaces them \
                         (a new version; the edited state goes to the history)"
                    )?;
                }
            }
            let history = report.altered.iter().filter(|a| a.v_to.is_some()).count();
            if *mark && history > 0 {
                bail!(
                    "{history} row(s) of the history are not as Domania wrote them: changed outside Domania; \
                     what they held is lost"
                );
            }
            if !*mark && !report.altered.is_empty() {
                bail!(
                    "{} row(s) are not as Domania wrote them: changed outside Domania, with no version, \
                     so figures drawn from them cannot be trusted. Re-importing the same file does not undo such \
                     an edit (an import compares the file with what Domania wrote): `domania store verify --mark` \
                     makes the next import replace them",
                    report.altered.len()
                );
            }
            if let Some(m) = report.miscounted.first() {
                bail!(
                    "{}: rows were deleted or added outside Domania (row counts not what the versions add up \
                     to{}). Nothing tells which rows; an import of their source file puts a deleted current row \
                     back, but no version records the deletion, so the count stays off",
                    report.miscounted.iter().map(|m| m.layer.as_str()).collect::<Vec<_>>().join(", "),
                    if report.miscounted.len() == 1 {
                        format!(": {} current rows for {}", m.current.0, m.current.1)
                    } else {
                        String::new()
                    }
                );
            }
            if report.engine != "ok" {
                bail!("the store's engine reports: {}", report.engine);
            }
            Ok(())
        }
        Command::Dump => {
            let mut text = app.dump()?.join("\n");
            text.push('\n');
            out(&text)
        }
        Command::History { layer } => {
            let history = app.history(*layer)?;
            if cli.json {
                return json(&history);
            }
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
            Ok(())
        }
        Command::Diff { layer, v1, v2 } => {
            let d = app.diff(*layer, *v1, *v2)?;
            if cli.json {
                return json(&d);
            }
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
            Ok(())
        }
        Command::Rollback { layer, version, scope, author } => {
            let info = app.rollback(*layer, *version, scope.clone(), &author_name(author.as_deref()))?;
            print_version(&info, cli.json)
        }
        Command::Parcel { idu } => parcel(cli, &app, idu),
        Command::Owners => {
            let list = app.owners()?;
            if cli.json { json(&list) } else { csv(cli, &list) }
        }
        Command::Validate { file, kind, crs, invalid } => {
            let layer = match kind {
                Some(k) => *k,
                None => domania_app::import::guess_layer(file)?,
            };
            let mut source = Source::new(layer, file);
            source.read = domania_app::import::read_options(crs.as_deref(), invalid_policy(*invalid))?;
            let report = app.validate(&source)?;
            if cli.json {
                json(&report)?;
            } else {
                crate::outln!("{report}")?;
                out(&report.render_issues(50))?;
            }
            if report.is_clean() {
                Ok(())
            } else {
                bail!("{}: {} feature(s) or line(s) rejected", file.display(), report.rejected)
            }
        }
        Command::Synth { parcels, seed, out: dir, departements } => {
            let t = std::time::Instant::now();
            let parcels = usize::try_from(*parcels).context("--parcels is too large for this machine")?;
            let s = match departements {
                None => domania_io::synth::generate(parcels, *seed, dir),
                Some(deps) => domania_io::synth::generate_departements(parcels, *seed, deps, dir),
            }
            .with_context(|| format!("generating into {}", dir.display()))?;
            let seconds = t.elapsed().as_secs_f64();
            if cli.json {
                crate::outln!(
                    "{}",
                    serde_json::json!({"parcels": s.parcels, "owner_rows": s.owner_rows, "qpv": s.qpv, "subsectors": s.subsectors,
                        "files": s.files, "seconds": seconds})
                )
            } else {
                crate::outln!(
                    "{} parcels, {} owner rows, {} QPV, {} sub-sectors in {seconds:.2} s → {}",
                    s.parcels,
                    s.owner_rows,
                    s.qpv,
                    s.subsectors,
                    dir.display()
                )
            }
        }
        Command::Shares { zones, format, rules } => {
            let rules = rules.as_deref().map(|p| domania_app::files::rules(Some(p))).transpose()?;
            let layer = match zones {
                ZonesArg::Subsectors => Layer::Subsectors,
                ZonesArg::Qpv => Layer::Qpv,
            };
            let shares = app.shares(layer, rules.as_ref())?;
            warn_overlaps(&shares.report.overlaps);
            match format {
                MapFormat::Csv => csv_with(
                    cli,
                    &domania_app::compute::share_rows(&shares.report.zones),
                    &domania_app::compute::share_header(layer),
                ),
                MapFormat::Json => json(&shares.report),
                MapFormat::Geojson => geojson(&shares.geojson()),
            }
        }
        Command::Assign { judging, format, dry_run } => assign(cli, &app, judging, *format, *dry_run),
        Command::Report { what: ReportKind::Qpv { code, format } } => {
            let report = app.report_qpv(code)?;
            match format {
                MapFormat::Json => json(&report.summary()),
                MapFormat::Csv => csv_with(
                    cli,
                    &domania_app::compute::share_rows(&report.shares.zones),
                    &domania_app::compute::share_header(Layer::Qpv),
                ),
                MapFormat::Geojson => geojson(&report.geojson()),
            }
        }
        Command::Report { what: ReportKind::Tfpb { format } } => {
            let rows = app.report_tfpb()?;
            match format {
                TableFormat::Json => json(&rows),
                TableFormat::Csv => {
                    let rows: Vec<_> = rows.iter().map(domania_app::compute::TfpbRow::csv).collect();
                    csv(cli, &rows)
                }
            }
        }
        Command::Report { what: ReportKind::ServiceLevels { format } } => {
            let rows = domania_app::reports::service_levels(&app.reports()?)?;
            match format {
                TableFormat::Json => json(&rows),
                TableFormat::Csv => csv(cli, &rows),
            }
        }
        Command::Report { what: ReportKind::Annual { year, commune, out, judging } } => {
            let routing = app.routing(serving_rules(&app, judging)?, date_of(judging))?;
            let year = year.unwrap_or_else(|| domania_app::files::today().year());
            let a = domania_app::reports::annual(&app.reports()?, &routing, year, commune.as_deref())?;
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            let stem = out.join(format!("annual-{year}-{}", a.scope));
            for (ext, text) in [("md", &a.markdown), ("svg", &a.svg), ("csv", &a.csv)] {
                let path = stem.with_extension(ext);
                std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            }
            crate::outln!("{}", stem.with_extension("md").display())
        }
        Command::Reports { what } => reports(cli, &app, what),
        Command::Styles { out, source, rules } => {
            // No store is needed: without one (no file, a database without Domania's tables),
            // the built-in rules.
            let stored = if rules.is_none() && app.store_path().exists() {
                match app.stored_rules() {
                    Err(e) if e.code() == domania_app::ErrorCode::StoreMissing => None,
                    other => other?,
                }
            } else {
                None
            };
            let rules = match (rules, stored) {
                (Some(p), _) => domania_app::files::rules(Some(p))?,
                (None, Some(r)) => r,
                (None, None) => domania_app::files::rules(None)?,
            };
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            for name in domania_app::styles::names(&rules.rules) {
                let style = domania_app::styles::style(&rules.rules, &name, source).expect("a listed style exists");
                let path = out.join(format!("{name}.json"));
                std::fs::write(&path, serde_json::to_string_pretty(&style)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                crate::outln!("{}", path.display())?;
            }
            Ok(())
        }
        Command::Perimeters { file, judging, format } => {
            let defs = domania_app::files::PerimetersFile::read(file)?;
            let rules = domania_app::files::rules(judging.rules.as_deref())?;
            let result = app.perimeters(&defs, &rules, date_of(judging)).map_err(|e| e.context(file.display()))?;
            for p in &result.perimeters {
                let f = &p.figures;
                if f.outside_subsectors_m2 > 0.5 {
                    eprintln!(
                        "perimeter {}: {:.0} m² of its {:.0} m² lie outside every sub-sector: no rule assigns them, \
                         they are counted apart (outside_subsectors)",
                        p.id, f.outside_subsectors_m2, f.area_m2
                    );
                }
            }
            match format {
                TableFormat::Json => json(&result.perimeters),
                TableFormat::Csv => csv(cli, &result.rows()),
            }
        }
        Command::Blocks { qpv } => {
            let blocks = app.blocks(qpv)?;
            eprintln!("{} blocks in {qpv} (edit them, then `domania import subsectors FILE`)", blocks.blocks.len());
            geojson(&blocks.geojson())
        }
        Command::Scenario { file, judging, format } => {
            let sc = domania_app::files::ScenarioFile::read(file)?;
            let rules = domania_app::files::rules(judging.rules.as_deref())?;
            let outcome = app.scenario(&sc, &rules, date_of(judging)).map_err(|e| e.context(file.display()))?;
            match format {
                TableFormat::Json => json(&outcome),
                TableFormat::Csv => {
                    let r = &outcome.report;
                    eprintln!(
                        "scenario {:?}: {} sub-sectors change, {} (space, intervention) managers change",
                        outcome.scenario,
                        r.subsectors_changed.len(),
                        r.managers_changed.len()
                    );
                    for tr in &r.transfers {
                        eprintln!("  transfer {}: {}", tr.transfer, tr.note);
                    }
                    for z in &r.subsectors_changed {
                        eprintln!("  before: {}\n  after:  {}", z.decision_before, z.decision_after);
                    }
                    csv(cli, &outcome.rows())
                }
            }
        }
        Command::Demo { dir, serve, bind } => {
            let dir = match dir {
                Some(d) => d.clone(),
                None => demo_dir(cli)?,
            };
            let rules = demo(cli, &app, &dir)?;
            if !serve {
                return Ok(());
            }
            let rules = match rules {
                Some(p) => domania_app::files::rules(Some(&p))?,
                None => domania_app::files::rules(None)?,
            };
            if !cli.json {
                crate::outln!(
                    "\nServing the map. To update a layer from it, an editor token: domania --store {} token create \
                     --name YOU --role editor",
                    cli.store.display()
                )?;
            }
            let options = domania_server::Options {
                bind: *bind,
                private_reads: false,
                limits: domania_server::Limits::default(),
                basemap: None,
            };
            domania_server::run(app, rules, &options).map_err(|e| anyhow::anyhow!("{e}"))
        }
        Command::Serve {
            bind,
            rules,
            private_reads,
            timeout,
            max_upload_mb,
            tile_cache_mb,
            basemap,
            read_replica,
            part,
        } => {
            if let Some(b) = basemap {
                domania_server::check_basemap(b).map_err(|e| anyhow::anyhow!("--basemap: {e}"))?;
            }
            if part.as_ref().is_some_and(|p| {
                p.codes.is_none()
                    || !matches!(p.kind, domania_store::ScopeKind::Departement | domania_store::ScopeKind::Commune)
            }) {
                anyhow::bail!("--part: départements or communes with their codes, e.g. departement=75,92");
            }
            if let Some(r) = read_replica
                && !(matches!(r, domania_store::Location::Postgres(_))
                    && matches!(app.store_path(), domania_store::Location::Postgres(_)))
            {
                anyhow::bail!(
                    "--read-replica: a streaming replica of a PostGIS store, both given as PostgreSQL connection strings \
                     (--store {}, --read-replica {r})",
                    app.store_path()
                );
            }
            let app = app.with_replica(read_replica.clone()).with_served_scope(part.clone());
            // A rules file given wins; else the rules administrators saved in the store; else
            // the built-in ones.
            let rules = match rules {
                Some(p) => domania_app::files::rules(Some(p))?,
                None => match app.stored_rules()? {
                    Some(r) => r,
                    None => domania_app::files::rules(None)?,
                },
            };
            let options = domania_server::Options {
                bind: *bind,
                private_reads: *private_reads,
                limits: domania_server::Limits {
                    timeout: Duration::from_secs(*timeout),
                    max_upload_bytes: max_upload_mb.saturating_mul(1 << 20),
                    tile_cache_bytes: tile_cache_mb.saturating_mul(1 << 20),
                },
                basemap: basemap.clone(),
            };
            domania_server::run(app, rules, &options).map_err(|e| anyhow::anyhow!("{e}"))
        }
        Command::Export { what: ExportCommand::PmtilesSet { dir, departements, layers, minzoom, maxzoom, rules } } => {
            if minzoom > maxzoom {
                bail!("--minzoom {minzoom} is above --maxzoom {maxzoom}");
            }
            let rules = domania_app::files::rules(rules.as_deref())?;
            let req = domania_app::export::PmtilesSetRequest {
                layers: layers.0.clone(),
                min_zoom: *minzoom,
                max_zoom: *maxzoom,
                out_dir: dir.clone(),
                departements: departements.clone(),
            };
            let pb = if cli.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
            pb.set_style(
                ProgressStyle::with_template("{msg} {elapsed_precise} [{bar:30}] {pos}/{len} tiles")
                    .expect("static template"),
            );
            let outcome = app.export_pmtiles_set(&req, &rules, &|dep, done, total| {
                pb.set_message(format!("département {dep}"));
                pb.set_length(total);
                pb.set_position(done);
            });
            pb.finish_and_clear();
            let o = outcome?;
            if cli.json {
                return json(&o);
            }
            for a in &o.archives {
                crate::outln!(
                    "{}: département {}, {} tiles, {:.1} MB, in {:.1} s",
                    a.outcome.out.display(),
                    a.departement,
                    a.outcome.tiles,
                    a.outcome.bytes as f64 / 1e6,
                    a.outcome.seconds
                )?;
            }
            crate::outln!(
                "{}: the index of {} archives; {} styles in {}; {:.1} s in all",
                o.index.display(),
                o.archives.len(),
                o.styles.len(),
                dir.join("styles").display(),
                o.seconds
            )
        }
        Command::Export { what: ExportCommand::Ogr { layer, out, driver, rules, date } } => {
            let rules = domania_app::files::rules(rules.as_deref())?;
            let req = domania_app::export::OgrRequest { layer: *layer, out: out.clone(), driver: driver.clone() };
            let o = app.export_ogr(&req, &rules, date.unwrap_or_else(domania_app::files::today))?;
            if cli.json {
                json(&o)
            } else {
                crate::outln!("{}: {} {} features ({})", o.out.display(), o.features, o.layer, o.driver)
            }
        }
        Command::Export { what: ExportCommand::Pmtiles { out, layers, minzoom, maxzoom, rules } } => {
            if minzoom > maxzoom {
                bail!("--minzoom {minzoom} is above --maxzoom {maxzoom}");
            }
            let rules = domania_app::files::rules(rules.as_deref())?;
            let req = domania_app::export::PmtilesRequest {
                layers: layers.0.clone(),
                min_zoom: *minzoom,
                max_zoom: *maxzoom,
                out: out.clone(),
            };
            let pb = if cli.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
            pb.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} tiles ({eta} left)")
                    .expect("static template"),
            );
            let outcome = app.export_pmtiles(&req, &rules, &|done, total| {
                pb.set_length(total);
                pb.set_position(done);
            });
            pb.finish_and_clear();
            let o = outcome?;
            if cli.json {
                json(&o)
            } else {
                crate::outln!(
                    "{}: {} tiles ({} distinct, {} empty left out), {:.1} MB, tiles median {} B, largest {} B, in {:.1} s ({:.1} s encoding)",
                    o.out.display(),
                    o.tiles,
                    o.contents,
                    o.empty,
                    o.bytes as f64 / 1e6,
                    o.median_tile_bytes,
                    o.max_tile_bytes,
                    o.seconds,
                    o.encode_seconds
                )?;
                if o.tiles_coarsened > 0 {
                    eprintln!(
                        "domania: {} tiles were drawn with a coarser outline (up to {}x the tolerance) to stay under {} kB",
                        o.tiles_coarsened,
                        domania_tiles::layers::COARSEST,
                        domania_tiles::layers::TileOptions::default().max_bytes / 1000
                    );
                }
                if o.tiles_over_budget > 0 {
                    let what: Vec<String> = o.dropped_features.iter().map(|(l, n)| format!("{n} {l}")).collect();
                    eprintln!(
                        "domania: {} tiles were still over {} kB; their smallest features were left out: {}",
                        o.tiles_over_budget,
                        domania_tiles::layers::TileOptions::default().max_bytes / 1000,
                        what.join(", ")
                    );
                }
                Ok(())
            }
        }
        Command::Token { what } => match what {
            TokenCommand::Create { name, role } => {
                let role = match role {
                    RoleArg::Viewer => Role::Viewer,
                    RoleArg::Reporter => Role::Reporter,
                    RoleArg::Editor => Role::Editor,
                    RoleArg::Admin => Role::Admin,
                };
                let secret = app.create_token(name, role)?;
                eprintln!("domania: token {name:?} ({}) created; its secret is shown only now", role.as_str());
                crate::outln!("{secret}")
            }
            TokenCommand::List => {
                let tokens = app.tokens()?;
                if cli.json {
                    return json(&tokens);
                }
                for t in &tokens {
                    let state = t.revoked_at.as_deref().map_or_else(|| "live".to_owned(), |r| format!("revoked {r}"));
                    crate::outln!("{:<24} {:<7} created {}  {state}", t.name, t.role, t.created_at)?;
                }
                Ok(())
            }
            TokenCommand::Revoke { name } => {
                app.revoke_token(name)?;
                eprintln!("domania: token {name:?} revoked");
                Ok(())
            }
        },
    }
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("static template"));
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Imports with a spinner on standard error (none with --json), then lists what the reader
/// reported on the features it kept.
fn import(cli: &Cli, app: &App, request: &ImportRequest) -> Result<ImportOutcome> {
    let file = request.source.file.display().to_string();
    let pb = if cli.json { ProgressBar::hidden() } else { spinner(format!("importing {file}")) };
    let progress = |p: Progress| match p {
        Progress::Rows { rows } => pb.set_message(format!("importing {file}: {rows} rows")),
        Progress::Committing { rows } => pb.set_message(format!("importing {file}: committing {rows} rows")),
    };
    let outcome = app.import(request, &progress);
    pb.finish_and_clear();
    let outcome = outcome?;
    if !outcome.report.issues.is_empty() {
        eprint!("{}", outcome.report.render_issues(20));
    }
    Ok(outcome)
}

fn print_version(v: &VersionInfo, as_json: bool) -> Result<()> {
    if as_json {
        json(v)
    } else if v.unchanged {
        crate::outln!(
            "{}: unchanged, still version {} ({} features of {} identical to the store)",
            v.layer,
            v.version,
            v.features,
            v.scope
        )
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
        )
    }
}

/// One line for the overlaps (the JSON output lists them all).
fn warn_overlaps(overlaps: &[(String, String, f64)]) {
    let Some((a, b, m2)) = overlaps.iter().max_by(|x, y| x.2.total_cmp(&y.2)) else { return };
    let total: f64 = overlaps.iter().map(|o| o.2).sum();
    eprintln!(
        "warning: {} pairs of parcels overlap ({total:.2} m² in all, largest {a}/{b} {m2:.2} m²); each overlap is counted once",
        overlaps.len()
    );
}

fn parcel(cli: &Cli, app: &App, spelled: &str) -> Result<()> {
    let idu = domania_core::Idu::normalise(spelled)?;
    if idu.as_str() != spelled {
        eprintln!("domania: read {spelled:?} as the IDU {idu}");
    }
    let p = app.parcel(&idu)?;
    if cli.json {
        return json(&p);
    }
    crate::outln!("parcel {} (since version {})", p.idu, p.version)?;
    match (p.contenance_m2, p.gap_m2) {
        (Some(c), Some(g)) => crate::outln!(
            "  area {:.2} m² (Lambert-93), contenance {c} m², gap {g:+.2} m² ({:+.2} %)",
            p.area_m2,
            g / c as f64 * 100.0
        )?,
        _ => crate::outln!("  area {:.2} m² (Lambert-93), no contenance", p.area_m2)?,
    }
    crate::outln!("  actor: {} ({})", p.actor, p.actor.label_fr())?;
    if p.owners.is_empty() && p.owner_file {
        crate::outln!("  no legal person holds right P in the owner file of its commune: held by natural persons")?;
    } else if p.owners.is_empty() {
        let commune = &p.idu[0..5];
        let dep = domania_store::ScopeKind::Departement.code_of(commune).unwrap_or(commune);
        crate::outln!(
            "  owner unknown: no owner file covers commune {commune} (import the PPM file of département {dep})"
        )?;
    }
    for o in &p.owners {
        crate::outln!("  owner {} {} → {} by {} ({})", o.siren, o.name, o.actor, o.decided_by.as_str(), o.why)?;
    }
    for r in &p.other_rights {
        crate::outln!("  right {} {} {}", r.droit, r.siren, r.name)?;
    }
    Ok(())
}

fn assign(cli: &Cli, app: &App, judging: &Judging, format: MapFormat, dry_run: bool) -> Result<()> {
    let rules = domania_app::files::rules(judging.rules.as_deref())?;
    let date = date_of(judging);
    let assigned = app.assign(&rules, date, !dry_run, format == MapFormat::Geojson)?;
    match format {
        MapFormat::Json => json(&assigned.report)?,
        MapFormat::Geojson => geojson(&assigned.geojson())?,
        MapFormat::Csv => csv(cli, &assigned.rows())?,
    }
    if let Some(v) = &assigned.recorded {
        if v.unchanged {
            eprintln!("spaces layer: unchanged, still version {} ({} spaces)", v.version, v.features);
        } else {
            eprintln!(
                "spaces layer: version {} ({} spaces, {} changed since the previous version)",
                v.version,
                v.features,
                v.added + v.changed + v.removed
            );
        }
    }
    let s = assigned.summary;
    eprintln!(
        "{} sub-sectors ({} delegated, {} needing a convention), {} spaces, {} unassigned (space, intervention) pairs, judged on {date}",
        s.subsectors, s.delegated, s.needing_convention, s.spaces, s.unassigned
    );
    Ok(())
}

/// The main job; returns the rules file it applied, if any.
/// The demo territory of data/ (made by `domania synth`), built into the binary so that
/// `domania demo` runs anywhere, not only in the repository.
const DEMO_FILES: [(&str, &[u8]); 8] = [
    ("territory.toml", include_bytes!("../../../data/territory.toml")),
    ("rules.toml", include_bytes!("../../../data/rules.toml")),
    ("cadastre-synth-parcelles.json", include_bytes!("../../../data/cadastre-synth-parcelles.json")),
    ("ppm-synth.csv", include_bytes!("../../../data/ppm-synth.csv")),
    ("qpv-synth.geojson", include_bytes!("../../../data/qpv-synth.geojson")),
    ("subsectors-synth.geojson", include_bytes!("../../../data/subsectors-synth.geojson")),
    ("perimeters-example.toml", include_bytes!("../../../data/perimeters-example.toml")),
    ("scenario-example.toml", include_bytes!("../../../data/scenario-example.toml")),
];

/// The folder of `domania demo` without `--dir`: data/ when it holds a territory, else
/// domania-demo/, where the built-in territory is written (a file already there and equal is
/// left as it is, so a second run imports nothing new).
fn demo_dir(cli: &Cli) -> Result<std::path::PathBuf> {
    let data = std::path::PathBuf::from("data");
    if data.join("territory.toml").is_file() {
        return Ok(data);
    }
    let dir = std::path::PathBuf::from("domania-demo");
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    for (name, bytes) in DEMO_FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(bytes) {
            std::fs::write(&path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
    }
    if !cli.json {
        eprintln!("no data/ here: the built-in demo territory is in {}/", dir.display());
    }
    Ok(dir)
}

fn demo(cli: &Cli, app: &App, dir: &std::path::Path) -> Result<Option<std::path::PathBuf>> {
    let on_import = |o: &ImportOutcome| {
        if !cli.json {
            // A closed pipe is noticed by the summary's first line.
            let _ = print_version(&o.version, false);
        }
    };
    let outcome = app.demo(dir, &|_| {}, &on_import)?;
    let rules = outcome.management.as_ref().map(|m| m.rules.clone());
    if cli.json {
        crate::outln!("{}", serde_json::to_string(&outcome)?)?;
        return Ok(rules);
    }
    crate::outln!("\nLand by actor (Lambert-93 areas), store {}:", cli.store.display())?;
    crate::outln!("{:<22} {:>8} {:>14} {:>8}", "actor", "parcels", "area m²", "share")?;
    for a in &outcome.by_actor {
        crate::outln!("{:<22} {:>8} {:>14.0} {:>7.2}%", a.actor.as_str(), a.parcels, a.area_m2, a.share * 100.0)?;
    }
    if let Some(m) = &outcome.management {
        crate::outln!(
            "\nManagement ({}): {} sub-sectors, {} needing a convention, {} spaces assigned per intervention kind",
            m.rules.display(),
            m.subsectors,
            m.needing_convention,
            m.spaces
        )?;
        if !m.delegated.is_empty() {
            crate::outln!("  delegated:")?;
            for d in &m.delegated {
                crate::outln!("  {d}")?;
            }
        }
        if !m.conventions_needed.is_empty() {
            crate::outln!("  needing a convention:")?;
            for d in &m.conventions_needed {
                crate::outln!("  {d}")?;
            }
        }
        crate::outln!("  (details: domania assign --rules {}; domania shares)", m.rules.display())?;
    }
    crate::outln!("done in {:.2} s", outcome.seconds)?;
    Ok(rules)
}
