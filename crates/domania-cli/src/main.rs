//! `domania`: who owns and who must maintain every piece of ground.

mod commands;
mod compute;

/// mimalloc: the import pipeline allocates rows on the reader thread and frees them on the
/// writer thread, which serialises glibc's malloc on its arena lock (13 % of a 100k import).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Domania: land ownership and management responsibilities of an urban community.
#[derive(Debug, Parser)]
#[command(name = "domania", version, about)]
pub struct Cli {
    /// The GeoPackage store.
    #[arg(long, global = true, env = "DOMANIA_STORE", default_value = "domania.gpkg")]
    pub store: PathBuf,
    /// Territory configuration (TOML: owner SIREN lists and overrides).
    #[arg(long, global = true, env = "DOMANIA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Machine-readable JSON on standard output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a file as a new version of a layer.
    Import {
        kind: ImportKind,
        file: PathBuf,
        /// Source CRS, overriding what the file declares (e.g. EPSG:3949).
        #[arg(long)]
        crs: Option<String>,
        /// What to do with invalid polygons.
        #[arg(long, value_enum, default_value_t = InvalidArg::Repair)]
        invalid: InvalidArg,
        /// Import the valid features even when some are rejected (they are listed in the report
        /// stored with the version). Without it, any rejection aborts and nothing is written.
        #[arg(long)]
        skip_invalid: bool,
        /// Who imports (default: $USER).
        #[arg(long, env = "DOMANIA_AUTHOR")]
        author: Option<String>,
        /// PPM text encoding, overriding detection (utf-8, latin1, windows-1252).
        #[arg(long)]
        encoding: Option<String>,
    },
    /// The layers of the store, their current version and size.
    Layers,
    /// Every version of a layer.
    History { layer: String },
    /// What changed between two versions of a layer.
    Diff { layer: String, v1: i64, v2: i64 },
    /// Make an earlier version current again (written as a new version).
    Rollback {
        layer: String,
        version: i64,
        #[arg(long, env = "DOMANIA_AUTHOR")]
        author: Option<String>,
    },
    /// One parcel: geometric area next to contenance, owners and actor.
    Parcel { idu: String },
    /// Every owner (right P) of the store, its actor and which classification layer decided it.
    Owners,
    /// Check a file without importing it; prints the validation report.
    Validate {
        file: PathBuf,
        /// What the file is (default: guessed from its name and content).
        #[arg(long)]
        kind: Option<ImportKind>,
        #[arg(long)]
        crs: Option<String>,
        #[arg(long, value_enum, default_value_t = InvalidArg::Repair)]
        invalid: InvalidArg,
    },
    /// Generate a synthetic territory in the real formats.
    Synth {
        #[arg(long, default_value_t = 2000)]
        parcels: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Land by actor and owner in every sub-sector (or QPV), with the non-cadastré remainder.
    Shares {
        /// Zones: sub-sectors or QPV.
        #[arg(long, value_enum, default_value_t = ZonesArg::Subsectors)]
        zones: ZonesArg,
        /// csv: one row per (zone, actor, owner) and one `non_cadastre` row per zone; json: the
        /// full report with overlaps and slivers; geojson: the zones with their shares (WGS84).
        #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
        format: FormatArg,
        /// Rules file: its `delegation.include_non_cadastre` decides the denominator of shares.
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
    },
    /// A manager for every space and intervention kind, with its explanation; written to the
    /// store as a new version of the `spaces` layer.
    Assign {
        #[command(flatten)]
        judging: Judging,
        /// Do not write the `spaces` layer into the store.
        #[arg(long)]
        dry_run: bool,
    },
    /// Simulate land transfers (remembrement) on top of the current data, without changing
    /// it: shares, decisions and managers before and after, and what changed.
    Scenario {
        /// Scenario TOML: `name`, then `[[transfer]]` with `idu` or `polygon` (Lambert-93
        /// ring) and `to = { siren, name, actor }`.
        file: PathBuf,
        #[command(flatten)]
        judging: Judging,
    },
    /// Procedure perimeters (polygon, parcels, owners' residences, sub-sectors, merges): the
    /// area each actor manages there per intervention kind (the figures the CLECT evaluates).
    Perimeters {
        /// Perimeters TOML: `[[perimeter]]` with `id` and any of `polygon`, `parcels`, `owners`,
        /// `subsectors`, `merge`.
        file: PathBuf,
        #[command(flatten)]
        judging: Judging,
    },
    /// Candidate sub-sectors: the blocks (îlots) of parcels bounded by non-cadastré space inside
    /// a QPV, as GeoJSON (WGS84) ready to edit and import as sub-sectors.
    Blocks {
        /// QPV code.
        qpv: String,
    },
    /// Reports.
    Report {
        #[command(subcommand)]
        what: ReportKind,
    },
    /// The main job on a territory folder (default: the embedded demo in data/): import every
    /// layer into the store and summarise land ownership by actor.
    Demo {
        #[arg(long, default_value = "data")]
        dir: PathBuf,
    },
}

/// The rules, the date and the output format of the commands that apply the rules.
#[derive(Debug, clap::Args)]
pub struct Judging {
    /// Rules file (TOML, see data/rules.toml).
    #[arg(long, env = "DOMANIA_RULES", default_value = "data/rules.toml")]
    pub rules: PathBuf,
    /// Date the conventions are judged on, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub date: Option<String>,
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// One QPV: land by actor and owner, bailleurs' holdings (TFPB follow-up).
    Qpv {
        code: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Json)]
        format: FormatArg,
    },
    /// TFPB follow-up: per QPV and per bailleur, the parcels and area it holds inside the QPV.
    Tfpb {
        #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
        format: FormatArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ZonesArg {
    Subsectors,
    Qpv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Json,
    Geojson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    Parcels,
    Owners,
    Qpv,
    Subsectors,
    Conventions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvalidArg {
    Repair,
    Reject,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
