//! Operational metrics, rendered as Prometheus text by `GET /metrics`.
//!
//! Each `Encore` (the services' handle) owns its recorder (no global one): a process's numbers
//! are its own, and tests in one process do not count each other's requests. Recording goes
//! through handles registered up front, so the door's hot path pays one atomic increment per
//! scan and allocates nothing. Values that live in the database (outbox depth, the oldest unsent
//! email) and the pool's state are read when Prometheus scrapes, not kept up to date: the
//! services read them (`service::outbox::metrics_snapshot`) and this module renders them.
//!
//! With metrics off (`metrics_enabled = false`) every handle is a no-op and nothing is rendered:
//! the same binary can be measured with and without them.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

use crate::db::PoolState;
use crate::domain::outbox::EmailStatus;
use crate::domain::ScanOutcome;

const SCANS: &str = "encore_scans_total";
const OFFLINE_SCANS: &str = "encore_offline_scans_total";
const HTTP_REQUESTS: &str = "encore_http_requests_total";
const HTTP_DURATION: &str = "encore_http_request_duration_seconds";
const EMAILS_SENT: &str = "encore_emails_sent_total";
const EMAIL_FAILURES: &str = "encore_email_send_failures_total";
const SMTP_STALLS: &str = "encore_smtp_stalls_total";
const WEBHOOKS_DELIVERED: &str = "encore_webhook_deliveries_total";
const WEBHOOK_FAILURES: &str = "encore_webhook_delivery_failures_total";
const OUTBOX_EMAILS: &str = "encore_outbox_emails";
const OUTBOX_OLDEST: &str = "encore_outbox_oldest_pending_age_seconds";
const POOL_IN_USE: &str = "encore_db_pool_connections_in_use";
const POOL_IDLE: &str = "encore_db_pool_connections_idle";
const POOL_MAX: &str = "encore_db_pool_connections_max";

/// Latency buckets, in seconds: the door answers in milliseconds, bulk issuance in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Drains recorded latencies into their histograms, so memory stays bounded between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Handles are registered outside any `metrics!` macro call site, so they carry no call-site
/// metadata worth the name.
const METADATA: Metadata<'static> = Metadata::new("encore", Level::INFO, Some(module_path!()));

/// This process's metrics. Cheap to share (`Arc`); every method may be called from any thread.
pub struct Metrics {
    exporter: Option<Exporter>,
    /// One counter per scan outcome, indexed by the outcome's position in [`ScanOutcome::ALL`].
    scans: [Counter; ScanOutcome::ALL.len()],
    /// The same for scans made offline and uploaded later.
    offline_scans: [Counter; ScanOutcome::ALL.len()],
    emails_sent: Counter,
    email_retried: Counter,
    email_gave_up: Counter,
    smtp_stalls: Counter,
    webhooks_delivered: Counter,
    webhook_failures: Counter,
}

/// The recorder and the gauges set at scrape time.
struct Exporter {
    recorder: PrometheusRecorder,
    /// One gauge per outbox status, set even when no email is in it (a missing series reads as
    /// "unknown" to an alert, zero as "none").
    outbox_emails: Vec<(&'static str, Gauge)>,
    outbox_oldest: Gauge,
    pool_in_use: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
}

/// What a scrape reads from the database and the pool.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub pool: PoolState,
    /// Emails in the outbox by their stored status.
    pub outbox_by_status: BTreeMap<String, i64>,
    /// Seconds since the oldest email still waiting was queued; 0 when none waits.
    pub oldest_pending_age_seconds: f64,
}

impl Metrics {
    /// Metrics that record nothing and render nothing.
    pub fn disabled() -> Arc<Metrics> {
        Arc::new(Metrics {
            exporter: None,
            scans: std::array::from_fn(|_| Counter::noop()),
            offline_scans: std::array::from_fn(|_| Counter::noop()),
            emails_sent: Counter::noop(),
            email_retried: Counter::noop(),
            email_gave_up: Counter::noop(),
            smtp_stalls: Counter::noop(),
            webhooks_delivered: Counter::noop(),
            webhook_failures: Counter::noop(),
        })
    }

