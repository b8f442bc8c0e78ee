//! Tables as spreadsheets receive them: the CSV rows of the use cases whose answer is a table,
//! and the one CSV dialect of Domania (UTF-8, a header row, a chosen delimiter, fields quoted
//! only when they must be, RFC 4180). The CLI and the server write the same rows.

use serde::{Serialize, Serializer};

use crate::error::{AppError, ErrorCode, Result};

/// A number written with `D` decimals (`12.50`), as tables show areas and shares; serialised as
/// text so that no writer turns `0.000001` into `1e-6`; never `-0.00` (a gap of `-0.004` m² is
/// `0.00`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Fixed<const D: usize>(pub f64);

impl<const D: usize> Serialize for Fixed<D> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", D, Rounded::<D>(self.0).value()))
    }
}

/// A number rounded to `D` decimals where it is presented as a number (JSON), so that no
/// presenter rounds by hand; never `-0` (a remainder of `-0.004` m² is `0`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rounded<const D: usize>(pub f64);

impl<const D: usize> Rounded<D> {
    /// The rounded value.
    #[must_use]
    pub fn value(self) -> f64 {
        let k = 10f64.powi(D as i32);
        (self.0 * k).round() / k + 0.0
    }
}

impl<const D: usize> Serialize for Rounded<D> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_f64(self.value())
    }
}

/// Serialises an optional figure rounded to `D` decimals (`serialize_with`): hours and shares
/// of service levels are read by people, not to the seventeenth digit.
///
/// # Errors
/// The serializer's.
pub fn rounded<const D: usize, S: Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(x) => Rounded::<D>(*x).serialize(s),
        None => s.serialize_none(),
    }
}

/// A row of a table: its fields, in order, are the columns of [`Row::HEADER`] (an empty table
/// still has its header).
pub trait Row: Serialize {
    const HEADER: &'static [&'static str];
}

/// A cell a spreadsheet would run as a formula (OWASP's CSV injection rule: it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return), prefixed with `'` so that it is shown as text; a
/// plain number (`-0.09`) is left as it is.
#[must_use]
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() { format!("'{cell}").into() } else { cell.into() }
}

