//! Measures how long a snapshot takes to load from a store, and the memory it holds:
//! `cargo run --release -p domania-engine --example load -- STORE [RUNS]`. Prints the median
//! of the runs, each phase of the last one, and the peak resident set (VmHWM).

use std::time::Instant;

/// The allocator of the `domania` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use domania_core::Classifier;
use domania_engine::Snapshot;
use domania_store::Store;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: load STORE [RUNS]");
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("RUNS is a number"));
    let classifier = Classifier::default();
    let mut times = Vec::with_capacity(runs);
    let mut parcels = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let store = Store::open(path.as_ref()).expect("open the store");
        let read = Instant::now();
        let contents = store.read_all().expect("read");
        let read_ms = read.elapsed().as_secs_f64() * 1e3;
        drop(contents);
        let snap = Snapshot::load(&store, &classifier).expect("load");
        parcels = snap.parcels().len();
        times.push(t.elapsed().as_secs_f64() * 1e3 - read_ms);
        eprintln!("  read_all alone {read_ms:.0} ms");
    }
    times.sort_by(f64::total_cmp);
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_owned))
        .unwrap_or_default();
    println!("{parcels} parcels: snapshot load median {:.0} ms over {runs} runs; {hwm}", times[runs / 2]);
}
