//! The land and who manages it: a parcel, the owners, shares, the management rules applied,
//! scenarios of transfers, procedure perimeters, blocks, and the land reports (a QPV, TFPB).

use anyhow::{Context as _, Result};
use domania_app::i18n::Lang;
use domania_app::{App, Layer};

use super::{csv, csv_with, date_of, geojson, json};
use crate::{Cli, Command, Judging, MapFormat, ReportKind, TableFormat, ZonesArg};

pub(super) fn run(cli: &Cli, app: &App) -> Result<()> {
    match &cli.command {
        Command::Parcel { idu } => parcel(cli, app, idu),
        Command::Search { query, limit } => {
            let snap = app.snapshot()?;
            let index = domania_app::search::SearchIndex::build(&snap);
            let limit = (*limit).clamp(1, domania_app::search::MAX_HITS);
            let hits = domania_app::search::find(&snap, &index, query, limit, cli.language());
            let answer = domania_app::search::answer(query, &hits);
            if cli.json {
                return json(&answer);
            }
            for h in &answer.hits {
                let [w, s, e, n] = h.bbox;
                crate::outln!("{}\t{:.6},{:.6},{:.6},{:.6}", h.hit.label, w, s, e, n)?;
            }
            Ok(())
        }
        Command::Owners => {
            let list = app.owners()?;
            if cli.json { json(&list) } else { csv(cli, &list) }
        }
        Command::Shares { zones, format, rules } => {
            let rules = rules.as_deref().map(|p| domania_app::files::rules(Some(p))).transpose()?;
            let layer = match zones {
                ZonesArg::Subsectors => Layer::Subsectors,
                ZonesArg::Qpv => Layer::Qpv,
            };
            let shares = app.shares(layer, rules.as_ref())?;
            warn_overlaps(&shares.report.overlaps, cli.language());
            match format {
                MapFormat::Csv => csv_with(
                    cli,
                    &domania_app::shares::share_rows(&shares.report.zones),
                    &domania_app::shares::share_header(layer),
                ),
                MapFormat::Json => json(&shares.report),
                MapFormat::Geojson => geojson(&shares.geojson()),
            }
        }
        Command::Assign { judging, format, dry_run } => assign(cli, app, judging, *format, *dry_run),
        Command::Cahier { subsector, out, judging } => {
            let held = super::requests::held(app, judging)?;
            let pdf = app.cahier_pdf(&held, subsector)?;
            std::fs::write(out, pdf).with_context(|| format!("writing {}", out.display()))?;
            crate::outln!("{}", out.display())
        }
        Command::Report { what: ReportKind::Qpv { code, format } } => {
            let report = app.report_qpv(code)?;
            match format {
                MapFormat::Json => json(&report.summary()),
                MapFormat::Csv => csv(cli, &report.rows()),
                MapFormat::Geojson => geojson(&report.geojson()),
            }
        }
        Command::Report { what: ReportKind::Tfpb { format } } => {
            let rows = app.report_tfpb()?;
            match format {
                TableFormat::Json => json(&rows),
                TableFormat::Csv => {
                    let rows: Vec<_> = rows.iter().map(domania_app::qpv::TfpbRow::csv).collect();
                    csv(cli, &rows)
                }
            }
        }
        Command::Report { what: ReportKind::ServiceLevels { format, pdf, judging } } => {
            if let Some(path) = pdf {
                let held = super::requests::held(app, judging)?;
                let bytes = app.desk()?.service_levels_pdf(&held)?;
                std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
            }
            super::requests::service_levels(cli, app, *format)
        }
        Command::Report { what: ReportKind::Annual { year, commune, out, judging } } => {
            super::requests::annual(app, *year, commune.as_deref(), out, judging)
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
            let outcome =
                app.scenario(&sc, &rules, date_of(judging), cli.language()).map_err(|e| e.context(file.display()))?;
            match format {
                TableFormat::Json => json(&outcome),
                TableFormat::Csv => {
                    let r = &outcome;
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
        _ => unreachable!("a command of the land"),
    }
}

/// One line for the overlaps (the JSON output lists them all).
fn warn_overlaps(overlaps: &[(String, String, f64)], lang: Lang) {
    let Some((a, b, m2)) = overlaps.iter().max_by(|x, y| x.2.total_cmp(&y.2)) else { return };
    let total: f64 = overlaps.iter().map(|o| o.2).sum();
    let area = |m2: f64| domania_app::i18n::format::area_m2(m2, 2, lang);
    eprintln!(
        "{}",
        lang.t(
            "warning-overlaps",
            &[
                ("count", overlaps.len().into()),
                ("total", area(total).into()),
                ("a", a.as_str().into()),
                ("b", b.as_str().into()),
                ("largest", area(*m2).into()),
            ],
        )
    );
}

fn parcel(cli: &Cli, app: &App, spelled: &str) -> Result<()> {
    let idu = domania_app::parcels::parse_idu(spelled)?;
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
        let dep = domania_app::ScopeKind::Departement.code_of(commune).unwrap_or(commune);
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
    let assigned = app.assign(&rules, date, !dry_run, format == MapFormat::Geojson, cli.language())?;
    match format {
        MapFormat::Json => json(&assigned.view(cli.language()))?,
        MapFormat::Geojson => geojson(&assigned.geojson())?,
        MapFormat::Csv => csv(cli, &assigned.rows(cli.language()))?,
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
