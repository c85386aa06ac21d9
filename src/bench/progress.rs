//! The live progress line: once a second, on stderr, from a plain thread that samples the
//! [`Live`] counters (never an executor: it must not steal a core's time slice). On a terminal
//! the line is rewritten in place; otherwise one line per second is appended (logs, CI).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::stats::{Live, LiveSnapshot, OpKind, Phase};

/// Start the progress thread; it ends once the phase is [`Phase::Done`].
pub fn spawn(live: Arc<Live>, objects_to_prepare: u64) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("bench-progress".into())
        .spawn(move || progress_loop(&live, objects_to_prepare))
}

fn progress_loop(live: &Live, objects_to_prepare: u64) {
    let terminal = std::io::stderr().is_terminal();
    let mut last: [LiveSnapshot; OpKind::ALL.len()] = Default::default();
    let mut last_at = Instant::now();
    let mut next_tick = Instant::now() + Duration::from_secs(1);
    let mut printed_any = false;
    loop {
        // Wake often so the end of the run is noticed quickly.
        std::thread::sleep(Duration::from_millis(50));
        let phase = live.phase();
        if phase == Phase::Done {
            break;
        }
        let now = Instant::now();
        if now < next_tick {
            continue;
        }
        next_tick += Duration::from_secs(1);
        let interval = now.duration_since(last_at);
        last_at = now;
        let mut snapshots: [LiveSnapshot; OpKind::ALL.len()] = Default::default();
        for op in OpKind::ALL {
            snapshots[op.index()] = live.snapshot(op);
        }
        let line = match phase {
            Phase::Setup => "setup".to_string(),
            Phase::Prepare => format!(
                "prepare: {}/{objects_to_prepare} objects uploaded",
                live.prepared.load(std::sync::atomic::Ordering::Relaxed)
            ),
            Phase::Run => {
                let elapsed = live
                    .run_started()
                    .map_or(0.0, |started| now.duration_since(started).as_secs_f64());
                format_run_line(elapsed, &last, &snapshots, interval)
            }
            Phase::Cleanup => format!(
                "cleanup: {} objects deleted",
                live.cleaned.load(std::sync::atomic::Ordering::Relaxed)
            ),
            Phase::Done => break,
        };
        last = snapshots;
        let mut stderr = std::io::stderr().lock();
        let _ = if terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
        printed_any = true;
    }
    if terminal && printed_any {
        let _ = writeln!(std::io::stderr());
    }
}

/// `[  5.0s] PUT 120 obj/s 480.0 MiB/s 0 err | GET ...`: rates over the last interval, only
/// for operations that ran.
pub fn format_run_line(
    elapsed_s: f64,
    before: &[LiveSnapshot],
    now: &[LiveSnapshot],
    interval: Duration,
) -> String {
    let seconds = interval.as_secs_f64().max(1e-9);
    let mut parts = Vec::new();
    for op in OpKind::ALL {
        let (a, b) = (before[op.index()], now[op.index()]);
        if b.count == 0 && b.errors == 0 {
            continue;
        }
        parts.push(format!(
            "{} {:.0} obj/s {:.1} MiB/s {} err",
            op.name(),
            (b.count - a.count) as f64 / seconds,
            (b.bytes - a.bytes) as f64 / (1024.0 * 1024.0) / seconds,
            b.errors
        ));
    }
    if parts.is_empty() {
        parts.push("waiting for the first response".to_string());
    }
    format!("[{elapsed_s:5.1}s] {}", parts.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_line_rates() {
        let mut before: [LiveSnapshot; 5] = Default::default();
        let mut now: [LiveSnapshot; 5] = Default::default();
        before[OpKind::Put.index()] = LiveSnapshot {
            count: 10,
            bytes: 10 << 20,
            errors: 0,
        };
        now[OpKind::Put.index()] = LiveSnapshot {
            count: 30,
            bytes: 30 << 20,
            errors: 2,
        };
        let line = format_run_line(3.0, &before, &now, Duration::from_secs(2));
        assert_eq!(line, "[  3.0s] PUT 10 obj/s 10.0 MiB/s 2 err");
        let idle = format_run_line(0.5, &before, &before, Duration::from_secs(1));
        assert!(idle.contains("PUT 0 obj/s"), "{idle}");
        let empty: [LiveSnapshot; 5] = Default::default();
        assert!(format_run_line(0.0, &empty, &empty, Duration::from_secs(1)).contains("waiting"));
    }
}
