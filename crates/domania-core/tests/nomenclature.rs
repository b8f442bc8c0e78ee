//! Owner classification checked against the INSEE nomenclature of *catégories juridiques*
//! (niveau III) on every owner (right `P`) of the two real PPM files.
//!
//! The expectations below are written from the nomenclature's labels and the DGFiP's groupes,
//! not from the classifier: each row says which (groupe, forme, name) it covers, the actor
//! expected, and its source. Every owner of the files must be covered by a row, so a new
//! combination in a new vintage fails here until someone decides it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use domania_core::{Actor, ClassificationConfig, Classifier, Confidence, Owner, Right};
use domania_io::ppm::read_ppm;

use Actor::{
    BailleurSocial as Hlm, CommunauteUrbaine as Epci, Commune, Copropriete as Copro, Departement,
    EtablissementPublic as Ep, Etat, OtherLegalPerson as Other, Region, Sem,
};

fn data(file: &str) -> PathBuf {
    let dir = std::env::var_os("DOMANIA_DATA")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"), PathBuf::from);
    let p = dir.join(file);
    assert!(p.exists(), "real data file {} is missing (set DOMANIA_DATA)", p.display());
    p
}

/// One expectation: groupes (empty: any), formes (empty: any), words one of which the upper-case
/// name holds (empty: any), the actor, and where the expectation comes from.
struct Expect {
    groupes: &'static [u8],
    formes: &'static [&'static str],
    words: &'static [&'static str],
    actor: Actor,
    source: &'static str,
}

const fn e(
    groupes: &'static [u8],
    formes: &'static [&'static str],
    words: &'static [&'static str],
    actor: Actor,
    source: &'static str,
) -> Expect {
    Expect { groupes, formes, words, actor, source }
}

