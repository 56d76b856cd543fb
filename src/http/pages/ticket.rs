//! The ticket page and the claim page: each handler checks the signed link, calls the same
//! services as the staff API, and answers with a page or a redirect back to one.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::refusals::{attempt, refusal_text, Reason, Refused};
use super::{html, private, see_other, Claim, SignedLink, View};
use crate::domain::event::{in_venue_time, venue_clock_text};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::locale::Locale;
use crate::domain::policy::Refusal;
use crate::domain::venue::{mailto_uri, VenueDetails};
use crate::domain::TicketStatus;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::i18n::Tr;
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

/// Everything the ticket page shows, formatted in the ticket's language.
struct Shown {
    tr: Tr,
    /// The venue's time zone and the ticket's currency, for a refusal said on the page.
    time_zone: String,
    currency: String,
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

/// A moment at the venue, written in full in the page's language.
fn at_venue(locale: Locale, at: DateTime<Utc>, time_zone: &str) -> String {
    locale.date_time(&in_venue_time(at, time_zone))
}

#[derive(Template)]
#[template(path = "pages/ticket.html")]
struct TicketTemplate<'a> {
    tr: Tr,
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

/// What the page shows, in the ticket's language and the venue's time zone.
fn shown(page: TicketPage) -> Shown {
    let tr = Tr(page.locale);
    let locale = page.locale;
    let tz = page.time_zone.as_str();
    let money = |minor| locale.money(minor, &page.currency);
    let when = |at| at_venue(locale, at, tz);
    let (status_text, status_class) = match (page.status, &page.offer, &page.claimed_by) {
        (TicketStatus::Valid, _, _) if page.admitted => match &page.admission {
            Some(admission) => (
                tr.t2(
                    "page-status-admitted-at",
                    "time",
                    venue_clock_text(admission.at, tz),
                    "gate",
                    &admission.gate,
                ),
                "valid",
            ),
            None => (tr.t("page-status-admitted"), "valid"),
        },
        (TicketStatus::Valid, _, _) => (tr.t("page-status-valid"), "valid"),
        (TicketStatus::Transferred, Some(o), _) => {
            (tr.t1("page-status-offered", "name", &o.to_name), "offered")
        }
        (TicketStatus::Transferred, None, Some(to_name)) => (
            tr.t1("page-status-transferred-to", "name", to_name),
            "ended",
        ),
        (TicketStatus::Transferred, None, None) => (tr.t("page-status-transferred"), "ended"),
        (TicketStatus::Exchanged, _, _) => (tr.t("page-status-exchanged"), "ended"),
        (TicketStatus::Canceled, _, _) => (tr.t("page-status-canceled"), "ended"),
    };
    let outcome = match (page.status, &page.successor, &page.cancellation) {
        (TicketStatus::Exchanged, Some(next), _) => Some(Outcome::NewTicket {
            path: next.path.clone(),
            label: format!(
                "{}, {}",
                next.event_name,
                at_venue(locale, next.starts_at, &next.time_zone)
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
        Some(RotatingOnPage::From(at)) => (None, Some(when(*at))),
        None => (None, None),
    };
    let (address, help) = venue_shown(&page.venue_details);
    let saved_at = tr.t2(
        "page-saved-at",
        "time",
        venue_clock_text(page.loaded_at, tz),
        "date",
        locale.day_month(&in_venue_time(page.loaded_at, tz)),
    );
    let refusal = |refusal: &Refusal| refusal_text(tr, refusal, tz, &page.currency);
    Shown {
        tr,
        outcome,
        address,
        help,
        saved_at,
        calendar: page.status == TicketStatus::Valid,
        rotating,
        rotating_from,
        starts_at: when(page.starts_at),
        doors_open_at: when(page.doors_open_at),
        price: money(page.price_minor),
        status_text,
        status_class,
        offer: page.offer.as_ref().map(|o| OfferShown {
            to_name: o.to_name.clone(),
            expires_at: when(o.expires_at),
        }),
        closes_at: when(page.closes_at),
        transfer_refusal: page.transfer_refusal.as_ref().map(refusal),
        exchange_refusal: page.exchange_refusal.as_ref().map(refusal),
        exchange_value: money(page.exchange_value.value_minor),
        exchange_fee: money(page.exchange_value.fee_minor),
        has_fee: page.exchange_value.fee_minor > 0,
        balance: page.balance_minor.map(money),
        targets: page
            .targets
            .iter()
            .map(|t| TargetShown {
                id: t.performance_id,
                when: at_venue(locale, t.starts_at, &t.time_zone),
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
        time_zone: page.time_zone,
        currency: page.currency,
    }
}

/// What the page says after a change went through (`?done=…`): one of a fixed set of
/// messages, so the URL cannot put words on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Offered,
    TakenBack,
    Exchanged,
    ExchangedInto,
    Claimed,
    NewsOff,
    NewsOn,
}

impl Done {
    const ALL: [Done; 7] = [
        Done::Offered,
        Done::TakenBack,
        Done::Exchanged,
        Done::ExchangedInto,
        Done::Claimed,
        Done::NewsOff,
        Done::NewsOn,
    ];

    /// As the query says it: `?done=offered`.
    fn as_str(self) -> &'static str {
        match self {
            Done::Offered => "offered",
            Done::TakenBack => "taken_back",
            Done::Exchanged => "exchanged",
            Done::ExchangedInto => "exchanged_into",
            Done::Claimed => "claimed",
            Done::NewsOff => "news_off",
            Done::NewsOn => "news_on",
        }
    }

    fn parse(raw: &str) -> Option<Done> {
        Done::ALL.into_iter().find(|done| done.as_str() == raw)
    }

    fn message(self, tr: Tr) -> String {
        match self {
            Done::Offered => tr.t("page-done-offered"),
            Done::TakenBack => tr.t("page-done-taken-back"),
            Done::Exchanged => tr.t("page-done-exchanged"),
            Done::ExchangedInto => tr.t("page-done-exchanged-into"),
            Done::Claimed => tr.t("page-done-claimed"),
            Done::NewsOff => tr.t("page-done-news-off"),
            Done::NewsOn => tr.t("page-done-news-on"),
        }
    }
}

/// What the ticket page says at its top: a change that went through, or why one did not.
enum Notice {
    Done(Done),
    Refused(Reason),
}

/// The ticket page's query: `?done=…`, and the transfer form's fields when the patron went
/// back from its review.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    #[serde(flatten)]
    friend: Friend,
}

async fn render_ticket(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    status: StatusCode,
    notice: Option<Notice>,
    friend: Friend,
) -> Result<HttpResponse, ApiError> {
    let LinkClaims {
        ticket_id,
        generation,
        ..
    } = link.claims;
    let apple_wallet = encore.apple_passes.is_some();
    let google_wallet = encore.google_wallet.is_some();
    let reading = encore.clone();
    let page = run_blocking(move || {
        let page = patron_pages::ticket_page(&reading, ticket_id, generation)?;
        let consent = consent::of_ticket_holder(&reading, ticket_id)?;
        Ok((page, consent.opted_out))
    });
    let (shown, news_off) = match page.await {
        Ok((page, news_off)) => (shown(page), news_off),
        Err(e) => return super::superseded_or(&encore, ticket_id, e).await,
    };
    let tr = shown.tr;
    let refused = matches!(notice, Some(Notice::Refused(_)));
    let notice = notice.map(|notice| match notice {
        Notice::Done(done) => done.message(tr),
        Notice::Refused(reason) => reason.text(tr, &shown.time_zone, &shown.currency),
    });
    let template = TicketTemplate {
        tr,
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
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    record_open(&encore, link.claims.ticket_id, LinkPurpose::View).await;
    let PageQuery { done, friend } = query.into_inner();
    let notice = done.as_deref().and_then(Done::parse).map(Notice::Done);
    render_ticket(encore, link, StatusCode::OK, notice, friend).await
}

/// Runs a change for the page (given the link's ticket id and generation): on success, back to
/// the page with a message — by a fresh link when the change gave the ticket a new generation
/// (the change answers that link's path); when refused or invalid, the page again with the
/// reason in the ticket's language (and a 429's `Retry-After`).
async fn act(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    done: Done,
    typed: Friend,
    change: impl FnOnce(&Encore, TicketId, i32) -> crate::service::Result<Option<String>>
        + Send
        + 'static,
) -> Result<HttpResponse, ApiError> {
    let (acting, claims) = (encore.clone(), link.claims);
    match attempt(move || change(&acting, claims.ticket_id, claims.generation)).await {
        Ok(fresh) => {
            let path = fresh.unwrap_or_else(|| format!("/t/{}", link.token));
            Ok(see_other(format!("{path}?done={}", done.as_str())))
        }
        Err(Refused { api, reason })
            if api.status.is_client_error() && api.status != StatusCode::NOT_FOUND =>
        {
            let notice = Some(Notice::Refused(reason));
            let mut page = render_ticket(encore, link, api.status, notice, typed).await?;
            if let Some(seconds) = api.retry_after {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(page)
        }
        Err(refused) => Err(refused.api),
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
    let done = if opt_out { Done::NewsOff } else { Done::NewsOn };
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
        Done::Offered,
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
    tr: Tr,
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
        let Refused { api, reason } = Refused::from(e);
        let notice = Some(Notice::Refused(reason));
        return render_ticket(encore, link, api.status, notice, typed).await;
    }
    let claims = link.claims;
    let reading = encore.clone();
    let page = run_blocking(move || {
        patron_pages::ticket_page(&reading, claims.ticket_id, claims.generation)
    })
    .await;
    let page = match page {
        Ok(page) => shown(page),
        Err(e) => return super::superseded_or(&encore, claims.ticket_id, e).await,
    };
    Ok(html(
        StatusCode::OK,
        &TransferReview {
            tr: page.tr,
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
        Done::TakenBack,
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
        ExchangeInto::Credit => Done::Exchanged,
        ExchangeInto::Performance(_) => Done::ExchangedInto,
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
    tr: Tr,
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
/// price, the fee, the credit left or missing), before it is done. A performance no longer
/// open to it: the ticket page again, saying so.
pub async fn review_exchange(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
    form: web::Form<ExchangeForm>,
) -> Result<HttpResponse, ApiError> {
    let into = form.choice()?;
    let claims = link.claims;
    let reading = encore.clone();
    let page = run_blocking(move || {
        patron_pages::ticket_page(&reading, claims.ticket_id, claims.generation)
    })
    .await;
    let page = match page {
        Ok(page) => page,
        Err(e) => return super::superseded_or(&encore, claims.ticket_id, e).await,
    };
    let (tr, locale) = (Tr(page.locale), page.locale);
    let money = |minor| locale.money(minor, &page.currency);
    let target = match into {
        ExchangeInto::Credit => None,
        ExchangeInto::Performance(id) => {
            match page.targets.iter().find(|t| t.performance_id == id) {
                Some(target) => Some(target),
                None => {
                    let notice = Notice::Refused(Reason::Rule(Refusal::NotAnExchangeTarget));
                    let status = StatusCode::CONFLICT;
                    return render_ticket(encore, link, status, Some(notice), Friend::default())
                        .await;
                }
            }
        }
    };
    let balance = page.balance_minor.unwrap_or(0);
    let after = page
        .exchange_value
        .credit_after(balance, target.map(|t| t.price_minor));
    Ok(html(
        StatusCode::OK,
        &ExchangeReview {
            tr,
            token: &link.token,
            event_name: &page.event_name,
            starts_at: &at_venue(locale, page.starts_at, &page.time_zone),
            into: target.map(|t| {
                (
                    format!(
                        "{}, {}",
                        t.event_name,
                        at_venue(locale, t.starts_at, &t.time_zone)
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

/// `GET /t/{token}/calendar.ics`: the performance for the patron's calendar.
pub async fn calendar(
    encore: web::Data<Encore>,
    link: SignedLink<View>,
) -> Result<HttpResponse, ApiError> {
    let (claims, token) = (link.claims, link.token);
    let base = encore.settings.public_base_url.clone();
    let reading = encore.clone();
    let ics = run_blocking(move || {
        let link = format!("{base}/t/{token}");
        patron_pages::calendar_file(&reading, claims.ticket_id, claims.generation, &link)
    })
    .await;
    let ics = match ics {
        Ok(ics) => ics,
        Err(e) => return super::superseded_or(&encore, claims.ticket_id, e).await,
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
    let reading = encore.clone();
    let pass = run_blocking(move || {
        crate::service::wallet::apple_pass(&reading, claims.ticket_id, claims.generation)
    })
    .await;
    let pass = match pass {
        Ok(pass) => pass,
        Err(e) => return super::superseded_or(&encore, claims.ticket_id, e).await,
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
    let reading = encore.clone();
    let url = run_blocking(move || {
        crate::service::wallet::google_save_url(&reading, claims.ticket_id, claims.generation)
    })
    .await;
    match url {
        Ok(url) => Ok(private(StatusCode::SEE_OTHER)
            .insert_header((actix_web::http::header::LOCATION, url))
            .finish()),
        Err(e) => super::superseded_or(&encore, claims.ticket_id, e).await,
    }
}

#[derive(Template)]
#[template(path = "pages/claim.html")]
struct ClaimTemplate<'a> {
    tr: Tr,
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

/// Where the friend goes once the offer is theirs: their own ticket page, saying so.
fn claimed(path: &str) -> HttpResponse {
    see_other(format!("{path}?done={}", Done::Claimed.as_str()))
}

/// `GET /claim/{token}`: the friend's page for an offer, in the offered ticket's language.
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
        return Ok(claimed(&path));
    }
    let (tr, locale) = (Tr(page.locale), page.locale);
    let tz = page.time_zone.as_str();
    let open = page.offer == OfferState::Open;
    let notice = match page.offer {
        OfferState::Open => None,
        OfferState::Claimed => Some(tr.t("page-claim-already-claimed")),
        OfferState::TakenBack => Some(tr.t("page-claim-taken-back")),
        OfferState::Expired => Some(tr.t("page-claim-expired")),
    };
    Ok(html(
        if open {
            StatusCode::OK
        } else {
            StatusCode::GONE
        },
        &ClaimTemplate {
            tr,
            token: &link.token,
            starts_at: at_venue(locale, page.starts_at, tz),
            expires_at: at_venue(locale, page.expires_at, tz),
            event_name: page.event_name,
            venue: page.venue,
            from_name: page.from_name,
            to_name: page.to_name,
            seat: page.seat,
            section: page.section,
            open,
            notice,
        },
    ))
}

/// `POST /claim/{token}`: claim the offer; on to the new ticket's own page. A closed offer
/// says why, in the offered ticket's language.
pub async fn claim(
    encore: web::Data<Encore>,
    link: SignedLink<Claim>,
) -> Result<HttpResponse, ApiError> {
    let (acting, claims) = (encore.clone(), link.claims);
    let outcome = attempt(move || {
        let ticket = transfers::claim(&acting, claims.ticket_id, claims.generation)?;
        let (_, performance) = tickets::get(&acting, ticket.id)?;
        tickets::view_link(&acting, "", &ticket, &performance)
    })
    .await;
    match outcome {
        Ok(path) => Ok(claimed(&path)),
        Err(Refused { api, reason }) if api.status == StatusCode::CONFLICT => {
            let voice = super::voice_of(&encore, claims.ticket_id).await?;
            let tr = Tr(voice.locale);
            Ok(super::problem(
                tr,
                StatusCode::CONFLICT,
                &tr.t("page-claim-closed"),
                &reason.text(tr, &voice.time_zone, &voice.currency),
            ))
        }
        Err(refused) => Err(refused.api),
    }
}
