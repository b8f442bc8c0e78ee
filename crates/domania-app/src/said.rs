//! What is said to a person about a file they gave: its validation report in their language.
//! English keeps each reader's own detailed message; French says each issue by its stable code
//! through the catalogues (the reader's detail — a coordinate, a column's bytes — is in the
//! English report, asked with `--lang en` or `Accept-Language: en`).

use std::fmt::Write as _;

use domania_i18n::{Arg, Lang};
use domania_io::report::{Issue, Location, Severity, ValidationReport};

/// An actor as a reader of `lang` names it (`Bailleur social`, `Social landlord`).
#[must_use]
pub fn actor_label(a: domania_core::Actor, lang: Lang) -> String {
    match lang {
        Lang::Fr => a.label_fr().to_owned(),
        Lang::En => lang.t(&format!("actor-{}", a.as_str()), &[]),
    }
}

/// A sub-sector's decision as a reader of `lang` reads it (`Gestion déléguée : Bailleur
/// social`).
#[must_use]
pub fn decision_label(decision: &str, delegated_to: Option<domania_core::Actor>, lang: Lang) -> String {
    match (decision, delegated_to) {
        ("delegated", Some(a)) => lang.t("decision-label-delegated", &[("actor", actor_label(a, lang).into())]),
        ("domanialite", _) => lang.t("decision-label-domanialite", &[]),
        ("undecided", _) => lang.t("decision-label-undecided", &[]),
        (d, _) => d.to_owned(),
    }
}

/// An issue's message in `lang`.
#[must_use]
pub fn issue_text(issue: &Issue, lang: Lang) -> String {
    if lang == Lang::En {
        return issue.message.clone();
    }
    let id = format!("issue-{}", issue.code);
    if lang.has(&id) { lang.t(&id, &[]) } else { lang.t("issue-other", &[("code", issue.code.into())]) }
}

/// Where an issue is, in `lang`: `objet 3`, `ligne 12`.
#[must_use]
pub fn location_text(location: Location, lang: Lang) -> String {
    let (id, n) = match location {
        Location::Feature(i) => ("report-feature", i.to_string()),
        Location::Line(l) => ("report-line", l.to_string()),
    };
    lang.t(id, &[("n", Arg::Text(n))])
}

/// A severity in `lang`.
#[must_use]
pub fn severity_text(severity: Severity, lang: Lang) -> String {
    lang.t(
        match severity {
            Severity::Warning => "severity-warning",
            Severity::Repaired => "severity-repaired",
            Severity::Rejected => "severity-rejected",
        },
        &[],
    )
}

/// The report with each issue's message in `lang` (codes, locations and figures unchanged).
#[must_use]
pub fn report_in(report: &ValidationReport, lang: Lang) -> ValidationReport {
    let mut said = report.clone();
    if lang != Lang::En {
        for issue in &mut said.issues {
            issue.message = issue_text(issue, lang);
        }
    }
    said
}

/// A report's counts in one line: `parcelles.geojson : 12 lus, 11 acceptés (dont 1 réparé), 1
/// refusé, 0 avertissement`.
#[must_use]
pub fn summary(report: &ValidationReport, lang: Lang) -> String {
    let n = |k: usize| Arg::from(k);
    lang.t(
        "report-summary",
        &[
            ("file", report.path.display().to_string().into()),
            ("read", n(report.read)),
            ("accepted", n(report.accepted)),
            ("repaired", n(report.repaired)),
            ("rejected", n(report.rejected)),
            ("warnings", n(report.warnings)),
        ],
    )
}

/// A version written (or an import that changed nothing), in one line.
#[must_use]
pub fn version(v: &domania_store::VersionInfo, lang: Lang) -> String {
    let layer = crate::error::layer_label(v.layer.as_str(), lang);
    if v.unchanged {
        return lang.t(
            "version-unchanged",
            &[
                ("layer", layer.into()),
                ("version", Arg::Count(v.version)),
                ("features", Arg::Count(v.features)),
                ("scope", scope(&v.scope, lang).into()),
            ],
        );
    }
    lang.t(
        "version-written",
        &[
            ("layer", layer.into()),
            ("version", Arg::Count(v.version)),
            ("kind", v.kind.as_str().into()),
            ("scope", scope(&v.scope, lang).into()),
            ("features", Arg::Count(v.features)),
            ("added", Arg::Count(v.added)),
            ("removed", Arg::Count(v.removed)),
            ("changed", Arg::Count(v.changed)),
            ("reshaped", Arg::Count(v.reshaped)),
            ("rejected", Arg::Count(v.rejected)),
            ("repaired", Arg::Count(v.repaired)),
        ],
    )
}

/// A version's scope: `toute la couche` for a whole layer, the parts otherwise.
fn scope(scope: &str, lang: Lang) -> String {
    if scope == "layer" { lang.t("scope-layer", &[]) } else { scope.to_owned() }
}

/// One line per issue, for a terminal: `file: objet 3 (IDU): refusé [invalid_geometry]: …`.
#[must_use]
pub fn issues_text(report: &ValidationReport, limit: usize, lang: Lang) -> String {
    if lang == Lang::En {
        return report.render_issues(limit);
    }
    let mut out = String::new();
    let file = report.path.display();
    for issue in report.issues.iter().take(limit) {
        let id = issue.id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "{file} : {}{id} : {} [{}] : {}",
            location_text(issue.location, lang),
            severity_text(issue.severity, lang),
            issue.code,
            issue_text(issue, lang)
        );
    }
    if report.issues.len() > limit {
        let _ = writeln!(out, "{}", lang.t("report-more", &[("count", (report.issues.len() - limit).into())]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogues_name_every_actor_and_french_names_them_as_the_core_does() {
        for a in domania_core::Actor::ALL {
            let id = format!("actor-{}", a.as_str());
            assert_eq!(Lang::Fr.t(&id, &[]), a.label_fr(), "{id}");
            assert!(Lang::En.has(&id), "{id}");
        }
        assert_eq!(
            decision_label("delegated", Some(domania_core::Actor::BailleurSocial), Lang::En),
            "Delegated to Social landlord"
        );
    }

    #[test]
    fn an_issue_is_said_by_its_code_in_french_and_as_read_in_english() {
        let mut r = ValidationReport::new(std::path::Path::new("parcelles.geojson"), "geojson");
        r.push(
            Location::Feature(3),
            Some("91216000AB0001"),
            Severity::Rejected,
            "invalid_geometry",
            "Self-intersection at (1, 2)".into(),
        );
        r.push(Location::Line(7), None, Severity::Warning, "something_new", "a new thing".into());
        let fr = issues_text(&r, 50, Lang::Fr);
        assert!(fr.contains("parcelles.geojson : objet 3 (91216000AB0001) : refusé [invalid_geometry] : la géométrie n’est pas valide"), "{fr}");
        assert!(fr.contains("ligne 7 : avertissement [something_new] : problème « something_new »"), "{fr}");
        assert!(!fr.contains("Self-intersection"), "{fr}");
        assert!(issues_text(&r, 50, Lang::En).contains("Self-intersection at (1, 2)"));
        assert_eq!(
            report_in(&r, Lang::Fr).issues[0].message,
            "la géométrie n’est pas valide (contour qui se recoupe ou anneau mal formé)"
        );
        assert!(issues_text(&r, 1, Lang::Fr).contains("… et 1 autre problème"));
    }
}
