//! Why stored credit moved: every ledger entry says which of these it was.

use chrono::{DateTime, Utc};

use super::ids::TicketId;
use super::Currency;

/// One entry of a patron's credit ledger: credit added (positive) or spent (negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub id: i64,
    pub patron_email: String,
    /// Minor units of `currency`; negative for a debit.
    pub amount_minor: i64,
    pub currency: Currency,
    pub reason: CreditReason,
    /// The ticket it was for, if any.
    pub ticket_id: Option<TicketId>,
    pub at: DateTime<Utc>,
}

/// A patron's credit account: one per email address and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account<'a> {
    pub email: &'a str,
    pub currency: Currency,
}

/// A ledger entry to post: moves the account's balance by `amount_minor` (negative for a
/// debit), for a reason, at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewCreditEntry<'a> {
    pub account: Account<'a>,
    pub amount_minor: i64,
    pub reason: CreditReason,
    pub ticket_id: Option<TicketId>,
    pub at: DateTime<Utc>,
}

/// The reason of a credit ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditReason {
    /// A ticket exchanged into credit (added).
    Exchange,
    /// Credit paying for the ticket an exchange leads into (spent).
    ExchangePurchase,
    /// Credit paying for a ticket issued at the box office (spent).
    BoxOfficePurchase,
    /// A canceled ticket's price given back as credit (added).
    CancelRefund,
    /// A never-admitted ticket turned into its event's no-show share of the price (added).
    NoShowCredit,
}

impl CreditReason {
    pub const ALL: [CreditReason; 5] = [
        CreditReason::Exchange,
        CreditReason::ExchangePurchase,
        CreditReason::BoxOfficePurchase,
        CreditReason::CancelRefund,
        CreditReason::NoShowCredit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CreditReason::Exchange => "exchange",
            CreditReason::ExchangePurchase => "exchange_purchase",
            CreditReason::BoxOfficePurchase => "box_office_purchase",
            CreditReason::CancelRefund => "cancel_refund",
            CreditReason::NoShowCredit => "no_show_credit",
        }
    }
}
