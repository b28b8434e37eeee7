//! The `tessera` schema a body keeps in its own database (`tessera db init`): each table's
//! L.R. 65/2014 classification and metadata in `tessera.layers`, editable from QGIS where the
//! data is edited, its allowed values in lookup tables (foreign keys, so QGIS offers them as
//! lists), and the triggers that tell tessera which boxes of a table changed.
//!
//! The schema carries its version in `tessera.versione`; `init` brings any older one up to
//! [`VERSION`] in one transaction, and is safe to run again.

use super::discover;
use super::sql::ident;
use crate::lr65::{Fase, Frequenza, StatoKind, Strumento, Struttura, TipoDiritto, Voce};
use crate::source::SourceError;
use tokio_postgres::Client;

/// The newest version of the schema this build knows.
pub const VERSION: i32 = 2;

/// The channel the change triggers notify on.
pub const CHANNEL: &str = "tessera";

/// The names of the change triggers, one per kind of statement.
pub(super) const TRIGGERS: [&str; 4] = [
    "tessera_inserite",
    "tessera_modificate",
    "tessera_cancellate",
    "tessera_svuotate",
];

/// Version 2: a layer's key column (a view has no primary key) and its time columns, what
/// `datetime` filters on.
const V2: &str = r#"
alter table tessera.layers
    add column key_column text check (btrim(key_column) <> ''),
    add column temporal_start text check (btrim(temporal_start) <> ''),
    add column temporal_end text check (btrim(temporal_end) <> ''),
    add constraint fine_con_inizio check (temporal_end is null or temporal_start is not null);
comment on column tessera.layers.key_column is
    'The column that identifies each feature, for a view (or instead of the primary key); unique';
comment on column tessera.layers.temporal_start is
    'The date or timestamp column each feature starts at (what datetime filters on); empty: no time';
comment on column tessera.layers.temporal_end is
    'The date or timestamp column each feature ends at; empty: each feature is an instant';
"#;

/// Version 1: lookup tables, `layers`, the change triggers' function and `segui`.
const V1: &str = r#"
create table tessera.versione (versione integer not null);
insert into tessera.versione values (0);

create table tessera.strutture (id text primary key, etichetta text not null);
create table tessera.stati (id text primary key, etichetta text not null);
create table tessera.tipi_diritto (id text primary key, etichetta text not null);
create table tessera.strumenti (id text primary key, etichetta text not null);
create table tessera.fasi (id text primary key, etichetta text not null);
create table tessera.frequenze (id text primary key, etichetta text not null);

create table tessera.layers (
    id text primary key check (id ~ '^[a-z0-9_-]{1,64}$'),
    schema_name text not null default 'public',
    table_name text not null,
    geometry_column text,
    title text not null check (btrim(title) <> ''),
    description text not null check (btrim(description) <> ''),
    keywords text[] not null default '{}',
    license_id text not null check (btrim(license_id) <> ''),
    license_url text not null check (btrim(license_url) <> ''),
    attribution text not null check (btrim(attribution) <> ''),
    publisher_name text not null check (btrim(publisher_name) <> ''),
    publisher_ipa text not null check (btrim(publisher_ipa) <> ''),
    frequency text not null default 'unknown' references tessera.frequenze,
    struttura text not null references tessera.strutture,
    altre_strutture text[] not null default '{}',
    stato text not null references tessera.stati,
    tipo_diritto text references tessera.tipi_diritto,
    atto_strumento text references tessera.strumenti,
    atto_descrizione text,
    atto_numero text,
    atto_data date,
    atto_fase text references tessera.fasi,
    constraint stato_e_atto check (
        (stato = 'di_fatto' and tipo_diritto is null and atto_strumento is null
            and atto_descrizione is null and atto_numero is null and atto_data is null
            and atto_fase is null)
        or (stato = 'di_diritto' and tipo_diritto is not null and atto_strumento is not null
            and atto_descrizione is not null and atto_numero is not null
            and atto_data is not null and atto_fase is not null)
    )
);
create unique index layers_tabella on tessera.layers
    (schema_name, table_name, coalesce(geometry_column, ''));

comment on table tessera.layers is
    'Layers that tessera publishes, with their metadata and L.R. 65/2014 classification (one row per table, or per geometry column of a table that has several)';
