//! Server configuration, parsed once at start-up from the command line and the environment into
//! typed values. Every `MINNOW_*` variable also answers to its `MINIO_*` name, so existing MinIO
//! deployments and scripts carry over; the `MINNOW_` name wins when both are set.

use std::net::SocketAddr;
use std::time::Duration;

use crate::topology::Topology;

/// Credentials used when none are configured. Printed with a warning at start-up.
pub const DEFAULT_ROOT_USER: &str = "minnowadmin";
/// Default secret key, see [`DEFAULT_ROOT_USER`].
pub const DEFAULT_ROOT_PASSWORD: &str = "minnowadmin";

/// Where the root credentials came from (shown in the banner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `MINNOW_ROOT_USER` / `MINNOW_ROOT_PASSWORD` (or the MINIO_ names).
    Environment,
    /// The documented default pair.
    Default,
}

/// Parity per storage class for this deployment's set size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageClasses {
    /// Parity for STANDARD.
    pub standard_parity: usize,
    /// Parity for REDUCED_REDUNDANCY.
    pub rrs_parity: usize,
}

/// Errors in the configuration: fatal at start-up, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{var}={value:?}: {reason}")]
    BadValue {
        /// Variable name.
        var: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// Only one of user/password set.
    #[error("set both MINNOW_ROOT_USER and MINNOW_ROOT_PASSWORD, or neither")]
    HalfCredentials,
}

/// Everything the server needs, parsed.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listen address.
    pub address: SocketAddr,
    /// Cores to run on (CPU ids).
    pub cpus: Vec<usize>,
    /// Drives and sets.
    pub topology: Topology,
    /// Root access key.
    pub access_key: String,
    /// Root secret key.
    pub secret_key: String,
    /// Where the credentials came from.
    pub credential_source: CredentialSource,
    /// Virtual-host style domain, if any.
    pub domain: Option<String>,
    /// Parity per storage class.
    pub storage: StorageClasses,
    /// The region this server is in: signatures must be scoped to it, and buckets report it.
    pub region: String,
    /// Background reclaim of crash leftovers and abandoned uploads.
    pub sweep: SweepConfig,
    /// A request whose handler moves no byte on its connection for this long is cut and
    /// logged (`MINNOW_API_STALL_TIMEOUT`, default [`STALL_TIMEOUT_DEFAULT`]).
    pub stall_timeout: Duration,
}

/// The region when none is configured (the one clients pick when they have no other).
pub const DEFAULT_REGION: &str = minnow_net::s3::sigv4::DEFAULT_REGION;

/// The server region: `MINNOW_REGION` (or `MINIO_REGION`), else [`DEFAULT_REGION`]. It appears
/// in credential scopes, headers and XML, so it is limited to letters, digits, `-` and `_`.
pub fn region(value: Option<String>) -> Result<String, ConfigError> {
    let Some(value) = value else {
        return Ok(DEFAULT_REGION.to_string());
    };
    let valid = value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(ConfigError::BadValue {
            var: "MINNOW_REGION",
            value,
            reason: "a region name is letters, digits, '-' and '_' (e.g. us-east-1)".into(),
        });
    }
    Ok(value)
}

/// When the background sweep runs and what it expires (MinIO's `api.stale_uploads_expiry` and
/// `api.stale_uploads_cleanup_interval`, same defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    /// A multipart upload initiated longer ago than this is aborted
    /// (`MINNOW_STALE_UPLOADS_EXPIRY`, seconds; default 24 h).
    pub stale_uploads_expiry: Duration,
    /// Time between sweeps; the first runs right after start
    /// (`MINNOW_STALE_UPLOADS_CLEANUP_INTERVAL`, seconds; default 6 h).
    pub interval: Duration,
}

