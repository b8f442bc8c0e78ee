//! Validation reports: what a reader accepted, repaired and rejected, feature by feature.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; the feature is kept as it is.
    Warning,
    /// The feature was changed by an explicit repair policy and kept.
    Repaired,
    /// The feature was rejected.
    Rejected,
}

/// One problem found in one feature or line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// Feature index (0-based, GeoJSON/Shapefile) or line number (1-based, CSV).
    pub location: Location,
    /// The feature's identifier when known (IDU, code).
    pub id: Option<String>,
    pub severity: Severity,
    /// Stable snake_case code, e.g. `self_intersection`, `duplicate_idu`.
    pub code: &'static str,
    pub message: String,
    /// The file it is in, when the report covers several (the parts of an owner file read as
    /// one); `None`: the report's own file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// Where an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    Feature(usize),
    Line(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Feature(i) => write!(f, "feature {i}"),
            Location::Line(l) => write!(f, "line {l}"),
        }
    }
}

/// The report of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationReport {
    pub path: PathBuf,
    /// Format as detected, e.g. `etalab-cadastre-geojson`, `dgfip-ppm-2025`.
    pub format: String,
    /// Source CRS the coordinates were read in (`EPSG:4326`…); empty for tables.
    pub crs: String,
    pub read: usize,
    pub accepted: usize,
    pub repaired: usize,
    pub rejected: usize,
    pub warnings: usize,
    pub issues: Vec<Issue>,
}

impl ValidationReport {
    #[must_use]
    pub fn new(path: &Path, format: &str) -> Self {
        Self {
            path: path.to_path_buf(),
            format: format.to_owned(),
            crs: String::new(),
            read: 0,
            accepted: 0,
            repaired: 0,
            rejected: 0,
            warnings: 0,
            issues: Vec::new(),
        }
    }

    /// Records an issue and updates the counters (`accepted` and `repaired` are counted by the
    /// reader, once per feature).
    pub fn push(
        &mut self,
        location: Location,
        id: Option<&str>,
        severity: Severity,
        code: &'static str,
        message: String,
    ) {
        match severity {
            Severity::Warning => self.warnings += 1,
            // Counted once per feature by the reader, whatever the number of repairs.
            Severity::Repaired => {}
            Severity::Rejected => self.rejected += 1,
        }
        // A NUL quoted from the file is shown as `\0`: the report is stored with the version.
        let visible = |t: &str| if t.contains('\0') { t.replace('\0', "\\0") } else { t.to_owned() };
        let message = if message.contains('\0') { visible(&message) } else { message };
        self.issues.push(Issue { location, id: id.map(visible), severity, code, message, file: None });
    }

    /// Adds the report of another file read with this one (the next part of an owner file):
    /// its counts, and its issues, each naming its file.
    pub fn merge(&mut self, other: ValidationReport) {
        self.read += other.read;
        self.accepted += other.accepted;
        self.repaired += other.repaired;
        self.rejected += other.rejected;
        self.warnings += other.warnings;
        let file = other.path;
        self.issues.extend(
            other.issues.into_iter().map(|i| Issue { file: Some(i.file.unwrap_or_else(|| file.clone())), ..i }),
        );
    }

    /// True when nothing was rejected.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.rejected == 0
    }

    /// One line per issue, prefixed by the file name, for terminals and logs.
    #[must_use]
    pub fn render_issues(&self, limit: usize) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for issue in self.issues.iter().take(limit) {
            let id = issue.id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: {}{id}: {:?} [{}]: {}",
                issue.file.as_ref().unwrap_or(&self.path).display(),
                issue.location,
                issue.severity,
                issue.code,
                issue.message
            );
        }
        if self.issues.len() > limit {
            let _ = writeln!(out, "… and {} more issues", self.issues.len() - limit);
        }
        out
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} read, {} accepted ({} repaired), {} rejected, {} warnings",
            self.path.display(),
            self.read,
            self.accepted,
            self.repaired,
            self.rejected,
            self.warnings
        )
    }
}
