//! Reasons said in a language ([`DecisionReason::said`], [`Rules::explain_assignment`]),
//! through the catalogues of `domania-i18n`: in French, actors and intervention kinds by their
//! French labels (from the rules file for the kinds); in English, by their identifiers, as a
//! technical reader uses them.

use domania_core::Actor;
use domania_i18n::{Lang, format};

use crate::eval::Rules;
use crate::reason::{
    AssignmentReason, ConventionReason, DecisionReason, Denominator, ManagerReason, Outcome, RuleReason,
};

/// An actor as a reader of `lang` names it.
fn actor(a: Actor, lang: Lang) -> String {
    match lang {
        Lang::Fr => a.label_fr().to_owned(),
        Lang::En => a.as_str().to_owned(),
    }
}

fn actors(list: &[Actor], lang: Lang) -> String {
    list.iter().map(|a| actor(*a, lang)).collect::<Vec<_>>().join(" / ")
}

fn share(x: f64, lang: Lang) -> String {
    format::percent(x, 1, lang)
}

fn figures(list: &[(Actor, f64)], lang: Lang) -> String {
    list.iter().map(|(a, s)| format!("{} {}", actor(*a, lang), share(*s, lang))).collect::<Vec<_>>().join(", ")
}

fn denominator(d: Denominator, lang: Lang) -> String {
    match d {
        Denominator::Subsector => lang.t("denominator-subsector", &[]),
        Denominator::Cadastre => lang.t("denominator-cadastre", &[]),
    }
}

fn outcome(o: Outcome, lang: Lang) -> String {
    match o {
        Outcome::Delegated { actor: a } => lang.t("outcome-delegated", &[("actor", actor(a, lang).into())]),
        Outcome::Convention => lang.t("outcome-convention", &[]),
        Outcome::Domanialite => lang.t("outcome-domanialite", &[]),
        Outcome::Undecided => lang.t("outcome-undecided", &[]),
    }
}

impl DecisionReason {
    /// A decision's reason said in `lang`.
    #[must_use]
    pub fn said(&self, lang: Lang) -> String {
        match self {
            DecisionReason::Outside => lang.t("decision-outside", &[]),
            DecisionReason::NoneHolds { subsector, actors: list } => lang.t(
                "decision-none-holds",
                &[("subsector", subsector.as_str().into()), ("actors", actors(list, lang).into())],
            ),
            DecisionReason::OnlyOne { subsector, actor: a, share: s, denominator: d, actors: list } => lang.t(
                "decision-only-one",
                &[
                    ("subsector", subsector.as_str().into()),
                    ("actor", actor(*a, lang).into()),
                    ("share", share(*s, lang).into()),
                    ("denominator", denominator(*d, lang).into()),
                    ("actors", actors(list, lang).into()),
                ],
            ),
            DecisionReason::Delegated {
                subsector,
                actor: who,
                share: part,
                threshold,
                denominator: den,
                figures: fig,
            } => lang.t(
                "decision-delegated",
                &[
                    ("subsector", subsector.as_str().into()),
                    ("actor", actor(*who, lang).into()),
                    ("share", share(*part, lang).into()),
                    ("threshold", share(*threshold, lang).into()),
                    ("denominator", denominator(*den, lang).into()),
                    ("figures", figures(fig, lang).into()),
                ],
            ),
            DecisionReason::Shared { subsector, threshold, denominator: d, figures: f } => lang.t(
                "decision-shared",
                &[
                    ("subsector", subsector.as_str().into()),
                    ("threshold", share(*threshold, lang).into()),
                    ("denominator", denominator(*d, lang).into()),
                    ("figures", figures(f, lang).into()),
                ],
            ),
            DecisionReason::Unchanged { decision, share: s, area_m2 } => lang.t(
                "decision-unchanged",
                &[
                    ("decision", decision.said(lang).into()),
                    ("share", share(*s, lang).into()),
                    ("area", format::area_m2(*area_m2, 0, lang).into()),
                ],
            ),
            DecisionReason::Undecided { subsector, share: s, area_m2, as_it_stands, flips } => {
                let flips: Vec<String> = flips
                    .iter()
                    .map(|f| {
                        let who = f
                            .held_by
                            .iter()
                            .map(|(a, p)| format!("{} {}", actor(*a, lang), format::percent(*p, 0, lang)))
                            .collect::<Vec<_>>()
                            .join(" + ");
                        lang.t("decision-flip", &[("who", who.into()), ("outcome", outcome(f.outcome, lang).into())])
                    })
                    .collect();
                lang.t(
                    "decision-undecided",
                    &[
                        ("subsector", subsector.as_str().into()),
                        ("share", share(*s, lang).into()),
                        ("area", format::area_m2(*area_m2, 0, lang).into()),
                        ("outcome", outcome(*as_it_stands, lang).into()),
                        ("flips", flips.join("; ").into()),
                    ],
                )
            }
        }
    }
}

