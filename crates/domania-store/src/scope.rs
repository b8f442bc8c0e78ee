//! Scopes: which part of a layer an import replaces.
//!
//! A communauté urbaine receives the cadastre one commune at a time and the PPM one département
//! at a time. An import therefore replaces only the part of its layer that the file covers —
//! its *scope* — and leaves the rest as it is. The scope of a row is read from its key (an IDU,
//! or `IDU|right|SIREN|name` for owners), so no column is needed and old stores keep working.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::StoreError;
use crate::layer::Layer;

/// [`ScopeKind::Departement`]'s `code_of` in SQL, on a `key` column (both engines).
pub(crate) const DEPARTEMENT_OF_KEY: &str =
    "CASE WHEN key LIKE '97%' OR key LIKE '98%' THEN substr(key, 1, 3) ELSE substr(key, 1, 2) END";

/// How a layer is cut into parts that an import may replace one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// The whole layer: an import replaces everything.
    Layer,
    /// A département (2 characters, 3 overseas: `75`, `2A`, `974`).
    Departement,
    /// An INSEE commune (5 characters).
    Commune,
    /// A cadastral section: commune, prefix and section (10 characters, `91216000AB`).
    Section,
}

impl ScopeKind {
    pub const ALL: [ScopeKind; 4] = [ScopeKind::Layer, ScopeKind::Departement, ScopeKind::Commune, ScopeKind::Section];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Layer => "layer",
            ScopeKind::Departement => "departement",
            ScopeKind::Commune => "commune",
            ScopeKind::Section => "section",
        }
    }

    /// The scope kinds a layer can be imported by. Perimeter layers (QPV, sub-sectors,
    /// conventions) and the computed `spaces` layer are one dataset each: replaced whole.
    #[must_use]
    pub fn allowed(layer: Layer) -> &'static [ScopeKind] {
        match layer {
            Layer::Parcels => &[ScopeKind::Commune, ScopeKind::Section, ScopeKind::Departement, ScopeKind::Layer],
            // Communes first: owner files circulate split in parts of a few communes each (the
            // Yvelines part here holds five of 259), and a second part must not wipe the first.
            // The cadastre's buildings and sections are keyed by commune first (`74024…`): one
            // commune's sheets replace its own only.
            // The BAN's addresses are keyed by commune first too (`78440_0420_00012`).
            Layer::Owners | Layer::Buildings | Layer::Sections | Layer::Addresses => {
                &[ScopeKind::Commune, ScopeKind::Departement, ScopeKind::Layer]
            }
            Layer::Qpv | Layer::Subsectors | Layer::Conventions | Layer::Spaces => &[ScopeKind::Layer],
        }
    }

    /// The default scope of a layer's imports: the communes of a cadastre or PPM file, the whole
    /// layer otherwise.
    #[must_use]
    pub fn default_for(layer: Layer) -> ScopeKind {
        ScopeKind::allowed(layer)[0]
    }

    /// The scope code of a row key of this kind (`None` when the key is too short to say).
    #[must_use]
    pub fn code_of(self, key: &str) -> Option<&str> {
        match self {
            ScopeKind::Layer => Some(""),
            ScopeKind::Commune => key.get(0..5),
            ScopeKind::Section => key.get(0..10),
            ScopeKind::Departement => {
                let dep_len = if key.starts_with("97") || key.starts_with("98") { 3 } else { 2 };
                key.get(0..dep_len)
            }
        }
    }

    /// Checks a scope code spelled by a user.
    fn check_code(self, code: &str) -> bool {
        let b = code.as_bytes();
        let insee = domania_core::is_insee_code;
        match self {
            ScopeKind::Layer => code.is_empty(),
            ScopeKind::Departement => {
                (b.len() == 2 && b[0].is_ascii_digit() && (b[1].is_ascii_digit() || matches!(b[1], b'A' | b'B')))
                    || (b.len() == 3 && (code.starts_with("97") || code.starts_with("98")) && b[2].is_ascii_digit())
            }
            ScopeKind::Commune => insee(code),
            ScopeKind::Section => {
                b.len() == 10
                    && code.get(0..5).is_some_and(insee)
                    && b[5..8].iter().all(u8::is_ascii_digit)
                    && b[8..10].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            }
        }
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an import replaces: every part of kind `kind` that the file touches (`codes: None`),
/// or exactly the listed parts (a row outside them is refused; a listed part the file does not
/// touch is emptied, which the removal guard checks like any other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub kind: ScopeKind,
    pub codes: Option<BTreeSet<String>>,
}

