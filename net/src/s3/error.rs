//! The one table of S3 error codes, and [`S3Error`], the error value every S3 handler returns.
//!
//! Each row of [`s3_error_codes!`] is a variant with its wire code string, HTTP status and
//! default message, taken from the S3 API reference ("List of error codes",
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>). Where AWS has a code
//! we use it verbatim so clients' retry and error logic works; the few minnow-specific rows say so.
//!
//! Invariants:
//! - every variant has a non-empty code, a status in 300..=599 and a non-empty message (tested);
//! - only [`S3ErrorCode::NotModified`] (304) answers without a body: see [`S3Error::has_body`].
//!
//! Handlers never write error responses themselves: they return `Err(S3Error)` and the server
//! renders [`S3Error::to_xml`] once.

use std::fmt;

use super::xml::escape_into;

/// Declares [`S3ErrorCode`] and its table from rows `Variant => (code, status, message)`.
macro_rules! s3_error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:literal, $message:literal), )*) => {
        /// An S3 error condition: wire code, HTTP status and default message come from one table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum S3ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl S3ErrorCode {
            /// Every code, in table order (for tests and documentation).
            pub const ALL: &'static [S3ErrorCode] = &[ $( S3ErrorCode::$variant, )* ];

            /// The `<Code>` string clients see.
            pub fn code(&self) -> &'static str {
                match self { $( S3ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status of the response.
            pub fn status(&self) -> u16 {
                match self { $( S3ErrorCode::$variant => $status, )* }
            }

            /// The default `<Message>`.
            pub fn message(&self) -> &'static str {
                match self { $( S3ErrorCode::$variant => $message, )* }
            }
        }
    };
}

