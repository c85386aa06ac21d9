//! One core's view of the whole pool: which set an object lives in, which core owns that set,
//! and the operations that span every set (buckets, listings), run locally or through
//! [`Mesh::call`] on the owner core.
//!
//! Placement: set = SipHash-2-4(key) keyed with the deployment id, modulo the set count
//! (`SIPMOD+PARITY`, recorded in format.json); owner core = set modulo the core count.

use std::collections::HashMap;
use std::rc::Rc;

use minnow_io::{VolInfo, WalkRequest};

use futures::StreamExt;

use crate::bucket_config::BucketConfigCache;
use crate::cross_core::{CoreId, DeleteTarget, Mesh, SetRequest, SetResponse};
use crate::erasure::{
    merge_sorted, DeleteOutcome, ErasureSet, ListedEntry, SetHealth, SetIndex, UploadListing,
};
use crate::object::{ObjectError, ObjectInfo, Versioning};

/// Page size asked of each set while listing.
const WALK_PAGE: usize = 1000;

/// Deletes of one DeleteObjects request running at once on one set. Each holds a key lock and
/// a few drive operations per drive; 32 keep a set's drives busy (a delete is a handful of
/// small metadata operations) without a 1,000-key request queueing 1,000 lock waits or
/// starving the set's other requests.
pub const SET_DELETES_CONCURRENT_MAX: usize = 32;

/// Per-core context: configuration, owned sets, the mesh.
pub struct Cluster {
    /// This core.
    pub core: CoreId,
    /// Number of cores.
    pub cores: usize,
    /// Deployment id (keys the placement hash).
    pub deployment_id: [u8; 16],
    /// Sets in the pool.
    pub set_count: usize,
    /// The sets this core owns.
    pub sets: HashMap<SetIndex, Rc<ErasureSet>>,
    /// Channels to the other cores.
    pub mesh: Rc<Mesh>,
    /// This core's copy of the bucket configurations (`crate::bucket_config`).
    pub bucket_configs: BucketConfigCache,
}

/// Result of a bucket listing.
#[derive(Debug, Default)]
pub struct Listing {
    /// Objects (ListObjects: latest versions; ListObjectVersions: every version and delete
    /// marker, newest first per key), in key order.
    pub objects: Vec<ListedObject>,
    /// Common prefixes (with a delimiter), in order.
    pub prefixes: Vec<String>,
    /// More entries follow.
    pub truncated: bool,
    /// Where the next page starts (last key or prefix returned) when truncated.
    pub next_marker: Option<String>,
    /// The version id of the last version returned, when the last entry is a version (the
    /// NextVersionIdMarker of ListObjectVersions).
    pub next_version_marker: Option<String>,
}

/// One listed version.
#[derive(Debug, Clone)]
pub struct ListedObject {
    /// Key.
    pub key: String,
    /// The version (a delete marker only in ListObjectVersions).
    pub info: ObjectInfo,
    /// The key's latest version.
    pub is_latest: bool,
}

impl Listing {
    fn len(&self) -> usize {
        self.objects.len() + self.prefixes.len()
    }

    fn push_prefix(&mut self, prefix: String) {
        self.next_marker = Some(prefix.clone());
        self.next_version_marker = None;
        self.prefixes.push(prefix);
    }

    fn push_version(&mut self, info: ObjectInfo, is_latest: bool) {
        self.next_marker = Some(info.key.clone());
        self.next_version_marker = Some(info.version_id.clone());
        self.objects.push(ListedObject {
            key: info.key.clone(),
            info,
            is_latest,
        });
    }
}

/// What a listing page asks for.
struct ListPage<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    /// Keys (and prefixes) after this.
    start_after: &'a str,
    /// ListObjectVersions: the last version returned of `start_after`.
    version_marker: Option<&'a str>,
    max_keys: usize,
    all_versions: bool,
}

impl Cluster {
    /// The set holding `key`.
    pub fn set_of(&self, key: &str) -> SetIndex {
        SetIndex(minnow_codec::sip_mod(
            key,
            self.set_count,
            &self.deployment_id,
        ))
    }

    /// The core owning `set`.
    pub fn owner_of(&self, set: SetIndex) -> CoreId {
        CoreId(set.0 % self.cores)
    }

