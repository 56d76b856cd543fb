//! Stored credit: what a patron's email address holds, per currency, and every entry behind it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Encore, Result};
use crate::db::{credit, Conn};
use crate::domain::credit::{Account, CreditEntry, CreditReason, NewCreditEntry};
use crate::domain::ids::TicketId;
use crate::domain::policy::Refusal;
use crate::domain::{Currency, EmailAddress};

#[derive(Debug, Serialize)]
pub struct Balance {
    pub currency: String,
    pub balance_minor: i64,
}

/// A patron's credit: balances per currency and the ledger, oldest entry first.
pub struct PatronCredit {
    pub email: String,
    pub balances: Vec<Balance>,
    pub entries: Vec<CreditEntry>,
}

pub fn of_patron(encore: &Encore, email: &EmailAddress) -> Result<PatronCredit> {
    let email = email.as_str().to_string();
    encore.db.read(|conn| {
        let balances = credit::balances(conn, &email)?
            .into_iter()
            .map(|(currency, balance_minor)| Balance {
                currency,
                balance_minor,
            })
            .collect();
        let entries = credit::entries(conn, &email)?;
        Ok(PatronCredit {
            email: email.clone(),
            balances,
            entries,
        })
    })
}

/// A movement of a patron's credit, all but its amount: whose, in which currency, why, for
/// which ticket, and when.
#[derive(Debug, Clone, Copy)]
pub(super) struct Posting<'a> {
    pub email: &'a str,
    pub currency: Currency,
    pub reason: CreditReason,
    pub ticket_id: Option<TicketId>,
    pub at: DateTime<Utc>,
}

impl Posting<'_> {
    /// The ledger entry that moves the balance by `amount_minor` (negative for a debit).
    fn entry(&self, amount_minor: i64) -> NewCreditEntry<'_> {
        NewCreditEntry {
            account: Account {
                email: self.email,
                currency: self.currency,
            },
            amount_minor,
            reason: self.reason,
            ticket_id: self.ticket_id,
            at: self.at,
        }
    }
}

/// Spends up to `wanted` of a patron's credit inside the caller's transaction; returns how
/// much was spent. The balance is read with a row lock, and the debit is conditional besides:
/// two concurrent spenders can never take the balance below zero.
pub(super) fn spend_up_to(conn: &mut Conn<'_>, posting: &Posting<'_>, wanted: i64) -> Result<i64> {
    let available = credit::balance_for_update(conn, posting.email, posting.currency.as_str())?;
    let amount = wanted.min(available);
    if amount > 0 {
        spend_exactly(conn, posting, amount)?;
    }
    Ok(amount)
}

/// Spends exactly `amount` inside the caller's transaction, or refuses with what is missing.
pub(super) fn spend_exactly(conn: &mut Conn<'_>, posting: &Posting<'_>, amount: i64) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    if !credit::post(conn, &posting.entry(-amount))? {
        let available = credit::balance_for_update(conn, posting.email, posting.currency.as_str())?;
        return Err(Refusal::InsufficientCredit {
            needed: amount - available,
        }
        .into());
    }
    Ok(())
}

/// Adds credit inside the caller's transaction.
pub(super) fn add(conn: &mut Conn<'_>, posting: &Posting<'_>, amount: i64) -> Result<()> {
    if amount > 0 {
        credit::post(conn, &posting.entry(amount))?;
    }
    Ok(())
}
