//! A transfer offer's life: made (`offered`), then resolved once and for good — claimed by the
//! friend, taken back by the sender, or expired.

/// Where a transfer offer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    Offered,
    Claimed,
    Canceled,
    Expired,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 4] = [
        OfferStatus::Offered,
        OfferStatus::Claimed,
        OfferStatus::Canceled,
        OfferStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Offered => "offered",
            OfferStatus::Claimed => "claimed",
            OfferStatus::Canceled => "canceled",
            OfferStatus::Expired => "expired",
        }
    }
}
