//! Bucket operations, and DeleteObjects (a bucket-level request that fans out per key).

use minnow_net::http::{HttpConn, RequestHead};
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::{check_object_key, check_version_id};
use minnow_net::s3::sigv4::AuthOk;
use minnow_net::s3::xml::{
    self, BucketEntry, DeleteErrorEntry, DeleteResult, DeletedEntry, ListAllMyBucketsResult, Owner,
};

use super::{read_small_body, Reply, Response, ServerCtx};
use crate::bucket_config::BucketConfigChange;
use crate::object::{ObjectError, Versioning};

/// The owner of every bucket: the root user.
pub fn owner(ctx: &ServerCtx) -> Owner {
    Owner {
        id: "02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4".into(),
        display_name: ctx.config.access_key.clone(),
    }
}

/// ListBuckets.
pub async fn list_buckets(ctx: &ServerCtx) -> Result<Reply, S3Error> {
    let buckets = ctx.cluster.list_buckets().await?;
    let xml = ListAllMyBucketsResult {
        owner: owner(ctx),
        buckets: buckets
            .into_iter()
            .map(|v| BucketEntry {
                name: v.name,
                created_ns: v.created_ns,
            })
            .collect(),
        continuation_token: None,
        prefix: None,
    }
    .to_xml();
    Ok(Reply::Full(Response::xml(xml)))
}

/// CreateBucket. An optional CreateBucketConfiguration body may name the server's region and
/// no other: the bucket could not be where the client asked.
pub async fn create_bucket(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    let body = read_small_body(ctx, conn, head, auth).await?;
    if let Some(location) = xml::parse_create_bucket_configuration(&body)? {
        if location != ctx.config.region {
            return Err(S3Error::with_message(
                S3ErrorCode::IllegalLocationConstraint,
                format!(
                    "The {location} location constraint is incompatible for the region \
                     specific endpoint this request was sent to ({}).",
                    ctx.config.region
                ),
            ));
        }
    }
    if !ctx.cluster.make_bucket(bucket).await? {
        return Err(S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou));
    }
    Ok(Reply::Full(
        Response::new(200).header("location", format!("/{bucket}")),
    ))
}

/// HeadBucket.
pub async fn head_bucket(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(
        Response::new(200).header("x-amz-bucket-region", ctx.config.region.clone()),
    ))
}

/// DeleteBucket.
pub async fn delete_bucket(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.delete_bucket(bucket).await?;
    Ok(Reply::Full(Response::new(204)))
}

/// GetBucketLocation: the server's region (us-east-1 is the empty constraint).
pub async fn location(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(Response::xml(xml::location_constraint_xml(
        &ctx.config.region,
    ))))
}

/// GetBucketVersioning: no Status until versioning was first enabled or suspended.
pub async fn versioning(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    let config = ctx.bucket_config(bucket).await?;
    let status = match config.versioning {
        Versioning::Unversioned => None,
        Versioning::Enabled => Some("Enabled"),
        Versioning::Suspended => Some("Suspended"),
    };
    Ok(Reply::Full(Response::xml(
        xml::versioning_configuration_xml(status),
    )))
}

/// PutBucketVersioning. A bucket once versioned can be suspended but never unversioned again.
pub async fn put_versioning(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    let body = read_small_body(ctx, conn, head, auth).await?;
    let versioning = config_xml::parse_versioning_configuration(&body)?;
    drop(body);
    ctx.cluster
        .change_bucket_config(bucket, BucketConfigChange::Versioning(versioning))
        .await
        .map_err(|e| match e {
            // AWS answers a VersioningConfiguration it cannot apply with MalformedXML.
            ObjectError::InvalidArgument(why) => {
                S3Error::with_message(S3ErrorCode::MalformedXML, why)
            }
            other => S3Error::from(other),
        })?;
    Ok(Reply::Full(Response::new(200)))
}

/// GetBucketTagging: NoSuchTagSet (404) for a bucket without tags, as AWS answers.
pub async fn tagging(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    let config = ctx.bucket_config(bucket).await?;
    if config.tags.is_empty() {
        return Err(S3Error::new(S3ErrorCode::NoSuchTagSet));
    }
    Ok(Reply::Full(Response::xml(config_xml::tagging_xml(
        &config.tags,
    ))))
}

/// PutBucketTagging: replaces the whole tag set (204, as AWS answers).
pub async fn put_tagging(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    let body = read_small_body(ctx, conn, head, auth).await?;
    let tags = config_xml::parse_tagging(&body)?;
    drop(body);
    ctx.cluster
        .change_bucket_config(bucket, BucketConfigChange::Tags(tags))
        .await?;
    Ok(Reply::Full(Response::new(204)))
}

