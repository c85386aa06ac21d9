//! The S3 API: one connection loop, one dispatch, one handler file per operation family.
//!
//! Per request: peek at the head, route it (`minnow_net::s3::router`), and if it names an object
//! whose set another core owns, hand the connection to that core and stop. Otherwise read the
//! head, authenticate once, and `match` the endpoint to its handler. Handlers return
//! `Result<Reply, S3Error>`; they never write error responses themselves: the loop renders every
//! error (and logs server-side ones once, in `error.rs`). After the exchange the connection is
//! kept only if its request body was fully read.
//!
//! Every exchange runs under the connection's stall guard (`minnow_net::http::unless_stalled`):
//! a request that moves no byte for `stall_timeout` (stuck on a lock, a drive, another core) is
//! cut, logged once at warn with its method, bucket, key and elapsed time, answered with a 503
//! if its response had not started, and its connection closed. No request waits silently.

mod bucket;
mod copy;
mod error;
mod get;
mod headers;
mod health;
mod list;
mod multipart;
mod put;
mod tagging;
mod unsupported;

use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use glommio::net::TcpStream;
use glommio::sync::{Semaphore, StaticPermit};
use minnow_net::http::{
    unless_stalled, ConnTimeouts, HttpConn, HttpError, RequestHead, ResponseHead, Stalled,
};
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::{self, Endpoint, NULL_VERSION_ID};
use minnow_net::s3::sigv4::{self, AuthOk, Credentials};

use crate::cluster::Cluster;
use crate::config::ServerConfig;
use crate::cross_core::{CoreMessage, Handoff};
use crate::object::Versioning;

/// Largest XML request body read into memory (CompleteMultipartUpload with 10 000 parts fits).
const XML_BODY_MAX: usize = 2 << 20;
/// Largest read into memory at once while reading such a body.
const XML_READ_BYTES: usize = 64 << 10;
/// Bytes of an unread request body drained to keep a connection alive; beyond, it is closed.
const DRAIN_MAX: u64 = 256 << 10;

/// What one core needs to serve requests.
pub struct ServerCtx {
    /// The pool as seen from this core.
    pub cluster: Cluster,
    /// Parsed configuration.
    pub config: Arc<ServerConfig>,
    credentials: Credentials,
    request_counter: std::cell::Cell<u64>,
    /// Timeouts and minimum body rate of every connection this core serves.
    conn_timeouts: ConnTimeouts,
    /// This core's share of the memory for request bodies read whole, in bytes
    /// (`Limits::body_memory_bytes`).
    body_memory: Rc<Semaphore>,
}

impl ServerCtx {
    /// Context for one core.
    pub fn new(cluster: Cluster, config: Arc<ServerConfig>) -> Self {
        let credentials = Credentials {
            access_key: config.access_key.clone(),
            secret_key: config.secret_key.clone(),
        };
        let limits = config.limits;
        let conn_timeouts = ConnTimeouts {
            body_min_rate: limits.body_min_rate,
            body_rate_grace: limits.body_rate_grace,
            ..ConnTimeouts::default()
        };
        // Every core can take at least one body of the largest size.
        let body_memory = (limits.body_memory_bytes / cluster.cores.max(1) as u64)
            .max((XML_BODY_MAX + XML_READ_BYTES) as u64);
        ServerCtx {
            cluster,
            config,
            credentials,
            request_counter: std::cell::Cell::new(0),
            conn_timeouts,
            body_memory: Rc::new(Semaphore::new(body_memory)),
        }
    }

    fn next_request_id(&self) -> String {
        let n = self.request_counter.get() + 1;
        self.request_counter.set(n);
        format!(
            "{:X}{:02X}{:010X}",
            crate::object::now_ns() as u64 >> 20,
            self.cluster.core.0,
            n
        )
    }
}

/// A handler's answer.
pub enum Reply {
    /// A complete response to write.
    Full(Response),
    /// The handler wrote the response itself (streamed bodies).
    Streamed,
}

