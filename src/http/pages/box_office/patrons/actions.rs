//! The patron page's actions on a ticket, each a protected form posted to
//! `/box-office/patrons/{email}/tickets/{id}/…`: exchange, transfer, cancel, and sending a
//! failed email or the confirmation again. Each calls the service the JSON API calls, so the rules are the API's;
//! done, it sends the browser back to the patron page (303) with a notice; refused, it shows
//! the patron page again with the API's code and message, under the API's status.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{patron_path, render};
use crate::domain::ids::{EmailId, PerformanceId, TicketId};
use crate::domain::{EmailAddress, Invalid};
use crate::http::error::ApiError;
use crate::http::pages::box_office::{call, problem, ProtectedForm};
use crate::http::pages::see_other;
use crate::service::cancellations::{self, Reason};
use crate::service::exchanges::{self, ExchangeInto};
use crate::service::idempotency::Reply;
use crate::service::{outbox, transfers, Encore};

/// What the console keeps of a change's answer: nothing (the page is read again).
fn nothing<T>(_: T) {}

fn reply<T>() -> Reply<T, ()> {
    Reply {
        status: 200,
        view: nothing::<T>,
    }
}

/// The patron and the ticket the form was posted for; `None` when the path names neither.
fn target(req: &HttpRequest) -> Option<(EmailAddress, TicketId)> {
    let email = super::email_in_path(req)?;
    let ticket = req.match_info().get("ticket")?.parse().ok()?;
    Some((email, TicketId(ticket)))
}

fn no_such_ticket() -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        "No such ticket",
        "That page does not name a patron's ticket. Find the patron again.",
    )
}

/// Back to the patron page with the notice `done`, or the page again with the refusal.
async fn answer<T>(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    email: EmailAddress,
    ticket: TicketId,
    outcome: Result<T, ApiError>,
    done: &str,
) -> HttpResponse {
    match outcome {
        Ok(_) => see_other(format!(
            "{}?done={done}&ticket={ticket}",
            patron_path(email.as_str())
        )),
        Err(refused) => {
            render(
                &form.session,
                encore,
                email,
                refused.status,
                None,
                Some((Some(ticket.0), refused)),
            )
            .await
        }
    }
}

/// `POST …/tickets/{id}/exchange`: `into` is `credit` or a performance's id.
pub async fn exchange(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let Some((email, ticket)) = target(&req) else {
        return no_such_ticket();
    };
    let into = match form.fields.get("into") {
        "credit" => Ok(ExchangeInto::Credit),
        other => other
            .parse()
            .map(|id| ExchangeInto::Performance(PerformanceId(id)))
            .map_err(|_| {
                ApiError::from(Invalid::new(
                    "into",
                    "choose credit or a performance to exchange into",
                ))
            }),
    };
    let done = match into {
        Ok(ExchangeInto::Performance(_)) => "exchanged-performance",
        _ => "exchanged-credit",
    };
    let outcome = match into {
        Ok(into) => {
            let (encore, by) = (encore.clone(), form.session.actor());
            call(move || {
                exchanges::exchange_at_box_office(&encore, None, ticket, into, &by, reply())
            })
            .await
        }
        Err(invalid) => Err(invalid),
    };
    answer(form, encore, email, ticket, outcome, done).await
}

/// `POST …/tickets/{id}/transfer`: the friend's `name` and `email`.
pub async fn transfer(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let Some((email, ticket)) = target(&req) else {
        return no_such_ticket();
    };
    let outcome = match transfers::Friend::parse(form.fields.get("name"), form.fields.get("email"))
    {
        Ok(friend) => {
            let (encore, by) = (encore.clone(), form.session.actor());
            call(move || {
                transfers::offer_at_box_office(&encore, None, ticket, &friend, &by, reply())
            })
            .await
        }
        Err(invalid) => Err(ApiError::from(invalid)),
    };
    answer(form, encore, email, ticket, outcome, "transferred").await
}

/// `POST …/tickets/{id}/cancel`: a `reason`, and `refund` (`credit` or `none`).
pub async fn cancel(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let Some((email, ticket)) = target(&req) else {
        return no_such_ticket();
    };
    let refund = match form.fields.get("refund") {
        "credit" => Ok(true),
        "none" => Ok(false),
        _ => Err(Invalid::new(
            "refund",
            "choose whether to refund the price to credit",
        )),
    };
    let parsed = Reason::parse(form.fields.get("reason")).and_then(|r| Ok((r, refund?)));
    let outcome = match parsed {
        Ok((reason, refund)) => {
            let (encore, by) = (encore.clone(), form.session.actor());
            call(move || {
                cancellations::cancel_ticket(&encore, None, ticket, &reason, refund, &by, reply())
            })
            .await
        }
        Err(invalid) => Err(ApiError::from(invalid)),
    };
    answer(form, encore, email, ticket, outcome, "canceled").await
}

/// `POST …/tickets/{id}/confirmation/resend`: the ticket's confirmation sent again to its
/// holder (the patron says it never came).
pub async fn resend_confirmation(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let Some((email, ticket)) = target(&req) else {
        return no_such_ticket();
    };
    let outcome = {
        let (encore, by) = (encore.clone(), form.session.actor());
        call(move || outbox::resend_confirmation(&encore, ticket, &by).map(nothing)).await
    };
    answer(form, encore, email, ticket, outcome, "confirmation-resent").await
}

/// `POST …/tickets/{id}/emails/{email_id}/resend`: a failed email back in line.
pub async fn resend(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    req: HttpRequest,
) -> HttpResponse {
    let Some((email, ticket)) = target(&req) else {
        return no_such_ticket();
    };
    let Some(email_id) = req
        .match_info()
        .get("email_id")
        .and_then(|id| id.parse().ok())
    else {
        return no_such_ticket();
    };
    let outcome = {
        let encore = encore.clone();
        call(move || outbox::resend(&encore, ticket, EmailId(email_id))).await
    };
    answer(form, encore, email, ticket, outcome, "resent").await
}
