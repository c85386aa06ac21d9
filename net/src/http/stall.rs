//! Stalled exchanges: a request whose handler moves no byte on its connection for too long.
//!
//! Every socket read and write already has its own timeout (`socket.rs`), but a handler can also
//! wait on things that have none: a lock, a semaphore, a drive, another core. A request stuck
//! there would hold its connection forever and tell nobody. So the connection keeps a
//! [`Progress`] clock, moved by every socket read or write that transfers bytes, and the server
//! runs each exchange under [`unless_stalled`]: once the clock has not moved for the limit, the
//! exchange is dropped (cancelled) and the caller logs it and closes the connection.
//!
//! Progress, not a total deadline: a 5 GiB upload or download keeps moving bytes and may take
//! as long as it needs; only an exchange that is stuck is cut.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// When a connection last moved a byte. Cheap to clone; clones share the clock.
#[derive(Clone, Debug)]
pub struct Progress(Rc<Cell<Instant>>);

impl Default for Progress {
    fn default() -> Self {
        Self(Rc::new(Cell::new(Instant::now())))
    }
}

impl Progress {
    /// Record that bytes moved now.
    pub fn mark(&self) {
        self.0.set(Instant::now());
    }

    /// How long since bytes last moved.
    pub fn idle(&self) -> Duration {
        self.0.get().elapsed()
    }
}

/// An exchange cut by [`unless_stalled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled {
    /// How long the exchange ran in all.
    pub elapsed: Duration,
}

/// Run `exchange` to its end, unless `progress` stands still for `limit` first: then the
/// exchange is dropped and `Err(Stalled)` returned. The clock is marked at the start.
pub async fn unless_stalled<F: Future>(
    progress: &Progress,
    limit: Duration,
    exchange: F,
) -> Result<F::Output, Stalled> {
    let started = Instant::now();
    progress.mark();
    let watchdog = async {
        loop {
            let idle = progress.idle();
            if idle >= limit {
                return Err(Stalled {
                    elapsed: started.elapsed(),
                });
            }
            glommio::timer::sleep(limit - idle).await;
        }
    };
    futures_lite::future::or(async { Ok(exchange.await) }, watchdog).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use glommio::{LocalExecutorBuilder, Placement};

    fn run<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut + Send + 'static) {
        LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(256 << 10)
            .spawn(f)
            .expect("executor")
            .join()
            .expect("join");
    }

    #[test]
    fn a_stuck_exchange_is_cut_and_a_moving_one_is_not() {
        run(|| async {
            let limit = Duration::from_millis(1000);
            let progress = Progress::default();
            let stuck = unless_stalled(&progress, limit, futures_lite::future::pending::<()>());
            let stalled = stuck.await.expect_err("a pending exchange must be cut");
            assert!(stalled.elapsed >= limit, "{stalled:?}");

            // Bytes moving every 20 ms for longer than the limit: never idle that long.
            let moving = async {
                for _ in 0..75 {
                    glommio::timer::sleep(Duration::from_millis(20)).await;
                    progress.mark();
                }
                7
            };
            assert_eq!(unless_stalled(&progress, limit, moving).await, Ok(7));
        });
    }
}
