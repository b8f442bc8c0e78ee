//! Owner classification: which [`Actor`] a legal person is.
//!
//! Decided in layers, each later layer overriding the earlier ones:
//! 1. the PPM *groupe personne* (0–9), the DGFiP's coarse grouping;
//! 2. the *forme juridique* (INSEE *catégorie juridique*, niveau III), read with the groupe
//!    where one code covers several kinds of body ([`FORME_RULES`]);
//! 3. explicit rules for what the DGFiP misfiles ([`NAME_RULES`]: foreign states filed as
//!    ministries, national research bodies filed as the State…);
//! 4. SIREN lists of the territory configuration;
//! 5. manual overrides, each with its reason.
//!
//! Policy choices — SNCF group companies and La Poste (State-owned SAs), social-housing SEMs
//! such as CDC Habitat, foreign states — are settings of the territory configuration
//! ([`OwnerPolicy`]); SPL and SEM have no code of their own and are known by their names (or,
//! when the name does not say it, by their SIREN: [`KNOWN_SIRENS`]); the EPT of the Métropole
//! du Grand Paris go in the territory's SIREN lists. A name saying the owner is unknown makes
//! an unknown owner, whatever groupe the DGFiP filed it under. Every [`Classification`] records which layer decided it, why, and
//! how confident that is, so a report can show it and a collectivité can correct it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::model::{Actor, Owner};

/// The territory's own knowledge of owners (the `[owners]` table of the territory TOML).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificationConfig {
    /// SIREN lists: an owner whose SIREN is listed under an actor is that actor.
    #[serde(default)]
    pub siren: BTreeMap<Actor, Vec<String>>,
    /// Manual decisions for single owners, each with its reason.
    #[serde(default, rename = "override")]
    pub overrides: Vec<OwnerOverride>,
    /// The policy choices the nomenclature leaves open.
    #[serde(default)]
    pub policy: OwnerPolicy,
}

/// Choices the nomenclature cannot make, with Domania's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OwnerPolicy {
    /// Companies the State owns that the DGFiP files under groupe 9 with the public bodies (SNCF
    /// Réseau, SNCF Voyageurs, La Poste: SAs, SA nationales, exploitant public). Default:
    /// `etablissement_public` — their land is run as public land; `other_legal_person` treats
    /// them as the companies they are.
    pub public_companies: Actor,
    /// SEMs the DGFiP files under groupe 5 with the HLM bodies (CDC Habitat). Default:
    /// `bailleur_social`: they let social housing; `sem` keeps their legal form.
    pub social_housing_sem: Actor,
    /// Foreign states, embassies, consulates and international organisations, whatever the
    /// DGFiP filed them under. Default: `other_legal_person`.
    pub foreign: Actor,
}

impl Default for OwnerPolicy {
    fn default() -> Self {
        Self {
            public_companies: Actor::EtablissementPublic,
            social_housing_sem: Actor::BailleurSocial,
            foreign: Actor::OtherLegalPerson,
        }
    }
}

/// A manual classification of one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerOverride {
    pub siren: String,
    pub actor: Actor,
    /// Why: a deliberation, a convention, a phone call… Must not be empty.
    pub reason: String,
}

/// Which layer decided an owner's actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// No layer applied: the owner stays [`Actor::Unknown`].
    Nothing,
    GroupePersonne,
    FormeJuridique,
    /// A policy setting of the territory ([`OwnerPolicy`]).
    Policy,
    /// An explicit rule for a known misfiling: a name rule ([`NAME_RULES`], a name saying the
    /// owner is unknown) or a body known by its SIREN ([`KNOWN_SIRENS`]).
    NameRule,
    SirenList,
    Override,
}

impl DecidedBy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Nothing => "nothing",
            DecidedBy::GroupePersonne => "groupe_personne",
            DecidedBy::FormeJuridique => "forme_juridique",
            DecidedBy::Policy => "policy",
            DecidedBy::NameRule => "name_rule",
            DecidedBy::SirenList => "siren_list",
            DecidedBy::Override => "override",
        }
    }
}

/// How far a classification can be trusted. Agreement never lowers it: a name rule that says
/// what the codes say keeps the codes' confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Check it: the layers disagree (a name rule overruled the DGFiP's codes), only a name
    /// decided (no codes), the name says the owner is unknown, or no layer applied.
    Low,
    /// The groupe decided (alone, or where the form defers to it), or the form read with an
    /// unusual groupe, or a policy setting of the territory: likely, worth a look.
    Medium,
    /// The legal form settles it (with the groupe where the form needs it), the name and the
    /// codes agree, a body known by its SIREN, or the territory said so itself (SIREN list,
    /// override).
    High,
}

