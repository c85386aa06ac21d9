//! What the load generator does, phase by phase, on every core.
//!
//! The main thread plans the run (credentials, hosts, payloads, workers per core), starts one
//! executor per core and steps them through five phases with a [`PhaseGate`]:
//!
//! | phase | what each core does |
//! |---|---|
//! | 0 setup | connect every worker; core 0 creates the bucket |
//! | 1 prepare | upload `--objects` with at least 16 streams; worker `w` then owns objects `i % concurrent == w` |
//! | 2 run | the measured window: every worker loops its operation until `--duration` is up |
//! | 3 cleanup | each worker deletes the objects it still owns (skipped with `--noclear`) |
//! | 4 teardown | core 0 removes the bucket (skipped with `--noclear`) |
//!
//! The measured window is timed by the main thread from the release of phase 2 to the last
//! core's report, so requests still in flight at the deadline are counted, and their time too.
//! Workers record into their core's [`OpStats`] (one per operation, `Rc<RefCell<..>>`: the core
//! is single-threaded) and bump the shared [`Live`] counters for the progress line.
//!
//! Object `i` is named `<prefix>/<i as 8+ hex digits>` with a random per-run prefix and always
//! carries payload variant `i % variants`, so a GET or STAT knows the size to expect.

use std::cell::RefCell;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use super::cores::{self, PhaseGate, WorkerPlan};
use super::payload::{self, Digests, PayloadSpec, Payloads};
use super::report::{self, GeneratorCost, RunConfig, RunReport};
use super::s3::{Credentials, Endpoint, OpError, S3Client, SignConfig};
use super::stats::{Live, OpKind, OpStats, Phase};
use super::{PayloadMode, S3Args};

/// Default `--obj.size` for put, get and mixed.
const DEFAULT_LARGE_OBJECT_BYTES: u64 = 10 << 20;
/// Default `--obj.size` for stat and delete (metadata-bound operations).
const DEFAULT_SMALL_OBJECT_BYTES: u64 = 1 << 10;
/// Pause after a transport error before the worker retries (a dead server must not turn the
/// generator into a busy loop).
const ERROR_BACKOFF: Duration = Duration::from_millis(20);
/// Fewest upload streams of the prepare phase.
const PREPARE_STREAMS_MIN: usize = 16;

/// Phase numbers, in gate order.
const PHASE_SETUP: usize = 0;
const PHASE_PREPARE: usize = 1;
const PHASE_RUN: usize = 2;
const PHASE_CLEANUP: usize = 3;
const PHASE_TEARDOWN: usize = 4;
const PHASE_COUNT: usize = 5;

/// The operation pattern of a run.
#[derive(Clone, Debug)]
pub enum Workload {
    /// PUT new objects.
    Put,
    /// GET prepared objects at random.
    Get,
    /// HEAD prepared objects at random.
    Stat,
    /// DELETE prepared objects, each once.
    Delete,
    /// A weighted mix.
    Mixed(Mix),
}

impl Workload {
    fn name(&self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Stat => "stat",
            Workload::Delete => "delete",
            Workload::Mixed(_) => "mixed",
        }
    }

    fn needs_prepared_objects(&self) -> bool {
        !matches!(self, Workload::Put)
    }
}

/// Weights of GET, STAT, PUT, DELETE in `bench mixed`, as cumulative fractions.
#[derive(Clone, Debug, PartialEq)]
pub struct Mix {
    cumulative: [(f64, OpKind); 4],
}

impl Mix {
    /// From relative weights (any non-negative numbers, not all zero).
    pub fn new(get: f64, stat: f64, put: f64, delete: f64) -> Result<Mix, String> {
        let weights = [
            (get, OpKind::Get),
            (stat, OpKind::Stat),
            (put, OpKind::Put),
            (delete, OpKind::Delete),
        ];
        if weights.iter().any(|(w, _)| !w.is_finite() || *w < 0.0) {
            return Err("distribution weights must be non-negative numbers".to_string());
        }
        let total: f64 = weights.iter().map(|(w, _)| w).sum();
        if total <= 0.0 {
            return Err("at least one distribution weight must be positive".to_string());
        }
        let mut sum = 0.0;
        let mut cumulative = weights;
        for entry in &mut cumulative {
            sum += entry.0 / total;
            entry.0 = sum;
        }
        cumulative[3].0 = 1.0;
        Ok(Mix { cumulative })
    }

