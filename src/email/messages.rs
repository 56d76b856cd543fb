//! Composing emails from `templates/email`: a plain-text and an HTML part for every message
//! (names and event details escaped in HTML by the template engine), the QR code as an inline
//! image on the confirmation, and a calendar file on the first reminder.

use std::sync::Arc;

use askama::Template;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, Component, EventLike};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use serde::Serialize;

use crate::domain::cancellation::CancellationNotice;
use crate::domain::consent::ONE_CLICK_BODY;
use crate::domain::event::in_venue_time;
use crate::domain::event::{Event, Performance};
use crate::domain::offer::Offer;
use crate::domain::outbox::EmailKind;
use crate::domain::receipt::Receipt;
use crate::domain::ticket::Ticket;
use crate::domain::venue::mailto_uri;
use crate::email::overrides::{OverrideError, Overrides};
use crate::i18n::{Arg, Tr};

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("address {0:?}: {1}")]
    Address(String, lettre::address::AddressError),
    #[error("the operator's template: {0}")]
    Override(String),
}

/// A ticket with what an email about it needs to say.
pub struct TicketFacts<'a> {
    pub ticket: &'a Ticket,
    pub performance: &'a Performance,
    pub event: &'a Event,
    /// The patron's signed link to their ticket page.
    pub link: &'a str,
    /// Where the ticket downloads as an Apple Wallet pass, when the operator signs passes.
    pub apple_wallet_link: Option<&'a str>,
}

/// The facts as the templates show them: times in the venue's time zone, money formatted.
#[derive(Serialize)]
struct Shown<'a> {
    holder_name: &'a str,
    event_name: &'a str,
    venue: &'a str,
    starts_at: String,
    doors_open_at: String,
    seat: Option<&'a str>,
    section: Option<&'a str>,
    price: String,
    link: &'a str,
    apple_wallet_link: Option<&'a str>,
    /// The rotation period when the event's codes rotate: the email then carries no QR (a
    /// static code is refused at that door) and sends the patron to the ticket page.
    rotating_seconds: Option<u32>,
    /// The venue's address on one line, with its map link, when the event sets one.
    address: Option<(String, String)>,
    /// Whom to ask for help, when the event says: the phone (as shown, its `tel:` link) and
    /// the email (as shown, its `mailto:` link).
    help_phone: Option<(&'a str, String)>,
    help_email: Option<(&'a str, String)>,
}

impl<'a> Shown<'a> {
    fn from(facts: &TicketFacts<'a>) -> Self {
        let ticket = facts.ticket;
        let locale = ticket.locale;
        let local = |t: DateTime<Utc>| locale.date_time(&in_venue_time(t, &facts.event.time_zone));
        Shown {
            holder_name: &ticket.holder_name,
            event_name: &facts.event.name,
            venue: &facts.event.venue,
            starts_at: local(facts.performance.starts_at()),
            doors_open_at: local(facts.performance.doors_open_at()),
            seat: ticket.seat.as_deref(),
            section: ticket.section.as_deref(),
            price: locale.money(ticket.price.minor, ticket.price.currency.as_str()),
            link: facts.link,
            apple_wallet_link: facts.apple_wallet_link,
            rotating_seconds: facts
                .event
                .barcode
                .is_rotating()
                .then(|| facts.event.barcode.period_seconds()),
            address: facts
                .event
                .venue_details
                .address
                .as_ref()
                .map(|a| (a.one_line(), a.map_url())),
            help_phone: facts
                .event
                .venue_details
                .help_phone
                .as_ref()
                .map(|p| (p.as_str(), p.tel_uri())),
            help_email: facts
                .event
                .venue_details
                .help_email
                .as_ref()
                .map(|e| (e.as_str(), mailto_uri(e))),
        }
    }
}

#[derive(Template, Serialize)]
#[template(path = "email/confirmation.txt")]
struct ConfirmationText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
}

#[derive(Template, Serialize)]
#[template(path = "email/confirmation.html")]
struct ConfirmationHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
}

#[derive(Template, Serialize)]
#[template(path = "email/reminder.txt")]
struct ReminderText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    when: &'a str,
}

#[derive(Template, Serialize)]
#[template(path = "email/reminder.html")]
struct ReminderHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    when: &'a str,
}

#[derive(Template, Serialize)]
#[template(path = "email/transfer_offer.txt")]
struct OfferText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    from_name: &'a str,
    to_name: &'a str,
    claim_link: &'a str,
    expires_at: &'a str,
}

