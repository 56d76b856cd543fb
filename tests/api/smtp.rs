//! A real SMTP server on loopback for the email tests: it speaks enough of RFC 5321 for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it accepts, and can be
//! stopped and started again on the same port, or slowed down, to test delivery under failure.
//! It can also stall (hold connections open and never answer) or reject every recipient with a
//! permanent 5xx.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::helpers::{Backend, Deadline, TestApp};
use encore::worker::Worker;

/// One accepted message: the envelope and the raw RFC 5322 text.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable message")
    }

    pub fn message_id(&self) -> String {
        format!("<{}>", self.parsed().message_id().expect("a Message-ID"))
    }
}

pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    /// Milliseconds to wait before accepting each message's data.
    delay_ms: Arc<AtomicU64>,
    faults: Arc<Faults>,
    tasks: Option<JoinSet<()>>,
}

/// Misbehaviour switched on by a test.
#[derive(Default)]
struct Faults {
    /// New connections get no greeting, and a message's data gets no answer, ever.
    stalled: AtomicBool,
    /// Every `RCPT TO` is answered `550`.
    rejecting: AtomicBool,
    /// How many `RCPT TO` were rejected.
    rejected: AtomicU64,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let mut server = SmtpServer {
            port: 0,
            inbox: Arc::default(),
            delay_ms: Arc::default(),
            faults: Arc::default(),
            tasks: None,
        };
        server.listen().await;
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// (Re)starts listening on the same port (a fresh port the first time).
    pub async fn listen(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the SMTP port");
        self.port = listener.local_addr().unwrap().port();
        let (inbox, delay) = (self.inbox.clone(), self.delay_ms.clone());
        let faults = self.faults.clone();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut sessions = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(
                    stream,
                    inbox.clone(),
                    delay.clone(),
                    faults.clone(),
                ));
            }
        });
        self.tasks = Some(tasks);
    }

    /// Goes down: the port refuses connections and open sessions are cut.
    pub async fn stop(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.shutdown().await;
        }
    }

    pub fn slow_down(&self, per_message: Duration) {
        self.delay_ms
            .store(per_message.as_millis() as u64, Ordering::SeqCst);
    }

    /// Stops answering (`true`): connections opened from now on get no greeting, and messages
    /// sent from now on get no answer to their data; those connections stay stalled for good.
    /// `false`: new connections are served again.
    pub fn stall(&self, stalled: bool) {
        self.faults.stalled.store(stalled, Ordering::SeqCst);
    }

    /// Rejects (`true`) every recipient with `550`, a permanent failure.
    pub fn reject_recipients(&self, rejecting: bool) {
        self.faults.rejecting.store(rejecting, Ordering::SeqCst);
    }

    /// How many recipients were rejected so far.
    pub fn rejected(&self) -> u64 {
        self.faults.rejected.load(Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until at least `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} messages, got {}", self.messages().len());
    }
}

/// An app whose mail server is down (it listened when the app started, then stopped): sends
/// fail, and the worker gives up after two attempts. The server, to listen again.
pub async fn app_with_mail_down(backend: Backend) -> (TestApp, SmtpServer) {
    let mut smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = Some(url);
        c.email_max_attempts = 2;
    })
    .await;
    smtp.stop().await;
    (app, smtp)
}

/// Runs delivery rounds until one claims something (a retry comes due); how many it claimed.
pub async fn next_round_with_mail(worker: &Worker) -> usize {
    let deadline = Deadline::after(Duration::from_secs(10));
    loop {
        match worker.deliver_due().await.unwrap() {
            0 => deadline.retry("an email comes due").await,
            claimed => return claimed,
        }
    }
}

/// Holds a connection open without a word, for as long as the server runs.
async fn stall_forever(faults: &Faults) {
    if faults.stalled.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
}

async fn session(
    stream: TcpStream,
    inbox: Arc<Mutex<Vec<Received>>>,
    delay: Arc<AtomicU64>,
    faults: Arc<Faults>,
) {
    stall_forever(&faults).await;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(b"220 127.0.0.1 ESMTP test server\r\n")
        .await
        .is_err()
    {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let answer: &str = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 127.0.0.1\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().trim_matches(['<', '>']).to_string();
            to.clear();
            "250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") && faults.rejecting.load(Ordering::SeqCst) {
            faults.rejected.fetch_add(1, Ordering::SeqCst);
            "550 5.1.1 mailbox unavailable\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim().trim_matches(['<', '>']).to_string());
            "250 OK\r\n"
        } else if upper == "DATA" {
            if write
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(unstuffed.as_bytes());
            }
            stall_forever(&faults).await;
            let wait = delay.load(Ordering::SeqCst);
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            inbox.lock().unwrap().push(Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            });
            "250 OK queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            "502 not implemented\r\n"
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
