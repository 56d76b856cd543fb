//! Group commit for the door. Scans that arrive together are written together: a writer thread
//! takes every scan waiting in its queue, applies them one after another inside one
//! transaction (each admission is still its own conditional write, in arrival order), commits
//! once, and only then answers each scanner. One fsync serves the whole batch, and no answer
//! runs ahead of its commit: "admitted" always means "on disk".
//!
//! Correctness does not rest on the single thread: two scans of one ticket in a batch meet the
//! same conditional write (the second sees the first's admission), and other processes are held
//! off by the database's row locks (PostgreSQL) or write lock (SQLite).

use std::collections::HashMap;
use std::thread;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::door::{queue_greetings, Admission, LobbyMail};
use super::scans::{
    admit_or_explain, enforce_door_rules, explain, performances_named, presented, record_all,
    refuse_by_door_rules, Attempt, ScanResult, Verdict,
};
use super::{Error, Settings};
use crate::db::door::{self, DoorRules};
use crate::db::tickets;
use crate::db::{Backend, Conn, Db};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::rotating::CodeKind;
use crate::domain::scan::admits_online;
use crate::domain::ticket::Ticket;

/// Most scans in one transaction: large enough to amortise a commit under any door rush,
/// small enough that a batch never takes long.
const MAX_BATCH: usize = 512;

/// Queued scans waiting for a writer; beyond this, scanners wait for room (backpressure).
const QUEUE_DEPTH: usize = 8192;

struct Job {
    attempt: Attempt,
    reply: oneshot::Sender<Result<ScanResult, Error>>,
}

/// The handle scanners submit to; cheap to clone.
#[derive(Clone)]
pub struct ScanWriter {
    queue: mpsc::Sender<Job>,
}

impl ScanWriter {
    /// Starts the writer threads: one for SQLite (it has one writer anyway), `postgres_writers`
    /// for PostgreSQL, whose row locks let batches overlap. Admissions queue their lobby
    /// emails through `lobby`; `settings` give the door's windows and leeways.
    pub fn start(
        db: Db,
        postgres_writers: usize,
        lobby: LobbyMail,
        settings: Settings,
    ) -> ScanWriter {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => postgres_writers.max(1),
        };
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..writers {
            let (db, receiver, lobby) = (db.clone(), receiver.clone(), lobby.clone());
            let settings = settings.clone();
            thread::Builder::new()
                .name(format!("scan-writer-{n}"))
                .spawn(move || write_batches(&db, &lobby, &settings, &receiver))
                .expect("the scan writer thread starts");
        }
        ScanWriter { queue }
    }

    /// Applies one scan attempt; answers once it is committed.
    pub async fn submit(&self, attempt: Attempt) -> Result<ScanResult, Error> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { attempt, reply })
            .await
            .map_err(|_| Error::Internal("the scan writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the scan writer dropped a scan".into()))?
    }
}

/// A batch's answers, and how many lobby emails its admissions queued.
type Written = (Vec<ScanResult>, usize);

/// Applies a batch, records every attempt, and queues the lobby emails of its admissions (at
/// most one email per ticket, never for a refusal). The performances' door rules are read
/// first, once per batch, and turn away the codes they refuse (a static code of a rotating
/// event; a rotating code before its reveal or outside the scan window).
fn apply(
    conn: &mut Conn<'_>,
    lobby: &LobbyMail,
    settings: &Settings,
    batch: &mut [Job],
) -> Result<Written, Error> {
    let (rules, results) = match conn {
        Conn::Postgres(pg) => apply_postgres(pg, settings, batch)?,
        Conn::Sqlite(_) => {
            let rules = enforce_door_rules(settings, conn, &mut verdicts(batch))?;
            (rules, apply_one_by_one(conn, batch)?)
        }
    };
    let batch: &[Job] = batch;
    record_all(conn, batch.iter().map(|job| &job.attempt).zip(&results))?;
    let admitted: Vec<Admission> = results
        .iter()
        .filter(|r| r.outcome.is_admitted())
        .filter_map(|r| {
            Some(Admission {
                ticket_id: r.ticket_id?,
                performance_id: r.performance_id?,
            })
        })
        .collect();
    // No statement at all for a batch that admitted no one, nor for events without a message.
    let with_message: Vec<_> = rules
        .iter()
        .filter(|r| r.has_lobby_message)
        .map(|r| r.performance_id)
        .collect();
    let queued = if with_message.is_empty() {
        0
    } else {
        queue_greetings(
            conn,
            &admitted,
            &with_message,
            &lobby.message_id_domain,
            crate::service::now(),
        )?
    };
    Ok((results, queued))
}