/// [`SweepConfig`] from the two variables' values (whole seconds, at least 1).
pub fn sweep_config(
    expiry: Option<String>,
    interval: Option<String>,
) -> Result<SweepConfig, ConfigError> {
    let seconds = |var: &'static str, value: Option<String>, default: u64| match value {
        None => Ok(Duration::from_secs(default)),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
            _ => Err(ConfigError::BadValue {
                var,
                value: v,
                reason: "expected a whole number of seconds, at least 1".into(),
            }),
        },
    };
    Ok(SweepConfig {
        stale_uploads_expiry: seconds("MINNOW_STALE_UPLOADS_EXPIRY", expiry, 24 * 3600)?,
        interval: seconds("MINNOW_STALE_UPLOADS_CLEANUP_INTERVAL", interval, 6 * 3600)?,
    })
}

/// Default of [`ServerConfig::stall_timeout`]: longer than every socket timeout (60 s per read
/// or write), so it only cuts requests stuck inside the server.
pub const STALL_TIMEOUT_DEFAULT: Duration = Duration::from_secs(120);

/// `MINNOW_API_STALL_TIMEOUT`: seconds, or a number with `ms` or `s`; the default when unset.
pub fn stall_timeout(value: Option<String>) -> Result<Duration, ConfigError> {
    let Some(value) = value else {
        return Ok(STALL_TIMEOUT_DEFAULT);
    };
    let text = value.trim();
    let (number, unit_ms) = match text.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => (text.strip_suffix('s').unwrap_or(text), 1000),
    };
    match number.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_millis(n.saturating_mul(unit_ms))),
        _ => Err(ConfigError::BadValue {
            var: "MINNOW_API_STALL_TIMEOUT",
            value,
            reason: "expected a positive duration such as 120, 90s or 500ms".into(),
        }),
    }
}

/// Read a variable by its minnow name, falling back to its MinIO name.
pub fn env_var(minnow_name: &str) -> Option<String> {
    let minio_name = minnow_name.replacen("MINNOW_", "MINIO_", 1);
    std::env::var(minnow_name)
        .ok()
        .or_else(|| std::env::var(minio_name).ok())
        .filter(|v| !v.is_empty())
}

/// Root credentials from the environment, or the default pair.
pub fn credentials() -> Result<(String, String, CredentialSource), ConfigError> {
    match (env_var("MINNOW_ROOT_USER"), env_var("MINNOW_ROOT_PASSWORD")) {
        (Some(user), Some(password)) => {
            if user.len() < 3 {
                return Err(ConfigError::BadValue {
                    var: "MINNOW_ROOT_USER",
                    value: user,
                    reason: "must be at least 3 characters".into(),
                });
            }
            if password.len() < 8 {
                return Err(ConfigError::BadValue {
                    var: "MINNOW_ROOT_PASSWORD",
                    value: "<hidden>".into(),
                    reason: "must be at least 8 characters".into(),
                });
            }
            Ok((user, password, CredentialSource::Environment))
        }
        (None, None) => Ok((
            DEFAULT_ROOT_USER.to_string(),
            DEFAULT_ROOT_PASSWORD.to_string(),
            CredentialSource::Default,
        )),
        _ => Err(ConfigError::HalfCredentials),
    }
}

/// Default STANDARD parity for a set size (ARCHITECTURE.md section 3).
pub fn default_standard_parity(set_size: usize) -> usize {
    match set_size {
        0 | 1 => 0,
        2 | 3 => 1,
        4 | 5 => 2,
        6 | 7 => 3,
        _ => 4,
    }
}

/// Parity per storage class, from defaults and `MINNOW_STORAGE_CLASS_STANDARD`/`_RRS` (`EC:N`).
pub fn storage_classes(
    set_size: usize,
    standard: Option<String>,
    rrs: Option<String>,
) -> Result<StorageClasses, ConfigError> {
    let max = set_size / 2;
    let parse = |var: &'static str, value: String| -> Result<usize, ConfigError> {
        let bad = |reason: String| ConfigError::BadValue {
            var,
            value: value.clone(),
            reason,
        };
        let n = value
            .strip_prefix("EC:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad("expected EC:N, e.g. EC:2".into()))?;
        if n > max {
            return Err(bad(format!(
                "parity {n} exceeds half of the set size {set_size} (at most {max})"
            )));
        }
        Ok(n)
    };
    let standard_parity = match standard {
        Some(v) => parse("MINNOW_STORAGE_CLASS_STANDARD", v)?,
        None => default_standard_parity(set_size),
    };
    let rrs_parity = match rrs {
        Some(v) => parse("MINNOW_STORAGE_CLASS_RRS", v)?,
        None => standard_parity.min(1),
    };
    if rrs_parity > standard_parity {
        return Err(ConfigError::BadValue {
            var: "MINNOW_STORAGE_CLASS_RRS",
            value: format!("EC:{rrs_parity}"),
            reason: format!("must not exceed STANDARD parity {standard_parity}"),
        });
    }
    Ok(StorageClasses {
        standard_parity,
        rrs_parity,
    })
}

