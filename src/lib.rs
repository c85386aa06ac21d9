//! minnow: an S3-compatible, erasure-coded object store, thread-per-core on io_uring.
//!
//! This crate wires the lower crates together (ARCHITECTURE.md section 1): `minnow-codec`
//! (Reed-Solomon, bitrot hashes, placement), `minnow-io` (drives, on-disk formats) and
//! `minnow-net` (HTTP, the S3 wire format). It owns the topology, the erasure sets and the object
//! layer, cross-core routing, the S3 handlers, the CLI and the load generator.
//!
//! Map: `topology` and `deployment` (start-up), `server` (executors), `cross_core` (everything
//! between cores), `cluster` (placement and pool-wide operations), `bucket_config` (each
//! bucket's configuration, durable on set 0 and cached per core), `erasure` (one set's object
//! operations), `api` (S3 handlers), `bench` (the load generator).
#![warn(missing_docs)]

pub mod api;
pub mod bench;
pub mod bucket_config;
pub mod cluster;
pub mod config;
pub mod cross_core;
pub mod deployment;
pub mod erasure;
pub mod lock;
pub mod object;
pub mod server;
pub mod topology;
