//! The address search: "12 rue Ordener", "12 R ORDENER 75018", "12 rue ordner", "rue Ordener"
//! found in the BAN's addresses, or, for the communes whose BAN is not loaded, in the street
//! addresses of the owner file (PPM), each answer saying which source it came from.
//!
//! Built once per snapshot: addresses are grouped into streets (commune and street name, its
//! abbreviations written out: `R` → `rue`, `BD` → `boulevard`), and every word of every street
//! name goes into an FST (the `fst` crate: a sorted, compressed word list whose Levenshtein
//! automata find `ordner` → `ordener` without a scan, the search engines' own tool, small and
//! well kept; tantivy would bring a whole engine and a disk index for one field). A word
//! points to the streets holding it; a query's words meet there, and a street's numbers are
//! sorted, so the exact number is found by a binary search and ranked first.

use std::collections::HashMap;
use std::ops::Range;

use domania_engine::Snapshot;
use fst::automaton::{Levenshtein, Str};
use fst::{Automaton, IntoStreamer, Map, MapBuilder, Streamer};
use geo_types::Rect;
use serde::Serialize;

use crate::communes::fold;

/// Where an address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    /// The Base Adresse Nationale (the `addresses` layer).
    Ban,
    /// The street address the DGFiP owner file gives a parcel (`N° voirie`, `Nom voie`).
    Ppm,
}

/// One street of a commune, from one source.
#[derive(Debug)]
struct Street {
    /// As the source writes it (`Rue Ordener`, `RUE ORDENER`).
    name: String,
    commune: String,
    postcode: Option<String>,
    source: AddressSource,
    /// Its words in the index (what a whole-name match is counted against).
    words: u8,
    /// Its addresses in [`AddressIndex::entries`], by number.
    entries: Range<u32>,
}

/// One address of a street: its number (`u32::MAX` without one), its repetition index, and
/// where the snapshot holds it (`snap.addresses().ban` or `.ppm`, by the street's source).
#[derive(Debug, Clone, Copy)]
struct Entry {
    numero: u32,
    at: u32,
}

/// The address index of a snapshot.
#[derive(Debug, Default)]
pub struct AddressIndex {
    streets: Vec<Street>,
    entries: Vec<Entry>,
    /// Every word of a street name → its posting in `postings`.
    words: Map<Vec<u8>>,
    /// The streets of each word, ascending.
    postings: Vec<Vec<u32>>,
}

/// The words of a street name as the index keeps them: folded, abbreviations written out,
/// articles left out (`R DES MOINES` and `Rue des Moines` are `rue moines`).
fn words(name: &str) -> Vec<String> {
    fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| expand(w).to_owned())
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect()
}

/// Articles and prepositions of street names, not searched.
const STOP: [&str; 13] = ["de", "du", "des", "la", "le", "les", "l", "d", "et", "au", "aux", "en", "a"];

/// Kinds of way: they weigh little (nearly every street has one).
const KINDS: [&str; 36] = [
    "rue",
    "avenue",
    "boulevard",
    "place",
    "impasse",
    "passage",
    "villa",
    "square",
    "allee",
    "chemin",
    "route",
    "cours",
    "esplanade",
    "sente",
    "sentier",
    "quai",
    "cite",
    "faubourg",
    "residence",
    "lotissement",
    "hameau",
    "parvis",
    "promenade",
    "terrasse",
    "voie",
    "mail",
    "carrefour",
    "rond",
    "point",
    "porte",
    "lieu",
    "dit",
    "domaine",
    "quartier",
    "zone",
    "centre",
];

/// The abbreviations of the DGFiP's *nature voie* (and of addresses as people type them).
fn expand(word: &str) -> &str {
    match word {
        "r" => "rue",
        "av" | "ave" => "avenue",
        "bd" | "bld" | "boul" => "boulevard",
        "pl" => "place",
        "imp" => "impasse",
        "pas" | "pass" => "passage",
        "vla" => "villa",
        "sq" => "square",
        "all" | "al" => "allee",
        "che" | "chem" | "ch" => "chemin",
        "rte" => "route",
        "crs" => "cours",
        "esp" => "esplanade",
        "sen" => "sente",
        "sent" => "sentier",
        "qu" => "quai",
        "fg" | "fbg" => "faubourg",
        "res" => "residence",
        "lot" => "lotissement",
        "ham" => "hameau",
        "prv" => "parvis",
        "prom" => "promenade",
        "tsse" => "terrasse",
        "car" => "carrefour",
        "rpt" => "rond",
        "pte" => "porte",
        "ld" => "lieu",
        "dom" => "domaine",
        "qua" => "quartier",
        "st" => "saint",
        "ste" => "sainte",
        "gde" => "grande",
        "pt" => "petit",
        "mal" => "marechal",
        "gal" | "gen" => "general",
        "pdt" => "president",
        "dr" => "docteur",
        w => w,
    }
}

