//! A performance in the console, `GET /box-office/performances/{id}`: its header (capacity,
//! issued, arrived), its tickets searched and paged as the API's search does (at most
//! `MAX_PAGE` rows a page, keyset cursor), the walk-up issue form, and the CSV import with a
//! progress page. Then one ticket with its QR (`/box-office/tickets/{id}`), a print page and
//! the QR images, served with the session.
//!
//! Handlers parse, call `service::console_performance` and render. A refused form is shown
//! again with the code and message the JSON API would answer (`ApiError::from`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{
    call, error_page, page, private, see_other, Chrome, Fields, ProtectedForm, StaffSession,
};
use crate::domain::event::venue_time_text;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::import::ImportStatus;
use crate::domain::locale::Locale;
use crate::domain::money::format_money;
use crate::domain::search::{TicketSearch, MAX_PAGE};
use crate::domain::ticket::NewTicket;
use crate::domain::{Invalid, TicketStatus};
use crate::http::error::ApiError;
use crate::service::box_office::{self, PerformanceSummary};
use crate::service::console_performance as console;
use crate::service::imports::{self, MAX_CSV_BYTES};
use crate::service::Encore;
use crate::tokens;

/// The largest import form body accepted (the CSV, URL-encoded, and the CSRF field).
pub const MAX_IMPORT_BODY: usize = 4 * MAX_CSV_BYTES;

/// Why a request was not done, as the API would say it.
struct Notice {
    code: &'static str,
    message: String,
}

impl From<&ApiError> for Notice {
    fn from(e: &ApiError) -> Self {
        Notice {
            code: e.code,
            message: e.message.clone(),
        }
    }
}

/// The walk-up form's fields, as typed (shown again when refused).
#[derive(Default)]
struct WalkUpForm {
    holder_name: String,
    holder_email: String,
    seat: String,
    price_minor: String,
    currency: String,
    apply_credit: bool,
    /// The ticket's language: empty for the event's, else a language's code.
    locale: String,
}

impl WalkUpForm {
    fn blank(header: &PerformanceSummary) -> WalkUpForm {
        WalkUpForm {
            price_minor: header
                .price
                .as_ref()
                .map(|p| p.minor.to_string())
                .unwrap_or_default(),
            currency: header
                .price
                .as_ref()
                .map_or("EUR", |p| p.currency.as_str())
                .to_string(),
            ..WalkUpForm::default()
        }
    }

    fn read(fields: &Fields) -> WalkUpForm {
        WalkUpForm {
            holder_name: fields.get("holder_name").to_string(),
            holder_email: fields.get("holder_email").to_string(),
            seat: fields.get("seat").to_string(),
            price_minor: fields.get("price_minor").to_string(),
            currency: fields.get("currency").to_string(),
            apply_credit: !fields.get("apply_credit").is_empty(),
            locale: fields.get("locale").to_string(),
        }
    }

    /// The ticket to issue, parsed by the same rule as the API's request.
    fn parse(&self) -> Result<NewTicket, Invalid> {
        let price = self.price_minor.trim();
        let price_minor: i64 = price.parse().map_err(|_| {
            Invalid::new(
                "price_minor",
                format!("{price:?} is not a whole number of minor units (cents)"),
            )
        })?;
        let seat = Some(self.seat.as_str()).filter(|s| !s.trim().is_empty());
        NewTicket::parse(
            &self.holder_name,
            &self.holder_email,
            price_minor,
            self.currency.trim(),
            seat,
            None,
        )
        .and_then(|t| {
            let locale = match self.locale.as_str() {
                "" => None,
                code => Some(Locale::parse("locale", code)?),
            };
            Ok(t.paying_with_credit(self.apply_credit).speaking(locale))
        })
    }

    /// The language choices: the event's (empty), then each language, the typed one marked.
    fn locales(&self) -> Vec<(&'static str, &'static str, bool)> {
        let event_default = ("", "The event's language", self.locale.is_empty());
        std::iter::once(event_default)
            .chain((Locale::ALL.iter()).map(|l| (l.as_str(), l.name(), l.as_str() == self.locale)))
            .collect()
    }
}

