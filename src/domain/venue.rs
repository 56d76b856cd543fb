//! Where an event takes place and whom its patrons ask for help: optional event settings, shown
//! on the ticket page (with a map link and `tel:`/`mailto:` links) and in the confirmation email.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::text::breaks_text;
use super::{EmailAddress, Invalid};

/// The longest address accepted (characters, its lines joined by line breaks).
pub const MAX_ADDRESS_CHARS: usize = 500;
/// The most lines an address may have.
pub const MAX_ADDRESS_LINES: usize = 6;
/// The longest phone number accepted, as typed (characters).
pub const MAX_PHONE_CHARS: usize = 32;

/// Where OpenStreetMap searches for an address.
const MAP_SEARCH: &str = "https://www.openstreetmap.org/search?query=";

/// What a URL query value or a `mailto:` address keeps as it is: RFC 3986's unreserved
/// characters (everything else is percent-encoded).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The venue's postal address: a few lines of text ("Theatre Street 1", "1010 Vienna"), each
/// trimmed, blank lines dropped, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueAddress(String);

impl VenueAddress {
    pub fn parse(field: &'static str, raw: &str) -> Result<VenueAddress, Invalid> {
        if raw
            .chars()
            .any(|c| breaks_text(c) && !matches!(c, '\n' | '\r'))
        {
            return Err(Invalid::new(
                field,
                "must not contain control characters (line breaks excepted)",
            ));
        }
        let lines: Vec<&str> = raw
            .lines()
            .map(|line| line.trim_matches(|c: char| c.is_whitespace()))
            .filter(|line| !line.is_empty())
            .collect();
        if lines.is_empty() {
            return Err(Invalid::new(
                field,
                "must not be empty (leave it out, or null, for none)",
            ));
        }
        if lines.len() > MAX_ADDRESS_LINES {
            return Err(Invalid::new(
                field,
                format!("must have at most {MAX_ADDRESS_LINES} lines"),
            ));
        }
        let address = lines.join("\n");
        if address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(Invalid::new(
                field,
                format!("must be at most {MAX_ADDRESS_CHARS} characters"),
            ));
        }
        Ok(VenueAddress(address))
    }

    /// An address as stored (it was parsed when it was set).
    pub fn from_stored(text: String) -> VenueAddress {
        VenueAddress(text)
    }

    /// Its lines joined by line breaks, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.0.lines()
    }

    /// On one line, its lines separated by commas: what a map searches for.
    pub fn one_line(&self) -> String {
        self.lines().collect::<Vec<_>>().join(", ")
    }

    /// An OpenStreetMap search for the address.
    pub fn map_url(&self) -> String {
        format!(
            "{MAP_SEARCH}{}",
            utf8_percent_encode(&self.one_line(), UNRESERVED)
        )
    }
}

/// A phone number patrons may call: digits with the usual separators (spaces, `-`, `.`, `/`,
/// parentheses), an optional leading `+`, 3 to 15 digits (E.164's most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpPhone(String);

impl HelpPhone {
    pub fn parse(field: &'static str, raw: &str) -> Result<HelpPhone, Invalid> {
        if raw.chars().any(breaks_text) {
            return Err(Invalid::new(
                field,
                "must be one line, with no control characters",
            ));
        }
        let typed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if typed.is_empty() {
            return Err(Invalid::new(
                field,
                "must not be empty (leave it out, or null, for none)",
            ));
        }
        if typed.chars().count() > MAX_PHONE_CHARS {
            return Err(Invalid::new(
                field,
                format!("must be at most {MAX_PHONE_CHARS} characters"),
            ));
        }
        let body = typed.strip_prefix('+').unwrap_or(&typed);
        if let Some(bad) = body
            .chars()
            .find(|c| !(c.is_ascii_digit() || " -./()".contains(*c)))
        {
            return Err(Invalid::new(
                field,
                format!(
                    "{bad:?} is not part of a phone number: digits, spaces, - . / ( ) and a \
                     leading + only"
                ),
            ));
        }
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !(3..=15).contains(&digits) {
            return Err(Invalid::new(field, "must have between 3 and 15 digits"));
        }
        Ok(HelpPhone(typed))
    }

    /// A number as stored (it was parsed when it was set).
    pub fn from_stored(text: String) -> HelpPhone {
        HelpPhone(text)
    }

