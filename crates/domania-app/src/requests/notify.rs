//! Who is told of a request's steps, what they are told, and the delivery of it by email and
//! to webhooks.
//!
//! A new request is told to the service it is routed to (its address in the rules' directory)
//! and to that service's referent for the request's commune and kind (not when it is linked to
//! an open request as its duplicate), and acknowledged to its reporter; each later step is told to the reporter and to the commune's own referents (the
//! commune hears GPS&O's answer, "beyond the acknowledgement of receipt"); every step is POSTed
//! to the webhooks of the rules told of its commune (a commune's own software), as JSON signed
//! with HMAC-SHA256 (`X-Domania-Signature: t=…,v1=…` over `{t}.{body}`, the delivery's id in
//! `X-Domania-Delivery` for the receiver to drop a repeat). The messages are
//! queued in the reports database with the request or its step (at least once, never lost by a
//! restart) and sent by [`Desk::deliver_due`], which never holds the database while it talks to
//! the mail server. Mail is said in French (the territory's language).

use std::time::Duration;

use domania_i18n::{Arg, Lang, format};
use domania_rules::Rules;
use domania_store::outbox::MAX_ATTEMPTS;
use domania_store::{Contact, Delivery, Recipient, RequestRow};
use jiff::Timestamp;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport as _};
use serde::Serialize;

use super::{Desk, Status, stamp};
use crate::error::{AppError, ErrorCode, Result};
use crate::held::Held;

/// How long a claimed delivery is left alone before it may be claimed again (a deliverer that
/// stopped between sending and marking sends it again after this, never sooner).
const LEASE: Duration = Duration::from_mins(5);

/// The first wait before trying a failed delivery again; doubled at each try, up to an hour.
const FIRST_RETRY: Duration = Duration::from_secs(30);

fn recipient(role: &str, address: &str) -> Recipient {
    Recipient { role: role.to_owned(), address: address.trim().to_owned() }
}

/// Whether `a` looks like an address a mail server takes (the reporter typed it).
fn plausible(a: &str) -> bool {
    a.parse::<lettre::Address>().is_ok()
}

/// The email recipients `to`, each address once and plausible ones only, then the webhooks
/// told of `r`'s commune.
fn with_webhooks(rules: &Rules, r: &RequestRow, mut to: Vec<Recipient>) -> Vec<Recipient> {
    let mut seen = std::collections::BTreeSet::new();
    to.retain(|r| plausible(&r.address) && seen.insert(r.address.to_lowercase()));
    for w in &rules.config().reports.webhooks {
        if w.communes.is_empty() || r.commune.as_ref().is_some_and(|c| w.communes.contains(c)) {
            to.push(Recipient { role: format!("{WEBHOOK}{}", w.name), address: w.url.clone() });
        }
    }
    to
}

/// The role of a webhook's deliveries: `webhook:<name>`.
const WEBHOOK: &str = "webhook:";

/// Who is told of the new request `r`: a duplicate is not sent to the service again (the request
/// it is linked to covers it); its reporter is told so.
pub(crate) fn on_new(rules: &Rules, r: &RequestRow, contact: Option<&Contact>) -> Vec<Recipient> {
    let mut to = Vec::new();
    let service = r.service_id.as_deref().and_then(|id| rules.service(id)).filter(|_| r.duplicate_of.is_none());
    if let Some(s) = service {
        if let Some(e) = &s.email {
            to.push(recipient("service", e));
        }
        for referent in &s.referents {
            let commune = referent.commune.as_deref().is_none_or(|c| Some(c) == r.commune.as_deref());
            let kind = referent.interventions.is_empty() || referent.interventions.contains(&r.intervention);
            if let (true, true, Some(e)) = (commune && referent.commune.is_some(), kind, &referent.email) {
                to.push(recipient("service", e));
            }
        }
    }
    if let Some(e) = contact.and_then(|c| c.email.as_deref()) {
        to.push(recipient("reporter", e));
    }
    with_webhooks(rules, r, to)
}

