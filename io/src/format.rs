//! `format.json`: who a drive is and which deployment and set it belongs to.
//!
//! ```text
//! <drive>/format.json   {"version":1,"format":"minnow","deployment_id":"<uuid>",
//!                        "drive_id":"<uuid>","sets":[["<uuid>",...],...],
//!                        "distribution_algo":"SIPMOD+PARITY"}
//! ```
//!
//! It stays JSON because operators read it when a drive is swapped. It is read and written
//! only at start-up (formatting, drive replacement), before executors serve requests, so plain
//! blocking `std::fs` is fine here. A write is atomic and durable: temp file, fsync, rename,
//! fsync of the drive directory. A file that does not parse, or is not ours (`format` is not
//! "minnow"), or has a version this build does not know, is [`DriveError::Corrupt`]: it is
//! never overwritten silently.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{DriveError, SYS_VOL};

/// File name at the drive root.
pub const FORMAT_FILE: &str = "format.json";
/// `FormatJson::format` of every minnow drive.
pub const FORMAT_NAME: &str = "minnow";
/// `FormatJson::version` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// `FormatJson::distribution_algo`: SipHash mod set count picks the set; parity from config.
pub const DISTRIBUTION_ALGO: &str = "SIPMOD+PARITY";

/// Contents of `format.json`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FormatJson {
    /// Always [`FORMAT_VERSION`].
    pub version: u32,
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// uuid text of the deployment (all drives of all nodes share it).
    pub deployment_id: String,
    /// uuid text of this drive.
    pub drive_id: String,
    /// Drive uuids per erasure set, in slot order.
    pub sets: Vec<Vec<String>>,
    /// Always [`DISTRIBUTION_ALGO`] for now.
    pub distribution_algo: String,
}

/// What `<root>/format.json` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatFile {
    /// There is none (a fresh drive, or one that lost it).
    Missing,
    /// A valid minnow format.json.
    Valid(FormatJson),
    /// Torn or garbled: not JSON, or minnow's JSON with fields missing or malformed. The
    /// drive's identity may be restored from the other drives' formats.
    Damaged(String),
    /// Another program's format (`format` is not "minnow"), or a version this build does not
    /// know: never overwritten.
    Foreign(String),
}

/// Read and classify `<root>/format.json`. `Offline`: the root is missing or not a directory.
pub fn inspect_format(root: &Path) -> Result<FormatFile, DriveError> {
    check_root(root)?;
    let path = root.join(FORMAT_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FormatFile::Missing),
        Err(e) => return Err(io_error("read_format", &path, e)),
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => return Ok(FormatFile::Damaged(format!("not valid JSON: {e}"))),
    };
    match value.get("format").and_then(|f| f.as_str()) {
        Some(name) if name != FORMAT_NAME => {
            return Ok(FormatFile::Foreign(format!(
                "format {name:?} is not {FORMAT_NAME:?}"
            )))
        }
        _ => {}
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(version) if version != u64::from(FORMAT_VERSION) => {
            return Ok(FormatFile::Foreign(format!(
                "version {version} is not {FORMAT_VERSION}"
            )))
        }
        _ => {}
    }
    Ok(match serde_json::from_value::<FormatJson>(value) {
        Ok(format) if format.format == FORMAT_NAME => FormatFile::Valid(format),
        Ok(_) => FormatFile::Damaged(format!("no \"format\": {FORMAT_NAME:?} field")),
        Err(e) => FormatFile::Damaged(format!("not a minnow format.json: {e}")),
    })
}

/// Read `<root>/format.json`. `Ok(None)`: the drive has no format.json (fresh drive).
/// `Offline`: the root is missing or not a directory. Damaged or foreign: `Corrupt`.
pub fn read_format(root: &Path) -> Result<Option<FormatJson>, DriveError> {
    let corrupt = |reason: String| DriveError::Corrupt {
        path: root.join(FORMAT_FILE).display().to_string(),
        reason,
    };
    match inspect_format(root)? {
        FormatFile::Missing => Ok(None),
        FormatFile::Valid(format) => Ok(Some(format)),
        FormatFile::Damaged(reason) | FormatFile::Foreign(reason) => Err(corrupt(reason)),
    }
}

/// Write `<root>/format.json` atomically and durably: tmp + fsync + rename + dir fsync.
pub fn write_format(root: &Path, f: &FormatJson) -> Result<(), DriveError> {
    check_root(root)?;
    let path = root.join(FORMAT_FILE);
    let tmp = root.join(format!(".{FORMAT_FILE}.tmp"));
    let mut bytes = serde_json::to_vec_pretty(f)
        .map_err(|e| io_error("write_format", &path, io::Error::other(e)))?;
    bytes.push(b'\n');
    let write = || -> io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()
    };
    write().map_err(|e| io_error("write_format", &tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| io_error("write_format", &path, e))?;
    fs::File::open(root)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io_error("write_format", root, e))
}

