//! What the tests and benchmarks of Domania share, and nothing else uses: throwaway PostgreSQL
//! databases ([`pg`]) and the seeded synthetic territory of `domania synth` built as an
//! in-memory snapshot or as a GeoPackage store ([`territory`]).
//!
//! A dev-dependency only: no library or binary of the workspace depends on it, so its
//! `unwrap`s and panics never reach a user.

pub mod pg;
pub mod territory;

pub use pg::ScratchDatabase;
