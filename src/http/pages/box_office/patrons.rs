//! Find a patron (`/box-office/patrons?q=`) and the patron's page
//! (`/box-office/patrons/{email}`, URL-encoded): their tickets, credit and journey, with the
//! actions the rules allow on each ticket (`actions.rs`).
//!
//! The search is a GET form and works without script. With script (`/assets/patrons.js`, the
//! only page of the console allowed one) it answers as the clerk types, from the HTML
//! fragment at `/box-office/patrons/results?q=`, and says how many were found in a live region.

mod actions;
mod words;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{blocking, page, problem, Chrome, Fields, StaffSession, PATRON_SEARCH_POLICY};
use crate::domain::event::venue_time_text;
use crate::domain::money::format_money;
use crate::domain::search::{Closeness, FoundPatron, PatronQuery, MIN_PATRON_QUERY};
use crate::domain::EmailAddress;
use crate::http::error::ApiError;
use crate::http::pages::{asset, html_under, JAVASCRIPT};
use crate::service::console_patrons::{self, PatronPage};
use crate::service::{search, Encore};

pub use actions::{cancel, exchange, resend, resend_confirmation, transfer};

/// What an email address keeps of itself in a path segment: letters, digits and `@ . - _`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'@')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// The patron page's path for `email`.
pub fn patron_path(email: &str) -> String {
    format!(
        "/box-office/patrons/{}",
        utf8_percent_encode(email, SEGMENT)
    )
}

/// The search's answer, as the page and the fragment show it.
struct Results {
    /// What the search said (how many, or why it did not run), announced as it changes.
    summary: String,
    patrons: Vec<Match>,
}

struct Match {
    href: String,
    name: String,
    email: String,
    tickets: String,
    typo: bool,
}

#[derive(Template)]
#[template(path = "box_office/patrons.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    results: Results,
}

#[derive(Template)]
#[template(path = "box_office/patron_results.html")]
struct ResultsFragment {
    results: Results,
}

/// The `q` of the query string ("" when absent or unreadable).
fn query_q(req: &HttpRequest) -> String {
    Fields::parse(req.query_string().as_bytes())
        .get("q")
        .to_string()
}

async fn find(encore: web::Data<Encore>, q: &str) -> Result<Results, HttpResponse> {
    if q.trim().chars().count() < MIN_PATRON_QUERY {
        return Ok(Results {
            summary: format!(
                "Type at least {MIN_PATRON_QUERY} characters of a name, an email or a ticket number."
            ),
            patrons: Vec::new(),
        });
    }
    let query = match PatronQuery::parse(Some(q)) {
        Ok(query) => query,
        Err(invalid) => {
            return Ok(Results {
                summary: format!("Not searched: {}.", invalid.reason),
                patrons: Vec::new(),
            })
        }
    };
    let found = blocking(move || search::patrons(&encore, &query)).await?;
    Ok(Results {
        summary: match found.len() {
            0 => "No patron found.".to_string(),
            1 => "1 patron found.".to_string(),
            n => format!("{n} patrons found."),
        },
        patrons: found.into_iter().map(match_row).collect(),
    })
}

fn match_row(p: FoundPatron) -> Match {
    Match {
        href: patron_path(&p.email),
        tickets: match (p.tickets, p.valid_tickets) {
            (1, 1) => "1 ticket, valid".to_string(),
            (1, _) => "1 ticket".to_string(),
            (n, v) => format!("{n} tickets, {v} valid"),
        },
        typo: p.closeness == Closeness::OneTypo,
        name: p.name,
        email: p.email,
    }
}

/// `GET /box-office/patrons?q=`: the search box and, once something was typed, the results.
pub async fn search_page(
    staff: StaffSession,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let q = query_q(&req);
    let results = match find(encore, &q).await {
        Ok(results) => results,
        Err(response) => return response,
    };
    html_under(
        StatusCode::OK,
        &SearchPage {
            chrome: staff.chrome(),
            q,
            results,
        },
        PATRON_SEARCH_POLICY,
    )
}

/// `GET /box-office/patrons/results?q=`: the results alone, for the page's script.
pub async fn results(
    _staff: StaffSession,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let q = query_q(&req);
    match find(encore, &q).await {
        Ok(results) => page(StatusCode::OK, &ResultsFragment { results }),
        Err(response) => response,
    }
}

/// `GET /assets/patrons.js`.
pub async fn script() -> HttpResponse {
    asset(
        JAVASCRIPT,
        include_str!("../../../../templates/box_office/patrons.js"),
    )
}

/// The email address in the path (`{email}`), decoded; `None` when it is not one.
fn email_in_path(req: &HttpRequest) -> Option<EmailAddress> {
    let raw = req.match_info().get("email")?;
    // The router leaves `%`, `/` and `+` encoded; everything else arrives decoded.
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    EmailAddress::parse("email", &decoded).ok()
}

fn not_an_email() -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        "No such patron",
        "That address is not an email address. Find the patron by name instead.",
    )
}

