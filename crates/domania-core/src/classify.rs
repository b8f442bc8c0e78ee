//! Owner classification: which [`Actor`] a legal person is.
//!
//! Decided in layers, each later layer overriding the earlier ones:
//! 1. the PPM *groupe personne* (0–9);
//! 2. the *forme juridique* (INSEE legal category), because real files file
//!    intercommunalities under groups 0, 3, 4 or 9 and régies under group 4;
//! 3. SIREN lists of the territory configuration;
//! 4. manual overrides, each with its reason.
//!
//! Every [`Classification`] records which layer decided it, so a report can show why.

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
            DecidedBy::SirenList => "siren_list",
            DecidedBy::Override => "override",
        }
    }
}

/// The outcome of classifying one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub actor: Actor,
    pub decided_by: DecidedBy,
    /// Human explanation, e.g. `forme juridique 4140 (office public de l'habitat)`.
    pub why: String,
}

/// One row of the *forme juridique* layer.
struct FormeRule {
    codes: &'static [&'static str],
    /// When set, the rule applies only to owners of this *groupe personne*.
    groupe: Option<u8>,
    actor: Actor,
    label: &'static str,
}

/// The *forme juridique* layer. Codes are INSEE *catégories juridiques* (niveau III).
///
/// 5599/5699 are the generic *SA à conseil d'administration / à directoire* categories: in the
/// Paris PPM file they hold SA d'HLM (Élogie-SIEMP, RIVP, Immobilière 3F, filed in group 5) but
/// also SNCF, Orange, BPI (groups 0 and 9). They therefore mean "bailleur" only together with
/// group 5; on their own they leave the group's decision standing. 7229 (*collectivité
/// territoriale à statut particulier*) is likewise ambiguous (Ville de Paris, Métropole de Lyon,
/// Corsica) and decides nothing.
const FORME_RULES: &[FormeRule] = &[
    FormeRule { codes: &["7343"], groupe: None, actor: Actor::CommunauteUrbaine, label: "communauté urbaine" },
    FormeRule { codes: &["7344"], groupe: None, actor: Actor::CommunauteUrbaine, label: "métropole" },
    FormeRule { codes: &["7346"], groupe: None, actor: Actor::CommunauteUrbaine, label: "communauté de communes" },
    FormeRule { codes: &["7347"], groupe: None, actor: Actor::CommunauteUrbaine, label: "communauté de villes" },
    FormeRule {
        codes: &["7348"], groupe: None, actor: Actor::CommunauteUrbaine, label: "communauté d'agglomération"
    },
    FormeRule { codes: &["7210"], groupe: None, actor: Actor::Commune, label: "commune" },
    FormeRule { codes: &["7220"], groupe: None, actor: Actor::Departement, label: "département" },
    FormeRule { codes: &["7230"], groupe: None, actor: Actor::Region, label: "région" },
    FormeRule { codes: &["4140"], groupe: None, actor: Actor::BailleurSocial, label: "office public de l'habitat" },
    FormeRule { codes: &["5546", "5646"], groupe: None, actor: Actor::BailleurSocial, label: "SA d'HLM" },
    FormeRule {
        codes: &["5547", "5647"],
        groupe: None,
        actor: Actor::BailleurSocial,
        label: "SA coopérative de production d'HLM",
    },
    FormeRule {
        codes: &["5599", "5699"],
        groupe: Some(5),
        actor: Actor::BailleurSocial,
        label: "SA filed as Office HLM (groupe 5)",
    },
    FormeRule { codes: &["5515", "5615"], groupe: None, actor: Actor::Sem, label: "société d'économie mixte" },
    FormeRule { codes: &["9110"], groupe: None, actor: Actor::Copropriete, label: "syndicat de copropriété" },
    FormeRule {
        codes: &["7111", "7112", "7113", "7120", "7150", "7160", "7171", "7172", "7179", "7190"],
        groupe: None,
        actor: Actor::Etat,
        label: "administration de l'État",
    },
    FormeRule {
        codes: &[
            "4110", "4120", "4150", "7321", "7322", "7323", "7331", "7340", "7341", "7342", "7345", "7352", "7353",
            "7354", "7355", "7356", "7357", "7361", "7362", "7363", "7364", "7365", "7366", "7371", "7372", "7373",
            "7378", "7379", "7381", "7382", "7383", "7384", "7385", "7389", "7410", "7430", "7450",
        ],
        groupe: None,
        actor: Actor::EtablissementPublic,
        label: "établissement public",
    },
];

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
        Ok(Self { siren, overrides })
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
    /// ```
    #[must_use]
    pub fn classify(&self, owner: &Owner) -> Classification {
        let key = owner.siren.as_str();
        if let Some((actor, reason)) = self.overrides.get(key) {
            return Classification {
                actor: *actor,
                decided_by: DecidedBy::Override,
                why: format!("override: {reason}"),
            };
        }
        if let Some(actor) = self.siren.get(key) {
            return Classification {
                actor: *actor,
                decided_by: DecidedBy::SirenList,
                why: format!("SIREN {key} listed as {actor} in the territory config"),
            };
        }
        if let Some(forme) = owner.forme.as_deref() {
            let forme = forme.trim();
            if let Some(rule) = FORME_RULES
                .iter()
                .find(|r| r.codes.contains(&forme) && (r.groupe.is_none() || r.groupe == owner.groupe))
            {
                return Classification {
                    actor: rule.actor,
                    decided_by: DecidedBy::FormeJuridique,
                    why: format!("forme juridique {forme} ({})", rule.label),
                };
            }
        }
        if let Some((actor, label)) = owner.groupe.and_then(groupe_actor) {
            return Classification {
                actor,
                decided_by: DecidedBy::GroupePersonne,
                why: format!("groupe personne {} ({label})", owner.groupe.unwrap_or_default()),
            };
        }
        Classification {
            actor: Actor::Unknown,
            decided_by: DecidedBy::Nothing,
            why: "no groupe personne, forme juridique, SIREN list or override applies".to_owned(),
        }
    }
}

/// The actor of a parcel from the actors of its owners (right `P` only, one entry per owner):
/// none → [`Actor::Private`] (the PPM file lists legal persons only); all the same → that actor;
/// otherwise [`Actor::Indivision`].
#[must_use]
pub fn parcel_actor(owner_actors: &[Actor]) -> Actor {
    match owner_actors.split_first() {
        None => Actor::Private,
        Some((first, rest)) if rest.iter().all(|a| a == first) => *first,
        Some(_) => Actor::Indivision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Siren;

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
