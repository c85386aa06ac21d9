//! S3 flexible checksums: the five algorithms a client may ask for (`CRC32`, `CRC32C`,
//! `CRC64NVME`, `SHA1`, `SHA256`), a streaming [`Checksummer`], the base64 form S3 puts on the
//! wire, how a request declares which checksum it sends ([`ChecksumRequest::from_head`]) and
//! the multipart object checksums built from part checksums.
//!
//! Wire facts (AWS "Checking object integrity"):
//! * a value travels in header `x-amz-checksum-<alg lower-case>` (or in an aws-chunked
//!   trailer of that name announced by `x-amz-trailer`), as base64 of the raw digest;
//! * CRC values are the big-endian bytes of the CRC register after the final XOR
//!   (4 bytes for CRC32/CRC32C, 8 for CRC64NVME);
//! * `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm` name the algorithm
//!   (`CRC32`, ...), used when the value comes later (trailer) or not at all;
//! * a multipart upload's COMPOSITE checksum is the checksum of the concatenated raw part
//!   checksums, written `<base64>-<part count>`; its FULL_OBJECT form (CRCs only) is the CRC
//!   of the whole object, combined from part CRCs and part lengths.
//!
//! The CRCs come from `crc-fast` and the digests from RustCrypto: nothing here is home-made.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use crc_fast::CrcAlgorithm;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::http::RequestHead;
use crate::s3::error::{S3Error, S3ErrorCode};

/// The prefix of every checksum header and trailer name.
pub const CHECKSUM_HEADER_PREFIX: &str = "x-amz-checksum-";

/// A flexible-checksum algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, the zlib/Ethernet one).
    Crc32,
    /// CRC-32C (Castagnoli, iSCSI).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order S3 documents them.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The S3 name: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header (and trailer) carrying the value: `x-amz-checksum-crc32`, ...
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Parses an S3 name (`CRC32`, case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Parses a header or trailer name (`x-amz-checksum-crc32`, case-insensitive).
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.header_name().eq_ignore_ascii_case(name.trim()))
    }

    /// Length in bytes of the raw checksum.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// True for the CRCs (the algorithms that support a FULL_OBJECT multipart checksum).
    pub fn is_crc(self) -> bool {
        self.crc_algorithm().is_some()
    }

    fn crc_algorithm(self) -> Option<CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
        }
    }

    /// Big-endian bytes of a CRC register value, `digest_len()` long.
    fn crc_bytes(self, value: u64) -> Vec<u8> {
        let bytes = value.to_be_bytes();
        bytes[bytes.len() - self.digest_len()..].to_vec()
    }
}

impl std::fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

enum State {
    Crc(crc_fast::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

/// A running checksum: feed bytes with [`update`](Checksummer::update), read the raw value
/// with [`finish`](Checksummer::finish).
pub struct Checksummer {
    algorithm: ChecksumAlgorithm,
    state: State,
}

impl Checksummer {
    /// A checksum of nothing yet.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match (algorithm, algorithm.crc_algorithm()) {
            (_, Some(crc)) => State::Crc(crc_fast::Digest::new(crc)),
            (ChecksumAlgorithm::Sha1, None) => State::Sha1(Sha1::new()),
            (_, None) => State::Sha256(Sha256::new()),
        };
        Checksummer { algorithm, state }
    }

    /// The algorithm being computed.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            State::Crc(digest) => digest.update(bytes),
            State::Sha1(digest) => digest.update(bytes),
            State::Sha256(digest) => digest.update(bytes),
        }
    }

    /// The raw checksum (`algorithm().digest_len()` bytes).
    pub fn finish(self) -> Vec<u8> {
        let out = match self.state {
            State::Crc(digest) => self.algorithm.crc_bytes(digest.finalize()),
            State::Sha1(digest) => digest.finalize().to_vec(),
            State::Sha256(digest) => digest.finalize().to_vec(),
        };
        debug_assert_eq!(out.len(), self.algorithm.digest_len());
        out
    }

    /// The checksum in its wire form (base64).
    pub fn finish_base64(self) -> String {
        encode_base64(&self.finish())
    }
}

/// The raw checksum of `bytes`.
pub fn checksum(algorithm: ChecksumAlgorithm, bytes: &[u8]) -> Vec<u8> {
    let mut summer = Checksummer::new(algorithm);
    summer.update(bytes);
    summer.finish()
}