/// `GET /box-office/patrons/{email}`: the patron's tickets, credit and journey.
pub async fn show(
    staff: StaffSession,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let Some(email) = email_in_path(&req) else {
        return not_an_email();
    };
    let query = Fields::parse(req.query_string().as_bytes());
    let notice = words::notice(query.get("done"), query.get("ticket"));
    render(&staff, encore, email, StatusCode::OK, notice, None).await
}

/// The patron page with a notice (an action done) or a refusal (an action refused, as the API
/// would have answered it), answered with `status`.
async fn render(
    staff: &StaffSession,
    encore: web::Data<Encore>,
    email: EmailAddress,
    status: StatusCode,
    notice: Option<String>,
    refusal: Option<(Option<i64>, ApiError)>,
) -> HttpResponse {
    let found = match blocking(move || console_patrons::patron_page(&encore, &email)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    page(status, &view(staff.chrome(), found, notice, refusal))
}

struct TicketRow {
    id: i64,
    event_name: String,
    venue: String,
    starts_at: String,
    seat: String,
    price: String,
    status: String,
    confirmation: String,
    exchange_refusal: Option<String>,
    transfer_refusal: Option<String>,
    cancelable: bool,
    credit_option: String,
    targets: Vec<(i64, String)>,
    /// Whether the confirmation may be sent again now (none is on its way).
    resend_confirmation: bool,
    /// (email id, what the button says)
    failed_emails: Vec<(i64, String)>,
}

struct LedgerRow {
    at: String,
    amount: String,
    reason: &'static str,
    ticket: String,
}

struct TouchRow {
    at: String,
    ticket: String,
    text: String,
}

struct Refusal {
    ticket: Option<i64>,
    code: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "box_office/patron.html")]
struct PatronView {
    chrome: Chrome,
    title: String,
    email: String,
    action_base: String,
    notice: Option<String>,
    refusal: Option<Refusal>,
    tickets: Vec<TicketRow>,
    balances: Vec<String>,
    ledger: Vec<LedgerRow>,
    timeline: Vec<TouchRow>,
}

fn utc_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn ticket_ref(id: Option<crate::domain::ids::TicketId>) -> String {
    match id {
        Some(id) if id.0 > 0 => format!("#{id}"),
        _ => String::new(),
    }
}

fn view(
    chrome: Chrome,
    found: PatronPage,
    notice: Option<String>,
    refusal: Option<(Option<i64>, ApiError)>,
) -> PatronView {
    let tickets = found
        .tickets
        .into_iter()
        .map(|t| TicketRow {
            id: t.id.0,
            starts_at: format!(
                "{}{}",
                venue_time_text(t.starts_at, &t.time_zone),
                if t.performance_canceled {
                    " (performance canceled)"
                } else {
                    ""
                }
            ),
            seat: match (&t.section, &t.seat) {
                (Some(section), Some(seat)) => format!("{section}, {seat}"),
                (None, Some(seat)) => seat.clone(),
                (Some(section), None) => section.clone(),
                (None, None) => "Unreserved".to_string(),
            },
            price: format_money(t.price_minor, &t.currency),
            status: words::status(t.status, t.admitted, t.offered_to.as_deref()),
            confirmation: words::confirmation(t.confirmation),
            resend_confirmation: t.confirmation_resendable,
            exchange_refusal: t.exchange_refusal.map(|r| r.to_string()),
            transfer_refusal: t.transfer_refusal.map(|r| r.to_string()),
            cancelable: t.cancelable,
            credit_option: format!(
                "Into credit ({})",
                format_money(t.exchange_value_minor, &t.currency)
            ),
            targets: t
                .targets
                .into_iter()
                .map(|target| {
                    (
                        target.performance_id.0,
                        format!(
                            "{} · {} ({})",
                            target.event_name,
                            venue_time_text(target.starts_at, &target.time_zone),
                            format_money(target.price_minor, &t.currency)
                        ),
                    )
                })
                .collect(),
            failed_emails: t
                .failed_emails
                .into_iter()
                .map(|e| (e.id.0, words::resend_label(e.kind)))
                .collect(),
            event_name: t.event_name,
            venue: t.venue,
        })
        .collect();
    let balances = found
        .credit
        .balances
        .iter()
        .map(|b| format_money(b.balance_minor, &b.currency))
        .collect();
    let ledger = found
        .credit
        .entries
        .iter()
        .map(|e| LedgerRow {
            at: utc_text(e.at),
            amount: format_money(e.amount_minor, e.currency.as_str()),
            reason: words::credit_reason(e.reason.as_str()),
            ticket: ticket_ref(e.ticket_id),
        })
        .collect();
    let timeline = found
        .timeline
        .iter()
        .map(|touch| TouchRow {
            at: utc_text(touch.at),
            ticket: ticket_ref(Some(touch.ticket_id)),
            text: words::touch(touch.what, &touch.detail),
        })
        .collect();
    PatronView {
        chrome,
        title: found.name.clone().unwrap_or_else(|| found.email.clone()),
        action_base: patron_path(&found.email),
        email: found.email,
        notice,
        refusal: refusal.map(|(ticket, e)| Refusal {
            ticket,
            code: e.code,
            message: e.message,
        }),
        tickets,
        balances,
        ledger,
        timeline,
    }
}
