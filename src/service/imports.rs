//! CSV imports started in the box-office console: the CLI's import (`import::import_csv`), run
//! in the background and kept in the database, so that its progress page can be read from any
//! process and a process stopped mid-import finishes it on its next start (running a file again
//! issues nothing twice, so the resumed run's report counts rows issued before the stop as
//! already issued).

use super::import::import_csv;
use super::{secrets, Encore, Error, Result};
use crate::db::{events, imports, staff_accounts};
use crate::domain::actor::Actor;
use crate::domain::ids::PerformanceId;
use crate::domain::import::{Import, ImportReport};
use crate::domain::staff::StaffAccount;
use crate::domain::Invalid;

/// The largest CSV the console imports at once, in bytes.
pub const MAX_CSV_BYTES: usize = 1 << 20;
/// Tickets per transaction, as `encore import` by default (clamped to `max_bulk_tickets`).
pub const IMPORT_BATCH: usize = 500;
/// Imports running at once; another is refused until one ends.
const MAX_RUNNING: i64 = 4;

/// Starts importing `csv` into the performance in the background, as `encore import` does,
/// its tickets issued by `staff`; the import's id. Refused when the file is empty or too large,
/// the performance does not exist or is canceled, or too many imports are running.
pub fn start(
    encore: &Encore,
    staff: &StaffAccount,
    performance_id: PerformanceId,
    csv: String,
) -> Result<String> {
    if csv.len() > MAX_CSV_BYTES {
        return Err(Invalid::new(
            "csv",
            format!("is larger than {} KiB", MAX_CSV_BYTES / 1024),
        )
        .into());
    }
    if csv.trim().is_empty() {
        return Err(Invalid::new("csv", "is empty: paste the file, header first").into());
    }
    let id = hex::encode(secrets::random_bytes::<16>()?);
    let total = csv.lines().count().saturating_sub(1) as u64;
    encore.db.write(|conn| -> Result<()> {
        let performance = events::find_performance(conn, performance_id)?
            .ok_or_else(|| Error::not_found("performance", performance_id))?;
        if performance.is_canceled() {
            return Err(Error::Conflict {
                code: "performance_canceled",
                message: format!("performance {performance_id} is canceled"),
            });
        }
        if imports::running_count(conn)? >= MAX_RUNNING {
            return Err(Error::Conflict {
                code: "too_many_imports",
                message: format!(
                    "{MAX_RUNNING} imports are running; try again when one has finished"
                ),
            });
        }
        imports::insert(
            conn,
            &imports::NewImport {
                id: &id,
                performance_id,
                staff_id: staff.id,
                csv: &csv,
                total,
                started_at: super::now(),
            },
        )?;
        Ok(())
    })?;
    run_in_background(
        encore.clone(),
        id.clone(),
        performance_id,
        csv,
        staff_actor(staff),
    );
    Ok(id)
}

/// The import, for the staff account that started it; `NotFound` for anyone else.
pub fn progress(encore: &Encore, staff: &StaffAccount, id: &str) -> Result<Import> {
    encore
        .db
        .read(|conn| imports::find(conn, id).map_err(Error::from))?
        .filter(|import| import.staff_id == staff.id)
        .ok_or_else(|| Error::not_found("import", id))
}

/// Finishes, in the background, every import a stopped process left running. Called once as
/// `encore serve` starts.
pub fn resume_unfinished(encore: &Encore) -> Result<()> {
    let unfinished = encore.db.read(|conn| -> Result<_> {
        let mut resumable = Vec::new();
        for (import, csv) in imports::unfinished(conn)? {
            let starter = staff_accounts::find(conn, import.staff_id)?;
            resumable.push((import, csv, starter));
        }
        Ok(resumable)
    })?;
    for (import, csv, starter) in unfinished {
        tracing::info!(import = %import.id, "resuming a console import");
        // Tickets name their author; an account removed since is named as the operator.
        let by = starter.as_ref().map_or(Actor::Operator, staff_actor);
        run_in_background(encore.clone(), import.id, import.performance_id, csv, by);
    }
    Ok(())
}

fn staff_actor(staff: &StaffAccount) -> Actor {
    Actor::Staff {
        name: staff.display_name.clone(),
        role: staff.role,
    }
}

fn run_in_background(
    encore: Encore,
    id: String,
    performance_id: PerformanceId,
    csv: String,
    by: Actor,
) {
    let spawned = std::thread::Builder::new()
        .name("console-import".into())
        .spawn(move || {
            let outcome = run(&encore, &id, performance_id, &csv, &by);
            if let Err(e) = &outcome {
                tracing::warn!(import = %id, error = %e, "console import stopped");
            }
            let ended = encore.db.write(|conn| -> Result<()> {
                if let Ok(report) = &outcome {
                    imports::advance(conn, &id, report.rows)?;
                }
                imports::end(conn, &id, &outcome, super::now())?;
                Ok(())
            });
            // Left running, it is resumed by the next start.
            if let Err(e) = ended {
                tracing::error!(import = %id, error = %e, "console import's end not recorded");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the import thread");
    }
}

fn run(
    encore: &Encore,
    id: &str,
    performance_id: PerformanceId,
    csv: &str,
    by: &Actor,
) -> std::result::Result<ImportReport, String> {
    import_csv(
        encore,
        performance_id,
        csv.as_bytes(),
        IMPORT_BATCH,
        by,
        |done| {
            // Progress is a courtesy: a failed write leaves the bar behind, not the import.
            if let Err(e) = encore
                .db
                .write(|conn| imports::advance(conn, id, done).map_err(Error::from))
            {
                tracing::warn!(import = %id, error = %e, "import progress not recorded");
            }
        },
    )
    .map_err(|e| e.to_string())
}