/// A PPM street address split: `12 B RUE ORDENER` → (12, `B`, `RUE ORDENER`).
fn split_ppm(address: &str) -> (Option<u32>, Option<&str>, &str) {
    let mut rest = address.trim();
    let mut numero = None;
    if let Some((first, tail)) = rest.split_once(' ')
        && let Ok(n) = first.parse::<u32>()
    {
        numero = Some(n);
        rest = tail;
    }
    let mut rep = None;
    if numero.is_some()
        && let Some((first, tail)) = rest.split_once(' ')
        && first.len() == 1
        && first.chars().all(|c| c.is_ascii_alphabetic())
    {
        rep = Some(first);
        rest = tail;
    }
    (numero, rep, rest)
}

/// A repetition index as people write it: `bis` and `b` meet.
fn rep_key(rep: &str) -> String {
    match fold(rep).trim() {
        "bis" | "b" => "b".into(),
        "ter" | "t" => "t".into(),
        "quater" | "q" => "q".into(),
        "quinquies" | "c" => "c".into(),
        r => r.to_owned(),
    }
}

impl AddressIndex {
    /// The index of a snapshot's addresses: the BAN's, and the owner file's for the communes
    /// the BAN does not cover.
    ///
    /// # Panics
    /// With more than 4 billion streets or addresses (their positions are `u32`).
    #[must_use]
    pub fn build(snap: &Snapshot) -> Self {
        let a = snap.addresses();
        let ban_communes: std::collections::HashSet<&str> = a.ban.iter().map(|x| x.commune.as_str()).collect();
        let mut streets: Vec<Street> = Vec::new();
        let mut street_words: Vec<Vec<String>> = Vec::new();
        let mut at: HashMap<(String, AddressSource, String), u32> = HashMap::new();
        // (street, number, repetition, position)
        let mut list: Vec<(u32, u32, String, u32)> = Vec::with_capacity(a.ban.len() + a.ppm.len());
        let mut street_of = |commune: &str, source: AddressSource, name: &str, postcode: Option<&str>| -> u32 {
            let w = words(name);
            let key = (commune.to_owned(), source, w.join(" "));
            *at.entry(key).or_insert_with(|| {
                streets.push(Street {
                    name: name.to_owned(),
                    commune: commune.to_owned(),
                    postcode: postcode.map(str::to_owned),
                    source,
                    words: u8::try_from(w.len()).unwrap_or(u8::MAX),
                    entries: 0..0,
                });
                street_words.push(w);
                u32::try_from(streets.len() - 1).expect("fewer than 4 billion streets")
            })
        };
        for (i, x) in a.ban.iter().enumerate() {
            let s = street_of(&x.commune, AddressSource::Ban, &x.voie, x.code_postal.as_deref());
            let rep = x.rep.as_deref().map(rep_key).unwrap_or_default();
            list.push((s, x.numero.unwrap_or(u32::MAX), rep, i as u32));
        }
        for (i, (idu, address)) in a.ppm.iter().enumerate() {
            let Some(commune) = idu.get(0..5) else { continue };
            if ban_communes.contains(commune) {
                continue;
            }
            let (numero, rep, voie) = split_ppm(address);
            if voie.is_empty() {
                continue;
            }
            let s = street_of(commune, AddressSource::Ppm, voie, None);
            list.push((s, numero.unwrap_or(u32::MAX), rep.map(rep_key).unwrap_or_default(), i as u32));
        }
        list.sort_unstable();
        let mut entries = Vec::with_capacity(list.len());
        let mut start = 0usize;
        for (k, (s, numero, _, i)) in list.iter().enumerate() {
            entries.push(Entry { numero: *numero, at: *i });
            if list.get(k + 1).is_none_or(|next| next.0 != *s) {
                streets[*s as usize].entries = start as u32..(k + 1) as u32;
                start = k + 1;
            }
        }
        let mut by_word: std::collections::BTreeMap<&str, Vec<u32>> = std::collections::BTreeMap::new();
        for (s, ws) in street_words.iter().enumerate() {
            for w in ws {
                let list = by_word.entry(w.as_str()).or_default();
                if list.last() != Some(&(s as u32)) {
                    list.push(s as u32);
                }
            }
        }
        let mut builder = MapBuilder::memory();
        let mut postings = Vec::with_capacity(by_word.len());
        for (w, list) in by_word {
            builder.insert(w, postings.len() as u64).expect("words are inserted in order, once");
            postings.push(list);
        }
        let words = builder.into_map();
        Self { streets, entries, words, postings }
    }

