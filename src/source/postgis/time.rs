//! `datetime` on a PostGIS layer: its time columns (`date`, `timestamp`, `timestamptz`) read
//! as instants in SQL, with the same meaning as a file's time properties
//! ([`crate::temporal`]): a `timestamp` without zone is UTC; a date starts at midnight UTC and,
//! as an end, lasts to the end of its day; times count to the second, as a file's do (a
//! fraction is dropped); with no end column a feature is an instant; a NULL or infinite end is
//! open; a feature with no time at all matches every `datetime`, even an empty interval.

use super::discover::Table;
use super::sql::{Filter, ident};
use crate::source::SourceError;
use crate::temporal::Interval;

/// Which of a table's columns hold each feature's start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeColumns {
    pub start: usize,
    pub end: Option<usize>,
}

/// The columns named `start` and `end`, checked: they must be there and hold dates or times.
pub fn columns(table: &Table, start: &str, end: Option<&str>) -> Result<TimeColumns, SourceError> {
    let find = |name: &str, key: &str| {
        let i = (table.fields.iter())
            .position(|c| c.name == name)
            .ok_or_else(|| {
                SourceError::Invalid(format!(
                    "temporal.{key}: {} has no column `{name}`",
                    table.label(false)
                ))
            })?;
        instant(&table.fields[i].sql_type, &ident(name), false).map_err(|why| {
            SourceError::Invalid(format!("temporal.{key}: the column `{name}` {why}"))
        })?;
        Ok::<usize, SourceError>(i)
    };
    Ok(TimeColumns {
        start: find(start, "start")?,
        end: end.map(|e| find(e, "end")).transpose()?,
    })
}

/// Column `q` of SQL type `sql_type` as a `timestamptz`; for a date that ends an interval,
/// the last second of its day.
fn instant(sql_type: &str, q: &str, end: bool) -> Result<String, String> {
    Ok(match sql_type {
        "timestamp with time zone" => q.to_string(),
        "timestamp without time zone" => format!("({q} at time zone 'UTC')"),
        "date" if end => format!("(({q} + 1)::timestamp at time zone 'UTC' - interval '1 second')"),
        "date" => format!("({q}::timestamp at time zone 'UTC')"),
        other => return Err(format!("is {other}: give a date or timestamp column")),
    })
}

/// Each feature's start and end as SQL `timestamptz` expressions.
fn bounds(table: &Table, t: TimeColumns) -> (String, String) {
    let expr = |i: usize, end: bool| {
        let c = &table.fields[i];
        // Checked by `columns`: the type is one of those `instant` knows.
        instant(&c.sql_type, &ident(&c.name), end).unwrap_or_else(|_| "null".into())
    };
    let start = expr(t.start, false);
    let end = match t.end {
        Some(e) => expr(e, true),
        None => start.clone(),
    };
    (start, end)
}

/// Adds to `f` the condition that a feature's time meets `want`.
pub fn filter(f: &mut Filter, table: &Table, t: TimeColumns, want: &Interval) {
    let (s, e) = bounds(table, t);
    let timeless = format!("({s} is null and {e} is null)");
    if want.is_empty() {
        f.conditions.push(timeless);
        return;
    }
    let mut met = vec![format!("coalesce({s} <= {e}, true)")];
    // Up to the end of that second: a start at 08:00:00.5 is 08:00:00 to a file.
    if let Some(until) = want.end {
        met.push(format!(
            "coalesce({s} < to_timestamp({}), true)",
            f.bind(until.saturating_add(1) as f64)
        ));
    }
    if let Some(from) = want.start {
        met.push(format!(
            "coalesce({e} >= to_timestamp({}), true)",
            f.bind(from as f64)
        ));
    }
    f.conditions
        .push(format!("({timeless} or ({}))", met.join(" and ")));
}

/// The select list giving the earliest start and the latest end (epoch seconds), and
/// whether some feature's end or start is open, over the table's rows: `first`, `last`,
/// `open` and `open_start`; NULL and false when the layer has no time.
pub fn extent_select(table: &Table) -> String {
    let Some(t) = table.time else {
        return "null::int8 as first, null::int8 as last, false as open, false as open_start"
            .into();
    };
    let (s, e) = bounds(table, t);
    // Infinities have no epoch: `-infinity` opens the start, `infinity` the end.
    format!(
        "floor(extract(epoch from min({s}) filter (where isfinite({s}))))::int8 as first,
         floor(extract(epoch from max({e}) filter (where isfinite({e}))))::int8 as last,
         coalesce(bool_or({s} is not null and ({e} is null or {e} = 'infinity')), false) as open,
         coalesce(bool_or({s} = '-infinity'), false) as open_start"
    )
}

/// The interval of [`extent_select`]'s values.
pub fn extent(
    first: Option<i64>,
    last: Option<i64>,
    open: bool,
    open_start: bool,
) -> Option<Interval> {
    if first.is_none() && last.is_none() && !open && !open_start {
        return None;
    }
    Some(Interval {
        start: if open_start { None } else { first },
        end: if open { None } else { last },
    })
}
