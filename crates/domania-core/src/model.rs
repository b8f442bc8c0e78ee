//! Core value types: [`Idu`], [`Siren`], [`Actor`], [`Owner`], [`Parcel`].

use std::fmt;

use geo_types::MultiPolygon;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// An INSEE commune code: five characters, digits but Corsica's `2A`/`2B` (`78440`, `2A004`).
#[must_use]
pub fn is_insee_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[0].is_ascii_digit()
        && (b[1].is_ascii_digit() || matches!(b[1], b'A' | b'B'))
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// The 14-character national parcel identifier: INSEE commune (5) + prefix (3) + section (2) + number (4).
///
/// ```
/// use domania_core::Idu;
/// let idu = Idu::from_parts("75118", "", "A", "2").unwrap();
/// assert_eq!(idu.as_str(), "751180000A0002");
/// assert_eq!(idu.commune(), "75118");
/// assert_eq!(idu.section(), "0A");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Idu(String);

impl Idu {
    /// Parses a complete 14-character IDU.
    pub fn parse(value: &str) -> Result<Self> {
        let err = |reason| ModelError::InvalidIdu { value: value.to_owned(), reason };
        if value.len() != 14 || !value.is_ascii() {
            return Err(err("expected 14 ASCII characters"));
        }
        let b = value.as_bytes();
        // INSEE code: 2 digits or 2A/2B (Corsica), then 3 digits.
        let dep_ok = b[0].is_ascii_digit() && (b[1].is_ascii_digit() || matches!(b[1], b'A' | b'B'));
        if !dep_ok || !b[2..5].iter().all(u8::is_ascii_digit) {
            return Err(err("the first 5 characters must be an INSEE commune code"));
        }
        if !b[5..8].iter().all(u8::is_ascii_digit) {
            return Err(err("characters 6-8 (prefix) must be digits"));
        }
        if !b[8..10].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) {
            return Err(err("characters 9-10 (section) must be digits or capital letters"));
        }
        if !b[10..14].iter().all(u8::is_ascii_digit) {
            return Err(err("characters 11-14 (number) must be digits"));
        }
        Ok(Self(value.to_owned()))
    }

    /// Builds an IDU from its parts as files spell them: an empty prefix means `000`,
    /// the section is left-padded with `0` to 2, the number with `0` to 4.
    pub fn from_parts(commune: &str, prefixe: &str, section: &str, numero: &str) -> Result<Self> {
        let prefixe = if prefixe.trim().is_empty() { "000" } else { prefixe.trim() };
        let s = format!(
            "{commune}{prefixe:0>3}{section:0>2}{numero:0>4}",
            commune = commune.trim(),
            section = section.trim(),
            numero = numero.trim()
        );
        Self::parse(&s)
    }

    /// Reads an IDU as people write it: lower case, with spaces, dashes or dots between the
    /// parts, the prefix left out, the section and the number unpadded. `91216ab37`,
    /// `91216 000 AB 0037` and `91216-AB-37` all give `91216000AB0037`; a section of one letter
    /// is padded with `0` (`751180000A0002`).
    ///
    /// ```
    /// use domania_core::Idu;
    /// assert_eq!(Idu::normalise("91216ab37").unwrap().as_str(), "91216000AB0037");
    /// assert_eq!(Idu::normalise("75118 000 A 2").unwrap().as_str(), "751180000A0002");
    /// assert!(Idu::normalise("91216").is_err());
    /// ```
    pub fn normalise(value: &str) -> Result<Self> {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.' | '/'))
            .collect::<String>()
            .to_ascii_uppercase();
        if let Ok(idu) = Self::parse(&compact) {
            return Ok(idu);
        }
        let err = |reason| ModelError::InvalidIdu { value: value.to_owned(), reason };
        let shape = "expected commune (5) + prefix (3, may be left out) + section (1-2 letters) + number \
                     (1-4 digits), e.g. 91216000AB0037 or 91216 AB 37";
        if compact.len() < 7 || !compact.is_ascii() {
            return Err(err(shape));
        }
        let (commune, rest) = compact.split_at(5);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (lead, rest) = rest.split_at(digits);
        let letters = rest.bytes().take_while(u8::is_ascii_uppercase).count();
        let (section, number) = rest.split_at(letters);
        if !(1..=2).contains(&letters)
            || number.is_empty()
            || number.len() > 4
            || !number.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err(shape));
        }
        // `lead` is the prefix, or the prefix and the `0` of a one-letter section.
        let (prefixe, section) = match (lead.len(), letters) {
            (0..=3, _) => (lead.to_owned(), section.to_owned()),
            (4, 1) => (lead[..3].to_owned(), format!("{}{section}", &lead[3..])),
            _ => return Err(err(shape)),
        };
        let prefixe = if prefixe.is_empty() { "000".to_owned() } else { format!("{prefixe:0>3}") };
        Self::parse(&format!("{commune}{prefixe}{section:0>2}{number:0>4}")).map_err(|_| err(shape))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
    #[must_use]
    pub fn commune(&self) -> &str {
        &self.0[0..5]
    }
    #[must_use]
    pub fn prefixe(&self) -> &str {
        &self.0[5..8]
    }
    #[must_use]
    pub fn section(&self) -> &str {
        &self.0[8..10]
    }
    #[must_use]
    pub fn numero(&self) -> &str {
        &self.0[10..14]
    }
}

