//! The console's first page, `GET /box-office/`: the performances of the next days with their
//! capacity, tickets issued and arrivals so far.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{blocking, page, Chrome, StaffSession};
use crate::domain::event::venue_time_text;
use crate::domain::ids::PerformanceId;
use crate::service::{box_office, Encore};

/// How many days ahead Today looks.
const DAYS: i64 = 7;

struct Row {
    id: PerformanceId,
    event_name: String,
    venue: String,
    starts_at: String,
    capacity: i64,
    issued: i64,
    arrived: i64,
}

#[derive(Template)]
#[template(path = "box_office/today.html")]
struct TodayPage {
    chrome: Chrome,
    days: i64,
    rows: Vec<Row>,
}

/// `GET /box-office/`.
pub async fn show(staff: StaffSession, encore: web::Data<Encore>) -> HttpResponse {
    let now = crate::service::now();
    let performances = match blocking(move || box_office::today(&encore, now, DAYS)).await {
        Ok(performances) => performances,
        Err(response) => return response,
    };
    let rows = performances
        .into_iter()
        .map(|p| Row {
            id: p.id,
            starts_at: venue_time_text(p.starts_at, &p.time_zone),
            event_name: p.event_name,
            venue: p.venue,
            capacity: p.capacity,
            issued: p.issued,
            arrived: p.arrived,
        })
        .collect();
    page(
        StatusCode::OK,
        &TodayPage {
            chrome: staff.chrome(),
            days: DAYS,
            rows,
        },
    )
}
