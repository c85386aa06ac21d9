//! Bucket configuration: one document per bucket (versioning, tags; later policy, lifecycle,
//! CORS, encryption, object lock), durable on the drives of one set and cached on every core.
//!
//! Where it lives: `.minnow.sys/buckets/<bucket>/config` on every drive of set 0
//! ([`CONFIG_SET`]). Set 0 already decides whether a bucket exists (HeadBucket, ListBuckets), so
//! a bucket's existence and its configuration share one quorum of drives and one owner core;
//! the owner core of set 0 (the *config owner*) is the only place that writes configurations,
//! and a lock there per bucket serialises writers, so the last writer wins everywhere.
//!
//! Who sees what:
//! * Every core keeps a [`BucketConfigCache`] (share-nothing, no lock). A hit
//!   ([`Cluster::bucket_config`]) is a hash lookup: no drive read, no cross-core message. The
//!   object handlers call it on every PUT and DELETE.
//! * A miss asks the config owner ([`SetRequest::ReadBucketConfig`]), which answers from its own
//!   cache or reads the drives (and checks that the bucket exists: NoSuchBucket otherwise).
//! * A change ([`Cluster::change_bucket_config`]) runs on the config owner under the bucket's
//!   lock: read, apply, write to a write quorum, then send the new configuration to every other
//!   core ([`SetRequest::CacheBucketConfig`]) and wait for each acknowledgement. Only then does
//!   the call return, so a client that was answered sees its change on whichever core its next
//!   connection lands.
//! * A load racing a change could install the older document after the newer one arrived. Each
//!   cache counts the changes it received; a load installs its answer only if no change arrived
//!   while it waited, and otherwise asks again.
//!
//! Lifecycle: a bucket starts with the defaults (unversioned, no tags). DeleteBucket removes the
//! document once the volumes are gone, and drops it from every cache. A crash between the two
//! leaves a stale document behind, so CreateBucket also removes any document of a bucket that
//! does not exist on set 0 *before* it creates the volumes: a document can then only ever
//! describe the bucket that exists now. (Storing a creation identity in the document instead
//! was rejected: a volume's only identity is its directory's birth time, which differs per
//! drive and is an mtime on filesystems without birth times.)
//!
//! On-disk encoding (see [`BucketConfig::encode`]): a 20-byte header, then a JSON document.
//!
//! ```text
//! offset size
//!      0    4  magic "MNBC"
//!      4    2  format version, little endian (FORMAT_VERSION)
//!      6    2  reserved, 0
//!      8    4  payload length in bytes, little endian
//!     12    8  first 8 bytes of SHA-256 over bytes 0..12 and the payload
//!     20    n  payload: JSON, UTF-8
//! ```
//!
//! JSON rather than rkyv: the document is small, written rarely and read only on a cache miss,
//! so zero-copy access buys nothing, while a self-describing document can grow field by field
//! (a new optional section is a new key, no format bump) and an operator can read it with
//! `tail -c +21`. Keys this version does not know are kept and written back unchanged, so a
//! server rolled back to an older version does not erase what a newer one stored. The format
//! version is bumped only for a change an older reader would misread; a reader refuses a
//! format it does not know (the drive is outvoted, the document is never misread). A length
//! that does not match (a torn copy) or a checksum that does not (a corrupt one) is refused
//! the same way.
//!
//! Invariants: the versioning state never returns to `Unversioned` once it has left it; the
//! modification time of a bucket's document strictly increases with every change (drives that
//! disagree are resolved by quorum, then by the newest).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use minnow_io::SYS_BUCKETS_DIR;
use sha2::{Digest, Sha256};

use crate::cluster::Cluster;
use crate::cross_core::{CoreId, SetRequest, SetResponse};
use crate::erasure::SetIndex;
use crate::lock::NamespaceLock;
use crate::object::{now_ns, ObjectError, Versioning};

/// The set whose drives hold every bucket's configuration.
pub const CONFIG_SET: SetIndex = SetIndex(0);

