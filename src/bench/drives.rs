//! `minnow bench drives DIR...`: the physical ceilings every other figure is compared with.
//!
//! Measured through the same stack the server uses (glommio `DmaFile`, O_DIRECT, io_uring), with
//! the same workarounds (`../shared/GLOMMIO.md`): on every executor, a write-only
//! `DmaFile::create` of a probe file is the first DMA open on each drive, so glommio turns its
//! busy-polling poll ring off for that device; write buffers are allocated once and reused
//! (`write_rc_at`), with `--depth` (default 2, as the server) writes and `--read-depth`
//! (default 4) reads in flight per file.
//!
//! Phases, each timed from its start on all cores to the last core's end:
//! 1. sequential write of `--size` bytes in `--block` writes, each drive alone, then all at once
//!    (one file per drive, fdatasync at the end, included in the time);
//! 2. sequential O_DIRECT read of those files, alone, then all at once;
//! 3. durable small-file commits for `--duration`: `--concurrent` tasks per drive each loop
//!    create, write 4 KiB, fdatasync, close, rename (and, with `--dir-sync`, fsync the
//!    directory) - what committing one `xl.meta` costs, without the object store around it.
//!
//! Drive `d` is driven by core `d % cores`, as in the server. Everything is written under
//! `DIR/.minnow-bench-<pid>/`, removed at the end.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::io::{DmaBuffer, DmaFile};
use serde::Serialize;

use super::cores::{self, PhaseGate};
use super::stats::OpStats;
use super::units::{format_bytes, mib_per_s, per_s, ByteSize, CliDuration};

/// Bytes of one small commit (one `xl.meta` of a small object).
const SMALL_COMMIT_BYTES: usize = 4096;

/// O_DIRECT alignment the code enforces, whatever the device reports (4Kn NVMe).
const ALIGN_BYTES: u64 = 4096;

/// Options of `minnow bench drives`.
#[derive(clap::Args, Debug, Clone)]
pub struct DrivesArgs {
    /// Drive directories (each one a drive, as given to `minnow server`).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Bytes written and read sequentially per drive.
    #[arg(long, default_value = "1GiB")]
    pub size: ByteSize,
    /// Bytes per write/read request (multiple of 4 KiB).
    #[arg(long, default_value = "4MiB")]
    pub block: ByteSize,
    /// Writes in flight per file (the server's shard writer keeps 2).
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Reads in flight per file (4 saturates the reference disk; 2 leaves it idle part time).
    #[arg(long, default_value_t = 4)]
    pub read_depth: usize,
    /// Concurrent small-file commit loops per drive.
    #[arg(long, default_value_t = 32)]
    pub concurrent: usize,
    /// Length of each small-commit phase.
    #[arg(long, default_value = "5s")]
    pub duration: CliDuration,
    /// Also fsync the target directory after each commit's rename.
    #[arg(long)]
    pub dir_sync: bool,
    /// Skip the per-drive ("alone") phases; measure all drives at once only.
    #[arg(long)]
    pub all_only: bool,
    /// Executors (cores) to use; default all allowed CPUs, at most one per drive.
    #[arg(long)]
    pub cores: Option<usize>,
    /// Write the results as JSON to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// What a phase does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Write,
    Read,
    Commit,
}

/// One timed phase: a kind of work on a set of drives at once.
#[derive(Clone, Debug)]
struct DrivePhase {
    work: Work,
    drives: Vec<usize>,
}

/// The phase list: for each kind of work, each drive alone (unless `all_only` or a single drive),
/// then all drives at once.
fn plan_phases(drive_count: usize, all_only: bool) -> Vec<DrivePhase> {
    let mut phases = Vec::new();
    for work in [Work::Write, Work::Read, Work::Commit] {
        if !all_only && drive_count > 1 {
            for d in 0..drive_count {
                phases.push(DrivePhase {
                    work,
                    drives: vec![d],
                });
            }
        }
        phases.push(DrivePhase {
            work,
            drives: (0..drive_count).collect(),
        });
    }
    phases
}

/// One drive's part of one phase, as reported by its core.
#[derive(Debug)]
struct PartResult {
    phase: usize,
    drive: usize,
    /// Bytes (write/read) or commits.
    amount: u64,
    commit_latency: Option<OpStats>,
    error: Option<String>,
}

