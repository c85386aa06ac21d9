//! Deployment identity: formatting fresh drives and verifying known ones at start-up.
//!
//! Every drive carries a `format.json` naming the deployment, the drive's own uuid and the whole
//! layout (the uuids of every slot of every set). On first start all drives are empty and get a
//! new deployment id. On later starts every formatted drive must belong to this deployment and sit
//! in its slot: a drive from another deployment, or two drives swapped, is refused with an error
//! that names the drive, because serving from it would return wrong shards. An empty drive in a
//! known slot (a replaced drive) is formatted with its slot's uuid. A drive that cannot be read is
//! left offline; the sets decide at run time whether they still have quorum.
//!
//! A drive is identified by what it is, not by the path it was given under: two arguments that
//! name one directory (symlink, `d1/.`) are refused, and it is claimed with an exclusive lock
//! before anything reads or writes it, so a second process on the same drives is refused too
//! (`minnow_io::drive_lock`). A minnow drive that lost its format.json, or holds a damaged one,
//! gets its slot's identity back from the other drives, provided at least half the drives carry
//! the layout; with fewer, the start is refused rather than guessing the layout.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minnow_io::drive_lock::{DriveDir, DriveLock, LockError};
use minnow_io::format::{self, FormatFile, FormatJson};

use crate::topology::Topology;

/// Why the drives cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// A drive belongs to another deployment.
    #[error("drive {drive} belongs to deployment {found}, not {expected}: refusing to start")]
    ForeignDrive {
        /// Drive directory.
        drive: String,
        /// Its deployment id.
        found: String,
        /// This deployment's id.
        expected: String,
    },
    /// A drive is in the wrong slot (drives swapped or given in another order).
    #[error("drive {drive} holds uuid {uuid}, which belongs in set {want_set} slot {want_slot}, but it was given as set {set} slot {slot}: drives swapped or listed in another order; refusing to start")]
    WrongSlot {
        /// Drive directory.
        drive: String,
        /// Its uuid.
        uuid: String,
        /// Set it is given as.
        set: usize,
        /// Slot it is given as.
        slot: usize,
        /// Set it belongs to.
        want_set: usize,
        /// Slot it belongs to.
        want_slot: usize,
    },
    /// The formatted layout differs from the arguments.
    #[error("drive {drive} was formatted for {sets} sets of {size} drives, but the arguments give {given_sets} sets of {given_size}: refusing to start")]
    LayoutChanged {
        /// Drive directory.
        drive: String,
        /// Formatted set count.
        sets: usize,
        /// Formatted set size.
        size: usize,
        /// Given set count.
        given_sets: usize,
        /// Given set size.
        given_size: usize,
    },
    /// A drive holds data but no format.json.
    #[error(
        "drive {0} is not empty and has no format.json: refusing to format over existing data"
    )]
    UnformattedWithData(String),
    /// Formatted drives disagree on the deployment.
    #[error("drives disagree on the deployment id ({0}): refusing to start")]
    SplitDeployment(String),
    /// Writing format.json failed.
    #[error("cannot format drive {drive}: {reason}")]
    FormatFailed {
        /// Drive directory.
        drive: String,
        /// Why.
        reason: String,
    },
    /// Too few drives can be read at all.
    #[error("no drive could be read: {0}")]
    NoDrives(String),
    /// Two drive arguments name one directory.
    #[error("drives {first} and {second} are the same directory ({detail}): each drive must be given once; refusing to start")]
    AliasedDrives {
        /// The drive given first.
        first: String,
        /// The one that turned out to be the same.
        second: String,
        /// How they were found to be one.
        detail: String,
    },
    /// Another process serves the drive.
    #[error("drive {drive} is in use by another minnow process{holder}: a drive is served by one process at a time; refusing to start")]
    DriveInUse {
        /// Drive directory.
        drive: String,
        /// " (pid N)" when known.
        holder: String,
    },
    /// Too few drives carry a format.json to trust the layout.
    #[error("only {found} of {total} drives have a usable format.json ({needed} needed to trust the deployment's layout); without one: {without}; refusing to start")]
    NoFormatQuorum {
        /// Drives with a valid format.json.
        found: usize,
        /// Needed.
        needed: usize,
        /// Drives given.
        total: usize,
        /// The drives without a usable one.
        without: String,
    },
}

