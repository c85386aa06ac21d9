//! Test doubles for the layers above drives: [`FaultDrive`] wraps any drive and fails the
//! calls it is told to, with any [`DriveError`], and counts calls. Always compiled (it is
//! small) so that the object layer's tests, and anything else's, use the same one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::drive::{PartState, WalkEntry, WalkRequest};
use crate::xl_meta::ObjectVersion;
use crate::{DiskInfo, Drive, DriveError, FileReader, FileWriter, VolInfo};

/// An operation of the drive contract (and of the files it opens).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Op {
    DiskInfo,
    CheckOnline,
    MakeVol,
    ListVols,
    StatVol,
    DeleteVol,
    ReadAll,
    WriteAll,
    CreateFile,
    OpenFile,
    Rename,
    Delete,
    ListDir,
    ReadVersion,
    ReadXl,
    RenameData,
    WriteVersion,
    UpdateVersion,
    DeleteVersion,
    FreeDataDir,
    CheckParts,
    VerifyParts,
    WalkVersions,
    /// [`FileWriter::write`] and [`FileWriter::finish`] of a file from `create_file`.
    FileWrite,
    /// [`FileReader::read_at`] of a file from `open_file`.
    FileRead,
}

impl Op {
    /// Every operation, in declaration order.
    pub const ALL: [Op; 25] = [
        Op::DiskInfo,
        Op::CheckOnline,
        Op::MakeVol,
        Op::ListVols,
        Op::StatVol,
        Op::DeleteVol,
        Op::ReadAll,
        Op::WriteAll,
        Op::CreateFile,
        Op::OpenFile,
        Op::Rename,
        Op::Delete,
        Op::ListDir,
        Op::ReadVersion,
        Op::ReadXl,
        Op::RenameData,
        Op::WriteVersion,
        Op::UpdateVersion,
        Op::DeleteVersion,
        Op::FreeDataDir,
        Op::CheckParts,
        Op::VerifyParts,
        Op::WalkVersions,
        Op::FileWrite,
        Op::FileRead,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Which calls a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Calls of one operation.
    Op(Op),
    /// Every call, file reads and writes included.
    All,
}

impl From<Op> for Target {
    fn from(op: Op) -> Target {
        Target::Op(op)
    }
}

struct Fault {
    target: Target,
    /// Only calls on a path containing this (see [`FaultDrive::fail_at`]).
    path: Option<String>,
    error: DriveError,
    /// None: until cleared.
    remaining: Option<usize>,
}

#[derive(Default)]
struct State {
    faults: RefCell<Vec<Fault>>,
    calls: [Cell<u64>; Op::ALL.len()],
    /// Per op: calls in progress now, and the most at once.
    in_flight: [Cell<usize>; Op::ALL.len()],
    most_in_flight: [Cell<usize>; Op::ALL.len()],
    /// Per op: how long each call waits before it reaches the drive.
    delays: RefCell<Vec<(Op, std::time::Duration)>>,
    reads_now: Cell<usize>,
    reads_most: Cell<usize>,
}

impl State {
    /// Count the call, then fail it if a fault hits it (the first fault added that matches).
    fn check(&self, op: Op) -> Result<(), DriveError> {
        self.check_at(op, "")
    }

    /// [`State::check`] for a call on `path` (the object directory or file it names).
    fn check_at(&self, op: Op, path: &str) -> Result<(), DriveError> {
        let counter = &self.calls[op.index()];
        counter.set(counter.get() + 1);
        let mut faults = self.faults.borrow_mut();
        let Some(at) = faults.iter().position(|f| {
            (f.target == Target::All || f.target == Target::Op(op))
                && f.path.as_deref().is_none_or(|p| path.contains(p))
        }) else {
            return Ok(());
        };
        let error = faults[at].error.clone();
        if let Some(remaining) = &mut faults[at].remaining {
            *remaining -= 1;
            if *remaining == 0 {
                faults.remove(at);
            }
        }
        Err(error)
    }
}

/// A drive that forwards to another unless told to fail. Clones share their faults and
/// counters.
#[derive(Clone)]
pub struct FaultDrive {
    inner: Rc<dyn Drive>,
    state: Rc<State>,
}

impl FaultDrive {
    /// Wrap `inner`; no faults.
    pub fn new(inner: Rc<dyn Drive>) -> FaultDrive {
        FaultDrive {
            inner,
            state: Rc::default(),
        }
    }

