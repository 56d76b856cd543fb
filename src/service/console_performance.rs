//! The console's performance page: its read models (the header, a page of tickets, one ticket
//! with its token), the walk-up issue, and CSV imports run in the background with their
//! progress. Every rule is the one the JSON API and the CLI use: issuing is
//! `tickets::issue_one`, searching is `search::tickets`, importing is `import::import_csv`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::idempotency::{Idempotent, Reply};
use super::import::{import_csv, ImportReport};
use super::tickets::{self, IssuedTicket};
use super::{arrivals, search, Encore, Error, Result};
use crate::db::events;
use crate::domain::actor::Actor;
use crate::domain::event::Event;
use crate::domain::ids::{EventId, PerformanceId, TicketId};
use crate::domain::money::Money;
use crate::domain::search::{TicketPage, TicketSearch};
use crate::domain::ticket::{NewTicket, Ticket};
use crate::domain::Invalid;

/// What the performance page says of the performance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceHeader {
    pub id: PerformanceId,
    pub event_id: EventId,
    pub event_name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub doors_open_at: DateTime<Utc>,
    pub capacity: i64,
    pub issued: i64,
    /// Admitted at the door so far (`service::arrivals`).
    pub arrived: i64,
    /// The performance's one price, when it has one (the walk-up form's default).
    pub price: Option<Money>,
    pub canceled: bool,
}

/// The performance's header; `NotFound` for an unknown performance.
pub fn header(encore: &Encore, id: PerformanceId) -> Result<PerformanceHeader> {
    let (performance, event) = encore.db.read(|conn| {
        let performance = events::find_performance(conn, id)?
            .ok_or_else(|| Error::not_found("performance", id))?;
        let event: Event = events::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        Ok::<_, Error>((performance, event))
    })?;
    let arrived = arrivals::for_performance(&encore.db, id)?.admitted;
    Ok(PerformanceHeader {
        id,
        event_id: event.id,
        event_name: event.name,
        venue: event.venue,
        time_zone: event.time_zone,
        starts_at: performance.starts_at(),
        doors_open_at: performance.doors_open_at(),
        capacity: performance.schedule.capacity,
        issued: performance.tickets_issued,
        arrived,
        price: performance.price,
        canceled: performance.is_canceled(),
    })
}

/// One page of the performance's tickets (at most `domain::search::MAX_PAGE`), as the API's
/// search answers it.
pub fn tickets(encore: &Encore, search: &TicketSearch) -> Result<TicketPage> {
    search::tickets(encore, search)
}

/// A walk-up ticket just issued: its id, and the credit spent on it when the form asked to pay
/// with credit.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WalkUp {
    pub ticket_id: TicketId,
    pub credit_applied: Option<i64>,
}

fn walk_up(issued: IssuedTicket) -> WalkUp {
    WalkUp {
        ticket_id: issued.ticket.id,
        credit_applied: issued.credit_applied,
    }
}

/// Issues one ticket at the box office's desk: `tickets::issue_one` with no idempotency key
/// (a console form is sent once; the page it answers is a redirect).
pub fn issue_walk_up(
    encore: &Encore,
    performance_id: PerformanceId,
    ticket: NewTicket,
    by: &Actor,
) -> Result<WalkUp> {
    let reply = Reply {
        status: 201,
        view: walk_up,
    };
    match tickets::issue_one(encore, None, performance_id, ticket, by, reply)? {
        Idempotent::Made { view, .. } => Ok(view),
        Idempotent::Replayed { .. } => Err(Error::Internal(
            "a request with no key was answered from a stored key".into(),
        )),
    }
}

/// One ticket as the console shows it, with its current token and its performance.
#[derive(Debug, Clone)]
pub struct TicketCard {
    pub ticket: Ticket,
    pub token: String,
    pub event_name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
}

/// The ticket with its token and where it admits; `NotFound` for an unknown ticket.
pub fn ticket(encore: &Encore, id: TicketId) -> Result<TicketCard> {
    let (ticket, performance) = tickets::get(encore, id)?;
    let token = tickets::token_for(encore, &ticket, &performance)?;
    let event = encore
        .db
        .read(|conn| events::find_event(conn, performance.event_id).map_err(Error::from))?
        .ok_or_else(|| Error::not_found("event", performance.event_id))?;
    Ok(TicketCard {
        ticket,
        token,
        event_name: event.name,
        venue: event.venue,
        time_zone: event.time_zone,
        starts_at: performance.starts_at(),
    })
}

/// The ticket's current token alone (for its QR image).
pub fn token(encore: &Encore, id: TicketId) -> Result<String> {
    Ok(tickets::with_token(encore, id)?.token)
}

/// The largest CSV the console imports at once, in bytes.
pub const MAX_CSV_BYTES: usize = 1 << 20;
/// Tickets per transaction, as `encore import` by default (clamped to `max_bulk_tickets`).
pub const IMPORT_BATCH: usize = 500;
/// Imports running at once in one process; another is refused until one ends.
const MAX_RUNNING: usize = 4;
/// Imports remembered (running or done) in one process; the oldest finished go first.
const MAX_KEPT: usize = 64;
/// How long a finished import's result stays to be read.
const KEPT_FOR: Duration = Duration::from_secs(3600);