/// Magic at the start of a configuration file.
const MAGIC: &[u8; 4] = b"MNBC";
/// Format version written. Bump only for a change an older reader would misread; new optional
/// JSON keys need no bump.
pub const FORMAT_VERSION: u16 = 1;
/// Header size in bytes.
const HEADER_BYTES: usize = 20;
/// Checksum bytes kept (of SHA-256).
const CHECKSUM_BYTES: usize = 8;
/// Largest payload accepted: far above any configuration (50 tags of 128 + 256 characters).
const PAYLOAD_MAX_BYTES: usize = 1 << 20;
const _: () = assert!(HEADER_BYTES == 4 + 2 + 2 + 4 + CHECKSUM_BYTES);

/// How many times a cache miss asks again when changes keep arriving while it waits.
const LOAD_ATTEMPTS: usize = 4;

/// The file of `bucket`'s configuration, in [`minnow_io::SYS_VOL`].
pub fn config_path(bucket: &str) -> String {
    format!("{}/config", config_dir(bucket))
}

/// The directory of `bucket`'s metadata, in [`minnow_io::SYS_VOL`].
pub fn config_dir(bucket: &str) -> String {
    format!("{SYS_BUCKETS_DIR}/{bucket}")
}

/// One bucket's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketConfig {
    /// Versioning state.
    pub versioning: Versioning,
    /// Bucket tags, in the order they were put.
    pub tags: Vec<(String, String)>,
    /// When the document was last changed, ns since the Unix epoch; 0 for the defaults.
    pub mod_time_ns: i64,
    /// Keys of the stored document this version does not know, written back unchanged.
    unknown: BTreeMap<String, serde_json::Value>,
}

/// Why a stored configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BucketConfigError {
    /// Shorter than its header, or than the payload length it announces (a torn write).
    #[error("bucket config torn: {got} bytes, {expected} expected")]
    Torn {
        /// Bytes expected.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// Not a bucket configuration file.
    #[error("bucket config has a bad magic")]
    BadMagic,
    /// Written by a format this version does not know.
    #[error("bucket config format {0} is unknown (this version reads {FORMAT_VERSION})")]
    UnknownFormat(u16),
    /// The checksum does not match.
    #[error("bucket config checksum mismatch")]
    Checksum,
    /// The payload is not a valid document.
    #[error("bucket config payload: {0}")]
    Payload(String),
}

/// The JSON document as stored. Versioning is spelled as S3 spells it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredConfig {
    mod_time_ns: i64,
    #[serde(default)]
    versioning: StoredVersioning,
    #[serde(default)]
    tags: Vec<StoredTag>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_json::Value>,
}

#[derive(serde::Serialize, serde::Deserialize, Default, Clone, Copy)]
enum StoredVersioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredTag {
    key: String,
    value: String,
}

fn checksum(header: &[u8], payload: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let mut h = Sha256::new();
    h.update(header);
    h.update(payload);
    let digest = h.finalize();
    let mut out = [0u8; CHECKSUM_BYTES];
    out.copy_from_slice(&digest[..CHECKSUM_BYTES]);
    out
}

impl BucketConfig {
    /// The bytes stored on each drive. Only documents made by [`BucketConfig::apply`] (or read
    /// back) are encoded, so the payload is within its bound.
    pub fn encode(&self) -> Vec<u8> {
        let payload = self.payload();
        assert!(
            payload.len() <= PAYLOAD_MAX_BYTES,
            "bucket config too large"
        );
        let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        let sum = checksum(&out, &payload);
        out.extend_from_slice(&sum);
        out.extend_from_slice(&payload);
        // Pair the assertion across the disk boundary: what is written must read back.
        debug_assert_eq!(BucketConfig::decode(&out).as_ref(), Ok(self));
        out
    }

    fn encoded_payload_bytes(&self) -> usize {
        self.payload().len()
    }

