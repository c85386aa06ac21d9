//! Group commit: one `syncfs` makes every finished mutation of a filesystem durable at once.
//!
//! A commit on a drive is "stage, make durable, publish, make durable" (see the module header of
//! `local`). Doing that with one `fdatasync` per file and one `fsync` per touched directory costs
//! two or three journal commits per drive per object, each waited for in turn. Instead every
//! drive on a filesystem (on one executor) shares a [`SyncGroup`]: a mutation finishes its
//! syscalls, then awaits [`SyncGroup::barrier`], which resolves once a `syncfs` that *started
//! after the call* has returned. `syncfs` writes back the filesystem's dirty pages and inodes,
//! commits its journal and flushes the device cache, so it covers file data, sizes, renames and
//! directory entries alike, and one call serves every waiter that queued before it began.
//! While one runs, the next batch gathers; there is never more than one per group in flight.
//!
//! When a request finds the committer idle, it does not sync at once: the drives of a set
//! commit together, and the first to arrive would otherwise make the others wait for a second
//! `syncfs`. Each mutation holds a [`Mutation`] while it does syscalls; the committer waits
//! until none is busy (everyone in flight has reached a barrier) or [`GATHER_MAX`] has passed.
//! Under load requests queue up while a `syncfs` runs and the next one starts at once.
//!
//! Linux ≥ 5.8 reports writeback errors through `syncfs` (per filesystem, once per open file
//! description): the group holds its own descriptor, opened before any write it covers, so an
//! error reaches every waiter of the batch that saw it.
//!
//! Drives that share a filesystem share the group: the test and bench setups (many drive
//! directories on one disk) then pay one `syncfs` per batch, not one per drive.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use nix::errno::Errno;

/// What a waiter hears back: `Ok`, or the errno of the `syncfs` that covered it.
type SyncOutcome = Result<(), Errno>;

/// Longest an idle committer waits for busy mutations to reach their barrier. Staging or
/// publishing is a few syscalls (tens to hundreds of µs); a `syncfs` costs about a millisecond.
pub(crate) const GATHER_MAX: Duration = Duration::from_millis(1);

/// The group commit of one filesystem on one executor. Cheap to share (`Rc`); the committer
/// task stops when the last handle is dropped.
pub(crate) struct SyncGroup {
    requests: mpsc::UnboundedSender<oneshot::Sender<SyncOutcome>>,
    activity: Rc<Activity>,
    #[cfg(test)]
    syncs: Rc<Cell<u64>>,
}

/// How many mutations are doing syscalls (between barriers) right now, and the committer's
/// waker while it waits for that to reach zero.
#[derive(Default)]
struct Activity {
    busy: Cell<usize>,
    settled: Cell<Option<Waker>>,
}

impl Activity {
    fn enter(&self) {
        self.busy.set(self.busy.get() + 1);
    }

    fn leave(&self) {
        self.busy.set(self.busy.get() - 1);
        if self.busy.get() == 0 {
            if let Some(waker) = self.settled.take() {
                waker.wake();
            }
        }
    }
}

/// Resolves when no mutation is busy.
struct Settled<'a>(&'a Activity);

impl Future for Settled<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.busy.get() == 0 {
            Poll::Ready(())
        } else {
            self.0.settled.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    }
}

/// One mutation of a drive in the group: busy from [`SyncGroup::begin`] until dropped, except
/// while it waits in [`Mutation::barrier`].
pub(crate) struct Mutation<'a> {
    group: &'a SyncGroup,
    /// Counted in `busy` now. False while waiting in a barrier, and stays false if that wait is
    /// cancelled (the request dropped), so the drop does not leave twice.
    busy: bool,
}

impl Mutation<'_> {
    /// [`SyncGroup::barrier`], not counted busy while it waits.
    pub(crate) async fn barrier(&mut self) -> io::Result<()> {
        self.busy = false;
        self.group.activity.leave();
        let outcome = self.group.barrier().await;
        self.group.activity.enter();
        self.busy = true;
        outcome
    }
}

impl Drop for Mutation<'_> {
    fn drop(&mut self) {
        if self.busy {
            self.group.activity.leave();
        }
    }
}

thread_local! {
    /// (executor id, st_dev) -> the live group. Weak, so a group lives exactly as long as the
    /// drives that use it.
    static GROUPS: RefCell<HashMap<(usize, u64), Weak<SyncGroup>>> = RefCell::new(HashMap::new());
}

