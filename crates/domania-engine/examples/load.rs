//! Measures how long a snapshot takes to load from a store, and the memory it holds:
//! `cargo run --release -p domania-engine --example load -- STORE [RUNS] [ZONES]`. Prints the
//! median of the runs and the peak resident set (VmHWM). With ZONES (`subsectors`, `qpv`), the
//! snapshot of the parcels meeting those zones (`Snapshot::load_for_zones`).

use std::time::Instant;

/// The allocator of the `domania` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use domania_core::Classifier;
use domania_engine::Snapshot;
use domania_store::Store;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: load STORE [RUNS] [ZONES]");
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("RUNS is a number"));
    let zones: Option<domania_core::Layer> = args.next().map(|z| z.parse().expect("ZONES is a layer"));
    let classifier = Classifier::default();
    let mut times = Vec::with_capacity(runs);
    let mut parcels = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let store = Store::open(path.as_ref()).expect("open the store");
        let snap = match zones {
            None => Snapshot::load(&store, &classifier),
            Some(z) => Snapshot::load_for_zones(&store, &classifier, z),
        }
        .expect("load");
        parcels = snap.parcels().len();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_owned))
        .unwrap_or_default();
    println!("{parcels} parcels: snapshot load median {:.0} ms over {runs} runs; {hwm}", times[runs / 2]);
}