    /// How many addresses and streets it holds.
    #[must_use]
    pub fn len(&self) -> (usize, usize) {
        (self.entries.len(), self.streets.len())
    }

    /// The streets each matching `word` best, with its score: the word itself; for the last
    /// word of a query being typed, the words it begins; else, a word within one typo (two for a
    /// word of ten letters or more).
    fn street_scores(&self, word: &str, last: bool, into: &mut HashMap<u32, f32>) {
        let weight = if KINDS.contains(&word) { 0.25 } else { 1.0 };
        let take = |posting: u64, score: f32, into: &mut HashMap<u32, f32>| {
            for &s in &self.postings[posting as usize] {
                let e = into.entry(s).or_insert(0.0);
                *e = e.max(score * weight);
            }
        };
        if let Some(p) = self.words.get(word) {
            take(p, 1.0, into);
            return;
        }
        let mut found = false;
        if last && word.chars().count() >= 3 {
            let mut stream = self.words.search(Str::new(word).starts_with()).into_stream();
            let mut n = 0;
            while let Some((_, p)) = stream.next() {
                take(p, 0.85, into);
                found = true;
                n += 1;
                if n == MAX_EXPANSIONS {
                    break;
                }
            }
        }
        // A typo, in a word of letters (an IDU or a number is not misspelt): one letter, two in
        // a long word (the automaton of two costs milliseconds to build: kept for those).
        let len = word.chars().count();
        if !found && len >= 4 && !word.chars().any(|c| c.is_ascii_digit()) {
            let distance = if len >= 10 { 2 } else { 1 };
            let Ok(automaton) = Levenshtein::new(word, distance) else { return };
            let mut stream = self.words.search(automaton).into_stream();
            let mut n = 0;
            while let Some((_, p)) = stream.next() {
                take(p, 0.7, into);
                n += 1;
                if n == MAX_EXPANSIONS {
                    break;
                }
            }
        }
    }
}

/// The most index words a prefix or a typo expands to.
const MAX_EXPANSIONS: usize = 64;

/// A query read as an address: its number and repetition index, a postcode or INSEE code, and
/// the words of its street.
#[derive(Debug, Default, PartialEq)]
struct Query {
    numero: Option<u32>,
    rep: Option<String>,
    code: Option<String>,
    words: Vec<String>,
}

fn parse(query: &str) -> Query {
    let folded = fold(query);
    let tokens: Vec<&str> = folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut q = Query::default();
    let mut i = 0;
    // `12`, `12b`, `12 bis`
    if let Some(first) = tokens.first() {
        let digits: String = first.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.len() <= 4 {
            q.numero = digits.parse().ok();
            let tail = &first[digits.len()..];
            i = 1;
            if !tail.is_empty() {
                q.rep = Some(rep_key(tail));
            } else if let Some(next) = tokens.get(1)
                && (matches!(*next, "bis" | "ter" | "quater" | "quinquies")
                    // A letter (`24 P rue Ordener`), but `r`, which is `rue`.
                    || (next.len() == 1 && next.chars().all(|c| c.is_ascii_alphabetic()) && *next != "r"))
                && tokens.len() > 2
            {
                q.rep = Some(rep_key(next));
                i = 2;
            }
        }
    }
    for t in &tokens[i..] {
        if t.len() == 5 && t.chars().all(|c| c.is_ascii_digit()) {
            q.code = Some((*t).to_owned());
            continue;
        }
        let w = expand(t);
        if !STOP.contains(&w) {
            q.words.push(w.to_owned());
        }
    }
    q
}

/// One found address or street.
#[derive(Debug, Clone)]
pub struct Found {
    pub source: AddressSource,
    /// The BAN's id, or the IDU the owner file gives the address to.
    pub id: String,
    /// `12 bis Rue Ordener`, or the street's name.
    pub text: String,
    pub commune: String,
    pub postcode: Option<String>,
    /// Addresses of a street hit; 1 for an address.
    pub count: usize,
    pub street: bool,
    pub box_l93: Rect<f64>,
    pub point_l93: Option<(f64, f64)>,
}

/// Half the side of the box a BAN address is zoomed to, in metres.
const ADDRESS_BOX: f64 = 40.0;