impl ManagerReason {
    /// Who manages the space before the kind is looked at, said in `lang`.
    fn said(&self, lang: Lang) -> String {
        match self {
            ManagerReason::Delegated { decision } => decision.said(lang),
            ManagerReason::Parcel { decision, idu, actor: a } => lang.t(
                "manager-parcel",
                &[
                    ("decision", decision.said(lang).into()),
                    ("idu", idu.as_str().into()),
                    ("actor", actor(*a, lang).into()),
                ],
            ),
            ManagerReason::NonCadastre { decision, actor: a } => lang.t(
                "manager-non-cadastre",
                &[("decision", decision.said(lang).into()), ("actor", actor(*a, lang).into())],
            ),
        }
    }
}

impl Rules {
    /// An intervention kind as a reader of `lang` names it: its label from the rules file in
    /// French («Collecte des déchets»), its identifier in English.
    #[must_use]
    pub fn kind_name(&self, kind: &str, lang: Lang) -> String {
        match lang {
            Lang::Fr => self
                .config()
                .interventions
                .iter()
                .find(|i| i.id == kind)
                .map_or_else(|| kind.to_owned(), |i| format!("« {} »", i.label)),
            Lang::En => kind.to_owned(),
        }
    }

    /// An assignment's reason said in `lang`.
    #[must_use]
    pub fn explain_assignment(&self, r: &AssignmentReason, lang: Lang) -> String {
        let kind = self.kind_name(&r.kind, lang);
        let service_name = |id: &str| self.service(id).map_or_else(|| id.to_owned(), |s| s.name.clone());
        let manager = || r.manager.said(lang);
        match &r.rule {
            RuleReason::Convention(c) => {
                let ConventionReason { id, parties, from, to, service, prevails_over, expired, date } = &**c;
                let period = match to {
                    Some(to) => lang.t(
                        "convention-period",
                        &[("from", format::date(*from, lang).into()), ("to", format::date(*to, lang).into())],
                    ),
                    None => lang.t("convention-period-open", &[("from", format::date(*from, lang).into())]),
                };
                let prevails = if prevails_over.is_empty() {
                    String::new()
                } else {
                    lang.t("rule-convention-prevails", &[("others", prevails_over.join(", ").into())])
                };
                let expired = if expired.is_empty() {
                    String::new()
                } else {
                    lang.t(
                        "rule-convention-expired",
                        &[("date", format::date(*date, lang).into()), ("ids", expired.join(", ").into())],
                    )
                };
                lang.t(
                    "rule-convention",
                    &[
                        ("manager", manager().into()),
                        ("id", id.as_str().into()),
                        ("parties", parties.join(" / ").into()),
                        ("period", period.into()),
                        ("kind", kind.into()),
                        ("service", service_name(service).into()),
                        ("prevails", prevails.into()),
                        ("expired", expired.into()),
                    ],
                )
            }
            RuleReason::Fixed { service, reason } => lang.t(
                "rule-fixed",
                &[("kind", kind.into()), ("service", service_name(service).into()), ("reason", reason.as_str().into())],
            ),
            RuleReason::Default { service } => lang.t(
                "rule-default",
                &[
                    ("manager", manager().into()),
                    ("kind", kind.into()),
                    ("actor", actor(r.actor, lang).into()),
                    ("service", service_name(service).into()),
                ],
            ),
            RuleReason::UnknownOwner => lang.t(
                "rule-unknown-owner",
                &[
                    ("manager", manager().into()),
                    ("actor", actor(r.actor, lang).into()),
                    ("label", r.actor.label_fr().into()),
                    ("kind", kind.into()),
                ],
            ),
            RuleReason::NoService => lang.t(
                "rule-no-service",
                &[("manager", manager().into()), ("actor", actor(r.actor, lang).into()), ("kind", kind.into())],
            ),
            RuleReason::IndivisionNeedsConvention => {
                lang.t("rule-indivision-convention", &[("manager", manager().into()), ("kind", kind.into())])
            }
        }
    }
}