comment on column tessera.layers.id is 'Collection id in URLs: a-z, 0-9, _ and -';
comment on column tessera.layers.geometry_column is 'The geometry column, when the table has several';
comment on column tessera.layers.struttura is 'Art. 3: the main struttura of the patrimonio territoriale';
comment on column tessera.layers.altre_strutture is 'Art. 3: other strutture the layer also belongs to';
comment on column tessera.layers.stato is 'Art. 55: di_fatto (what is there) or di_diritto (what the law says)';
comment on column tessera.layers.tipo_diritto is 'For di_diritto: vincolo, area_protetta, pericolosita or previsione_di_piano';
comment on column tessera.layers.atto_strumento is 'For di_diritto: the plan or act the layer comes from';
comment on column tessera.layers.atto_data is 'For di_diritto: the date of the act';

-- One notification per statement on a followed table: the box each geometry column's
-- changed rows cover (before and after an update), in the column's own CRS. The columns are
-- looked up as it runs, so that renaming or adding one keeps the table's writes working.
create function tessera.segnala_modifiche() returns trigger language plpgsql as $f$
declare
    col text;
    b box2d;
    boxes jsonb := '{}';
begin
    if tg_op <> 'TRUNCATE' then
        for col in select a.attname from pg_attribute a join pg_type ty on ty.oid = a.atttypid
                   where a.attrelid = tg_relid and a.attnum > 0 and not a.attisdropped
                     and ty.typname = 'geometry' loop
            if tg_op = 'INSERT' then
                execute format('select ST_Extent(%I) from tessera_nuove', col) into b;
            elsif tg_op = 'DELETE' then
                execute format('select ST_Extent(%I) from tessera_vecchie', col) into b;
            else
                execute format(
                    'select ST_Extent(g) from (select %1$I as g from tessera_nuove
                     union all select %1$I from tessera_vecchie) u', col) into b;
            end if;
            if b is not null then
                boxes := boxes || jsonb_build_object(col,
                    jsonb_build_array(ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)));
            end if;
        end loop;
        if boxes = '{}' then
            return null;
        end if;
    end if;
    perform pg_notify('tessera', jsonb_build_object(
        'schema', tg_table_schema, 'table', tg_table_name,
        'all', tg_op = 'TRUNCATE', 'boxes', boxes)::text);
    return null;
end
$f$;