#[derive(Template, Serialize)]
#[template(path = "email/transfer_offer.html")]
struct OfferHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    from_name: &'a str,
    to_name: &'a str,
    claim_link: &'a str,
    expires_at: &'a str,
}

/// An exchange receipt as the templates show it: amounts formatted.
#[derive(Serialize)]
struct ShownReceipt {
    price: String,
    fee: String,
    credited: String,
    spent: String,
    balance: String,
    new_ticket: bool,
    /// An unused ticket turned into credit after the show, not an exchange.
    no_show: bool,
    /// What the ticket became: "a ticket for Hamlet, Fri 18 Dec 2026, 19:30", or "… of
    /// stored credit".
    became: String,
}

#[derive(Template, Serialize)]
#[template(path = "email/exchange_receipt.txt")]
struct ReceiptText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    r: &'a ShownReceipt,
}

#[derive(Template, Serialize)]
#[template(path = "email/exchange_receipt.html")]
struct ReceiptHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    r: &'a ShownReceipt,
}

/// A cancellation as the templates show it.
#[derive(Serialize)]
struct ShownCancellation<'a> {
    reason: &'a str,
    performance_canceled: bool,
    tickets: usize,
    /// "45.00 EUR", one per currency credited.
    refunds: Vec<String>,
}

#[derive(Template, Serialize)]
#[template(path = "email/cancellation.txt")]
struct CancellationText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    c: &'a ShownCancellation<'a>,
}

#[derive(Template, Serialize)]
#[template(path = "email/cancellation.html")]
struct CancellationHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    c: &'a ShownCancellation<'a>,
}

#[derive(Template, Serialize)]
#[template(path = "email/lobby.txt")]
struct LobbyText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    message: &'a str,
}

#[derive(Template, Serialize)]
#[template(path = "email/lobby.html")]
struct LobbyHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    message: &'a str,
}

/// What an event's message rule says to one holder, filled in, with what the worker adds.
#[derive(Serialize)]
pub struct RuleMessageParts<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    /// To a no-show, when the event offers it: the credit and the one-click link.
    pub credit_offer: Option<CreditOffer<'a>>,
    /// After the show, to those who came: what to see next.
    pub suggestions: &'a [Suggestion],
    /// On marketing messages: the signed link that opts the holder out.
    pub unsubscribe_link: Option<&'a str>,
}

/// A no-show's offer: this much credit, from this link, until then.
#[derive(Serialize)]
pub struct CreditOffer<'a> {
    pub amount: String,
    pub link: &'a str,
    pub deadline: String,
}

/// An upcoming performance suggested to a patron, as the email shows it.
#[derive(Serialize)]
pub struct Suggestion {
    pub event_name: String,
    pub starts_at: String,
    pub venue: String,
}

#[derive(Template, Serialize)]
#[template(path = "email/rule_message.txt")]
struct RuleMessageText<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    m: &'a RuleMessageParts<'a>,
}

#[derive(Template, Serialize)]
#[template(path = "email/rule_message.html")]
struct RuleMessageHtml<'a> {
    #[serde(skip)]
    tr: Tr,
    t: &'a Shown<'a>,
    m: &'a RuleMessageParts<'a>,
}

/// "tomorrow", "in 2 hours", "in 25 minutes": how far the show is, as a reminder says it —
/// from the time actually left when the email is written, so a late email never misleads.
pub fn lead_time(tr: Tr, minutes_left: i64) -> String {
    let rounded = |n: i64, unit: i64| (n + unit / 2) / unit;
    match minutes_left {
        m if m < 5 => tr.t("email-lead-now"),
        m if m < 90 => tr.t1("email-lead-minutes", "count", rounded(m, 5) * 5),
        m if m < 20 * 60 => tr.t1("email-lead-hours", "count", rounded(m, 60)),
        m if m < 36 * 60 => tr.t("email-lead-tomorrow"),
        m => tr.t1("email-lead-days", "count", rounded(m, 1440)),
    }
}

/// Builds messages with one From address, from the built-in templates or the operator's own.
#[derive(Clone)]
pub struct Composer {
    from: Mailbox,
    overrides: Option<Arc<Overrides>>,
}

impl Composer {
    pub fn new(from: &str) -> Result<Self, ComposeError> {
        Ok(Composer {
            from: from
                .parse()
                .map_err(|e| ComposeError::Address(from.into(), e))?,
            overrides: None,
        })
    }

