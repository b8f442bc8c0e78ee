//! The TOML files a territory is described by, and dates.

use std::path::Path;

use domania_core::{ClassificationConfig, Classifier};
use domania_rules::{Rules, RulesConfig};
use jiff::civil::Date;
use serde::Deserialize;

use crate::error::{AppError, Context as _, ErrorCode, Result};

/// The rules built into Domania: a copy of data/rules.toml, so that the use cases that apply
/// rules work from any folder. A rules file replaces them.
pub const DEFAULT_RULES: &str = include_str!("../../../data/rules.toml");

/// Rules, with the name outputs give them.
#[derive(Debug, Clone)]
pub struct LoadedRules {
    pub rules: Rules,
    /// The file's path, `built-in`, or `store rules vN`.
    pub name: String,
    /// The TOML text they were read from.
    pub text: String,
}

impl LoadedRules {
    /// The name a reader of the server is shown: the file's name without its folders (the
    /// server's paths are its own), `built-in`, or `store rules vN`.
    #[must_use]
    pub fn public_name(&self) -> &str {
        file_name(&self.name)
    }
}

/// The file name of a source, never the path it had on the importer's (or the server's) machine.
pub(crate) fn file_name(source: &str) -> &str {
    source.rsplit(['/', '\\']).next().unwrap_or(source)
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| AppError::new(ErrorCode::FileUnreadable, format!("reading {what} {}: {e}", path.display())))
}

fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, name: &str, what: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| AppError::new(ErrorCode::InvalidConfig, format!("{name}: invalid {what}: {e}")))
}

/// The rules of `path`, or the built-in ones.
pub fn rules(path: Option<&Path>) -> Result<LoadedRules> {
    let (text, name) = match path {
        Some(p) => (read_text(p, "the rules")?, p.display().to_string()),
        None => (DEFAULT_RULES.to_owned(), "built-in".to_owned()),
    };
    let shown = if path.is_some() { name.clone() } else { "the built-in rules".to_owned() };
    let loaded = rules_from_text(&text, &shown)?;
    Ok(LoadedRules { name, ..loaded })
}

/// Rules from their TOML text, named `name` in outputs.
pub fn rules_from_text(text: &str, name: &str) -> Result<LoadedRules> {
    let cfg: RulesConfig = parse_toml(text, name, "rules file")?;
    let rules = Rules::new(cfg)
        .map_err(|e| AppError::new(ErrorCode::InvalidConfig, format!("{name}: rules do not hold together: {e}")))?;
    Ok(LoadedRules { rules, name: name.to_owned(), text: text.to_owned() })
}

impl crate::App {
    /// The rules a server applies, and the commands that act for it (`reports`, `report
    /// annual`, `styles`): the file given, else the rules saved in the store, else the built-in
    /// ones.
    pub fn serving_rules(&self, file: Option<&Path>) -> Result<LoadedRules> {
        match file {
            Some(p) => rules(Some(p)),
            None => match self.stored_rules()? {
                Some(r) => Ok(r),
                None => rules(None),
            },
        }
    }

    /// The rules saved in the store by the server's administrators, if any.
    pub fn stored_rules(&self) -> Result<Option<LoadedRules>> {
        match self.open_read()?.rules()? {
            Some((v, text)) => Ok(Some(rules_from_text(&text, &format!("store rules v{v}"))?)),
            None => Ok(None),
        }
    }

    /// Checks rules (TOML text) and saves them in the store as a new version; returns them.
    pub fn save_rules(&self, text: &str, author: &str) -> Result<LoadedRules> {
        rules_from_text(text, "the rules sent")?;
        let v = self.open_write()?.save_rules(text, author)?;
        rules_from_text(text, &format!("store rules v{v}"))
    }
}

/// The territory TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TerritoryFile {
    #[serde(default)]
    owners: ClassificationConfig,
}

/// The classifier of a territory file (none: the PPM layers alone).
pub fn classifier(territory: Option<&Path>) -> Result<Classifier> {
    let config = match territory {
        None => TerritoryFile::default(),
        Some(path) => parse_toml(&read_text(path, "")?, &path.display().to_string(), "territory configuration")?,
    };
    Classifier::new(&config.owners).context(|| "territory configuration")
}

/// A scenario file: a name and the transfers.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "transfer", alias = "transfers")]
    pub transfers: Vec<domania_engine::Transfer>,
}

impl ScenarioFile {
    pub fn read(path: &Path) -> Result<Self> {
        parse_toml(&read_text(path, "the scenario")?, &path.display().to_string(), "scenario")
    }
}

/// A perimeters file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerimetersFile {
    #[serde(rename = "perimeter")]
    pub perimeters: Vec<domania_engine::PerimeterDef>,
}

impl PerimetersFile {
    pub fn read(path: &Path) -> Result<Self> {
        parse_toml(&read_text(path, "the perimeters")?, &path.display().to_string(), "perimeters file")
    }
}

/// A calendar date written `YYYY-MM-DD`; `yesterday`, `2024-13-45` or `2024-1-5` are refused
/// with a message that says what is expected.
pub fn parse_date(s: &str) -> Result<Date> {
    let well_formed = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    match s.parse::<Date>() {
        Ok(d) if well_formed => Ok(d),
        Ok(_) => Err(AppError::said(ErrorCode::InvalidArgument, "error-bad-date", vec![("text", s.into())])),
        Err(e) => Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("{s:?} is not a date: expected YYYY-MM-DD, e.g. 2025-06-01 ({e})"),
        )),
    }
}

/// Today in the machine's time zone (UTC when it has none).
#[must_use]
pub fn today() -> Date {
    jiff::Zoned::now().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_days_written_in_full() {
        assert_eq!(parse_date("2024-02-29").unwrap(), jiff::civil::date(2024, 2, 29));
        for bad in ["2023-02-29", "2024-13-45", "yesterday", "2024-1-5", "20240229", "2024-02-29T00:00"] {
            let e = parse_date(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{bad}");
            assert!(e.message().contains("YYYY-MM-DD"), "{bad}: {}", e.message());
        }
    }

    #[test]
    fn the_built_in_rules_hold_together() {
        let r = rules(None).unwrap();
        assert_eq!(r.name, "built-in");
        assert!(!r.rules.config().interventions.is_empty());
    }
}
