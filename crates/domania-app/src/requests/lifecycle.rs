//! A request's life: posted (checked, routed, linked to an open duplicate), moved through its
//! statuses, routed again.

use domania_rules::Category;
use domania_store::{RequestRow, RequestStore};
use jiff::Timestamp;

use super::routing::Route;
use super::{
    MAX_ATTRIBUTE_CODE, MAX_ATTRIBUTE_VALUE, MAX_ATTRIBUTES, MAX_DESCRIPTION, MAX_MEDIA_URL, MAX_NAME, MAX_NOTE,
    NewRequest, Status, Urgency, no_request, stamp, truthy,
};
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;

/// Checks and routes a report, links it to an open duplicate, and stores it.
#[allow(clippy::many_single_char_names)]
pub(crate) fn post(reports: &mut RequestStore, t: &Held, r: NewRequest) -> Result<RequestRow> {
    let (category, x, y, route) = check(t, &r)?;
    let photo = match &r.media {
        Some((name, bytes)) => {
            let p = super::photo::accept(name, bytes)?;
            Some(domania_store::PhotoRow { mime: p.mime.to_owned(), photo: p.bytes, thumbnail: p.thumbnail })
        }
        None => None,
    };
    // Urgency: claimed, and the objective criteria met.
    let met: Vec<&str> = category
        .urgency
        .iter()
        .filter(|c| r.attributes.get(&c.code).is_some_and(|v| truthy(v)))
        .map(|c| c.code.as_str())
        .collect();
    let claimed = r.attributes.get("urgent").is_some_and(|v| truthy(v));
    let urgency = match (claimed, met.is_empty()) {
        (_, false) => Urgency::Urgent,
        (true, true) => Urgency::Review,
        (false, true) => Urgency::Normal,
    };
    let expected = expected_at(&t.rules.rules, &category.intervention, r.at, route.qpv.is_some());
    let at = stamp(r.at);
    let cfg = &t.rules.rules.config().reports;
    let since = stamp(
        r.at.checked_sub(jiff::SignedDuration::from_secs_f64(cfg.duplicate_window_hours * 3600.0)).unwrap_or(r.at),
    );
    let row = RequestRow {
        service_code: category.code.clone(),
        intervention: category.intervention.clone(),
        lon: r.lon,
        lat: r.lat,
        x,
        y,
        description: r.description,
        media_url: r.media_url.filter(|m| !m.trim().is_empty()),
        attributes: serde_json::to_string(&r.attributes).unwrap_or_else(|_| "{}".into()),
        urgency,
        urgency_reasons: serde_json::to_string(&met).unwrap_or_else(|_| "[]".into()),
        requested_at: at.clone(),
        updated_at: at,
        status: Status::Received,
        status_notes: (urgency == Urgency::Review)
            // Stored with the request and read by the services and the reporter: in French.
            .then(|| crate::i18n::Lang::Fr.t("note-urgency-review", &[])),
        reporter: r.reporter,
        source: r.source,
        ..RequestRow::default()
    }
    .with_routing(route.stored(t.tag(), expected.map(stamp)));
    let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
    let distance = cfg.duplicate_distance_m;
    // An urgent report (a criterion met) is never closed as a duplicate: it may say what the
    // open one did not.
    let merge = urgency != Urgency::Urgent;
    let contact = r.contact;
    let rules = &t.rules.rules;
    let decide = |near: &[domania_store::Nearby], row: &mut RequestRow| {
        if !merge {
            return;
        }
        let d = |n: &domania_store::Nearby| (n.x - row.x).hypot(n.y - row.y);
        if let Some(first) = near.iter().filter(|n| d(n) <= distance).min_by(|a, b| d(a).total_cmp(&d(b))) {
            row.duplicate_of = Some(first.id);
            row.status = Status::Duplicate;
            let args = [
                ("id", first.id.to_string().into()),
                ("metres", format!("{:.0}", d(first)).into()),
                ("at", first.requested_at.as_str().into()),
            ];
            row.status_notes = Some(crate::i18n::Lang::Fr.t("note-duplicate", &args));
        }
    };
    let mail = |row: &RequestRow| super::notify::on_new(rules, row, Some(&contact));
    Ok(reports.insert(row, &open, distance, &since, decide, Some(&contact), photo.as_ref(), mail)?)
}

