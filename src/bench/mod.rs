//! `minnow bench`: the bundled load generator and the drive benchmark.
//!
//! * `put | get | mixed | stat | delete` drive any S3 endpoint (minnow or another
//!   server) with minnow's own HTTP client (`minnow_net::http`) and SigV4 signer, thread-per-core:
//!   one glommio executor per CPU, each running its share of the `--concurrent` request streams
//!   on keep-alive connections spread over the `--host` list. Object bodies are generated (and
//!   hashed, for signed payloads) once before the run and shared by reference, so the generator
//!   is never the bottleneck; it reports its own CPU time per byte to prove it.
//! * `list` fills a bucket with many small objects (flat or in folders) and times full
//!   ListObjectsV2 paginations of it, checking every pass lists each key exactly once and
//!   comparing the first page's latency with the last's (module [`list`]).
//! * `drives DIR...` measures the physical ceilings (sequential O_DIRECT write and read, durable
//!   small-file commits) through the same io_uring stack the server uses.
//!
//! Output: a live progress line on stderr every second, a final table per operation on stdout
//! (count, MiB/s, obj/s, latency p50/p90/p99/p99.9/max, errors by S3 code), and with `--json
//! FILE` the same as JSON, a stable interface for scripts:
//! `{"ops": [{"op": "PUT", "count", "errors", "mib_per_s", "obj_per_s",
//!   "latency_ms": {"p50", "p90", "p99", "p999", "max"}}, ...], ...}` (more fields may be added,
//! none removed).
//! `list` writes the same `ops` (PUT for the fill, LIST and LISTDIR for the timed pages) plus
//! `fill` and `listings: [{"kind", "entries_per_pass", "keys_per_s", "first_page_ms",
//! "last_page_ms", "last_to_first_ratio", ...}]` (see [`list::ListReport`]).
//!
//! Module map: [`units`] (sizes, durations), [`stats`] (histograms, summaries, live counters),
//! [`report`] (table, JSON), [`payload`] (pre-generated bodies), [`cores`] (executors, CPU
//! clocks, phase gate), [`progress`] (the live line), [`s3`] (requests, signing, errors),
//! [`workload`] (what each worker does per phase), [`list`] (the listing benchmark: fill,
//! timed paginations, first page against last), [`drives`] (the drive benchmark).

pub mod cores;
pub mod drives;
pub mod list;
pub mod payload;
pub mod progress;
pub mod report;
pub mod s3;
pub mod stats;
pub mod units;
pub mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use units::{ByteSize, CliDuration};

/// `minnow bench ...`
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The bench subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Upload objects as fast as possible for --duration.
    Put(S3Args),
    /// Upload --objects objects, then download them at random for --duration.
    Get(S3Args),
    /// A mix of GET, STAT, PUT and DELETE over --objects objects.
    Mixed(MixedArgs),
    /// Upload --objects objects, then HEAD them at random for --duration.
    Stat(S3Args),
    /// Upload --objects objects, then delete them one by one (until done or --duration).
    Delete(S3Args),
    /// Fill a bucket with --keys small objects (flat or in --folders), then time full
    /// ListObjectsV2 paginations of it (see `bench::list`).
    List(Box<ListArgs>),
    /// Raw O_DIRECT throughput and durable small-commit rate of drive directories.
    Drives(drives::DrivesArgs),
}

/// How request bodies are signed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadMode {
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
    Unsigned,
    /// The SHA-256 of the body in the signature (precomputed once per body).
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked body, every chunk signed.
    Streaming,
}

