use crate::domain::actor::Actor;
use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::domain::ids::PerformanceId;
use crate::service::import::import_csv;

/// Exit status 0 when every row is issued (now or before); 3 when some rows were rejected.
pub fn run(path: &Path, performance_id: i64, batch_size: usize) -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let total_rows = File::open(path)
        .map(|f| {
            std::io::BufRead::lines(std::io::BufReader::new(f))
                .count()
                .saturating_sub(1)
        })
        .unwrap_or(0);
    let bar = ProgressBar::new(total_rows as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({per_sec}, eta {eta})",
        )
        .expect("a valid template"),
    );
    let report = import_csv(
        &encore,
        PerformanceId(performance_id),
        file,
        batch_size,
        &Actor::Operator,
        |done| bar.set_position(done),
    )?;
    bar.finish_and_clear();

    println!(
        "{} rows: {} issued, {} already issued before, {} rejected",
        report.rows,
        report.issued,
        report.already_issued,
        report.rejected.len()
    );
    for rejected in &report.rejected {
        println!("  line {}: {}", rejected.line, rejected.reason);
    }
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