/// The outcome of classifying one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub actor: Actor,
    pub decided_by: DecidedBy,
    pub confidence: Confidence,
    /// Human explanation, e.g. `forme juridique 4140 (office public de l'habitat)`.
    pub why: String,
}

/// What a rule of the *forme juridique* layer concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// This actor.
    Is(Actor),
    /// The actor a policy setting names.
    PublicCompany,
    SocialHousingSem,
    Foreign,
    /// The groupe's actor: the form says nothing more (the rule records why).
    Groupe,
}

/// One row of the *forme juridique* layer: codes (or a range of codes), the groupes it applies
/// to (`None`: any), what it concludes, how sure, and the nomenclature's label.
struct FormeRule {
    codes: Codes,
    groupes: Option<&'static [u8]>,
    then: Then,
    confidence: Confidence,
    label: &'static str,
}

enum Codes {
    List(&'static [&'static str]),
    /// Every code of `from..=to` (as four-digit numbers).
    Range(u16, u16),
}

impl Codes {
    fn contains(&self, code: &str) -> bool {
        match self {
            Codes::List(l) => l.contains(&code),
            Codes::Range(a, b) => code.parse::<u16>().is_ok_and(|c| (*a..=*b).contains(&c)),
        }
    }
}

use Actor::{
    BailleurSocial, CommunauteUrbaine, Commune as CommuneA, Copropriete, Departement as DepartementA,
    EtablissementPublic, Etat, OtherLegalPerson, Region as RegionA, Sem,
};
use Confidence::{High, Medium};

const fn rule(codes: &'static [&'static str], then: Then, label: &'static str) -> FormeRule {
    FormeRule { codes: Codes::List(codes), groupes: None, then, confidence: High, label }
}
const fn rule_in(
    codes: &'static [&'static str],
    groupes: &'static [u8],
    then: Then,
    confidence: Confidence,
    label: &'static str,
) -> FormeRule {
    FormeRule { codes: Codes::List(codes), groupes: Some(groupes), then, confidence, label }
}
const fn range(from: u16, to: u16, then: Then, confidence: Confidence, label: &'static str) -> FormeRule {
    FormeRule { codes: Codes::Range(from, to), groupes: None, then, confidence, label }
}
const fn range_in(
    from: u16,
    to: u16,
    groupes: &'static [u8],
    then: Then,
    confidence: Confidence,
    label: &'static str,
) -> FormeRule {
    FormeRule { codes: Codes::Range(from, to), groupes: Some(groupes), then, confidence, label }
}

