//! `minnow server`: start-up and the per-core runtime.
//!
//! Start-up (main thread): verify or format the drives, print the banner, build the core mesh and
//! one listening socket per core (SO_REUSEPORT on one port, so the kernel spreads connections),
//! then start one pinned glommio executor per allowed CPU. Each core opens the drives of the sets
//! it owns (set `s` belongs to core `s % cores`), connects its mesh ends, serves the requests
//! other cores send it, and accepts connections.
//!
//! glommio settings follow GLOMMIO.md: small `io_memory` (the 8 MiB memlock budget; shard I/O
//! uses minnow-io's own DMA buffer pool), ring depth 128, a 5 ms preempt timer so a long encode
//! yields to latency-sensitive tasks, and two blocking threads per core for the syscalls glommio
//! lacks.

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement, PoolPlacement};
use minnow_io::{Drive, LocalDrive};

use crate::api::{self, ServerCtx};
use crate::bucket_config::BucketConfigCache;
use crate::cluster::Cluster;
use crate::config::{CredentialSource, ServerConfig, SweepConfig};
use crate::cross_core::{build_mesh, CoreId, CoreMessage, Mesh, MeshEnds};
use crate::deployment::{self, Deployment};
use crate::erasure::{ErasureSet, SetIndex};

/// Longest a core's reactor sleeps without a timer firing (see `core_main`).
const REACTOR_TICK: Duration = Duration::from_millis(100);

/// CPU shares of the background sweep's task queue (the default queue has 1000).
const SWEEP_SHARES: usize = 50;

/// Per-executor registered I/O memory. Shard buffers come from minnow-io's own pool.
const IO_MEMORY_BYTES: usize = 256 << 10;

/// Start the server and serve until killed.
pub fn run(config: ServerConfig) -> Result<(), String> {
    let cores = config.cpus.len();
    // The port first: a start refused for it has not touched a drive.
    let listeners = bind_listeners(config.address, cores).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (another process, perhaps another minnow, serves this port)"
        } else {
            ""
        };
        format!("cannot listen on {}: {e}{why}", config.address)
    })?;
    let deployment = deployment::format_or_verify(&config.topology).map_err(|e| e.to_string())?;
    let address = listeners.0;
    print_banner(&config, &deployment, address);

    let config = Arc::new(config);
    let deployment = Arc::new(deployment);
    let mut handles = Vec::new();
    for ((core, ends), listener) in build_mesh(cores).into_iter().enumerate().zip(listeners.1) {
        let cpu = config.cpus[core];
        let (config, deployment) = (config.clone(), deployment.clone());
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("core{core}"))
            .io_memory(IO_MEMORY_BYTES)
            .ring_depth(128)
            .preempt_timer(Duration::from_millis(5))
            .blocking_thread_pool_placement(PoolPlacement::Unbound(2))
            .spawn(move || core_main(CoreId(core), cores, ends, listener, config, deployment))
            .map_err(|e| format!("cannot start core {core} on cpu {cpu}: {e}"))?;
        handles.push(handle);
    }
    for h in handles {
        h.join().map_err(|e| format!("core stopped: {e}"))?;
    }
    Ok(())
}

/// One socket per core on the same address; the first one resolves port 0.
///
/// The cores share the port through SO_REUSEPORT, which would also let any other process of
/// this user join and take a share of the connections (a second deployment answering 404 for
/// the first one's objects). So the first socket binds *without* it, which fails with
/// EADDRINUSE if anything listens there already, and sets it only once bound: from then on
/// this process's other sockets join, while another minnow's exclusive bind fails.
///
/// A process killed a moment ago still listens for a few milliseconds after it is reaped
/// (its io_uring rings, which hold the socket, are torn down asynchronously): the exclusive
/// bind is retried for [`PORT_RELEASE_WAIT`] before the port counts as taken.
fn bind_listeners(
    address: SocketAddr,
    cores: usize,
) -> std::io::Result<(SocketAddr, Vec<OwnedFd>)> {
    let mut resolved = address;
    let mut fds = Vec::with_capacity(cores);
    for _ in 0..cores {
        let domain = if resolved.is_ipv4() {
            socket2::Domain::IPV4
        } else {
            socket2::Domain::IPV6
        };
        let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.set_nodelay(true)?;
        if fds.is_empty() {
            bind_when_free(&socket, resolved)?;
            socket.set_reuse_port(true)?;
        } else {
            socket.set_reuse_port(true)?;
            socket.bind(&resolved.into())?;
        }
        socket.listen(4096)?;
        if let Some(local) = socket.local_addr()?.as_socket() {
            resolved = local;
        }
        fds.push(OwnedFd::from(socket));
    }
    Ok((resolved, fds))
}

