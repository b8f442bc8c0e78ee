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
//! It holds the snapshot (parcels with flat coordinates, owners as classified, zones,
//! addresses, versions), the shape work of its shares and managers (the sub-sectors' overlay,
//! every space's shape, point and overlaps: `domania_engine::Cut`) and the tiles' topologies
//! (the layers' shapes as shared arcs), with their R-trees as they were. As it is read, the
//! IDUs are hashed again and the shares, decisions and managers worked out from the cut: sums
//! and the rules, no geometry.

use std::path::{Path, PathBuf};
use std::time::Instant;

use domania_core::flat::{FlatError, FlatReader, FlatWriter};
use domania_engine::{Cut, Snapshot};
use domania_tiles::layers::Topologies;

use crate::error::Result;
use crate::files::LoadedRules;
use crate::held::{Held, tag_of};
use crate::{App, Date};

/// What the file holds.
const KIND: &[u8; 8] = b"SNAPSHOT";
/// The layout of its sections (raise it whenever they change).
const FORMAT: u32 = 4;

/// What became of the snapshot file at a build.
#[derive(Debug)]
pub enum Kept {
    /// Read: nothing was built.
    Read { file: PathBuf, ms: f64 },
    /// Built (`why` the file was not read): the caller writes it ([`App::write_snapshot_file`]).
    Built { file: PathBuf, why: String, ms: f64 },
    /// Built; no file for this store (no folder to keep it in).
    NoFile { ms: f64 },
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

    /// The key of a snapshot file of the held snapshot tagged `tag`: the tag, `stamp` (when
    /// its versions were written), where the store is and the part served.
    pub(crate) fn snapshot_file_key(&self, tag: &str, stamp: &str) -> u64 {
        let served = self.served.as_ref().map(|s| format!("{s:?}")).unwrap_or_default();
        crate::fnv1a(format!("{tag}|{stamp}|{}|{served}", self.read_location().display()).as_bytes())
    }

    /// The held snapshot on `date` with `rules` ([`App::hold`]) and its topologies, read from
    /// the snapshot file when it is current (the search index and the map's names are then
    /// built on first use), else built with them: then
    /// [`Kept::Built`] says so and the caller writes the file ([`App::write_snapshot_file`],
    /// in the background once the snapshot is served).
    pub fn hold_kept(&self, rules: LoadedRules, date: Date) -> Result<(Held, Kept)> {
        let t = Instant::now();
        let Some(file) = self.snapshot_file() else {
            let held = self.hold(rules, date)?;
            held.forget_cut();
            held.topologies();
            return Ok((held, Kept::NoFile { ms: t.elapsed().as_secs_f64() * 1e3 }));
        };
        let store = self.open_read()?;
        let versions = store.versions()?;
        let stamp = store.version_stamp(&versions)?;
        drop(store);
        let key = self.snapshot_file_key(&tag_of(&versions, &rules, self.classifier(), date), &stamp);
        // The search index and the map's names are left to be built on first use (a server
        // builds them behind its first answers).
        let bytes = match std::fs::read(&file) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("none yet".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let read = bytes.and_then(|bytes| {
            let mut r = FlatReader::open(&bytes, KIND, FORMAT, key).map_err(|e| e.to_string())?;
            let snapshot = Snapshot::read_from(&mut r).map_err(|e| e.to_string())?;
            let mut cut = Cut::read_from(&mut r, &snapshot).map_err(|e| e.to_string())?;
            // The shares and managers worked out from the cut on one core, the topologies read
            // on the other.
            let (computed, topo) = rayon::join(
                || snapshot.assign_cut(&rules.rules, date, &mut cut),
                || -> std::result::Result<_, FlatError> {
                    let topo = Topologies::read_from(&mut r)?;
                    r.end()?;
                    Ok(topo)
                },
            );
            let topo = topo.map_err(|e| e.to_string())?;
            let held = Held::of_computed(snapshot, rules.clone(), date, self.classifier(), t, computed);
            held.set_topologies(topo);
            Ok(held)
        });
        let why = match read {
            Ok(mut held) => {
                held.file_key = Some(key);
                return Ok((held, Kept::Read { file, ms: t.elapsed().as_secs_f64() * 1e3 }));
            }
            Err(why) => why,
        };
        let held = self.hold(rules, date)?;
        let kept = Self::keep(&held, file, why, t);
        Ok((held, kept))
    }

    /// Builds `held`'s topologies (and its map's names on the other core).
    fn keep(held: &Held, file: PathBuf, why: String, t: Instant) -> Kept {
        std::thread::scope(|s| {
            s.spawn(|| held.labels());
            held.topologies();
        });
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if held.file_key.is_none() || !held.snapshot.can_be_kept() {
            held.forget_cut();
            return Kept::NoFile { ms };
        }
        Kept::Built { file, why, ms }
    }

    /// Writes `held`'s snapshot file (after [`App::hold_kept`] said [`Kept::Built`]), section
    /// after section, to a file beside it renamed over it at the end: whole or not at all.
    /// Nothing is held in memory but a buffer.
    pub fn write_snapshot_file(&self, held: &Held) -> std::io::Result<PathBuf> {
        static WRITING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let (Some(file), Some(key), true) = (self.snapshot_file(), held.file_key, held.snapshot.can_be_kept()) else {
            return Err(std::io::Error::other("this held snapshot is not kept in a file"));
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
            sweep_parts(dir, &file);
        }
        let mut name = file.file_name().unwrap_or_default().to_os_string();
        let n = WRITING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        name.push(format!(".{}-{n}.part", std::process::id()));
        let part = file.with_file_name(name);
        let written = (|| {
            let out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&part)?);
            let mut w = FlatWriter::to(out, KIND, FORMAT, key)?;
            held.snapshot.write_to(&mut w)?;
            let cut = held.cut();
            let cut = cut.as_ref().ok_or_else(|| std::io::Error::other("the shape work is not kept any more"))?;
            cut.write_to(&held.assign.spaces, &mut w)?;
            held.topologies().write_to(&mut w)?;
            let out = w.finish()?.into_inner().map_err(std::io::IntoInnerError::into_error)?;
            out.sync_data()?;
            std::fs::rename(&part, &file)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&part);
        }
        written.map(|()| file)
    }
}

/// Removes the parts of `file` that processes no longer running left half-written (killed
/// while writing): `NAME.PID-N.part`.
fn sweep_parts(dir: &Path, file: &Path) {
    let Some(name) = file.file_name().and_then(|n| n.to_str()) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let other = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = other.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else { continue };
        let Some(pid) = rest.strip_suffix(".part").and_then(|r| r.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok_and(|pid| pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists())
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
