use chrono::{DateTime, Datelike, Duration, SubsecRound, Utc};
use chrono_tz::Tz;

use super::ids::{EventId, PerformanceId};
use super::policy::ChangePolicy;
use super::text::label;
use super::{Invalid, Money};

/// A show at a venue, with its rules for patron changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub name: String,
    pub venue: String,
    /// An IANA name, checked by [`parse_time_zone`] when the event was created.
    pub time_zone: String,
    /// Minutes before each performance, largest first (see [`reminder_offsets`]).
    pub reminder_offsets_minutes: Vec<i32>,
    pub created_at: DateTime<Utc>,
    pub policy: ChangePolicy,
    pub lobby_message: Option<String>,
    /// How its tickets show their code at the door: static or rotating.
    pub barcode: super::rotating::Barcode,
    /// Its address and whom patrons ask for help, each optional.
    pub venue_details: super::venue::VenueDetails,
    /// The language its tickets speak unless one is given on issue.
    pub locale: super::locale::Locale,
}

/// An event to create, its values checked.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub name: &'a str,
    pub venue: &'a str,
    pub time_zone: Tz,
    /// As [`parse_reminder_offsets`] gives them.
    pub reminder_offsets: &'a str,
    pub created_at: DateTime<Utc>,
    pub policy: &'a ChangePolicy,
    pub lobby_message: Option<&'a str>,
    pub barcode: super::rotating::Barcode,
    pub venue_details: &'a super::venue::VenueDetails,
    pub locale: super::locale::Locale,
}

/// One date of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performance {
    pub id: PerformanceId,
    pub event_id: EventId,
    /// When it starts, when its doors open, how many may attend.
    pub schedule: PerformanceSchedule,
    pub tickets_issued: i64,
    pub created_at: DateTime<Utc>,
    /// Its ticket price, when the event sells at one price.
    pub price: Option<Money>,
    pub canceled_at: Option<DateTime<Utc>>,
}

impl Performance {
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.schedule.starts_at
    }

    pub fn doors_open_at(&self) -> DateTime<Utc> {
        self.schedule.doors_open_at
    }

    /// When it ends: as the box office said, or two and a half hours after the start.
    pub fn ends_at(&self) -> DateTime<Utc> {
        super::message_rule::performance_end(self.schedule.starts_at, self.schedule.ends_at)
    }

    /// Seats not yet taken (never below zero).
    pub fn available(&self) -> i64 {
        (self.schedule.capacity - self.tickets_issued).max(0)
    }

    pub fn is_canceled(&self) -> bool {
        self.canceled_at.is_some()
    }
}

/// A performance to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPerformance {
    pub event_id: EventId,
    pub schedule: PerformanceSchedule,
    pub created_at: DateTime<Utc>,
    pub price: Option<Money>,
}

/// An event's name, as patrons read it on pages and in emails.
pub fn parse_event_name(raw: &str) -> Result<String, Invalid> {
    label("name", raw, 200)
}

/// Where an event takes place.
pub fn parse_venue(raw: &str) -> Result<String, Invalid> {
    label("venue", raw, 200)
}

/// The largest performance we accept: a stadium, with room to spare.
pub const MAX_CAPACITY: i64 = 1_000_000;

/// An IANA time zone name such as "Europe/Vienna": performance times are shown to patrons in it.
pub fn parse_time_zone(raw: &str) -> Result<Tz, Invalid> {
    raw.trim().parse::<Tz>().map_err(|_| {
        Invalid::new(
            "time_zone",
            format!("{raw:?} is not an IANA time zone such as \"Europe/Vienna\""),
        )
    })
}

/// A moment in the venue's time zone. Stored zones were checked by `parse_time_zone`, so the
/// UTC fallback only guards against a hand-edited database.
pub fn in_venue_time(at: DateTime<Utc>, time_zone: &str) -> DateTime<Tz> {
    at.with_timezone(&time_zone.parse::<Tz>().unwrap_or(chrono_tz::UTC))
}

