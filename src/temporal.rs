//! Instants and intervals as OGC API `datetime` and feature properties write them.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// Seconds since the Unix epoch, UTC.
pub type Instant = i64;

/// An interval with optional open ends; an instant is an interval with both ends equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: Option<Instant>,
    pub end: Option<Instant>,
}

impl Interval {
    /// An interval that ends before it starts holds no instant.
    pub fn is_empty(&self) -> bool {
        matches!((self.start, self.end), (Some(s), Some(e)) if s > e)
    }

    pub fn intersects(&self, other: &Interval) -> bool {
        if self.is_empty() || other.is_empty() {
            return false;
        }
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        let ends_after_other_starts = match (self.end, other.start) {
            (Some(e), Some(s)) => e >= s,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

/// Parses an RFC 3339 date-time (`2024-05-01T10:00:00Z`, with `Z` or an offset of at most
/// 23:59) or a full date (`2024-05-01`, as midnight UTC; with `end_of_day` the last second of
/// that day), and nothing else: what a client may send.
pub fn parse_rfc3339(s: &str, end_of_day: bool) -> Option<Instant> {
    // RFC 3339 allows a lower-case `t` and `z`, leap seconds and any number of decimals; the
    // forms clients write are upper-case, without leap seconds, to the nanosecond, and the
    // OpenAPI document declares exactly these (DATETIME_PARAM_PATTERN).
    let b = s.as_bytes();
    let fraction = s
        .find('.')
        .map(|dot| s[dot + 1..].bytes().take_while(u8::is_ascii_digit).count());
    if s.len() > 10
        && (b[10] != b'T'
            || s.ends_with('z')
            || s.get(17..19) == Some("60")
            || fraction.is_some_and(|n| n > 9))
    {
        return None;
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        // The parser takes offsets up to 25:59; RFC 3339's hours stop at 23.
        return (t.offset().whole_hours().abs() <= 23).then(|| t.unix_timestamp());
    }
    // YYYY-MM-DD only: ISO 8601 also has signed years, ordinal and week dates.
    let calendar_date = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if calendar_date && let Ok(d) = Date::parse(s, &Iso8601::DATE) {
        let t = if end_of_day {
            Time::from_hms(23, 59, 59).ok()?
        } else {
            Time::MIDNIGHT
        };
        return Some(PrimitiveDateTime::new(d, t).assume_utc().unix_timestamp());
    }
    None
}

/// Parses a stored time value: what [`parse_rfc3339`] takes, and date-times without an
/// offset (as FlatGeobuf files often store them), read as UTC.
pub fn parse_instant(s: &str, end_of_day: bool) -> Option<Instant> {
    let s = s.trim();
    if let Some(t) = parse_rfc3339(s, end_of_day) {
        return Some(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.assume_utc().unix_timestamp());
    }
    None
}

/// What [`parse_datetime_param`] accepts, as a regular expression for the OpenAPI document:
/// a real calendar date (leap years too), optionally a time to the nanosecond with `Z` or an
/// offset of at most 23:59, alone or as either end of an interval with at least one closed end.
pub const DATETIME_PARAM_PATTERN: &str = "^(?:(?:\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))|(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)(?:T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d))?(?:/(?:(?:\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))|(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)(?:T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d))?|\\.\\.)?)?|(?:\\.\\.)?/(?:\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))|(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)(?:T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d))?)$";

/// Parses the OGC API `datetime` parameter: an instant, `a/b`, `../b`, `a/..` (an empty side
/// is open too). Errors say what was wrong.
pub fn parse_datetime_param(s: &str) -> Result<Interval, String> {
    let side = |v: &str, end: bool| -> Result<Option<Instant>, String> {
        if v.is_empty() || v == ".." {
            Ok(None)
        } else {
            parse_rfc3339(v, end).map(Some).ok_or_else(|| {
                format!("`{v}` is not an RFC 3339 date or date-time (e.g. 2024-05-01 or 2024-05-01T10:00:00Z)")
            })
        }
    };
    match s.split_once('/') {
        None => {
            if s.is_empty() || s == ".." {
                return Err("an instant must be a date or date-time, not empty or `..`".into());
            }
            let start = side(s, false)?;
            // A bare date means the whole day.
            let end = if s.len() == 10 { side(s, true)? } else { start };
            Ok(Interval { start, end })
        }
        Some((a, b)) => {
            if b.contains('/') {
                return Err("an interval has exactly one `/`".into());
            }
            let (start, end) = (side(a, false)?, side(b, true)?);
            if start.is_none() && end.is_none() {
                return Err("an interval needs at least one closed end".into());
            }
            // One that ends before it starts is no error: it holds nothing, so nothing matches.
            Ok(Interval { start, end })
        }
    }
}

/// RFC 3339 text of an instant, for extents.
pub fn format_instant(t: Instant) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let day = parse_datetime_param("2020-01-02").unwrap();
        assert_eq!(day.end.unwrap() - day.start.unwrap(), 86_399);
        assert!(parse_datetime_param("2020-01-02T10:00:00Z").is_ok());
        assert_eq!(parse_datetime_param("../2020-01-02").unwrap().start, None);
        assert_eq!(parse_datetime_param("2020-01-02/..").unwrap().end, None);
        assert_eq!(parse_datetime_param("2020-01-02/").unwrap().end, None);
        for bad in [
            "",
            "..",
            "../..",
            "yesterday",
            "2020-13-01",
            "a/b/c",
            "2020-01-01t00:00:00Z",
            "2020-01-01T00:00:00z",
            "2016-12-31T23:59:60Z",
            "2020-01-01T00:00:00.0123456789Z",
            "2020-01-01T00:00:00+25:00",
            "2020-01-01T00:00:00+24:00",
            "2020-01-01T00:00:00",
            "2020-1-1",
            // ISO 8601 forms that are not RFC 3339 (found by fuzzing).
            "-002021044",
            "2021-W01-1",
            "+002021-01",
        ] {
            assert!(parse_datetime_param(bad).is_err(), "{bad}");
        }
        assert!(parse_datetime_param("2020-01-01T00:00:00+23:59").is_ok());
        // Backwards: no error, and nothing in it.
        let backwards = parse_datetime_param("2021-01-01/2020-01-01").unwrap();
        assert!(backwards.is_empty());
        assert!(!backwards.intersects(&Interval {
            start: None,
            end: None
        }));
        assert!(parse_datetime_param("2020-01-01T00:00:00-05:00").is_ok());
        // Stored values may lack an offset: read as UTC.
        assert_eq!(
            parse_instant("2020-01-01T00:00:00", false),
            parse_instant("2020-01-01T00:00:00Z", false)
        );
    }

    /// The declared pattern accepts exactly what the parser accepts: valid values and, for
    /// each, every one-character change of it (a digit, a separator, a letter).
    #[test]
    fn the_declared_pattern_is_what_the_parser_takes() {
        let pattern = regex::Regex::new(DATETIME_PARAM_PATTERN).unwrap();
        let valid = [
            "2020-01-02",
            "2024-02-29",
            "2000-02-29T23:59:59Z",
            "1999-12-31T00:00:00.123456789+14:00",
            "2020-06-30T12:30:00-05:30",
            "2020-01-01/..",
            "../2020-01-01T00:00:00Z",
            "/2020-01-01",
            "2020-01-01/",
            "2020-01-01/2021-01-01T10:00:00.5Z",
            "0000-02-29",
        ];
        let alphabet = "0123456789-:T.Z+/z t";
        let mut tried = 0;
        for v in valid {
            assert!(pattern.is_match(v), "{v}");
            assert!(parse_datetime_param(v).is_ok(), "{v}");
            for i in 0..v.len() {
                for c in alphabet.chars() {
                    for changed in [
                        format!("{}{c}{}", &v[..i], &v[i + 1..]),
                        format!("{}{c}{}", &v[..i], &v[i..]),
                        format!("{}{}", &v[..i], &v[i + 1..]),
                    ] {
                        tried += 1;
                        assert_eq!(
                            pattern.is_match(&changed),
                            parse_datetime_param(&changed).is_ok(),
                            "`{changed}`: the pattern and the parser disagree"
                        );
                    }
                }
            }
        }
        assert!(tried > 10_000);
    }

    #[test]
    fn intervals_intersect() {
        let i = |a: Option<i64>, b: Option<i64>| Interval { start: a, end: b };
        assert!(i(Some(0), Some(10)).intersects(&i(Some(10), None)));
        assert!(!i(Some(0), Some(10)).intersects(&i(Some(11), None)));
        assert!(i(None, None).intersects(&i(Some(5), Some(5))));
    }
}
