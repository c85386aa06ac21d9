//! Request authentication: AWS Signature Version 4 (header and presigned URL), with dispatch to
//! the legacy Signature Version 2 in [`super::sigv2`]; and the client-side signer the load
//! generator and the tests use, built on the same canonicalisation code so both sides cannot
//! drift apart.
//!
//! The model (AWS "Authenticating Requests (AWS Signature Version 4)", S3 API reference):
//!
//! ```text
//! CanonicalRequest = <HTTPMethod>\n <CanonicalURI>\n <CanonicalQueryString>\n
//!                    <CanonicalHeaders>\n <SignedHeaders>\n <HashedPayload>
//! StringToSign     = "AWS4-HMAC-SHA256"\n <timestamp ISO8601 basic>\n
//!                    <date>/<region>/s3/aws4_request\n hex(SHA256(CanonicalRequest))
//! SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request")
//! Signature        = hex(HMAC(SigningKey, StringToSign))
//! ```
//!
//! S3 specifics kept here on purpose:
//! * the canonical URI is the path URI-encoded ONCE (S3 does not double-encode) and never
//!   normalised (`//`, `.` and `..` are part of object keys). We percent-decode each raw
//!   `/`-separated segment and re-encode it with the RFC 3986 unreserved set, so a client that
//!   escapes more or less than needed, or in lower-case hex, still matches, and an escaped
//!   `%2F` stays distinct from a real `/`;
//! * the canonical query is every parameter decoded (`+` is a space, as form encoding and
//!   MinIO read it) then re-encoded and sorted by encoded key, then value;
//! * the payload hash is the `x-amz-content-sha256` value as sent (an absent header counts as
//!   the hash of an empty body, as MinIO does); it decides the [`PayloadMode`] the body
//!   pipeline in [`super::payload`] enforces;
//! * the credential scope's region must be the server's (else `AuthorizationHeaderMalformed`,
//!   or `AuthorizationQueryParametersError` for presigned URLs, naming the expected region in
//!   the message and a `Region` element, as AWS answers); the service must be `s3`;
//! * `host` and every `x-amz-*` header the request carries must be signed, as AWS requires
//!   (else 403 `AccessDenied` "There were headers present in the request which were not
//!   signed" with a `HeadersNotSigned` element): handlers act on `x-amz-*` headers
//!   (`x-amz-copy-source`, `x-amz-meta-*`, ...), and whoever holds a presigned URL could add
//!   them otherwise. A presigned URL carries its own `X-Amz-*` parameters in the query, which
//!   the signature covers whole.
//!
//! Time rules: header-signed requests must be within [`MAX_CLOCK_SKEW`] of the server clock
//! (`RequestTimeTooSkewed`); presigned URLs are instead bounded by `X-Amz-Expires` (at most
//! [`PRESIGN_EXPIRES_MAX_SECS`]), and may not be dated further in the future than the skew.
//!
//! Invariants: signatures are compared in constant time (`hmac`'s `verify_slice`); a secret or
//! signing key never appears in a `Debug` output or an error message.

use std::fmt;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

use crate::http::RequestHead;
use crate::s3::error::{S3Error, S3ErrorCode};
use crate::s3::sigv2;

type HmacSha256 = Hmac<Sha256>;

/// The only SigV4 algorithm S3 accepts for HMAC signing.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// `x-amz-content-sha256` value: the body is not covered by the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` value: aws-chunked body, each chunk signed.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` value: aws-chunked body, each chunk and the trailer signed.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `x-amz-content-sha256` value: aws-chunked body with a trailer, nothing signed.
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256_HEX: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The region clients use when they have no reason to pick another.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Largest accepted difference between a request's timestamp and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// Longest lifetime of a presigned URL (seven days).
pub const PRESIGN_EXPIRES_MAX_SECS: u64 = 7 * 24 * 3600;

const SERVICE: &str = "s3";
const TERMINATOR: &str = "aws4_request";
/// Headers a client-side signer leaves out: they may be changed or added by proxies.
const UNSIGNED_HEADERS: [&str; 5] = [
    "authorization",
    "user-agent",
    "expect",
    "transfer-encoding",
    "connection",
];

/// The one key pair the server knows (root credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// What the body pipeline must enforce, decided by how the request was signed.
#[derive(Clone, PartialEq, Eq)]
pub enum PayloadMode {
    /// The body is not signed (`UNSIGNED-PAYLOAD`, SigV2, or presigned URLs).
    Unsigned,
    /// The body's SHA-256 is signed: it must hash to this (else `XAmzContentSHA256Mismatch`).
    Signed {
        /// The `x-amz-content-sha256` value, decoded.
        sha256: [u8; 32],
    },
    /// aws-chunked body whose chunk signatures chain from the request's signature.
    StreamingSigned {
        /// The request's signature (lower-case hex): the "previous signature" of chunk 1.
        seed_signature: String,
        /// The derived SigV4 signing key of the request's credential scope.
        signing_key: [u8; 32],
        /// The request timestamp, ISO 8601 basic (`20130524T000000Z`).
        amz_date: String,
        /// The credential scope (`20130524/us-east-1/s3/aws4_request`).
        scope: String,
        /// A signed trailer follows the final chunk (`...-PAYLOAD-TRAILER`).
        trailer: bool,
    },
    /// aws-chunked body, unsigned chunks, trailer at the end (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    StreamingUnsignedTrailer,
}

impl fmt::Debug for PayloadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadMode::Unsigned => f.write_str("Unsigned"),
            PayloadMode::Signed { sha256 } => f
                .debug_struct("Signed")
                .field("sha256", &hex::encode(sha256))
                .finish(),
            PayloadMode::StreamingSigned {
                seed_signature,
                amz_date,
                scope,
                trailer,
                ..
            } => f
                .debug_struct("StreamingSigned")
                .field("seed_signature", seed_signature)
                .field("signing_key", &"<redacted>")
                .field("amz_date", amz_date)
                .field("scope", scope)
                .field("trailer", trailer)
                .finish(),
            PayloadMode::StreamingUnsignedTrailer => f.write_str("StreamingUnsignedTrailer"),
        }
    }
}

/// A request that passed authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthOk {
    /// The access key that signed it.
    pub access_key: String,
    /// What the body must satisfy.
    pub payload: PayloadMode,
}

/// Authenticates a request signed with SigV4 (Authorization header or presigned query) or
/// SigV2 (`Authorization: AWS key:sig` or `AWSAccessKeyId`/`Signature`/`Expires` query), for
/// a path-style request to a server in [`DEFAULT_REGION`]. See [`authenticate_with_bucket`]
/// for other regions and virtual-hosted requests.
///
/// Errors: no credentials at all -> `AccessDenied`; unknown access key ->
/// `InvalidAccessKeyId`; unparsable Authorization or another region ->
/// `AuthorizationHeaderMalformed`; bad signature -> `SignatureDoesNotMatch`; `host` or an
/// `x-amz-*` header not signed -> `AccessDenied` (`HeadersNotSigned`); header timestamp off by
/// more than [`MAX_CLOCK_SKEW`] -> `RequestTimeTooSkewed`; presigned URL past its expiry ->
/// `AccessDenied` "Request has expired".
pub fn authenticate(
    head: &RequestHead,
    creds: &Credentials,
    now: SystemTime,
) -> Result<AuthOk, S3Error> {
    authenticate_with_bucket(head, creds, DEFAULT_REGION, now, None)
}