impl SyncGroup {
    /// The group of the filesystem `key` was probed on, on the current executor: the existing
    /// one, or a new one (with its committer task) on first use. [`GroupKey::probe`] is the
    /// blocking half; run it on the blocking pool.
    pub(crate) fn for_key(key: GroupKey) -> Rc<SyncGroup> {
        let id = (glommio::executor().id(), key.dev);
        GROUPS.with(|groups| {
            let mut groups = groups.borrow_mut();
            if let Some(group) = groups.get(&id).and_then(Weak::upgrade) {
                return group;
            }
            groups.retain(|_, group| group.strong_count() > 0);
            let group = Rc::new(SyncGroup::start(key.fd));
            groups.insert(id, Rc::downgrade(&group));
            group
        })
    }

    /// A group over `fd` (any descriptor on the filesystem), with its committer task spawned on
    /// the current executor.
    fn start(fd: OwnedFd) -> SyncGroup {
        let (requests, queue) = mpsc::unbounded::<oneshot::Sender<SyncOutcome>>();
        let activity = Rc::new(Activity::default());
        #[cfg(test)]
        let syncs = Rc::new(Cell::new(0));
        #[cfg(test)]
        let counter = syncs.clone();
        let fd = Arc::new(fd);
        let committer_activity = activity.clone();
        glommio::spawn_local(async move {
            let (mut queue, activity) = (queue, committer_activity);
            loop {
                let first = match queue.try_recv() {
                    Ok(first) => first, // queued while the last syncfs ran: go at once
                    Err(_) => match queue.next().await {
                        Some(first) => {
                            // Idle until now: let the mutations in flight catch up.
                            futures_lite::future::or(Settled(&activity), async {
                                glommio::timer::sleep(GATHER_MAX).await;
                            })
                            .await;
                            first
                        }
                        None => break, // every handle dropped
                    },
                };
                // Everyone queued so far finished their syscalls before queueing: one syncfs
                // covers them all. Later arrivals wait for the next one.
                let mut batch = vec![first];
                while let Ok(more) = queue.try_recv() {
                    batch.push(more);
                }
                #[cfg(test)]
                counter.set(counter.get() + 1);
                let fd = fd.clone();
                let outcome = glommio::executor()
                    .spawn_blocking(move || nix::unistd::syncfs(fd.as_raw_fd()))
                    .await;
                for waiter in batch {
                    let _ = waiter.send(outcome); // a waiter that gave up is not an error
                }
            }
        })
        .detach();
        SyncGroup {
            requests,
            activity,
            #[cfg(test)]
            syncs,
        }
    }

    /// Start a mutation: counted busy (see the module header) until the guard is dropped.
    pub(crate) fn begin(&self) -> Mutation<'_> {
        self.activity.enter();
        Mutation {
            group: self,
            busy: true,
        }
    }

    /// Resolves once a `syncfs` of the group's filesystem that started after this call has
    /// returned: everything the caller wrote, renamed, created or removed before calling is then
    /// durable. An error means some of it may not be.
    pub(crate) async fn barrier(&self) -> io::Result<()> {
        let (done, outcome) = oneshot::channel();
        self.requests
            .unbounded_send(done)
            .map_err(|_| io::Error::other("the group committer has stopped"))?;
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(errno)) => Err(errno.into()),
            Err(_canceled) => Err(io::Error::other("the group committer has stopped")),
        }
    }

    /// A group whose every `syncfs` fails (EBADF: it holds an O_PATH descriptor of `dir`), the
    /// stand-in for a writeback error, which cannot be provoked on a healthy disk.
    #[cfg(test)]
    pub(crate) fn failing(dir: &Path) -> SyncGroup {
        let path_only: OwnedFd = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir)
            .expect("open O_PATH")
            .into();
        SyncGroup::start(path_only)
    }

    /// How many `syncfs` calls the group has started.
    #[cfg(test)]
    pub(crate) fn syncs_started(&self) -> u64 {
        self.syncs.get()
    }
}

/// What [`SyncGroup::for_key`] needs from the filesystem: the device and a descriptor on it.
pub(crate) struct GroupKey {
    dev: u64,
    fd: OwnedFd,
}

