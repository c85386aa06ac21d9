//! `minnow bench list`: how fast a bucket of many small objects lists, and whether its last
//! page costs more than its first.
//!
//! 1. fill: `--keys` 0-byte (or `--obj.size`) objects, flat (`k00000000`, ...) or spread over
//!    `--folders` folders (key `i` is `f<i % folders>/k<i / folders>`), uploaded by
//!    `--concurrent` streams. With `--reuse` a first listing finds the keys already there
//!    (left by an earlier `--noclear` or `--reuse` run) and only the missing ones are uploaded.
//! 2. list: full ListObjectsV2 paginations of `--page` keys per page, one untimed warm pass
//!    then `--passes` timed ones; with `--folders`, as many delimiter (`/`) paginations of the
//!    folders too. Every pass is checked: each expected key (or folder) exactly once, in order,
//!    and nothing else; a pass that differs fails the run.
//! 3. cleanup: the keys and the bucket are deleted, unless `--noclear` or `--reuse`.
//!
//! Reported per listing: keys (or folders) per second over the timed passes, the page latency
//! histogram, and the median latency of the first page and of the last page over the passes
//! with their ratio (a listing whose cost grows with the start key shows a ratio well above 1).
//! One executor runs everything: the listing is one request at a time by nature.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cores;
use super::payload::{Digests, PayloadSpec, Payloads};
use super::report::GeneratorCost;
use super::s3::{OpError, S3Client, SignConfig};
use super::stats::{OpKind, OpStats, OpSummary};
use super::workload::{resolve_credentials, resolve_endpoints};
use super::ListArgs;

/// What one listing walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListingKind {
    /// Every key (no delimiter).
    Flat,
    /// The folders, as common prefixes of delimiter `/`.
    Delimiter,
}

/// The keys of the run, in listing (byte) order.
pub fn key_names(keys: u64, folders: Option<u64>) -> Vec<String> {
    let mut names: Vec<String> = match folders {
        None => (0..keys).map(|i| format!("k{i:08}")).collect(),
        Some(folders) => {
            let folder_width = digits(folders.saturating_sub(1)).max(4);
            let per_folder = keys.div_ceil(folders.max(1));
            let key_width = digits(per_folder.saturating_sub(1)).max(4);
            (0..keys)
                .map(|i| {
                    format!(
                        "f{:0fw$}/k{:0kw$}",
                        i % folders,
                        i / folders,
                        fw = folder_width,
                        kw = key_width
                    )
                })
                .collect()
        }
    };
    names.sort_unstable();
    names
}

/// The folders (common prefixes with delimiter `/`) of `names`, in order, each once.
pub fn folder_names(names: &[String]) -> Vec<String> {
    let mut folders: Vec<String> = names
        .iter()
        .filter_map(|k| k.find('/').map(|i| k[..=i].to_string()))
        .collect();
    folders.dedup();
    folders
}

fn digits(n: u64) -> usize {
    n.to_string().len()
}

/// How one pass differs from the expected entries; `None` when it lists each exactly once, in
/// order, and nothing else.
pub fn check_pass(listed: &[String], expected: &[String]) -> Option<String> {
    if listed == expected {
        return None;
    }
    let mut sorted = listed.to_vec();
    sorted.sort_unstable();
    let duplicates = sorted.windows(2).filter(|w| w[0] == w[1]).count();
    sorted.dedup();
    let missing = expected
        .iter()
        .filter(|e| sorted.binary_search(e).is_err())
        .count();
    let unexpected = sorted
        .iter()
        .filter(|l| expected.binary_search(l).is_err())
        .count();
    let first_difference = listed
        .iter()
        .zip(expected)
        .position(|(l, e)| l != e)
        .unwrap_or(listed.len().min(expected.len()));
    Some(format!(
        "listed {} of {} expected: {missing} missing, {unexpected} unexpected, \
         {duplicates} duplicated, first difference at position {first_difference}",
        listed.len(),
        expected.len()
    ))
}