    /// The wrapped drive.
    pub fn inner(&self) -> &Rc<dyn Drive> {
        &self.inner
    }

    /// Fail every call `target` names with `error` until [`FaultDrive::clear`].
    pub fn fail(&self, target: impl Into<Target>, error: DriveError) {
        self.push(target.into(), error, None);
    }

    /// Fail the next `calls` calls `target` names with `error` (0: none).
    pub fn fail_next(&self, target: impl Into<Target>, error: DriveError, calls: usize) {
        if calls > 0 {
            self.push(target.into(), error, Some(calls));
        }
    }

    /// Fail every call `target` names on a path containing `path` (the object directory of a
    /// version call, the path of a file call) with `error`, until [`FaultDrive::clear`]: one
    /// object's calls fail while the others' pass.
    pub fn fail_at(&self, target: impl Into<Target>, path: &str, error: DriveError) {
        self.state.faults.borrow_mut().push(Fault {
            target: target.into(),
            path: Some(path.to_string()),
            error,
            remaining: None,
        });
    }

    /// Every call, open files included, fails with [`DriveError::Offline`] (`true`), or no
    /// call fails (`false`: every fault cleared).
    pub fn set_offline(&self, offline: bool) {
        self.clear();
        if offline {
            self.fail(Target::All, DriveError::Offline);
        }
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.state.faults.borrow_mut().clear();
    }

    fn push(&self, target: Target, error: DriveError, remaining: Option<usize>) {
        self.state.faults.borrow_mut().push(Fault {
            target,
            path: None,
            error,
            remaining,
        });
    }

    /// Calls of `op` so far (failed ones included).
    pub fn calls(&self, op: Op) -> u64 {
        self.state.calls[op.index()].get()
    }

    /// [`FileReader::read_at`] calls in progress now.
    pub fn reads_now(&self) -> usize {
        self.state.reads_now.get()
    }

    /// The most [`FileReader::read_at`] calls in progress at once so far.
    pub fn reads_most(&self) -> usize {
        self.state.reads_most.get()
    }

    /// Make every call of `op` wait `delay` before it reaches the drive, so that concurrent
    /// calls overlap measurably ([`FaultDrive::most_in_flight`]).
    pub fn delay(&self, op: Op, delay: std::time::Duration) {
        self.state.delays.borrow_mut().push((op, delay));
    }

    /// The most calls of `op` in progress at once so far (counted for the version calls and
    /// `delete`).
    pub fn most_in_flight(&self, op: Op) -> usize {
        self.state.most_in_flight[op.index()].get()
    }

    /// Check a call of `op` on `path` against the faults, then run it, counted as in flight
    /// and after its delay, if any.
    async fn traced<T>(
        &self,
        op: Op,
        path: &str,
        call: impl std::future::Future<Output = Result<T, DriveError>>,
    ) -> Result<T, DriveError> {
        self.state.check_at(op, path)?;
        let (now, most) = (
            &self.state.in_flight[op.index()],
            &self.state.most_in_flight[op.index()],
        );
        now.set(now.get() + 1);
        most.set(most.get().max(now.get()));
        // Counted out however the call ends, a cancelled one too.
        let _out = scopeguard(|| now.set(now.get() - 1));
        let delay = self
            .state
            .delays
            .borrow()
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, d)| *d);
        if let Some(delay) = delay {
            glommio::timer::sleep(delay).await;
        }
        call.await
    }

    /// Forget the calls counted so far (and the most reads at once).
    pub fn reset_counts(&self) {
        for counter in &self.state.calls {
            counter.set(0);
        }
        self.state.reads_most.set(self.state.reads_now.get());
    }
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