/// An import's state, as its progress page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub performance_id: PerformanceId,
    /// Data rows in the file (lines after the header).
    pub total: u64,
    /// Rows read so far.
    pub done: u64,
    /// `None` while running; the report, or why the import stopped.
    pub outcome: Option<std::result::Result<ImportReport, String>>,
}

struct Job {
    progress: ImportProgress,
    /// Who started it: only the same staff account reads it.
    staff_id: i64,
    finished_at: Option<Instant>,
}

/// The imports of this process, by random id. Kept in memory: a progress page is read from the
/// process that runs the import (the import itself is the CLI's, and safe to run again).
#[derive(Default)]
pub struct ImportJobs {
    jobs: Mutex<HashMap<String, Job>>,
}

/// The process's registry (one per process, as `Encore` is).
pub fn import_jobs() -> Arc<ImportJobs> {
    static JOBS: OnceLock<Arc<ImportJobs>> = OnceLock::new();
    JOBS.get_or_init(|| Arc::new(ImportJobs::default())).clone()
}

impl ImportJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts importing `csv` into the performance in the background, as `encore import` does,
    /// its tickets issued `by` the staff member; the job's id. Refused when the file is too large, the performance does not exist, or
    /// too many imports are running.
    pub fn start(
        self: &Arc<Self>,
        encore: &Encore,
        staff_id: i64,
        by: Actor,
        performance_id: PerformanceId,
        csv: String,
    ) -> Result<String> {
        if csv.len() > MAX_CSV_BYTES {
            return Err(Invalid::new(
                "csv",
                format!("is larger than {} KiB", MAX_CSV_BYTES / 1024),
            )
            .into());
        }
        if csv.trim().is_empty() {
            return Err(Invalid::new("csv", "is empty: paste the file, header first").into());
        }
        let performance = encore
            .db
            .read(|conn| events::find_performance(conn, performance_id).map_err(Error::from))?
            .ok_or_else(|| Error::not_found("performance", performance_id))?;
        if performance.is_canceled() {
            return Err(Error::Conflict {
                code: "performance_canceled",
                message: format!("performance {performance_id} is canceled"),
            });
        }
        let total = csv.lines().count().saturating_sub(1) as u64;
        let id = random_id()?;
        {
            let mut jobs = self.lock();
            let now = Instant::now();
            jobs.retain(|_, job| job.finished_at.is_none_or(|at| now - at < KEPT_FOR));
            if jobs.values().filter(|j| j.finished_at.is_none()).count() >= MAX_RUNNING {
                return Err(Error::Conflict {
                    code: "too_many_imports",
                    message: format!(
                        "{MAX_RUNNING} imports are running; try again when one has finished"
                    ),
                });
            }
            while jobs.len() >= MAX_KEPT {
                let oldest = jobs
                    .iter()
                    .filter_map(|(id, job)| job.finished_at.map(|at| (at, id.clone())))
                    .min();
                match oldest {
                    Some((_, id)) => jobs.remove(&id),
                    None => break,
                };
            }
            jobs.insert(
                id.clone(),
                Job {
                    progress: ImportProgress {
                        performance_id,
                        total,
                        done: 0,
                        outcome: None,
                    },
                    staff_id,
                    finished_at: None,
                },
            );
        }
        let registry = Arc::clone(self);
        let encore = encore.clone();
        let job_id = id.clone();
        std::thread::Builder::new()
            .name("console-import".into())
            .spawn(move || {
                let report = import_csv(
                    &encore,
                    performance_id,
                    csv.as_bytes(),
                    IMPORT_BATCH,
                    &by,
                    |done| registry.update(&job_id, |p| p.done = done),
                );
                let outcome = report.map_err(|e| {
                    tracing::warn!(error = %e, "console import stopped");
                    e.to_string()
                });
                let mut jobs = registry.lock();
                if let Some(job) = jobs.get_mut(&job_id) {
                    if let Ok(report) = &outcome {
                        job.progress.done = report.rows;
                        job.progress.total = job.progress.total.max(report.rows);
                    }
                    job.progress.outcome = Some(outcome);
                    job.finished_at = Some(Instant::now());
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start the import: {e}")))?;
        Ok(id)
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut ImportProgress)) {
        if let Some(job) = self.lock().get_mut(id) {
            change(&mut job.progress);
        }
    }

    /// The import's progress, for the staff account that started it; `NotFound` otherwise.
    pub fn progress(&self, staff_id: i64, id: &str) -> Result<ImportProgress> {
        self.lock()
            .get(id)
            .filter(|job| job.staff_id == staff_id)
            .map(|job| job.progress.clone())
            .ok_or_else(|| Error::not_found("import", id))
    }
}

fn random_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for an import id: {e}")))?;
    Ok(hex::encode(bytes))
}
