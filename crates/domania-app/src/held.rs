//! A snapshot held in memory with everything computed from it once: shares of every
//! sub-sector, decisions, every space's managers with their shapes, indexes of sub-sectors and
//! spaces, the collections' extents, the tag of every answer derived from it, and (on first use)
//! the layers' shared-border topologies for the tiles.
//!
//! What `domania serve` keeps behind an `Arc` and swaps after an update; the use cases that
//! answer from a held snapshot (who is responsible at a point, parcels, sub-sectors, QPV,
//! owners, scenarios, search, tiles, features, documents, routing of service requests) are
//! methods of [`Held`] in their own modules, so that the server and the command line ask the
//! same code the same question.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use domania_core::overlay::OverlayOptions;
use domania_engine::{AssignReport, Cut, SharesReport, Snapshot};
use domania_tiles::layers::Topologies;
use geo::BoundingRect;
use geo_types::Rect;
use rustc_hash::FxHashMap;

use crate::error::Result;
use crate::files::LoadedRules;
use crate::{App, Date, Layer};

/// A snapshot and everything computed from it once.
pub struct Held {
    pub snapshot: Snapshot,
    /// The rules the decisions and managers come from.
    pub rules: LoadedRules,
    /// The day conventions are judged on.
    pub date: Date,
    /// Shares of every sub-sector (`shares.zones[i]` is the sub-sector of `assign.decisions[i]`).
    pub shares: SharesReport,
    /// Decisions and every space's managers, with the spaces' shapes.
    pub assign: AssignReport,
    /// Sub-sector key → position in `shares.zones` and `assign.decisions` (shared with the
    /// snapshot a version of the owners makes of this one: its spaces are the same).
    subsector_pos: Arc<FxHashMap<String, usize>>,
    /// (sub-sector, space id) → position in `assign.spaces`.
    space_pos: Arc<FxHashMap<(String, String), usize>>,
    /// The `ETag` of every answer derived from this snapshot, quoted: the store's layer
    /// versions, the rules and the date the conventions are judged on.
    pub etag: String,
    /// The tag, as a number (keys of a tile cache).
    pub tag_hash: u64,
    /// How long it took to build, in milliseconds.
    pub build_ms: f64,
    /// What its snapshot file is computed from; `None` for a held snapshot not read from a
    /// store.
    pub file_key: Option<u64>,
    /// For a server of one part of the territory, what a version must meet to reach it (its
    /// snapshot is then of the versions that do: [`crate::reach`]).
    pub reach: Option<crate::reach::PartReach>,
    /// The store's versions last judged not to reach it ([`App::currency`]).
    pub(crate) unreached: std::sync::Mutex<Option<BTreeMap<Layer, Option<i64>>>>,
    /// The CRS84 box of each collection.
    pub extents: BTreeMap<&'static str, Option<[f64; 4]>>,
    /// The layers' shapes as shared arcs, for the tiles (built on first use; shared with the
    /// snapshot a version of the owners makes of this one, whose shapes are the same).
    topo: OnceLock<Arc<Topologies>>,
    /// What the search box looks things up in (built on first use).
    search: OnceLock<crate::search::SearchIndex>,
    /// What the legends list (built on first use).
    on_the_map: OnceLock<OnTheMap>,
    /// The map's section and street names (built on first use; shared like the topologies
    /// when the owners' street addresses are the same).
    labels: OnceLock<Arc<domania_tiles::labels::Labels>>,
    /// The shape work the shares and managers came from (the overlay, each space's point and
    /// overlaps; its shapes moved into `assign`): what the snapshot file is written from, and
    /// what a version of the owners alone is worked out from again ([`App::hold_owners`]).
    cut: Option<Cut>,
}

/// What is on the map of a snapshot, for the viewer's legends: the actors that hold land, and
/// for each intervention kind the services that manage some space.
#[derive(Debug, Default)]
pub struct OnTheMap {
    pub actors: Vec<domania_core::Actor>,
    pub services: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// The zoom from which the tiles draw the parcels' fill everywhere (see
    /// [`parcels_from_zoom`]).
    pub parcels_from_zoom: u8,
}

