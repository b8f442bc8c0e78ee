//! Reports on the demo territory (data/), with times chosen by the test: duplicates at the
//! edges of the distance and the window, and service-level figures computed by hand. Each test
//! runs on a GeoPackage store and, when `$DOMANIA_TEST_PG` names a PostgreSQL server, on a
//! PostGIS one, whose reports are tables of the same database.

// Short names (w the world, t the territory, r a report) keep the checks readable.
#![allow(clippy::many_single_char_names)]

use domania_app::held::Held;
use domania_app::import::ImportRequest;
use domania_app::requests::{Desk, NewRequest, Status, Urgency};
use domania_app::{App, Layer};
use domania_core::crs::Crs;
use jiff::{SignedDuration, Timestamp};

fn data(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(file)
}

/// The bailleur's parcel 78498000AB0072 (sub-sector QN078001-01), in Lambert-93.
fn origin() -> (f64, f64) {
    Crs::wgs84().transform_to(&Crs::lambert93(), 1.806, 48.927)
}

struct World {
    engine: &'static str,
    _dir: tempfile::TempDir,
    app: App,
    held: Held,
    desk: Desk,
    /// Dropped last, once the app's connections are closed.
    _db: Option<domania_testkit::ScratchDatabase>,
}

/// The date the conventions are judged on.
fn day() -> jiff::civil::Date {
    jiff::civil::date(2026, 3, 1)
}

/// Each scenario runs on a GeoPackage store, and on a PostGIS one where a server is given
/// (`$DOMANIA_TEST_PG`; without one, that test is reported as ignored).
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[test]
            fn in_a_geopackage() {
                super::$name(&super::world("GeoPackage", None));
            }

            #[test]
            #[cfg_attr(domania_without_pg, ignore = "needs a PostgreSQL/PostGIS server: set DOMANIA_TEST_PG (see README)")]
            fn in_postgis() {
                let db = domania_testkit::ScratchDatabase::new(stringify!($name));
                super::$name(&super::world("PostGIS", Some(db)));
            }
        }
    )* };
}

on_both_engines!(
    duplicates_at_the_edges_of_distance_and_window,
    urgency_is_judged_on_the_categorys_criteria,
    service_level_figures_computed_by_hand,
    a_routing_stays_as_given_until_an_explicit_reroute,
    text_no_store_can_keep_is_refused_by_name_and_nothing_is_written
);

fn world(engine: &'static str, db: Option<domania_testkit::ScratchDatabase>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let location = match &db {
        Some(db) => domania_store::Location::from(db.url()),
        None => dir.path().join("s.gpkg").into(),
    };
    let app = App::new(location, Some(&data("territory.toml"))).unwrap();
    for (layer, file) in [
        (Layer::Parcels, "cadastre-synth-parcelles.json"),
        (Layer::Owners, "ppm-synth.csv"),
        (Layer::Qpv, "qpv-synth.geojson"),
        (Layer::Subsectors, "subsectors-synth.geojson"),
    ] {
        app.import(&ImportRequest::new(layer, data(file), "test"), &|_| {}).unwrap();
    }
    let held = app.hold(domania_app::files::rules(Some(&data("rules.toml"))).unwrap(), day()).unwrap();
    let desk = app.desk().unwrap();
    World { engine, _dir: dir, app, held, desk, _db: db }
}

fn report(code: &str, (x, y): (f64, f64), at: Timestamp) -> NewRequest {
    let (lon, lat) = Crs::lambert93().transform_to(&Crs::wgs84(), x, y);
    NewRequest {
        service_code: code.into(),
        lon,
        lat,
        description: "sacs".into(),
        media_url: None,
        attributes: std::collections::BTreeMap::default(),
        reporter: "test".into(),
        source: "test".into(),
        at,
        contact: domania_app::requests::Contact::default(),
        media: None,
    }
}

