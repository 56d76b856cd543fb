//! Typed ids: one newtype per table's id, so a ticket id and a performance id can no longer be
//! swapped in an argument list. Each is the stored `i64` and nothing more: serialized as the
//! bare number (`serde(transparent)`, so tokens, JSON and path parameters read the same) and
//! printed as the number. The database mapping lives in `db/stored.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares an id newtype over `i64` with the number as its serialized and printed form.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A row of `tickets`.
    TicketId
);
id_type!(
    /// A row of `performances`.
    PerformanceId
);
id_type!(
    /// A row of `events`.
    EventId
);
id_type!(
    /// A row of `transfers`: one offer of a ticket to someone else.
    TransferId
);
id_type!(
    /// A row of `outbox`: one email to send.
    EmailId
);
id_type!(
    /// A row of `api_keys`.
    ApiKeyId
);
id_type!(
    /// A row of `performance_cancellations`: one run cancelling a performance's tickets.
    CancellationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_and_prints_as_the_bare_number() {
        assert_eq!(serde_json::to_string(&TicketId(42)).unwrap(), "42");
        assert_eq!(
            serde_json::from_str::<TicketId>("42").unwrap(),
            TicketId(42)
        );
        assert_eq!(TicketId(42).to_string(), "42");
        assert_eq!(format!("{:>4}", TicketId(7)), "   7");
    }
}