/// The least zoom from which no tile holds more parcels than a tile merges by actor
/// (`TileOptions::max_dissolved`, past which a tile leaves their fill out): the parcels' box
/// centres counted on a Lambert-93 grid of the tiles' width at the territory's latitude `lat`
/// (Web Mercator tiles are that wide there), from the parcels layer's least zoom.
fn parcels_from_zoom(snapshot: &domania_engine::Snapshot, lat: f64) -> u8 {
    use domania_tiles::layers::{PARCELS_DISSOLVED_BELOW, TileLayer, TileOptions};
    let max = TileOptions::default().max_dissolved;
    let centres: Vec<(f64, f64)> = snapshot
        .parcels()
        .iter()
        .filter_map(|p| geo::BoundingRect::bounding_rect(&p.geom_l93))
        .map(|b| (f64::midpoint(b.min().x, b.max().x), f64::midpoint(b.min().y, b.max().y)))
        .collect();
    (TileLayer::Parcels.min_zoom()..PARCELS_DISSOLVED_BELOW)
        .find(|&z| {
            let width = 40_075_016.686 * lat.to_radians().cos() / f64::from(1u32 << z);
            let mut counts: std::collections::HashMap<(i64, i64), usize> = std::collections::HashMap::new();
            centres.iter().all(|(x, y)| {
                let n = counts.entry(((x / width).floor() as i64, (y / width).floor() as i64)).or_default();
                *n += 1;
                *n <= max
            })
        })
        .unwrap_or(PARCELS_DISSOLVED_BELOW)
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("etag", &self.etag)
            .field("parcels", &self.snapshot.parcels().len())
            .field("date", &self.date)
            .finish_non_exhaustive()
    }
}

/// The box of a set of Lambert-93 shapes, in CRS84.
fn extent(shapes: impl Iterator<Item = Rect<f64>>) -> Option<[f64; 4]> {
    shapes.reduce(domania_core::crs::box_union).map(domania_core::crs::lambert93_box_to_crs84)
}

/// The CRS84 box of each collection.
fn extents(snap: &Snapshot, assign: &AssignReport) -> BTreeMap<&'static str, Option<[f64; 4]>> {
    let zones = |l: Layer| extent(snap.zones(l).iter().filter_map(|z| z.geom_l93.bounding_rect()));
    BTreeMap::from([
        ("parcels", extent(snap.parcels().iter().filter_map(|p| p.geom_l93.bounding_rect()))),
        ("qpv", zones(Layer::Qpv)),
        ("subsectors", zones(Layer::Subsectors)),
        ("conventions", zones(Layer::Conventions)),
        ("spaces", extent(assign.spaces.iter().filter_map(|s| s.geom_l93.as_ref()?.bounding_rect()))),
    ])
}

/// Whether a cut for `rules` needs a point inside every space: to find the conventions'
/// perimeters it lies in, when the rules have conventions.
pub(crate) fn cut_with_points(rules: &LoadedRules) -> bool {
    !rules.rules.config().conventions.is_empty()
}

/// What a snapshot's land figures depend on: the layers' versions, the owner classification
/// and this program's version.
pub(crate) fn store_tag(versions: &BTreeMap<Layer, Option<i64>>, classifier: &domania_core::Classifier) -> String {
    use std::fmt::Write as _;
    let mut tag: String = versions.iter().map(|(layer, v)| format!("{layer}:{};", v.unwrap_or(0))).collect();
    let classifier = domania_core::hash::fnv1a(classifier.fingerprint().as_bytes());
    let _ = write!(tag, "classifier:{classifier:016x};domania:{}", env!("CARGO_PKG_VERSION"));
    tag
}

/// Everything the answers of a held snapshot depend on: its [`store_tag`], the rules' text
/// (not only their name) and the date.
pub(crate) fn tag_of(
    versions: &BTreeMap<Layer, Option<i64>>,
    rules: &LoadedRules,
    classifier: &domania_core::Classifier,
    date: Date,
) -> String {
    format!(
        "{};rules:{:016x};date:{date}",
        store_tag(versions, classifier),
        domania_core::hash::fnv1a(rules.text.as_bytes())
    )
}