/// The *forme juridique* layer, checked against the INSEE nomenclature of *catégories
/// juridiques* (niveau III) and the groupes the DGFiP files each kind of body under in the real
/// PPM files (Paris 750 part 003, Yvelines 780 part 008). First match wins.
///
/// Ambiguities written down:
/// - 4140 is any *EPIC local*: an OPH when filed under groupe 5, otherwise an aménageur or a
///   foncier (the EPA of Saint-Quentin-en-Yvelines, the EPF des Yvelines, groupe 9);
/// - 5599/5699 (generic SA) hold SA d'HLM in groupe 5, SEMs in groupe 6, SNCF companies in
///   groupe 9, ordinary companies elsewhere (groupe 7 files some as co-owners);
/// - 7229 (*collectivité à statut particulier*) is Ville de Paris as well as foreign states
///   (`ETAT DU PORTUGAL`): the groupe decides;
/// - 7490 (*autre personne morale de droit administratif*) is the Académie française or the
///   Caisse des dépôts (public bodies, even under groupe 1) but, under groupe 7, syndicates of
///   co-owners;
/// - category 8 (*organismes privés spécialisés*: the social-security funds of the general
///   scheme such as a CPAM, the CPSTI, the CRPCEN) are private-law bodies entrusted with a
///   public service, never public bodies, whatever the groupe;
/// - associations (92xx) filed under groupe 5 are approved social landlords (FREHA), under
///   groupe 7 syndicates of co-owners, under groupes 1–4 bodies of the authority the DGFiP
///   files them with.
const FORME_RULES: &[FormeRule] = &[
    rule(&["3120", "3220"], Then::Is(OtherLegalPerson), "société étrangère"),
    rule(&["3110", "3205", "3210", "3290"], Then::Foreign, "personne morale de droit étranger (État, organisme)"),
    rule(&["4110", "4120"], Then::Is(EtablissementPublic), "EPIC national"),
    rule(&["4130"], Then::PublicCompany, "exploitant public"),
    rule_in(
        &["4140"],
        &[5],
        Then::Is(BailleurSocial),
        High,
        "EPIC local filed as Office HLM: office public de l'habitat",
    ),
    rule(&["4140"], Then::Is(EtablissementPublic), "EPIC local (aménagement, foncier…), not filed as Office HLM"),
    rule(&["4150", "4160"], Then::Is(EtablissementPublic), "régie d'une collectivité, Banque de France"),
    rule(&["5546", "5646"], Then::Is(BailleurSocial), "SA d'HLM"),
    rule(&["5547", "5647"], Then::Is(BailleurSocial), "SA coopérative de production d'HLM"),
    rule_in(&["5415", "5515", "5615"], &[5], Then::SocialHousingSem, Medium, "SEM filed as Office HLM"),
    rule(&["5415", "5515", "5615"], Then::Is(Sem), "société d'économie mixte"),
    rule(&["5410", "5510", "5610"], Then::PublicCompany, "société nationale"),
    range_in(5000, 5999, &[5], Then::Is(BailleurSocial), Medium, "company filed as Office HLM"),
    range_in(5000, 5999, &[6], Then::Is(Sem), Medium, "company filed with the SEM"),
    range_in(5000, 5999, &[9], Then::PublicCompany, Medium, "company filed with the public bodies"),
    range(5000, 5999, Then::Is(OtherLegalPerson), High, "société commerciale"),
    range_in(6000, 6999, &[5], Then::Is(BailleurSocial), Medium, "civil company filed as Office HLM"),
    range(6000, 6999, Then::Is(OtherLegalPerson), High, "société civile, GIE, coopérative, mutuelle d'assurance"),
    rule(
        &["7111", "7112", "7113", "7120", "7150", "7160", "7171", "7172", "7179", "7190"],
        Then::Is(Etat),
        "administration de l'État",
    ),
    rule(&["7210", "7312", "7313"], Then::Is(CommuneA), "commune"),
    rule(&["7220"], Then::Is(DepartementA), "département"),
    rule(&["7230"], Then::Is(RegionA), "région"),
    rule(&["7229"], Then::Groupe, "collectivité à statut particulier (Ville de Paris, but also foreign states)"),
    rule(&["7343", "7344", "7346", "7347", "7348"], Then::Is(CommunauteUrbaine), "EPCI à fiscalité propre"),
    rule(&["7371"], Then::Is(BailleurSocial), "office public d'habitation à loyer modéré (OPHLM)"),
    rule_in(
        &["7490"],
        &[7],
        Then::Is(Copropriete),
        Medium,
        "personne morale de droit administratif filed as co-owners",
    ),
    range(7300, 7499, Then::Is(EtablissementPublic), High, "établissement public, syndicat, GIP"),
    range(
        8000,
        8999,
        Then::Is(OtherLegalPerson),
        High,
        "organisme privé spécialisé: sécurité sociale, retraite complémentaire, mutuelle, comité, syndicat, ordre \
         (private-law bodies, even those entrusted with a public service)",
    ),
    rule(&["9110"], Then::Is(Copropriete), "syndicat de copropriété"),
    rule(&["9150"], Then::Is(Copropriete), "association syndicale libre (the co-owners' common land of a lotissement)"),
    range_in(
        9200,
        9299,
        &[5],
        Then::Is(BailleurSocial),
        Medium,
        "association filed as Office HLM (approved social landlord)",
    ),
    range_in(9200, 9299, &[7], Then::Is(Copropriete), Medium, "association filed as co-owners"),
    range_in(9200, 9299, &[1, 2, 3, 4], Then::Groupe, Medium, "association filed with a public authority"),
    range(9200, 9299, Then::Is(OtherLegalPerson), High, "association"),
    rule(&["9300"], Then::Is(OtherLegalPerson), "fondation (private, whatever the groupe)"),
    rule(&["9900"], Then::Groupe, "autre personne morale de droit privé"),
];

/// A rule on the owner's name for a body the DGFiP files under a code or groupe that says
/// otherwise. Matched on the name in upper case with runs of spaces folded, as a prefix or a
/// substring; never applied to an owner whose forme juridique is a public-law code (7xxx) when
/// `private_only` is set (an *association syndicale autorisée* is a public body).
struct NameRule {
    prefixes: &'static [&'static str],
    /// Substrings of the name, which has a space at each end: ` AMBASSADE ` is a whole word
    /// (not `LES AMBASSADEURS`).
    contains: &'static [&'static str],
    /// Names that look like a match but are not (`REPUBLIQUE FRANCAISE` is the French State).
    unless: &'static [&'static str],
    private_only: bool,
    /// Not applied to companies (forme juridique 5xxx, 6xxx: `REPUBLIQUE IMMOBILIER` is a SAS).
    not_companies: bool,
    then: Then,
    why: &'static str,
}