/// First match wins: the name-specific rows come before the generic ones.
const EXPECTATIONS: &[Expect] = &[
    // Foreign states, embassies, consulates, international organisations (policy `foreign`,
    // default other_legal_person), whatever code or groupe the DGFiP gave them.
    e(
        &[],
        &[],
        &[
            "AMBASSADE",
            "CONSULAT",
            "ETAT D IRAN",
            "ETAT LITUANIEN",
            "ETAT ROUMAIN",
            "ETAT DU BURKINA",
            "REPUBLIQUE ALGERIENNE",
            "REPUBLIQUE DE POLOGNE",
            "ROYAUME DE BELGIQUE",
            "FEDERATION DE RUSSIE",
            "ORGANISATION EUROPEENNE",
        ],
        Other,
        "INSEE 3210 État étranger / 3205 organisation internationale; DGFiP files some under 7113",
    ),
    e(
        &[],
        &["3210", "3220", "3290"],
        &[],
        Other,
        "INSEE 32xx personne morale de droit étranger (3220: a foreign company)",
    ),
    // National public bodies filed as the State.
    e(
        &[1],
        &["7113"],
        &["RECHERCHE SCIENTIFIQUE", "CAISSE NATIONALE D ASSU"],
        Ep,
        "CNRS is an EPST, the CNAV a social-security fund: public bodies, not the State",
    ),
    e(&[], &[], &["CAISSE DES DEPOTS"], Ep, "Caisse des dépôts: établissement public spécial (7490)"),
    // Names that say the owner is not known, whatever groupe the DGFiP filed them under.
    e(
        &[],
        &[],
        &["PROPRIETAIRE INCONNU", "PROPRIETAIRES INCONNUS", "PROPRIETAIRE ZA 51"],
        Actor::Unknown,
        "no owner is named: an unknown owner, not the State nor a public body",
    ),
    // Syndicates of co-owners, even under a public-law code (7490 groupe 0).
    e(&[], &[], &["SYND COPR"], Copro, "INSEE 9110 syndicat de copropriété, whatever code it was filed under"),
    // Local public companies: SPL and SEM (SEMAPA, an SPL since 2012, by its SIREN).
    e(
        &[],
        &["5599", "5515", "5415"],
        &["SOCIETE PUBLIQUE LOCALE", "ECONOMIE MIXTE", "SOC ETUDE MAITRISE OUVRAGE AMENAGEMENT PARISIENNE"],
        Sem,
        "SPL / SEM: entreprises publiques locales (no code of their own in the nomenclature)",
    ),
    e(&[], &["5599"], &["REASSURANCE"], Other, "Caisse centrale de réassurance: an insurance SA, not a landlord"),
    e(
        &[],
        &[],
        &["PREFECTURE DE POLICE"],
        Etat,
        "the Préfecture de police is a service of the State (filed as 9900, 9220 or 7179)",
    ),
    e(
        &[],
        &["9900"],
        &["SYNDICAT DES TRANSPORTS"],
        Ep,
        "Syndicat des transports parisiens: a public body (now IDF Mobilités)",
    ),
    e(
        &[],
        &["9900", "8110"],
        &["ASSURANCE MALADIE"],
        Other,
        "INSEE 8110 régime général de sécurité sociale (CPAM, CRAMIF): category 8, private-law bodies",
    ),
    // Co-owners, indivisaires and ASL filed as 9900 (or SCI, or under groupe 1).
    e(
        &[],
        &["9900", "6540", "9110"],
        &[
            "COPROP",
            "COPRO ",
            "COP DU",
            "COP PASSAGE",
            "INDIVIS",
            "INDISAIRE",
            "INDIVIDAIRE",
            "SYNDICAT DES COPROPRIETAIRES",
        ],
        Copro,
        "DGFiP 9900 'autre personne morale de droit privé' naming co-owners of a shared passage",
    ),
    e(
        &[],
        &["9900", "9220"],
        &["SYNDICALE", "SYND LIBRE", "ASSOCIATION SYND ", "ASL ", "FONCIERE URBAINE LIBRE"],
        Copro,
        "INSEE 9150 association syndicale libre, filed as 9900 or 9220",
    ),
    e(
        &[],
        &["9900", "7210"],
        &["CENTRE D ACTION SOCIALE", "SYNDICAT DES EAUX"],
        Ep,
        "INSEE 7361 CCAS / 7353 syndicat, filed as 9900 (or a CCAS section as 7210, commune)",
    ),
    // The nomenclature, code by code.
    e(&[], &["4110", "4120"], &[], Ep, "INSEE 4110/4120 EPIC national (ONF, EPF IdF, Grand Paris Aménagement, RATP)"),
    e(&[5], &["4140"], &[], Hlm, "INSEE 4140 EPIC local + DGFiP groupe 5 Office HLM: an OPH"),
    e(&[9], &["4140"], &[], Ep, "INSEE 4140 EPIC local under groupe 9: EPA de Saint-Quentin, EPF des Yvelines"),
    e(&[], &["4150", "4160"], &[], Ep, "INSEE 4150 régie d'une collectivité (Eau de Paris), 4160 Banque de France"),
    e(
        &[5],
        &["5546", "5646", "5547", "5599", "5699", "5308", "5710"],
        &[],
        Hlm,
        "INSEE 5546/5646 SA d'HLM, 5547 coopérative HLM; any company under groupe 5 Office HLM",
    ),
    e(&[5], &["5615"], &[], Hlm, "INSEE 5615 SEM filed under groupe 5 (CDC Habitat): policy social_housing_sem"),
    e(&[], &["5415", "5515", "5615"], &[], Sem, "INSEE 5415 SARL / 5515, 5615 SA d'économie mixte"),
    e(&[6], &["5599", "5710"], &[], Sem, "companies under DGFiP groupe 6 (personnes morales représentant des SEM)"),
    e(
        &[9],
        &["5510", "5599"],
        &[],
        Ep,
        "SA nationale (La Poste), SNCF companies under groupe 9: policy public_companies",
    ),
    e(
        &[0, 7],
        &["5192", "5202", "5308", "5460", "5499", "5520", "5530", "5560", "5599", "5699", "5710"],
        &[],
        Other,
        "INSEE 5xxx sociétés commerciales",
    ),
    e(
        &[0, 1, 7, 9],
        &["6220", "6411", "6521", "6534", "6540", "6541", "6542", "6596", "6598", "6599"],
        &[],
        Other,
        "INSEE 6xxx sociétés civiles, GIE, mutuelles d'assurance",
    ),
    e(&[], &["7113", "7120", "7172", "7179"], &[], Etat, "INSEE 71xx administration de l'État"),
    e(&[], &["7210"], &[], Commune, "INSEE 7210 commune"),
    e(&[], &["7220"], &[], Departement, "INSEE 7220 département"),
    e(&[], &["7230"], &[], Region, "INSEE 7230 région"),
    e(&[4], &["7229"], &[], Commune, "INSEE 7229 collectivité à statut particulier under groupe 4: Ville de Paris"),
    e(&[0], &["7229"], &[], Other, "INSEE 7229 under groupe 0: a foreign state's land (ETAT DU PORTUGAL)"),
    e(
        &[],
        &["7346", "7348"],
        &[],
        Epci,
        "INSEE 7346 communauté de communes, 7348 communauté d'agglomération: EPCI à fiscalité propre",
    ),
    e(&[7], &["7490"], &[], Copro, "INSEE 7490 under groupe 7 copropriétaires: syndicates of co-owners"),
    e(
        &[],
        &["7353", "7361", "7364", "7381", "7383", "7389", "7410", "7490"],
        &[],
        Ep,
        "INSEE 73xx/74xx établissements publics, syndicats, GIP (Académie française 7490)",
    ),
    e(
        &[],
        &["8110", "8120", "8130", "8210", "8310", "8450"],
        &[],
        Other,
        "INSEE 8 organismes privés spécialisés: 8110/8120 sécurité sociale, 8130 retraite complémentaire, 8210 \
         mutuelle, 8310 comité, 8450 ordre — private-law bodies",
    ),
    e(&[], &["9110"], &[], Copro, "INSEE 9110 syndicat de copropriété"),
    e(&[], &["9150"], &[], Copro, "INSEE 9150 association syndicale libre"),
    e(&[5], &["9220"], &[], Hlm, "association under groupe 5: approved social landlord (FREHA)"),
    e(&[7], &["9220"], &[], Copro, "association under groupe 7: syndicate of co-owners"),
    e(&[1], &["9220"], &[], Etat, "association filed under groupe 1 État: the group's word (Préfecture de police)"),
    e(&[0], &["9210", "9220", "9230"], &[], Other, "INSEE 92xx associations"),
    e(&[], &["9300"], &[], Other, "INSEE 9300 fondation: private, even under groupe 9 (Institut Pasteur)"),
    e(&[0], &["9900"], &[], Other, "INSEE 9900 under groupe 0: private"),
    e(&[1], &["9900"], &[], Etat, "9900 under groupe 1: the group's word (ETAT - FRANCE DOMAINE)"),
    e(&[4], &["9900"], &[], Commune, "9900 under groupe 4: the group's word"),
    e(&[7], &["9900"], &[], Copro, "9900 under groupe 7: the group's word"),
    e(&[9], &["9900"], &[], Ep, "9900 under groupe 9: the group's word"),
];