/// Standard base64 with padding, the encoding of every S3 checksum and of Content-MD5.
pub fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes standard padded base64 (surrounding spaces ignored); `None` if invalid.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.trim().as_bytes()).ok()
}

/// Decodes a checksum value and checks its length for `algorithm`; `None` if invalid.
pub fn decode_checksum(algorithm: ChecksumAlgorithm, text: &str) -> Option<Vec<u8>> {
    decode_base64(text).filter(|raw| raw.len() == algorithm.digest_len())
}

/// The COMPOSITE checksum of a multipart object: the checksum of the concatenated raw part
/// checksums (base64 each, in part order), written `<base64>-<part count>`.
/// `None` if a part checksum is not valid for `algorithm`.
pub fn composite_checksum(algorithm: ChecksumAlgorithm, part_checksums: &[&str]) -> Option<String> {
    let mut summer = Checksummer::new(algorithm);
    for part in part_checksums {
        summer.update(&decode_checksum(algorithm, part)?);
    }
    Some(format!(
        "{}-{}",
        summer.finish_base64(),
        part_checksums.len()
    ))
}

/// The FULL_OBJECT checksum of a multipart object whose algorithm is a CRC: the CRC of the
/// whole object, combined from `(part checksum base64, part length in bytes)` in part order.
/// `None` if `algorithm` is not a CRC or a part checksum is invalid.
pub fn full_object_crc(algorithm: ChecksumAlgorithm, parts: &[(&str, u64)]) -> Option<String> {
    let crc = algorithm.crc_algorithm()?;
    let mut combined: Option<u64> = None;
    for (part, len) in parts {
        let raw = decode_checksum(algorithm, part)?;
        let mut be = [0u8; 8];
        be[8 - raw.len()..].copy_from_slice(&raw);
        let value = u64::from_be_bytes(be);
        combined = Some(match combined {
            None => value,
            Some(acc) => crc_fast::checksum_combine(crc, acc, value, *len),
        });
    }
    let value = combined.unwrap_or_else(|| crc_fast::checksum(crc, b""));
    Some(encode_base64(&algorithm.crc_bytes(value)))
}

/// Where the expected checksum value of a request body comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChecksumExpected {
    /// The `x-amz-checksum-<alg>` request header carried it (base64, length checked).
    Header(String),
    /// It arrives in the aws-chunked trailer named by `x-amz-trailer`.
    Trailer,
    /// Only the algorithm was named (`x-amz-sdk-checksum-algorithm`): compute, nothing to check.
    ComputeOnly,
}

/// The flexible checksum a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumRequest {
    /// The algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Where the value to check comes from.
    pub expected: ChecksumExpected,
}

impl ChecksumRequest {
    /// Reads the checksum headers of a request:
    /// `x-amz-checksum-<alg>` (value now), `x-amz-trailer: x-amz-checksum-<alg>` (value later),
    /// `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm` (the algorithm's name).
    /// `Ok(None)` when the request names no checksum. More than one checksum, an unknown
    /// algorithm, a value that is not base64 of the right length or a name that contradicts
    /// the value -> `InvalidRequest`, as S3 answers.
    pub fn from_head(head: &RequestHead) -> Result<Option<Self>, S3Error> {
        let mut from_header: Option<(ChecksumAlgorithm, String)> = None;
        for (name, value) in head.headers.iter() {
            let name = name.as_str();
            if !name.starts_with(CHECKSUM_HEADER_PREFIX) || name == "x-amz-checksum-algorithm" {
                continue;
            }
            // x-amz-checksum-type (FULL_OBJECT/COMPOSITE) and x-amz-checksum-mode (GET)
            // are not values.
            let Some(algorithm) = ChecksumAlgorithm::from_header_name(name) else {
                continue;
            };
            let text = value.to_str().map_err(|_| invalid_value(algorithm))?;
            if decode_checksum(algorithm, text).is_none() {
                return Err(invalid_value(algorithm));
            }
            if from_header.is_some() {
                return Err(multiple_checksums());
            }
            from_header = Some((algorithm, text.trim().to_owned()));
        }

        let mut from_trailer: Option<ChecksumAlgorithm> = None;
        for value in head.headers.get_all("x-amz-trailer") {
            let text = value.to_str().map_err(|_| bad_trailer_header())?;
            for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let algorithm =
                    ChecksumAlgorithm::from_header_name(name).ok_or_else(bad_trailer_header)?;
                if from_trailer.is_some() || from_header.is_some() {
                    return Err(multiple_checksums());
                }
                from_trailer = Some(algorithm);
            }
        }