    /// Uses the operator's templates from `dir` where it has them (checked now: see
    /// [`Overrides::load`]).
    pub fn with_overrides(mut self, dir: &std::path::Path) -> Result<Self, OverrideError> {
        self.overrides = Some(Arc::new(Overrides::load(dir)?));
        Ok(self)
    }

    /// One part of a message: the operator's file for it, or the built-in template.
    fn part<T: Template + Serialize>(
        &self,
        (kind, tr): (EmailKind, Tr),
        part: &str,
        template: &T,
    ) -> Result<String, ComposeError> {
        let operators =
            (self.overrides.as_ref()).and_then(|o| o.render(kind, tr.0, part, template));
        match operators {
            Some(rendered) => rendered.map_err(|e| ComposeError::Override(e.to_string())),
            None => Ok(template.render()?),
        }
    }

    /// The subject: the operator's `{kind}.subject.txt` (rendered with the text part's values,
    /// on one line), or the built-in one.
    fn subject(
        &self,
        (kind, tr): (EmailKind, Tr),
        built_in: impl FnOnce() -> String,
        values: &impl Serialize,
    ) -> Result<String, ComposeError> {
        let operators =
            (self.overrides.as_ref()).and_then(|o| o.render(kind, tr.0, "subject.txt", values));
        match operators {
            Some(rendered) => rendered
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .map_err(|e| ComposeError::Override(e.to_string())),
            None => Ok(built_in()),
        }
    }

    /// The domain of the From address, for Message-IDs.
    pub fn domain(&self) -> String {
        self.from.email.domain().to_string()
    }

    fn envelope(
        &self,
        to: &str,
        subject: String,
        message_id: &str,
    ) -> Result<lettre::message::MessageBuilder, ComposeError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| ComposeError::Address(to.into(), e))?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.to_string())))
    }

    /// "Your ticket": both parts, and the QR as an inline image the HTML shows (cid:qr).
    /// The ticket, with its QR image inline (`qr_png`); without one when the event's codes
    /// rotate (the page shows the code, see `Shown::rotating_seconds`).
    pub fn confirmation(
        &self,
        facts: &TicketFacts<'_>,
        qr_png: Option<Vec<u8>>,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let kind = EmailKind::Confirmation;
        let text = self.part((kind, tr), "txt", &ConfirmationText { tr, t: &shown })?;
        let html = self.part((kind, tr), "html", &ConfirmationHtml { tr, t: &shown })?;
        let plain = MultiPart::alternative().singlepart(SinglePart::plain(text));
        let body = match qr_png {
            Some(png) => {
                let qr = Attachment::new_inline("qr".into())
                    .body(png, ContentType::parse("image/png").expect("a valid type"));
                plain.multipart(
                    MultiPart::related()
                        .singlepart(SinglePart::html(html))
                        .singlepart(qr),
                )
            }
            None => plain.singlepart(SinglePart::html(html)),
        };
        let subject = self.subject(
            (kind, tr),
            || {
                tr.t2(
                    "email-confirmation-subject",
                    "event",
                    &facts.event.name,
                    "date",
                    short_date(facts),
                )
            },
            &ConfirmationText { tr, t: &shown },
        )?;
        Ok(self
            .envelope(&facts.ticket.holder_email, subject, message_id)?
            .multipart(body)?)
    }

    /// "See you soon": both parts, and on the first reminder an .ics calendar file.
    pub fn reminder(
        &self,
        facts: &TicketFacts<'_>,
        with_calendar: bool,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let when = lead_time(
            tr,
            (facts.performance.starts_at() - Utc::now()).num_minutes(),
        );
        let kind = EmailKind::Reminder;
        let values = ReminderText {
            tr,
            t: &shown,
            when: &when,
        };
        let text = self.part((kind, tr), "txt", &values)?;
        let html = self.part(
            (kind, tr),
            "html",
            &ReminderHtml {
                tr,
                t: &shown,
                when: &when,
            },
        )?;
        let parts = MultiPart::alternative_plain_html(text, html);
        let subject = self.subject(
            (kind, tr),
            || {
                let args: [(&'static str, &dyn Arg); 3] = [
                    ("event", &facts.event.name),
                    ("lead", &when),
                    ("time", &short_time(facts)),
                ];
                tr.with("email-reminder-subject", &args)
            },
            &values,
        )?;
        let envelope = self.envelope(&facts.ticket.holder_email, subject, message_id)?;
        if !with_calendar {
            return Ok(envelope.multipart(parts)?);
        }
        let ics = Attachment::new("performance.ics".into()).body(
            calendar(facts),
            ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                .expect("a valid type"),
        );
        Ok(envelope.multipart(MultiPart::mixed().multipart(parts).singlepart(ics))?)
    }
}

