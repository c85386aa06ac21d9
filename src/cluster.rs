//! One core's view of the whole pool: which set an object lives in, which core owns that set,
//! and the operations that span every set (buckets, listings), run locally or through
//! [`Mesh::call`] on the owner core.
//!
//! Placement: set = SipHash-2-4(key) keyed with the deployment id, modulo the set count
//! (`SIPMOD+PARITY`, recorded in format.json); owner core = set modulo the core count.

use std::collections::HashMap;
use std::rc::Rc;

use minnow_io::{VolInfo, WalkRequest};

use crate::bucket_config::BucketConfigCache;
use crate::cross_core::{CoreId, Mesh, SetRequest, SetResponse};
use crate::erasure::{
    merge_sorted, DeleteOutcome, ErasureSet, ListedEntry, SetHealth, SetIndex, UploadListing,
};
use crate::object::{ObjectError, ObjectInfo, Versioning};

/// Page size asked of each set while listing.
const WALK_PAGE: usize = 1000;

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

    /// Delete a version, or the object as `versioning` says, wherever it lives (see
    /// [`ErasureSet::delete_object`]).
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        versioning: Versioning,
    ) -> Result<DeleteOutcome, ObjectError> {
        let req = SetRequest::DeleteObject {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version_id.map(str::to_string),
            versioning,
        };
        match self.call(self.set_of(key), req).await? {
            SetResponse::Deleted(outcome) => Ok(outcome),
            other => Err(unexpected(&other)),
        }
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
        } => SetResponse::Info(set.head_object(&bucket, &key, version_id.as_deref()).await?),
        SetRequest::ReadObject {
            bucket,
            key,
            version_id,
            offset,
            len,
            etag,
        } => {
            let mut reader = set.open_object(&bucket, &key, version_id.as_deref()).await?;
            if reader.info.etag != etag {
                return Err(ObjectError::NoSuchKey { bucket, key });
            }
            if offset >= reader.info.size {
                SetResponse::Bytes(Vec::new())
            } else {
                SetResponse::Bytes(reader.read_chunk(offset, len).await?)
            }
        }
        SetRequest::DeleteObject {
            bucket,
            key,
            version_id,
            versioning,
        } => SetResponse::Deleted(
            set.delete_object(&bucket, &key, version_id.as_deref(), versioning)
                .await?,
        ),
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