/// A `Write` into a buffer shared with its reader (one row at a time).
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a written CSV record may hold a cell to neutralise: a cell (at the start, or after a
/// delimiter) starting with a risky character, a quote (looked at closely), or a sign not
/// followed by a plain number. Cheap, and never wrong the other way: a record it lets through
/// holds no risky cell.
fn may_hold_formula(record: &[u8], delimiter: u8) -> bool {
    let starts =
        std::iter::once(0).chain(record.iter().enumerate().filter(|(_, b)| **b == delimiter).map(|(i, _)| i + 1));
    for at in starts {
        match record.get(at) {
            Some(b'=' | b'@' | b'\t' | b'\r') => return true,
            // A quoted cell (it holds the delimiter, a quote or a line break): its first
            // character decides.
            Some(b'"') if matches!(record.get(at + 1), Some(b'=' | b'@' | b'\t' | b'\r' | b'-' | b'+')) => return true,
            Some(b'-' | b'+') => {
                let end = record[at..].iter().position(|b| matches!(*b, b'\n' | b'\r') || *b == delimiter);
                let cell = &record[at..end.map_or(record.len(), |e| at + e)];
                if std::str::from_utf8(cell).ok().and_then(|c| c.parse::<f64>().ok()).is_none() {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `rows` as CSV with `delimiter` under `header`; no cell carries a live formula
/// ([`neutralised`]), whatever the names and descriptions it holds.
pub fn to_csv<T: Serialize>(rows: &[T], delimiter: u8, header: &[&str]) -> Result<String> {
    let fail = |e: &dyn std::fmt::Display| AppError::new(ErrorCode::Internal, format!("writing CSV: {e}"));
    let mut w = csv::WriterBuilder::new().delimiter(delimiter).has_headers(false).from_writer(Vec::new());
    w.write_record(header).map_err(|e| fail(&e))?;
    let mut out = w.into_inner().map_err(|e| fail(&e))?;
    // Each row is written on its own; one that may hold a risky cell is read back as cells and
    // written again neutralised (rare: names and descriptions).
    let buf = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut one = csv::WriterBuilder::new().delimiter(delimiter).has_headers(false).from_writer(Shared(buf.clone()));
    for r in rows {
        one.serialize(r).map_err(|e| fail(&e))?;
        one.flush().map_err(|e| fail(&e))?;
        let record = std::mem::take(&mut *buf.borrow_mut());
        if !may_hold_formula(&record, delimiter) {
            out.extend_from_slice(&record);
            continue;
        }
        let mut reader =
            csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).from_reader(record.as_slice());
        let mut again = csv::WriterBuilder::new().delimiter(delimiter).has_headers(false).from_writer(&mut out);
        let mut cells = csv::StringRecord::new();
        while reader.read_record(&mut cells).map_err(|e| fail(&e))? {
            again.write_record(cells.iter().map(|c| neutralised(c).into_owned())).map_err(|e| fail(&e))?;
        }
        again.flush().map_err(|e| fail(&e))?;
    }
    String::from_utf8(out).map_err(|e| fail(&e))
}

/// `rows` as CSV under their own header.
pub fn rows_csv<T: Row>(rows: &[T], delimiter: u8) -> Result<String> {
    to_csv(rows, delimiter, T::HEADER)
}

/// A table as a French spreadsheet opens it (LibreOffice Calc, Excel set to French): `;`
/// between cells, a decimal comma, UTF-8 with a byte-order mark, the columns named in `lang`
/// (`column-…` of the catalogues) and actors and statuses by their labels. `text` is a table
/// as [`to_csv`] writes it with `delimiter`; identifiers such as IDUs and SIRENs are left as
/// they are (they are not decimal numbers).
///
/// # Errors
/// `internal` if `text` is not CSV (it is written by this module).
pub fn spreadsheet(text: &str, delimiter: u8, lang: domania_i18n::Lang) -> Result<String> {
    let fail = |e: &dyn std::fmt::Display| AppError::new(ErrorCode::Internal, format!("writing CSV: {e}"));
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).from_reader(text.as_bytes());
    let mut out = csv::WriterBuilder::new().delimiter(b';').flexible(true).from_writer(Vec::from("\u{feff}"));
    let mut columns: Vec<String> = Vec::new();
    let mut cells = csv::StringRecord::new();
    let mut first = true;
    while reader.read_record(&mut cells).map_err(|e| fail(&e))? {
        if first {
            first = false;
            columns = cells.iter().map(str::to_owned).collect();
            let named = columns.iter().map(|c| column_name(c, lang));
            out.write_record(named).map_err(|e| fail(&e))?;
            continue;
        }
        let said = cells.iter().enumerate().map(|(i, cell)| {
            let column = columns.get(i).map_or("", String::as_str);
            value_in(column, cell, lang)
        });
        out.write_record(said).map_err(|e| fail(&e))?;
    }
    String::from_utf8(out.into_inner().map_err(|e| fail(&e))?).map_err(|e| fail(&e))
}

/// A column's name in `lang`: `column-NAME` of the catalogues, the name itself otherwise.
fn column_name(name: &str, lang: domania_i18n::Lang) -> String {
    let id = format!("column-{name}");
    if lang.has(&id) { lang.t(&id, &[]) } else { name.to_owned() }
}

/// A cell as a French reader reads it: a decimal number with a comma, an actor or a status by
/// its label.
fn value_in(column: &str, cell: &str, lang: domania_i18n::Lang) -> String {
    let decimal = cell.contains('.')
        && cell.trim_start_matches('-').split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
    if decimal && lang == domania_i18n::Lang::Fr {
        return cell.replace('.', ",");
    }
    if lang == domania_i18n::Lang::Fr && !cell.is_empty() {
        if matches!(column, "actor" | "owner_actor" | "decided_by" | "delegated_to")
            && let Ok(actor) = cell.parse::<domania_core::Actor>()
        {
            return actor.label_fr().to_owned();
        }
        let id = format!("value-{column}-{cell}");
        if matches!(column, "status" | "urgency" | "rule" | "by") && lang.has(&id) {
            return lang.t(&id, &[]);
        }
    }
    cell.to_owned()
}

/// The column names serde gives `row` (what [`Row::HEADER`] must say; checked by tests).
pub fn field_names<T: Serialize>(row: &T) -> Vec<String> {
    let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
    let _ = w.serialize(row);
    let text = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    r.records()
        .next()
        .and_then(std::result::Result::ok)
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a gap of −0.004 m² was written `-0.00` in the shares table, an empty zone's
    /// cadastré land `-0.0` in JSON.
    #[test]
    fn no_negative_zero_is_written() {
        let text = |v: f64| serde_json::to_string(&Fixed::<2>(v)).unwrap();
        assert_eq!(
            (text(-0.004), text(-0.0), text(-0.006)),
            ("\"0.00\"".into(), "\"0.00\"".into(), "\"-0.01\"".into())
        );
        assert_eq!(serde_json::to_string(&Rounded::<2>(-0.0)).unwrap(), "0.0");
    }

    #[test]
    fn a_french_spreadsheet_has_semicolons_decimal_commas_a_bom_and_french_words() {
        let text = "subsector_id,actor,siren,area_m2,share_of_cadastre,status,gap_m2,new_column\n\
                    QN078001-01,bailleur_social,900000037,8799.94,1.000000,in_progress,-0.06,x\n\
                    \"A, B\",commune,,12,0.5,done,3,\n";
        let sheet = spreadsheet(text, b',', domania_i18n::Lang::Fr).unwrap();
        assert!(sheet.starts_with('\u{feff}'));
        let lines: Vec<&str> = sheet.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines[0],
            "sous-secteur;acteur;SIREN;surface (m²);part du sol cadastré;statut;écart (m²);new_column"
        );
        assert_eq!(lines[1], "QN078001-01;Bailleur social;900000037;8799,94;1,000000;en cours;-0,06;x");
        assert_eq!(lines[2], "A, B;Commune;;12;0,5;traité;3;");
        // English keeps the words and the numbers; only the dialect changes.
        let en = spreadsheet(text, b',', domania_i18n::Lang::En).unwrap();
        assert!(en.contains("QN078001-01;bailleur_social;900000037;8799.94;"), "{en}");
    }

    #[test]
    fn no_cell_carries_a_live_formula() {
        #[derive(Serialize)]
        struct Owner<'a> {
            name: &'a str,
            gap: Fixed<2>,
        }
        let rows = [
            Owner { name: "=cmd|' /C calc'!A0", gap: Fixed(-0.09) },
            Owner { name: "+33 1 23 45 67 89", gap: Fixed(1.0) },
            Owner { name: "@SUM(A1)", gap: Fixed(0.0) },
            Owner { name: "\t=1", gap: Fixed(0.0) },
            Owner { name: "-2+3", gap: Fixed(0.0) },
            Owner { name: "COMMUNE DE POISSY", gap: Fixed(0.0) },
        ];
        let text = to_csv(&rows, b';', &["name", "gap"]).unwrap();
        let mut r = csv::ReaderBuilder::new().delimiter(b';').from_reader(text.as_bytes());
        let got: Vec<(String, String)> =
            r.records().map(|x| x.unwrap()).map(|x| (x[0].to_owned(), x[1].to_owned())).collect();
        assert_eq!(got[0], ("'=cmd|' /C calc'!A0".to_owned(), "-0.09".to_owned()), "a negative number stays one");
        assert_eq!(got[1].0, "'+33 1 23 45 67 89");
        assert_eq!(got[2].0, "'@SUM(A1)");
        assert_eq!(got[3].0, "'\t=1");
        assert_eq!(got[4].0, "'-2+3");
        assert_eq!(got[5].0, "COMMUNE DE POISSY");
        // The quick look lets through only what holds no risky cell.
        assert!(!may_hold_formula(b"S1,COMMUNE,-0.09,12.50\n", b','));
        assert!(may_hold_formula(b"S1,=1+2,3\n", b','));
        assert!(may_hold_formula(b"S1,-2+3,3\n", b','));
        assert!(may_hold_formula(b"\"=x\",3\n", b','));
        assert!(!may_hold_formula(b"\"forme juridique 7343, groupe 4\",3\n", b','));
        assert!(may_hold_formula(b"S1;@a;3\n", b';'));
    }

    #[derive(Serialize)]
    struct Row {
        id: &'static str,
        name: &'static str,
        area: Fixed<2>,
    }

    #[test]
    fn tables_quote_only_what_they_must_in_the_asked_dialect() {
        let rows = [
            Row { id: "S1", name: "Îlot \"nord\", bâtiment A", area: Fixed(12.5) },
            Row { id: "S2", name: "plain", area: Fixed(0.000_001) },
        ];
        assert_eq!(
            to_csv(&rows, b',', &["id", "name", "area"]).unwrap(),
            "id,name,area\nS1,\"Îlot \"\"nord\"\", bâtiment A\",12.50\nS2,plain,0.00\n"
        );
        assert_eq!(to_csv(&rows[1..], b';', &["subsector_id", "n", "a"]).unwrap(), "subsector_id;n;a\nS2;plain;0.00\n");
        // An empty table keeps its header.
        assert_eq!(to_csv::<Row>(&[], b',', &["id", "name", "area"]).unwrap(), "id,name,area\n");
        assert_eq!(field_names(&rows[0]), ["id", "name", "area"]);
    }

    #[test]
    fn rounded_numbers_stay_numbers_and_never_negative_zero() {
        assert_eq!(serde_json::to_string(&Rounded::<2>(12.345_6)).unwrap(), "12.35");
        assert_eq!(serde_json::to_string(&Rounded::<2>(-0.004)).unwrap(), "0.0");
        assert!((Rounded::<6>(0.123_456_78).value() - 0.123_457).abs() < 1e-12);
    }
}