/// One drive's figures when measured alone.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DriveFigures {
    /// The drive directory.
    pub path: String,
    /// Sequential O_DIRECT write, MiB/s.
    pub write_mib_per_s: f64,
    /// Sequential O_DIRECT read, MiB/s.
    pub read_mib_per_s: f64,
    /// Durable 4 KiB commits per second.
    pub small_commits_per_s: f64,
    /// Median commit latency, ms.
    pub small_commit_p50_ms: f64,
    /// 99th percentile commit latency, ms.
    pub small_commit_p99_ms: f64,
}

/// `bench drives` result; serialized as the `--json` output.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DrivesReport {
    /// Sequential write, all drives at once, MiB/s (sum over drives).
    pub write_mib_per_s: f64,
    /// Sequential read, all drives at once, MiB/s.
    pub read_mib_per_s: f64,
    /// Durable small-file commits per second, all drives at once.
    pub small_commits_per_s: f64,
    /// Commit latency p50 with all drives busy, ms.
    pub small_commit_p50_ms: f64,
    /// Commit latency p99 with all drives busy, ms.
    pub small_commit_p99_ms: f64,
    /// Each drive measured alone (empty with `--all-only` or one drive: then see the totals).
    pub per_drive: Vec<DriveFigures>,
    /// Bytes per drive in the sequential phases.
    pub size_bytes: u64,
    /// Bytes per request.
    pub block_bytes: u64,
    /// Writes in flight per file.
    pub depth: usize,
    /// Reads in flight per file.
    pub read_depth: usize,
    /// Commit loops per drive.
    pub concurrent: usize,
    /// Seconds per commit phase.
    pub commit_duration_s: f64,
    /// Whether each commit also fsyncs the directory.
    pub dir_sync: bool,
    /// Executors used.
    pub cores: usize,
    /// Problems met (empty on a clean run).
    pub errors: Vec<String>,
}

/// Settings every core needs.
#[derive(Clone, Debug)]
struct DriveParams {
    size_bytes: u64,
    block_bytes: usize,
    depth: usize,
    read_depth: usize,
    concurrent: usize,
    commit_duration: Duration,
    dir_sync: bool,
}

/// Scratch directory of one drive.
fn work_dir(drive: &Path) -> PathBuf {
    drive.join(format!(".minnow-bench-{}", std::process::id()))
}

/// Run `bench drives`: measure, print the table, write the JSON.
pub fn run(args: &DrivesArgs) -> Result<DrivesReport, String> {
    let block_bytes = args.block.0;
    if block_bytes == 0 || block_bytes % ALIGN_BYTES != 0 {
        return Err(format!(
            "--block {} must be a multiple of 4 KiB",
            args.block
        ));
    }
    if args.depth == 0 || args.read_depth == 0 || args.concurrent == 0 {
        return Err("--depth, --read-depth and --concurrent must be at least 1".to_string());
    }
    // Whole blocks only: round the size up.
    let size_bytes = args.size.0.max(1).div_ceil(block_bytes) * block_bytes;
    let params = DriveParams {
        size_bytes,
        block_bytes: usize::try_from(block_bytes).map_err(|_| "--block too large".to_string())?,
        depth: args.depth,
        read_depth: args.read_depth,
        concurrent: args.concurrent,
        commit_duration: args.duration.0,
        dir_sync: args.dir_sync,
    };
    let drives: Vec<PathBuf> = args.dirs.clone();
    for drive in &drives {
        let dir = work_dir(drive);
        for sub in ["tmp", "final"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("creating {}: {e}", dir.join(sub).display()))?;
        }
    }
    let result = measure(&drives, args, &params);
    for drive in &drives {
        let dir = work_dir(drive);
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("bench drives: removing {}: {e}", dir.display());
        }
    }
    let report = result?;
    print_table(&report, &drives);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        super::write_output(path, &text)?;
    }
    Ok(report)
}

