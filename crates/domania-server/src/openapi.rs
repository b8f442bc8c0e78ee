//! The OpenAPI 3.0 document of every route the server answers: typed parameters (enums of the
//! territory's own layers, intervention kinds, styles, categories and statuses; integer
//! ranges; number formats), request bodies, security as it really is (bearer tokens; the
//! Open311 `api_key` form field), every status a route can answer, and response schemas. It is
//! built from the table below and the snapshot served (its rules give the enums), checked by
//! openapi-spec-validator and schemathesis in CI, and a test checks that every route of the
//! router is in it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domania_app::held::Held;
use domania_app::requests::Status;
use domania_app::tokens::Role;
use domania_app::{Actor, ErrorCode, Layer};
use serde::Serialize;

use crate::state::Shared;

/// A schema (the subset of JSON Schema OpenAPI 3.0 takes).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub one_of_values: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Schema>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, Schema>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
}

impl Schema {
    fn of(kind: &'static str) -> Self {
        Self { kind: Some(kind), ..Self::default() }
    }
    fn string() -> Self {
        Self::of("string")
    }
    /// A string of at least `min` characters.
    fn text(min: usize) -> Self {
        Self { min_length: Some(min), ..Self::string() }
    }
    /// A string of `min` to `max` characters, both enforced by the server.
    fn bounded(min: usize, max: usize) -> Self {
        Self { max_length: Some(max), ..Self::text(min) }
    }
    fn pattern(p: &'static str) -> Self {
        Self { pattern: Some(p), ..Self::string() }
    }
    fn values<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Self {
        Self { one_of_values: Some(values.into_iter().map(|v| v.as_ref().to_owned()).collect()), ..Self::string() }
    }
    fn integer(min: Option<i64>, max: Option<i64>) -> Self {
        Self {
            format: Some("int64"),
            minimum: min.map(|v| v as f64),
            maximum: max.map(|v| v as f64),
            ..Self::of("integer")
        }
    }
    fn number(min: f64, max: f64) -> Self {
        Self { format: Some("double"), minimum: Some(min), maximum: Some(max), ..Self::of("number") }
    }
    fn boolean() -> Self {
        Self::of("boolean")
    }
    fn array(item: Schema) -> Self {
        Self { items: Some(Box::new(item)), ..Self::of("array") }
    }
    fn object() -> Self {
        Self::of("object")
    }
    fn with(props: &[(&str, Schema)], required: &[&'static str]) -> Self {
        Self {
            properties: Some(props.iter().map(|(k, s)| ((*k).to_owned(), s.clone())).collect()),
            required: (!required.is_empty()).then(|| required.to_vec()),
            ..Self::object()
        }
    }
    fn reference(name: &str) -> Self {
        Self { reference: Some(format!("#/components/schemas/{name}")), ..Self::default() }
    }
    fn nullable(mut self) -> Self {
        self.nullable = Some(true);
        self
    }
    fn describe(mut self, d: &'static str) -> Self {
        self.description = Some(d);
        self
    }
}

/// A parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: &'static str,
    #[serde(rename = "in")]
    pub location: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub schema: Schema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
}

fn path(name: &'static str, description: &'static str, schema: Schema) -> Parameter {
    Parameter { name, location: "path", required: true, description, schema, style: None, explode: None }
}

fn query(name: &'static str, description: &'static str, schema: Schema) -> Parameter {
    Parameter { name, location: "query", required: false, description, schema, style: None, explode: None }
}

fn required_query(name: &'static str, description: &'static str, schema: Schema) -> Parameter {
    Parameter { required: true, ..query(name, description, schema) }
}

/// A media type and its schema.
#[derive(Debug, Clone, Serialize)]
pub struct MediaType {
    pub schema: Schema,
}

/// A request body.
#[derive(Debug, Clone, Serialize)]
pub struct RequestBody {
    pub description: &'static str,
    pub required: bool,
    pub content: BTreeMap<&'static str, MediaType>,
}

/// An answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub description: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub content: BTreeMap<&'static str, MediaType>,
}

/// An operation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub operation_id: &'static str,
    pub summary: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub tags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<RequestBody>,
    pub responses: BTreeMap<String, Answer>,
    pub security: Vec<BTreeMap<&'static str, Vec<&'static str>>>,
}

/// The operations of one path.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get: Option<Operation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<Operation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put: Option<Operation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<Operation>,
}

