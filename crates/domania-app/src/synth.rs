//! Synthetic territories in the real formats (`domania synth`), deterministic for a seed.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::error::{Context as _, Result};

/// What the generator wrote.
#[derive(Debug, Clone, Serialize)]
pub struct SynthOutcome {
    pub parcels: usize,
    pub owner_rows: usize,
    pub qpv: usize,
    pub subsectors: usize,
    pub files: Vec<std::path::PathBuf>,
    pub seconds: f64,
}

/// Writes a territory of `parcels` parcels (in each of `departements`, when given, a folder
/// each) made with `seed` into `out`.
pub fn generate(parcels: usize, seed: u64, out: &Path, departements: Option<&[String]>) -> Result<SynthOutcome> {
    let t = Instant::now();
    let s = match departements {
        None => domania_io::synth::generate(parcels, seed, out),
        Some(deps) => domania_io::synth::generate_departements(parcels, seed, deps, out),
    }
    .context(|| format!("generating into {}", out.display()))?;
    Ok(SynthOutcome {
        parcels: s.parcels,
        owner_rows: s.owner_rows,
        qpv: s.qpv,
        subsectors: s.subsectors,
        files: s.files,
        seconds: t.elapsed().as_secs_f64(),
    })
}