impl GroupKey {
    /// Open `dir` (read-only, as a directory) and read its device. Blocking.
    pub(crate) fn probe(dir: &Path) -> io::Result<GroupKey> {
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)?;
        let dev = file.metadata()?.dev();
        Ok(GroupKey {
            dev,
            fd: file.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{run, TempDir};
    /// `count` tasks, each waiting for one barrier.
    fn spawn_barriers(group: &Rc<SyncGroup>, count: usize) -> Vec<glommio::Task<io::Result<()>>> {
        (0..count)
            .map(|_| {
                let group = group.clone();
                glommio::spawn_local(async move { group.barrier().await })
            })
            .collect()
    }

    #[test]
    fn concurrent_barriers_share_syncs_and_all_resolve() {
        run(|| async {
            let dir = TempDir::new("sync-group");
            let group = SyncGroup::for_key(GroupKey::probe(dir.path()).expect("probe"));
            group.barrier().await.expect("first barrier");
            assert_eq!(group.syncs_started(), 1);

            for waiter in spawn_barriers(&group, 64) {
                waiter.await.expect("barrier");
            }
            // 64 barriers queued in one go: the first syncfs takes whoever is queued when it
            // starts, the rest share the next one.
            let syncs = group.syncs_started() - 1;
            assert!((1..=2).contains(&syncs), "{syncs} syncs for 64 barriers");
        });
    }

    #[test]
    fn an_idle_committer_waits_for_busy_mutations() {
        run(|| async {
            let dir = TempDir::new("sync-group-gather");
            let group = SyncGroup::for_key(GroupKey::probe(dir.path()).expect("probe"));
            group.barrier().await.expect("first barrier");
            // Four drives of a set stage at different speeds, then each asks for a barrier: one
            // syncfs covers them all (without the gather the first would sync alone).
            let drives: Vec<_> = (1..=4u64)
                .map(|i| {
                    let group = group.clone();
                    glommio::spawn_local(async move {
                        let mut mutation = group.begin();
                        glommio::timer::sleep(Duration::from_micros(150 * i)).await;
                        mutation.barrier().await
                    })
                })
                .collect();
            for drive in drives {
                drive.await.expect("barrier");
            }
            assert_eq!(group.syncs_started(), 2);
        });
    }

    #[test]
    fn a_mutation_that_stays_busy_does_not_hold_the_others() {
        run(|| async {
            let dir = TempDir::new("sync-group-busy");
            let group = SyncGroup::for_key(GroupKey::probe(dir.path()).expect("probe"));
            let (release, released) = oneshot::channel::<()>();
            let busy = {
                let group = group.clone();
                glommio::spawn_local(async move {
                    let _mutation = group.begin();
                    let _ = released.await; // busy until the other barrier has returned
                })
            };
            let waiter = {
                let group = group.clone();
                glommio::spawn_local(async move {
                    let mut mutation = group.begin();
                    let outcome = mutation.barrier().await;
                    let _ = release.send(());
                    outcome
                })
            };
            // A gather without its GATHER_MAX bound would wait for `busy`, which waits for it.
            let outcome = futures_lite::future::or(waiter, async {
                glommio::timer::sleep(Duration::from_secs(30)).await;
                Err(io::Error::other("barrier still waiting after 30 s"))
            })
            .await;
            outcome.expect("barrier despite a busy mutation");
            busy.await;
        });
    }

    #[test]
    fn a_cancelled_barrier_leaves_the_count_right() {
        run(|| async {
            let dir = TempDir::new("sync-group-cancel");
            let group = SyncGroup::for_key(GroupKey::probe(dir.path()).expect("probe"));
            {
                let mut mutation = group.begin();
                let mut waiting = Box::pin(mutation.barrier());
                // Polled once: queued and no longer busy; then the request goes away.
                assert!(futures_lite::future::poll_once(&mut waiting)
                    .await
                    .is_none());
                drop(waiting);
                assert_eq!(group.activity.busy.get(), 0);
            }
            assert_eq!(
                group.activity.busy.get(),
                0,
                "the drop must not leave again"
            );
            let mut mutation = group.begin();
            mutation.barrier().await.expect("barrier");
            drop(mutation);
            assert_eq!(group.activity.busy.get(), 0);
        });
    }

    #[test]
    fn drives_on_one_filesystem_share_a_group() {
        run(|| async {
            let dir = TempDir::new("sync-group-share");
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            fs::create_dir(&a).expect("mkdir a");
            fs::create_dir(&b).expect("mkdir b");
            let first = SyncGroup::for_key(GroupKey::probe(&a).expect("probe a"));
            let second = SyncGroup::for_key(GroupKey::probe(&b).expect("probe b"));
            assert!(Rc::ptr_eq(&first, &second));
            drop((first, second));
            // The last handle gone, the next drive starts a fresh group.
            let third = SyncGroup::for_key(GroupKey::probe(&a).expect("probe a"));
            assert_eq!(third.syncs_started(), 0);
        });
    }

    #[test]
    fn a_failed_syncfs_fails_every_waiter_of_its_batch() {
        run(|| async {
            let dir = TempDir::new("sync-group-fail");
            let group = Rc::new(SyncGroup::failing(dir.path()));
            for waiter in spawn_barriers(&group, 8) {
                let err = waiter.await.expect_err("syncfs on O_PATH must fail");
                assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
            }
        });
    }
}
