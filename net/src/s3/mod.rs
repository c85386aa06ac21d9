//! The S3 wire format: routing, authentication, payload verification, checksums, XML, errors.

pub mod checksum;
pub mod error;
pub mod payload;
pub mod router;
pub mod sigv2;
pub mod sigv4;
pub mod tagging;
pub mod xml;
