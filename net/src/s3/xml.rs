//! S3 XML bodies: renderers for the response documents and bounded parsers for the request
//! documents minnow reads (CompleteMultipartUpload, Delete, CreateBucketConfiguration,
//! VersioningConfiguration; Tagging lives in [`super::tagging`] with the tag rules).
//!
//! Renderers take plain structs defined here (the server fills them from its own types, so this
//! crate stays free of storage types) and write the document directly into a `String`: the
//! shapes are fixed and small, and a writer library would add nothing but allocations.
//! Every text node goes through [`escape_into`]. Documents start with
//! `<?xml version="1.0" encoding="UTF-8"?>` and the root carries
//! `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, as S3's do. Timestamps are ISO-8601 UTC
//! with milliseconds (`2024-01-02T03:04:05.000Z`); ETags are given unquoted and rendered quoted.
//!
//! With `encoding-type=url` S3 URL-encodes keys, prefixes, delimiters and markers in list
//! answers so that keys with characters XML 1.0 cannot carry still round-trip; botocore decodes
//! them with `unquote_plus`, so a '+' must be sent as `%2B` and every byte outside RFC 3986's
//! unreserved set (and '/') is percent-encoded.
//!
//! Parsers read the whole body (the caller reads at most `MAX_*_XML_BYTES + 1` bytes and passes
//! them in), refuse more than the limit, DOCTYPEs, unknown entities, mismatched or unclosed tags,
//! more than [`MAX_XML_DEPTH`] levels and more elements than the document can legitimately hold;
//! every such failure is MalformedXML. Unknown elements are ignored, as S3 does, so newer clients
//! that add fields still work.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use quick_xml::events::Event;
use quick_xml::Reader;

use super::error::{S3Error, S3ErrorCode};

/// The S3 namespace on every response root element.
pub const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Largest CompleteMultipartUpload body: 10000 parts, each with an ETag and up to five
/// checksums, fit in well under this.
pub const MAX_COMPLETE_XML_BYTES: usize = 4 << 20;
/// Largest Delete body: 1000 keys of up to 1024 bytes, even fully escaped, fit under this.
pub const MAX_DELETE_XML_BYTES: usize = 4 << 20;
/// Largest CreateBucketConfiguration body.
pub const MAX_CREATE_BUCKET_XML_BYTES: usize = 64 << 10;
/// Largest VersioningConfiguration body (the real one is under 200 bytes).
pub const MAX_VERSIONING_XML_BYTES: usize = 16 << 10;
/// Most objects in one DeleteObjects request (S3's limit).
pub const MAX_DELETE_OBJECTS: usize = 1000;
/// Most parts in one CompleteMultipartUpload (S3's limit; part numbers are 1..=10000).
pub const MAX_COMPLETE_PARTS: usize = 10_000;
/// Deepest element nesting accepted in a request document (the real ones have 3 levels).
pub const MAX_XML_DEPTH: usize = 8;

// ---------------------------------------------------------------------------------------------
// Escaping, encoding, timestamps

/// Appends `text` XML-escaped: the five predefined entities, and character references for
/// CR and the other control characters (XML 1.0 cannot carry them raw; S3 does the same).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `text` XML-escaped, as a new string.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Bytes S3 leaves alone under `encoding-type=url`: RFC 3986 unreserved and '/'.
const URL_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// `text` as S3 renders it under `encoding-type=url`.
pub fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, URL_ENCODE_SET).to_string()
}

/// A Unix time in nanoseconds as `2024-01-02T03:04:05.000Z` (UTC, milliseconds, truncated).
/// Times outside years 0..=9999 clamp to the Unix epoch.
pub fn format_timestamp(unix_ns: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ns))
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

/// `"etag"`: S3 returns ETags quoted. An ETag that is already quoted is kept as is.
fn quoted_etag(etag: &str) -> String {
    if etag.len() >= 2 && etag.starts_with('"') && etag.ends_with('"') {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

/// A small appender for fixed-shape documents.
struct Doc {
    out: String,
}

impl Doc {
    fn new(root: &str) -> Doc {
        let mut out = String::with_capacity(1024);
        out.push_str(XML_DECL);
        let _ = write!(out, "<{root} xmlns=\"{S3_XMLNS}\">");
        Doc { out }
    }

    fn open(&mut self, name: &str) {
        let _ = write!(self.out, "<{name}>");
    }

    fn close(&mut self, name: &str) {
        let _ = write!(self.out, "</{name}>");
    }

    /// `<name>escaped text</name>`
    fn text(&mut self, name: &str, text: &str) {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name);
    }

    /// `<name>text</name>`, URL-encoded first when `url` is set.
    fn text_url(&mut self, name: &str, text: &str, url: bool) {
        if url {
            self.text(name, &url_encode(text));
        } else {
            self.text(name, text);
        }
    }

    fn opt_text(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.text(name, text);
        }
    }

    fn opt_text_url(&mut self, name: &str, text: Option<&str>, url: bool) {
        if let Some(text) = text {
            self.text_url(name, text, url);
        }
    }

    fn number(&mut self, name: &str, n: impl std::fmt::Display) {
        let _ = write!(self.out, "<{name}>{n}</{name}>");
    }

    fn boolean(&mut self, name: &str, b: bool) {
        self.text(name, if b { "true" } else { "false" });
    }

    fn timestamp(&mut self, name: &str, unix_ns: i64) {
        self.text(name, &format_timestamp(unix_ns));
    }

    fn etag(&mut self, etag: &str) {
        self.text("ETag", &quoted_etag(etag));
    }

    /// `<ChecksumCRC32>..</ChecksumCRC32>` etc. for `("CRC32", base64)` pairs.
    fn checksums(&mut self, checksums: &[(String, String)]) {
        for (algorithm, value) in checksums {
            self.text(&format!("Checksum{algorithm}"), value);
        }
    }

    fn owner(&mut self, name: &str, owner: &Owner) {
        self.open(name);
        self.text("ID", &owner.id);
        self.text("DisplayName", &owner.display_name);
        self.close(name);
    }

    fn common_prefixes(&mut self, prefixes: &[String], url: bool) {
        for prefix in prefixes {
            self.open("CommonPrefixes");
            self.text_url("Prefix", prefix, url);
            self.close("CommonPrefixes");
        }
    }

    fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.out
    }
}

// ---------------------------------------------------------------------------------------------
// Response documents

/// The owner shown in listings and ACLs (minnow has one: the root credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Canonical user id.
    pub id: String,
    /// Display name.
    pub display_name: String,
}

/// One bucket in ListAllMyBucketsResult.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketEntry {
    /// Bucket name.
    pub name: String,
    /// Creation time, Unix nanoseconds.
    pub created_ns: i64,
}

/// ListBuckets answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListAllMyBucketsResult {
    /// The owner of all buckets.
    pub owner: Owner,
    /// Buckets, in name order.
    pub buckets: Vec<BucketEntry>,
    /// Set when the answer is truncated (max-buckets).
    pub continuation_token: Option<String>,
    /// The prefix asked for, echoed.
    pub prefix: Option<String>,
}

impl ListAllMyBucketsResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "ListAllMyBucketsResult";
        let mut doc = Doc::new(ROOT);
        doc.owner("Owner", &self.owner);
        doc.open("Buckets");
        for bucket in &self.buckets {
            doc.open("Bucket");
            doc.text("Name", &bucket.name);
            doc.timestamp("CreationDate", bucket.created_ns);
            doc.close("Bucket");
        }
        doc.close("Buckets");
        doc.opt_text("ContinuationToken", self.continuation_token.as_deref());
        doc.opt_text("Prefix", self.prefix.as_deref());
        doc.finish(ROOT)
    }
}

/// One object in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectEntry {
    /// Object key.
    pub key: String,
    /// Modification time, Unix nanoseconds.
    pub last_modified_ns: i64,
    /// ETag, unquoted.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// "STANDARD", "REDUCED_REDUNDANCY", ...
    pub storage_class: String,
    /// Algorithm of the object's flexible checksum ("CRC32", ...), if it has one.
    pub checksum_algorithm: Option<String>,
}

/// The version-specific part of ListBucketResult.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListVersion {
    /// ListObjects (v1).
    V1 {
        /// The marker asked for ("" when none).
        marker: String,
        /// Where the next page starts; S3 sends it only when truncated and a delimiter was
        /// given (clients otherwise continue from the last key).
        next_marker: Option<String>,
    },
    /// ListObjectsV2.
    V2 {
        /// The token asked for, echoed.
        continuation_token: Option<String>,
        /// The token for the next page, when truncated.
        next_continuation_token: Option<String>,
        /// The start-after asked for, echoed.
        start_after: Option<String>,
    },
}

