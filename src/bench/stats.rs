//! What the load generator measures, and the arithmetic from raw samples to the numbers it
//! reports.
//!
//! Each core records into its own [`OpStats`] per operation (no sharing on the hot path); at the
//! end the cores' stats are merged ([`OpStats::merge`]) and turned into an [`OpSummary`] with
//! [`OpStats::summarize`]. [`Live`] is the only state shared between threads while a run is in
//! progress: relaxed atomic counters the progress line samples once a second.
//!
//! Invariants:
//! * latency histograms hold successful operations only, in microseconds, from 1 µs to one hour
//!   at 3 significant digits (values outside are clamped, never dropped);
//! * `count` counts successes; failures are counted by their S3 error code (or a transport
//!   error name) in `errors`;
//! * rates divide by the wall time of the measured window, the same for every operation of a run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::units::{mib_per_s, per_s};

/// Largest latency the histograms resolve: one hour, in microseconds.
const LATENCY_MAX_US: u64 = 3_600_000_000;

/// The S3 operations the generator issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// PutObject.
    Put,
    /// GetObject.
    Get,
    /// HeadObject.
    Stat,
    /// DeleteObject.
    Delete,
    /// ListObjectsV2, one page per operation.
    List,
}

impl OpKind {
    /// Every operation, in report order.
    pub const ALL: [OpKind; 5] = [
        OpKind::Put,
        OpKind::Get,
        OpKind::Stat,
        OpKind::Delete,
        OpKind::List,
    ];

    /// The name used in tables and JSON (`"PUT"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Put => "PUT",
            OpKind::Get => "GET",
            OpKind::Stat => "STAT",
            OpKind::Delete => "DELETE",
            OpKind::List => "LIST",
        }
    }

    /// Position in [`OpKind::ALL`], for per-operation arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Per-operation measurements of one core (or, after merging, of the whole run).
#[derive(Clone, Debug)]
pub struct OpStats {
    /// Successful operations.
    pub count: u64,
    /// Payload bytes moved by successful operations (object bytes, or list response bytes).
    pub bytes: u64,
    /// Items returned (keys listed by LIST); 0 for other operations.
    pub items: u64,
    /// Failed operations by S3 error code or transport error name.
    pub errors: BTreeMap<String, u64>,
    /// Latency of successful operations, microseconds.
    pub latency_us: Histogram<u64>,
}

impl Default for OpStats {
    fn default() -> Self {
        Self::new()
    }
}

impl OpStats {
    /// Empty stats.
    pub fn new() -> Self {
        let latency_us = match Histogram::new_with_bounds(1, LATENCY_MAX_US, 3) {
            Ok(histogram) => histogram,
            Err(error) => panic!("histogram bounds are constants and valid: {error:?}"),
        };
        OpStats {
            count: 0,
            bytes: 0,
            items: 0,
            errors: BTreeMap::new(),
            latency_us,
        }
    }

    /// One successful operation.
    pub fn record_ok(&mut self, latency: Duration, bytes: u64, items: u64) {
        self.count += 1;
        self.bytes += bytes;
        self.items += items;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_us
            .saturating_record(micros.clamp(1, LATENCY_MAX_US));
    }

    /// One failed operation.
    pub fn record_error(&mut self, code: &str) {
        match self.errors.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(code.to_string(), 1);
            }
        }
    }

    /// Failed operations, all codes.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Add another core's stats into these.
    pub fn merge(&mut self, other: &OpStats) {
        self.count += other.count;
        self.bytes += other.bytes;
        self.items += other.items;
        for (code, n) in &other.errors {
            *self.errors.entry(code.clone()).or_insert(0) += n;
        }
        if let Err(error) = self.latency_us.add(&other.latency_us) {
            // Same bounds on both sides: cannot fail unless the constants change.
            panic!("merging latency histograms: {error:?}");
        }
    }

    /// The reported numbers for a measured window of `elapsed` wall time.
    pub fn summarize(&self, op: OpKind, elapsed: Duration) -> OpSummary {
        let h = &self.latency_us;
        let ms = |quantile: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(quantile) as f64 / 1000.0
            }
        };
        OpSummary {
            op: op.name(),
            count: self.count,
            errors: self.error_count(),
            errors_by_code: self.errors.clone(),
            bytes: self.bytes,
            duration_s: elapsed.as_secs_f64(),
            mib_per_s: mib_per_s(self.bytes, elapsed),
            obj_per_s: per_s(self.count, elapsed),
            items: self.items,
            items_per_s: per_s(self.items, elapsed),
            latency_ms: LatencyMs {
                p50: ms(0.50),
                p90: ms(0.90),
                p99: ms(0.99),
                p999: ms(0.999),
                max: if h.is_empty() {
                    0.0
                } else {
                    h.max() as f64 / 1000.0
                },
                mean: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
            },
        }
    }
}

