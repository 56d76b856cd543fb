//! A minimal SMTP sink for benchmarks: accepts every message on 127.0.0.1 and discards it,
//! printing a running count once a second. `cargo run --release --example smtp_sink -- 2525`
//! Stops by itself after `--seconds` (default 600) so a forgotten sink never lingers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(2525);
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            println!("received {}", counter.load(Ordering::Relaxed));
        }
    });
    let accept = async {
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(session(stream, received.clone()));
        }
        #[allow(unreachable_code)]
        Ok::<_, std::io::Error>(())
    };
    tokio::select! {
        result = accept => result,
        _ = tokio::time::sleep(Duration::from_secs(seconds)) => Ok(()),
    }
}

async fn session(stream: TcpStream, received: Arc<AtomicU64>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
            }
            received.fetch_add(1, Ordering::Relaxed);
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            return write.write_all(b"221 bye\r\n").await;
        } else if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write.write_all(b"250 sink\r\n").await?;
        } else {
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}