    fn payload(&self) -> Vec<u8> {
        let stored = StoredConfig {
            mod_time_ns: self.mod_time_ns,
            versioning: match self.versioning {
                Versioning::Unversioned => StoredVersioning::Unversioned,
                Versioning::Enabled => StoredVersioning::Enabled,
                Versioning::Suspended => StoredVersioning::Suspended,
            },
            tags: self
                .tags
                .iter()
                .map(|(key, value)| StoredTag {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            unknown: self.unknown.clone(),
        };
        // Strings, numbers and JSON values read back from JSON always serialise.
        serde_json::to_vec(&stored).expect("bucket config serialises")
    }

    /// Parse stored bytes; refuses torn, corrupt and unknown-format copies.
    pub fn decode(bytes: &[u8]) -> Result<BucketConfig, BucketConfigError> {
        if bytes.len() < HEADER_BYTES {
            return Err(BucketConfigError::Torn {
                expected: HEADER_BYTES,
                got: bytes.len(),
            });
        }
        if &bytes[..4] != MAGIC {
            return Err(BucketConfigError::BadMagic);
        }
        let format = u16::from_le_bytes([bytes[4], bytes[5]]);
        if format != FORMAT_VERSION {
            return Err(BucketConfigError::UnknownFormat(format));
        }
        let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        if len > PAYLOAD_MAX_BYTES {
            return Err(BucketConfigError::Payload(format!(
                "payload length {len} over {PAYLOAD_MAX_BYTES}"
            )));
        }
        if bytes.len() != HEADER_BYTES + len {
            return Err(BucketConfigError::Torn {
                expected: HEADER_BYTES + len,
                got: bytes.len(),
            });
        }
        let payload = &bytes[HEADER_BYTES..];
        if checksum(&bytes[..12], payload)[..] != bytes[12..HEADER_BYTES] {
            return Err(BucketConfigError::Checksum);
        }
        let stored: StoredConfig = serde_json::from_slice(payload)
            .map_err(|e| BucketConfigError::Payload(e.to_string()))?;
        Ok(BucketConfig {
            versioning: match stored.versioning {
                StoredVersioning::Unversioned => Versioning::Unversioned,
                StoredVersioning::Enabled => Versioning::Enabled,
                StoredVersioning::Suspended => Versioning::Suspended,
            },
            tags: stored.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            mod_time_ns: stored.mod_time_ns,
            unknown: stored.unknown,
        })
    }

    /// This document with `change` applied at `now`; `None` when it changes nothing.
    pub fn apply(
        &self,
        change: &BucketConfigChange,
        now: i64,
    ) -> Result<Option<BucketConfig>, ObjectError> {
        let mut next = self.clone();
        match change {
            BucketConfigChange::Versioning(v) => {
                if *v == Versioning::Unversioned && self.versioning != Versioning::Unversioned {
                    // S3: "Once you version-enable a bucket, it can never return to an
                    // unversioned state. You can, however, suspend versioning."
                    return Err(ObjectError::InvalidArgument(
                        "a bucket that has been versioned can only be Enabled or Suspended".into(),
                    ));
                }
                next.versioning = *v;
            }
            BucketConfigChange::Tags(tags) => next.tags = tags.clone(),
        }
        if next == *self {
            return Ok(None);
        }
        // Strictly newer than the document it replaces, even if the clock went back.
        next.mod_time_ns = now.max(self.mod_time_ns.saturating_add(1));
        if next.encoded_payload_bytes() > PAYLOAD_MAX_BYTES {
            return Err(ObjectError::InvalidArgument(format!(
                "the bucket configuration would exceed {PAYLOAD_MAX_BYTES} bytes"
            )));
        }
        Ok(Some(next))
    }
}

/// One change to a bucket's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketConfigChange {
    /// PutBucketVersioning. `Unversioned` (a document without a Status) changes nothing on a
    /// bucket never versioned and is refused on one that was.
    Versioning(Versioning),
    /// PutBucketTagging; an empty list is DeleteBucketTagging.
    Tags(Vec<(String, String)>),
}

/// One core's copy of the configurations it has used, and (on the config owner) the locks
/// that serialise changes.
pub struct BucketConfigCache {
    entries: RefCell<HashMap<String, Rc<BucketConfig>>>,
    /// Changes received from the config owner so far (see the module header: loads racing
    /// changes).
    changes_received: Cell<u64>,
    /// Per-bucket locks, used on the config owner only.
    locks: NamespaceLock,
}

impl BucketConfigCache {
    /// An empty cache whose locks wait at most `lock_wait`.
    pub fn new(lock_wait: std::time::Duration) -> Self {
        BucketConfigCache {
            entries: RefCell::default(),
            changes_received: Cell::new(0),
            locks: NamespaceLock::new(lock_wait),
        }
    }

