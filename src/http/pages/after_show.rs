//! After the show, from the messages the event's rules send: a no-show's one-click credit, and
//! the unsubscribe link every marketing message carries (RFC 8058: a mail client posts
//! `List-Unsubscribe=One-Click` to it; a person clicking it gets a page with a button, so that
//! a link scanner fetching it opts no one out).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{html, problem, Purpose, SignedLink};
use crate::domain::event::venue_time_text;
use crate::domain::money::format_money;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{consent, no_show, Encore};
use crate::tokens::LinkPurpose;

pub struct NoShowCredit;
impl Purpose for NoShowCredit {
    const PURPOSE: LinkPurpose = LinkPurpose::NoShowCredit;
}

pub struct Unsubscribe;
impl Purpose for Unsubscribe {
    const PURPOSE: LinkPurpose = LinkPurpose::Unsubscribe;
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/no-show/{token}", web::get().to(no_show_page))
        .route("/no-show/{token}", web::post().to(take_credit))
        .route("/unsubscribe/{token}", web::get().to(unsubscribe_page))
        .route("/unsubscribe/{token}", web::post().to(unsubscribe));
}

#[derive(Template)]
#[template(path = "pages/no_show.html")]
struct NoShowPage<'a> {
    token: &'a str,
    holder_name: String,
    event_name: String,
    starts_at: String,
    amount: String,
    deadline: String,
}

#[derive(Template)]
#[template(path = "pages/no_show_done.html")]
struct NoShowDone {
    credited: String,
    balance: String,
}

/// The refusal of a no-show credit (already given, not offered, too early, too late), as a page.
fn refused(e: ApiError) -> Result<HttpResponse, ApiError> {
    match e.status {
        StatusCode::CONFLICT => Ok(problem(
            StatusCode::CONFLICT,
            "No credit for this ticket",
            &e.message,
        )),
        StatusCode::GONE => Ok(super::superseded_link()),
        _ => Err(e),
    }
}

/// `GET /no-show/{token}`: what the unused ticket can become, and a button to do it.
async fn no_show_page(
    encore: web::Data<Encore>,
    link: SignedLink<NoShowCredit>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = link.claims.ticket_id;
    let offer = match run_blocking(move || no_show::offer(&encore, ticket_id)).await {
        Ok(offer) => offer,
        Err(e) => return refused(e),
    };
    let tz = offer.time_zone.as_str();
    Ok(html(
        StatusCode::OK,
        &NoShowPage {
            token: &link.token,
            starts_at: venue_time_text(offer.starts_at, tz),
            deadline: venue_time_text(offer.deadline, tz),
            amount: format_money(offer.credit_minor, &offer.currency),
            holder_name: offer.holder_name,
            event_name: offer.event_name,
        },
    ))
}

/// `POST /no-show/{token}`: turns the ticket into credit, once.
async fn take_credit(
    encore: web::Data<Encore>,
    link: SignedLink<NoShowCredit>,
) -> Result<HttpResponse, ApiError> {
    let claims = link.claims;
    let receipt =
        run_blocking(move || no_show::redeem(&encore, claims.ticket_id, claims.generation)).await;
    match receipt {
        Ok(receipt) => Ok(html(
            StatusCode::OK,
            &NoShowDone {
                credited: format_money(receipt.credited_minor, &receipt.currency),
                balance: format_money(receipt.balance_minor, &receipt.currency),
            },
        )),
        Err(e) => refused(e),
    }
}

#[derive(Template)]
#[template(path = "pages/unsubscribe.html")]
struct UnsubscribePage<'a> {
    token: &'a str,
    email: String,
    opted_out: bool,
}

/// `GET /unsubscribe/{token}`: whose news this is, and the button (nothing changes on a GET).
async fn unsubscribe_page(
    encore: web::Data<Encore>,
    link: SignedLink<Unsubscribe>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = link.claims.ticket_id;
    let now = run_blocking(move || consent::of_ticket_holder(&encore, ticket_id)).await?;
    Ok(html(
        StatusCode::OK,
        &UnsubscribePage {
            token: &link.token,
            email: now.holder_email,
            opted_out: now.opted_out,
        },
    ))
}

/// `POST /unsubscribe/{token}`: opts the holder out of marketing email at once, whether a mail
/// client posted `List-Unsubscribe=One-Click` or the patron pressed the page's button.
async fn unsubscribe(
    encore: web::Data<Encore>,
    link: SignedLink<Unsubscribe>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = link.claims.ticket_id;
    let now = run_blocking(move || consent::set(&encore, ticket_id, true)).await?;
    Ok(html(
        StatusCode::OK,
        &UnsubscribePage {
            token: &link.token,
            email: now.holder_email,
            opted_out: now.opted_out,
        },
    ))
}