/// ListObjects (v1) and ListObjectsV2 answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListBucketResult {
    /// Bucket name.
    pub bucket: String,
    /// The prefix asked for ("" when none).
    pub prefix: String,
    /// The delimiter asked for.
    pub delimiter: Option<String>,
    /// The max-keys in effect.
    pub max_keys: usize,
    /// More entries follow.
    pub is_truncated: bool,
    /// `encoding-type=url` was asked for.
    pub encoding_type_url: bool,
    /// Owner rendered in each entry: v1 always sets it, v2 only with fetch-owner=true.
    pub owner: Option<Owner>,
    /// Objects, in key order.
    pub objects: Vec<ObjectEntry>,
    /// Common prefixes (with a delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// v1 or v2 fields.
    pub version: ListVersion,
}

impl ListBucketResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "ListBucketResult";
        let url = self.encoding_type_url;
        let mut doc = Doc::new(ROOT);
        doc.text("Name", &self.bucket);
        doc.text_url("Prefix", &self.prefix, url);
        match &self.version {
            ListVersion::V1 {
                marker,
                next_marker,
            } => {
                doc.text_url("Marker", marker, url);
                if self.is_truncated && self.delimiter.is_some() {
                    doc.opt_text_url("NextMarker", next_marker.as_deref(), url);
                }
                doc.number("MaxKeys", self.max_keys);
            }
            ListVersion::V2 {
                continuation_token,
                next_continuation_token,
                start_after,
            } => {
                doc.opt_text("ContinuationToken", continuation_token.as_deref());
                if self.is_truncated {
                    doc.opt_text("NextContinuationToken", next_continuation_token.as_deref());
                }
                doc.number("KeyCount", self.objects.len() + self.common_prefixes.len());
                doc.number("MaxKeys", self.max_keys);
                doc.opt_text_url("StartAfter", start_after.as_deref(), url);
            }
        }
        doc.opt_text_url("Delimiter", self.delimiter.as_deref(), url);
        doc.boolean("IsTruncated", self.is_truncated);
        if url {
            doc.text("EncodingType", "url");
        }
        for object in &self.objects {
            doc.open("Contents");
            doc.text_url("Key", &object.key, url);
            doc.timestamp("LastModified", object.last_modified_ns);
            doc.etag(&object.etag);
            doc.opt_text("ChecksumAlgorithm", object.checksum_algorithm.as_deref());
            doc.number("Size", object.size);
            if let Some(owner) = &self.owner {
                doc.owner("Owner", owner);
            }
            doc.text("StorageClass", &object.storage_class);
            doc.close("Contents");
        }
        doc.common_prefixes(&self.common_prefixes, url);
        doc.finish(ROOT)
    }
}

/// One entry of ListVersionsResult: an object version or a delete marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionEntry {
    /// Object key.
    pub key: String,
    /// Version id; "null" for the null version.
    pub version_id: String,
    /// This is the current version.
    pub is_latest: bool,
    /// Modification time, Unix nanoseconds.
    pub last_modified_ns: i64,
    /// ETag, unquoted (ignored for delete markers).
    pub etag: String,
    /// Size in bytes (ignored for delete markers).
    pub size: u64,
    /// Storage class (ignored for delete markers).
    pub storage_class: String,
    /// A delete marker rather than a version.
    pub delete_marker: bool,
}

/// ListObjectVersions answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListVersionsResult {
    /// Bucket name.
    pub bucket: String,
    /// The prefix asked for.
    pub prefix: String,
    /// The key-marker asked for ("" when none).
    pub key_marker: String,
    /// The version-id-marker asked for ("" when none).
    pub version_id_marker: String,
    /// Next key-marker, when truncated.
    pub next_key_marker: Option<String>,
    /// Next version-id-marker, when truncated.
    pub next_version_id_marker: Option<String>,
    /// The max-keys in effect.
    pub max_keys: usize,
    /// The delimiter asked for.
    pub delimiter: Option<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// `encoding-type=url` was asked for.
    pub encoding_type_url: bool,
    /// Owner of every entry.
    pub owner: Owner,
    /// Versions and delete markers in key order, newest version first within a key.
    pub entries: Vec<VersionEntry>,
    /// Common prefixes.
    pub common_prefixes: Vec<String>,
}

impl ListVersionsResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "ListVersionsResult";
        let url = self.encoding_type_url;
        let mut doc = Doc::new(ROOT);
        doc.text("Name", &self.bucket);
        doc.text_url("Prefix", &self.prefix, url);
        doc.text_url("KeyMarker", &self.key_marker, url);
        doc.text("VersionIdMarker", &self.version_id_marker);
        if self.is_truncated {
            doc.opt_text_url("NextKeyMarker", self.next_key_marker.as_deref(), url);
            doc.opt_text(
                "NextVersionIdMarker",
                self.next_version_id_marker.as_deref(),
            );
        }
        doc.number("MaxKeys", self.max_keys);
        doc.opt_text_url("Delimiter", self.delimiter.as_deref(), url);
        doc.boolean("IsTruncated", self.is_truncated);
        if url {
            doc.text("EncodingType", "url");
        }
        for entry in &self.entries {
            let name = if entry.delete_marker {
                "DeleteMarker"
            } else {
                "Version"
            };
            doc.open(name);
            doc.text_url("Key", &entry.key, url);
            doc.text("VersionId", &entry.version_id);
            doc.boolean("IsLatest", entry.is_latest);
            doc.timestamp("LastModified", entry.last_modified_ns);
            if !entry.delete_marker {
                doc.etag(&entry.etag);
                doc.number("Size", entry.size);
                doc.text("StorageClass", &entry.storage_class);
            }
            doc.owner("Owner", &self.owner);
            doc.close(name);
        }
        doc.common_prefixes(&self.common_prefixes, url);
        doc.finish(ROOT)
    }
}

/// CreateMultipartUpload answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitiateMultipartUploadResult {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// The new upload id.
    pub upload_id: String,
}

impl InitiateMultipartUploadResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "InitiateMultipartUploadResult";
        let mut doc = Doc::new(ROOT);
        doc.text("Bucket", &self.bucket);
        doc.text("Key", &self.key);
        doc.text("UploadId", &self.upload_id);
        doc.finish(ROOT)
    }
}

/// CompleteMultipartUpload answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompleteMultipartUploadResult {
    /// URL of the object (`http://host/bucket/key`).
    pub location: String,
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// The multipart ETag (`<md5 of part md5s>-<parts>`), unquoted.
    pub etag: String,
    /// Object checksums as `("CRC32", base64)`.
    pub checksums: Vec<(String, String)>,
}

impl CompleteMultipartUploadResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "CompleteMultipartUploadResult";
        let mut doc = Doc::new(ROOT);
        doc.text("Location", &self.location);
        doc.text("Bucket", &self.bucket);
        doc.text("Key", &self.key);
        doc.etag(&self.etag);
        doc.checksums(&self.checksums);
        doc.finish(ROOT)
    }
}

/// One part in ListPartsResult.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartEntry {
    /// Part number.
    pub part_number: u32,
    /// Upload time, Unix nanoseconds.
    pub last_modified_ns: i64,
    /// ETag, unquoted.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Part checksums as `("CRC32", base64)`.
    pub checksums: Vec<(String, String)>,
}

/// ListParts answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPartsResult {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Initiator and owner.
    pub owner: Owner,
    /// Storage class of the upload.
    pub storage_class: String,
    /// The part-number-marker asked for.
    pub part_number_marker: u32,
    /// The last part number listed (the marker for the next page).
    pub next_part_number_marker: u32,
    /// The max-parts in effect.
    pub max_parts: usize,
    /// More parts follow.
    pub is_truncated: bool,
    /// The upload's checksum algorithm, if any.
    pub checksum_algorithm: Option<String>,
    /// Parts in number order.
    pub parts: Vec<PartEntry>,
}