/// Known misfilings in the PPM files (Paris 750 part 003, Yvelines 780 part 008), each seen
/// there: foreign states under the State's code 7113 and groupe 1 (`ETAT D IRAN`, `ETAT
/// LITUANIEN`, `LA REPUBLIQUE ALGERIENNE…`) or as `9900` (`ROYAUME DE BELGIQUE`), consulates
/// under 7490 groupe 1, the CERN under groupe 9, national public bodies (CNRS, CNAV, Caisse
/// des dépôts) as the State; co-owners and *indivisaires* of shared passages and the
/// *associations syndicales libres* of lotissements filed as `9900`, sometimes under groupe 1;
/// intercommunal syndicates and social-action centres filed as `9900`.
const NAME_RULES: &[NameRule] = &[
    NameRule {
        prefixes: &[
            "ETAT D ",
            "ETAT DU ",
            "ETAT DE ",
            "ETAT DES ",
            "LA REPUBLIQUE ",
            "REPUBLIQUE ",
            "ROYAUME ",
            "FEDERATION DE RUSSIE",
            "PRINCIPAUTE ",
            "EMIRAT",
        ],
        contains: &[" AMBASSADE ", " CONSULAT "],
        unless: &["REPUBLIQUE FRANCAISE", "ETAT FRANCAIS"],
        private_only: false,
        not_companies: true,
        then: Then::Foreign,
        why: "a foreign state or its embassy or consulate",
    },
    NameRule {
        prefixes: &[],
        contains: &[
            "ETAT ROUMAIN",
            "ETAT LITUANIEN",
            "ORGANISATION EUROPEENNE",
            "ORGANISATION INTERNATIONALE",
            "ORGANISATION DES NATIONS",
        ],
        unless: &["REPUBLIQUE FRANCAISE", "ETAT FRANCAIS"],
        private_only: false,
        not_companies: true,
        then: Then::Foreign,
        why: "a foreign state or an international organisation",
    },
    NameRule {
        prefixes: &[],
        contains: &["CENTRE NATIONAL DE LA RECHERCHE SCIENTIFIQUE", "CAISSE DES DEPOTS", "CAISSE NATIONALE D ASSU"],
        unless: &[],
        private_only: false,
        not_companies: false,
        then: Then::Is(EtablissementPublic),
        why: "a national public body (an EPST, the Caisse des dépôts, a national fund), not the State itself",
    },
    NameRule {
        prefixes: &[],
        contains: &[
            "CAISSE REGIONALE D ASSURANCE MALADIE",
            "CAISSE PRIMAIRE ASSURANCE MALADIE",
            "CAISSE PRIMAIRE D ASSU",
        ],
        unless: &[],
        private_only: false,
        not_companies: false,
        then: Then::Is(OtherLegalPerson),
        why: "a local social-security fund: a private-law body entrusted with a public service (category 8)",
    },
    NameRule {
        prefixes: &["PREFECTURE DE POLICE", "PREFECTURE DE ", "PREFECTURE D ", "SOUS PREFECTURE", "MINISTERE "],
        contains: &[],
        unless: &[],
        private_only: false,
        not_companies: true,
        then: Then::Is(Etat),
        why: "a prefecture or a ministry: the State's own services",
    },
    NameRule {
        prefixes: &["SPL ", "SEM ", "SEML ", "SAEM "],
        contains: &["SOCIETE PUBLIQUE LOCALE", "ECONOMIE MIXTE", " SPL "],
        unless: &[],
        private_only: true,
        not_companies: false,
        then: Then::Is(Sem),
        why: "a société publique locale or d'économie mixte (no code of its own: the name says it)",
    },
    NameRule {
        prefixes: &[],
        contains: &["REASSURANCE", " ASSURANCES ", " ASSURANCE VIE ", "MUTUELLE D ASSURANCE"],
        unless: &[],
        private_only: true,
        not_companies: false,
        then: Then::Is(OtherLegalPerson),
        why: "an insurance company, whatever groupe it is filed under",
    },
    NameRule {
        prefixes: &[],
        contains: &[
            "CENTRE D ACTION SOCIALE",
            "CTRE D ACTION SOCIALE",
            "CENTRE COMMUNAL D ACTION SOCIALE",
            "SYNDICAT INTERCOMMUNAL",
            "SYND INTERCOM",
            "SYNDICAT DES EAUX",
            "SYNDICAT DES TRANSPORTS",
            "SYNDICAT MIXTE",
            "SYND MIXTE",
        ],
        unless: &[],
        private_only: false,
        not_companies: false,
        then: Then::Is(EtablissementPublic),
        why: "a local public body (social-action centre, intercommunal or mixed syndicate, transport authority)",
    },
    NameRule {
        prefixes: &[],
        contains: &["SYND COPR", "SYND DE COPROPR", "SYNDICAT DES COPROPRIETAIRES", "SYNDICAT DE COPROPRIETE"],
        unless: &[],
        private_only: false,
        not_companies: false,
        then: Then::Is(Copropriete),
        why: "a syndicate of co-owners, even where filed with a public-law code",
    },
    NameRule {
        prefixes: &["COP DU ", "COP PASSAGE", "COPRO "],
        contains: &[
            " COPRO ",
            "COPROPRIETAIRE",
            "COPROP ",
            "SYND COPR",
            "SYND DE COPROPR",
            "INDIVISAIRE",
            "INDIVIS ",
            "INDISAIRE",
            "INDIVIDAIRE",
            "EN INDIVISION",
        ],
        unless: &[],
        private_only: true,
        not_companies: false,
        then: Then::Is(Copropriete),
        why: "co-owners or indivisaires of a building or a shared passage",
    },
    NameRule {
        prefixes: &["ASL "],
        contains: &[
            "SYNDICALE LIBRE",
            "SYND LIBRE",
            "ASS SYNDICALE",
            "ASSOCIATION SYNDICALE",
            "ASSOCIATION SYND ",
            "ASS FONCIERE URBAINE LIBRE",
        ],
        unless: &[],
        private_only: true,
        not_companies: false,
        then: Then::Is(Copropriete),
        why: "an association syndicale libre: the co-owners' common land of a lotissement",
    },
];

