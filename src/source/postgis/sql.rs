//! The SQL a PostGIS source sends. Identifiers come from the catalogue and are always quoted;
//! every value from a request is a bound parameter, never text pasted into a statement.

use super::discover::{Column, Table};
use crate::source::{FieldType, Value};
use geo_types::Rect;
use tokio_postgres::types::ToSql;

/// A quoted identifier: `"name"`, with any `"` doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How a column is selected so that it reads as its property's value: numbers widened, dates
/// as ISO 8601 text, JSON as text.
pub fn select(c: &Column) -> String {
    let q = ident(&c.name);
    match c.field.kind {
        FieldType::Integer => format!("{q}::int8"),
        FieldType::Number => format!("{q}::float8"),
        FieldType::Boolean => q,
        FieldType::String | FieldType::Other => format!("{q}::text"),
        FieldType::DateTime => format!("to_json({q}) #>> '{{}}'"),
    }
}

/// The geometry in CRS84, as WKB.
pub fn geometry_wkb(t: &Table) -> String {
    let g = ident(&t.geometry);
    if t.srid == 4326 {
        format!("ST_AsBinary({g})")
    } else {
        format!("ST_AsBinary(ST_Transform({g}, 4326))")
    }
}

/// Parameters bound to a statement, and the conditions that use them.
#[derive(Default)]
pub struct Filter {
    pub params: Vec<Box<dyn ToSql + Sync + Send>>,
    pub conditions: Vec<String>,
}

impl Filter {
    /// `$n` for a new parameter.
    pub fn bind(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(v));
        format!("${}", self.params.len())
    }

    /// A CRS84 box in the table's CRS: the envelope's edges cut in 16 before reprojection, so
    /// that their curve in a projected CRS is followed.
    pub fn envelope(&mut self, t: &Table, r: &Rect<f64>) -> String {
        let (x0, y0, x1, y1) = (
            self.bind(r.min().x),
            self.bind(r.min().y),
            self.bind(r.max().x),
            self.bind(r.max().y),
        );
        let env = format!("ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4326)");
        if t.srid == 4326 {
            env
        } else {
            let step = self.bind(r.width().max(r.height()).max(1e-9) / 16.0);
            format!("ST_Transform(ST_Segmentize({env}, {step}), {})", t.srid)
        }
    }

    /// Features whose geometry meets any of the CRS84 boxes.
    pub fn bbox(&mut self, t: &Table, boxes: &[Rect<f64>]) {
        if boxes.is_empty() {
            return;
        }
        let g = ident(&t.geometry);
        let any: Vec<String> = boxes
            .iter()
            .map(|r| {
                let env = self.envelope(t, r);
                // In CRS84 the envelope is the box itself: a feature whose box lies within it
                // intersects it, and needs no exact test (half the cost of a page of parcels).
                // A `case`, not `or`: the planner would scan the index once for each side of
                // an `or` (15 % of a page's time). Reprojected, the envelope's own box is
                // larger than it: every one is tested.
                if t.srid == 4326 {
                    format!(
                        "({g} && {env} and case when {g} @ {env} then true else ST_Intersects({g}, {env}) end)"
                    )
                } else {
                    format!("({g} && {env} and ST_Intersects({g}, {env}))")
                }
            })
            .collect();
        self.conditions.push(format!("({})", any.join(" or ")));
    }

    /// A property equal to a value, as the items' query string means it (numbers by value).
    pub fn equals(&mut self, c: &Column, v: &Value) {
        let q = ident(&c.name);
        let cond = match (c.field.kind, v) {
            // The column as it is, against a widened value: exact, and an index can serve.
            (FieldType::Integer, Value::Int(i)) => format!("{q} = {}::int8", self.bind(*i)),
            (FieldType::Number, Value::Int(i)) => {
                format!("{q}::float8 = {}", self.bind(*i as f64))
            }
            (FieldType::Integer | FieldType::Number, Value::Float(f)) => {
                format!("{q}::float8 = {}", self.bind(*f))
            }
            (FieldType::Boolean, Value::Bool(b)) => format!("{q} = {}", self.bind(*b)),
            (_, Value::String(s)) => format!("{} = {}", select(c), self.bind(s.clone())),
            // A value of another type matches nothing.
            _ => "false".to_string(),
        };
        self.conditions.push(cond);
    }

    /// `where …`, or nothing.
    pub fn clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" where {}", self.conditions.join(" and "))
        }
    }

    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_values_bound() {
        assert_eq!(
            ident("a\"; drop table x; --"),
            "\"a\"\"; drop table x; --\""
        );
        let mut f = Filter::default();
        let c = Column {
            field: crate::source::Field {
                name: "nome".into(),
                kind: FieldType::String,
                title: None,
            },
            name: "nome".into(),
            sql_type: "text".into(),
        };
        f.equals(&c, &Value::String("x' or '1'='1".into()));
        assert_eq!(f.clause(), " where \"nome\"::text = $1");
        assert_eq!(f.params.len(), 1);
    }
}