impl ListPartsResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "ListPartsResult";
        let mut doc = Doc::new(ROOT);
        doc.text("Bucket", &self.bucket);
        doc.text("Key", &self.key);
        doc.text("UploadId", &self.upload_id);
        doc.owner("Initiator", &self.owner);
        doc.owner("Owner", &self.owner);
        doc.text("StorageClass", &self.storage_class);
        doc.number("PartNumberMarker", self.part_number_marker);
        doc.number("NextPartNumberMarker", self.next_part_number_marker);
        doc.number("MaxParts", self.max_parts);
        doc.boolean("IsTruncated", self.is_truncated);
        doc.opt_text("ChecksumAlgorithm", self.checksum_algorithm.as_deref());
        for part in &self.parts {
            doc.open("Part");
            doc.number("PartNumber", part.part_number);
            doc.timestamp("LastModified", part.last_modified_ns);
            doc.etag(&part.etag);
            doc.number("Size", part.size);
            doc.checksums(&part.checksums);
            doc.close("Part");
        }
        doc.finish(ROOT)
    }
}

/// One upload in ListMultipartUploadsResult.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadEntry {
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Start time, Unix nanoseconds.
    pub initiated_ns: i64,
    /// Storage class of the upload.
    pub storage_class: String,
}

/// ListMultipartUploads answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListMultipartUploadsResult {
    /// Bucket name.
    pub bucket: String,
    /// The key-marker asked for ("" when none).
    pub key_marker: String,
    /// The upload-id-marker asked for ("" when none).
    pub upload_id_marker: String,
    /// Next key-marker (when truncated).
    pub next_key_marker: Option<String>,
    /// Next upload-id-marker (when truncated).
    pub next_upload_id_marker: Option<String>,
    /// The delimiter asked for.
    pub delimiter: Option<String>,
    /// The prefix asked for.
    pub prefix: String,
    /// The max-uploads in effect.
    pub max_uploads: usize,
    /// More uploads follow.
    pub is_truncated: bool,
    /// `encoding-type=url` was asked for.
    pub encoding_type_url: bool,
    /// Initiator and owner of every upload.
    pub owner: Owner,
    /// Uploads in (key, initiation) order.
    pub uploads: Vec<UploadEntry>,
    /// Common prefixes.
    pub common_prefixes: Vec<String>,
}

impl ListMultipartUploadsResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "ListMultipartUploadsResult";
        let url = self.encoding_type_url;
        let mut doc = Doc::new(ROOT);
        doc.text("Bucket", &self.bucket);
        doc.text_url("KeyMarker", &self.key_marker, url);
        doc.text("UploadIdMarker", &self.upload_id_marker);
        if self.is_truncated {
            doc.opt_text_url("NextKeyMarker", self.next_key_marker.as_deref(), url);
            doc.opt_text("NextUploadIdMarker", self.next_upload_id_marker.as_deref());
        }
        doc.opt_text_url("Delimiter", self.delimiter.as_deref(), url);
        doc.text_url("Prefix", &self.prefix, url);
        doc.number("MaxUploads", self.max_uploads);
        doc.boolean("IsTruncated", self.is_truncated);
        if url {
            doc.text("EncodingType", "url");
        }
        for upload in &self.uploads {
            doc.open("Upload");
            doc.text_url("Key", &upload.key, url);
            doc.text("UploadId", &upload.upload_id);
            doc.owner("Initiator", &self.owner);
            doc.owner("Owner", &self.owner);
            doc.text("StorageClass", &upload.storage_class);
            doc.timestamp("Initiated", upload.initiated_ns);
            doc.close("Upload");
        }
        doc.common_prefixes(&self.common_prefixes, url);
        doc.finish(ROOT)
    }
}

/// CopyObject and UploadPartCopy answers (same fields, different root element).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyResult {
    /// Modification time of the new object / part, Unix nanoseconds.
    pub last_modified_ns: i64,
    /// ETag of the new object / part, unquoted.
    pub etag: String,
    /// Checksums as `("CRC32", base64)`.
    pub checksums: Vec<(String, String)>,
}

impl CopyResult {
    /// `<CopyObjectResult>` for CopyObject.
    pub fn to_copy_object_xml(&self) -> String {
        self.render("CopyObjectResult")
    }

    /// `<CopyPartResult>` for UploadPartCopy.
    pub fn to_copy_part_xml(&self) -> String {
        self.render("CopyPartResult")
    }

    fn render(&self, root: &str) -> String {
        let mut doc = Doc::new(root);
        doc.timestamp("LastModified", self.last_modified_ns);
        doc.etag(&self.etag);
        doc.checksums(&self.checksums);
        doc.finish(root)
    }
}

/// A key removed by DeleteObjects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedEntry {
    /// Object key.
    pub key: String,
    /// Version id asked for, echoed.
    pub version_id: Option<String>,
    /// A delete marker was created or removed.
    pub delete_marker: bool,
    /// Version id of that delete marker.
    pub delete_marker_version_id: Option<String>,
}

/// A key DeleteObjects could not remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteErrorEntry {
    /// Object key.
    pub key: String,
    /// Version id asked for, echoed.
    pub version_id: Option<String>,
    /// Why (code and message are rendered).
    pub error: S3Error,
}

/// DeleteObjects answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteResult {
    /// Quiet mode: only errors are reported.
    pub quiet: bool,
    /// Keys removed (a key that did not exist counts as removed, as in S3).
    pub deleted: Vec<DeletedEntry>,
    /// Keys that failed.
    pub errors: Vec<DeleteErrorEntry>,
}

impl DeleteResult {
    /// The XML document.
    pub fn to_xml(&self) -> String {
        const ROOT: &str = "DeleteResult";
        let mut doc = Doc::new(ROOT);
        if !self.quiet {
            for entry in &self.deleted {
                doc.open("Deleted");
                doc.text("Key", &entry.key);
                doc.opt_text("VersionId", entry.version_id.as_deref());
                if entry.delete_marker {
                    doc.boolean("DeleteMarker", true);
                    doc.opt_text(
                        "DeleteMarkerVersionId",
                        entry.delete_marker_version_id.as_deref(),
                    );
                }
                doc.close("Deleted");
            }
        }
        for entry in &self.errors {
            doc.open("Error");
            doc.text("Key", &entry.key);
            doc.opt_text("VersionId", entry.version_id.as_deref());
            doc.text("Code", entry.error.code.code());
            doc.text("Message", entry.error.message());
            doc.close("Error");
        }
        doc.finish(ROOT)
    }
}

/// GetBucketLocation answer. us-east-1 (and "") render as an empty element, as S3 does.
pub fn location_constraint_xml(region: &str) -> String {
    const ROOT: &str = "LocationConstraint";
    let mut doc = Doc::new(ROOT);
    if region != "us-east-1" {
        escape_into(&mut doc.out, region);
    }
    doc.finish(ROOT)
}

/// A bucket's versioning status as S3 spells it on the wire (`<Status>`). A bucket that was
/// never versioned has none: `Option<VersioningStatus>` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersioningStatus {
    /// `Enabled`: every write gets a new version id.
    Enabled,
    /// `Suspended`: writes are the null version again; older versions stay.
    Suspended,
}

impl VersioningStatus {
    /// `"Enabled"` / `"Suspended"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }
}

/// GetBucketVersioning answer: `None` = never enabled (an empty
/// `<VersioningConfiguration/>`, as S3 answers), else `<Status>Enabled|Suspended</Status>`.
/// MFA delete is never on in minnow, so `<MfaDelete>` is never sent (S3 sends it only for a
/// bucket that was once configured with it).
pub fn versioning_configuration_xml(status: Option<VersioningStatus>) -> String {
    const ROOT: &str = "VersioningConfiguration";
    let mut doc = Doc::new(ROOT);
    doc.opt_text("Status", status.map(VersioningStatus::as_str));
    doc.finish(ROOT)
}

/// GetBucketAcl / GetObjectAcl answer: the owner has FULL_CONTROL, nobody else has a grant.
pub fn access_control_policy_xml(owner: &Owner) -> String {
    const ROOT: &str = "AccessControlPolicy";
    let mut doc = Doc::new(ROOT);
    doc.owner("Owner", owner);
    doc.open("AccessControlList");
    doc.open("Grant");
    doc.out.push_str(
        "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">",
    );
    doc.text("ID", &owner.id);
    doc.text("DisplayName", &owner.display_name);
    doc.close("Grantee");
    doc.text("Permission", "FULL_CONTROL");
    doc.close("Grant");
    doc.close("AccessControlList");
    doc.finish(ROOT)
}

// ---------------------------------------------------------------------------------------------
// Request documents

