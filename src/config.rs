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
    /// Waits and memory bounds that keep one client from holding up others.
    pub limits: Limits,
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
    /// (`MINNOW_API_STALE_UPLOADS_EXPIRY`; default 24 h).
    pub stale_uploads_expiry: Duration,
    /// Time between sweeps; the first runs right after start
    /// (`MINNOW_API_STALE_UPLOADS_CLEANUP_INTERVAL`; default 6 h).
    pub interval: Duration,
}

/// The longest stale-upload expiry: ten years, for deployments (and test fixtures) that keep
/// uploads open for good.
const UPLOAD_EXPIRY_SECONDS_MAX: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

/// [`SweepConfig`] from the two variables' values (seconds).
pub fn sweep_config(
    expiry: Option<String>,
    interval: Option<String>,
) -> Result<SweepConfig, ConfigError> {
    Ok(SweepConfig {
        stale_uploads_expiry: seconds_within(
            "MINNOW_API_STALE_UPLOADS_EXPIRY",
            expiry,
            UPLOAD_EXPIRY_SECONDS_MAX,
        )?
        .unwrap_or(Duration::from_secs(24 * 3600)),
        interval: seconds("MINNOW_API_STALE_UPLOADS_CLEANUP_INTERVAL", interval)?
            .unwrap_or(Duration::from_secs(6 * 3600)),
    })
}

/// What a slow or stuck client may hold, and how long anyone waits for it (ARCHITECTURE.md
/// section 2, "Slow clients"). All from the environment; the defaults suit production, tests
/// shorten them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// `MINNOW_LOCK_TIMEOUT` (seconds, default 30): longest wait for an object lock, and for an
    /// upload's write-buffer memory; then 503 SlowDown.
    pub lock_wait: Duration,
    /// `MINNOW_BODY_MIN_RATE` (bytes per second, default 4096; 0 turns the check off) and
    /// `MINNOW_BODY_RATE_GRACE` (seconds, default 20): every `grace` the server spends waiting
    /// for a request body must bring at least `min_rate x grace` bytes, else the request ends
    /// with 400 RequestTimeout.
    pub body_min_rate: u64,
    /// See [`Limits::body_min_rate`].
    pub body_rate_grace: Duration,
    /// `MINNOW_API_BODY_MEMORY_MIB` (default 64): memory for request bodies read whole (XML),
    /// for the whole process, shared out evenly between the cores (each core at least one
    /// body of the largest size).
    pub body_memory_bytes: u64,
    /// `MINNOW_API_REQUESTS_DEADLINE` (seconds, default 10): longest wait for that memory;
    /// then 503 SlowDown.
    pub body_memory_wait: Duration,
    /// `MINNOW_API_STALL_TIMEOUT` (seconds, default 120, longer than every socket timeout of
    /// 60 s per read or write): a request whose handler moves no byte on its connection for this
    /// long is cut and logged.
    pub stall_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            lock_wait: crate::lock::LOCK_WAIT_DEFAULT,
            body_min_rate: minnow_net::http::BODY_MIN_RATE,
            body_rate_grace: minnow_net::http::BODY_RATE_GRACE,
            body_memory_bytes: 64 << 20,
            body_memory_wait: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(120),
        }
    }
}

/// [`Limits`] from the environment, defaults for what is not set.
pub fn limits() -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let number = |var| number(var, env_var(var));
    let seconds = |var| seconds(var, env_var(var));
    Ok(Limits {
        lock_wait: seconds("MINNOW_LOCK_TIMEOUT")?.unwrap_or(d.lock_wait),
        body_min_rate: number("MINNOW_BODY_MIN_RATE")?.unwrap_or(d.body_min_rate),
        body_rate_grace: seconds("MINNOW_BODY_RATE_GRACE")?.unwrap_or(d.body_rate_grace),
        body_memory_bytes: number("MINNOW_API_BODY_MEMORY_MIB")?
            .map_or(d.body_memory_bytes, |mib| mib << 20),
        body_memory_wait: seconds("MINNOW_API_REQUESTS_DEADLINE")?.unwrap_or(d.body_memory_wait),
        stall_timeout: seconds("MINNOW_API_STALL_TIMEOUT")?.unwrap_or(d.stall_timeout),
    })
}

/// A whole number from `var`'s `value`, if set.
fn number(var: &'static str, value: Option<String>) -> Result<Option<u64>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(n) if n < 1 << 40 => Ok(Some(n)),
        _ => Err(ConfigError::BadValue {
            var,
            value,
            reason: "expected a whole number".into(),
        }),
    }
}

/// The longest duration a setting takes: 30 days.
const SECONDS_MAX: f64 = 30.0 * 86_400.0;

/// A positive duration (bare seconds, fractions allowed, or with units as MinIO writes them) from `var`'s `value`, if set.
fn seconds(var: &'static str, value: Option<String>) -> Result<Option<Duration>, ConfigError> {
    seconds_within(var, value, SECONDS_MAX)
}

/// [`seconds`] with another upper bound.
fn seconds_within(
    var: &'static str,
    value: Option<String>,
    max: f64,
) -> Result<Option<Duration>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match crate::bench::units::parse_duration(&value) {
        Ok(d) if !d.is_zero() && d.as_secs_f64() <= max => Ok(Some(d)),
        _ => Err(ConfigError::BadValue {
            var,
            value,
            reason: format!(
                "expected a duration (seconds, or e.g. 10s, 500ms, 24h), more than 0 and at most \
                 {max} s"
            ),
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
    fn limit_values() {
        let v = |s: &str| Some(s.to_string());
        assert_eq!(number("N", None).unwrap(), None);
        assert_eq!(number("N", v(" 4096 ")).unwrap(), Some(4096));
        assert_eq!(number("N", v("0")).unwrap(), Some(0));
        for bad in ["-1", "1.5", "x", "99999999999999999999"] {
            assert!(number("N", v(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            seconds("S", v("0.25")).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            seconds("S", v("30")).unwrap(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            seconds("S", v("10s")).unwrap(),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            seconds("S", v("24h")).unwrap(),
            Some(Duration::from_secs(86_400))
        );
        for bad in ["0", "0s", "-1", "x", "inf", "NaN", "3000000", "1000h"] {
            assert!(seconds("S", v(bad)).is_err(), "{bad}");
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
        let s = sweep_config(Some("5.5".into()), Some("2".into())).unwrap();
        assert_eq!(s.stale_uploads_expiry, Duration::from_millis(5500));
        assert_eq!(s.interval, Duration::from_secs(2));
        for bad in ["0", "-1", "soon", "x"] {
            let e = sweep_config(Some(bad.into()), None).unwrap_err();
            assert!(
                e.to_string().contains("MINNOW_API_STALE_UPLOADS_EXPIRY"),
                "{e}"
            );
        }
        assert!(sweep_config(None, Some("x".into())).is_err());
        // An expiry may be years (uploads kept for good); other durations stop at 30 days.
        let years = sweep_config(Some("87600h".into()), None).unwrap();
        assert_eq!(
            years.stale_uploads_expiry,
            Duration::from_secs(87600 * 3600)
        );
        assert!(sweep_config(Some("87601h".into()), None).is_err());
        assert!(sweep_config(None, Some("721h".into())).is_err());
    }
}
