//! With the `gdal` feature, two SQLite libraries live in the binary's process: the store's,
//! compiled into the binary by rusqlite (`bundled`, foreign keys on by default), and the system's,
//! which GDAL (and SpatiaLite behind it) is linked against. By default the linker exports the
//! binary's `sqlite3_*` symbols to satisfy GDAL's references, so GDAL's GeoPackage driver ended
//! up calling the store's copy while SpatiaLite used the system's, and crashed when closing a
//! file. `--exclude-libs,ALL` keeps the bundled copy's symbols inside the binary: each library
//! uses its own SQLite.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("CARGO_FEATURE_GDAL").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--exclude-libs,ALL");
    }
}