/// One `<Part>` of a CompleteMultipartUpload request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedPart {
    /// 1..=10000.
    pub part_number: u32,
    /// ETag as sent, without surrounding quotes and whitespace.
    pub etag: String,
    /// Checksums sent for the part, as `("CRC32", base64)` (`CRC32`, `CRC32C`, `CRC64NVME`,
    /// `SHA1`, `SHA256`).
    pub checksums: Vec<(String, String)>,
}

/// A Delete request (DeleteObjects body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRequest {
    /// `<Quiet>true</Quiet>`: answer only the errors.
    pub quiet: bool,
    /// 1..=1000 objects, in request order. Keys are exactly as sent (not validated here: the
    /// server reports invalid keys per object, see [`super::router::check_object_key`]).
    pub objects: Vec<ObjectToDelete>,
}

/// One `<Object>` of a Delete request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectToDelete {
    /// Object key, exactly as sent (leading and trailing spaces are part of it).
    pub key: String,
    /// `<VersionId>`, if given and non-empty.
    pub version_id: Option<String>,
}

/// Checksum elements of a `<Part>`, and the algorithm names they map to.
const CHECKSUM_ELEMENTS: &[(&str, &str)] = &[
    ("ChecksumCRC32", "CRC32"),
    ("ChecksumCRC32C", "CRC32C"),
    ("ChecksumCRC64NVME", "CRC64NVME"),
    ("ChecksumSHA1", "SHA1"),
    ("ChecksumSHA256", "SHA256"),
];

/// Parses a CompleteMultipartUpload body. Parts must be 1..=10000 and in strictly ascending
/// part-number order (InvalidPartOrder otherwise, duplicates included); each needs a PartNumber
/// and an ETag (MalformedXML otherwise).
pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<Vec<CompletedPart>, S3Error> {
    // Part + up to 8 children, plus the root.
    let root = parse_tree(
        body,
        "CompleteMultipartUpload",
        MAX_COMPLETE_XML_BYTES,
        MAX_COMPLETE_PARTS * 9 + 1,
    )?;
    let mut parts: Vec<CompletedPart> = Vec::new();
    for node in root.children.iter().filter(|n| n.name == "Part") {
        if parts.len() == MAX_COMPLETE_PARTS {
            return Err(malformed("More than 10000 parts."));
        }
        let number_text = node
            .single_child_text("PartNumber")?
            .ok_or_else(|| malformed("A part has no PartNumber."))?;
        let part_number = number_text
            .trim()
            .parse::<u32>()
            .map_err(|_| malformed("PartNumber is not a number."))?;
        if !(1..=10_000).contains(&part_number) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive.",
            ));
        }
        let etag = node
            .single_child_text("ETag")?
            .ok_or_else(|| malformed("A part has no ETag."))?;
        let etag = etag.trim();
        let etag = etag
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .unwrap_or(etag)
            .to_owned();
        let mut checksums = Vec::new();
        for (element, algorithm) in CHECKSUM_ELEMENTS {
            if let Some(value) = node.single_child_text(element)? {
                checksums.push(((*algorithm).to_owned(), value.trim().to_owned()));
            }
        }
        if let Some(previous) = parts.last() {
            if part_number <= previous.part_number {
                return Err(S3Error::new(S3ErrorCode::InvalidPartOrder));
            }
        }
        parts.push(CompletedPart {
            part_number,
            etag,
            checksums,
        });
    }
    if parts.is_empty() {
        return Err(malformed("You must specify at least one part."));
    }
    Ok(parts)
}

/// Parses a Delete body (DeleteObjects): 1..=1000 `<Object>` elements, optional `<Quiet>`.
pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, S3Error> {
    // Object + up to 8 children per object, Quiet, the root.
    let root = parse_tree(
        body,
        "Delete",
        MAX_DELETE_XML_BYTES,
        MAX_DELETE_OBJECTS * 9 + 2,
    )?;
    let quiet = match root.single_child_text("Quiet")? {
        None => false,
        Some(text) if text.trim().eq_ignore_ascii_case("true") => true,
        Some(text) if text.trim().eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(malformed("Quiet must be true or false.")),
    };
    let mut objects = Vec::new();
    for node in root.children.iter().filter(|n| n.name == "Object") {
        if objects.len() == MAX_DELETE_OBJECTS {
            return Err(malformed("A Delete request can name at most 1000 objects."));
        }
        let key = node
            .single_child_text("Key")?
            .ok_or_else(|| malformed("An Object has no Key."))?;
        let version_id = node
            .single_child_text("VersionId")?
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        objects.push(ObjectToDelete {
            key: key.to_owned(),
            version_id,
        });
    }
    if objects.is_empty() {
        return Err(malformed("A Delete request must name at least one object."));
    }
    Ok(DeleteRequest { quiet, objects })
}

/// Parses a CreateBucket body: `None` when the body is empty or names no location.
pub fn parse_create_bucket_configuration(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let root = parse_tree(
        body,
        "CreateBucketConfiguration",
        MAX_CREATE_BUCKET_XML_BYTES,
        256,
    )?;
    Ok(root
        .single_child_text("LocationConstraint")?
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned))
}

/// Parses a PutBucketVersioning body:
/// `<VersioningConfiguration><Status>Enabled|Suspended</Status>[<MfaDelete>..</MfaDelete>]`.
///
/// - `Status` must be exactly `Enabled` or `Suspended`; anything else, or none, is MalformedXML
///   (what AWS answers: the schema's enumeration; MinIO refuses the same way).
/// - `MfaDelete` (botocore's element; `MFADelete` also read, as some SDKs send it):
///   `Disabled` is what every minnow bucket has and is accepted; `Enabled` is NotImplemented,
///   since minnow has no MFA devices and silently keeping the bucket without MFA delete would
///   leave the client believing its versions are protected; any other value is MalformedXML.
pub fn parse_versioning_configuration(body: &[u8]) -> Result<VersioningStatus, S3Error> {
    let root = parse_tree(
        body,
        "VersioningConfiguration",
        MAX_VERSIONING_XML_BYTES,
        64,
    )?;
    for name in ["MfaDelete", "MFADelete"] {
        match root.single_child_text(name)?.map(str::trim) {
            None | Some("Disabled") => {}
            Some("Enabled") => {
                return Err(S3Error::with_message(
                    S3ErrorCode::NotImplemented,
                    "MFA Delete is not implemented by minnow",
                ))
            }
            Some(_) => return Err(malformed("MfaDelete must be Enabled or Disabled.")),
        }
    }
    match root.single_child_text("Status")?.map(str::trim) {
        Some("Enabled") => Ok(VersioningStatus::Enabled),
        Some("Suspended") => Ok(VersioningStatus::Suspended),
        Some(_) => Err(malformed("Status must be Enabled or Suspended.")),
        None => Err(malformed("A VersioningConfiguration needs a Status.")),
    }
}

/// MalformedXML with S3's message and what was wrong.
pub(crate) fn malformed(detail: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::MalformedXML,
        format!(
            "The XML you provided was not well-formed or did not validate against our published schema: {detail}"
        ),
    )
}

/// An element of a parsed request document: local name (namespace prefix dropped), text
/// (unescaped, concatenated) and child elements.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    /// Text of the only child called `name`; `None` if absent, MalformedXML if repeated.
    pub(crate) fn single_child_text(&self, name: &str) -> Result<Option<&str>, S3Error> {
        let mut found = None;
        for child in self.children.iter().filter(|c| c.name == name) {
            if found.is_some() {
                return Err(malformed(&format!("{name} appears more than once.")));
            }
            found = Some(child.text.as_str());
        }
        Ok(found)
    }
}