/// Bodies that neither their codes nor their names tell apart, known by their SIREN, each with
/// its source. The territory's SIREN lists and overrides still come first.
const KNOWN_SIRENS: &[(&str, Actor, &str)] = &[(
    "702017724",
    Sem,
    "SEMAPA (société d'étude, de maîtrise d'ouvrage et d'aménagement parisienne), a société \
     publique locale of the Ville de Paris since 2012 (Paris Rive Gauche), filed as a plain SA (5599)",
)];

fn groupe_actor(groupe: u8) -> Option<(Actor, &'static str)> {
    Some(match groupe {
        0 => (Actor::OtherLegalPerson, "personnes morales non remarquables"),
        1 => (Actor::Etat, "État"),
        2 => (Actor::Region, "Région"),
        3 => (Actor::Departement, "Département"),
        4 => (Actor::Commune, "Commune"),
        5 => (Actor::BailleurSocial, "Office HLM"),
        6 => (Actor::Sem, "personnes morales représentant des SEM"),
        7 => (Actor::Copropriete, "copropriétaires"),
        8 => (Actor::OtherLegalPerson, "associés"),
        9 => (Actor::EtablissementPublic, "établissements publics ou organismes associés"),
        _ => return None,
    })
}

/// Classifies owners with the layers above; built once per territory configuration.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    siren: HashMap<String, Actor>,
    overrides: HashMap<String, (Actor, String)>,
    policy: OwnerPolicy,
}

impl Classifier {
    /// Builds a classifier. Fails if an override has no reason.
    pub fn new(config: &ClassificationConfig) -> Result<Self> {
        let mut siren = HashMap::new();
        for (actor, list) in &config.siren {
            for s in list {
                siren.insert(s.trim().to_owned(), *actor);
            }
        }
        let mut overrides = HashMap::new();
        for o in &config.overrides {
            if o.reason.trim().is_empty() {
                return Err(ModelError::OverrideWithoutReason { siren: o.siren.clone() });
            }
            overrides.insert(o.siren.trim().to_owned(), (o.actor, o.reason.clone()));
        }
        Ok(Self { siren, overrides, policy: config.policy })
    }

