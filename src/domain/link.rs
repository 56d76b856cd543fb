//! Patron links' words: what a signed link lets its holder do. The same names are the link's
//! `pur` claim and what `link_opens.purpose` stores.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::TicketId;

/// A patron link opened (recorded at most once a while per ticket and purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkOpen {
    pub ticket_id: TicketId,
    pub purpose: LinkPurpose,
    pub opened_at: DateTime<Utc>,
}

/// What a patron link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Open the ticket page (and act on the ticket from there).
    View,
    /// Claim a ticket offered by a friend: `tid` and `gen` name the ticket as it was offered.
    Claim,
    /// Authenticate a wallet's requests for the ticket's pass (Apple's `authenticationToken`):
    /// `tid` names the ticket; any generation's link stands, the wallet gets the pass as it is.
    Wallet,
    /// Turn a never-admitted ticket into its event's no-show share of the price as credit,
    /// once, from the no-show message: `tid` and `gen` name the ticket as it was.
    NoShowCredit,
    /// Stop (or restart) marketing email to the ticket's holder, from a marketing message's
    /// unsubscribe link: `tid` names the ticket whose holder it is.
    Unsubscribe,
}

impl LinkPurpose {
    pub const ALL: [LinkPurpose; 5] = [
        LinkPurpose::View,
        LinkPurpose::Claim,
        LinkPurpose::Wallet,
        LinkPurpose::NoShowCredit,
        LinkPurpose::Unsubscribe,
    ];

    /// The name stored, the same as the claim's (serde's `snake_case`).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::View => "view",
            LinkPurpose::Claim => "claim",
            LinkPurpose::Wallet => "wallet",
            LinkPurpose::NoShowCredit => "no_show_credit",
            LinkPurpose::Unsubscribe => "unsubscribe",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_name_is_the_claims_name() {
        for purpose in LinkPurpose::ALL {
            assert_eq!(
                serde_json::to_value(purpose).unwrap(),
                serde_json::json!(purpose.as_str())
            );
        }
    }
}