/// Parses a whole document into a tree, enforcing the size, depth and element-count limits,
/// and checks the root element's local name.
pub(crate) fn parse_tree(
    body: &[u8],
    root_name: &str,
    max_bytes: usize,
    max_elements: usize,
) -> Result<Node, S3Error> {
    if body.len() > max_bytes {
        return Err(malformed("The document is too large."));
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| malformed("The document is not UTF-8."))?;
    if text.trim().is_empty() {
        return Err(malformed("The document is empty."));
    }
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e.to_string()))?;
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(start) | Event::Empty(start) => {
                if root.is_some() {
                    return Err(malformed("Content after the root element."));
                }
                elements += 1;
                if elements > max_elements {
                    return Err(malformed("Too many elements."));
                }
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(malformed("Elements nested too deeply."));
                }
                let name = std::str::from_utf8(start.local_name().as_ref())
                    .map_err(|_| malformed("Element name is not UTF-8."))?
                    .to_owned();
                let node = Node {
                    name,
                    ..Node::default()
                };
                if is_empty {
                    attach(&mut stack, &mut root, node);
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                // check_end_names guarantees the name matches the open element.
                let node = stack
                    .pop()
                    .ok_or_else(|| malformed("Unexpected end tag."))?;
                attach(&mut stack, &mut root, node);
            }
            Event::Text(t) => {
                let unescaped = t.unescape().map_err(|e| malformed(&e.to_string()))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&unescaped),
                    None if unescaped.trim().is_empty() => {}
                    None => return Err(malformed("Text outside the root element.")),
                }
            }
            Event::CData(data) => {
                let data = std::str::from_utf8(data.as_ref())
                    .map_err(|_| malformed("CDATA is not UTF-8."))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(data),
                    None => return Err(malformed("CDATA outside the root element.")),
                }
            }
            Event::DocType(_) => return Err(malformed("DOCTYPE is not allowed.")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("Unclosed element."));
    }
    let root = root.ok_or_else(|| malformed("No root element."))?;
    if root.name != root_name {
        return Err(malformed(&format!("The root element must be {root_name}.")));
    }
    Ok(root)
}

