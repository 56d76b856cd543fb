//! Messages chosen by what happened at the door. An event's message rule says whom it is for
//! (those admitted, or holders of valid tickets never admitted), when (minutes after the
//! performance's start or end), whether it is a service message (always sent) or marketing
//! (only to patrons who have not opted out), and what it says.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::EventId;
use super::lobby::LobbyMessage;
use super::locale::Locale;
use super::Invalid;

/// How long a performance lasts when the box office did not say: two and a half hours.
pub const DEFAULT_RUNNING_MINUTES: i64 = 150;

/// The furthest a rule's moment may lie from its anchor: a week.
pub const MAX_OFFSET_MINUTES: i32 = 7 * 24 * 60;

/// How long a no-show's one-click credit link stays good after the performance ends.
pub const NO_SHOW_CREDIT_DAYS: i64 = 30;

/// Longest subject accepted (characters).
const MAX_SUBJECT_CHARS: usize = 200;

/// Whom a rule writes to, by what happened at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Holders who were admitted.
    Admitted,
    /// Holders of valid tickets who were never admitted (no-shows, once the show is over).
    NotAdmitted,
}

/// What a rule's moment is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    Start,
    End,
}

/// Service messages always go; marketing goes only to patrons who have not opted out, and
/// carries an unsubscribe link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Service,
    Marketing,
}

macro_rules! stored_names {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            /// The name stored and shown by the API (serde's `snake_case`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $name),+
                }
            }

            /// The value stored as `text`, if this build knows it.
            pub fn from_stored(text: &str) -> Option<$type> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

stored_names!(Audience { Admitted => "admitted", NotAdmitted => "not_admitted" });
stored_names!(Anchor { Start => "start", End => "end" });
stored_names!(Purpose { Service => "service", Marketing => "marketing" });

/// When a rule's message goes: `offset_minutes` after the performance's start or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub anchor: Anchor,
    pub offset_minutes: i32,
}

impl Moment {
    pub fn parse(anchor: Anchor, offset_minutes: i64) -> Result<Moment, Invalid> {
        if !(0..=i64::from(MAX_OFFSET_MINUTES)).contains(&offset_minutes) {
            return Err(Invalid::new(
                "offset_minutes",
                format!("must be between 0 and {MAX_OFFSET_MINUTES} (a week)"),
            ));
        }
        Ok(Moment {
            anchor,
            offset_minutes: offset_minutes as i32,
        })
    }

    /// When it falls for a performance that starts and ends at these times.
    pub fn at(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> DateTime<Utc> {
        let anchor = match self.anchor {
            Anchor::Start => starts_at,
            Anchor::End => ends_at,
        };
        anchor + Duration::minutes(self.offset_minutes.into())
    }
}

/// A rule as the box office writes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleToStore {
    pub audience: Audience,
    pub moment: Moment,
    pub purpose: Purpose,
    pub subject: LobbyMessage,
    pub body: LobbyMessage,
    /// The same message in other languages, each at most once: a ticket in one of them gets
    /// its translation; any other gets `subject` and `body`.
    pub translations: Vec<RuleText>,
}

/// A rule's subject and body in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleText {
    pub locale: Locale,
    pub subject: LobbyMessage,
    pub body: LobbyMessage,
}

impl RuleToStore {
    pub fn parse(
        audience: Audience,
        moment: Moment,
        purpose: Purpose,
        subject: &str,
        body: &str,
    ) -> Result<RuleToStore, Invalid> {
        if audience == Audience::NotAdmitted && moment.anchor == Anchor::Start {
            // Before the end, a holder not yet admitted may still be on the way.
            return Err(Invalid::new(
                "anchor",
                "a message to those not admitted goes after the show: use \"end\"",
            ));
        }
        Ok(RuleToStore {
            audience,
            moment,
            purpose,
            subject: parse_subject(subject)?,
            body: LobbyMessage::parse("body", body)?,
            translations: Vec::new(),
        })
    }

    /// Adds the message's translations, `(locale, subject, body)`, checked as the message is.
    pub fn with_translations(mut self, texts: &[(&str, &str, &str)]) -> Result<Self, Invalid> {
        for (locale, subject, body) in texts {
            let locale = Locale::parse("translations", locale)?;
            if self.translations.iter().any(|t| t.locale == locale) {
                return Err(Invalid::new(
                    "translations",
                    format!("{:?} is given twice", locale.as_str()),
                ));
            }
            self.translations.push(RuleText {
                locale,
                subject: parse_subject(subject)?,
                body: LobbyMessage::parse("body", body)?,
            });
        }
        Ok(self)
    }

    /// The subject and body a ticket in `locale` reads.
    pub fn text_in(&self, locale: Locale) -> (&LobbyMessage, &LobbyMessage) {
        match self.translations.iter().find(|t| t.locale == locale) {
            Some(text) => (&text.subject, &text.body),
            None => (&self.subject, &self.body),
        }
    }
}

