//! What a patron may change about a ticket, and until when: each event's policy for exchanges
//! and transfers, and the reasons a change is refused.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::offer::OfferStatus;
use super::{Invalid, TicketStatus};

/// The two changes a patron can make to a ticket from its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Exchange,
    Transfer,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Exchange => "exchange",
            Change::Transfer => "transfer",
        })
    }
}

/// Why a change cannot be made. Each has a stable code for the API; the message is shown to
/// the patron as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This event does not allow a ticket to be {}d.", .0)]
    NotAllowed(Change),
    #[error("Changes closed at {closed_at}, {minutes} minutes before the show.")]
    PastCutoff {
        closed_at: DateTime<Utc>,
        minutes: i64,
    },
    #[error("This ticket is {} and can no longer be changed.", .0.as_str())]
    NotValid(TicketStatus),
    #[error("This ticket was already used to enter.")]
    AlreadyAdmitted,
    #[error("This ticket was already canceled.")]
    AlreadyCanceled,
    #[error("The ticket is on offer to {0}; take that offer back first.")]
    OfferPending(String),
    #[error("A ticket cannot be transferred to its own holder.")]
    TransferToSelf,
    #[error("There is no open offer for this ticket.")]
    NoOpenOffer,
    #[error("This offer was {0}.")]
    OfferClosed(OfferEnd),
    #[error("That performance is not one this ticket can be exchanged into.")]
    NotAnExchangeTarget,
    #[error("That performance has no seats left.")]
    TargetSoldOut,
    #[error("That performance was canceled.")]
    TargetCanceled,
    #[error(
        "That performance has no price set, so it cannot be paid for with a ticket or credit."
    )]
    TargetUnpriced,
    #[error("Prices are in {target}; this ticket was paid in {ticket}.")]
    CurrencyMismatch { ticket: String, target: String },
    #[error("The new ticket costs {needed} more than the ticket's value and the stored credit.")]
    InsufficientCredit { needed: i64 },
    #[error("This event does not offer credit for unused tickets.")]
    NoShowCreditNotOffered,
    #[error("The show is not over yet: the ticket can still be used to enter.")]
    NoShowCreditTooEarly,
    #[error("The time to turn this unused ticket into credit has passed.")]
    NoShowCreditExpired,
    #[error("This ticket was already turned into credit.")]
    NoShowCreditGiven,
}

/// How an offer that can no longer be acted on ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferEnd {
    Claimed,
    Canceled,
    Expired,
    /// Resolved a moment ago by someone else (a claim and a cancel racing).
    Resolved,
}

impl OfferEnd {
    /// How an offer in `status` ended; one still offered was resolved in the meantime.
    pub fn of(status: OfferStatus) -> OfferEnd {
        match status {
            OfferStatus::Claimed => OfferEnd::Claimed,
            OfferStatus::Canceled => OfferEnd::Canceled,
            OfferStatus::Expired => OfferEnd::Expired,
            OfferStatus::Offered => OfferEnd::Resolved,
        }
    }
}

impl std::fmt::Display for OfferEnd {
    /// The API's words ("This offer was …"); the pages say it in the patron's language.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OfferEnd::Claimed => "already claimed",
            OfferEnd::Canceled => "canceled by the sender",
            OfferEnd::Expired => "not claimed in time and has expired",
            OfferEnd::Resolved => "already resolved",
        })
    }
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotAllowed(Change::Exchange) => "exchange_not_allowed",
            Refusal::NotAllowed(Change::Transfer) => "transfer_not_allowed",
            Refusal::PastCutoff { .. } => "past_cutoff",
            Refusal::NotValid(_) => "ticket_not_valid",
            Refusal::AlreadyAdmitted => "already_admitted",
            Refusal::AlreadyCanceled => "already_canceled",
            Refusal::OfferPending(_) => "transfer_pending",
            Refusal::TransferToSelf => "transfer_to_self",
            Refusal::NoOpenOffer => "no_open_offer",
            Refusal::OfferClosed(_) => "offer_closed",
            Refusal::NotAnExchangeTarget => "not_an_exchange_target",
            Refusal::TargetSoldOut => "sold_out",
            Refusal::TargetCanceled => "performance_canceled",
            Refusal::TargetUnpriced => "target_unpriced",
            Refusal::CurrencyMismatch { .. } => "currency_mismatch",
            Refusal::InsufficientCredit { .. } => "insufficient_credit",
            Refusal::NoShowCreditNotOffered => "no_show_credit_not_offered",
            Refusal::NoShowCreditTooEarly => "no_show_credit_too_early",
            Refusal::NoShowCreditExpired => "no_show_credit_expired",
            Refusal::NoShowCreditGiven => "no_show_credit_given",
        }
    }
}