impl fmt::Display for Idu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Idu {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}
impl From<Idu> for String {
    fn from(value: Idu) -> Self {
        value.0
    }
}

/// An owner identifier as DGFiP publishes it: a 9-digit SIREN, or a pseudo id such as `U31217111`
/// for legal persons that have none. Kept verbatim (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Siren(pub String);

impl Siren {
    #[must_use]
    pub fn new(value: &str) -> Self {
        Self(value.trim().to_owned())
    }
    /// True for a real 9-digit SIREN (as opposed to a DGFiP pseudo id).
    #[must_use]
    pub fn is_real(&self) -> bool {
        self.0.len() == 9 && self.0.bytes().all(|b| b.is_ascii_digit())
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Siren {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of actor that hold land, as the management rules see them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The intercommunality (EPCI à fiscalité propre): communauté urbaine, métropole,
    /// communauté d'agglomération or de communes.
    CommunauteUrbaine,
    Commune,
    BailleurSocial,
    Etat,
    Departement,
    Region,
    EtablissementPublic,
    Sem,
    Copropriete,
    OtherLegalPerson,
    /// Held by natural persons: a parcel with no `P` right in the PPM file.
    Private,
    /// Held jointly by owners of different actors (indivision).
    Indivision,
    /// An owner that no layer could classify.
    #[default]
    Unknown,
    /// No owner file (PPM) covers the parcel's commune: whether a legal person or natural
    /// persons hold it is not known. Never folded into [`Actor::Private`].
    OwnerUnknown,
}

impl Actor {
    pub const ALL: [Actor; 14] = [
        Actor::CommunauteUrbaine,
        Actor::Commune,
        Actor::BailleurSocial,
        Actor::Etat,
        Actor::Departement,
        Actor::Region,
        Actor::EtablissementPublic,
        Actor::Sem,
        Actor::Copropriete,
        Actor::OtherLegalPerson,
        Actor::Private,
        Actor::Indivision,
        Actor::Unknown,
        Actor::OwnerUnknown,
    ];

    /// Stable snake_case name, used in files, the store and the API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::CommunauteUrbaine => "communaute_urbaine",
            Actor::Commune => "commune",
            Actor::BailleurSocial => "bailleur_social",
            Actor::Etat => "etat",
            Actor::Departement => "departement",
            Actor::Region => "region",
            Actor::EtablissementPublic => "etablissement_public",
            Actor::Sem => "sem",
            Actor::Copropriete => "copropriete",
            Actor::OtherLegalPerson => "other_legal_person",
            Actor::Private => "private",
            Actor::Indivision => "indivision",
            Actor::Unknown => "unknown",
            Actor::OwnerUnknown => "owner_unknown",
        }
    }

    /// French label for reports.
    #[must_use]
    pub fn label_fr(self) -> &'static str {
        match self {
            Actor::CommunauteUrbaine => "Communauté urbaine (EPCI)",
            Actor::Commune => "Commune",
            Actor::BailleurSocial => "Bailleur social",
            Actor::Etat => "État",
            Actor::Departement => "Département",
            Actor::Region => "Région",
            Actor::EtablissementPublic => "Établissement public",
            Actor::Sem => "Société d'économie mixte",
            Actor::Copropriete => "Copropriété",
            Actor::OtherLegalPerson => "Autre personne morale",
            Actor::Private => "Personnes physiques",
            Actor::Indivision => "Indivision entre acteurs",
            Actor::Unknown => "Personne morale non classée",
            Actor::OwnerUnknown => "Propriétaire inconnu (aucun fichier des propriétaires)",
        }
    }
}

impl Actor {
    /// Whether the land of this actor has an owner nobody can name a kind for: no owner file
    /// ([`Actor::OwnerUnknown`]) or an owner no layer classifies ([`Actor::Unknown`]). Such land
    /// could belong to any actor, which the delegated-management rule must take into account.
    #[must_use]
    pub fn is_undetermined(self) -> bool {
        matches!(self, Actor::Unknown | Actor::OwnerUnknown)
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Actor {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        Actor::ALL.iter().copied().find(|a| a.as_str() == s).ok_or_else(|| ModelError::UnknownActor(s.to_owned()))
    }
}

/// The kind of right (*code droit*) a person holds on a parcel. Only [`Right::Proprietaire`]
/// makes an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Right {
    Proprietaire,
    /// Any other right (syndic, gérant, emphytéote, usufruitier, …), kept with its DGFiP letter.
    Other(char),
}

