//! Tickets handed out as wallet passes (`wallet_passes`) and the Apple devices that hold them
//! (`apple_pass_registrations`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::models::{EventRow, PerformanceRow, TicketRow};
use super::schema::{apple_pass_registrations, events, performances, tickets, wallet_passes};
use super::{with_conn, Conn};
use crate::domain::event::{Event, Performance};
use crate::domain::ids::TicketId;
use crate::domain::ticket::Ticket;
use crate::domain::wallet::{PassDevice, TrackedPass};

/// Records that `ticket_id` was handed out as a pass showing `digest` (kept when it already
/// was: the worker compares with the ticket as it is now). `google`: as a Google Wallet object.
pub fn hand_out(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    digest: &str,
    google: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::insert_into(wallet_passes::table)
        .values((
            wallet_passes::ticket_id.eq(ticket_id),
            wallet_passes::digest.eq(digest),
            wallet_passes::updated_at.eq(now.naive_utc()),
            wallet_passes::in_google.eq(google),
            wallet_passes::notify_pending.eq(false),
        ))
        .on_conflict(wallet_passes::ticket_id)
        .do_nothing()
        .execute(c))?;
    if google {
        with_conn!(conn, c => diesel::update(wallet_passes::table.find(ticket_id))
            .filter(wallet_passes::in_google.eq(false))
            .set(wallet_passes::in_google.eq(true))
            .execute(c))?;
    }
    Ok(())
}

/// When the pass of `ticket_id` last changed, if it was ever handed out.
pub fn updated_at(conn: &mut Conn<'_>, ticket_id: TicketId) -> QueryResult<Option<DateTime<Utc>>> {
    let at: Option<NaiveDateTime> = with_conn!(conn, c => wallet_passes::table
        .find(ticket_id)
        .select(wallet_passes::updated_at)
        .get_result(c)
        .optional())?;
    Ok(at.map(|at| at.and_utc()))
}

/// A pass handed out, with its ticket, performance and event as they are now.
pub type PassInContext = (TrackedPass, Ticket, Performance, Event);

/// The passes of performances starting after `from` (older ones no longer change), with the
/// digest the wallets last heard of and what the pass would show now: one query for all.
pub fn tracked(conn: &mut Conn<'_>, from: DateTime<Utc>) -> QueryResult<Vec<PassInContext>> {
    type Row = (
        (TicketId, String, bool),
        TicketRow,
        PerformanceRow,
        EventRow,
    );
    let rows: Vec<Row> = with_conn!(conn, c => wallet_passes::table
        .inner_join(tickets::table.inner_join(performances::table.inner_join(events::table)))
        .filter(performances::starts_at.ge(from.naive_utc()))
        .order(wallet_passes::ticket_id)
        .select((
            (wallet_passes::ticket_id, wallet_passes::digest, wallet_passes::in_google),
            TicketRow::as_select(),
            PerformanceRow::as_select(),
            EventRow::as_select(),
        ))
        .load(c))?;
    rows.into_iter()
        .map(
            |((ticket_id, digest, in_google), ticket, performance, event)| {
                Ok((
                    TrackedPass {
                        ticket_id,
                        digest,
                        in_google,
                    },
                    ticket.record()?,
                    performance.record()?,
                    event.record(),
                ))
            },
        )
        .collect()
}

/// The pass of `ticket_id` now shows `digest`: updated at `now`, its wallets to be told.
pub fn mark_changed(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    digest: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(wallet_passes::table.find(ticket_id))
        .set((
            wallet_passes::digest.eq(digest),
            wallet_passes::updated_at.eq(now.naive_utc()),
            wallet_passes::notify_pending.eq(true),
        ))
        .execute(c))
    .map(drop)
}

