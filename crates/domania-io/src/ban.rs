//! The Base Adresse Nationale's departmental CSV (`adresses-78.csv.gz` as published at
//! adresse.data.gouv.fr, gzipped or not): `;`-separated, UTF-8, one header row naming its
//! documented columns (`id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;…;
//! x;y;lon;lat;…;nom_ld;…;cad_parcelles`). `x`/`y` are Lambert-93 in metropolitan France;
//! where they are empty, `lon`/`lat` (WGS84) are projected.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

pub use domania_core::Address;
use domania_core::crs::Crs;

use crate::error::{IoError, Result};
use crate::features::MAX_FIELD_BYTES;
use crate::report::{Location, Severity, ValidationReport};

/// The columns an address needs; the others are optional.
const REQUIRED: [&str; 10] = ["id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "x", "y", "lon", "lat"];

/// Reads a BAN CSV, calling `on_address` for every address kept; the report says what was
/// refused and why, line by line.
pub fn read_ban_with(path: &Path, mut on_address: impl FnMut(Address)) -> Result<ValidationReport> {
    let file = std::fs::File::open(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 2];
    let n = reader.read(&mut magic).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    if n == 0 {
        return Err(IoError::Empty { path: path.to_path_buf() });
    }
    let chained = std::io::Read::chain(&magic[..n], reader);
    let input: Box<dyn Read> =
        if magic == [0x1f, 0x8b] { Box::new(flate2::read::MultiGzDecoder::new(chained)) } else { Box::new(chained) };
    let mut csv = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_reader(input);
    let headers = csv.headers().map_err(|source| IoError::Csv { path: path.to_path_buf(), line: 1, source })?.clone();
    let cols: HashMap<String, usize> =
        headers.iter().enumerate().map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_lowercase(), i)).collect();
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !cols.contains_key(*c)).collect();
    if !missing.is_empty() {
        return Err(IoError::Header {
            path: path.to_path_buf(),
            reason: format!(
                "missing columns of the Base Adresse Nationale: {} (found: {}); expected the departmental CSV of adresse.data.gouv.fr",
                missing.join(", "),
                headers.iter().take(12).collect::<Vec<_>>().join(";")
            ),
        });
    }
    let col = |name: &str| cols.get(name).copied();
    let [c_id, c_num, c_rep, c_voie, c_cp, c_insee, c_x, c_y, c_lon, c_lat] = REQUIRED.map(|c| cols[c]);
    let (c_ld, c_parcelles) = (col("nom_ld"), col("cad_parcelles"));
    let mut report = ValidationReport::new(path, "ban-csv");
    let (wgs84, l93) = (Crs::wgs84(), Crs::lambert93());
    let mut record = csv::StringRecord::new();
    while let Some(line) = crate::table::next_record(&mut csv, &mut record, path)? {
        report.read += 1;
        let loc = Location::Line(line);
        let cell = |i: usize| record.get(i).map_or("", str::trim);
        let id = cell(c_id);
        let reject = |report: &mut ValidationReport, code: &'static str, message: String| {
            report.push(loc, Some(id).filter(|i| !i.is_empty()), Severity::Rejected, code, message);
        };
        if let Some((i, big)) = record.iter().enumerate().find(|(_, f)| f.len() > MAX_FIELD_BYTES || f.contains('\0')) {
            let column = headers.get(i).unwrap_or("?");
            reject(&mut report, "field_too_large", format!("column {column:?} holds {} bytes or a NUL", big.len()));
            continue;
        }
        let commune = cell(c_insee);
        if !domania_core::is_insee_code(commune) {
            reject(&mut report, "invalid_commune", format!("code_insee {commune:?} is not an INSEE commune code"));
            continue;
        }
        if id.is_empty() {
            reject(&mut report, "missing_id", "the address has no id".into());
            continue;
        }
        let voie = cell(c_voie);
        let lieu_dit = c_ld.map(cell).filter(|s| !s.is_empty());
        if voie.is_empty() && lieu_dit.is_none() {
            reject(&mut report, "missing_street", "neither nom_voie nor nom_ld".into());
            continue;
        }
        let numero = match cell(c_num) {
            "" | "99999" => None,
            n => {
                let Ok(n) = n.parse::<u32>() else {
                    reject(&mut report, "invalid_number", format!("numero {n:?} is not a number"));
                    continue;
                };
                Some(n)
            }
        };
        let num = |i: usize| cell(i).parse::<f64>().ok().filter(|v| v.is_finite());
        let (lon, lat) = (num(c_lon), num(c_lat));
        // x/y are Lambert-93 in metropolitan France only; elsewhere (and when empty) the
        // WGS84 position is projected.
        let metropolitan = !commune.starts_with("97") && !commune.starts_with("98");
        let xy = match (num(c_x), num(c_y), lon, lat) {
            (Some(x), Some(y), _, _) if metropolitan => Some((x, y)),
            (_, _, Some(lon), Some(lat)) if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) => {
                Some(wgs84.transform_to(&l93, lon, lat))
            }
            _ => None,
        };
        let Some((x, y)) = xy else {
            reject(&mut report, "missing_position", "neither x/y (Lambert-93) nor lon/lat".into());
            continue;
        };
        // The key is the BAN's id, which starts with its commune; an id that does not is
        // prefixed with it, so that a commune's import replaces its own addresses only.
        let key = if id.starts_with(commune) { id.to_owned() } else { format!("{commune}|{id}") };
        let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        report.accepted += 1;
        on_address(Address {
            id: key,
            commune: commune.to_owned(),
            numero,
            rep: opt(cell(c_rep)),
            voie: if voie.is_empty() { lieu_dit.unwrap_or_default().to_owned() } else { voie.to_owned() },
            lieu_dit: lieu_dit.map(str::to_owned),
            code_postal: opt(cell(c_cp)),
            x,
            y,
            lon,
            lat,
            parcelles: c_parcelles.map(cell).and_then(opt),
        });
    }
    if report.read == 0 {
        return Err(IoError::Empty { path: path.to_path_buf() });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const HEADER: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles";

    fn read(text: &str, gz: bool) -> (Vec<Address>, ValidationReport) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        if gz {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text.as_bytes()).unwrap();
            f.write_all(&e.finish().unwrap()).unwrap();
        } else {
            f.write_all(text.as_bytes()).unwrap();
        }
        let mut out = Vec::new();
        let report = read_ban_with(f.path(), |a| out.push(a)).unwrap();
        (out, report)
    }

    #[test]
    fn reads_the_published_columns_gzipped_or_not() {
        let text = format!(
            "{HEADER}\n75118_6918_00012;75118_6918;12;;Rue Ordener;75018;75118;Paris 18e Arrondissement;;;652000.5;6865000.25;2.35;48.89;entrée;;;PARIS;RUE ORDENER;commune;commune;1;75118000AW0005\n\
             01002_w4ld4h_00006;;6;bis;Place du Pese Lait;01640;01002;L'Abergement-de-Varey;;;887643.67;6547960.53;5.425179;46.005447;entrée;;;;;;;;\n\
             75101_0001_00001;75101_0001;1;;COUR DU COMMERCE SAINT ANDRE;75006;75106;Paris 6e;;;;;2.338721;48.852851;entrée;;;;;BAN;;;\n\
             78440_B001_99999;;99999;;;78440;78440;Mantes;;;600000;6870000;;;;;Les Closeaux;;;;;;\n\
             78440_x;;12;;;78440;78440;Mantes;;;600000;6870000;;;;;;;;;;;\n\
             ;;12;;Rue;78440;7844;Mantes;;;600000;6870000;;;;;;;;;;;\n"
        );
        for gz in [false, true] {
            let (rows, report) = read(&text, gz);
            assert_eq!(rows.len(), 4, "{report:?}");
            assert_eq!(rows[0].numero, Some(12));
            assert_eq!(rows[0].voie, "Rue Ordener");
            assert_eq!(rows[0].parcelles.as_deref(), Some("75118000AW0005"));
            assert_eq!((rows[0].x, rows[0].y), (652_000.5, 6_865_000.25));
            assert_eq!(rows[1].rep.as_deref(), Some("bis"));
            // No x/y: projected from lon/lat; the id does not start with the commune (an
            // address of the 6th filed under 75101): prefixed.
            assert!((rows[2].x - 651_700.0).abs() < 1_000.0 && (rows[2].y - 6_862_000.0).abs() < 1_000.0);
            assert_eq!(rows[2].id, "75106|75101_0001_00001");
            // 99999: a place without a number, named by its lieu-dit.
            assert_eq!((rows[3].numero, rows[3].voie.as_str()), (None, "Les Closeaux"));
            assert_eq!(report.rejected, 2, "no street, no commune code");
        }
    }

    #[test]
    fn a_file_that_is_not_the_ban_is_named() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"numero;voie\n1;rue\n").unwrap();
        let err = read_ban_with(f.path(), |_| ()).unwrap_err().to_string();
        assert!(err.contains("missing columns of the Base Adresse Nationale: id, rep"), "{err}");
    }
}