#[derive(Debug, Serialize)]
pub struct Info {
    pub title: &'static str,
    pub version: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SecurityScheme {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub scheme: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Components {
    pub security_schemes: BTreeMap<&'static str, SecurityScheme>,
    pub schemas: BTreeMap<&'static str, Schema>,
}

/// The document.
#[derive(Debug, Serialize)]
pub struct Document {
    pub openapi: &'static str,
    pub info: Info,
    pub paths: BTreeMap<&'static str, PathItem>,
    pub components: Components,
}

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const CSV: &str = "text/csv";
const HTML: &str = "text/html";
const PDF: &str = "application/pdf";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone (even under `--private-reads`).
    Public,
    /// Anyone, or a `viewer` under `--private-reads`.
    Read,
    /// A token with this role.
    Token(Role),
    /// The Open311 post: its `api_key` form field (or anonymous when the rules allow it).
    ApiKey,
}

/// What a route's table row says.
#[derive(Clone)]
struct Route {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    access: Access,
    params: Vec<Parameter>,
    body: Option<RequestBody>,
    /// Success status, media types and schema.
    ok: (u16, Vec<(&'static str, Schema)>),
    /// Error statuses besides those of access and the server.
    errors: &'static [u16],
    /// Whether its errors are GeoReport's list.
    open311: bool,
}

fn answer(description: &'static str, content: Vec<(&'static str, Schema)>) -> Answer {
    Answer { description, content: content.into_iter().map(|(m, s)| (m, MediaType { schema: s })).collect() }
}

fn describe_status(status: u16) -> &'static str {
    match status {
        200 => "the answer",
        201 => "created",
        204 => "done",
        304 => "not modified since the tag given in If-None-Match",
        400 => "a bad parameter or body",
        401 => "no valid token",
        403 => "the token's role is too low",
        404 => "not found",
        405 => "the route does not answer this method",
        408 => "the request took longer than the server allows",
        409 => "refused in the current state (a move of status, an import the guard refuses)",
        412 => "the feature changed since it was loaded (If-Match names another ETag)",
        413 => "the body is larger than the route takes",
        415 => "a body of another media type than the route takes",
        422 => "a file, a body or a text field that cannot be taken as it is (a NUL character; its report says why)",
        429 => "too many posts from this token or address: try again after Retry-After seconds",
        503 => {
            "the server is at one of its limits (connections, uploads, heavy work: try again after Retry-After), or \
                the store is missing, busy or read-only"
        }
        _ => "an internal error (the server's log has the details)",
    }
}

impl Route {
    fn operation(&self, private_reads: bool) -> Operation {
        let error_schema = if self.open311 { Schema::reference("GeoErrors") } else { Schema::reference("Error") };
        let mut responses = BTreeMap::new();
        let (code, content) = self.ok.clone();
        responses.insert(code.to_string(), answer(describe_status(code), content));
        let mut errors: Vec<u16> = self.errors.to_vec();
        // Any route may meet the connection cap when every connection is answering.
        errors.extend([408, 500, 503]);
        let needs_token = match self.access {
            Access::Token(_) => true,
            Access::Read => private_reads,
            Access::Public | Access::ApiKey => false,
        };
        if needs_token || self.access == Access::ApiKey {
            errors.extend([401, 403]);
        }
        // A snapshot answer asked again with its tag.
        if self.method == "get" && !matches!(self.access, Access::Public) {
            responses.insert("304".into(), answer(describe_status(304), Vec::new()));
        }
        errors.sort_unstable();
        errors.dedup();
        // An Open311 route asked in XML answers its errors in XML.
        let error_type = if self.path.ends_with(".xml") { (XML, Schema::string()) } else { (JSON, error_schema) };
        for e in errors {
            responses.insert(e.to_string(), answer(describe_status(e), vec![error_type.clone()]));
        }
        let bearer = || BTreeMap::from([("bearer", Vec::new())]);
        let (security, description) = match self.access {
            Access::Token(role) => (vec![bearer()], Some(format!("Needs a token with the {} role.", role.as_str()))),
            Access::Read if private_reads => {
                (vec![bearer()], Some("The server keeps its reads private: a token with the viewer role.".into()))
            }
            Access::ApiKey => (
                Vec::new(),
                Some(
                    "The reporter's token goes in the form's `api_key` field, as GeoReport v2 writes it (the \
                     territory's rules may take anonymous requests)."
                        .into(),
                ),
            ),
            Access::Read | Access::Public => (Vec::new(), None),
        };
        Operation {
            operation_id: self.id,
            summary: self.summary,
            description,
            tags: vec![self.tag],
            parameters: self.params.clone(),
            request_body: self.body.clone(),
            responses,
            security,
        }
    }
}

fn ok_json(schema: Schema) -> (u16, Vec<(&'static str, Schema)>) {
    (200, vec![(JSON, schema)])
}

fn body(description: &'static str, content: Vec<(&'static str, Schema)>) -> RequestBody {
    RequestBody {
        description,
        required: true,
        content: content.into_iter().map(|(m, s)| (m, MediaType { schema: s })).collect(),
    }
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| name(*x)).collect()
}

/// The territory's own enums, from the rules served.
struct Enums {
    kinds: Vec<String>,
    styles: Vec<String>,
    categories: Vec<String>,
}

const TILE_LAYERS: &str = "^(parcels|spaces|subsectors|qpv|conventions|sections|labels)(,(parcels|spaces|subsectors|qpv|conventions|sections|labels))*$";

/// The XML twin of the Open311 route `json` (GeoReport's required format): the same
/// parameters and body, answered as `text/xml` at `path`.
fn xml_twin(json: &Route, path: &'static str, id: &'static str) -> Route {
    let mut r = json.clone();
    r.path = path;
    r.id = id;
    r.ok = (json.ok.0, vec![(XML, Schema::string())]);
    r
}

/// GeoReport's XML media type.
const XML: &str = "text/xml";

/// Every route, the Open311 ones in JSON and in XML.
fn routes(e: &Enums) -> Vec<Route> {
    let mut all = json_routes(e);
    let twins = [
        ("/open311/v2/discovery.json", "/open311/v2/discovery.xml", "discovery_xml"),
        ("/open311/v2/services.json", "/open311/v2/services.xml", "services_xml"),
        ("/open311/v2/services/{service_code}.json", "/open311/v2/services/{service_code}.xml", "service_xml"),
        ("/open311/v2/requests.json", "/open311/v2/requests.xml", "requests_xml"),
        (
            "/open311/v2/requests/{service_request_id}.json",
            "/open311/v2/requests/{service_request_id}.xml",
            "request_xml",
        ),
        ("/open311/v2/tokens/{token}.json", "/open311/v2/tokens/{token}.xml", "token_xml"),
        ("/open311/v2/servicerequestupdates.json", "/open311/v2/servicerequestupdates.xml", "updates_xml"),
    ];
    let mut xml = Vec::new();
    for r in &all {
        if let Some((_, path, id)) = twins.iter().find(|(json, _, _)| *json == r.path) {
            let id = if r.method == "post" { "post_request_xml" } else { id };
            xml.push(xml_twin(r, path, id));
        }
    }
    all.extend(xml);
    all
}

