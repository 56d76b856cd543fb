use super::Invalid;

/// A short human label (a name, a venue, a gate, a seat): trimmed, non-empty, bounded, and
/// free of control characters so it can never break a header, a log line or a CSV cell.
pub fn label(field: &'static str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(Invalid::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(breaks_text) {
        return Err(Invalid::new(
            field,
            "must not contain control characters or line separators",
        ));
    }
    Ok(trimmed.to_string())
}

/// A control character (which includes U+0085, NEXT LINE) or a Unicode line or paragraph
/// separator (U+2028, U+2029): what some mail readers, log viewers and JavaScript parsers
/// take for the end of a line.
pub fn breaks_text(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Like [`label`], for fields that may be left out (an empty string counts as left out).
pub fn optional_label(
    field: &'static str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, Invalid> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => label(field, text, max_chars).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_bounded_and_printable() {
        assert_eq!(label("name", "  Ada  ", 10).unwrap(), "Ada");
        assert!(label("name", "   ", 10).is_err());
        assert!(label("name", "Ada\nBcc: x", 50).is_err());
        for separator in ['\u{2028}', '\u{2029}', '\u{85}'] {
            assert!(label("name", &format!("Ada{separator}Bcc: x"), 50).is_err());
        }
        assert!(label("name", "ééééé", 5).is_ok());
        assert!(label("name", "éééééé", 5).is_err());
        assert_eq!(optional_label("seat", Some(" "), 5).unwrap(), None);
        assert_eq!(optional_label("seat", None, 5).unwrap(), None);
        assert_eq!(
            optional_label("seat", Some("A12"), 5).unwrap().as_deref(),
            Some("A12")
        );
    }
}
