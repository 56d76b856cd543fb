//! The box office's searches: a performance's tickets, a page at a time, and patrons by name or
//! email as the clerk types. Reads only; the rules are in `domain::search`.

use super::{now, Encore, Error, Result};
use crate::db::search as db;
use crate::domain::search::{self, FoundPatron, PatronQuery, TicketPage, TicketSearch};

/// One page of the performance's tickets that match; `NotFound` for an unknown performance.
pub fn tickets(encore: &Encore, search: &TicketSearch) -> Result<TicketPage> {
    encore.db.read(|conn| {
        if !db::performance_exists(conn, search.performance_id)? {
            return Err(Error::not_found("performance", search.performance_id));
        }
        let rows = db::tickets(conn, search)?;
        Ok(TicketPage::from_rows(rows, search.limit))
    })
}

/// The patrons that match, best first, at most `domain::search::MAX_PATRONS`: candidates are
/// read from the indexes by the query's key, the rule picks and ranks them here.
pub fn patrons(encore: &Encore, query: &PatronQuery) -> Result<Vec<FoundPatron>> {
    encore.db.read(|conn| {
        let candidates =
            db::patron_candidates(conn, &query.keys(), query.email_prefix(), query.ticket_id())?;
        let mut seen = std::collections::HashSet::new();
        let matched = candidates
            .into_iter()
            .filter(|(id, _, _)| seen.insert(*id))
            .filter_map(|(id, name, email)| {
                let closeness = query.matches(id, &name, &email)?;
                Some((email, name, closeness))
            })
            .collect();
        let ranked = search::rank(matched);
        let emails: Vec<String> = ranked.iter().map(|(email, _)| email.clone()).collect();
        let tickets = db::tickets_of(conn, &emails)?;
        Ok(search::summarise(&ranked, &tickets, now().naive_utc()))
    })
}

/// The most quiet patrons one page holds; a CSV export takes them all.
pub const MAX_QUIET_PAGE: i64 = 500;

/// One page of quiet patrons, and how many there are in all.
pub struct QuietPage {
    pub patrons: Vec<crate::db::quiet::QuietPatron>,
    pub total: i64,
}

/// Patrons with no touch for `days` days, the quietest first: `limit` of them from `offset`.
pub fn quiet_patrons(encore: &Encore, days: i64, limit: i64, offset: i64) -> Result<QuietPage> {
    let now = now();
    let since = now - chrono::Duration::days(days);
    let patrons = encore.db.read(|conn| {
        crate::db::quiet::quiet_since(conn, since, now, limit, offset).map_err(Error::from)
    })?;
    let total = patrons.first().map_or(0, |p| p.total);
    Ok(QuietPage { patrons, total })
}
