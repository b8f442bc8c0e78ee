//! The snapshot file: what a server keeps between starts, so that a start reads it instead of
//! building it again (the flat layout of `domania_core::flat`, a version and a checksum).
//!
//! It is written once per version of the store, beside a GeoPackage store
//! (`demo.gpkg.snapshot`) or, for a database, in the server's cache folder (one file per
//! database and part served). Its key is what its content is computed from: the layers'
//! versions, when each was written (a store remade from nothing has the same version numbers),
//! the owner classification, the program's version, where the store is and the part served.
//! Nothing in it depends on the rules or the date — the shares, decisions and managers are
//! worked out again as it is read — but for one thing its second section says: whether the cut
//! holds a point inside every space, which rules with conventions need (else it is rebuilt). A
//! file of another key, damaged, cut short or of another format is rebuilt and written again,
//! never read.
//!
//! For a server of one part of the territory, the versions of the key are those that reach the
//! part ([`crate::reach`]), and the first section says what reaches it (the part, the communes
//! of the parcels it holds, the boxes of its zones): a start reads that section first,
//! unchecked, to work out which versions reach the part and so the key the file must have; the
//! whole file is then checked against that key as any other (a wrong first section gives
//! another key: the file is rebuilt). So a version of another département leaves the file
//! current. For a server of the whole territory the first section is empty.
//!
//! It holds, in this order, the snapshot's ledger (parcels' IDUs and contenances, owners as
//! classified, zones, versions) and the sub-sectors' overlay with the parcels: what a
//! `shares` command needs, read from the file's beginning up to a checkpoint
//! ([`App::kept_subsector_shares`]); then the parcels' flat coordinates, the addresses, the
//! parcels' R-tree, every space's shape, point and overlaps (the rest of
//! `domania_engine::Cut`) and the tiles' topologies (the layers' shapes as shared arcs) with
//! their R-trees as they were. As a server reads it, the IDUs are hashed again and the shares,
//! decisions and managers worked out from the cut: sums and the rules, no geometry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use domania_core::Layer;
use domania_core::flat::{self, FlatError, FlatReader, FlatWriter};
use domania_engine::{Ledger, SharesReport, Snapshot, Zone};
use domania_tiles::layers::Topologies;

use crate::error::Result;
use crate::files::LoadedRules;
use crate::held::{Held, cut_with_points, store_tag};
use crate::reach::PartReach;
use crate::{App, Date};

