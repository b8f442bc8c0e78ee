//! Readers and writers of Domania.
pub mod crs;
