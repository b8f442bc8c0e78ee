//! The store and its versions: create, import, list layers and parts, history, diffs,
//! rollbacks, the logical dump, copies and verification, and files checked without importing.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use domania_app::i18n::Lang;
use domania_app::import::{ImportOutcome, ImportRequest, Progress, Source};
use domania_app::{App, InvalidPolicy, VersionInfo};
use indicatif::ProgressBar;

use super::{author_name, json, out, spinner, tell_wait};
use crate::{Cli, Command, InvalidArg, StoreCommand};

fn invalid_policy(invalid: InvalidArg) -> InvalidPolicy {
    match invalid {
        InvalidArg::Repair => InvalidPolicy::Repair,
        InvalidArg::Reject => InvalidPolicy::Reject,
    }
}

/// A store's rows by layer (current, history), a line each: what `store copy` moved and
/// `store verify` read.
fn layer_rows(layers: &std::collections::BTreeMap<String, (usize, usize)>) -> Result<()> {
    for (layer, (current, history)) in layers {
        crate::outln!("  {layer:<12} {current:>9} current rows {history:>9} history rows")?;
    }
    Ok(())
}

pub(super) fn run(cli: &Cli, app: &App) -> Result<()> {
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
            files,
            last_part,
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
            let mut request = ImportRequest::new(*kind, &files[0], &author_name(author.as_deref()));
            request.source.more = files[1..].to_vec();
            request.source.last_part = *last_part;
            if let Some(s) = scope {
                request = request.scope(s.clone())?;
            }
            request.options.force = *force;
            request.options.max_removed = *max_removed / 100.0;
            request.source.read = domania_app::import::read_options(crs.as_deref(), invalid_policy(*invalid))?;
            request.source.read.reject_overlaps = *no_overlaps;
            request.source.encoding.clone_from(encoding);
            request.skip_invalid = *skip_invalid;
            let outcome = import(cli, app, &request)?;
            print_version(&outcome.version, cli.json, cli.language())
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
            let verified = app.verify_store(*mark)?;
            let (report, marked) = (&verified.report, verified.marked);
            if cli.json {
                json(&verified)?;
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
            if report.engine != domania_app::EngineCheck::Sound {
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
            print_version(&info, cli.json, cli.language())
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
                crate::outln!("{}", domania_app::said::summary(&report, cli.language()))?;
                out(&domania_app::said::issues_text(&report, 50, cli.language()))?;
            }
            if report.is_clean() {
                Ok(())
            } else {
                bail!("{}: {} feature(s) or line(s) rejected", file.display(), report.rejected)
            }
        }
        _ => unreachable!("a command of the store"),
    }
}

/// Imports with a spinner on standard error (none with --json), then lists what the reader
/// reported on the features it kept.
pub(super) fn import(cli: &Cli, app: &App, request: &ImportRequest) -> Result<ImportOutcome> {
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
        eprint!("{}", domania_app::said::issues_text(&outcome.report, 20, cli.language()));
    }
    if !outcome.partly_covered.is_empty() && !cli.json {
        let communes = outcome.partly_covered.join(", ");
        eprintln!("{}", cli.language().t("import-partly-covered", &[("communes", communes.into())]));
    }
    Ok(outcome)
}

pub(super) fn print_version(v: &VersionInfo, as_json: bool, lang: Lang) -> Result<()> {
    if as_json { json(v) } else { crate::outln!("{}", domania_app::said::version(v, lang)) }
}