/// What the file holds.
const KIND: &[u8; 8] = b"SNAPSHOT";
/// The layout of its sections (raise it whenever they change).
const FORMAT: u32 = 9;
/// The most the first section (what reaches the part served) may hold.
const FIRST_LIMIT: u64 = 64 << 20;

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

    /// The key of the snapshot file of the store at `versions` written at `stamp`
    /// ([`domania_store::Store::version_stamp`]), for the part served.
    pub(crate) fn snapshot_file_key(&self, versions: &BTreeMap<Layer, Option<i64>>, stamp: &str) -> u64 {
        let served = self.served.as_ref().map(|s| format!("{s:?}")).unwrap_or_default();
        let tag = store_tag(versions, self.classifier());
        crate::fnv1a(format!("{tag}|{stamp}|{}|{served}", self.read_location().display()).as_bytes())
    }

    /// The key the snapshot file must have now: that of the store's current versions or, for a
    /// server of one part, of the versions that reach it, judged with what the file's first
    /// section (`first`, not yet checked) says the part held — a wrong or damaged statement
    /// gives a key the file does not have, and the file is rebuilt.
    fn key_now(&self, first: Option<&[u8]>) -> Result<u64> {
        let store = self.open_read()?;
        let mut versions = store.versions()?;
        if self.served.is_some()
            && let Some(reach) = first.and_then(|b| std::str::from_utf8(b).ok()).and_then(PartReach::from_text)
        {
            versions = reach.effective(&store, &versions)?;
        }
        let stamp = store.version_stamp(&versions)?;
        Ok(self.snapshot_file_key(&versions, &stamp))
    }

    /// What reaches the part served, from the file's first section once the file is checked
    /// (`None` for a server of the whole territory).
    fn reach_of(&self, first: &[u8]) -> std::result::Result<Option<PartReach>, String> {
        if self.served.is_none() {
            return Ok(None);
        }
        let text = std::str::from_utf8(first).map_err(|e| e.to_string())?;
        PartReach::from_text(text)
            .map(Some)
            .ok_or_else(|| "its first section does not say what reaches the part".into())
    }

    /// The held snapshot on `date` with `rules` ([`App::hold`]) and its topologies, read from
    /// the snapshot file when it is current, else built: then [`Kept::Built`] says so and the
    /// caller writes the file ([`App::write_snapshot_file`], in the background once the
    /// snapshot is served). Either way the search index and the map's names, and the tiles'
    /// topologies of a snapshot built, are left to be built on first use (a server builds them
    /// behind its first answers).
    pub fn hold_kept(&self, rules: LoadedRules, date: Date) -> Result<(Held, Kept)> {
        let t = Instant::now();
        let Some(file) = self.snapshot_file() else {
            let held = self.hold(rules, date)?;
            return Ok((held, Kept::NoFile { ms: t.elapsed().as_secs_f64() * 1e3 }));
        };
        let first = std::fs::File::open(&file).ok().and_then(|f| flat::first_section(f, FIRST_LIMIT).ok());
        let key = self.key_now(first.as_deref())?;
        // Read section after section: no copy of the file is held beside what is made of it.
        let opened = match std::fs::File::open(&file) {
            Ok(f) => Ok(std::io::BufReader::with_capacity(1 << 16, f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("none yet".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let read = opened.and_then(|src| {
            let mut r = FlatReader::open_stream(src, KIND, FORMAT, key).map_err(|e| e.to_string())?;
            let reach = self.reach_of(&r.section::<u8>().map_err(|e| e.to_string())?)?;
            let points = r.section::<u64>().map_err(|e| e.to_string())? == [1];
            if cut_with_points(&rules) && !points {
                return Err("its cut has no points for the conventions of these rules".to_owned());
            }
            let (snapshot, mut cut) = Snapshot::read_with_cut(&mut r).map_err(|e| e.to_string())?;
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
            let mut held =
                Held::of_computed(snapshot, rules.clone(), date, self.classifier(), t, computed).with_cut(cut);
            held.set_topologies(std::sync::Arc::new(topo));
            held.reach = reach;
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

    /// What became of the file of a snapshot built (`held`): to be written, or none.
    fn keep(held: &Held, file: PathBuf, why: String, t: Instant) -> Kept {
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if held.file_key.is_none() || !held.snapshot.can_be_kept() {
            return Kept::NoFile { ms };
        }
        Kept::Built { file, why, ms }
    }

    /// The sub-sectors' shares (with `include_non_cadastre` as the rules' delegation says) and
    /// the sub-sectors, from the beginning of the store's snapshot file when it is current for
    /// the store as it is now; `None` when there is no such file, or it cannot be trusted (the
    /// caller then works them out from the store).
    #[must_use]
    pub fn kept_subsector_shares(&self, include_non_cadastre: bool) -> Option<(SharesReport, Vec<Zone>)> {
        let file = std::fs::File::open(self.snapshot_file()?).ok()?;
        // Up to the checkpoint after the overlay: an eighth of the file at a million parcels.
        let head = flat::read_head(&file, file.metadata().ok()?.len()).ok()?;
        let key = self.key_now(flat::first_section(&head[..], FIRST_LIMIT).ok().as_deref()).ok()?;
        let mut r = FlatReader::open_head(&head, KIND, FORMAT, key).ok()?;
        r.section::<u8>().ok()?;
        r.section::<u64>().ok()?;
        let (ledger, overlay) = Ledger::read_with_overlay(&mut r).ok()?;
        r.end().ok()?;
        let report = ledger.subsector_shares(&overlay, include_non_cadastre);
        Some((report, ledger.zones(Layer::Subsectors).to_vec()))
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
            w.section(held.reach.as_ref().map(PartReach::to_text).unwrap_or_default().as_bytes())?;
            w.section(&[u64::from(cut_with_points(&held.rules))])?;
            let cut = held.cut().ok_or_else(|| std::io::Error::other("the shape work is not kept"))?;
            held.snapshot.write_with_cut(cut, &held.assign.spaces, &mut w)?;
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
