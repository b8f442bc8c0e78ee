//! The commands, grouped as the help lists them: the store and its versions ([`store`]), the
//! land and who manages it ([`land`]), service requests ([`requests`]), serving and publishing
//! ([`publish`]), and the demo ([`demo`]). Each parses what `main` could not type, calls the
//! application (`domania-app`) and presents its result: text for a person, CSV, JSON or
//! GeoJSON from the result's own fields. Nothing is computed here.

mod demo;
mod land;
mod publish;
mod requests;
mod store;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use domania_app::App;
use domania_app::geojson::FeatureCollection;
use domania_app::table::{Row, to_csv};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::{Cli, Command, Judging};

/// Writes to standard output (a closed pipe ends the command quietly, see `output`).
fn out(text: &str) -> Result<()> {
    crate::output::emit(text)
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    out(&(serde_json::to_string_pretty(value)? + "\n"))
}

fn csv<T: Row>(cli: &Cli, rows: &[T]) -> Result<()> {
    table(cli, &to_csv(rows, cli.delimiter, T::HEADER)?)
}

/// A table whose first column is named after its layer.
fn csv_with<T: Serialize>(cli: &Cli, rows: &[T], header: &[&str]) -> Result<()> {
    table(cli, &to_csv(rows, cli.delimiter, header)?)
}

/// A table: for a French spreadsheet when the language is French and no `--format` was
/// asked, as programs read CSV otherwise.
fn table(cli: &Cli, text: &str) -> Result<()> {
    let lang = cli.language();
    if lang == domania_app::i18n::Lang::Fr && !cli.format_given {
        out(&domania_app::table::spreadsheet(text, cli.delimiter, lang)?)
    } else {
        out(text)
    }
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
        .with_wait(Duration::from_secs(cli.wait), Arc::new(tell_wait))
        // Where a server keeps its snapshot file (`serve --snapshot-dir` says it again):
        // `shares` reads the sub-sectors' shares from it when it is current.
        .with_snapshot_dir(std::env::var_os("DOMANIA_SNAPSHOT_DIR").map(std::path::PathBuf::from)))
}

fn author_name(author: Option<&str>) -> String {
    author
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn date_of(judging: &Judging) -> domania_app::Date {
    judging.date.unwrap_or_else(domania_app::files::today)
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("static template"));
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Makes the edits saved into a GeoPackage store in QGIS versions before the command reads
/// the store, and says so; edits that cannot be read or written now wait for the next
/// command, said too.
fn absorb_edits(cli: &Cli, app: &App) {
    let lang = cli.language();
    let sep = if lang == domania_app::i18n::Lang::Fr { " : " } else { ": " };
    let absorbed = match app.absorb_edits() {
        Ok(absorbed) => absorbed,
        Err(e) => {
            let why = e.text(lang, domania_app::Audience::Cli);
            eprintln!("domania{sep}{}", lang.t("edits-waiting", &[("why", why.into())]));
            Vec::new()
        }
    };
    for absorbed in absorbed {
        if let Some(text) = absorbed.text(lang, domania_app::Audience::Cli) {
            eprintln!("domania{sep}{text}");
        }
    }
}

pub fn run(cli: &Cli) -> Result<()> {
    let app = app(cli)?;
    if !matches!(
        cli.command,
        Command::Init { .. }
            | Command::Validate { .. }
            | Command::Serve { .. }
            | Command::Synth { .. }
            | Command::Demo { .. }
    ) {
        absorb_edits(cli, &app);
    }
    match &cli.command {
        Command::Init { .. }
        | Command::Import { .. }
        | Command::Layers
        | Command::Scopes { .. }
        | Command::History { .. }
        | Command::Diff { .. }
        | Command::Rollback { .. }
        | Command::Dump
        | Command::Store { .. }
        | Command::Validate { .. } => store::run(cli, &app),
        Command::Parcel { .. }
        | Command::Search { .. }
        | Command::Owners
        | Command::Shares { .. }
        | Command::Assign { .. }
        | Command::Scenario { .. }
        | Command::Perimeters { .. }
        | Command::Blocks { .. }
        | Command::Cahier { .. }
        | Command::Report { .. } => land::run(cli, &app),
        Command::Requests { what } => requests::run(cli, &app, what),
        Command::Serve { .. } | Command::Export { .. } | Command::Styles { .. } | Command::Token { .. } => {
            publish::run(cli, app)
        }
        Command::Synth { .. } | Command::Demo { .. } => demo::run(cli, app),
    }
}