/// One line, with the same placeholders as the body.
fn parse_subject(raw: &str) -> Result<LobbyMessage, Invalid> {
    if raw.contains(['\n', '\r']) {
        return Err(Invalid::new("subject", "must be one line"));
    }
    if raw.trim().chars().count() > MAX_SUBJECT_CHARS {
        return Err(Invalid::new(
            "subject",
            format!("must be at most {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    LobbyMessage::parse("subject", raw)
}

impl RuleToStore {
    /// After-show marketing to those who came suggests what to see next.
    pub fn recommends(&self) -> bool {
        self.audience == Audience::Admitted
            && self.moment.anchor == Anchor::End
            && self.purpose == Purpose::Marketing
    }
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRule {
    pub id: i64,
    pub event_id: EventId,
    pub rule: RuleToStore,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// When a performance ends: as the box office said, or two and a half hours after its start.
pub fn performance_end(starts_at: DateTime<Utc>, ends_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    ends_at.unwrap_or(starts_at + Duration::minutes(DEFAULT_RUNNING_MINUTES))
}

/// Whether a ticket is still in a rule's audience when its message is about to go: the door
/// may have changed its mind since the message was queued (an offline upload admitting a
/// "no-show" late).
pub fn still_in_audience(audience: Audience, admitted: bool) -> bool {
    match audience {
        Audience::Admitted => admitted,
        Audience::NotAdmitted => !admitted,
    }
}

/// A no-show's share of the ticket price as credit, in minor units (rounded down).
pub fn no_show_credit(price_minor: i64, percent: u8) -> i64 {
    price_minor.max(0) * i64::from(percent) / 100
}

/// An event's no-show credit share: 1 to 100 percent of the price, or none.
pub fn parse_no_show_credit_percent(raw: i64) -> Result<u8, Invalid> {
    if !(1..=100).contains(&raw) {
        return Err(Invalid::new(
            "no_show_credit_percent",
            "must be between 1 and 100 (leave it out for none)",
        ));
    }
    Ok(raw as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 18, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_moment_falls_after_its_anchor() {
        let during = Moment::parse(Anchor::Start, 45).unwrap();
        let after = Moment::parse(Anchor::End, 60).unwrap();
        assert_eq!(during.at(at(19), at(22)), at(19) + Duration::minutes(45));
        assert_eq!(after.at(at(19), at(22)), at(23));
        assert!(Moment::parse(Anchor::End, -1).is_err());
        assert!(Moment::parse(Anchor::End, i64::from(MAX_OFFSET_MINUTES) + 1).is_err());
    }

    #[test]
    fn a_performance_without_an_end_lasts_two_and_a_half_hours() {
        assert_eq!(
            performance_end(at(19), None),
            at(21) + Duration::minutes(30)
        );
        assert_eq!(performance_end(at(19), Some(at(22))), at(22));
    }

    #[test]
    fn no_shows_are_written_to_after_the_show_only() {
        let start = Moment::parse(Anchor::Start, 30).unwrap();
        let refused = RuleToStore::parse(
            Audience::NotAdmitted,
            start,
            Purpose::Service,
            "We missed you",
            "Hello {holder_name}",
        )
        .unwrap_err();
        assert_eq!(refused.field, "anchor");
        let end = Moment::parse(Anchor::End, 30).unwrap();
        assert!(RuleToStore::parse(Audience::NotAdmitted, end, Purpose::Service, "s", "b").is_ok());
    }

    #[test]
    fn subjects_are_one_line_with_known_placeholders() {
        let end = Moment::parse(Anchor::End, 0).unwrap();
        let parse = |subject: &str| {
            RuleToStore::parse(Audience::Admitted, end, Purpose::Service, subject, "b")
        };
        assert!(parse("Thank you, {holder_name}").is_ok());
        assert_eq!(parse("two\nlines").unwrap_err().field, "subject");
        assert_eq!(parse("Hi {name}").unwrap_err().field, "subject");
        assert_eq!(parse(&"x".repeat(201)).unwrap_err().field, "subject");
    }

    #[test]
    fn the_audience_is_checked_again_before_sending() {
        assert!(still_in_audience(Audience::Admitted, true));
        assert!(!still_in_audience(Audience::Admitted, false));
        assert!(still_in_audience(Audience::NotAdmitted, false));
        assert!(!still_in_audience(Audience::NotAdmitted, true));
    }

    #[test]
    fn no_show_credit_is_a_share_of_the_price_rounded_down() {
        assert_eq!(no_show_credit(4999, 50), 2499);
        assert_eq!(no_show_credit(4000, 100), 4000);
        assert_eq!(no_show_credit(0, 50), 0);
        assert!(parse_no_show_credit_percent(0).is_err());
        assert!(parse_no_show_credit_percent(101).is_err());
        assert_eq!(parse_no_show_credit_percent(25).unwrap(), 25);
    }

    #[test]
    fn stored_names_round_trip() {
        for a in Audience::ALL {
            assert_eq!(Audience::from_stored(a.as_str()), Some(*a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        for a in Anchor::ALL {
            assert_eq!(Anchor::from_stored(a.as_str()), Some(*a));
        }
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_stored(p.as_str()), Some(*p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}