fn t0() -> Timestamp {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

fn hours(h: f64) -> SignedDuration {
    SignedDuration::from_secs_f64(h * 3600.0)
}

fn duplicates_at_the_edges_of_distance_and_window(w: &World) {
    {
        eprintln!("on {}", w.engine);
        {
            let t = &w.held;
            let cfg = &t.rules.rules.config().reports;
            assert_eq!((cfg.duplicate_distance_m, cfg.duplicate_window_hours), (30.0, 72.0));
            let (x, y) = origin();
            let first = w.desk.post(t, report("dumping", (x, y), t0())).unwrap();
            assert_eq!(first.duplicate_of, None);
            // Just inside 30 m: a duplicate; just outside: a report of its own.
            let inside = w.desk.post(t, report("dumping", (x + 29.9, y), t0() + hours(1.0))).unwrap();
            assert_eq!(inside.duplicate_of, Some(first.id));
            assert_eq!(inside.status, Status::Duplicate);
            let outside = w.desk.post(t, report("dumping", (x - 30.1, y), t0() + hours(1.0))).unwrap();
            assert_eq!(outside.duplicate_of, None);
            // Another kind at the same point is not a duplicate.
            assert_eq!(w.desk.post(t, report("litter", (x, y), t0())).unwrap().duplicate_of, None);
            // The window: 72 h after the first, still a duplicate; a second later, not.
            let (x2, y2) = (x, y + 60.0);
            let base = w.desk.post(t, report("dumping", (x2, y2), t0())).unwrap();
            let at_edge = w.desk.post(t, report("dumping", (x2, y2), t0() + hours(72.0))).unwrap();
            assert_eq!(at_edge.duplicate_of, Some(base.id));
            let after = w
                .desk
                .post(t, report("dumping", (x2, y2 + 1.0), t0() + hours(72.0) + SignedDuration::from_secs(1)))
                .unwrap();
            assert_eq!(after.duplicate_of, None);
            // Once the first is done, a new report there is new work.
            w.desk.transition(&w.held, first.id, Status::Done, Some("enlevé"), "ctc", t0() + hours(2.0)).unwrap();
            let again = w.desk.post(t, report("dumping", (x + 1.0, y), t0() + hours(3.0))).unwrap();
            assert_eq!(again.duplicate_of, None);
        }
    }
}

fn urgency_is_judged_on_the_categorys_criteria(w: &World) {
    {
        eprintln!("on {}", w.engine);
        {
            let t = &w.held;
            let (x, y) = origin();
            let with = |attrs: &[(&str, &str)], dx: f64| {
                let mut r = report("dumping", (x + dx, y), t0());
                r.attributes = attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
                r
            };
            let claimed = w.desk.post(t, with(&[("urgent", "true")], 0.0)).unwrap();
            assert_eq!(claimed.urgency, Urgency::Review);
            assert!(claimed.status_notes.unwrap().contains("à vérifier"));
            let met = w.desk.post(t, with(&[("urgent", "true"), ("blocked_access", "true")], 100.0)).unwrap();
            assert_eq!((met.urgency, met.urgency_reasons.as_str()), (Urgency::Urgent, "[\"blocked_access\"]"));
            // Near an open one: a plain report is its duplicate, an urgent one is not closed as such.
            let plain = w.desk.post(t, with(&[], 101.0)).unwrap();
            assert_eq!(plain.duplicate_of, Some(met.id));
            let urgent_too = w.desk.post(t, with(&[("hazard", "true")], 102.0)).unwrap();
            assert_eq!((urgent_too.duplicate_of, urgent_too.urgency), (None, Urgency::Urgent));
            let unclaimed = w.desk.post(t, with(&[("hazard", "oui")], 200.0)).unwrap();
            assert_eq!(unclaimed.urgency, Urgency::Urgent, "an objective criterion makes it urgent, claimed or not");
            // A criterion of another category is not an attribute of this one: refused (the
            // service's definition says which it takes), nothing stored.
            let before = w.desk.list(&domania_app::requests::Filter::default()).unwrap().len();
            let other = w.desk.post(t, with(&[("urgent", "true"), ("fallen_tree", "true")], 300.0)).unwrap_err();
            assert_eq!(other.code(), domania_app::ErrorCode::BadParameter, "{other}");
            assert!(other.message().contains("fallen_tree"), "{other}");
            let maybe = w.desk.post(t, with(&[("hazard", "maybe")], 300.0)).unwrap_err();
            assert_eq!(maybe.code(), domania_app::ErrorCode::BadParameter, "{maybe}");
            assert_eq!(w.desk.list(&domania_app::requests::Filter::default()).unwrap().len(), before);
        }
    }
}

fn service_level_figures_computed_by_hand(w: &World) {
    {
        eprintln!("on {}", w.engine);
        {
            let t = &w.held;
            let (x, y) = origin();
            // Four requests done after 10, 20, 30 and 100 hours, one still open, one duplicate: all
            // waste, so all to the waste department (96 h expected, 48 h in a QPV).
            let mut ids = Vec::new();
            for (k, h) in [10.0, 20.0, 30.0, 100.0].into_iter().enumerate() {
                let r = w.desk.post(t, report("dumping", (x + 40.0 * k as f64, y), t0())).unwrap();
                w.desk.transition(&w.held, r.id, Status::Acknowledged, None, "ctc", t0() + hours(1.0)).unwrap();
                w.desk.transition(&w.held, r.id, Status::Done, Some("fait"), "ctc", t0() + hours(h)).unwrap();
                ids.push(r.id);
            }
            let open = w.desk.post(t, report("dumping", (x, y + 40.0), t0())).unwrap();
            assert_eq!(open.duplicate_of, None);
            let dup = w.desk.post(t, report("dumping", (x, y + 41.0), t0() + hours(1.0))).unwrap();
            assert_eq!(dup.duplicate_of, Some(open.id));
            let rows = w.desk.service_levels().unwrap();
            let by_service: Vec<_> = rows.iter().filter(|r| r.by == "service").collect();
            assert_eq!(by_service.len(), 1, "{rows:?}");
            let r = by_service[0];
            assert_eq!((r.group.as_str(), r.month.as_str()), ("Direction de la gestion des déchets", "2026-03"));
            assert_eq!((r.requests, r.done, r.backlog, r.duplicates), (6, 4, 1, 1));
            // Median of 10, 20, 30, 100: (20 + 30) / 2; 90th percentile by nearest rank: the
            // ceil(0.9 × 4) = 4th value.
            assert_eq!(r.median_hours, Some(25.0));
            assert_eq!(r.p90_hours, Some(100.0));
            // 100 h is over both 96 h and 48 h; the others are within: 3 of 4.
            assert_eq!(r.within_level, Some(0.75));
            // The annual report says the same, and counts every square metre of the sub-sectors once
            // per intervention kind.
            let a = w.desk.annual(t, 2026, None).unwrap();
            assert!(a.markdown.contains("6 signalements reçus, dont 1 doublon rattaché"), "{}", a.markdown);
            assert!(
                a.markdown.contains(
                    "| Collecte des déchets et encombrants | Direction de la gestion des déchets | 6 | 4 | 1 | 1 |"
                ),
                "{}",
                a.markdown
            );
            assert!(a.markdown.contains("| 25\u{a0}h | 4\u{a0}jours | 75,0\u{202f}% |"), "{}", a.markdown);
            assert!(a.svg.starts_with("<svg") && a.svg.contains("4 / 6"));
            assert!(a.pdf.starts_with(b"%PDF-"), "the report to present is a PDF");
            assert!(
                a.csv.contains("\nservice,,Direction de la gestion des déchets,6,4,1,1,25.0,100.0,0.75,,0\n"),
                "{}",
                a.csv
            );
            // The map: a point per request in its status's colour (the viewer's), over the
            // sub-sectors; a legend of the statuses drawn, a scale bar; referenced by the text.
            let map = a.map.as_deref().expect("a map of the requests");
            let colours = &domania_app::colour::colours().report_status;
            let points = |s: &str| map.matches(&format!("r=\"4\" fill=\"{}\"", colours[s])).count();
            assert_eq!((points("done"), points("received"), points("duplicate")), (4, 1, 1), "{map}");
            for said in [">traité</text>", ">reçu</text>", ">doublon</text>", " m</text>"] {
                assert!(map.contains(said), "{said} not in {map}");
            }
            assert!(map.contains("<path d=\"M") && map.ends_with("</svg>\n"));
            assert!(a.markdown.contains("](annual-2026-territoire-carte.svg)"), "{}", a.markdown);
            assert!(w.desk.annual(t, 2025, None).unwrap().map.is_none());
            let land: f64 = a
                .csv
                .lines()
                .filter(|l| l.starts_with("land,Nettoiement,"))
                .map(|l| l.split(',').nth(10).unwrap().parse::<f64>().unwrap())
                .sum();
            let spaces: f64 = t.assign.spaces.iter().map(|s| s.area_m2).sum();
            assert!((land - spaces).abs() < 1.0, "{land} m² managed for cleaning, {spaces} m² of spaces");
            assert!(w.desk.annual(t, 2025, None).unwrap().markdown.contains("\n\n0 signalement reçu,"));
            // The expected time of each is the level of its place.
            // The first is on the bailleur's parcel inside QPV QN078001: 48 h, not 96.
            let first = w.desk.detail(ids[0]).unwrap().0;
            assert_eq!(first.qpv.as_deref(), Some("QN078001"));
            let expected: Timestamp = first.expected_at.unwrap().parse().unwrap();
            assert_eq!(expected, t0() + hours(48.0));
        }
    }
}

fn a_routing_stays_as_given_until_an_explicit_reroute(w: &World) {
    {
        eprintln!("on {}", w.engine);
        {
            let t = &w.held;
            let r = w.desk.post(t, report("litter", origin(), t0())).unwrap();
            assert_eq!(r.service_name, "Agence de proximité du bailleur");
            // The rules change: cleaning now always goes to the CU's technical centre.
            let text = std::fs::read_to_string(data("rules.toml")).unwrap()
                + "\n[[fixed]]\nintervention = \"cleaning\"\nservice = \"cu-ctc-seine-aval\"\nreason = \"marché de nettoiement\"\n";
            let after = w.app.hold(domania_app::files::rules_from_text(&text, "rules+fixed").unwrap(), day()).unwrap();
            // What was given stays.
            assert_eq!(w.desk.detail(r.id).unwrap().0.service_name, "Agence de proximité du bailleur");
            // Until someone re-routes it, which is logged.
            let moved = w.desk.reroute(&after, r.id, "coordinatrice GUP", t0() + hours(2.0)).unwrap();
            assert_eq!((moved.service_name.as_str(), moved.rule.as_str()), ("CTC Seine Aval", "fixed"));
            assert_eq!(moved.snapshot, after.tag(), "the snapshot it was routed on");
            assert_ne!(after.tag(), w.held.tag());
            let events = w.desk.detail(r.id).unwrap().1;
            let last = events.last().unwrap();
            assert_eq!((last.kind.as_str(), last.by.as_str()), ("reroute", "coordinatrice GUP"));
            assert!(last.note.as_deref().unwrap().contains("Agence de proximité du bailleur"));
            // The rules give the litter category to the waste department directly: a new
            // report goes there wherever it is, and says why.
            let text = std::fs::read_to_string(data("rules.toml")).unwrap().replacen(
                "code = \"litter\"\n",
                "code = \"litter\"\nservice = \"cu-dechets\"\n",
                1,
            );
            let direct =
                w.app.hold(domania_app::files::rules_from_text(&text, "rules+direct").unwrap(), day()).unwrap();
            let r = w.desk.post(&direct, report("litter", (origin().0 + 200.0, origin().1), t0())).unwrap();
            assert_eq!((r.service_name.as_str(), r.rule.as_str()), ("Direction de la gestion des déchets", "category"));
            assert!(
                r.explanation.contains("vont directement à Direction de la gestion des déchets"),
                "{}",
                r.explanation
            );
            // A rules file naming a service that does not exist is refused.
            let bad = text.replacen("service = \"cu-dechets\"", "service = \"nope\"", 1);
            assert!(domania_app::files::rules_from_text(&bad, "bad").is_err());
        }
    }
}

/// A NUL character anywhere a client or a file writes text: the same 422 `bad_text` (or a
/// rejected feature) naming the field on both engines, and nothing stored.
fn text_no_store_can_keep_is_refused_by_name_and_nothing_is_written(w: &World) {
    use domania_app::ErrorCode;
    let t = &w.held;
    let before = w.desk.list(&domania_app::requests::Filter::default()).unwrap().len();
    let refused = |r: NewRequest, field: &str| {
        let e = w.desk.post(t, r).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadText, "{} on {}", e.message(), w.engine);
        assert!(e.message().starts_with(field), "{} on {}", e.message(), w.engine);
    };
    let mut r = report("dumping", origin(), t0());
    r.description = "sacs\0poubelle".into();
    refused(r, "description holds a NUL");
    let mut r = report("dumping", origin(), t0());
    r.attributes.insert("urgent".into(), "tr\0ue".into());
    refused(r, "attribute[urgent] holds a NUL");
    let mut r = report("dumping", origin(), t0());
    r.media_url = Some("https://photos.example.org/\0.jpg".into());
    refused(r, "media_url holds a NUL");
    // A media_url that is not a web address, and too many attributes.
    let mut r = report("dumping", origin(), t0());
    r.media_url = Some("javascript:alert(1)".into());
    assert_eq!(w.desk.post(t, r).unwrap_err().code(), ErrorCode::InvalidArgument);
    let mut r = report("dumping", origin(), t0());
    r.attributes = (0..21).map(|i| (format!("a{i}"), "x".to_owned())).collect();
    assert_eq!(w.desk.post(t, r).unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(w.desk.list(&domania_app::requests::Filter::default()).unwrap().len(), before, "nothing stored");
    // A status note, a token's name.
    let first = w.desk.post(t, report("dumping", origin(), t0())).unwrap();
    let e = w
        .desk
        .transition(&w.held, first.id, Status::Rejected, Some("hors\0sujet"), "ctc", t0() + hours(1.0))
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadText, "{}", e.message());
    assert_eq!(w.app.create_token("sig\0", domania_app::tokens::Role::Editor).unwrap_err().code(), ErrorCode::BadText);
    // A layer whose feature holds a NUL in a property: that feature is rejected, by its index.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nul.geojson");
    let text = std::fs::read_to_string(data("subsectors-synth.geojson")).unwrap().replacen(
        "\"name\":\"",
        "\"name\": \"\\u0000",
        1,
    );
    assert!(text.contains("\\u0000"), "the file has a name to spoil");
    std::fs::write(&file, text).unwrap();
    let e = w.app.import(&ImportRequest::new(Layer::Subsectors, &file, "test"), &|_| {}).unwrap_err();
    let report = e.report().expect("the validation report");
    let issue = report.issues.iter().find(|i| i.code == "nul_character").expect("a nul_character issue");
    assert!(issue.message.contains("property \"name\""), "{}", issue.message);
    assert_eq!(w.app.history(Layer::Subsectors).unwrap().len(), 1, "no new version on {}", w.engine);
}