/// Latency percentiles in milliseconds (successful operations only).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LatencyMs {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// One operation's line of the final report; serialized as-is into the JSON `ops` array.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OpSummary {
    /// `"PUT"`, `"GET"`, ...
    pub op: &'static str,
    /// Successful operations.
    pub count: u64,
    /// Failed operations.
    pub errors: u64,
    /// Failed operations by S3 error code (or transport error name).
    pub errors_by_code: BTreeMap<String, u64>,
    /// Payload bytes of successful operations.
    pub bytes: u64,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// Payload throughput, MiB/s.
    pub mib_per_s: f64,
    /// Successful operations per second.
    pub obj_per_s: f64,
    /// Keys listed (LIST only).
    pub items: u64,
    /// Keys listed per second (LIST only).
    pub items_per_s: f64,
    /// Latency percentiles.
    pub latency_ms: LatencyMs,
}

/// Run phases, as shown by the progress line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Connecting, creating the bucket.
    Setup = 0,
    /// Uploading the objects that GET/STAT/DELETE/LIST need.
    Prepare = 1,
    /// The measured window.
    Run = 2,
    /// Deleting what the run created.
    Cleanup = 3,
    /// Finished.
    Done = 4,
}

/// Live counters for the progress line: written by every core with relaxed atomics (a few per
/// operation), read once a second.
#[derive(Debug)]
pub struct Live {
    phase: AtomicU8,
    /// Objects uploaded during [`Phase::Prepare`].
    pub prepared: AtomicU64,
    /// Objects deleted during [`Phase::Cleanup`].
    pub cleaned: AtomicU64,
    ops: [LiveOp; OpKind::ALL.len()],
    started: std::sync::OnceLock<Instant>,
}

#[derive(Debug, Default)]
struct LiveOp {
    count: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
}