    /// What the classification depends on, written the same way in every process: the SIREN
    /// lists and overrides in SIREN order, then the policy (`{:?}` of the maps is not: a
    /// `HashMap`'s order changes with each one made, so a snapshot file's key or an `ETag`
    /// taken from it would differ from one start to the next).
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut siren: Vec<(&String, &Actor)> = self.siren.iter().collect();
        siren.sort_by(|a, b| a.0.cmp(b.0));
        let mut overrides: Vec<(&String, &(Actor, String))> = self.overrides.iter().collect();
        overrides.sort_by(|a, b| a.0.cmp(b.0));
        format!("siren:{siren:?};overrides:{overrides:?};policy:{:?}", self.policy)
    }

    /// What a rule's conclusion means for this owner: an actor, with the layer that decided.
    fn resolve(&self, then: Then, groupe: Option<u8>) -> Option<(Actor, DecidedBy, &'static str)> {
        Some(match then {
            Then::Is(a) => (a, DecidedBy::FormeJuridique, ""),
            Then::PublicCompany => (self.policy.public_companies, DecidedBy::Policy, "policy public_companies"),
            Then::SocialHousingSem => (self.policy.social_housing_sem, DecidedBy::Policy, "policy social_housing_sem"),
            Then::Foreign => (self.policy.foreign, DecidedBy::Policy, "policy foreign"),
            Then::Groupe => {
                let (a, _) = groupe.and_then(groupe_actor)?;
                (a, DecidedBy::GroupePersonne, "")
            }
        })
    }

    /// Classifies one owner.
    ///
    /// ```
    /// use domania_core::{Actor, Classifier, DecidedBy, Owner, Siren};
    /// let c = Classifier::default();
    /// let oph = Owner { siren: Siren::new("344810825"), name: "PARIS HABITAT-OPH".into(),
    ///     groupe: Some(5), forme: Some("4140".into()), forme_abregee: Some("EPIC".into()) };
    /// let got = c.classify(&oph);
    /// assert_eq!(got.actor, Actor::BailleurSocial);
    /// assert_eq!(got.decided_by, DecidedBy::FormeJuridique);
    /// // The same legal form filed with the public bodies is an aménageur, not a landlord.
    /// let epa = Owner { groupe: Some(9), name: "EPA VILLE NOUVELLE".into(), ..oph };
    /// assert_eq!(c.classify(&epa).actor, Actor::EtablissementPublic);
    /// ```
    #[must_use]
    pub fn classify(&self, owner: &Owner) -> Classification {
        let key = owner.siren.as_str();
        if let Some((actor, reason)) = self.overrides.get(key) {
            return Classification {
                actor: *actor,
                decided_by: DecidedBy::Override,
                confidence: High,
                why: format!("override: {reason}"),
            };
        }
        if let Some(actor) = self.siren.get(key) {
            return Classification {
                actor: *actor,
                decided_by: DecidedBy::SirenList,
                confidence: High,
                why: format!("SIREN {key} listed as {actor} in the territory config"),
            };
        }
        if let Some((_, actor, why)) = KNOWN_SIRENS.iter().find(|k| k.0 == key) {
            return Classification {
                actor: *actor,
                decided_by: DecidedBy::NameRule,
                confidence: High,
                why: format!("known body: {why}"),
            };
        }
        // Upper case, apostrophes as spaces (the DGFiP writes `D ACTION` as often as `D'ACTION`),
        // runs of spaces folded, one space around, so phrases match as whole words.
        let name = format!(
            " {} ",
            owner.name.to_uppercase().replace('\'', " ").split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let forme = owner.forme.as_deref().map(str::trim).unwrap_or_default();
        let public_form = forme.starts_with('7');
        let company = forme.starts_with('5') || forme.starts_with('6');
        let by_codes = self.by_codes(owner);
        if !company && says_no_owner(&name) {
            let filed = by_codes.as_ref().map_or_else(String::new, |c| format!(" (its codes would say {})", c.actor));
            return Classification {
                actor: Actor::Unknown,
                decided_by: DecidedBy::NameRule,
                confidence: Confidence::Low,
                why: format!("name rule: {:?} says the owner is unknown{filed}", owner.name),
            };
        }
        if let Some(r) = NAME_RULES.iter().find(|r| {
            let excluded = (r.private_only && public_form)
                || (r.not_companies && company)
                || r.unless.iter().any(|u| name.contains(u));
            !excluded
                && (r.prefixes.iter().any(|p| name[1..].starts_with(p)) || r.contains.iter().any(|w| name.contains(w)))
        }) && let Some((actor, by, policy)) = self.resolve(r.then, owner.groupe)
        {
            let policy = if policy.is_empty() { String::new() } else { format!(", {policy}") };
            // A name that agrees with the codes takes nothing from them; one that says which
            // private body the codes' "other legal person" is refines them; a name alone, or
            // against the codes, is worth a look.
            let (confidence, codes) = match &by_codes {
                Some(c) if c.actor == actor => (c.confidence, format!("; the codes agree ({})", c.why)),
                Some(c) if c.actor == OtherLegalPerson && matches!(actor, Copropriete | Sem) => {
                    (Medium, format!("; the codes say only a private legal person ({})", c.why))
                }
                Some(c) => (Confidence::Low, format!("; against the codes, which say {} ({})", c.actor, c.why)),
                None => (Confidence::Low, "; only the name decides".to_owned()),
            };
            return Classification {
                actor,
                decided_by: if by == DecidedBy::Policy { DecidedBy::Policy } else { DecidedBy::NameRule },
                confidence,
                why: format!("name rule: {:?} is {}{policy}{codes}", owner.name, r.why),
            };
        }
        by_codes.unwrap_or_else(|| Classification {
            actor: Actor::Unknown,
            decided_by: DecidedBy::Nothing,
            confidence: Confidence::Low,
            why: "no groupe personne, forme juridique, name rule, SIREN list or override applies".to_owned(),
        })
    }

    /// What the DGFiP's codes say: the forme juridique (read with the groupe where it needs
    /// it), else the groupe alone.
    fn by_codes(&self, owner: &Owner) -> Option<Classification> {
        let groupe_text = owner.groupe.map_or_else(|| "no groupe".to_owned(), |g| format!("groupe {g}"));
        if let Some(forme) = owner.forme.as_deref().map(str::trim).filter(|f| !f.is_empty())
            && let Some(rule) = FORME_RULES.iter().find(|r| {
                r.codes.contains(forme) && r.groupes.is_none_or(|gs| owner.groupe.is_some_and(|g| gs.contains(&g)))
            })
            && let Some((actor, by, policy)) = self.resolve(rule.then, owner.groupe)
        {
            let confidence = if by == DecidedBy::GroupePersonne { Medium } else { rule.confidence };
            let policy = if policy.is_empty() { String::new() } else { format!(", {policy}") };
            return Some(Classification {
                actor,
                decided_by: by,
                confidence,
                why: format!("forme juridique {forme} ({}), {groupe_text}{policy}", rule.label),
            });
        }
        let (actor, label) = owner.groupe.and_then(groupe_actor)?;
        Some(Classification {
            actor,
            decided_by: DecidedBy::GroupePersonne,
            confidence: Medium,
            why: format!(
                "groupe personne {} ({label}); the forme juridique decides nothing",
                owner.groupe.unwrap_or_default()
            ),
        })
    }
}

