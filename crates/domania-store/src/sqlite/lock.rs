//! One writer at a time: an advisory lock on a sidecar file (`STORE.lock`) that says who
//! holds it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::location::Wait;

/// The sidecar file whose advisory lock keeps two Domania writers apart, and which says who
/// holds it. The lock dies with its process (`kill -9` included); the file may stay, empty.
pub(super) fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Who holds the writer lock of a store, as its holder wrote it, when a Domania process does.
#[must_use]
pub fn lock_holder(path: &Path) -> Option<String> {
    let file = std::fs::File::open(lock_path(path)).ok()?;
    // When nobody holds it, what the file says is stale.
    if file.try_lock_shared().is_ok() {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &file, &mut text).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The writer lock of an open store.
pub(super) struct WriterLock {
    file: std::fs::File,
}

impl WriterLock {
    pub(super) fn acquire(path: &Path, wait: &Wait<'_>) -> Result<Self> {
        let lp = lock_path(path);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lp)
            .map_err(|_| StoreError::ReadOnly { path: path.to_path_buf(), what: "this command" })?;
        wait.for_lock(path, Duration::from_millis(50), || match file.try_lock() {
            Ok(()) => Ok(None),
            Err(std::fs::TryLockError::WouldBlock) => {
                Ok(Some(lock_holder(path).unwrap_or_else(|| "another Domania process".to_owned())))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(StoreError::Corrupt(format!("cannot lock {}: {e}", lp.display())))
            }
        })?;
        let args: Vec<String> = std::env::args().collect();
        let user = std::env::var("USER").unwrap_or_else(|_| "?".to_owned());
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let info = format!("pid {} (user {user}, `{}`, since unix time {since})", std::process::id(), args.join(" "));
        // The text is for people; failing to write it does not weaken the lock.
        let _ = file.set_len(0);
        let _ = std::io::Write::write_all(&mut &file, info.as_bytes());
        Ok(Self { file })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}