/// [`authenticate`] for a server in `region`, and for a request the router found to be
/// virtual-hosted (`bucket` came from the Host header). Only SigV2 needs the bucket: its string
/// to sign names it explicitly, while SigV4 signs the request as sent. SigV2 has no region.
pub fn authenticate_with_bucket(
    head: &RequestHead,
    creds: &Credentials,
    region: &str,
    now: SystemTime,
    virtual_host_bucket: Option<&str>,
) -> Result<AuthOk, S3Error> {
    if let Some(value) = head.headers.get(::http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| malformed_header("not ASCII"))?;
        if let Some(rest) = strip_scheme(value, ALGORITHM) {
            return authenticate_header(head, rest, creds, region, now);
        }
        if let Some(rest) = strip_scheme(value, "AWS") {
            return sigv2::authenticate_header(head, rest, creds, now, virtual_host_bucket);
        }
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Unsupported Authorization Type",
        ));
    }
    let params = parse_query(&head.query);
    if query_get(&params, "X-Amz-Algorithm").is_some()
        || query_get(&params, "X-Amz-Credential").is_some()
    {
        return authenticate_presigned(head, &params, creds, region, now);
    }
    if query_get(&params, "AWSAccessKeyId").is_some() || query_get(&params, "Signature").is_some() {
        return sigv2::authenticate_query(head, &params, creds, now, virtual_host_bucket);
    }
    Err(S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "Anonymous access is not allowed: the request carries no signature",
    ))
}

/// `"<scheme> rest"` -> `rest`; the scheme is case-sensitive, as AWS treats it.
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let rest = value.strip_prefix(scheme)?;
    rest.starts_with([' ', '\t']).then(|| rest.trim_start())
}

// ---------------------------------------------------------------------------------------------
// Authorization header

struct CredentialScope<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
}

impl CredentialScope<'_> {
    /// `<date>/<region>/s3/aws4_request`.
    fn scope(&self) -> String {
        format!("{}/{}/{SERVICE}/{TERMINATOR}", self.date, self.region)
    }

    /// The scope must name the server's region; `error` builds the error for the form at hand.
    fn check_region(
        &self,
        server_region: &str,
        error: fn(String) -> S3Error,
    ) -> Result<(), S3Error> {
        if self.region == server_region {
            return Ok(());
        }
        Err(error(format!(
            "the region '{}' is wrong; expecting '{server_region}'",
            self.region
        ))
        .with_detail("Region", server_region))
    }
}

/// `host` and every `x-amz-*` header of the request must be among `signed_headers` (see the
/// module header). Checked once the signature is known to be good, so a forged request still
/// reads `SignatureDoesNotMatch`.
fn check_all_signed(head: &RequestHead, signed_headers: &str) -> Result<(), S3Error> {
    let is_signed = |name: &str| signed_headers.split(';').any(|s| s == name);
    let mut unsigned: Vec<&str> = Vec::new();
    if !is_signed("host") {
        unsigned.push("host");
    }
    for name in head.headers.keys().map(|n| n.as_str()) {
        if name.starts_with("x-amz-") && !is_signed(name) {
            unsigned.push(name);
        }
    }
    if unsigned.is_empty() {
        return Ok(());
    }
    Err(S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "There were headers present in the request which were not signed",
    )
    .with_detail("HeadersNotSigned", unsigned.join(", ")))
}

/// Parses `<access key>/<yyyymmdd>/<region>/s3/aws4_request`. The access key may itself hold
/// `/`: the scope is the last four fields. `error` builds the error for the form at hand.
fn parse_credential(
    text: &str,
    error: fn(String) -> S3Error,
) -> Result<CredentialScope<'_>, S3Error> {
    let mut fields = text.rsplitn(5, '/');
    let terminator = fields.next().unwrap_or_default();
    let service = fields.next().unwrap_or_default();
    let region = fields.next().unwrap_or_default();
    let date = fields.next().unwrap_or_default();
    let access_key = fields.next().unwrap_or_default();
    if access_key.is_empty() || region.is_empty() {
        return Err(error(format!(
            "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\", got \"{text}\""
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error(format!("invalid credential date \"{date}\"")));
    }
    if service != SERVICE {
        return Err(error(format!(
            "incorrect service \"{service}\". This endpoint belongs to \"{SERVICE}\"."
        )));
    }
    if terminator != TERMINATOR {
        return Err(error(format!(
            "incorrect terminal \"{terminator}\". This endpoint uses \"{TERMINATOR}\"."
        )));
    }
    Ok(CredentialScope {
        access_key,
        date,
        region,
    })
}

fn malformed_header(detail: impl fmt::Display) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationHeaderMalformed,
        format!("The authorization header is malformed; {detail}"),
    )
}

fn malformed_query(detail: String) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        format!("Error parsing the X-Amz-Credential parameter; {detail}"),
    )
}

fn query_error(detail: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::AuthorizationQueryParametersError, detail)
}

struct AuthorizationV4<'a> {
    credential: CredentialScope<'a>,
    signed_headers: &'a str,
    signature: &'a str,
}

/// Parses the part after `AWS4-HMAC-SHA256 `:
/// `Credential=<cred>, SignedHeaders=<h1;h2>, Signature=<hex>` (any order, spaces optional).
fn parse_authorization(rest: &str) -> Result<AuthorizationV4<'_>, S3Error> {
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for field in rest.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| malformed_header(format!("\"{field}\" is not key=value")))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => return Err(malformed_header(format!("unknown field \"{other}\""))),
        };
        if slot.replace(value.trim()).is_some() {
            return Err(malformed_header(format!("duplicate field \"{key}\"")));
        }
    }
    let credential = credential.ok_or_else(|| malformed_header("missing Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| malformed_header("missing SignedHeaders"))?;
    let signature = signature.ok_or_else(|| malformed_header("missing Signature"))?;
    let credential = parse_credential(credential, malformed_header)?;
    check_signed_headers(signed_headers).map_err(malformed_header)?;
    Ok(AuthorizationV4 {
        credential,
        signed_headers,
        signature,
    })
}

/// `h1;h2;...`: non-empty lower-case header names.
fn check_signed_headers(list: &str) -> Result<(), String> {
    let ok = !list.is_empty()
        && list.split(';').all(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
        });
    if ok {
        Ok(())
    } else {
        Err(format!("invalid SignedHeaders \"{list}\""))
    }
}

fn authenticate_header(
    head: &RequestHead,
    rest: &str,
    creds: &Credentials,
    region: &str,
    now: SystemTime,
) -> Result<AuthOk, S3Error> {
    let auth = parse_authorization(rest)?;
    auth.credential.check_region(region, malformed_header)?;
    if auth.credential.access_key != creds.access_key {
        return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId));
    }
    let timestamp = request_timestamp(head)?;
    let amz_date = format_amz_date(timestamp);
    if amz_date[..8] != *auth.credential.date {
        return Err(malformed_header(
            "Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    if abs_diff(now, timestamp) > MAX_CLOCK_SKEW {
        return Err(S3Error::new(S3ErrorCode::RequestTimeTooSkewed));
    }
    let payload_hash = match head.headers.get("x-amz-content-sha256") {
        Some(value) => value.to_str().map_err(|_| bad_content_sha256())?,
        None => EMPTY_SHA256_HEX,
    };
    let declared = PayloadHash::parse(payload_hash)?;

    let scope = auth.credential.scope();
    let signing_key = signing_key(
        &creds.secret_key,
        auth.credential.date,
        auth.credential.region,
        SERVICE,
    );
    let canonical = canonical_request(
        head.method.as_str(),
        &head.path,
        &canonical_query(&parse_query(&head.query), None),
        &server_header_values(head, auth.signed_headers),
        auth.signed_headers,
        payload_hash,
    );
    let string_to_sign = string_to_sign(&amz_date, &scope, &canonical);
    if !verify_hex_signature(&signing_key, string_to_sign.as_bytes(), auth.signature) {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch));
    }
    check_all_signed(head, auth.signed_headers)?;
    let payload = match declared {
        PayloadHash::Sha256(sha256) => PayloadMode::Signed { sha256 },
        PayloadHash::Unsigned => PayloadMode::Unsigned,
        PayloadHash::StreamingSigned { trailer } => PayloadMode::StreamingSigned {
            seed_signature: auth.signature.to_ascii_lowercase(),
            signing_key,
            amz_date,
            scope,
            trailer,
        },
        PayloadHash::StreamingUnsignedTrailer => PayloadMode::StreamingUnsignedTrailer,
    };
    Ok(AuthOk {
        access_key: creds.access_key.clone(),
        payload,
    })
}

