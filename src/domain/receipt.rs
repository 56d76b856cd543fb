//! The exchange receipt: what an exchange did, as the patron is emailed it and the API answers.

use serde::{Deserialize, Serialize};

use super::ids::TicketId;
use super::policy::ExchangeValue;

/// What an exchange did: the receipt the patron is emailed and the API answers with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    pub ticket_id: TicketId,
    pub currency: String,
    #[serde(flatten)]
    pub value: ExchangeValue,
    /// Credit added for the old ticket (its value).
    pub credited_minor: i64,
    /// Credit spent on the new ticket (its price), when exchanged into a performance.
    pub spent_minor: i64,
    pub new_ticket_id: Option<TicketId>,
    /// What the new ticket is for, as the venue reads it ("Hamlet, Fri 18 Dec 2026, 19:30").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_ticket_label: Option<String>,
    /// The patron's balance in this currency afterwards.
    pub balance_minor: i64,
    /// Not an exchange: an unused ticket turned into the event's no-show share of its price
    /// (`fee_minor` is the share withheld).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_show: bool,
}