impl Composer {
    /// To the friend: who offers which ticket, and the link to claim it.
    pub fn transfer_offer(
        &self,
        facts: &TicketFacts<'_>,
        offer: &Offer,
        claim_link: &str,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let expires_at = (facts.ticket.locale)
            .date_time(&in_venue_time(offer.expires_at, &facts.event.time_zone));
        let offer_text = OfferText {
            tr,
            t: &shown,
            from_name: &offer.from.name,
            to_name: &offer.to.name,
            claim_link,
            expires_at: &expires_at,
        };
        let kind = EmailKind::TransferOffer;
        let text = self.part((kind, tr), "txt", &offer_text)?;
        let html = self.part(
            (kind, tr),
            "html",
            &OfferHtml {
                tr,
                t: &shown,
                from_name: &offer.from.name,
                to_name: &offer.to.name,
                claim_link,
                expires_at: &expires_at,
            },
        )?;
        // No patron's name in the subject: a holder's name can be one a friend typed when the
        // ticket was offered to them, and a subject is what a recipient reads before anything
        // else. The names are in the body, beside the event's.
        let subject = self.subject(
            (kind, tr),
            || tr.t1("email-offer-subject", "event", &facts.event.name),
            &offer_text,
        )?;
        Ok(self
            .envelope(&offer.to.email, subject, message_id)?
            .multipart(MultiPart::alternative_plain_html(text, html))?)
    }

    /// To the holder after an exchange: the value, the fee, and what became of it.
    pub fn exchange_receipt(
        &self,
        facts: &TicketFacts<'_>,
        receipt: &Receipt,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let money = |minor| tr.money(minor, &receipt.currency);
        let r = ShownReceipt {
            price: money(receipt.value.price_minor),
            fee: money(receipt.value.fee_minor),
            credited: money(receipt.credited_minor),
            spent: money(receipt.spent_minor),
            balance: money(receipt.balance_minor),
            new_ticket: receipt.new_ticket_id.is_some(),
            no_show: receipt.no_show,
            became: match (&receipt.new_ticket_label, receipt.new_ticket_id) {
                (Some(label), _) => tr.t1("email-receipt-became-ticket", "label", label),
                (None, Some(_)) => tr.t("email-receipt-became-other"),
                (None, None) => tr.t1(
                    "email-receipt-became-credit",
                    "amount",
                    money(receipt.credited_minor),
                ),
            },
        };
        let kind = EmailKind::ExchangeReceipt;
        let text = self.part(
            (kind, tr),
            "txt",
            &ReceiptText {
                tr,
                t: &shown,
                r: &r,
            },
        )?;
        let html = self.part(
            (kind, tr),
            "html",
            &ReceiptHtml {
                tr,
                t: &shown,
                r: &r,
            },
        )?;
        let subject = self.subject(
            (kind, tr),
            || {
                let id = if receipt.no_show {
                    "email-receipt-no-show-subject"
                } else {
                    "email-receipt-subject"
                };
                tr.t2(id, "event", &facts.event.name, "date", short_date(facts))
            },
            &ReceiptText {
                tr,
                t: &shown,
                r: &r,
            },
        )?;
        Ok(self
            .envelope(&facts.ticket.holder_email, subject, message_id)?
            .multipart(MultiPart::alternative_plain_html(text, html))?)
    }
}

impl Composer {
    /// To the holder: their ticket (or the whole performance) is canceled, why, and what was
    /// credited.
    pub fn cancellation(
        &self,
        facts: &TicketFacts<'_>,
        notice: &CancellationNotice,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let c = ShownCancellation {
            reason: &notice.reason,
            performance_canceled: notice.performance_canceled,
            tickets: notice.ticket_ids.len(),
            refunds: notice
                .refunds
                .iter()
                .map(|(currency, minor)| tr.money(*minor, currency))
                .collect(),
        };
        let kind = EmailKind::Cancellation;
        let text = self.part(
            (kind, tr),
            "txt",
            &CancellationText {
                tr,
                t: &shown,
                c: &c,
            },
        )?;
        let html = self.part(
            (kind, tr),
            "html",
            &CancellationHtml {
                tr,
                t: &shown,
                c: &c,
            },
        )?;
        let built_in = || {
            let id = if notice.performance_canceled {
                "email-cancel-subject-performance"
            } else {
                "email-cancel-subject-ticket"
            };
            tr.t2(id, "event", &facts.event.name, "date", short_date(facts))
        };
        let subject = self.subject(
            (kind, tr),
            built_in,
            &CancellationText {
                tr,
                t: &shown,
                c: &c,
            },
        )?;
        Ok(self
            .envelope(&facts.ticket.holder_email, subject, message_id)?
            .multipart(MultiPart::alternative_plain_html(text, html))?)
    }

