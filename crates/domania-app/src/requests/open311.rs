//! Service requests as Open311 GeoReport v2 shows them: the discovery document, the services
//! (categories) with the service a request would go to at a point, a service's definition
//! (its attributes), a request with Domania's extensions, the answer to a post, and the list
//! filters as the specification writes them.

use std::collections::BTreeMap;

use domania_store::{RequestFilter, RequestRow};
use serde::Serialize;

use super::{EventLine, NewRequest, Status, Urgency, stamp};
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;
use domania_i18n::Lang;

/// The changeset of the discovery document (the date the API last changed).
pub const CHANGESET: &str = "2026-11-26T00:00:00Z";

/// The most request ids one list takes.
pub const MAX_IDS: usize = 500;

/// The specification's default bound of a list asked without ids.
pub const DEFAULT_LIST: usize = 1000;

/// An endpoint of the discovery document.
#[derive(Debug, Serialize)]
pub struct Endpoint {
    pub specification: &'static str,
    pub url: String,
    pub changeset: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub formats: Vec<&'static str>,
}

/// `discovery.json`.
#[derive(Debug, Serialize)]
pub struct Discovery {
    pub changeset: &'static str,
    pub contact: &'static str,
    pub key_service: &'static str,
    pub endpoints: Vec<Endpoint>,
}

/// The discovery document of the API at `url` (`…/open311/v2`).
#[must_use]
pub fn discovery(url: String) -> Discovery {
    Discovery {
        changeset: CHANGESET,
        contact: "the territory's GIS team",
        key_service: "a token with the reporter role, given by the territory's administrators",
        endpoints: vec![Endpoint {
            specification: "http://wiki.open311.org/GeoReport_v2",
            url,
            changeset: CHANGESET,
            kind: "production",
            formats: vec!["application/json", "text/xml"],
        }],
    }
}

/// A service (a category of request).
#[derive(Debug, Serialize)]
pub struct ServiceView<'a> {
    pub service_code: &'a str,
    pub service_name: &'a str,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: String,
    pub group: String,
    /// At a point: the service a request of this category would go to there (an extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_responsible: Option<String>,
}

/// A value of a list attribute.
#[derive(Debug, Serialize)]
pub struct AttributeValue {
    pub key: &'static str,
    pub name: &'static str,
}

/// An attribute of a service definition.
#[derive(Debug, Serialize)]
pub struct Attribute<'a> {
    pub variable: bool,
    pub code: &'a str,
    pub datatype: &'static str,
    pub required: bool,
    pub order: usize,
    pub datatype_description: &'static str,
    pub description: &'a str,
    pub values: Vec<AttributeValue>,
}

/// `services/{code}.json`: the attributes a request of the category takes.
#[derive(Debug, Serialize)]
pub struct ServiceDefinition<'a> {
    pub service_code: &'a str,
    pub attributes: Vec<Attribute<'a>>,
}

/// A request as GeoReport v2 shows it, with Domania's extensions (`detailed_status`,
/// `duplicate_of`, `urgency`, `explanation`, `subsector`, `qpv`, and with one request its
/// `events`).
#[derive(Debug, Serialize)]
pub struct RequestView<'a> {
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    pub status_notes: Option<&'a str>,
    pub service_name: &'a str,
    pub service_code: &'a str,
    pub description: &'a str,
    pub agency_responsible: &'a str,
    pub service_notice: String,
    pub requested_datetime: &'a str,
    pub updated_datetime: &'a str,
    pub expected_datetime: Option<&'a str>,
    pub address: Option<&'a str>,
    pub lat: f64,
    pub long: f64,
    pub media_url: Option<String>,
    pub detailed_status: Status,
    pub duplicate_of: Option<String>,
    pub urgency: Urgency,
    pub explanation: &'a str,
    pub subsector: Option<&'a str>,
    pub qpv: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventLine>>,
}

/// A step of a request as FixMyStreet's Open311 client reads it (`servicerequestupdates`,
/// mySociety's extension of GeoReport): its status in FixMyStreet's words.
#[derive(Debug, Serialize)]
pub struct RequestUpdate {
    /// The request's id and the step's rank (`12-3`): the same step keeps its id.
    pub update_id: String,
    pub service_request_id: String,
    pub status: &'static str,
    pub description: String,
    pub updated_datetime: String,
}

