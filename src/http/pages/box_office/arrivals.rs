//! A performance's arrivals in the console, `GET /box-office/performances/{id}/arrivals`: who
//! has come in and who is still to come, by gate and by minute, and the scans the door refused
//! by reason. Served under the staff session (no API key to paste); its script refreshes the
//! figures every few seconds, and without it the page is complete as loaded.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{call, error_page, Chrome, StaffSession, LIVE_POLICY};
use crate::domain::event::venue_time_text;
use crate::domain::ids::PerformanceId;
use crate::domain::ScanOutcome;
use crate::service::{arrivals, box_office, Encore};

/// How many of the latest minutes with admissions the page lists.
const MINUTES_SHOWN: usize = 20;

struct Count {
    label: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "box_office/arrivals.html")]
struct ArrivalsPage {
    chrome: Chrome,
    id: PerformanceId,
    event_name: String,
    venue: String,
    starts_at: String,
    capacity: i64,
    issued: i64,
    admitted: i64,
    still_to_arrive: i64,
    by_gate: Vec<Count>,
    /// The latest minutes with admissions, newest first, in the venue's time.
    per_minute: Vec<Count>,
    /// The busiest of those minutes (a `<meter>`'s maximum, at least 1).
    peak: i64,
    refused: Vec<Count>,
}

/// `GET /box-office/performances/{id}/arrivals`.
pub async fn show(
    staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    let id = id.into_inner();
    let read = call(move || {
        let summary = box_office::performance(&encore, id)?;
        let arrivals = arrivals::for_performance(&encore.db, id)?;
        Ok((summary, arrivals))
    });
    let (summary, arrivals) = match read.await {
        Ok(read) => read,
        Err(e) => return error_page(&e),
    };
    let minute_text = |at| venue_time_text(at, &summary.time_zone);
    let per_minute: Vec<Count> = arrivals
        .per_minute
        .iter()
        .rev()
        .take(MINUTES_SHOWN)
        .map(|&(at, count)| Count {
            label: minute_text(at),
            count,
        })
        .collect();
    let refused = arrivals
        .attempts_by_outcome
        .iter()
        .filter(|(code, _)| code.as_str() != ScanOutcome::Admitted.code())
        .map(|(code, &count)| Count {
            label: code.replace('_', " "),
            count,
        })
        .collect();
    super::super::html_under(
        StatusCode::OK,
        &ArrivalsPage {
            chrome: staff.chrome(),
            id,
            starts_at: venue_time_text(summary.starts_at, &summary.time_zone),
            event_name: summary.event_name,
            venue: summary.venue,
            capacity: summary.capacity,
            issued: summary.issued,
            admitted: arrivals.admitted,
            still_to_arrive: arrivals.still_to_arrive,
            by_gate: arrivals
                .by_gate
                .into_iter()
                .map(|(label, count)| Count { label, count })
                .collect(),
            peak: per_minute.iter().map(|m| m.count).max().unwrap_or(0).max(1),
            per_minute,
            refused,
        },
        LIVE_POLICY,
    )
}

/// `GET /assets/console-arrivals.js`: the arrivals page's refresh, compiled in.
pub async fn script() -> HttpResponse {
    super::super::asset(
        super::super::JAVASCRIPT,
        include_str!("../../../../templates/box_office/arrivals.js"),
    )
}
