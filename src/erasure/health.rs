//! Is the set usable now? The answer behind `/minio/health/ready` and `/minio/health/cluster`.
//!
//! Each drive is asked [`minnow_io::Drive::check_online`] (two `stat`s for a local drive), so the answer
//! follows drives that vanish or come back under a running server, at a cost a load balancer
//! polling every second does not notice. A drive that changes state is logged once, when it
//! does.

use minnow_codec::{ErasureLayout, BLOCK_SIZE};

use super::ErasureSet;

/// Drives online in one set, and what reads and writes need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetHealth {
    /// Drives that answered.
    pub online: usize,
    /// Drives a read of an object of the default storage class needs (its data shards).
    pub read_quorum: usize,
    /// Drives a new write needs now (after raising parity for the drives offline).
    pub write_quorum: usize,
}

impl SetHealth {
    /// Reads can be served.
    pub fn can_read(&self) -> bool {
        self.online >= self.read_quorum
    }

    /// Writes can be accepted.
    pub fn can_write(&self) -> bool {
        self.online >= self.write_quorum
    }
}

impl ErasureSet {
    /// Check every drive now; log the ones that went offline or came back.
    pub async fn health(&self) -> SetHealth {
        let answers = self
            .on_all(|_, d| async move { d.check_online().await })
            .await;
        let mut last = self.drive_online.borrow_mut();
        for (slot, (answer, was_online)) in answers.iter().zip(last.iter_mut()).enumerate() {
            if answer.is_ok() == *was_online {
                continue;
            }
            *was_online = answer.is_ok();
            let drive = self.drives[slot].as_ref().map_or("-", |d| d.endpoint());
            match answer {
                Ok(()) => tracing::info!(set = self.index.0, slot, drive, "drive back online"),
                Err(e) => {
                    tracing::warn!(set = self.index.0, slot, drive, error = %e, "drive offline")
                }
            }
        }
        let n = self.drives.len();
        let online = answers.iter().filter(|a| a.is_ok()).count();
        let read_quorum = n - self.storage.standard_parity;
        let parity = self.parity_for(None, n - online);
        let write_quorum = ErasureLayout::new(n - parity, parity, BLOCK_SIZE)
            .map_or(usize::MAX, |layout| layout.write_quorum());
        SetHealth {
            online,
            read_quorum,
            write_quorum,
        }
    }
}
