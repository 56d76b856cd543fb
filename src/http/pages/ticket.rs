//! The ticket page and the claim page: each handler checks the signed link, calls the same
//! services as the staff API, and answers with a page or a redirect back to one.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{html, private, see_other, Claim, SignedLink, View};
use crate::domain::event::{in_venue_time, venue_clock_text, venue_time_text};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::money::format_money;
use crate::domain::venue::{mailto_uri, VenueDetails};
use crate::domain::TicketStatus;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::exchanges::{self, ExchangeInto};
use crate::service::patron_pages::{self, OfferState, RotatingOnPage, TicketPage};
use crate::service::{consent, journey, tickets, transfers, Encore};
use crate::tokens::{LinkClaims, LinkPurpose};

/// A performance an exchange may go to, as the select shows it.
struct TargetShown {
    id: PerformanceId,
    /// Date first, so a phone never cuts it off.
    when: String,
    event_name: String,
    price: String,
}

/// What an ended ticket became.
enum Outcome {
    /// Exchanged into another performance: its own page.
    NewTicket {
        path: String,
        label: String,
        seat: Option<String>,
    },
    /// Exchanged into credit: what was credited and the balance now.
    Credit { credited: String, balance: String },
    /// Canceled by the box office: why, and the refund.
    Canceled {
        reason: String,
        refund: Option<String>,
    },
}

struct OfferShown {
    to_name: String,
    expires_at: String,
}

/// The rotating code as the page's script draws it (`ticket.js`): the pattern and the key go
/// on data attributes, so the page carries no inline script.
struct RotatingShown {
    value_pattern: String,
    key: String,
    period_seconds: u64,
    digits: u32,
}

/// The venue's address with its map link, as the page shows them.
struct AddressShown {
    lines: Vec<String>,
    map_url: String,
}

/// How to ask for help: each contact as (text shown, link).
struct HelpShown {
    phone: Option<(String, String)>,
    email: Option<(String, String)>,
}

fn venue_shown(details: &VenueDetails) -> (Option<AddressShown>, Option<HelpShown>) {
    let address = details.address.as_ref().map(|a| AddressShown {
        lines: a.lines().map(str::to_string).collect(),
        map_url: a.map_url(),
    });
    let help = details.has_help().then(|| HelpShown {
        phone: details
            .help_phone
            .as_ref()
            .map(|p| (p.as_str().to_string(), p.tel_uri())),
        email: details
            .help_email
            .as_ref()
            .map(|e| (e.as_str().to_string(), mailto_uri(e))),
    });
    (address, help)
}

/// Everything the ticket page shows, formatted.
struct Shown {
    event_name: String,
    venue: String,
    starts_at: String,
    doors_open_at: String,
    holder_name: String,
    seat: Option<String>,
    section: Option<String>,
    price: String,
    ticket_id: TicketId,
    status_text: String,
    status_class: &'static str,
    /// What became of a ticket that no longer admits, and where to go from here.
    outcome: Option<Outcome>,
    /// Offer "add to calendar" only while the date holds for this holder.
    calendar: bool,
    qr_svg: Option<String>,
    rotating: Option<RotatingShown>,
    /// When a rotating code is held back until closer to the doors: when it appears.
    rotating_from: Option<String>,
    offer: Option<OfferShown>,
    closes_at: String,
    transfer_refusal: Option<String>,
    exchange_refusal: Option<String>,
    exchange_value: String,
    exchange_fee: String,
    has_fee: bool,
    balance: Option<String>,
    targets: Vec<TargetShown>,
    address: Option<AddressShown>,
    help: Option<HelpShown>,
    /// When this page was read, in the venue's time ("19:02 on 7 December"): what a copy kept
    /// on the phone says when it is shown offline.
    saved_at: String,
}

#[derive(Template)]
#[template(path = "pages/ticket.html")]
struct TicketTemplate<'a> {
    token: &'a str,
    /// Whether the operator can sign Apple Wallet passes (else the button is hidden).
    apple_wallet: bool,
    /// Whether the operator can sign Google Wallet links (else the button is hidden).
    google_wallet: bool,
    p: &'a Shown,
    notice: Option<String>,
    refused: bool,
    /// What the patron typed into the transfer form, kept when it is shown again.
    friend: Friend,
    /// Whether the holder opted out of news (marketing email).
    news_off: bool,
}