fn measure(
    drives: &[PathBuf],
    args: &DrivesArgs,
    params: &DriveParams,
) -> Result<DrivesReport, String> {
    let phases = plan_phases(drives.len(), args.all_only);
    let cpus = cores::pick_cpus(args.cores, drives.len());
    let core_count = cpus.len();
    let gate = PhaseGate::new();
    let mut handles = Vec::new();
    for (core, &cpu) in cpus.iter().enumerate() {
        let owned: Vec<(usize, PathBuf)> = drives
            .iter()
            .enumerate()
            .filter(|(d, _)| d % core_count == core)
            .map(|(d, p)| (d, work_dir(p)))
            .collect();
        let phases = phases.clone();
        let params = params.clone();
        let gate = gate.clone();
        let handle = cores::executor_builder(core, cpu)
            .spawn(move || async move { core_main(gate, owned, phases, params).await })
            .map_err(|e| format!("starting executor on CPU {cpu}: {e}"))?;
        handles.push(handle);
    }
    let mut errors = Vec::new();
    let mut elapsed = Vec::with_capacity(phases.len());
    if gate.wait_ready(core_count, Duration::from_secs(30)) {
        for (index, phase) in phases.iter().enumerate() {
            let start = Instant::now();
            gate.release(index);
            let gone = gate.wait_done(core_count);
            elapsed.push(start.elapsed());
            if gone > 0 {
                errors.push(format!("{gone} core(s) stopped during {:?}", phase.work));
                gate.abort();
                break;
            }
            print_phase_line(phase, start.elapsed(), drives);
        }
    } else {
        errors.push("not every core started (see errors below)".to_string());
        gate.abort();
    }
    let mut parts = Vec::new();
    for handle in handles {
        match handle.join() {
            Ok(mut core_parts) => parts.append(&mut core_parts),
            Err(e) => errors.push(format!("executor: {e}")),
        }
    }
    for part in &parts {
        if let Some(error) = &part.error {
            errors.push(format!("{}: {error}", drives[part.drive].display()));
        }
    }
    if elapsed.len() < phases.len() {
        return Err(errors.join("; "));
    }
    let mut report = assemble(drives, &phases, &elapsed, &parts, args, params, core_count);
    report.errors = errors;
    Ok(report)
}

fn print_phase_line(phase: &DrivePhase, elapsed: Duration, drives: &[PathBuf]) {
    let which = if phase.drives.len() == 1 {
        drives[phase.drives[0]].display().to_string()
    } else {
        format!("all {} drives", phase.drives.len())
    };
    eprintln!(
        "bench drives: {:?} {which}: {:.2} s",
        phase.work,
        elapsed.as_secs_f64()
    );
}

/// Turn per-part amounts and per-phase times into the report.
fn assemble(
    drives: &[PathBuf],
    phases: &[DrivePhase],
    elapsed: &[Duration],
    parts: &[PartResult],
    args: &DrivesArgs,
    params: &DriveParams,
    core_count: usize,
) -> DrivesReport {
    // (rate, latency stats) of a phase.
    let phase_figures = |index: usize| -> (f64, OpStats) {
        let phase = &phases[index];
        let mut amount = 0;
        let mut latency = OpStats::new();
        for part in parts.iter().filter(|p| p.phase == index) {
            amount += part.amount;
            if let Some(stats) = &part.commit_latency {
                latency.merge(stats);
            }
        }
        let rate = match phase.work {
            Work::Write | Work::Read => mib_per_s(amount, elapsed[index]),
            Work::Commit => per_s(amount, elapsed[index]),
        };
        (rate, latency)
    };
    let mut per_drive: Vec<DriveFigures> = Vec::new();
    let mut totals = (0.0, 0.0, 0.0, OpStats::new());
    for (index, phase) in phases.iter().enumerate() {
        let (rate, latency) = phase_figures(index);
        if phase.drives.len() == drives.len() {
            match phase.work {
                Work::Write => totals.0 = rate,
                Work::Read => totals.1 = rate,
                Work::Commit => {
                    totals.2 = rate;
                    totals.3 = latency;
                }
            }
            continue;
        }
        let drive = phase.drives[0];
        if per_drive.len() <= drive {
            per_drive.resize(
                drive + 1,
                DriveFigures {
                    path: String::new(),
                    write_mib_per_s: 0.0,
                    read_mib_per_s: 0.0,
                    small_commits_per_s: 0.0,
                    small_commit_p50_ms: 0.0,
                    small_commit_p99_ms: 0.0,
                },
            );
        }
        let figures = &mut per_drive[drive];
        figures.path = drives[drive].display().to_string();
        match phase.work {
            Work::Write => figures.write_mib_per_s = rate,
            Work::Read => figures.read_mib_per_s = rate,
            Work::Commit => {
                let summary = latency.summarize(super::stats::OpKind::Put, Duration::ZERO);
                figures.small_commits_per_s = rate;
                figures.small_commit_p50_ms = summary.latency_ms.p50;
                figures.small_commit_p99_ms = summary.latency_ms.p99;
            }
        }
    }
    let all_latency = totals
        .3
        .summarize(super::stats::OpKind::Put, Duration::ZERO);
    DrivesReport {
        write_mib_per_s: totals.0,
        read_mib_per_s: totals.1,
        small_commits_per_s: totals.2,
        small_commit_p50_ms: all_latency.latency_ms.p50,
        small_commit_p99_ms: all_latency.latency_ms.p99,
        per_drive,
        size_bytes: params.size_bytes,
        block_bytes: params.block_bytes as u64,
        depth: params.depth,
        read_depth: params.read_depth,
        concurrent: params.concurrent,
        commit_duration_s: params.commit_duration.as_secs_f64(),
        dir_sync: args.dir_sync,
        cores: core_count,
        errors: Vec::new(),
    }
}

