//! The snapshot file: what a server keeps between starts, so that a start reads it instead of
//! building it again (the flat layout of `domania_core::flat`, a version and a checksum).
//!
//! It is written once per held snapshot, beside a GeoPackage store (`demo.gpkg.snapshot`) or,
//! for a database, in the server's cache folder (one file per database and part served). Its
//! key is everything the content is computed from: the held snapshot's tag (layer versions,
//! rules, classification, date, program version), when each of those versions was written (a
//! store remade from nothing has the same version numbers), where the store is and the part
//! served. A file with another key, damaged, cut short or of another format is rebuilt and
//! written again, never read.
//!
//! It holds the tiles' topologies (the layers' shapes as shared arcs), the longest part of a
//! start at a million parcels; the rest of the held snapshot is still read from the store.

use std::path::{Path, PathBuf};
use std::time::Instant;

use domania_core::flat::{FlatError, FlatReader, FlatWriter};
use domania_tiles::layers::Topologies;

use crate::App;
use crate::held::Held;

/// What the file holds.
const KIND: &[u8; 8] = b"SNAPSHOT";
/// The layout of its sections (raise it whenever they change).
const FORMAT: u32 = 1;

/// What became of the snapshot file at a build.
#[derive(Debug)]
pub enum Kept {
    /// Read: nothing was built.
    Read { file: PathBuf, ms: f64 },
    /// Built, and being written in the background (`why` the file was not read).
    Built { file: PathBuf, why: String, ms: f64, writing: std::thread::JoinHandle<std::io::Result<()>> },
    /// Built; no file for this store (no folder to keep it in).
    NoFile { ms: f64 },
    /// Built already (nothing to do).
    Already,
}

impl Kept {
    /// Waits for the file to be written (tests, and a command that exits right after).
    pub fn wait(self) -> std::io::Result<()> {
        match self {
            Kept::Built { writing, .. } => writing.join().unwrap_or_else(|_| Err(std::io::Error::other("panicked"))),
            _ => Ok(()),
        }
    }
}

impl App {
    /// Keeps snapshot files in `dir` rather than beside a GeoPackage store or in the cache
    /// folder.
    #[must_use]
    pub fn with_snapshot_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.snapshot_dir = dir;
        self
    }

    /// Where the snapshot file of this store is: beside a GeoPackage, else in the folder given
    /// or the user's cache folder (`$XDG_CACHE_HOME/domania`, `~/.cache/domania`); `None` when
    /// there is no such folder.
    #[must_use]
    pub fn snapshot_file(&self) -> Option<PathBuf> {
        let named = || {
            let served = self.served.as_ref().map(|s| format!("{s:?}")).unwrap_or_default();
            let which = crate::fnv1a(format!("{}|{served}", self.read_location().display()).as_bytes());
            format!("domania-{which:016x}.snapshot")
        };
        if let Some(dir) = &self.snapshot_dir {
            return Some(dir.join(named()));
        }
        match self.read_location() {
            crate::Location::File(p) if self.served.is_none() => {
                let mut name = p.file_name()?.to_os_string();
                name.push(".snapshot");
                Some(p.with_file_name(name))
            }
            crate::Location::File(p) => Some(p.with_file_name(named())),
            crate::Location::Postgres(_) => {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
                Some(cache.join("domania").join(named()))
            }
        }
    }

    /// The key of `held`'s snapshot file: its tag, `stamp` (when its versions were written),
    /// where the store is and the part served.
    pub(crate) fn snapshot_file_key(&self, held: &Held, stamp: &str) -> u64 {
        let served = self.served.as_ref().map(|s| format!("{s:?}")).unwrap_or_default();
        crate::fnv1a(format!("{}|{stamp}|{}|{served}", held.tag(), self.read_location().display()).as_bytes())
    }

    /// Gives `held` what its snapshot file holds, read from the file when it is current, else
    /// built and written (in the background: the caller need not wait).
    pub fn keep(&self, held: &Held) -> Kept {
        if held.has_topologies() {
            return Kept::Already;
        }
        let t = Instant::now();
        let (Some(file), Some(key)) = (self.snapshot_file(), held.file_key) else {
            held.topologies();
            return Kept::NoFile { ms: t.elapsed().as_secs_f64() * 1e3 };
        };
        let why = match read(&file, key) {
            Ok(topo) => {
                held.set_topologies(topo);
                return Kept::Read { file, ms: t.elapsed().as_secs_f64() * 1e3 };
            }
            Err(why) => why,
        };
        let mut w = FlatWriter::new(KIND, FORMAT, key);
        held.topologies().write_to(&mut w);
        let bytes = w.finish();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let to = file.clone();
        let writing = std::thread::spawn(move || write_atomically(&to, &bytes));
        Kept::Built { file, why, ms, writing }
    }
}

/// The file's content, when it is there, whole and current.
fn read(file: &Path, key: u64) -> Result<Topologies, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("none yet".to_owned()),
        Err(e) => return Err(e.to_string()),
    };
    let parse = || -> Result<Topologies, FlatError> {
        let mut r = FlatReader::open(&bytes, KIND, FORMAT, key)?;
        let topo = Topologies::read_from(&mut r)?;
        r.end()?;
        Ok(topo)
    };
    parse().map_err(|e| e.to_string())
}

/// Writes `bytes` to `file` whole or not at all: a file beside it, then renamed over it.
fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.part", std::process::id()));
    let part = file.with_file_name(name);
    let written = std::fs::write(&part, bytes).and_then(|()| std::fs::rename(&part, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}