#[allow(clippy::too_many_lines)]
fn json_routes(e: &Enums) -> Vec<Route> {
    let layer = || path("layer", "a layer of the store", Schema::values(names(&Layer::ALL, Layer::as_str)));
    let imported =
        || path("layer", "a layer files are imported into", Schema::values(names(&Layer::IMPORTED, Layer::as_str)));
    let collection =
        || path("collectionId", "a collection", Schema::values(domania_app::features::COLLECTIONS.iter().map(|c| c.0)));
    let crs = |name: &'static str, what: &'static str| {
        query(name, what, Schema::values([domania_app::features::CRS84, domania_app::features::EPSG_2154]))
    };
    let f = |values: &[&str]| query("f", "the format of the answer", Schema::values(values));
    let if_match = || Parameter {
        name: "If-Match",
        location: "header",
        required: false,
        description: "the ETag of the feature as loaded: the edit is refused (412) if it changed since",
        schema: Schema::string(),
        style: None,
        explode: None,
    };
    let limit = |default_max: i64| {
        query(
            "limit",
            "the most items of the page (a larger limit is served as the largest page)",
            Schema::integer(Some(1), Some(default_max)),
        )
    };
    let offset = || query("offset", "items to skip (the next link gives it)", Schema::integer(Some(0), None));
    let bbox = || Parameter {
        style: Some("form"),
        explode: Some(false),
        ..query(
            "bbox",
            "minx,miny,maxx,maxy",
            Schema { min_items: Some(4), max_items: Some(4), ..Schema::array(Schema::number(-1e7, 1e8)) },
        )
    };
    let string_id = |name: &'static str, what: &'static str| path(name, what, Schema::text(1));
    let store_errors: &[u16] = &[400, 404];
    vec![
        Route {
            method: "get",
            path: "/",
            id: "landing",
            tag: "OGC API Features",
            summary: "Landing page (JSON), or the map viewer for a browser (Accept: text/html or f=html)",
            access: Access::Public,
            params: vec![f(&["json", "html"])],
            body: None,
            ok: (200, vec![(JSON, Schema::reference("Landing")), (HTML, Schema::string())]),
            errors: &[400, 503],
            open311: false,
        },
        Route {
            method: "get",
            path: "/conformance",
            id: "conformance",
            tag: "OGC API Features",
            summary: "The conformance classes",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::with(&[("conformsTo", Schema::array(Schema::string()))], &["conformsTo"])),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/api",
            id: "api",
            tag: "Service",
            summary: "This document",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: (200, vec![("application/vnd.oai.openapi+json;version=3.0", Schema::object())]),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/openapi.json",
            id: "openapi",
            tag: "Service",
            summary: "This document",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: (200, vec![("application/vnd.oai.openapi+json;version=3.0", Schema::object())]),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/healthz",
            id: "healthz",
            tag: "Service",
            summary: "Liveness",
            access: Access::Public,
            params: vec![],
            body: None,
            ok: (200, vec![("text/plain", Schema::string())]),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/collections",
            id: "collections",
            tag: "OGC API Features",
            summary: "The collections (parcels, qpv, subsectors, conventions, spaces) with their extents",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::reference("Collections")),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/collections/{collectionId}",
            id: "collection",
            tag: "OGC API Features",
            summary: "One collection",
            access: Access::Read,
            params: vec![collection()],
            body: None,
            ok: ok_json(Schema::reference("Collection")),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/collections/{collectionId}/items",
            id: "items",
            tag: "OGC API Features",
            summary: "A page of the features of a collection; other parameters filter its properties by equality",
            access: Access::Read,
            params: vec![
                collection(),
                bbox(),
                crs("bbox-crs", "the CRS of bbox"),
                crs("crs", "the CRS of the answer"),
                limit(domania_app::point::MAX_LIMIT as i64),
                offset(),
                f(&["json"]),
            ],
            body: None,
            ok: (200, vec![(GEOJSON, Schema::reference("FeatureCollection"))]),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/collections/{collectionId}/items/{featureId}",
            id: "item",
            tag: "OGC API Features",
            summary: "One feature",
            access: Access::Read,
            params: vec![
                collection(),
                string_id("featureId", "the feature's id (an IDU, a zone's key, SUBSECTOR:SPACE)"),
                crs("crs", "the CRS of the answer"),
            ],
            body: None,
            ok: (200, vec![(GEOJSON, Schema::reference("Feature"))]),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "post",
            path: "/collections/{collectionId}/items",
            id: "createItem",
            tag: "OGC API Features",
            summary: "Part 4: add a feature to subsectors, conventions or qpv (a new version of the layer; the cadastre and owners are imported, not edited: 405)",
            access: Access::Token(Role::Editor),
            params: vec![collection()],
            body: Some(body("the feature, GeoJSON in CRS84, its key in id", vec![(GEOJSON, Schema::reference("Feature"))])),
            ok: (201, vec![]),
            errors: &[400, 404, 405, 409, 413, 415, 422],
            open311: false,
        },
        Route {
            method: "put",
            path: "/collections/{collectionId}/items/{featureId}",
            id: "replaceItem",
            tag: "OGC API Features",
            summary: "Part 4: replace a feature (a new version of the layer); with If-Match, only if it is still the one loaded",
            access: Access::Token(Role::Editor),
            params: vec![collection(), string_id("featureId", "the feature's key"), if_match()],
            body: Some(body("the feature, GeoJSON in CRS84", vec![(GEOJSON, Schema::reference("Feature"))])),
            ok: (204, vec![]),
            errors: &[400, 404, 405, 409, 412, 413, 415, 422],
            open311: false,
        },
        Route {
            method: "patch",
            path: "/collections/{collectionId}/items/{featureId}",
            id: "updateItem",
            tag: "OGC API Features",
            summary: "Part 4: update a feature by a JSON merge patch of its properties and geometry (a new version of the layer)",
            access: Access::Token(Role::Editor),
            params: vec![collection(), string_id("featureId", "the feature's key"), if_match()],
            body: Some(body(
                "a JSON merge patch (RFC 7396) of the feature: properties, geometry (CRS84)",
                vec![("application/merge-patch+json", Schema::object())],
            )),
            ok: (204, vec![]),
            errors: &[400, 404, 405, 409, 412, 413, 415, 422],
            open311: false,
        },
        Route {
            method: "delete",
            path: "/collections/{collectionId}/items/{featureId}",
            id: "deleteItem",
            tag: "OGC API Features",
            summary: "Part 4: remove a feature (a new version of the layer; the removal guard applies)",
            access: Access::Token(Role::Editor),
            params: vec![collection(), string_id("featureId", "the feature's key"), if_match()],
            body: None,
            ok: (204, vec![]),
            errors: &[404, 405, 409, 412],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/version",
            id: "version",
            tag: "Territory",
            summary: "The snapshot served and the store version of each layer",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::reference("Version")),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/who",
            id: "who",
            tag: "Territory",
            summary: "Who is responsible at a point: space, owners, sub-sector and decision, QPV, manager per intervention kind",
            access: Access::Read,
            params: vec![
                query("lon", "WGS84 longitude (with lat)", Schema::number(-180.0, 180.0)),
                query("lat", "WGS84 latitude (with lon)", Schema::number(-90.0, 90.0)),
                query("x", "Lambert-93 x (with y)", Schema::number(-1e7, 1e8)),
                query("y", "Lambert-93 y (with x)", Schema::number(-1e7, 1e8)),
                query("kind", "keep one intervention kind", Schema::values(&e.kinds)),
            ],
            body: None,
            ok: ok_json(Schema::reference("Who")),
            errors: &[400],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/parcels",
            id: "parcels",
            tag: "Territory",
            summary: "Parcel search (JSON, or CSV with f=csv or Accept: text/csv)",
            access: Access::Read,
            params: vec![
                query("owner", "part of an owner's name, ignoring case and accents", Schema::text(0)),
                query("siren", "an owner's SIREN", Schema::text(0)),
                query(
                    "actor",
                    "the actor the parcel's land counts under",
                    Schema::values(names(&Actor::ALL, Actor::as_str)),
                ),
                query("section", "AB, or commune and section (75118AB)", Schema::text(0)),
                bbox(),
                limit(domania_app::point::MAX_LIMIT as i64),
                offset(),
                f(&["json", "csv"]),
            ],
            body: None,
            ok: (200, vec![(JSON, Schema::reference("ParcelPage")), (CSV, Schema::string())]),
            errors: &[400],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/parcels/{idu}",
            id: "parcel",
            tag: "Territory",
            summary: "One parcel (the IDU may be written loosely)",
            access: Access::Read,
            params: vec![string_id("idu", "the parcel's IDU")],
            body: None,
            ok: ok_json(Schema::reference("Parcel")),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/subsectors/{id}",
            id: "subsector",
            tag: "Territory",
            summary: "A sub-sector: shares, decision, spaces and their managers (f=csv: a line per space and kind)",
            access: Access::Read,
            params: vec![string_id("id", "the sub-sector's key"), f(&["json", "csv"])],
            body: None,
            ok: (200, vec![(JSON, Schema::reference("Subsector")), (CSV, Schema::string())]),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/qpv/{code}/report",
            id: "qpv_report",
            tag: "Territory",
            summary: "A QPV: land by actor and owner, bailleurs' holdings (f=csv: a line per owner; f=geojson: its perimeter with its land by actor)",
            access: Access::Read,
            params: vec![string_id("code", "the QPV's code"), f(&["json", "csv", "geojson"])],
            body: None,
            ok: (
                200,
                vec![
                    (JSON, Schema::reference("QpvReport")),
                    (CSV, Schema::string()),
                    (GEOJSON, Schema::reference("FeatureCollection")),
                ],
            ),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/owners/{siren}",
            id: "owner",
            tag: "Territory",
            summary: "An owner's land, in all and per QPV",
            access: Access::Read,
            params: vec![string_id("siren", "the owner's SIREN (or DGFiP pseudo-identifier)")],
            body: None,
            ok: ok_json(Schema::reference("OwnerLand")),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/scenarios",
            id: "scenario",
            tag: "Territory",
            summary: "Simulate land transfers on the snapshot served: shares, decisions and managers before and after",
            access: Access::Read,
            params: vec![],
            body: Some(body(
                "a scenario: its name and transfers (a parcel, or a Lambert-93 ring, to a new owner)",
                vec![(JSON, Schema::reference("Scenario"))],
            )),
            ok: ok_json(Schema::reference("ScenarioOutcome")),
            errors: &[400, 413],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/territory",
            id: "territory",
            tag: "Viewer",
            summary: "What the map viewer needs to start",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::reference("Territory")),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/search",
            id: "search",
            tag: "Viewer",
            summary: "The search box: a commune (name, code, postcode), a section, an IDU or its end, an address or a street (BAN, or the owner file's), a SIREN or owner name, a QPV, a sub-sector",
            access: Access::Read,
            params: vec![
                required_query("q", "what to look for", Schema::text(0)),
                query("limit", "the most hits (brought into 1 to 50)", Schema::integer(Some(0), None)),
            ],
            body: None,
            ok: ok_json(Schema::reference("Search")),
            errors: &[400],
            open311: false,
        },
        Route {
            method: "get",
            path: "/subsectors/{id}/cahier",
            id: "cahier",
            tag: "Documents",
            summary: "The cahier des charges localisé of a sub-sector, to print",
            access: Access::Read,
            params: vec![string_id("id", "the sub-sector's key")],
            body: None,
            ok: (200, vec![(HTML, Schema::string())]),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/subsectors/{id}/cahier.pdf",
            id: "cahierPdf",
            tag: "Documents",
            summary: "The cahier des charges localisé of a sub-sector as a PDF to sign (A4, versions of its data, map, shares, decision, signature blocks); the same versions give the same bytes",
            access: Access::Read,
            params: vec![string_id("id", "the sub-sector's key")],
            body: None,
            ok: (200, vec![(PDF, Schema { format: Some("binary"), ..Schema::string() })]),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/annuaire.pdf",
            id: "annuairePdf",
            tag: "Documents",
            summary: "The services and their referents as a PDF, one table per service",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: (200, vec![(PDF, Schema { format: Some("binary"), ..Schema::string() })]),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/annuaire",
            id: "annuaire",
            tag: "Documents",
            summary: "The services and their referents, to print",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: (200, vec![(HTML, Schema::string())]),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/viewer/{file}",
            id: "viewer_file",
            tag: "Viewer",
            summary: "A file of the viewer page",
            access: Access::Public,
            params: vec![path(
                "file",
                "the file",
                Schema::values([
                    "app.js",
                    "app.css",
                    "maplibre-gl.mjs",
                    "maplibre-gl-worker.mjs",
                    "maplibre-gl.css",
                    "pmtiles.js",
                ]),
            )],
            body: None,
            ok: (200, vec![("text/javascript", Schema::string()), ("text/css", Schema::string())]),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/viewer/fonts/{stack}/{range}",
            id: "glyphs",
            tag: "Viewer",
            summary: "The glyphs of the map's labels (MapLibre's signed-distance-field protobuf), made by this server from its own font",
            access: Access::Public,
            params: vec![
                path("stack", "a font stack (Open Sans Regular, Open Sans Semibold)", Schema::text(1)),
                path("range", "256 code points: START-END.pbf", Schema::pattern("^[0-9]+-[0-9]+\\.pbf$")),
            ],
            body: None,
            ok: (200, vec![("application/x-protobuf", Schema { format: Some("binary"), ..Schema::string() })]),
            errors: &[404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/tiles/{layers}.json",
            id: "tilejson",
            tag: "Tiles",
            summary: "TileJSON 3.0 of one layer or several (comma separated)",
            access: Access::Read,
            params: vec![path("layers", "tile layers, comma separated", Schema::pattern(TILE_LAYERS))],
            body: None,
            ok: ok_json(Schema::reference("TileJson")),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/tiles/{layers}/{z}/{x}/{y}.mvt",
            id: "tile",
            tag: "Tiles",
            summary: "A Mapbox Vector Tile of one layer or several",
            access: Access::Read,
            params: vec![
                path("layers", "tile layers, comma separated", Schema::pattern(TILE_LAYERS)),
                path("z", "zoom", Schema::integer(Some(0), Some(22))),
                path("x", "column, below 2^z", Schema::integer(Some(0), Some(4_194_303))),
                path("y", "row, below 2^z", Schema::integer(Some(0), Some(4_194_303))),
                query(
                    "v",
                    "the snapshot tag the TileJSON gave (a tile asked with the current one is immutable)",
                    Schema::text(0),
                ),
            ],
            body: None,
            ok: (
                200,
                vec![("application/vnd.mapbox-vector-tile", Schema { format: Some("binary"), ..Schema::string() })],
            ),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/styles",
            id: "styles",
            tag: "Tiles",
            summary: "The territory's MapLibre styles",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::array(Schema::with(
                &[("name", Schema::string()), ("url", Schema::string())],
                &["name", "url"],
            ))),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/styles/{style}.json",
            id: "style",
            tag: "Tiles",
            summary: "A MapLibre style, its legend in metadata[\"domania:legend\"]",
            access: Access::Read,
            params: vec![path("style", "the style", Schema::values(&e.styles))],
            body: None,
            ok: ok_json(Schema::with(
                &[
                    ("version", Schema::integer(None, None)),
                    ("layers", Schema::array(Schema::object())),
                    ("sources", Schema::object()),
                ],
                &["version", "layers", "sources"],
            )),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/layers",
            id: "layers",
            tag: "Store",
            summary: "The layers, their current version and size",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("LayerSummary"))),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/layers/{layer}/history",
            id: "history",
            tag: "Store",
            summary: "Every version of a layer",
            access: Access::Read,
            params: vec![layer()],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("Version_"))),
            errors: store_errors,
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/layers/{layer}/diff",
            id: "diff",
            tag: "Store",
            summary: "What changed between two versions of a layer",
            access: Access::Read,
            params: vec![
                layer(),
                required_query("from", "a version", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2))),
                required_query("to", "a version", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2))),
            ],
            body: None,
            ok: ok_json(Schema::reference("Diff")),
            errors: store_errors,
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/layers/{layer}",
            id: "upload",
            tag: "Store",
            summary: "A new version of a layer from a file: GeoJSON, a PPM CSV or a zipped Shapefile",
            access: Access::Token(Role::Editor),
            params: vec![
                imported(),
                query("scope", "what the file replaces (commune, departement=75, layer…)", Schema::text(0)),
                query("force", "accept an import the removal guard refuses", Schema::boolean()),
                query("skip_invalid", "import the valid features when some are rejected", Schema::boolean()),
                query("crs", "the source CRS, overriding the file's (EPSG:3949…)", Schema::text(0)),
            ],
            body: Some(body(
                "the file",
                vec![
                    (GEOJSON, Schema::object()),
                    (JSON, Schema::object()),
                    (CSV, Schema::string()),
                    ("application/zip", Schema { format: Some("binary"), ..Schema::string() }),
                    ("application/octet-stream", Schema { format: Some("binary"), ..Schema::string() }),
                ],
            )),
            ok: ok_json(Schema::reference("Updated")),
            errors: &[400, 404, 409, 413, 422],
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/layers/{layer}/rollback",
            id: "rollback",
            tag: "Store",
            summary: "Make an earlier version current again (written as a new version)",
            access: Access::Token(Role::Editor),
            params: vec![layer()],
            body: Some(body(
                "the version, and the parts to roll back (default: the whole layer)",
                vec![(
                    JSON,
                    Schema::with(
                        &[("version", Schema::integer(Some(1), None)), ("scope", Schema::string().nullable())],
                        &["version"],
                    ),
                )],
            )),
            ok: ok_json(Schema::reference("RolledBack")),
            errors: &[400, 404, 409, 413, 422],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/rules",
            id: "rules",
            tag: "Administration",
            summary: "The management rules in force",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::reference("Rules")),
            errors: &[],
            open311: false,
        },
        Route {
            method: "put",
            path: "/v1/rules",
            id: "put_rules",
            tag: "Administration",
            summary: "Replace the management rules (TOML): saved as a new version, the snapshot rebuilt",
            access: Access::Token(Role::Admin),
            params: vec![],
            body: Some(body(
                "the rules, TOML",
                vec![("text/plain", Schema::string()), ("application/toml", Schema::string())],
            )),
            ok: ok_json(Schema::reference("Rules")),
            errors: &[400, 413],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/tokens",
            id: "tokens",
            tag: "Administration",
            summary: "Every token (never their secrets)",
            access: Access::Token(Role::Admin),
            params: vec![],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("Token"))),
            errors: &[],
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/tokens",
            id: "create_token",
            tag: "Administration",
            summary: "Create a token; its secret is given once",
            access: Access::Token(Role::Admin),
            params: vec![],
            body: Some(body(
                "its name and role",
                vec![(
                    JSON,
                    Schema::with(
                        &[
                            ("name", Schema::text(1)),
                            ("role", Schema::values(["viewer", "reporter", "editor", "admin"])),
                            (
                                "bound",
                                Schema::pattern("^(service:[^:@]+|actor:[a-z_]+)$")
                                    .describe("bind the token to a service (service:ID) or an actor (actor:ACTOR): it reads and moves only the reports routed there"),
                            ),
                        ],
                        &["name", "role"],
                    ),
                )],
            )),
            ok: (
                201,
                vec![(
                    JSON,
                    Schema::with(
                        &[("name", Schema::string()), ("role", Schema::string()), ("secret", Schema::string())],
                        &["name", "role", "secret"],
                    ),
                )],
            ),
            errors: &[400, 409, 413, 422],
            open311: false,
        },
        Route {
            method: "delete",
            path: "/v1/tokens/{name}",
            id: "revoke_token",
            tag: "Administration",
            summary: "Revoke a token: it stops working at once",
            access: Access::Token(Role::Admin),
            params: vec![string_id("name", "the token's name")],
            body: None,
            ok: (204, vec![]),
            errors: &[400, 404, 422],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/reports/service-levels.pdf",
            id: "service_levels_pdf",
            tag: "Service requests",
            summary: "The service levels as a document to present (PDF): the delays expected per intervention kind, then those seen per service and month, as a table and a chart",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: (200, vec![(PDF, Schema { format: Some("binary"), ..Schema::string() })]),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/reports/service-levels",
            id: "service_levels",
            tag: "Service requests",
            summary: "Delays against the expected levels per QPV, commune, service and month",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::array(Schema::object())),
            errors: &[],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/reports.geojson",
            id: "reports_map",
            tag: "Service requests",
            summary: "The requests as GeoJSON points for a map (newest first, at most 1000)",
            access: Access::Read,
            params: vec![
                query("status", "open, closed, or detailed statuses, comma separated", Schema::text(0)),
                query("service_code", "categories, comma separated", Schema::text(0)),
            ],
            body: None,
            ok: (
                200,
                vec![(
                    "application/geo+json",
                    Schema::with(
                        &[
                            ("type", Schema::values(["FeatureCollection"])),
                            ("features", Schema::array(Schema::object())),
                        ],
                        &["type", "features"],
                    ),
                )],
            ),
            errors: &[400, 422],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/reports/{id}/photo",
            id: "report_photo",
            tag: "Service requests",
            summary: "The photo sent with a request (its metadata taken out but its orientation); a token bound to a service sees its own requests'",
            access: Access::Read,
            params: vec![path("id", "the request's id", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)))],
            body: None,
            ok: (
                200,
                ["image/jpeg", "image/png", "image/webp"]
                    .into_iter()
                    .map(|m| (m, Schema { format: Some("binary"), ..Schema::string() }))
                    .collect(),
            ),
            errors: &[400, 403, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/v1/reports/{id}/photo/thumbnail",
            id: "report_photo_thumbnail",
            tag: "Service requests",
            summary: "The thumbnail of a request's photo: a JPEG at most 320 pixels on its longest side, upright (a HEIC photo has none: 404)",
            access: Access::Read,
            params: vec![path("id", "the request's id", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)))],
            body: None,
            ok: (200, vec![("image/jpeg", Schema { format: Some("binary"), ..Schema::string() })]),
            errors: &[400, 403, 404],
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/reports/{id}/status",
            id: "change_status",
            tag: "Service requests",
            summary: "Move a request to another status (forwards; rejected and transferred need a note)",
            access: Access::Token(Role::Editor),
            params: vec![path("id", "the request's id", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)))],
            body: Some(body(
                "the status and a note",
                vec![(
                    JSON,
                    Schema::with(
                        &[
                            ("status", Schema::values(names(&Status::ALL, Status::as_str))),
                            ("note", Schema::text(0).nullable()),
                        ],
                        &["status"],
                    ),
                )],
            )),
            ok: ok_json(Schema::array(Schema::reference("ServiceRequest"))),
            errors: &[400, 404, 409, 413, 422],
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/reports/{id}/alert",
            id: "alert",
            tag: "Service requests",
            summary: "The DVQ's droit d'alerte: an open request made urgent, with why; its service and the commune's referents are emailed at once",
            access: Access::Token(Role::Admin),
            params: vec![path("id", "the request's id", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)))],
            body: Some(body("why", vec![(JSON, Schema::with(&[("note", Schema::text(1))], &["note"]))])),
            ok: ok_json(Schema::array(Schema::reference("ServiceRequest"))),
            errors: &[400, 404, 409, 413, 422],
            open311: false,
        },
        Route {
            method: "post",
            path: "/v1/reports/{id}/reroute",
            id: "reroute",
            tag: "Service requests",
            summary: "Route a request again on the current layers and rules (logged)",
            access: Access::Token(Role::Editor),
            params: vec![path("id", "the request's id", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)))],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("ServiceRequest"))),
            errors: &[400, 404],
            open311: false,
        },
        Route {
            method: "get",
            path: "/open311/v2/discovery.json",
            id: "discovery",
            tag: "Open311 GeoReport v2",
            summary: "The discovery document",
            access: Access::Read,
            params: vec![],
            body: None,
            ok: ok_json(Schema::with(&[("endpoints", Schema::array(Schema::object()))], &["endpoints"])),
            errors: &[],
            open311: true,
        },
        Route {
            method: "get",
            path: "/open311/v2/services.json",
            id: "services",
            tag: "Open311 GeoReport v2",
            summary: "The categories; at a point, each with the service it would go to there",
            access: Access::Read,
            params: vec![
                query("lat", "WGS84 latitude (with long)", Schema::number(-90.0, 90.0)),
                query("long", "WGS84 longitude (with lat)", Schema::number(-180.0, 180.0)),
                query("jurisdiction_id", "accepted, unused: one jurisdiction", Schema::text(0)),
            ],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("Open311Service"))),
            errors: &[400],
            open311: true,
        },
        Route {
            method: "get",
            path: "/open311/v2/services/{service_code}.json",
            id: "service",
            tag: "Open311 GeoReport v2",
            summary: "The attributes a request of a category takes",
            access: Access::Read,
            params: vec![path("service_code", "the category", Schema::values(&e.categories))],
            body: None,
            ok: ok_json(Schema::with(
                &[("service_code", Schema::string()), ("attributes", Schema::array(Schema::object()))],
                &["service_code", "attributes"],
            )),
            errors: &[400, 404],
            open311: true,
        },
        Route {
            method: "get",
            path: "/open311/v2/requests.json",
            id: "requests",
            tag: "Open311 GeoReport v2",
            summary: "Requests, newest first (at most 1000 without ids)",
            access: Access::Read,
            params: vec![
                query("service_request_id", "ids, comma separated (at most 500)", Schema::text(0)),
                query("service_code", "categories, comma separated", Schema::text(0)),
                query("status", "open, closed, or detailed statuses, comma separated", Schema::text(0)),
                query("start_date", "ISO 8601 time or date", Schema::text(0)),
                query("end_date", "ISO 8601 time or date", Schema::text(0)),
                query("jurisdiction_id", "accepted, unused: one jurisdiction", Schema::text(0)),
            ],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("ServiceRequest"))),
            errors: &[400, 422],
            open311: true,
        },
        Route {
            method: "post",
            path: "/open311/v2/requests.json",
            id: "post_request",
            tag: "Open311 GeoReport v2",
            summary: "Post a request: routed to the manager of the space at its point, duplicates linked",
            access: Access::ApiKey,
            params: vec![],
            body: Some(body(
                "the request, form-encoded (attributes as attribute[code]=value), or multipart with a photo in its media part (JPEG, PNG, WebP or HEIC, its type read from its bytes; stored without its metadata but its orientation, seen at its media_url)",
                vec![
                    ("application/x-www-form-urlencoded", post_form(e, false)),
                    ("multipart/form-data", post_form(e, true)),
                ],
            )),
            ok: (201, vec![(JSON, Schema::array(Schema::reference("Posted")))]),
            errors: &[400, 404, 413, 415, 422, 429],
            open311: true,
        },
        Route {
            method: "get",
            path: "/open311/v2/requests/{service_request_id}.json",
            id: "request",
            tag: "Open311 GeoReport v2",
            summary: "One request and each of its steps (events)",
            access: Access::Read,
            params: vec![path(
                "service_request_id",
                "the request's id",
                Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)),
            )],
            body: None,
            ok: ok_json(Schema::array(Schema::reference("ServiceRequest"))),
            errors: &[400, 404],
            open311: true,
        },
        Route {
            method: "get",
            path: "/open311/v2/servicerequestupdates.json",
            id: "updates",
            tag: "Open311 GeoReport v2",
            summary: "The steps of the requests between two dates, as FixMyStreet's Open311 client reads them (mySociety's extension): its statuses (OPEN, INVESTIGATING, ACTION_SCHEDULED, IN_PROGRESS, FIXED, NO_FURTHER_ACTION, NOT_COUNCILS_RESPONSIBILITY, DUPLICATE), each step's note",
            access: Access::Read,
            params: vec![
                query("start_date", "ISO 8601 (default: 24 hours before end_date)", Schema::text(0)),
                query("end_date", "ISO 8601 (default: now)", Schema::text(0)),
                query("jurisdiction_id", "accepted, one jurisdiction", Schema::text(0)),
                query("api_key", "accepted (FixMyStreet sends it); reads take a token as other reads do", Schema::text(0)),
            ],
            body: None,
            ok: ok_json(Schema::array(Schema::with(
                &[
                    ("update_id", Schema::string()),
                    ("service_request_id", Schema::string()),
                    ("status", Schema::string()),
                    ("description", Schema::string()),
                    ("updated_datetime", Schema::string()),
                ],
                &["update_id", "service_request_id", "status", "updated_datetime"],
            ))),
            errors: &[400],
            open311: true,
        },
        Route {
            method: "get",
            path: "/open311/v2/tokens/{token}.json",
            id: "token",
            tag: "Open311 GeoReport v2",
            summary: "The request a token stands for (a posted request's token is its id)",
            access: Access::Read,
            params: vec![path("token", "the token", Schema::integer(Some(i64::MIN / 2), Some(i64::MAX / 2)))],
            body: None,
            ok: ok_json(Schema::array(Schema::with(
                &[("service_request_id", Schema::string()), ("token", Schema::string())],
                &["service_request_id", "token"],
            ))),
            errors: &[400, 404],
            open311: true,
        },
    ]
}

