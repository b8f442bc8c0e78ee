//! `domania`: who owns and who must maintain every piece of ground.

mod commands;
mod output;

/// mimalloc: the import pipeline allocates rows on the reader thread and frees them on the
/// writer thread, which serialises glibc's malloc on its arena lock (13 % of a 100k import).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use domania_app::tiles::TileLayer;
use domania_app::{Layer, Location, Scope};

/// Domania: who owns and who must maintain every piece of ground of an urban community.
///
/// Import the cadastre (Etalab GeoJSON, one commune per file), the DGFiP owner files (PPM, one
/// département per file), QPV, sub-sectors and conventions into one versioned GeoPackage; then
/// compute land shares, apply the management rules, simulate transfers and report.
#[derive(Debug, Parser)]
#[command(name = "domania", version, about, long_about = None)]
pub struct Cli {
    /// The store: a GeoPackage file, or a PostGIS database (`postgresql://USER@HOST/DB`, or
    /// `host=… dbname=…`; TLS by libpq's `sslmode` and `sslrootcert`; what it leaves out, the
    /// password first, from libpq's `PG*` variables and `~/.pgpass`).
    #[arg(long, global = true, env = "DOMANIA_STORE", default_value = "domania.gpkg")]
    pub store: Location,
    /// A SQLite file to keep the reports of dysfunctions in (default: beside a GeoPackage
    /// store, in a PostGIS store's own database).
    #[arg(long, global = true, env = "DOMANIA_REPORTS", value_name = "FILE")]
    pub reports: Option<PathBuf>,
    /// Territory configuration (TOML: owner SIREN lists and overrides).
    #[arg(long, global = true, env = "DOMANIA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Machine-readable JSON on standard output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Field separator of CSV output for programs (`--format csv`; one character, or `tab`).
    /// In French, a table asked without `--format` is written for a French spreadsheet (`;`,
    /// decimal comma, UTF-8 with BOM, French column names).
    #[arg(long, global = true, default_value = ",", value_parser = parse_delimiter)]
    pub delimiter: u8,
    /// How long to wait for a store another process is writing, in seconds.
    #[arg(long, global = true, env = "DOMANIA_WAIT", default_value_t = 30, value_name = "SECONDS")]
    pub wait: u64,
    /// The language of what the command reports (`fr` or `en`): by default the locale's
    /// (`LC_ALL`, `LC_MESSAGES`, `LANG`), French unless it is English.
    #[arg(long, global = true, env = "DOMANIA_LANG", value_parser = parse_lang, value_name = "LANG")]
    pub lang: Option<domania_app::i18n::Lang>,
    /// Whether `--format` was given: a table asked without it is written for a person.
    #[arg(skip)]
    pub format_given: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line, and whether its command was given `--format`.
    fn parsed() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let mut leaf = &matches;
        while let Some((_, sub)) = leaf.subcommand() {
            leaf = sub;
        }
        cli.format_given = leaf
            .try_contains_id("format")
            .is_ok_and(|known| known && leaf.value_source("format") == Some(clap::parser::ValueSource::CommandLine));
        cli
    }

    /// The language of the command's reports: `--lang`, else the locale's.
    #[must_use]
    pub fn language(&self) -> domania_app::i18n::Lang {
        self.lang.unwrap_or_else(|| domania_app::i18n::Lang::from_locale(|v| std::env::var(v).ok()))
    }
}

