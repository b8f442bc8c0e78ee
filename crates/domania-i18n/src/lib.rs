//! Languages: French by default, English on request. Messages come from Project Fluent
//! catalogues (`locales/fr.ftl`, `locales/en.ftl`, built into the binary), read with
//! `fluent-bundle`, the reference implementation of Fluent in Rust (Mozilla's, as Firefox's
//! own): a message's wording, its plurals and its grammar stay in the catalogue, where a
//! translator edits them, never in code. Numbers, areas, shares, dates and durations are
//! written as France writes them ([`format`]).
//!
//! Where the language comes from: HTTP's `Accept-Language` ([`Lang::from_accept_language`]),
//! the command line's `--lang` or its locale (`LC_ALL`, `LC_MESSAGES`, `LANG`:
//! [`Lang::from_locale`]); French when nothing says otherwise.

pub mod format;

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language Domania speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French, the default: Domania's users are French.
    #[default]
    Fr,
    /// English, for those who ask.
    En,
}

/// The catalogues, parsed once.
static CATALOGUES: LazyLock<[FluentBundle<FluentResource>; 2]> = LazyLock::new(|| {
    [bundle(Lang::Fr, include_str!("../locales/fr.ftl")), bundle(Lang::En, include_str!("../locales/en.ftl"))]
});

fn bundle(lang: Lang, text: &'static str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the texts go to terminals, CSV and PDFs.
    b.set_use_isolating(false);
    // A catalogue that does not parse is a fault of the build, caught by this module's tests.
    let resource = FluentResource::try_new(text.to_owned()).unwrap_or_else(|(r, _)| r);
    let _ = b.add_resource(resource);
    b
}

impl Lang {
    /// Every language, French first.
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    /// Its code (`fr`, `en`).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// A language tag or a locale (`fr`, `fr-FR`, `fr_FR.UTF-8`, `en-GB`…); `None` for one
    /// Domania does not speak.
    #[must_use]
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_', '.', '@']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language an HTTP `Accept-Language` header prefers among those Domania speaks
    /// (quality values honoured); French when none of them is asked for.
    #[must_use]
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = if tag == "*" { Some(Lang::default()) } else { Lang::parse(tag) };
            if let Some(lang) = lang
                && q > 0.0
                // The first of equal qualities wins: a later one must be strictly better.
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map_or_else(Lang::default, |(_, l)| l)
    }

    /// The language of the locale the command line runs in: the first of `LC_ALL`,
    /// `LC_MESSAGES`, `LANG` that is set, as POSIX orders them; French when it names neither
    /// language (`C`, `POSIX`, or nothing).
    #[must_use]
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| var(v).filter(|s| !s.is_empty()))
            .and_then(|l| Lang::parse(&l))
            .unwrap_or_default()
    }

    /// Whether the catalogue has the message `id` (both have the same: a test checks).
    #[must_use]
    pub fn has(self, id: &str) -> bool {
        CATALOGUES[self as usize].has_message(id)
    }

    /// The message `id` of the catalogue with its arguments; the identifier itself, marked,
    /// if the catalogue lacks it (the completeness test keeps that from happening).
    #[must_use]
    pub fn t(self, id: &str, args: &[(&str, Arg)]) -> String {
        let bundle = &CATALOGUES[self as usize];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return format!("⟨{id}⟩");
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            match v {
                Arg::Text(s) => fa.set(*k, FluentValue::from(s.clone())),
                Arg::Count(n) => fa.set(*k, FluentValue::from(*n)),
                Arg::Each(texts) => fa.set(*k, FluentValue::from(texts[self as usize].clone())),
            }
        }
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, Some(&fa), &mut errors).into_owned()
    }
}

/// An argument of a message: text already written in the language (a formatted number, a
/// name), or a count that chooses the plural.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Count(i64),
    /// Text written in each language (French, English): a figure or a list said apart.
    Each(Box<[String; 2]>),
}

impl Arg {
    /// Text written in each language by `write`.
    pub fn each(write: impl Fn(Lang) -> String) -> Self {
        Arg::Each(Box::new([write(Lang::Fr), write(Lang::En)]))
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Count(n)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Count(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message identifiers of a catalogue's text, in order.
    fn ids(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_owned()))
            .collect()
    }

    #[test]
    fn both_catalogues_parse_and_say_the_same_messages() {
        for (lang, text) in
            [(Lang::Fr, include_str!("../locales/fr.ftl")), (Lang::En, include_str!("../locales/en.ftl"))]
        {
            if let Err((_, errors)) = FluentResource::try_new(text.to_owned()) {
                panic!("the {} catalogue does not parse: {errors:?}", lang.code());
            }
        }
        let (fr, en) = (ids(include_str!("../locales/fr.ftl")), ids(include_str!("../locales/en.ftl")));
        let missing_en: Vec<_> = fr.iter().filter(|i| !en.contains(i)).collect();
        let missing_fr: Vec<_> = en.iter().filter(|i| !fr.contains(i)).collect();
        assert!(
            missing_en.is_empty() && missing_fr.is_empty(),
            "only in fr: {missing_en:?}; only in en: {missing_fr:?}"
        );
        assert!(!fr.is_empty());
        for id in &fr {
            for lang in Lang::ALL {
                assert!(!lang.t(id, &[]).starts_with('⟨'), "{id} in {}", lang.code());
            }
        }
    }

    #[test]
    fn the_language_comes_from_the_request_or_the_locale_and_is_french_by_default() {
        assert_eq!(Lang::from_accept_language(""), Lang::Fr);
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("de-DE,en;q=0.5,fr;q=0.8"), Lang::Fr);
        assert_eq!(Lang::from_accept_language("de, en;q=0.3"), Lang::En);
        assert_eq!(Lang::from_accept_language("es"), Lang::Fr);
        assert_eq!(Lang::from_accept_language("en;q=0, fr;q=0"), Lang::Fr);
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(Lang::from_locale(env(&[("LANG", "fr_FR.UTF-8")])), Lang::Fr);
        assert_eq!(Lang::from_locale(env(&[("LANG", "fr_FR.UTF-8"), ("LC_MESSAGES", "en_US.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_locale(env(&[("LC_ALL", "fr_CA"), ("LC_MESSAGES", "en_US")])), Lang::Fr);
        assert_eq!(Lang::from_locale(env(&[("LANG", "C.UTF-8")])), Lang::Fr);
        assert_eq!(Lang::from_locale(env(&[])), Lang::Fr);
    }

    #[test]
    fn messages_take_their_arguments_and_their_plurals() {
        let n = |k: usize| Lang::Fr.t("parcels-count", &[("count", k.into())]);
        assert_eq!(n(1), "1 parcelle");
        assert_eq!(n(3), "3 parcelles");
        assert_eq!(Lang::En.t("parcels-count", &[("count", 1usize.into())]), "1 parcel");
        assert_eq!(Lang::En.t("parcels-count", &[("count", 2usize.into())]), "2 parcels");
        assert_eq!(Lang::Fr.t("no-such-message", &[]), "⟨no-such-message⟩");
    }
}
