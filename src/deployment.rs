//! Deployment identity: formatting fresh drives and verifying known ones at start-up.
//!
//! Every drive carries a `format.json` naming the deployment, the drive's own uuid and the whole
//! layout (the uuids of every slot of every set). On first start all drives are empty and get a
//! new deployment id. On later starts every formatted drive must belong to this deployment and sit
//! in its slot: a drive from another deployment, or two drives swapped, is refused with an error
//! that names the drive, because serving from it would return wrong shards. An empty drive in a
//! known slot (a replaced drive) is formatted with its slot's uuid. A drive that cannot be read is
//! left offline; the sets decide at run time whether they still have quorum.

use std::path::{Path, PathBuf};

use minnow_io::format::{self, FormatJson};

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
}

/// Format fresh drives or verify known ones. Missing drive directories are created.
pub fn format_or_verify(topology: &Topology) -> Result<Deployment, DeploymentError> {
    let n = topology.drives.len();
    let mut formats: Vec<Option<FormatJson>> = Vec::with_capacity(n);
    let mut readable = vec![true; n];
    for (i, drive) in topology.drives.iter().enumerate() {
        match read_drive(drive) {
            Ok(f) => formats.push(f),
            Err(reason) => {
                tracing::error!(drive = %drive.display(), %reason, "drive offline at start-up");
                readable[i] = false;
                formats.push(None);
            }
        }
    }
    if readable.iter().all(|r| !r) {
        return Err(DeploymentError::NoDrives(
            "every drive failed to open (see the log lines above)".into(),
        ));
    }

    let reference = formats.iter().flatten().next().cloned();
    let reference = match reference {
        Some(f) => f,
        None => new_format(topology),
    };
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

    // Format the readable drives that have no format.json yet, with their slot's uuid.
    for (i, f) in formats.iter().enumerate() {
        if f.is_some() || !readable[i] {
            continue;
        }
        let drive = &topology.drives[i];
        let (set, slot) = (i / topology.set_size, i % topology.set_size);
        let mut mine = reference.clone();
        mine.drive_id = reference.sets[set][slot].clone();
        format::write_format(drive, &mine).map_err(|e| DeploymentError::FormatFailed {
            drive: drive.display().to_string(),
            reason: e.to_string(),
        })?;
        tracing::info!(drive = %drive.display(), set, slot, "formatted drive");
    }

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
            .zip(&readable)
            .map(|(d, &ok)| ok.then(|| d.clone()))
            .collect(),
        set_size: topology.set_size,
    })
}

/// Read a drive's format.json, creating the directory if it does not exist. `Ok(None)`: empty.
fn read_drive(drive: &Path) -> Result<Option<FormatJson>, String> {
    std::fs::create_dir_all(drive)
        .map_err(|e| format!("cannot create {}: {e}", drive.display()))?;
    match format::read_format(drive) {
        Ok(Some(f)) => Ok(Some(f)),
        Ok(None) => match format::is_dir_empty_for_format(drive) {
            Ok(true) => Ok(None),
            Ok(false) => {
                Err(DeploymentError::UnformattedWithData(drive.display().to_string()).to_string())
            }
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    }
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

fn majority_id(formats: &[Option<FormatJson>]) -> Option<String> {
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

    #[test]
    fn first_start_formats_then_verifies() {
        let root = temp_root("fmt");
        let t = topo(&root, 4);
        let first = format_or_verify(&t).unwrap();
        let second = format_or_verify(&t).unwrap();
        assert_eq!(first.id, second.id);
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
        let first = format_or_verify(&t).unwrap();
        let before = format::read_format(&root.join("d2")).unwrap().unwrap();
        std::fs::remove_dir_all(root.join("d2")).unwrap();
        let again = format_or_verify(&t).unwrap();
        assert_eq!(first.id, again.id);
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
