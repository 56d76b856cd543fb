//! The console's CSV imports (`imports`): started, moved along a batch at a time, finished or
//! stopped, and found again by a later start of the process.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::imports;
use super::{with_conn, Conn};
use crate::domain::ids::PerformanceId;
use crate::domain::import::{Import, ImportReport, ImportStatus};
use crate::domain::staff::StaffId;

#[derive(Queryable, Selectable)]
#[diesel(table_name = imports)]
struct ImportRow {
    id: String,
    performance_id: PerformanceId,
    staff_id: i64,
    total: i64,
    done: i64,
    status: ImportStatus,
    report: Option<String>,
    error: Option<String>,
}

impl ImportRow {
    fn record(self) -> QueryResult<Import> {
        let report = self
            .report
            .map(|json| serde_json::from_str::<ImportReport>(&json))
            .transpose()
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        Ok(Import {
            id: self.id,
            performance_id: self.performance_id,
            staff_id: StaffId(self.staff_id),
            total: u64::try_from(self.total).unwrap_or(0),
            done: u64::try_from(self.done).unwrap_or(0),
            status: self.status,
            report,
            error: self.error,
        })
    }
}

/// An import about to start: the file and who started it.
pub struct NewImport<'a> {
    pub id: &'a str,
    pub performance_id: PerformanceId,
    pub staff_id: StaffId,
    pub csv: &'a str,
    pub total: u64,
    pub started_at: DateTime<Utc>,
}

pub fn insert(conn: &mut Conn<'_>, new: &NewImport<'_>) -> QueryResult<()> {
    with_conn!(conn, c => diesel::insert_into(imports::table)
        .values((
            imports::id.eq(new.id),
            imports::performance_id.eq(new.performance_id),
            imports::staff_id.eq(new.staff_id.0),
            imports::csv.eq(new.csv),
            imports::total.eq(i64::try_from(new.total).unwrap_or(i64::MAX)),
            imports::done.eq(0_i64),
            imports::status.eq(ImportStatus::Running),
            imports::started_at.eq(new.started_at.naive_utc()),
        ))
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut Conn<'_>, id: &str) -> QueryResult<Option<Import>> {
    with_conn!(conn, c => imports::table
        .find(id)
        .select(ImportRow::as_select())
        .get_result(c)
        .optional())?
    .map(ImportRow::record)
    .transpose()
}

/// How many imports are running.
pub fn running_count(conn: &mut Conn<'_>) -> QueryResult<i64> {
    with_conn!(conn, c => imports::table
        .filter(imports::status.eq(ImportStatus::Running))
        .count()
        .get_result(c))
}

/// The imports a stopped process left running, each with its file and starter, oldest first.
pub fn unfinished(conn: &mut Conn<'_>) -> QueryResult<Vec<(Import, String)>> {
    let rows: Vec<(ImportRow, String)> = with_conn!(conn, c => imports::table
        .filter(imports::status.eq(ImportStatus::Running))
        .order(imports::started_at)
        .select((ImportRow::as_select(), imports::csv))
        .load(c))?;
    rows.into_iter()
        .map(|(row, csv)| Ok((row.record()?, csv)))
        .collect()
}

/// Records that `done` rows have been read.
pub fn advance(conn: &mut Conn<'_>, id: &str, done: u64) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(imports::table.find(id))
        .set(imports::done.eq(i64::try_from(done).unwrap_or(i64::MAX)))
        .execute(c))?;
    Ok(())
}

/// Ends the import: finished with its report, or stopped with the reason. The file is let go.
pub fn end(
    conn: &mut Conn<'_>,
    id: &str,
    outcome: &Result<ImportReport, String>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let (status, report, error) = match outcome {
        Ok(report) => (
            ImportStatus::Finished,
            Some(serde_json::to_string(report).expect("a report serializes")),
            None,
        ),
        Err(why) => (ImportStatus::Stopped, None, Some(why.clone())),
    };
    with_conn!(conn, c => diesel::update(imports::table.find(id))
        .set((
            imports::status.eq(status),
            imports::report.eq(report),
            imports::error.eq(error),
            imports::csv.eq(""),
            imports::finished_at.eq(Some(at.naive_utc())),
        ))
        .execute(c))?;
    Ok(())
}
