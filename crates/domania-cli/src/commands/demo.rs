//! The demo (the main job on a territory folder, then its map) and the synthetic territories.

use anyhow::{Context as _, Result};
use domania_app::App;
use domania_app::i18n::{Arg, Lang, format};
use domania_app::import::ImportOutcome;

use super::store::print_version;
use crate::{Cli, Command};

pub(super) fn run(cli: &Cli, app: App) -> Result<()> {
    match &cli.command {
        Command::Synth { parcels, seed, out: dir, departements } => {
            let parcels = usize::try_from(*parcels).context("--parcels is too large for this machine")?;
            let s = domania_app::synth::generate(parcels, *seed, dir, departements.as_deref())?;
            let seconds = s.seconds;
            if cli.json {
                crate::outln!("{}", serde_json::to_string(&s)?)
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
                public_url: domania_server::public_url::PublicUrl::default(),
                cors_origins: Vec::new(),
            };
            domania_server::run(app, rules, &options).map_err(|e| anyhow::anyhow!("{e}"))
        }
        _ => unreachable!("a command of the demo"),
    }
}

/// The main job; returns the rules file it applied, if any.
/// The demo territory of data/ (made by `domania synth`), built into the binary so that
/// `domania demo` runs anywhere, not only in the repository.
const DEMO_FILES: [(&str, &[u8]); 8] = [
    ("territory.toml", include_bytes!("../../../../data/territory.toml")),
    ("rules.toml", include_bytes!("../../../../data/rules.toml")),
    ("cadastre-synth-parcelles.json", include_bytes!("../../../../data/cadastre-synth-parcelles.json")),
    ("ppm-synth.csv", include_bytes!("../../../../data/ppm-synth.csv")),
    ("qpv-synth.geojson", include_bytes!("../../../../data/qpv-synth.geojson")),
    ("subsectors-synth.geojson", include_bytes!("../../../../data/subsectors-synth.geojson")),
    ("perimeters-example.toml", include_bytes!("../../../../data/perimeters-example.toml")),
    ("scenario-example.toml", include_bytes!("../../../../data/scenario-example.toml")),
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
            let _ = print_version(&o.version, false, cli.language());
        }
    };
    let outcome = app.demo(dir, cli.language(), &|_| {}, &on_import)?;
    let rules = outcome.management.as_ref().map(|m| m.rules.clone());
    if cli.json {
        crate::outln!("{}", serde_json::to_string(&outcome)?)?;
        return Ok(rules);
    }
    let lang = cli.language();
    let t = |id: &str, args: &[(&str, Arg)]| lang.t(id, args);
    let store = cli.store.display().to_string();
    crate::outln!("\n{}", t("demo-land", &[("store", store.into())]))?;
    let head = |id: &str| t(id, &[]);
    crate::outln!(
        "{:<34} {:>10} {:>14} {:>8}",
        head("demo-actor"),
        head("demo-parcels"),
        head("demo-area"),
        head("demo-share")
    )?;
    for a in &outcome.by_actor {
        let actor = if lang == Lang::Fr { a.actor.label_fr() } else { a.actor.as_str() };
        let area = format::number(a.area_m2, 0, lang);
        let parcels = format::number(a.parcels as f64, 0, lang);
        crate::outln!("{actor:<34} {parcels:>10} {area:>14} {:>8}", format::percent(a.share, 2, lang))?;
    }
    if let Some(m) = &outcome.management {
        let rules = m.rules.display().to_string();
        let args = [
            ("rules", Arg::from(rules.as_str())),
            ("subsectors", m.subsectors.into()),
            ("conventions", m.needing_convention.into()),
            ("spaces", m.spaces.into()),
        ];
        crate::outln!("\n{}", t("demo-management", &args))?;
        for (id, list) in [("demo-delegated", &m.delegated), ("demo-conventions", &m.conventions_needed)] {
            if !list.is_empty() {
                crate::outln!("  {}", head(id))?;
                for d in list {
                    crate::outln!("  {d}")?;
                }
            }
        }
        crate::outln!("  {}", t("demo-details", &[("rules", rules.into())]))?;
    }
    crate::outln!("{}", t("demo-done", &[("seconds", format::number(outcome.seconds, 2, lang).into())]))?;
    Ok(rules)
}