impl AddressIndex {
    /// The addresses and streets `query` names, best first: the exact number (and repetition
    /// index) of the best streets, then the streets themselves. Nothing when the query names
    /// no street (a bare number, a kind of way alone).
    #[must_use]
    pub fn find(&self, snap: &Snapshot, query: &str, limit: usize) -> Vec<Found> {
        let q = parse(query);
        let strong = q.words.iter().filter(|w| !KINDS.contains(&w.as_str())).count();
        if strong == 0 || self.streets.is_empty() {
            return Vec::new();
        }
        let mut total: HashMap<u32, (f32, usize)> = HashMap::new();
        let mut per_word = HashMap::new();
        for (k, w) in q.words.iter().enumerate() {
            per_word.clear();
            self.street_scores(w, k + 1 == q.words.len(), &mut per_word);
            let is_strong = !KINDS.contains(&w.as_str());
            for (&s, &score) in &per_word {
                let e = total.entry(s).or_insert((0.0, 0));
                e.0 += score;
                e.1 += usize::from(is_strong);
            }
        }
        // Every word of the street named, or all but one when two or more are given (a
        // commune's name typed after the street): the streets naming more words first.
        let needed = if strong >= 2 { strong - 1 } else { strong };
        // Only the streets naming the most words: a spare word is spared where no street names
        // them all, not a way to bring in every street sharing one word of the name.
        let best = total.values().map(|(_, n)| *n).max().unwrap_or(0);
        if best < needed {
            return Vec::new();
        }
        let communes = crate::communes::communes();
        let mut ranked: Vec<(u32, usize, bool, f32)> = total
            .into_iter()
            .filter(|(_, (_, n))| *n == best)
            .filter(|(s, _)| {
                let st = &self.streets[*s as usize];
                q.code.as_deref().is_none_or(|code| {
                    st.commune == code
                        || st.postcode.as_deref() == Some(code)
                        || (st.postcode.is_none()
                            && communes.get(&st.commune).is_some_and(|c| c.postcodes.iter().any(|p| p == code)))
                })
            })
            .map(|(s, (score, named))| {
                let st = &self.streets[s as usize];
                // A whole name matched counts more than a longer name holding the words.
                let whole = if usize::from(st.words) <= q.words.len() { 0.5 } else { 0.0 };
                let has_number = q.numero.is_some_and(|n| self.numbered(st, n).next().is_some());
                (s, named, has_number, score + whole)
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(b.2.cmp(&a.2))
                .then(b.3.total_cmp(&a.3))
                .then_with(|| self.streets[a.0 as usize].name.cmp(&self.streets[b.0 as usize].name))
                .then(a.0.cmp(&b.0))
        });
        let mut out = Vec::new();
        if let Some(n) = q.numero {
            // The exact repetition index first, then the number's others.
            for (s, ..) in ranked.iter().filter(|r| r.2).take(limit) {
                let st = &self.streets[*s as usize];
                let mut found: Vec<Found> = self.numbered(st, n).filter_map(|e| Self::address(snap, st, *e)).collect();
                found.sort_by_key(|f| {
                    let rep = f.text.split_whitespace().nth(1).map(rep_key).filter(|r| r.len() == 1);
                    (rep != q.rep, f.text.clone())
                });
                out.extend(found);
            }
        }
        for (s, ..) in ranked.into_iter().take(limit) {
            if let Some(f) = self.street(snap, &self.streets[s as usize]) {
                out.push(f);
            }
        }
        out.truncate(limit);
        out
    }

    /// Every street with its name, commune and the points of its addresses (Lambert-93; an
    /// address of the owner file at its parcel's box centre).
    pub fn streets<'a>(&'a self, snap: &'a Snapshot) -> impl Iterator<Item = (&'a str, &'a str, Vec<(f64, f64)>)> + 'a {
        use geo::BoundingRect;
        let a = snap.addresses();
        self.streets.iter().map(move |st| {
            let entries = &self.entries[st.entries.start as usize..st.entries.end as usize];
            let points = entries
                .iter()
                .filter_map(|e| match st.source {
                    AddressSource::Ban => a.ban.get(e.at as usize).map(|x| (x.x, x.y)),
                    AddressSource::Ppm => a
                        .ppm
                        .get(e.at as usize)
                        .and_then(|(idu, _)| snap.parcel(idu))
                        .and_then(|(p, _)| p.geom_l93.bounding_rect())
                        .map(|b| (b.center().x, b.center().y)),
                })
                .collect();
            (st.name.as_str(), st.commune.as_str(), points)
        })
    }