impl App {
    /// Loads the store and computes shares and managers with `rules` on `date` (CPU-heavy:
    /// a server calls it from a blocking thread).
    ///
    /// A server of one part of the territory holds it as of the versions that reach the part
    /// ([`crate::reach`]).
    pub fn hold(&self, rules: LoadedRules, date: Date) -> Result<Held> {
        let t = Instant::now();
        let mut snapshot = self.snapshot()?;
        let store = self.open_read()?;
        let reach = self.served.as_ref().map(|part| crate::reach::PartReach::of(part, &snapshot));
        if let Some(reach) = &reach {
            let effective = reach.effective(&store, snapshot.versions())?;
            snapshot = snapshot.with_versions(effective);
        }
        let stamp = store.version_stamp(snapshot.versions())?;
        drop(store);
        let key = self.snapshot_file_key(snapshot.versions(), &stamp);
        let mut held = Held::of(snapshot, rules, date, self.classifier(), t);
        held.file_key = Some(key);
        held.reach = reach;
        Ok(held)
    }
}

impl App {
    /// `held` after a version of the owners alone, worked out again from what it holds rather
    /// than rebuilt, with its `rules` on `date`. When the versions since `held`'s replaced the
    /// owners of some communes (or sections), only those communes' owners are read (one range
    /// of the owners' index each) and only their parcels' holdings classified again, the
    /// others' kept; else every owner is read again, without a shape (those of the départements
    /// it holds, on a database). Then the sub-sectors holding a parcel whose holding changed are
    /// summed and decided again from its cut, as a start from the snapshot file does, and the
    /// others keep their shares, decision and managers (all are decided again on another day
    /// than `held`'s). The parcels, their indexes, the zones, the spaces' shapes and the tiles'
    /// topologies are the held ones, shared, not copied. What [`App::hold`] would give at the
    /// store's versions; `None` when another layer changed too (or, for a server of one part,
    /// reached it), which a rebuild takes.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn hold_owners(&self, held: &Held, date: Date) -> Result<Option<Held>> {
        let t = Instant::now();
        let Some(cut) = held.cut() else { return Ok(None) };
        if held.snapshot.parcels_limited_to().is_some() {
            return Ok(None);
        }
        let store = self.open_read()?;
        let effective = |versions| match &held.reach {
            Some(reach) => reach.effective(&store, &versions),
            None => Ok(versions),
        };
        let now = effective(store.versions()?)?;
        let other = |l: &Layer| *l != Layer::Owners && now.get(l) != held.versions().get(l);
        if now == *held.versions() || now.keys().chain(held.versions().keys()).any(other) {
            return Ok(None);
        }
        let communes = communes_changed_in(&store, Layer::Owners, held.versions(), &now)?;
        let mut owners = if let Some(communes) = &communes {
            store.read_owners_of(communes)?
        } else {
            let deps: Option<std::collections::BTreeSet<String>> = self.served.as_ref().map(|_| {
                let dep = |idu: &str| domania_store::ScopeKind::Departement.code_of(idu).map(str::to_owned);
                held.snapshot.parcels().iter().filter_map(|p| dep(&p.idu)).collect()
            });
            store.read_owners(deps.as_ref())?
        };
        owners.versions = effective(owners.versions)?;
        if owners.versions != now {
            // Written meanwhile: a rebuild reads it.
            return Ok(None);
        }
        let stamp = store.version_stamp(&owners.versions)?;
        drop(store);
        let snapshot = held.snapshot.with_owners(owners, communes.as_ref(), self.classifier(), self.served.is_some());
        let mut cut = cut.clone();
        let computed = if date == held.date {
            // The sub-sectors none of whose parcels changed hands keep their figures and managers.
            let changed: Vec<bool> = (held.snapshot.holdings().iter().zip(snapshot.holdings()))
                .map(|(a, b)| a.covered != b.covered || (!Arc::ptr_eq(&a.owners, &b.owners) && a.owners != b.owners))
                .collect();
            snapshot.assign_again(&held.rules.rules, date, &cut, (&held.shares, &held.assign), &changed)
        } else {
            // Another day judges conventions anew: every space again, its shape given back to the
            // cut (the report holds it).
            for (c, s) in cut.spaces.iter_mut().zip(&held.assign.spaces) {
                c.geom_l93.clone_from(&s.geom_l93);
            }
            snapshot.assign_cut(&held.rules.rules, date, &mut cut)
        };
        let classifier = self.classifier();
        let mut next =
            Held::assembled(snapshot, held.rules.clone(), date, classifier, t, computed, Some(held)).with_cut(cut);
        next.file_key = Some(self.snapshot_file_key(next.versions(), &stamp));
        next.reach.clone_from(&held.reach);
        if let Some(topo) = held.topo.get() {
            next.set_topologies(Arc::clone(topo));
        }
        if let Some(labels) = held.labels.get()
            && next.snapshot.addresses().ppm == held.snapshot.addresses().ppm
        {
            let _ = next.labels.set(Arc::clone(labels));
        }
        next.build_ms = t.elapsed().as_secs_f64() * 1e3;
        Ok(Some(next))
    }
}

