//! A seeded generator of realistic synthetic territories, written in the real formats: an
//! Etalab cadastre GeoJSON, a DGFiP PPM CSV (2025 style), QPV and sub-sector GeoJSON, and a
//! territory TOML. Deterministic for a seed; streams to disk, so a million parcels need little
//! memory.
//!
//! The territory is a grid of urban blocks separated by streets that have no parcel (the
//! *non cadastré* space). Blocks are, by draw: social-housing residences held by a bailleur,
//! estates mixing bailleur, communauté urbaine and commune land, public equipment of the
//! commune, CU land, co-ownerships, and ordinary blocks of narrow private or company lots.
//! QPVs cover clusters of blocks; each block inside a QPV is a sub-sector.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::crs::Crs;
use crate::error::{IoError, Result};

/// Deterministic random numbers (splitmix64): stable across platforms and crate versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [lo, hi].
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }
}

/// Size of a block (m) and of the streets between blocks.
const BLOCK_W: f64 = 110.0;
const BLOCK_H: f64 = 80.0;
const STREET: f64 = 14.0;
/// South-west corner of the territory in Lambert-93: Les Mureaux, in GPS&O.
const ORIGIN: (f64, f64) = (612_000.0, 6_870_000.0);

/// GPS&O communes (INSEE code, name) the synthetic territory is spread over.
const COMMUNES: &[(&str, &str)] = &[
    ("78440", "LES MUREAUX"),
    ("78361", "MANTES-LA-JOLIE"),
    ("78362", "MANTES-LA-VILLE"),
    ("78498", "POISSY"),
    ("78005", "ACHERES"),
    ("78140", "CHANTELOUP-LES-VIGNES"),
    ("78586", "SARTROUVILLE"),
    ("78401", "LIMAY"),
];

/// The communauté urbaine GPS&O (real SIREN), filed as the real files do: group 4.
const CU: Org<'static> = Org {
    siren: "200059889",
    name: "COMMUNAUTE URBAINE GRAND PARIS SEINE ET OISE",
    groupe: "4 - Commune",
    forme: "7343",
    abr: "CU",
};
const BAILLEURS: &[Org<'static>] = &[
    Org { siren: "900000011", name: "OPH SEINE AVAL HABITAT", groupe: "5 - Office HLM", forme: "4140", abr: "OPH" },
    Org {
        siren: "900000029",
        name: "LES RESIDENCES DU VAL DE SEINE SA D'HLM",
        groupe: "5 - Office HLM",
        forme: "5546",
        abr: "SA",
    },
    Org { siren: "900000037", name: "HABITAT DES BOUCLES ESH", groupe: "5 - Office HLM", forme: "5599", abr: "SA" },
    Org { siren: "900000045", name: "FOYERS ET LOGIS SA D'HLM", groupe: "5 - Office HLM", forme: "5646", abr: "SA" },
];

#[derive(Clone, Copy)]
struct Org<'a> {
    siren: &'a str,
    name: &'a str,
    groupe: &'a str,
    forme: &'a str,
    abr: &'a str,
}

/// Four corners of a lot, Lambert-93.
type Quad = [(f64, f64); 4];

/// What kind of block.
#[derive(Clone, Copy, PartialEq)]
enum Block {
    Residence,
    Estate,
    Equipment,
    CuLand,
    Copro,
    Ordinary,
}

/// Cumulative draw thresholds of the kinds of block inside QPVs (mostly housing estates)…
const QPV_MIX: [(f64, Block); 5] = [
    (0.35, Block::Residence),
    (0.65, Block::Estate),
    (0.75, Block::Equipment),
    (0.80, Block::CuLand),
    (0.88, Block::Copro),
];
/// …and elsewhere (mostly ordinary private blocks). Above the last threshold: ordinary.
const TOWN_MIX: [(f64, Block); 5] = [
    (0.04, Block::Residence),
    (0.06, Block::Estate),
    (0.10, Block::Equipment),
    (0.12, Block::CuLand),
    (0.20, Block::Copro),
];

