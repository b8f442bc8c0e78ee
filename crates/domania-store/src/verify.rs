//! Whether a store holds what Domania wrote: every row checked against the content hashes
//! written with it, each layer's counts against its versions, and the engine's own check; the
//! rows changed outside Domania marked so that the next import replaces them.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::layer::Layer;
use crate::model::{AlteredRow, EngineCheck, Miscount, VerifyReport};
use crate::store::Store;

impl Store {
    /// Gives the current rows among `altered` the hashes of what they hold now, in one
    /// transaction, so that the next import of their source file sees them differ from it and
    /// replaces them: a new version, whose history keeps the edited state. The data are not
    /// changed; rows of the history are left as found (what they held is lost). Returns how many
    /// rows were marked.
    pub fn mark_altered(&mut self, altered: &[AlteredRow]) -> Result<usize> {
        self.need_writer("marking rows changed outside Domania")?;
        let mut by_layer: BTreeMap<Layer, Vec<(&str, i64, i64)>> = BTreeMap::new();
        for a in altered.iter().filter(|a| a.v_to.is_none()) {
            by_layer.entry(a.layer).or_default().push((&a.key, a.now.0, a.now.1));
        }
        self.db.set_hashes(&by_layer)
    }

    /// The engine's own check: `PRAGMA integrity_check` of a GeoPackage, the schema and
    /// partitions of a database (“ok” when sound).
    pub fn integrity_check(&self) -> Result<String> {
        self.db.integrity_check()
    }

    /// Reads every row of every layer, current and history, and checks it against the content
    /// hashes Domania wrote with it; then the engine's own check. One read transaction: on a
    /// live PostGIS store, a consistent state.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport { store: self.location.to_string(), ..VerifyReport::default() };
        self.in_read(|| {
            let versions = self.db.version_records(None)?;
            for layer in Layer::ALL {
                let counts = self.raw_layer(layer, &mut |chunk| {
                    for r in chunk {
                        let now = (r.row.geom_hash(), r.row.attr_hash(layer));
                        let (geometry, attributes) = (now.0 != r.ghash, now.1 != r.ahash);
                        if geometry || attributes {
                            report.altered.push(AlteredRow {
                                layer,
                                key: r.row.key,
                                v_from: r.v_from,
                                v_to: r.v_to,
                                geometry,
                                attributes,
                                now,
                            });
                        }
                    }
                    Ok(())
                })?;
                let of_layer = || versions.iter().filter(|v| v.layer == layer.table());
                let current: i64 = of_layer().map(|v| v.added - v.removed).sum();
                let history: i64 = of_layer().map(|v| v.removed + v.changed).sum();
                if i64::try_from(counts.0).ok() != Some(current) || i64::try_from(counts.1).ok() != Some(history) {
                    report.miscounted.push(Miscount {
                        layer,
                        current: (counts.0, current),
                        history: (counts.1, history),
                    });
                }
                report.layers.insert(layer.table().to_owned(), counts);
            }
            report.engine = EngineCheck::of(self.db.integrity_check()?);
            Ok(())
        })?;
        Ok(report)
    }
}
