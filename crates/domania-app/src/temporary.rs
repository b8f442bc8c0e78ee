//! Domania's temporary folders (an upload as it is received, a zip unpacked), named after the
//! process that made them so that the next start can remove those a killed process left.

use std::path::Path;

use crate::error::{AppError, ErrorCode, Result};

/// The prefix of an upload's folder.
pub const UPLOAD: &str = "domania-upload-";
/// The prefix of an unpacked zip's folder.
pub const UNZIP: &str = "domania-unzip-";
/// The prefixes of Domania's temporary folders, followed by the process id that made them.
const TEMPORARY: [&str; 2] = [UPLOAD, UNZIP];

/// A temporary folder named after this process, so that a later start can tell it is orphaned.
///
/// # Errors
/// The folder cannot be made.
pub fn dir(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("a temporary folder: {e}")))
}

/// Removes the temporary folders of Domania processes that no longer run (an upload or an
/// unpacked zip of a process killed mid-way); returns how many bytes were freed.
#[must_use]
pub fn sweep() -> u64 {
    sweep_in(&std::env::temp_dir())
}

fn sweep_in(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut freed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = TEMPORARY.iter().find_map(|p| name.strip_prefix(p)) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let size = folder_size(&e.path());
        if std::fs::remove_dir_all(e.path()).is_ok() {
            freed += size;
        }
    }
    freed
}

fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| if m.is_dir() { folder_size(&e.path()) } else { m.len() }))
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_a_process_that_no_longer_runs_is_swept_and_ours_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        // PID 0 is never a process of ours; /proc/0 does not exist.
        let orphan = tmp.path().join("domania-upload-0-abc");
        std::fs::create_dir(&orphan).unwrap();
        std::fs::write(orphan.join("received"), vec![0u8; 1000]).unwrap();
        let ours = tmp.path().join(format!("domania-unzip-{}-xyz", std::process::id()));
        std::fs::create_dir(&ours).unwrap();
        let other = tmp.path().join("someone-else-0");
        std::fs::create_dir(&other).unwrap();
        assert_eq!(sweep_in(tmp.path()), 1000);
        assert!(!orphan.exists() && ours.exists() && other.exists());
    }
}