/// What `generate` wrote.
#[derive(Debug, Clone, Default)]
pub struct SynthSummary {
    pub parcels: usize,
    pub owner_rows: usize,
    pub qpv: usize,
    pub subsectors: usize,
    pub files: Vec<PathBuf>,
}

struct Out {
    w: BufWriter<File>,
    path: PathBuf,
}

impl Out {
    fn create(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let f = File::create(&path).map_err(|source| IoError::Write { path: path.clone(), source })?;
        Ok(Self { w: BufWriter::with_capacity(1 << 20, f), path })
    }
    fn put(&mut self, s: &str) -> Result<()> {
        self.w.write_all(s.as_bytes()).map_err(|source| IoError::Write { path: self.path.clone(), source })
    }
    fn finish(mut self) -> Result<PathBuf> {
        self.w.flush().map_err(|source| IoError::Write { path: self.path.clone(), source })?;
        Ok(self.path)
    }
}

/// Writes a polygon ring (Lambert-93 corners) as WGS84 GeoJSON coordinates, 7 decimals like Etalab.
fn ring_json(buf: &mut String, corners: &[(f64, f64)]) {
    let l93 = Crs::lambert93();
    let wgs = Crs::wgs84();
    buf.push('[');
    for (i, &(x, y)) in corners.iter().chain(std::iter::once(&corners[0])).enumerate() {
        let (lon, lat) = l93.transform_to(&wgs, x, y);
        if i > 0 {
            buf.push(',');
        }
        let _ = write!(buf, "[{lon:.7},{lat:.7}]");
    }
    buf.push(']');
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> [(f64, f64); 4] {
    [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
}

/// Where a synthetic territory lies: its département, communes and south-west corner.
#[derive(Debug, Clone)]
pub struct Place {
    pub departement: String,
    /// (INSEE code, name), west to east.
    pub communes: Vec<(String, String)>,
    /// Lambert-93 south-west corner.
    pub origin: (f64, f64),
}

impl Place {
    /// The GPS&O communes of the Yvelines (the default territory).
    #[must_use]
    pub fn gpso() -> Self {
        Self {
            departement: "78".into(),
            communes: COMMUNES.iter().map(|(c, n)| ((*c).to_owned(), (*n).to_owned())).collect(),
            origin: ORIGIN,
        }
    }

    /// Eight synthetic communes of département `dep`, the `index`-th of a set: territories of a
    /// set sit 40 km apart (rows of five), so their parcels never meet.
    #[must_use]
    pub fn departement(dep: &str, index: usize) -> Self {
        let communes = (0..8)
            .map(|k| {
                let code = if dep.len() == 3 {
                    format!("{dep}{:02}", 11 + k * 11)
                } else {
                    format!("{dep}{:03}", 101 + k * 11)
                };
                let name = format!("COMMUNE SYNTHETIQUE {dep}-{}", k + 1);
                (code, name)
            })
            .collect();
        let origin = (ORIGIN.0 + (index % 5) as f64 * 40_000.0, ORIGIN.1 - (index / 5) as f64 * 40_000.0);
        Self { departement: dep.to_owned(), communes, origin }
    }
}

/// Generates a territory of `parcels` parcels into `out_dir` (created if missing), over the
/// GPS&O communes.
pub fn generate(parcels: usize, seed: u64, out_dir: &Path) -> Result<SynthSummary> {
    generate_at(parcels, seed, out_dir, &Place::gpso())
}

/// Generates `parcels` parcels in each of the départements `deps`: one folder per département
/// (`out_dir/75/cadastre-synth-parcelles.json`, its PPM file), and the QPV and sub-sectors of
/// all of them in one file each at the top (those layers are imported whole), with one
/// `territory.toml`.
pub fn generate_departements(parcels: usize, seed: u64, deps: &[String], out_dir: &Path) -> Result<SynthSummary> {
    fs::create_dir_all(out_dir).map_err(|source| IoError::Write { path: out_dir.to_path_buf(), source })?;
    let mut all = SynthSummary::default();
    let mut qpv = Out::create(out_dir, "qpv-synth.geojson")?;
    let mut sub = Out::create(out_dir, "subsectors-synth.geojson")?;
    qpv.put("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    sub.put("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (i, dep) in deps.iter().enumerate() {
        let dir = out_dir.join(dep);
        let s = generate_at(parcels, seed.wrapping_add(i as u64), &dir, &Place::departement(dep, i))?;
        for (name, out, before) in
            [("qpv-synth.geojson", &mut qpv, all.qpv), ("subsectors-synth.geojson", &mut sub, all.subsectors)]
        {
            let path = dir.join(name);
            let text = fs::read_to_string(&path).map_err(|source| IoError::Open { path: path.clone(), source })?;
            // The generator writes one feature per line between its header and footer lines.
            let features: Vec<&str> = text.lines().filter(|l| l.starts_with("{\"type\":\"Feature\",")).collect();
            for (k, f) in features.iter().enumerate() {
                out.put(if before + k > 0 { ",\n" } else { "" })?;
                out.put(f.trim_end_matches(','))?;
            }
            fs::remove_file(&path).map_err(|source| IoError::Write { path: path.clone(), source })?;
        }
        all.parcels += s.parcels;
        all.owner_rows += s.owner_rows;
        all.qpv += s.qpv;
        all.subsectors += s.subsectors;
        all.files.extend(s.files.into_iter().filter(|f| f.exists() && !f.ends_with("territory.toml")));
        let toml = dir.join("territory.toml");
        if i == 0 {
            fs::copy(&toml, out_dir.join("territory.toml"))
                .map_err(|source| IoError::Write { path: out_dir.join("territory.toml"), source })?;
        }
        fs::remove_file(&toml).map_err(|source| IoError::Write { path: toml.clone(), source })?;
    }
    qpv.put("\n]}\n")?;
    sub.put("\n]}\n")?;
    all.files.push(qpv.finish()?);
    all.files.push(sub.finish()?);
    all.files.push(out_dir.join("territory.toml"));
    Ok(all)
}

/// Generates a territory of `parcels` parcels at `place` into `out_dir` (created if missing).
pub fn generate_at(parcels: usize, seed: u64, out_dir: &Path, place: &Place) -> Result<SynthSummary> {
    let communes: Vec<(&str, &str)> = place.communes.iter().map(|(c, n)| (c.as_str(), n.as_str())).collect();
    let origin = place.origin;
    let dep_code = place.departement.as_str();
    fs::create_dir_all(out_dir).map_err(|source| IoError::Write { path: out_dir.to_path_buf(), source })?;
    let mut rng = Rng::new(seed);
    let avg_per_block = 24.0;
    let n_blocks = ((parcels as f64 / avg_per_block).ceil() as usize).max(1);
    let cols = ((n_blocks as f64).sqrt().ceil() as usize).max(1);
    let mut cad = Out::create(out_dir, "cadastre-synth-parcelles.json")?;
    let mut ppm = Out::create(out_dir, "ppm-synth.csv")?;
    cad.put("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    ppm.put("Département;Code Direction;Code Commune;Nom de la commune;Préfixe;Section;N° plan;N° voirie;Indice de répétition;Code voie MAJIC;Code voie Rivoli;Nature voie;Nom voie;Contenance;SUF;Nature culture;Contenance.1;Code droit - par;N° Majic - par;N° SIREN - par;Groupe personne - par;Forme juridique - par;Forme juridique abrégée - par;Dénomination - par\n")?;
    let mut summary = SynthSummary::default();
    let mut line = String::with_capacity(1024);
    let mut section_counters: std::collections::HashMap<(usize, u32), u32> = std::collections::HashMap::new();
    // QPV: clusters of 4 x 3 blocks, on about one cluster in six.
    let (qc, qr) = (4usize, 3usize);
    let rows_total = n_blocks.div_ceil(cols);
    let mut qpv_clusters = Vec::new();
    for cy in 0..rows_total.div_ceil(qr) {
        for cx in 0..cols.div_ceil(qc) {
            if rng.f64() < 0.17 {
                qpv_clusters.push((cx, cy));
            }
        }
    }
    if qpv_clusters.is_empty() {
        qpv_clusters.push((0, 0));
    }
    let in_qpv = |bx: usize, by: usize| qpv_clusters.contains(&(bx / qc, by / qr));
    let mut written = 0usize;
    let mut block_index = 0usize;
    while written < parcels {
        let (bx, by) = (block_index % cols, block_index / cols);
        block_index += 1;
        let x0 = origin.0 + bx as f64 * (BLOCK_W + STREET);
        let y0 = origin.1 + by as f64 * (BLOCK_H + STREET);
        let qpv = in_qpv(bx, by);
        let draw = rng.f64();
        let mix = if qpv { &QPV_MIX } else { &TOWN_MIX };
        let kind = mix.iter().find(|(upto, _)| draw < *upto).map_or(Block::Ordinary, |(_, k)| *k);
        let commune_idx = (bx * communes.len() / cols.max(1)).min(communes.len() - 1);
        let (insee, cname) = communes[commune_idx];
        let commune_org = Org { siren: "", name: cname, groupe: "4 - Commune", forme: "7210", abr: "COM" };
        let bailleur = BAILLEURS[rng.range(0, BAILLEURS.len() as u32 - 1) as usize];
        // Lots: (polygon corners, owner)
        let mut lots: Vec<(Quad, Option<Org>)> = Vec::new();
        match kind {
            Block::Residence | Block::Equipment | Block::CuLand => {
                let n = rng.range(2, 5);
                let owner = match kind {
                    Block::Residence => bailleur,
                    Block::Equipment => commune_org,
                    _ => CU,
                };
                let mut cuts = vec![x0];
                for i in 1..n {
                    cuts.push(x0 + BLOCK_W * f64::from(i) / f64::from(n) + (rng.f64() - 0.5) * 8.0);
                }
                cuts.push(x0 + BLOCK_W);
                for w in cuts.windows(2) {
                    lots.push((rect(w[0], y0, w[1], y0 + BLOCK_H), Some(owner)));
                }
            }
            Block::Estate => {
                // Buildings of the bailleur along the north, CU walkways and a commune square south.
                let ymid = y0 + BLOCK_H * (0.45 + rng.f64() * 0.2);
                let n = rng.range(2, 4);
                for i in 0..n {
                    let xa = x0 + BLOCK_W * f64::from(i) / f64::from(n);
                    let xb = x0 + BLOCK_W * f64::from(i + 1) / f64::from(n);
                    lots.push((rect(xa, ymid, xb, y0 + BLOCK_H), Some(bailleur)));
                }
                let xs = x0 + BLOCK_W * (0.4 + rng.f64() * 0.3);
                lots.push((rect(x0, y0, xs, ymid), Some(CU)));
                lots.push((
                    rect(xs, y0, x0 + BLOCK_W, ymid),
                    Some(if rng.f64() < 0.5 { commune_org } else { bailleur }),
                ));
            }
            Block::Copro | Block::Ordinary => {
                // Two rows of narrow lots with slanted shared side lines.
                let ymid = y0 + BLOCK_H / 2.0 + (rng.f64() - 0.5) * 6.0;
                for (ya, yb) in [(y0, ymid), (ymid, y0 + BLOCK_H)] {
                    let k = rng.range(8, 16);
                    let mut prev = (x0, x0);
                    for i in 1..=k {
                        let base = x0 + BLOCK_W * f64::from(i) / f64::from(k);
                        let cut = if i == k {
                            (x0 + BLOCK_W, x0 + BLOCK_W)
                        } else {
                            (base + (rng.f64() - 0.5) * 3.0, base + (rng.f64() - 0.5) * 3.0)
                        };
                        let owner = if kind == Block::Copro {
                            Some(Org {
                                siren: "",
                                name: "SYNDICAT DES COPROPRIETAIRES",
                                groupe: "7 - Copropriétaires",
                                forme: "9110",
                                abr: "SYCO",
                            })
                        } else if rng.f64() < 0.12 {
                            Some(Org {
                                siren: "",
                                name: "SCI DU QUARTIER",
                                groupe: "0 - Personnes morales non remarquables ",
                                forme: "6540",
                                abr: "SCI",
                            })
                        } else {
                            None
                        };
                        lots.push(([(prev.0, ya), (cut.0, ya), (cut.1, yb), (prev.1, yb)], owner));
                        prev = cut;
                    }
                }
            }
        }
        let section_no = (by / 4) as u32 * 64 + (bx / 4) as u32;
        let section =
            format!("{}{}", (b'A' + (section_no / 26 % 26) as u8) as char, (b'A' + (section_no % 26) as u8) as char);
        for (corners, owner) in lots {
            if written >= parcels {
                break;
            }
            let counter = section_counters.entry((commune_idx, section_no)).or_insert(0);
            *counter += 1;
            let numero = (*counter - 1) % 9999 + 1;
            let prefixe = format!("{:03}", (*counter - 1) / 9999);
            let idu = format!("{insee}{prefixe}{section}{numero:04}");
            let area = polygon_area(&corners).round() as i64;
            line.clear();
            let _ = write!(
                line,
                "{}{{\"type\":\"Feature\",\"id\":\"{idu}\",\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[",
                if written > 0 { ",\n" } else { "" }
            );
            ring_json(&mut line, &corners);
            let _ = write!(
                line,
                "]}},\"properties\":{{\"id\":\"{idu}\",\"commune\":\"{insee}\",\"prefixe\":\"{prefixe}\",\"section\":\"{section}\",\"numero\":\"{numero}\",\"contenance\":{area},\"arpente\":false,\"created\":\"2008-01-15\",\"updated\":\"2024-03-01\"}}}}"
            );
            cad.put(&line)?;
            if let Some(org) = owner {
                let siren = if org.siren.is_empty() {
                    format!("U{:08}", fnv(idu.as_bytes()) % 100_000_000)
                } else {
                    org.siren.to_owned()
                };
                let name = if org.forme == "7210" { format!("COMMUNE DE {}", org.name) } else { org.name.to_owned() };
                // As the DGFiP writes it: two characters (`97` overseas), then three.
                let dep = &insee[0..2];
                let com = &insee[2..5];
                let pre = if prefixe == "000" { String::new() } else { prefixe.clone() };
                let mut rows = vec![('P', "P - Propriétaire")];
                if org.forme == "9110" {
                    rows.push(('S', "S - Syndic de copropriété"));
                } else if rng.f64() < 0.1 {
                    rows.push(('G', "G - Gérant, mandataire, gestionnaire"));
                }
                for (_, droit) in rows {
                    line.clear();
                    let _ = writeln!(
                        line,
                        "{dep};0;{com};{cname};{pre};{section};{numero:04};;;;;;;{area};;S - Sols;{area};{droit};PSYNTH;{siren};{};{};{};{name}",
                        org.groupe, org.forme, org.abr
                    );
                    ppm.put(&line)?;
                    summary.owner_rows += 1;
                }
            }
            written += 1;
        }
    }
    cad.put("\n]}\n")?;
    summary.parcels = written;
    summary.files.push(cad.finish()?);
    summary.files.push(ppm.finish()?);

    // QPV and sub-sectors.
    let mut qpv = Out::create(out_dir, "qpv-synth.geojson")?;
    let mut sub = Out::create(out_dir, "subsectors-synth.geojson")?;
    qpv.put("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    sub.put("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    let half = STREET / 2.0;
    let blocks_rows = block_index.div_ceil(cols);
    for (qi, &(cx, cy)) in qpv_clusters.iter().enumerate() {
        let bx0 = cx * qc;
        let by0 = cy * qr;
        let bx1 = ((cx + 1) * qc).min(cols);
        let by1 = ((cy + 1) * qr).min(blocks_rows);
        if bx0 >= bx1 || by0 >= by1 {
            continue;
        }
        let code = format!("QN{dep_code:0>3}{:03}", qi + 1);
        let corners = rect(
            origin.0 + bx0 as f64 * (BLOCK_W + STREET) - half,
            origin.1 + by0 as f64 * (BLOCK_H + STREET) - half,
            origin.0 + bx1 as f64 * (BLOCK_W + STREET) - half,
            origin.1 + by1 as f64 * (BLOCK_H + STREET) - half,
        );
        let (insee, cname) = communes[(bx0 * communes.len() / cols.max(1)).min(communes.len() - 1)];
        line.clear();
        let _ = write!(
            line,
            "{}{{\"type\":\"Feature\",\"properties\":{{\"code_qp\":\"{code}\",\"nom_qp\":\"Quartier synthétique {n}\",\"commune_qp\":\"{cname}\",\"code_commune\":\"{insee}\",\"code_departement\":\"{dep_code}\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[",
            if summary.qpv > 0 { ",\n" } else { "" },
            n = qi + 1
        );
        ring_json(&mut line, &corners);
        line.push_str("]}}");
        qpv.put(&line)?;
        summary.qpv += 1;
        for by in by0..by1 {
            for bx in bx0..bx1 {
                if by * cols + bx >= block_index {
                    continue;
                }
                let x0 = origin.0 + bx as f64 * (BLOCK_W + STREET) - half;
                let y0 = origin.1 + by as f64 * (BLOCK_H + STREET) - half;
                let corners = rect(x0, y0, x0 + BLOCK_W + STREET, y0 + BLOCK_H + STREET);
                line.clear();
                let _ = write!(
                    line,
                    "{}{{\"type\":\"Feature\",\"properties\":{{\"id\":\"{code}-{:02}\",\"name\":\"Îlot {} {}\",\"qpv\":\"{code}\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[",
                    if summary.subsectors > 0 { ",\n" } else { "" },
                    (by - by0) * qc + (bx - bx0) + 1,
                    bx,
                    by
                );
                ring_json(&mut line, &corners);
                line.push_str("]}}");
                sub.put(&line)?;
                summary.subsectors += 1;
            }
        }
    }
    qpv.put("\n]}\n")?;
    sub.put("\n]}\n")?;
    summary.files.push(qpv.finish()?);
    summary.files.push(sub.finish()?);

    let mut toml = Out::create(out_dir, "territory.toml")?;
    let mut text = String::from(
        "# Territory configuration of the synthetic territory (generated by `domania synth`).\n\
         # [owners.siren] lists owners by SIREN whatever their PPM group or forme juridique.\n\
         [owners.siren]\n",
    );
    let _ = writeln!(text, "communaute_urbaine = [\"{}\"]", CU.siren);
    let list: Vec<String> = BAILLEURS.iter().map(|b| format!("\"{}\"", b.siren)).collect();
    let _ = writeln!(text, "bailleur_social = [{}]", list.join(", "));
    text.push_str(
        "# SPL and the EPT of the Métropole du Grand Paris have no legal form of their own: list them\n\
         # here (e.g. sem = [\"522085760\"] for an SPL, communaute_urbaine = [...] for an EPT).\n\
         \n\
         # Choices the INSEE nomenclature leaves open (these are the defaults).\n\
         [owners.policy]\n\
         # SNCF group companies, La Poste: State-owned SAs the DGFiP files with the public bodies.\n\
         public_companies = \"etablissement_public\"\n\
         # SEMs the DGFiP files under groupe 5 with the HLM bodies (CDC Habitat).\n\
         social_housing_sem = \"bailleur_social\"\n\
         # Foreign states, embassies, consulates, international organisations.\n\
         foreign = \"other_legal_person\"\n",
    );
    toml.put(&text)?;
    summary.files.push(toml.finish()?);
    Ok(summary)
}

fn polygon_area(c: &[(f64, f64)]) -> f64 {
    let mut a = 0.0;
    for i in 0..c.len() {
        let (x0, y0) = c[i];
        let (x1, y1) = c[(i + 1) % c.len()];
        a += x0 * y1 - x1 * y0;
    }
    a.abs() / 2.0
}

use domania_core::hash::fnv1a as fnv;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cadastre::read_cadastre;
    use crate::features::ReadOptions;
    use crate::perimeter::read_perimeters;
    use crate::ppm::read_ppm;
    use domania_core::Layer;

    #[test]
    fn deterministic_and_readable_by_our_own_readers() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sa = generate(3000, 7, a.path()).unwrap();
        generate(3000, 7, b.path()).unwrap();
        for f in &sa.files {
            let name = f.file_name().unwrap();
            assert_eq!(fs::read(f).unwrap(), fs::read(b.path().join(name)).unwrap(), "{name:?} differs");
        }
        let cad = read_cadastre(&a.path().join("cadastre-synth-parcelles.json"), ReadOptions::default()).unwrap();
        assert_eq!(cad.parcels.len(), 3000);
        assert!(cad.report.is_clean(), "{}", cad.report.render_issues(5));
        let ppm = read_ppm(&a.path().join("ppm-synth.csv"), None).unwrap();
        assert_eq!(ppm.rows.len(), sa.owner_rows);
        assert!(ppm.report.is_clean());
        let sub =
            read_perimeters(&a.path().join("subsectors-synth.geojson"), Layer::Subsectors, ReadOptions::default())
                .unwrap();
        assert_eq!(sub.perimeters.len(), sa.subsectors);
        assert!(sa.subsectors > 0 && sa.qpv > 0);
        let other = tempfile::tempdir().unwrap();
        generate(3000, 8, other.path()).unwrap();
        assert_ne!(
            fs::read(&sa.files[0]).unwrap(),
            fs::read(other.path().join("cadastre-synth-parcelles.json")).unwrap()
        );
    }

    #[test]
    fn several_departements_each_in_its_folder_with_their_zones_together() {
        let dir = tempfile::tempdir().unwrap();
        let deps = vec!["75".to_owned(), "2A".to_owned(), "974".to_owned()];
        let s = generate_departements(400, 3, &deps, dir.path()).unwrap();
        assert_eq!(s.parcels, 1200);
        for dep in &deps {
            let cad =
                read_cadastre(&dir.path().join(dep).join("cadastre-synth-parcelles.json"), ReadOptions::default())
                    .unwrap();
            assert_eq!(cad.parcels.len(), 400);
            assert!(cad.parcels.iter().all(|p| p.idu.as_str().starts_with(dep.as_str())), "{dep}");
            let ppm = read_ppm(&dir.path().join(dep).join("ppm-synth.csv"), None).unwrap();
            assert!(ppm.report.is_clean() && !ppm.rows.is_empty(), "{dep}");
            assert!(ppm.rows.iter().all(|r| r.idu.as_str().starts_with(dep.as_str())), "{dep}");
        }
        let qpv = read_perimeters(&dir.path().join("qpv-synth.geojson"), Layer::Qpv, ReadOptions::default()).unwrap();
        assert_eq!(qpv.perimeters.len(), s.qpv);
        for dep in &deps {
            assert!(qpv.perimeters.iter().any(|q| q.key.starts_with(&format!("QN{dep:0>3}"))), "{dep}");
        }
        let sub =
            read_perimeters(&dir.path().join("subsectors-synth.geojson"), Layer::Subsectors, ReadOptions::default())
                .unwrap();
        assert_eq!(sub.perimeters.len(), s.subsectors);
        assert!(dir.path().join("territory.toml").exists() && !dir.path().join("75/territory.toml").exists());
    }
}
