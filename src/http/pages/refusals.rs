//! Why a patron's change did not go through, said in the ticket's language. The services
//! refuse in English (for the API and the box office); a patron page keeps the reason itself
//! (`Reason`) and words it from `locales/*/pages.ftl` once it knows the ticket's language.

use crate::domain::event::in_venue_time;
use crate::domain::policy::{Change, OfferEnd, Refusal};
use crate::domain::{Invalid, TicketStatus};
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::i18n::Tr;
use crate::service;

/// A refused call from a patron page: the answer the API would give (status, code,
/// `Retry-After`), and the reason to put into words.
pub struct Refused {
    pub api: ApiError,
    pub reason: Reason,
}

/// A refusal's reason, with what its sentence needs.
pub enum Reason {
    /// A rule of the ticket's event or state.
    Rule(Refusal),
    /// A field of the transfer form that does not parse.
    Invalid(Invalid),
    /// The ticket page made too many offers lately.
    TooManyOffers { minutes: i64 },
    /// Anything else, in the service's own (English) words.
    Said(String),
}

impl From<service::Error> for Refused {
    fn from(error: service::Error) -> Self {
        let reason = match &error {
            service::Error::Refused(refusal) => Reason::Rule(refusal.clone()),
            service::Error::Invalid(invalid) => Reason::Invalid(invalid.clone()),
            service::Error::TooManyOffers { retry_after } => Reason::TooManyOffers {
                // Whole minutes, rounded up, as the API's message says it.
                minutes: ((retry_after.num_seconds() + 59) / 60).max(1),
            },
            other => Reason::Said(other.to_string()),
        };
        let api = ApiError::from(error);
        Refused { api, reason }
    }
}

/// Runs a blocking service call for a patron page, keeping a refusal's reason.
pub async fn attempt<T: Send + 'static>(
    call: impl FnOnce() -> service::Result<T> + Send + 'static,
) -> Result<T, Refused> {
    match run_blocking(move || Ok(call())).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(refused)) => Err(Refused::from(refused)),
        Err(api) => Err(Refused {
            reason: Reason::Said(api.message.clone()),
            api,
        }),
    }
}

impl Reason {
    /// The reason in `tr`'s language; times at the venue (`time_zone`), money in the ticket's
    /// `currency`.
    pub fn text(&self, tr: Tr, time_zone: &str, currency: &str) -> String {
        match self {
            Reason::Rule(refusal) => refusal_text(tr, refusal, time_zone, currency),
            Reason::Invalid(invalid) if invalid.field == "email" => {
                tr.t1("page-invalid-email", "reason", invalid.reason.as_str())
            }
            Reason::Invalid(invalid) if invalid.field == "name" => {
                tr.t1("page-invalid-name", "reason", invalid.reason.as_str())
            }
            Reason::Invalid(invalid) => invalid.to_string(),
            Reason::TooManyOffers { minutes } => {
                tr.t1("page-refused-too-many-offers", "minutes", *minutes)
            }
            Reason::Said(words) => words.clone(),
        }
    }
}