/// Options shared by the S3 subcommands.
#[derive(clap::Args, Debug, Clone)]
pub struct S3Args {
    /// Endpoints, `host:port[,host:port...]`; requests are spread over them.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:9000")]
    pub host: Vec<String>,
    /// Access key (else $MINNOW_ROOT_USER, else $AWS_ACCESS_KEY_ID, else minnow's default).
    #[arg(long, env = "MINNOW_ROOT_USER", hide_env_values = true)]
    pub access_key: Option<String>,
    /// Secret key (else $MINNOW_ROOT_PASSWORD, else $AWS_SECRET_ACCESS_KEY, else minnow's default).
    #[arg(long, env = "MINNOW_ROOT_PASSWORD", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Region used in signatures.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Bucket to use; created if missing, removed afterwards unless --noclear.
    #[arg(long, default_value = "minnow-bench")]
    pub bucket: String,
    /// Object size (4KiB, 64MiB, ...); default 10MiB for put/get/mixed, 0 bytes for list, 1KiB
    /// otherwise.
    #[arg(long = "obj.size", value_name = "SIZE")]
    pub obj_size: Option<ByteSize>,
    /// Random object sizes, log-uniform between 1 KiB and --obj.size.
    #[arg(long = "obj.randsize")]
    pub obj_randsize: bool,
    /// Objects uploaded before the run (get, stat, delete, mixed).
    #[arg(long)]
    pub objects: Option<u64>,
    /// Concurrent requests (each on its own keep-alive connection).
    #[arg(long, default_value_t = 16)]
    pub concurrent: usize,
    /// Length of the measured run.
    #[arg(long, default_value = "30s")]
    pub duration: CliDuration,
    /// Payload signing.
    #[arg(long, value_enum, default_value_t = PayloadMode::Unsigned)]
    pub payload: PayloadMode,
    /// Write the results as JSON to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the bucket and objects afterwards.
    #[arg(long)]
    pub noclear: bool,
    /// Executors (cores) to use; default all allowed CPUs (at most one per concurrent request).
    #[arg(long)]
    pub cores: Option<usize>,
    /// Give up on a request after this long (the connection is then reopened).
    #[arg(long, default_value = "2m")]
    pub request_timeout: CliDuration,
    /// No live progress line.
    #[arg(long)]
    pub quiet: bool,
}

/// `bench mixed` options.
#[derive(clap::Args, Debug, Clone)]
pub struct MixedArgs {
    /// Common options.
    #[command(flatten)]
    pub s3: S3Args,
    /// Relative weight of GET.
    #[arg(long, default_value_t = 45.0)]
    pub get_distrib: f64,
    /// Relative weight of STAT (HEAD).
    #[arg(long, default_value_t = 30.0)]
    pub stat_distrib: f64,
    /// Relative weight of PUT.
    #[arg(long, default_value_t = 15.0)]
    pub put_distrib: f64,
    /// Relative weight of DELETE.
    #[arg(long, default_value_t = 10.0)]
    pub delete_distrib: f64,
}

/// `bench list` options. Of the common options, --concurrent is the number of upload (and
/// cleanup) streams, --obj.size the object size (default 0 bytes); --objects and --duration do
/// not apply (the run is --keys keys and --passes passes).
#[derive(clap::Args, Debug, Clone)]
pub struct ListArgs {
    /// Common options.
    #[command(flatten)]
    pub s3: S3Args,
    /// Keys in the bucket.
    #[arg(long, default_value_t = 10_000)]
    pub keys: u64,
    /// Spread the keys over this many folders (`f0000/k0000`, ...) and also list the folders
    /// with delimiter `/`.
    #[arg(long)]
    pub folders: Option<u64>,
    /// Keys per ListObjectsV2 page (max-keys), 1..=1000.
    #[arg(long, alias = "max-keys", default_value_t = 1000)]
    pub page: u32,
    /// Timed passes per listing (after one untimed warm pass).
    #[arg(long, default_value_t = 3)]
    pub passes: u32,
    /// Keep the keys already in the bucket (from an earlier --noclear or --reuse run with the
    /// same --keys and --folders), upload only the missing ones, and keep everything afterwards.
    #[arg(long)]
    pub reuse: bool,
}

