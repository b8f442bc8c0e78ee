//! `GET /v1/who` on a synthetic territory (`domania synth`, seeded): 100k parcels by default, a
//! million with `DOMANIA_BENCH_1M=1`. Where a request's time goes: the whole handler through
//! the router (parsing the query, the lookup, the JSON, the framework's layers: compression
//! excepted, the client not asking for it), the lookup alone (`Held::who`: the space, its
//! parcels, owners, sub-sector, QPV and every manager with the reason), and the JSON alone.
//! Points are the parcels' interior points and points between them (non-cadastré), cycled.
//!
//! `cargo bench -p domania-server --bench who`

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use domania_app::App;
use domania_app::i18n::Lang;
use domania_app::point::locate;
use geo::InteriorPoint;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

fn bench(c: &mut Criterion) {
    let parcels = if std::env::var_os("DOMANIA_BENCH_1M").is_some() { 1_000_000 } else { 100_000 };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = domania_testkit::territory::store(parcels, dir.path());
    let app = App::new(store.as_path(), None).expect("the application");
    let rules = domania_app::files::rules(None).expect("the built-in rules");
    let limits = domania_server::Limits::default();
    let shared = domania_server::shared(app, rules, false, limits).expect("the server's state");
    let router = domania_server::router(Arc::clone(&shared), limits);
    let held = shared.current();
    // Every 97th parcel's interior point, and a point 3 m west of its box (often a street).
    let points: Vec<(f64, f64)> = held
        .snapshot
        .parcels()
        .iter()
        .step_by(97)
        .filter_map(|p| Some((p.geom_l93.interior_point()?, geo::BoundingRect::bounding_rect(&p.geom_l93)?)))
        .flat_map(|(p, b)| [(p.x(), p.y()), (b.min().x - 3.0, p.y())])
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");

    let mut group = c.benchmark_group(format!("who_{parcels}"));
    group.sample_size(30).measurement_time(Duration::from_secs(8));
    let mut next = 0usize;
    group.bench_function("handler_through_the_router", |b| {
        b.iter(|| {
            next = (next + 1) % points.len();
            let (x, y) = points[next];
            let request = Request::get(format!("/v1/who?x={x}&y={y}")).body(Body::empty()).expect("a request");
            runtime.block_on(async {
                let answer = router.clone().oneshot(request).await.expect("an answer");
                assert!(answer.status().is_success(), "{}", answer.status());
                answer.into_body().collect().await.expect("a body").to_bytes().len()
            })
        });
    });
    group.bench_function("lookup", |b| {
        b.iter(|| {
            next = (next + 1) % points.len();
            let (x, y) = points[next];
            let at = locate(None, None, Some(x), Some(y)).expect("a point");
            held.who(at, None, Lang::Fr).expect("an answer").managers.len()
        });
    });
    group.bench_function("lookup_and_json", |b| {
        b.iter(|| {
            next = (next + 1) % points.len();
            let (x, y) = points[next];
            let at = locate(None, None, Some(x), Some(y)).expect("a point");
            let who = held.who(at, None, Lang::Fr).expect("an answer");
            serde_json::to_vec(&who).expect("JSON").len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