impl App {
    /// `held` after versions of the parcels alone, each of some communes (or sections): only
    /// those communes' parcels and owners are read (one range of each layer's index per
    /// commune) and spliced into the held snapshot ([`Snapshot::with_parcels_of`]), the other
    /// parcels kept; then, on `held`'s day, only the sub-sectors the change reaches are cut and
    /// decided again ([`Snapshot::cut_spliced`]), the others keeping their figures and managers;
    /// on another day every sub-sector is, with `held`'s rules on `date`. What [`App::hold`]
    /// would give at the store's versions, at the cost of those communes' read rather than the
    /// territory's; `None` when another layer changed too, a version replaced more than some
    /// communes, the held snapshot does not know its parcels' fids (made from parts, or cut by a
    /// scenario) or is of one part of the territory (whose parcels are those meeting its zones,
    /// which a change can move): a rebuild takes those. The tiles' topologies are left to be
    /// built on first use.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn hold_parcels(&self, held: &Held, date: Date) -> Result<Option<Held>> {
        let t = Instant::now();
        if self.served.is_some() || held.reach.is_some() {
            return Ok(None);
        }
        let store = self.open_read()?;
        let now = store.versions()?;
        let other = |l: &Layer| *l != Layer::Parcels && now.get(l) != held.versions().get(l);
        if now == *held.versions() || now.keys().chain(held.versions().keys()).any(other) {
            return Ok(None);
        }
        let Some(communes) = communes_changed_in(&store, Layer::Parcels, held.versions(), &now)? else {
            return Ok(None);
        };
        let (parcels, owners) = store.read_parcels_of(&communes)?;
        if owners.versions != now {
            // Written meanwhile: a rebuild reads it.
            return Ok(None);
        }
        let stamp = store.version_stamp(&owners.versions)?;
        drop(store);
        let Some((snapshot, splice)) = held.snapshot.with_parcels_of(&communes, parcels, owners, self.classifier())
        else {
            return Ok(None);
        };
        // On the same day, cut again only where the change reaches; on another, everything.
        let points = cut_with_points(&held.rules);
        let spliced = held
            .cut()
            .filter(|cut| date == held.date && cut.spaces.iter().any(|s| s.point.is_some()) == points)
            .and_then(|before| {
                Some((before, snapshot.cut_spliced(before, &splice, points, OverlayOptions::default())?))
            });
        let (rules, classifier) = (held.rules.clone(), self.classifier());
        let mut next = match spliced {
            Some((before, (mut cut, again))) => {
                let (shares, assign) = (&held.shares, &held.assign);
                let computed = snapshot.assign_spliced(&rules.rules, date, &mut cut, before, (shares, assign), &again);
                Held::of_computed(snapshot, rules, date, classifier, t, computed).with_cut(cut)
            }
            None => Held::of(snapshot, rules, date, classifier, t),
        };
        next.file_key = Some(self.snapshot_file_key(next.versions(), &stamp));
        Ok(Some(next))
    }
}