    /// The entries of a street with number `n`.
    fn numbered<'a>(&'a self, st: &Street, n: u32) -> impl Iterator<Item = &'a Entry> + 'a {
        let range = &self.entries[st.entries.start as usize..st.entries.end as usize];
        let from = range.partition_point(|e| e.numero < n);
        range[from..].iter().take_while(move |e| e.numero == n)
    }

    /// An address hit.
    fn address(snap: &Snapshot, st: &Street, e: Entry) -> Option<Found> {
        let a = snap.addresses();
        match st.source {
            AddressSource::Ban => {
                let x = a.ban.get(e.at as usize)?;
                let number = x.numero.map(|n| n.to_string()).unwrap_or_default();
                let text = [number.as_str(), x.rep.as_deref().unwrap_or(""), x.voie.as_str()]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ");
                let b = Rect::new((x.x - ADDRESS_BOX, x.y - ADDRESS_BOX), (x.x + ADDRESS_BOX, x.y + ADDRESS_BOX));
                Some(Found {
                    source: AddressSource::Ban,
                    id: x.id.clone(),
                    text,
                    commune: x.commune.clone(),
                    postcode: x.code_postal.clone(),
                    count: 1,
                    street: false,
                    box_l93: b,
                    point_l93: Some((x.x, x.y)),
                })
            }
            AddressSource::Ppm => {
                use geo::{BoundingRect, InteriorPoint};
                let (idu, text) = a.ppm.get(e.at as usize)?;
                let (p, _) = snap.parcel(idu)?;
                Some(Found {
                    source: AddressSource::Ppm,
                    id: idu.clone(),
                    text: text.clone(),
                    commune: st.commune.clone(),
                    postcode: None,
                    count: 1,
                    street: false,
                    box_l93: p.geom_l93.bounding_rect()?,
                    point_l93: p.geom_l93.interior_point().map(|pt| (pt.x(), pt.y())),
                })
            }
        }
    }

    /// A street hit: its box holds all its addresses (the parcels of the owner file's).
    fn street(&self, snap: &Snapshot, st: &Street) -> Option<Found> {
        use geo::BoundingRect;
        let a = snap.addresses();
        let entries = &self.entries[st.entries.start as usize..st.entries.end as usize];
        let boxes = entries.iter().filter_map(|e| match st.source {
            AddressSource::Ban => a.ban.get(e.at as usize).map(|x| Rect::new((x.x, x.y), (x.x, x.y))),
            AddressSource::Ppm => a
                .ppm
                .get(e.at as usize)
                .and_then(|(idu, _)| snap.parcel(idu))
                .and_then(|(p, _)| p.geom_l93.bounding_rect()),
        });
        let b = boxes.reduce(domania_core::crs::box_union)?;
        let pad = |r: Rect<f64>| {
            Rect::new(
                (r.min().x - ADDRESS_BOX, r.min().y - ADDRESS_BOX),
                (r.max().x + ADDRESS_BOX, r.max().y + ADDRESS_BOX),
            )
        };
        Some(Found {
            source: st.source,
            id: format!("{}|{}", st.commune, words(&st.name).join(" ")),
            text: st.name.clone(),
            commune: st.commune.clone(),
            postcode: st.postcode.clone(),
            count: entries.len(),
            street: true,
            box_l93: pad(b),
            point_l93: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_read_as_people_type_addresses() {
        let p = parse("12 R ORDENER 75018");
        assert_eq!(p.numero, Some(12));
        assert_eq!(p.code.as_deref(), Some("75018"));
        assert_eq!(p.words, ["rue", "ordener"]);
        let p = parse("12 bis, rue des Moines");
        assert_eq!((p.numero, p.rep.as_deref()), (Some(12), Some("b")));
        assert_eq!(p.words, ["rue", "moines"]);
        assert_eq!(parse("12b av. Foch").rep.as_deref(), Some("b"));
        assert_eq!(parse("rue Ordener").numero, None);
        assert_eq!(parse("24 P rue Ordener").rep.as_deref(), Some("p"));
        assert_eq!(parse("24 r Ordener").words, ["rue", "ordener"]);
        assert_eq!(parse("Bd de la Chapelle").words, ["boulevard", "chapelle"]);
    }

    #[test]
    fn the_owner_files_addresses_are_split() {
        assert_eq!(split_ppm("12 B RUE ORDENER"), (Some(12), Some("B"), "RUE ORDENER"));
        assert_eq!(split_ppm("48 RUE DES MOINES"), (Some(48), None, "RUE DES MOINES"));
        assert_eq!(split_ppm("LES LIMONS"), (None, None, "LES LIMONS"));
        assert_eq!(words("R DES MOINES"), words("Rue des Moines"));
        assert_eq!(words("BD DE LA CHAPELLE"), ["boulevard", "chapelle"]);
    }
}