/// Who is told of a later step of `r`: its reporter and its commune's own referents.
pub(crate) fn on_change(rules: &Rules, r: &RequestRow, contact: Option<&Contact>) -> Vec<Recipient> {
    let mut to = Vec::new();
    if let Some(e) = contact.and_then(|c| c.email.as_deref()) {
        to.push(recipient("reporter", e));
    }
    if let Some(commune) = r.commune.as_deref() {
        for s in rules.config().services.iter().filter(|s| s.actor == domania_core::Actor::Commune) {
            for referent in s.referents.iter().filter(|x| x.commune.as_deref() == Some(commune)) {
                if let Some(e) = &referent.email {
                    to.push(recipient("referent", e));
                }
            }
        }
    }
    with_webhooks(rules, r, to)
}

/// Who is told of the DVQ's droit d'alerte on `r`: the service it is routed to (and its
/// referents for the commune), and the commune's own referents.
pub(crate) fn on_alert(rules: &Rules, r: &RequestRow) -> Vec<Recipient> {
    let to: Vec<Recipient> = on_new(rules, &RequestRow { duplicate_of: None, ..r.clone() }, None)
        .into_iter()
        .filter(|x| x.role == "service")
        .chain(on_change(rules, r, None).into_iter().filter(|x| x.role == "referent"))
        .map(|x| recipient(ALERT, &x.address))
        .collect();
    // Each address once (`with_webhooks`).
    with_webhooks(rules, r, to)
}

/// The role of the messages of a droit d'alerte.
const ALERT: &str = "alert";

/// Where and how mail is sent: `DOMANIA_SMTP_URL` (`smtp://host:port` for a local relay,
/// `smtps://user@host` for TLS, `smtp://user@host:587?tls=required` for STARTTLS), the password
/// from `DOMANIA_SMTP_PASSWORD` or the file named by `DOMANIA_SMTP_PASSWORD_FILE` (never on a
/// command line), the sender from `DOMANIA_MAIL_FROM`.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer the environment configures; none when `DOMANIA_SMTP_URL` is not set.
    ///
    /// # Errors
    /// `invalid_config` for a URL, a password file or a sender that does not do.
    pub fn from_env() -> Result<Option<Mailer>> {
        let Ok(url) = std::env::var("DOMANIA_SMTP_URL") else { return Ok(None) };
        let password = match (std::env::var("DOMANIA_SMTP_PASSWORD"), std::env::var_os("DOMANIA_SMTP_PASSWORD_FILE")) {
            (Ok(p), _) => Some(p),
            (Err(_), Some(file)) => Some(
                std::fs::read_to_string(&file)
                    .map_err(|e| AppError::new(ErrorCode::InvalidConfig, format!("DOMANIA_SMTP_PASSWORD_FILE: {e}")))?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
            ),
            _ => None,
        };
        let from = std::env::var("DOMANIA_MAIL_FROM").unwrap_or_else(|_| "domania@localhost".to_owned());
        Mailer::new(&url, password.as_deref(), &from).map(Some)
    }

    /// A mailer through the server at `url` (the user name in it), sending as `from`.
    ///
    /// # Errors
    /// `invalid_config` for a URL or a sender that does not do.
    pub fn new(url: &str, password: Option<&str>, from: &str) -> Result<Mailer> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| AppError::new(ErrorCode::InvalidConfig, format!("{what}: {e}"));
        let mut builder = SmtpTransport::from_url(url).map_err(|e| bad("DOMANIA_SMTP_URL", &e))?;
        let user = url.split_once("://").and_then(|(_, rest)| rest.split_once('@')).map(|(u, _)| u.to_owned());
        if let (Some(user), Some(password)) = (user, password) {
            builder = builder.credentials(Credentials::new(user, password.to_owned()));
        }
        let transport = builder.timeout(Some(Duration::from_secs(30))).build();
        let from = from.parse::<Mailbox>().map_err(|e| bad("DOMANIA_MAIL_FROM", &e))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `body` to `to`, with `photo` (its type and bytes) attached when given.
    fn send(
        &self,
        to: &str,
        subject: &str,
        body: String,
        photo: Option<(String, Vec<u8>)>,
    ) -> std::result::Result<(), String> {
        let to = to.parse::<Mailbox>().map_err(|e| e.to_string())?;
        let builder = lettre::Message::builder().from(self.from.clone()).to(to).subject(subject);
        let message = match photo {
            None => builder.header(ContentType::TEXT_PLAIN).body(body),
            Some((mime, bytes)) => {
                let kind = ContentType::parse(&mime).map_err(|e| e.to_string())?;
                let name = format!("photo.{}", mime.rsplit('/').next().unwrap_or("jpeg"));
                builder.multipart(
                    lettre::message::MultiPart::mixed()
                        .singlepart(lettre::message::SinglePart::plain(body))
                        .singlepart(lettre::message::Attachment::new(name).body(bytes, kind)),
                )
            }
        }
        .map_err(|e| e.to_string())?;
        self.transport.send(&message).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// The subject and the text of delivery `d` of request `r`, `base` the server's public URL.
#[must_use]
pub fn message(held: &Held, d: &Delivery, r: &RequestRow, base: &str) -> (String, String) {
    let lang = Lang::Fr;
    let rules = &held.rules.rules;
    let category = rules.category(&r.service_code).map_or(r.service_code.as_str(), |c| c.name.as_str());
    let status = lang.t(&format!("value-status-{}", d.status.as_str()), &[]);
    let at = d.at.parse::<Timestamp>().map_or_else(
        |_| d.at.clone(),
        |t| {
            let local = t.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC));
            format!("{} à {}", format::date(local.date(), lang), local.strftime("%H:%M"))
        },
    );
    let args: Vec<(&str, Arg)> = vec![
        ("id", r.id.to_string().into()),
        ("category", category.into()),
        ("status", status.into()),
        ("at", at.into()),
        ("service", r.service_name.as_str().into()),
        ("why", r.explanation.as_str().into()),
        ("description", r.description.as_str().into()),
        ("photo", super::media_url(r, base).unwrap_or_default().into()),
        ("note", d.note.clone().unwrap_or_default().into()),
        ("subsector", r.subsector.clone().unwrap_or_default().into()),
        ("commune", r.commune.clone().unwrap_or_default().into()),
        ("lat", format!("{:.6}", r.lat).into()),
        ("lon", format!("{:.6}", r.lon).into()),
        ("link", format!("{base}/open311/v2/requests/{}.json", r.id).into()),
    ];
    let kind = match (d.role.as_str(), d.status) {
        ("service", _) => "service",
        (ALERT, _) => "alert",
        ("reporter", Status::Received | Status::Duplicate) if d.at == r.requested_at => "received",
        _ => "change",
    };
    (lang.t(&format!("mail-{kind}-subject"), &args), lang.t(&format!("mail-{kind}-body"), &args))
}

