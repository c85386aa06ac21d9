//! Topology: turning the drive arguments of `minnow server` into a pool cut into erasure sets.
//!
//! Arguments are directories, given as a plain list or with MinIO's ellipses syntax
//! (`/data/disk{1...16}`, zero padding kept: `{01...16}`). The set size follows MinIO's rule:
//! among the sizes 2..=16 that divide the drive count, the largest one (fewest, widest sets).
//! A single drive is a set of one (no erasure). A count no size divides is refused, naming counts
//! that would work. `MINNOW_ERASURE_SET_DRIVE_COUNT` overrides the size; it must divide the count.
//!
//! Multiple ellipses arguments would be multiple pools in MinIO; minnow runs one pool for now and
//! refuses them with a clear error rather than silently merging them.

use std::path::PathBuf;

/// Smallest and largest erasure set sizes (MinIO's `setSizes`).
pub const SET_SIZE_MIN: usize = 2;
/// Largest erasure set size.
pub const SET_SIZE_MAX: usize = 16;

/// Errors found while reading the drive arguments. Each is fatal at start-up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TopologyError {
    /// An ellipses pattern is malformed.
    #[error("invalid ellipses pattern {arg:?}: {reason}")]
    BadPattern {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No drives given.
    #[error("no drives given: pass directories, e.g. /data/disk{{1...4}}")]
    NoDrives,
    /// The same directory appears twice.
    #[error("drive {0:?} is given more than once")]
    DuplicateDrive(String),
    /// No set size in 2..=16 divides the drive count.
    #[error("{count} drives cannot be cut into equal erasure sets of 2..16 drives; counts that work nearby: {nearby}")]
    NoValidSetSize {
        /// Drive count given.
        count: usize,
        /// Nearby counts that would work.
        nearby: String,
    },
    /// The override does not divide the count or is out of range.
    #[error("MINNOW_ERASURE_SET_DRIVE_COUNT={size} does not fit {count} drives: it must be in 2..16 and divide the count (valid here: {valid:?})")]
    BadSetSizeOverride {
        /// Requested set size.
        size: usize,
        /// Drive count given.
        count: usize,
        /// Sizes that would work.
        valid: Vec<usize>,
    },
    /// More than one ellipses argument (several pools).
    #[error("several ellipses arguments form several server pools, which this minnow does not support yet; give one pattern or a plain list of directories")]
    MultiplePools,
}

/// The drives of this node, in slot order, cut into sets of `set_size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Drive directories in slot order: drive `i` is slot `i % set_size` of set `i / set_size`.
    pub drives: Vec<PathBuf>,
    /// Drives per erasure set.
    pub set_size: usize,
}

impl Topology {
    /// Number of erasure sets.
    pub fn set_count(&self) -> usize {
        self.drives.len() / self.set_size
    }

    /// Drive directories of set `set`.
    pub fn set_drives(&self, set: usize) -> &[PathBuf] {
        &self.drives[set * self.set_size..(set + 1) * self.set_size]
    }
}