/// Each scan's verdict, with what the door rules judge it by.
fn verdicts(batch: &mut [Job]) -> Vec<(&mut Verdict, CodeKind, DateTime<Utc>)> {
    batch
        .iter_mut()
        .map(|job| {
            let Attempt {
                verdict, code, at, ..
            } = &mut job.attempt;
            (verdict, *code, *at)
        })
        .collect()
}

/// Scan by scan, each its own conditional write. Every batch takes its ticket locks in
/// ascending ticket order, so concurrent batches (other writers, other processes) can wait for
/// each other but never deadlock. The sort is stable: two scans of one ticket keep their
/// arrival order, and the first one scanned is admitted. On SQLite, whose statements cost no
/// round trip, this is the whole door.
fn apply_one_by_one(conn: &mut Conn<'_>, batch: &[Job]) -> Result<Vec<ScanResult>, Error> {
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| batch[i].attempt.ticket_id());
    let mut results: Vec<Option<ScanResult>> = vec![None; batch.len()];
    for i in order {
        results[i] = Some(admit_or_explain(conn, &batch[i].attempt)?);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every scan applied"))
        .collect())
}

/// PostgreSQL, where every statement is a round trip: one reads and locks every ticket the
/// batch names, with its performance's door rules ([`door::lock_for_scans`]); the rules turn
/// away what they refuse; then, when every genuine scan names a different ticket, one
/// statement admits those that can be admitted ([`tickets::admit_locked`]; none at all when
/// none can, as when all are duplicates) and the others are explained from their locked rows.
/// One ticket scanned twice in a batch goes scan by scan, where arrival order decides.
fn apply_postgres(
    pg: &mut diesel::PgConnection,
    settings: &Settings,
    batch: &mut [Job],
) -> Result<(Vec<DoorRules>, Vec<ScanResult>), Error> {
    let mut ids: Vec<TicketId> = batch
        .iter()
        .filter_map(|job| job.attempt.ticket_id())
        .collect();
    let named = ids.len();
    ids.sort_unstable();
    ids.dedup();
    let scanned_twice = ids.len() < named;
    let locked = if ids.is_empty() {
        Vec::new()
    } else {
        door::lock_for_scans(pg, &ids)?
    };
    let mut rules: Vec<DoorRules> = Vec::new();
    let mut tickets: HashMap<TicketId, Ticket> = HashMap::with_capacity(locked.len());
    for (ticket, rule) in locked {
        if !rules
            .iter()
            .any(|r| r.performance_id == rule.performance_id)
        {
            rules.push(rule);
        }
        tickets.insert(ticket.id, ticket);
    }
    let mut verdicts = verdicts(batch);
    // A token naming a missing ticket, or one of another performance, may name a performance
    // whose rules no locked ticket brought along (never in normal operation).
    let unread: Vec<PerformanceId> = performances_named(&verdicts)
        .into_iter()
        .filter(|p| !rules.iter().any(|r| r.performance_id == *p))
        .collect();
    if !unread.is_empty() {
        rules.extend(door::door_rules(&mut Conn::Postgres(pg), &unread)?);
    }
    refuse_by_door_rules(settings, &rules, &mut verdicts);

    let batch: &[Job] = batch;
    let results = if scanned_twice {
        apply_one_by_one(&mut Conn::Postgres(pg), batch)?
    } else {
        admit_set_based(pg, batch, &tickets)?
    };
    Ok((rules, results))
}

