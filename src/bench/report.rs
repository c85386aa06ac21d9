//! The final report of an S3 run: the per-operation table on stdout and the JSON document for
//! scripts (`--json`). The JSON keys documented in the module header of `bench` are a stable
//! interface: fields may be added, never renamed or removed.

use serde::Serialize;

use super::stats::OpSummary;

/// The whole JSON document of an S3 run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// One entry per operation that ran (or failed), in `OpKind::ALL` order.
    pub ops: Vec<OpSummary>,
    /// `"put"`, `"get"`, `"mixed"`, ...
    pub workload: String,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// What was asked for.
    pub config: RunConfig,
    /// What the generator itself cost.
    pub generator: GeneratorCost,
}

/// The options of the run, echoed for the record.
#[derive(Clone, Debug, Serialize)]
pub struct RunConfig {
    /// Endpoints.
    pub hosts: Vec<String>,
    /// Bucket.
    pub bucket: String,
    /// Object size (maximum with `obj_randsize`).
    pub obj_size_bytes: u64,
    /// Random sizes.
    pub obj_randsize: bool,
    /// Mean object size actually used.
    pub obj_size_mean_bytes: f64,
    /// Objects uploaded before the run.
    pub objects: u64,
    /// Concurrent requests.
    pub concurrent: usize,
    /// Requested duration, seconds.
    pub duration_s: f64,
    /// `unsigned`, `signed` or `streaming`.
    pub payload: String,
    /// Executors.
    pub cores: usize,
}

/// CPU the load generator spent, so a reader can check it was not the bottleneck.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GeneratorCost {
    /// CPU seconds of the executor threads during the measured window (user + system).
    pub cpu_s: f64,
    /// Payload bytes moved in the window (all operations).
    pub bytes: u64,
    /// `cpu_s` per payload byte, nanoseconds.
    pub ns_per_byte: f64,
    /// `cpu_s` per successful operation, microseconds.
    pub us_per_op: f64,
    /// CPU seconds of the executors divided by the window: cores kept busy (max = cores).
    pub cores_busy: f64,
    /// CPU seconds spent generating and hashing payloads before the run.
    pub payload_setup_cpu_s: f64,
    /// CPU seconds of the whole process, start to end (setup, prepare, cleanup included).
    pub process_cpu_s: f64,
}

impl GeneratorCost {
    /// Derive the ratios.
    pub fn new(
        cpu_s: f64,
        bytes: u64,
        ops: u64,
        window_s: f64,
        payload_setup_cpu_s: f64,
        process_cpu_s: f64,
    ) -> Self {
        GeneratorCost {
            cpu_s,
            bytes,
            ns_per_byte: if bytes == 0 {
                0.0
            } else {
                cpu_s * 1e9 / bytes as f64
            },
            us_per_op: if ops == 0 {
                0.0
            } else {
                cpu_s * 1e6 / ops as f64
            },
            cores_busy: if window_s > 0.0 {
                cpu_s / window_s
            } else {
                0.0
            },
            payload_setup_cpu_s,
            process_cpu_s,
        }
    }
}