/// True if the drive holds nothing but (possibly) [`SYS_VOL`] and `lost+found`: safe to format.
pub fn is_dir_empty_for_format(root: &Path) -> Result<bool, DriveError> {
    check_root(root)?;
    let entries = fs::read_dir(root).map_err(|e| io_error("is_dir_empty_for_format", root, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("is_dir_empty_for_format", root, e))?;
        let name = entry.file_name();
        if name != SYS_VOL && name != "lost+found" {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A random (version 4) uuid in canonical text form.
pub fn new_uuid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Parse canonical uuid text (8-4-4-4-12 hex digits, either case). None if malformed.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let digits: String = s.split('-').collect();
    let mut out = [0u8; 16];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

fn check_root(root: &Path) -> Result<(), DriveError> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        _ => Err(DriveError::Offline),
    }
}

fn io_error(op: &'static str, path: &Path, source: io::Error) -> DriveError {
    crate::local::io_error(op, PathBuf::from(path), source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;

    fn sample() -> FormatJson {
        FormatJson {
            version: FORMAT_VERSION,
            format: FORMAT_NAME.to_string(),
            deployment_id: new_uuid(),
            drive_id: new_uuid(),
            sets: vec![vec![new_uuid(), new_uuid()], vec![new_uuid(), new_uuid()]],
            distribution_algo: DISTRIBUTION_ALGO.to_string(),
        }
    }

    #[test]
    fn round_trip_and_emptiness() {
        let dir = TempDir::new("format");
        assert_eq!(read_format(dir.path()).expect("read"), None);
        assert!(is_dir_empty_for_format(dir.path()).expect("empty"));
        fs::create_dir(dir.path().join(SYS_VOL)).expect("mkdir");
        fs::create_dir(dir.path().join("lost+found")).expect("mkdir");
        assert!(is_dir_empty_for_format(dir.path()).expect("empty"));

        let f = sample();
        write_format(dir.path(), &f).expect("write");
        assert_eq!(read_format(dir.path()).expect("read"), Some(f.clone()));
        assert!(!is_dir_empty_for_format(dir.path()).expect("not empty"));
        let mut g = sample();
        g.sets.clear();
        write_format(dir.path(), &g).expect("overwrite");
        assert_eq!(read_format(dir.path()).expect("read"), Some(g));
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 3, "no temp file left: {names:?}");
    }

    #[test]
    fn foreign_and_broken() {
        let dir = TempDir::new("format-bad");
        let path = dir.path().join(FORMAT_FILE);
        for bad in [
            &b"{\"version\":1,"[..],
            b"",
            br#"{"version":1,"format":"xl","id":"x"}"#,
        ] {
            fs::write(&path, bad).expect("write");
            assert!(
                matches!(read_format(dir.path()), Err(DriveError::Corrupt { .. })),
                "{bad:?}"
            );
        }
        // Torn or garbled minnow files may be restored; other formats and versions never.
        let sample_json = serde_json::to_vec(&sample()).expect("json");
        let mut no_drive_id: serde_json::Value = serde_json::from_slice(&sample_json).expect("v");
        no_drive_id
            .as_object_mut()
            .expect("object")
            .remove("drive_id");
        for (bytes, damaged) in [
            (b"{\"version\":1,".to_vec(), true),
            (Vec::new(), true),
            (sample_json[..sample_json.len() - 1].to_vec(), true),
            (serde_json::to_vec(&no_drive_id).expect("json"), true),
            (br#"{"version":1,"format":"xl","id":"x"}"#.to_vec(), false),
            (br#"{"version":3,"format":"minnow"}"#.to_vec(), false),
        ] {
            fs::write(&path, &bytes).expect("write");
            let got = inspect_format(dir.path()).expect("inspect");
            assert_eq!(
                matches!(got, FormatFile::Damaged(_)),
                damaged,
                "{:?}: {got:?}",
                String::from_utf8_lossy(&bytes)
            );
            assert!(damaged || matches!(got, FormatFile::Foreign(_)), "{got:?}");
        }
        let mut f = sample();
        f.format = "xl".to_string();
        fs::write(&path, serde_json::to_vec(&f).expect("json")).expect("write");
        assert!(matches!(
            read_format(dir.path()),
            Err(DriveError::Corrupt { .. })
        ));
        let mut f = sample();
        f.version = 2;
        fs::write(&path, serde_json::to_vec(&f).expect("json")).expect("write");
        assert!(matches!(
            read_format(dir.path()),
            Err(DriveError::Corrupt { .. })
        ));
    }

    #[test]
    fn missing_root_is_offline() {
        let dir = TempDir::new("format-missing");
        let gone = dir.path().join("nope");
        assert!(matches!(read_format(&gone), Err(DriveError::Offline)));
        assert!(matches!(
            write_format(&gone, &sample()),
            Err(DriveError::Offline)
        ));
        assert!(matches!(
            is_dir_empty_for_format(&gone),
            Err(DriveError::Offline)
        ));
    }

    #[test]
    fn uuids() {
        let a = new_uuid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        let bytes = parse_uuid(&a).expect("parse");
        assert_eq!(hex::encode(bytes), a.replace('-', ""));
        assert_ne!(new_uuid(), a);
        assert!(parse_uuid("0B1C2D3E-4F50-4617-8899-AABBCCDDEEFF").is_some());
        for bad in [
            "",
            "0b1c2d3e4f5046178899aabbccddeeff",
            "0b1c2d3e-4f50-4617-8899-aabbccddeef",
            "0b1c2d3e-4f50-4617-8899-aabbccddeefg",
            "0b1c2d3e-4f50-4617-8899+aabbccddeeff",
            "0b1c2d3e-4f504-617-8899-aabbccddeeff",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }
}
