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

/// Whether this run puts the tests' stores in PostGIS (`DOMANIA_E2E_ENGINE=postgis`, with the
/// cluster of `$DOMANIA_TEST_PG`) rather than in GeoPackage files: `.ci/run` runs the suite
/// both ways.
#[must_use]
pub fn on_postgis() -> bool {
    std::env::var("DOMANIA_E2E_ENGINE").is_ok_and(|e| e == "postgis")
}

/// The databases standing for the tests' store paths in a PostGIS run.
static DATABASES: std::sync::Mutex<Vec<(PathBuf, domania_testkit::ScratchDatabase)>> =
    std::sync::Mutex::new(Vec::new());

/// What `--store` is given for a test's store path: the path, or in a PostGIS run the URL of a
/// database made for that path (the same one every time). A URL is kept as it is.
#[must_use]
pub fn store_arg(store: &std::path::Path) -> std::ffi::OsString {
    let text = store.to_string_lossy();
    if !on_postgis() || text.starts_with("postgresql:") || text.starts_with("postgres:") {
        return store.as_os_str().to_owned();
    }
    let mut dbs = DATABASES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, db)) = dbs.iter().find(|(p, _)| p == store) {
        return db.url().into();
    }
    let db = domania_testkit::ScratchDatabase::new("e2e");
    let url = db.url().to_owned();
    dbs.push((store.to_path_buf(), db));
    url.into()
}

/// `domania` with `--store` for a test's store path (see [`store_arg`]); in a PostGIS run the
/// reports of dysfunctions are in the store's database too.
#[must_use]
pub fn command(store: &std::path::Path) -> Command {
    let mut cmd = Command::new(domania_bin());
    cmd.arg("--store")
        .arg(store_arg(store))
        .env_remove("DOMANIA_CONFIG")
        .env_remove("DOMANIA_STORE")
        .env_remove("DOMANIA_REPORTS")
        .env_remove("DOMANIA_SNAPSHOT_DIR")
        // The tests that read the command's words read them in English unless they ask for
        // French (`--lang fr`): the French ones are checked by the tests of the language.
        .env("DOMANIA_LANG", "en");
    // A server on a database keeps its snapshot file in the test's folder, not the user's cache.
    if on_postgis()
        && let Some(dir) = store.parent()
    {
        cmd.env("DOMANIA_SNAPSHOT_DIR", dir);
    }
    cmd
}

/// Runs `domania --store <store> <args…>`.
#[must_use]
pub fn domania(store: &std::path::Path, args: &[&str]) -> Output {
    command(store).args(args).output().expect("run domania")
}

/// Standard output and error as text.
#[must_use]
pub fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}
