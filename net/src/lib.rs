//! minnow-net: the wire. HTTP/1.1 on glommio sockets (server and client), and the S3 wire
//! format on top of it: routing a request head to a typed [`s3::router::Endpoint`], SigV4/SigV2
//! authentication, the aws-chunked payload pipeline, flexible checksums, XML bodies and the one
//! table of S3 error codes.
//!
//! This crate knows nothing of erasure coding or drives: it must never depend on `minnow-io` or
//! `minnow-codec` (a test in `tests/architecture.rs` checks). Types shared with the server are
//! defined here, the lower crate.
//!
//! `unsafe` is denied crate-wide; the one exception is `http/handoff.rs` (turning a socket fd
//! into a glommio stream and back for a connection hand-off, which glommio 0.9 offers only as
//! unsafe `FromRawFd`), allowed per function and documented with `// SAFETY:`.
#![warn(missing_docs)]
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod http;
pub mod s3;