/// Run `minnow bench ...`; prints its own errors.
pub fn run(args: BenchArgs) -> ExitCode {
    let outcome = match args.command {
        BenchCommand::Drives(drives_args) => drives::run(&drives_args).and_then(|report| {
            if report.errors.is_empty() {
                Ok(())
            } else {
                Err(format!("{} error(s)", report.errors.len()))
            }
        }),
        BenchCommand::Put(s3) => workload::run(workload::Workload::Put, s3),
        BenchCommand::Get(s3) => workload::run(workload::Workload::Get, s3),
        BenchCommand::Stat(s3) => workload::run(workload::Workload::Stat, s3),
        BenchCommand::Delete(s3) => workload::run(workload::Workload::Delete, s3),
        BenchCommand::List(list) => list::run(*list),
        BenchCommand::Mixed(mixed) => workload::Mix::new(
            mixed.get_distrib,
            mixed.stat_distrib,
            mixed.put_distrib,
            mixed.delete_distrib,
        )
        .and_then(|mix| workload::run(workload::Workload::Mixed(mix), mixed.s3)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("minnow bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Write a report to `path`, or to stdout for `-`.
pub(crate) fn write_output(path: &Path, text: &str) -> Result<(), String> {
    if path == Path::new("-") {
        println!("{text}");
        return Ok(());
    }
    std::fs::write(path, format!("{text}\n"))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Top {
        Bench(BenchArgs),
    }

    fn parse(args: &[&str]) -> BenchCommand {
        let mut argv = vec!["minnow", "bench"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Top::Bench(b),
            }) => b.command,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn put_options() {
        let cmd = parse(&[
            "put",
            "--host",
            "10.0.0.1:9000,10.0.0.2:9000",
            "--access-key",
            "ak",
            "--secret-key",
            "sk",
            "--obj.size",
            "64MiB",
            "--obj.randsize",
            "--concurrent",
            "32",
            "--duration",
            "5s",
            "--payload",
            "streaming",
            "--json",
            "out.json",
            "--noclear",
            "--cores",
            "2",
        ]);
        let BenchCommand::Put(s3) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(s3.host, ["10.0.0.1:9000", "10.0.0.2:9000"]);
        assert_eq!(s3.access_key.as_deref(), Some("ak"));
        assert_eq!(s3.obj_size, Some(ByteSize(64 << 20)));
        assert!(s3.obj_randsize && s3.noclear);
        assert_eq!(s3.concurrent, 32);
        assert_eq!(s3.duration.0, std::time::Duration::from_secs(5));
        assert_eq!(s3.payload, PayloadMode::Streaming);
        assert_eq!(s3.json.as_deref(), Some(Path::new("out.json")));
        assert_eq!(s3.cores, Some(2));
    }

    #[test]
    fn defaults_and_other_commands() {
        let BenchCommand::Get(s3) = parse(&["get"]) else {
            panic!()
        };
        assert_eq!(s3.host, ["127.0.0.1:9000"]);
        assert_eq!(s3.bucket, "minnow-bench");
        assert_eq!(s3.payload, PayloadMode::Unsigned);
        assert_eq!(s3.duration.0, std::time::Duration::from_secs(30));
        let BenchCommand::Mixed(m) = parse(&["mixed", "--put-distrib", "50"]) else {
            panic!()
        };
        assert_eq!(m.put_distrib, 50.0);
        let BenchCommand::List(l) = parse(&["list", "--max-keys", "100"]) else {
            panic!()
        };
        assert_eq!(
            (l.page, l.keys, l.folders, l.passes, l.reuse),
            (100, 10_000, None, 3, false)
        );
        let BenchCommand::List(l) = parse(&[
            "list",
            "--keys",
            "500",
            "--folders",
            "50",
            "--page",
            "10",
            "--passes",
            "2",
            "--reuse",
        ]) else {
            panic!()
        };
        assert_eq!(
            (l.page, l.keys, l.folders, l.passes, l.reuse),
            (10, 500, Some(50), 2, true)
        );
        let BenchCommand::Drives(d) = parse(&["drives", "/a", "/b", "--size", "256MiB"]) else {
            panic!()
        };
        assert_eq!(d.dirs.len(), 2);
        assert_eq!(d.size, ByteSize(256 << 20));
        assert!(Cli::try_parse_from(["minnow", "bench", "drives"]).is_err());
        assert!(Cli::try_parse_from(["minnow", "bench", "put", "--obj.size", "4XB"]).is_err());
        assert!(Cli::try_parse_from(["minnow", "bench", "put", "--payload", "x"]).is_err());
    }
}
