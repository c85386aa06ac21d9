//! Units on the command line and in reports: byte sizes (`4KiB`, `64MiB`, `1.5GB`) and durations
//! (`30s`, `500ms`, `2m30s`), parsed once into plain numbers, and their human-readable forms.
//!
//! Rules, the same everywhere in `minnow bench`:
//! * sizes: a bare number is bytes; `K`, `Ki`, `KiB` (and `M`, `G`, `T` likewise) are powers of
//!   1024; `KB`, `MB`, `GB`, `TB` are powers of 1000 (SI). Case-insensitive. A fraction is allowed
//!   (`1.5MiB`) and rounded to the nearest byte.
//! * durations: a sequence of `<number><unit>` with units `ns`, `us`, `ms`, `s`, `m`, `h`; a bare
//!   number is seconds.

use std::time::Duration;

/// A byte count given on the command line. Parsed with [`parse_size`]; `Display` prints the
/// human form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_size(s).map(ByteSize)
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_bytes(self.0))
    }
}

/// A duration given on the command line; parsed with [`parse_duration`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CliDuration(pub Duration);

impl std::str::FromStr for CliDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s).map(CliDuration)
    }
}

/// Parse a byte size: `4096`, `4KiB`, `4k`, `64MiB`, `1.5GiB`, `10MB` (= 10,000,000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() {
        return Err(format!(
            "size {text:?}: expected a number, e.g. 4KiB or 64MiB"
        ));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("size {text:?}: {number:?} is not a number"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "ki" | "kib" => 1 << 10,
        "m" | "mi" | "mib" => 1 << 20,
        "g" | "gi" | "gib" => 1 << 30,
        "t" | "ti" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "size {text:?}: unknown unit {other:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ))
        }
    };
    let bytes = (value * multiplier as f64).round();
    if !bytes.is_finite() || bytes > u64::MAX as f64 {
        return Err(format!("size {text:?} is too large"));
    }
    Ok(bytes as u64)
}

/// Parse a duration: `30s`, `500ms`, `1m`, `2m30s`, `1.5s`, `1h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration (use e.g. 30s, 500ms, 2m)".to_string());
    }
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return seconds_to_duration(seconds, text);
    }
    let mut total_seconds = 0.0f64;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!(
                "duration {text:?}: expected a number before {rest:?}"
            ));
        }
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("duration {text:?}: {number:?} is not a number"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "duration {text:?}: a unit is missing after {number}"
                ))
            }
            other => {
                return Err(format!(
                    "duration {text:?}: unknown unit {other:?} (use ns, us, ms, s, m, h)"
                ))
            }
        };
        total_seconds += value * scale;
        rest = next;
    }
    seconds_to_duration(total_seconds, text)
}

fn seconds_to_duration(seconds: f64, text: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("duration {text:?} is out of range"))
}

/// `4096` -> `"4 KiB"`, `1536` -> `"1.5 KiB"`, `67108864` -> `"64 MiB"`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit_index = 0;
    while value >= 1024.0 && unit_index < UNITS.len() - 1 {
        value /= 1024.0;
        unit_index += 1;
    }
    if unit_index == 0 {
        return format!("{bytes} B");
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", UNITS[unit_index])
}

/// Bytes over a duration in MiB/s; 0 for an empty duration.
pub fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    bytes as f64 / (1024.0 * 1024.0) / seconds
}

/// Events over a duration per second; 0 for an empty duration.
pub fn per_s(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    count as f64 / seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        let table: &[(&str, u64)] = &[
            ("0", 0),
            ("4096", 4096),
            ("4096B", 4096),
            ("4KiB", 4096),
            ("4kib", 4096),
            ("4K", 4096),
            ("4Ki", 4096),
            ("64MiB", 64 << 20),
            ("1GiB", 1 << 30),
            ("1.5MiB", 3 << 19),
            ("2TiB", 2 << 40),
            ("10KB", 10_000),
            ("10MB", 10_000_000),
            ("1GB", 1_000_000_000),
            (" 8 MiB ", 8 << 20),
        ];
        for (text, expected) in table {
            assert_eq!(parse_size(text), Ok(*expected), "{text}");
        }
    }

    #[test]
    fn sizes_reject() {
        for text in ["", "MiB", "4XB", "1..5K", "-1", "4 KiBs"] {
            assert!(parse_size(text).is_err(), "{text}");
        }
    }

    #[test]
    fn durations_parse() {
        let table: &[(&str, Duration)] = &[
            ("30s", Duration::from_secs(30)),
            ("30", Duration::from_secs(30)),
            ("0.5", Duration::from_millis(500)),
            ("500ms", Duration::from_millis(500)),
            ("1m", Duration::from_secs(60)),
            ("2m30s", Duration::from_secs(150)),
            ("1h", Duration::from_secs(3600)),
            ("1.5s", Duration::from_millis(1500)),
            ("250us", Duration::from_micros(250)),
            ("10ns", Duration::from_nanos(10)),
        ];
        for (text, expected) in table {
            assert_eq!(parse_duration(text), Ok(*expected), "{text}");
        }
    }

    #[test]
    fn durations_reject() {
        for text in ["", "s", "10x", "1m30", "-5s", "ms10"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn bytes_format() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1000), "1000 B");
        assert_eq!(format_bytes(4096), "4 KiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(64 << 20), "64 MiB");
        assert_eq!(format_bytes(3 << 30), "3 GiB");
        assert_eq!(ByteSize(1 << 20).to_string(), "1 MiB");
    }

    #[test]
    fn rates() {
        assert_eq!(mib_per_s(10 << 20, Duration::from_secs(2)), 5.0);
        assert_eq!(mib_per_s(10, Duration::ZERO), 0.0);
        assert_eq!(per_s(300, Duration::from_millis(1500)), 200.0);
        assert_eq!(per_s(1, Duration::ZERO), 0.0);
    }
}