fn print_table(report: &DrivesReport, drives: &[PathBuf]) {
    println!(
        "drives: {} x {} sequential in {} requests, {} writes / {} reads in flight; 4 KiB commits x {} per drive{} for {:.0} s",
        drives.len(),
        format_bytes(report.size_bytes),
        format_bytes(report.block_bytes),
        report.depth,
        report.read_depth,
        report.concurrent,
        if report.dir_sync { " (+dir fsync)" } else { "" },
        report.commit_duration_s
    );
    let width = drives
        .iter()
        .map(|d| d.display().to_string().len())
        .max()
        .unwrap_or(0)
        .max(16);
    println!(
        "{:<width$} {:>12} {:>12} {:>12} {:>16}",
        "drive", "write MiB/s", "read MiB/s", "commits/s", "commit p50/p99"
    );
    let row = |name: &str, w: f64, r: f64, c: f64, p50: f64, p99: f64| {
        println!(
            "{name:<width$} {w:>12.1} {r:>12.1} {c:>12.1} {:>16}",
            format!("{p50:.2}/{p99:.2} ms")
        );
    };
    for figures in &report.per_drive {
        row(
            &figures.path,
            figures.write_mib_per_s,
            figures.read_mib_per_s,
            figures.small_commits_per_s,
            figures.small_commit_p50_ms,
            figures.small_commit_p99_ms,
        );
    }
    row(
        &format!("all {} at once", drives.len()),
        report.write_mib_per_s,
        report.read_mib_per_s,
        report.small_commits_per_s,
        report.small_commit_p50_ms,
        report.small_commit_p99_ms,
    );
    for error in &report.errors {
        println!("error: {error}");
    }
}

