//! What a database holds: every table and view with a geometry column in the schemas asked
//! for, its key, its columns and how each reads as a property, or why it cannot be published.
//! Only the system catalogues are read; names come back from them and are quoted where used.

use super::sql::ident;
use crate::source::{Field, FieldType, SourceError};
use tokio_postgres::GenericClient;

/// One geometry column of a table or view, ready to publish.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub geometry: String,
    pub srid: u32,
    /// GeoJSON's name for the column's type, or `Unknown`.
    pub geometry_type: String,
    /// The properties, in column order; the key among them.
    pub fields: Vec<Column>,
    pub key: usize,
    /// A table (not a view): triggers can follow its changes.
    pub is_table: bool,
    /// It carries tessera's change triggers (`tessera db init`), so its changes are notified.
    pub followed: bool,
    /// The columns `datetime` filters on, when the layer has them.
    pub time: Option<super::time::TimeColumns>,
    /// The key was named for it (a view's): nothing keeps it from being NULL.
    pub key_given: bool,
}

/// A column published as a property: its field, and how it is selected.
#[derive(Debug, Clone)]
pub struct Column {
    pub field: Field,
    /// The column's name, unquoted.
    pub name: String,
    /// Its SQL type as PostgreSQL writes it (`format_type`, without a length: a cast to
    /// `varchar(20)` would cut a longer value, and find another row), to cast a value to.
    pub sql_type: String,
}

/// A key named for a relation that has no primary key (a view), or instead of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenKey {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// A geometry column found but not published, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub table: String,
    pub reason: String,
}

impl Table {
    /// `"schema"."name"`.
    pub fn quoted(&self) -> String {
        format!("{}.{}", ident(&self.schema), ident(&self.name))
    }

    /// How the table is named in messages and as a preview's id: `schema.name`, or
    /// `schema.name.geometry` for a table with several geometry columns.
    pub fn label(&self, several: bool) -> String {
        if several {
            format!("{}.{}.{}", self.schema, self.name, self.geometry)
        } else {
            format!("{}.{}", self.schema, self.name)
        }
    }
}

/// The PostgreSQL types tessera reads, as properties.
fn field_type(pg: &str) -> Option<FieldType> {
    Some(match pg {
        "int2" | "int4" | "int8" => FieldType::Integer,
        "float4" | "float8" | "numeric" => FieldType::Number,
        "text" | "varchar" | "bpchar" | "uuid" | "name" | "citext" => FieldType::String,
        "bool" => FieldType::Boolean,
        "date" | "timestamp" | "timestamptz" => FieldType::DateTime,
        "json" | "jsonb" => FieldType::Other,
        _ => return None,
    })
}

fn geometry_type(pg: &str) -> String {
    match pg.to_ascii_uppercase().trim_end_matches(['M', 'Z']) {
        "POINT" => "Point",
        "MULTIPOINT" => "MultiPoint",
        "LINESTRING" => "LineString",
        "MULTILINESTRING" => "MultiLineString",
        "POLYGON" => "Polygon",
        "MULTIPOLYGON" => "MultiPolygon",
        "GEOMETRYCOLLECTION" => "GeometryCollection",
        _ => "Unknown",
    }
    .to_string()
}

