//! How long a stack lives, and what its last run did: what `list` shows and `gc` decides on.

use jiff::{Span, Timestamp, ToSpan as _};
use serde::{Deserialize, Serialize};

/// How the last create, delete or rotate ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    Ok,
    Failed,
    Interrupted,
}

impl std::fmt::Display for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunResult::Ok => "ok",
            RunResult::Failed => "failed",
            RunResult::Interrupted => "interrupted",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    pub command: String,
    pub at: Timestamp,
    pub result: RunResult,
}

/// When a stack made now with `--ttl text` may be removed: a duration from now (30s, 30m, 4h,
/// 2d), an RFC 3339 time, or a date (its midnight UTC). A time not in the future is refused, since
/// it would make the stack collectable before it is even made.
pub fn expiry(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    const SHAPES: &str = "give --ttl as a duration (30s, 30m, 4h, 2d), an RFC 3339 time (2026-12-24T18:00:00Z) or a date (2026-12-24)";
    let at = match duration(text) {
        Some(span) => now.checked_add(span).map_err(|_| SHAPES.to_string())?,
        None => match text.parse::<Timestamp>() {
            Ok(at) => at,
            // A date alone: its midnight, UTC.
            Err(_) => match text.parse::<jiff::civil::Date>() {
                Ok(date) => format!("{date}T00:00:00Z")
                    .parse::<Timestamp>()
                    .map_err(|_| SHAPES.to_string())?,
                Err(_) => return Err(SHAPES.to_string()),
            },
        },
    };
    if at <= now {
        return Err(format!(
            "--ttl {text} is not in the future (it is {}); give a later time or a duration such as 4h",
            shown(at)
        ));
    }
    Ok(at)
}

fn duration(text: &str) -> Option<Span> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().ok()?;
    // Ten years at most: anything longer is a typo, not a lifetime.
    let seconds = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (seconds > 0 && seconds <= 3650 * 86_400).then(|| seconds.seconds())
}

/// A time as people read it in a listing: to the second, UTC.
pub fn shown(at: Timestamp) -> String {
    at.round(jiff::Unit::Second).unwrap_or(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_times_and_dates_and_refuses_the_past() {
        let now: Timestamp = "2026-12-03T07:00:00Z".parse().unwrap();
        let at = |t| expiry(t, now).map(|t| t.to_string());
        assert_eq!(at("30s").unwrap(), "2026-12-03T07:00:30Z");
        assert_eq!(at("30m").unwrap(), "2026-12-03T07:30:00Z");
        assert_eq!(at("4h").unwrap(), "2026-12-03T11:00:00Z");
        assert_eq!(at("2d").unwrap(), "2026-12-05T07:00:00Z");
        assert_eq!(at("2026-12-24T18:00:00Z").unwrap(), "2026-12-24T18:00:00Z");
        assert_eq!(at("2026-12-24").unwrap(), "2026-12-24T00:00:00Z");
        let past = at("2026-12-01").unwrap_err();
        assert!(past.contains("not in the future"), "{past}");
        assert!(at("0s").is_err());
        for bad in ["", "4", "h", "4w", "tomorrow", "-3h"] {
            assert!(at(bad).unwrap_err().starts_with("give --ttl"), "{bad}");
        }
    }
}