/// The status FixMyStreet gives a report for a request's status.
#[must_use]
pub fn fixmystreet_status(s: Status) -> &'static str {
    match s {
        Status::Received => "OPEN",
        Status::Acknowledged => "INVESTIGATING",
        Status::Planned => "ACTION_SCHEDULED",
        Status::InProgress => "IN_PROGRESS",
        Status::Done => "FIXED",
        Status::Rejected => "NO_FURTHER_ACTION",
        Status::Transferred => "NOT_COUNCILS_RESPONSIBILITY",
        Status::Duplicate => "DUPLICATE",
    }
}

/// The most steps one `servicerequestupdates` answer lists.
pub const MAX_UPDATES: usize = 1000;

/// The steps made from `start_date` to `end_date` (ISO 8601; by default the last 24 hours
/// before now), the making of each request left out (it is the request, not an update).
pub fn updates(
    reports: &domania_store::RequestStore,
    start_date: Option<&str>,
    end_date: Option<&str>,
) -> Result<Vec<RequestUpdate>> {
    let now = jiff::Timestamp::now();
    let end = date_filter("end_date", end_date)?.unwrap_or_else(|| stamp(now));
    let start = date_filter("start_date", start_date)?
        .unwrap_or_else(|| stamp(now.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(now)));
    Ok(reports
        .steps_between(&start, &end, MAX_UPDATES)?
        .into_iter()
        .filter(|(_, n, _)| *n > 1)
        .map(|(id, n, e)| RequestUpdate {
            update_id: format!("{id}-{n}"),
            service_request_id: id.to_string(),
            status: fixmystreet_status(e.status),
            // Read by the reporter on FixMyStreet: in French, as the notes are written.
            description: match e.kind.as_str() {
                "alert" => format!("{} {}", crate::i18n::Lang::Fr.t("update-alert", &[]), e.note.unwrap_or_default()),
                _ => e.note.unwrap_or_default(),
            },
            updated_datetime: e.at,
        })
        .collect())
}

/// The answer to a posted request.
#[derive(Debug, Serialize)]
pub struct Posted {
    pub service_request_id: String,
    pub service_notice: String,
    pub account_id: Option<String>,
    pub agency_responsible: String,
    pub duplicate_of: Option<String>,
    /// Where the photo sent with it is seen (an extension: the photo's own address).
    pub media_url: Option<String>,
}

/// A token and the request it stands for (`tokens/{token}`).
#[derive(Debug, Serialize)]
pub struct Token {
    pub service_request_id: String,
    pub token: String,
}

/// What a request's notice says: a duplicate, an urgency to review, or nothing.
fn notice(r: &RequestRow, lang: Lang) -> String {
    match (&r.duplicate_of, r.urgency) {
        (Some(d), _) => lang.t("notice-duplicate", &[("id", d.to_string().into())]),
        (None, Urgency::Review) => lang.t("notice-urgency-review", &[]),
        (None, Urgency::Urgent) => lang.t("notice-urgent", &[]),
        (None, Urgency::Normal) => String::new(),
    }
}

/// The answer to the post of `r`, its notice in `lang`.
#[must_use]
pub fn posted(r: &RequestRow, lang: Lang, base: &str) -> Posted {
    Posted {
        service_request_id: r.id.to_string(),
        service_notice: notice(r, lang),
        account_id: None,
        agency_responsible: r.service_name.clone(),
        duplicate_of: r.duplicate_of.map(|d| d.to_string()),
        media_url: super::media_url(r, base),
    }
}

/// The error of a request that is not a number.
pub fn request_id(text: &str) -> Result<i64> {
    text.parse().map_err(|_| AppError::said(ErrorCode::NotFound, "error-no-request", vec![("id", text.into())]))
}

/// What a list of requests asks, as the specification writes it.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Comma-separated ids.
    pub service_request_id: Option<String>,
    /// Comma-separated service codes.
    pub service_code: Option<String>,
    /// Comma-separated statuses: `open`, `closed`, or Domania's detailed statuses.
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

fn split(v: Option<&str>) -> Vec<String> {
    v.map(|s| s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()).unwrap_or_default()
}

/// A `start_date` or `end_date`: a time, or a day (its start; for `end_date`, its end).
fn date_filter(name: &str, v: Option<&str>) -> Result<Option<String>> {
    let time = if name == "end_date" { "T23:59:59Z" } else { "T00:00:00Z" };
    v.map(|d| {
        d.parse::<jiff::Timestamp>()
            .map(stamp)
            .or_else(|_| d.parse::<jiff::civil::Date>().map(|d| format!("{d}{time}")))
            .map_err(|_| {
                AppError::new(
                    ErrorCode::BadParameter,
                    format!("{name} {d:?} is not a date (ISO 8601: 2026-11-26T10:00:00Z or 2026-11-26)"),
                )
            })
    })
    .transpose()
}