/// The DVQ's droit d'alerte: an open report made urgent by a named admin token, with why.
pub(crate) fn alert(
    reports: &mut RequestStore,
    t: &Held,
    id: i64,
    note: &str,
    by: &str,
    at: Timestamp,
) -> Result<RequestRow> {
    let note = note.trim();
    if note.is_empty() {
        return Err(AppError::said(ErrorCode::InvalidArgument, "error-alert-reason", vec![]));
    }
    crate::text::field("the note", note, MAX_NOTE)?;
    crate::text::field("the author's name", by, MAX_NAME)?;
    let check = |current: &RequestRow| {
        if current.status.is_open() {
            Ok(())
        } else {
            Err(format!("request {id} is {}: the droit d'alerte is for an open request", current.status.as_str()))
        }
    };
    let mail = |row: &RequestRow| super::notify::on_alert(&t.rules.rules, row);
    Ok(reports.alert(id, note, by, &stamp(at), check, mail)?)
}

/// Moves a report to another status, by a named token, with a note (required to reject or
/// transfer).
pub(crate) fn transition(
    reports: &mut RequestStore,
    t: &Held,
    id: i64,
    to: Status,
    note: Option<&str>,
    by: &str,
    at: Timestamp,
) -> Result<RequestRow> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        crate::text::field("the note", n, MAX_NOTE)?;
    }
    crate::text::field("the author's name", by, MAX_NAME)?;
    if to.needs_reason() && note.is_none() {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("a report is {} with a reason (a note)", to.as_str()),
        ));
    }
    let contact = reports.contact(id)?;
    let check = |current: &RequestRow| {
        let from = current.status;
        if from.may_become(to) {
            Ok(())
        } else {
            Err(format!("request {id} is {}: it cannot become {}", from.as_str(), to.as_str()))
        }
    };
    let mail = |row: &RequestRow| super::notify::on_change(&t.rules.rules, row, contact.as_ref());
    Ok(reports.transition(id, to, note, by, &stamp(at), check, mail)?)
}

/// Routes a stored report again on today's territory (an explicit, logged action: a routing
/// once given never changes by itself when the layers or rules do). The step records the old
/// and the new service and the snapshot routed on.
pub(crate) fn reroute(reports: &mut RequestStore, t: &Held, id: i64, by: &str, at: Timestamp) -> Result<RequestRow> {
    let current = reports.get(id)?.ok_or_else(|| no_request(id))?;
    let route = match t.rules.rules.category(&current.service_code) {
        Some(c) => t.route_category(current.x, current.y, c)?,
        None => t.route(current.x, current.y, &current.intervention)?,
    };
    let requested: Timestamp = current
        .requested_at
        .parse()
        .map_err(|e| AppError::new(ErrorCode::StoreCorrupt, format!("report {id}: requested_at: {e}")))?;
    let expected = expected_at(&t.rules.rules, &current.intervention, requested, route.qpv.is_some()).map(stamp);
    let new = route.stored(t.tag(), expected);
    Ok(reports.reroute(id, &new, by, &stamp(at))?)
}

/// The time a report made at `at` is expected to be done by, from the level of its kind
/// (inside a QPV or not, by season); `None` without a level.
fn expected_at(rules: &domania_rules::Rules, intervention: &str, at: Timestamp, in_qpv: bool) -> Option<Timestamp> {
    let l = rules.service_level(intervention)?;
    let month = u8::try_from(at.to_zoned(jiff::tz::TimeZone::UTC).month()).unwrap_or(1);
    at.checked_add(jiff::SignedDuration::from_secs_f64(l.hours(month, in_qpv) * 3600.0)).ok()
}