    /// The cached configuration of `bucket`.
    pub fn get(&self, bucket: &str) -> Option<Rc<BucketConfig>> {
        self.entries.borrow().get(bucket).cloned()
    }

    /// A change from the config owner: install it (`None`: the bucket is gone or its document
    /// must be read again).
    pub fn receive(&self, bucket: &str, config: Option<BucketConfig>) {
        self.changes_received.set(self.changes_received.get() + 1);
        let mut entries = self.entries.borrow_mut();
        match config {
            Some(c) => {
                entries.insert(bucket.to_string(), Rc::new(c));
            }
            None => {
                entries.remove(bucket);
            }
        }
    }

    fn insert_loaded(&self, bucket: &str, config: Rc<BucketConfig>) {
        self.entries.borrow_mut().insert(bucket.to_string(), config);
    }
}

impl crate::api::ServerCtx {
    /// The configuration of `bucket`, as the object handlers ask for it on every request: a
    /// lookup in this core's cache when present (no I/O), otherwise loaded from the config
    /// owner. NoSuchBucket when the bucket does not exist.
    pub async fn bucket_config(&self, bucket: &str) -> Result<Rc<BucketConfig>, ObjectError> {
        self.cluster.bucket_config(bucket).await
    }
}

impl Cluster {
    /// The core that writes every configuration.
    pub fn config_owner(&self) -> CoreId {
        self.owner_of(CONFIG_SET)
    }

    /// See [`crate::api::ServerCtx::bucket_config`].
    pub async fn bucket_config(&self, bucket: &str) -> Result<Rc<BucketConfig>, ObjectError> {
        if let Some(hit) = self.bucket_configs.get(bucket) {
            return Ok(hit);
        }
        let mut loaded = None;
        for _ in 0..LOAD_ATTEMPTS {
            let seen = self.bucket_configs.changes_received.get();
            let request = SetRequest::ReadBucketConfig {
                bucket: bucket.into(),
            };
            let config = match self.call(CONFIG_SET, request).await? {
                SetResponse::BucketConfig(c) => Rc::new(c),
                other => return Err(unexpected(&other)),
            };
            if self.bucket_configs.changes_received.get() == seen {
                self.bucket_configs.insert_loaded(bucket, config.clone());
                return Ok(config);
            }
            // A change arrived while this load waited: it may be newer than the answer.
            if let Some(hit) = self.bucket_configs.get(bucket) {
                return Ok(hit);
            }
            loaded = Some(config);
        }
        // Changes keep arriving: serve this request from the latest read, uncached.
        loaded.ok_or_else(|| ObjectError::Internal("bucket config load never ran".into()))
    }

    /// Apply `change` to `bucket`'s configuration on the config owner; returns the
    /// configuration now in force, already visible on every core.
    pub async fn change_bucket_config(
        &self,
        bucket: &str,
        change: BucketConfigChange,
    ) -> Result<Rc<BucketConfig>, ObjectError> {
        let request = SetRequest::ChangeBucketConfig {
            bucket: bucket.into(),
            change,
        };
        match self.call(CONFIG_SET, request).await? {
            SetResponse::BucketConfig(c) => Ok(Rc::new(c)),
            other => Err(unexpected(&other)),
        }
    }

