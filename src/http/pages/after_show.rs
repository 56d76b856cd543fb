//! After the show, from the messages the event's rules send: a no-show's one-click credit, and
//! the unsubscribe link every marketing message carries (RFC 8058: a mail client posts
//! `List-Unsubscribe=One-Click` to it; a person clicking it gets a page with a button, so that
//! a link scanner fetching it opts no one out).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::refusals::{attempt, Refused};
use super::{html, problem, superseded_link, voice_of, Purpose, SignedLink};
use crate::domain::event::in_venue_time;
use crate::domain::ids::TicketId;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::i18n::Tr;
use crate::service::{consent, no_show, patron_pages, Encore};
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
    tr: Tr,
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
    tr: Tr,
    credited: String,
    balance: String,
}

/// The refusal of a no-show credit (already given, not offered, too early, too late), as a
/// page in the ticket's language.
async fn refused(
    encore: &web::Data<Encore>,
    ticket_id: TicketId,
    refusal: Refused,
) -> Result<HttpResponse, ApiError> {
    let Refused { api, reason } = refusal;
    if ![StatusCode::CONFLICT, StatusCode::GONE].contains(&api.status) {
        return Err(api);
    }
    let voice = voice_of(encore, ticket_id).await?;
    let tr = Tr(voice.locale);
    if api.status == StatusCode::GONE {
        return Ok(superseded_link(tr));
    }
    Ok(problem(
        tr,
        StatusCode::CONFLICT,
        &tr.t("page-no-show-refused"),
        &reason.text(tr, &voice.time_zone, &voice.currency),
    ))
}

/// `GET /no-show/{token}`: what the unused ticket can become, and a button to do it.
async fn no_show_page(
    encore: web::Data<Encore>,
    link: SignedLink<NoShowCredit>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = link.claims.ticket_id;
    let reading = encore.clone();
    let offer = attempt(move || {
        let voice = patron_pages::voice_of(&reading, ticket_id)?;
        Ok((no_show::offer(&reading, ticket_id)?, voice.locale))
    });
    let (offer, locale) = match offer.await {
        Ok(offer) => offer,
        Err(e) => return refused(&encore, ticket_id, e).await,
    };
    let when = |at| locale.date_time(&in_venue_time(at, &offer.time_zone));
    Ok(html(
        StatusCode::OK,
        &NoShowPage {
            tr: Tr(locale),
            token: &link.token,
            starts_at: when(offer.starts_at),
            deadline: when(offer.deadline),
            amount: locale.money(offer.credit_minor, &offer.currency),
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
    let acting = encore.clone();
    let receipt = attempt(move || {
        let voice = patron_pages::voice_of(&acting, claims.ticket_id)?;
        let receipt = no_show::redeem(&acting, claims.ticket_id, claims.generation)?;
        Ok((receipt, voice.locale))
    });
    match receipt.await {
        Ok((receipt, locale)) => Ok(html(
            StatusCode::OK,
            &NoShowDone {
                tr: Tr(locale),
                credited: locale.money(receipt.credited_minor, &receipt.currency),
                balance: locale.money(receipt.balance_minor, &receipt.currency),
            },
        )),
        Err(e) => refused(&encore, claims.ticket_id, e).await,
    }
}

#[derive(Template)]
#[template(path = "pages/unsubscribe.html")]
struct UnsubscribePage<'a> {
    tr: Tr,
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
    let (now, voice) = run_blocking(move || {
        let voice = patron_pages::voice_of(&encore, ticket_id)?;
        Ok((consent::of_ticket_holder(&encore, ticket_id)?, voice))
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        &UnsubscribePage {
            tr: Tr(voice.locale),
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
    let (now, voice) = run_blocking(move || {
        let voice = patron_pages::voice_of(&encore, ticket_id)?;
        Ok((consent::set(&encore, ticket_id, true)?, voice))
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        &UnsubscribePage {
            tr: Tr(voice.locale),
            token: &link.token,
            email: now.holder_email,
            opted_out: now.opted_out,
        },
    ))
}