/// An event's rules for patron changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePolicy {
    pub exchange_allowed: bool,
    /// Exchanges may go to any event's performance, not only this event's.
    pub exchange_any_event: bool,
    /// Kept from the ticket's price when it is exchanged, in the ticket's currency.
    pub exchange_fee_minor: i64,
    pub transfer_allowed: bool,
    /// No change within this long of the start.
    pub cutoff: Duration,
    /// An unclaimed transfer returns to the sender after this long (or at the cut-off).
    pub offer_lifetime: Duration,
    /// When a performance is canceled, its holders are credited what they paid.
    pub refund_on_cancel: bool,
    /// After the show, a holder never admitted may turn the ticket into this share of its
    /// price as stored credit (one click from the no-show message); `None`: not offered.
    pub no_show_credit_percent: Option<u8>,
}

impl Default for ChangePolicy {
    fn default() -> Self {
        ChangePolicy {
            exchange_allowed: true,
            exchange_any_event: false,
            exchange_fee_minor: 0,
            transfer_allowed: true,
            cutoff: Duration::minutes(120),
            offer_lifetime: Duration::hours(72),
            refund_on_cancel: true,
            no_show_credit_percent: None,
        }
    }
}

/// How many transfer offers a ticket page may make within a sliding window: of one ticket, and
/// to one email address (so a link holder cannot turn the page into a mail relay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferLimits {
    pub window: Duration,
    pub per_ticket: i64,
    pub per_recipient: i64,
}

impl OfferLimits {
    /// The start of the window that ends `now`.
    pub fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// May one more offer be made, given the times of the `limit` newest offers in the window
    /// (newest first)? When not, how long until the oldest of them leaves the window.
    pub fn check(
        &self,
        newest: &[DateTime<Utc>],
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<(), Duration> {
        match usize::try_from(limit)
            .ok()
            .and_then(|l| newest.get(l.checked_sub(1)?))
        {
            Some(&oldest) => Err((oldest + self.window - now).max(Duration::seconds(1))),
            None => Ok(()),
        }
    }
}

/// The fee kept from an exchanged ticket's price: zero or more, in minor units.
pub fn parse_exchange_fee(minor: i64) -> Result<i64, Invalid> {
    if !(0..=super::Money::MAX_MINOR).contains(&minor) {
        return Err(Invalid::new(
            "exchange_fee_minor",
            "must be zero or more, in minor units",
        ));
    }
    Ok(minor)
}

/// How long before the show changes close: from none to a year.
pub fn parse_cutoff(minutes: i64) -> Result<Duration, Invalid> {
    if !(0..=60 * 24 * 365).contains(&minutes) {
        return Err(Invalid::new(
            "change_cutoff_minutes",
            "must be between 0 and a year's minutes",
        ));
    }
    Ok(Duration::minutes(minutes))
}

/// How long a transfer offer stays open: from an hour to a year.
pub fn parse_offer_lifetime(hours: i64) -> Result<Duration, Invalid> {
    if !(1..=24 * 365).contains(&hours) {
        return Err(Invalid::new(
            "transfer_offer_hours",
            "must be between 1 and a year's hours",
        ));
    }
    Ok(Duration::hours(hours))
}

/// A change to an event's policy: each field given (`Some`) replaces the event's own, each left
/// out stays as it is. Its values pass the same checks as a whole policy's
/// ([`parse_exchange_fee`], [`parse_cutoff`], [`parse_offer_lifetime`]); no rule ties one
/// field to another, so a checked change applied to a stored policy is a valid policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyChanges {
    pub exchange_allowed: Option<bool>,
    pub exchange_any_event: Option<bool>,
    pub exchange_fee_minor: Option<i64>,
    pub transfer_allowed: Option<bool>,
    pub cutoff: Option<Duration>,
    pub offer_lifetime: Option<Duration>,
    pub refund_on_cancel: Option<bool>,
    /// `Some(None)` turns the no-show credit off.
    pub no_show_credit_percent: Option<Option<u8>>,
}