/// The request timestamp: `x-amz-date` (ISO 8601 basic), else `Date` (an HTTP date, or ISO
/// 8601 basic as some clients send). Missing or unparsable -> `AccessDenied`, as S3 answers.
fn request_timestamp(head: &RequestHead) -> Result<SystemTime, S3Error> {
    let missing = || {
        S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    };
    if let Some(value) = head.headers.get("x-amz-date") {
        let text = value.to_str().map_err(|_| missing())?;
        return parse_amz_date(text).ok_or_else(missing);
    }
    let value = head.headers.get(::http::header::DATE).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?.trim();
    parse_amz_date(text)
        .or_else(|| parse_http_date(text))
        .ok_or_else(missing)
}

/// An HTTP date (IMF-fixdate, RFC 850 or asctime), also accepting a numeric `+0000` zone or
/// `UTC` in place of `GMT`, as older SigV2 clients (and the AWS SigV2 examples) write it.
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(t) = httpdate::parse_http_date(text) {
        return Some(t);
    }
    let stem = ["+0000", "-0000", "UTC", "Z"]
        .iter()
        .find_map(|zone| text.strip_suffix(zone))?;
    httpdate::parse_http_date(&format!("{}GMT", stem)).ok()
}

/// What `x-amz-content-sha256` (or `X-Amz-Content-Sha256` in a presigned query) declares.
enum PayloadHash {
    Sha256([u8; 32]),
    Unsigned,
    StreamingSigned { trailer: bool },
    StreamingUnsignedTrailer,
}

impl PayloadHash {
    fn parse(value: &str) -> Result<Self, S3Error> {
        Ok(match value {
            UNSIGNED_PAYLOAD => PayloadHash::Unsigned,
            STREAMING_PAYLOAD => PayloadHash::StreamingSigned { trailer: false },
            STREAMING_PAYLOAD_TRAILER => PayloadHash::StreamingSigned { trailer: true },
            STREAMING_UNSIGNED_PAYLOAD_TRAILER => PayloadHash::StreamingUnsignedTrailer,
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
            | "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" => {
                return Err(S3Error::with_message(
                    S3ErrorCode::NotImplemented,
                    "SigV4a (ECDSA) streaming payloads are not supported",
                ))
            }
            hex_value => {
                let mut sha256 = [0u8; 32];
                if hex_value.len() != 64 || hex::decode_to_slice(hex_value, &mut sha256).is_err() {
                    return Err(bad_content_sha256());
                }
                PayloadHash::Sha256(sha256)
            }
        })
    }
}

fn bad_content_sha256() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, \
         STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER \
         or a valid sha256 value.",
    )
}

// ---------------------------------------------------------------------------------------------
// Presigned URLs (AWS "Authenticating Requests: Using Query Parameters")

fn authenticate_presigned(
    head: &RequestHead,
    params: &[(Vec<u8>, Vec<u8>)],
    creds: &Credentials,
    region: &str,
    now: SystemTime,
) -> Result<AuthOk, S3Error> {
    let get = |name: &str| -> Result<&str, S3Error> {
        let value = query_get(params, name).ok_or_else(|| {
            query_error(format!(
                "Query-string authentication requires the {name} parameter"
            ))
        })?;
        std::str::from_utf8(value).map_err(|_| query_error(format!("{name} is not UTF-8")))
    };
    let algorithm = get("X-Amz-Algorithm")?;
    if algorithm != ALGORITHM {
        return Err(query_error(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\""
        )));
    }
    let credential = parse_credential(get("X-Amz-Credential")?, malformed_query)?;
    credential.check_region(region, malformed_query)?;
    let date_text = get("X-Amz-Date")?;
    let expires_text = get("X-Amz-Expires")?;
    let signed_headers = get("X-Amz-SignedHeaders")?;
    let signature = get("X-Amz-Signature")?;
    check_signed_headers(signed_headers).map_err(query_error)?;

    if credential.access_key != creds.access_key {
        return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId));
    }
    let timestamp = parse_amz_date(date_text).ok_or_else(|| {
        query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    })?;
    if date_text[..8] != *credential.date {
        return Err(malformed_query(
            "Invalid credential date. Date is not the same as X-Amz-Date.".into(),
        ));
    }
    let expires_secs: u64 = expires_text
        .parse()
        .map_err(|_| query_error("X-Amz-Expires should be a number"))?;
    if expires_secs > PRESIGN_EXPIRES_MAX_SECS {
        return Err(query_error(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {PRESIGN_EXPIRES_MAX_SECS}"
        )));
    }
    if timestamp > now && timestamp.duration_since(now).unwrap_or_default() > MAX_CLOCK_SKEW {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Request is not valid yet",
        ));
    }
    if now > timestamp + Duration::from_secs(expires_secs) {
        return Err(S3Error::new(S3ErrorCode::ExpiredPresignedRequest));
    }

    // The payload hash: X-Amz-Content-Sha256 in the query, else the header, else unsigned.
    let payload_hash = match query_get(params, "X-Amz-Content-Sha256") {
        Some(value) => std::str::from_utf8(value).map_err(|_| bad_content_sha256())?,
        None => match head.headers.get("x-amz-content-sha256") {
            Some(value) => value.to_str().map_err(|_| bad_content_sha256())?,
            None => UNSIGNED_PAYLOAD,
        },
    };
    let payload = match PayloadHash::parse(payload_hash)? {
        PayloadHash::Sha256(sha256) => PayloadMode::Signed { sha256 },
        PayloadHash::Unsigned => PayloadMode::Unsigned,
        PayloadHash::StreamingSigned { .. } | PayloadHash::StreamingUnsignedTrailer => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "A presigned URL cannot carry an aws-chunked payload",
            ))
        }
    };

    let signing_key = signing_key(
        &creds.secret_key,
        credential.date,
        credential.region,
        SERVICE,
    );
    let canonical = canonical_request(
        head.method.as_str(),
        &head.path,
        &canonical_query(params, Some(b"X-Amz-Signature")),
        &server_header_values(head, signed_headers),
        signed_headers,
        payload_hash,
    );
    let string_to_sign = string_to_sign(date_text, &credential.scope(), &canonical);
    if !verify_hex_signature(&signing_key, string_to_sign.as_bytes(), signature) {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch));
    }
    check_all_signed(head, signed_headers)?;
    Ok(AuthOk {
        access_key: creds.access_key.clone(),
        payload,
    })
}

// ---------------------------------------------------------------------------------------------
// Canonicalisation, shared by the verifier and the signer

/// RFC 3986 unreserved characters pass; everything else becomes `%XX` (upper-case hex).
/// `/` passes unless `encode_slash` (it must be encoded in query keys and values).
pub(crate) fn uri_encode(bytes: &[u8], encode_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// The canonical URI of a raw request path: each `/`-separated segment percent-decoded and
/// re-encoded once; no normalisation; an empty path is `/`.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(raw_path.len() + 16);
    for (index, segment) in raw_path.split('/').enumerate() {
        if index > 0 {
            out.push('/');
        }
        let decoded: Vec<u8> = percent_encoding::percent_decode_str(segment).collect();
        uri_encode(&decoded, true, &mut out);
    }
    out
}

