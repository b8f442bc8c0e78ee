//! What the tests and benchmarks of Domania share, and nothing else uses: throwaway PostgreSQL
//! databases ([`pg`]) and the seeded synthetic territory of `domania synth` built as an
//! in-memory snapshot or as a GeoPackage store ([`territory`]), and what a test's import says of
//! itself ([`meta`], [`commune_scope`]), and a seeded generator for random edits ([`Rng`]).
//!
//! A dev-dependency only: no library or binary of the workspace depends on it, so its
//! `unwrap`s and panics never reach a user.

pub mod pg;
pub mod territory;

pub use pg::ScratchDatabase;

use domania_store::{ImportMeta, ImportOptions, Scope};

/// What a test's import says of itself: made by "test", from `source`.
#[must_use]
pub fn meta(source: &str) -> ImportMeta {
    ImportMeta { author: "test".into(), source: source.into(), ..ImportMeta::default() }
}

/// The options of a forced import of one commune's rows (the version replaces that commune's).
///
/// # Panics
/// When `commune` is not a commune's code.
#[must_use]
pub fn commune_scope(commune: &str) -> ImportOptions {
    ImportOptions {
        scope: format!("commune={commune}").parse::<Scope>().unwrap(),
        force: true,
        ..ImportOptions::default()
    }
}

/// A small seeded generator (xorshift): the same edits on every run of a property test.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