/// A moment as patrons read it, on pages and in emails: "Wednesday 25 November 2026, 19:30 GMT".
pub fn venue_time_text(at: DateTime<Utc>, time_zone: &str) -> String {
    in_venue_time(at, time_zone)
        .format("%A %-d %B %Y, %H:%M %Z")
        .to_string()
}

/// A time of day at the venue ("19:02"), for what happened on the day itself.
pub fn venue_clock_text(at: DateTime<Utc>, time_zone: &str) -> String {
    in_venue_time(at, time_zone).format("%H:%M").to_string()
}

/// The most reminders an event may send before each performance.
pub const MAX_REMINDERS: usize = 5;

/// Reminder offsets in minutes before the start (each from 1 minute to 30 days, no repeats),
/// stored largest first as "1440,120". The first reminder carries the calendar file.
pub fn parse_reminder_offsets(minutes: &[i64]) -> Result<String, Invalid> {
    let field = "reminder_offsets_minutes";
    if minutes.len() > MAX_REMINDERS {
        return Err(Invalid::new(
            field,
            format!("at most {MAX_REMINDERS} reminders"),
        ));
    }
    let mut sorted = minutes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    if sorted.len() != minutes.len() {
        return Err(Invalid::new(field, "must not repeat an offset"));
    }
    if let Some(bad) = sorted.iter().find(|m| !(1..=43_200).contains(*m)) {
        return Err(Invalid::new(
            field,
            format!("{bad} is not between 1 minute and 30 days"),
        ));
    }
    Ok(sorted
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(","))
}

/// The stored offsets, largest first.
pub fn reminder_offsets(stored: &str) -> Vec<i32> {
    stored
        .split(',')
        .filter_map(|m| m.trim().parse().ok())
        .collect()
}

/// When a performance starts, when its doors open, and how many may attend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerformanceSchedule {
    pub starts_at: DateTime<Utc>,
    pub doors_open_at: DateTime<Utc>,
    /// When it ends, if the box office said (see [`Performance::ends_at`]).
    pub ends_at: Option<DateTime<Utc>>,
    pub capacity: i64,
}

impl PerformanceSchedule {
    /// Doors default to opening an hour before the start.
    pub fn parse(
        starts_at: DateTime<Utc>,
        doors_open_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
        capacity: i64,
    ) -> Result<Self, Invalid> {
        // Plausible years only: the date arithmetic of tokens and links then cannot overflow.
        for (field, t) in [
            ("starts_at", Some(starts_at)),
            ("doors_open_at", doors_open_at),
            ("ends_at", ends_at),
        ] {
            if t.is_some_and(|t| !(2000..=2200).contains(&t.year())) {
                return Err(Invalid::new(
                    field,
                    "must be a date between the years 2000 and 2200",
                ));
            }
        }
        // Microseconds: what both backends store.
        let starts_at = starts_at.trunc_subsecs(6);
        let doors_open_at =
            doors_open_at.map_or(starts_at - Duration::hours(1), |t| t.trunc_subsecs(6));
        if doors_open_at > starts_at {
            return Err(Invalid::new("doors_open_at", "must not be after starts_at"));
        }
        if starts_at - doors_open_at > Duration::hours(24) {
            return Err(Invalid::new(
                "doors_open_at",
                "must be within 24 hours before starts_at",
            ));
        }
        let ends_at = ends_at.map(|t| t.trunc_subsecs(6));
        if ends_at.is_some_and(|end| end <= starts_at) {
            return Err(Invalid::new("ends_at", "must be after starts_at"));
        }
        if ends_at.is_some_and(|end| end - starts_at > Duration::hours(24)) {
            return Err(Invalid::new(
                "ends_at",
                "must be within 24 hours after starts_at",
            ));
        }
        if !(0..=MAX_CAPACITY).contains(&capacity) {
            return Err(Invalid::new(
                "capacity",
                format!("must be between 0 and {MAX_CAPACITY}"),
            ));
        }
        Ok(PerformanceSchedule {
            starts_at,
            doors_open_at,
            ends_at,
            capacity,
        })
    }
}