    /// Remove the configuration of a bucket that does not exist (any more) from the drives and
    /// from every cache. Does nothing if the bucket exists on set 0.
    pub async fn drop_bucket_config(&self, bucket: &str) -> Result<(), ObjectError> {
        let request = SetRequest::DropBucketConfig {
            bucket: bucket.into(),
        };
        self.call(CONFIG_SET, request).await.map(|_| ())
    }

    /// Serve a configuration request on this core: the cache update that any core receives,
    /// or (on the config owner) a read, a change or a drop. `None` if `request` is not one.
    pub(crate) async fn serve_bucket_config_request(
        &self,
        request: &SetRequest,
    ) -> Option<Result<SetResponse, ObjectError>> {
        Some(match request {
            SetRequest::CacheBucketConfig { bucket, config } => {
                self.bucket_configs.receive(bucket, config.clone());
                Ok(SetResponse::Done)
            }
            SetRequest::ReadBucketConfig { bucket } => self
                .owner_read(bucket)
                .await
                .map(|c| SetResponse::BucketConfig((*c).clone())),
            SetRequest::ChangeBucketConfig { bucket, change } => self
                .owner_change(bucket, change)
                .await
                .map(SetResponse::BucketConfig),
            SetRequest::DropBucketConfig { bucket } => {
                self.owner_drop(bucket).await.map(|()| SetResponse::Done)
            }
            _ => return None,
        })
    }

    fn config_set(&self) -> Result<&Rc<crate::erasure::ErasureSet>, ObjectError> {
        self.sets.get(&CONFIG_SET).ok_or_else(|| {
            ObjectError::Internal(format!(
                "bucket config request on core {}, which does not own set 0",
                self.core.0
            ))
        })
    }

    /// On the config owner: the cached document or the one a read quorum of drives agrees on.
    async fn owner_read(&self, bucket: &str) -> Result<Rc<BucketConfig>, ObjectError> {
        let set = self.config_set()?;
        let _shared = self.bucket_configs.locks.read(bucket).await?;
        self.owner_read_locked(set, bucket).await
    }

    async fn owner_read_locked(
        &self,
        set: &crate::erasure::ErasureSet,
        bucket: &str,
    ) -> Result<Rc<BucketConfig>, ObjectError> {
        if let Some(hit) = self.bucket_configs.get(bucket) {
            return Ok(hit);
        }
        set.stat_bucket(bucket).await?;
        let config = Rc::new(set.read_bucket_config(bucket).await?.unwrap_or_default());
        self.bucket_configs.insert_loaded(bucket, config.clone());
        Ok(config)
    }

    /// On the config owner: read, apply, write to a quorum, then publish to every core.
    async fn owner_change(
        &self,
        bucket: &str,
        change: &BucketConfigChange,
    ) -> Result<BucketConfig, ObjectError> {
        let set = self.config_set()?;
        let _exclusive = self.bucket_configs.locks.write(bucket).await?;
        let current = self.owner_read_locked(set, bucket).await?;
        let Some(next) = current.apply(change, now_ns())? else {
            return Ok((*current).clone());
        };
        if let Err(e) = set.write_bucket_config(bucket, &next).await {
            // Some drives may hold the new document: every core reads it again when next
            // asked, and gets whatever the drives agree on.
            if let Err(publish) = self.publish_bucket_config(bucket, None).await {
                tracing::error!(bucket, error = %publish, "cannot drop a bucket config from the caches");
            }
            return Err(e);
        }
        self.publish_bucket_config(bucket, Some(next.clone()))
            .await?;
        Ok(next)
    }

