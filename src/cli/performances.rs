use crate::domain::actor::Actor;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::domain::ids::PerformanceId;
use crate::service::cancellations::{self, Reason};

/// Cancels a performance in the foreground with a progress bar: starts its job, or resumes the
/// one a stopped run (or the service) left unfinished.
pub fn cancel(
    performance_id: i64,
    reason: &str,
    holders_per_batch: i64,
    pause: Duration,
) -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let performance_id = PerformanceId(performance_id);
    let reason = Reason::parse(reason)?;
    let (job, started) = cancellations::begin_performance_cancellation(
        &encore,
        performance_id,
        &reason,
        &Actor::Operator,
    )?;
    if started {
        println!(
            "canceling performance {performance_id}: {} tickets",
            job.progress.total
        );
    } else {
        println!(
            "resuming the cancellation of performance {performance_id} (started {}, reason {:?}): {} of {} tickets canceled",
            job.started_at.naive_utc(), job.reason, job.progress.canceled, job.progress.total
        );
    }
    let bar = ProgressBar::new(job.progress.total as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} tickets ({per_sec}, eta {eta})",
        )
        .expect("a valid template"),
    );
    bar.set_position(job.progress.canceled as u64);
    let done = cancellations::run_to_end(&encore, job.id, holders_per_batch, pause, |job| {
        bar.set_length(job.progress.total as u64);
        bar.set_position(job.progress.canceled as u64);
    })?;
    bar.finish_and_clear();
    println!(
        "performance {performance_id} canceled: {} tickets canceled{}; holders are emailed by the worker",
        done.progress.canceled,
        if done.refund_to_credit {
            ", each credited its price"
        } else {
            ", no credit (the event's policy)"
        }
    );
    Ok(ExitCode::SUCCESS)
}