    /// The local set for `key`, if this core owns it.
    pub fn local_set_for(&self, key: &str) -> Option<&Rc<ErasureSet>> {
        self.sets.get(&self.set_of(key))
    }

    /// Run a set operation wherever the set lives.
    pub async fn call(
        &self,
        set: SetIndex,
        request: SetRequest,
    ) -> Result<SetResponse, ObjectError> {
        match self.owner_of(set) {
            owner if owner == self.core => self.serve_request(set, request).await,
            owner => self.mesh.call(owner, set, request).await,
        }
    }

    /// Serve a request addressed to this core: a bucket-configuration request by the core
    /// itself, anything else by the set it names.
    pub async fn serve_request(
        &self,
        set: SetIndex,
        request: SetRequest,
    ) -> Result<SetResponse, ObjectError> {
        if let Some(answer) = self.serve_bucket_config_request(&request).await {
            return answer;
        }
        match self.sets.get(&set) {
            Some(local) => handle_set_request(local, request).await,
            None => Err(ObjectError::Internal(format!(
                "set {} is not owned by core {}",
                set.0, self.core.0
            ))),
        }
    }

    async fn call_all(&self, request: SetRequest) -> Vec<Result<SetResponse, ObjectError>> {
        futures::future::join_all(
            (0..self.set_count).map(|s| self.call(SetIndex(s), request.clone())),
        )
        .await
    }

    /// CreateBucket: `Ok(false)` if it existed already. A configuration left by an earlier
    /// bucket of that name is removed before any volume is made, so a new bucket always starts
    /// with the defaults.
    pub async fn make_bucket(&self, bucket: &str) -> Result<bool, ObjectError> {
        self.drop_bucket_config(bucket).await?;
        let mut created_any = false;
        for r in self
            .call_all(SetRequest::MakeBucket {
                bucket: bucket.into(),
            })
            .await
        {
            match r? {
                SetResponse::Created(c) => created_any |= c,
                other => return Err(unexpected(&other)),
            }
        }
        Ok(created_any)
    }

