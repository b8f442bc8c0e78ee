//! The PostgreSQL tests of this crate need a server (`$DOMANIA_TEST_PG`, see README): without
//! one they are reported as ignored, with the reason, not passed with their body skipped. Under
//! CI (`$CI` set) nothing is excused: a missing server fails them.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(domania_without_pg)");
    println!("cargo:rerun-if-env-changed=DOMANIA_TEST_PG");
    println!("cargo:rerun-if-env-changed=CI");
    if std::env::var_os("CI").is_none() && std::env::var_os("DOMANIA_TEST_PG").is_none() {
        println!("cargo:rustc-cfg=domania_without_pg");
    }
}