fn parse_lang(s: &str) -> Result<domania_app::i18n::Lang, String> {
    domania_app::i18n::Lang::parse(s).ok_or_else(|| format!("{s:?}: fr or en"))
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy a whole store — every layer with its history, every version, tokens and rules —
    /// from a GeoPackage to PostGIS or back (or between two of a kind). TO must hold no version,
    /// token nor rules yet (a new file, or a database without a Domania store). Both then give
    /// the same `dump`. Reports of dysfunctions are not copied.
    Copy { from: Location, to: Location },
    /// Check that every row, current and history, is as Domania wrote it (its content against
    /// the hashes written with it), and the engine's own consistency. Lists the rows changed
    /// outside Domania (QGIS, sqlite3, psql); exits with an error when there is any. An import
    /// of the same file would not see them: it compares the file with what Domania wrote. Rows
    /// deleted or added outside Domania show in each layer's count against what its versions
    /// add up to (which rows, nothing tells).
    Verify {
        /// Mark the changed current rows (their hashes become those of what they hold), so that
        /// the next import of their source file replaces them: a new version, whose history
        /// keeps the edited state. Marked rows verify clean from then on: import their source
        /// right after. Rows of the history cannot be restored and stay reported.
        #[arg(long)]
        mark: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty store (an import creates one too). With --adopt, add Domania's layers
    /// to an existing GeoPackage of yours.
    Init {
        /// Add Domania's tables to a GeoPackage that is not a Domania store (never done
        /// without this flag; a table with a Domania layer's name is an error).
        #[arg(long)]
        adopt: bool,
    },
    /// Import a file as a new version of a layer. A cadastre or PPM file replaces only the
    /// communes it holds; the rest of the layer stays as it is.
    Import {
        /// parcels, owners, qpv, subsectors or conventions.
        #[arg(value_parser = imported_layer())]
        kind: Layer,
        /// The file. For owners, several files (or a folder of them) are imported as one
        /// version: the parts of a département's owner file, which a commune can straddle.
        #[arg(required = true, num_args = 1.., value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The owner files are the last part of their département's file: nothing follows their
        /// last commune, which is then whole (without it, the last commune of a part is counted
        /// as partly covered until the next part is imported).
        #[arg(long)]
        last_part: bool,
        /// What the file replaces: `commune` (the default for parcels and owners: the communes
        /// in the file), `section` (a partial extract), `departement`, `layer` (the whole
        /// layer; the only one for qpv, subsectors, conventions), or KIND=CODE[,CODE…]
        /// to name them (a listed part the file does not hold is emptied).
        #[arg(long, value_parser = parse_scope, value_name = "SCOPE")]
        scope: Option<Scope>,
        /// Accept an import the safety checks refuse: one that removes more than --max-removed
        /// of a commune's (or département's) rows, or an empty file with an explicit --scope.
        #[arg(long)]
        force: bool,
        /// Largest share of a scope's rows an import may remove without --force, in per cent.
        #[arg(long, default_value_t = 20.0, value_name = "PCT", value_parser = parse_pct)]
        max_removed: f64,
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
        /// Refuse sub-sectors that overlap (by default each overlapping pair is a warning, with
        /// its area, stored with the version).
        #[arg(long)]
        no_overlaps: bool,
        /// Who imports (default: $USER).
        #[arg(long, env = "DOMANIA_AUTHOR")]
        author: Option<String>,
        /// PPM text encoding, overriding detection (utf-8, latin1, windows-1252).
        #[arg(long)]
        encoding: Option<String>,
    },
    /// The layers of the store, their current version and size.
    Layers,
    /// The parts of a layer (communes, départements) with the version and file each comes from.
    Scopes {
        #[arg(value_parser = parse_layer)]
        layer: Layer,
    },
    /// Every version of a layer.
    History {
        #[arg(value_parser = parse_layer)]
        layer: Layer,
    },
    /// What changed between two versions of a layer.
    Diff {
        #[arg(value_parser = parse_layer)]
        layer: Layer,
        v1: i64,
        v2: i64,
    },
    /// Make an earlier version current again (written as a new version).
    Rollback {
        #[arg(value_parser = parse_layer)]
        layer: Layer,
        version: i64,
        /// Only these parts (e.g. commune=91216); default: the whole layer.
        #[arg(long, value_parser = parse_scope, value_name = "KIND=CODES")]
        scope: Option<Scope>,
        #[arg(long, env = "DOMANIA_AUTHOR")]
        author: Option<String>,
    },
    /// One parcel: geometric area next to contenance, owners and actor. The IDU may be written
    /// loosely (`91216ab37`, `91216 000 AB 0037`).
    Parcel { idu: String },
    /// The search box of the viewer: a commune (name, INSEE code or postcode), a section
    /// (`78440 AB`), a parcel (its IDU or its end), an address or a street (`12 rue Ordener`,
    /// `12 R ORDENER 75018`, typos forgiven: from the BAN's `addresses` layer, else from the
    /// owner file's street addresses), an owner (SIREN or part of the name), a QPV or a
    /// sub-sector; each hit with the box to zoom to (CRS84).
    Search {
        /// What to look for.
        query: String,
        /// The most hits (1 to 50).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Every owner (right P) of the store, its actor and which classification layer decided it.
    Owners,
    /// A logical dump of the store (versions, and every row's key, version range and content
    /// hashes), sorted: two stores holding the same data give the same dump.
    Dump,
    /// Moving a whole store between engines.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Check a file without importing it; prints the validation report.
    Validate {
        file: PathBuf,
        /// What the file is (default: guessed from its name).
        #[arg(long, value_parser = imported_layer())]
        kind: Option<Layer>,
        #[arg(long)]
        crs: Option<String>,
        #[arg(long, value_enum, default_value_t = InvalidArg::Repair)]
        invalid: InvalidArg,
    },
    /// Generate a synthetic territory in the real formats.
    Synth {
        /// Number of parcels (1 to 20,000,000; a million makes a 385 MB cadastre file).
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=MAX_SYNTH_PARCELS))]
        parcels: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Several départements (`75,92,93`), each with --parcels parcels in a folder of its
        /// own (OUT/75/…), their QPV and sub-sectors together at the top of OUT.
        #[arg(long, value_delimiter = ',', value_parser = parse_departement)]
        departements: Option<Vec<String>>,
    },
    /// Land by actor and owner in every sub-sector (or QPV), with the non-cadastré remainder.
    Shares {
        /// Zones: sub-sectors or QPV.
        #[arg(long, value_enum, default_value_t = ZonesArg::Subsectors)]
        zones: ZonesArg,
        /// csv: one row per (zone, actor, owner) and one `non_cadastre` row per zone; json: the
        /// full report with overlaps and slivers; geojson: the zones with their shares (WGS84).
        #[arg(long, value_enum, default_value_t = MapFormat::Csv)]
        format: MapFormat,
        /// Rules file: its `delegation.include_non_cadastre` decides the denominator of shares
        /// (default: the rules built into domania, a copy of data/rules.toml).
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
    },
    /// A manager for every space and intervention kind, with its explanation; written to the
    /// store as a new version of the `spaces` layer.
    Assign {
        #[command(flatten)]
        judging: Judging,
        /// csv: one row per (space, intervention); json: decisions and spaces; geojson: the
        /// spaces with their managers (WGS84).
        #[arg(long, value_enum, default_value_t = MapFormat::Csv)]
        format: MapFormat,
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
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
    },
    /// Procedure perimeters (polygon, parcels, owners' residences, sub-sectors, merges): the
    /// area each actor manages there per intervention kind (the figures the CLECT evaluates).
    Perimeters {
        /// Perimeters TOML: `[[perimeter]]` with `id` and any of `polygon`, `parcels`, `owners`,
        /// `subsectors`, `merge`.
        file: PathBuf,
        #[command(flatten)]
        judging: Judging,
        /// csv: one row per (perimeter, intervention, actor); json: the same with each
        /// perimeter's shape (WGS84).
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
    },
    /// The cahier des charges localisé of a sub-sector as a PDF to sign: its map, who owns its
    /// land, the decision, who does what, its conventions, the versions of the data it is made
    /// from and a signature block for each party.
    Cahier {
        /// The sub-sector's key.
        subsector: String,
        /// The PDF file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        judging: Judging,
    },
    /// Candidate sub-sectors: the blocks (îlots) of parcels bounded by non-cadastré space inside
    /// a QPV, as GeoJSON (WGS84) ready to edit and import as sub-sectors.
    Blocks {
        /// QPV code.
        qpv: String,
    },
    /// Reports on the land (a QPV, the TFPB follow-up) and on the reports of dysfunctions
    /// (service levels, the annual report).
    Report {
        #[command(subcommand)]
        what: ReportKind,
    },
    /// Service requests, the reports of dysfunctions (posted over Open311 at /open311/v2/ on
    /// `domania serve`, or from a walking diagnostic): list, show, move through statuses, route
    /// again, import a walk.
    #[command(alias = "reports")]
    Requests {
        #[command(subcommand)]
        what: RequestsCommand,
    },
    /// Serve the store over HTTP: who is responsible at a point, parcel queries, scenarios,
    /// OGC API Features, layer updates with tokens, Open311 in JSON and XML. Prints the URL once
    /// listening. The messages of service requests (to the routed service, the reporter, the
    /// commune's referents) are sent through `DOMANIA_SMTP_URL` (`smtp://host:port`,
    /// `smtps://user@host`, `smtp://user@host:587?tls=required`), the password from
    /// `DOMANIA_SMTP_PASSWORD` or the file `DOMANIA_SMTP_PASSWORD_FILE`, as `DOMANIA_MAIL_FROM`;
    /// without it they are queued (`domania requests deliveries`).
    Serve {
        /// Address and port (port 0: any free port, printed).
        #[arg(long, env = "DOMANIA_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// Rules file (default: the built-in rules).
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
        /// Reads need a token too (by default they are public; writes always need one).
        #[arg(long)]
        private_reads: bool,
        /// The longest a request may take, in seconds.
        #[arg(long, default_value_t = 120, value_name = "SECONDS")]
        timeout: u64,
        /// The largest layer upload, in MB.
        #[arg(long, default_value_t = 1024, value_name = "MB")]
        max_upload_mb: usize,
        /// Uploads received and imported at once; a further one waits a moment, then is told
        /// to try again (503 with Retry-After).
        #[arg(long, default_value_t = 1, value_name = "N")]
        max_uploads: usize,
        /// The most temporary disk one upload may take, what was sent and what a zipped
        /// Shapefile unpacks to, in MB (an upload is also refused past it).
        #[arg(long, default_value_t = 4096, value_name = "MB")]
        upload_disk_mb: u64,
        /// The size bound of the in-memory tile cache, in MB (0: encode every tile asked).
        #[arg(long, default_value_t = 256, value_name = "MB")]
        tile_cache_mb: usize,
        /// The most connections open at once (kept below the descriptor limit, which the
        /// server raises to its hard limit). When reached, the connections that sent no
        /// complete request for longest are closed first, so new clients still get in.
        #[arg(long, default_value_t = domania_server::connections::MAX_CONNECTIONS, value_name = "N")]
        max_connections: usize,
        /// The longest wait for a request's header, after the connection opens or the
        /// previous answer ends (idle connections are closed after it too), in seconds.
        #[arg(long, default_value_t = 15, value_name = "SECONDS")]
        header_timeout: u64,
        /// The longest pause inside a request's body (a stalled upload), in seconds.
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        body_timeout: u64,
        /// After SIGTERM, how long the requests under way may finish (an upload not done by
        /// then is abandoned, its import rolled back), in seconds.
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        shutdown_grace: u64,
        /// A basemap under the viewer's layers: raster tiles, `https://…/{z}/{x}/{y}.png` (Plan
        /// IGN's WMTS with `TILEMATRIX={z}&TILEROW={y}&TILECOL={x}`), a raster PMTiles archive
        /// (`https://…/ortho.pmtiles`), or a MapLibre style's URL (its sources may be
        /// `pmtiles://` archives); none by default: the page then asks no other host for
        /// anything, and names the sections and streets itself.
        #[arg(long, env = "DOMANIA_BASEMAP", value_name = "URL")]
        basemap: Option<String>,
        /// The basemap's attribution, as its licence asks (`© IGN`); a style's own sources carry
        /// theirs.
        #[arg(long, env = "DOMANIA_BASEMAP_ATTRIBUTION", value_name = "TEXT")]
        basemap_attribution: Option<String>,
        /// A streaming replica of the PostGIS store to read from (`postgresql://…`); writes
        /// still go to --store. The server follows new versions through the primary's
        /// notifications and waits for the replica to hold them.
        #[arg(long, env = "DOMANIA_READ_REPLICA", value_name = "URL")]
        read_replica: Option<Location>,
        /// Serve one part of the territory (`departement=75,92` or `commune=…`): its parcels,
        /// every sub-sector and QPV meeting them, whole. Default: all of it.
        #[arg(long, value_parser = parse_scope, value_name = "KIND=CODES")]
        part: Option<Scope>,
        /// The URL clients reach the server at, behind a reverse proxy
        /// (`https://sig.example.org/domania`): every absolute link (tiles, OGC pages, Open311
        /// discovery, styles) starts with it.
        #[arg(long, env = "DOMANIA_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        /// A reverse proxy whose `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` headers
        /// are believed when making links (an address or a network: 127.0.0.1, 10.0.0.0/8);
        /// repeat for several. Ignored with --public-url.
        #[arg(long, value_name = "ADDR")]
        trusted_proxy: Vec<String>,
        /// A web origin whose pages may read the server from a browser (CORS:
        /// `https://carto.example.org`), `*` for any; repeat for several. None by default: only
        /// the server's own map page.
        #[arg(long, value_name = "ORIGIN", value_parser = parse_origin)]
        cors_origin: Vec<String>,
        /// Where the server keeps its snapshot file, read at the next start instead of building
        /// the snapshot again (and by `shares`, for the sub-sectors' shares, when
        /// `DOMANIA_SNAPSHOT_DIR` says the same folder). Default: beside a GeoPackage store
        /// (`STORE.gpkg.snapshot`), in the user's cache folder for a PostGIS store
        /// (`~/.cache/domania`).
        #[arg(long, env = "DOMANIA_SNAPSHOT_DIR", value_name = "DIR")]
        snapshot_dir: Option<PathBuf>,
    },
    /// Export the layers: `export pmtiles OUT.pmtiles` writes their vector tiles as one
    /// PMTiles archive, to host the map on static storage without a server.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// MapLibre styles of the territory, one JSON file each in --out (managers per
    /// intervention kind, owners, decisions; legends from the rules), reading --source: a
    /// server's TileJSON or the `pmtiles://` URL of an export.
    Styles {
        /// The folder the styles are written into, one `NAME.json` each.
        #[arg(long)]
        out: PathBuf,
        /// The tiles the styles read (default: a local `domania serve`).
        #[arg(long, default_value = "http://127.0.0.1:8080/tiles/parcels,spaces,subsectors,qpv.json")]
        source: String,
        /// Rules file (default: those saved in the store, else the built-in ones).
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
    },
    /// API tokens of the server.
    Token {
        #[command(subcommand)]
        what: TokenCommand,
    },
    /// The main job on a territory folder: import every layer into the store and summarise
    /// land ownership by actor. Default: data/ when it holds a territory (in the repository),
    /// else the demo territory built into domania, written to domania-demo/ first.
    Demo {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Then serve the territory and its map (the URL is printed; Ctrl-C stops).
        #[arg(long)]
        serve: bool,
        /// Address and port of --serve (port 0: any free port, printed).
        #[arg(long, env = "DOMANIA_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
    },
}

