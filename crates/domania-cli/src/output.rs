//! Standard output that survives a closed pipe, and error messages that say each thing once.
//!
//! `println!` panics when the reader of a pipe has gone (`domania owners | head`). Everything
//! the commands print goes through [`emit`] instead, which returns the `BrokenPipe` error;
//! `main` recognises it ([`is_closed_pipe`]) and exits quietly with success, as `cat` would.

use domania_app::i18n::Lang;
use domania_app::{AppError, Audience};
use std::io::Write as _;

/// Writes `text` to standard output.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `outln!(...)`: `println!` through [`emit`], returning its error with `?`.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::emit("\n") };
    ($($arg:tt)*) => { $crate::output::emit(&format!("{}\n", format_args!($($arg)*))) };
}

/// Whether the error is standard output's reader having gone.
pub fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The error and its causes on one line, each said once: a cause whose text the message
/// already holds (a path, an OS reason the error formats itself) is not repeated.
/// An error as the person at the command line reads it in `lang`: the catalogues' message of
/// the application's error when it has one; otherwise, in French, the sentence of its code
/// with the details (in English, as the lower layers give them).
pub fn said(e: &anyhow::Error, app: Option<&AppError>, lang: Lang) -> String {
    match (lang, app) {
        (Lang::En, _) | (_, None) => error_text(e),
        (_, Some(a)) if a.said_as().is_some() => a.text(lang, Audience::Cli),
        (_, Some(a)) => {
            let sentence = domania_app::error::code_sentence(a.code(), lang);
            lang.t("error-detail", &[("sentence", sentence.into()), ("detail", error_text(e).into())])
        }
    }
}

pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if text.contains(&s) {
            continue;
        }
        // A cause that repeats the path the context already names: keep what it adds.
        let s = match s.split_once(": ") {
            Some((head, rest)) if !head.is_empty() && text.contains(head) => rest.to_owned(),
            _ => s,
        };
        if text.contains(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn each_thing_is_said_once() {
        let os = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let inner: anyhow::Result<()> =
            Err(anyhow::Error::new(os).context("/tmp/x.json: No such file or directory (os error 2)"));
        let e = inner.context("reading /tmp/x.json").unwrap_err();
        assert_eq!(error_text(&e), "reading /tmp/x.json: No such file or directory (os error 2)");
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_context() {
        let e = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_closed_pipe(&e));
        assert!(!is_closed_pipe(&anyhow::anyhow!("other")));
    }
}
