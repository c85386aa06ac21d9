//! Test helpers: temp directories on the real filesystem (ext4 here, never tmpfs: glommio
//! silently drops O_DIRECT on tmpfs, GLOMMIO.md §2) and one small glommio executor per test
//! (io_memory 256 KiB, ring depth 128: stays inside an 8 MiB memlock budget, §1 and §8).

use std::future::Future;
use std::path::{Path, PathBuf};

use glommio::LocalExecutorBuilder;

/// A fresh directory under `std::env::temp_dir()`, removed (with its content) on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let name = format!("minnow-io-{tag}-{}", crate::format::new_uuid());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `make()` to completion on a new executor on this thread.
pub(crate) fn run<F, Fut, T>(make: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    let ex = LocalExecutorBuilder::default()
        .io_memory(256 << 10)
        .ring_depth(128)
        .make()
        .expect("glommio executor (memlock limit >= 512 KiB needed)");
    ex.run(make())
}