/// The communes whose rows of `layer` (owners or parcels) its versions after `held`'s and up
/// to `now`'s replaced (each imported for some communes or sections); `None` when one of them
/// replaced more (a département, the whole layer, or unknown): then the whole layer is read
/// again.
fn communes_changed_in(
    store: &domania_store::Store,
    layer: Layer,
    held: &BTreeMap<Layer, Option<i64>>,
    now: &BTreeMap<Layer, Option<i64>>,
) -> Result<Option<std::collections::BTreeSet<String>>> {
    use domania_store::ScopeKind;
    let at = |v: &BTreeMap<Layer, Option<i64>>| v.get(&layer).copied().flatten().unwrap_or(0);
    let (from, to) = (at(held), at(now));
    let mut communes = std::collections::BTreeSet::new();
    for r in store.reaches(layer)?.into_iter().filter(|r| r.version > from && r.version <= to) {
        match (r.scope.kind, &r.scope.codes) {
            (ScopeKind::Commune | ScopeKind::Section, Some(codes)) => {
                communes.extend(codes.iter().filter_map(|c| c.get(0..5)).map(str::to_owned));
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(communes))
}

/// What a held snapshot is to the store as it is now ([`App::currency`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// Of the store's versions.
    Current,
    /// Of older versions, but no later one reaches the part it holds; `judged` when that was
    /// worked out now (not the first time these versions were looked at).
    NotReached { judged: bool },
    /// To be rebuilt.
    Stale,
}

impl App {
    /// Whether `held` is what the store at `stored` (its current versions) gives: the same
    /// versions, or for a server of one part the same versions reaching it (the later ones
    /// judged once per set of versions).
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn currency(&self, held: &Held, stored: &BTreeMap<Layer, Option<i64>>) -> Result<Currency> {
        if stored == held.versions() {
            return Ok(Currency::Current);
        }
        let Some(reach) = &held.reach else { return Ok(Currency::Stale) };
        let mut unreached = held.unreached.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if unreached.as_ref() == Some(stored) {
            return Ok(Currency::NotReached { judged: false });
        }
        let effective = reach.effective(&self.open_read()?, stored)?;
        if effective != *held.versions() {
            return Ok(Currency::Stale);
        }
        *unreached = Some(stored.clone());
        Ok(Currency::NotReached { judged: true })
    }
}

impl Held {
    /// The held form of `snapshot`: shares, decisions and managers computed with `rules` on
    /// `date`; `started` is when the work began (for [`Held::build_ms`]).
    #[must_use]
    pub fn of(
        snapshot: Snapshot,
        rules: LoadedRules,
        date: Date,
        classifier: &domania_core::Classifier,
        started: Instant,
    ) -> Self {
        let mut cut = snapshot.cut(cut_with_points(&rules), true, OverlayOptions::default());
        let computed = snapshot.assign_cut(&rules.rules, date, &mut cut);
        Self::of_computed(snapshot, rules, date, classifier, started, computed).with_cut(cut)
    }

    /// This held snapshot with the shape work its shares and managers came from.
    pub(crate) fn with_cut(mut self, cut: Cut) -> Self {
        self.cut = Some(cut);
        self
    }

    /// The shape work the shares and managers came from.
    pub(crate) fn cut(&self) -> Option<&Cut> {
        self.cut.as_ref()
    }

    /// [`Held::of`] with its shares, decisions and managers computed already (by
    /// `Snapshot::assign_with_geometry`, with `rules` on `date`).
    pub(crate) fn of_computed(
        snapshot: Snapshot,
        rules: LoadedRules,
        date: Date,
        classifier: &domania_core::Classifier,
        started: Instant,
        computed: (SharesReport, AssignReport),
    ) -> Self {
        Self::assembled(snapshot, rules, date, classifier, started, computed, None)
    }

    /// [`Held::of_computed`]; with `like`, a held snapshot of the same shapes and spaces (one a
    /// version of the owners was worked out from), whose indexes of positions and extents are
    /// taken rather than made again.
    fn assembled(
        snapshot: Snapshot,
        rules: LoadedRules,
        date: Date,
        classifier: &domania_core::Classifier,
        started: Instant,
        (shares, assign): (SharesReport, AssignReport),
        like: Option<&Held>,
    ) -> Self {
        let (subsector_pos, space_pos, extents) = match like {
            Some(held) => (Arc::clone(&held.subsector_pos), Arc::clone(&held.space_pos), held.extents.clone()),
            None => (
                Arc::new(shares.zones.iter().enumerate().map(|(i, z)| (z.key.clone(), i)).collect()),
                Arc::new(
                    assign
                        .spaces
                        .iter()
                        .enumerate()
                        .map(|(i, s)| ((s.subsector.clone(), domania_engine::space_id(&s.space).to_owned()), i))
                        .collect(),
                ),
                extents(&snapshot, &assign),
            ),
        };
        let tag = tag_of(snapshot.versions(), &rules, classifier, date);
        let tag_hash = domania_core::hash::fnv1a(tag.as_bytes());
        let etag = format!("\"{tag_hash:016x}\"");
        Self {
            extents,
            snapshot,
            rules,
            date,
            shares,
            assign,
            subsector_pos,
            space_pos,
            etag,
            tag_hash,
            build_ms: started.elapsed().as_secs_f64() * 1e3,
            file_key: None,
            reach: None,
            unreached: std::sync::Mutex::new(None),
            topo: OnceLock::new(),
            search: OnceLock::new(),
            on_the_map: OnceLock::new(),
            labels: OnceLock::new(),
            cut: None,
        }
    }

    /// The tag without its quotes (what URLs carry as `?v=`).
    #[must_use]
    pub fn tag(&self) -> &str {
        self.etag.trim_matches('"')
    }

    /// The layers' shapes as shared arcs, built once on first use (a server builds them behind
    /// the first answers of a snapshot it built: a tile asked for meanwhile waits for them).
    pub fn topologies(&self) -> &Topologies {
        self.topo.get_or_init(|| Arc::new(Topologies::build(&self.snapshot, &self.assign)))
    }

    /// Takes topologies read from the snapshot file, or those of a snapshot of the same shapes
    /// (ignored when they are there already).
    pub(crate) fn set_topologies(&self, topo: Arc<Topologies>) {
        let _ = self.topo.set(topo);
    }

    /// The hits of `query` in the search box (at most `limit`, brought into 1 to
    /// [`crate::search::MAX_HITS`]).
    #[must_use]
    pub fn search(&self, query: &str, limit: usize, lang: domania_i18n::Lang) -> Vec<crate::search::Hit> {
        let limit = limit.clamp(1, crate::search::MAX_HITS);
        crate::search::find(&self.snapshot, self.search_index(), query, limit, lang)
    }

    /// What is on the map of this snapshot (one pass over the holdings and the spaces, on first
    /// use rather than on every territory request).
    #[must_use]
    pub fn on_the_map(&self) -> &OnTheMap {
        self.on_the_map.get_or_init(|| {
            let actors: std::collections::BTreeSet<domania_core::Actor> =
                self.snapshot.holdings().iter().map(domania_core::shares::Holding::actor).collect();
            let mut services: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
            for a in self.assign.spaces.iter().flat_map(|s| s.assignments.iter()) {
                if let Some(svc) = &a.service {
                    services.entry(a.intervention.clone()).or_default().insert(svc.name.clone());
                }
            }
            let b = self.bounds();
            let parcels_from_zoom = parcels_from_zoom(&self.snapshot, f64::midpoint(b[1], b[3]));
            OnTheMap { actors: actors.into_iter().collect(), services, parcels_from_zoom }
        })
    }

    /// The map's section and street names (built on first use, after the search index whose
    /// streets they name).
    #[must_use]
    pub fn labels(&self) -> &domania_tiles::labels::Labels {
        self.labels.get_or_init(|| Arc::new(crate::labels::of(&self.snapshot, self.search_index().addresses())))
    }

    /// Builds now, on both cores, what is otherwise built on first use: the search index, the
    /// map's names and the R-trees of the tiles' shapes (what a server does behind its first
    /// answers).
    pub fn prepare(&self) {
        rayon::join(|| self.topologies().prepare(), || self.labels());
    }

    /// The search box's index of this snapshot (built on first use).
    #[must_use]
    pub fn search_index(&self) -> &crate::search::SearchIndex {
        self.search.get_or_init(|| crate::search::SearchIndex::build(&self.snapshot))
    }

    /// The store version of each layer.
    #[must_use]
    pub fn versions(&self) -> &BTreeMap<Layer, Option<i64>> {
        self.snapshot.versions()
    }

    /// The territory's bounds (CRS84): the box of the parcels', sub-sectors' and QPV's boxes.
    #[must_use]
    pub fn bounds(&self) -> [f64; 4] {
        ["parcels", "subsectors", "qpv"]
            .iter()
            .filter_map(|c| self.extents.get(c).copied().flatten())
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
            .unwrap_or([-180.0, -85.0, 180.0, 85.0])
    }

    /// A sub-sector's position in the shares and decisions.
    #[must_use]
    pub fn subsector(&self, key: &str) -> Option<usize> {
        self.subsector_pos.get(key).copied()
    }

    /// A space's position in `assign.spaces`.
    #[must_use]
    pub fn space(&self, subsector: &str, space: &str) -> Option<usize> {
        self.space_pos.get(&(subsector.to_owned(), space.to_owned())).copied()
    }

    /// What the documents are made from.
    #[must_use]
    pub fn documents(&self) -> crate::documents::Territory<'_> {
        crate::documents::Territory {
            snapshot: &self.snapshot,
            shares: &self.shares,
            assign: &self.assign,
            rules: &self.rules.rules,
            date: self.date,
            tag: self.tag(),
        }
    }
}