struct Row {
    id: TicketId,
    holder_name: String,
    holder_email: String,
    seat: String,
    status: &'static str,
    price: String,
    arrived: bool,
}

struct Header {
    id: PerformanceId,
    event_name: String,
    venue: String,
    starts_at: String,
    doors_open_at: String,
    capacity: i64,
    issued: i64,
    arrived: i64,
    canceled: bool,
}

#[derive(Template)]
#[template(path = "box_office/performance.html")]
struct PerformancePage {
    chrome: Chrome,
    header: Header,
    q: String,
    status: String,
    statuses: [&'static str; 4],
    /// Why the search was refused, if it was.
    search_error: Option<Notice>,
    rows: Vec<Row>,
    max_page: u32,
    /// The query string of the first page (q and status), and of the next one.
    first_page: String,
    next_page: Option<String>,
    paged: bool,
    form: WalkUpForm,
    /// Why the walk-up form was refused.
    issue_error: Option<Notice>,
    csv: String,
    /// Why the import was refused.
    import_error: Option<Notice>,
    max_csv_kib: usize,
}

/// What a refused form leaves on the page.
#[derive(Default)]
struct Refusal {
    form: Option<WalkUpForm>,
    issue_error: Option<Notice>,
    csv: Option<String>,
    import_error: Option<Notice>,
}

fn query_of(pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(name, value);
    }
    query.finish()
}

/// Renders the performance page for `query` (q, status, cursor), with what a refused form
/// left, answered with `status`.
async fn render(
    chrome: Chrome,
    encore: web::Data<Encore>,
    id: PerformanceId,
    query: &Fields,
    refusal: Refusal,
    status: StatusCode,
) -> HttpResponse {
    let q = query.get("q").to_string();
    let wanted_status = query.get("status").to_string();
    let cursor = query.get("cursor").to_string();
    let search = TicketSearch::parse(
        id,
        Some(&q),
        Some(&wanted_status),
        Some(&cursor),
        Some(i64::from(MAX_PAGE)),
    );
    let read = {
        let encore = encore.clone();
        call(move || {
            let header = box_office::performance(&encore, id)?;
            let page = match search {
                Ok(search) => Ok(console::tickets(&encore, &search)?),
                Err(invalid) => Err(invalid),
            };
            Ok((header, page))
        })
    };
    let (header, found) = match read.await {
        Ok(read) => read,
        Err(e) => return error_page(&e),
    };
    let (rows, next, search_error, status) = match found {
        Ok(found) => (found.tickets, found.next, None, status),
        Err(invalid) => {
            let e = ApiError::from(invalid);
            let status = if status.is_success() {
                e.status
            } else {
                status
            };
            (Vec::new(), None, Some(Notice::from(&e)), status)
        }
    };
    let first_page = query_of(&[("q", &q), ("status", &wanted_status)]);
    let next_page = next.map(|cursor| {
        query_of(&[
            ("q", &q),
            ("status", &wanted_status),
            ("cursor", &cursor.encode()),
        ])
    });
    let rows = rows
        .into_iter()
        .map(|t| Row {
            id: t.id,
            holder_name: t.holder_name,
            holder_email: t.holder_email,
            seat: [t.section, t.seat]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            status: t.status.as_str(),
            price: format_money(t.price_minor, &t.currency),
            arrived: t.admitted_at.is_some(),
        })
        .collect();
    let form = refusal.form.unwrap_or_else(|| WalkUpForm::blank(&header));
    let header = Header {
        id: header.id,
        starts_at: venue_time_text(header.starts_at, &header.time_zone),
        doors_open_at: venue_time_text(header.doors_open_at, &header.time_zone),
        event_name: header.event_name,
        venue: header.venue,
        capacity: header.capacity,
        issued: header.issued,
        arrived: header.arrived,
        canceled: header.canceled,
    };
    page(
        status,
        &PerformancePage {
            chrome,
            header,
            q,
            status: wanted_status,
            statuses: TicketStatus::ALL.map(TicketStatus::as_str),
            search_error,
            rows,
            max_page: MAX_PAGE,
            paged: !cursor.is_empty(),
            first_page,
            next_page,
            form,
            issue_error: refusal.issue_error,
            csv: refusal.csv.unwrap_or_default(),
            import_error: refusal.import_error,
            max_csv_kib: MAX_CSV_BYTES / 1024,
        },
    )
}

