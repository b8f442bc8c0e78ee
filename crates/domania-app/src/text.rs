//! Text that people and clients send, checked where it comes in: a field that no store can keep
//! (a NUL character: PostgreSQL's text holds none, so the GeoPackage refuses it too, and both
//! engines give the same answer) is `bad_text` (422) naming the field; a field longer than
//! allowed is `invalid_argument` naming the field and its limit.

use crate::error::{AppError, ErrorCode, Result};

/// Checks the field `name` holding `value`: no NUL, at most `max_chars` characters.
///
/// # Errors
/// `bad_text` for a NUL, `invalid_argument` past the length.
pub fn field(name: &str, value: &str, max_chars: usize) -> Result<()> {
    storable(name, value)?;
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(AppError::said(
            ErrorCode::InvalidArgument,
            "error-text-long",
            vec![("name", name.into()), ("chars", chars.to_string().into()), ("max", max_chars.to_string().into())],
        ));
    }
    Ok(())
}

/// Checks that the field `name` holding `value` can be stored: no NUL character.
///
/// # Errors
/// `bad_text`, naming the field.
pub fn storable(name: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(AppError::said(ErrorCode::BadText, "error-text-nul", vec![("name", name.into())]));
    }
    Ok(())
}

/// Checks that `url` is a web address a person can open: `http://` or `https://`, a host, no
/// space or control character, at most `max_chars` characters (a `javascript:` or `data:` URL
/// is refused, never echoed back).
///
/// # Errors
/// `invalid_argument` or `bad_text`, naming the field.
pub fn web_url(name: &str, url: &str, max_chars: usize) -> Result<()> {
    field(name, url, max_chars)?;
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if host.is_none_or(str::is_empty) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("{name} must be an http:// or https:// address of a photo or a page"),
        ));
    }
    Ok(())
}

/// Checks that `value` is not a URL a browser would run (`javascript:`, `vbscript:`, `data:`).
///
/// # Errors
/// `invalid_argument`, naming the field.
pub fn not_a_script(name: &str, value: &str) -> Result<()> {
    let lower = value.trim_start().to_ascii_lowercase();
    let scheme: String = lower.chars().filter(|c| !c.is_whitespace() && !c.is_control()).take(11).collect();
    if ["javascript:", "vbscript:", "data:"].iter().any(|s| scheme.starts_with(s)) {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            format!("{name} must be a photo's address or file name, not a script"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_cannot_be_stored_or_are_too_long_are_refused_by_name() {
        assert!(field("description", "Dépôt sauvage", 20).is_ok());
        let e = field("description", "a\0b", 20).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadText);
        assert!(e.message().starts_with("description holds a NUL"));
        let e = field("note", &"é".repeat(21), 20).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(e.message().contains("note has 21 characters; at most 20"));
    }

    #[test]
    fn only_web_addresses_are_media_urls() {
        assert!(web_url("media_url", "https://photos.example.org/p/1.jpg", 100).is_ok());
        assert!(web_url("media_url", "http://x.fr", 100).is_ok());
        for bad in
            ["javascript:alert(1)", "data:text/html,x", "https://", "https:///x", "ftp://x.fr", "https://x.fr/a b"]
        {
            assert!(web_url("media_url", bad, 100).is_err(), "{bad}");
        }
    }
}