/// DeleteBucketTagging: 204, also when there were no tags.
pub async fn delete_tagging(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster
        .change_bucket_config(bucket, BucketConfigChange::Tags(Vec::new()))
        .await?;
    Ok(Reply::Full(Response::new(204)))
}

/// GetBucketAcl: the owner has FULL_CONTROL.
pub async fn acl(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(Response::xml(xml::access_control_policy_xml(
        &owner(ctx),
    ))))
}

/// GetObjectAcl: as the bucket's.
pub async fn object_acl(ctx: &ServerCtx, bucket: &str, key: &str) -> Result<Reply, S3Error> {
    ctx.cluster.head_object(bucket, key).await?;
    Ok(Reply::Full(Response::xml(xml::access_control_policy_xml(
        &owner(ctx),
    ))))
}

/// DeleteObjects: each key is deleted on the set (and core) that owns it; per-key failures are
/// reported in the result, not as a request failure.
pub async fn delete_objects(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    if head.header("content-md5").is_none()
        && !head
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-checksum-"))
        && head.header("x-amz-sdk-checksum-algorithm").is_none()
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: Content-MD5",
        ));
    }
    let body = read_small_body(ctx, conn, head, auth).await?;
    let request = xml::parse_delete(&body)?;
    drop(body); // its memory goes back before the deletes
    ctx.cluster.stat_bucket(bucket).await?;
    let mut result = DeleteResult {
        quiet: request.quiet,
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for object in request.objects {
        let checked = check_object_key(&object.key).and_then(|()| {
            object
                .version_id
                .as_deref()
                .map_or(Ok(()), check_version_id)
        });
        let outcome = match checked {
            Err(e) => Err(e),
            // A version that does not exist is deleted already (S3 reports it as deleted).
            Ok(()) if super::require_null_version(object.version_id.as_deref()).is_err() => Ok(()),
            Ok(()) => ctx
                .cluster
                .delete_object(bucket, &object.key)
                .await
                .map_err(S3Error::from),
        };
        match outcome {
            Ok(()) => result.deleted.push(DeletedEntry {
                key: object.key,
                version_id: object.version_id,
                delete_marker: false,
                delete_marker_version_id: None,
            }),
            Err(error) => result.errors.push(DeleteErrorEntry {
                key: object.key,
                version_id: object.version_id,
                error,
            }),
        }
    }
    Ok(Reply::Full(Response::xml(result.to_xml())))
}

/// The XML of the bucket configuration handlers: a minimal reader and writer until
/// `minnow_net::s3::xml` has them (its bounded request parser is private to it). Validation
/// beyond the document's shape (tag count, key and value lengths) belongs there too.
mod config_xml {
    use minnow_net::s3::error::{S3Error, S3ErrorCode};
    use minnow_net::s3::xml::escape;

    use crate::object::Versioning;

    /// Largest tag set accepted (AWS: 50 tags per bucket).
    const TAGS_MAX: usize = 50;
    /// Longest tag key and value, in characters (AWS: 128 and 256).
    const TAG_KEY_MAX_CHARS: usize = 128;
    const TAG_VALUE_MAX_CHARS: usize = 256;

    /// The Status of a VersioningConfiguration: `Enabled`, `Suspended`, or absent
    /// (`Unversioned`, which changes nothing on a bucket never versioned).
    pub fn parse_versioning_configuration(body: &[u8]) -> Result<Versioning, S3Error> {
        let root = parse(body, "VersioningConfiguration")?;
        match root.only_child_text("Status")?.map(str::trim) {
            None => Ok(Versioning::Unversioned),
            Some("Enabled") => Ok(Versioning::Enabled),
            Some("Suspended") => Ok(Versioning::Suspended),
            Some(_) => Err(malformed("Status must be Enabled or Suspended.")),
        }
    }

