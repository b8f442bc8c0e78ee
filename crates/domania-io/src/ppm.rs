//! DGFiP *fichiers des parcelles des personnes morales* (PPM), `;`-separated.
//!
//! Both header styles are accepted: the 2025 UTF-8 one (`Code droit - par`) and the 2021–2023
//! Latin-1 one (`Code droit (Propriétaire(s) parcelle)`). The file has several rows per parcel,
//! one per right and per fiscal subdivision; every row is kept with its right, and only right
//! `P` makes an owner (that filter belongs to whoever computes ownership).

use std::collections::HashMap;
use std::path::Path;

use domania_core::{Idu, Owner, Right, Siren};
pub use encoding_rs::Encoding;
use encoding_rs::{UTF_8, WINDOWS_1252};
use serde::Serialize;

use crate::error::{IoError, Result};
use crate::features::MAX_FIELD_BYTES;
use crate::report::{Location, Severity, ValidationReport};

/// One row of a PPM file: a right held by a legal person on a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerRow {
    pub idu: Idu,
    pub right: Right,
    pub owner: Owner,
    /// The parcel's street address as the file writes it (`12 B RUE ORDENER`), when it gives
    /// a street or place name (see [`street_address`]).
    pub address: Option<String>,
    /// 1-based line number in the file.
    pub line: u64,
}

/// The street address of a PPM row from its `N° voirie`, `Indice de répétition`, `Nature voie`
/// and `Nom voie` (`0012`, `B`, `RUE`, `ORDENER` → `12 B RUE ORDENER`); `None` without a name.
#[must_use]
pub fn street_address(numero: &str, indice: &str, nature: &str, nom: &str) -> Option<String> {
    let nom = nom.split_whitespace().collect::<Vec<_>>().join(" ");
    if nom.is_empty() {
        return None;
    }
    let numero = numero.trim().trim_start_matches('0');
    let parts = [numero, indice.trim(), nature.trim(), nom.as_str()];
    Some(parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" "))
}

/// Rows read from one PPM file, with the report.
#[derive(Debug, Clone)]
pub struct PpmRead {
    pub rows: Vec<OwnerRow>,
    pub report: ValidationReport,
    /// `utf-8` or `windows-1252`.
    pub encoding: &'static str,
}

/// The columns Domania needs, by their normalised header names.
const DEP: &str = "département";
const COMMUNE: &str = "code commune";
const PREFIXE: &str = "préfixe";
const SECTION: &str = "section";
const PLAN: &str = "n° plan";
const DROIT: &str = "code droit";
const SIREN: &str = "n° siren";
const GROUPE: &str = "groupe personne";
const FORME: &str = "forme juridique";
const FORME_ABR: &str = "forme juridique abrégée";
const DENOMINATION: &str = "dénomination";
/// The street columns, optional: an address is kept when the file has them.
const VOIRIE: &str = "n° voirie";
const INDICE: &str = "indice de répétition";
const NATURE_VOIE: &str = "nature voie";
const NOM_VOIE: &str = "nom voie";
const REQUIRED: [&str; 11] =
    [DEP, COMMUNE, PREFIXE, SECTION, PLAN, DROIT, SIREN, GROUPE, FORME, FORME_ABR, DENOMINATION];

/// Normalises a header cell: `Code droit - par` and `Code droit (Propriétaire(s) parcelle)` both
/// become `code droit`.
fn normalise_header(h: &str) -> String {
    let h = h.trim().trim_start_matches('\u{feff}');
    let h = h.split(" (").next().unwrap_or(h);
    let h = h.strip_suffix(" - par").unwrap_or(h);
    h.trim().to_lowercase()
}

/// Decodes the file: UTF-8 when valid, else Windows-1252 (a superset of Latin-1), unless
/// `forced`. UTF-16 and binary files are refused, and so is a file that mixes encodings.
fn decode(path: &Path, bytes: &[u8], forced: Option<&'static Encoding>) -> Result<(String, &'static str)> {
    let enc_err = |reason: String| IoError::Encoding { path: path.to_path_buf(), reason };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) || bytes.iter().take(4096).any(|&b| b == 0)
    {
        return Err(enc_err("the file is UTF-16 or binary; expected UTF-8 or Latin-1 text".into()));
    }
    let utf8 = std::str::from_utf8(bytes);
    let encoding = match (forced, &utf8) {
        (Some(e), _) => e,
        (None, Ok(_)) => UTF_8,
        (None, Err(e)) => {
            // A UTF-8 header with Latin-1 rows further on: the file was concatenated from parts
            // saved in different encodings; decoding either way would corrupt names.
            let header_end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
            let header = &bytes[..header_end];
            if !header.is_ascii() && std::str::from_utf8(header).is_ok() {
                let line = line_of(bytes, e.valid_up_to());
                return Err(enc_err(format!(
                    "mixed encodings: the header is UTF-8 but line {line} is not valid UTF-8"
                )));
            }
            WINDOWS_1252
        }
    };
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        let line = match utf8 {
            Err(e) => line_of(bytes, e.valid_up_to()),
            Ok(_) => 0,
        };
        return Err(enc_err(format!("line {line} is not valid {}", encoding.name())));
    }
    if text.lines().next().is_some_and(|h| h.contains('Ã')) {
        return Err(enc_err(
            "the header contains 'Ã': UTF-8 text saved again as UTF-8 from Latin-1 (double encoding)".into(),
        ));
    }
    Ok((text.into_owned(), encoding.name()))
}