/// The largest synthetic territory: 20 million parcels is a 7.7 GB GeoJSON file and several
/// GB of memory for its owners; past that the generator would only fill the disk.
pub const MAX_SYNTH_PARCELS: u64 = 20_000_000;

/// The rules and the date of the commands that apply the rules.
#[derive(Debug, clap::Args)]
pub struct Judging {
    /// Rules file (TOML, see data/rules.toml; default: the rules built into domania, a copy
    /// of data/rules.toml).
    #[arg(long, env = "DOMANIA_RULES")]
    pub rules: Option<PathBuf>,
    /// Date the conventions are judged on, YYYY-MM-DD (default: today).
    #[arg(long, value_parser = parse_date)]
    pub date: Option<domania_app::Date>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Vector tiles of the layers as a PMTiles v3 archive.
    Pmtiles {
        out: PathBuf,
        /// Layers, comma separated: parcels, spaces, subsectors, qpv, conventions.
        #[arg(long, default_value = "parcels,spaces,subsectors,qpv,conventions,sections,labels", value_parser = parse_tile_layers)]
        layers: TileLayers,
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u8).range(0..=22))]
        minzoom: u8,
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(0..=22))]
        maxzoom: u8,
        /// Rules file (default: the built-in rules).
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
    },
    /// A static map at national scale: one PMTiles archive per département in DIR, an index
    /// `tiles.json` of them, and `styles/NAME.json` drawing them all; copy DIR to object
    /// storage behind a CDN, no server needed.
    PmtilesSet {
        dir: PathBuf,
        /// The départements, comma separated (default: every one with parcels).
        #[arg(long, value_delimiter = ',')]
        departements: Option<Vec<String>>,
        /// Layers, comma separated: parcels, spaces, subsectors, qpv, conventions.
        #[arg(long, default_value = "parcels,spaces,subsectors,qpv,conventions,sections,labels", value_parser = parse_tile_layers)]
        layers: TileLayers,
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u8).range(0..=22))]
        minzoom: u8,
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(0..=22))]
        maxzoom: u8,
        /// Rules file (default: the built-in rules).
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
    },
    /// One layer to any vector format GDAL writes, in Lambert-93 (a build with `--features
    /// gdal`): `export ogr subsectors sous-secteurs.tab`.
    Ogr {
        /// parcels, qpv, subsectors, conventions or spaces (with their managers).
        layer: domania_app::Layer,
        out: PathBuf,
        /// GDAL's driver (GPKG, "MapInfo File", FlatGeobuf, KML, DXF…); default: from the
        /// extension.
        #[arg(long)]
        driver: Option<String>,
        /// Rules file, for the spaces' managers and the sub-sectors' decisions.
        #[arg(long, env = "DOMANIA_RULES")]
        rules: Option<PathBuf>,
        /// Date the conventions are judged on, YYYY-MM-DD (default: today).
        #[arg(long, value_parser = parse_date)]
        date: Option<domania_app::Date>,
    },
}