        let mut named: Option<ChecksumAlgorithm> = None;
        for header in ["x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"] {
            let Some(value) = head.headers.get(header) else {
                continue;
            };
            let algorithm = value
                .to_str()
                .ok()
                .and_then(ChecksumAlgorithm::from_name)
                .ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        format!("Value for {header} header is invalid."),
                    )
                })?;
            if named.is_some_and(|n| n != algorithm) {
                return Err(multiple_checksums());
            }
            named = Some(algorithm);
        }

        let request = match (from_header, from_trailer) {
            (Some((algorithm, value)), None) => Some(ChecksumRequest {
                algorithm,
                expected: ChecksumExpected::Header(value),
            }),
            (None, Some(algorithm)) => Some(ChecksumRequest {
                algorithm,
                expected: ChecksumExpected::Trailer,
            }),
            (None, None) => named.map(|algorithm| ChecksumRequest {
                algorithm,
                expected: ChecksumExpected::ComputeOnly,
            }),
            (Some(_), Some(_)) => return Err(multiple_checksums()),
        };
        if let (Some(request), Some(named)) = (&request, named) {
            if request.algorithm != named {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!(
                        "Value for x-amz-sdk-checksum-algorithm header is invalid: {} \
                         does not match the {} checksum sent",
                        named.name(),
                        request.algorithm.name()
                    ),
                ));
            }
        }
        Ok(request)
    }
}

fn invalid_value(algorithm: ChecksumAlgorithm) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!("Value for {} header is invalid.", algorithm.header_name()),
    )
}

fn multiple_checksums() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )
}

fn bad_trailer_header() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "The value specified in the x-amz-trailer header is not supported",
    )
}