-- Installs (again) the change triggers on a table.
create function tessera.segui(t regclass) returns void language plpgsql as $f$
begin
    execute format('drop trigger if exists tessera_inserite on %s', t);
    execute format('drop trigger if exists tessera_modificate on %s', t);
    execute format('drop trigger if exists tessera_cancellate on %s', t);
    execute format('drop trigger if exists tessera_svuotate on %s', t);
    execute format('create trigger tessera_inserite after insert on %s
        referencing new table as tessera_nuove for each statement
        execute function tessera.segnala_modifiche()', t);
    execute format('create trigger tessera_modificate after update on %s
        referencing old table as tessera_vecchie new table as tessera_nuove for each statement
        execute function tessera.segnala_modifiche()', t);
    execute format('create trigger tessera_cancellate after delete on %s
        referencing old table as tessera_vecchie for each statement
        execute function tessera.segnala_modifiche()', t);
    execute format('create trigger tessera_svuotate after truncate on %s
        for each statement execute function tessera.segnala_modifiche()', t);
end
$f$;
"#;

/// What `tessera db init` did.
#[derive(Debug, Default)]
pub struct InitReport {
    /// The schema's version before (0: there was none).
    pub from: i32,
    pub to: i32,
    /// Tables whose changes are now notified.
    pub followed: Vec<String>,
    /// Tables that could not be followed, and why (their tiles are refreshed by polling).
    pub not_followed: Vec<(String, String)>,
}

/// Creates or migrates the `tessera` schema, fills its lookup tables from this build's
/// taxonomy, and installs the change triggers on every table discovery finds in `schemas`.
pub async fn init(client: &mut Client, schemas: &[String]) -> Result<InitReport, SourceError> {
    let mut tx = client.transaction().await.map_err(super::error)?;
    // One init at a time: a second waits, then finds the schema up to date.
    tx.batch_execute(
        "set local client_min_messages = warning;
         select pg_advisory_xact_lock(hashtext('tessera db init'))",
    )
    .await
    .map_err(super::error)?;
    let from = version(&tx).await?;
    if from > VERSION {
        return Err(SourceError::Invalid(format!(
            "the database's tessera schema is version {from}, newer than this tessera knows ({VERSION}): upgrade tessera"
        )));
    }
    if from < 1 {
        tx.batch_execute("create schema if not exists tessera")
            .await
            .map_err(super::error)?;
        tx.batch_execute(V1).await.map_err(super::error)?;
    }
    if from < 2 {
        tx.batch_execute(V2).await.map_err(super::error)?;
    }
    // Later versions add their steps here, each `if from < N`.
    tx.execute("update tessera.versione set versione = $1", &[&VERSION])
        .await
        .map_err(super::error)?;
    fill_lookups(&tx).await?;
    // The function runs with the writer's search_path: PostGIS's schema is named, so that a
    // writer without it (a restore sets none) still finds `box2d` and `ST_Extent`.
    let postgis: String = tx
        .query_one(
            "select extnamespace::regnamespace::text from pg_extension where extname = 'postgis'",
            &[],
        )
        .await
        .map_err(super::error)?
        .get(0);
    tx.batch_execute(&format!(
        "alter function tessera.segnala_modifiche() set search_path = {postgis}, pg_catalog"
    ))
    .await
    .map_err(super::error)?;
    let mut report = InitReport {
        from,
        to: VERSION,
        ..InitReport::default()
    };
    let (tables, _) = discover::tables(&tx, schemas, &[]).await?;
    let mut seen = std::collections::HashSet::new();
    for t in tables {
        if !seen.insert((t.schema.clone(), t.name.clone())) {
            continue;
        }
        let label = format!("{}.{}", t.schema, t.name);
        if !t.is_table {
            report.not_followed.push((
                label,
                "a view has no triggers: its tiles are refreshed by polling".into(),
            ));
            continue;
        }
        // Each table in a savepoint: one the role does not own leaves the others followed.
        let sp = tx.savepoint(format!("segui_{}", seen.len())).await;
        let sp = sp.map_err(super::error)?;
        let follow = sp
            .execute("select tessera.segui($1::text::regclass)", &[&t.quoted()])
            .await;
        match follow {
            Ok(_) => {
                sp.commit().await.map_err(super::error)?;
                report.followed.push(label);
            }
            Err(e) => {
                let why = e
                    .as_db_error()
                    .map_or(e.to_string(), |d| d.message().into());
                sp.rollback().await.map_err(super::error)?;
                report.not_followed.push((label, why));
            }
        }
    }
    tx.commit().await.map_err(super::error)?;
    Ok(report)
}

/// Whether the table `name` (`schema.table`) is there.
async fn exists(
    client: &impl tokio_postgres::GenericClient,
    name: &str,
) -> Result<bool, SourceError> {
    let row = client
        .query_one("select to_regclass($1) is not null", &[&name])
        .await
        .map_err(super::error)?;
    Ok(row.get(0))
}

/// The schema's version, 0 when there is none.
async fn version(tx: &impl tokio_postgres::GenericClient) -> Result<i32, SourceError> {
    if !exists(tx, "tessera.versione").await? {
        return Ok(0);
    }
    let row = tx
        .query_opt("select max(versione) from tessera.versione", &[])
        .await
        .map_err(super::error)?;
    Ok(row.and_then(|r| r.get::<_, Option<i32>>(0)).unwrap_or(0))
}

/// Every value of the taxonomy, with its Italian label: new ones added, labels updated.
async fn fill_lookups(tx: &tokio_postgres::Transaction<'_>) -> Result<(), SourceError> {
    fn values<V: Voce>() -> Vec<(String, String)> {
        (V::ALL.iter())
            .map(|v| (v.id().to_string(), v.etichetta().to_string()))
            .collect()
    }
    for (table, rows) in [
        ("strutture", values::<Struttura>()),
        ("stati", values::<StatoKind>()),
        ("tipi_diritto", values::<TipoDiritto>()),
        ("strumenti", values::<Strumento>()),
        ("fasi", values::<Fase>()),
        ("frequenze", values::<Frequenza>()),
    ] {
        let sql = format!(
            "insert into tessera.{} (id, etichetta) values ($1, $2)
             on conflict (id) do update set etichetta = excluded.etichetta",
            ident(table)
        );
        for (id, label) in rows {
            tx.execute(&sql, &[&id, &label])
                .await
                .map_err(super::error)?;
        }
    }
    // An array cannot hold foreign keys: the other strutture are checked against the list.
    let strutture: Vec<String> = values::<Struttura>().into_iter().map(|v| v.0).collect();
    let list = strutture
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    tx.batch_execute(&format!(
        "alter table tessera.layers drop constraint if exists altre_strutture_valide;
         alter table tessera.layers add constraint altre_strutture_valide
             check (altre_strutture <@ array[{list}]::text[]);"
    ))
    .await
    .map_err(super::error)?;
    Ok(())
}

/// A row of `tessera.layers`, as written (checked by the catalogue with the same rules as
/// the configuration).
#[derive(Debug, Clone)]
pub struct Declared {
    pub id: String,
    pub schema: String,
    pub table: String,
    pub geometry: Option<String>,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub license_id: String,
    pub license_url: String,
    pub attribution: String,
    pub publisher_name: String,
    pub publisher_ipa: String,
    pub frequency: String,
    pub strutture: Vec<String>,
    pub stato: String,
    pub tipo_diritto: Option<String>,
    pub atto: Option<DeclaredAtto>,
    /// The column identifying its features, for a view (version 2 of the schema).
    pub key_column: Option<String>,
    /// The columns of its time (version 2 of the schema).
    pub temporal_start: Option<String>,
    pub temporal_end: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DeclaredAtto {
    pub strumento: String,
    pub descrizione: String,
    pub numero: String,
    /// ISO date.
    pub data: String,
    pub fase: String,
}

/// A `text[]` column as a list; a NULL among its values is no value.
fn texts(r: &tokio_postgres::Row, i: usize) -> Vec<String> {
    (r.try_get::<_, Option<Vec<Option<String>>>>(i)
        .ok()
        .flatten())
    .unwrap_or_default()
    .into_iter()
    .flatten()
    .collect()
}

/// The rows of `tessera.layers`, none when the database has no tessera schema.
pub async fn declared(client: &Client) -> Result<Vec<Declared>, SourceError> {
    if !exists(client, "tessera.layers").await? {
        return Ok(Vec::new());
    }
    // A schema `db init` has not migrated yet has no time columns (asked of the catalogue: a
    // role may read `layers` and not `versione`).
    let v2 = client
        .query_one(
            "select count(*) = 3 from pg_attribute
             where attrelid = 'tessera.layers'::regclass and not attisdropped
               and attname in ('temporal_start', 'temporal_end', 'key_column')",
            &[],
        )
        .await
        .map_err(super::error)?
        .get::<_, bool>(0);
    let time = match v2 {
        true => "temporal_start, temporal_end, key_column",
        false => "null::text, null::text, null::text",
    };
    let rows = client
        .query(
            &format!(
                "select id, schema_name, table_name, geometry_column, title, description, keywords,
                        license_id, license_url, attribution, publisher_name, publisher_ipa,
                        frequency, array_prepend(struttura, altre_strutture), stato, tipo_diritto,
                        atto_strumento, atto_descrizione, atto_numero, atto_data::text, atto_fase,
                        {time}
                 from tessera.layers order by id"
            ),
            &[],
        )
        .await
        .map_err(super::error)?;
    Ok(rows
        .iter()
        .map(|r| {
            let atto = r
                .get::<_, Option<String>>(16)
                .map(|strumento| DeclaredAtto {
                    strumento,
                    descrizione: r.get::<_, Option<String>>(17).unwrap_or_default(),
                    numero: r.get::<_, Option<String>>(18).unwrap_or_default(),
                    data: r.get::<_, Option<String>>(19).unwrap_or_default(),
                    fase: r.get::<_, Option<String>>(20).unwrap_or_default(),
                });
            Declared {
                id: r.get(0),
                schema: r.get(1),
                table: r.get(2),
                geometry: r.get(3),
                title: r.get(4),
                description: r.get(5),
                keywords: texts(r, 6),
                license_id: r.get(7),
                license_url: r.get(8),
                attribution: r.get(9),
                publisher_name: r.get(10),
                publisher_ipa: r.get(11),
                frequency: r.get(12),
                strutture: texts(r, 13),
                stato: r.get(14),
                tipo_diritto: r.get(15),
                atto,
                temporal_start: r.get(21),
                temporal_end: r.get(22),
                key_column: r.get(23),
            }
        })
        .collect())
}