/// How long a port in use may take to be released by a process that just died.
const PORT_RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Bind, retrying while the address is in use for at most [`PORT_RELEASE_WAIT`].
fn bind_when_free(socket: &socket2::Socket, address: SocketAddr) -> std::io::Result<()> {
    let deadline = std::time::Instant::now() + PORT_RELEASE_WAIT;
    loop {
        match socket.bind(&address.into()) {
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

fn print_banner(config: &ServerConfig, deployment: &Deployment, address: SocketAddr) {
    let set_count = config.topology.set_count();
    let n = config.topology.set_size;
    let online = deployment.drives.iter().filter(|d| d.is_some()).count();
    let host = if address.ip().is_unspecified() {
        format!("127.0.0.1:{}", address.port())
    } else {
        address.to_string()
    };
    println!("minnow {}", env!("CARGO_PKG_VERSION"));
    println!("API: http://{host}");
    println!("Region: {}", config.region);
    println!("Deployment: {}", deployment.id_text);
    println!(
        "Drives: {} ({online} online), {set_count} set(s) of {n}, cores: {}",
        config.topology.drives.len(),
        config.cpus.len()
    );
    println!(
        "Parity: STANDARD EC:{} (data {}), REDUCED_REDUNDANCY EC:{}",
        config.storage.standard_parity,
        n - config.storage.standard_parity,
        config.storage.rrs_parity
    );
    for (i, d) in config.topology.drives.iter().enumerate() {
        let state = if deployment.drives[i].is_some() {
            "online"
        } else {
            "OFFLINE"
        };
        println!("  set {} slot {}: {} [{state}]", i / n, i % n, d.display());
    }
    match config.credential_source {
        CredentialSource::Environment => {
            println!("Credentials: from MINNOW_ROOT_USER / MINNOW_ROOT_PASSWORD")
        }
        CredentialSource::Default => {
            println!("Credentials: DEFAULT (set MINNOW_ROOT_USER and MINNOW_ROOT_PASSWORD to change them)");
            tracing::warn!("serving with the default root credentials");
        }
    }
    println!("  AccessKey: {}", config.access_key);
    println!("  SecretKey: {}", config.secret_key);
    println!("Try: AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} aws --endpoint-url http://{host} s3 mb s3://demo", config.access_key, config.secret_key);
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

async fn core_main(
    core: CoreId,
    cores: usize,
    ends: MeshEnds,
    listener: OwnedFd,
    config: Arc<ServerConfig>,
    deployment: Arc<Deployment>,
) {
    // Twice the executor was seen parked in io_uring_enter with work pending (once at start-up
    // with 18 drives, once under 4 KiB PUTs with 16), never reproduced since; a completion
    // from another thread (blocking pool, shared channel) that did not wake the reactor fits.
    // A periodic timer bounds how long any such lost wake-up can stall a core.
    glommio::spawn_local(async {
        loop {
            glommio::timer::sleep(REACTOR_TICK).await;
        }
    })
    .detach();
    let set_size = deployment.set_size;
    let set_count = deployment.drives.len() / set_size;
    let mut sets = std::collections::HashMap::new();
    for s in (0..set_count).filter(|s| s % cores == core.0) {
        let mut drives: Vec<Option<Rc<dyn Drive>>> = Vec::with_capacity(set_size);
        for path in &deployment.drives[s * set_size..(s + 1) * set_size] {
            let drive = match path {
                Some(p) => match LocalDrive::open(p.clone()).await {
                    Ok(d) => Some(Rc::new(d) as Rc<dyn Drive>),
                    Err(e) => {
                        tracing::error!(drive = %p.display(), error = %e, "drive offline");
                        None
                    }
                },
                None => None,
            };
            drives.push(drive);
        }
        sets.insert(
            SetIndex(s),
            Rc::new(
                ErasureSet::new(SetIndex(s), drives, config.storage)
                    .with_lock_wait(config.limits.lock_wait),
            ),
        );
    }
    for set in sets.values() {
        spawn_sweeper(set.clone(), config.sweep);
    }
    tracing::debug!(
        core = core.0,
        sets = sets.len(),
        "drives open, connecting to the other cores"
    );
    let (mesh, receivers) = Mesh::connect(ends).await;
    tracing::debug!(core = core.0, "serving");
    let ctx = Rc::new(ServerCtx::new(
        Cluster {
            core,
            cores,
            deployment_id: deployment.id,
            set_count,
            sets,
            mesh: mesh.clone(),
            bucket_configs: BucketConfigCache::new(config.limits.lock_wait),
        },
        config,
    ));
    for (peer, rx) in receivers {
        glommio::spawn_local(peer_loop(ctx.clone(), peer, rx)).detach();
    }
    // SAFETY: `listener` is an OwnedFd of a bound, listening TCP socket made by
    // `bind_listeners`; ownership passes to the glommio listener, which closes it on drop.
    #[allow(unsafe_code)]
    let listener = unsafe { TcpListener::from_raw_fd(listener.into_raw_fd()) };
    loop {
        match listener.accept().await {
            Ok(stream) => {
                glommio::spawn_local(api::serve_stream(ctx.clone(), stream)).detach();
            }
            Err(e) => {
                tracing::warn!(core = core.0, error = %e, "accept failed");
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Reclaim crash leftovers and abandoned uploads of `set` right after start and then every
/// `sweep.interval`, in a low-share task queue so requests come first (`erasure/sweep.rs`).
fn spawn_sweeper(set: Rc<ErasureSet>, sweep: SweepConfig) {
    let queue = glommio::executor().create_task_queue(
        glommio::Shares::Static(SWEEP_SHARES),
        glommio::Latency::NotImportant,
        "sweep",
    );
    let task = glommio::spawn_local_into(
        async move {
            loop {
                let report = set.sweep_leftovers(sweep.stale_uploads_expiry).await;
                tracing::info!(
                    set = set.index().0,
                    data_dirs = report.data_dirs,
                    uploads = report.uploads,
                    "sweep: crash leftovers reclaimed"
                );
                glommio::timer::sleep(sweep.interval).await;
            }
        },
        queue,
    );
    match task {
        Ok(task) => {
            task.detach();
        }
        Err(e) => tracing::error!(error = %e, "cannot start the leftover sweep"),
    }
}

/// Serve what one peer core sends: connections to take over, set operations to run, answers.
async fn peer_loop(
    ctx: Rc<ServerCtx>,
    peer: CoreId,
    rx: glommio::channels::shared_channel::ConnectedReceiver<CoreMessage>,
) {
    while let Some(message) = rx.recv().await {
        match message {
            CoreMessage::Handoff(h) => {
                glommio::spawn_local(api::serve_handoff(ctx.clone(), h)).detach();
            }
            CoreMessage::Request { id, set, request } => {
                let ctx = ctx.clone();
                glommio::spawn_local(async move {
                    let result = ctx.cluster.serve_request(set, request).await;
                    if let Err(e) = ctx
                        .cluster
                        .mesh
                        .send(peer, CoreMessage::Response { id, result })
                        .await
                    {
                        tracing::error!(error = %e, "cannot answer a core");
                    }
                })
                .detach();
            }
            CoreMessage::Response { id, result } => ctx.cluster.mesh.complete(id, result).await,
        }
    }
}