/// Tile layers named on the command line.
#[derive(Debug, Clone)]
pub struct TileLayers(pub Vec<TileLayer>);

fn parse_tile_layers(s: &str) -> Result<TileLayers, String> {
    s.split(',')
        .map(|n| {
            TileLayer::parse(n.trim())
                .ok_or_else(|| format!("{n:?}: tile layers are parcels, spaces, subsectors, qpv, conventions"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(TileLayers)
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once, alone on standard output.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Bind the token to a service of the rules (`service:ID`) or to an actor
        /// (`actor:bailleur_social`): it then reads and moves only the reports routed there.
        #[arg(long, value_name = "service:ID|actor:ACTOR")]
        bound: Option<String>,
    },
    /// Every token (never their secrets).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Viewer,
    /// Posts reports of dysfunctions (Open311).
    Reporter,
    Editor,
    Admin,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// One QPV: land by actor and owner, bailleurs' holdings (TFPB follow-up).
    Qpv {
        code: String,
        #[arg(long, value_enum, default_value_t = MapFormat::Csv)]
        format: MapFormat,
    },
    /// TFPB follow-up: per QPV and per bailleur, the parcels and area it holds inside the QPV.
    Tfpb {
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
    },
    /// Reports of dysfunctions against the expected delays, per QPV, commune, service and
    /// month: requests, median and 90th-percentile delay, share within the level, backlog,
    /// duplicates avoided.
    ServiceLevels {
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
        /// Also write the service levels as a document to present (PDF): the delays expected
        /// and those seen, as tables and a chart.
        #[arg(long)]
        pdf: Option<PathBuf>,
        #[command(flatten)]
        judging: Judging,
    },
    /// The annual report of the reports of dysfunctions, for the whole territory and for each
    /// of its communes (or one commune): a PDF of charts to present, a Markdown document with
    /// its tables, and every figure as CSV, in --out.
    Annual {
        /// The year of the requests (default: this year).
        #[arg(long)]
        year: Option<i16>,
        /// A commune's INSEE code (default: the whole territory, then each commune).
        #[arg(long)]
        commune: Option<String>,
        /// The folder the reports are written into (annual-YEAR-SCOPE.pdf, .md, .svg, .csv).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        judging: Judging,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// The reports, newest first.
    List {
        /// Only those in this status (received, acknowledged, planned, in_progress, done,
        /// rejected, transferred, duplicate).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
    },
    /// One report and each of its steps.
    Show { id: i64 },
    /// Moves a report to another status (forwards only; rejected and transferred need --note).
    Status {
        id: i64,
        status: String,
        #[arg(long)]
        note: Option<String>,
        /// Who does it (a person or a service).
        #[arg(long)]
        by: String,
        #[command(flatten)]
        judging: Judging,
    },
    /// The messages of the reports (to the routed service, the reporter, the commune's
    /// referents), newest first, with their delivery: sent, queued, tried again, or given up.
    Deliveries {
        /// Only those not sent yet.
        #[arg(long)]
        unsent: bool,
        /// Puts the given-up messages back in the queue (after the mail server is mended).
        #[arg(long)]
        replay: bool,
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
    },
    /// Sends the messages that are due once, through DOMANIA_SMTP_URL (a server started with
    /// it sends them as they come; this is for a store no server runs on).
    Deliver {
        /// The public URL the messages link to.
        #[arg(long, default_value = "http://localhost:8080")]
        public_url: String,
        #[command(flatten)]
        judging: Judging,
    },
    /// Routes a report again on today's layers and rules (a routing once given never changes
    /// by itself); the step is logged with the old and new service.
    Reroute {
        id: i64,
        #[arg(long)]
        by: String,
        #[command(flatten)]
        judging: Judging,
    },
    /// A walking diagnostic: observations (CSV with lon, lat, category, note, photo; or
    /// GeoJSON points) posted as reports, each routed; one list per service (CSV and GeoJSON)
    /// written into --out, to send after the walk. One bad observation stores none.
    Walk {
        file: PathBuf,
        /// The folder the lists are written into (per service: CSV, GeoJSON and the sheet to
        /// print, PDF).
        #[arg(long)]
        out: PathBuf,
        /// Who walked (the reporter stored with each report).
        #[arg(long)]
        by: String,
        /// The QPV walked, when the file is a walk sheet's grid typed in (its places are the
        /// numbers of the route's points).
        #[arg(long)]
        qpv: Option<String>,
        #[command(flatten)]
        judging: Judging,
    },
    /// The sheet of a walking diagnostic in a QPV, to print: the route's numbered points on a
    /// map and the observation grid to fill in.
    WalkSheet {
        /// The QPV's code.
        qpv: String,
        /// The PDF file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        judging: Judging,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ZonesArg {
    Subsectors,
    Qpv,
}

/// Output of the commands whose results have a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapFormat {
    Csv,
    Json,
    Geojson,
}

/// Output of the commands whose results are tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvalidArg {
    Repair,
    Reject,
}

/// Any layer, by name; clap lists them and refuses others.
fn parse_layer(s: &str) -> Result<Layer, String> {
    s.parse::<Layer>().map_err(|e| e.to_string())
}

/// A layer files are imported into (not the computed `spaces`), listed by clap.
fn imported_layer() -> impl clap::builder::TypedValueParser<Value = Layer> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Layer::IMPORTED.map(Layer::as_str))
        .map(|s| s.parse::<Layer>().expect("one of the listed layer names"))
}

fn parse_departement(s: &str) -> Result<String, String> {
    let scope: Scope = format!("departement={s}").parse()?;
    scope.codes.and_then(|c| c.into_iter().next()).ok_or_else(|| format!("{s:?} is not a département code"))
}

fn parse_origin(s: &str) -> Result<String, String> {
    domania_server::check_origin(s)
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" => Ok(s.as_bytes()[0]),
        _ => Err(format!("{s:?}: the delimiter is one ASCII character (not a quote), or `tab`")),
    }
}