/// What a ticket is worth when exchanged: its price less the fee, never below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ExchangeValue {
    pub price_minor: i64,
    pub fee_minor: i64,
    pub value_minor: i64,
}

impl ExchangeValue {
    /// The holder's stored credit after an exchange, from `balance_minor` before it: the
    /// ticket's value is credited, then the new ticket's price (if any) is paid from credit.
    /// Below zero means the exchange needs that much more credit than the holder has.
    pub fn credit_after(&self, balance_minor: i64, new_price_minor: Option<i64>) -> i64 {
        balance_minor + self.value_minor - new_price_minor.unwrap_or(0)
    }
}

impl ChangePolicy {
    /// Checks a policy as the box office states it.
    pub fn parse(
        exchange_allowed: bool,
        exchange_any_event: bool,
        exchange_fee_minor: i64,
        transfer_allowed: bool,
        cutoff_minutes: i64,
        offer_hours: i64,
    ) -> Result<ChangePolicy, Invalid> {
        Ok(ChangePolicy {
            exchange_allowed,
            exchange_any_event,
            exchange_fee_minor: parse_exchange_fee(exchange_fee_minor)?,
            transfer_allowed,
            cutoff: parse_cutoff(cutoff_minutes)?,
            offer_lifetime: parse_offer_lifetime(offer_hours)?,
            refund_on_cancel: true,
            no_show_credit_percent: None,
        })
    }

    pub fn allows(&self, change: Change) -> bool {
        match change {
            Change::Exchange => self.exchange_allowed,
            Change::Transfer => self.transfer_allowed,
        }
    }

    /// The last moment a change can be made for a performance starting at `starts_at`.
    pub fn closes_at(&self, starts_at: DateTime<Utc>) -> DateTime<Utc> {
        starts_at - self.cutoff
    }

    /// May `change` be made now to a ticket in this state? The rule shared by the page (to
    /// show or hide an action, with its reason) and the service (which checks again, inside
    /// the transaction that makes the change).
    pub fn check(
        &self,
        change: Change,
        now: DateTime<Utc>,
        starts_at: DateTime<Utc>,
        status: TicketStatus,
        admitted: bool,
    ) -> Result<(), Refusal> {
        if !self.allows(change) {
            return Err(Refusal::NotAllowed(change));
        }
        if status != TicketStatus::Valid {
            return Err(Refusal::NotValid(status));
        }
        if admitted {
            return Err(Refusal::AlreadyAdmitted);
        }
        let closes_at = self.closes_at(starts_at);
        if now >= closes_at {
            return Err(Refusal::PastCutoff {
                closed_at: closes_at,
                minutes: self.cutoff.num_minutes(),
            });
        }
        Ok(())
    }

    pub fn exchange_value(&self, price_minor: i64) -> ExchangeValue {
        let fee_minor = self.exchange_fee_minor.min(price_minor);
        ExchangeValue {
            price_minor,
            fee_minor,
            value_minor: price_minor - fee_minor,
        }
    }

    /// When an offer made now returns to its sender: after its lifetime, and never later than
    /// the cut-off, so that a ticket is never stuck in an offer when the doors open.
    pub fn offer_expires_at(&self, now: DateTime<Utc>, starts_at: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.offer_lifetime).min(self.closes_at(starts_at))
    }
}

#[cfg(test)]
mod credit_after_tests {
    use super::ExchangeValue;

    const VALUE: ExchangeValue = ExchangeValue {
        price_minor: 4000,
        fee_minor: 500,
        value_minor: 3500,
    };

    #[test]
    fn into_credit_adds_the_value() {
        assert_eq!(VALUE.credit_after(1000, None), 4500);
    }