/// Build the topology from the command-line drive arguments and the optional set size override.
pub fn build(args: &[String], set_size_override: Option<usize>) -> Result<Topology, TopologyError> {
    let patterns = args.iter().filter(|a| has_ellipses(a)).count();
    if patterns > 1 {
        return Err(TopologyError::MultiplePools);
    }
    let mut drives = Vec::new();
    for arg in args {
        drives.extend(expand(arg)?);
    }
    if drives.is_empty() {
        return Err(TopologyError::NoDrives);
    }
    // Absolute, so a drive means the same directory whatever the working directory
    // (directory handles and fsyncs are opened by path); this also drops `.` components, so
    // `d1/.` is caught here as `d1` given twice. Other aliases (symlinks, `..`) are caught at
    // start-up by what the directories are (deployment.rs).
    let drives: Vec<PathBuf> = drives
        .into_iter()
        .map(|d| std::path::absolute(&d).unwrap_or_else(|_| PathBuf::from(d)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for d in &drives {
        if !seen.insert(d.clone()) {
            return Err(TopologyError::DuplicateDrive(d.display().to_string()));
        }
    }
    let set_size = set_size_for(drives.len(), set_size_override)?;
    Ok(Topology { drives, set_size })
}

/// The set size for `count` drives: MinIO's rule (largest size in 2..=16 dividing the count).
pub fn set_size_for(
    count: usize,
    set_size_override: Option<usize>,
) -> Result<usize, TopologyError> {
    if count == 1 && set_size_override.is_none() {
        return Ok(1);
    }
    let valid = valid_set_sizes(count);
    if let Some(size) = set_size_override {
        if valid.contains(&size) {
            return Ok(size);
        }
        return Err(TopologyError::BadSetSizeOverride { size, count, valid });
    }
    match valid.last() {
        Some(&size) => Ok(size),
        None => Err(TopologyError::NoValidSetSize {
            count,
            nearby: nearby_valid_counts(count),
        }),
    }
}

/// Set sizes in 2..=16 that divide `count`, ascending.
pub fn valid_set_sizes(count: usize) -> Vec<usize> {
    (SET_SIZE_MIN..=SET_SIZE_MAX)
        .filter(|s| count % s == 0)
        .collect()
}

fn nearby_valid_counts(count: usize) -> String {
    let below = (1..count).rev().find(|&c| !valid_set_sizes(c).is_empty());
    let above = (count + 1..).find(|&c| !valid_set_sizes(c).is_empty());
    let mut out = Vec::new();
    if let Some(b) = below {
        out.push(format!("{b} ({}x{})", b / largest(b), largest(b)));
    }
    if let Some(a) = above {
        out.push(format!("{a} ({}x{})", a / largest(a), largest(a)));
    }
    out.join(", ")
}

fn largest(count: usize) -> usize {
    valid_set_sizes(count).last().copied().unwrap_or(1)
}

fn has_ellipses(arg: &str) -> bool {
    arg.contains("...") && arg.contains('{')
}

/// Expand every `{a...b}` in `arg`; the last pattern varies fastest.
pub fn expand(arg: &str) -> Result<Vec<String>, TopologyError> {
    let bad = |reason: &str| TopologyError::BadPattern {
        arg: arg.to_string(),
        reason: reason.to_string(),
    };
    let Some(open) = arg.find('{') else {
        return Ok(vec![arg.to_string()]);
    };
    let close = arg[open..]
        .find('}')
        .map(|i| open + i)
        .ok_or_else(|| bad("'{' without '}'"))?;
    let inner = &arg[open + 1..close];
    let (lo, hi) = inner
        .split_once("...")
        .ok_or_else(|| bad("expected {START...END}"))?;
    let width = if lo.len() > 1 && lo.starts_with('0') {
        lo.len()
    } else {
        0
    };
    let lo_n: u64 = lo.parse().map_err(|_| bad("range start is not a number"))?;
    let hi_n: u64 = hi.parse().map_err(|_| bad("range end is not a number"))?;
    if lo_n > hi_n {
        return Err(bad("range start is larger than its end"));
    }
    if hi_n - lo_n >= 4096 {
        return Err(bad("range is larger than 4096"));
    }
    let rest = expand(&arg[close + 1..])?;
    let mut out = Vec::new();
    for n in lo_n..=hi_n {
        for tail in &rest {
            out.push(format!(
                "{}{:0width$}{}",
                &arg[..open],
                n,
                tail,
                width = width
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_set_sizes() {
        // (drives, expected sets x size) — MinIO's published layouts.
        let cases: &[(usize, Option<(usize, usize)>)] = &[
            (1, Some((1, 1))),
            (2, Some((1, 2))),
            (3, Some((1, 3))),
            (4, Some((1, 4))),
            (16, Some((1, 16))),
            (17, None),
            (18, Some((2, 9))),
            (19, None),
            (20, Some((2, 10))),
            (24, Some((2, 12))),
            (27, Some((3, 9))),
            (31, None),
            (32, Some((2, 16))),
            (33, Some((3, 11))),
            (35, Some((5, 7))),
            (36, Some((3, 12))),
            (64, Some((4, 16))),
        ];
        for &(count, want) in cases {
            let got = set_size_for(count, None).ok().map(|s| (count / s, s));
            assert_eq!(got, want, "{count} drives");
        }
    }

    #[test]
    fn refusal_names_working_counts() {
        let err = set_size_for(19, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("18 (2x9)"), "{text}");
        assert!(text.contains("20 (2x10)"), "{text}");
    }

    #[test]
    fn override_must_divide() {
        assert_eq!(set_size_for(16, Some(8)), Ok(8));
        assert_eq!(set_size_for(16, Some(4)), Ok(4));
        assert!(matches!(
            set_size_for(16, Some(6)),
            Err(TopologyError::BadSetSizeOverride { .. })
        ));
        assert!(matches!(
            set_size_for(16, Some(1)),
            Err(TopologyError::BadSetSizeOverride { .. })
        ));
    }

    #[test]
    fn ellipses_expand() {
        assert_eq!(expand("/d{1...3}").unwrap(), vec!["/d1", "/d2", "/d3"]);
        assert_eq!(expand("/d{08...10}").unwrap(), vec!["/d08", "/d09", "/d10"]);
        assert_eq!(
            expand("/m{1...2}/x{1...2}").unwrap(),
            vec!["/m1/x1", "/m1/x2", "/m2/x1", "/m2/x2"]
        );
        assert!(expand("/d{3...1}").is_err());
        assert!(expand("/d{1..3}").is_err());
        assert!(expand("/d{1...").is_err());
        assert!(expand("/d{a...c}").is_err());
    }

    #[test]
    fn build_topology() {
        let t = build(&["/x/d{1...18}".to_string()], None).unwrap();
        assert_eq!(t.set_count(), 2);
        assert_eq!(t.set_drives(1)[0], PathBuf::from("/x/d10"));
        let relative = build(&["rel/d{1...2}".to_string()], None).unwrap();
        assert!(relative
            .drives
            .iter()
            .all(|d| d.is_absolute() && d.ends_with("rel/d1") || d.ends_with("rel/d2")));
        let list: Vec<String> = (1..=4).map(|i| format!("/y/{i}")).collect();
        assert_eq!(build(&list, None).unwrap().set_size, 4);
        assert_eq!(
            build(&["/a".into(), "/a".into()], None),
            Err(TopologyError::DuplicateDrive("/a".into()))
        );
        for alias in ["/a/.", "/a/", "/./a", "//a"] {
            assert!(
                matches!(
                    build(&["/a".into(), alias.into()], None),
                    Err(TopologyError::DuplicateDrive(_))
                ),
                "{alias}"
            );
        }
        assert_eq!(
            build(&["/a{1...4}".into(), "/b{1...4}".into()], None),
            Err(TopologyError::MultiplePools)
        );
        assert_eq!(build(&[], None), Err(TopologyError::NoDrives));
    }
}
