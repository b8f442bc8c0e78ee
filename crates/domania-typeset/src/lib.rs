//! Domania's printed documents: a Typst template and its figures (JSON, and the images it
//! draws) turned into a PDF by Typst used as a library.
//!
//! Why Typst: it typesets French properly (hyphenation, non-breaking spaces before `:` and
//! `%`, the language's quotes), lays out tables across pages with repeated headers, keeps a
//! heading with what follows, numbers pages, draws charts from its own shapes and places SVG
//! maps — and it is one Rust library with no browser, no LaTeX and no network. Its PDFs embed
//! the subsets of the fonts they use, their text extracts in reading order (tagged PDF), and
//! the same input gives the same bytes: the document identifier is derived from a key the
//! caller gives, and the only date written is the one the caller gives.
//!
//! The fonts are Typst's own (Libertinus Serif, New Computer Modern, DejaVu Sans Mono),
//! compiled into the binary: a server prints the same pages whatever fonts its machine has.

use std::collections::HashMap;
use std::sync::LazyLock;

use typst::WorldExt as _;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

/// Why a document could not be made (a template's mistake: the figures are data, never code).
#[derive(Debug, thiserror::Error)]
pub enum TypesetError {
    #[error("the template {template} did not compile: {message}")]
    Template { template: String, message: String },
    #[error("the figures of {template} are not JSON: {0}", template = .1)]
    Figures(serde_json::Error, String),
    #[error("a file name of {template} is not a path Typst reads: {name}")]
    Name { template: String, name: String },
}

/// A document to print.
pub struct Document<'a> {
    /// The template's name (for messages) and its Typst source; it reads its figures with
    /// `json("figures.json")` and its images by the names given in `files`.
    pub name: &'a str,
    pub template: &'a str,
    /// Typst modules the template imports (`#import "common.typ": *`), by name.
    pub modules: &'a [(&'a str, &'a str)],
    /// The figures, serialised as `figures.json`.
    pub figures: &'a serde_json::Value,
    /// Other files the template reads (SVG maps and charts), by name.
    pub files: Vec<(String, Vec<u8>)>,
    /// A key naming this document stably (a sub-sector and its data versions): the PDF's
    /// identifier is derived from it, so two prints of the same data are the same bytes.
    pub key: &'a str,
    /// The date the document is dated (year, month, day): Typst's `datetime.today()` and the
    /// PDF's creation date.
    pub date: (i32, u8, u8),
}

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
    Fonts { book: LazyHash::new(FontBook::from_fonts(&fonts)), fonts }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::builder().build()));

struct Print {
    main: FileId,
    source: Source,
    modules: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
    today: Option<Datetime>,
}

impl World for Print {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            return Ok(self.source.clone());
        }
        self.modules.get(&id).cloned().ok_or(FileError::NotSource)
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

fn file_id(template: &str, name: &str) -> Result<FileId, TypesetError> {
    let path =
        VirtualPath::new(name).map_err(|_| TypesetError::Name { template: template.into(), name: name.into() })?;
    Ok(RootedPath::new(VirtualRoot::Project, path).intern())
}

fn said(template: &str, errors: &[SourceDiagnostic], world: &Print) -> TypesetError {
    let message = errors
        .iter()
        .map(|e| {
            let line = world.range(e.span).map(|r| world.source.lines().byte_to_line(r.start).map_or(0, |l| l + 1));
            match line {
                Some(l) => format!("line {l}: {}", e.message),
                None => e.message.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    TypesetError::Template { template: template.into(), message }
}

/// The PDF of `doc`.
///
/// # Errors
/// The template does not compile with these figures (a mistake of the template, said with its
/// line), or a file name is not a path.
pub fn pdf(doc: &Document<'_>) -> Result<Vec<u8>, TypesetError> {
    let main = file_id(doc.name, "main.typ")?;
    let source = Source::new(main, doc.template.to_owned());
    let figures = serde_json::to_vec(doc.figures).map_err(|e| TypesetError::Figures(e, doc.name.into()))?;
    let mut files = HashMap::from([(file_id(doc.name, "figures.json")?, Bytes::new(figures))]);
    for (name, bytes) in &doc.files {
        files.insert(file_id(doc.name, name)?, Bytes::new(bytes.clone()));
    }
    let (y, m, d) = doc.date;
    let today = Datetime::from_ymd(y, m, d);
    let mut modules = HashMap::new();
    for (name, text) in doc.modules {
        let id = file_id(doc.name, name)?;
        modules.insert(id, Source::new(id, (*text).to_owned()));
    }
    let world = Print { main, source, modules, files, today };
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled.output.map_err(|e| said(doc.name, &e, &world))?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(doc.key.to_owned()),
        creator: Smart::Custom(Some("Domania".to_owned())),
        timestamp: today.map(typst_pdf::Timestamp::new_utc),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|e| said(doc.name, &e, &world))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = r#"#let f = json("figures.json")
#set document(title: f.title)
#set text(lang: "fr")
= #f.title
Surface : #f.area
#image("carte.svg", width: 4cm)
"#;

    fn doc<'a>(figures: &'a serde_json::Value, template: &'a str) -> Document<'a> {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#c00"/></svg>"##;
        Document {
            name: "essai",
            template,
            figures,
            modules: &[],
            files: vec![("carte.svg".into(), svg.to_vec())],
            key: "essai-1",
            date: (2026, 12, 6),
        }
    }

    #[test]
    fn a_template_and_its_figures_make_the_same_pdf_twice() {
        let figures = serde_json::json!({"title": "Cahier d'essai", "area": "1 234,5 m²"});
        let a = pdf(&doc(&figures, T)).expect("a PDF");
        let b = pdf(&doc(&figures, T)).expect("a PDF");
        assert!(a.starts_with(b"%PDF-"), "{:?}", &a[..8]);
        assert_eq!(a, b, "the same figures give the same bytes");
        let other = serde_json::json!({"title": "Cahier d'essai", "area": "1 234,6 m²"});
        assert_ne!(pdf(&doc(&other, T)).expect("a PDF"), a);
    }

    #[test]
    fn a_template_mistake_is_said_with_its_line() {
        let figures = serde_json::json!({"title": "x"});
        let e = pdf(&doc(&figures, "#let f = json(\"figures.json\")\n\n#f.nothing\n")).unwrap_err().to_string();
        assert!(e.contains("essai") && e.contains("line 3"), "{e}");
    }
}