    #[test]
    fn into_a_performance_pays_its_price_from_credit() {
        assert_eq!(VALUE.credit_after(1000, Some(3000)), 1500);
        assert_eq!(VALUE.credit_after(0, Some(5000)), -1500, "1500 short");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn offers_are_refused_at_the_limit_until_the_oldest_leaves_the_window() {
        use super::OfferLimits;
        let limits = OfferLimits {
            window: Duration::minutes(60),
            per_ticket: 2,
            per_recipient: 3,
        };
        let now = Utc::now();
        let ago = |minutes| now - Duration::minutes(minutes);
        assert_eq!(limits.check(&[ago(1)], 2, now), Ok(()));
        assert_eq!(
            limits.check(&[ago(1), ago(20)], 2, now),
            Err(Duration::minutes(40))
        );
        assert_eq!(limits.check(&[ago(1), ago(20)], 3, now), Ok(()));
        assert_eq!(
            limits.check(&[ago(1), ago(60)], 2, now),
            Err(Duration::seconds(1))
        );
    }

    use super::*;

    fn at(hours_from_start: i64) -> (DateTime<Utc>, DateTime<Utc>) {
        let starts_at = DateTime::parse_from_rfc3339("2030-05-01T19:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        (starts_at + Duration::hours(hours_from_start), starts_at)
    }

    #[test]
    fn changes_close_at_the_cutoff() {
        let policy = ChangePolicy::default();
        let (early, starts_at) = at(-3);
        assert_eq!(
            policy.check(
                Change::Exchange,
                early,
                starts_at,
                TicketStatus::Valid,
                false
            ),
            Ok(())
        );
        let (late, _) = at(-1);
        assert!(matches!(
            policy.check(
                Change::Transfer,
                late,
                starts_at,
                TicketStatus::Valid,
                false
            ),
            Err(Refusal::PastCutoff { minutes: 120, .. })
        ));
    }

    #[test]
    fn only_a_valid_unused_ticket_of_a_willing_event_changes() {
        let (now, starts_at) = at(-48);
        let closed = ChangePolicy {
            transfer_allowed: false,
            ..ChangePolicy::default()
        };
        assert_eq!(
            closed.check(Change::Transfer, now, starts_at, TicketStatus::Valid, false),
            Err(Refusal::NotAllowed(Change::Transfer))
        );
        let open = ChangePolicy::default();
        assert_eq!(
            open.check(
                Change::Exchange,
                now,
                starts_at,
                TicketStatus::Canceled,
                false
            ),
            Err(Refusal::NotValid(TicketStatus::Canceled))
        );
        assert_eq!(
            open.check(Change::Exchange, now, starts_at, TicketStatus::Valid, true),
            Err(Refusal::AlreadyAdmitted)
        );
    }

    #[test]
    fn the_fee_never_exceeds_the_price() {
        let policy = ChangePolicy {
            exchange_fee_minor: 500,
            ..ChangePolicy::default()
        };
        assert_eq!(policy.exchange_value(4500).value_minor, 4000);
        assert_eq!(policy.exchange_value(300).value_minor, 0);
        assert_eq!(policy.exchange_value(300).fee_minor, 300);
    }

    #[test]
    fn an_offer_expires_by_the_cutoff_at_the_latest() {
        let policy = ChangePolicy::default();
        let (now, starts_at) = at(-5);
        assert_eq!(
            policy.offer_expires_at(now, starts_at),
            starts_at - Duration::hours(2)
        );
        let (early, starts_at) = at(-24 * 30);
        assert_eq!(
            policy.offer_expires_at(early, starts_at),
            early + Duration::hours(72)
        );
    }

    #[test]
    fn each_field_has_its_bounds() {
        assert_eq!(parse_exchange_fee(0), Ok(0));
        assert_eq!(
            parse_exchange_fee(-1).unwrap_err().field,
            "exchange_fee_minor"
        );
        assert_eq!(parse_cutoff(0), Ok(Duration::zero()));
        assert_eq!(parse_cutoff(525_600), Ok(Duration::days(365)));
        assert!(parse_cutoff(525_601).is_err());
        assert_eq!(parse_offer_lifetime(1), Ok(Duration::hours(1)));
        assert_eq!(
            parse_offer_lifetime(0).unwrap_err().field,
            "transfer_offer_hours"
        );
    }

    #[test]
    fn bad_policies_name_their_field() {
        assert_eq!(
            ChangePolicy::parse(true, false, -1, true, 120, 72)
                .unwrap_err()
                .field,
            "exchange_fee_minor"
        );
        assert_eq!(
            ChangePolicy::parse(true, false, 0, true, 120, 0)
                .unwrap_err()
                .field,
            "transfer_offer_hours"
        );
    }
}