/// Median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The JSON document of `bench list`.
#[derive(Clone, Debug, Serialize)]
pub struct ListReport {
    /// `"list"`.
    pub workload: String,
    /// Like the other workloads: `PUT` (the fill), `LIST` (flat pages of the timed passes),
    /// `LISTDIR` (delimiter pages, with `--folders`).
    pub ops: Vec<OpSummary>,
    /// Seconds of the timed passes, all listings.
    pub duration_s: f64,
    /// What was asked for.
    pub config: ListConfig,
    /// How the bucket was filled.
    pub fill: FillReport,
    /// One entry per listing kind.
    pub listings: Vec<ListingReport>,
    /// What the generator itself cost (over the timed passes).
    pub generator: GeneratorCost,
}

/// The options of the run, echoed.
#[derive(Clone, Debug, Serialize)]
pub struct ListConfig {
    /// Endpoint listed (the first `--host`).
    pub host: String,
    /// Bucket.
    pub bucket: String,
    /// Keys in the bucket.
    pub keys: u64,
    /// Folders, 0 for flat keys.
    pub folders: u64,
    /// Keys per page asked.
    pub page: u32,
    /// Timed passes per listing.
    pub passes: u32,
    /// Object size.
    pub obj_size_bytes: u64,
    /// Upload streams of the fill.
    pub concurrent: usize,
    /// Keys already present were kept.
    pub reuse: bool,
}

/// The fill phase.
#[derive(Clone, Debug, Serialize)]
pub struct FillReport {
    /// Keys found already present (`--reuse`).
    pub reused: u64,
    /// Keys uploaded.
    pub uploaded: u64,
    /// Wall time of the uploads, seconds.
    pub seconds: f64,
    /// Uploads per second.
    pub keys_per_s: f64,
}

/// One listing kind over its timed passes.
#[derive(Clone, Debug, Serialize)]
pub struct ListingReport {
    /// `flat` or `delimiter`.
    pub kind: ListingKind,
    /// Entries each pass must list: keys (flat) or folders (delimiter).
    pub expected_entries: u64,
    /// Entries listed by each timed pass (each equals `expected_entries`, or the run fails).
    pub entries_per_pass: Vec<u64>,
    /// Keys listed by each timed pass.
    pub keys_per_pass: Vec<u64>,
    /// Common prefixes listed by each timed pass.
    pub prefixes_per_pass: Vec<u64>,
    /// Pages of each timed pass.
    pub pages_per_pass: Vec<u64>,
    /// Wall time of each timed pass, seconds.
    pub pass_s: Vec<f64>,
    /// Entries listed per second over the timed passes.
    pub entries_per_s: f64,
    /// Keys listed per second over the timed passes.
    pub keys_per_s: f64,
    /// Median latency of the first page over the timed passes, ms.
    pub first_page_ms: f64,
    /// Median latency of the last page over the timed passes, ms.
    pub last_page_ms: f64,
    /// `last_page_ms / first_page_ms`.
    pub last_to_first_ratio: f64,
    /// The untimed warm pass, seconds.
    pub warm_pass_s: f64,
}

/// One pass over a listing.
struct Pass {
    entries: Vec<String>,
    keys: u64,
    prefixes: u64,
    page_latencies: Vec<Duration>,
    elapsed: Duration,
}