/// When a ticket's QR admits: from some hours before doors open until some hours after the
/// start. Outside it the door answers "not yet valid" (wrong day) or "expired".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanWindow {
    pub not_before: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

impl ScanWindow {
    pub fn for_performance(
        doors_open_at: DateTime<Utc>,
        starts_at: DateTime<Utc>,
        before_doors: Duration,
        after_start: Duration,
    ) -> Self {
        ScanWindow {
            not_before: doors_open_at - before_doors,
            expires: starts_at + after_start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn patrons_read_times_in_the_venues_zone() {
        let at = Utc.with_ymd_and_hms(2026, 7, 1, 18, 30, 0).unwrap();
        assert_eq!(
            venue_time_text(at, "Europe/London"),
            "Wednesday 1 July 2026, 19:30 BST"
        );
        assert_eq!(
            venue_time_text(at, "Asia/Tokyo"),
            "Thursday 2 July 2026, 03:30 JST"
        );
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            parse_time_zone("Europe/Vienna").unwrap(),
            chrono_tz::Europe::Vienna
        );
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert!(parse_time_zone("").is_err());
    }

    #[test]
    fn doors_open_before_the_start_and_capacity_is_bounded() {
        let s = PerformanceSchedule::parse(at(20), None, None, 100).unwrap();
        assert_eq!(s.doors_open_at, at(19));
        assert_eq!(
            PerformanceSchedule::parse(at(19), Some(at(20)), None, 1)
                .unwrap_err()
                .field,
            "doors_open_at"
        );
        assert_eq!(
            PerformanceSchedule::parse(at(20), None, None, -1)
                .unwrap_err()
                .field,
            "capacity"
        );
        assert!(PerformanceSchedule::parse(at(20), None, None, MAX_CAPACITY + 1).is_err());
        let far = Utc.with_ymd_and_hms(262_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            PerformanceSchedule::parse(far, None, None, 1)
                .unwrap_err()
                .field,
            "starts_at"
        );
        assert_eq!(
            PerformanceSchedule::parse(at(20), Some(far), None, 1)
                .unwrap_err()
                .field,
            "doors_open_at"
        );
    }

    #[test]
    fn a_performance_ends_after_its_start_on_the_same_day() {
        let s = PerformanceSchedule::parse(at(19), None, Some(at(22)), 10).unwrap();
        assert_eq!(s.ends_at, Some(at(22)));
        for bad in [at(19), at(18)] {
            let refused = PerformanceSchedule::parse(at(19), None, Some(bad), 10).unwrap_err();
            assert_eq!(refused.field, "ends_at");
        }
        let next_week = at(19) + Duration::days(7);
        assert!(PerformanceSchedule::parse(at(19), None, Some(next_week), 10).is_err());
    }

    #[test]
    fn reminder_offsets_are_bounded_distinct_and_sorted() {
        assert_eq!(parse_reminder_offsets(&[120, 1440]).unwrap(), "1440,120");
        assert_eq!(parse_reminder_offsets(&[]).unwrap(), "");
        assert!(parse_reminder_offsets(&[120, 120]).is_err());
        assert!(parse_reminder_offsets(&[0]).is_err());
        assert!(parse_reminder_offsets(&[43_201]).is_err());
        assert!(parse_reminder_offsets(&[1, 2, 3, 4, 5, 6]).is_err());
        assert_eq!(reminder_offsets("1440,120"), vec![1440, 120]);
        assert_eq!(reminder_offsets(""), Vec::<i32>::new());
    }

    #[test]
    fn the_scan_window_surrounds_the_performance() {
        let w = ScanWindow::for_performance(at(19), at(20), Duration::hours(6), Duration::hours(3));
        assert_eq!(w.not_before, at(13));
        assert_eq!(w.expires, at(23));
    }
}