s3_error_codes! {
    /// Authenticated but not allowed, or no credentials where they are required.
    AccessDenied => ("AccessDenied", 403, "Access Denied."),
    /// An ACL other than the owner's own: minnow buckets behave as S3's "bucket owner
    /// enforced" ones, where ACLs are disabled.
    AccessControlListNotSupported => ("AccessControlListNotSupported", 400,
        "The bucket does not allow ACLs."),
    /// The Authorization header cannot be parsed (SigV4 or SigV2).
    AuthorizationHeaderMalformed => ("AuthorizationHeaderMalformed", 400,
        "The authorization header that you provided is not valid."),
    /// Presigned-URL query parameters cannot be parsed.
    AuthorizationQueryParametersError => ("AuthorizationQueryParametersError", 400,
        "The authorization query parameters that you provided are not valid."),
    /// Content-MD5 does not match the body.
    BadDigest => ("BadDigest", 400, "The Content-MD5 you specified did not match what we received."),
    /// The bucket exists (owned by someone else; minnow has one owner, so rarely used).
    BucketAlreadyExists => ("BucketAlreadyExists", 409,
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."),
    /// CreateBucket of a bucket that already exists.
    BucketAlreadyOwnedByYou => ("BucketAlreadyOwnedByYou", 409,
        "Your previous request to create the named bucket succeeded and you already own it."),
    /// DeleteBucket of a bucket that still holds objects.
    BucketNotEmpty => ("BucketNotEmpty", 409, "The bucket you tried to delete is not empty."),
    /// Upload over the maximum object or part size.
    EntityTooLarge => ("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."),
    /// A non-final multipart part under the minimum part size.
    EntityTooSmall => ("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size."),
    /// A presigned URL past its expiry: AWS answers AccessDenied with this message.
    ExpiredPresignedRequest => ("AccessDenied", 403, "Request has expired."),
    /// AWS's code for a versioning configuration the bucket cannot take. The parser does not
    /// use it (a bad `Status` is MalformedXML, as AWS answers; `MfaDelete=Enabled` is
    /// NotImplemented): it is for a handler that refuses a valid document for this bucket.
    IllegalVersioningConfiguration => ("IllegalVersioningConfigurationException", 400,
        "The versioning configuration specified in the request is invalid."),
    /// The PUT was refused because its location constraint names another region.
    IllegalLocationConstraint => ("IllegalLocationConstraintException", 400,
        "The specified location constraint is not valid for the region of this endpoint."),
    /// The body ended before Content-Length (or x-amz-decoded-content-length) bytes.
    IncompleteBody => ("IncompleteBody", 400,
        "You did not provide the number of bytes specified by the Content-Length HTTP header."),
    /// A bug or an unexpected condition; the server logs the cause.
    InternalError => ("InternalError", 500, "We encountered an internal error. Please try again."),
    /// The access key is unknown.
    InvalidAccessKeyId => ("InvalidAccessKeyId", 403,
        "The AWS Access Key Id you provided does not exist in our records."),
    /// A query parameter or header has an invalid value.
    InvalidArgument => ("InvalidArgument", 400, "Invalid Argument."),
    /// CreateBucket with a name that breaks the bucket naming rules.
    InvalidBucketName => ("InvalidBucketName", 400, "The specified bucket is not valid."),
    /// A flexible checksum (x-amz-checksum-*) does not match the body; AWS reports BadDigest.
    InvalidChecksum => ("BadDigest", 400,
        "The checksum you specified did not match the calculated checksum."),
    /// Content-MD5 is not valid base64 of 16 bytes.
    InvalidDigest => ("InvalidDigest", 400, "The Content-MD5 you specified is not valid."),
    /// An object key minnow cannot store (`.`/`..` or empty segments, NUL, leading '/').
    /// Not an AWS code: AWS stores such keys, minnow maps keys onto directories and refuses them.
    InvalidObjectName => ("InvalidObjectName", 400, "Object name contains unsupported characters."),
    /// CompleteMultipartUpload names a part that was not uploaded or whose ETag differs.
    InvalidPart => ("InvalidPart", 400,
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."),
    /// CompleteMultipartUpload lists parts out of ascending order.
    InvalidPartOrder => ("InvalidPartOrder", 400,
        "The list of parts was not in ascending order. The parts list must be specified in order by part number."),
    /// GET/HEAD `?partNumber=` beyond the object's parts.
    InvalidPartNumber => ("InvalidPartNumber", 416, "The requested partnumber is not satisfiable."),
    /// A Range header outside the object.
    InvalidRange => ("InvalidRange", 416, "The requested range is not satisfiable."),
    /// A request that is well-formed but not acceptable as a whole.
    InvalidRequest => ("InvalidRequest", 400, "Invalid Request."),
    /// x-amz-storage-class names no storage class.
    InvalidStorageClass => ("InvalidStorageClass", 400, "The storage class you specified is not valid."),
    /// The request-target cannot be decoded (bad percent-encoding, not UTF-8, not a path).
    InvalidURI => ("InvalidURI", 400, "Couldn't parse the specified URI."),
    /// A tag set holds more tags than S3 allows (10 on an object, 50 on a bucket): S3 answers
    /// this one generic code, not InvalidTag.
    BadRequest => ("BadRequest", 400, "The request is not valid."),
    /// A tag set breaks S3's tag rules (key/value length, characters, duplicates, the reserved
    /// `aws:` prefix); the message says which.
    InvalidTag => ("InvalidTag", 400, "The TagSet is not valid."),
    /// Object key over 1024 bytes (or a key segment over 255 bytes).
    KeyTooLongError => ("KeyTooLongError", 400, "Your key is too long."),
    /// A request body is not well-formed XML or breaks the schema or its limits.
    MalformedXML => ("MalformedXML", 400,
        "The XML you provided was not well-formed or did not validate against our published schema."),
    /// A write would give one object more versions than minnow keeps (MinIO's code and
    /// status, for the same limit).
    MaxVersionsExceeded => ("MaxVersionsExceeded", 400,
        "You've exceeded the limit on the number of versions you can create on this object."),
    /// User metadata headers over the limit.
    MetadataTooLarge => ("MetadataTooLarge", 400,
        "Your metadata headers exceed the maximum allowed metadata size."),
    /// The method is not allowed on this resource; also GET/HEAD of a delete marker named by
    /// its version id (with `x-amz-delete-marker: true` and the marker's `x-amz-version-id`).
    MethodNotAllowed => ("MethodNotAllowed", 405, "The specified method is not allowed against this resource."),
    /// A PUT without Content-Length (and not aws-chunked with a decoded length).
    MissingContentLength => ("MissingContentLength", 411, "You must provide the Content-Length HTTP header."),
    /// A body was required (XML documents) but is empty.
    MissingRequestBodyError => ("MissingRequestBodyError", 400, "Request Body is empty."),
    /// A required header (x-amz-date, x-amz-content-sha256, ...) is missing.
    MissingSecurityHeader => ("MissingSecurityHeader", 400, "Your request is missing a required header."),
    /// The bucket does not exist (also: a name no bucket can have).
    NoSuchBucket => ("NoSuchBucket", 404, "The specified bucket does not exist."),
    /// GetBucketPolicy on a bucket without a policy.
    NoSuchBucketPolicy => ("NoSuchBucketPolicy", 404, "The bucket policy does not exist."),
    /// GetBucketCors on a bucket without CORS rules.
    NoSuchCORSConfiguration => ("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist."),
    /// The key does not exist.
    NoSuchKey => ("NoSuchKey", 404, "The specified key does not exist."),
    /// GetBucketLifecycleConfiguration on a bucket without lifecycle rules.
    NoSuchLifecycleConfiguration => ("NoSuchLifecycleConfiguration", 404,
        "The lifecycle configuration does not exist."),
    /// GetPublicAccessBlock on a bucket without one.
    NoSuchPublicAccessBlockConfiguration => ("NoSuchPublicAccessBlockConfiguration", 404,
        "The public access block configuration was not found."),
    /// GetBucketTagging on a bucket without tags.
    NoSuchTagSet => ("NoSuchTagSet", 404, "The TagSet does not exist."),
    /// The multipart upload id is unknown, aborted or completed.
    NoSuchUpload => ("NoSuchUpload", 404,
        "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."),
    /// The version id does not exist (the key may still exist).
    NoSuchVersion => ("NoSuchVersion", 404,
        "The specified version does not exist."),
    /// GetBucketWebsite on a bucket without a website configuration.
    NoSuchWebsiteConfiguration => ("NoSuchWebsiteConfiguration", 404,
        "The specified bucket does not have a website configuration."),
    /// A feature minnow does not implement.
    NotImplemented => ("NotImplemented", 501,
        "A header or query you provided implies functionality that is not implemented."),
    /// Conditional GET/HEAD matched (If-None-Match / If-Modified-Since): 304, no body.
    NotModified => ("NotModified", 304, "Not Modified."),
    /// Another operation on the same resource conflicts (lock not obtained in time).
    OperationAborted => ("OperationAborted", 409,
        "A conflicting conditional operation is currently in progress against this resource. Please try again."),
    /// GetObjectLockConfiguration on a bucket without object lock.
    ObjectLockConfigurationNotFound => ("ObjectLockConfigurationNotFoundError", 404,
        "Object Lock configuration does not exist for this bucket."),
    /// GetBucketOwnershipControls on a bucket without them.
    OwnershipControlsNotFound => ("OwnershipControlsNotFoundError", 404,
        "The bucket ownership controls were not found."),
    /// If-Match / If-Unmodified-Since (or the copy-source variants) failed.
    PreconditionFailed => ("PreconditionFailed", 412,
        "At least one of the pre-conditions you specified did not hold."),
    /// GetBucketReplication on a bucket without replication.
    ReplicationConfigurationNotFound => ("ReplicationConfigurationNotFoundError", 404,
        "The replication configuration was not found."),
    /// The client stopped sending the body.
    RequestTimeout => ("RequestTimeout", 400,
        "Your socket connection to the server was not read from or written to within the timeout period."),
    /// x-amz-date (or Date) too far from the server clock.
    RequestTimeTooSkewed => ("RequestTimeTooSkewed", 403,
        "The difference between the request time and the server's time is too large."),
    /// GetBucketEncryption on a bucket without default encryption.
    ServerSideEncryptionConfigurationNotFound => ("ServerSideEncryptionConfigurationNotFoundError", 404,
        "The server side encryption configuration was not found."),
    /// The server cannot serve now (starting up, too few drives).
    ServiceUnavailable => ("ServiceUnavailable", 503, "Please reduce your request rate."),
    /// The signature does not match.
    SignatureDoesNotMatch => ("SignatureDoesNotMatch", 403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."),
    /// Too busy for this request now: a lock or request memory not granted in time (S3's
    /// throttling answer; clients back off and retry).
    SlowDown => ("SlowDown", 503, "Please reduce your request rate."),
    /// Read quorum not reached (MinIO's code; clients retry 503).
    SlowDownRead => ("SlowDownRead", 503, "Resource requested is unreadable, please reduce your request rate."),
    /// Write quorum not reached (MinIO's code; clients retry 503).
    SlowDownWrite => ("SlowDownWrite", 503, "Resource requested is unwritable, please reduce your request rate."),
    /// A write failed because the drives are out of space (MinIO's code and status).
    StorageFull => ("XMinioStorageFull", 507,
        "The drives are out of space. Delete objects to make room, or add drives."),
    /// The x-amz-content-sha256 header does not match the body.
    XAmzContentSHA256Mismatch => ("XAmzContentSHA256Mismatch", 400,
        "The provided 'x-amz-content-sha256' header does not match what was computed."),
}

impl fmt::Display for S3ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An S3 error as returned to a client: a code, an optional specific message, and the
/// resource (request path) it concerns, which the server fills in if the handler did not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    /// The condition.
    pub code: S3ErrorCode,
    /// A specific message; `None` renders the code's default message.
    pub message: Option<String>,
    /// The request path the error concerns (`/bucket/key`), "" when unknown.
    pub resource: String,
    /// Extra elements S3 adds for some errors (`HeadersNotSigned`, `Region`), in order.
    pub details: Vec<(&'static str, String)>,
    /// Extra response headers S3 sends with some errors, in order: `x-amz-delete-marker: true`
    /// and `x-amz-version-id` when a GET/HEAD/DELETE meets a delete marker. Names are
    /// lowercase; the server writes them after its own headers.
    pub headers: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with the code's default message.
    pub fn new(code: S3ErrorCode) -> Self {
        S3Error {
            code,
            message: None,
            resource: String::new(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// An error with a specific message.
    pub fn with_message(code: S3ErrorCode, message: impl Into<String>) -> Self {
        S3Error {
            code,
            message: Some(message.into()),
            resource: String::new(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Sets the resource (request path).
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = resource.into();
        self
    }

    /// Adds an extra element `<name>value</name>` to the error document.
    pub fn with_detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// Adds a response header (lowercase name) to send with the error.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        debug_assert!(
            !name.bytes().any(|b| b.is_ascii_uppercase()),
            "header names are lowercase: {name}"
        );
        self.headers.push((name, value.into()));
        self
    }

    /// The error S3 answers when a request meets a delete marker: `x-amz-delete-marker: true`
    /// and the marker's `x-amz-version-id` (`version_id` is the wire id, "null" for the null
    /// version). GET/HEAD without a version id answer `NoSuchKey` (404) this way, GET/HEAD of
    /// the marker's own version id `MethodNotAllowed` (405), to which S3 also adds the marker's
    /// `last-modified` (the handler adds it with [`S3Error::with_header`]).
    pub fn delete_marker(code: S3ErrorCode, version_id: &str) -> Self {
        S3Error::new(code)
            .with_header("x-amz-delete-marker", "true")
            .with_header("x-amz-version-id", version_id)
    }

    /// The value of an extra response header, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of an extra element, if set.
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The message to send: the specific one, else the code's default.
    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .unwrap_or_else(|| self.code.message())
    }

    /// HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// False for 304 Not Modified, which must be sent without a body (and HEAD requests never
    /// get one either: the server checks the method).
    pub fn has_body(&self) -> bool {
        self.code.status() != 304
    }

    /// The response body:
    /// `<Error><Code/><Message/>[details]<Resource/><RequestId/><HostId/></Error>`, XML-escaped.
    pub fn to_xml(&self, request_id: &str, host_id: &str) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
        escape_into(&mut out, self.code.code());
        out.push_str("</Code><Message>");
        escape_into(&mut out, self.message());
        out.push_str("</Message>");
        for (name, value) in &self.details {
            out.push_str(&format!("<{name}>"));
            escape_into(&mut out, value);
            out.push_str(&format!("</{name}>"));
        }
        out.push_str("<Resource>");
        escape_into(&mut out, &self.resource);
        out.push_str("</Resource><RequestId>");
        escape_into(&mut out, request_id);
        out.push_str("</RequestId><HostId>");
        escape_into(&mut out, host_id);
        out.push_str("</HostId></Error>");
        out
    }
}

impl From<S3ErrorCode> for S3Error {
    fn from(code: S3ErrorCode) -> Self {
        S3Error::new(code)
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.code(),
            self.code.status(),
            self.message()
        )?;
        for (name, value) in &self.details {
            write!(f, " {name}={value}")?;
        }
        if !self.resource.is_empty() {
            write!(f, " [{}]", self.resource)?;
        }
        Ok(())
    }
}

impl std::error::Error for S3Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_has_status_and_message() {
        assert!(S3ErrorCode::ALL.len() >= 40);
        let mut variants = HashSet::new();
        for code in S3ErrorCode::ALL {
            assert!(variants.insert(*code), "{code:?} listed twice");
            assert!(!code.code().is_empty(), "{code:?}");
            assert!(
                code.code().chars().all(|c| c.is_ascii_alphanumeric()),
                "{code:?}"
            );
            assert!((300..=599).contains(&code.status()), "{code:?}");
            assert!(!code.message().is_empty(), "{code:?}");
            assert!(code.message().ends_with('.'), "{code:?}");
        }
    }

    #[test]
    fn known_statuses() {
        #[rustfmt::skip]
        let table = [
            (S3ErrorCode::AccessDenied, "AccessDenied", 403),
            (S3ErrorCode::ExpiredPresignedRequest, "AccessDenied", 403),
            (S3ErrorCode::NoSuchKey, "NoSuchKey", 404),
            (S3ErrorCode::NoSuchBucket, "NoSuchBucket", 404),
            (S3ErrorCode::BucketNotEmpty, "BucketNotEmpty", 409),
            (S3ErrorCode::MethodNotAllowed, "MethodNotAllowed", 405),
            (S3ErrorCode::MissingContentLength, "MissingContentLength", 411),
            (S3ErrorCode::PreconditionFailed, "PreconditionFailed", 412),
            (S3ErrorCode::InvalidRange, "InvalidRange", 416),
            (S3ErrorCode::InternalError, "InternalError", 500),
            (S3ErrorCode::NotImplemented, "NotImplemented", 501),
            (S3ErrorCode::SlowDown, "SlowDown", 503),
            (S3ErrorCode::SlowDownRead, "SlowDownRead", 503),
            (S3ErrorCode::SlowDownWrite, "SlowDownWrite", 503),
            (S3ErrorCode::StorageFull, "XMinioStorageFull", 507),
            (S3ErrorCode::NotModified, "NotModified", 304),
            (S3ErrorCode::InvalidChecksum, "BadDigest", 400),
            (S3ErrorCode::KeyTooLongError, "KeyTooLongError", 400),
            (S3ErrorCode::NoSuchVersion, "NoSuchVersion", 404),
            (S3ErrorCode::NoSuchTagSet, "NoSuchTagSet", 404),
            (S3ErrorCode::InvalidTag, "InvalidTag", 400),
            (S3ErrorCode::BadRequest, "BadRequest", 400),
            (S3ErrorCode::MaxVersionsExceeded, "MaxVersionsExceeded", 400),
            (S3ErrorCode::IllegalVersioningConfiguration, "IllegalVersioningConfigurationException", 400),
        ];
        for (code, text, status) in table {
            assert_eq!(code.code(), text);
            assert_eq!(code.status(), status);
        }
        assert!(!S3Error::new(S3ErrorCode::NotModified).has_body());
        assert!(S3Error::new(S3ErrorCode::NoSuchKey).has_body());
    }

    #[test]
    fn error_xml_golden() {
        let err = S3Error::new(S3ErrorCode::NoSuchKey).with_resource("/b/a&b<c>");
        assert_eq!(
            err.to_xml("17A2B3C4D5E6F708", "host-1"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message>\
             <Resource>/b/a&amp;b&lt;c&gt;</Resource><RequestId>17A2B3C4D5E6F708</RequestId>\
             <HostId>host-1</HostId></Error>"
        );
        let err = S3Error::with_message(S3ErrorCode::InvalidArgument, "max-keys \"x\" 'y'");
        let xml = err.to_xml("r", "");
        assert!(
            xml.contains("<Message>max-keys &quot;x&quot; &apos;y&apos;</Message>"),
            "{xml}"
        );
        assert!(xml.contains("<Resource></Resource>"), "{xml}");
        assert_eq!(err.to_string(), "InvalidArgument (400): max-keys \"x\" 'y'");

        let err =
            S3Error::new(S3ErrorCode::AccessDenied).with_detail("HeadersNotSigned", "x-amz-a&b");
        assert_eq!(err.detail("HeadersNotSigned"), Some("x-amz-a&b"));
        let xml = err.to_xml("r", "");
        assert!(
            xml.contains("</Message><HeadersNotSigned>x-amz-a&amp;b</HeadersNotSigned><Resource>"),
            "{xml}"
        );
    }

    #[test]
    fn delete_marker_errors_carry_headers() {
        let err = S3Error::delete_marker(S3ErrorCode::MethodNotAllowed, "null");
        assert_eq!(err.status(), 405);
        assert_eq!(err.header("x-amz-delete-marker"), Some("true"));
        assert_eq!(err.header("x-amz-version-id"), Some("null"));
        assert_eq!(err.header("x-amz-other"), None);
        assert_eq!(
            err.headers,
            vec![
                ("x-amz-delete-marker", "true".to_owned()),
                ("x-amz-version-id", "null".to_owned())
            ]
        );
        // Headers are not part of the document.
        assert!(
            !err.to_xml("r", "").contains("x-amz"),
            "{}",
            err.to_xml("r", "")
        );
        let err = S3Error::new(S3ErrorCode::NoSuchKey).with_header("x-amz-version-id", "v");
        assert_eq!(err.header("x-amz-version-id"), Some("v"));
        assert!(S3Error::new(S3ErrorCode::NoSuchKey).headers.is_empty());
    }
}