impl crate::table::Row for Delivery {
    const HEADER: &'static [&'static str] = &[
        "id",
        "report_id",
        "role",
        "recipient",
        "status",
        "at",
        "note",
        "attempts",
        "next_at",
        "sent_at",
        "last_error",
    ];
}

/// The event a webhook is told of: which delivery (the receiver's key to drop a repeat), what
/// happened, and the request as GeoReport shows it.
#[derive(Debug, Serialize)]
struct Step<'a> {
    delivery: i64,
    /// `request.created` or `request.changed`.
    event: &'static str,
    status: Status,
    at: &'a str,
    note: Option<&'a str>,
    request: super::open311::RequestView<'a>,
}

/// The secret of webhook `name`: `DOMANIA_WEBHOOK_SECRET_<NAME>`, or the file named by
/// `DOMANIA_WEBHOOK_SECRET_<NAME>_FILE`.
fn secret(name: &str) -> std::result::Result<String, String> {
    let var = format!("DOMANIA_WEBHOOK_SECRET_{}", name.to_ascii_uppercase());
    if let Ok(s) = std::env::var(&var) {
        return Ok(s);
    }
    match std::env::var_os(format!("{var}_FILE")) {
        Some(f) => std::fs::read_to_string(&f)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .map_err(|e| format!("{var}_FILE: {e}")),
        None => Err(format!("no secret for webhook {name}: set {var} (messages are never sent unsigned)")),
    }
}

