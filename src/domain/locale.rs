//! The languages Encore speaks to patrons, and how each writes dates, times and money.
//!
//! A ticket carries one (`locale` on issue, else its event's); every email about it and every
//! page its link opens speaks it. The words themselves are in `locales/{en,de}/*.ftl` (see
//! `crate::i18n`); what is here is what a translation file cannot say: which tags we accept,
//! and the number and date conventions.

use super::Invalid;
use chrono::{DateTime, TimeZone};

/// A language patrons read. English is the default and the fallback for any missing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    De,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// A BCP 47 tag whose language we speak: "de" and "de-AT" are German, "en-GB" is English.
    /// The region does not change anything we write, so it is not kept. (The API's schema
    /// describes the same shape: [`Locale::PATTERN`].)
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let mut subtags = raw.split('-');
        let locale = match subtags.next() {
            Some("en") => Locale::En,
            Some("de") => Locale::De,
            _ => {
                return Err(Invalid::new(
                    field,
                    format!(
                    "{raw:?} is not a language Encore speaks: \"en\" (English) or \"de\" (German)"
                ),
                ))
            }
        };
        let well_formed =
            |s: &str| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !subtags.all(well_formed) {
            return Err(Invalid::new(
                field,
                format!("{raw:?} is not a language tag like \"de\" or \"de-AT\""),
            ));
        }
        Ok(locale)
    }

    /// What [`Locale::parse`] accepts, as a regular expression for the API's schema.
    pub const PATTERN: &'static str = "^(en|de)(-[A-Za-z0-9]{1,8})*$";

    /// As stored and as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// What was stored by [`Locale::as_str`]; anything else (never written) reads as English.
    pub fn from_stored(raw: &str) -> Self {
        Locale::parse("locale", raw).unwrap_or_default()
    }

    /// The language's own name, for a choice in a form.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
        }
    }

    fn chrono(self) -> chrono::Locale {
        match self {
            Locale::En => chrono::Locale::en_GB,
            Locale::De => chrono::Locale::de_DE,
        }
    }

    /// "45.00 EUR" in English, "45,00 EUR" in German; thousands grouped ("1,250.00 EUR",
    /// "1.250,00 EUR"). Takes the stored parts, so a negative balance formats too.
    pub fn money(self, minor: i64, currency: &str) -> String {
        let (decimal, group) = match self {
            Locale::En => ('.', ','),
            Locale::De => (',', '.'),
        };
        let sign = if minor < 0 { "-" } else { "" };
        let minor = minor.unsigned_abs();
        let major = (minor / 100).to_string();
        let mut grouped = String::with_capacity(major.len() + major.len() / 3);
        for (i, digit) in major.chars().enumerate() {
            if i > 0 && (major.len() - i) % 3 == 0 {
                grouped.push(group);
            }
            grouped.push(digit);
        }
        format!("{sign}{grouped}{decimal}{:02} {currency}", minor % 100)
    }

    /// A moment in full, at the venue: "Friday 18 December 2026, 19:30 CET" or
    /// "Freitag, 18. Dezember 2026, 19:30 CET".
    pub fn date_time<Tz: TimeZone>(self, at: &DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        self.written(at, "%A %-d %B %Y, %H:%M %Z", "%A, %-d. %B %Y, %H:%M %Z")
    }

    /// A day, short: "18 Dec 2026" or "18. Dez 2026" (in subjects and lists).
    pub fn short_date<Tz: TimeZone>(self, at: &DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        self.written(at, "%-d %b %Y", "%-d. %b %Y")
    }

    /// A day and time, short: "Fri 18 Dec 2026, 19:30" or "Fr, 18. Dez 2026, 19:30" (choices
    /// in a list).
    pub fn short_date_time<Tz: TimeZone>(self, at: &DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        self.written(at, "%a %-d %b %Y, %H:%M", "%a, %-d. %b %Y, %H:%M")
    }

    /// A day of the month: "7 December" or "7. Dezember" (the year and weekday go without
    /// saying, as for the day a page was saved).
    pub fn day_month<Tz: TimeZone>(self, at: &DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        self.written(at, "%-d %B", "%-d. %B")
    }

    /// `at` by this language's pattern of the two, with its day and month names.
    fn written<Tz: TimeZone>(self, at: &DateTime<Tz>, english: &str, german: &str) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        let pattern = match self {
            Locale::En => english,
            Locale::De => german,
        };
        at.format_localized(pattern, self.chrono()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn tags_of_the_languages_we_speak_parse_to_the_language() {
        assert_eq!(Locale::parse("locale", "de").unwrap(), Locale::De);
        assert_eq!(Locale::parse("locale", "de-AT").unwrap(), Locale::De);
        assert!(Locale::parse("locale", "de_CH").is_err());
        assert!(Locale::parse("locale", "de-").is_err());
        assert_eq!(Locale::parse("locale", "en-GB").unwrap(), Locale::En);
        let refused = Locale::parse("locale", "fr").unwrap_err();
        assert_eq!(refused.field, "locale");
        assert!(refused.reason.contains("\"de\" (German)"), "{refused}");
        assert!(Locale::parse("locale", "").is_err());
        for locale in Locale::ALL {
            assert_eq!(Locale::from_stored(locale.as_str()), locale);
        }
    }

    #[test]
    fn money_uses_each_languages_separators() {
        assert_eq!(Locale::En.money(4500, "EUR"), "45.00 EUR");
        assert_eq!(Locale::De.money(4500, "EUR"), "45,00 EUR");
        assert_eq!(Locale::En.money(125_000, "EUR"), "1,250.00 EUR");
        assert_eq!(Locale::De.money(125_000_005, "EUR"), "1.250.000,05 EUR");
        assert_eq!(Locale::De.money(-350, "GBP"), "-3,50 GBP");
        assert_eq!(Locale::En.money(5, "EUR"), "0.05 EUR");
    }

    #[test]
    fn dates_are_written_in_each_language() {
        let at = DateTime::parse_from_rfc3339("2026-12-18T18:30:00Z").unwrap();
        let berlin = at.with_timezone(&chrono_tz::Europe::Berlin);
        assert_eq!(
            Locale::En.date_time(&berlin),
            "Friday 18 December 2026, 19:30 CET"
        );
        assert_eq!(
            Locale::De.date_time(&berlin),
            "Freitag, 18. Dezember 2026, 19:30 CET"
        );
        assert_eq!(Locale::De.short_date(&berlin), "18. Dez 2026");
        assert_eq!(
            Locale::En.short_date(&at.with_timezone(&Utc)),
            "18 Dec 2026"
        );
    }
}