    /// A recorder of our own (the exporter's HTTP listener stays off: `/metrics` is our route),
    /// every fixed series registered and described, and a thread that keeps it tidy for as long
    /// as the metrics live.
    pub fn enabled() -> Arc<Metrics> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        describe(&recorder);
        let counter = |name: &'static str, labels: &'static [Label]| {
            recorder.register_counter(&Key::from_static_parts(name, labels), &METADATA)
        };
        let gauge =
            |name: &'static str| recorder.register_gauge(&Key::from_static_name(name), &METADATA);
        let by_outcome = |name: &'static str| {
            std::array::from_fn(|i| {
                let key = Key::from_parts(name, &[("outcome", ScanOutcome::ALL[i].code())]);
                recorder.register_counter(&key, &METADATA)
            })
        };
        static RETRY: [Label; 1] = [Label::from_static_parts("outcome", "retry")];
        static GAVE_UP: [Label; 1] = [Label::from_static_parts("outcome", "gave_up")];
        let metrics = Metrics {
            scans: by_outcome(SCANS),
            offline_scans: by_outcome(OFFLINE_SCANS),
            emails_sent: counter(EMAILS_SENT, &[]),
            email_retried: counter(EMAIL_FAILURES, &RETRY),
            email_gave_up: counter(EMAIL_FAILURES, &GAVE_UP),
            smtp_stalls: counter(SMTP_STALLS, &[]),
            webhooks_delivered: counter(WEBHOOKS_DELIVERED, &[]),
            webhook_failures: counter(WEBHOOK_FAILURES, &[]),
            exporter: Some(Exporter {
                outbox_emails: EmailStatus::ALL
                    .iter()
                    .map(|status| {
                        let state = status.as_str();
                        let key = Key::from_parts(OUTBOX_EMAILS, &[("status", state)]);
                        (state, recorder.register_gauge(&key, &METADATA))
                    })
                    .collect(),
                outbox_oldest: gauge(OUTBOX_OLDEST),
                pool_in_use: gauge(POOL_IN_USE),
                pool_idle: gauge(POOL_IDLE),
                pool_max: gauge(POOL_MAX),
                recorder,
            }),
        };
        let metrics = Arc::new(metrics);
        keep_tidy(Arc::downgrade(&metrics));
        metrics
    }

    pub fn is_enabled(&self) -> bool {
        self.exporter.is_some()
    }

    /// One scan answered. An atomic increment: no lookup, no allocation.
    #[inline]
    pub fn scanned(&self, outcome: ScanOutcome) {
        self.scans[outcome as usize].increment(1);
    }

    /// One offline scan merged from an upload (a replayed upload is not counted again).
    pub fn scanned_offline(&self, outcome: ScanOutcome) {
        self.offline_scans[outcome as usize].increment(1);
    }

    pub fn emails_sent(&self, count: u64) {
        self.emails_sent.increment(count);
    }

    /// A failed send: to be retried, or the last attempt.
    pub fn email_send_failed(&self, gave_up: bool) {
        if gave_up {
            self.email_gave_up.increment(1);
        } else {
            self.email_retried.increment(1);
        }
    }

    /// Webhook deliveries an endpoint acknowledged (2xx).
    pub fn webhooks_delivered(&self, count: u64) {
        self.webhooks_delivered.increment(count);
    }

    /// Webhook delivery attempts that failed (to be tried again).
    pub fn webhooks_failed(&self, count: u64) {
        self.webhook_failures.increment(count);
    }

    /// An SMTP step that got no answer in time (its connection is dropped).
    pub fn smtp_stalled(&self) {
        self.smtp_stalls.increment(1);
    }

    /// The request counter and latency histogram of one route, method and status. Registering
    /// allocates: callers keep the handles (see `http::metrics`). `route` is the route's
    /// pattern, never the raw path (which may hold a patron's link token).
    pub fn request_handles(
        &self,
        method: &'static str,
        route: &str,
        status: u16,
    ) -> (Counter, Histogram) {
        let Some(exporter) = &self.exporter else {
            return (Counter::noop(), Histogram::noop());
        };
        let labels = vec![
            Label::from_static_parts("method", method),
            Label::new("route", route.to_string()),
            Label::new("status", status.to_string()),
        ];
        let recorder = &exporter.recorder;
        (
            recorder.register_counter(&Key::from_parts(HTTP_REQUESTS, labels.clone()), &METADATA),
            recorder.register_histogram(&Key::from_parts(HTTP_DURATION, labels), &METADATA),
        )
    }

    /// The Prometheus text, with the scrape-time gauges set from `snapshot`; `None` when
    /// metrics are off.
    pub fn render(&self, snapshot: &Snapshot) -> Option<String> {
        let exporter = self.exporter.as_ref()?;
        let pool = &snapshot.pool;
        exporter
            .pool_in_use
            .set(f64::from(pool.connections - pool.idle));
        exporter.pool_idle.set(f64::from(pool.idle));
        exporter.pool_max.set(f64::from(pool.max_size));
        let by_status: &BTreeMap<String, i64> = &snapshot.outbox_by_status;
        for (state, gauge) in &exporter.outbox_emails {
            gauge.set(by_status.get(*state).copied().unwrap_or(0) as f64);
        }
        // A state this build does not know still shows up.
        for (state, &count) in by_status {
            if EmailStatus::from_stored(state).is_none() {
                let key = Key::from_parts(OUTBOX_EMAILS, &[("status", state.clone())]);
                exporter
                    .recorder
                    .register_gauge(&key, &METADATA)
                    .set(count as f64);
            }
        }
        exporter
            .outbox_oldest
            .set(snapshot.oldest_pending_age_seconds);
        Some(exporter.recorder.handle().render())
    }
}

