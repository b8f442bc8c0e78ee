//! Service requests (reports of dysfunctions, Open311's service requests): list, show, move
//! through their statuses, route again, walking diagnostics; the service levels and the annual
//! report.

use anyhow::{Context as _, Result, anyhow};
use domania_app::App;
use domania_app::requests::sheets::stops;
use domania_app::requests::walks::{read_observations_on, write_lists};
use domania_app::requests::{EventLine, RequestDetail, RequestLine, Status};

use super::{csv, date_of, json};
use crate::{Cli, Judging, RequestsCommand, TableFormat};

/// The snapshot the requests are routed on: the rules a server would apply, on the day asked.
pub(super) fn held(app: &App, judging: &Judging) -> Result<domania_app::held::Held> {
    Ok(app.hold(app.serving_rules(judging.rules.as_deref())?, date_of(judging))?)
}

pub(super) fn run(cli: &Cli, app: &App, what: &RequestsCommand) -> Result<()> {
    match what {
        RequestsCommand::List { status, format } => {
            let statuses = match status {
                Some(s) => vec![Status::parse(s).ok_or_else(|| anyhow!("unknown status {s:?}"))?],
                None => Vec::new(),
            };
            let filter = domania_app::requests::Filter { statuses, ..Default::default() };
            let rows = app.desk()?.list(&filter)?;
            let lines: Vec<RequestLine> = rows.iter().map(RequestLine::from).collect();
            match format {
                TableFormat::Json => json(&lines),
                TableFormat::Csv => csv(cli, &lines),
            }
        }
        RequestsCommand::Show { id } => {
            let (row, events) = app.desk()?.detail(*id)?;
            json(&RequestDetail {
                request: RequestLine::from(&row),
                events: events.iter().map(EventLine::from).collect(),
            })
        }
        RequestsCommand::Status { id, status, note, by, judging } => {
            let to = Status::parse(status).ok_or_else(|| anyhow!("unknown status {status:?}"))?;
            let held = held(app, judging)?;
            let row = app.desk()?.transition(&held, *id, to, note.as_deref(), by, jiff::Timestamp::now())?;
            crate::outln!("request {} is {} ({})", row.id, row.status, row.service_name)
        }
        RequestsCommand::Deliveries { unsent, replay, format } => {
            let desk = app.desk()?;
            if *replay {
                let n = desk.replay_deliveries()?;
                eprintln!("{}", cli.language().t("deliveries-replayed", &[("count", n.into())]));
            }
            let rows = desk.deliveries(*unsent)?;
            match format {
                TableFormat::Json => json(&rows),
                TableFormat::Csv => csv(cli, &rows),
            }
        }
        RequestsCommand::Deliver { public_url, judging } => {
            let mailer = domania_app::requests::notify::Mailer::from_env()?;
            if mailer.is_none() {
                eprintln!("{}", cli.language().t("error-no-smtp", &[]));
            }
            let held = held(app, judging)?;
            let pass = app.desk()?.deliver_due(&held, mailer.as_ref(), public_url.trim_end_matches('/'), usize::MAX)?;
            json(&pass)
        }
        RequestsCommand::Reroute { id, by, judging } => {
            let held = held(app, judging)?;
            let row = app.desk()?.reroute(&held, *id, by, jiff::Timestamp::now())?;
            crate::outln!("request {} now goes to {} ({})", row.id, row.service_name, row.explanation)
        }
        RequestsCommand::WalkSheet { qpv, out, judging } => walk_sheet(app, qpv, out, judging),
        RequestsCommand::Walk { file, out, by, qpv, judging } => {
            let held = held(app, judging)?;
            let route = qpv.as_deref().map(|q| stops(&held, q)).transpose()?;
            let observations = read_observations_on(file, route.as_deref())?;
            let name =
                file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            let made = app.desk()?.walk(&held, observations, &name, by, jiff::Timestamp::now())?;
            let lists = write_lists(&held, &name, &made, out)?;
            for l in &lists {
                crate::outln!("{}: {} reports ({})", l.service, l.requests, l.service_name)?;
            }
            eprintln!(
                "domania: {} observations of {name} routed to {} services; lists in {}",
                made.len(),
                lists.len(),
                out.display()
            );
            Ok(())
        }
    }
}

/// `requests walk-sheet`: the sheet of a walk in a QPV, to print.
pub(super) fn walk_sheet(app: &App, qpv: &str, out: &std::path::Path, judging: &Judging) -> Result<()> {
    let held = held(app, judging)?;
    let pdf = domania_app::requests::sheets::walk_sheet(&held, qpv)?;
    std::fs::write(out, pdf).with_context(|| format!("writing {}", out.display()))?;
    crate::outln!("{}", out.display())
}

/// `report service-levels`.
pub(super) fn service_levels(cli: &Cli, app: &App, format: TableFormat) -> Result<()> {
    let rows = app.desk()?.service_levels()?;
    match format {
        TableFormat::Json => json(&rows),
        TableFormat::Csv => csv(cli, &rows),
    }
}

/// `report annual`: the PDF, the Markdown, its chart, its map and the figures, written in
/// `out`, for `commune`, or for the territory and then each of its communes.
pub(super) fn annual(
    app: &App,
    year: Option<i16>,
    commune: Option<&str>,
    out: &std::path::Path,
    judging: &Judging,
) -> Result<()> {
    let held = held(app, judging)?;
    let year = year.unwrap_or_else(|| domania_app::files::today().year());
    let scopes: Vec<Option<String>> = match commune {
        Some(c) => vec![Some(c.to_owned())],
        None => std::iter::once(None).chain(held.communes().into_iter().map(Some)).collect(),
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let desk = app.desk()?;
    for scope in scopes {
        let a = desk.annual(&held, year, scope.as_deref())?;
        let stem = out.join(format!("annual-{year}-{}", a.scope));
        for (ext, bytes) in [
            ("pdf", a.pdf.as_slice()),
            ("md", a.markdown.as_bytes()),
            ("svg", a.svg.as_bytes()),
            ("csv", a.csv.as_bytes()),
        ] {
            let path = stem.with_extension(ext);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        if let Some(map) = &a.map {
            let path = out.join(format!("annual-{year}-{}-carte.svg", a.scope));
            std::fs::write(&path, map).with_context(|| format!("writing {}", path.display()))?;
        }
        crate::outln!("{}", stem.with_extension("pdf").display())?;
    }
    Ok(())
}