    /// The operation for a uniform random number in `[0, 1)`.
    pub fn pick(&self, uniform: f64) -> OpKind {
        self.cumulative
            .iter()
            .find(|(edge, _)| uniform < *edge)
            .map_or(self.cumulative[3].1, |(_, op)| *op)
    }
}

/// Everything the cores share, read-only.
struct Shared {
    workload: Workload,
    payloads: Payloads,
    live: Arc<Live>,
    gate: Arc<PhaseGate>,
    endpoints: Vec<Endpoint>,
    sign: SignConfig,
    bucket: String,
    prefix: String,
    objects: u64,
    concurrency: usize,
    /// Executors running the workers.
    core_count: usize,
    duration: Duration,
    request_timeout: Duration,
    noclear: bool,
    /// Set when setup or prepare failed: the run and later phases do nothing but clean up.
    failed: AtomicBool,
    /// Set when setup failed (no connection or no bucket): no cleanup either.
    setup_failed: AtomicBool,
    messages: Mutex<Vec<String>>,
}

impl Shared {
    fn fail(&self, message: String) {
        self.failed.store(true, Ordering::Release);
        self.note(message);
    }

    fn note(&self, message: String) {
        match self.messages.lock() {
            Ok(mut messages) => messages.push(message),
            Err(poisoned) => poisoned.into_inner().push(message),
        }
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn setup_failed(&self) -> bool {
        self.setup_failed.load(Ordering::Acquire)
    }

    fn key(&self, object_index: u64) -> String {
        object_key(&self.prefix, object_index)
    }
}

/// `<prefix>/<index as at least 8 hex digits>`.
fn object_key(prefix: &str, object_index: u64) -> String {
    format!("{prefix}/{object_index:08x}")
}

/// What one core hands back.
struct CoreResult {
    stats: Vec<OpStats>,
    run_cpu: Duration,
}

/// One request stream: its connection and the objects it owns.
struct Worker {
    plan: WorkerPlan,
    client: S3Client,
    rng: rand::rngs::StdRng,
    /// Object indexes this worker created or was given and has not deleted.
    owned: Vec<u64>,
    /// Next new object index (global, unique: `objects + worker + n * concurrency`).
    next_new: u64,
}

impl Worker {
    fn new_object_index(&mut self, concurrency: usize) -> u64 {
        let index = self.next_new;
        self.next_new += concurrency as u64;
        index
    }
}

/// Run an S3 workload end to end: plan, execute, report.
pub fn run(workload: Workload, args: S3Args) -> Result<(), String> {
    let process_cpu_start = cores::process_cpu_time();
    let credentials = resolve_credentials(&args)?;
    let endpoints = resolve_endpoints(&args.host)?;
    if args.concurrent == 0 {
        return Err("--concurrent must be at least 1".to_string());
    }
    if args.duration.0.is_zero() {
        return Err("--duration must be more than 0".to_string());
    }
    let obj_size = args.obj_size.map_or(
        match workload {
            Workload::Put | Workload::Get | Workload::Mixed(_) => DEFAULT_LARGE_OBJECT_BYTES,
            _ => DEFAULT_SMALL_OBJECT_BYTES,
        },
        |s| s.0,
    );
    let objects = if workload.needs_prepared_objects() {
        args.objects
            .unwrap_or_else(|| default_objects(obj_size, args.concurrent))
    } else {
        0
    };
    if matches!(workload, Workload::Get | Workload::Stat) && objects == 0 {
        return Err("--objects must be at least 1 for get and stat".to_string());
    }

    let setup_cpu_start = cores::thread_cpu_time();
    let payloads = Payloads::generate(&PayloadSpec {
        size_max_bytes: obj_size,
        random_sizes: args.obj_randsize,
        variant_count: payload::variant_count_for(obj_size),
        digests: match args.payload {
            PayloadMode::Unsigned => Digests::None,
            PayloadMode::Signed => Digests::Whole,
            // `ChunkSigner::sign_chunk` hashes each chunk itself (no entry point takes a
            // precomputed chunk digest yet), so nothing to precompute.
            PayloadMode::Streaming => Digests::None,
        },
        seed: 0x6d69_6e6e_6f77,
    })?;
    let payload_setup_cpu = cores::thread_cpu_time().saturating_sub(setup_cpu_start);

    let cpus = cores::pick_cpus(args.cores, args.concurrent);
    let plan = cores::plan_workers(args.concurrent, cpus.len(), endpoints.len());
    let live = Arc::new(Live::new());
    let gate = PhaseGate::new();
    let shared = Arc::new(Shared {
        workload: workload.clone(),
        payloads,
        live: live.clone(),
        gate: gate.clone(),
        endpoints,
        sign: SignConfig {
            credentials,
            region: args.region.clone(),
            mode: args.payload,
        },
        bucket: args.bucket.clone(),
        prefix: run_prefix(),
        objects,
        concurrency: args.concurrent,
        core_count: cpus.len(),
        duration: args.duration.0,
        request_timeout: args.request_timeout.0,
        noclear: args.noclear,
        failed: AtomicBool::new(false),
        setup_failed: AtomicBool::new(false),
        messages: Mutex::new(Vec::new()),
    });

    let progress = if args.quiet {
        None
    } else {
        progress_thread(live.clone(), objects)
    };
    let mut handles = Vec::new();
    let mut start_error = None;
    for (core, &cpu) in cpus.iter().enumerate() {
        let workers: Vec<WorkerPlan> = plan.iter().filter(|w| w.core == core).copied().collect();
        let shared = shared.clone();
        match cores::executor_builder(core, cpu)
            .spawn(move || async move { core_main(shared, core, workers).await })
        {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                start_error = Some(format!("starting executor on CPU {cpu}: {e}"));
                break;
            }
        }
    }

