//! The credit ledger: append-only entries per (email, currency), and the account row that holds
//! their sum. Both change in one transaction; the account's CHECK keeps it from going negative.

use diesel::prelude::*;

use super::models::{CreditEntryRow, NewCreditEntryRow};
use super::schema::{credit_accounts, credit_ledger};
use super::{with_conn, Conn};
use crate::domain::credit::{CreditEntry, NewCreditEntry};

/// The balance, locking the account row on PostgreSQL until the transaction ends, so that what
/// is read is what the next write builds on. (SQLite's writes are serialized already.)
pub fn balance_for_update(conn: &mut Conn<'_>, email: &str, currency: &str) -> QueryResult<i64> {
    let query = credit_accounts::table
        .find((email, currency))
        .select(credit_accounts::balance_minor);
    let balance = match conn {
        Conn::Sqlite(c) => query.get_result(&mut **c).optional()?,
        Conn::Postgres(c) => query.for_update().get_result(&mut **c).optional()?,
    };
    Ok(balance.unwrap_or(0))
}

pub fn balances(conn: &mut Conn<'_>, email: &str) -> QueryResult<Vec<(String, i64)>> {
    with_conn!(conn, c => credit_accounts::table
        .filter(credit_accounts::patron_email.eq(email))
        .order(credit_accounts::currency)
        .select((credit_accounts::currency, credit_accounts::balance_minor))
        .load(c))
}

/// The records of loaded rows; the first that does not parse fails them all.
pub(super) fn records(rows: Vec<CreditEntryRow>) -> QueryResult<Vec<CreditEntry>> {
    rows.into_iter().map(CreditEntryRow::record).collect()
}

pub fn entries(conn: &mut Conn<'_>, email: &str) -> QueryResult<Vec<CreditEntry>> {
    records(with_conn!(conn, c => credit_ledger::table
        .filter(credit_ledger::patron_email.eq(email))
        .order(credit_ledger::id)
        .select(CreditEntryRow::as_select())
        .load(c))?)
}

/// Appends an entry and moves the balance by its amount. Returns false, writing nothing, when
/// a debit is larger than the balance: the conditional update finds no row to change.
pub fn post(conn: &mut Conn<'_>, entry: &NewCreditEntry<'_>) -> QueryResult<bool> {
    let entry = NewCreditEntryRow::from_record(entry);
    let amount = entry.amount_minor;
    let moved = if amount >= 0 {
        with_conn!(conn, c => diesel::insert_into(credit_accounts::table)
            .values((
                credit_accounts::patron_email.eq(entry.patron_email),
                credit_accounts::currency.eq(entry.currency),
                credit_accounts::balance_minor.eq(amount),
            ))
            .on_conflict((credit_accounts::patron_email, credit_accounts::currency))
            .do_update()
            .set(credit_accounts::balance_minor.eq(credit_accounts::balance_minor + amount))
            .execute(c))?
    } else {
        with_conn!(conn, c => diesel::update(credit_accounts::table)
            .filter(credit_accounts::patron_email.eq(entry.patron_email))
            .filter(credit_accounts::currency.eq(entry.currency))
            .filter(credit_accounts::balance_minor.ge(-amount))
            .set(credit_accounts::balance_minor.eq(credit_accounts::balance_minor + amount))
            .execute(c))?
    };
    if moved != 1 {
        return Ok(false);
    }
    with_conn!(conn, c => diesel::insert_into(credit_ledger::table).values(&entry).execute(c))?;
    Ok(true)
}
