//! The OpenAPI 3.0 document of every route, built from the table below (kept by hand beside
//! the router). A test checks that every documented public GET route answers 200; that every
//! route of the router is documented is checked by reading, not yet by a test.

use axum::Json;
use serde_json::{Value, json};

/// A documented route: method, path, summary, query parameters (name, description, required),
/// whether it needs a token and which role, and its answer's media type.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub params: &'static [(&'static str, &'static str, bool)],
    pub role: Option<&'static str>,
    pub answer: &'static str,
}

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const HTML: &str = "text/html";

/// Every route of the server.
pub const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/",
        summary: "Landing page (JSON), or the map viewer for a browser (Accept: text/html)",
        params: &[("f", "json or html", false)],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/conformance",
        summary: "OGC API conformance classes",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route { method: "get", path: "/api", summary: "This document", params: &[], role: None, answer: JSON },
    Route { method: "get", path: "/openapi.json", summary: "This document", params: &[], role: None, answer: JSON },
    Route { method: "get", path: "/healthz", summary: "Liveness", params: &[], role: None, answer: "text/plain" },
    Route {
        method: "get",
        path: "/collections",
        summary: "The collections (parcels, qpv, subsectors, conventions, spaces)",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/collections/{id}",
        summary: "One collection",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/collections/{id}/items",
        summary: "Features of a collection; other parameters filter properties by equality",
        params: &[
            ("bbox", "minx,miny,maxx,maxy in bbox-crs", false),
            ("bbox-crs", "CRS84 (default) or http://www.opengis.net/def/crs/EPSG/0/2154", false),
            ("crs", "output CRS: CRS84 (default) or EPSG:2154", false),
            ("limit", "1 to 10000 (default 100)", false),
            ("offset", "features to skip (the next link gives it)", false),
        ],
        role: None,
        answer: GEOJSON,
    },
    Route {
        method: "get",
        path: "/collections/{id}/items/{fid}",
        summary: "One feature",
        params: &[("crs", "output CRS", false)],
        role: None,
        answer: GEOJSON,
    },
    Route {
        method: "get",
        path: "/v1/version",
        summary: "The snapshot served and the store version of each layer",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/who",
        summary: "Who is responsible at a point: space, owners, sub-sector and decision, QPV, manager per intervention kind",
        params: &[
            ("lon", "WGS84 longitude (with lat)", false),
            ("lat", "WGS84 latitude", false),
            ("x", "Lambert-93 x (with y)", false),
            ("y", "Lambert-93 y", false),
            ("kind", "keep one intervention kind", false),
        ],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/parcels",
        summary: "Parcel search (JSON, or CSV with f=csv or Accept: text/csv)",
        params: &[
            ("owner", "part of an owner's name, ignoring case and accents", false),
            ("siren", "an owner's SIREN", false),
            ("actor", "the actor the parcel's land counts under", false),
            ("section", "AB, or commune and section (75118AB)", false),
            ("bbox", "minlon,minlat,maxlon,maxlat", false),
            ("limit", "1 to 10000 (default 100)", false),
            ("offset", "parcels to skip", false),
            ("f", "json or csv", false),
        ],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/parcels/{idu}",
        summary: "One parcel (the IDU may be written loosely)",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/subsectors/{id}",
        summary: "A sub-sector: shares, decision, spaces and their managers (f=csv: a row per space and kind)",
        params: &[("f", "json or csv", false)],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/qpv/{code}/report",
        summary: "A QPV: land by actor and owner, bailleurs' holdings (f=csv: a row per owner; f=geojson: its perimeter with its land by actor)",
        params: &[("f", "json, csv or geojson", false)],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/owners/{siren}",
        summary: "An owner's parcels and area per QPV",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "post",
        path: "/v1/scenarios",
        summary: "Simulate land transfers ({name, transfers}); nothing is stored",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/layers",
        summary: "The store's layers, current version and size",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/layers/{layer}/history",
        summary: "Every version of a layer",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/layers/{layer}/diff",
        summary: "What changed between two versions",
        params: &[("from", "version", true), ("to", "version", true)],
        role: None,
        answer: JSON,
    },
    Route {
        method: "post",
        path: "/v1/layers/{layer}",
        summary: "Upload a new version of a layer: GeoJSON, zipped Shapefile or PPM CSV as the body",
        params: &[
            ("scope", "what the file replaces (commune, departement=75, layer…)", false),
            ("force", "accept an import the safety checks refuse", false),
            ("skip_invalid", "import the valid features when some are rejected", false),
            ("crs", "source CRS overriding the file's", false),
        ],
        role: Some("editor"),
        answer: JSON,
    },
    Route {
        method: "post",
        path: "/v1/layers/{layer}/rollback",
        summary: "Make an earlier version current again ({version, scope})",
        params: &[],
        role: Some("editor"),
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/tiles/{layer}.json",
        summary: "TileJSON 3.0 of a tile layer (parcels, spaces, subsectors, qpv, conventions; several comma-separated)",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/tiles/{layers}/{z}/{x}/{y}.mvt",
        summary: "A vector tile (MVT) of one or several layers; gzip when accepted; immutable with the TileJSON's ?v=",
        params: &[("v", "the snapshot tag the TileJSON gives", false)],
        role: None,
        answer: "application/vnd.mapbox-vector-tile",
    },
    Route {
        method: "get",
        path: "/v1/territory",
        summary: "What the map viewer starts from: bounds, intervention kinds, QPV and their label points, sub-sectors and decisions",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/search",
        summary: "The search box: an IDU (or its end), a SIREN or part of an owner's name, a QPV or sub-sector code or name; hits with their box",
        params: &[("q", "what was typed", true), ("limit", "at most this many hits (10; up to 50)", false)],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/subsectors/{id}/cahier",
        summary: "The printable cahier des charges localisé of a sub-sector (HTML, A4)",
        params: &[],
        role: None,
        answer: HTML,
    },
    Route {
        method: "get",
        path: "/annuaire",
        summary: "The services and their referents by commune and intervention kind (HTML, A4)",
        params: &[],
        role: None,
        answer: HTML,
    },
    Route {
        method: "get",
        path: "/viewer/{file}",
        summary: "The viewer's files (app.js, app.css, maplibre-gl.mjs, maplibre-gl-worker.mjs, maplibre-gl.css)",
        params: &[],
        role: None,
        answer: "text/javascript",
    },
    Route {
        method: "get",
        path: "/styles",
        summary: "The MapLibre styles of the territory (managers per intervention kind, owners, decisions)",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/styles/{style}.json",
        summary: "A MapLibre style reading this server's tiles, its legend in metadata[\"domania:legend\"]",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/open311/v2/discovery.json",
        summary: "Open311 GeoReport v2 discovery",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/open311/v2/services.json",
        summary: "The categories of reports; at a point, each with the service it would go to there",
        params: &[("lat", "WGS84 latitude", false), ("long", "WGS84 longitude", false)],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/open311/v2/services/{service_code}.json",
        summary: "The attributes of a category (the urgency claim and its objective criteria)",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "post",
        path: "/open311/v2/requests.json",
        summary: "Report a dysfunction (form-encoded: api_key, service_code, lat, long, description, media_url, attribute[…])",
        params: &[],
        role: Some("reporter (as api_key)"),
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/open311/v2/requests.json",
        summary: "Requests, newest first",
        params: &[
            ("service_request_id", "ids, comma-separated", false),
            ("service_code", "categories, comma-separated", false),
            ("status", "open, closed, or a detailed status", false),
            ("start_date", "ISO 8601", false),
            ("end_date", "ISO 8601", false),
        ],
        role: None,
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/open311/v2/requests/{service_request_id}.json",
        summary: "One request, with each of its steps (events)",
        params: &[],
        role: None,
        answer: JSON,
    },
    Route {
        method: "post",
        path: "/v1/reports/{id}/status",
        summary: "Move a request to another status ({status, note}); forwards only, a reason to reject or transfer",
        params: &[],
        role: Some("editor"),
        answer: JSON,
    },
    Route {
        method: "post",
        path: "/v1/reports/{id}/reroute",
        summary: "Route a request again on the current layers and rules (logged)",
        params: &[],
        role: Some("editor"),
        answer: JSON,
    },
    Route {
        method: "get",
        path: "/v1/reports/service-levels",
        summary: "Delays against the expected levels per QPV, commune, service and month",
        params: &[],
        role: None,
        answer: JSON,
    },
];

/// The document.
#[must_use]
pub fn openapi() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(r.params.iter().map(|(name, description, required)| {
            json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}})
        }));
        let mut op = json!({
            "summary": r.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "the answer", "content": {r.answer: {}}},
                "400": {"description": "a bad parameter: {code, message, details}", "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "404": {"description": "not found", "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}},
            }
        });
        if let Some(role) = r.role {
            op["security"] = json!([{"bearer": []}]);
            op["description"] = json!(format!("Needs a token with the {role} role."));
            op["responses"]["401"] = json!({"description": "no valid token"});
            op["responses"]["403"] = json!({"description": "the token's role is too low"});
        }
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Domania", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Who owns and who must maintain every piece of ground of an urban community"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}
        }
    })
}

pub async fn document() -> ([(axum::http::HeaderName, &'static str); 1], Json<Value>) {
    ([(axum::http::header::CONTENT_TYPE, "application/vnd.oai.openapi+json;version=3.0")], Json(openapi()))
}