    /// DeleteBucket: refused while any set holds an object. Each set removes the bucket only
    /// from drives that hold no file (atomically with their commits); if any set refuses, the
    /// sets that removed it get it back, so a PUT acknowledged meanwhile is never lost.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        self.stat_bucket(bucket).await?;
        for r in self
            .call_all(SetRequest::BucketIsEmpty {
                bucket: bucket.into(),
            })
            .await
        {
            match r? {
                SetResponse::Empty(true) => {}
                SetResponse::Empty(false) => {
                    return Err(ObjectError::BucketNotEmpty(bucket.into()))
                }
                other => return Err(unexpected(&other)),
            }
        }
        let results = self
            .call_all(SetRequest::DeleteBucket {
                bucket: bucket.into(),
                force: false,
            })
            .await;
        if results.iter().all(Result::is_ok) {
            // The bucket is gone whatever happens to its configuration: one left on the drives
            // is removed by the next CreateBucket of that name.
            if let Err(e) = self.drop_bucket_config(bucket).await {
                tracing::warn!(bucket, error = %e, "bucket deleted, its configuration left behind");
            }
            return Ok(());
        }
        // Every set gets the bucket back: those that deleted it, and those that failed part way
        // (a set restores its own drives too; an existing volume counts as restored).
        for s in 0..self.set_count {
            let request = SetRequest::MakeBucket {
                bucket: bucket.into(),
            };
            if let Err(e) = self.call(SetIndex(s), request).await {
                tracing::error!(set = s, bucket, error = %e, "cannot restore the bucket after a refused delete");
            }
        }
        let refused = results
            .iter()
            .any(|r| matches!(r, Err(ObjectError::BucketNotEmpty(_))));
        match results.into_iter().find_map(Result::err) {
            Some(_) if refused => Err(ObjectError::BucketNotEmpty(bucket.into())),
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// HeadBucket.
    pub async fn stat_bucket(&self, bucket: &str) -> Result<VolInfo, ObjectError> {
        match self
            .call(
                SetIndex(0),
                SetRequest::StatBucket {
                    bucket: bucket.into(),
                },
            )
            .await?
        {
            SetResponse::Bucket(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    /// ListBuckets (every set holds every bucket; set 0 answers).
    pub async fn list_buckets(&self) -> Result<Vec<VolInfo>, ObjectError> {
        match self.call(SetIndex(0), SetRequest::ListBuckets).await? {
            SetResponse::Buckets(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    /// Metadata of a version (`None`: the latest) wherever it lives.
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectInfo, ObjectError> {
        let req = SetRequest::HeadObject {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version_id.map(str::to_string),
        };
        match self.call(self.set_of(key), req).await? {
            SetResponse::Info(i) => Ok(i),
            other => Err(unexpected(&other)),
        }
    }

    /// DeleteObjects: the targets grouped by set, each set's group sent to its owner in one
    /// request and deleted there concurrently (bounded by [`SET_DELETES_CONCURRENT_MAX`]);
    /// every set at once. One outcome per target, in the order given. A set that cannot be
    /// reached at all fails each of its targets with that error; the other sets' targets are
    /// unaffected.
    pub async fn delete_objects(
        &self,
        bucket: &str,
        targets: Vec<DeleteTarget>,
        versioning: Versioning,
    ) -> Vec<Result<DeleteOutcome, ObjectError>> {
        let count = targets.len();
        let mut groups: HashMap<SetIndex, (Vec<usize>, Vec<DeleteTarget>)> = HashMap::new();
        for (position, target) in targets.into_iter().enumerate() {
            let group = groups.entry(self.set_of(&target.key)).or_default();
            group.0.push(position);
            group.1.push(target);
        }
        let answers = futures::future::join_all(groups.into_iter().map(
            |(set, (positions, targets))| async move {
                let sent = targets.len();
                let request = SetRequest::DeleteObjects {
                    bucket: bucket.into(),
                    targets,
                    versioning,
                };
                let outcomes = match self.call(set, request).await {
                    Ok(SetResponse::Deleted(outcomes)) if outcomes.len() == sent => outcomes,
                    Ok(other) => vec![Err(unexpected(&other)); sent],
                    Err(e) => vec![Err(e); sent],
                };
                (positions, outcomes)
            },
        ))
        .await;
        let mut ordered: Vec<Option<Result<DeleteOutcome, ObjectError>>> =
            (0..count).map(|_| None).collect();
        for (positions, outcomes) in answers {
            for (position, outcome) in positions.into_iter().zip(outcomes) {
                ordered[position] = Some(outcome);
            }
        }
        ordered
            .into_iter()
            .map(|o| o.expect("every target belongs to exactly one set group"))
            .collect()
    }

    /// Bytes of a version of an object in any set; fails if its ETag is no longer `etag`.
    pub async fn read_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: (u64, u64),
        etag: &str,
    ) -> Result<Vec<u8>, ObjectError> {
        let (offset, len) = range;
        let req = SetRequest::ReadObject {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version_id.map(str::to_string),
            offset,
            len,
            etag: etag.into(),
        };
        match self.call(self.set_of(key), req).await? {
            SetResponse::Bytes(b) => Ok(b),
            other => Err(unexpected(&other)),
        }
    }

    /// One page of a bucket listing across every set: keys with `prefix` after `start_after`
    /// (their latest versions, delete markers left out), rolled up at `delimiter` into common
    /// prefixes, at most `max_keys` entries in all.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: &str,
        max_keys: usize,
    ) -> Result<Listing, ObjectError> {
        let page = ListPage {
            prefix,
            delimiter,
            start_after,
            version_marker: None,
            max_keys,
            all_versions: false,
        };
        self.list(bucket, page).await
    }

    /// One page of ListObjectVersions: every version and delete marker of the keys with
    /// `prefix`, newest first per key, starting after (`key_marker`, `version_marker`): the
    /// versions of `key_marker` older than `version_marker`, then the keys after it.
    pub async fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        key_marker: &str,
        version_marker: Option<&str>,
        max_keys: usize,
    ) -> Result<Listing, ObjectError> {
        let page = ListPage {
            prefix,
            delimiter,
            start_after: key_marker,
            version_marker,
            max_keys,
            all_versions: true,
        };
        self.list(bucket, page).await
    }

    /// The walk that ListObjects v1, v2 and ListObjectVersions share.
    async fn list(&self, bucket: &str, page: ListPage<'_>) -> Result<Listing, ObjectError> {
        let mut out = Listing::default();
        if page.max_keys == 0 {
            // S3 answers an empty, non-truncated page; the bucket must still exist.
            self.stat_bucket(bucket).await?;
            return Ok(out);
        }
        let delimiter = page.delimiter.filter(|d| !d.is_empty());
        // Drives roll up '/' themselves, skipping each common prefix's subtree in one step;
        // other delimiters are grouped here.
        let native = delimiter == Some("/");
        let mut after = page.start_after.to_string();
        if let (Some(marker), true) = (page.version_marker, page.all_versions) {
            // The rest of the marker key's versions come first.
            if !page.start_after.is_empty() && page.start_after.starts_with(page.prefix) {
                let versions = self.versions_of(bucket, page.start_after).await?;
                let rest = versions
                    .iter()
                    .position(|v| v.version_id == marker)
                    .map_or(&[][..], |at| &versions[at + 1..]);
                for v in rest {
                    if out.len() == page.max_keys {
                        out.truncated = true;
                        return Ok(out);
                    }
                    out.push_version(v.clone(), false);
                }
            }
        }
        loop {
            let request = WalkRequest {
                prefix: page.prefix.to_string(),
                after: after.clone(),
                delimiter: native.then(|| "/".to_string()),
                limit: (page.max_keys - out.len() + 1).min(WALK_PAGE),
                all_versions: page.all_versions,
            };
            let pages = futures::future::join_all((0..self.set_count).map(|s| {
                self.call(
                    SetIndex(s),
                    SetRequest::Walk {
                        bucket: bucket.into(),
                        request: request.clone(),
                    },
                )
            }))
            .await;
            let mut per_set = Vec::with_capacity(pages.len());
            for p in pages {
                match p? {
                    SetResponse::Page(entries, exhausted) => per_set.push((entries, exhausted)),
                    other => return Err(unexpected(&other)),
                }
            }
            let (merged, exhausted) = merge_sorted(per_set);
            let mut jumped = false;
            for entry in merged {
                let (key, versions) = match entry {
                    ListedEntry::Prefix(cp) => {
                        after = format!("{cp}{}", char::MAX);
                        if cp.as_str() > page.start_after {
                            if out.len() == page.max_keys {
                                out.truncated = true;
                                return Ok(out);
                            }
                            out.push_prefix(cp);
                        }
                        continue;
                    }
                    ListedEntry::Object { key, versions } => (key, versions),
                };
                if let Some(d) = delimiter.filter(|_| !native) {
                    if let Some(i) = key[page.prefix.len()..].find(d) {
                        let cp = key[..page.prefix.len() + i + d.len()].to_string();
                        // Skip everything under this prefix: restart after its last possible key.
                        after = format!("{cp}{}", char::MAX);
                        // Everything listed sorts after the marker, common prefixes too: a
                        // marker that is (or lies inside) a common prefix continues past it.
                        if cp.as_str() > page.start_after {
                            if out.len() == page.max_keys {
                                out.truncated = true;
                                return Ok(out);
                            }
                            out.push_prefix(cp);
                        }
                        jumped = true;
                        break;
                    }
                }
                after = key.clone();
                if page.all_versions {
                    for (i, v) in versions.into_iter().enumerate() {
                        if out.len() == page.max_keys {
                            out.truncated = true;
                            return Ok(out);
                        }
                        out.push_version(v, i == 0);
                    }
                } else if let Some(latest) = versions.into_iter().next() {
                    if latest.delete_marker {
                        continue;
                    }
                    if out.len() == page.max_keys {
                        out.truncated = true;
                        return Ok(out);
                    }
                    out.push_version(latest, true);
                }
            }
            if !jumped && exhausted {
                return Ok(out);
            }
        }
    }

    /// Every agreed version of one key, newest first (empty when it has none).
    async fn versions_of(&self, bucket: &str, key: &str) -> Result<Vec<ObjectInfo>, ObjectError> {
        let request = WalkRequest {
            prefix: key.to_string(),
            after: String::new(),
            delimiter: None,
            limit: 1,
            all_versions: true,
        };
        let req = SetRequest::Walk {
            bucket: bucket.into(),
            request,
        };
        match self.call(self.set_of(key), req).await? {
            SetResponse::Page(entries, _) => Ok(entries
                .into_iter()
                .find_map(|e| match e {
                    ListedEntry::Object { key: k, versions } if k == key => Some(versions),
                    _ => None,
                })
                .unwrap_or_default()),
            other => Err(unexpected(&other)),
        }
    }

    /// Health of every set (an unanswered set is an error).
    pub async fn health(&self) -> Result<Vec<SetHealth>, ObjectError> {
        self.call_all(SetRequest::Health)
            .await
            .into_iter()
            .map(|r| match r? {
                SetResponse::Health(h) => Ok(h),
                other => Err(unexpected(&other)),
            })
            .collect()
    }

    /// Uploads in progress across every set, sorted by key then initiation.
    pub async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<UploadListing>, ObjectError> {
        let mut all = Vec::new();
        for r in self
            .call_all(SetRequest::ListUploads {
                bucket: bucket.into(),
                prefix: prefix.into(),
            })
            .await
        {
            match r? {
                SetResponse::Uploads(u) => all.extend(u),
                other => return Err(unexpected(&other)),
            }
        }
        all.sort_by(|a, b| {
            a.key
                .as_bytes()
                .cmp(b.key.as_bytes())
                .then(a.initiated_ns.cmp(&b.initiated_ns))
        });
        Ok(all)
    }
}

fn unexpected(r: &SetResponse) -> ObjectError {
    ObjectError::Internal(format!("unexpected cross-core answer {r:?}"))
}

/// Serve a [`SetRequest`] on the set that owns it (this core).
pub async fn handle_set_request(
    set: &ErasureSet,
    request: SetRequest,
) -> Result<SetResponse, ObjectError> {
    Ok(match request {
        SetRequest::MakeBucket { bucket } => SetResponse::Created(set.make_bucket(&bucket).await?),
        SetRequest::DeleteBucket { bucket, force } => {
            set.delete_bucket(&bucket, force).await?;
            SetResponse::Done
        }
        SetRequest::BucketIsEmpty { bucket } => {
            SetResponse::Empty(set.bucket_is_empty(&bucket).await?)
        }
        SetRequest::StatBucket { bucket } => SetResponse::Bucket(set.stat_bucket(&bucket).await?),
        SetRequest::ListBuckets => SetResponse::Buckets(set.list_buckets().await?),
        SetRequest::Walk { bucket, request } => {
            let (entries, exhausted) = set.walk_page(&bucket, &request).await?;
            SetResponse::Page(entries, exhausted)
        }
        SetRequest::ListUploads { bucket, prefix } => {
            SetResponse::Uploads(set.list_uploads(&bucket, &prefix).await?)
        }
        SetRequest::HeadObject {
            bucket,
            key,
            version_id,
        } => SetResponse::Info(
            set.head_object(&bucket, &key, version_id.as_deref())
                .await?,
        ),
        SetRequest::ReadObject {
            bucket,
            key,
            version_id,
            offset,
            len,
            etag,
        } => {
            let mut reader = set
                .open_object(&bucket, &key, version_id.as_deref())
                .await?;
            if reader.info.etag != etag {
                return Err(ObjectError::NoSuchKey { bucket, key });
            }
            if offset >= reader.info.size {
                SetResponse::Bytes(Vec::new())
            } else {
                SetResponse::Bytes(reader.read_chunk(offset, len).await?)
            }
        }
        SetRequest::DeleteObjects {
            bucket,
            targets,
            versioning,
        } => SetResponse::Deleted(delete_on_set(set, &bucket, targets, versioning).await),
        SetRequest::Health => SetResponse::Health(set.health().await),
        SetRequest::ReadBucketConfig { .. }
        | SetRequest::ChangeBucketConfig { .. }
        | SetRequest::DropBucketConfig { .. }
        | SetRequest::CacheBucketConfig { .. } => {
            return Err(ObjectError::Internal(
                "a bucket configuration request reached a set; cores serve them".into(),
            ))
        }
    })
}

/// Delete `targets` on `set`, at most [`SET_DELETES_CONCURRENT_MAX`] at once; outcomes in the
/// targets' order. Only the null version exists yet: the caller answers other version ids
/// itself (S3 reports a version that does not exist as deleted), so every target here deletes
/// the object.
async fn delete_on_set(
    set: &ErasureSet,
    bucket: &str,
    targets: Vec<DeleteTarget>,
    versioning: Versioning,
) -> Vec<Result<DeleteOutcome, ObjectError>> {
    futures::stream::iter(targets)
        .map(|target| async move {
            set.delete_object(
                bucket,
                &target.key,
                target.version_id.as_deref(),
                versioning,
            )
            .await
        })
        .buffered(SET_DELETES_CONCURRENT_MAX)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    //! DeleteObjects across sets on one core, through drives that can fail one key's deletes.

    use std::path::PathBuf;
    use std::time::Duration;

    use async_trait::async_trait;
    use minnow_io::testing::{FaultDrive, Op};
    use minnow_io::{Drive, DriveError, LocalDrive};
    use minnow_net::http::{BodyRead, HttpError};

    use super::*;
    use crate::cross_core::build_mesh;
    use crate::object::PutOptions;

    struct EmptyBody;

    #[async_trait(?Send)]
    impl BodyRead for EmptyBody {
        async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, HttpError> {
            Ok(0)
        }
    }

    /// Two sets of two drives on one core (a delete needs both drives of its set).
    struct TwoSets {
        root: PathBuf,
        cluster: Cluster,
        drives: Vec<FaultDrive>,
    }

    impl Drop for TwoSets {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    impl TwoSets {
        async fn new() -> TwoSets {
            let root =
                std::env::temp_dir().join(format!("minnow-cluster-{}", rand::random::<u64>()));
            let mut drives = Vec::new();
            let mut sets = HashMap::new();
            for s in 0..2 {
                let mut set_drives: Vec<Option<Rc<dyn Drive>>> = Vec::new();
                for d in 0..2 {
                    let dir = root.join(format!("s{s}d{d}"));
                    std::fs::create_dir_all(&dir).unwrap();
                    let drive = FaultDrive::new(Rc::new(LocalDrive::open(dir).await.unwrap()));
                    // Deletes overlap measurably.
                    drive.delay(Op::DeleteVersion, Duration::from_millis(1));
                    set_drives.push(Some(Rc::new(drive.clone()) as Rc<dyn Drive>));
                    drives.push(drive);
                }
                let storage = crate::config::storage_classes(2, None, None).unwrap();
                let set = ErasureSet::new(SetIndex(s), set_drives, storage);
                set.make_bucket("b").await.unwrap();
                sets.insert(SetIndex(s), Rc::new(set));
            }
            let ends = build_mesh(1).into_iter().next().unwrap();
            let (mesh, _) = Mesh::connect(ends).await;
            let cluster = Cluster {
                core: CoreId(0),
                cores: 1,
                deployment_id: [7; 16],
                set_count: 2,
                sets,
                mesh,
                bucket_configs: BucketConfigCache::new(crate::lock::LOCK_WAIT_DEFAULT),
            };
            TwoSets {
                root,
                cluster,
                drives,
            }
        }

        async fn put_empty(&self, key: &str) {
            let set = self.cluster.local_set_for(key).unwrap();
            let staged = set
                .stage_object("b", key, &mut EmptyBody, Some(0), PutOptions::default())
                .await
                .unwrap();
            set.commit_object(
                "b",
                key,
                staged,
                "d41d8cd98f00b204e9800998ecf8427e".into(),
                vec![],
            )
            .await
            .unwrap();
        }

        async fn exists(&self, key: &str) -> bool {
            match self.cluster.head_object("b", key, None).await {
                Ok(_) => true,
                Err(ObjectError::NoSuchKey { .. }) => false,
                Err(e) => panic!("{key}: {e}"),
            }
        }
    }

    fn run<Fut: std::future::Future<Output = ()> + 'static>(
        test: impl FnOnce() -> Fut + Send + 'static,
    ) {
        glommio::LocalExecutorBuilder::default()
            .spawn(test)
            .unwrap()
            .join()
            .unwrap();
    }

    fn target(key: &str) -> DeleteTarget {
        DeleteTarget {
            key: key.to_string(),
            version_id: None,
        }
    }

    #[test]
    fn deletes_across_sets_in_request_order_with_a_failing_key() {
        run(|| async {
            let t = TwoSets::new().await;
            let keys: Vec<String> = (0..100).map(|i| format!("k{i:03}")).collect();
            let in_set = |s: usize| keys.iter().filter(|k| t.cluster.set_of(k).0 == s).count();
            assert!(
                in_set(0) >= 33 && in_set(1) >= 33,
                "keys spread over both sets"
            );
            for k in &keys {
                t.put_empty(k).await;
            }
            // One key of set 0 cannot be deleted on one of its drives: that set misses its
            // delete quorum for that key only.
            let poisoned = keys
                .iter()
                .find(|k| t.cluster.set_of(k).0 == 0)
                .unwrap()
                .clone();
            t.drives[1].fail_at(Op::DeleteVersion, &poisoned, DriveError::Offline);
            let mut targets: Vec<DeleteTarget> = keys.iter().map(|k| target(k)).collect();
            targets.push(DeleteTarget {
                key: "never-written".into(),
                version_id: Some(String::new()),
            });

            let outcomes = t
                .cluster
                .delete_objects("b", targets, Versioning::Unversioned)
                .await;

            assert_eq!(outcomes.len(), keys.len() + 1);
            for (key, outcome) in keys.iter().zip(&outcomes) {
                if *key == poisoned {
                    assert!(
                        matches!(outcome, Err(ObjectError::WriteQuorum { .. })),
                        "{outcome:?}"
                    );
                    assert!(t.exists(key).await, "the failed key is still there");
                } else {
                    let expected = DeleteOutcome {
                        delete_marker: false,
                        version_id: None,
                    };
                    assert_eq!(outcome.as_ref().unwrap(), &expected, "{key}");
                    assert!(!t.exists(key).await, "{key} is gone");
                }
            }
            // A missing key is deleted already; the version asked for is echoed.
            assert_eq!(
                outcomes
                    .last()
                    .unwrap()
                    .as_ref()
                    .unwrap()
                    .version_id
                    .as_deref(),
                Some("")
            );
            // The deletes of each set overlapped, up to the bound and never beyond it.
            for d in &t.drives {
                let most = d.most_in_flight(Op::DeleteVersion);
                assert!(most > 1, "deletes ran one after another");
                assert!(most <= SET_DELETES_CONCURRENT_MAX);
            }
        });
    }

    #[test]
    fn concurrent_deletes_of_one_set_are_bounded() {
        run(|| async {
            let t = TwoSets::new().await;
            // Keys that never existed: every delete asks each drive once and stops.
            let keys: Vec<String> = (0..400)
                .map(|i| format!("m{i}"))
                .filter(|k| t.cluster.set_of(k).0 == 0)
                .collect();
            assert!(keys.len() > 2 * SET_DELETES_CONCURRENT_MAX);
            let outcomes = t
                .cluster
                .delete_objects(
                    "b",
                    keys.iter().map(|k| target(k)).collect(),
                    Versioning::Unversioned,
                )
                .await;
            assert!(outcomes.iter().all(Result::is_ok));
            let most = |d: &FaultDrive| d.most_in_flight(Op::DeleteVersion);
            assert_eq!(most(&t.drives[0]), SET_DELETES_CONCURRENT_MAX);
            assert_eq!(most(&t.drives[2]), 0, "set 1 was not asked");
        });
    }

    #[test]
    fn a_missing_bucket_fails_every_key() {
        run(|| async {
            let t = TwoSets::new().await;
            let outcomes = t
                .cluster
                .delete_objects(
                    "nope",
                    vec![target("a"), target("b"), target("c")],
                    Versioning::Unversioned,
                )
                .await;
            assert_eq!(outcomes.len(), 3);
            assert!(outcomes
                .iter()
                .all(|o| matches!(o, Err(ObjectError::NoSuchBucket(_)))));
        });
    }
}