fn expectation(o: &Owner) -> Option<&'static Expect> {
    let name = o.name.to_uppercase().replace('\'', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    let forme = o.forme.as_deref().unwrap_or("");
    EXPECTATIONS.iter().find(|x| {
        (x.groupes.is_empty() || o.groupe.is_some_and(|g| x.groupes.contains(&g)))
            && (x.formes.is_empty() || x.formes.contains(&forme))
            && (x.words.is_empty() || x.words.iter().any(|w| name.contains(w)))
    })
}

/// An owner as the files spell it: SIREN, name, groupe, forme.
type OwnerKey = (String, String, Option<u8>, Option<String>);

fn owners() -> BTreeMap<OwnerKey, (Owner, usize)> {
    let mut out: BTreeMap<_, (Owner, usize)> = BTreeMap::new();
    for f in ["dgfip_pm/PM_25_NB_750_part_003.csv", "dgfip_pm/PM_25_NB_780_part_008.csv"] {
        let read = read_ppm(&data(f), None).unwrap();
        for r in read.rows.into_iter().filter(|r| r.right == Right::Proprietaire) {
            let key = (r.owner.siren.0.clone(), r.owner.name.clone(), r.owner.groupe, r.owner.forme.clone());
            out.entry(key).or_insert_with(|| (r.owner.clone(), 0)).1 += 1;
        }
    }
    out
}

#[test]
fn every_owner_of_the_real_files_is_classified_as_the_nomenclature_says() {
    let c = Classifier::default();
    let owners = owners();
    let mut wrong = Vec::new();
    let mut uncovered = Vec::new();
    let mut by_confidence: BTreeMap<Confidence, usize> = BTreeMap::new();
    for (o, _) in owners.values() {
        let got = c.classify(o);
        *by_confidence.entry(got.confidence).or_default() += 1;
        match expectation(o) {
            None => uncovered.push(format!("groupe {:?} forme {:?} {} {}", o.groupe, o.forme, o.siren.0, o.name)),
            Some(x) if x.actor != got.actor => wrong.push(format!(
                "{} {} (groupe {:?}, forme {:?}): expected {} [{}], got {} ({})",
                o.siren.0, o.name, o.groupe, o.forme, x.actor, x.source, got.actor, got.why
            )),
            Some(_) => {}
        }
    }
    assert!(uncovered.is_empty(), "owners no expectation covers:\n{}", uncovered.join("\n"));
    assert!(wrong.is_empty(), "{} of {} owners misclassified:\n{}", wrong.len(), owners.len(), wrong.join("\n"));
    assert!(owners.len() > 1500, "{} owners", owners.len());
    // Low exists (the layers disagree, or only a name decides), and stays the exception.
    let low = by_confidence.get(&Confidence::Low).copied().unwrap_or(0);
    assert!((5..100).contains(&low), "{by_confidence:?}");
}

