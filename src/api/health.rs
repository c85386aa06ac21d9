//! `/minio/health/*`, MinIO's semantics (what HAProxy and Kubernetes probes expect):
//!
//! * `live`: the process is up and serving HTTP: always 200.
//! * `ready`: this node can serve reads: every set has read quorum of drives online; else 503.
//! * `cluster`: writes can be accepted: every set has write quorum; else 503.
//!
//! Anonymous, and answered on the core the request lands on: sets owned by other cores are
//! asked over the mesh (`Cluster::health`), and a set that does not answer counts as down.

use minnow_net::s3::router::Endpoint;

use super::{Reply, Response, ServerCtx};
use crate::erasure::SetHealth;

/// Answer a health endpoint (`endpoint` is one of the three).
pub(super) async fn check(ctx: &ServerCtx, endpoint: &Endpoint) -> Reply {
    let healthy = match endpoint {
        Endpoint::HealthReady => all_sets(ctx, SetHealth::can_read).await,
        Endpoint::HealthCluster => all_sets(ctx, SetHealth::can_write).await,
        _ => true,
    };
    Reply::Full(Response::new(if healthy { 200 } else { 503 }))
}

async fn all_sets(ctx: &ServerCtx, ok: fn(&SetHealth) -> bool) -> bool {
    match ctx.cluster.health().await {
        Ok(sets) => sets.iter().all(ok),
        Err(e) => {
            tracing::warn!(error = %e, "health check could not reach every set");
            false
        }
    }
}