    let mut run_elapsed = Duration::ZERO;
    if start_error.is_none() && gate.wait_ready(cpus.len(), Duration::from_secs(30)) {
        for phase in 0..PHASE_COUNT {
            live.set_phase(match phase {
                PHASE_SETUP => Phase::Setup,
                PHASE_PREPARE => Phase::Prepare,
                PHASE_RUN => Phase::Run,
                _ => Phase::Cleanup,
            });
            let start = Instant::now();
            gate.release(phase);
            let gone = gate.wait_done(cpus.len());
            if phase == PHASE_RUN {
                run_elapsed = start.elapsed();
            }
            if gone > 0 {
                shared.fail(format!("{gone} core(s) stopped unexpectedly"));
                gate.abort();
                break;
            }
        }
    } else {
        shared.fail(start_error.unwrap_or_else(|| "not every core started".to_string()));
        gate.abort();
    }
    live.set_phase(Phase::Done);
    if let Some(progress) = progress {
        let _ = progress.join();
    }

    let mut totals: Vec<OpStats> = OpKind::ALL.iter().map(|_| OpStats::new()).collect();
    let mut run_cpu = Duration::ZERO;
    for handle in handles {
        match handle.join() {
            Ok(core) => {
                for (total, stats) in totals.iter_mut().zip(&core.stats) {
                    total.merge(stats);
                }
                run_cpu += core.run_cpu;
            }
            Err(e) => shared.fail(format!("executor: {e}")),
        }
    }
    let messages = match shared.messages.lock() {
        Ok(m) => m.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let mut shown = std::collections::HashSet::new();
    for message in messages.iter().filter(|m| shown.insert(m.as_str())) {
        eprintln!("minnow bench: {message}");
    }
    if shared.failed() {
        return Err(format!("{} run failed", workload.name()));
    }

    let ops: Vec<_> = OpKind::ALL
        .iter()
        .zip(&totals)
        .filter(|(op, stats)| {
            stats.count > 0 || stats.error_count() > 0 || op_expected(&workload, **op)
        })
        .map(|(op, stats)| stats.summarize(*op, run_elapsed))
        .collect();
    let bytes: u64 = totals.iter().map(|s| s.bytes).sum();
    let count: u64 = totals.iter().map(|s| s.count).sum();
    let report = RunReport {
        ops,
        workload: workload.name().to_string(),
        duration_s: run_elapsed.as_secs_f64(),
        config: RunConfig {
            hosts: args.host.clone(),
            bucket: args.bucket.clone(),
            obj_size_bytes: obj_size,
            obj_randsize: args.obj_randsize,
            obj_size_mean_bytes: shared.payloads.mean_len(),
            objects,
            concurrent: args.concurrent,
            duration_s: args.duration.0.as_secs_f64(),
            payload: format!("{:?}", args.payload).to_lowercase(),
            cores: cpus.len(),
        },
        generator: GeneratorCost::new(
            run_cpu.as_secs_f64(),
            bytes,
            count,
            run_elapsed.as_secs_f64(),
            payload_setup_cpu.as_secs_f64(),
            cores::process_cpu_time()
                .saturating_sub(process_cpu_start)
                .as_secs_f64(),
        ),
    };
    print!("{}", report::render_table(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        super::write_output(path, &text)?;
    }
    Ok(())
}

/// Operations that appear in the report even with zero count (so scripts find them).
fn op_expected(workload: &Workload, op: OpKind) -> bool {
    match workload {
        Workload::Put => op == OpKind::Put,
        Workload::Get => op == OpKind::Get,
        Workload::Stat => op == OpKind::Stat,
        Workload::Delete => op == OpKind::Delete,
        Workload::Mixed(_) => op != OpKind::List,
    }
}

fn progress_thread(live: Arc<Live>, objects: u64) -> Option<std::thread::JoinHandle<()>> {
    match super::progress::spawn(live, objects) {
        Ok(handle) => Some(handle),
        Err(e) => {
            eprintln!("minnow bench: no progress line: {e}");
            None
        }
    }
}

/// Objects to prepare when `--objects` is not given: about 1 GiB worth, at least one per
/// worker, at most 2,500 (warp's default).
pub fn default_objects(obj_size: u64, concurrency: usize) -> u64 {
    ((1u64 << 30) / obj_size.max(1)).clamp(concurrency as u64, 2500.max(concurrency as u64))
}

/// `--access-key`/`--secret-key`, else `MINNOW_ROOT_USER`/`MINNOW_ROOT_PASSWORD` (via clap),
/// else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, else minnow's default root credentials
/// (what a server started without them uses).
pub(super) fn resolve_credentials(args: &S3Args) -> Result<Credentials, String> {
    let access_key = args
        .access_key
        .clone()
        .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok())
        .filter(|k| !k.is_empty());
    let secret_key = args
        .secret_key
        .clone()
        .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok())
        .filter(|k| !k.is_empty());
    match (access_key, secret_key) {
        (Some(access_key), Some(secret_key)) => Ok(Credentials {
            access_key,
            secret_key,
        }),
        (None, None) => Ok(Credentials {
            access_key: crate::config::DEFAULT_ROOT_USER.to_string(),
            secret_key: crate::config::DEFAULT_ROOT_PASSWORD.to_string(),
        }),
        _ => Err(
            "give both an access key and a secret key (--access-key/--secret-key, \
             MINNOW_ROOT_USER/MINNOW_ROOT_PASSWORD or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
                .to_string(),
        ),
    }
}