/// The error S3 returns when a flexible checksum does not match the body: code `BadDigest`,
/// with a message naming the algorithm.
pub fn checksum_mismatch(algorithm: ChecksumAlgorithm) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidChecksum,
        format!(
            "The {} you specified did not match the calculated checksum.",
            algorithm.name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)]) -> RequestHead {
        let mut map = ::http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                ::http::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                ::http::HeaderValue::from_str(value).expect("value"),
            );
        }
        RequestHead {
            method: ::http::Method::PUT,
            target: "/b/k".into(),
            path: "/b/k".into(),
            query: String::new(),
            version_minor: 1,
            headers: map,
        }
    }

    #[test]
    fn names_round_trip() {
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(alg.name()), Some(alg));
            assert_eq!(
                ChecksumAlgorithm::from_name(&alg.name().to_lowercase()),
                Some(alg)
            );
            assert_eq!(
                ChecksumAlgorithm::from_header_name(alg.header_name()),
                Some(alg)
            );
            assert_eq!(
                alg.header_name(),
                format!("x-amz-checksum-{}", alg.name().to_lowercase())
            );
        }
        assert_eq!(ChecksumAlgorithm::from_name("MD5"), None);
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-type"),
            None
        );
    }

    /// The check value of each CRC ("123456789"), and digests of "abc" (FIPS 180 vectors).
    #[test]
    fn known_values() {
        let check = b"123456789";
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32, check),
            0xCBF4_3926u32.to_be_bytes()
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32c, check),
            0xE306_9283u32.to_be_bytes()
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc64Nvme, check),
            0xAE8B_1486_0A79_9888u64.to_be_bytes()
        );
        assert_eq!(
            hex::encode(checksum(ChecksumAlgorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(checksum(ChecksumAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Values S3 documents / returns for small bodies.
        assert_eq!(
            encode_base64(&checksum(ChecksumAlgorithm::Crc32, b"abc")),
            "NSRBwg=="
        );
        // The trailer of the AWS streaming-trailers example: 66,560 bytes of 'a'.
        assert_eq!(
            encode_base64(&checksum(ChecksumAlgorithm::Crc32c, &[b'a'; 66_560])),
            "sOO8/Q=="
        );
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(checksum(alg, b"").len(), alg.digest_len());
        }
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for alg in ChecksumAlgorithm::ALL {
            let mut summer = Checksummer::new(alg);
            for piece in data.chunks(333) {
                summer.update(piece);
            }
            assert_eq!(summer.algorithm(), alg);
            assert_eq!(summer.finish(), checksum(alg, &data), "{alg}");
        }
    }

    #[test]
    fn base64_helpers() {
        assert_eq!(
            decode_base64(" NSRBwg== "),
            Some(vec![0x35, 0x24, 0x41, 0xc2])
        );
        assert_eq!(decode_base64("not base64!"), None);
        assert_eq!(
            decode_checksum(ChecksumAlgorithm::Crc32, "NSRBwg=="),
            Some(vec![0x35, 0x24, 0x41, 0xc2])
        );
        assert_eq!(
            decode_checksum(ChecksumAlgorithm::Crc64Nvme, "NSRBwg=="),
            None
        );
    }

    #[test]
    fn composite_is_checksum_of_part_checksums() {
        let parts: [&[u8]; 3] = [b"part one", b"part two", b"3"];
        for alg in ChecksumAlgorithm::ALL {
            let encoded: Vec<String> = parts
                .iter()
                .map(|p| encode_base64(&checksum(alg, p)))
                .collect();
            let refs: Vec<&str> = encoded.iter().map(String::as_str).collect();
            let mut concat = Vec::new();
            for p in parts {
                concat.extend(checksum(alg, p));
            }
            assert_eq!(
                composite_checksum(alg, &refs),
                Some(format!("{}-3", encode_base64(&checksum(alg, &concat))))
            );
        }
        assert_eq!(composite_checksum(ChecksumAlgorithm::Crc32, &["bad"]), None);
    }

    #[test]
    fn full_object_crc_equals_crc_of_whole() {
        let parts: [&[u8]; 3] = [b"hello ", b"multipart ", b"world"];
        let whole: Vec<u8> = parts.concat();
        for alg in ChecksumAlgorithm::ALL {
            let encoded: Vec<(String, u64)> = parts
                .iter()
                .map(|p| (encode_base64(&checksum(alg, p)), p.len() as u64))
                .collect();
            let refs: Vec<(&str, u64)> = encoded.iter().map(|(s, l)| (s.as_str(), *l)).collect();
            let expected = alg.is_crc().then(|| encode_base64(&checksum(alg, &whole)));
            assert_eq!(full_object_crc(alg, &refs), expected, "{alg}");
        }
    }

    #[test]
    fn request_declarations() {
        let none = ChecksumRequest::from_head(&head(&[])).expect("ok");
        assert_eq!(none, None);

        let value = ChecksumRequest::from_head(&head(&[
            ("x-amz-checksum-crc32", "NSRBwg=="),
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
            ("x-amz-checksum-type", "FULL_OBJECT"),
        ]))
        .expect("ok");
        assert_eq!(
            value,
            Some(ChecksumRequest {
                algorithm: ChecksumAlgorithm::Crc32,
                expected: ChecksumExpected::Header("NSRBwg==".into())
            })
        );

        let trailer = ChecksumRequest::from_head(&head(&[
            ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
            ("x-amz-sdk-checksum-algorithm", "crc64nvme"),
        ]))
        .expect("ok");
        assert_eq!(
            trailer,
            Some(ChecksumRequest {
                algorithm: ChecksumAlgorithm::Crc64Nvme,
                expected: ChecksumExpected::Trailer
            })
        );

        let named = ChecksumRequest::from_head(&head(&[("x-amz-checksum-algorithm", "SHA256")]))
            .expect("ok");
        assert_eq!(
            named,
            Some(ChecksumRequest {
                algorithm: ChecksumAlgorithm::Sha256,
                expected: ChecksumExpected::ComputeOnly
            })
        );

        let refused: [&[(&str, &str)]; 6] = [
            &[("x-amz-checksum-crc32", "not base64")],
            &[("x-amz-checksum-crc32", "AAAAAAAAAAA=")],
            &[
                ("x-amz-checksum-crc32", "NSRBwg=="),
                ("x-amz-checksum-crc32c", "NSRBwg=="),
            ],
            &[
                ("x-amz-checksum-crc32", "NSRBwg=="),
                ("x-amz-sdk-checksum-algorithm", "SHA1"),
            ],
            &[("x-amz-trailer", "x-amz-meta-foo")],
            &[("x-amz-sdk-checksum-algorithm", "MD5")],
        ];
        for headers in refused {
            let err = ChecksumRequest::from_head(&head(headers)).expect_err("refused");
            assert_eq!(err.code, S3ErrorCode::InvalidRequest, "{headers:?}");
        }
    }
}