/// `X-Domania-Signature`'s value for `body` sent at `t` (Unix seconds): `t=…,v1=…`, the hex
/// HMAC-SHA256 of `{t}.{body}` under `secret` (the receiver checks it and refuses an old `t`).
#[must_use]
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    use hmac::Mac as _;
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// POSTs delivery `d` of request `r` to its webhook, signed.
fn webhook(held: &Held, d: &Delivery, r: &RequestRow, name: &str, base: &str) -> std::result::Result<(), String> {
    let secret = secret(name)?;
    let event = Step {
        delivery: d.id,
        event: if d.at == r.requested_at && matches!(d.status, Status::Received | Status::Duplicate) {
            "request.created"
        } else {
            "request.changed"
        },
        status: d.status,
        at: &d.at,
        note: d.note.as_deref(),
        // A program reads the event: its words in French, the language of the territory.
        request: held.request_view(r, domania_i18n::Lang::Fr, base),
    };
    let body = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
    let t = Timestamp::now().as_second();
    let answer = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build()
        .post(&d.recipient)
        .set("Content-Type", "application/json")
        .set("X-Domania-Delivery", &d.id.to_string())
        .set("X-Domania-Signature", &signature(&secret, t, &body))
        .send_bytes(&body);
    match answer {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(code, _)) => Err(format!("the webhook answered {code}")),
        Err(e) => Err(e.to_string()),
    }
}

/// What one pass of the deliverer did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryPass {
    pub sent: usize,
    pub failed: usize,
    pub given_up: usize,
}

impl Desk {
    /// Sends the messages due now through `mailer` (at most `limit`), each marked sent, or
    /// failed and tried again later (30 s, then twice as long each time up to an hour), or given
    /// up after a number of tries; `base` is the server's public URL the messages link to.
    ///
    /// Without a mailer only the webhooks' messages are sent; the emails stay queued.
    pub fn deliver_due(&self, held: &Held, mailer: Option<&Mailer>, base: &str, limit: usize) -> Result<DeliveryPass> {
        let now = Timestamp::now();
        let lease = now.checked_add(LEASE).unwrap_or(now);
        let claimed = self.store().claim_due(&stamp(now), &stamp(lease), limit, mailer.is_none())?;
        let mut pass = DeliveryPass::default();
        for d in claimed {
            let Some(r) = self.store().get(d.report_id)? else { continue };
            // The database is not held while the mail server or the webhook answers.
            let sent = match (d.role.strip_prefix(WEBHOOK), mailer) {
                (Some(name), _) => webhook(held, &d, &r, name, base),
                (None, Some(mailer)) => {
                    let (subject, body) = message(held, &d, &r, base);
                    // The service that acts is sent the photo itself; the others its link.
                    let photo = if d.role == "service" { self.store().photo(r.id, false)? } else { None };
                    mailer.send(&d.recipient, &subject, body, photo)
                }
                (None, None) => Err("no mail server (DOMANIA_SMTP_URL)".to_owned()),
            };
            let at = stamp(Timestamp::now());
            match sent {
                Ok(()) => {
                    self.store().delivered(d.id, &at)?;
                    pass.sent += 1;
                }
                Err(e) if d.attempts >= MAX_ATTEMPTS => {
                    self.store().failed(d.id, &e, None)?;
                    pass.given_up += 1;
                }
                Err(e) => {
                    let wait =
                        FIRST_RETRY.saturating_mul(1 << (d.attempts - 1).clamp(0, 7)).min(Duration::from_hours(1));
                    let retry = Timestamp::now().checked_add(wait).unwrap_or(now);
                    self.store().failed(d.id, &e, Some(&stamp(retry)))?;
                    pass.failed += 1;
                }
            }
        }
        Ok(pass)
    }

    /// The messages, newest first: all, or those not sent (queued, retried, given up).
    pub fn deliveries(&self, unsent_only: bool) -> Result<Vec<Delivery>> {
        Ok(self.store().deliveries(unsent_only)?)
    }

    /// Puts the given-up messages back in the queue; returns how many.
    pub fn replay_deliveries(&self) -> Result<usize> {
        Ok(self.store().replay(&stamp(Timestamp::now()))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_hmac_sha256_of_the_time_and_the_body() {
        // Python: hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            signature("secret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn a_webhook_is_never_sent_unsigned() {
        let e = secret("nobody_configured_this").unwrap_err();
        assert!(e.contains("DOMANIA_WEBHOOK_SECRET_NOBODY_CONFIGURED_THIS"), "{e}");
    }

    #[test]
    fn only_plausible_addresses_are_written_to() {
        assert!(plausible("dechets@example.org"));
        assert!(!plausible("pas une adresse"));
    }
}