/// `host:port` strings to socket addresses (first address of each name); the text is kept for
/// the `Host` header.
pub(super) fn resolve_endpoints(hosts: &[String]) -> Result<Vec<Endpoint>, String> {
    if hosts.is_empty() {
        return Err("--host is empty".to_string());
    }
    hosts
        .iter()
        .map(|host| {
            let host = host.trim();
            let host = host
                .strip_prefix("http://")
                .unwrap_or(host)
                .trim_end_matches('/');
            let addr: SocketAddr = host
                .to_socket_addrs()
                .map_err(|e| format!("--host {host}: {e}"))?
                .next()
                .ok_or_else(|| format!("--host {host}: no address"))?;
            Ok(Endpoint {
                addr,
                host_header: host.to_string(),
            })
        })
        .collect()
}

/// A random 8-character prefix, so runs never collide.
fn run_prefix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// One core's life: the five phases, in lock step with the other cores.
async fn core_main(shared: Arc<Shared>, core: usize, plans: Vec<WorkerPlan>) -> CoreResult {
    let ticket = shared.gate.check_in();
    let stats: Rc<RefCell<Vec<OpStats>>> = Rc::new(RefCell::new(
        OpKind::ALL.iter().map(|_| OpStats::new()).collect(),
    ));
    let mut result = CoreResult {
        stats: Vec::new(),
        run_cpu: Duration::ZERO,
    };
    let mut workers: Vec<Worker> = plans
        .iter()
        .map(|plan| Worker {
            plan: *plan,
            client: S3Client::new(
                shared.endpoints[plan.host].clone(),
                shared.sign.clone(),
                shared.request_timeout,
            ),
            rng: rand::rngs::StdRng::seed_from_u64(0x5eed ^ plan.worker as u64),
            owned: Vec::new(),
            next_new: shared.objects + plan.worker as u64,
        })
        .collect();

    for phase in 0..PHASE_COUNT {
        if !ticket.wait_release(phase) {
            break;
        }
        match phase {
            PHASE_SETUP => {
                setup(&shared, core, &mut workers).await;
                if shared.failed() {
                    shared.setup_failed.store(true, Ordering::Release);
                }
            }
            PHASE_PREPARE => {
                if !shared.failed() {
                    prepare(&shared, core).await;
                }
                // Worker `w` owns the prepared objects `w, w + concurrency, ...` (cleanup
                // treats the ones a failed prepare never wrote as already gone).
                for worker in &mut workers {
                    worker.owned = (worker.plan.worker as u64..shared.objects)
                        .step_by(shared.concurrency)
                        .collect();
                }
            }
            PHASE_RUN if !shared.failed() => {
                let cpu_start = cores::thread_cpu_time();
                workers = for_each_worker(&shared, workers, &stats, run_worker).await;
                result.run_cpu = cores::thread_cpu_time().saturating_sub(cpu_start);
            }
            // Nothing to clean if the server could not even be reached.
            PHASE_CLEANUP if !shared.noclear && !shared.setup_failed() => {
                workers = for_each_worker(&shared, workers, &stats, cleanup).await;
            }
            PHASE_TEARDOWN if !shared.noclear && !shared.setup_failed() && core == 0 => {
                if let Some(worker) = workers.first_mut() {
                    match worker.client.delete_bucket(&shared.bucket).await {
                        Ok(()) => {}
                        Err(e) if e.code == "BucketNotEmpty" => shared.note(format!(
                            "bucket {} kept: it holds objects this run did not create",
                            shared.bucket
                        )),
                        Err(e) => shared.note(format!("deleting bucket {}: {e}", shared.bucket)),
                    }
                }
            }
            _ => {}
        }
        ticket.done();
    }
    ticket.finish();
    result.stats = stats.take();
    result
}