/// The geometry columns of `schemas` (every schema but the system's when empty): those that
/// can be published, and those that cannot with the reason.
pub async fn tables(
    client: &impl GenericClient,
    schemas: &[String],
    keys: &[GivenKey],
) -> Result<(Vec<Table>, Vec<Skipped>), SourceError> {
    let rows = client
        .query(
            "select g.f_table_schema::text, g.f_table_name::text, g.f_geometry_column::text,
                    g.srid, g.type::text, c.relkind::text,
                    (select count(*) from pg_trigger tg where tg.tgrelid = c.oid
                        and tg.tgname = any($2::text[]) and tg.tgenabled <> 'D')
             from geometry_columns g
             join pg_namespace n on n.nspname = g.f_table_schema::text
             join pg_class c on c.relnamespace = n.oid and c.relname = g.f_table_name::text
             where (cardinality($1::text[]) = 0 and g.f_table_schema::text not in ('pg_catalog', 'information_schema', 'tessera'))
                or g.f_table_schema::text = any($1::text[])
             order by 1, 2, 3",
            &[&schemas, &super::schema::TRIGGERS.to_vec()],
        )
        .await
        .map_err(super::error)?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for row in rows {
        let (schema, name, geometry): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        let srid: i32 = row.get(3);
        let label = format!("{schema}.{name}.{geometry}");
        let kind: String = row.get(4);
        let is_table = matches!(row.get::<_, String>(5).as_str(), "r" | "p");
        let followed = row.get::<_, i64>(6) == super::schema::TRIGGERS.len() as i64;
        if ["CURVE", "SURFACE", "TIN", "POLYHEDRAL"]
            .iter()
            .any(|c| kind.to_ascii_uppercase().contains(c))
        {
            skipped.push(Skipped {
                table: label,
                reason: format!("{kind} geometries (curves, surfaces) are not served yet"),
            });
            continue;
        }
        if srid <= 0 {
            skipped.push(Skipped {
                table: label,
                reason: "the geometry column has no SRID (set one with UpdateGeometrySRID)".into(),
            });
            continue;
        }
        let given = (keys.iter())
            .find(|k| k.schema == schema && k.table == name)
            .map(|k| k.column.as_str());
        match columns(client, &schema, &name, &geometry, given).await? {
            Ok((fields, key)) => found.push(Table {
                schema,
                name,
                geometry,
                srid: srid as u32,
                geometry_type: geometry_type(&kind),
                fields,
                key,
                is_table,
                followed,
                time: None,
                key_given: given.is_some(),
            }),
            Err(reason) => skipped.push(Skipped {
                table: label,
                reason,
            }),
        }
    }
    // The view leaves out what the role may not read: those are found here, to be named.
    let unreadable = client
        .query(
            "select n.nspname::text, c.relname::text, a.attname::text
             from pg_attribute a
             join pg_class c on c.oid = a.attrelid
             join pg_namespace n on n.oid = c.relnamespace
             where a.atttypid in (select oid from pg_type where typname = 'geometry')
               and a.attnum > 0 and not a.attisdropped
               and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
               and not pg_is_other_temp_schema(n.oid)
               and not has_column_privilege(c.oid, a.attnum, 'SELECT')
               and ((cardinality($1::text[]) = 0
                     and n.nspname not in ('pg_catalog', 'information_schema', 'tessera'))
                    or n.nspname = any($1::text[]))
             order by 1, 2, 3",
            &[&schemas],
        )
        .await
        .map_err(super::error)?;
    for row in unreadable {
        let (schema, name, geometry): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        skipped.push(Skipped {
            table: format!("{schema}.{name}.{geometry}"),
            reason:
                "no permission to read it: `grant select` on it to the role tessera connects as"
                    .into(),
        });
    }
    Ok((found, skipped))
}

/// A table's properties and key (its primary key, or the column `given`); `Err` with the
/// reason it cannot be published.
async fn columns(
    client: &impl GenericClient,
    schema: &str,
    table: &str,
    geometry: &str,
    given: Option<&str>,
) -> Result<Result<(Vec<Column>, usize), String>, SourceError> {
    let rows = client
        .query(
            "select a.attname::text, t.typname::text,
                    coalesce(a.attnum = any(i.indkey), false) as key,
                    has_column_privilege(c.oid, a.attnum, 'SELECT') as readable,
                    format_type(a.atttypid, null)
             from pg_class c
             join pg_namespace n on n.oid = c.relnamespace
             join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
             join pg_type t on t.oid = a.atttypid
             left join pg_index i on i.indrelid = c.oid and i.indisprimary
             where n.nspname = $1 and c.relname = $2
             order by a.attnum",
            &[&schema, &table],
        )
        .await
        .map_err(super::error)?;
    // Every column of the key, whatever its type: a key of several columns is no id.
    let key_columns = rows.iter().filter(|r| r.get::<_, bool>(2)).count();
    let mut fields = Vec::new();
    let mut keys = Vec::new();
    for row in &rows {
        let (name, pg, key, readable): (String, String, bool, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !readable {
            if name == geometry {
                return Ok(Err("no permission to read the geometry column".into()));
            }
            continue;
        }
        if name == geometry || pg == "geometry" || pg == "geography" {
            continue;
        }
        let Some(kind) = field_type(&pg) else {
            continue;
        };
        if key {
            keys.push((fields.len(), kind));
        }
        fields.push(Column {
            field: Field {
                name: name.clone(),
                kind,
                title: None,
            },
            name,
            sql_type: row.get(4),
        });
    }
    if let Some(name) = given {
        // Named by whoever publishes it: a view's key is unique as its definition makes it
        // (tessera cannot check it), and pages follow it.
        return Ok(match fields.iter().position(|c| c.name == name) {
            Some(k) if matches!(fields[k].field.kind, FieldType::Integer | FieldType::String) => {
                Ok((fields, k))
            }
            Some(_) => Err(format!("its key `{name}` is neither an integer nor text")),
            None => Err(format!("it has no readable column `{name}` to be its key")),
        });
    }
    if key_columns > 1 {
        return Ok(Err("the primary key has several columns".into()));
    }
    match keys.as_slice() {
        [(k, FieldType::Integer | FieldType::String)] => Ok(Ok((fields, *k))),
        [] => Ok(Err(
            "no primary key (features need a stable id: add one, e.g. `alter table … add primary key (id)`, or name a unique column as its key: `key = \"…\"` in the layer's postgis source, or key_column in tessera.layers, as a view needs)".into(),
        )),
        [_] => Ok(Err("the primary key is neither an integer nor text".into())),
        _ => Ok(Err("the primary key has several columns".into())),
    }
}