/// The fields of a posted request; with a `media` part (a photo) when multipart.
fn post_form(e: &Enums, multipart: bool) -> Schema {
    let mut fields = vec![
        ("api_key", Schema::text(0)),
        ("service_code", Schema::values(&e.categories)),
        ("lat", Schema::number(-90.0, 90.0)),
        ("long", Schema::number(-180.0, 180.0)),
        ("description", Schema::bounded(0, domania_app::requests::MAX_DESCRIPTION)),
        ("media_url", Schema::text(0)),
        ("jurisdiction_id", Schema::text(0)),
        ("email", Schema::text(0).describe("the reporter's, told of each step")),
        ("first_name", Schema::text(0)),
        ("last_name", Schema::text(0)),
        ("phone", Schema::text(0)),
        (
            "address_string",
            Schema::text(0).describe(
                "without lat and long: placed at the address the search finds (with its number), else refused",
            ),
        ),
    ];
    if multipart {
        fields.push(("media", Schema { format: Some("binary"), ..Schema::string() }.describe("the photo")));
    }
    Schema::with(&fields, &["service_code", "lat", "long"])
}

/// The schemas of the answers: their required fields and types; fields may be added.
#[allow(clippy::too_many_lines)]
fn schemas() -> BTreeMap<&'static str, Schema> {
    let s = Schema::string;
    let n = || Schema::of("number");
    let i = || Schema::integer(None, None);
    let obj = Schema::object;
    let arr = Schema::array;
    let link = Schema::with(&[("href", s()), ("rel", s()), ("type", s()), ("title", s())], &["href", "rel"]);
    let geometry = Schema::with(
        &[("type", Schema::values(["MultiPolygon"])), ("coordinates", arr(arr(arr(arr(n())))))],
        &["type", "coordinates"],
    );
    BTreeMap::from([
        (
            "Error",
            Schema::with(
                &[
                    ("code", Schema::values(ErrorCode::ALL.iter().map(|c| c.as_str()))),
                    ("message", s()),
                    ("details", obj().describe("the validation report of a refused file")),
                ],
                &["code", "message"],
            ),
        ),
        ("GeoErrors", arr(Schema::with(&[("code", i()), ("description", s())], &["code", "description"]))),
        ("Landing", Schema::with(&[("title", s()), ("links", arr(link.clone()))], &["links"])),
        (
            "Collection",
            Schema::with(
                &[("id", s()), ("title", s()), ("links", arr(link.clone())), ("extent", obj()), ("crs", arr(s()))],
                &["id", "links"],
            ),
        ),
        (
            "Collections",
            Schema::with(
                &[("links", arr(link.clone())), ("collections", arr(Schema::reference("Collection")))],
                &["links", "collections"],
            ),
        ),
        (
            "Feature",
            Schema::with(
                &[("type", Schema::values(["Feature"])), ("id", s()), ("properties", obj()), ("geometry", geometry)],
                &["type", "properties", "geometry"],
            ),
        ),
        (
            "FeatureCollection",
            Schema::with(
                &[("type", Schema::values(["FeatureCollection"])), ("features", arr(Schema::reference("Feature")))],
                &["type", "features"],
            ),
        ),
        (
            "Version",
            Schema::with(
                &[
                    ("domania", s()),
                    ("snapshot", s()),
                    ("layers", obj()),
                    ("parcels", i()),
                    ("judged_on", s()),
                    ("rules", s()),
                    ("build_ms", n()),
                ],
                &["domania", "snapshot", "layers", "parcels"],
            ),
        ),
        (
            "Parcel",
            Schema::with(
                &[
                    ("idu", s()),
                    ("contenance_m2", i().nullable()),
                    ("area_m2", n()),
                    ("actor", s()),
                    ("owner_file", Schema::boolean()),
                    ("owners", arr(obj())),
                ],
                &["idu", "area_m2", "actor", "owners"],
            ),
        ),
        (
            "ParcelPage",
            Schema::with(
                &[("matched", i()), ("offset", i()), ("limit", i()), ("parcels", arr(Schema::reference("Parcel")))],
                &["matched", "offset", "limit", "parcels"],
            ),
        ),
        (
            "Who",
            Schema::with(
                &[
                    (
                        "point",
                        Schema::with(&[("lon", n()), ("lat", n()), ("x", n()), ("y", n())], &["lon", "lat", "x", "y"]),
                    ),
                    ("parcels", arr(Schema::reference("Parcel"))),
                    ("qpv", arr(obj())),
                    ("managers", arr(obj())),
                    ("overlapping_subsectors", arr(s())),
                    ("judged_on", s()),
                ],
                &["point", "parcels", "qpv", "managers", "judged_on"],
            ),
        ),
        (
            "Subsector",
            Schema::with(
                &[
                    ("id", s()),
                    ("area_m2", n()),
                    ("decision", Schema::values(["delegated", "domanialite", "undecided"])),
                    ("needs_convention", Schema::boolean()),
                    ("explanation", s()),
                    ("spaces", arr(obj())),
                    ("by_owner", arr(obj())),
                ],
                &["id", "decision", "spaces"],
            ),
        ),
        (
            "QpvReport",
            Schema::with(
                &[("qpv", s()), ("area_m2", n()), ("by_actor", obj()), ("owners", arr(obj()))],
                &["qpv", "owners"],
            ),
        ),
        (
            "OwnerLand",
            Schema::with(
                &[("siren", s()), ("names", arr(s())), ("parcels", arr(s())), ("area_m2", n()), ("by_qpv", arr(obj()))],
                &["siren", "parcels", "area_m2"],
            ),
        ),
        (
            "Scenario",
            Schema::with(
                &[
                    ("name", Schema::text(0)),
                    (
                        "transfers",
                        arr(Schema::with(
                            &[
                                ("idu", Schema::text(0).nullable()),
                                (
                                    "polygon",
                                    arr(Schema {
                                        min_items: Some(2),
                                        max_items: Some(2),
                                        ..arr(Schema::number(0.0, 1.3e7))
                                    })
                                    .nullable(),
                                ),
                                (
                                    "to",
                                    Schema::with(
                                        &[
                                            ("siren", Schema::text(0)),
                                            ("name", Schema::text(0)),
                                            ("actor", Schema::values(names(&Actor::ALL, Actor::as_str))),
                                        ],
                                        &["name", "actor"],
                                    ),
                                ),
                                ("note", Schema::text(0)),
                            ],
                            &["to"],
                        )),
                    ),
                ],
                &["transfers"],
            ),
        ),
        (
            "ScenarioOutcome",
            Schema::with(
                &[("scenario", s()), ("transfers_requested", arr(obj())), ("managers_changed", arr(obj()))],
                &["scenario", "transfers_requested"],
            ),
        ),
        (
            "Territory",
            Schema::with(
                &[
                    ("snapshot", s()),
                    ("bounds", arr(n())),
                    ("focus", arr(n())),
                    ("interventions", arr(obj())),
                    ("qpv", arr(obj())),
                    ("subsectors", arr(obj())),
                    ("owners_known", Schema::boolean()),
                    ("actors", arr(s())),
                    ("services", obj()),
                ],
                &["snapshot", "bounds", "interventions", "subsectors"],
            ),
        ),
        (
            "Search",
            Schema::with(
                &[
                    ("query", s()),
                    (
                        "hits",
                        arr(Schema::with(
                            &[
                                (
                                    "kind",
                                    Schema::values([
                                        "parcel",
                                        "owner",
                                        "qpv",
                                        "subsector",
                                        "commune",
                                        "section",
                                        "address",
                                        "street",
                                    ]),
                                ),
                                ("id", s()),
                                ("label", s()),
                                ("parcels", Schema::integer(Some(0), None)),
                                ("bbox", arr(n())),
                                ("point", arr(n())),
                                ("sirens", arr(s())),
                                ("source", Schema::values(["ban", "ppm"])),
                            ],
                            &["kind", "id", "label", "bbox"],
                        )),
                    ),
                ],
                &["query", "hits"],
            ),
        ),
        (
            "TileJson",
            Schema::with(
                &[
                    ("tilejson", s()),
                    ("tiles", arr(s())),
                    ("minzoom", i()),
                    ("maxzoom", i()),
                    ("bounds", arr(n())),
                    ("vector_layers", arr(obj())),
                ],
                &["tilejson", "tiles", "vector_layers"],
            ),
        ),
        (
            "LayerSummary",
            Schema::with(
                &[("layer", s()), ("version", i().nullable()), ("features", i()), ("history_rows", i())],
                &["layer", "features"],
            ),
        ),
        (
            "Version_",
            Schema::with(
                &[
                    ("layer", s()),
                    ("version", i()),
                    ("kind", s()),
                    ("author", s()),
                    ("created_at", s()),
                    ("features", i()),
                ],
                &["layer", "version"],
            ),
        ),
        (
            "Diff",
            Schema::with(
                &[
                    ("from", i()),
                    ("to", i()),
                    ("added", arr(s())),
                    ("removed", arr(s())),
                    ("reshaped", arr(s())),
                    ("attributes_changed", arr(s())),
                ],
                &["from", "to", "added", "removed"],
            ),
        ),
        (
            "Updated",
            Schema::with(
                &[("version", Schema::reference("Version_")), ("report", obj()), ("snapshot", s())],
                &["version", "report", "snapshot"],
            ),
        ),
        (
            "RolledBack",
            Schema::with(&[("version", Schema::reference("Version_")), ("snapshot", s())], &["version", "snapshot"]),
        ),
        ("Rules", Schema::with(&[("name", s()), ("toml", s()), ("snapshot", s())], &["name", "toml", "snapshot"])),
        (
            "Token",
            Schema::with(
                &[("name", s()), ("role", s()), ("created_at", s()), ("revoked_at", s().nullable())],
                &["name", "role"],
            ),
        ),
        (
            "Open311Service",
            Schema::with(
                &[
                    ("service_code", s()),
                    ("service_name", s()),
                    ("description", s()),
                    ("metadata", Schema::boolean()),
                    ("type", s()),
                    ("keywords", s()),
                    ("group", s()),
                ],
                &["service_code", "service_name", "metadata", "type"],
            ),
        ),
        (
            "ServiceRequest",
            Schema::with(
                &[
                    ("service_request_id", s()),
                    ("status", Schema::values(["open", "closed"])),
                    ("service_code", s()),
                    ("lat", n()),
                    ("long", n()),
                    ("requested_datetime", s()),
                    ("detailed_status", Schema::values(names(&Status::ALL, Status::as_str))),
                ],
                &["service_request_id", "status", "service_code"],
            ),
        ),
        ("Posted", Schema::with(&[("service_request_id", s()), ("service_notice", s())], &["service_request_id"])),
    ])
}