/// One core: probe its drives, then run its part of every phase in lock step with the others.
async fn core_main(
    gate: Arc<PhaseGate>,
    owned: Vec<(usize, PathBuf)>,
    phases: Vec<DrivePhase>,
    params: DriveParams,
) -> Vec<PartResult> {
    let ticket = gate.check_in();
    let mut results = Vec::new();
    // Probe first: the first DMA open of a device on this executor must be write-only
    // (GLOMMIO.md pitfall #1), and it checks that O_DIRECT works there.
    let mut probe_errors: Vec<(usize, String)> = Vec::new();
    for (drive, dir) in &owned {
        if let Err(e) = probe(dir).await {
            probe_errors.push((*drive, e));
        }
    }
    // Write buffers: allocated once, shared by every file this core writes (the content is
    // irrelevant to the device; a buffer can back several writes in flight).
    let write_buffers: Vec<Rc<DmaBuffer>> = (0..params.depth)
        .map(|_| {
            let mut buffer = glommio::allocate_dma_buffer_global(params.block_bytes);
            fill_pattern(buffer.as_bytes_mut());
            Rc::new(buffer)
        })
        .collect();
    let commit_buffer = {
        let mut buffer = glommio::allocate_dma_buffer_global(SMALL_COMMIT_BYTES);
        fill_pattern(buffer.as_bytes_mut());
        Rc::new(buffer)
    };
    for (index, phase) in phases.iter().enumerate() {
        if !ticket.wait_release(index) {
            break;
        }
        let mine: Vec<&(usize, PathBuf)> = owned
            .iter()
            .filter(|(d, _)| phase.drives.contains(d))
            .collect();
        let tasks: Vec<_> = mine
            .into_iter()
            .map(|(drive, dir)| {
                let drive = *drive;
                let dir = dir.clone();
                let params = params.clone();
                let write_buffers = write_buffers.clone();
                let commit_buffer = commit_buffer.clone();
                let probe_error = probe_errors
                    .iter()
                    .find(|(d, _)| *d == drive)
                    .map(|(_, e)| e.clone());
                let work = phase.work;
                glommio::spawn_local(async move {
                    if let Some(error) = probe_error {
                        return PartResult {
                            phase: index,
                            drive,
                            amount: 0,
                            commit_latency: None,
                            error: Some(error),
                        };
                    }
                    let file = dir.join("seq.dat");
                    let outcome = match work {
                        Work::Write => seq_write(&file, &params, &write_buffers)
                            .await
                            .map(|n| (n, None)),
                        Work::Read => seq_read(&file, &params).await.map(|n| (n, None)),
                        Work::Commit => small_commits(&dir, index, &params, &commit_buffer)
                            .await
                            .map(|(n, stats)| (n, Some(stats))),
                    };
                    match outcome {
                        Ok((amount, commit_latency)) => PartResult {
                            phase: index,
                            drive,
                            amount,
                            commit_latency,
                            error: None,
                        },
                        Err(error) => PartResult {
                            phase: index,
                            drive,
                            amount: 0,
                            commit_latency: None,
                            error: Some(error),
                        },
                    }
                })
            })
            .collect();
        for task in tasks {
            results.push(task.await);
        }
        ticket.done();
    }
    ticket.finish();
    results
}

/// Non-constant filler, so no layer can shortcut zero pages.
fn fill_pattern(bytes: &mut [u8]) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in bytes.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let word = x.to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

fn io_error(op: &str, path: &Path, error: impl std::fmt::Display) -> String {
    format!("{op} {}: {error}", path.display())
}

/// Write-only create as the first DMA open of the device on this executor; checks alignment.
async fn probe(dir: &Path) -> Result<(), String> {
    let path = dir.join(".probe");
    let file = DmaFile::create(&path)
        .await
        .map_err(|e| io_error("O_DIRECT create", &path, e))?;
    let alignment = file.alignment();
    let _ = file.close().await;
    let _ = std::fs::remove_file(&path);
    if alignment > ALIGN_BYTES {
        return Err(format!(
            "{}: O_DIRECT alignment {alignment} is above {ALIGN_BYTES}",
            dir.display()
        ));
    }
    Ok(())
}

/// Sequential write of `params.size_bytes`, `params.depth` writes in flight, then fdatasync.
async fn seq_write(
    path: &Path,
    params: &DriveParams,
    buffers: &[Rc<DmaBuffer>],
) -> Result<u64, String> {
    let file = Rc::new(
        DmaFile::create(path)
            .await
            .map_err(|e| io_error("create", path, e))?,
    );
    let mut in_flight = VecDeque::new();
    let mut pos = 0u64;
    let mut next_buffer = 0usize;
    while pos < params.size_bytes {
        if in_flight.len() == params.depth {
            if let Some(task) = in_flight.pop_front() {
                check_full(task.await, params.block_bytes, "write", path)?;
            }
        }
        let buffer = buffers[next_buffer % buffers.len()].clone();
        next_buffer += 1;
        let file = file.clone();
        let at = pos;
        in_flight.push_back(glommio::spawn_local(async move {
            file.write_rc_at(buffer, at).await
        }));
        pos += params.block_bytes as u64;
    }
    while let Some(task) = in_flight.pop_front() {
        check_full(task.await, params.block_bytes, "write", path)?;
    }
    file.fdatasync()
        .await
        .map_err(|e| io_error("fdatasync", path, e))?;
    close(file, path).await?;
    Ok(params.size_bytes)
}