    /// To the holder on admission: the event's lobby message, filled in for them.
    pub fn lobby(
        &self,
        facts: &TicketFacts<'_>,
        message: &str,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let kind = EmailKind::Lobby;
        let text = self.part(
            (kind, tr),
            "txt",
            &LobbyText {
                tr,
                t: &shown,
                message,
            },
        )?;
        let html = self.part(
            (kind, tr),
            "html",
            &LobbyHtml {
                tr,
                t: &shown,
                message,
            },
        )?;
        let subject = self.subject(
            (kind, tr),
            || tr.t1("email-lobby-subject", "event", &facts.event.name),
            &LobbyText {
                tr,
                t: &shown,
                message,
            },
        )?;
        Ok(self
            .envelope(&facts.ticket.holder_email, subject, message_id)?
            .multipart(MultiPart::alternative_plain_html(text, html))?)
    }
}

impl Composer {
    /// An event's message rule, to one holder. A marketing message carries the one-click
    /// unsubscribe headers of RFC 8058 besides its visible link.
    pub fn rule_message(
        &self,
        facts: &TicketFacts<'_>,
        parts: &RuleMessageParts<'_>,
        message_id: &str,
    ) -> Result<Message, ComposeError> {
        let shown = Shown::from(facts);
        let tr = Tr(facts.ticket.locale);
        let kind = EmailKind::RuleMessage;
        let values = RuleMessageText {
            tr,
            t: &shown,
            m: parts,
        };
        let text = self.part((kind, tr), "txt", &values)?;
        let html = self.part(
            (kind, tr),
            "html",
            &RuleMessageHtml {
                tr,
                t: &shown,
                m: parts,
            },
        )?;
        let subject = self.subject((kind, tr), || parts.subject.to_string(), &values)?;
        let mut envelope = self.envelope(&facts.ticket.holder_email, subject, message_id)?;
        if let Some(link) = parts.unsubscribe_link {
            envelope = envelope
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{link}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    ONE_CLICK_BODY.to_string(),
                ));
        }
        Ok(envelope.multipart(MultiPart::alternative_plain_html(text, html))?)
    }
}

fn venue_time(facts: &TicketFacts<'_>) -> DateTime<Tz> {
    in_venue_time(facts.performance.starts_at(), &facts.event.time_zone)
}

fn short_date(facts: &TicketFacts<'_>) -> String {
    facts.ticket.locale.short_date(&venue_time(facts))
}

fn short_time(facts: &TicketFacts<'_>) -> String {
    venue_time(facts).format("%H:%M").to_string()
}

/// An iCalendar file for the performance (three hours long unless we know better).
pub fn calendar(facts: &TicketFacts<'_>) -> String {
    let starts: DateTime<Utc> = facts.performance.starts_at();
    let event = icalendar::Event::new()
        .uid(&format!(
            "performance-{}-ticket-{}@encore",
            facts.performance.id, facts.ticket.id
        ))
        .summary(&facts.event.name)
        .location(&facts.event.venue)
        .description(&Tr(facts.ticket.locale).t1("email-reminder-calendar", "link", facts.link))
        .starts(starts)
        .ends(starts + Duration::hours(3))
        .done();
    Calendar::new().push(event).done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::locale::Locale;

    #[test]
    fn lead_times_read_naturally() {
        let en = Tr(Locale::En);
        assert_eq!(lead_time(en, 1440), "tomorrow");
        assert_eq!(lead_time(en, 1420), "tomorrow");
        assert_eq!(lead_time(en, 2880), "in 2 days");
        assert_eq!(lead_time(en, 118), "in 2 hours");
        assert_eq!(lead_time(en, 65), "in 65 minutes");
        assert_eq!(lead_time(en, 44), "in 45 minutes");
        assert_eq!(lead_time(en, 2), "starting now");
        let de = Tr(Locale::De);
        assert_eq!(lead_time(de, 1440), "morgen");
        assert_eq!(lead_time(de, 118), "in 2 Stunden");
        assert_eq!(lead_time(de, 2880), "in 2 Tagen");
    }
}
