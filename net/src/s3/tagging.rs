//! Object and bucket tags on the wire: the `Tagging` document (Get/Put*Tagging), the
//! `x-amz-tagging` request header (PutObject, CreateMultipartUpload, CopyObject), the
//! `x-amz-tagging-directive` header (CopyObject), and the one set of rules both follow.
//!
//! The rules are S3's (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html>,
//! and the tag restrictions they refer to): at most [`MAX_OBJECT_TAGS`] tags on an object and
//! [`MAX_BUCKET_TAGS`] on a bucket; a key is 1..=128 Unicode characters, a value 0..=256; keys
//! are case-sensitive and unique within a set; keys starting with `aws:` are reserved for AWS
//! and refused on PUT; keys and values hold letters, numbers and spaces in any language, and
//! `+ - = . _ : / @`. Breaking a rule is 400 InvalidTag with the message AWS gives; a document
//! that is not a Tagging document is MalformedXML.
//!
//! Tags are `(key, value)` pairs in the order the client gave them, which is how the object
//! layer stores them and the order they are rendered back in.

use super::error::{S3Error, S3ErrorCode};
use super::xml::{escape_into, malformed, parse_tree, S3_XMLNS};
use crate::http::RequestHead;

/// Most tags on one object (S3's limit).
pub const MAX_OBJECT_TAGS: usize = 10;
/// Most tags on one bucket (S3's limit).
pub const MAX_BUCKET_TAGS: usize = 50;
/// Longest tag key, in Unicode characters.
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// Longest tag value, in Unicode characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;
/// Largest Tagging body: 50 tags of the longest key and value, each character up to 4 bytes
/// of UTF-8 or a 10-byte character reference, fit under this.
pub const MAX_TAGGING_XML_BYTES: usize = 256 << 10;
/// Longest `x-amz-tagging` header accepted: 10 tags fully percent-encoded (3 bytes per UTF-8
/// byte) fit under this.
pub const MAX_TAGGING_HEADER_BYTES: usize = 48 << 10;

/// The prefix S3 reserves for its own tags.
const RESERVED_KEY_PREFIX: &str = "aws:";

/// What a tag set belongs to: it sets the count limit and the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagTarget {
    /// An object version: at most [`MAX_OBJECT_TAGS`].
    Object,
    /// A bucket: at most [`MAX_BUCKET_TAGS`].
    Bucket,
}

/// CopyObject's `x-amz-tagging-directive`: where the new object's tags come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TaggingDirective {
    /// `COPY` (the default): the source version's tags; `x-amz-tagging` is ignored, as S3 does.
    #[default]
    Copy,
    /// `REPLACE`: the tags of `x-amz-tagging` (none when absent).
    Replace,
}

fn too_many(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::BadRequest, message)
}

fn invalid_tag(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidTag, message)
}

/// The characters S3 allows in tag keys and values: letters, numbers and spaces of any script
/// (Unicode L, N and Z), and `+ - = . _ : / @`. Control characters (tab, newline) are not
/// spaces here.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
}

