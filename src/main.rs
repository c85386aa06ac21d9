//! The `minnow` command: `minnow server ...` runs the object store, `minnow bench ...` the load
//! generator and drive benchmark.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use minnow::config::{self, ServerConfig};
use minnow::{bench, server, topology};

#[derive(Parser, Debug)]
#[command(
    name = "minnow",
    version,
    about = "S3-compatible, erasure-coded object store"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve S3 from local drive directories.
    Server(ServerArgs),
    /// Load generator and drive benchmark.
    Bench(bench::BenchArgs),
}

#[derive(clap::Args, Debug)]
struct ServerArgs {
    /// Address to listen on (port 0 picks a free port, printed in the banner).
    #[arg(long, default_value = "0.0.0.0:9000", env = "MINNOW_ADDRESS")]
    address: SocketAddr,
    /// Cores to run on (default: every CPU this process may use).
    #[arg(long)]
    cores: Option<usize>,
    /// Drive directories: a list, or MinIO ellipses such as '/data/disk{1...4}' (quoted).
    #[arg(required = true)]
    drives: Vec<String>,
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Server(args) => match server_config(args).and_then(server::run) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("minnow: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Bench(args) => bench::run(args),
    }
}

fn server_config(args: ServerArgs) -> Result<ServerConfig, String> {
    let set_size_override = match config::env_var("MINNOW_ERASURE_SET_DRIVE_COUNT") {
        Some(v) => Some(
            v.parse::<usize>()
                .map_err(|_| format!("MINNOW_ERASURE_SET_DRIVE_COUNT={v:?} is not a number"))?,
        ),
        None => None,
    };
    let topology = topology::build(&args.drives, set_size_override).map_err(|e| e.to_string())?;
    let storage = config::storage_classes(
        topology.set_size,
        config::env_var("MINNOW_STORAGE_CLASS_STANDARD"),
        config::env_var("MINNOW_STORAGE_CLASS_RRS"),
    )
    .map_err(|e| e.to_string())?;
    let sweep = config::sweep_config(
        config::env_var("MINNOW_API_STALE_UPLOADS_EXPIRY"),
        config::env_var("MINNOW_API_STALE_UPLOADS_CLEANUP_INTERVAL"),
    )
    .map_err(|e| e.to_string())?;
    let (access_key, secret_key, credential_source) =
        config::credentials().map_err(|e| e.to_string())?;
    let mut cpus = config::allowed_cpus();
    if let Some(n) = args.cores {
        if n == 0 || n > cpus.len() {
            return Err(format!(
                "--cores {n}: this process may use {} CPU(s)",
                cpus.len()
            ));
        }
        cpus.truncate(n);
    }
    Ok(ServerConfig {
        address: args.address,
        cpus,
        topology,
        access_key,
        secret_key,
        credential_source,
        domain: config::env_var("MINNOW_DOMAIN"),
        storage,
        region: config::region(config::env_var("MINNOW_REGION")).map_err(|e| e.to_string())?,
        sweep,
        limits: config::limits().map_err(|e| e.to_string())?,
    })
}

/// Logs go to stderr; `RUST_LOG` filters. glommio's memlock warning (registered buffers
/// unavailable under an 8 MiB memlock limit) and its poll-ring probe error are expected and
/// harmless (GLOMMIO.md sections 1-2), so they are silenced by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,glommio::sys::uring=error,glommio::reactor=off")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
