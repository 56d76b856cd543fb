//! Who made a change. The box office answers for every touch of a ticket, so each change a
//! person asks for (issuing, exchanging, offering to a friend, taking an offer back, claiming,
//! canceling) is stored with its author, named as the ticket's history and the patron journey
//! show it: "canceled by Ada Lovelace (box office)".

use chrono::{DateTime, Utc};

use super::ids::TicketId;
use super::role::Role;
use super::staff::role_words;

/// The author of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff member signed in to the box-office console.
    Staff { name: String, role: Role },
    /// A machine with an API key (an integration, a till, a script).
    ApiKey { name: String, role: Role },
    /// A patron, through a link in their email (the holder, or a friend claiming an offer).
    Patron { name: String },
    /// Whoever holds the ticket being changed, through the link in their email: named by the
    /// ticket when the change is recorded.
    Holder,
    /// An operator at the command line (`encore import`, `encore performances cancel`).
    Operator,
}

impl Actor {
    /// How the history names the author; stored as it reads when the change was made, so a
    /// later rename does not rewrite the past.
    pub fn describe(&self) -> String {
        match self {
            Actor::Staff { name, role } => format!("{name} ({})", role_words(*role)),
            Actor::ApiKey { name, role } => format!("API key “{name}” ({})", role_words(*role)),
            Actor::Patron { name } => format!("{name} (patron)"),
            Actor::Holder => "the ticket's holder (patron)".to_string(),
            Actor::Operator => "an operator (command line)".to_string(),
        }
    }

    /// As [`Actor::describe`], naming the holder of the ticket changed when it is them.
    pub fn describe_for(&self, holder_name: &str) -> String {
        match self {
            Actor::Holder => Actor::Patron {
                name: holder_name.to_string(),
            }
            .describe(),
            other => other.describe(),
        }
    }
}

/// A change whose author is kept, by the name of the journey's touch it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthoredChange {
    Issued,
    Exchanged,
    TransferOffered,
    TransferCanceled,
    TransferClaimed,
    Canceled,
    /// An email queued by hand (a confirmation sent again).
    EmailQueued,
}

impl AuthoredChange {
    const ALL: [AuthoredChange; 7] = [
        AuthoredChange::Issued,
        AuthoredChange::Exchanged,
        AuthoredChange::TransferOffered,
        AuthoredChange::TransferCanceled,
        AuthoredChange::TransferClaimed,
        AuthoredChange::Canceled,
        AuthoredChange::EmailQueued,
    ];

    pub fn parse(stored: &str) -> Option<AuthoredChange> {
        Self::ALL.into_iter().find(|c| c.as_str() == stored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthoredChange::Issued => "issued",
            AuthoredChange::Exchanged => "exchanged",
            AuthoredChange::TransferOffered => "transfer_offered",
            AuthoredChange::TransferCanceled => "transfer_canceled",
            AuthoredChange::TransferClaimed => "transfer_claimed",
            AuthoredChange::Canceled => "canceled",
            AuthoredChange::EmailQueued => "email_queued",
        }
    }
}

/// One change's author, as stored beside the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorship {
    pub ticket_id: TicketId,
    pub change: AuthoredChange,
    pub at: DateTime<Utc>,
    /// As [`Actor::describe`] named the author then.
    pub by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_author_is_named_as_the_box_office_reads_it() {
        let staff = Actor::Staff {
            name: "Ada Lovelace".into(),
            role: Role::BoxOffice,
        };
        assert_eq!(staff.describe(), "Ada Lovelace (box office)");
        let key = Actor::ApiKey {
            name: "till-2".into(),
            role: Role::Admin,
        };
        assert_eq!(key.describe(), "API key “till-2” (admin)");
        let patron = Actor::Patron {
            name: "Grace Hopper".into(),
        };
        assert_eq!(patron.describe(), "Grace Hopper (patron)");
        assert_eq!(Actor::Operator.describe(), "an operator (command line)");
        assert_eq!(
            Actor::Holder.describe_for("Ada Lovelace"),
            "Ada Lovelace (patron)"
        );
        assert_eq!(
            staff.describe_for("Grace Hopper"),
            "Ada Lovelace (box office)"
        );
    }

    #[test]
    fn a_stored_change_reads_back_and_an_unknown_one_does_not() {
        for change in AuthoredChange::ALL {
            assert_eq!(AuthoredChange::parse(change.as_str()), Some(change));
        }
        assert_eq!(AuthoredChange::parse("scan"), None);
    }
}