/// Checks a tag set for a PUT (PutObjectTagging, PutBucketTagging, `x-amz-tagging`): count,
/// key and value length and characters, duplicate keys, and the reserved `aws:` prefix.
pub fn check_tags(tags: &[(String, String)], target: TagTarget) -> Result<(), S3Error> {
    match target {
        TagTarget::Object if tags.len() > MAX_OBJECT_TAGS => {
            return Err(too_many("Object tags cannot be greater than 10"))
        }
        TagTarget::Bucket if tags.len() > MAX_BUCKET_TAGS => {
            return Err(too_many("Bucket tag count cannot be greater than 50"))
        }
        _ => {}
    }
    for (index, (key, value)) in tags.iter().enumerate() {
        let key_chars = key.chars().count();
        if key_chars > MAX_TAG_KEY_CHARS {
            return Err(invalid_tag(
                "The TagKey you have provided is too long, max 128",
            ));
        }
        if key_chars == 0 || !key.chars().all(is_tag_char) {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(invalid_tag(
                "The TagValue you have provided is too long, max 256",
            ));
        }
        if !value.chars().all(is_tag_char) {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if key.starts_with(RESERVED_KEY_PREFIX) {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:"));
        }
        // At most 50 tags: the quadratic scan is cheaper than a set.
        if tags[..index].iter().any(|(k, _)| k == key) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

/// Parses and checks a PutObjectTagging / PutBucketTagging body:
/// `<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>`.
/// Key and Value text is kept exactly (no trimming: spaces are allowed in tags). A missing
/// TagSet, a Tag without a Key or a Value, or a repeated one is MalformedXML; an empty TagSet is
/// an empty set (S3 accepts it, and it removes every tag).
pub fn parse_tagging(body: &[u8], target: TagTarget) -> Result<Vec<(String, String)>, S3Error> {
    // Tagging, TagSet, and Tag + Key + Value per tag, with room for one tag too many so the
    // count error says what is wrong.
    let max_elements = 2 + 3 * (MAX_BUCKET_TAGS + 1);
    let root = parse_tree(body, "Tagging", MAX_TAGGING_XML_BYTES, max_elements)?;
    let mut tag_sets = root.children.iter().filter(|n| n.name == "TagSet");
    let tag_set = tag_sets
        .next()
        .ok_or_else(|| malformed("A Tagging document needs a TagSet."))?;
    if tag_sets.next().is_some() {
        return Err(malformed("TagSet appears more than once."));
    }
    let mut tags = Vec::new();
    for tag in tag_set.children.iter().filter(|n| n.name == "Tag") {
        let key = tag
            .single_child_text("Key")?
            .ok_or_else(|| malformed("A Tag has no Key."))?;
        let value = tag
            .single_child_text("Value")?
            .ok_or_else(|| malformed("A Tag has no Value."))?;
        tags.push((key.to_owned(), value.to_owned()));
    }
    check_tags(&tags, target)?;
    Ok(tags)
}

/// Get*Tagging answer: `<Tagging xmlns=..><TagSet><Tag><Key/><Value/></Tag>..</TagSet></Tagging>`,
/// tags in the order given. An untagged object answers an empty TagSet (S3 does); an untagged
/// bucket answers NoSuchTagSet instead (the handler's choice, not this writer's).
pub fn tagging_xml(tags: &[(String, String)]) -> String {
    let mut out = String::with_capacity(128 + tags.len() * 64);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"");
    out.push_str(S3_XMLNS);
    out.push_str("\"><TagSet>");
    for (key, value) in tags {
        out.push_str("<Tag><Key>");
        escape_into(&mut out, key);
        out.push_str("</Key><Value>");
        escape_into(&mut out, value);
        out.push_str("</Value></Tag>");
    }
    out.push_str("</TagSet></Tagging>");
    out
}

fn tagging_header_error() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    )
}

/// Parses the value of `x-amz-tagging`: URL query encoding, `k1=v1&k2=v2` (`+` is a space, as
/// in HTML forms, which is what SDK users' `urlencode` produces; a literal plus is `%2B`; a key
/// without `=` has an empty value). Empty pairs are skipped; an empty header is no tags.
/// Undecodable encoding, non-UTF-8 or a repeated key is InvalidArgument with AWS's message;
/// the tags themselves follow the object rules of [`check_tags`] (InvalidTag).
pub fn parse_tagging_header(value: &str) -> Result<Vec<(String, String)>, S3Error> {
    if value.len() > MAX_TAGGING_HEADER_BYTES {
        return Err(invalid_tag(
            "The x-amz-tagging header is longer than any valid tag set",
        ));
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in value.trim().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key).ok_or_else(tagging_header_error)?;
        let value = form_decode(value).ok_or_else(tagging_header_error)?;
        if tags.iter().any(|(k, _)| *k == key) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
        tags.push((key, value));
    }
    check_tags(&tags, TagTarget::Object)?;
    Ok(tags)
}

/// The tags a new object gets from its request's `x-amz-tagging` header (PutObject,
/// CreateMultipartUpload; CopyObject with [`TaggingDirective::Replace`]): empty when the header
/// is absent. Call before reading the body, so a bad header costs no upload.
pub fn request_tags(head: &RequestHead) -> Result<Vec<(String, String)>, S3Error> {
    match head.headers.get("x-amz-tagging") {
        None => Ok(Vec::new()),
        Some(value) => {
            let value =
                std::str::from_utf8(value.as_bytes()).map_err(|_| tagging_header_error())?;
            parse_tagging_header(value)
        }
    }
}

