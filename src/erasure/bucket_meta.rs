//! A bucket's configuration document on the drives of one set (`crate::bucket_config` decides
//! which set, caches it and serialises its writers).
//!
//! Every drive holds a whole copy at `.minnow.sys/buckets/<bucket>/config`, replaced atomically
//! and durably by `Drive::write_all`. A write needs a majority (n/2+1) of drives. A read needs
//! n/2 drives that agree: copies are grouped by equal content, a drive without the file counts
//! as a vote for "no configuration" (the defaults), and a torn, corrupt or unknown-format copy
//! or an offline drive does not vote. The largest group wins, the newest on a tie; a write that
//! failed on a majority is therefore outvoted by the copies it did not replace.

use minnow_io::{DriveError, SYS_VOL};

use super::{tally, ErasureSet};
use crate::bucket_config::{config_dir, config_path, BucketConfig};
use crate::object::ObjectError;

/// What one drive holds: a document, or none (`Ok(None)`).
type ConfigAnswer = Result<Option<BucketConfig>, DriveError>;

impl ErasureSet {
    /// The configuration a read quorum of drives agrees on; `None` when they agree there is
    /// none.
    pub async fn read_bucket_config(
        &self,
        bucket: &str,
    ) -> Result<Option<BucketConfig>, ObjectError> {
        let path = config_path(bucket);
        let answers = self
            .on_all(|_, d| {
                let path = path.clone();
                async move {
                    match d.read_all(SYS_VOL, &path).await {
                        Ok(bytes) => BucketConfig::decode(&bytes).map(Some).map_err(|e| {
                            tracing::warn!(drive = d.endpoint(), %path, error = %e, "bucket config refused; the other drives decide");
                            DriveError::Corrupt {
                                path: path.clone(),
                                reason: e.to_string(),
                            }
                        }),
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .await;
        agree_on_config(answers, self.read_majority())
    }

    /// Replace the configuration on every drive; fails unless a majority took it.
    pub async fn write_bucket_config(
        &self,
        bucket: &str,
        config: &BucketConfig,
    ) -> Result<(), ObjectError> {
        let path = config_path(bucket);
        let bytes = config.encode();
        let results = self
            .on_all(|_, d| {
                let (path, bytes) = (path.clone(), bytes.clone());
                async move { d.write_all(SYS_VOL, &path, &bytes).await }
            })
            .await;
        let (ok, errors) = tally(&results);
        if ok < self.majority() {
            return Err(ObjectError::write_quorum(ok, self.majority(), &errors));
        }
        Ok(())
    }

    /// Remove the configuration (and its directory) from every drive; a drive without it
    /// counts as done. Fails unless a majority are done.
    pub async fn remove_bucket_config(&self, bucket: &str) -> Result<(), ObjectError> {
        let dir = config_dir(bucket);
        let results = self
            .on_all(|_, d| {
                let dir = dir.clone();
                async move {
                    match d.delete(SYS_VOL, &dir, true).await {
                        Err(e) if e.is_not_found() => Ok(()),
                        other => other,
                    }
                }
            })
            .await;
        let (ok, errors) = tally(&results);
        if ok < self.majority() {
            return Err(ObjectError::write_quorum(ok, self.majority(), &errors));
        }
        Ok(())
    }
}

/// The document `read_quorum` drives agree on (see the module header).
fn agree_on_config(
    answers: Vec<ConfigAnswer>,
    read_quorum: usize,
) -> Result<Option<BucketConfig>, ObjectError> {
    let mut errors = Vec::new();
    // (document, votes), in order of first appearance.
    let mut groups: Vec<(Option<BucketConfig>, usize)> = Vec::new();
    for answer in answers {
        match answer {
            Ok(doc) => match groups.iter_mut().find(|(d, _)| *d == doc) {
                Some((_, votes)) => *votes += 1,
                None => groups.push((doc, 1)),
            },
            Err(e) => errors.push(e),
        }
    }
    let age = |doc: &Option<BucketConfig>| doc.as_ref().map_or(i64::MIN, |c| c.mod_time_ns);
    let best = groups
        .into_iter()
        .max_by(|(a, va), (b, vb)| va.cmp(vb).then(age(a).cmp(&age(b))));
    match best {
        Some((doc, votes)) if votes >= read_quorum => Ok(doc),
        Some((_, votes)) => Err(ObjectError::read_quorum(votes, read_quorum, &errors)),
        None => Err(ObjectError::read_quorum(0, read_quorum, &errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket_config::BucketConfigChange;
    use crate::object::Versioning;

    fn config(v: Versioning, at: i64) -> BucketConfig {
        BucketConfig::default()
            .apply(&BucketConfigChange::Versioning(v), at)
            .unwrap()
            .unwrap()
    }

    fn corrupt() -> ConfigAnswer {
        Err(DriveError::Corrupt {
            path: Default::default(),
            reason: "checksum".into(),
        })
    }

    #[test]
    fn the_largest_group_wins_then_the_newest() {
        let old = config(Versioning::Enabled, 10);
        let new = config(Versioning::Suspended, 20);
        let answers = vec![
            Ok(Some(old.clone())),
            Ok(Some(old.clone())),
            Ok(Some(new.clone())),
        ];
        assert_eq!(agree_on_config(answers, 2).unwrap(), Some(old.clone()));
        let tie = vec![
            Ok(Some(old.clone())),
            Ok(Some(new.clone())),
            Ok(Some(old)),
            Ok(Some(new.clone())),
        ];
        assert_eq!(agree_on_config(tie, 2).unwrap(), Some(new.clone()));
        // A copy beats an equal number of drives without one: it is newer than nothing.
        let half = vec![
            Ok(Some(new.clone())),
            Ok(None),
            Ok(Some(new.clone())),
            Ok(None),
        ];
        assert_eq!(agree_on_config(half, 2).unwrap(), Some(new));
    }

    #[test]
    fn absent_copies_are_the_defaults_and_bad_copies_do_not_vote() {
        let c = config(Versioning::Enabled, 10);
        let answers = vec![Ok(None), Ok(None), corrupt(), Ok(Some(c.clone()))];
        assert_eq!(agree_on_config(answers, 2).unwrap(), None);
        let answers = vec![
            corrupt(),
            corrupt(),
            Ok(Some(c.clone())),
            Ok(Some(c.clone())),
        ];
        assert_eq!(agree_on_config(answers, 2).unwrap(), Some(c.clone()));
        let too_few = vec![Err(DriveError::Offline), corrupt(), corrupt(), Ok(Some(c))];
        assert!(matches!(
            agree_on_config(too_few, 2),
            Err(ObjectError::ReadQuorum {
                online: 1,
                needed: 2,
                ..
            })
        ));
        assert!(matches!(
            agree_on_config(vec![Err(DriveError::Offline)], 1),
            Err(ObjectError::ReadQuorum { online: 0, .. })
        ));
    }
}