/// `GET /box-office/performances/{id}?q=&status=&cursor=`.
pub async fn show(
    staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
    req: HttpRequest,
) -> HttpResponse {
    let query = Fields::parse(req.query_string().as_bytes());
    render(
        staff.chrome(),
        encore,
        id.into_inner(),
        &query,
        Refusal::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /box-office/performances/{id}/tickets`: issue one ticket to a walk-up patron; on
/// success, the ticket's page with its QR.
pub async fn issue(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    let id = id.into_inner();
    let by = form.session.actor();
    let values = WalkUpForm::read(&form.fields);
    let issued = match values.parse() {
        Ok(ticket) => {
            let encore = encore.clone();
            call(move || console::issue_walk_up(&encore, id, ticket, &by)).await
        }
        Err(invalid) => Err(ApiError::from(invalid)),
    };
    match issued {
        Ok(walk_up) => {
            let credit = walk_up
                .credit_applied
                .map(|c| format!("&credit_applied={c}"))
                .unwrap_or_default();
            see_other(format!(
                "/box-office/tickets/{}?issued=1{credit}",
                walk_up.ticket_id
            ))
        }
        Err(e) if e.status.is_server_error() => error_page(&e),
        Err(e) => {
            let refusal = Refusal {
                issue_error: Some(Notice::from(&e)),
                form: Some(values),
                ..Refusal::default()
            };
            render(
                form.session.chrome(),
                encore,
                id,
                &Fields::parse(b""),
                refusal,
                e.status,
            )
            .await
        }
    }
}

/// `POST /box-office/performances/{id}/imports`: import the pasted CSV in the background, as
/// `encore import` does; then its progress page.
pub async fn import(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    let id = id.into_inner();
    let csv = form.fields.get("csv").to_string();
    let started = {
        let (encore, staff, csv) = (
            encore.clone(),
            form.session.session.staff.clone(),
            csv.clone(),
        );
        call(move || imports::start(&encore, &staff, id, csv)).await
    };
    match started {
        Ok(job) => see_other(format!("/box-office/imports/{job}")),
        Err(e) if e.status.is_server_error() => error_page(&e),
        Err(e) => {
            let refusal = Refusal {
                import_error: Some(Notice::from(&e)),
                csv: Some(csv),
                ..Refusal::default()
            };
            render(
                form.session.chrome(),
                encore,
                id,
                &Fields::parse(b""),
                refusal,
                e.status,
            )
            .await
        }
    }
}

struct RejectedLine {
    line: u64,
    reason: String,
}

#[derive(Template)]
#[template(path = "box_office/import.html")]
struct ImportPage {
    chrome: Chrome,
    performance_id: PerformanceId,
    running: bool,
    done: u64,
    total: u64,
    /// `progress`'s maximum (at least 1).
    max: u64,
    failed: Option<String>,
    issued: u64,
    already_issued: u64,
    rejected: Vec<RejectedLine>,
}

/// `GET /box-office/imports/{job}`: the import's progress (refreshing every second while it
/// runs), then its result with each rejected line.
pub async fn import_progress(
    staff: StaffSession,
    encore: web::Data<Encore>,
    job: web::Path<String>,
) -> HttpResponse {
    let read = {
        let account = staff.session.staff.clone();
        call(move || imports::progress(&encore, &account, &job)).await
    };
    let import = match read {
        Ok(import) => import,
        Err(e) => return error_page(&e),
    };
    let running = import.status == ImportStatus::Running;
    let report = import.report.unwrap_or_default();
    let (performance_id, total, done, failed) = (
        import.performance_id,
        import.total,
        import.done,
        import.error,
    );
    let mut response = page(
        StatusCode::OK,
        &ImportPage {
            chrome: staff.chrome(),
            performance_id,
            running,
            done,
            total,
            max: total.max(done).max(1),
            failed,
            issued: report.issued,
            already_issued: report.already_issued,
            rejected: report
                .rejected
                .into_iter()
                .map(|r| RejectedLine {
                    line: r.line,
                    reason: r.reason,
                })
                .collect(),
        },
    );
    if running {
        // As the page's own <meta http-equiv="refresh">, for browsers that read only headers.
        response
            .headers_mut()
            .insert(header::REFRESH, header::HeaderValue::from_static("1"));
    }
    response
}

struct TicketView {
    id: TicketId,
    performance_id: PerformanceId,
    holder_name: String,
    holder_email: String,
    seat: String,
    status: &'static str,
    price: String,
    currency: String,
    event_name: String,
    venue: String,
    starts_at: String,
}

#[derive(Template)]
#[template(path = "box_office/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    ticket: TicketView,
    issued: bool,
    credit_applied: Option<String>,
}

#[derive(Template)]
#[template(path = "box_office/ticket_print.html")]
struct TicketPrintPage {
    ticket: TicketView,
}

async fn ticket_view(encore: web::Data<Encore>, id: TicketId) -> Result<TicketView, ApiError> {
    let card = call(move || console::ticket(&encore, id)).await?;
    let t = card.ticket;
    Ok(TicketView {
        id: t.id,
        performance_id: t.performance_id,
        seat: [t.section, t.seat]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        status: t.status.as_str(),
        price: format_money(t.price.minor, t.price.currency.as_str()),
        currency: t.price.currency.as_str().to_string(),
        holder_name: t.holder_name,
        holder_email: t.holder_email,
        event_name: card.event_name,
        venue: card.venue,
        starts_at: venue_time_text(card.starts_at, &card.time_zone),
    })
}

/// `GET /box-office/tickets/{id}`: the ticket and its QR, with a link to print it.
pub async fn ticket(
    staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
    req: HttpRequest,
) -> HttpResponse {
    let ticket = match ticket_view(encore, id.into_inner()).await {
        Ok(ticket) => ticket,
        Err(e) => return error_page(&e),
    };
    let query = Fields::parse(req.query_string().as_bytes());
    let credit_applied = query
        .get("credit_applied")
        .parse::<i64>()
        .ok()
        .filter(|c| *c >= 0)
        .map(|c| format_money(c, &ticket.currency));
    page(
        StatusCode::OK,
        &TicketPage {
            chrome: staff.chrome(),
            issued: query.get("issued") == "1",
            credit_applied,
            ticket,
        },
    )
}

/// `GET /box-office/tickets/{id}/print`: the ticket alone, large, to print.
pub async fn print(
    _staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> HttpResponse {
    match ticket_view(encore, id.into_inner()).await {
        Ok(ticket) => page(StatusCode::OK, &TicketPrintPage { ticket }),
        Err(e) => error_page(&e),
    }
}

fn qr_failed(e: tokens::QrError) -> HttpResponse {
    tracing::error!(error = %e, "QR rendering failed");
    error_page(&ApiError::internal())
}

/// `GET /box-office/tickets/{id}/qr.svg`: the ticket's current QR, for the console's pages.
pub async fn qr_svg(
    _staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> HttpResponse {
    let id = id.into_inner();
    match call(move || console::token(&encore, id)).await {
        Ok(token) => match tokens::render_svg(&token) {
            Ok(svg) => private(StatusCode::OK)
                .content_type("image/svg+xml")
                .body(svg),
            Err(e) => qr_failed(e),
        },
        Err(e) => error_page(&e),
    }
}

/// `GET /box-office/tickets/{id}/qr.png`: the same QR as a PNG.
pub async fn qr_png(
    _staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> HttpResponse {
    let id = id.into_inner();
    let png = call(move || {
        let token = console::token(&encore, id)?;
        Ok(tokens::render_png(&token))
    })
    .await;
    match png {
        Ok(Ok(png)) => private(StatusCode::OK).content_type("image/png").body(png),
        Ok(Err(e)) => qr_failed(e),
        Err(e) => error_page(&e),
    }
}