#[test]
fn the_cases_the_issue_names() {
    let c = Classifier::default();
    let owners = owners();
    let actor_of = |siren: &str| {
        let (o, _) =
            owners.values().find(|(o, _)| o.siren.0 == siren).unwrap_or_else(|| panic!("{siren} not in the files"));
        c.classify(o)
    };
    for (siren, actor, what) in [
        ("344810825", Hlm, "Paris Habitat-OPH (4140, groupe 5)"),
        ("478062235", Hlm, "OPH de Versailles (4140, groupe 5)"),
        ("729800102", Ep, "EPA de la ville nouvelle de Saint-Quentin (4140, groupe 9): not a landlord"),
        ("493348353", Ep, "EPF des Yvelines (4140, groupe 9)"),
        ("470801168", Hlm, "CDC Habitat (5615, groupe 5): policy social_housing_sem"),
        ("412280737", Ep, "SNCF Réseau (5599, groupe 9): policy public_companies"),
        ("356000000", Ep, "La Poste (5510, groupe 9): policy public_companies"),
        ("775684897", Other, "Institut Pasteur (9300, groupe 9): a foundation"),
        ("U28437120", Other, "CERN (7389, groupe 9): an international organisation"),
        ("U23115914", Ep, "CNRS (7113, groupe 1): an EPST, not the State"),
        ("U23154284", Other, "ETAT D IRAN (7113, groupe 1): a foreign state"),
        ("784656415", Other, "Ambassade du Burundi (3210, groupe 1)"),
        ("180020026", Ep, "Caisse des dépôts (7490, groupe 1)"),
        ("130023138", Ep, "Académie française (7490, groupe 0)"),
        ("692044886", Sem, "SAEMAR St Blaise (5415 SARL d'économie mixte)"),
        ("217500016", Commune, "Ville de Paris (7229, groupe 4)"),
        ("247800451", Epci, "CA Saint-Quentin-en-Yvelines (7348, groupe 9)"),
        ("522085760", Sem, "SPL Paris et Métropole Aménagement (5599, groupe 0): a local public company"),
        ("702017724", Sem, "SEMAPA (5599, groupe 0): an SPL of the Ville de Paris"),
        ("039034947", Copro, "SYND COPR 112 R DE CRIMEE (7490, groupe 0): co-owners, not a public body"),
        ("U23082469", Ep, "Syndicat des transports parisiens (9900, groupe 0): a public body"),
        ("U23153793", Etat, "Préfecture de police de Paris (9900, groupe 0): the State"),
        ("323841353", Other, "CPAM de Paris (8110): a private-law body of category 8"),
        ("851607465", Other, "CPSTI (8110): a private-law body of category 8"),
        ("775671886", Other, "CRPCEN (8120): a private-law body of category 8"),
        ("U23217332", Other, "CRAMIF (9900): a private-law body of category 8"),
        ("U23160115", Actor::Unknown, "PROPRIETAIRE INCONNU (7113, groupe 1): an unknown owner"),
        ("U23332387", Actor::Unknown, "PROPRIETAIRE ZA 51 (9900, groupe 9): an unknown owner"),
    ] {
        let got = actor_of(siren);
        assert_eq!(got.actor, actor, "{what}: {}", got.why);
    }
    // The Caisse centrale de réassurance is not a bailleur whatever its groupe (it is filed
    // under 0 and 5).
    for (o, _) in owners.values().filter(|(o, _)| o.siren.0 == "388202533") {
        assert_eq!(c.classify(o).actor, Other, "groupe {:?}", o.groupe);
    }
    // Confidence: the name and the codes agreeing keep the codes' confidence (every syndicate
    // of co-owners of forme 9110 is high); a name overruling the codes is low.
    for (o, _) in owners.values().filter(|(o, _)| o.forme.as_deref() == Some("9110")) {
        assert_eq!(c.classify(o).confidence, Confidence::High, "{}", o.name);
    }
    assert_eq!(actor_of("U23160115").confidence, Confidence::Low);
    assert_eq!(actor_of("039034947").confidence, Confidence::Low);
    assert_eq!(actor_of("323841353").confidence, Confidence::High, "the name and forme 8110 agree");
    // Policy choices are the territory's: SNCF as a company, CDC Habitat as an SEM, the SPL
    // listed as an SEM (which it already is by its name).
    let cfg: ClassificationConfig = toml::from_str(
        r#"
        [siren]
        sem = ["522085760"]
        [policy]
        public_companies = "other_legal_person"
        social_housing_sem = "sem"
        "#,
    )
    .unwrap();
    let local = Classifier::new(&cfg).unwrap();
    let with = |siren: &str| {
        let (o, _) = owners.values().find(|(o, _)| o.siren.0 == siren).unwrap();
        local.classify(o)
    };
    assert_eq!(with("412280737").actor, Other);
    assert_eq!(with("470801168").actor, Sem);
    assert_eq!(with("522085760").actor, Sem);
    assert_eq!(with("412280737").decided_by.as_str(), "policy");
}
