//! GeoReport v2's XML: the same answers as its JSON, with the element names and nesting the
//! specification writes (`<services><service>…`, `<service_requests><request>…`,
//! `<service_definition><attributes><attribute><values><value>…`, `<errors><error>…`). One
//! writer for every answer: the JSON value of the answer, its lists named by the element of
//! their items, text escaped, a missing value an empty element (as the specification's examples
//! write `<account_id/>`). A request's elements come in the order of their names: GeoReport's
//! readers (FixMyStreet's `XML::Simple`, Python's `xmltodict`) read them by name.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, ErrorCode, Result};

/// The element of one item of a list named `list` (`services` → `service`).
fn item_of(list: &str) -> &str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "errors" => "error",
        "events" => "event",
        "service_requests_updates" => "request_update",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

/// `text` escaped as the documents escape it (the same five characters), the characters XML
/// 1.0 cannot hold (control characters other than tab and line breaks) left out.
fn escaped(text: &str, out: &mut String) {
    let xml_char =
        |c: &char| ((*c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if text.chars().all(|c| xml_char(&c)) {
        out.push_str(&crate::documents::esc(text));
    } else {
        out.push_str(&crate::documents::esc(&text.chars().filter(xml_char).collect::<String>()));
    }
}

fn element(name: &str, value: &Value, out: &mut String) {
    match value {
        Value::Null => {
            let _ = write!(out, "<{name}/>");
        }
        Value::Array(items) => {
            let _ = write!(out, "<{name}>");
            let item = item_of(name);
            for v in items {
                element(item, v, out);
            }
            let _ = write!(out, "</{name}>");
        }
        Value::Object(fields) => {
            let _ = write!(out, "<{name}>");
            for (k, v) in fields {
                element(k, v, out);
            }
            let _ = write!(out, "</{name}>");
        }
        Value::String(s) if s.is_empty() => {
            let _ = write!(out, "<{name}/>");
        }
        Value::String(s) => {
            let _ = write!(out, "<{name}>");
            escaped(s, out);
            let _ = write!(out, "</{name}>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<{name}>{b}</{name}>");
        }
        Value::Number(n) => {
            let _ = write!(out, "<{name}>{n}</{name}>");
        }
    }
}

/// `answer` as GeoReport's XML document under the element `root` (a list's items named after
/// it: `services` holds `service` elements).
///
/// # Errors
/// `internal` if the answer cannot be serialised.
pub fn to_xml<T: Serialize + ?Sized>(root: &str, answer: &T) -> Result<String> {
    let value = serde_json::to_value(answer).map_err(|e| AppError::new(ErrorCode::Internal, format!("XML: {e}")))?;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    element(root, &value, &mut out);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Request<'a> {
        service_request_id: &'a str,
        description: &'a str,
        account_id: Option<&'a str>,
        lat: f64,
        metadata: bool,
        values: Vec<(&'a str,)>,
    }

    #[test]
    fn lists_name_their_items_text_is_escaped_and_nothing_is_an_empty_element() {
        let r = [Request {
            service_request_id: "12",
            description: "Sacs <noirs> & \"matelas\"\u{0}",
            account_id: None,
            lat: 48.927,
            metadata: true,
            values: vec![],
        }];
        let xml = to_xml("service_requests", &r).unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><account_id/>\
             <description>Sacs &lt;noirs&gt; &amp; &quot;matelas&quot;</description><lat>48.927</lat>\
             <metadata>true</metadata><service_request_id>12</service_request_id><values></values></request>\
             </service_requests>\n"
        );
        assert_eq!(item_of("attributes"), "attribute");
        assert_eq!(item_of("errors"), "error");
    }
}