/// Adds a finished element to its parent, or makes it the root.
fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            id: "02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4".into(),
            display_name: "minnow".into(),
        }
    }

    fn header(root: &str) -> String {
        format!("{XML_DECL}<{root} xmlns=\"{S3_XMLNS}\">")
    }

    /// 2024-01-02T03:04:05.678Z
    const T: i64 = 1_704_164_645_678_000_000;

    #[test]
    fn escaping() {
        assert_eq!(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("tab\there\nnl"), "tab\there\nnl");
        assert_eq!(escape("cr\r\u{1}\u{1f}\u{7f}"), "cr&#xD;&#x1;&#x1F;&#x7F;");
        assert_eq!(escape("caf\u{e9} \u{20ac}"), "caf\u{e9} \u{20ac}");
        assert_eq!(
            url_encode("a b+c/d~e_f-g.h\u{e9}?&=%"),
            "a%20b%2Bc/d~e_f-g.h%C3%A9%3F%26%3D%25"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_timestamp(T), "2024-01-02T03:04:05.678Z");
        assert_eq!(format_timestamp(T + 999_999), "2024-01-02T03:04:05.678Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_timestamp(i64::MAX), "2262-04-11T23:47:16.854Z");
        assert_eq!(format_timestamp(i64::MIN), "1677-09-21T00:12:43.145Z");
    }

    #[test]
    fn list_all_my_buckets_golden() {
        let result = ListAllMyBucketsResult {
            owner: Owner {
                id: "id1".into(),
                display_name: "me".into(),
            },
            buckets: vec![
                BucketEntry {
                    name: "alpha".into(),
                    created_ns: T,
                },
                BucketEntry {
                    name: "beta".into(),
                    created_ns: 0,
                },
            ],
            continuation_token: None,
            prefix: None,
        };
        assert_eq!(
            result.to_xml(),
            format!(
                "{}<Owner><ID>id1</ID><DisplayName>me</DisplayName></Owner><Buckets>\
                 <Bucket><Name>alpha</Name><CreationDate>2024-01-02T03:04:05.678Z</CreationDate></Bucket>\
                 <Bucket><Name>beta</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate></Bucket>\
                 </Buckets></ListAllMyBucketsResult>",
                header("ListAllMyBucketsResult")
            )
        );
    }

    fn object(key: &str) -> ObjectEntry {
        ObjectEntry {
            key: key.into(),
            last_modified_ns: T,
            etag: "9b2cf535f27731c974343645a3985328".into(),
            size: 1234,
            storage_class: "STANDARD".into(),
            checksum_algorithm: None,
        }
    }

    #[test]
    fn list_v2_golden() {
        let result = ListBucketResult {
            bucket: "bucket".into(),
            prefix: "dir/".into(),
            delimiter: Some("/".into()),
            max_keys: 2,
            is_truncated: true,
            encoding_type_url: false,
            owner: None,
            objects: vec![object("dir/a&b.txt")],
            common_prefixes: vec!["dir/sub/".into()],
            version: ListVersion::V2 {
                continuation_token: None,
                next_continuation_token: Some("tok".into()),
                start_after: None,
            },
        };
        assert_eq!(
            result.to_xml(),
            format!(
                "{}<Name>bucket</Name><Prefix>dir/</Prefix><NextContinuationToken>tok</NextContinuationToken>\
                 <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
                 <Contents><Key>dir/a&amp;b.txt</Key><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
                 <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>\
                 <StorageClass>STANDARD</StorageClass></Contents>\
                 <CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes></ListBucketResult>",
                header("ListBucketResult")
            )
        );
    }

    #[test]
    fn list_v2_url_encoding() {
        let result = ListBucketResult {
            bucket: "bucket".into(),
            prefix: "a b/".into(),
            delimiter: Some("/".into()),
            max_keys: 1000,
            is_truncated: false,
            encoding_type_url: true,
            owner: Some(owner()),
            objects: vec![ObjectEntry {
                checksum_algorithm: Some("CRC32".into()),
                ..object("a b/c+d\u{1}.txt")
            }],
            common_prefixes: vec!["a b/\u{e9}/".into()],
            version: ListVersion::V2 {
                continuation_token: Some("prev".into()),
                next_continuation_token: Some("ignored-when-not-truncated".into()),
                start_after: Some("a b/0".into()),
            },
        };
        let xml = result.to_xml();
        for needle in [
            "<Prefix>a%20b/</Prefix>",
            "<ContinuationToken>prev</ContinuationToken>",
            "<KeyCount>2</KeyCount>",
            "<StartAfter>a%20b/0</StartAfter>",
            "<EncodingType>url</EncodingType>",
            "<Key>a%20b/c%2Bd%01.txt</Key>",
            "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>",
            "<Owner><ID>02d6",
            "<CommonPrefixes><Prefix>a%20b/%C3%A9/</Prefix></CommonPrefixes>",
        ] {
            assert!(xml.contains(needle), "{needle} not in {xml}");
        }
        assert!(!xml.contains("NextContinuationToken"), "{xml}");
    }

    #[test]
    fn list_v1_markers() {
        let mut result = ListBucketResult {
            bucket: "b".into(),
            prefix: String::new(),
            delimiter: None,
            max_keys: 1,
            is_truncated: true,
            encoding_type_url: false,
            owner: Some(Owner {
                id: "i".into(),
                display_name: "d".into(),
            }),
            objects: vec![object("k")],
            common_prefixes: vec![],
            version: ListVersion::V1 {
                marker: String::new(),
                next_marker: Some("k".into()),
            },
        };
        assert_eq!(
            result.to_xml(),
            format!(
                "{}<Name>b</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1</MaxKeys>\
                 <IsTruncated>true</IsTruncated><Contents><Key>k</Key>\
                 <LastModified>2024-01-02T03:04:05.678Z</LastModified>\
                 <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>\
                 <Owner><ID>i</ID><DisplayName>d</DisplayName></Owner>\
                 <StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
                header("ListBucketResult")
            )
        );
        result.delimiter = Some("/".into());
        let xml = result.to_xml();
        assert!(
            xml.contains("<Marker></Marker><NextMarker>k</NextMarker><MaxKeys>1</MaxKeys>"),
            "{xml}"
        );
        assert!(xml.contains("<Delimiter>/</Delimiter>"), "{xml}");
        assert!(!xml.contains("KeyCount"), "{xml}");
    }

    #[test]
    fn list_versions() {
        let result = ListVersionsResult {
            bucket: "b".into(),
            prefix: String::new(),
            key_marker: String::new(),
            version_id_marker: String::new(),
            next_key_marker: None,
            next_version_id_marker: None,
            max_keys: 1000,
            delimiter: None,
            is_truncated: false,
            encoding_type_url: false,
            owner: owner(),
            entries: vec![
                VersionEntry {
                    key: "k".into(),
                    version_id: "null".into(),
                    is_latest: true,
                    last_modified_ns: T,
                    etag: "e".into(),
                    size: 3,
                    storage_class: "STANDARD".into(),
                    delete_marker: false,
                },
                VersionEntry {
                    key: "m".into(),
                    version_id: "v1".into(),
                    is_latest: true,
                    last_modified_ns: T,
                    etag: String::new(),
                    size: 0,
                    storage_class: String::new(),
                    delete_marker: true,
                },
            ],
            common_prefixes: vec![],
        };
        let xml = result.to_xml();
        assert!(xml.starts_with(&header("ListVersionsResult")), "{xml}");
        assert!(
            xml.contains(
                "<Version><Key>k</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>\
                 <LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&quot;e&quot;</ETag><Size>3</Size>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<DeleteMarker><Key>m</Key><VersionId>v1</VersionId>"),
            "{xml}"
        );
        assert!(!xml.contains("<DeleteMarker><Key>m</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest><LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>"), "{xml}");
    }

    /// Versions and delete markers come out interleaved in the order given (key order, newest
    /// first within a key), each with its own element name and fields, and a truncated page
    /// names where the next one starts.
    #[test]
    fn list_versions_interleaved_golden() {
        const V1: &str = "0b1c2d3e-4f50-4617-8899-aabbccddee01";
        const V2: &str = "0b1c2d3e-4f50-4617-8899-aabbccddee02";
        let version = |key: &str, id: &str, is_latest: bool| VersionEntry {
            key: key.into(),
            version_id: id.into(),
            is_latest,
            last_modified_ns: T,
            etag: "e".into(),
            size: 3,
            storage_class: "STANDARD".into(),
            delete_marker: false,
        };
        let marker = |key: &str, id: &str, is_latest: bool| VersionEntry {
            delete_marker: true,
            etag: String::new(),
            size: 0,
            storage_class: String::new(),
            ..version(key, id, is_latest)
        };
        let result = ListVersionsResult {
            bucket: "b".into(),
            prefix: "d/".into(),
            key_marker: "d/a".into(),
            version_id_marker: "null".into(),
            next_key_marker: Some("d/c d".into()),
            next_version_id_marker: Some(V1.into()),
            max_keys: 4,
            delimiter: None,
            is_truncated: true,
            encoding_type_url: true,
            owner: owner(),
            entries: vec![
                marker("d/b", V2, true),
                version("d/b", V1, false),
                version("d/b", "null", false),
                marker("d/c d", V1, true),
            ],
            common_prefixes: vec![],
        };
        let owner_xml = "<Owner><ID>02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4</ID><DisplayName>minnow</DisplayName></Owner>";
        let stamp = "<LastModified>2024-01-02T03:04:05.678Z</LastModified>";
        let version_xml = |key: &str, id: &str, latest: &str| {
            format!(
                "<Version><Key>{key}</Key><VersionId>{id}</VersionId><IsLatest>{latest}</IsLatest>\
                 {stamp}<ETag>&quot;e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass>\
                 {owner_xml}</Version>"
            )
        };
        let marker_xml = |key: &str, id: &str, latest: &str| {
            format!(
                "<DeleteMarker><Key>{key}</Key><VersionId>{id}</VersionId><IsLatest>{latest}</IsLatest>\
                 {stamp}{owner_xml}</DeleteMarker>"
            )
        };
        assert_eq!(
            result.to_xml(),
            format!(
                "{}<Name>b</Name><Prefix>d/</Prefix><KeyMarker>d/a</KeyMarker>\
                 <VersionIdMarker>null</VersionIdMarker><NextKeyMarker>d/c%20d</NextKeyMarker>\
                 <NextVersionIdMarker>{V1}</NextVersionIdMarker><MaxKeys>4</MaxKeys>\
                 <IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>{}{}{}{}</ListVersionsResult>",
                header("ListVersionsResult"),
                marker_xml("d/b", V2, "true"),
                version_xml("d/b", V1, "false"),
                version_xml("d/b", "null", "false"),
                marker_xml("d/c%20d", V1, "true"),
            )
        );
        // Not truncated: no Next markers even if set.
        let done = ListVersionsResult {
            is_truncated: false,
            ..result
        };
        let xml = done.to_xml();
        assert!(
            !xml.contains("NextKeyMarker") && !xml.contains("NextVersionIdMarker"),
            "{xml}"
        );
        assert!(xml.contains("<IsTruncated>false</IsTruncated>"), "{xml}");
    }

    #[test]
    fn multipart_documents() {
        let init = InitiateMultipartUploadResult {
            bucket: "b".into(),
            key: "a<b".into(),
            upload_id: "u-1".into(),
        };
        assert_eq!(
            init.to_xml(),
            format!(
                "{}<Bucket>b</Bucket><Key>a&lt;b</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>",
                header("InitiateMultipartUploadResult")
            )
        );
        let complete = CompleteMultipartUploadResult {
            location: "http://localhost:9000/b/k".into(),
            bucket: "b".into(),
            key: "k".into(),
            etag: "3858f62230ac3c915f300c664312c11f-2".into(),
            checksums: vec![("CRC32".into(), "AAAAAA==-2".into())],
        };
        assert_eq!(
            complete.to_xml(),
            format!(
                "{}<Location>http://localhost:9000/b/k</Location><Bucket>b</Bucket><Key>k</Key>\
                 <ETag>&quot;3858f62230ac3c915f300c664312c11f-2&quot;</ETag>\
                 <ChecksumCRC32>AAAAAA==-2</ChecksumCRC32></CompleteMultipartUploadResult>",
                header("CompleteMultipartUploadResult")
            )
        );
        let parts = ListPartsResult {
            bucket: "b".into(),
            key: "k".into(),
            upload_id: "u".into(),
            owner: Owner {
                id: "i".into(),
                display_name: "d".into(),
            },
            storage_class: "STANDARD".into(),
            part_number_marker: 0,
            next_part_number_marker: 2,
            max_parts: 2,
            is_truncated: true,
            checksum_algorithm: None,
            parts: vec![
                PartEntry {
                    part_number: 1,
                    last_modified_ns: T,
                    etag: "e1".into(),
                    size: 5 << 20,
                    checksums: vec![],
                },
                PartEntry {
                    part_number: 2,
                    last_modified_ns: T,
                    etag: "\"e2\"".into(),
                    size: 1,
                    checksums: vec![("SHA256".into(), "x".into())],
                },
            ],
        };
        assert_eq!(
            parts.to_xml(),
            format!(
                "{}<Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>\
                 <Initiator><ID>i</ID><DisplayName>d</DisplayName></Initiator>\
                 <Owner><ID>i</ID><DisplayName>d</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\
                 <PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>\
                 <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>\
                 <Part><PartNumber>1</PartNumber><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
                 <ETag>&quot;e1&quot;</ETag><Size>5242880</Size></Part>\
                 <Part><PartNumber>2</PartNumber><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
                 <ETag>&quot;e2&quot;</ETag><Size>1</Size><ChecksumSHA256>x</ChecksumSHA256></Part>\
                 </ListPartsResult>",
                header("ListPartsResult")
            )
        );
        let uploads = ListMultipartUploadsResult {
            bucket: "b".into(),
            key_marker: String::new(),
            upload_id_marker: String::new(),
            next_key_marker: Some("k 1".into()),
            next_upload_id_marker: Some("u1".into()),
            delimiter: None,
            prefix: String::new(),
            max_uploads: 1,
            is_truncated: true,
            encoding_type_url: true,
            owner: Owner {
                id: "i".into(),
                display_name: "d".into(),
            },
            uploads: vec![UploadEntry {
                key: "k 1".into(),
                upload_id: "u1".into(),
                initiated_ns: T,
                storage_class: "STANDARD".into(),
            }],
            common_prefixes: vec![],
        };
        assert_eq!(
            uploads.to_xml(),
            format!(
                "{}<Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>\
                 <NextKeyMarker>k%201</NextKeyMarker><NextUploadIdMarker>u1</NextUploadIdMarker>\
                 <Prefix></Prefix><MaxUploads>1</MaxUploads><IsTruncated>true</IsTruncated>\
                 <EncodingType>url</EncodingType><Upload><Key>k%201</Key><UploadId>u1</UploadId>\
                 <Initiator><ID>i</ID><DisplayName>d</DisplayName></Initiator>\
                 <Owner><ID>i</ID><DisplayName>d</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\
                 <Initiated>2024-01-02T03:04:05.678Z</Initiated></Upload></ListMultipartUploadsResult>",
                header("ListMultipartUploadsResult")
            )
        );
    }

    #[test]
    fn copy_results() {
        let copy = CopyResult {
            last_modified_ns: T,
            etag: "abc".into(),
            checksums: vec![],
        };
        assert_eq!(
            copy.to_copy_object_xml(),
            format!(
                "{}<LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&quot;abc&quot;</ETag></CopyObjectResult>",
                header("CopyObjectResult")
            )
        );
        assert_eq!(
            copy.to_copy_part_xml(),
            format!(
                "{}<LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&quot;abc&quot;</ETag></CopyPartResult>",
                header("CopyPartResult")
            )
        );
    }

    #[test]
    fn delete_result() {
        let mut result = DeleteResult {
            quiet: false,
            deleted: vec![
                DeletedEntry {
                    key: "a".into(),
                    version_id: None,
                    delete_marker: false,
                    delete_marker_version_id: None,
                },
                DeletedEntry {
                    key: "b".into(),
                    version_id: Some("v".into()),
                    delete_marker: true,
                    delete_marker_version_id: Some("dm".into()),
                },
            ],
            errors: vec![DeleteErrorEntry {
                key: "c/../d".into(),
                version_id: None,
                error: S3Error::new(S3ErrorCode::InvalidObjectName),
            }],
        };
        let error_xml = "<Error><Key>c/../d</Key><Code>InvalidObjectName</Code>\
                         <Message>Object name contains unsupported characters.</Message></Error>";
        assert_eq!(
            result.to_xml(),
            format!(
                "{}<Deleted><Key>a</Key></Deleted><Deleted><Key>b</Key><VersionId>v</VersionId>\
                 <DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>dm</DeleteMarkerVersionId></Deleted>\
                 {error_xml}</DeleteResult>",
                header("DeleteResult")
            )
        );
        result.quiet = true;
        assert_eq!(
            result.to_xml(),
            format!("{}{error_xml}</DeleteResult>", header("DeleteResult"))
        );
    }

    #[test]
    fn small_documents() {
        assert_eq!(
            location_constraint_xml("us-east-1"),
            format!("{}</LocationConstraint>", header("LocationConstraint"))
        );
        assert_eq!(
            location_constraint_xml("eu-west-1"),
            format!(
                "{}eu-west-1</LocationConstraint>",
                header("LocationConstraint")
            )
        );
        assert_eq!(
            versioning_configuration_xml(None),
            format!(
                "{}</VersioningConfiguration>",
                header("VersioningConfiguration")
            )
        );
        assert_eq!(
            versioning_configuration_xml(Some(VersioningStatus::Enabled)),
            format!(
                "{}<Status>Enabled</Status></VersioningConfiguration>",
                header("VersioningConfiguration")
            )
        );
        assert_eq!(
            versioning_configuration_xml(Some(VersioningStatus::Suspended)),
            format!(
                "{}<Status>Suspended</Status></VersioningConfiguration>",
                header("VersioningConfiguration")
            )
        );
        let acl = access_control_policy_xml(&Owner {
            id: "i".into(),
            display_name: "d".into(),
        });
        assert_eq!(
            acl,
            format!(
                "{}<Owner><ID>i</ID><DisplayName>d</DisplayName></Owner><AccessControlList><Grant>\
                 <Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\
                 <ID>i</ID><DisplayName>d</DisplayName></Grantee><Permission>FULL_CONTROL</Permission>\
                 </Grant></AccessControlList></AccessControlPolicy>",
                header("AccessControlPolicy")
            )
        );
    }

    /// Every rendered document must be well-formed for a real XML parser.
    #[test]
    fn rendered_documents_are_well_formed() {
        let docs = [
            access_control_policy_xml(&owner()),
            location_constraint_xml("eu-&-1"),
            InitiateMultipartUploadResult {
                bucket: "b".into(),
                key: "<&>\"'".into(),
                upload_id: "u".into(),
            }
            .to_xml(),
            S3Error::new(S3ErrorCode::NoSuchKey)
                .with_resource("/b/<k>")
                .to_xml("r", "h"),
        ];
        for doc in docs {
            let mut reader = Reader::from_str(&doc);
            let mut depth = 0i32;
            loop {
                match reader.read_event() {
                    Ok(Event::Start(_)) => depth += 1,
                    Ok(Event::End(_)) => depth -= 1,
                    Ok(Event::Text(t)) => {
                        t.unescape().expect("text");
                    }
                    Ok(Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{doc}: {e}"),
                }
            }
            assert_eq!(depth, 0, "{doc}");
        }
    }

    fn complete_xml(parts: &[(u32, &str)]) -> String {
        let mut xml = format!("<CompleteMultipartUpload xmlns=\"{S3_XMLNS}\">");
        for (n, etag) in parts {
            let _ = write!(
                xml,
                "<Part><ETag>{etag}</ETag><PartNumber>{n}</PartNumber></Part>"
            );
        }
        xml.push_str("</CompleteMultipartUpload>");
        xml
    }

    #[test]
    fn parse_complete() {
        // As boto3 sends it: declaration, namespace, quoted ETags escaped or raw, whitespace.
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"{S3_XMLNS}\">\n  \
             <Part>\n    <ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag>\n    <PartNumber>1</PartNumber>\n  </Part>\n  \
             <Part><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag><PartNumber> 2 </PartNumber>\
             <ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumSHA256>abc=</ChecksumSHA256><Unknown>x</Unknown></Part>\n\
             <Part><PartNumber>10000</PartNumber><ETag>plain</ETag></Part>\
             </CompleteMultipartUpload>"
        );
        let parts = parse_complete_multipart_upload(body.as_bytes()).expect("parse");
        assert_eq!(
            parts,
            vec![
                CompletedPart {
                    part_number: 1,
                    etag: "a54357aff0632cce46d942af68356b38".into(),
                    checksums: vec![]
                },
                CompletedPart {
                    part_number: 2,
                    etag: "0c78aef83f66abc1fa1e8477f296d394".into(),
                    checksums: vec![
                        ("CRC32".into(), "AAAAAA==".into()),
                        ("SHA256".into(), "abc=".into())
                    ],
                },
                CompletedPart {
                    part_number: 10000,
                    etag: "plain".into(),
                    checksums: vec![]
                },
            ]
        );
        // Prefixed namespace and an empty-element form still parse.
        let body = "<s3:CompleteMultipartUpload xmlns:s3=\"x\"><s3:Part><s3:PartNumber>1</s3:PartNumber>\
                    <s3:ETag>e</s3:ETag><s3:ChecksumCRC32C/></s3:Part></s3:CompleteMultipartUpload>";
        let parts = parse_complete_multipart_upload(body.as_bytes()).expect("parse");
        assert_eq!(
            parts[0].checksums,
            vec![("CRC32C".to_owned(), String::new())]
        );

        // 10000 parts is the maximum and fits the size limit.
        let many: Vec<(u32, String)> = (1..=10_000)
            .map(|n| (n, format!("\"{:032x}\"", n)))
            .collect();
        let many_refs: Vec<(u32, &str)> = many.iter().map(|(n, e)| (*n, e.as_str())).collect();
        let body = complete_xml(&many_refs);
        assert!(body.len() < MAX_COMPLETE_XML_BYTES);
        assert_eq!(
            parse_complete_multipart_upload(body.as_bytes())
                .expect("parse")
                .len(),
            10_000
        );
    }

    #[test]
    fn parse_complete_rejects() {
        use S3ErrorCode::*;
        let code = |body: &str| {
            parse_complete_multipart_upload(body.as_bytes())
                .unwrap_err()
                .code
        };
        assert_eq!(code(&complete_xml(&[(2, "a"), (1, "b")])), InvalidPartOrder);
        assert_eq!(code(&complete_xml(&[(1, "a"), (1, "b")])), InvalidPartOrder);
        assert_eq!(code(&complete_xml(&[(0, "a")])), InvalidArgument);
        assert_eq!(code(&complete_xml(&[(10_001, "a")])), InvalidArgument);
        assert_eq!(code(&complete_xml(&[])), MalformedXML);
        assert_eq!(code(""), MalformedXML);
        assert_eq!(code("  \n"), MalformedXML);
        for body in [
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Wrong>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload><Extra/>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>junk",
            "<Other><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Other>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&bogus;</ETag></Part></CompleteMultipartUpload>",
            "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&a;</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part",
            "not xml at all",
            "<CompleteMultipartUpload><a><b><c><d><e><f><g><h><i>1</i></h></g></f></e></d></c></b></a></CompleteMultipartUpload>",
        ] {
            assert_eq!(code(body), MalformedXML, "{body}");
        }
        // Not UTF-8.
        assert_eq!(
            parse_complete_multipart_upload(
                b"<CompleteMultipartUpload>\xff</CompleteMultipartUpload>"
            )
            .unwrap_err()
            .code,
            MalformedXML
        );
        // Over the size limit, even if well-formed.
        let mut huge =
            String::from("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>");
        huge.push_str(&"e".repeat(MAX_COMPLETE_XML_BYTES));
        huge.push_str("</ETag></Part></CompleteMultipartUpload>");
        assert_eq!(code(&huge), MalformedXML);
        // Many tiny elements: bounded by the element count, not memory.
        let mut flood = String::from("<CompleteMultipartUpload>");
        flood.push_str(&"<x/>".repeat(200_000));
        flood.push_str("</CompleteMultipartUpload>");
        assert!(flood.len() < MAX_COMPLETE_XML_BYTES);
        assert_eq!(code(&flood), MalformedXML);
    }

    fn delete_xml(count: usize, quiet: Option<&str>) -> String {
        let mut xml = String::from("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        if let Some(q) = quiet {
            let _ = write!(xml, "<Quiet>{q}</Quiet>");
        }
        for i in 0..count {
            let _ = write!(xml, "<Object><Key>key-{i}</Key></Object>");
        }
        xml.push_str("</Delete>");
        xml
    }

    #[test]
    fn parse_delete_requests() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                    <Object><Key> spaced key </Key></Object>\
                    <Object><Key>a&amp;b&lt;&#x20AC;</Key><VersionId>v1</VersionId></Object>\
                    <Object><Key><![CDATA[raw<>&]]></Key><VersionId></VersionId><ETag>e</ETag></Object>\
                    <Quiet>True</Quiet></Delete>";
        let request = parse_delete(body.as_bytes()).expect("parse");
        assert!(request.quiet);
        assert_eq!(
            request.objects,
            vec![
                ObjectToDelete {
                    key: " spaced key ".into(),
                    version_id: None
                },
                ObjectToDelete {
                    key: "a&b<\u{20ac}".into(),
                    version_id: Some("v1".into())
                },
                ObjectToDelete {
                    key: "raw<>&".into(),
                    version_id: None
                },
            ]
        );
        assert!(
            !parse_delete(delete_xml(1, None).as_bytes())
                .expect("parse")
                .quiet
        );
        assert!(
            !parse_delete(delete_xml(1, Some("false")).as_bytes())
                .expect("parse")
                .quiet
        );
        assert_eq!(
            parse_delete(delete_xml(1000, Some("true")).as_bytes())
                .expect("parse")
                .objects
                .len(),
            1000
        );
        // Round trip of every rendered-escaped key.
        for key in ["a&b", "<x>", "q\"uote's", "caf\u{e9}", "tab\tkey", "  "] {
            let body = format!(
                "<Delete><Object><Key>{}</Key></Object></Delete>",
                escape(key)
            );
            assert_eq!(
                parse_delete(body.as_bytes()).expect("parse").objects[0].key,
                key
            );
        }
    }

    #[test]
    fn parse_delete_rejects() {
        let code = |body: &str| parse_delete(body.as_bytes()).unwrap_err().code;
        assert_eq!(code(&delete_xml(1001, None)), S3ErrorCode::MalformedXML);
        assert_eq!(
            code(&delete_xml(0, Some("true"))),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(code(&delete_xml(1, Some("yes"))), S3ErrorCode::MalformedXML);
        assert_eq!(
            code("<Delete><Object><VersionId>v</VersionId></Object></Delete>"),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            code("<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>"),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            code("<Delete><Object><Key>a</Key></Object>"),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            code("<Delete><Object><Key>a</Object></Key></Delete>"),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            code("<Delete><Object><Key>a</Key></Object></Delete"),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            code("<Remove><Object><Key>a</Key></Object></Remove>"),
            S3ErrorCode::MalformedXML
        );
        let mut huge = delete_xml(1, None);
        huge.push_str(&" ".repeat(MAX_DELETE_XML_BYTES));
        assert_eq!(code(&huge), S3ErrorCode::MalformedXML);
        let deep = format!(
            "<Delete>{}{}</Delete>",
            "<a>".repeat(100),
            "</a>".repeat(100)
        );
        assert_eq!(code(&deep), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn parse_create_bucket() {
        assert_eq!(parse_create_bucket_configuration(b"").expect("parse"), None);
        assert_eq!(
            parse_create_bucket_configuration(b" \n").expect("parse"),
            None
        );
        let body = format!(
            "<CreateBucketConfiguration xmlns=\"{S3_XMLNS}\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"
        );
        assert_eq!(
            parse_create_bucket_configuration(body.as_bytes()).expect("parse"),
            Some("eu-west-1".into())
        );
        let body = "<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>";
        assert_eq!(
            parse_create_bucket_configuration(body.as_bytes()).expect("parse"),
            None
        );
        let body = "<CreateBucketConfiguration><Bucket><Type>Directory</Type></Bucket></CreateBucketConfiguration>";
        assert_eq!(
            parse_create_bucket_configuration(body.as_bytes()).expect("parse"),
            None
        );
        for body in [
            "<CreateBucketConfiguration><LocationConstraint>x</LocationConstraint>",
            "<LocationConstraint>x</LocationConstraint>",
            "<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint><LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>",
        ] {
            assert_eq!(
                parse_create_bucket_configuration(body.as_bytes()).unwrap_err().code,
                S3ErrorCode::MalformedXML,
                "{body}"
            );
        }
        let huge = format!(
            "<CreateBucketConfiguration>{}</CreateBucketConfiguration>",
            " ".repeat(MAX_CREATE_BUCKET_XML_BYTES)
        );
        assert_eq!(
            parse_create_bucket_configuration(huge.as_bytes())
                .unwrap_err()
                .code,
            S3ErrorCode::MalformedXML
        );
    }

    #[test]
    fn parse_versioning() {
        // boto3 put_bucket_versioning / aws s3api put-bucket-versioning bodies.
        let boto = |inner: &str| {
            format!(
                "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{inner}</VersioningConfiguration>"
            )
        };
        let parse = |body: &str| parse_versioning_configuration(body.as_bytes());
        assert_eq!(
            parse(&boto("<Status>Enabled</Status>")),
            Ok(VersioningStatus::Enabled)
        );
        assert_eq!(
            parse(&boto("<Status>Suspended</Status>")),
            Ok(VersioningStatus::Suspended)
        );
        assert_eq!(
            parse(&boto(
                "<MfaDelete>Disabled</MfaDelete><Status>Enabled</Status>"
            )),
            Ok(VersioningStatus::Enabled)
        );
        // botocore with MFADelete=Disabled (and an x-amz-mfa header, refused elsewhere).
        assert_eq!(
            parse(&boto(
                "<Status>Suspended</Status><MfaDelete>Disabled</MfaDelete>"
            )),
            Ok(VersioningStatus::Suspended)
        );
        assert_eq!(
            parse(&format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
                boto("\n  <Status> Suspended </Status>\n")
            )),
            Ok(VersioningStatus::Suspended)
        );
        // Unknown elements are ignored.
        assert_eq!(
            parse(&boto(
                "<ExcludeFolders>true</ExcludeFolders><Status>Enabled</Status>"
            )),
            Ok(VersioningStatus::Enabled)
        );
        let code = |body: &str| parse(body).unwrap_err().code;
        use S3ErrorCode::*;
        assert_eq!(
            code(&boto(
                "<MfaDelete>Enabled</MfaDelete><Status>Enabled</Status>"
            )),
            NotImplemented
        );
        assert_eq!(
            code(&boto(
                "<MFADelete>Enabled</MFADelete><Status>Enabled</Status>"
            )),
            NotImplemented
        );
        for bad in [
            boto("<Status>enabled</Status>"),
            boto("<Status>Disabled</Status>"),
            boto("<Status>suspend</Status>"),
            boto("<Status></Status>"),
            boto(""),
            boto("<Status>Enabled</Status><Status>Enabled</Status>"),
            boto("<MfaDelete>On</MfaDelete><Status>Enabled</Status>"),
            "<VersioningConfiguration><Status>Enabled</Status>".to_owned(),
            "<Versioning><Status>Enabled</Status></Versioning>".to_owned(),
            String::new(),
            "Enabled".to_owned(),
            format!(
                "<VersioningConfiguration>{}</VersioningConfiguration>",
                " ".repeat(MAX_VERSIONING_XML_BYTES)
            ),
        ] {
            assert_eq!(code(&bad), MalformedXML, "{bad:.80}");
        }
    }
}
