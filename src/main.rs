use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use encore::cli;
use encore::domain::Role;

/// Encore: signed QR tickets, atomic door scans, and the patron's journey around them.
#[derive(Debug, Parser)]
#[command(name = "encore", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve {
        /// Listen address, overriding ENCORE_BIND (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run only the email worker (when `encore serve` runs with ENCORE_RUN_WORKER=false).
    Worker,
    /// The email outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Staff API keys and token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Issue tickets from a CSV file (columns: holder_name, holder_email, price_minor,
    /// currency, and optionally seat, section, ref). Safe to run again: nothing is issued twice.
    Import {
        file: PathBuf,
        #[arg(long)]
        performance: i64,
        /// Tickets per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Emails by state, and the age of the oldest one not yet sent.
    Status,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a staff API key; its secret is printed once.
    Create {
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        name: String,
    },
    /// List staff API keys (never their secrets).
    List,
    /// Revoke a staff API key by id.
    Revoke { id: i64 },
    /// Add a new token signing key; older keys keep verifying until retired.
    Rotate,
    /// Retire a token signing key: tokens signed with it stop admitting.
    Retire { kid: String },
    /// List token signing keys.
    Signing,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { bind } => cli::serve::run(bind),
        Command::Migrate => cli::migrate::run(),
        Command::Worker => cli::outbox::worker(),
        Command::Outbox {
            command: OutboxCommand::Status,
        } => cli::outbox::status(),
        Command::Keys { command } => match command {
            KeysCommand::Create { role, name } => cli::keys::create(role, &name),
            KeysCommand::List => cli::keys::list(),
            KeysCommand::Revoke { id } => cli::keys::revoke(id),
            KeysCommand::Rotate => cli::keys::rotate(),
            KeysCommand::Retire { kid } => cli::keys::retire(&kid),
            KeysCommand::Signing => cli::keys::signing(),
        },
        Command::Import {
            file,
            performance,
            batch_size,
        } => cli::import::run(&file, performance, batch_size),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