/// A small response held in memory.
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// Status only.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// 200 with an XML document.
    pub fn xml(body: String) -> Self {
        Response::new(200)
            .header("content-type", "application/xml")
            .body(body.into_bytes())
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

/// Serve a freshly accepted connection.
pub async fn serve_stream(ctx: Rc<ServerCtx>, stream: TcpStream) {
    serve(ctx, HttpConn::new(stream, Vec::new())).await;
}

/// Serve a connection another core handed over.
pub async fn serve_handoff(ctx: Rc<ServerCtx>, handoff: Handoff) {
    match HttpConn::from_handoff(handoff.fd, handoff.buffered) {
        Ok(conn) => serve(ctx, conn).await,
        Err(e) => tracing::warn!(error = %e, "cannot take over a handed-off connection"),
    }
}

async fn serve(ctx: Rc<ServerCtx>, mut conn: HttpConn) {
    conn.set_timeouts(ctx.conn_timeouts);
    loop {
        let peeked = match conn.peek_head().await {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(e) => return answer_bad_head(&ctx, &mut conn, e).await,
        };
        let domain = ctx.config.domain.as_deref();
        let routed = router::route(&peeked, domain);
        if let Ok(endpoint) = &routed {
            if let Some(key) = endpoint.key() {
                let owner = ctx.cluster.owner_of(ctx.cluster.set_of(key));
                if owner != ctx.cluster.core {
                    hand_off(&ctx, conn, owner, &peeked).await;
                    return;
                }
            }
        }
        let head = match conn.read_head().await {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(e) => return answer_bad_head(&ctx, &mut conn, e).await,
        };
        let request_id = ctx.next_request_id();
        let (bucket, key) = match &routed {
            Ok(endpoint) => (
                endpoint.bucket().map(str::to_string),
                endpoint.key().map(str::to_string),
            ),
            Err(_) => (None, None),
        };
        let progress = conn.progress();
        let exchange = answer(&ctx, &mut conn, &head, routed, &request_id);
        let written = match unless_stalled(&progress, ctx.config.limits.stall_timeout, exchange)
            .await
        {
            Ok(written) => written,
            Err(stalled) => {
                let request = StalledRequest {
                    head: &head,
                    bucket: bucket.as_deref(),
                    key: key.as_deref(),
                    request_id: &request_id,
                };
                answer_stalled(ctx.config.limits.stall_timeout, &mut conn, request, stalled).await;
                return conn.close_lingering().await;
            }
        };
        if written.is_err() || !conn.reusable() {
            return conn.close_lingering().await;
        }
        // Keep the connection only if the rest of an unread body is small.
        match conn
            .body(
                head.body_framing()
                    .unwrap_or(minnow_net::http::BodyFraming::None),
            )
            .drain(DRAIN_MAX)
            .await
        {
            Ok(true) => {}
            _ => return conn.close_lingering().await,
        }
    }
}

/// Run one request and write its response.
async fn answer(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    routed: Result<Endpoint, S3Error>,
    request_id: &str,
) -> Result<(), HttpError> {
    let result = match routed {
        Ok(endpoint) => dispatch(ctx, conn, head, endpoint).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(Reply::Full(resp)) => {
            // A success to an `Expect: 100-continue` request whose body was empty (so never
            // read) still gets its 100 first: botocore reuses the status line of an early
            // final response for the next request on the connection otherwise.
            if head.expects_continue() && resp.status < 300 {
                let _ = conn.send_continue().await;
            }
            write_response(conn, request_id, resp, is_head(head)).await
        }
        Ok(Reply::Streamed) => Ok(()),
        Err(err) => {
            let resource = head.path.clone();
            let err = err.with_resource(resource);
            write_error(conn, request_id, err, is_head(head)).await
        }
    }
}

/// What the log line of a cut request names.
struct StalledRequest<'a> {
    head: &'a RequestHead,
    bucket: Option<&'a str>,
    key: Option<&'a str>,
    request_id: &'a str,
}

