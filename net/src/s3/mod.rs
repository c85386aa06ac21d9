//! The S3 wire format: routing, authentication, payload verification, checksums, XML, errors.

pub mod error;
pub mod router;
pub mod xml;
pub mod checksum;
pub mod payload;
pub mod sigv2;
pub mod sigv4;