impl Scope {
    /// The whole layer.
    #[must_use]
    pub fn layer() -> Self {
        Self { kind: ScopeKind::Layer, codes: None }
    }

    /// The parts of `kind` that the imported rows touch.
    #[must_use]
    pub fn touched(kind: ScopeKind) -> Self {
        Self { kind, codes: None }
    }

    /// Whether the scope was given part by part.
    #[must_use]
    pub fn is_explicit(&self) -> bool {
        self.kind == ScopeKind::Layer || self.codes.is_some()
    }

    /// Checks that this scope suits `layer`.
    pub fn check(&self, layer: Layer) -> Result<(), StoreError> {
        let allowed = ScopeKind::allowed(layer);
        if !allowed.contains(&self.kind) {
            return Err(StoreError::ScopeNotAllowed {
                layer: layer.table(),
                scope: self.kind.as_str(),
                allowed: allowed.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.codes {
            None => f.write_str(self.kind.as_str()),
            Some(codes) => write!(f, "{}={}", self.kind, codes.iter().cloned().collect::<Vec<_>>().join(",")),
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    /// `layer`, `commune`, `section`, `departement`, or `KIND=CODE[,CODE…]`
    /// (`commune=91216,75118`, `section=91216000AB`, `departement=78`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, codes) = match s.split_once('=') {
            Some((k, c)) => (k, Some(c)),
            None => (s, None),
        };
        let kind = match kind.trim().to_ascii_lowercase().as_str() {
            "layer" | "all" => ScopeKind::Layer,
            "departement" | "département" | "dep" => ScopeKind::Departement,
            "commune" => ScopeKind::Commune,
            "section" => ScopeKind::Section,
            other => {
                return Err(format!("unknown scope {other:?}: expected layer, departement, commune or section"));
            }
        };
        let codes = match codes {
            None => None,
            Some(_) if kind == ScopeKind::Layer => return Err("`layer` takes no codes".to_owned()),
            Some(list) => {
                let mut set = BTreeSet::new();
                for code in list.split(',').map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()) {
                    if !kind.check_code(&code) {
                        return Err(format!("{code:?} is not a {kind} code"));
                    }
                    set.insert(code);
                }
                if set.is_empty() {
                    return Err(format!("no {kind} code after '='"));
                }
                Some(set)
            }
        };
        Ok(Self { kind, codes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_come_from_keys() {
        let idu = "91216000AB0037";
        assert_eq!(ScopeKind::Commune.code_of(idu), Some("91216"));
        assert_eq!(ScopeKind::Section.code_of(idu), Some("91216000AB"));
        assert_eq!(ScopeKind::Departement.code_of(idu), Some("91"));
        assert_eq!(ScopeKind::Departement.code_of("97411000AB0001|P|1|X"), Some("974"));
        assert_eq!(ScopeKind::Departement.code_of("2A004000AB0001"), Some("2A"));
        assert_eq!(ScopeKind::Layer.code_of("anything"), Some(""));
        assert_eq!(ScopeKind::Section.code_of("short"), None);
    }

    #[test]
    fn parses_what_users_write() {
        let s: Scope = "commune=91216, 75118".parse().unwrap();
        assert_eq!(s.kind, ScopeKind::Commune);
        assert_eq!(s.codes.unwrap().into_iter().collect::<Vec<_>>(), ["75118", "91216"]);
        assert_eq!("section=91216000ab".parse::<Scope>().unwrap().to_string(), "section=91216000AB");
        assert_eq!("departement=974".parse::<Scope>().unwrap().to_string(), "departement=974");
        assert!("commune=9121".parse::<Scope>().unwrap_err().contains("not a commune code"));
        assert!("layer=1".parse::<Scope>().is_err());
        assert!("city".parse::<Scope>().unwrap_err().contains("unknown scope"));
        assert!(Scope::touched(ScopeKind::Section).check(Layer::Owners).is_err());
        assert!(Scope::touched(ScopeKind::Commune).check(Layer::Qpv).is_err());
        assert!(Scope::layer().check(Layer::Qpv).is_ok());
    }
}
