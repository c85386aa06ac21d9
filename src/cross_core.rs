//! Everything that crosses cores, in one place.
//!
//! Cores share nothing; they talk over one bounded glommio `shared_channel` per ordered pair of
//! cores, carrying [`CoreMessage`]s:
//!
//! * [`Handoff`]: a client connection whose request belongs to an erasure set this core does not
//!   own. The accepting core has only peeked at the request head; it sends a dup of the socket
//!   and the bytes it has buffered, and the owner reads the request afresh and serves it.
//!   Body bytes never cross cores (ARCHITECTURE.md section 2).
//! * [`SetRequest`] / [`SetResponse`]: small operations on a set owned by another core that a
//!   request touching several sets needs (bucket create/delete, listings, multi-delete, the
//!   source side of a copy). [`Mesh::call`] sends one and awaits its answer; the answer comes back
//!   on the channel in the other direction, matched by request id. The bucket-configuration
//!   requests are served by the receiving core itself rather than one of its sets
//!   (`Cluster::serve_request`, `crate::bucket_config`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::rc::Rc;

use glommio::channels::local_channel::{self, LocalSender};
use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use minnow_io::VolInfo;

use crate::bucket_config::{BucketConfig, BucketConfigChange};
use crate::erasure::{DeleteOutcome, ListedEntry, SetHealth, SetIndex, UploadListing};
use crate::object::{ObjectError, ObjectInfo, Versioning};
use minnow_io::WalkRequest;

/// Index of a core (an executor) in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CoreId(pub usize);

/// A connection moving to the core that owns its request.
#[derive(Debug)]
pub struct Handoff {
    /// A duplicate of the client socket (the sender dropped its own).
    pub fd: OwnedFd,
    /// Bytes read but not consumed: the request head (only peeked at) and whatever followed.
    pub buffered: Vec<u8>,
}

/// An operation on a set owned by another core.
#[derive(Debug, Clone)]
pub enum SetRequest {
    /// Create the bucket's volume on the set.
    MakeBucket {
        /// Bucket.
        bucket: String,
    },
    /// Remove the bucket's volume.
    DeleteBucket {
        /// Bucket.
        bucket: String,
        /// Even with unreferenced data left.
        force: bool,
    },
    /// Does the set hold no object of the bucket?
    BucketIsEmpty {
        /// Bucket.
        bucket: String,
    },
    /// Bucket info.
    StatBucket {
        /// Bucket.
        bucket: String,
    },
    /// All buckets.
    ListBuckets,
    /// One page of the set's keys.
    Walk {
        /// Bucket.
        bucket: String,
        /// What to walk.
        request: WalkRequest,
    },
    /// Multipart uploads in progress.
    ListUploads {
        /// Bucket.
        bucket: String,
        /// Key prefix.
        prefix: String,
    },
    /// Object metadata.
    HeadObject {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The version (None: the latest).
        version_id: Option<String>,
    },
    /// A range of an object's bytes (copy source on another core). Fails with NoSuchKey if the
    /// object's ETag is no longer `etag`, so a copy never mixes two versions.
    ReadObject {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The version (None: the latest).
        version_id: Option<String>,
        /// First byte.
        offset: u64,
        /// At most this many bytes.
        len: u64,
        /// Expected ETag.
        etag: String,
    },
    /// Delete a group of objects of one set (a DeleteObjects request's share of this set),
    /// at most [`crate::cluster::SET_DELETES_CONCURRENT_MAX`] at once; answered with
    /// [`SetResponse::Deleted`], one outcome per target in the same order.
    DeleteObjects {
        /// Bucket.
        bucket: String,
        /// Objects, in request order.
        targets: Vec<DeleteTarget>,
        /// The bucket's versioning (what a delete without a version id does).
        versioning: Versioning,
    },
    /// Drives online now against quorum (health endpoints).
    Health,
    /// To the config owner: a bucket's configuration (NoSuchBucket if the bucket does not
    /// exist). Served by the core, not the set (`crate::bucket_config`).
    ReadBucketConfig {
        /// Bucket.
        bucket: String,
    },
    /// To the config owner: change a bucket's configuration and publish it to every core.
    ChangeBucketConfig {
        /// Bucket.
        bucket: String,
        /// The change.
        change: BucketConfigChange,
    },
    /// To the config owner: remove the configuration of a bucket absent from set 0.
    DropBucketConfig {
        /// Bucket.
        bucket: String,
    },
    /// From the config owner to every core: replace (or, with `None`, drop) the cached
    /// configuration of a bucket. The set index it travels with is ignored.
    CacheBucketConfig {
        /// Bucket.
        bucket: String,
        /// The configuration now in force; None to drop it.
        config: Option<BucketConfig>,
    },
}

/// The answer to a [`SetRequest`].
#[derive(Debug, Clone)]
pub enum SetResponse {
    /// Done, nothing to report.
    Done,
    /// MakeBucket: true when created, false when it existed.
    Created(bool),
    /// BucketIsEmpty.
    Empty(bool),
    /// StatBucket.
    Bucket(VolInfo),
    /// ListBuckets.
    Buckets(Vec<VolInfo>),
    /// Walk: entries and whether the set is exhausted.
    Page(Vec<ListedEntry>, bool),
    /// ListUploads.
    Uploads(Vec<UploadListing>),
    /// HeadObject.
    Info(ObjectInfo),
    /// ReadObject.
    Bytes(Vec<u8>),
    /// Health.
    Health(SetHealth),
    /// ReadBucketConfig, ChangeBucketConfig: the configuration now in force.
    BucketConfig(BucketConfig),
    /// DeleteObjects: per target, in the order sent.
    Deleted(Vec<Result<DeleteOutcome, ObjectError>>),
}