/// A file opened through a [`FaultDrive`]: its reads fail while the drive's faults say so.
struct FaultReader {
    inner: Box<dyn FileReader>,
    state: Rc<State>,
}

#[async_trait::async_trait(?Send)]
impl FileReader for FaultReader {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, DriveError> {
        self.state.check(Op::FileRead)?;
        let state = &self.state;
        state.reads_now.set(state.reads_now.get() + 1);
        state
            .reads_most
            .set(state.reads_most.get().max(state.reads_now.get()));
        let result = self.inner.read_at(offset, len).await;
        state.reads_now.set(state.reads_now.get() - 1);
        result
    }
}

/// A file created through a [`FaultDrive`]: its writes fail while the drive's faults say so.
struct FaultWriter {
    inner: Box<dyn FileWriter>,
    state: Rc<State>,
}

#[async_trait::async_trait(?Send)]
impl FileWriter for FaultWriter {
    async fn write(&mut self, data: &[u8]) -> Result<(), DriveError> {
        self.state.check(Op::FileWrite)?;
        self.inner.write(data).await
    }

    async fn finish(self: Box<Self>) -> Result<u64, DriveError> {
        self.state.check(Op::FileWrite)?;
        self.inner.finish().await
    }
}

#[async_trait::async_trait(?Send)]
impl Drive for FaultDrive {
    fn endpoint(&self) -> &str {
        self.inner.endpoint()
    }
    async fn disk_info(&self) -> Result<DiskInfo, DriveError> {
        self.state.check(Op::DiskInfo)?;
        self.inner.disk_info().await
    }
    async fn check_online(&self) -> Result<(), DriveError> {
        self.state.check(Op::CheckOnline)?;
        self.inner.check_online().await
    }
    async fn make_vol(&self, vol: &str) -> Result<(), DriveError> {
        self.state.check(Op::MakeVol)?;
        self.inner.make_vol(vol).await
    }
    async fn list_vols(&self) -> Result<Vec<VolInfo>, DriveError> {
        self.state.check(Op::ListVols)?;
        self.inner.list_vols().await
    }
    async fn stat_vol(&self, vol: &str) -> Result<VolInfo, DriveError> {
        self.state.check(Op::StatVol)?;
        self.inner.stat_vol(vol).await
    }
    async fn delete_vol(&self, vol: &str, force: bool) -> Result<(), DriveError> {
        self.state.check(Op::DeleteVol)?;
        self.inner.delete_vol(vol, force).await
    }
    async fn read_all(&self, vol: &str, path: &str) -> Result<Vec<u8>, DriveError> {
        self.state.check_at(Op::ReadAll, path)?;
        self.inner.read_all(vol, path).await
    }
    async fn write_all(&self, vol: &str, path: &str, data: &[u8]) -> Result<(), DriveError> {
        self.state.check_at(Op::WriteAll, path)?;
        self.inner.write_all(vol, path, data).await
    }
    async fn create_file(
        &self,
        vol: &str,
        path: &str,
        file_size_hint: u64,
    ) -> Result<Box<dyn FileWriter>, DriveError> {
        self.state.check_at(Op::CreateFile, path)?;
        Ok(Box::new(FaultWriter {
            inner: self.inner.create_file(vol, path, file_size_hint).await?,
            state: self.state.clone(),
        }))
    }
    async fn open_file(&self, vol: &str, path: &str) -> Result<Box<dyn FileReader>, DriveError> {
        self.state.check_at(Op::OpenFile, path)?;
        Ok(Box::new(FaultReader {
            inner: self.inner.open_file(vol, path).await?,
            state: self.state.clone(),
        }))
    }
    async fn rename(
        &self,
        src_vol: &str,
        src_path: &str,
        dst_vol: &str,
        dst_path: &str,
    ) -> Result<(), DriveError> {
        self.state.check(Op::Rename)?;
        self.inner
            .rename(src_vol, src_path, dst_vol, dst_path)
            .await
    }
    async fn delete(&self, vol: &str, path: &str, recursive: bool) -> Result<(), DriveError> {
        self.traced(Op::Delete, path, self.inner.delete(vol, path, recursive))
            .await
    }
    async fn list_dir(&self, vol: &str, dir: &str) -> Result<Vec<String>, DriveError> {
        self.state.check(Op::ListDir)?;
        self.inner.list_dir(vol, dir).await
    }
    async fn read_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Result<ObjectVersion, DriveError> {
        self.traced(
            Op::ReadVersion,
            dir,
            self.inner.read_version(vol, dir, version_id, with_data),
        )
        .await
    }
    async fn read_xl(&self, vol: &str, dir: &str) -> Result<Vec<u8>, DriveError> {
        self.traced(Op::ReadXl, dir, self.inner.read_xl(vol, dir))
            .await
    }
    async fn rename_data(
        &self,
        src_vol: &str,
        src_path: &str,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<Option<ObjectVersion>, DriveError> {
        self.traced(
            Op::RenameData,
            dir,
            self.inner.rename_data(src_vol, src_path, vol, dir, version),
        )
        .await
    }
    async fn write_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<Option<ObjectVersion>, DriveError> {
        self.traced(
            Op::WriteVersion,
            dir,
            self.inner.write_version(vol, dir, version),
        )
        .await
    }
    async fn update_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<(), DriveError> {
        self.traced(
            Op::UpdateVersion,
            dir,
            self.inner.update_version(vol, dir, version),
        )
        .await
    }
    async fn delete_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: &str,
    ) -> Result<ObjectVersion, DriveError> {
        self.traced(
            Op::DeleteVersion,
            dir,
            self.inner.delete_version(vol, dir, version_id),
        )
        .await
    }
    async fn free_data_dir(&self, vol: &str, dir: &str, data_dir: &str) -> Result<(), DriveError> {
        self.traced(
            Op::FreeDataDir,
            dir,
            self.inner.free_data_dir(vol, dir, data_dir),
        )
        .await
    }
    async fn check_parts(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
    ) -> Result<Vec<PartState>, DriveError> {
        self.traced(
            Op::CheckParts,
            dir,
            self.inner.check_parts(vol, dir, version),
        )
        .await
    }
    async fn verify_parts(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
    ) -> Result<Vec<PartState>, DriveError> {
        self.traced(
            Op::VerifyParts,
            dir,
            self.inner.verify_parts(vol, dir, version),
        )
        .await
    }
    async fn walk_versions(
        &self,
        vol: &str,
        request: &WalkRequest,
    ) -> Result<Vec<WalkEntry>, DriveError> {
        self.traced(Op::WalkVersions, "", self.inner.walk_versions(vol, request))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{run, TempDir};
    use crate::LocalDrive;

    fn every_kind() -> Vec<DriveError> {
        vec![
            DriveError::VolumeNotFound,
            DriveError::VolumeExists,
            DriveError::VolumeNotEmpty,
            DriveError::FileNotFound,
            DriveError::VersionNotFound,
            DriveError::TooManyVersions,
            DriveError::Corrupt {
                path: "b/k/xl.meta".into(),
                reason: "CRC".into(),
            },
            DriveError::Offline,
            DriveError::DiskFull,
            DriveError::Timeout,
            DriveError::InvalidArgument {
                what: "a/../b".into(),
                reason: "'..'".into(),
            },
            DriveError::Faulty {
                op: "rename".into(),
                path: "/d/b/k".into(),
                reason: "Input/output error (os error 5)".into(),
            },
        ]
    }

    #[test]
    fn every_error_kind_survives_a_round_trip() {
        for kind in every_kind() {
            let text = serde_json::to_string(&kind).expect("serialise");
            let back: DriveError = serde_json::from_str(&text).expect("deserialise");
            assert_eq!(back, kind, "{text}");
            assert_eq!(back.to_string(), kind.to_string());
        }
    }

    #[test]
    fn faults_hit_their_operation_and_count_down() {
        let dir = TempDir::new("fault");
        run(|| async {
            let local: Rc<dyn Drive> = Rc::new(
                LocalDrive::open(dir.path().to_path_buf())
                    .await
                    .expect("open"),
            );
            let drive = FaultDrive::new(local);
            drive.make_vol("b").await.expect("make_vol");
            for kind in every_kind() {
                drive.fail(Op::ReadAll, kind.clone());
                assert_eq!(drive.read_all("b", "x").await, Err(kind.clone()));
                // Other operations pass.
                assert!(drive.stat_vol("b").await.is_ok());
                drive.clear();
            }
            assert_eq!(
                drive.read_all("b", "x").await,
                Err(DriveError::FileNotFound)
            );
            drive.fail_next(Op::WriteAll, DriveError::DiskFull, 2);
            assert_eq!(
                drive.write_all("b", "x", b"1").await,
                Err(DriveError::DiskFull)
            );
            assert_eq!(
                drive.write_all("b", "x", b"1").await,
                Err(DriveError::DiskFull)
            );
            drive.write_all("b", "x", b"1").await.expect("third passes");
            assert_eq!(drive.calls(Op::WriteAll), 3);
            assert_eq!(drive.calls(Op::ReadAll), every_kind().len() as u64 + 1);
            drive.fail_next(Op::WriteAll, DriveError::DiskFull, 0);
            drive
                .write_all("b", "x", b"2")
                .await
                .expect("zero calls: no fault");
            drive.reset_counts();
            assert_eq!(drive.calls(Op::WriteAll), 0);

            // Offline: every call, and the files already open.
            let mut writer = drive.create_file("b", "f", 10).await.expect("create");
            writer.write(b"hello").await.expect("write");
            drive.set_offline(true);
            assert_eq!(writer.write(b"more").await, Err(DriveError::Offline));
            assert_eq!(
                drive.disk_info().await.map(|_| ()),
                Err(DriveError::Offline)
            );
            assert_eq!(
                drive.walk_versions("b", &WalkRequest::default()).await,
                Err(DriveError::Offline)
            );
            drive.set_offline(false);
            writer.finish().await.expect("finish");
            let reader = drive.open_file("b", "f").await.expect("open");
            drive.fail(Target::All, DriveError::Timeout);
            assert_eq!(reader.read_at(0, 5).await, Err(DriveError::Timeout));
            drive.clear();
            assert_eq!(reader.read_at(0, 5).await.expect("read"), b"hello");
            assert_eq!(drive.calls(Op::FileRead), 2);
        });
    }

    #[test]
    fn reads_in_progress_are_counted() {
        let dir = TempDir::new("fault-reads");
        run(|| async {
            let local: Rc<dyn Drive> = Rc::new(
                LocalDrive::open(dir.path().to_path_buf())
                    .await
                    .expect("open"),
            );
            let drive = FaultDrive::new(local);
            drive.make_vol("b").await.expect("make_vol");
            let mut writer = drive.create_file("b", "f", 1 << 16).await.expect("create");
            writer.write(&vec![5u8; 1 << 16]).await.expect("write");
            writer.finish().await.expect("finish");
            let reader = drive.open_file("b", "f").await.expect("open");
            let reads = (0..4).map(|i| reader.read_at(i * 4096, 4096));
            let results = futures::future::join_all(reads).await;
            assert!(results.iter().all(Result::is_ok));
            assert_eq!(drive.reads_now(), 0);
            assert!(drive.reads_most() >= 2, "{} at once", drive.reads_most());
            drive.reset_counts();
            assert_eq!(drive.reads_most(), 0);
        });
    }
}