impl ListQuery {
    /// The filter of the store this query asks for.
    pub fn filter(&self) -> Result<RequestFilter> {
        let bad = |m: String| AppError::new(ErrorCode::BadParameter, m);
        let ids: Vec<i64> = split(self.service_request_id.as_deref())
            .iter()
            .map(|i| i.parse().map_err(|_| bad(format!("service_request_id {i:?} is not a request id"))))
            .collect::<Result<_>>()?;
        if ids.len() > MAX_IDS {
            return Err(bad(format!("at most {MAX_IDS} service_request_id at once")));
        }
        let mut statuses = Vec::new();
        for s in split(self.status.as_deref()) {
            match s.as_str() {
                "open" => statuses.extend(Status::ALL.into_iter().filter(|s| s.is_open())),
                "closed" => statuses.extend(Status::ALL.into_iter().filter(|s| !s.is_open())),
                other => statuses.push(
                    Status::parse(other)
                        .ok_or_else(|| bad(format!("status {other:?}: open, closed, or a detailed status")))?,
                ),
            }
        }
        statuses.sort();
        statuses.dedup();
        let service_codes = split(self.service_code.as_deref());
        for c in &service_codes {
            crate::text::field("service_code", c, super::MAX_ATTRIBUTE_CODE)?;
        }
        let none_asked = ids.is_empty();
        Ok(RequestFilter {
            ids,
            service_codes,
            statuses,
            start: date_filter("start_date", self.start_date.as_deref())?,
            end: date_filter("end_date", self.end_date.as_deref())?,
            limit: none_asked.then_some(DEFAULT_LIST),
        })
    }
}

/// A request posted as a form: its fields, its attributes (`attribute[code]=value`), and the
/// photo of a multipart form (its `media` part: file name and bytes).
#[derive(Debug, Clone, Default)]
pub struct PostForm {
    pub fields: BTreeMap<String, String>,
    pub attributes: BTreeMap<String, String>,
    pub media: Option<(String, Vec<u8>)>,
}

impl PostForm {
    /// The form's pairs, attributes apart.
    #[must_use]
    pub fn of(pairs: Vec<(String, String)>) -> Self {
        let mut form = PostForm::default();
        for (k, v) in pairs {
            if let Some(a) = k.strip_prefix("attribute[").and_then(|a| a.strip_suffix(']')) {
                form.attributes.insert(a.to_owned(), v);
            } else {
                form.fields.insert(k, v);
            }
        }
        form
    }

