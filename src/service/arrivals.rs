//! Who has arrived: admissions per gate and per minute, and every scan outcome, for a
//! performance. Built from the rows the scan path writes anyway.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::{Error, Result};
use crate::db::{events, scans, tickets, Db};
use crate::domain::ids::PerformanceId;
use crate::domain::ScanOutcome;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrivals {
    pub performance_id: PerformanceId,
    pub capacity: i64,
    pub tickets_issued: i64,
    pub admitted: i64,
    /// Tickets that still admit and have not been admitted.
    pub still_to_arrive: i64,
    pub by_gate: BTreeMap<String, i64>,
    pub per_minute: Vec<(DateTime<Utc>, i64)>,
    pub attempts_by_outcome: BTreeMap<String, i64>,
    /// Offline admissions of a ticket another device had admitted too (two entries on one
    /// ticket), as uploads reported them.
    pub conflicts: i64,
}

pub fn for_performance(db: &Db, performance_id: PerformanceId) -> Result<Arrivals> {
    db.read(|conn| {
        let performance = events::find_performance(conn, performance_id)?
            .ok_or_else(|| Error::not_found("performance", performance_id))?;
        let admissions = tickets::admissions(conn, performance_id)?;
        let outcomes = scans::outcome_counts(conn, performance_id)?;
        let still_to_arrive = tickets::still_to_arrive(conn, performance_id)?;

        let mut by_gate = BTreeMap::new();
        let mut per_minute: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for (at, gate) in &admissions {
            *by_gate.entry(gate.clone()).or_insert(0) += 1;
            let minute = at
                .duration_trunc(TimeDelta::minutes(1))
                .expect("a minute always divides a timestamp");
            match per_minute.last_mut() {
                Some((last, count)) if *last == minute => *count += 1,
                _ => per_minute.push((minute, 1)),
            }
        }
        let attempts_by_outcome: BTreeMap<String, i64> = outcomes
            .into_iter()
            .map(|(outcome, count)| (outcome.code().to_string(), count))
            .collect();
        Ok(Arrivals {
            performance_id,
            capacity: performance.schedule.capacity,
            tickets_issued: performance.tickets_issued,
            admitted: admissions.len() as i64,
            still_to_arrive,
            by_gate,
            per_minute,
            conflicts: attempts_by_outcome
                .get(ScanOutcome::Conflict.code())
                .copied()
                .unwrap_or(0),
            attempts_by_outcome,
        })
    })
}