/// One object of a batch delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTarget {
    /// Key.
    pub key: String,
    /// Version asked for (`""`: the null version); `None` deletes the object as the bucket's
    /// versioning says.
    pub version_id: Option<String>,
}

/// What travels on a core-to-core channel.
#[derive(Debug)]
pub enum CoreMessage {
    /// A connection to serve.
    Handoff(Handoff),
    /// A set operation to run; answer with `Response` of the same id.
    Request {
        /// Matches the response.
        id: u64,
        /// Target set.
        set: SetIndex,
        /// Operation.
        request: SetRequest,
    },
    /// The answer to a `Request` this core sent.
    Response {
        /// Request id.
        id: u64,
        /// Result.
        result: Result<SetResponse, ObjectError>,
    },
}

/// Bound of each channel: enough to keep cores busy, small enough to push back.
const CHANNEL_CAPACITY: usize = 256;

/// The channel ends one core gets before its executor starts (they are `Send`).
pub struct MeshEnds {
    /// To each other core (None for self).
    pub senders: Vec<Option<SharedSender<CoreMessage>>>,
    /// From each other core (None for self).
    pub receivers: Vec<Option<SharedReceiver<CoreMessage>>>,
}

/// Build the N x (N-1) channels; element `i` goes to core `i`.
pub fn build_mesh(cores: usize) -> Vec<MeshEnds> {
    let mut ends: Vec<MeshEnds> = (0..cores)
        .map(|_| MeshEnds {
            senders: (0..cores).map(|_| None).collect(),
            receivers: (0..cores).map(|_| None).collect(),
        })
        .collect();
    for from in 0..cores {
        for to in 0..cores {
            if from != to {
                let (tx, rx) = shared_channel::new_bounded(CHANNEL_CAPACITY);
                ends[from].senders[to] = Some(tx);
                ends[to].receivers[from] = Some(rx);
            }
        }
    }
    ends
}

/// One core's view of the mesh, once connected.
pub struct Mesh {
    senders: Vec<Option<ConnectedSender<CoreMessage>>>,
    next_id: Cell<u64>,
    pending: RefCell<HashMap<u64, LocalSender<Result<SetResponse, ObjectError>>>>,
}

impl Mesh {
    /// Connect all ends concurrently (a sequential connect deadlocks: GLOMMIO.md section 4).
    /// Returns the mesh and the connected receivers, one per peer.
    pub async fn connect(
        ends: MeshEnds,
    ) -> (Rc<Mesh>, Vec<(CoreId, ConnectedReceiver<CoreMessage>)>) {
        let send_futs = ends.senders.into_iter().map(|s| async move {
            match s {
                Some(s) => Some(s.connect().await),
                None => None,
            }
        });
        let recv_futs = ends
            .receivers
            .into_iter()
            .enumerate()
            .map(|(i, r)| async move {
                match r {
                    Some(r) => Some((CoreId(i), r.connect().await)),
                    None => None,
                }
            });
        let (senders, receivers) = futures::future::join(
            futures::future::join_all(send_futs),
            futures::future::join_all(recv_futs),
        )
        .await;
        let mesh = Rc::new(Mesh {
            senders,
            next_id: Cell::new(1),
            pending: RefCell::new(HashMap::new()),
        });
        (mesh, receivers.into_iter().flatten().collect())
    }

    /// Send a message to another core.
    pub async fn send(&self, to: CoreId, message: CoreMessage) -> Result<(), ObjectError> {
        let sender = self
            .senders
            .get(to.0)
            .and_then(Option::as_ref)
            .ok_or_else(|| ObjectError::Internal(format!("no channel to core {}", to.0)))?;
        sender
            .send(message)
            .await
            .map_err(|_| ObjectError::Internal(format!("core {} is gone", to.0)))
    }

    /// Run `request` on `set`, owned by core `to`, and await the answer.
    pub async fn call(
        &self,
        to: CoreId,
        set: SetIndex,
        request: SetRequest,
    ) -> Result<SetResponse, ObjectError> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (tx, rx) = local_channel::new_bounded(1);
        self.pending.borrow_mut().insert(id, tx);
        if let Err(e) = self
            .send(to, CoreMessage::Request { id, set, request })
            .await
        {
            self.pending.borrow_mut().remove(&id);
            return Err(e);
        }
        rx.recv().await.unwrap_or_else(|| {
            Err(ObjectError::Internal(format!(
                "core {} dropped a request",
                to.0
            )))
        })
    }

    /// Deliver an answer that arrived for one of our calls.
    pub async fn complete(&self, id: u64, result: Result<SetResponse, ObjectError>) {
        let waiter = self.pending.borrow_mut().remove(&id);
        if let Some(tx) = waiter {
            let _ = tx.send(result).await;
        }
    }
}
