//! Issuing tickets from a CSV file: every good row is issued once, every bad row is reported
//! with its line and reason, and running the same file again issues nothing twice.

use crate::domain::actor::Actor;
use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::tickets::{self, Issued};
use super::{Encore, Error, Result};
use crate::domain::ids::PerformanceId;
use crate::domain::locale::Locale;
use crate::domain::ticket::NewTicket;

#[derive(Debug, Deserialize)]
struct CsvRow {
    holder_name: Option<String>,
    holder_email: Option<String>,
    price_minor: Option<String>,
    currency: Option<String>,
    seat: Option<String>,
    section: Option<String>,
    /// The ticket's language ("en", "de"); empty or absent: the event's.
    locale: Option<String>,
    /// The caller's own key for the row; derived from the row's content when absent.
    #[serde(rename = "ref")]
    reference: Option<String>,
}

pub use crate::domain::import::{ImportReport, Rejected};

fn parse_row(
    row: CsvRow,
    occurrences: &mut HashMap<String, u32>,
) -> std::result::Result<NewTicket, String> {
    let price = row.price_minor.as_deref().unwrap_or("").trim();
    let price_minor: i64 = price
        .parse()
        .map_err(|_| format!("price_minor: {price:?} is not a whole number of minor units"))?;
    let ticket = NewTicket::parse(
        row.holder_name.as_deref().unwrap_or(""),
        row.holder_email.as_deref().unwrap_or(""),
        price_minor,
        row.currency.as_deref().unwrap_or("").trim(),
        row.seat.as_deref(),
        row.section.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let locale = match row.locale.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tag) => Some(Locale::parse("locale", tag).map_err(|e| e.to_string())?),
    };
    let ticket = ticket.speaking(locale);
    let reference = match row.reference.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => format!("csv:{r}"),
        // Identical rows are distinct tickets (two seats for one family): number them.
        _ => {
            let content = format!(
                "{}|{}|{}|{}|{}|{}",
                ticket.holder_name,
                ticket.holder_email,
                ticket.price.minor,
                ticket.price.currency.as_str(),
                ticket.seat.as_deref().unwrap_or(""),
                ticket.section.as_deref().unwrap_or("")
            );
            let n = occurrences.entry(content.clone()).or_insert(0);
            *n += 1;
            let digest = Sha256::digest(format!("{content}|{n}"));
            format!("csvrow:{}", hex::encode(&digest[..12]))
        }
    };
    Ok(ticket.with_external_ref(reference))
}

/// Imports `csv` into a performance in batches of `batch_size` tickets, one transaction each.
/// `progress` is called with the number of rows done after each batch.
pub fn import_csv(
    encore: &Encore,
    performance_id: PerformanceId,
    csv: impl Read,
    batch_size: usize,
    by: &Actor,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport> {
    let batch_size = batch_size.clamp(1, encore.settings.max_bulk_tickets);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv);
    let mut report = ImportReport::default();
    let mut occurrences = HashMap::new();
    let mut first_line_of_ref: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<(u64, NewTicket)> = Vec::with_capacity(batch_size);

    for record in reader.deserialize::<CsvRow>() {
        report.rows += 1;
        let line = report.rows + 1; // the header is line 1
        let parsed = record
            .map_err(|e| e.to_string())
            .and_then(|row| parse_row(row, &mut occurrences))
            .and_then(|ticket| {
                // Two rows with one ref would be one ticket: refuse the second, by line.
                let reference = ticket.external_ref.clone().unwrap_or_default();
                match first_line_of_ref.get(&reference) {
                    Some(first) => Err(format!(
                        "ref: {:?} repeats line {first}",
                        reference.trim_start_matches("csv:")
                    )),
                    None => {
                        first_line_of_ref.insert(reference, line);
                        Ok(ticket)
                    }
                }
            });
        match parsed {
            Ok(ticket) => batch.push((line, ticket)),
            Err(reason) => report.rejected.push(Rejected { line, reason }),
        }
        if batch.len() == batch_size {
            issue_batch(
                encore,
                performance_id,
                std::mem::take(&mut batch),
                by,
                &mut report,
            )?;
            progress(report.rows);
        }
    }
    if !batch.is_empty() {
        issue_batch(encore, performance_id, batch, by, &mut report)?;
    }
    progress(report.rows);
    Ok(report)
}

fn issue_batch(
    encore: &Encore,
    performance_id: PerformanceId,
    mut batch: Vec<(u64, NewTicket)>,
    by: &Actor,
    report: &mut ImportReport,
) -> Result<()> {
    // Rows issued by an earlier run need no seat: set them aside first, so that "sold out"
    // below is decided on the new rows alone.
    let refs: Vec<String> = batch
        .iter()
        .filter_map(|(_, t)| t.external_ref.clone())
        .collect();
    let issued_before = tickets::already_issued(encore, performance_id, &refs)?;
    batch.retain(|(_, t)| {
        !t.external_ref
            .as_ref()
            .is_some_and(|r| issued_before.contains(r))
    });
    report.already_issued += issued_before.len() as u64;

    while !batch.is_empty() {
        let tickets: Vec<NewTicket> = batch.iter().map(|(_, t)| t.clone()).collect();
        match tickets::issue(encore, performance_id, tickets, by) {
            Ok(Issued {
                tickets,
                already_issued,
                ..
            }) => {
                report.issued += tickets.len() as u64;
                report.already_issued += already_issued.len() as u64;
                return Ok(());
            }
            // Not enough seats for the whole batch: issue what fits, refuse the rest by line.
            Err(Error::SoldOut { available, .. }) => {
                let fits = usize::try_from(available)
                    .unwrap_or(0)
                    .min(batch.len().saturating_sub(1));
                for (line, _) in batch.drain(fits..) {
                    report.rejected.push(Rejected {
                        line,
                        reason: "sold out: the performance has no seats left".into(),
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