/// Phase 0: open every connection (errors here are fatal: wrong host or port); core 0 makes the
/// bucket.
async fn setup(shared: &Shared, core: usize, workers: &mut [Worker]) {
    for worker in workers.iter_mut() {
        if let Err(e) = worker.client.connect().await {
            shared.fail(format!(
                "connecting to {}: {e}",
                shared.endpoints[worker.plan.host].host_header
            ));
            return;
        }
    }
    if core == 0 {
        if let Some(worker) = workers.first_mut() {
            match worker.client.create_bucket(&shared.bucket).await {
                Ok(()) => {}
                Err(e)
                    if e.code == "BucketAlreadyOwnedByYou" || e.code == "BucketAlreadyExists" => {}
                Err(e) => shared.fail(format!("creating bucket {}: {e}", shared.bucket)),
            }
        }
    }
}

type WorkerFn = for<'a> fn(
    &'a Shared,
    &'a mut Worker,
    &'a RefCell<Vec<OpStats>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// Run `f` for every worker of this core concurrently; hand the workers back.
async fn for_each_worker(
    shared: &Arc<Shared>,
    workers: Vec<Worker>,
    stats: &Rc<RefCell<Vec<OpStats>>>,
    f: WorkerFn,
) -> Vec<Worker> {
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let shared = shared.clone();
            let stats = stats.clone();
            glommio::spawn_local(async move {
                f(&shared, &mut worker, &stats).await;
                worker
            })
        })
        .collect();
    let mut back = Vec::with_capacity(tasks.len());
    for task in tasks {
        back.push(task.await);
    }
    back
}

/// Upload streams of the prepare phase: the run's concurrency, but at least
/// [`PREPARE_STREAMS_MIN`] (a GET at concurrency 1 should not wait for a serial upload), and
/// never more than there are objects.
fn prepare_stream_count(concurrency: usize, objects: u64) -> usize {
    let streams = concurrency.max(PREPARE_STREAMS_MIN) as u64;
    streams.min(objects.max(1)) as usize
}

