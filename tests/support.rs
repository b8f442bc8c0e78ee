//! Helpers of the end-to-end tests: where the `domania` binary and the shared data are.
//! They panic with a message on purpose: a missing binary or data file must fail the test.
#![allow(clippy::missing_panics_doc)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `domania` binary of this build: these tests are declared by the domania-cli package,
/// so cargo builds the binary first and tells where it is.
#[must_use]
pub fn domania_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_domania"))
}

/// The workspace root.
#[must_use]
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared real data folder: `$DOMANIA_DATA` or `../shared/data` beside the workspace; fails
/// loudly when missing.
#[must_use]
pub fn shared_data(file: &str) -> PathBuf {
    let dir = std::env::var_os("DOMANIA_DATA").map_or_else(|| root().join("../shared/data"), PathBuf::from);
    let path = dir.join(file);
    assert!(path.exists(), "real data file {} is missing (set DOMANIA_DATA to the shared data folder)", path.display());
    path
}

/// A file of the bad-input corpus (tests/bad-inputs).
#[must_use]
pub fn bad_input(file: &str) -> PathBuf {
    root().join("tests/bad-inputs").join(file)
}

/// Runs `domania --store <store> <args…>`.
#[must_use]
pub fn domania(store: &std::path::Path, args: &[&str]) -> Output {
    Command::new(domania_bin())
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("DOMANIA_CONFIG")
        .env_remove("DOMANIA_STORE")
        .output()
        .expect("run domania")
}

/// Standard output and error as text.
#[must_use]
pub fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}
