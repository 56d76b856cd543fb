//! Patrons' consent to marketing email: who opted out (by address), and every change, with the
//! ticket whose link made it, for the journey.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{consent_changes, marketing_opt_outs};
use super::{with_conn, Conn};
use crate::domain::consent::ConsentChange;
use crate::domain::ids::TicketId;

/// Whether the address opted out of marketing email.
pub fn opted_out(conn: &mut Conn<'_>, email: &str) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::select(diesel::dsl::exists(
        marketing_opt_outs::table.filter(marketing_opt_outs::patron_email.eq(email)),
    ))
    .get_result(c))
}

/// Which of these addresses opted out of marketing email.
pub fn opted_out_among(conn: &mut Conn<'_>, emails: &[&str]) -> QueryResult<Vec<String>> {
    with_conn!(conn, c => marketing_opt_outs::table
        .filter(marketing_opt_outs::patron_email.eq_any(emails))
        .select(marketing_opt_outs::patron_email)
        .load(c))
}

/// Sets the address's consent, recording the change when it is one; false if it already was
/// so (a second click changes nothing and records nothing).
pub fn set(
    conn: &mut Conn<'_>,
    email: &str,
    ticket_id: TicketId,
    opt_out: bool,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let at = now.naive_utc();
    let changed = if opt_out {
        with_conn!(conn, c => diesel::insert_into(marketing_opt_outs::table)
            .values((
                marketing_opt_outs::patron_email.eq(email),
                marketing_opt_outs::opted_out_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(c))?
    } else {
        with_conn!(conn, c => diesel::delete(
            marketing_opt_outs::table.filter(marketing_opt_outs::patron_email.eq(email)),
        )
        .execute(c))?
    };
    if changed == 0 {
        return Ok(false);
    }
    with_conn!(conn, c => diesel::insert_into(consent_changes::table)
        .values((
            consent_changes::patron_email.eq(email),
            consent_changes::ticket_id.eq(ticket_id),
            consent_changes::opted_out.eq(i32::from(opt_out)),
            consent_changes::changed_at.eq(at),
        ))
        .execute(c))?;
    Ok(true)
}

/// The consent changes made from these tickets' links, oldest first.
pub fn changes(conn: &mut Conn<'_>, ticket_ids: &[TicketId]) -> QueryResult<Vec<ConsentChange>> {
    let rows: Vec<(Option<TicketId>, i32, chrono::NaiveDateTime)> = with_conn!(conn, c => consent_changes::table
        .filter(consent_changes::ticket_id.eq_any(ticket_ids))
        .order(consent_changes::id)
        .select((
            consent_changes::ticket_id,
            consent_changes::opted_out,
            consent_changes::changed_at,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(ticket_id, opted_out, at)| {
            Some(ConsentChange {
                ticket_id: ticket_id?,
                opted_out: opted_out != 0,
                at: at.and_utc(),
            })
        })
        .collect())
}
