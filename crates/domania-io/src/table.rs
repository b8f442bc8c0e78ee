//! What the readers of `;`-separated tables (the PPM's owner files, the BAN's addresses) share.

use std::path::Path;

use crate::error::{IoError, Result};

/// The next record that is not blank, and the 1-based line it starts on; `None` at the end. A
/// record the CSV reader cannot read is an error naming `path` and the line.
pub(crate) fn next_record<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    path: &Path,
) -> Result<Option<u64>> {
    loop {
        let line = reader.position().line();
        match reader.read_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(source) => return Err(IoError::Csv { path: path.to_path_buf(), line, source }),
        }
        if !record.iter().all(|f| f.trim().is_empty()) {
            return Ok(Some(line));
        }
    }
}