fn describe(recorder: &PrometheusRecorder) {
    let describe = |name: &'static str, kind: Kind, unit: Option<Unit>, help: &'static str| {
        let name = KeyName::from_const_str(name);
        match kind {
            Kind::Counter => recorder.describe_counter(name, unit, help.into()),
            Kind::Gauge => recorder.describe_gauge(name, unit, help.into()),
            Kind::Histogram => recorder.describe_histogram(name, unit, help.into()),
        }
    };
    use Kind::*;
    describe(SCANS, Counter, None, "Scans answered, by outcome.");
    describe(
        WEBHOOKS_DELIVERED,
        Counter,
        None,
        "Webhook deliveries acknowledged by their endpoint (2xx).",
    );
    describe(
        WEBHOOK_FAILURES,
        Counter,
        None,
        "Webhook delivery attempts that failed (no answer or not 2xx); each is tried again.",
    );
    describe(
        OFFLINE_SCANS,
        Counter,
        None,
        "Offline scans merged from uploads, by outcome.",
    );
    describe(
        HTTP_REQUESTS,
        Counter,
        None,
        "HTTP requests, by method, route pattern and status.",
    );
    describe(
        HTTP_DURATION,
        Histogram,
        Some(Unit::Seconds),
        "Time to answer an HTTP request, by method, route pattern and status.",
    );
    describe(
        EMAILS_SENT,
        Counter,
        None,
        "Emails handed to the transport.",
    );
    describe(
        EMAIL_FAILURES,
        Counter,
        None,
        "Failed email sends: outcome=retry (will be tried again) or gave_up (marked failed).",
    );
    describe(
        SMTP_STALLS,
        Counter,
        None,
        "SMTP steps (connect, greeting, STARTTLS, AUTH, pool wait, NOOP, send) that got no answer \
         in time; each drops its connection.",
    );
    describe(
        OUTBOX_EMAILS,
        Gauge,
        None,
        "Emails in the outbox, by status (read from the database at scrape time).",
    );
    describe(
        OUTBOX_OLDEST,
        Gauge,
        Some(Unit::Seconds),
        "Age of the oldest email not yet sent (pending or being sent); 0 when none.",
    );
    describe(
        POOL_IN_USE,
        Gauge,
        None,
        "Database connections lent out by this process's pool.",
    );
    describe(
        POOL_IDLE,
        Gauge,
        None,
        "Idle database connections in the pool.",
    );
    describe(
        POOL_MAX,
        Gauge,
        None,
        "The pool's size limit (db_pool_size).",
    );
}

enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Runs the exporter's upkeep every few seconds until the metrics are dropped.
fn keep_tidy(metrics: Weak<Metrics>) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            let Some(metrics) = metrics.upgrade() else {
                return;
            };
            if let Some(exporter) = &metrics.exporter {
                exporter.recorder.handle().run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms are drained at scrape time only");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_counters_are_indexed_by_outcome() {
        for (i, outcome) in ScanOutcome::ALL.into_iter().enumerate() {
            assert_eq!(outcome as usize, i, "{outcome:?}");
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            pool: PoolState {
                connections: 3,
                idle: 1,
                max_size: 8,
            },
            outbox_by_status: [("pending".to_string(), 4), ("sent".to_string(), 9)]
                .into_iter()
                .collect(),
            oldest_pending_age_seconds: 12.0,
        }
    }

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let metrics = Metrics::enabled();
        metrics.scanned(ScanOutcome::Admitted);
        metrics.scanned(ScanOutcome::AlreadyAdmitted);
        metrics.scanned(ScanOutcome::AlreadyAdmitted);
        metrics.email_send_failed(false);
        let (requests, latency) = metrics.request_handles("POST", "/api/v1/scans", 200);
        requests.increment(1);
        latency.record(0.003);
        let text = metrics.render(&snapshot()).unwrap();
        for line in [
            r#"encore_scans_total{outcome="admitted"} 1"#,
            r#"encore_scans_total{outcome="already_admitted"} 2"#,
            r#"encore_scans_total{outcome="canceled"} 0"#,
            r#"encore_email_send_failures_total{outcome="retry"} 1"#,
            r#"encore_http_requests_total{method="POST",route="/api/v1/scans",status="200"} 1"#,
            r#"encore_http_request_duration_seconds_bucket{method="POST",route="/api/v1/scans",status="200",le="0.005"} 1"#,
            r#"encore_outbox_emails{status="pending"} 4"#,
            r#"encore_outbox_emails{status="failed"} 0"#,
            "encore_outbox_oldest_pending_age_seconds 12",
            "encore_db_pool_connections_in_use 2",
            "encore_db_pool_connections_max 8",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from\n{text}"
            );
        }
        assert!(text.contains("# HELP encore_scans_total Scans answered, by outcome."));
    }

    /// Counts the allocations made on the current thread, to prove the door's recording
    /// makes none.
    mod counting {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
        }

        pub struct Counting;

        // SAFETY: every call is passed to the system allocator unchanged.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                System.alloc(layout)
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                System.dealloc(ptr, layout)
            }

            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                System.realloc(ptr, layout, new_size)
            }
        }

        pub fn on_this_thread() -> usize {
            ALLOCATIONS.with(Cell::get)
        }
    }

    #[global_allocator]
    static ALLOCATOR: counting::Counting = counting::Counting;

    #[test]
    fn recording_a_scan_allocates_nothing() {
        let before = counting::on_this_thread();
        std::hint::black_box(Box::new(1_u64));
        assert_eq!(counting::on_this_thread() - before, 1, "the counter counts");
        for metrics in [Metrics::enabled(), Metrics::disabled()] {
            metrics.scanned(ScanOutcome::Admitted);
            let before = counting::on_this_thread();
            for outcome in ScanOutcome::ALL.into_iter().cycle().take(10_000) {
                metrics.scanned(outcome);
            }
            assert_eq!(counting::on_this_thread() - before, 0);
        }
        let metrics = Metrics::enabled();
        for _ in 0..10_000 {
            metrics.scanned(ScanOutcome::Canceled);
        }
        let text = metrics.render(&snapshot()).unwrap();
        assert!(has(
            &text,
            r#"encore_scans_total{outcome="canceled"} 10000"#
        ));
    }

    fn has(text: &str, line: &str) -> bool {
        text.lines().any(|l| l == line)
    }

    #[test]
    fn disabled_metrics_render_nothing() {
        let metrics = Metrics::disabled();
        metrics.scanned(ScanOutcome::Admitted);
        assert!(!metrics.is_enabled());
        assert_eq!(metrics.render(&snapshot()), None);
    }
}