/// Sequential O_DIRECT read of the whole file, `params.read_depth` reads in flight.
async fn seq_read(path: &Path, params: &DriveParams) -> Result<u64, String> {
    let file = Rc::new(
        DmaFile::open(path)
            .await
            .map_err(|e| io_error("open", path, e))?,
    );
    let mut in_flight = VecDeque::new();
    let mut pos = 0u64;
    let mut total = 0u64;
    while pos < params.size_bytes {
        if in_flight.len() == params.read_depth {
            if let Some(task) = in_flight.pop_front() {
                total += read_len(task.await, path)?;
            }
        }
        let file = file.clone();
        let at = pos;
        let len = params.block_bytes;
        in_flight.push_back(glommio::spawn_local(async move {
            file.read_at_aligned(at, len).await.map(|r| r.len())
        }));
        pos += params.block_bytes as u64;
    }
    while let Some(task) = in_flight.pop_front() {
        total += read_len(task.await, path)?;
    }
    close(file, path).await?;
    if total != params.size_bytes {
        return Err(format!(
            "{}: read {total} bytes, expected {}",
            path.display(),
            params.size_bytes
        ));
    }
    Ok(total)
}

fn check_full(
    result: glommio::Result<usize, ()>,
    expected: usize,
    op: &str,
    path: &Path,
) -> Result<(), String> {
    match result {
        Ok(n) if n == expected => Ok(()),
        Ok(n) => Err(io_error(
            op,
            path,
            format!("short: {n} of {expected} bytes"),
        )),
        Err(e) => Err(io_error(op, path, e)),
    }
}

fn read_len(result: glommio::Result<usize, ()>, path: &Path) -> Result<u64, String> {
    result
        .map(|n| n as u64)
        .map_err(|e| io_error("read", path, e))
}

async fn close(file: Rc<DmaFile>, path: &Path) -> Result<(), String> {
    match Rc::try_unwrap(file) {
        Ok(file) => file.close().await.map_err(|e| io_error("close", path, e)),
        // Every task holding a clone has completed; a clone left means a logic error.
        Err(_) => Err(io_error("close", path, "file still shared")),
    }
}