/// The verified deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// 16-byte deployment id (keys the set placement hash).
    pub id: [u8; 16],
    /// The id as text.
    pub id_text: String,
    /// Drive directories that are usable now, in slot order; `None` for a drive that is offline.
    pub drives: Vec<Option<PathBuf>>,
    /// Drives per set.
    pub set_size: usize,
    /// The drives' exclusive locks: held while any clone of the deployment lives, i.e. for the
    /// life of the server.
    pub locks: Arc<Vec<DriveLock>>,
}

/// Claim, format or verify the drives; refuse a start that would serve wrong data.
///
/// In order: every drive directory is created if missing, opened, checked to be a directory no
/// other drive argument names (device and inode), and locked (one process per drive, held by
/// the returned [`Deployment`]); only then is its format.json read. Drives with a valid
/// format.json must agree on the deployment and sit in their slots. The deployment's layout is
/// trusted only when at least half the drives (read quorum) carry it; then fresh drives get
/// their slot's uuid, and minnow drives whose format.json was lost or damaged get it back.
/// Finally every drive's format.json is read again: a drive that reads another slot's uuid
/// shares its storage with that slot (an alias the inode check could not see).
pub fn format_or_verify(topology: &Topology) -> Result<Deployment, DeploymentError> {
    let n = topology.drives.len();
    let (states, locks) = claim_drives(topology)?;
    if states.iter().all(|s| matches!(s, DriveState::Offline)) {
        return Err(DeploymentError::NoDrives(
            "every drive failed to open (see the log lines above)".into(),
        ));
    }
    let formats: Vec<Option<&FormatJson>> = states
        .iter()
        .map(|s| match s {
            DriveState::Formatted(f) => Some(f),
            _ => None,
        })
        .collect();

    let mut ids: Vec<&str> = formats
        .iter()
        .flatten()
        .map(|f| f.deployment_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 1 {
        // Name the odd one out when one deployment clearly holds the majority.
        let majority = majority_id(&formats);
        if let Some(expected) = majority {
            for (i, f) in formats.iter().enumerate() {
                if let Some(f) = f {
                    if f.deployment_id != expected {
                        return Err(DeploymentError::ForeignDrive {
                            drive: topology.drives[i].display().to_string(),
                            found: f.deployment_id.clone(),
                            expected,
                        });
                    }
                }
            }
        }
        return Err(DeploymentError::SplitDeployment(ids.join(", ")));
    }

    let given_sets = topology.set_count();
    for (i, f) in formats.iter().enumerate() {
        let Some(f) = f else { continue };
        let sets = f.sets.len();
        let size = f.sets.first().map_or(0, |s| s.len());
        if sets != given_sets || size != topology.set_size {
            return Err(DeploymentError::LayoutChanged {
                drive: topology.drives[i].display().to_string(),
                sets,
                size,
                given_sets,
                given_size: topology.set_size,
            });
        }
        let (set, slot) = (i / topology.set_size, i % topology.set_size);
        if f.sets[set][slot] != f.drive_id {
            let (want_set, want_slot) = find_slot(&f.sets, &f.drive_id).unwrap_or((usize::MAX, 0));
            return Err(DeploymentError::WrongSlot {
                drive: topology.drives[i].display().to_string(),
                uuid: f.drive_id.clone(),
                set,
                slot,
                want_set,
                want_slot,
            });
        }
    }

    // The layout is trusted when a read quorum of drives carries it. With no format at all it
    // is a new deployment, unless drives hold the data of an old one.
    let formatted = formats.iter().flatten().count();
    let new_deployment =
        formatted == 0 && !states.iter().any(|s| matches!(s, DriveState::Damaged(_)));
    if !new_deployment && formatted < format_quorum(n) {
        let without: Vec<String> = states
            .iter()
            .zip(&topology.drives)
            .filter(|(s, _)| !matches!(s, DriveState::Formatted(_)))
            .map(|(_, d)| d.display().to_string())
            .collect();
        return Err(DeploymentError::NoFormatQuorum {
            found: formatted,
            needed: format_quorum(n),
            total: n,
            without: without.join(", "),
        });
    }
    let reference = match formats.iter().flatten().next() {
        Some(&f) => f.clone(),
        None => new_format(topology),
    };

    // Give fresh drives, and drives that lost their format.json, their slot's uuid.
    for (i, state) in states.iter().enumerate() {
        let damage = match state {
            DriveState::Fresh => None,
            DriveState::Damaged(reason) => Some(reason),
            DriveState::Formatted(_) | DriveState::Offline => continue,
        };
        let drive = &topology.drives[i];
        let (set, slot) = (i / topology.set_size, i % topology.set_size);
        let mut mine = reference.clone();
        mine.drive_id = reference.sets[set][slot].clone();
        format::write_format(drive, &mine).map_err(|e| DeploymentError::FormatFailed {
            drive: drive.display().to_string(),
            reason: e.to_string(),
        })?;
        match damage {
            None => tracing::info!(drive = %drive.display(), set, slot, "formatted drive"),
            Some(reason) => tracing::warn!(
                drive = %drive.display(),
                set,
                slot,
                uuid = %mine.drive_id,
                damage = %reason,
                "format.json restored from the other drives' formats: the drive rejoins its slot"
            ),
        }
    }
    verify_identities(topology, &states, &reference)?;

    let id = format::parse_uuid(&reference.deployment_id).ok_or_else(|| {
        DeploymentError::SplitDeployment(format!(
            "deployment id {:?} is not a uuid",
            reference.deployment_id
        ))
    })?;
    Ok(Deployment {
        id,
        id_text: reference.deployment_id.clone(),
        drives: topology
            .drives
            .iter()
            .zip(&states)
            .map(|(d, s)| (!matches!(s, DriveState::Offline)).then(|| d.clone()))
            .collect(),
        set_size: topology.set_size,
        locks: Arc::new(locks),
    })
}

/// Drives that must carry the layout before it is trusted: half of them (MinIO's read quorum
/// of formats), at least one.
fn format_quorum(drives: usize) -> usize {
    (drives / 2).max(1)
}

/// A drive at start-up, once claimed.
enum DriveState {
    /// Cannot be used now (cannot be opened or read, or holds someone else's data); logged.
    Offline,
    /// Empty: formatted into its slot.
    Fresh,
    /// A minnow drive whose format.json is missing or damaged (why): restored into its slot.
    Damaged(String),
    /// A valid format.json.
    Formatted(FormatJson),
}

/// Create, open, de-alias and lock every drive, then read its format.json.
fn claim_drives(topology: &Topology) -> Result<(Vec<DriveState>, Vec<DriveLock>), DeploymentError> {
    let mut identities: Vec<((u64, u64), usize)> = Vec::new();
    let mut locks = Vec::new();
    let mut states = Vec::with_capacity(topology.drives.len());
    for (i, drive) in topology.drives.iter().enumerate() {
        let offline = |reason: String| {
            tracing::error!(drive = %drive.display(), %reason, "drive offline at start-up");
            DriveState::Offline
        };
        let opened = std::fs::create_dir_all(drive)
            .and_then(|()| DriveDir::open(drive))
            .map_err(|e| format!("cannot open {}: {e}", drive.display()));
        let dir = match opened {
            Ok(dir) => dir,
            Err(reason) => {
                states.push(offline(reason));
                continue;
            }
        };
        if let Some(&(_, first)) = identities.iter().find(|(id, _)| *id == dir.identity()) {
            let (dev, ino) = dir.identity();
            return Err(DeploymentError::AliasedDrives {
                first: topology.drives[first].display().to_string(),
                second: drive.display().to_string(),
                detail: format!("device {dev:#x}, inode {ino}"),
            });
        }
        identities.push((dir.identity(), i));
        match dir.lock() {
            Ok(lock) => locks.push(lock),
            Err(LockError::Held { pid }) => {
                return Err(DeploymentError::DriveInUse {
                    drive: drive.display().to_string(),
                    holder: pid.map_or_else(String::new, |p| format!(" (pid {p})")),
                })
            }
            Err(e) => {
                states.push(offline(e.to_string()));
                continue;
            }
        }
        states.push(inspect_drive(drive).unwrap_or_else(offline));
    }
    Ok((states, locks))
}

/// What a claimed drive holds. `Err`: why it stays offline.
fn inspect_drive(drive: &Path) -> Result<DriveState, String> {
    match format::inspect_format(drive).map_err(|e| e.to_string())? {
        FormatFile::Valid(f) => Ok(DriveState::Formatted(f)),
        FormatFile::Foreign(reason) => Err(format!(
            "format.json is not this build's ({reason}): refusing to overwrite it"
        )),
        FormatFile::Damaged(reason) => Ok(DriveState::Damaged(format!(
            "format.json damaged: {reason}"
        ))),
        // minnow's system volume is created only on formatted drives: this one was ours and
        // lost only its identity.
        FormatFile::Missing if drive.join(minnow_io::SYS_VOL).is_dir() => {
            Ok(DriveState::Damaged("format.json missing".into()))
        }
        FormatFile::Missing => match format::is_dir_empty_for_format(drive) {
            Ok(true) => Ok(DriveState::Fresh),
            Ok(false) => {
                Err(DeploymentError::UnformattedWithData(drive.display().to_string()).to_string())
            }
            Err(e) => Err(e.to_string()),
        },
    }
}

/// Every usable drive must now read its own slot's uuid of this deployment. One that reads
/// another slot's was overwritten through another path: the two are one storage.
fn verify_identities(
    topology: &Topology,
    states: &[DriveState],
    reference: &FormatJson,
) -> Result<(), DeploymentError> {
    for (i, state) in states.iter().enumerate() {
        if matches!(state, DriveState::Offline) {
            continue;
        }
        let drive = &topology.drives[i];
        let (set, slot) = (i / topology.set_size, i % topology.set_size);
        let expected = &reference.sets[set][slot];
        let found = format::read_format(drive).map_err(|e| DeploymentError::FormatFailed {
            drive: drive.display().to_string(),
            reason: format!("format.json unreadable right after formatting: {e}"),
        })?;
        let found = found.map(|f| (f.deployment_id, f.drive_id));
        if found.as_ref() == Some(&(reference.deployment_id.clone(), expected.clone())) {
            continue;
        }
        let other = found
            .as_ref()
            .and_then(|(_, uuid)| find_slot(&reference.sets, uuid))
            .map(|(s, o)| {
                topology.drives[s * topology.set_size + o]
                    .display()
                    .to_string()
            });
        return Err(DeploymentError::AliasedDrives {
            first: other.unwrap_or_else(|| "another drive".into()),
            second: drive.display().to_string(),
            detail: format!(
                "after formatting it reads uuid {}, not its own {expected}",
                found.map_or_else(|| "none".into(), |(_, uuid)| uuid)
            ),
        });
    }
    Ok(())
}

fn new_format(topology: &Topology) -> FormatJson {
    let sets = (0..topology.set_count())
        .map(|_| (0..topology.set_size).map(|_| format::new_uuid()).collect())
        .collect();
    FormatJson {
        version: 1,
        format: "minnow".into(),
        deployment_id: format::new_uuid(),
        drive_id: String::new(),
        sets,
        distribution_algo: "SIPMOD+PARITY".into(),
    }
}

fn majority_id(formats: &[Option<&FormatJson>]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for f in formats.iter().flatten() {
        match counts.iter_mut().find(|(id, _)| *id == f.deployment_id) {
            Some((_, c)) => *c += 1,
            None => counts.push((f.deployment_id.clone(), 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    match counts.as_slice() {
        [(id, a), (_, b), ..] if a > b => Some(id.clone()),
        _ => None,
    }
}

fn find_slot(sets: &[Vec<String>], uuid: &str) -> Option<(usize, usize)> {
    sets.iter()
        .enumerate()
        .find_map(|(s, set)| set.iter().position(|u| u == uuid).map(|slot| (s, slot)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology;

    fn temp_root(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("minnow-deploy-{name}-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn topo(root: &Path, n: usize) -> Topology {
        topology::build(&[format!("{}/d{{1...{n}}}", root.display())], None).unwrap()
    }

    /// Format `n` drives under `root` and give them the system volume a served drive has.
    fn served(root: &Path, n: usize) -> Topology {
        let t = topo(root, n);
        drop(format_or_verify(&t).unwrap());
        for d in &t.drives {
            std::fs::create_dir_all(d.join(minnow_io::SYS_VOL).join("tmp")).unwrap();
        }
        t
    }

    #[test]
    fn first_start_formats_then_verifies() {
        let root = temp_root("fmt");
        let t = topo(&root, 4);
        let first = format_or_verify(&t).unwrap();
        let first_id = first.id;
        drop(first); // releases the drive locks
        let second = format_or_verify(&t).unwrap();
        assert_eq!(first_id, second.id);
        assert!(second.drives.iter().all(|d| d.is_some()));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn swapped_drives_are_refused() {
        let root = temp_root("swap");
        let t = topo(&root, 4);
        format_or_verify(&t).unwrap();
        std::fs::rename(root.join("d1"), root.join("tmp")).unwrap();
        std::fs::rename(root.join("d2"), root.join("d1")).unwrap();
        std::fs::rename(root.join("tmp"), root.join("d2")).unwrap();
        let err = format_or_verify(&t).unwrap_err();
        assert!(matches!(err, DeploymentError::WrongSlot { .. }), "{err}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn foreign_drive_is_refused() {
        let root = temp_root("foreign");
        let t = topo(&root, 4);
        format_or_verify(&t).unwrap();
        let other = temp_root("other");
        let t2 = topo(&other, 4);
        format_or_verify(&t2).unwrap();
        std::fs::remove_dir_all(root.join("d3")).unwrap();
        std::fs::rename(other.join("d3"), root.join("d3")).unwrap();
        let err = format_or_verify(&t).unwrap_err();
        assert!(matches!(err, DeploymentError::ForeignDrive { .. }), "{err}");
        std::fs::remove_dir_all(root).unwrap();
        std::fs::remove_dir_all(other).unwrap();
    }

    #[test]
    fn replaced_empty_drive_gets_its_slot() {
        let root = temp_root("replace");
        let t = topo(&root, 4);
        let first = format_or_verify(&t).unwrap().id;
        let before = format::read_format(&root.join("d2")).unwrap().unwrap();
        std::fs::remove_dir_all(root.join("d2")).unwrap();
        let again = format_or_verify(&t).unwrap();
        assert_eq!(first, again.id);
        let after = format::read_format(&root.join("d2")).unwrap().unwrap();
        assert_eq!(before.drive_id, after.drive_id);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn non_empty_unformatted_drive_is_refused() {
        let root = temp_root("data");
        std::fs::create_dir_all(root.join("d1")).unwrap();
        std::fs::write(root.join("d1/precious.txt"), b"x").unwrap();
        let t = topo(&root, 4);
        let d = format_or_verify(&t).unwrap();
        assert!(
            d.drives[0].is_none(),
            "a drive with foreign data must stay offline"
        );
        assert!(root.join("d1/precious.txt").exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn aliased_drives_are_refused() {
        let root = temp_root("alias");
        std::fs::create_dir_all(root.join("d2")).unwrap();
        std::os::unix::fs::symlink(root.join("d2"), root.join("link")).unwrap();
        for (i, alias) in ["link", "d2/../d2"].iter().enumerate() {
            let drives: Vec<String> = ["d1", "d2", "d3", alias]
                .iter()
                .map(|d| root.join(d).display().to_string())
                .collect();
            let t = topology::build(&drives, None).unwrap();
            let err = format_or_verify(&t).unwrap_err();
            assert!(
                matches!(err, DeploymentError::AliasedDrives { .. }),
                "{i}: {err}"
            );
            assert!(err.to_string().contains(alias), "{err}");
            assert!(
                format::read_format(&root.join("d1")).unwrap().is_none(),
                "nothing is formatted before the drives are known to be distinct"
            );
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn second_claim_on_the_same_drives_is_refused() {
        let root = temp_root("claim");
        let t = topo(&root, 4);
        let first = format_or_verify(&t).unwrap();
        let err = format_or_verify(&t).unwrap_err();
        assert!(matches!(err, DeploymentError::DriveInUse { .. }), "{err}");
        let pid = format!("pid {}", std::process::id());
        assert!(err.to_string().contains(&pid), "{err}");
        drop(first);
        format_or_verify(&t).unwrap();
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn lost_or_damaged_format_is_restored() {
        let root = temp_root("restore");
        let t = served(&root, 4);
        let want: Vec<FormatJson> = (1..=4)
            .map(|i| {
                format::read_format(&root.join(format!("d{i}")))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        std::fs::create_dir_all(root.join("d1/bucket/key")).unwrap();
        std::fs::remove_file(root.join("d1/format.json")).unwrap();
        std::fs::write(root.join("d2/format.json"), b"{\"version\":1,\"form").unwrap();
        let d = format_or_verify(&t).unwrap();
        assert!(d.drives.iter().all(|d| d.is_some()));
        for (i, want) in want.iter().enumerate() {
            let got = format::read_format(&root.join(format!("d{}", i + 1))).unwrap();
            assert_eq!(got.as_ref(), Some(want), "drive {}", i + 1);
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn too_few_formats_refuse_the_start() {
        let root = temp_root("quorum");
        let t = served(&root, 4);
        for i in 1..=3 {
            std::fs::remove_file(root.join(format!("d{i}/format.json"))).unwrap();
        }
        let err = format_or_verify(&t).unwrap_err();
        assert!(
            matches!(
                err,
                DeploymentError::NoFormatQuorum {
                    found: 1,
                    needed: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&root.join("d3").display().to_string()),
            "{err}"
        );
        assert!(
            !root.join("d1/format.json").exists(),
            "a refused start writes nothing"
        );
        // No format anywhere, but minnow data on the drives: not a fresh deployment either.
        std::fs::remove_file(root.join("d4/format.json")).unwrap();
        let err = format_or_verify(&t).unwrap_err();
        assert!(
            matches!(err, DeploymentError::NoFormatQuorum { found: 0, .. }),
            "{err}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn foreign_format_is_never_overwritten() {
        let root = temp_root("xl");
        let t = topo(&root, 4);
        drop(format_or_verify(&t).unwrap());
        let minio = br#"{"version":"1","format":"xl","id":"x"}"#;
        std::fs::write(root.join("d3/format.json"), minio).unwrap();
        let d = format_or_verify(&t).unwrap();
        assert!(d.drives[2].is_none());
        assert_eq!(std::fs::read(root.join("d3/format.json")).unwrap(), minio);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn alias_the_inode_check_misses_is_caught_after_formatting() {
        // Two paths to one storage that stat as different directories (a second mount of one
        // filesystem) show as one drive reading another slot's uuid.
        let root = temp_root("reread");
        let t = served(&root, 4);
        std::fs::copy(root.join("d2/format.json"), root.join("d4/format.json")).unwrap();
        let (states, _locks) = claim_drives(&t).unwrap();
        let reference = format::read_format(&root.join("d1")).unwrap().unwrap();
        let err = verify_identities(&t, &states, &reference).unwrap_err();
        assert!(
            matches!(err, DeploymentError::AliasedDrives { .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&root.join("d2").display().to_string()),
            "{text}"
        );
        assert!(
            text.contains(&root.join("d4").display().to_string()),
            "{text}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn layout_change_is_refused() {
        let root = temp_root("layout");
        let t = topo(&root, 4);
        format_or_verify(&t).unwrap();
        let t2 = topology::build(&[format!("{}/d{{1...4}}", root.display())], Some(2)).unwrap();
        assert!(matches!(
            format_or_verify(&t2),
            Err(DeploymentError::LayoutChanged { .. })
        ));
        std::fs::remove_dir_all(root).unwrap();
    }
}