impl Right {
    /// Parses `"P - Propriétaire"` or `"P"`.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        let c = value.trim().chars().next()?;
        Some(if c == 'P' { Right::Proprietaire } else { Right::Other(c) })
    }
    #[must_use]
    pub fn code(self) -> char {
        match self {
            Right::Proprietaire => 'P',
            Right::Other(c) => c,
        }
    }
}

/// A legal person holding a right on a parcel, as the PPM file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    pub siren: Siren,
    /// *Dénomination*.
    pub name: String,
    /// *Groupe personne* 0–9 (`None` when the file leaves it empty).
    pub groupe: Option<u8>,
    /// *Forme juridique*: the 4-digit INSEE legal category, e.g. `4140`.
    pub forme: Option<String>,
    /// *Forme juridique abrégée*, e.g. `OPH`, `SA`.
    pub forme_abregee: Option<String>,
}

/// One address of the Base Adresse Nationale, Lambert-93.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Address {
    /// The BAN's identifier (`78440_0420_00012`), commune first: the row's key.
    pub id: String,
    /// INSEE code of the commune.
    pub commune: String,
    /// House number; `None` for the BAN's `99999` (a place without a number).
    pub numero: Option<u32>,
    /// Repetition index (`bis`, `ter`, `a`…).
    pub rep: Option<String>,
    /// Street (or place) name, as the BAN writes it (`Rue Ordener`).
    pub voie: String,
    /// Place name (`nom_ld`), when given.
    pub lieu_dit: Option<String>,
    pub code_postal: Option<String>,
    /// Lambert-93.
    pub x: f64,
    pub y: f64,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The parcels the address serves (`cad_parcelles`, IDUs separated by `|`).
    pub parcelles: Option<String>,
}

/// A cadastral parcel, geometry in Lambert-93 metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Parcel {
    pub idu: Idu,
    pub commune: String,
    pub prefixe: String,
    pub section: String,
    pub numero: String,
    /// Fiscal area in m² (may be missing in the source).
    pub contenance: Option<i64>,
    pub created: Option<String>,
    pub updated: Option<String>,
    /// Geometry in EPSG:2154.
    pub geom_l93: MultiPolygon<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idu_from_ppm_parts_pads_like_etalab() {
        let idu = Idu::from_parts("75118", "", "DJ", "23").unwrap();
        assert_eq!(idu.as_str(), "75118000DJ0023");
        assert_eq!(Idu::from_parts("91216", "000", "A", "0143").unwrap().as_str(), "912160000A0143");
    }

    #[test]
    fn idu_spellings_people_use_are_normalised() {
        for (spelled, idu) in [
            ("91216000AB0037", "91216000AB0037"),
            ("91216000ab0037", "91216000AB0037"),
            ("91216ab37", "91216000AB0037"),
            ("91216 AB 37", "91216000AB0037"),
            ("91216-000-AB-0037", "91216000AB0037"),
            ("91216.ab.37", "91216000AB0037"),
            (" 75118 000 a 2 ", "751180000A0002"),
            ("751180000A2", "751180000A0002"),
            ("75118 1 AB 2", "75118001AB0002"),
            ("2a004AB1", "2A004000AB0001"),
        ] {
            assert_eq!(Idu::normalise(spelled).map(|i| i.to_string()), Ok(idu.to_owned()), "{spelled}");
        }
        for bad in ["", "91216", "91216AB", "91216AB12345", "91216ABC1", "9121600000AB1", "91216 é 1", "QP066007"] {
            let err = Idu::normalise(bad).unwrap_err().to_string();
            assert!(err.contains("expected commune"), "{bad}: {err}");
        }
    }

    #[test]
    fn idu_rejects_bad_shapes() {
        assert!(Idu::parse("75118000AA002").is_err());
        assert!(Idu::parse("75118000aa0002").is_err());
        assert!(Idu::parse("7511800AAA0002").is_err());
        assert!(Idu::parse("2A004000AB0001").is_ok());
    }

    #[test]
    fn actor_names_round_trip() {
        for a in Actor::ALL {
            assert_eq!(a.as_str().parse::<Actor>().unwrap(), a);
        }
        assert!("bailleur".parse::<Actor>().is_err());
    }

    #[test]
    fn right_only_p_is_owner() {
        assert_eq!(Right::parse("P - Propriétaire"), Some(Right::Proprietaire));
        assert_eq!(Right::parse("S - Syndic de copropriété"), Some(Right::Other('S')));
        assert_eq!(Right::parse("  "), None);
    }

    #[test]
    fn pseudo_siren_is_kept_but_flagged() {
        assert!(Siren::new(" 344810825 ").is_real());
        assert!(!Siren::new("U31217111").is_real());
    }
}