/// Passes whose wallets are still to be told of a change, oldest change first.
pub fn pending(conn: &mut Conn<'_>, limit: i64) -> QueryResult<Vec<TrackedPass>> {
    let rows: Vec<(TicketId, String, bool)> = with_conn!(conn, c => wallet_passes::table
        .filter(wallet_passes::notify_pending.eq(true))
        .order(wallet_passes::updated_at)
        .limit(limit)
        .select((wallet_passes::ticket_id, wallet_passes::digest, wallet_passes::in_google))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, digest, in_google)| TrackedPass {
            ticket_id,
            digest,
            in_google,
        })
        .collect())
}

/// The wallets were told of the pass showing `digest`. A change made since stays pending.
pub fn notified(conn: &mut Conn<'_>, ticket_id: TicketId, digest: &str) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(wallet_passes::table.find(ticket_id))
        .filter(wallet_passes::digest.eq(digest))
        .set(wallet_passes::notify_pending.eq(false))
        .execute(c))
    .map(drop)
}

/// Registers a device for a ticket's pass, or renews its push token. True when it is new.
pub fn register(conn: &mut Conn<'_>, device: &PassDevice, now: DateTime<Utc>) -> QueryResult<bool> {
    let inserted = with_conn!(conn, c => diesel::insert_into(apple_pass_registrations::table)
        .values((
            apple_pass_registrations::device_library_id.eq(&device.device_library_id),
            apple_pass_registrations::ticket_id.eq(device.ticket_id),
            apple_pass_registrations::push_token.eq(&device.push_token),
            apple_pass_registrations::registered_at.eq(now.naive_utc()),
        ))
        .on_conflict((
            apple_pass_registrations::device_library_id,
            apple_pass_registrations::ticket_id,
        ))
        .do_nothing()
        .execute(c))?;
    if inserted == 0 {
        with_conn!(conn, c => diesel::update(apple_pass_registrations::table.find((
                &device.device_library_id,
                device.ticket_id,
            )))
            .set(apple_pass_registrations::push_token.eq(&device.push_token))
            .execute(c))?;
    }
    Ok(inserted == 1)
}

/// Forgets a device's registration for a ticket's pass. True when there was one.
pub fn unregister(
    conn: &mut Conn<'_>,
    device_library_id: &str,
    ticket_id: TicketId,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::delete(apple_pass_registrations::table.find((
            device_library_id,
            ticket_id,
        )))
        .execute(c))
    .map(|n| n == 1)
}

/// The passes a device holds that changed after `since` (all of them without it), with when.
pub fn updated_for_device(
    conn: &mut Conn<'_>,
    device_library_id: &str,
    since: Option<DateTime<Utc>>,
) -> QueryResult<Vec<(TicketId, DateTime<Utc>)>> {
    let rows: Vec<(TicketId, NaiveDateTime)> = with_conn!(conn, c => {
        let mut query = apple_pass_registrations::table
            .inner_join(
                wallet_passes::table
                    .on(wallet_passes::ticket_id.eq(apple_pass_registrations::ticket_id)),
            )
            .filter(apple_pass_registrations::device_library_id.eq(device_library_id))
            .select((wallet_passes::ticket_id, wallet_passes::updated_at))
            .order(wallet_passes::ticket_id)
            .into_boxed();
        if let Some(since) = since {
            query = query.filter(wallet_passes::updated_at.gt(since.naive_utc()));
        }
        query.load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, at)| (id, at.and_utc()))
        .collect())
}

/// The devices holding the pass of `ticket_id`.
pub fn devices_of(conn: &mut Conn<'_>, ticket_id: TicketId) -> QueryResult<Vec<PassDevice>> {
    let rows: Vec<(String, String)> = with_conn!(conn, c => apple_pass_registrations::table
        .filter(apple_pass_registrations::ticket_id.eq(ticket_id))
        .order(apple_pass_registrations::device_library_id)
        .select((
            apple_pass_registrations::device_library_id,
            apple_pass_registrations::push_token,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(device_library_id, push_token)| PassDevice {
            device_library_id,
            ticket_id,
            push_token,
        })
        .collect())
}