/// Checks a report (category, note or photo, length, a point on Earth in the territory) and
/// routes it: what [`post`] stores, and what a walk checks of every observation before storing
/// any.
pub(crate) fn check<'r>(t: &'r Held, r: &NewRequest) -> Result<(&'r Category, f64, f64, Route)> {
    let bad = |m: String| AppError::new(ErrorCode::InvalidArgument, m);
    crate::text::field("service_code", &r.service_code, MAX_ATTRIBUTE_CODE)?;
    let category = t.rules.rules.category(&r.service_code).ok_or_else(|| {
        let codes: Vec<&str> = t.rules.rules.config().categories.iter().map(|c| c.code.as_str()).collect();
        AppError::new(
            ErrorCode::NotFound,
            format!("unknown service_code {:?} (services: {})", r.service_code, codes.join(", ")),
        )
    })?;
    if r.description.trim().is_empty()
        && r.media_url.as_deref().is_none_or(|m| m.trim().is_empty())
        && r.media.is_none()
    {
        return Err(bad("a description, a photo (media) or a media_url is required".into()));
    }
    let chars = r.description.chars().count();
    if chars > MAX_DESCRIPTION {
        return Err(bad(format!("the description has {chars} characters; at most {MAX_DESCRIPTION}")));
    }
    crate::text::storable("description", &r.description)?;
    if let Some(m) = r.media_url.as_deref().filter(|m| !m.trim().is_empty()) {
        // A web address (Open311 asks for one) or the name of a photo taken on a walk; never
        // a script a page would run.
        crate::text::field("media_url", m, MAX_MEDIA_URL)?;
        crate::text::not_a_script("media_url", m.trim())?;
    }
    if r.attributes.len() > MAX_ATTRIBUTES {
        return Err(bad(format!("{} attributes; at most {MAX_ATTRIBUTES}", r.attributes.len())));
    }
    for (k, v) in &r.attributes {
        crate::text::field("an attribute's code", k, MAX_ATTRIBUTE_CODE)?;
        crate::text::field(&format!("attribute[{k}]"), v, MAX_ATTRIBUTE_VALUE)?;
    }
    // Every attribute is one of the service's definition (`services/{code}`), with one of its
    // values.
    for (k, v) in &r.attributes {
        let known: Vec<&str> =
            std::iter::once("urgent").chain(category.urgency.iter().map(|u| u.code.as_str())).collect();
        if !known.contains(&k.as_str()) {
            return Err(AppError::new(
                ErrorCode::BadParameter,
                format!("attribute[{k}] is not an attribute of {} (attributes: {})", category.code, known.join(", ")),
            )
            .said_but_in_english(
                "error-attribute-unknown",
                vec![
                    ("code", k.as_str().into()),
                    ("service", category.code.as_str().into()),
                    ("known", known.join(", ").into()),
                ],
            ));
        }
        // The definition's keys are true and false; the spellings `truthy` reads are taken too.
        let spelled = v.trim().to_ascii_lowercase();
        if !matches!(spelled.as_str(), "true" | "1" | "yes" | "oui" | "on" | "false" | "0" | "no" | "non" | "off") {
            return Err(AppError::new(ErrorCode::BadParameter, format!("attribute[{k}]={v:?}: true or false"))
                .said_but_in_english(
                    "error-attribute-value",
                    vec![("code", k.as_str().into()), ("value", v.as_str().into())],
                ));
        }
    }
    crate::text::field("the reporter's name", &r.reporter, MAX_NAME)?;
    if !(r.lon.is_finite() && r.lat.is_finite() && (-180.0..=180.0).contains(&r.lon) && (-90.0..=90.0).contains(&r.lat))
    {
        return Err(bad(format!("lat {} / long {} is not a point on Earth", r.lat, r.lon)));
    }
    let (x, y) = domania_core::crs::Crs::wgs84().transform_to(&domania_core::crs::Crs::lambert93(), r.lon, r.lat);
    let route = t.route_category(x, y, category)?;
    Ok((category, x, y, route))
}
