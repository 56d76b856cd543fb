//! Why stored credit moved: every ledger entry says which of these it was.

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
}

impl CreditReason {
    pub const ALL: [CreditReason; 4] = [
        CreditReason::Exchange,
        CreditReason::ExchangePurchase,
        CreditReason::BoxOfficePurchase,
        CreditReason::CancelRefund,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CreditReason::Exchange => "exchange",
            CreditReason::ExchangePurchase => "exchange_purchase",
            CreditReason::BoxOfficePurchase => "box_office_purchase",
            CreditReason::CancelRefund => "cancel_refund",
        }
    }
}
