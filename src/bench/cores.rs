//! Thread-per-core plumbing of the bench: which CPUs to run on, how to start one glommio
//! executor per CPU with the project's settings (`../shared/GLOMMIO.md` §1: small `io_memory`,
//! ring depth 128, short preempt timer, an unpinned blocking pool of 2), how workers are spread
//! over cores and hosts, and the CPU clocks (`getrusage`) that let the generator report its own
//! cost.
//!
//! The CPU list comes from `sched_getaffinity` (glommio's placement ignores the process affinity
//! mask, so `taskset` would otherwise be silently overridden).

use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement, PoolPlacement};

/// Memory glommio registers with its rings per executor. Small on purpose: the 8 MiB memlock
/// budget is shared by every process of the user (GLOMMIO.md §1); the bench keeps its own
/// buffers (shared payloads, a few DMA buffers per drive).
pub const IO_MEMORY_BYTES: usize = 256 * 1024;

/// io_uring depth per executor.
const RING_DEPTH: usize = 128;

/// The CPUs this process may run on, ascending.
pub fn allowed_cpus() -> Vec<usize> {
    match nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => (0..nix::sched::CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .collect(),
        Err(_) => {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..n).collect()
        }
    }
}

/// The CPUs to use: the first `requested` allowed ones (all of them when `None` or too many),
/// never more than `max_useful` (e.g. the concurrency: an idle executor only costs).
pub fn pick_cpus(requested: Option<usize>, max_useful: usize) -> Vec<usize> {
    let allowed = allowed_cpus();
    let mut n = requested.unwrap_or(allowed.len()).min(allowed.len());
    n = n.min(max_useful).max(1);
    allowed.into_iter().take(n).collect()
}

/// A builder for the executor of core `core_index`, pinned to `cpu`.
pub fn executor_builder(core_index: usize, cpu: usize) -> LocalExecutorBuilder {
    LocalExecutorBuilder::new(Placement::Fixed(cpu))
        .name(&format!("bench{core_index}"))
        .io_memory(IO_MEMORY_BYTES)
        .ring_depth(RING_DEPTH)
        .preempt_timer(Duration::from_millis(5))
        .blocking_thread_pool_placement(PoolPlacement::Unbound(2))
}

/// CPU time (user + system) the calling thread has used so far (`getrusage(RUSAGE_THREAD)`).
pub fn thread_cpu_time() -> Duration {
    cpu_time(nix::sys::resource::UsageWho::RUSAGE_THREAD)
}

/// CPU time (user + system) of the whole process so far (all threads, including glommio's
/// blocking pools and the progress thread).
pub fn process_cpu_time() -> Duration {
    cpu_time(nix::sys::resource::UsageWho::RUSAGE_SELF)
}

fn cpu_time(who: nix::sys::resource::UsageWho) -> Duration {
    match nix::sys::resource::getrusage(who) {
        Ok(usage) => timeval(usage.user_time()) + timeval(usage.system_time()),
        Err(_) => Duration::ZERO,
    }
}

fn timeval(tv: nix::sys::time::TimeVal) -> Duration {
    Duration::from_secs(tv.tv_sec().max(0) as u64)
        + Duration::from_micros(tv.tv_usec().max(0) as u64)
}

/// One concurrent request stream of the load generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerPlan {
    /// Global worker number, `0..concurrency`.
    pub worker: usize,
    /// Index of the core (executor) that runs it.
    pub core: usize,
    /// Index into the `--host` list it talks to.
    pub host: usize,
}

/// Spread `concurrency` workers over `cores` executors round-robin, and over `hosts` so that
/// every core talks to every host as evenly as possible (worker `j` of core `c` uses host
/// `(c + j) % hosts`; a plain `worker % hosts` would pin core 0 to host 0 when cores == hosts).
pub fn plan_workers(concurrency: usize, cores: usize, hosts: usize) -> Vec<WorkerPlan> {
    assert!(cores >= 1 && hosts >= 1);
    (0..concurrency)
        .map(|worker| {
            let core = worker % cores;
            let local = worker / cores;
            WorkerPlan {
                worker,
                core,
                host: (core + local) % hosts,
            }
        })
        .collect()
}

/// Lock-step phases between the main thread and the core executors.
///
/// The main thread releases phase `k` ([`PhaseGate::release`]); every core runs its share and
/// reports ([`CoreTicket::done`]); the main thread waits for all of them
/// ([`PhaseGate::wait_done`]) and so times the phase from release to the last core's report. A
/// core that never started, or died (its [`CoreTicket`] dropped without finishing, e.g. by a
/// panic), counts as gone, so the main thread never waits forever.
#[derive(Debug, Default)]
pub struct PhaseGate {
    state: std::sync::Mutex<GateState>,
    changed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    checked_in: usize,
    gone: usize,
    released: Option<usize>,
    done_in_phase: usize,
    abort: bool,
}

/// A core's handle on the gate; dropping it without [`CoreTicket::finish`] marks the core gone.
#[derive(Debug)]
pub struct CoreTicket {
    gate: std::sync::Arc<PhaseGate>,
    finished: bool,
}