/// The CPUs this process may run on (its affinity mask, not every online CPU: glommio's own
/// placement ignores the mask, see GLOMMIO.md section 1).
pub fn allowed_cpus() -> Vec<usize> {
    match nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => (0..nix::sched::CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect(),
        Err(_) => vec![0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parity_by_set_size() {
        let cases = [
            (1, 0),
            (2, 1),
            (3, 1),
            (4, 2),
            (5, 2),
            (6, 3),
            (7, 3),
            (8, 4),
            (16, 4),
        ];
        for (size, parity) in cases {
            assert_eq!(default_standard_parity(size), parity, "set size {size}");
        }
    }

    #[test]
    fn region_setting() {
        assert_eq!(region(None).unwrap(), "us-east-1");
        assert_eq!(region(Some("eu-central-1".into())).unwrap(), "eu-central-1");
        assert_eq!(region(Some("my_site-2".into())).unwrap(), "my_site-2");
        for bad in ["eu west", "a/b", "<x>", &"x".repeat(65)] {
            assert!(region(Some(bad.to_string())).is_err(), "{bad}");
        }
    }

    #[test]
    fn stall_timeout_values() {
        assert_eq!(stall_timeout(None).unwrap(), STALL_TIMEOUT_DEFAULT);
        let secs = |s: &str| stall_timeout(Some(s.into())).unwrap();
        assert_eq!(secs("30"), Duration::from_secs(30));
        assert_eq!(secs("90s"), Duration::from_secs(90));
        assert_eq!(secs("500ms"), Duration::from_millis(500));
        for bad in ["0", "-1", "1m", "fast", "ms", ""] {
            assert!(stall_timeout(Some(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn storage_class_overrides() {
        let sc = storage_classes(8, Some("EC:3".into()), Some("EC:2".into())).unwrap();
        assert_eq!(
            sc,
            StorageClasses {
                standard_parity: 3,
                rrs_parity: 2
            }
        );
        let sc = storage_classes(4, None, None).unwrap();
        assert_eq!(
            sc,
            StorageClasses {
                standard_parity: 2,
                rrs_parity: 1
            }
        );
        assert_eq!(storage_classes(1, None, None).unwrap().rrs_parity, 0);
        assert!(storage_classes(4, Some("EC:3".into()), None).is_err());
        assert!(storage_classes(4, Some("3".into()), None).is_err());
        assert!(storage_classes(8, Some("EC:1".into()), Some("EC:2".into())).is_err());
    }

    #[test]
    fn sweep_settings() {
        let d = sweep_config(None, None).unwrap();
        assert_eq!(d.stale_uploads_expiry, Duration::from_secs(86400));
        assert_eq!(d.interval, Duration::from_secs(6 * 3600));
        let s = sweep_config(Some("5".into()), Some("2".into())).unwrap();
        assert_eq!(s.stale_uploads_expiry, Duration::from_secs(5));
        assert_eq!(s.interval, Duration::from_secs(2));
        for bad in ["0", "-1", "24h", "1.5"] {
            let e = sweep_config(Some(bad.into()), None).unwrap_err();
            assert!(e.to_string().contains("MINNOW_STALE_UPLOADS_EXPIRY"), "{e}");
        }
        assert!(sweep_config(None, Some("x".into())).is_err());
    }
}