/// Splits a raw query string into decoded `(key, value)` pairs, in order. `+` decodes to a
/// space (form encoding); a parameter without `=` has an empty value; empty pieces are skipped.
pub(crate) fn parse_query(raw: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let decode = |text: &str| -> Vec<u8> {
        let spaced = text.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced).collect()
    };
    raw.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The first value of `key` in decoded query pairs.
pub(crate) fn query_get<'a>(params: &'a [(Vec<u8>, Vec<u8>)], key: &str) -> Option<&'a [u8]> {
    params
        .iter()
        .find(|(k, _)| k == key.as_bytes())
        .map(|(_, v)| v.as_slice())
}

/// Every pair (but `skip`) encoded, sorted by encoded key then value, joined with `&`.
fn canonical_query(params: &[(Vec<u8>, Vec<u8>)], skip: Option<&[u8]>) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(key, _)| Some(key.as_slice()) != skip)
        .map(|(key, value)| {
            let (mut k, mut v) = (String::new(), String::new());
            uri_encode(key, true, &mut k);
            uri_encode(value, true, &mut v);
            (k, v)
        })
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (index, (key, value)) in encoded.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The values of each signed header in a received request, in signed-header order.
fn server_header_values<'h>(
    head: &'h RequestHead,
    signed_headers: &'h str,
) -> Vec<(&'h str, Vec<&'h [u8]>)> {
    signed_headers
        .split(';')
        .map(|name| {
            let values = head
                .headers
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            (name, values)
        })
        .collect()
}

/// Appends a header value with leading/trailing blanks removed and inner runs of blanks
/// collapsed to one space (AWS "Trimall").
fn push_trimmed(value: &[u8], out: &mut Vec<u8>) {
    let mut started = false;
    let mut blank = false;
    for &b in value {
        if b == b' ' || b == b'\t' {
            blank = started;
        } else {
            if blank {
                out.push(b' ');
                blank = false;
            }
            out.push(b);
            started = true;
        }
    }
}

/// The canonical request, as bytes (header values may be any octets).
fn canonical_request(
    method: &str,
    raw_path: &str,
    canonical_query: &str,
    headers: &[(&str, Vec<&[u8]>)],
    signed_headers: &str,
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(raw_path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query.as_bytes());
    out.push(b'\n');
    for (name, values) in headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            push_trimmed(value, &mut out);
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request))
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length: new_from_slice cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key of a credential scope.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// Constant-time check that `provided` (hex, either case) is HMAC-SHA256(key, data).
pub(crate) fn verify_hex_signature(key: &[u8; 32], data: &[u8], provided: &str) -> bool {
    let mut raw = [0u8; 32];
    if provided.len() != 64 || hex::decode_to_slice(provided, &mut raw).is_err() {
        return false;
    }
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.verify_slice(&raw).is_ok()
}

fn abs_diff(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_else(|e| e.duration())
}

/// `20130524T000000Z`.
pub(crate) fn format_amz_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses `yyyymmddThhmmssZ`.
pub(crate) fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    Some(SystemTime::from(
        time::PrimitiveDateTime::new(date, clock).assume_utc(),
    ))
}

// ---------------------------------------------------------------------------------------------
// aws-chunked chunk signatures (AWS "Transferring Payload in Multiple Chunks", "trailing headers")

/// The signature chain of an aws-chunked body:
///
/// ```text
/// chunk:   "AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous sig>\n<hex sha256("")>\n<hex sha256(chunk)>"
/// trailer: "AWS4-HMAC-SHA256-TRAILER\n<amz date>\n<scope>\n<previous sig>\n<hex sha256(trailer lines)>"
/// ```
///
/// where the previous signature starts as the request's (seed) signature and the trailer
/// lines are `name:value\n` each. Used by the verifier in [`super::payload`] and by clients.
#[derive(Clone)]
pub struct ChunkSigner {
    signing_key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("previous", &self.previous)
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    /// The chain of a request authenticated with a signed streaming payload; `None` otherwise.
    pub fn from_mode(mode: &PayloadMode) -> Option<Self> {
        match mode {
            PayloadMode::StreamingSigned {
                seed_signature,
                signing_key,
                amz_date,
                scope,
                ..
            } => Some(ChunkSigner {
                signing_key: *signing_key,
                amz_date: amz_date.clone(),
                scope: scope.clone(),
                previous: seed_signature.to_ascii_lowercase(),
            }),
            _ => None,
        }
    }

    /// The last signature of the chain (lower-case hex).
    pub fn previous_signature(&self) -> &str {
        &self.previous
    }

    fn chunk_string_to_sign(&self, chunk_sha256: &[u8; 32]) -> String {
        format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256_HEX}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(chunk_sha256)
        )
    }

    fn trailer_string_to_sign(&self, canonical_trailers: &[u8]) -> String {
        format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(canonical_trailers))
        )
    }

    /// Signs the next chunk (client side) and advances the chain.
    pub fn sign_chunk(&mut self, data: &[u8]) -> String {
        let sts = self.chunk_string_to_sign(&Sha256::digest(data).into());
        self.previous = hex::encode(hmac_sha256(&self.signing_key, sts.as_bytes()));
        self.previous.clone()
    }

    /// Checks the signature sent for the next chunk, given the chunk's SHA-256; advances the
    /// chain on success. Constant-time.
    pub fn verify_chunk(&mut self, chunk_sha256: &[u8; 32], provided: &str) -> bool {
        let sts = self.chunk_string_to_sign(chunk_sha256);
        let ok = verify_hex_signature(&self.signing_key, sts.as_bytes(), provided);
        if ok {
            self.previous = provided.to_ascii_lowercase();
        }
        ok
    }

    /// Signs trailing headers (client side): the value of `x-amz-trailer-signature`.
    pub fn sign_trailer(&mut self, trailers: &[(&str, &str)]) -> String {
        let sts = self.trailer_string_to_sign(&canonical_trailers(trailers));
        self.previous = hex::encode(hmac_sha256(&self.signing_key, sts.as_bytes()));
        self.previous.clone()
    }

    /// Checks `x-amz-trailer-signature` against the trailers received. Constant-time.
    pub fn verify_trailer(&mut self, trailers: &[(&str, &str)], provided: &str) -> bool {
        let sts = self.trailer_string_to_sign(&canonical_trailers(trailers));
        let ok = verify_hex_signature(&self.signing_key, sts.as_bytes(), provided);
        if ok {
            self.previous = provided.to_ascii_lowercase();
        }
        ok
    }
}

/// `name:value\n` for each trailer, in order sent.
fn canonical_trailers(trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in trailers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Client side

/// Hex SHA-256 of a body: the `payload_hash` of a signed single-chunk request.
pub fn sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Signs a request with SigV4 in the Authorization header (client side).
///
/// `path` and `query` are the raw strings that will be sent (already percent-encoded);
/// `headers` are the headers that will be sent (include `host`); `payload_hash` is the hex
/// SHA-256 of the body, [`UNSIGNED_PAYLOAD`] or one of the `STREAMING-*` values. Returns the
/// headers to send: `headers` (minus any `x-amz-date`, `x-amz-content-sha256` or
/// `authorization` given) followed by `x-amz-date`, `x-amz-content-sha256` and
/// `authorization`. Every header is signed except `user-agent`, `expect`, `connection` and
/// `transfer-encoding`.
#[allow(clippy::too_many_arguments)] // the parts of a request, in request-line order
pub fn sign_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
    creds: &Credentials,
    region: &str,
    now: SystemTime,
) -> Vec<(String, String)> {
    sign_request_streaming(
        method,
        path,
        query,
        headers,
        payload_hash,
        creds,
        region,
        now,
    )
    .0
}

