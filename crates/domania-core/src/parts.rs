//! Owner files in parts. The DGFiP publishes its owner files (PPM) per département, and they
//! circulate split into numbered parts (`PM_25_NB_750_part_003.csv`), each sorted by commune:
//! a commune can straddle two parts (the real part 003 of Paris begins inside the 17e). A
//! commune at the edge of a part whose neighbouring part is not loaded is only partly covered:
//! its parcels without an owner row may belong to legal persons listed in the missing part, so
//! they are of unknown owner, never natural persons, until the rest arrives.

use std::collections::{BTreeMap, BTreeSet};

/// What a version's source says when its import declared that no part follows it (the last
/// part of a département's file): its last commune is then whole.
pub const LAST_PART: &str = " [last part]";

/// Several files imported as one version are named in its source joined by this.
pub const JOINED: &str = " + ";

/// Which part of a split owner file a file is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Part {
    /// The file's name before `part` (lower case, separators trimmed): parts of one file share
    /// it.
    pub series: String,
    pub number: u32,
}

/// The part a file's name (or path) says it is (`…part_003.csv`, `…-part2.txt`, `part1.csv`).
#[must_use]
pub fn part_of(path: &str) -> Option<Part> {
    let name = path.rsplit(['/', '\\']).next()?.to_lowercase();
    let stem = name.split('.').next()?;
    let at = stem.rfind("part")?;
    let rest = stem[at + 4..].trim_start_matches(['_', '-', ' ']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() != rest.len() {
        return None;
    }
    Some(Part { series: stem[..at].trim_end_matches(['_', '-', ' ']).to_owned(), number: digits.parse().ok()? })
}

/// The parts a version's source names (one file, or several joined by [`JOINED`]).
#[must_use]
pub fn parts_of_source(source: &str) -> Vec<Part> {
    source.trim_end_matches(LAST_PART).split(JOINED).filter_map(part_of).collect()
}

/// The communes only partly covered, from the communes of the owners layer and the source of
/// the version each was last imported from: the first commune of a source (the files are
/// sorted by commune) when the part before its first part is not loaded, and its last commune
/// when the part after its last part is not loaded and the import did not say it was the last
/// ([`LAST_PART`]).
#[must_use]
pub fn partly_covered<'a>(provided: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeSet<String> {
    let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (commune, source) in provided {
        by_source.entry(source).or_default().push(commune);
    }
    let loaded: BTreeSet<Part> = by_source.keys().flat_map(|s| parts_of_source(s)).collect();
    let mut out = BTreeSet::new();
    for (source, communes) in &by_source {
        let parts = parts_of_source(source);
        let (Some(first_part), Some(last_part)) = (parts.iter().min(), parts.iter().max()) else { continue };
        let (Some(first), Some(last)) = (communes.iter().min(), communes.iter().max()) else { continue };
        let before = Part { series: first_part.series.clone(), number: first_part.number.saturating_sub(1) };
        if first_part.number > 1 && !loaded.contains(&before) {
            out.insert((*first).to_owned());
        }
        let after = Part { series: last_part.series.clone(), number: last_part.number + 1 };
        if !source.ends_with(LAST_PART) && !loaded.contains(&after) {
            out.insert((*last).to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_from_file_names() {
        let p = |n: &str| part_of(n).map(|p| (p.series, p.number));
        assert_eq!(p("data/PM_25_NB_750_part_003.csv"), Some(("pm_25_nb_750".into(), 3)));
        assert_eq!(p("PM_25_NB_750-part2.csv.gz"), Some(("pm_25_nb_750".into(), 2)));
        assert_eq!(p("part1.csv"), Some((String::new(), 1)));
        assert_eq!(p("PM_25_NB_780.csv"), None);
        assert_eq!(p("departement-partiel.csv"), None);
        assert_eq!(p("part_3_revu.csv"), None);
        assert_eq!(parts_of_source("a/part1.csv + a/part2.csv [last part]").len(), 2);
    }

    #[test]
    fn a_commune_at_the_edge_of_a_part_whose_neighbour_is_missing_is_partly_covered() {
        // The real part 003 of Paris alone: it begins inside the 17e and may end inside the 20e.
        let alone = [("75117", "PM_25_NB_750_part_003.csv"), ("75118", "PM_25_NB_750_part_003.csv")];
        let alone: Vec<(&str, &str)> = alone.iter().copied().chain([("75120", "PM_25_NB_750_part_003.csv")]).collect();
        assert_eq!(partly_covered(alone.clone()), BTreeSet::from(["75117".into(), "75120".into()]));
        // Declared the last part: only the 17e is partial.
        let last: Vec<(&str, &str)> =
            alone.iter().map(|(c, _)| (*c, "PM_25_NB_750_part_003.csv [last part]")).collect();
        assert_eq!(partly_covered(last), BTreeSet::from(["75117".into()]));
        // Cut in the middle of the 18e: part 1 alone leaves the 18e partial; with part 2 (which
        // took the 18e over, merged) nothing is but the end of part 2.
        let one = [("75117", "part1.csv"), ("75118", "part1.csv")];
        assert_eq!(partly_covered(one), BTreeSet::from(["75118".into()]));
        let both = [("75117", "part1.csv"), ("75118", "part2.csv"), ("75119", "part2.csv")];
        assert_eq!(partly_covered(both), BTreeSet::from(["75119".into()]));
        // One file, not a part: whole.
        assert!(partly_covered([("78440", "PM_25_NB_780.csv")]).is_empty());
    }
}