    /// The tags of a Tagging document, in order; duplicate keys are refused (InvalidTag).
    pub fn parse_tagging(body: &[u8]) -> Result<Vec<(String, String)>, S3Error> {
        let root = parse(body, "Tagging")?;
        let set = root
            .children
            .iter()
            .find(|c| c.name == "TagSet")
            .ok_or_else(|| malformed("Tagging has no TagSet."))?;
        let mut tags: Vec<(String, String)> = Vec::new();
        for tag in set.children.iter().filter(|c| c.name == "Tag") {
            let key = tag
                .only_child_text("Key")?
                .ok_or_else(|| malformed("A Tag has no Key."))?;
            let value = tag
                .only_child_text("Value")?
                .ok_or_else(|| malformed("A Tag has no Value."))?;
            if key.is_empty()
                || key.chars().count() > TAG_KEY_MAX_CHARS
                || value.chars().count() > TAG_VALUE_MAX_CHARS
            {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "The TagKey or TagValue you have provided is invalid",
                ));
            }
            if tags.iter().any(|(k, _)| k == key) {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "Cannot provide multiple Tags with the same key",
                ));
            }
            tags.push((key.to_string(), value.to_string()));
        }
        if tags.len() > TAGS_MAX {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Object tags cannot be greater than 50",
            ));
        }
        Ok(tags)
    }

    /// The GetBucketTagging answer.
    pub fn tagging_xml(tags: &[(String, String)]) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>",
        );
        for (key, value) in tags {
            out.push_str("<Tag><Key>");
            out.push_str(&escape(key));
            out.push_str("</Key><Value>");
            out.push_str(&escape(value));
            out.push_str("</Value></Tag>");
        }
        out.push_str("</TagSet></Tagging>");
        out
    }

    fn malformed(detail: &str) -> S3Error {
        S3Error::with_message(
            S3ErrorCode::MalformedXML,
            format!(
                "The XML you provided was not well-formed or did not validate against our \
                 published schema: {detail}"
            ),
        )
    }

    /// An element: local name, text, children.
    #[derive(Debug, Default)]
    struct Node {
        name: String,
        text: String,
        children: Vec<Node>,
    }

    impl Node {
        fn only_child_text(&self, name: &str) -> Result<Option<&str>, S3Error> {
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

    /// Elements nested deeper than this are refused (the documents read here are 3 deep).
    const DEPTH_MAX: usize = 8;

    /// Parse `body` into a tree whose root must be called `root`. Handles the XML
    /// declaration, comments, attributes (ignored), namespace prefixes (dropped), the five
    /// predefined entities and character references; refuses anything else.
    fn parse(body: &[u8], root: &str) -> Result<Node, S3Error> {
        let text = std::str::from_utf8(body).map_err(|_| malformed("not UTF-8."))?;
        let mut stack: Vec<Node> = Vec::new();
        let mut done: Option<Node> = None;
        let mut rest = text;
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                push_text(&mut stack, rest, done.is_some())?;
                break;
            };
            push_text(&mut stack, &rest[..lt], done.is_some())?;
            rest = &rest[lt..];
            if let Some(after) = rest.strip_prefix("<?") {
                let end = after
                    .find("?>")
                    .ok_or_else(|| malformed("unterminated <?."))?;
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix("<!--") {
                let end = after
                    .find("-->")
                    .ok_or_else(|| malformed("unterminated comment."))?;
                rest = &after[end + 3..];
            } else if rest.starts_with("<!") {
                return Err(malformed("declarations are not accepted."));
            } else {
                let end = rest
                    .find('>')
                    .ok_or_else(|| malformed("unterminated tag."))?;
                let tag = &rest[1..end];
                rest = &rest[end + 1..];
                if let Some(name) = tag.strip_prefix('/') {
                    let node = stack
                        .pop()
                        .ok_or_else(|| malformed("unexpected end tag."))?;
                    if local_name(name.trim()) != node.name {
                        return Err(malformed("mismatched end tag."));
                    }
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => done = Some(node),
                    }
                } else {
                    if done.is_some() {
                        return Err(malformed("content after the root element."));
                    }
                    let self_closing = tag.ends_with('/');
                    let tag = tag.trim_end_matches('/');
                    let name = tag.split_whitespace().next().unwrap_or("");
                    if name.is_empty() {
                        return Err(malformed("empty tag."));
                    }
                    let node = Node {
                        name: local_name(name).to_string(),
                        ..Node::default()
                    };
                    if self_closing {
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(node),
                            None => done = Some(node),
                        }
                    } else {
                        if stack.len() == DEPTH_MAX {
                            return Err(malformed("nested too deep."));
                        }
                        stack.push(node);
                    }
                }
            }
        }
        if !stack.is_empty() {
            return Err(malformed("unclosed element."));
        }
        let node = done.ok_or_else(|| malformed("no root element."))?;
        if node.name != root {
            return Err(malformed(&format!("the root element must be {root}.")));
        }
        Ok(node)
    }

    fn local_name(name: &str) -> &str {
        name.rsplit(':').next().unwrap_or(name)
    }

    fn push_text(stack: &mut [Node], raw: &str, after_root: bool) -> Result<(), S3Error> {
        match stack.last_mut() {
            Some(node) => node.text.push_str(&unescape(raw)?),
            None if raw.trim().is_empty() => {}
            None if after_root => return Err(malformed("content after the root element.")),
            None => return Err(malformed("text outside the root element.")),
        }
        Ok(())
    }

    fn unescape(raw: &str) -> Result<String, S3Error> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            let semi = rest[amp..]
                .find(';')
                .ok_or_else(|| malformed("unterminated entity."))?;
            let entity = &rest[amp + 1..amp + semi];
            let c = match entity {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = entity.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32)
                        .ok_or_else(|| malformed("unknown entity."))?
                }
            };
            out.push(c);
            rest = &rest[amp + semi + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn versioning_documents() {
            let ns = r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#;
            let cases: &[(&str, Option<Versioning>)] = &[
                ("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", Some(Versioning::Enabled)),
                ("<?xml version=\"1.0\"?>\n<VersioningConfiguration NS><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>", Some(Versioning::Suspended)),
                ("<VersioningConfiguration NS/>", Some(Versioning::Unversioned)),
                ("<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>", None),
                ("<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status></VersioningConfiguration>", None),
                ("<Versioning><Status>Enabled</Status></Versioning>", None),
                ("<VersioningConfiguration><Status>Enabled</VersioningConfiguration>", None),
                ("<VersioningConfiguration>", None),
                ("", None),
                ("<VersioningConfiguration/><X/>", None),
                ("<!DOCTYPE x><VersioningConfiguration/>", None),
            ];
            for (doc, want) in cases {
                let doc = doc.replace("NS", ns);
                let got = parse_versioning_configuration(doc.as_bytes());
                match want {
                    Some(v) => assert_eq!(got.unwrap(), *v, "{doc}"),
                    None => assert_eq!(got.unwrap_err().code, S3ErrorCode::MalformedXML, "{doc}"),
                }
            }
        }

        #[test]
        fn tagging_documents_round_trip() {
            let tags = vec![
                ("a&b".to_string(), "<1>".to_string()),
                ("ключ".to_string(), String::new()),
            ];
            let doc = tagging_xml(&tags);
            assert_eq!(parse_tagging(doc.as_bytes()).unwrap(), tags);
            let refs = "<Tagging><TagSet><Tag><Key>&#x41;&#66;</Key><Value>&apos;&quot;</Value></Tag></TagSet></Tagging>";
            assert_eq!(
                parse_tagging(refs.as_bytes()).unwrap(),
                vec![("AB".to_string(), "'\"".to_string())]
            );
            let empty = "<Tagging><TagSet/></Tagging>";
            assert!(parse_tagging(empty.as_bytes()).unwrap().is_empty());
        }

        #[test]
        fn bad_tagging_documents_are_refused() {
            let dup = "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>";
            assert_eq!(
                parse_tagging(dup.as_bytes()).unwrap_err().code,
                S3ErrorCode::InvalidArgument
            );
            let many: String = (0..51)
                .map(|i| format!("<Tag><Key>k{i}</Key><Value>v</Value></Tag>"))
                .collect();
            let many = format!("<Tagging><TagSet>{many}</TagSet></Tagging>");
            assert_eq!(
                parse_tagging(many.as_bytes()).unwrap_err().code,
                S3ErrorCode::InvalidArgument
            );
            let tag = |k: &str, v: &str| {
                format!("<Tagging><TagSet><Tag><Key>{k}</Key><Value>{v}</Value></Tag></TagSet></Tagging>")
            };
            let longest = tag(&"é".repeat(128), &"é".repeat(256));
            assert_eq!(parse_tagging(longest.as_bytes()).unwrap().len(), 1);
            for bad in [
                tag("", "v"),
                tag(&"k".repeat(129), "v"),
                tag("k", &"v".repeat(257)),
            ] {
                assert_eq!(
                    parse_tagging(bad.as_bytes()).unwrap_err().code,
                    S3ErrorCode::InvalidArgument
                );
            }
            for bad in [
                "<Tagging></Tagging>",
                "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
                "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
                "<Tagging><TagSet><Tag><Key>&bogus;</Key><Value>v</Value></Tag></TagSet></Tagging>",
                "<Tagging><TagSet><Tag><Key>&amp</Key><Value>v</Value></Tag></TagSet></Tagging>",
                "x<Tagging><TagSet/></Tagging>",
                "<a><b><c><d><e><f><g><h><i></i></h></g></f></e></d></c></b></a>",
            ] {
                assert_eq!(
                    parse_tagging(bad.as_bytes()).unwrap_err().code,
                    S3ErrorCode::MalformedXML,
                    "{bad}"
                );
            }
            assert!(parse_tagging(&[0xff, 0xfe]).is_err());
        }
    }
}