fn parse_pct(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a percentage between 0 and 100")),
    }
}

/// A calendar date `YYYY-MM-DD`: `yesterday` or `2024-13-45` are refused by clap.
fn parse_date(s: &str) -> Result<domania_app::Date, String> {
    domania_app::files::parse_date(s).map_err(|e| e.message().to_owned())
}

fn main() -> ExitCode {
    // No transparent huge pages for this process: mimalloc asks for them on its arenas, and each
    // first touch of one makes the kernel zero 2 MB, compacting memory first when it has no free
    // huge page. At a million parcels a build from the store spent 44 % of its samples zeroing
    // pages, and a rebuild after an update took 7.1–7.2 s with them, 4.5–4.7 s without
    // (BENCHMARKS.md, "Huge pages"). Inherited by the processes it starts; a failure (an old
    // kernel) leaves the system's setting.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    // A panic the geometry repair catches (and turns into a rejection, with its reason) is not
    // news; any other is reported as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !domania_app::import::IN_REPAIR.with(std::cell::Cell::get) {
            default_hook(info);
        }
    }));
    let cli = Cli::parsed();
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if output::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let lang = cli.language();
            let app = e.chain().find_map(|c| c.downcast_ref::<domania_app::AppError>());
            // A refused file: its rejections first, then the error.
            if let Some(report) = app.and_then(domania_app::AppError::report) {
                eprint!("{}", domania_app::said::issues_text(report, 50, lang));
            }
            let sep = if lang == domania_app::i18n::Lang::Fr { " : " } else { ": " };
            eprintln!("{}{sep}{}", lang.t("error-word", &[]), output::said(&e, app, lang));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_days() {
        assert!(parse_date("2024-02-29").is_ok());
        for bad in ["2023-02-29", "2024-13-45", "yesterday", "2024-1-5"] {
            assert!(parse_date(bad).unwrap_err().contains("YYYY-MM-DD"), "{bad}");
        }
    }

    #[test]
    fn the_computed_layer_is_not_importable_and_clap_says_so() {
        let e = Cli::try_parse_from(["domania", "import", "spaces", "x.json"]).unwrap_err();
        assert!(e.to_string().contains("possible values: parcels, owners, qpv, subsectors, conventions"), "{e}");
        let ok = Cli::try_parse_from(["domania", "import", "qpv", "x.json"]).unwrap();
        assert!(matches!(ok.command, Command::Import { kind: Layer::Qpv, .. }));
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