/// Paginate the whole listing once, recording each page into `pages` when given.
async fn list_once(
    client: &mut S3Client,
    bucket: &str,
    kind: ListingKind,
    page: u32,
    mut pages: Option<&mut OpStats>,
) -> Result<Pass, OpError> {
    let delimiter = match kind {
        ListingKind::Flat => None,
        ListingKind::Delimiter => Some("/"),
    };
    let start = Instant::now();
    let mut pass = Pass {
        entries: Vec::new(),
        keys: 0,
        prefixes: 0,
        page_latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut token: Option<String> = None;
    loop {
        let page_start = Instant::now();
        let listed = match client
            .list_page(bucket, delimiter, token.as_deref(), page)
            .await
        {
            Ok(listed) => listed,
            Err(e) => {
                if let Some(stats) = pages.as_deref_mut() {
                    stats.record_error(&e.code);
                }
                return Err(e);
            }
        };
        let latency = page_start.elapsed();
        let entries = (listed.keys.len() + listed.prefixes.len()) as u64;
        if let Some(stats) = pages.as_deref_mut() {
            stats.record_ok(latency, listed.body_bytes, entries);
        }
        pass.page_latencies.push(latency);
        pass.keys += listed.keys.len() as u64;
        pass.prefixes += listed.prefixes.len() as u64;
        // Keys and prefixes each come in order; merged they are in listing order too.
        let mut merged = listed.keys;
        merged.extend(listed.prefixes);
        merged.sort_unstable();
        pass.entries.extend(merged);
        match listed.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    pass.elapsed = start.elapsed();
    Ok(pass)
}

/// Everything the run needs, on its one executor.
struct Plan {
    args: ListArgs,
    sign: SignConfig,
    endpoint: super::s3::Endpoint,
    names: Vec<String>,
    payloads: Payloads,
}

struct Outcome {
    fill: FillReport,
    put: OpStats,
    listings: Vec<(ListingReport, OpStats)>,
    cpu: Duration,
}

/// Run `minnow bench list`.
pub fn run(args: ListArgs) -> Result<(), String> {
    let process_cpu_start = cores::process_cpu_time();
    if args.keys == 0 {
        return Err("--keys must be at least 1".to_string());
    }
    if args.folders == Some(0) {
        return Err("--folders must be at least 1".to_string());
    }
    if args.page == 0 || args.page > 1000 {
        return Err("--page must be between 1 and 1000".to_string());
    }
    if args.passes == 0 {
        return Err("--passes must be at least 1".to_string());
    }
    if args.s3.concurrent == 0 {
        return Err("--concurrent must be at least 1".to_string());
    }
    let credentials = resolve_credentials(&args.s3)?;
    let endpoint = resolve_endpoints(&args.s3.host)?.remove(0);
    let obj_size = args.s3.obj_size.map_or(0, |s| s.0);
    let payloads = Payloads::generate(&PayloadSpec {
        size_max_bytes: obj_size,
        random_sizes: false,
        variant_count: 1,
        digests: match args.s3.payload {
            super::PayloadMode::Signed => Digests::Whole,
            _ => Digests::None,
        },
        seed: 0x6c69_7374,
    })?;
    let plan = Plan {
        sign: SignConfig {
            credentials,
            region: args.s3.region.clone(),
            mode: args.s3.payload,
        },
        endpoint,
        names: key_names(args.keys, args.folders),
        payloads,
        args,
    };
    let cpu = cores::pick_cpus(plan.args.s3.cores, 1)[0];
    let handle = cores::executor_builder(0, cpu)
        .spawn(move || async move {
            let outcome = run_on_executor(&plan).await;
            (plan, outcome)
        })
        .map_err(|e| format!("starting executor on CPU {cpu}: {e}"))?;
    let (plan, outcome) = handle.join().map_err(|e| format!("executor: {e}"))?;
    let outcome = outcome?;

    let timed: Duration = outcome
        .listings
        .iter()
        .flat_map(|(l, _)| l.pass_s.iter())
        .map(|s| Duration::from_secs_f64(*s))
        .sum();
    let fill_window = Duration::from_secs_f64(outcome.fill.seconds);
    let mut ops = vec![outcome.put.summarize(OpKind::Put, fill_window)];
    let mut pages_total = 0;
    let mut bytes_total = 0;
    for (listing, stats) in &outcome.listings {
        let window: Duration = listing
            .pass_s
            .iter()
            .map(|s| Duration::from_secs_f64(*s))
            .sum();
        let mut summary = stats.summarize(OpKind::List, window);
        if listing.kind == ListingKind::Delimiter {
            summary.op = "LISTDIR";
        }
        pages_total += stats.count;
        bytes_total += stats.bytes;
        ops.push(summary);
    }
    let args = &plan.args;
    let report = ListReport {
        workload: "list".to_string(),
        ops,
        duration_s: timed.as_secs_f64(),
        config: ListConfig {
            host: plan.endpoint.host_header.clone(),
            bucket: args.s3.bucket.clone(),
            keys: args.keys,
            folders: args.folders.unwrap_or(0),
            page: args.page,
            passes: args.passes,
            obj_size_bytes: obj_size,
            concurrent: args.s3.concurrent,
            reuse: args.reuse,
        },
        fill: outcome.fill,
        listings: outcome.listings.into_iter().map(|(l, _)| l).collect(),
        generator: GeneratorCost::new(
            outcome.cpu.as_secs_f64(),
            bytes_total,
            pages_total,
            timed.as_secs_f64(),
            0.0,
            cores::process_cpu_time()
                .saturating_sub(process_cpu_start)
                .as_secs_f64(),
        ),
    };
    print!("{}", render_table(&report));
    if let Some(path) = &args.s3.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        super::write_output(path, &text)?;
    }
    Ok(())
}

fn client(plan: &Plan) -> S3Client {
    S3Client::new(
        plan.endpoint.clone(),
        plan.sign.clone(),
        plan.args.s3.request_timeout.0,
    )
}

fn say(plan: &Plan, line: String) {
    if !plan.args.s3.quiet {
        eprintln!("{line}");
    }
}

async fn run_on_executor(plan: &Plan) -> Result<Outcome, String> {
    let bucket = &plan.args.s3.bucket;
    let mut lister = client(plan);
    lister
        .connect()
        .await
        .map_err(|e| format!("connecting to {}: {e}", plan.endpoint.host_header))?;
    match lister.create_bucket(bucket).await {
        Ok(()) => {}
        Err(e) if e.code == "BucketAlreadyOwnedByYou" || e.code == "BucketAlreadyExists" => {}
        Err(e) => return Err(format!("creating bucket {bucket}: {e}")),
    }
    let result = fill_and_list(plan, &mut lister).await;
    if !plan.args.s3.noclear && !plan.args.reuse {
        say(plan, format!("cleanup: deleting {} keys", plan.names.len()));
        cleanup(plan).await;
        if let Err(e) = lister.delete_bucket(bucket).await {
            eprintln!("minnow bench: deleting bucket {bucket}: {e}");
        }
    }
    result
}

async fn fill_and_list(plan: &Plan, lister: &mut S3Client) -> Result<Outcome, String> {
    let bucket = &plan.args.s3.bucket;
    let present: Vec<String> = if plan.args.reuse {
        let pass = list_once(lister, bucket, ListingKind::Flat, 1000, None)
            .await
            .map_err(|e| format!("listing {bucket}: {e}"))?;
        if let Some(stray) = pass
            .entries
            .iter()
            .find(|k| plan.names.binary_search(k).is_err())
        {
            return Err(format!(
                "--reuse: bucket {bucket} holds {stray}, not a key of this run \
                 (--keys {} --folders {:?}); use another bucket",
                plan.args.keys, plan.args.folders
            ));
        }
        pass.entries
    } else {
        Vec::new()
    };
    let missing: Vec<&String> = plan
        .names
        .iter()
        .filter(|k| present.binary_search(k).is_err())
        .collect();
    say(
        plan,
        format!(
            "fill: {} keys present, uploading {} with {} streams",
            present.len(),
            missing.len(),
            plan.args.s3.concurrent
        ),
    );
    let put = Rc::new(RefCell::new(OpStats::new()));
    let fill_start = Instant::now();
    let first_error: Rc<RefCell<Option<String>>> = Rc::default();
    let missing = Rc::new(missing.into_iter().cloned().collect::<Vec<String>>());
    let streams = plan.args.s3.concurrent.min(missing.len().max(1));
    let tasks: Vec<_> = (0..streams)
        .map(|stream| {
            let mut client = client(plan);
            let (put, first_error, missing) = (put.clone(), first_error.clone(), missing.clone());
            let bucket = bucket.clone();
            let (variant, body) = plan.payloads.for_object(0);
            let (variant, body) = (variant.clone(), body.to_vec());
            glommio::spawn_local(async move {
                for key in missing.iter().skip(stream).step_by(streams) {
                    if first_error.borrow().is_some() {
                        return;
                    }
                    let start = Instant::now();
                    match client.put_object(&bucket, key, &body, &variant).await {
                        Ok(()) => put
                            .borrow_mut()
                            .record_ok(start.elapsed(), body.len() as u64, 0),
                        Err(e) => {
                            put.borrow_mut().record_error(&e.code);
                            first_error
                                .borrow_mut()
                                .get_or_insert(format!("uploading {bucket}/{key}: {e}"));
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let fill_elapsed = fill_start.elapsed();
    if let Some(e) = first_error.take() {
        return Err(e);
    }
    let put = put.take();
    let fill = FillReport {
        reused: present.len() as u64,
        uploaded: put.count,
        seconds: fill_elapsed.as_secs_f64(),
        keys_per_s: if fill_elapsed.is_zero() {
            0.0
        } else {
            put.count as f64 / fill_elapsed.as_secs_f64()
        },
    };

    let cpu_start = cores::thread_cpu_time();
    let mut listings = Vec::new();
    let mut kinds = vec![(ListingKind::Flat, plan.names.clone())];
    if plan.args.folders.is_some() {
        kinds.push((ListingKind::Delimiter, folder_names(&plan.names)));
    }
    for (kind, expected) in kinds {
        listings.push(timed_listing(plan, lister, kind, &expected).await?);
    }
    Ok(Outcome {
        fill,
        put,
        listings,
        cpu: cores::thread_cpu_time().saturating_sub(cpu_start),
    })
}

/// The warm pass and the timed passes of one listing kind, each checked against `expected`.
async fn timed_listing(
    plan: &Plan,
    lister: &mut S3Client,
    kind: ListingKind,
    expected: &[String],
) -> Result<(ListingReport, OpStats), String> {
    let bucket = &plan.args.s3.bucket;
    let page = plan.args.page;
    let failed = |pass: &str, e: OpError| format!("{kind:?} listing, {pass}: {e}");
    let warm = list_once(lister, bucket, kind, page, None)
        .await
        .map_err(|e| failed("warm pass", e))?;
    if let Some(difference) = check_pass(&warm.entries, expected) {
        return Err(format!("{kind:?} listing, warm pass: {difference}"));
    }
    let mut stats = OpStats::new();
    let mut passes = Vec::new();
    for n in 0..plan.args.passes {
        let pass = list_once(lister, bucket, kind, page, Some(&mut stats))
            .await
            .map_err(|e| failed(&format!("pass {n}"), e))?;
        if let Some(difference) = check_pass(&pass.entries, expected) {
            return Err(format!("{kind:?} listing, pass {n}: {difference}"));
        }
        say(
            plan,
            format!(
                "{kind:?} pass {n}: {} entries in {} pages, {:.3} s",
                pass.entries.len(),
                pass.page_latencies.len(),
                pass.elapsed.as_secs_f64()
            ),
        );
        passes.push(pass);
    }
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let first: Vec<f64> = passes
        .iter()
        .filter_map(|p| p.page_latencies.first())
        .map(ms)
        .collect();
    let last: Vec<f64> = passes
        .iter()
        .filter_map(|p| p.page_latencies.last())
        .map(ms)
        .collect();
    let total_s: f64 = passes.iter().map(|p| p.elapsed.as_secs_f64()).sum();
    let entries: u64 = passes.iter().map(|p| p.entries.len() as u64).sum();
    let keys: u64 = passes.iter().map(|p| p.keys).sum();
    let rate = |n: u64| {
        if total_s > 0.0 {
            n as f64 / total_s
        } else {
            0.0
        }
    };
    let (first_page_ms, last_page_ms) = (median(&first), median(&last));
    let report = ListingReport {
        kind,
        expected_entries: expected.len() as u64,
        entries_per_pass: passes.iter().map(|p| p.entries.len() as u64).collect(),
        keys_per_pass: passes.iter().map(|p| p.keys).collect(),
        prefixes_per_pass: passes.iter().map(|p| p.prefixes).collect(),
        pages_per_pass: passes
            .iter()
            .map(|p| p.page_latencies.len() as u64)
            .collect(),
        pass_s: passes.iter().map(|p| p.elapsed.as_secs_f64()).collect(),
        entries_per_s: rate(entries),
        keys_per_s: rate(keys),
        first_page_ms,
        last_page_ms,
        last_to_first_ratio: if first_page_ms > 0.0 {
            last_page_ms / first_page_ms
        } else {
            0.0
        },
        warm_pass_s: warm.elapsed.as_secs_f64(),
    };
    Ok((report, stats))
}

/// Delete every key of the run, `--concurrent` at a time (errors are reported once).
async fn cleanup(plan: &Plan) {
    let names = Rc::new(plan.names.clone());
    let streams = plan.args.s3.concurrent.min(names.len().max(1));
    let failures: Rc<RefCell<(u64, Option<String>)>> = Rc::default();
    let tasks: Vec<_> = (0..streams)
        .map(|stream| {
            let mut client = client(plan);
            let (names, failures) = (names.clone(), failures.clone());
            let bucket = plan.args.s3.bucket.clone();
            glommio::spawn_local(async move {
                for key in names.iter().skip(stream).step_by(streams) {
                    match client.delete_object(&bucket, key).await {
                        Ok(()) => {}
                        Err(e) if e.code == "NoSuchKey" => {}
                        Err(e) => {
                            let mut f = failures.borrow_mut();
                            f.0 += 1;
                            f.1.get_or_insert(format!("{key}: {e}"));
                            if e.is_transport() {
                                return;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let (count, first) = failures.take();
    if let Some(first) = first {
        eprintln!("minnow bench: cleanup: {count} delete(s) failed, first {first}");
    }
}

/// The human summary.
pub fn render_table(report: &ListReport) -> String {
    let c = &report.config;
    let mut out = format!(
        "list against {} bucket {}: {} keys{}, page {}, {} timed passes (after 1 warm)\n",
        c.host,
        c.bucket,
        c.keys,
        if c.folders > 0 {
            format!(" in {} folders", c.folders)
        } else {
            String::new()
        },
        c.page,
        c.passes
    );
    let f = &report.fill;
    out.push_str(&format!(
        "fill: {} uploaded ({} reused) in {:.2} s, {:.0} keys/s\n",
        f.uploaded, f.reused, f.seconds, f.keys_per_s
    ));
    for l in &report.listings {
        out.push_str(&format!(
            "{:?}: {:.0} entries/s ({:.0} keys/s), {} pages/pass, first page {:.2} ms, last page {:.2} ms (x{:.2})\n",
            l.kind,
            l.entries_per_s,
            l.keys_per_s,
            l.pages_per_pass.first().copied().unwrap_or(0),
            l.first_page_ms,
            l.last_page_ms,
            l.last_to_first_ratio
        ));
    }
    for op in &report.ops {
        let lat = &op.latency_ms;
        out.push_str(&format!(
            "{:<8} {:>8} requests, p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} ms, {} errors\n",
            op.op, op.count, lat.p50, lat.p90, lat.p99, lat.max, op.errors
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_flat_and_in_folders() {
        assert_eq!(key_names(3, None), ["k00000000", "k00000001", "k00000002"]);
        let names = key_names(5, Some(2));
        assert_eq!(
            names,
            [
                "f0000/k0000",
                "f0000/k0001",
                "f0000/k0002",
                "f0001/k0000",
                "f0001/k0001"
            ]
        );
        assert_eq!(folder_names(&names), ["f0000/", "f0001/"]);
        let many = key_names(10_000, Some(1000));
        assert_eq!(many.len(), 10_000);
        assert_eq!(folder_names(&many).len(), 1000);
        assert!(many.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
        assert_eq!(key_names(20_000, Some(20_000))[19_999], "f19999/k0000");
        assert!(folder_names(&key_names(4, None)).is_empty());
    }

    #[test]
    fn passes_must_list_each_entry_once() {
        let expected: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(check_pass(&expected, &expected), None);
        let twice: Vec<String> = ["a", "b", "b", "c"].map(String::from).to_vec();
        let why = check_pass(&twice, &expected).unwrap();
        assert!(
            why.contains("1 duplicated") && why.contains("0 missing"),
            "{why}"
        );
        let short: Vec<String> = ["a", "c", "x"].map(String::from).to_vec();
        let why = check_pass(&short, &expected).unwrap();
        assert!(
            why.contains("1 missing") && why.contains("1 unexpected"),
            "{why}"
        );
        assert!(why.contains("position 1"), "{why}");
        let unordered: Vec<String> = ["b", "a", "c"].map(String::from).to_vec();
        assert!(check_pass(&unordered, &expected).is_some());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