/// A snapshot of one operation's live counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    /// Successful operations so far.
    pub count: u64,
    /// Payload bytes so far.
    pub bytes: u64,
    /// Failed operations so far.
    pub errors: u64,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    /// All zero, in [`Phase::Setup`].
    pub fn new() -> Self {
        Live {
            phase: AtomicU8::new(Phase::Setup as u8),
            prepared: AtomicU64::new(0),
            cleaned: AtomicU64::new(0),
            ops: Default::default(),
            started: std::sync::OnceLock::new(),
        }
    }

    /// Enter a phase. Entering [`Phase::Run`] the first time starts the progress clock.
    pub fn set_phase(&self, phase: Phase) {
        if phase == Phase::Run {
            let _ = self.started.set(Instant::now());
        }
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Setup,
            1 => Phase::Prepare,
            2 => Phase::Run,
            3 => Phase::Cleanup,
            _ => Phase::Done,
        }
    }

    /// When the measured window started, if it has.
    pub fn run_started(&self) -> Option<Instant> {
        self.started.get().copied()
    }

    /// Count one successful operation.
    pub fn add_ok(&self, op: OpKind, bytes: u64) {
        let live = &self.ops[op.index()];
        live.count.fetch_add(1, Ordering::Relaxed);
        live.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Count one failed operation.
    pub fn add_error(&self, op: OpKind) {
        self.ops[op.index()].errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Current totals of one operation.
    pub fn snapshot(&self, op: OpKind) -> LiveSnapshot {
        let live = &self.ops[op.index()];
        LiveSnapshot {
            count: live.count.load(Ordering::Relaxed),
            bytes: live.bytes.load(Ordering::Relaxed),
            errors: live.errors.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut stats = OpStats::new();
        // 1..=1000 ms, one sample each.
        for ms in 1..=1000u64 {
            stats.record_ok(Duration::from_millis(ms), 1 << 20, 0);
        }
        let summary = stats.summarize(OpKind::Get, Duration::from_secs(10));
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.002 + 0.001;
        assert!(
            close(summary.latency_ms.p50, 500.0),
            "{:?}",
            summary.latency_ms
        );
        assert!(
            close(summary.latency_ms.p90, 900.0),
            "{:?}",
            summary.latency_ms
        );
        assert!(
            close(summary.latency_ms.p99, 990.0),
            "{:?}",
            summary.latency_ms
        );
        assert!(
            close(summary.latency_ms.p999, 999.0),
            "{:?}",
            summary.latency_ms
        );
        assert!(
            close(summary.latency_ms.max, 1000.0),
            "{:?}",
            summary.latency_ms
        );
        assert!(
            close(summary.latency_ms.mean, 500.5),
            "{:?}",
            summary.latency_ms
        );
        assert_eq!(summary.count, 1000);
        assert_eq!(summary.obj_per_s, 100.0);
        assert_eq!(summary.mib_per_s, 100.0);
        assert_eq!(summary.op, "GET");
    }

    #[test]
    fn merge_adds_counts_errors_and_samples() {
        let mut a = OpStats::new();
        let mut b = OpStats::new();
        a.record_ok(Duration::from_micros(100), 10, 0);
        a.record_error("SlowDownWrite");
        b.record_ok(Duration::from_micros(300), 20, 0);
        b.record_error("SlowDownWrite");
        b.record_error("connection");
        a.merge(&b);
        assert_eq!(a.count, 2);
        assert_eq!(a.bytes, 30);
        assert_eq!(a.error_count(), 3);
        assert_eq!(a.errors.get("SlowDownWrite"), Some(&2));
        assert_eq!(a.errors.get("connection"), Some(&1));
        assert_eq!(a.latency_us.len(), 2);
        assert_eq!(a.latency_us.max(), 300);
    }

    #[test]
    fn extremes_are_clamped_not_dropped() {
        let mut stats = OpStats::new();
        stats.record_ok(Duration::ZERO, 0, 0);
        stats.record_ok(Duration::from_secs(10_000), 0, 0);
        assert_eq!(stats.latency_us.len(), 2);
        let summary = stats.summarize(OpKind::Put, Duration::from_secs(1));
        assert!(summary.latency_ms.max >= 3_599_000.0);
    }

    #[test]
    fn empty_summary_is_zero_not_nan() {
        let summary = OpStats::new().summarize(OpKind::Stat, Duration::ZERO);
        assert_eq!(summary.count, 0);
        assert_eq!(summary.mib_per_s, 0.0);
        assert_eq!(summary.latency_ms.p99, 0.0);
        assert_eq!(summary.latency_ms.mean, 0.0);
    }

    #[test]
    fn live_counters() {
        let live = Live::new();
        assert_eq!(live.phase(), Phase::Setup);
        assert!(live.run_started().is_none());
        live.set_phase(Phase::Run);
        assert!(live.run_started().is_some());
        live.add_ok(OpKind::Put, 5);
        live.add_ok(OpKind::Put, 7);
        live.add_error(OpKind::Put);
        let snap = live.snapshot(OpKind::Put);
        assert_eq!(
            snap,
            LiveSnapshot {
                count: 2,
                bytes: 12,
                errors: 1
            }
        );
        assert_eq!(live.snapshot(OpKind::Get), LiveSnapshot::default());
    }

    #[test]
    fn op_names_and_indexes() {
        for (i, op) in OpKind::ALL.iter().enumerate() {
            assert_eq!(op.index(), i);
        }
        assert_eq!(OpKind::Delete.name(), "DELETE");
    }
}