/// The human table.
pub fn render_table(report: &RunReport) -> String {
    let mut out = String::new();
    let c = &report.config;
    out.push_str(&format!(
        "{} against {} bucket {}: {} objects{}, {} concurrent, {} payload, {} cores, {:.1} s\n",
        report.workload,
        c.hosts.join(","),
        c.bucket,
        super::units::format_bytes(c.obj_size_bytes),
        if c.obj_randsize {
            " (random sizes, max)"
        } else {
            ""
        },
        c.concurrent,
        c.payload,
        c.cores,
        report.duration_s
    ));
    out.push_str(&format!(
        "{:<7}{:>10}{:>11}{:>11}{:>9}{:>9}{:>9}{:>10}{:>9}{:>8}\n",
        "op",
        "count",
        "MiB/s",
        "obj/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "errors"
    ));
    for op in &report.ops {
        let l = &op.latency_ms;
        out.push_str(&format!(
            "{:<7}{:>10}{:>11.2}{:>11.1}{:>9}{:>9}{:>9}{:>10}{:>9}{:>8}\n",
            op.op,
            op.count,
            op.mib_per_s,
            op.obj_per_s,
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            op.errors
        ));
    }
    for op in report.ops.iter().filter(|op| op.items > 0) {
        out.push_str(&format!(
            "{}: {} keys listed, {:.1} keys/s\n",
            op.op, op.items, op.items_per_s
        ));
    }
    for op in report.ops.iter().filter(|op| op.errors > 0) {
        let codes: Vec<String> = op
            .errors_by_code
            .iter()
            .map(|(code, n)| format!("{code}={n}"))
            .collect();
        out.push_str(&format!("{} errors: {}\n", op.op, codes.join(", ")));
    }
    let g = &report.generator;
    out.push_str(&format!(
        "generator: {:.3} CPU-s in the window ({:.2} of {} cores busy), {:.3} ns/byte, {:.1} us/op; payload setup {:.3} CPU-s; process total {:.3} CPU-s\n",
        g.cpu_s, g.cores_busy, c.cores, g.ns_per_byte, g.us_per_op, g.payload_setup_cpu_s, g.process_cpu_s
    ));
    out
}

/// Milliseconds with precision that fits the magnitude.
fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::{OpKind, OpStats};
    use std::time::Duration;

    fn sample_report() -> RunReport {
        let mut put = OpStats::new();
        for i in 1..=100 {
            put.record_ok(Duration::from_millis(i), 1 << 20, 0);
        }
        put.record_error("SlowDownWrite");
        let window = Duration::from_secs(4);
        RunReport {
            ops: vec![put.summarize(OpKind::Put, window)],
            workload: "put".into(),
            duration_s: 4.0,
            config: RunConfig {
                hosts: vec!["127.0.0.1:9000".into()],
                bucket: "b".into(),
                obj_size_bytes: 1 << 20,
                obj_randsize: false,
                obj_size_mean_bytes: (1 << 20) as f64,
                objects: 0,
                concurrent: 8,
                duration_s: 4.0,
                payload: "unsigned".into(),
                cores: 2,
            },
            generator: GeneratorCost::new(0.5, 100 << 20, 100, 4.0, 0.01, 0.7),
        }
    }

    #[test]
    fn json_schema_is_stable() {
        let value = serde_json::to_value(sample_report()).unwrap();
        let ops = value["ops"].as_array().unwrap();
        assert_eq!(ops.len(), 1);
        let put = &ops[0];
        assert_eq!(put["op"], "PUT");
        for key in ["count", "errors", "mib_per_s", "obj_per_s"] {
            assert!(put[key].is_number(), "{key}");
        }
        for key in ["p50", "p90", "p99", "p999", "max"] {
            assert!(put["latency_ms"][key].is_number(), "latency_ms.{key}");
        }
        assert_eq!(put["count"], 100);
        assert_eq!(put["errors"], 1);
        assert_eq!(put["errors_by_code"]["SlowDownWrite"], 1);
        assert_eq!(put["mib_per_s"], 25.0);
        assert_eq!(put["obj_per_s"], 25.0);
        assert!(value["generator"]["ns_per_byte"].is_number());
    }

    #[test]
    fn generator_ratios() {
        let g = GeneratorCost::new(1.0, 1 << 30, 1000, 2.0, 0.0, 1.5);
        assert!((g.ns_per_byte - 1e9 / (1u64 << 30) as f64).abs() < 1e-9);
        assert_eq!(g.us_per_op, 1000.0);
        assert_eq!(g.cores_busy, 0.5);
        let zero = GeneratorCost::new(0.0, 0, 0, 0.0, 0.0, 0.0);
        assert_eq!(
            (zero.ns_per_byte, zero.us_per_op, zero.cores_busy),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn table_mentions_every_op_and_error() {
        let table = render_table(&sample_report());
        assert!(table.contains("PUT"), "{table}");
        assert!(table.contains("SlowDownWrite=1"), "{table}");
        assert!(table.contains("generator:"), "{table}");
        assert_eq!(ms(123.4), "123");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(1.234), "1.23");
    }
}