    /// On the config owner: remove the document of a bucket absent from set 0, everywhere.
    async fn owner_drop(&self, bucket: &str) -> Result<(), ObjectError> {
        let set = self.config_set()?;
        let _exclusive = self.bucket_configs.locks.write(bucket).await?;
        match set.stat_bucket(bucket).await {
            Ok(_) => return Ok(()),
            Err(ObjectError::NoSuchBucket(_)) => {}
            Err(e) => return Err(e),
        }
        // The caches first: even if the drives refuse, no core keeps serving a deleted
        // bucket's configuration.
        let published = self.publish_bucket_config(bucket, None).await;
        set.remove_bucket_config(bucket).await?;
        published
    }

    /// Install `config` in this core's cache and every other core's, and wait until each has.
    async fn publish_bucket_config(
        &self,
        bucket: &str,
        config: Option<BucketConfig>,
    ) -> Result<(), ObjectError> {
        self.bucket_configs.receive(bucket, config.clone());
        let others = (0..self.cores).map(CoreId).filter(|c| *c != self.core);
        let acks = futures::future::join_all(others.map(|core| {
            let request = SetRequest::CacheBucketConfig {
                bucket: bucket.into(),
                config: config.clone(),
            };
            async move { (core, self.mesh.call(core, CONFIG_SET, request).await) }
        }))
        .await;
        for (core, ack) in acks {
            match ack {
                Ok(SetResponse::Done) => {}
                Ok(other) => return Err(unexpected(&other)),
                Err(e) => {
                    return Err(ObjectError::Internal(format!(
                        "core {} did not take bucket {bucket}'s config: {e}",
                        core.0
                    )))
                }
            }
        }
        Ok(())
    }
}

fn unexpected(r: &SetResponse) -> ObjectError {
    ObjectError::Internal(format!("unexpected cross-core answer {r:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BucketConfig {
        BucketConfig {
            versioning: Versioning::Suspended,
            tags: vec![("team".into(), "a&b <c>".into()), ("ü".into(), "".into())],
            mod_time_ns: 1_700_000_000_123_456_789,
            unknown: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trips() {
        for config in [BucketConfig::default(), sample()] {
            let bytes = config.encode();
            assert_eq!(&bytes[..4], MAGIC);
            assert_eq!(BucketConfig::decode(&bytes), Ok(config));
        }
    }

    #[test]
    fn every_versioning_state_round_trips() {
        for v in [
            Versioning::Unversioned,
            Versioning::Enabled,
            Versioning::Suspended,
        ] {
            let config = BucketConfig {
                versioning: v,
                ..BucketConfig::default()
            };
            assert_eq!(
                BucketConfig::decode(&config.encode()).unwrap().versioning,
                v
            );
        }
    }

    #[test]
    fn torn_copies_are_refused() {
        let bytes = sample().encode();
        for cut in [0, 3, HEADER_BYTES - 1, HEADER_BYTES, bytes.len() - 1] {
            assert!(
                matches!(
                    BucketConfig::decode(&bytes[..cut]),
                    Err(BucketConfigError::Torn { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(b' ');
        assert!(matches!(
            BucketConfig::decode(&longer),
            Err(BucketConfigError::Torn { .. })
        ));
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x20;
            assert!(BucketConfig::decode(&bad).is_err(), "flip at {i} accepted");
        }
        let mut bad = bytes.clone();
        bad[..4].copy_from_slice(b"XXXX");
        assert_eq!(BucketConfig::decode(&bad), Err(BucketConfigError::BadMagic));
    }

    /// A valid file of another format (checksum right) is refused, not misread.
    #[test]
    fn unknown_format_versions_are_refused() {
        let mut bytes = sample().encode();
        bytes[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let sum = checksum(&bytes[..12], &bytes[HEADER_BYTES..]);
        bytes[12..HEADER_BYTES].copy_from_slice(&sum);
        assert_eq!(
            BucketConfig::decode(&bytes),
            Err(BucketConfigError::UnknownFormat(FORMAT_VERSION + 1))
        );
    }

    fn encode_payload(json: &str) -> Vec<u8> {
        let payload = json.as_bytes();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        let sum = checksum(&out, payload);
        out.extend_from_slice(&sum);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn unknown_keys_survive_a_rewrite_and_bad_documents_are_refused() {
        let newer = encode_payload(
            r#"{"mod_time_ns":5,"versioning":"Enabled","tags":[],"policy":{"Version":"2012-10-17"}}"#,
        );
        let config = BucketConfig::decode(&newer).unwrap();
        assert_eq!(config.versioning, Versioning::Enabled);
        let changed = config
            .apply(&BucketConfigChange::Tags(vec![("k".into(), "v".into())]), 9)
            .unwrap()
            .unwrap();
        let text = String::from_utf8(changed.encode()[HEADER_BYTES..].to_vec()).unwrap();
        assert!(
            text.contains(r#""policy":{"Version":"2012-10-17"}"#),
            "{text}"
        );
        for bad in [
            r#"{"mod_time_ns":5,"versioning":"Sometimes"}"#,
            r#"{"versioning":"Enabled"}"#,
            "not json",
        ] {
            assert!(
                matches!(
                    BucketConfig::decode(&encode_payload(bad)),
                    Err(BucketConfigError::Payload(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_change_too_large_to_store_is_refused() {
        let huge = vec![("k".to_string(), "v".repeat(PAYLOAD_MAX_BYTES))];
        assert!(matches!(
            BucketConfig::default().apply(&BucketConfigChange::Tags(huge), 1),
            Err(ObjectError::InvalidArgument(_))
        ));
    }

    #[test]
    fn versioning_never_returns_to_unversioned() {
        let fresh = BucketConfig::default();
        assert_eq!(
            fresh
                .apply(&BucketConfigChange::Versioning(Versioning::Unversioned), 10)
                .unwrap(),
            None,
            "no Status on a never-versioned bucket changes nothing"
        );
        let enabled = fresh
            .apply(&BucketConfigChange::Versioning(Versioning::Enabled), 10)
            .unwrap()
            .unwrap();
        assert_eq!(enabled.versioning, Versioning::Enabled);
        let suspended = enabled
            .apply(&BucketConfigChange::Versioning(Versioning::Suspended), 20)
            .unwrap()
            .unwrap();
        assert_eq!(suspended.versioning, Versioning::Suspended);
        for versioned in [&enabled, &suspended] {
            assert!(matches!(
                versioned.apply(&BucketConfigChange::Versioning(Versioning::Unversioned), 30),
                Err(ObjectError::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn changes_are_strictly_newer_even_when_the_clock_goes_back() {
        let config = sample();
        let next = config
            .apply(&BucketConfigChange::Versioning(Versioning::Enabled), 5)
            .unwrap()
            .unwrap();
        assert_eq!(next.mod_time_ns, config.mod_time_ns + 1);
        assert_eq!(
            next.apply(&BucketConfigChange::Versioning(Versioning::Enabled), 5)
                .unwrap(),
            None,
            "the same state again writes nothing"
        );
        let untagged = next
            .apply(&BucketConfigChange::Tags(Vec::new()), i64::MAX)
            .unwrap()
            .unwrap();
        assert!(untagged.tags.is_empty());
        assert_eq!(untagged.mod_time_ns, i64::MAX);
    }

    #[test]
    fn a_change_received_replaces_or_drops_the_cached_copy() {
        let cache = BucketConfigCache::new(std::time::Duration::from_secs(1));
        assert!(cache.get("b").is_none());
        cache.insert_loaded("b", Rc::new(BucketConfig::default()));
        assert_eq!(cache.changes_received.get(), 0, "a load is not a change");
        cache.receive("b", Some(sample()));
        assert_eq!(cache.get("b").as_deref(), Some(&sample()));
        cache.receive("b", None);
        assert!(cache.get("b").is_none());
        assert_eq!(cache.changes_received.get(), 2);
    }
}