/// A request cut by the stall guard: one warning, a 503 if nothing of the response went out
/// yet, and the connection closes (its state is whatever the cut left).
async fn answer_stalled(
    limit: std::time::Duration,
    conn: &mut HttpConn,
    request: StalledRequest<'_>,
    stalled: Stalled,
) {
    tracing::warn!(
        method = %request.head.method,
        bucket = request.bucket.unwrap_or(""),
        key = request.key.unwrap_or(""),
        elapsed_ms = u64::try_from(stalled.elapsed.as_millis()).unwrap_or(u64::MAX),
        request_id = request.request_id,
        "request made no progress for {limit:?}; cut"
    );
    if !conn.response_started() {
        let err = S3Error::with_message(
            S3ErrorCode::ServiceUnavailable,
            format!("the request made no progress for {limit:?}"),
        )
        .with_resource(request.head.path.clone());
        let _ = write_error_closing(conn, request.request_id, err).await;
    }
}

async fn hand_off(
    ctx: &ServerCtx,
    conn: HttpConn,
    owner: crate::cross_core::CoreId,
    peeked: &RequestHead,
) {
    match conn.into_handoff() {
        Ok((fd, buffered)) => {
            let send = ctx
                .cluster
                .mesh
                .send(owner, CoreMessage::Handoff(Handoff { fd, buffered }));
            // The owner core drains its channel continuously; a full one for this long means
            // that core is stuck, and the client should hear so rather than wait.
            match glommio::timer::timeout(ctx.config.limits.stall_timeout, async { Ok(send.await) })
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "hand-off failed; connection dropped"),
                Err(_) => tracing::warn!(
                    method = %peeked.method,
                    path = %peeked.path,
                    core = owner.0,
                    "hand-off: the owner core took no connection for {:?}; dropped",
                    ctx.config.limits.stall_timeout
                ),
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot hand off connection"),
    }
}

/// A head that cannot be parsed gets a 400 (or 431) and the connection closes.
async fn answer_bad_head(ctx: &ServerCtx, conn: &mut HttpConn, e: HttpError) {
    let code = match e {
        HttpError::HeadTooLarge => S3ErrorCode::InvalidRequest,
        HttpError::Malformed(_) => S3ErrorCode::InvalidRequest,
        _ => return,
    };
    tracing::debug!(error = %e, "bad request head");
    let err = S3Error::with_message(code, e.to_string());
    let request_id = ctx.next_request_id();
    let _ = write_error_closing(conn, &request_id, err).await;
}

fn is_head(head: &RequestHead) -> bool {
    head.method.as_str() == "HEAD"
}

/// Write a whole response. A HEAD answer carries the Content-Length of the body it would have
/// had, and no body: writing one would be a protocol error that closes the connection.
async fn write_response(
    conn: &mut HttpConn,
    request_id: &str,
    resp: Response,
    head_request: bool,
) -> Result<(), HttpError> {
    let mut head = ResponseHead::new(resp.status)
        .with_header("x-amz-request-id", request_id)
        .with_content_length(Some(resp.body.len() as u64));
    for (k, v) in resp.headers {
        head = head.with_header(k, v);
    }
    if !conn.reusable() {
        head = head.with_header("connection", "close");
    }
    conn.write_head(&head).await?;
    if !resp.body.is_empty() && !head_request {
        conn.write_all(&resp.body).await?;
    }
    conn.end_response().await
}

async fn write_error(
    conn: &mut HttpConn,
    request_id: &str,
    err: S3Error,
    head_request: bool,
) -> Result<(), HttpError> {
    let mut resp = Response::new(err.status()).header("content-type", "application/xml");
    for (name, value) in &err.headers {
        resp = resp.header(name, value.clone());
    }
    if err.code == S3ErrorCode::InvalidRange {
        if let Some(size) = err.message.as_deref().and_then(|m| m.strip_prefix("size=")) {
            resp = resp.header("content-range", format!("bytes */{size}"));
        }
    }
    if err.has_body() {
        resp = resp.body(err.to_xml(request_id, request_id).into_bytes());
    }
    write_response(conn, request_id, resp, head_request).await
}