/// 1-based line number of byte `offset`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].split(|&b| b == b'\n').count()
}

/// Reads a PPM file. `forced` overrides encoding detection.
pub fn read_ppm(path: &Path, forced: Option<&'static Encoding>) -> Result<PpmRead> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    read_ppm_bytes(path, &bytes, forced)
}

/// [`read_ppm`] on the bytes of a file; `path` names it in errors and reports.
pub fn read_ppm_bytes(path: &Path, bytes: &[u8], forced: Option<&'static Encoding>) -> Result<PpmRead> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(IoError::Empty { path: path.to_path_buf() });
    }
    let (text, encoding) = decode(path, bytes, forced)?;
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|source| IoError::Csv { path: path.to_path_buf(), line: 1, source })?.clone();
    if headers.len() < 2 {
        return Err(IoError::Header {
            path: path.to_path_buf(),
            reason: "fewer than 2 columns: is the separator ';'?".into(),
        });
    }
    let mut cols: HashMap<String, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        cols.entry(normalise_header(h)).or_insert(i);
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !cols.contains_key(*c)).collect();
    if !missing.is_empty() {
        return Err(IoError::Header {
            path: path.to_path_buf(),
            reason: format!(
                "missing columns: {} (found: {})",
                missing.join(", "),
                headers.iter().collect::<Vec<_>>().join(";")
            ),
        });
    }
    let style = if headers.iter().any(|h| h.ends_with(" - par")) { "2025" } else { "2021-2023" };
    let mut report = ValidationReport::new(path, &format!("dgfip-ppm-{style}"));
    let col = |name: &str| cols[name];
    let (c_dep, c_com, c_pre, c_sec, c_plan) = (col(DEP), col(COMMUNE), col(PREFIXE), col(SECTION), col(PLAN));
    let (c_droit, c_siren, c_groupe, c_forme, c_abr, c_nom) =
        (col(DROIT), col(SIREN), col(GROUPE), col(FORME), col(FORME_ABR), col(DENOMINATION));
    let street = [VOIRIE, INDICE, NATURE_VOIE, NOM_VOIE].map(|c| cols.get(c).copied());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = crate::table::next_record(&mut reader, &mut record, path)? {
        report.read += 1;
        let loc = Location::Line(line);
        if let Some((i, big)) = record.iter().enumerate().find(|(_, f)| f.len() > MAX_FIELD_BYTES) {
            let column = headers.get(i).unwrap_or("?");
            report.push(
                loc,
                None,
                Severity::Rejected,
                "field_too_large",
                format!("column {column:?} holds {} bytes; the limit is {MAX_FIELD_BYTES}", big.len()),
            );
            continue;
        }
        if let Some(i) = record.iter().position(|f| f.contains('\0')) {
            let column = headers.get(i).unwrap_or("?");
            report.push(
                loc,
                None,
                Severity::Rejected,
                "nul_character",
                format!(
                    "column {column:?} holds a NUL character (U+0000), which cannot be stored: remove it from the file"
                ),
            );
            continue;
        }
        if record.len() != headers.len() {
            report.push(
                loc,
                None,
                Severity::Rejected,
                "column_count",
                format!("expected {} columns, found {}", headers.len(), record.len()),
            );
            continue;
        }
        let dep = record[c_dep].trim();
        let commune = format!("{dep}{:0>3}", record[c_com].trim());
        let idu = match Idu::from_parts(&commune, &record[c_pre], &record[c_sec], &record[c_plan]) {
            Ok(i) => i,
            Err(e) => {
                report.push(loc, None, Severity::Rejected, "invalid_idu", e.to_string());
                continue;
            }
        };
        let Some(right) = Right::parse(&record[c_droit]) else {
            report.push(loc, Some(idu.as_str()), Severity::Rejected, "missing_right", "empty code droit".into());
            continue;
        };
        let groupe_text = record[c_groupe].trim();
        let groupe = groupe_text.chars().next().map(|c| c.to_digit(10));
        if groupe == Some(None) {
            report.push(
                loc,
                Some(idu.as_str()),
                Severity::Rejected,
                "invalid_groupe",
                format!("groupe personne {groupe_text:?} does not start with a digit 0-9"),
            );
            continue;
        }
        let groupe = groupe.flatten().map(|d| d as u8);
        let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let owner = Owner {
            siren: Siren::new(&record[c_siren]),
            name: record[c_nom].trim().to_owned(),
            groupe,
            forme: non_empty(&record[c_forme]),
            forme_abregee: non_empty(&record[c_abr]),
        };
        if owner.siren.as_str().is_empty() && owner.name.is_empty() {
            report.push(loc, Some(idu.as_str()), Severity::Rejected, "missing_owner", "no SIREN and no name".into());
            continue;
        }
        report.accepted += 1;
        let cell = |c: Option<usize>| c.and_then(|i| record.get(i)).unwrap_or("");
        let address = street_address(cell(street[0]), cell(street[1]), cell(street[2]), cell(street[3]));
        rows.push(OwnerRow { idu, right, owner, address, line });
    }
    Ok(PpmRead { rows, report, encoding })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const HEADER_2025: &str = "Département;Code Direction;Code Commune;Nom de la commune;Préfixe;Section;N° plan;N° voirie;Indice de répétition;Code voie MAJIC;Code voie Rivoli;Nature voie;Nom voie;Contenance;SUF;Nature culture;Contenance.1;Code droit - par;N° Majic - par;N° SIREN - par;Groupe personne - par;Forme juridique - par;Forme juridique abrégée - par;Dénomination - par";
    const ROW: &str = "78;0;677;VILLETTE;;ZA;0526;;;00043;B043;;LES LIMONS;545;;BT - Taillis simples;545;P - Propriétaire;PBFVMN;344871652;0 - Personnes morales non remarquables ;6540;SCI;SCI DU LAVOIR";

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn reads_2025_style() {
        let f = write(format!("{HEADER_2025}\n{ROW}\n").as_bytes());
        let r = read_ppm(f.path(), None).unwrap();
        assert_eq!(r.report.format, "dgfip-ppm-2025");
        assert_eq!(r.rows.len(), 1);
        let row = &r.rows[0];
        assert_eq!(row.idu.as_str(), "78677000ZA0526");
        assert_eq!(row.right, Right::Proprietaire);
        assert_eq!(row.owner.groupe, Some(0));
        assert_eq!(row.owner.forme.as_deref(), Some("6540"));
        assert_eq!(row.owner.name, "SCI DU LAVOIR");
    }

    #[test]
    fn reads_latin1_2021_style() {
        let header = HEADER_2025
            .replace("Département", "Département (Champ géographique)")
            .replace("Préfixe", "Préfixe (Références cadastrales)")
            .replace(" - par", " (Propriétaire(s) parcelle)");
        let row = ROW.replace("SCI DU LAVOIR", "SCI DE L'ÉTANG");
        let text = format!("{header}\r\n{row}\r\n");
        let (bytes, _, _) = WINDOWS_1252.encode(&text);
        let f = write(&bytes);
        let r = read_ppm(f.path(), None).unwrap();
        assert_eq!(r.encoding, "windows-1252");
        assert_eq!(r.report.format, "dgfip-ppm-2021-2023");
        assert_eq!(r.rows[0].owner.name, "SCI DE L'ÉTANG");
    }

    #[test]
    fn missing_column_is_reported_with_its_line() {
        let short = ROW.rsplit_once(';').unwrap().0;
        let f = write(format!("{HEADER_2025}\n{ROW}\n{short}\n").as_bytes());
        let r = read_ppm(f.path(), None).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.report.rejected, 1);
        assert_eq!(r.report.issues[0].location, Location::Line(3));
        assert_eq!(r.report.issues[0].code, "column_count");
    }

    #[test]
    fn wrong_encodings_are_refused() {
        // UTF-16
        let mut utf16 = vec![0xFF, 0xFE];
        for u in HEADER_2025.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert!(matches!(read_ppm(write(&utf16).path(), None), Err(IoError::Encoding { .. })));
        // UTF-8 header, Latin-1 row
        let mut mixed = format!("{HEADER_2025}\n{ROW}\n").into_bytes();
        let latin_row = ROW.replace("LAVOIR", "ÉTANG");
        mixed.extend_from_slice(&WINDOWS_1252.encode(&latin_row).0);
        let err = read_ppm(write(&mixed).path(), None).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        // Double-encoded header
        let double = HEADER_2025.replace('é', "Ã©");
        assert!(matches!(read_ppm(write(double.as_bytes()).path(), None), Err(IoError::Encoding { .. })));
        // Forced UTF-8 on Latin-1 bytes
        let latin = WINDOWS_1252.encode(&format!("{HEADER_2025}\n{ROW}\n")).0.into_owned();
        assert!(matches!(read_ppm(write(&latin).path(), Some(UTF_8)), Err(IoError::Encoding { .. })));
    }

    #[test]
    fn unknown_header_lists_missing_columns() {
        let err = read_ppm(write(b"a;b;c\n1;2;3\n").path(), None).unwrap_err();
        assert!(err.to_string().contains("missing columns: département"), "{err}");
        assert!(matches!(read_ppm(write(b"").path(), None), Err(IoError::Empty { .. })));
    }
}