/// The transfer form's fields as the patron typed them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Friend {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// What the page shows, formatted in the venue's time zone.
fn shown(page: TicketPage) -> Shown {
    let tz = page.time_zone.as_str();
    let money = |minor| format_money(minor, &page.currency);
    let (status_text, status_class) = match (page.status, &page.offer, &page.claimed_by) {
        (TicketStatus::Valid, _, _) if page.admitted => match &page.admission {
            Some(admission) => (
                format!(
                    "Admitted at {}, {} gate. Enjoy the show!",
                    venue_clock_text(admission.at, tz),
                    admission.gate
                ),
                "valid",
            ),
            None => ("Admitted. Enjoy the show!".to_string(), "valid"),
        },
        (TicketStatus::Valid, _, _) => ("Valid".to_string(), "valid"),
        (TicketStatus::Transferred, Some(o), _) => (
            format!("Offered to {}: this QR code no longer admits", o.to_name),
            "offered",
        ),
        (TicketStatus::Transferred, None, Some(to_name)) => (
            format!("Transferred to {to_name}: this QR code no longer admits"),
            "ended",
        ),
        (other, _, _) => (
            format!(
                "{}: this QR code no longer admits",
                capitalized(other.as_str())
            ),
            "ended",
        ),
    };
    let outcome = match (page.status, &page.successor, &page.cancellation) {
        (TicketStatus::Exchanged, Some(next), _) => Some(Outcome::NewTicket {
            path: next.path.clone(),
            label: format!(
                "{}, {}",
                next.event_name,
                venue_time_text(next.starts_at, &next.time_zone)
            ),
            seat: next.seat.clone(),
        }),
        (TicketStatus::Exchanged, None, _) => Some(Outcome::Credit {
            credited: money(page.exchange_value.value_minor),
            balance: money(page.balance_minor.unwrap_or(0)),
        }),
        (TicketStatus::Canceled, _, Some(canceled)) => Some(Outcome::Canceled {
            reason: canceled.reason.clone(),
            refund: (canceled.refund_minor > 0).then(|| money(canceled.refund_minor)),
        }),
        _ => None,
    };
    let (rotating, rotating_from) = match &page.rotating {
        Some(RotatingOnPage::Shown(code)) => (
            Some(RotatingShown {
                value_pattern: code.value_pattern.clone(),
                key: code.secret_base16(),
                period_seconds: code.period.as_secs(),
                digits: code.digits,
            }),
            None,
        ),
        Some(RotatingOnPage::From(at)) => (None, Some(venue_time_text(*at, tz))),
        None => (None, None),
    };
    let (address, help) = venue_shown(&page.venue_details);
    let saved_at = format!(
        "{} on {}",
        venue_clock_text(page.loaded_at, tz),
        in_venue_time(page.loaded_at, tz).format("%-d %B")
    );
    Shown {
        outcome,
        address,
        help,
        saved_at,
        calendar: page.status == TicketStatus::Valid,
        rotating,
        rotating_from,
        starts_at: venue_time_text(page.starts_at, tz),
        doors_open_at: venue_time_text(page.doors_open_at, tz),
        price: money(page.price_minor),
        status_text,
        status_class,
        offer: page.offer.as_ref().map(|o| OfferShown {
            to_name: o.to_name.clone(),
            expires_at: venue_time_text(o.expires_at, tz),
        }),
        closes_at: venue_time_text(page.closes_at, tz),
        transfer_refusal: page.transfer_refusal.as_ref().map(ToString::to_string),
        exchange_refusal: page.exchange_refusal.as_ref().map(ToString::to_string),
        exchange_value: money(page.exchange_value.value_minor),
        exchange_fee: money(page.exchange_value.fee_minor),
        has_fee: page.exchange_value.fee_minor > 0,
        balance: page.balance_minor.map(money),
        targets: page
            .targets
            .iter()
            .map(|t| TargetShown {
                id: t.performance_id,
                when: venue_time_text(t.starts_at, &t.time_zone),
                event_name: t.event_name.clone(),
                price: money(t.price_minor),
            })
            .collect(),
        event_name: page.event_name,
        venue: page.venue,
        holder_name: page.holder_name,
        seat: page.seat,
        section: page.section,
        ticket_id: page.ticket_id,
        qr_svg: page.qr_svg,
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What the page says after a change went through (`?done=…`): a fixed set of messages, so
/// the URL cannot put words on the page.
#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
    /// The transfer form's fields, when the patron went back from its review.
    #[serde(flatten)]
    friend: Friend,
}

fn done_message(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "offered" => "Sent. Your friend has an email with a link to claim the ticket.",
            "taken_back" => "The ticket is yours again, with a new QR code.",
            "exchanged" => "Exchanged. A receipt is on its way to your email.",
            "exchanged_into" => {
                "Exchanged: this is your new ticket. A receipt is on its way to your email."
            }
            "claimed" => "It's yours: this ticket is in your name now, with its own QR code.",
            "news_off" => "Done: no more news from us. Emails about your tickets still come.",
            "news_on" => "Welcome back: you will receive news from us again.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn render_ticket(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    status: StatusCode,
    notice: Option<String>,
    refused: bool,
    friend: Friend,
) -> Result<HttpResponse, ApiError> {
    let LinkClaims {
        ticket_id,
        generation,
        ..
    } = link.claims;
    let apple_wallet = encore.apple_passes.is_some();
    let google_wallet = encore.google_wallet.is_some();
    let page = run_blocking(move || {
        let page = patron_pages::ticket_page(&encore, ticket_id, generation)?;
        let consent = consent::of_ticket_holder(&encore, ticket_id)?;
        Ok((page, consent.opted_out))
    });
    let (shown, news_off) = match page.await {
        Ok((page, news_off)) => (shown(page), news_off),
        Err(e) => return superseded_or(e),
    };
    let template = TicketTemplate {
        token: &link.token,
        apple_wallet,
        google_wallet,
        p: &shown,
        notice,
        refused,
        friend,
        news_off,
    };
    Ok(super::html_under(status, &template, TICKET_POLICY))
}

/// The patron pages' policy plus our own scripts (no inline script): the page registers the
/// service worker that keeps it on the phone, and a rotating code is drawn in the browser.
const TICKET_POLICY: &str = "default-src 'none'; script-src 'self'; worker-src 'self'; \
     style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The ticket pages' service worker (`templates/pages/ticket-sw.js`), served from `/assets/`
/// and allowed the scope `/t/` (`Service-Worker-Allowed`): it keeps the ticket page a patron
/// opened, and its files, for a reload with weak or no signal.
pub(super) const SERVICE_WORKER: &str = include_str!("../../../templates/pages/ticket-sw.js");

/// The ticket page's scripts: the offline copy's, the TOTP code, the vendored QR generator,
/// and the rotating code's.
pub(super) const SCRIPTS: [(&str, &str); 4] = [
    (
        "/assets/ticket-offline.js",
        include_str!("../../../templates/pages/ticket-offline.js"),
    ),
    (
        "/assets/totp.js",
        include_str!("../../../templates/pages/totp.js"),
    ),
    (
        "/assets/qrcode.js",
        include_str!("../../../templates/vendor/qrcode-generator-2.0.4.js"),
    ),
    (
        "/assets/ticket.js",
        include_str!("../../../templates/pages/ticket.js"),
    ),
];

/// The out-of-date page for a superseded link; any other error as it is.
fn superseded_or(e: ApiError) -> Result<HttpResponse, ApiError> {
    if e.code == "link_superseded" {
        Ok(super::superseded_link())
    } else {
        Err(e)
    }
}

/// Notes the open in the patron's journey. A failure to note it is logged, not shown: the
/// patron still gets their page.
async fn record_open(encore: &web::Data<Encore>, ticket_id: TicketId, purpose: LinkPurpose) {
    let encore = encore.clone();
    if let Err(e) = run_blocking(move || journey::link_opened(&encore, ticket_id, purpose)).await {
        tracing::warn!(ticket_id = ticket_id.0, error = ?e, "could not record a patron link open");
    }
}

/// `GET /t/{token}`: the ticket page.
pub async fn page(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    query: web::Query<Done>,
) -> Result<HttpResponse, ApiError> {
    record_open(&encore, link.claims.ticket_id, LinkPurpose::View).await;
    let Done { done, friend } = query.into_inner();
    render_ticket(
        encore,
        link,
        StatusCode::OK,
        done_message(done.as_deref()),
        false,
        friend,
    )
    .await
}

/// Runs a change for the page (given the link's ticket id and generation): on success, back to
/// the page with a message — by a fresh link when the change gave the ticket a new generation
/// (the change answers that link's path); when refused or invalid, the page again with the
/// reason (and a 429's `Retry-After`).
async fn act(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    done: &'static str,
    typed: Friend,
    change: impl FnOnce(&Encore, TicketId, i32) -> crate::service::Result<Option<String>>
        + Send
        + 'static,
) -> Result<HttpResponse, ApiError> {
    let (acting, claims) = (encore.clone(), link.claims);
    match run_blocking(move || change(&acting, claims.ticket_id, claims.generation)).await {
        Ok(fresh) => {
            let path = fresh.unwrap_or_else(|| format!("/t/{}", link.token));
            Ok(see_other(format!("{path}?done={done}")))
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let mut page =
                render_ticket(encore, link, e.status, Some(e.message), true, typed).await?;
            if let Some(seconds) = e.retry_after {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

/// The news form: `news=off` opts the holder out of marketing email, `news=on` back in.
#[derive(Debug, Deserialize)]
pub struct News {
    news: String,
}

/// `POST /t/{token}/news`: the holder's consent to news, changed from their ticket page.
pub async fn news(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    form: web::Form<News>,
) -> Result<HttpResponse, ApiError> {
    let opt_out = match form.news.as_str() {
        "off" => true,
        "on" => false,
        _ => return Err(crate::domain::Invalid::new("news", "must be \"on\" or \"off\"").into()),
    };
    let done = if opt_out { "news_off" } else { "news_on" };
    act(
        encore,
        link,
        done,
        Friend::default(),
        move |encore, ticket_id, _| consent::set(encore, ticket_id, opt_out).map(|_| None),
    )
    .await
}

/// `POST /t/{token}/transfer`: offer the ticket to a friend.
pub async fn offer_transfer(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    form: web::Form<Friend>,
) -> Result<HttpResponse, ApiError> {
    let typed = form.into_inner();
    let form = typed.clone();
    act(
        encore,
        link,
        "offered",
        typed,
        move |encore, ticket_id, generation| {
            let friend = transfers::Friend::parse(&form.name, &form.email)?;
            transfers::offer(encore, ticket_id, generation, friend).map(|_| None)
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "pages/transfer_review.html")]
struct TransferReview<'a> {
    token: &'a str,
    event_name: &'a str,
    starts_at: &'a str,
    friend: &'a Friend,
}

/// `POST /t/{token}/transfer/review`: what the transfer will do, before it is done. A friend
/// that does not parse goes back to the form with what was typed and the reason.
pub async fn review_transfer(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    form: web::Form<Friend>,
) -> Result<HttpResponse, ApiError> {
    let typed = form.into_inner();
    if let Err(e) = transfers::Friend::parse(&typed.name, &typed.email) {
        let e = ApiError::from(e);
        return render_ticket(encore, link, e.status, Some(e.message), true, typed).await;
    }
    let claims = link.claims;
    let page = run_blocking(move || {
        patron_pages::ticket_page(&encore, claims.ticket_id, claims.generation)
    })
    .await;
    let page = match page {
        Ok(page) => shown(page),
        Err(e) => return superseded_or(e),
    };
    Ok(html(
        StatusCode::OK,
        &TransferReview {
            token: &link.token,
            event_name: &page.event_name,
            starts_at: &page.starts_at,
            friend: &typed,
        },
    ))
}

/// `POST /t/{token}/transfer/cancel`: take an open offer back.
pub async fn take_back(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
) -> Result<HttpResponse, ApiError> {
    act(
        encore,
        link,
        "taken_back",
        Friend::default(),
        move |encore, ticket_id, generation| {
            // The ticket is back at a new generation: this link is superseded, so on by a fresh one.
            let ticket = transfers::cancel(encore, ticket_id, generation)?;
            let (_, performance) = tickets::get(encore, ticket.id)?;
            tickets::view_link(encore, "", &ticket, &performance).map(Some)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ExchangeForm {
    into: String,
    performance_id: Option<i64>,
}

impl ExchangeForm {
    fn choice(&self) -> Result<ExchangeInto, ApiError> {
        match (self.into.as_str(), self.performance_id) {
            ("credit", _) => Ok(ExchangeInto::Credit),
            ("performance", Some(id)) => Ok(ExchangeInto::Performance(PerformanceId(id))),
            _ => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_form",
                "Choose credit or a performance.",
            )),
        }
    }
}

/// `POST /t/{token}/exchange`: into credit (back to this page, which then shows the credit),
/// or into another performance (on to the new ticket's own page).
pub async fn exchange(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    form: web::Form<ExchangeForm>,
) -> Result<HttpResponse, ApiError> {
    let into = form.choice()?;
    let done = match into {
        ExchangeInto::Credit => "exchanged",
        ExchangeInto::Performance(_) => "exchanged_into",
    };
    act(
        encore,
        link,
        done,
        Friend::default(),
        move |encore, ticket_id, generation| {
            let receipt = exchanges::exchange(encore, ticket_id, generation, into)?;
            match receipt.new_ticket_id {
                Some(id) => {
                    let (ticket, performance) = tickets::get(encore, id)?;
                    tickets::view_link(encore, "", &ticket, &performance).map(Some)
                }
                None => Ok(None),
            }
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "pages/exchange_review.html")]
struct ExchangeReview<'a> {
    token: &'a str,
    event_name: &'a str,
    starts_at: &'a str,
    /// The new performance, when exchanging into one: "Hamlet, Friday …" and its price.
    into: Option<(String, String, PerformanceId)>,
    value: &'a str,
    fee: Option<&'a str>,
    balance: String,
    /// The credit left afterwards, or how much is missing.
    credit_after: String,
    short: bool,
}

/// `POST /t/{token}/exchange/review`: what the exchange will do (the new performance and its
/// price, the fee, the credit left or missing), before it is done.
pub async fn review_exchange(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    form: web::Form<ExchangeForm>,
) -> Result<HttpResponse, ApiError> {
    let into = form.choice()?;
    let claims = link.claims;
    let page = run_blocking(move || {
        patron_pages::ticket_page(&encore, claims.ticket_id, claims.generation)
    })
    .await;
    let page = match page {
        Ok(page) => page,
        Err(e) => return superseded_or(e),
    };
    let money = |minor| format_money(minor, &page.currency);
    let target = match into {
        ExchangeInto::Credit => None,
        ExchangeInto::Performance(id) => Some(
            page.targets
                .iter()
                .find(|t| t.performance_id == id)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::CONFLICT,
                        "not_an_exchange_target",
                        "That performance is not open for this exchange any more.",
                    )
                })?,
        ),
    };
    let balance = page.balance_minor.unwrap_or(0);
    let after = page
        .exchange_value
        .credit_after(balance, target.map(|t| t.price_minor));
    let shown_page = shown_summary(&page);
    Ok(html(
        StatusCode::OK,
        &ExchangeReview {
            token: &link.token,
            event_name: &shown_page.0,
            starts_at: &shown_page.1,
            into: target.map(|t| {
                (
                    format!(
                        "{}, {}",
                        t.event_name,
                        venue_time_text(t.starts_at, &t.time_zone)
                    ),
                    money(t.price_minor),
                    t.performance_id,
                )
            }),
            value: &money(page.exchange_value.value_minor),
            fee: (page.exchange_value.fee_minor > 0)
                .then(|| money(page.exchange_value.fee_minor))
                .as_deref(),
            balance: money(balance),
            credit_after: money(after.abs()),
            short: after < 0,
        },
    ))
}

/// The event's name and time as the review pages head them.
fn shown_summary(page: &TicketPage) -> (String, String) {
    (
        page.event_name.clone(),
        venue_time_text(page.starts_at, &page.time_zone),
    )
}

/// `GET /t/{token}/calendar.ics`: the performance for the patron's calendar.
pub async fn calendar(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
) -> Result<HttpResponse, ApiError> {
    let (claims, token) = (link.claims, link.token);
    let base = encore.settings.public_base_url.clone();
    let ics = run_blocking(move || {
        let link = format!("{base}/t/{token}");
        patron_pages::calendar_file(&encore, claims.ticket_id, claims.generation, &link)
    })
    .await;
    let ics = match ics {
        Ok(ics) => ics,
        Err(e) => return superseded_or(e),
    };
    Ok(private(StatusCode::OK)
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"performance.ics\"",
        ))
        .body(ics))
}

/// `GET /t/{token}/pass.pkpass`: the ticket as an Apple Wallet pass (404 when the operator
/// configured no Apple credentials).
pub async fn apple_pass(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
) -> Result<HttpResponse, ApiError> {
    let claims = link.claims;
    let pass = run_blocking(move || {
        crate::service::wallet::apple_pass(&encore, claims.ticket_id, claims.generation)
    })
    .await;
    let pass = match pass {
        Ok(pass) => pass,
        Err(e) => return superseded_or(e),
    };
    Ok(private(StatusCode::OK)
        .content_type("application/vnd.apple.pkpass")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"ticket.pkpass\"",
        ))
        .body(pass))
}

