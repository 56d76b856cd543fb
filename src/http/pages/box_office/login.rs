//! Sign in (`GET`/`POST /box-office/login`) and sign out (`POST /box-office/logout`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{
    cross_site, page, problem, see_other_with_cookie, session_cookie, unavailable, Fields,
    ProtectedForm,
};
use crate::service::accounts::{self, SignInError};
use crate::service::Encore;

#[derive(Template)]
#[template(path = "box_office/login.html")]
struct LoginPage<'a> {
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

/// `GET /box-office/login`.
pub async fn form(req: HttpRequest) -> HttpResponse {
    let notice =
        (req.query_string() == "password=set").then_some("Your password is set. Sign in with it.");
    page(
        StatusCode::OK,
        &LoginPage {
            notice,
            error: None,
        },
    )
}

/// `POST /box-office/login` with `email` and `password`: a session cookie and the Today page,
/// or the form again. An unknown email and a wrong password get the same answer.
pub async fn submit(req: HttpRequest, encore: web::Data<Encore>, body: web::Bytes) -> HttpResponse {
    if cross_site(&req) {
        return problem(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Sign in from the console's own page.",
        );
    }
    let fields = Fields::parse(&body);
    let email = fields.get("email").to_string();
    let password = fields.get("password").to_string();
    let address = crate::http::client::address(&req, &encore.settings.trusted_proxies)
        .map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let service = encore.clone();
    let outcome =
        web::block(move || accounts::sign_in(&service, &email, &password, &address)).await;
    match outcome {
        Ok(Ok(signed_in)) => {
            tracing::info!(staff = %signed_in.account.id, "staff signed in");
            see_other_with_cookie(
                "/box-office/",
                session_cookie(&encore, Some(&signed_in.token)),
            )
        }
        Ok(Err(SignInError::Refused)) => page(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                notice: None,
                error: Some("That email and password do not match an account."),
            },
        ),
        Ok(Err(SignInError::Throttled { retry_after })) => {
            let seconds = retry_after.num_seconds().max(1);
            let minutes = (seconds + 59) / 60;
            let message = format!(
                "Too many failed sign-ins from here or for this account. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                &LoginPage {
                    notice: None,
                    error: Some(&message),
                },
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(seconds as u64),
            );
            response
        }
        Ok(Err(SignInError::Service(e))) => {
            tracing::error!(error = %e, "sign-in failed");
            unavailable()
        }
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            unavailable()
        }
    }
}

/// `POST /box-office/logout` (CSRF-checked): the session ends on the server and the cookie is
/// cleared.
pub async fn logout(form: ProtectedForm, encore: web::Data<Encore>) -> HttpResponse {
    let token = form.session.token.clone();
    let service = encore.clone();
    match super::blocking(move || accounts::sign_out(&service, &token)).await {
        Ok(_) => see_other_with_cookie("/box-office/login", session_cookie(&encore, None)),
        Err(response) => response,
    }
}