/// Why a change cannot be made, in `tr`'s language.
pub fn refusal_text(tr: Tr, refusal: &Refusal, time_zone: &str, currency: &str) -> String {
    match refusal {
        Refusal::NotAllowed(Change::Exchange) => tr.t("page-refused-exchange-not-allowed"),
        Refusal::NotAllowed(Change::Transfer) => tr.t("page-refused-transfer-not-allowed"),
        Refusal::PastCutoff { closed_at, minutes } => tr.t2(
            "page-refused-past-cutoff",
            "when",
            tr.locale().date_time(&in_venue_time(*closed_at, time_zone)),
            "minutes",
            *minutes,
        ),
        Refusal::NotValid(status) => {
            tr.t1("page-refused-not-valid", "status", status_word(*status))
        }
        Refusal::AlreadyAdmitted => tr.t("page-refused-already-admitted"),
        Refusal::AlreadyCanceled => tr.t("page-refused-already-canceled"),
        Refusal::OfferPending(name) => tr.t1("page-refused-offer-pending", "name", name),
        Refusal::TransferToSelf => tr.t("page-refused-transfer-to-self"),
        Refusal::NoOpenOffer => tr.t("page-refused-no-open-offer"),
        Refusal::OfferClosed(end) => tr.t1("page-refused-offer-closed", "how", closed_how(*end)),
        Refusal::NotAnExchangeTarget => tr.t("page-refused-not-a-target"),
        Refusal::TargetSoldOut => tr.t("page-refused-sold-out"),
        Refusal::TargetCanceled => tr.t("page-refused-target-canceled"),
        Refusal::TargetUnpriced => tr.t("page-refused-target-unpriced"),
        Refusal::CurrencyMismatch { ticket, target } => tr.t2(
            "page-refused-currency-mismatch",
            "ticket",
            ticket,
            "target",
            target,
        ),
        Refusal::InsufficientCredit { needed } => tr.t1(
            "page-refused-insufficient-credit",
            "amount",
            tr.money(*needed, currency),
        ),
        Refusal::NoShowCreditNotOffered => tr.t("page-refused-no-show-not-offered"),
        Refusal::NoShowCreditTooEarly => tr.t("page-refused-no-show-too-early"),
        Refusal::NoShowCreditExpired => tr.t("page-refused-no-show-expired"),
        Refusal::NoShowCreditGiven => tr.t("page-refused-no-show-given"),
    }
}

/// The selector `page-refused-not-valid` chooses its words by.
fn status_word(status: TicketStatus) -> &'static str {
    status.as_str()
}

/// The selector `page-refused-offer-closed` chooses its words by, from the service's words.
/// The selector of `page-refused-offer-closed`.
fn closed_how(end: OfferEnd) -> &'static str {
    match end {
        OfferEnd::Claimed => "claimed",
        OfferEnd::Canceled => "canceled",
        OfferEnd::Expired => "expired",
        OfferEnd::Resolved => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::locale::Locale;

    /// Each refusal has its own sentence in each language, with its values in it: no blank,
    /// no English where German is asked for.
    #[test]
    fn refusals_are_said_in_the_tickets_language() {
        let (en, de) = (Tr(Locale::En), Tr(Locale::De));
        let said = |tr, refusal: Refusal| refusal_text(tr, &refusal, "Europe/Berlin", "EUR");
        assert_eq!(
            said(de, Refusal::NotValid(TicketStatus::Exchanged)),
            "Diese Karte wurde bereits umgetauscht und kann nicht mehr geändert werden."
        );
        assert_eq!(
            said(en, Refusal::NotValid(TicketStatus::Canceled)),
            "This ticket is canceled and can no longer be changed."
        );
        assert_eq!(
            said(de, Refusal::InsufficientCredit { needed: 1550 }),
            "Die neue Karte kostet 15,50 EUR mehr als der Wert Ihrer Karte und Ihr Guthaben zusammen."
        );
        let cutoff = Refusal::PastCutoff {
            closed_at: "2026-12-18T16:30:00Z".parse().unwrap(),
            minutes: 120,
        };
        assert_eq!(
            said(de, cutoff),
            "Änderungen waren bis Freitag, 18. Dezember 2026, 17:30 CET möglich, 120 Minuten vor Vorstellungsbeginn."
        );
        // Each way an offer ends has its sentence in each language; the English one is the
        // API's.
        for (end, german) in [
            (OfferEnd::Claimed, "bereits angenommen"),
            (OfferEnd::Canceled, "vom Absender zurückgenommen"),
            (OfferEnd::Expired, "abgelaufen"),
            (OfferEnd::Resolved, "bereits erledigt"),
        ] {
            let text = said(de, Refusal::OfferClosed(end));
            assert!(text.contains(german), "{end:?}: {text}");
            assert_eq!(
                said(en, Refusal::OfferClosed(end)),
                Refusal::OfferClosed(end).to_string()
            );
        }
        let wait = Reason::TooManyOffers { minutes: 1 };
        assert!(wait
            .text(de, "UTC", "EUR")
            .contains("in einer Minute erneut"));
        assert!(wait
            .text(en, "UTC", "EUR")
            .ends_with("try again in 1 minute."));
    }
}