/// Phase 1: this core's upload streams (stream `s` runs on core `s % cores`, talks to host
/// `s % hosts` and uploads objects `s, s + streams, ...`), each on its own connection.
async fn prepare(shared: &Arc<Shared>, core: usize) {
    let streams = prepare_stream_count(shared.concurrency, shared.objects);
    let tasks: Vec<_> = (0..streams)
        .filter(|stream| stream % shared.core_count == core)
        .map(|stream| {
            let shared = shared.clone();
            glommio::spawn_local(async move {
                let endpoint = shared.endpoints[stream % shared.endpoints.len()].clone();
                let mut client =
                    S3Client::new(endpoint, shared.sign.clone(), shared.request_timeout);
                let mut index = stream as u64;
                while index < shared.objects && !shared.failed() {
                    let (variant, body) = shared.payloads.for_object(index);
                    let key = shared.key(index);
                    if let Err(e) = client.put_object(&shared.bucket, &key, body, variant).await {
                        shared.fail(format!("preparing {}/{key}: {e}", shared.bucket));
                        return;
                    }
                    shared.live.prepared.fetch_add(1, Ordering::Relaxed);
                    index += streams as u64;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
}

/// Phase 3: delete what this worker owns (errors are reported once, not fatal; a lost
/// connection ends this worker's cleanup rather than retrying every object).
fn cleanup<'a>(
    shared: &'a Shared,
    worker: &'a mut Worker,
    _stats: &'a RefCell<Vec<OpStats>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(async move {
        let mut first_error = None;
        let mut errors = 0u64;
        for index in std::mem::take(&mut worker.owned) {
            let key = shared.key(index);
            match worker.client.delete_object(&shared.bucket, &key).await {
                Ok(()) => {
                    shared.live.cleaned.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) if e.code == "NoSuchKey" => {}
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| format!("{key}: {e}"));
                    if e.is_transport() {
                        break;
                    }
                }
            }
        }
        if let Some(first) = first_error {
            shared.note(format!("cleanup: {errors} delete(s) failed, first {first}"));
        }
    })
}

/// Phase 2: the measured loop.
fn run_worker<'a>(
    shared: &'a Shared,
    worker: &'a mut Worker,
    stats: &'a RefCell<Vec<OpStats>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(async move {
        let deadline = Instant::now() + shared.duration;
        while Instant::now() < deadline {
            let op = next_op(shared, worker);
            let Some(op) = op else {
                // Nothing left to do (delete ran out of objects).
                return;
            };
            let start = Instant::now();
            let outcome = one_op(shared, worker, op).await;
            let latency = start.elapsed();
            match outcome {
                Ok((bytes, items)) => {
                    stats.borrow_mut()[op.index()].record_ok(latency, bytes, items);
                    shared.live.add_ok(op, bytes);
                }
                Err(e) => {
                    stats.borrow_mut()[op.index()].record_error(&e.code);
                    shared.live.add_error(op);
                    if e.is_transport() {
                        glommio::timer::sleep(ERROR_BACKOFF).await;
                    }
                }
            }
        }
    })
}

/// The next operation of a worker, or `None` when it has nothing left to do.
fn next_op(shared: &Shared, worker: &mut Worker) -> Option<OpKind> {
    match &shared.workload {
        Workload::Put => Some(OpKind::Put),
        Workload::Get => Some(OpKind::Get),
        Workload::Stat => Some(OpKind::Stat),
        Workload::Delete => (!worker.owned.is_empty()).then_some(OpKind::Delete),
        Workload::Mixed(mix) => {
            let op = mix.pick(worker.rng.gen::<f64>());
            // With nothing owned, only a PUT makes sense.
            Some(if worker.owned.is_empty() {
                OpKind::Put
            } else {
                op
            })
        }
    }
}

/// Which object a read (GET/STAT) targets: any prepared object, or in `mixed` one this worker
/// owns (others may be deleted at any moment).
fn pick_read_target(shared: &Shared, worker: &mut Worker) -> u64 {
    match shared.workload {
        Workload::Mixed(_) => worker.owned[worker.rng.gen_range(0..worker.owned.len())],
        _ => worker.rng.gen_range(0..shared.objects),
    }
}