    /// As typed (whitespace runs made one space): how the page shows it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `tel:` link that dials it: its digits, with the leading `+` if it has one.
    pub fn tel_uri(&self) -> String {
        let plus = if self.0.starts_with('+') { "+" } else { "" };
        let digits: String = self.0.chars().filter(char::is_ascii_digit).collect();
        format!("tel:{plus}{digits}")
    }
}

/// The `mailto:` link that writes to `email`.
pub fn mailto_uri(email: &EmailAddress) -> String {
    let (local, domain) = email
        .as_str()
        .rsplit_once('@')
        .expect("a parsed address has an @");
    format!(
        "mailto:{}@{}",
        utf8_percent_encode(local, UNRESERVED),
        utf8_percent_encode(domain, UNRESERVED)
    )
}

/// An event's venue details, each optional: its address, and the phone and email patrons use
/// to ask for help. An event without them shows nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueDetails {
    pub address: Option<VenueAddress>,
    pub help_phone: Option<HelpPhone>,
    pub help_email: Option<EmailAddress>,
}

impl VenueDetails {
    /// The details as given, each checked (the error names the field: `venue_address`,
    /// `help_phone` or `help_email`); one left out is none.
    pub fn parse(
        address: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<VenueDetails, Invalid> {
        Ok(VenueDetails {
            address: address
                .map(|a| VenueAddress::parse("venue_address", a))
                .transpose()?,
            help_phone: phone
                .map(|p| HelpPhone::parse("help_phone", p))
                .transpose()?,
            help_email: email
                .map(|e| EmailAddress::parse("help_email", e))
                .transpose()?,
        })
    }

    /// Whether there is a way to ask for help.
    pub fn has_help(&self) -> bool {
        self.help_phone.is_some() || self.help_email.is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.address.is_none() && !self.has_help()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lines_of_text() {
        let address = VenueAddress::parse(
            "a",
            "  Globe Theatre \r\n\n 21 New Globe Walk\nLondon SE1 9DT ",
        )
        .unwrap();
        assert_eq!(
            address.as_str(),
            "Globe Theatre\n21 New Globe Walk\nLondon SE1 9DT"
        );
        assert_eq!(
            address.one_line(),
            "Globe Theatre, 21 New Globe Walk, London SE1 9DT"
        );
        for bad in ["", " \n ", "a\u{7}b", "a\tb", "1\n2\n3\n4\n5\n6\n7"] {
            assert!(VenueAddress::parse("a", bad).is_err(), "{bad:?}");
        }
        assert!(VenueAddress::parse("a", &"x".repeat(501)).is_err());
        assert!(VenueAddress::parse("a", &"x".repeat(500)).is_ok());
    }

    #[test]
    fn the_map_link_searches_for_the_address_escaped() {
        let address = VenueAddress::parse("a", "Café & Bar #1\n1010 Wien?x=<y>").unwrap();
        assert_eq!(
            address.map_url(),
            "https://www.openstreetmap.org/search?query=Caf%C3%A9%20%26%20Bar%20%231%2C%201010%20Wien%3Fx%3D%3Cy%3E"
        );
    }

    #[test]
    fn phone_numbers_are_digits_with_separators() {
        let phone = HelpPhone::parse("p", " +43 (1)  234-56.78 ").unwrap();
        assert_eq!(phone.as_str(), "+43 (1) 234-56.78");
        assert_eq!(phone.tel_uri(), "tel:+4312345678");
        assert_eq!(HelpPhone::parse("p", "112").unwrap().tel_uri(), "tel:112");
        for bad in [
            "",
            "12",
            "call us",
            "+43 1 234 x 5",
            "1+2",
            "1234567890123456",
            "javascript:1",
            "1\n2\n3",
        ] {
            assert!(HelpPhone::parse("p", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mailto_links_escape_the_address() {
        let plain = EmailAddress::parse("e", "help@globe.example").unwrap();
        assert_eq!(mailto_uri(&plain), "mailto:help@globe.example");
        let odd = EmailAddress::parse("e", "box+office?a&b@globe.example").unwrap();
        assert_eq!(
            mailto_uri(&odd),
            "mailto:box%2Boffice%3Fa%26b@globe.example"
        );
    }
}