    /// How to reach the reporter: GeoReport's `email`, `first_name` and `last_name`, `phone`.
    fn contact(&self) -> Result<super::Contact> {
        let field = |k: &str| self.fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        for (k, v) in [("email", field("email")), ("phone", field("phone"))] {
            if let Some(v) = v {
                crate::text::field(k, v, super::MAX_NAME)?;
            }
        }
        let name = [field("first_name"), field("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        crate::text::field("first_name and last_name", &name, super::MAX_NAME)?;
        Ok(super::Contact {
            email: field("email").map(str::to_owned),
            name: Some(name).filter(|n| !n.is_empty()),
            phone: field("phone").map(str::to_owned),
        })
    }

    /// The API key given, if any.
    #[must_use]
    pub fn api_key(&self) -> Option<&str> {
        self.fields.get("api_key").map(String::as_str).filter(|k| !k.is_empty())
    }

    /// The request the form makes, posted by `reporter`; a place given as `address_string`
    /// alone is placed by the address search of `held` (an address with its number, never a
    /// street's or a commune's middle).
    pub fn request(mut self, reporter: String, held: &Held) -> Result<NewRequest> {
        // A place given only as an address: placed at the address the search finds first, when
        // it is an address with its number; otherwise the specification's error says so rather
        // than guess a point.
        let has = |k: &str| self.fields.get(k).is_some_and(|v| !v.trim().is_empty());
        if !has("lat") && !has("long") && (has("address_string") || has("address_id")) {
            let address = self.fields.get("address_string").map(|a| a.trim().to_owned()).unwrap_or_default();
            let found = held
                .search(&address, 5, domania_i18n::Lang::Fr)
                .into_iter()
                .find(|h| h.kind == crate::search::HitKind::Address)
                .and_then(|h| h.point_l93);
            let Some((x, y)) = found.filter(|_| !address.is_empty()) else {
                return Err(AppError::said(
                    ErrorCode::BadParameter,
                    "error-address-unplaced",
                    vec![("address", address.into())],
                ));
            };
            let (lon, lat) = domania_core::crs::Crs::lambert93().transform_to(&domania_core::crs::Crs::wgs84(), x, y);
            self.fields.insert("lat".into(), format!("{lat:.7}"));
            self.fields.insert("long".into(), format!("{lon:.7}"));
        }
        let bad = |m: String| AppError::new(ErrorCode::BadParameter, m);
        let need = |k: &str| {
            self.fields.get(k).filter(|v| !v.trim().is_empty()).ok_or_else(|| bad(format!("{k} is required")))
        };
        let number = |k: &str| -> Result<f64> {
            need(k)?.trim().parse::<f64>().map_err(|_| bad(format!("{k} is not a number")))
        };
        // Over the network a photo is a web address a person can open.
        if let Some(m) = self.fields.get("media_url").map(|m| m.trim()).filter(|m| !m.is_empty()) {
            crate::text::web_url("media_url", m, super::MAX_MEDIA_URL)?;
        }
        let contact = self.contact()?;
        Ok(NewRequest {
            service_code: need("service_code")?.clone(),
            lat: number("lat")?,
            lon: number("long")?,
            description: self.fields.get("description").cloned().unwrap_or_default(),
            media_url: self.fields.get("media_url").cloned(),
            attributes: self.attributes,
            reporter,
            source: "open311".into(),
            media: self.media,
            at: jiff::Timestamp::now(),
            contact,
        })
    }
}

impl Held {
    /// The categories; at a Lambert-93 point, each with the service it would go to there.
    pub fn services(&self, at: Option<(f64, f64)>) -> Result<Vec<ServiceView<'_>>> {
        let rules = &self.rules.rules;
        let label = |k: &str| {
            rules.config().interventions.iter().find(|i| i.id == k).map_or(k, |i| i.label.as_str()).to_owned()
        };
        rules
            .config()
            .categories
            .iter()
            .map(|c| {
                Ok(ServiceView {
                    service_code: &c.code,
                    service_name: &c.name,
                    description: if c.description.is_empty() { label(&c.intervention) } else { c.description.clone() },
                    metadata: true,
                    kind: "realtime",
                    keywords: c.keywords.join(","),
                    group: label(&c.intervention),
                    agency_responsible: match at {
                        Some((x, y)) => Some(self.route_category(x, y, c)?.service_name),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// The attributes a request of the category `code` takes.
    pub fn service_definition(&self, code: &str) -> Result<ServiceDefinition<'_>> {
        let c = self
            .rules
            .rules
            .category(code)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("no service_code {code:?}")))?;
        let yes_no = || vec![AttributeValue { key: "true", name: "oui" }, AttributeValue { key: "false", name: "non" }];
        let mut attributes = vec![Attribute {
            variable: true,
            code: "urgent",
            datatype: "singlevaluelist",
            required: false,
            order: 1,
            datatype_description: "true or false",
            description: "Urgent, selon vous (vérifié contre les critères objectifs ci-dessous)",
            values: yes_no(),
        }];
        for (i, u) in c.urgency.iter().enumerate() {
            attributes.push(Attribute {
                variable: true,
                code: &u.code,
                datatype: "singlevaluelist",
                required: false,
                order: i + 2,
                datatype_description: "true or false",
                description: &u.description,
                values: yes_no(),
            });
        }
        Ok(ServiceDefinition { service_code: &c.code, attributes })
    }

    /// A request as GeoReport v2 shows it (its category's name from these rules, its notice in
    /// `lang`).
    #[must_use]
    pub fn request_view<'a>(&'a self, r: &'a RequestRow, lang: Lang, base: &str) -> RequestView<'a> {
        let service_name =
            self.rules.rules.category(&r.service_code).map_or(r.service_code.as_str(), |c| c.name.as_str());
        RequestView {
            service_request_id: r.id.to_string(),
            status: if r.status.is_open() { "open" } else { "closed" },
            status_notes: r.status_notes.as_deref(),
            service_name,
            service_code: &r.service_code,
            description: &r.description,
            agency_responsible: &r.service_name,
            service_notice: notice(r, lang),
            requested_datetime: &r.requested_at,
            updated_datetime: &r.updated_at,
            expected_datetime: r.expected_at.as_deref(),
            address: None,
            lat: r.lat,
            long: r.lon,
            media_url: super::media_url(r, base),
            detailed_status: r.status,
            duplicate_of: r.duplicate_of.map(|d| d.to_string()),
            urgency: r.urgency,
            explanation: &r.explanation,
            subsector: r.subsector.as_deref(),
            qpv: r.qpv.as_deref(),
            events: None,
        }
    }
}