/// [`sign_request`], also returning the chunk-signature chain seeded with the request's
/// signature, for an aws-chunked body (`payload_hash` = [`STREAMING_PAYLOAD`] or
/// [`STREAMING_PAYLOAD_TRAILER`]); see [`super::payload::encode_aws_chunked`].
#[allow(clippy::too_many_arguments)] // the parts of a request, in request-line order
pub fn sign_request_streaming(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
    creds: &Credentials,
    region: &str,
    now: SystemTime,
) -> (Vec<(String, String)>, ChunkSigner) {
    let amz_date = format_amz_date(now);
    let date = &amz_date[..8];
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            !["x-amz-date", "x-amz-content-sha256", "authorization"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
        })
        .cloned()
        .collect();
    out.push(("x-amz-date".into(), amz_date.clone()));
    out.push(("x-amz-content-sha256".into(), payload_hash.to_owned()));

    // Group values by lower-case name, in name order.
    let mut signed: std::collections::BTreeMap<String, Vec<&[u8]>> = Default::default();
    for (name, value) in &out {
        let lower = name.to_ascii_lowercase();
        if UNSIGNED_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        signed.entry(lower).or_default().push(value.as_bytes());
    }
    let signed_headers = signed.keys().cloned().collect::<Vec<_>>().join(";");
    let values: Vec<(&str, Vec<&[u8]>)> = signed
        .iter()
        .map(|(name, values)| (name.as_str(), values.clone()))
        .collect();

    let scope = format!("{date}/{region}/{SERVICE}/{TERMINATOR}");
    let key = signing_key(&creds.secret_key, date, region, SERVICE);
    let canonical = canonical_request(
        method,
        path,
        &canonical_query(&parse_query(query), None),
        &values,
        &signed_headers,
        payload_hash,
    );
    let signature = hex::encode(hmac_sha256(
        &key,
        string_to_sign(&amz_date, &scope, &canonical).as_bytes(),
    ));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    );
    out.push(("authorization".into(), authorization));
    let signer = ChunkSigner {
        signing_key: key,
        amz_date,
        scope,
        previous: signature,
    };
    (out, signer)
}