/// `params.concurrent` loops of create / write 4 KiB / fdatasync / close / rename until the
/// phase's time is up. Returns the commits done and their latencies.
async fn small_commits(
    dir: &Path,
    phase: usize,
    params: &DriveParams,
    buffer: &Rc<DmaBuffer>,
) -> Result<(u64, OpStats), String> {
    let deadline = Instant::now() + params.commit_duration;
    let final_dir = dir.join("final");
    let dir_handle = if params.dir_sync {
        Some(Rc::new(
            glommio::io::Directory::open(&final_dir)
                .await
                .map_err(|e| io_error("open dir", &final_dir, e))?,
        ))
    } else {
        None
    };
    let loops: Vec<_> = (0..params.concurrent)
        .map(|task| {
            let tmp_dir = dir.join("tmp");
            let final_dir = final_dir.clone();
            let buffer = buffer.clone();
            let dir_handle = dir_handle.clone();
            glommio::spawn_local(async move {
                let mut stats = OpStats::new();
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    let name = format!("p{phase}-t{task}-{seq}");
                    seq += 1;
                    let tmp = tmp_dir.join(&name);
                    let start = Instant::now();
                    commit_one(&tmp, &final_dir.join(&name), &buffer, dir_handle.as_deref())
                        .await?;
                    stats.record_ok(start.elapsed(), SMALL_COMMIT_BYTES as u64, 0);
                }
                Ok::<OpStats, String>(stats)
            })
        })
        .collect();
    let mut total = OpStats::new();
    let mut first_error = None;
    for task in loops {
        match task.await {
            Ok(stats) => total.merge(&stats),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    Ok((total.count, total))
}

async fn commit_one(
    tmp: &Path,
    target: &Path,
    buffer: &Rc<DmaBuffer>,
    dir: Option<&glommio::io::Directory>,
) -> Result<(), String> {
    let file = DmaFile::create(tmp)
        .await
        .map_err(|e| io_error("create", tmp, e))?;
    check_full(
        file.write_rc_at(buffer.clone(), 0).await,
        SMALL_COMMIT_BYTES,
        "write",
        tmp,
    )?;
    file.fdatasync()
        .await
        .map_err(|e| io_error("fdatasync", tmp, e))?;
    file.close().await.map_err(|e| io_error("close", tmp, e))?;
    glommio::io::rename(tmp, target)
        .await
        .map_err(|e| io_error("rename", tmp, e))?;
    if let Some(dir) = dir {
        dir.sync()
            .await
            .map_err(|e| io_error("fsync dir", target, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_alone_then_all() {
        let phases = plan_phases(3, false);
        let shape: Vec<(Work, usize)> = phases.iter().map(|p| (p.work, p.drives.len())).collect();
        assert_eq!(phases.len(), 12);
        assert_eq!(
            &shape[..4],
            [
                (Work::Write, 1),
                (Work::Write, 1),
                (Work::Write, 1),
                (Work::Write, 3)
            ]
        );
        assert_eq!(shape[11], (Work::Commit, 3));
        assert_eq!(plan_phases(3, true).len(), 3);
        assert_eq!(plan_phases(1, false).len(), 3);
    }

    fn args(dirs: Vec<PathBuf>) -> DrivesArgs {
        DrivesArgs {
            dirs,
            size: ByteSize(8 << 20),
            block: ByteSize(1 << 20),
            depth: 2,
            read_depth: 4,
            concurrent: 4,
            duration: CliDuration(Duration::from_millis(300)),
            dir_sync: true,
            all_only: false,
            cores: Some(1),
            json: None,
        }
    }

    #[test]
    fn report_math() {
        let drives = vec![PathBuf::from("/a"), PathBuf::from("/b")];
        let phases = plan_phases(2, false);
        // write a, write b, write all, read a, read b, read all, commit a, commit b, commit all
        let elapsed: Vec<Duration> = (0..9).map(|_| Duration::from_secs(2)).collect();
        let mib = 1u64 << 20;
        let mut parts = Vec::new();
        let amounts = [
            (0, 0, 200 * mib),
            (1, 1, 100 * mib),
            (2, 0, 100 * mib),
            (2, 1, 100 * mib),
            (3, 0, 400 * mib),
            (4, 1, 400 * mib),
            (5, 0, 300 * mib),
            (5, 1, 300 * mib),
            (6, 0, 1000),
            (7, 1, 500),
            (8, 0, 600),
            (8, 1, 600),
        ];
        for (phase, drive, amount) in amounts {
            let mut stats = OpStats::new();
            stats.record_ok(Duration::from_millis(4), 4096, 0);
            parts.push(PartResult {
                phase,
                drive,
                amount,
                commit_latency: (phase >= 6).then_some(stats),
                error: None,
            });
        }
        let a = args(drives.clone());
        let params = DriveParams {
            size_bytes: 1,
            block_bytes: 1,
            depth: 2,
            read_depth: 4,
            concurrent: 4,
            commit_duration: Duration::from_secs(2),
            dir_sync: false,
        };
        let report = assemble(&drives, &phases, &elapsed, &parts, &a, &params, 1);
        assert_eq!(report.write_mib_per_s, 100.0);
        assert_eq!(report.read_mib_per_s, 300.0);
        assert_eq!(report.small_commits_per_s, 600.0);
        assert_eq!(report.per_drive.len(), 2);
        assert_eq!(report.per_drive[0].path, "/a");
        assert_eq!(report.per_drive[0].write_mib_per_s, 100.0);
        assert_eq!(report.per_drive[1].write_mib_per_s, 50.0);
        assert_eq!(report.per_drive[1].read_mib_per_s, 200.0);
        assert_eq!(report.per_drive[0].small_commits_per_s, 500.0);
        assert!((report.small_commit_p99_ms - 4.0).abs() < 0.01);
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        for key in [
            "write_mib_per_s",
            "read_mib_per_s",
            "small_commits_per_s",
            "per_drive",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert!(json["per_drive"][0]["small_commits_per_s"].is_number());
    }

    /// Runs the real thing on a small scale, one executor, in a temporary directory (on tmpfs
    /// glommio silently drops O_DIRECT: the test still passes, it just measures less).
    #[test]
    fn small_real_run() {
        let base = std::env::temp_dir().join(format!("minnow-bench-drives-{}", std::process::id()));
        let dirs = vec![base.join("d1"), base.join("d2")];
        for d in &dirs {
            std::fs::create_dir_all(d).unwrap();
        }
        let report = run(&args(dirs.clone())).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.write_mib_per_s > 0.0);
        assert!(report.read_mib_per_s > 0.0);
        assert!(report.small_commits_per_s > 0.0);
        assert_eq!(report.per_drive.len(), 2);
        assert_eq!(report.size_bytes, 8 << 20);
        // Scratch space removed.
        for d in &dirs {
            assert_eq!(std::fs::read_dir(d).unwrap().count(), 0);
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