/// `GET /t/{token}/google-wallet`: on to Google's "save to wallet" page with the ticket's
/// signed object (404 when the operator configured no Google Wallet).
pub async fn google_wallet(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
) -> Result<HttpResponse, ApiError> {
    let claims = link.claims;
    let url = run_blocking(move || {
        crate::service::wallet::google_save_url(&encore, claims.ticket_id, claims.generation)
    })
    .await;
    match url {
        Ok(url) => Ok(private(StatusCode::SEE_OTHER)
            .insert_header((actix_web::http::header::LOCATION, url))
            .finish()),
        Err(e) => superseded_or(e),
    }
}

#[derive(Template)]
#[template(path = "pages/claim.html")]
struct ClaimTemplate<'a> {
    token: &'a str,
    event_name: String,
    venue: String,
    starts_at: String,
    from_name: String,
    to_name: String,
    expires_at: String,
    seat: Option<String>,
    section: Option<String>,
    open: bool,
    notice: Option<String>,
}

/// `GET /claim/{token}`: the friend's page for an offer.
pub async fn claim_page(
    encore: web::Data<Encore>,
    link: SignedLink<Claim>,
) -> Result<HttpResponse, ApiError> {
    let claims = link.claims;
    record_open(&encore, claims.ticket_id, LinkPurpose::Claim).await;
    let page = run_blocking(move || {
        patron_pages::claim_page(&encore, claims.ticket_id, claims.generation)
    })
    .await?;
    // Claimed: the friend (who holds this link) goes on to their own ticket.
    if let Some(path) = page.claimed_path {
        return Ok(see_other(format!("{path}?done=claimed")));
    }
    let tz = page.time_zone.as_str();
    let open = page.offer == OfferState::Open;
    let notice = match page.offer {
        OfferState::Open => None,
        OfferState::Claimed => Some("This ticket was already claimed."),
        OfferState::TakenBack => Some("The sender took this offer back."),
        OfferState::Expired => Some("This offer has expired; the ticket went back to the sender."),
    };
    Ok(html(
        if open {
            StatusCode::OK
        } else {
            StatusCode::GONE
        },
        &ClaimTemplate {
            token: &link.token,
            starts_at: venue_time_text(page.starts_at, tz),
            expires_at: venue_time_text(page.expires_at, tz),
            event_name: page.event_name,
            venue: page.venue,
            from_name: page.from_name,
            to_name: page.to_name,
            seat: page.seat,
            section: page.section,
            open,
            notice: notice.map(str::to_string),
        },
    ))
}

/// `POST /claim/{token}`: claim the offer; on to the new ticket's own page.
pub async fn claim(
    encore: web::Data<Encore>,
    link: SignedLink<Claim>,
) -> Result<HttpResponse, ApiError> {
    let (acting, claims) = (encore.clone(), link.claims);
    let claimed = run_blocking(move || {
        let ticket = transfers::claim(&acting, claims.ticket_id, claims.generation)?;
        let (_, performance) = tickets::get(&acting, ticket.id)?;
        tickets::view_link(&acting, "", &ticket, &performance)
    })
    .await;
    match claimed {
        Ok(path) => Ok(see_other(format!("{path}?done=claimed"))),
        Err(e) if e.status == StatusCode::CONFLICT => Ok(super::problem(
            StatusCode::CONFLICT,
            "This offer is closed",
            &e.message,
        )),
        Err(e) => Err(e),
    }
}