async fn write_error_closing(
    conn: &mut HttpConn,
    request_id: &str,
    err: S3Error,
) -> Result<(), HttpError> {
    let body = err.to_xml(request_id, request_id).into_bytes();
    let mut head = ResponseHead::new(err.status());
    for (name, value) in &err.headers {
        head = head.with_header(*name, value.clone());
    }
    let head = head
        .with_header("x-amz-request-id", request_id)
        .with_header("content-type", "application/xml")
        .with_header("connection", "close")
        .with_content_length(Some(body.len() as u64));
    conn.write_head(&head).await?;
    conn.write_all(&body).await?;
    conn.end_response().await
}

/// Authenticate once per request. SigV2 signs the bucket name explicitly, so a virtual-hosted
/// request (bucket in the Host header) says which bucket it addressed. A client that signs for
/// another region or leaves headers unsigned is misconfigured (or someone added headers to a
/// presigned URL): the operator gets one line saying which.
fn authenticate(
    ctx: &ServerCtx,
    head: &RequestHead,
    endpoint: &Endpoint,
) -> Result<AuthOk, S3Error> {
    let virtual_bucket = ctx.config.domain.as_deref().and_then(|domain| {
        let bucket = endpoint.bucket()?;
        let host = head.header("host")?.split(':').next()?.to_ascii_lowercase();
        (host == format!("{bucket}.{domain}")).then_some(bucket)
    });
    sigv4::authenticate_with_bucket(
        head,
        &ctx.credentials,
        &ctx.config.region,
        SystemTime::now(),
        virtual_bucket,
    )
    .inspect_err(|e| {
        // Unsigned headers come with a valid signature: someone added them to a signed request.
        // A wrong region is checked before the signature, so anyone can provoke it: debug only.
        if e.detail("HeadersNotSigned").is_some() {
            tracing::warn!(method = %head.method, path = %head.path, error = %e, "request refused");
        } else if e.detail("Region").is_some() {
            tracing::debug!(method = %head.method, path = %head.path, error = %e, "request refused");
        }
    })
}

/// A request body read whole, with the request memory it holds until dropped.
pub struct SmallBody {
    bytes: Vec<u8>,
    _memory: Option<StaticPermit>,
}

impl std::ops::Deref for SmallBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Read a small request body (XML) whole, bounded per request (`XML_BODY_MAX`) and in total
/// (`ServerCtx::body_memory`): the memory it may need is reserved before the first byte is read,
/// waiting at most `Limits::body_memory_wait`, then 503 SlowDown. A client that asked for
/// `100 Continue` sends nothing meanwhile.
async fn read_small_body(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
) -> Result<SmallBody, S3Error> {
    let framing = head
        .body_framing()
        .map_err(|e| S3Error::with_message(S3ErrorCode::InvalidRequest, e.to_string()))?;
    // The framed length bounds the decoded payload; a chunked body may be as large as allowed.
    let body_max = match framing {
        minnow_net::http::BodyFraming::None => 0,
        minnow_net::http::BodyFraming::Length(n) => n.min(XML_BODY_MAX as u64) as usize,
        minnow_net::http::BodyFraming::Chunked => XML_BODY_MAX,
    };
    let read_len = body_max.clamp(1, XML_READ_BYTES);
    let memory = match body_max {
        0 => None,
        _ => Some(reserve_body_memory(ctx, (body_max + read_len) as u64).await?),
    };
    let mut payload = put::payload(conn, head, framing, auth)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; read_len];
    loop {
        let n = put::read_payload(&mut payload, &mut buf).await?;
        if n == 0 {
            break;
        }
        if out.len() + n > body_max {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "request body too large",
            ));
        }
        out.extend_from_slice(&buf[..n]);
    }
    payload.finish()?;
    Ok(SmallBody {
        bytes: out,
        _memory: memory,
    })
}

