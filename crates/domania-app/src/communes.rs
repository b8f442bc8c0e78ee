//! The communes of France by name: INSEE code, name, postcodes and EPCI of every commune and
//! municipal arrondissement, from Etalab's `decoupage-administratif` (built into the binary, see
//! `data/PROVENANCE.md`; nothing is fetched). A commune is shown by its name beside its code,
//! and found by its name with or without accents, hyphens or apostrophes, by its code, or by its
//! postcode.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::OnceLock;

/// Lowercase without accents, for forgiving name searches.
#[must_use]
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'æ' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' | 'õ' | 'œ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            '’' => '\'',
            c => c,
        })
        .collect()
}

/// One commune (or municipal arrondissement: Paris, Lyon and Marseille are searched by them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    /// INSEE code (`78440`, `75118`).
    pub code: String,
    pub name: String,
    pub postcodes: Vec<String>,
    /// The SIREN of its EPCI (`200059889`: GPS&O); empty when none.
    pub epci: String,
    /// The name folded for searching ([`folded_name`]).
    key: String,
}

/// The table, read once.
#[derive(Debug, Default)]
pub struct Communes {
    all: Vec<Commune>,
    by_code: HashMap<String, usize>,
    epci_names: HashMap<String, String>,
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).expect("the built-in table is valid gzip UTF-8");
    text
}

/// A name folded for searching: lower case without accents, hyphens and apostrophes as spaces,
/// `saint` as `st` (`Saint-Germain-en-Laye`, `st germain en laye` and `ST GERMAIN EN LAYE` meet).
#[must_use]
pub fn folded_name(name: &str) -> String {
    let f = fold(name).replace(['-', '\'', '’', '_'], " ");
    f.split_whitespace()
        .map(|w| {
            if w == "saint" {
                "st"
            } else if w == "sainte" {
                "ste"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Communes {
    fn load() -> Self {
        let mut out = Communes::default();
        for line in gunzip(include_bytes!("../data/communes.tsv.gz")).lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let [code, name, postcodes, epci] = f[..] else { continue };
            out.by_code.insert(code.to_owned(), out.all.len());
            out.all.push(Commune {
                code: code.to_owned(),
                name: name.to_owned(),
                postcodes: postcodes.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect(),
                epci: epci.to_owned(),
                key: folded_name(name),
            });
        }
        for line in gunzip(include_bytes!("../data/epci.tsv.gz")).lines().skip(1) {
            if let Some((code, name)) = line.split_once('\t') {
                out.epci_names.insert(code.to_owned(), name.to_owned());
            }
        }
        out
    }

    /// The commune of an INSEE code.
    #[must_use]
    pub fn get(&self, code: &str) -> Option<&Commune> {
        self.by_code.get(code).map(|&i| &self.all[i])
    }

    /// `78440 Les Mureaux`, or the code alone when unknown.
    #[must_use]
    pub fn label(&self, code: &str) -> String {
        self.get(code).map_or_else(|| code.to_owned(), |c| format!("{code} {}", c.name))
    }

    /// The name of an EPCI by its SIREN.
    #[must_use]
    pub fn epci_name(&self, siren: &str) -> Option<&str> {
        self.epci_names.get(siren).map(String::as_str)
    }

    /// The communes of an EPCI (GPS&O's 73), in code order.
    pub fn of_epci<'a>(&'a self, siren: &'a str) -> impl Iterator<Item = &'a Commune> + 'a {
        self.all.iter().filter(move |c| c.epci == siren)
    }

    /// The communes a query names: a code or a postcode (5 characters), else a name, the whole
    /// name first, then names starting with the query, then names holding it.
    #[must_use]
    pub fn find(&self, query: &str) -> Vec<&Commune> {
        let q = query.trim();
        if q.len() == 5 && q.chars().all(|c| c.is_ascii_alphanumeric()) {
            let by_code: Vec<&Commune> = self.get(&q.to_uppercase()).into_iter().collect();
            if !by_code.is_empty() {
                return by_code;
            }
            // The most precise first: Paris's 75018 is the 18e before the whole city.
            let mut by_post: Vec<&Commune> = self.all.iter().filter(|c| c.postcodes.iter().any(|p| p == q)).collect();
            by_post.sort_by_key(|c| (c.postcodes.len(), c.code.clone()));
            if !by_post.is_empty() {
                return by_post;
            }
        }
        let key = folded_name(q);
        if key.chars().count() < 3 {
            return Vec::new();
        }
        let mut hits: Vec<(u8, &Commune)> = self
            .all
            .iter()
            .filter_map(|c| {
                let rank = if c.key == key {
                    0
                } else if c.key.starts_with(&key) {
                    1
                } else if c.key.contains(&key) {
                    2
                } else {
                    return None;
                };
                Some((rank, c))
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
        hits.into_iter().map(|(_, c)| c).collect()
    }
}

/// The table of communes (read on first use: a few milliseconds).
pub fn communes() -> &'static Communes {
    static TABLE: OnceLock<Communes> = OnceLock::new();
    TABLE.get_or_init(Communes::load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communes_are_found_by_name_code_and_postcode() {
        let c = communes();
        assert!(c.all.len() > 34_000);
        assert_eq!(c.label("78440"), "78440 Les Mureaux");
        assert_eq!(c.find("les mureaux")[0].code, "78440");
        assert_eq!(c.find("LES-MUREAUX")[0].code, "78440");
        assert_eq!(c.find("Epinay sur Orge")[0].code, "91216");
        assert_eq!(c.find("75018")[0].code, "75118", "a postcode");
        assert_eq!(c.find("Paris 18e")[0].code, "75118");
        assert_eq!(c.find("st germain en laye")[0].code, "78551");
        assert_eq!(c.of_epci("200059889").count(), 73, "GPS&O");
        assert_eq!(c.epci_name("200059889"), Some("CU Grand Paris Seine et Oise"));
    }
}