/// Whether a name (upper case, spaces folded, one space around) says that the owner is not
/// known: `PROPRIETAIRE INCONNU`, or the word *propriétaire* followed by nothing but a parcel
/// reference (`PROPRIETAIRE ZA 51`). The DGFiP files such rows under whatever groupe the
/// parcel's land was (the State's, a public body's); they are unknown owners.
fn says_no_owner(name: &str) -> bool {
    if [" INCONNU ", " INCONNUS ", " INCONNUE ", " INCONNUES "].iter().any(|w| name.contains(w)) {
        return true;
    }
    let mut words = name.split_whitespace();
    if !matches!(words.next(), Some("PROPRIETAIRE" | "PROPRIETAIRES")) {
        return false;
    }
    let rest: Vec<&str> = words.collect();
    rest.is_empty()
        || (rest.iter().all(|w| w.len() <= 4 && w.chars().all(|c| c.is_ascii_alphanumeric()))
            && rest.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())))
}

/// The actor of a parcel from the actors of its owners (right `P` only, one entry per owner),
/// in a commune an owner file covers: none → [`Actor::Private`] (the PPM file lists legal
/// persons only); all the same → that actor; otherwise [`Actor::Indivision`].
#[must_use]
pub fn parcel_actor(owner_actors: &[Actor]) -> Actor {
    actor_of(owner_actors.iter().copied(), true)
}