/// `bytes` of this core's request-body memory, or 503 SlowDown once the wait bound has passed.
async fn reserve_body_memory(ctx: &ServerCtx, bytes: u64) -> Result<StaticPermit, S3Error> {
    let wait = ctx.config.limits.body_memory_wait;
    match crate::lock::acquire_within(&ctx.body_memory, bytes, wait).await {
        Some(permit) => Ok(permit),
        None => {
            tracing::warn!(
                core = ctx.cluster.core.0,
                wanted = bytes,
                free = ctx.body_memory.available(),
                ?wait,
                "request body memory not granted in time; answering 503 SlowDown"
            );
            Err(S3Error::new(S3ErrorCode::SlowDown))
        }
    }
}

/// A request's version id (checked well-formed by the router) as the object layer names it:
/// S3's `null` is the null version, `""`.
pub(crate) fn version_arg(version_id: Option<&str>) -> Option<&str> {
    version_id.map(|id| match id {
        NULL_VERSION_ID => minnow_io::xl_meta::NULL_VERSION_ID,
        id => id,
    })
}

/// A version id as S3 shows it: the null version (`""`) is `null`.
pub(crate) fn shown_version_id(version_id: &str) -> &str {
    match version_id {
        "" => NULL_VERSION_ID,
        id => id,
    }
}

/// The `x-amz-version-id` an answer about version `version_id` (`""`: null) carries: S3 sends
/// it for every version but the null version of a bucket that never had versioning.
pub(crate) fn version_header(version_id: &str, versioning: Versioning) -> Option<String> {
    match (version_id, versioning) {
        ("", Versioning::Unversioned) => None,
        (id, _) => Some(shown_version_id(id).to_string()),
    }
}

