use std::fmt;

use super::text::breaks_text;
use super::Invalid;

/// A syntactically valid email address, trimmed and with its domain lower-cased.
/// Credit and patron history belong to an address, so one spelling per mailbox matters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err(Invalid::new(field, "is longer than 254 characters"));
        }
        if !email_address::EmailAddress::is_valid(trimmed) {
            return Err(Invalid::new(
                field,
                format!("{trimmed:?} is not a valid email address"),
            ));
        }
        // is_valid accepts quoted local parts, which may hold characters we never want near a
        // mail header; a ticketing address has no use for them.
        if trimmed
            .chars()
            .any(|c| breaks_text(c) || c == '"' || c == ' ')
        {
            return Err(Invalid::new(
                field,
                "must not contain quotes, spaces, control characters or line separators",
            ));
        }
        let (local, domain) = trimmed.rsplit_once('@').expect("a valid address has an @");
        // A domain literal (`ada@[192.0.2.1]`) bypasses DNS and names a host directly: a way to
        // make us send mail to an internal address. Patrons' mail lives at domain names.
        // A bare dotted address is the same thing without the brackets.
        if domain.starts_with('[') || domain.parse::<std::net::IpAddr>().is_ok() {
            return Err(Invalid::new(
                field,
                "must name a mail domain, not an IP address",
            ));
        }
        Ok(EmailAddress(format!(
            "{local}@{}",
            domain.to_ascii_lowercase()
        )))
    }

    /// An address as stored (it was parsed before it was stored).
    pub fn from_stored(text: String) -> Self {
        EmailAddress(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        let email = EmailAddress::parse("email", "  Ada.Lovelace@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@example.org");
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@@example.org",
            "a b@example.org",
            "ada@example.org\r\nBcc: x@y.z",
            "\"a b\"@example.org",
            "ada@[192.0.2.1]",
            "ada@[IPv6:2001:db8::1]",
            "ada@192.0.2.1",
            "ada\u{2028}@example.org",
            "ada@exam\u{2029}ple.org",
            "ada\u{85}@example.org",
        ] {
            assert!(
                EmailAddress::parse("email", bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