/// The document for a server on `held`'s rules, with or without private reads.
#[must_use]
pub fn document_of(held: &Held, private_reads: bool) -> Document {
    let cfg = held.rules.rules.config();
    let enums = Enums {
        kinds: cfg.interventions.iter().map(|i| i.id.clone()).collect(),
        styles: domania_app::styles::names(&held.rules.rules),
        categories: cfg.categories.iter().map(|c| c.code.clone()).collect(),
    };
    let mut paths: BTreeMap<&'static str, PathItem> = BTreeMap::new();
    for r in routes(&enums) {
        let op = Some(r.operation(private_reads));
        let item = paths.entry(r.path).or_default();
        match r.method {
            "get" => item.get = op,
            "post" => item.post = op,
            "put" => item.put = op,
            _ => item.delete = op,
        }
    }
    Document {
        openapi: "3.0.3",
        info: Info {
            title: "Domania",
            version: env!("CARGO_PKG_VERSION"),
            description: "Who owns and who must maintain every piece of ground of an urban community",
        },
        paths,
        components: Components {
            security_schemes: BTreeMap::from([(
                "bearer",
                SecurityScheme {
                    kind: "http",
                    scheme: "bearer",
                    description: "A token made by the territory's administrators (domania token create)",
                },
            )]),
            schemas: schemas(),
        },
    }
}

/// The routes of the document, as `(method, path)` with the router's own parameter names
/// (`{y}` for `{y}.mvt`): what a test compares with the router.
#[must_use]
pub fn documented(held: &Held) -> Vec<(&'static str, String)> {
    let doc = document_of(held, false);
    let mut out = Vec::new();
    for (p, item) in &doc.paths {
        for (m, op) in [("get", &item.get), ("post", &item.post), ("put", &item.put), ("delete", &item.delete)] {
            if op.is_some() {
                out.push((m, (*p).to_owned()));
            }
        }
    }
    out
}

pub async fn document(State(shared): State<Arc<Shared>>, _headers: HeaderMap) -> Response {
    let held = shared.current();
    let doc = document_of(&held, shared.private_reads);
    let mut r = axum::Json(doc).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.oai.openapi+json;version=3.0"));
    r
}