async fn dispatch(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    endpoint: Endpoint,
) -> Result<Reply, S3Error> {
    use Endpoint::*;
    // Health checks are anonymous (load balancers probe them).
    match &endpoint {
        HealthLive | HealthReady | HealthCluster => return Ok(health::check(ctx, &endpoint).await),
        _ => {}
    }
    let auth = authenticate(ctx, head, &endpoint)?;
    unsupported::check(head, &endpoint)?;
    match endpoint {
        ListBuckets { .. } => bucket::list_buckets(ctx).await,
        CreateBucket { bucket } => bucket::create_bucket(ctx, conn, head, &auth, &bucket).await,
        HeadBucket { bucket } => bucket::head_bucket(ctx, &bucket).await,
        DeleteBucket { bucket } => bucket::delete_bucket(ctx, &bucket).await,
        GetBucketLocation { bucket } => bucket::location(ctx, &bucket).await,
        GetBucketVersioning { bucket } => bucket::versioning(ctx, &bucket).await,
        GetBucketAcl { bucket } => bucket::acl(ctx, &bucket).await,
        GetObjectAcl {
            bucket,
            key,
            version_id,
        } => bucket::object_acl(ctx, &bucket, &key, version_arg(version_id.as_deref())).await,
        ListObjectsV1 { bucket, params } => list::list_objects(ctx, &bucket, params, false).await,
        ListObjectsV2 { bucket, params } => list::list_objects(ctx, &bucket, params, true).await,
        ListObjectVersions { bucket, params } => list::list_versions(ctx, &bucket, params).await,
        ListMultipartUploads { bucket, params } => list::list_uploads(ctx, &bucket, params).await,
        DeleteObjects { bucket } => bucket::delete_objects(ctx, conn, head, &auth, &bucket).await,
        PutObject { bucket, key } => put::put_object(ctx, conn, head, &auth, &bucket, &key).await,
        CopyObject {
            bucket,
            key,
            source,
        } => copy::copy_object(ctx, head, conn.progress(), &bucket, &key, source).await,
        GetObject {
            bucket,
            key,
            version_id,
            part_number,
        } => {
            let version_id = version_arg(version_id.as_deref());
            let object = get::Target {
                bucket: &bucket,
                key: &key,
                version_id,
                part_number,
            };
            get::get_object(ctx, conn, head, object, false).await
        }
        HeadObject {
            bucket,
            key,
            version_id,
            part_number,
        } => {
            let version_id = version_arg(version_id.as_deref());
            let object = get::Target {
                bucket: &bucket,
                key: &key,
                version_id,
                part_number,
            };
            get::get_object(ctx, conn, head, object, true).await
        }
        DeleteObject {
            bucket,
            key,
            version_id,
        } => put::delete_object(ctx, &bucket, &key, version_arg(version_id.as_deref())).await,
        GetObjectTagging {
            bucket,
            key,
            version_id,
        } => tagging::get(ctx, &bucket, &key, version_arg(version_id.as_deref())).await,
        PutObjectTagging {
            bucket,
            key,
            version_id,
        } => {
            let version_id = version_arg(version_id.as_deref());
            tagging::put(ctx, conn, head, &auth, &bucket, &key, version_id, true).await
        }
        DeleteObjectTagging {
            bucket,
            key,
            version_id,
        } => {
            let version_id = version_arg(version_id.as_deref());
            tagging::put(ctx, conn, head, &auth, &bucket, &key, version_id, false).await
        }
        CreateMultipartUpload { bucket, key } => multipart::create(ctx, head, &bucket, &key).await,
        UploadPart {
            bucket,
            key,
            upload_id,
            part_number,
        } => {
            multipart::upload_part(
                ctx,
                conn,
                head,
                &auth,
                &bucket,
                &key,
                &upload_id,
                part_number,
            )
            .await
        }
        UploadPartCopy {
            bucket,
            key,
            upload_id,
            part_number,
            source,
            range,
        } => {
            copy::upload_part_copy(
                ctx,
                head,
                conn.progress(),
                &bucket,
                &key,
                &upload_id,
                part_number,
                source,
                range,
            )
            .await
        }
        CompleteMultipartUpload {
            bucket,
            key,
            upload_id,
        } => multipart::complete(ctx, conn, head, &auth, &bucket, &key, &upload_id).await,
        AbortMultipartUpload {
            bucket,
            key,
            upload_id,
        } => multipart::abort(ctx, &bucket, &key, &upload_id).await,
        ListParts {
            bucket,
            key,
            upload_id,
            max_parts,
            part_number_marker,
        } => {
            multipart::list_parts(
                ctx,
                &bucket,
                &key,
                &upload_id,
                max_parts,
                part_number_marker,
            )
            .await
        }
        PutBucketVersioning { bucket } => {
            bucket::put_versioning(ctx, conn, head, &auth, &bucket).await
        }
        GetBucketTagging { bucket } => bucket::tagging(ctx, &bucket).await,
        PutBucketTagging { bucket } => bucket::put_tagging(ctx, conn, head, &auth, &bucket).await,
        DeleteBucketTagging { bucket } => bucket::delete_tagging(ctx, &bucket).await,
        Unsupported { bucket, op, .. } => {
            if !bucket.is_empty() {
                ctx.cluster.stat_bucket(&bucket).await?;
            }
            // "Not configured" answers (404) keep S3's own message.
            Err(match op.answer {
                S3ErrorCode::NotImplemented => S3Error::with_message(
                    op.answer,
                    format!("{} is not implemented by minnow", op.operation),
                ),
                answer => S3Error::new(answer),
            })
        }
        HealthLive | HealthReady | HealthCluster => Ok(health::check(ctx, &endpoint).await),
    }
}

/// The set owning `key`; the connection was handed to this core for it, so it is local.
fn local_set<'a>(
    ctx: &'a ServerCtx,
    key: &str,
) -> Result<&'a std::rc::Rc<crate::erasure::ErasureSet>, S3Error> {
    ctx.cluster.local_set_for(key).ok_or_else(|| {
        tracing::error!(
            key,
            core = ctx.cluster.core.0,
            "request reached a core that does not own its set"
        );
        S3Error::new(S3ErrorCode::InternalError)
    })
}