/// Execute one operation; on success, the payload bytes moved and the items listed.
async fn one_op(shared: &Shared, worker: &mut Worker, op: OpKind) -> Result<(u64, u64), OpError> {
    match op {
        OpKind::Put => {
            let index = worker.new_object_index(shared.concurrency);
            let (variant, body) = shared.payloads.for_object(index);
            let key = shared.key(index);
            worker
                .client
                .put_object(&shared.bucket, &key, body, variant)
                .await?;
            worker.owned.push(index);
            Ok((body.len() as u64, 0))
        }
        OpKind::Get => {
            let index = pick_read_target(shared, worker);
            let expected = shared.payloads.for_object(index).1.len() as u64;
            let got = worker
                .client
                .get_object(&shared.bucket, &shared.key(index))
                .await?;
            if got != expected {
                return Err(OpError::local(
                    "SizeMismatch",
                    format!("{got} of {expected} bytes"),
                ));
            }
            Ok((got, 0))
        }
        OpKind::Stat => {
            let index = pick_read_target(shared, worker);
            let expected = shared.payloads.for_object(index).1.len() as u64;
            let size = worker
                .client
                .head_object(&shared.bucket, &shared.key(index))
                .await?;
            if size != expected {
                return Err(OpError::local(
                    "SizeMismatch",
                    format!("{size} of {expected} bytes"),
                ));
            }
            Ok((0, 0))
        }
        OpKind::Delete => {
            let slot = match shared.workload {
                Workload::Mixed(_) => worker.rng.gen_range(0..worker.owned.len()),
                _ => worker.owned.len() - 1,
            };
            let index = worker.owned.swap_remove(slot);
            worker
                .client
                .delete_object(&shared.bucket, &shared.key(index))
                .await?;
            Ok((0, 0))
        }
        // Listing runs in `bench::list`, never picked here (not in any mix).
        OpKind::List => unreachable!("no workload of this module lists"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_picks_by_weight() {
        let mix = Mix::new(45.0, 30.0, 15.0, 10.0).unwrap();
        assert_eq!(mix.pick(0.0), OpKind::Get);
        assert_eq!(mix.pick(0.449), OpKind::Get);
        assert_eq!(mix.pick(0.45), OpKind::Stat);
        assert_eq!(mix.pick(0.76), OpKind::Put);
        assert_eq!(mix.pick(0.95), OpKind::Delete);
        assert_eq!(mix.pick(0.999_999), OpKind::Delete);
        let only_put = Mix::new(0.0, 0.0, 1.0, 0.0).unwrap();
        assert!((0..100).all(|i| only_put.pick(i as f64 / 100.0) == OpKind::Put));
        assert!(Mix::new(0.0, 0.0, 0.0, 0.0).is_err());
        assert!(Mix::new(-1.0, 0.0, 1.0, 0.0).is_err());
        assert!(Mix::new(f64::NAN, 0.0, 1.0, 0.0).is_err());
    }

    #[test]
    fn mix_frequencies() {
        let mix = Mix::new(45.0, 30.0, 15.0, 10.0).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut counts = [0u32; 5];
        for _ in 0..100_000 {
            counts[mix.pick(rng.gen::<f64>()).index()] += 1;
        }
        let share = |op: OpKind| counts[op.index()] as f64 / 100_000.0;
        assert!((share(OpKind::Get) - 0.45).abs() < 0.01);
        assert!((share(OpKind::Stat) - 0.30).abs() < 0.01);
        assert!((share(OpKind::Put) - 0.15).abs() < 0.01);
        assert!((share(OpKind::Delete) - 0.10).abs() < 0.01);
    }

    #[test]
    fn keys_and_defaults() {
        assert_eq!(object_key("abc", 0), "abc/00000000");
        assert_eq!(object_key("abc", 0x1_0000_0000), "abc/100000000");
        assert_eq!(default_objects(4096, 16), 2500);
        assert_eq!(default_objects(1 << 20, 16), 1024);
        assert_eq!(default_objects(64 << 20, 16), 16);
        assert_eq!(default_objects(64 << 20, 32), 32);
        assert_eq!(default_objects(1 << 30, 4000), 4000);
        let prefix = run_prefix();
        assert_eq!(prefix.len(), 8);
        assert!(prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    }

    #[test]
    fn endpoints_resolve() {
        let endpoints = resolve_endpoints(&[
            "127.0.0.1:9000".to_string(),
            "http://localhost:9001/".to_string(),
        ])
        .unwrap();
        assert_eq!(
            endpoints[0].addr,
            "127.0.0.1:9000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(endpoints[0].host_header, "127.0.0.1:9000");
        assert_eq!(endpoints[1].addr.port(), 9001);
        assert_eq!(endpoints[1].host_header, "localhost:9001");
        assert!(resolve_endpoints(&["nohost".to_string()]).is_err());
        assert!(resolve_endpoints(&[]).is_err());
    }
}