/// The rule behind [`parcel_actor`] and [`crate::shares::Holding::actor`]: the owners' actor
/// when they agree, [`Actor::Indivision`] when they do not, and with no owner
/// [`Actor::Private`] where an owner file covers the parcel (`covered`), else
/// [`Actor::OwnerUnknown`].
#[must_use]
pub fn actor_of(mut owner_actors: impl Iterator<Item = Actor>, covered: bool) -> Actor {
    match owner_actors.next() {
        None if covered => Actor::Private,
        None => Actor::OwnerUnknown,
        Some(first) if owner_actors.all(|a| a == first) => first,
        Some(_) => Actor::Indivision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Siren;

    #[test]
    fn a_classifier_is_fingerprinted_alike_however_its_maps_are_ordered() {
        let config = |n: usize| ClassificationConfig {
            siren: BTreeMap::from([
                (Actor::BailleurSocial, (0..n).map(|i| format!("9000{i:05}")).collect()),
                (Actor::CommunauteUrbaine, vec!["200059889".to_owned()]),
            ]),
            ..ClassificationConfig::default()
        };
        // Each map made anew is hashed with keys of its own: forty SIRENs come out of two maps
        // in two orders, yet the two fingerprints are one.
        let made: Vec<Classifier> = (0..4).map(|_| Classifier::new(&config(40)).unwrap()).collect();
        let debugs: Vec<String> = made.iter().map(|c| format!("{c:?}")).collect();
        assert!(debugs.iter().any(|d| *d != debugs[0]), "what the key was made of before");
        let fingerprints: Vec<String> = made.iter().map(Classifier::fingerprint).collect();
        assert!(fingerprints.iter().all(|f| *f == fingerprints[0]));
        assert_ne!(Classifier::new(&config(39)).unwrap().fingerprint(), fingerprints[0]);
        let mut other = config(40);
        other.policy.foreign = Actor::Etat;
        assert_ne!(Classifier::new(&other).unwrap().fingerprint(), fingerprints[0]);
    }

    fn owner(siren: &str, groupe: u8, forme: &str) -> Owner {
        Owner {
            siren: Siren::new(siren),
            name: "X".into(),
            groupe: Some(groupe),
            forme: Some(forme.into()),
            forme_abregee: None,
        }
    }

    #[test]
    fn layers_win_in_order() {
        let cfg: ClassificationConfig = toml::from_str(
            r#"
            [siren]
            communaute_urbaine = ["200059889"]
            [[override]]
            siren = "552049447"
            actor = "etat"
            reason = "test"
            "#,
        )
        .unwrap();
        let c = Classifier::new(&cfg).unwrap();
        // group only
        assert_eq!(c.classify(&owner("1", 4, "9999")).decided_by, DecidedBy::GroupePersonne);
        // forme beats group: a communauté d'agglomération filed under group 9
        let coag = c.classify(&owner("243500139", 9, "7348"));
        assert_eq!((coag.actor, coag.decided_by), (Actor::CommunauteUrbaine, DecidedBy::FormeJuridique));
        // SIREN beats forme
        let gpso = c.classify(&owner("200059889", 4, "7210"));
        assert_eq!((gpso.actor, gpso.decided_by), (Actor::CommunauteUrbaine, DecidedBy::SirenList));
        // override beats everything
        let o = c.classify(&owner("552049447", 9, "5599"));
        assert_eq!((o.actor, o.decided_by), (Actor::Etat, DecidedBy::Override));
        assert!(o.why.contains("test"));
    }

    #[test]
    fn generic_sa_is_bailleur_only_in_group_5() {
        let c = Classifier::default();
        assert_eq!(c.classify(&owner("552038200", 5, "5599")).actor, Actor::BailleurSocial);
        assert_eq!(c.classify(&owner("552049447", 9, "5599")).actor, Actor::EtablissementPublic);
        assert_eq!(c.classify(&owner("380129866", 0, "5599")).actor, Actor::OtherLegalPerson);
        // Ville de Paris: group 4, forme 7229 (ambiguous) -> the group decides.
        let vdp = c.classify(&owner("217500016", 4, "7229"));
        assert_eq!((vdp.actor, vdp.decided_by), (Actor::Commune, DecidedBy::GroupePersonne));
    }

    #[test]
    fn override_needs_reason() {
        let cfg = ClassificationConfig {
            siren: BTreeMap::new(),
            overrides: vec![OwnerOverride { siren: "1".into(), actor: Actor::Etat, reason: " ".into() }],
            policy: OwnerPolicy::default(),
        };
        assert!(matches!(Classifier::new(&cfg), Err(ModelError::OverrideWithoutReason { .. })));
    }

    #[test]
    fn parcel_actor_rules() {
        assert_eq!(parcel_actor(&[]), Actor::Private);
        assert_eq!(parcel_actor(&[Actor::Commune, Actor::Commune]), Actor::Commune);
        assert_eq!(parcel_actor(&[Actor::Commune, Actor::BailleurSocial]), Actor::Indivision);
    }
}
