//! The one-time set-password link (`/box-office/password/{token}`), printed by `encore staff
//! create` for an account made without a password. It works once, for 24 hours.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{blocking, cross_site, page, problem, Fields};
use crate::domain::staff::Password;
use crate::service::{accounts, Encore};

#[derive(Template)]
#[template(path = "box_office/password.html")]
struct PasswordPage<'a> {
    email: &'a str,
    error: Option<&'a str>,
    min_chars: usize,
}

fn dead_link() -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        "This link does not work",
        "It may have been used already, or expired. Ask an admin for a new one.",
    )
}

/// `GET /box-office/password/{token}`: the form, while the link works.
pub async fn form(encore: web::Data<Encore>, token: web::Path<String>) -> HttpResponse {
    let token = token.into_inner();
    match blocking(move || accounts::password_link(&encore, &token)).await {
        Ok(Some(account)) => page(
            StatusCode::OK,
            &PasswordPage {
                email: &account.email,
                error: None,
                min_chars: Password::MIN_CHARS,
            },
        ),
        Ok(None) => dead_link(),
        Err(response) => response,
    }
}

/// `POST /box-office/password/{token}` with `password` and `confirm`: sets the password and
/// uses the link up.
pub async fn submit(
    req: HttpRequest,
    encore: web::Data<Encore>,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if cross_site(&req) {
        return problem(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Set your password from the link's own page.",
        );
    }
    let token = token.into_inner();
    let fields = Fields::parse(&body);
    let again = |encore: web::Data<Encore>, token: String, error: String| async move {
        match blocking(move || accounts::password_link(&encore, &token)).await {
            Ok(Some(account)) => page(
                StatusCode::BAD_REQUEST,
                &PasswordPage {
                    email: &account.email,
                    error: Some(&error),
                    min_chars: Password::MIN_CHARS,
                },
            ),
            Ok(None) => dead_link(),
            Err(response) => response,
        }
    };
    if fields.get("password") != fields.get("confirm") {
        return again(encore, token, "The two passwords are not the same.".into()).await;
    }
    let password = match Password::parse(fields.get("password")) {
        Ok(password) => password,
        Err(invalid) => {
            return again(encore, token, format!("The password {}.", invalid.reason)).await
        }
    };
    match blocking(move || accounts::set_password_with_link(&encore, &token, &password)).await {
        Ok(Some(_)) => super::super::see_other("/box-office/login?password=set".into()),
        Ok(None) => dead_link(),
        Err(response) => response,
    }
}