/// CopyObject's `x-amz-tagging-directive`: absent = COPY; exactly `COPY` or `REPLACE`
/// (S3 compares case-sensitively), else InvalidArgument.
pub fn tagging_directive(head: &RequestHead) -> Result<TaggingDirective, S3Error> {
    match head
        .headers
        .get("x-amz-tagging-directive")
        .map(|v| v.as_bytes())
    {
        None | Some(b"COPY") => Ok(TaggingDirective::Copy),
        Some(b"REPLACE") => Ok(TaggingDirective::Replace),
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Unknown tagging directive.",
        )),
    }
}

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space, `%XX`
/// two hex digits; `None` for a bad escape or a result that is not UTF-8.
fn form_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                let hi = bytes.get(i + 1).copied().and_then(hex)?;
                let lo = bytes.get(i + 2).copied().and_then(hex)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The body boto3's put_object_tagging / aws s3api put-object-tagging send.
    fn boto_body(pairs: &[(&str, &str)]) -> String {
        let mut body =
            String::from("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
        for (k, v) in pairs {
            body.push_str(&format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"));
        }
        body.push_str("</TagSet></Tagging>");
        body
    }

    fn code_of<T: std::fmt::Debug>(r: Result<T, S3Error>) -> (S3ErrorCode, String) {
        let err = r.unwrap_err();
        (err.code, err.message().to_owned())
    }

    #[test]
    fn parse_client_bodies() {
        let pairs = [("project", "blue"), ("cost center", "a+b-c=d.e_f:g/h@i")];
        assert_eq!(
            parse_tagging(boto_body(&pairs).as_bytes(), TagTarget::Object),
            Ok(tags(&pairs))
        );
        // Whitespace between elements, an XML declaration, entities, an empty value, Unicode.
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging>\n  <TagSet>\n    \
                    <Tag><Key>caf\u{e9} \u{65e5}\u{672c}</Key><Value/></Tag>\n    \
                    <Tag><Value> padded </Value><Key>a&#x40;b</Key></Tag>\n  </TagSet>\n</Tagging>";
        assert_eq!(
            parse_tagging(body.as_bytes(), TagTarget::Object),
            Ok(tags(&[
                ("caf\u{e9} \u{65e5}\u{672c}", ""),
                ("a@b", " padded ")
            ]))
        );
        // An empty TagSet is no tags.
        assert_eq!(
            parse_tagging(boto_body(&[]).as_bytes(), TagTarget::Bucket),
            Ok(vec![])
        );
    }

    /// Bodies and headers exactly as botocore 1.x serialises them.
    #[test]
    fn botocore_shapes() {
        let body = "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\
                    <Tag><Key>a b</Key><Value>1</Value></Tag><Tag><Key>c</Key><Value /></Tag>\
                    </TagSet></Tagging>";
        assert_eq!(
            parse_tagging(body.as_bytes(), TagTarget::Object),
            Ok(tags(&[("a b", "1"), ("c", "")]))
        );
        assert_eq!(
            parse_tagging_header("a=1&b%20c=d+e"),
            Ok(tags(&[("a", "1"), ("b c", "d e")]))
        );
    }

    #[test]
    fn limits() {
        let many = |n: usize| -> Vec<(String, String)> {
            (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect()
        };
        assert_eq!(check_tags(&many(10), TagTarget::Object), Ok(()));
        assert_eq!(
            code_of(check_tags(&many(11), TagTarget::Object)),
            (
                S3ErrorCode::BadRequest,
                "Object tags cannot be greater than 10".to_owned()
            )
        );
        assert_eq!(check_tags(&many(50), TagTarget::Bucket), Ok(()));
        assert_eq!(
            code_of(check_tags(&many(51), TagTarget::Bucket)).0,
            S3ErrorCode::BadRequest
        );
        // 51 bucket tags in a document: BadRequest, not a generic element-count MalformedXML.
        let pairs: Vec<(String, String)> = many(51);
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            code_of(parse_tagging(
                boto_body(&refs).as_bytes(),
                TagTarget::Bucket
            ))
            .0,
            S3ErrorCode::BadRequest
        );
        assert_eq!(
            code_of(parse_tagging(
                boto_body(&refs[..11]).as_bytes(),
                TagTarget::Object
            ))
            .0,
            S3ErrorCode::BadRequest
        );

        // Lengths count characters, not bytes.
        let key_128 = "\u{e9}".repeat(128);
        let value_256 = "\u{65e5}".repeat(256);
        assert_eq!(
            check_tags(&[(key_128.clone(), value_256.clone())], TagTarget::Object),
            Ok(())
        );
        let cases: Vec<(Vec<(String, String)>, &str)> = vec![
            (
                vec![(format!("{key_128}a"), String::new())],
                "The TagKey you have provided is too long, max 128",
            ),
            (
                vec![("k".into(), format!("{value_256}a"))],
                "The TagValue you have provided is too long, max 256",
            ),
            (
                vec![(String::new(), "v".into())],
                "The TagKey you have provided is invalid",
            ),
            (
                vec![("a*b".into(), "v".into())],
                "The TagKey you have provided is invalid",
            ),
            (
                vec![("tab\tkey".into(), "v".into())],
                "The TagKey you have provided is invalid",
            ),
            (
                vec![("k".into(), "semi;colon".into())],
                "The TagValue you have provided is invalid",
            ),
            (
                vec![("k".into(), "new\nline".into())],
                "The TagValue you have provided is invalid",
            ),
            (
                vec![("aws:cloudformation:stack".into(), "v".into())],
                "Your TagKey cannot be prefixed with aws:",
            ),
            (
                vec![
                    ("k".into(), "1".into()),
                    ("K".into(), "2".into()),
                    ("k".into(), "3".into()),
                ],
                "Cannot provide multiple Tags with the same key",
            ),
        ];
        for (set, message) in cases {
            assert_eq!(
                code_of(check_tags(&set, TagTarget::Object)),
                (S3ErrorCode::InvalidTag, message.to_owned()),
                "{set:?}"
            );
        }
        // Case matters for keys and the reserved prefix.
        assert_eq!(
            check_tags(&tags(&[("AWS:x", "v"), ("aws", "v")]), TagTarget::Bucket),
            Ok(())
        );
        // Duplicates through the document are refused the same way.
        assert_eq!(
            code_of(parse_tagging(
                boto_body(&[("a", "1"), ("a", "2")]).as_bytes(),
                TagTarget::Object
            ))
            .0,
            S3ErrorCode::InvalidTag
        );
    }

    #[test]
    fn malformed_documents() {
        for body in [
            String::new(),
            "<Tagging></Tagging>".to_owned(),
            "<Tagging><TagSet></TagSet><TagSet></TagSet></Tagging>".to_owned(),
            "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>".to_owned(),
            "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>".to_owned(),
            "<Tagging><TagSet><Tag><Key>k</Key><Key>j</Key><Value>v</Value></Tag></TagSet></Tagging>"
                .to_owned(),
            "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></TagSet></Tagging>".to_owned(),
            "<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>".to_owned(),
            "<!DOCTYPE x [<!ENTITY a \"b\">]><Tagging><TagSet/></Tagging>".to_owned(),
            format!("<Tagging><TagSet/>{}</Tagging>", " ".repeat(MAX_TAGGING_XML_BYTES)),
        ] {
            assert_eq!(
                code_of(parse_tagging(body.as_bytes(), TagTarget::Object)).0,
                S3ErrorCode::MalformedXML,
                "{body:.80}"
            );
        }
    }

    #[test]
    fn writer_round_trips() {
        let set = tags(&[("a&b", "<v>"), ("caf\u{e9}", ""), ("k", "x y")]);
        let xml = tagging_xml(&set);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\
             <Tag><Key>a&amp;b</Key><Value>&lt;v&gt;</Value></Tag>\
             <Tag><Key>caf\u{e9}</Key><Value></Value></Tag>\
             <Tag><Key>k</Key><Value>x y</Value></Tag></TagSet></Tagging>"
        );
        // The writer renders whatever it is given ('&' is no tag character, so PUT refuses it);
        // a valid set makes the round trip unchanged.
        assert_eq!(
            parse_tagging(xml.as_bytes(), TagTarget::Object),
            Err(invalid_tag("The TagKey you have provided is invalid"))
        );
        let valid = tags(&[("k", "x y"), ("caf\u{e9}", "")]);
        assert_eq!(
            parse_tagging(tagging_xml(&valid).as_bytes(), TagTarget::Object),
            Ok(valid)
        );
        assert_eq!(
            tagging_xml(&[]),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet></TagSet></Tagging>"
        );
    }

    #[test]
    fn header() {
        // boto3 put_object(Tagging=urlencode({...})), aws s3api put-object --tagging.
        assert_eq!(
            parse_tagging_header("project=blue&cost+center=a%2Bb&empty=&bare"),
            Ok(tags(&[
                ("project", "blue"),
                ("cost center", "a+b"),
                ("empty", ""),
                ("bare", "")
            ]))
        );
        assert_eq!(
            parse_tagging_header("k%3Ax=caf%C3%A9%20%2F%40"),
            Ok(tags(&[("k:x", "caf\u{e9} /@")]))
        );
        assert_eq!(parse_tagging_header(""), Ok(vec![]));
        assert_eq!(parse_tagging_header("&&a=1&"), Ok(tags(&[("a", "1")])));
        let header_message = tagging_header_error().message().to_owned();
        assert_eq!(
            code_of(parse_tagging_header("a=1&a=2")),
            (
                S3ErrorCode::InvalidTag,
                "Cannot provide multiple Tags with the same key".to_owned()
            )
        );
        for bad in ["a=%zz", "a=%C3%28", "%=1"] {
            assert_eq!(
                code_of(parse_tagging_header(bad)),
                (S3ErrorCode::InvalidArgument, header_message.clone()),
                "{bad}"
            );
        }
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            code_of(parse_tagging_header(&eleven.join("&"))).0,
            S3ErrorCode::BadRequest
        );
        for (bad, message) in [
            (
                "aws%3Ax=1".to_owned(),
                "Your TagKey cannot be prefixed with aws:",
            ),
            ("=v".to_owned(), "The TagKey you have provided is invalid"),
            (
                "k=a%2Ab".to_owned(),
                "The TagValue you have provided is invalid",
            ),
            (
                format!("k={}", "v".repeat(257)),
                "The TagValue you have provided is too long, max 256",
            ),
            (
                "k".repeat(MAX_TAGGING_HEADER_BYTES + 1),
                "The x-amz-tagging header is longer than any valid tag set",
            ),
        ] {
            assert_eq!(
                code_of(parse_tagging_header(&bad)),
                (S3ErrorCode::InvalidTag, message.to_owned()),
                "{bad:.40}"
            );
        }
    }

    fn head_with(headers: &[(&str, &[u8])]) -> RequestHead {
        let mut raw = b"PUT /b/k HTTP/1.1\r\nhost: h\r\n".to_vec();
        for (name, value) in headers {
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(value);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"\r\n");
        crate::http::parse_head(&raw)
            .expect("valid head")
            .expect("complete head")
            .0
    }

    #[test]
    fn request_headers() {
        assert_eq!(request_tags(&head_with(&[])), Ok(vec![]));
        assert_eq!(
            request_tags(&head_with(&[("x-amz-tagging", b"a=1&b=2")])),
            Ok(tags(&[("a", "1"), ("b", "2")]))
        );
        // Raw UTF-8 in the header (not encoded) is taken as is.
        assert_eq!(
            request_tags(&head_with(&[("x-amz-tagging", "k=caf\u{e9}".as_bytes())])),
            Ok(tags(&[("k", "caf\u{e9}")]))
        );
        assert_eq!(
            code_of(request_tags(&head_with(&[("x-amz-tagging", b"k=\xff")]))).0,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code_of(request_tags(&head_with(&[("x-amz-tagging", b"aws%3Ak=1")]))).0,
            S3ErrorCode::InvalidTag
        );

        assert_eq!(
            tagging_directive(&head_with(&[])),
            Ok(TaggingDirective::Copy)
        );
        assert_eq!(
            tagging_directive(&head_with(&[("x-amz-tagging-directive", b"COPY")])),
            Ok(TaggingDirective::Copy)
        );
        assert_eq!(
            tagging_directive(&head_with(&[("x-amz-tagging-directive", b"REPLACE")])),
            Ok(TaggingDirective::Replace)
        );
        for bad in [&b"replace"[..], b"MERGE", b""] {
            assert_eq!(
                code_of(tagging_directive(&head_with(&[(
                    "x-amz-tagging-directive",
                    bad
                )]))),
                (
                    S3ErrorCode::InvalidArgument,
                    "Unknown tagging directive.".to_owned()
                ),
                "{bad:?}"
            );
        }
    }
}