/// Presigns a request (client side): returns the query string to send (without `?`): `query`
/// followed by the `X-Amz-*` parameters. Only `host` is signed; the payload is unsigned.
#[allow(clippy::too_many_arguments)] // the parts of a request, in request-line order
pub fn presign(
    method: &str,
    path: &str,
    query: &str,
    host: &str,
    creds: &Credentials,
    region: &str,
    now: SystemTime,
    expires_secs: u64,
) -> String {
    let amz_date = format_amz_date(now);
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{SERVICE}/{TERMINATOR}");
    let mut credential = String::new();
    uri_encode(
        format!("{}/{scope}", creds.access_key).as_bytes(),
        true,
        &mut credential,
    );
    let mut out = String::from(query);
    if !out.is_empty() {
        out.push('&');
    }
    out.push_str(&format!(
        "X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={credential}&X-Amz-Date={amz_date}\
         &X-Amz-Expires={expires_secs}&X-Amz-SignedHeaders=host"
    ));
    let key = signing_key(&creds.secret_key, date, region, SERVICE);
    let canonical = canonical_request(
        method,
        path,
        &canonical_query(&parse_query(&out), None),
        &[("host", vec![host.as_bytes()])],
        "host",
        UNSIGNED_PAYLOAD,
    );
    let signature = hex::encode(hmac_sha256(
        &key,
        string_to_sign(&amz_date, &scope, &canonical).as_bytes(),
    ));
    out.push_str("&X-Amz-Signature=");
    out.push_str(&signature);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const AWS_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    pub(crate) const AWS_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    pub(crate) fn aws_creds() -> Credentials {
        Credentials {
            access_key: AWS_ACCESS_KEY.into(),
            secret_key: AWS_SECRET_KEY.into(),
        }
    }

    /// 2013-05-24T00:00:00Z, the time of every AWS S3 SigV4 example.
    pub(crate) fn aws_example_time() -> SystemTime {
        parse_amz_date("20130524T000000Z").expect("valid")
    }

    pub(crate) fn make_head(method: &str, target: &str, headers: &[(&str, &str)]) -> RequestHead {
        let mut map = ::http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                ::http::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                ::http::HeaderValue::from_bytes(value.as_bytes()).expect("value"),
            );
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        RequestHead {
            method: ::http::Method::from_bytes(method.as_bytes()).expect("method"),
            target: target.into(),
            path: path.into(),
            query: query.into(),
            version_minor: 1,
            headers: map,
        }
    }

    fn auth_header(signed_headers: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders={signed_headers},Signature={signature}"
        )
    }

    fn code(result: Result<AuthOk, S3Error>) -> S3ErrorCode {
        result.expect_err("must be refused").code
    }

    #[test]
    fn amz_dates_round_trip() {
        let t = aws_example_time();
        assert_eq!(format_amz_date(t), "20130524T000000Z");
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH)
                .expect("after epoch")
                .as_secs(),
            1_369_353_600
        );
        for bad in [
            "20130524T000000",
            "2013-05-24T00:00:00Z",
            "20131324T000000Z",
            "20130524T250000Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn uri_encoding_rules() {
        let enc = |s: &str, slash: bool| {
            let mut out = String::new();
            uri_encode(s.as_bytes(), slash, &mut out);
            out
        };
        assert_eq!(enc("A-z_0.9~", true), "A-z_0.9~");
        assert_eq!(enc("a b+c=d", true), "a%20b%2Bc%3Dd");
        assert_eq!(enc("a/b", false), "a/b");
        assert_eq!(enc("a/b", true), "a%2Fb");
        assert_eq!(enc("ключ", true), "%D0%BA%D0%BB%D1%8E%D1%87");
        // Paths: decoded then encoded once; never normalised; %2F stays escaped.
        assert_eq!(canonical_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/test%24file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/b/a%2fb//./../c"), "/b/a%2Fb//./../c");
        assert_eq!(canonical_uri("/b/a%20b+c"), "/b/a%20b%2Bc");
        assert_eq!(canonical_uri(""), "/");
        // Queries: decoded ('+' is a space), encoded, sorted by key then value.
        assert_eq!(
            canonical_query(&parse_query("b=2&a=x+y&a=%2B&c&&d="), None),
            "a=%2B&a=x%20y&b=2&c=&d="
        );
        assert_eq!(
            canonical_query(&parse_query("prefix=J&max-keys=2"), None),
            "max-keys=2&prefix=J"
        );
    }

    #[test]
    fn trimall() {
        let mut out = Vec::new();
        push_trimmed(b"  a   b\t\tc  ", &mut out);
        assert_eq!(out, b"a b c");
    }

    /// AWS SigV4 test suite, "get-vanilla" and "get-vanilla-query-order-key-case" (service
    /// "service"): the canonicalisation and key derivation, below the S3-only checks.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let key = signing_key(secret, "20150830", "us-east-1", "service");
        let cases = [
            (
                "",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                "Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
        ];
        for (query, expected) in cases {
            let canonical = canonical_request(
                "GET",
                "/",
                &canonical_query(&parse_query(query), None),
                &[
                    ("host", vec![&b"example.amazonaws.com"[..]]),
                    ("x-amz-date", vec![&b"20150830T123600Z"[..]]),
                ],
                "host;x-amz-date",
                EMPTY_SHA256_HEX,
            );
            let sts = string_to_sign(
                "20150830T123600Z",
                "20150830/us-east-1/service/aws4_request",
                &canonical,
            );
            assert_eq!(hex::encode(hmac_sha256(&key, sts.as_bytes())), expected);
        }
    }

    /// S3 API reference, "Signature Calculations for the Authorization Header: Transferring
    /// Payload in a Single Chunk": GET Object with a Range header.
    #[test]
    fn aws_example_get_object() {
        let head = make_head(
            "GET",
            "/test.txt",
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256_HEX),
                ("x-amz-date", "20130524T000000Z"),
                (
                    "authorization",
                    &auth_header(
                        "host;range;x-amz-content-sha256;x-amz-date",
                        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                    ),
                ),
            ],
        );
        let ok = authenticate(&head, &aws_creds(), aws_example_time()).expect("valid");
        assert_eq!(ok.access_key, AWS_ACCESS_KEY);
        let mut empty = [0u8; 32];
        hex::decode_to_slice(EMPTY_SHA256_HEX, &mut empty).expect("hex");
        assert_eq!(ok.payload, PayloadMode::Signed { sha256: empty });
    }

    /// Same page: PUT Object (`$` in the key, a Date header besides x-amz-date).
    #[test]
    fn aws_example_put_object() {
        let body_hash = sha256_hex(b"Welcome to Amazon S3.");
        assert_eq!(
            body_hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let head = make_head(
            "PUT",
            "/test$file.text",
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", &body_hash),
                (
                    "authorization",
                    &auth_header(
                        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
                    ),
                ),
            ],
        );
        let ok = authenticate(&head, &aws_creds(), aws_example_time()).expect("valid");
        assert!(matches!(ok.payload, PayloadMode::Signed { .. }));
    }

    /// Same page: GET Bucket Lifecycle and GET Bucket (list objects) - query canonicalisation.
    #[test]
    fn aws_example_bucket_queries() {
        let cases = [
            (
                "/?lifecycle",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
            (
                "/?max-keys=2&prefix=J",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ];
        for (target, signature) in cases {
            let head = make_head(
                "GET",
                target,
                &[
                    ("host", "examplebucket.s3.amazonaws.com"),
                    ("x-amz-date", "20130524T000000Z"),
                    ("x-amz-content-sha256", EMPTY_SHA256_HEX),
                    (
                        "authorization",
                        &auth_header("host;x-amz-content-sha256;x-amz-date", signature),
                    ),
                ],
            );
            authenticate(&head, &aws_creds(), aws_example_time()).expect(target);
        }
    }

    /// S3 API reference, "Authenticating Requests: Using Query Parameters": the presigned GET.
    #[test]
    fn aws_example_presigned_url() {
        let target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
            &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
            &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let head = make_head("GET", target, &[("host", "examplebucket.s3.amazonaws.com")]);
        let t0 = aws_example_time();
        let ok = authenticate(&head, &aws_creds(), t0).expect("valid");
        assert_eq!(ok.payload, PayloadMode::Unsigned);
        // Valid through its last second, expired one second later; presigned URLs ignore the
        // skew rule in the past.
        authenticate(&head, &aws_creds(), t0 + Duration::from_secs(86_400)).expect("last second");
        let expired = authenticate(&head, &aws_creds(), t0 + Duration::from_secs(86_401))
            .expect_err("expired");
        assert_eq!(expired.code, S3ErrorCode::ExpiredPresignedRequest);
        // Dated in the future beyond the skew: not valid yet.
        let early = t0 - MAX_CLOCK_SKEW - Duration::from_secs(1);
        assert_eq!(
            code(authenticate(&head, &aws_creds(), early)),
            S3ErrorCode::AccessDenied
        );
        authenticate(&head, &aws_creds(), t0 - MAX_CLOCK_SKEW).expect("within skew");
        // The signature covers the Host.
        let other_host = make_head("GET", target, &[("host", "otherbucket.s3.amazonaws.com")]);
        assert_eq!(
            code(authenticate(&other_host, &aws_creds(), t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );
    }

    #[test]
    fn presign_limits() {
        let creds = aws_creds();
        let t0 = aws_example_time();
        let week = presign(
            "GET",
            "/b/k",
            "",
            "h",
            &creds,
            DEFAULT_REGION,
            t0,
            PRESIGN_EXPIRES_MAX_SECS,
        );
        let head = make_head("GET", &format!("/b/k?{week}"), &[("host", "h")]);
        authenticate(
            &head,
            &creds,
            t0 + Duration::from_secs(PRESIGN_EXPIRES_MAX_SECS),
        )
        .expect("a week is allowed");
        let too_long = presign(
            "GET",
            "/b/k",
            "",
            "h",
            &creds,
            DEFAULT_REGION,
            t0,
            PRESIGN_EXPIRES_MAX_SECS + 1,
        );
        let head = make_head("GET", &format!("/b/k?{too_long}"), &[("host", "h")]);
        assert_eq!(
            code(authenticate(&head, &creds, t0)),
            S3ErrorCode::AuthorizationQueryParametersError
        );
        // A missing parameter.
        let head = make_head(
            "GET",
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20130524T000000Z",
            &[("host", "h")],
        );
        assert_eq!(
            code(authenticate(&head, &creds, t0)),
            S3ErrorCode::AuthorizationQueryParametersError
        );
    }

    /// The AWS streaming example's seed signature (the Authorization header of the request).
    #[test]
    fn aws_example_streaming_seed() {
        let head = make_head(
            "PUT",
            "/examplebucket/chunkObject.txt",
            &[
                ("host", "s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", STREAMING_PAYLOAD),
                ("content-encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", "66560"),
                ("content-length", "66824"),
                (
                    "authorization",
                    &auth_header(
                        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                    ),
                ),
            ],
        );
        let ok = authenticate(&head, &aws_creds(), aws_example_time()).expect("valid");
        let mut signer = ChunkSigner::from_mode(&ok.payload).expect("streaming");
        assert!(matches!(
            ok.payload,
            PayloadMode::StreamingSigned { trailer: false, .. }
        ));
        // The documented chunk signatures: 64 KiB of 'a', 1 KiB of 'a', then the empty chunk.
        assert_eq!(
            signer.sign_chunk(&[b'a'; 65_536]),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        assert_eq!(
            signer.sign_chunk(&[b'a'; 1024]),
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        assert_eq!(
            signer.sign_chunk(b""),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
        // Debug output never shows the key.
        assert!(
            !format!("{:?}", ok.payload).contains(&hex::encode(signing_key(
                AWS_SECRET_KEY,
                "20130524",
                "us-east-1",
                "s3"
            )))
        );
    }

    #[test]
    fn failure_paths() {
        let creds = aws_creds();
        let t0 = aws_example_time();
        let signed =
            |method: &str, target: &str, extra: &[(&str, &str)], creds: &Credentials, at| {
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let mut headers: Vec<(String, String)> = vec![("host".into(), "h:9000".into())];
                headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
                sign_request(
                    method,
                    path,
                    query,
                    &headers,
                    EMPTY_SHA256_HEX,
                    creds,
                    DEFAULT_REGION,
                    at,
                )
            };
        let head_of = |method: &str, target: &str, headers: &[(String, String)]| {
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            make_head(method, target, &refs)
        };

        // Baseline passes.
        let good = signed("GET", "/b/k", &[], &creds, t0);
        authenticate(&head_of("GET", "/b/k", &good), &creds, t0).expect("baseline");

        // Unknown access key.
        let stranger = Credentials {
            access_key: "NOBODY".into(),
            secret_key: AWS_SECRET_KEY.into(),
        };
        let h = signed("GET", "/b/k", &[], &stranger, t0);
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/k", &h), &creds, t0)),
            S3ErrorCode::InvalidAccessKeyId
        );

        // Wrong secret.
        let wrong = Credentials {
            access_key: AWS_ACCESS_KEY.into(),
            secret_key: "wrong".into(),
        };
        let h = signed("GET", "/b/k", &[], &wrong, t0);
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/k", &h), &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );

        // Anything signed changed: method, path, query, a signed header, an encoded '/'.
        assert_eq!(
            code(authenticate(&head_of("DELETE", "/b/k", &good), &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/k2", &good), &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/k?x=1", &good), &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );
        let slash = signed("GET", "/b/a%2Fb", &[], &creds, t0);
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/a/b", &slash), &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );
        let mut moved = good.clone();
        moved[0].1 = "elsewhere".into();
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/k", &moved), &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );

        // Clock skew, both ways, and its boundary.
        let offset = MAX_CLOCK_SKEW + Duration::from_secs(1);
        for at in [t0 + offset, t0 - offset] {
            assert_eq!(
                code(authenticate(&head_of("GET", "/b/k", &good), &creds, at)),
                S3ErrorCode::RequestTimeTooSkewed
            );
        }
        for at in [t0 + MAX_CLOCK_SKEW, t0 - MAX_CLOCK_SKEW] {
            authenticate(&head_of("GET", "/b/k", &good), &creds, at).expect("at the limit");
        }

        // No credentials at all.
        let anonymous = make_head("GET", "/b/k", &[("host", "h")]);
        assert_eq!(
            code(authenticate(&anonymous, &creds, t0)),
            S3ErrorCode::AccessDenied
        );

        // Malformed Authorization headers.
        let sig = "0".repeat(64);
        let malformed = [
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request".to_owned(),
            format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}, Junk"),
            // Credential date differs from x-amz-date.
            format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130525/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}"),
        ];
        for value in malformed {
            let head = make_head(
                "GET",
                "/b/k",
                &[
                    ("host", "h"),
                    ("x-amz-date", "20130524T000000Z"),
                    ("authorization", &value),
                ],
            );
            assert_eq!(
                code(authenticate(&head, &creds, t0)),
                S3ErrorCode::AuthorizationHeaderMalformed,
                "{value}"
            );
        }
        // Signed header names that are not valid header names: a mismatch, not a crash.
        let value = format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=h(st;x-amz-date, Signature={sig}");
        let head = make_head(
            "GET",
            "/b/k",
            &[
                ("host", "h"),
                ("x-amz-date", "20130524T000000Z"),
                ("authorization", &value),
            ],
        );
        assert_eq!(
            code(authenticate(&head, &creds, t0)),
            S3ErrorCode::SignatureDoesNotMatch
        );
        // Signature not hex, or too short: a mismatch, not a crash.
        for bad in ["zz".repeat(32), "ab".into(), String::new()] {
            let value = format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={bad}");
            let head = make_head(
                "GET",
                "/b/k",
                &[
                    ("host", "h"),
                    ("x-amz-date", "20130524T000000Z"),
                    ("authorization", &value),
                ],
            );
            assert_eq!(
                code(authenticate(&head, &creds, t0)),
                S3ErrorCode::SignatureDoesNotMatch,
                "{bad:?}"
            );
        }
        // No date at all.
        let value = format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}");
        let head = make_head("GET", "/b/k", &[("host", "h"), ("authorization", &value)]);
        assert_eq!(
            code(authenticate(&head, &creds, t0)),
            S3ErrorCode::AccessDenied
        );
        // Unsupported scheme.
        let head = make_head(
            "GET",
            "/b/k",
            &[("host", "h"), ("authorization", "Bearer xyz")],
        );
        assert_eq!(
            code(authenticate(&head, &creds, t0)),
            S3ErrorCode::InvalidArgument
        );
        // Bad x-amz-content-sha256.
        let mut bad_hash = signed("GET", "/b/k", &[], &creds, t0);
        for (name, value) in &mut bad_hash {
            if name == "x-amz-content-sha256" {
                *value = "not-a-hash".into();
            }
        }
        assert_eq!(
            code(authenticate(&head_of("GET", "/b/k", &bad_hash), &creds, t0)),
            S3ErrorCode::InvalidArgument
        );
    }

    fn refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
        headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// The credential scope must name the server's region, in both forms; the error names the
    /// expected one. A Date header can stand in for x-amz-date.
    #[test]
    fn region_is_the_servers_and_date_header() {
        let creds = aws_creds();
        let t0 = aws_example_time();
        let headers = vec![("host".to_owned(), "h".to_owned())];
        let signed = sign_request(
            "GET",
            "/b/k",
            "",
            &headers,
            UNSIGNED_PAYLOAD,
            &creds,
            "eu-west-3",
            t0,
        );
        let head = make_head("GET", "/b/k", &refs(&signed));
        let ok = authenticate_with_bucket(&head, &creds, "eu-west-3", t0, None)
            .expect("the server's own region");
        assert_eq!(ok.payload, PayloadMode::Unsigned);
        let err = authenticate(&head, &creds, t0).expect_err("another region");
        assert_eq!(err.code, S3ErrorCode::AuthorizationHeaderMalformed);
        assert_eq!(err.status(), 400);
        assert!(
            err.message()
                .contains("'eu-west-3' is wrong; expecting 'us-east-1'"),
            "{err}"
        );
        assert_eq!(err.detail("Region"), Some(DEFAULT_REGION));

        let q = presign("GET", "/b/k", "", "h", &creds, "eu-west-3", t0, 60);
        let head = make_head("GET", &format!("/b/k?{q}"), &[("host", "h")]);
        authenticate_with_bucket(&head, &creds, "eu-west-3", t0, None).expect("own region");
        let err = authenticate(&head, &creds, t0).expect_err("another region");
        assert_eq!(err.code, S3ErrorCode::AuthorizationQueryParametersError);
        assert!(
            err.message()
                .contains("'eu-west-3' is wrong; expecting 'us-east-1'"),
            "{err}"
        );
        assert_eq!(err.detail("Region"), Some(DEFAULT_REGION));

        // Sign with Date only: the server reads Date when x-amz-date is absent.
        let key = signing_key(AWS_SECRET_KEY, "20130524", "us-east-1", "s3");
        let date = "Fri, 24 May 2013 00:00:00 GMT";
        let canonical = canonical_request(
            "GET",
            "/b/k",
            "",
            &[("date", vec![date.as_bytes()]), ("host", vec![&b"h"[..]])],
            "date;host",
            EMPTY_SHA256_HEX,
        );
        let sig = hex::encode(hmac_sha256(
            &key,
            string_to_sign(
                "20130524T000000Z",
                "20130524/us-east-1/s3/aws4_request",
                &canonical,
            )
            .as_bytes(),
        ));
        let value = auth_header("date;host", &sig);
        let head = make_head(
            "GET",
            "/b/k",
            &[("host", "h"), ("date", date), ("authorization", &value)],
        );
        authenticate(&head, &creds, t0).expect("Date header");
    }

    /// `host` and every `x-amz-*` header must be signed: an extra one after signing (which a
    /// valid signature does not cover) is refused and named, in both forms.
    #[test]
    fn unsigned_headers_refused() {
        let creds = aws_creds();
        let t0 = aws_example_time();
        let unsigned = |result: Result<AuthOk, S3Error>| -> String {
            let err = result.expect_err("must be refused");
            assert_eq!(err.code, S3ErrorCode::AccessDenied, "{err}");
            assert_eq!(err.status(), 403);
            assert_eq!(
                err.message(),
                "There were headers present in the request which were not signed"
            );
            err.detail("HeadersNotSigned")
                .unwrap_or_default()
                .to_owned()
        };

        // Header auth: everything signed passes; an x-amz-* added afterwards does not.
        let headers = vec![
            ("host".to_owned(), "h".to_owned()),
            ("x-amz-meta-a".to_owned(), "1".to_owned()),
        ];
        let signed = sign_request(
            "PUT",
            "/b/k",
            "",
            &headers,
            UNSIGNED_PAYLOAD,
            &creds,
            DEFAULT_REGION,
            t0,
        );
        authenticate(&make_head("PUT", "/b/k", &refs(&signed)), &creds, t0).expect("all signed");
        let mut extra = signed.clone();
        extra.push(("x-amz-storage-class".into(), "REDUCED_REDUNDANCY".into()));
        extra.push(("x-amz-meta-b".into(), "2".into()));
        // Headers that are not x-amz-* may go unsigned.
        extra.push(("content-type".into(), "text/plain".into()));
        assert_eq!(
            unsigned(authenticate(
                &make_head("PUT", "/b/k", &refs(&extra)),
                &creds,
                t0
            )),
            "x-amz-storage-class, x-amz-meta-b"
        );
        // x-amzn-* is not x-amz-*: SDKs leave x-amzn-trace-id unsigned on purpose.
        let mut trace = signed.clone();
        trace.push(("x-amzn-trace-id".into(), "Root=1".into()));
        authenticate(&make_head("PUT", "/b/k", &refs(&trace)), &creds, t0).expect("x-amzn");

        // Header auth without host among the signed headers.
        let no_host = sign_request(
            "GET",
            "/b/k",
            "",
            &[],
            UNSIGNED_PAYLOAD,
            &creds,
            DEFAULT_REGION,
            t0,
        );
        let mut sent = refs(&no_host);
        sent.push(("host", "h"));
        assert_eq!(
            unsigned(authenticate(&make_head("GET", "/b/k", &sent), &creds, t0)),
            "host"
        );

        // Presigned: signed for host only, sent with x-amz-* headers.
        let q = presign("PUT", "/b/k", "", "h", &creds, DEFAULT_REGION, t0, 60);
        let target = format!("/b/k?{q}");
        authenticate(&make_head("PUT", &target, &[("host", "h")]), &creds, t0).expect("host only");
        let head = make_head(
            "PUT",
            &target,
            &[("host", "h"), ("x-amz-copy-source", "private/secret.txt")],
        );
        assert_eq!(
            unsigned(authenticate(&head, &creds, t0)),
            "x-amz-copy-source"
        );

        // Presigned without host among X-Amz-SignedHeaders.
        let amz_date = "20130524T000000Z";
        let mut query = format!(
            "X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date={amz_date}&X-Amz-Expires=60&X-Amz-SignedHeaders=x-amz-meta-a"
        );
        let canonical = canonical_request(
            "GET",
            "/b/k",
            &canonical_query(&parse_query(&query), None),
            &[("x-amz-meta-a", vec![&b"1"[..]])],
            "x-amz-meta-a",
            UNSIGNED_PAYLOAD,
        );
        let key = signing_key(AWS_SECRET_KEY, "20130524", DEFAULT_REGION, SERVICE);
        let sts = string_to_sign(amz_date, "20130524/us-east-1/s3/aws4_request", &canonical);
        query.push_str(&format!(
            "&X-Amz-Signature={}",
            hex::encode(hmac_sha256(&key, sts.as_bytes()))
        ));
        let head = make_head(
            "GET",
            &format!("/b/k?{query}"),
            &[("host", "h"), ("x-amz-meta-a", "1")],
        );
        assert_eq!(unsigned(authenticate(&head, &creds, t0)), "host");
    }

    /// Client signer -> server verifier, with awkward object keys, queries, header values and
    /// secrets.
    #[test]
    fn round_trips_with_awkward_inputs() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let secrets = ["plain", "with space", "ünïcödé/+=~", "a+b=c/d"];
        let keys = [
            "simple",
            "with space",
            "plus+sign",
            "equals=sign",
            "tilde~",
            "ünïcödé/ключ/日本",
            "a//double/./dot/../x",
            "percent%sign",
            "!'()*&$,;:@[]",
        ];
        for secret in secrets {
            let creds = Credentials {
                access_key: "AK/with/slash".into(),
                secret_key: secret.into(),
            };
            for key in keys {
                let mut path = String::from("/bucket/");
                uri_encode(key.as_bytes(), false, &mut path);
                let mut prefix = String::new();
                uri_encode(key.as_bytes(), true, &mut prefix);
                let query = format!("prefix={prefix}&list-type=2&delimiter=%2F&empty=&flag");
                let headers = vec![
                    ("host".to_owned(), "127.0.0.1:9000".to_owned()),
                    ("x-amz-meta-note".to_owned(), format!("  {key}   spaced  ")),
                    ("content-type".to_owned(), "text/plain".to_owned()),
                    ("user-agent".to_owned(), "minnow-test".to_owned()),
                ];
                let body = key.as_bytes();
                let signed = sign_request(
                    "PUT",
                    &path,
                    &query,
                    &headers,
                    &sha256_hex(body),
                    &creds,
                    DEFAULT_REGION,
                    t0,
                );
                let refs: Vec<(&str, &str)> = signed
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let head = make_head("PUT", &format!("{path}?{query}"), &refs);
                let ok = authenticate(&head, &creds, t0)
                    .unwrap_or_else(|e| panic!("{secret:?} {key:?}: {e:?}"));
                assert_eq!(
                    ok.payload,
                    PayloadMode::Signed {
                        sha256: Sha256::digest(body).into()
                    }
                );

                let presigned = presign(
                    "GET",
                    &path,
                    &query,
                    "127.0.0.1:9000",
                    &creds,
                    DEFAULT_REGION,
                    t0,
                    60,
                );
                let head = make_head(
                    "GET",
                    &format!("{path}?{presigned}"),
                    &[("host", "127.0.0.1:9000")],
                );
                authenticate(&head, &creds, t0 + Duration::from_secs(60))
                    .unwrap_or_else(|e| panic!("presigned {secret:?} {key:?}: {e:?}"));
                assert_eq!(
                    code(authenticate(&head, &creds, t0 + Duration::from_secs(61))),
                    S3ErrorCode::ExpiredPresignedRequest
                );
            }
        }
        // A client that escapes more than needed (lower-case hex, escaped unreserved) still
        // matches: the path is decoded, then encoded once.
        let creds = aws_creds();
        let headers = vec![("host".to_owned(), "h".to_owned())];
        let signed = sign_request(
            "GET",
            "/b/%7Efile%2dname",
            "",
            &headers,
            UNSIGNED_PAYLOAD,
            &creds,
            DEFAULT_REGION,
            t0,
        );
        let refs: Vec<(&str, &str)> = signed
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        authenticate(&make_head("GET", "/b/~file-name", &refs), &creds, t0).expect("same key");
    }

    #[test]
    fn streaming_modes_from_headers() {
        let creds = aws_creds();
        let t0 = aws_example_time();
        let headers = vec![("host".to_owned(), "h".to_owned())];
        for (hash, trailer) in [
            (STREAMING_PAYLOAD, Some(false)),
            (STREAMING_PAYLOAD_TRAILER, Some(true)),
            (STREAMING_UNSIGNED_PAYLOAD_TRAILER, None),
        ] {
            let (signed, signer) = sign_request_streaming(
                "PUT",
                "/b/k",
                "",
                &headers,
                hash,
                &creds,
                DEFAULT_REGION,
                t0,
            );
            let refs: Vec<(&str, &str)> = signed
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let ok = authenticate(&make_head("PUT", "/b/k", &refs), &creds, t0).expect(hash);
            match (ok.payload, trailer) {
                (
                    PayloadMode::StreamingSigned {
                        trailer: t,
                        seed_signature,
                        ..
                    },
                    Some(expected),
                ) => {
                    assert_eq!(t, expected);
                    assert_eq!(seed_signature, signer.previous_signature());
                }
                (PayloadMode::StreamingUnsignedTrailer, None) => {}
                (other, _) => panic!("{hash}: {other:?}"),
            }
        }
        // A presigned URL cannot carry a chunked body.
        let q = presign(
            "PUT",
            "/b/k",
            &format!("X-Amz-Content-Sha256={STREAMING_PAYLOAD}"),
            "h",
            &creds,
            DEFAULT_REGION,
            t0,
            60,
        );
        let head = make_head("PUT", &format!("/b/k?{q}"), &[("host", "h")]);
        assert_eq!(
            code(authenticate(&head, &creds, t0)),
            S3ErrorCode::InvalidRequest
        );
    }
}
