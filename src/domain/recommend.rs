//! What to suggest next to a patron after a show: up to three upcoming performances with free
//! seats, chosen from their own history, never one they already hold.
//!
//! The rule, in words a box office can check:
//! - an event they came to counts 3 for each time they came (they liked it, or its kind);
//! - an event they exchanged into counts 2 (they chose it themselves);
//! - a venue they came to counts 1 for each visit (they know the way);
//! - an event whose tickets they held but never used counts -2 for each (it did not draw them);
//! - only performances scoring above zero are suggested, at most one per event, the highest
//!   score first and, between equals, the soonest.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::ids::{EventId, PerformanceId};

/// Most suggestions in one message.
pub const MAX_SUGGESTIONS: usize = 3;

/// One ticket the patron held, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastTicket {
    pub performance_id: PerformanceId,
    pub event_id: EventId,
    pub venue: String,
    /// They were admitted with it.
    pub attended: bool,
    /// Its performance is over and they never came (a valid ticket, never admitted).
    pub missed: bool,
    /// It came from an exchange: the patron chose this event over another.
    pub exchanged_into: bool,
    /// It still admits (valid, not yet used): the patron holds this performance.
    pub held: bool,
}

/// A performance that could be suggested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    pub performance_id: PerformanceId,
    pub event_id: EventId,
    pub venue: String,
    pub starts_at: DateTime<Utc>,
    /// Seats still free.
    pub available: i64,
}

/// Up to [`MAX_SUGGESTIONS`] of `upcoming`, best first, for a patron with this `history`.
pub fn recommend<'a>(history: &[PastTicket], upcoming: &'a [Upcoming]) -> Vec<&'a Upcoming> {
    let mut by_event: HashMap<EventId, i64> = HashMap::new();
    let mut by_venue: HashMap<&str, i64> = HashMap::new();
    let mut held: HashSet<PerformanceId> = HashSet::new();
    for past in history {
        let event = by_event.entry(past.event_id).or_default();
        if past.attended {
            *event += 3;
            *by_venue.entry(past.venue.as_str()).or_default() += 1;
        }
        if past.exchanged_into {
            *event += 2;
        }
        if past.missed {
            *event -= 2;
        }
        if past.held {
            held.insert(past.performance_id);
        }
    }
    let score = |u: &Upcoming| {
        by_event.get(&u.event_id).copied().unwrap_or(0)
            + by_venue.get(u.venue.as_str()).copied().unwrap_or(0)
    };
    let mut scored: Vec<(i64, &Upcoming)> = upcoming
        .iter()
        .filter(|u| u.available > 0 && !held.contains(&u.performance_id))
        .map(|u| (score(u), u))
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|(a, x), (b, y)| {
        b.cmp(a)
            .then(x.starts_at.cmp(&y.starts_at))
            .then(x.performance_id.cmp(&y.performance_id))
    });
    let mut events_taken = HashSet::new();
    scored
        .into_iter()
        .filter(|(_, u)| events_taken.insert(u.event_id))
        .map(|(_, u)| u)
        .take(MAX_SUGGESTIONS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 1, 19, 30, 0).unwrap() + Duration::days(n)
    }

    fn past(event: i64, venue: &str) -> PastTicket {
        PastTicket {
            performance_id: PerformanceId(event * 100),
            event_id: EventId(event),
            venue: venue.into(),
            attended: true,
            missed: false,
            exchanged_into: false,
            held: false,
        }
    }

    fn upcoming(performance: i64, event: i64, venue: &str, starts: i64) -> Upcoming {
        Upcoming {
            performance_id: PerformanceId(performance),
            event_id: EventId(event),
            venue: venue.into(),
            starts_at: day(starts),
            available: 10,
        }
    }

    fn ids(chosen: Vec<&Upcoming>) -> Vec<i64> {
        chosen.into_iter().map(|u| u.performance_id.0).collect()
    }

    #[test]
    fn a_patron_with_no_history_is_suggested_nothing() {
        let soon = [upcoming(1, 1, "Globe", 1)];
        assert!(recommend(&[], &soon).is_empty());
    }

    #[test]
    fn events_they_came_to_come_first_then_their_venues() {
        let history = [past(1, "Globe"), past(1, "Globe"), past(2, "Old Vic")];
        let soon = [
            upcoming(10, 3, "Old Vic", 1),  // a venue they know: 1
            upcoming(11, 1, "Globe", 5),    // an event they came to twice, its venue: 6 + 2
            upcoming(12, 2, "Old Vic", 2),  // came once, venue once: 3 + 1
            upcoming(13, 9, "Barbican", 0), // nothing in common: not suggested
        ];
        assert_eq!(ids(recommend(&history, &soon)), vec![11, 12, 10]);
    }

    #[test]
    fn one_date_per_event_the_soonest_and_at_most_three() {
        let history = [
            past(1, "Globe"),
            past(2, "Globe"),
            past(3, "Globe"),
            past(4, "Globe"),
        ];
        let soon = [
            upcoming(10, 1, "Globe", 9),
            upcoming(11, 1, "Globe", 3),
            upcoming(20, 2, "Globe", 4),
            upcoming(30, 3, "Globe", 5),
            upcoming(40, 4, "Globe", 6),
        ];
        assert_eq!(ids(recommend(&history, &soon)), vec![11, 20, 30]);
    }

    #[test]
    fn what_they_hold_sold_out_dates_and_missed_events_are_left_out() {
        let mut held = past(1, "Globe");
        held.performance_id = PerformanceId(10);
        held.attended = false;
        held.held = true;
        let mut missed = past(2, "Old Vic");
        missed.attended = false;
        missed.missed = true;
        let history = [past(1, "Globe"), held, missed, past(3, "Barbican")];
        let mut full = upcoming(30, 3, "Barbican", 1);
        full.available = 0;
        let soon = [
            upcoming(10, 1, "Globe", 1),   // held already
            upcoming(11, 1, "Globe", 2),   // another date of an event they came to
            upcoming(20, 2, "Old Vic", 1), // an event they never came to: -2
            full,                          // no seats
        ];
        assert_eq!(ids(recommend(&history, &soon)), vec![11]);
    }

    #[test]
    fn an_event_they_exchanged_into_counts_without_attending() {
        let mut chosen = past(5, "Globe");
        chosen.attended = false;
        chosen.exchanged_into = true;
        let soon = [upcoming(50, 5, "Kiln", 3)];
        assert_eq!(ids(recommend(&[chosen], &soon)), vec![50]);
    }
}
