//! Figures as a reader of the language writes them: in French `1 234,5 m²`, `52,0 %`,
//! `5 décembre 2026`, `2 h 30`, `3 jours` (thousands grouped with a narrow no-break space, as
//! the Imprimerie nationale's rules and CLDR write them; a no-break space before `%` and the
//! units); in English `1,234.5 m²`, `52.0%`, `5 December 2026`, `2 h 30 min`, `3 days`.

use jiff::civil::Date;

use super::Lang;

/// The narrow no-break space (U+202F) French puts between groups of thousands and before `%`.
pub const NNBSP: char = '\u{202F}';
/// The no-break space (U+00A0) before a unit.
pub const NBSP: char = '\u{A0}';

/// `x` with `decimals` decimals, its thousands grouped.
#[must_use]
pub fn number(x: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{:.*}", decimals, x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (group, point) = match lang {
        Lang::Fr => (NNBSP, ','),
        Lang::En => (',', '.'),
    };
    let mut out = String::with_capacity(text.len() + 4);
    // A value that rounds to zero is written without a sign.
    if x < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    out
}

/// An area in square metres: `1 234,5 m²`.
#[must_use]
pub fn area_m2(x: f64, decimals: usize, lang: Lang) -> String {
    format!("{}{NBSP}m²", number(x, decimals, lang))
}

/// An area in hectares: `6,90 ha`.
#[must_use]
pub fn hectares(m2: f64, lang: Lang) -> String {
    format!("{}{NBSP}ha", number(m2 / 10_000.0, 2, lang))
}

/// A share (0 to 1) as a percentage with `decimals` decimals: `52,0 %` / `52.0%`.
#[must_use]
pub fn percent(share: f64, decimals: usize, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{}{NNBSP}%", number(share * 100.0, decimals, lang)),
        Lang::En => format!("{}%", number(share * 100.0, decimals, lang)),
    }
}

const MOIS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name of month `m` (1–12): `mars` / `March`.
#[must_use]
pub fn month_name(m: u8, lang: Lang) -> Option<&'static str> {
    let i = usize::from(m).checked_sub(1)?;
    match lang {
        Lang::Fr => MOIS.get(i).copied(),
        Lang::En => MONTHS.get(i).copied(),
    }
}

/// A date in words: `5 décembre 2026` (`1er` for the first of the month) / `5 December 2026`.
#[must_use]
pub fn date(d: Date, lang: Lang) -> String {
    let month = usize::try_from(d.month() - 1).unwrap_or(0);
    match lang {
        Lang::Fr if d.day() == 1 => format!("1er {} {}", MOIS[month], d.year()),
        Lang::Fr => format!("{} {} {}", d.day(), MOIS[month], d.year()),
        Lang::En => format!("{} {} {}", d.day(), MONTHS[month], d.year()),
    }
}

/// A delay a person reads: under an hour in minutes (`45 min`), under two days in hours and
/// minutes (`2 h 30` / `2 h 30 min`), else in days to the half day (`3 jours`, `2,5 jours` /
/// `3 days`).
#[must_use]
pub fn duration_hours(hours: f64, lang: Lang) -> String {
    let minutes = (hours * 60.0).round().max(0.0);
    if minutes < 60.0 {
        return format!("{minutes:.0}{NBSP}min");
    }
    if hours < 48.0 {
        let (h, m) = ((minutes / 60.0).floor(), minutes % 60.0);
        return match (lang, m == 0.0) {
            (_, true) => format!("{h:.0}{NBSP}h"),
            (Lang::Fr, false) => format!("{h:.0}{NBSP}h{NBSP}{m:02.0}"),
            (Lang::En, false) => format!("{h:.0}{NBSP}h{NBSP}{m:02.0}{NBSP}min"),
        };
    }
    let days = (hours / 24.0 * 2.0).round() / 2.0;
    let n = number(days, usize::from(days.fract() != 0.0), lang);
    match lang {
        Lang::Fr => format!("{n}{NBSP}jours"),
        Lang::En => format!("{n}{NBSP}days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_figures_are_written_as_france_writes_them() {
        assert_eq!(area_m2(1234.5, 1, Lang::Fr), "1\u{202F}234,5\u{A0}m²");
        assert_eq!(area_m2(1234.5, 1, Lang::En), "1,234.5\u{A0}m²");
        assert_eq!(number(1_234_567.891, 2, Lang::Fr), "1\u{202F}234\u{202F}567,89");
        assert_eq!(number(-0.004, 2, Lang::Fr), "0,00");
        assert_eq!(number(-12.5, 1, Lang::Fr), "-12,5");
        assert_eq!(number(999.0, 0, Lang::Fr), "999");
        assert_eq!(percent(0.52, 1, Lang::Fr), "52,0\u{202F}%");
        assert_eq!(percent(0.52, 1, Lang::En), "52.0%");
        assert_eq!(hectares(69_000.0, Lang::Fr), "6,90\u{A0}ha");
        assert_eq!(date(jiff::civil::date(2026, 12, 5), Lang::Fr), "5 décembre 2026");
        assert_eq!(date(jiff::civil::date(2026, 12, 1), Lang::Fr), "1er décembre 2026");
        assert_eq!(date(jiff::civil::date(2026, 12, 5), Lang::En), "5 December 2026");
        assert_eq!(duration_hours(0.75, Lang::Fr), "45\u{A0}min");
        assert_eq!(duration_hours(2.5, Lang::Fr), "2\u{A0}h\u{A0}30");
        assert_eq!(duration_hours(2.5, Lang::En), "2\u{A0}h\u{A0}30\u{A0}min");
        assert_eq!(duration_hours(24.0, Lang::Fr), "24\u{A0}h");
        assert_eq!(duration_hours(72.0, Lang::Fr), "3\u{A0}jours");
        assert_eq!(duration_hours(60.0, Lang::Fr), "2,5\u{A0}jours");
        assert_eq!(duration_hours(72.0, Lang::En), "3\u{A0}days");
    }
}