/// [`apply_postgres`] when every genuine scan names a different ticket, each locked (or not on
/// record) in `tickets`.
fn admit_set_based(
    pg: &mut diesel::PgConnection,
    batch: &[Job],
    tickets: &HashMap<TicketId, Ticket>,
) -> Result<Vec<ScanResult>, Error> {
    let admissions: Vec<tickets::Admission<'_>> = batch
        .iter()
        .filter_map(|job| {
            let attempt = &job.attempt;
            let Verdict::Genuine(claims) = &attempt.verdict else {
                return None;
            };
            let ticket = tickets.get(&claims.ticket_id).map(Ticket::at_door);
            admits_online(ticket, presented(claims)).then_some(tickets::Admission {
                ticket_id: claims.ticket_id,
                performance_id: claims.performance_id,
                generation: claims.generation,
                at: attempt.at,
                gate: &attempt.scan.gate,
                device: &attempt.scan.device,
            })
        })
        .collect();
    let admitted: HashMap<TicketId, tickets::Admitted> = if admissions.is_empty() {
        HashMap::new()
    } else {
        tickets::admit_locked(pg, &admissions)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect()
    };
    Ok(batch
        .iter()
        .map(|job| {
            let attempt = &job.attempt;
            match &attempt.verdict {
                Verdict::Refused { outcome, claims } => {
                    ScanResult::refused(*outcome, claims.as_ref(), attempt.at)
                }
                Verdict::Genuine(claims) => match admitted.get(&claims.ticket_id) {
                    Some(holder) => ScanResult::admitted(
                        claims,
                        attempt.at,
                        holder.holder_name.clone(),
                        holder.seat.clone(),
                        holder.section.clone(),
                    ),
                    None => explain(tickets.get(&claims.ticket_id), claims, attempt.at),
                },
            }
        })
        .collect())
}

/// Writes a batch in one transaction; a transient conflict (a deadlock another client caused,
/// a serialization failure) rolls it back whole, so it is simply tried again.
fn write_with_retry(
    db: &Db,
    lobby: &LobbyMail,
    settings: &Settings,
    batch: &mut [Job],
) -> Result<Written, Error> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    loop {
        match db.write(|conn| apply(conn, lobby, settings, batch)) {
            Err(Error::Database(e)) if attempt < ATTEMPTS && is_transient(&e) => {
                tracing::warn!(error = %e, attempt, "retrying a batch of scans");
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn is_transient(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as E};
    match error {
        E::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        E::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// The writer loop: wait for one scan, take whatever else is waiting, write them all in one
/// transaction, answer. Ends when every [`ScanWriter`] handle is gone.
fn write_batches(
    db: &Db,
    lobby: &LobbyMail,
    settings: &Settings,
    receiver: &std::sync::Mutex<mpsc::Receiver<Job>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            // Several PostgreSQL writers share the queue; each takes a batch in turn.
            let mut queue = receiver.lock().unwrap_or_else(|e| e.into_inner());
            match queue.blocking_recv() {
                Some(job) => batch.push(job),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        // A panic must cost this batch its answers (each is told to scan again), not stop the
        // door: the writer goes on with the next batch.
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_with_retry(db, lobby, settings, &mut batch)
        }))
        .unwrap_or_else(|_| Err(Error::Internal("writing the batch panicked".into())));
        match written {
            Ok((results, lobby_emails)) => {
                if lobby_emails > 0 {
                    lobby.wakeup.notify_one(); // committed: the worker may send them now
                }
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(result)); // a scanner that gave up needs no answer
                }
            }
            Err(e) => {
                tracing::error!(error = %e, scans = batch.len(), "a batch of scans could not be written");
                let message = e.to_string();
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(Error::Unwritten(message.clone())));
                }
            }
        }
    }
}