impl PhaseGate {
    /// A new gate, shared with the cores.
    pub fn new() -> std::sync::Arc<PhaseGate> {
        std::sync::Arc::new(PhaseGate::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // A poisoned lock only means a core panicked while holding it; the counters are still
        // meaningful (each update is a single assignment).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Called first thing on each core.
    pub fn check_in(self: &std::sync::Arc<Self>) -> CoreTicket {
        self.lock().checked_in += 1;
        self.changed.notify_all();
        CoreTicket {
            gate: self.clone(),
            finished: false,
        }
    }

    /// Main thread: wait until `cores` cores checked in (or are gone); false on timeout or if
    /// any is gone.
    pub fn wait_ready(&self, cores: usize, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut state = self.lock();
        while state.checked_in < cores && state.gone == 0 {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            state = match self.changed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.gone == 0
    }

    /// Main thread: start phase `phase` (0, 1, 2, ... in order).
    pub fn release(&self, phase: usize) {
        let mut state = self.lock();
        assert!(state.released.map_or(phase == 0, |p| phase == p + 1));
        state.released = Some(phase);
        state.done_in_phase = 0;
        drop(state);
        self.changed.notify_all();
    }

    /// Main thread: stop everything; cores waiting for a phase return `false`.
    pub fn abort(&self) {
        self.lock().abort = true;
        self.changed.notify_all();
    }

    /// Main thread: wait until every live core reported the current phase; returns how many
    /// cores are gone.
    pub fn wait_done(&self, cores: usize) -> usize {
        let mut state = self.lock();
        while state.done_in_phase + state.gone < cores {
            state = match self.changed.wait(state) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
        state.gone
    }
}

impl CoreTicket {
    /// Core: block this executor thread until `phase` is released; false if the run was
    /// aborted. Only call it when the core has nothing else in flight.
    pub fn wait_release(&self, phase: usize) -> bool {
        let mut state = self.gate.lock();
        loop {
            if state.abort {
                return false;
            }
            if state.released.is_some_and(|p| p >= phase) {
                return true;
            }
            state = match self.gate.changed.wait(state) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }

    /// Core: this core's share of the current phase is done.
    pub fn done(&self) {
        self.gate.lock().done_in_phase += 1;
        self.gate.changed.notify_all();
    }

    /// Core: leaving normally (not counted as gone).
    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for CoreTicket {
    fn drop(&mut self) {
        if !self.finished {
            self.gate.lock().gone += 1;
            self.gate.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_spread_over_cores_and_hosts() {
        let plan = plan_workers(8, 2, 2);
        assert_eq!(plan.len(), 8);
        for core in 0..2 {
            let mine: Vec<_> = plan.iter().filter(|w| w.core == core).collect();
            assert_eq!(mine.len(), 4);
            for host in 0..2 {
                assert_eq!(mine.iter().filter(|w| w.host == host).count(), 2);
            }
        }
        let plan = plan_workers(3, 4, 1);
        assert_eq!(
            plan.iter().map(|w| (w.core, w.host)).collect::<Vec<_>>(),
            [(0, 0), (1, 0), (2, 0)]
        );
        let plan = plan_workers(6, 1, 3);
        assert_eq!(
            plan.iter().map(|w| w.host).collect::<Vec<_>>(),
            [0, 1, 2, 0, 1, 2]
        );
    }

    #[test]
    fn cpu_picking() {
        let all = allowed_cpus();
        assert!(!all.is_empty());
        assert_eq!(pick_cpus(None, usize::MAX), all);
        assert_eq!(pick_cpus(Some(1), usize::MAX).len(), 1);
        assert_eq!(pick_cpus(None, 1).len(), 1);
        assert_eq!(pick_cpus(Some(0), 8).len(), 1);
    }

    #[test]
    fn cpu_clocks_move() {
        // getrusage counts in scheduler ticks: burn CPU until the thread clock moves, with a
        // generous wall-clock bound, rather than for a fixed amount of work.
        let before = thread_cpu_time();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while thread_cpu_time() == before && started.elapsed() < Duration::from_secs(10) {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
        }
        assert!(
            thread_cpu_time() > before,
            "thread CPU clock did not move in 10 s of work"
        );
        assert!(process_cpu_time() >= thread_cpu_time());
    }

    #[test]
    fn gate_runs_phases_in_lock_step() {
        let gate = PhaseGate::new();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..3)
            .map(|core| {
                let gate = gate.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    let ticket = gate.check_in();
                    for phase in 0..2 {
                        assert!(ticket.wait_release(phase));
                        log.lock().unwrap().push((phase, core));
                        ticket.done();
                    }
                    ticket.finish();
                })
            })
            .collect();
        assert!(gate.wait_ready(3, Duration::from_secs(10)));
        for phase in 0..2 {
            gate.release(phase);
            assert_eq!(gate.wait_done(3), 0);
            let log = log.lock().unwrap();
            assert_eq!(log.iter().filter(|(p, _)| *p == phase).count(), 3);
        }
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn gate_survives_a_dead_core() {
        let gate = PhaseGate::new();
        let ticket = gate.check_in();
        let dead = gate.check_in();
        drop(dead);
        assert!(!gate.wait_ready(2, Duration::from_secs(1)));
        gate.release(0);
        ticket.done();
        assert_eq!(gate.wait_done(2), 1);
        gate.abort();
        assert!(!ticket.wait_release(1));
        ticket.finish();
    }

    #[test]
    fn gate_times_out_on_a_missing_core() {
        let gate = PhaseGate::new();
        let _ticket = gate.check_in();
        assert!(!gate.wait_ready(2, Duration::from_millis(20)));
    }
}
