//! What a database holds, measured the same way on the source and on the restored copy:
//! tables with row counts and a checksum of a sample of rows, sequences against their
//! columns' maximum, and foreign keys. Only the simple query protocol is used (pooler-safe),
//! with identifiers quoted by the server's own `quote_ident`.

use std::collections::{BTreeMap, BTreeSet};

use shipline_pg::PgError;
use tokio_postgres::{Client, SimpleQueryMessage};

/// Schemas Supabase manages for its own services: their contents are not the app's data
/// and need extensions a plain PostgreSQL lacks. `auth` and `storage` hold user data and
/// are kept.
pub const PLATFORM_SCHEMAS: &[&str] = &[
    "extensions",
    "graphql",
    "graphql_public",
    "realtime",
    "_realtime",
    "supabase_functions",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "net",
    "cron",
    "pgbouncer",
    "_analytics",
    "_supavisor",
    "pgtle",
    "repack",
    "tiger",
    "topology",
];

/// Session settings that make `row::text` the same on both servers.
const SETTINGS: &str = "SET search_path TO pg_catalog; SET extra_float_digits = 3; \
     SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; SET timezone = 'UTC'; \
     SET bytea_output = 'hex'; SET statement_timeout = 0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFacts {
    pub rows: u64,
    /// md5 over the sampled rows' text, in key order; `None` when not sampled.
    pub checksum: Option<String>,
    pub sampled: u64,
    /// How the sample was chosen (`primary key`, `row hash`).
    pub sampled_by: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceFacts {
    pub sequence: String,
    pub column: String,
    pub last_value: Option<i128>,
    pub is_called: bool,
    pub max: Option<i128>,
}

impl SequenceFacts {
    /// Whether the next `nextval` would hand out a value already in the column.
    pub fn is_behind(&self) -> bool {
        match (self.max, self.last_value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(max), Some(last)) => {
                if self.is_called {
                    max > last
                } else {
                    max >= last
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// By `schema.table` (quoted as needed).
    pub tables: BTreeMap<String, TableFacts>,
    pub sequences: Vec<SequenceFacts>,
    /// `(table, constraint name, validated)`.
    pub foreign_keys: BTreeSet<(String, String, bool)>,
}

fn query_error(context: &str) -> impl Fn(tokio_postgres::Error) -> PgError + '_ {
    move |e| PgError::Query {
        context: context.to_owned(),
        message: shipline_pg::describe(&e),
    }
}

async fn rows(
    client: &Client,
    sql: &str,
    context: &str,
) -> Result<Vec<Vec<Option<String>>>, PgError> {
    let messages = client
        .simple_query(sql)
        .await
        .map_err(query_error(context))?;
    Ok(messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect())
}

pub async fn prepare(client: &Client) -> Result<(), PgError> {
    client
        .batch_execute(SETTINGS)
        .await
        .map_err(query_error("setting up the session"))
}

fn in_list(schemas: &[String]) -> String {
    schemas
        .iter()
        .map(|s| shipline_pg::literal(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The schemas to check: those asked for, else every schema that is not PostgreSQL's own or
/// a Supabase platform schema.
pub async fn schemas(client: &Client, wanted: &[String]) -> Result<Vec<String>, PgError> {
    let present: Vec<String> = rows(
        client,
        "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1",
        "listing schemas",
    )
    .await?
    .into_iter()
    .filter_map(|r| r.into_iter().next().flatten())
    .collect();
    if wanted.is_empty() {
        return Ok(present
            .into_iter()
            .filter(|s| !PLATFORM_SCHEMAS.contains(&s.as_str()))
            .collect());
    }
    let missing: Vec<&String> = wanted.iter().filter(|w| !present.contains(w)).collect();
    if !missing.is_empty() {
        return Err(PgError::Config(format!(
            "`schemas` names {} that the database does not have (it has {})",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
            present.join(", ")
        )));
    }
    Ok(wanted.to_vec())
}

/// Measures `client`'s database. `sample` rows from each end of each table (by primary key)
/// are checksummed.
pub async fn take(client: &Client, schemas: &[String], sample: u64) -> Result<Inventory, PgError> {
    let mut inventory = Inventory::default();
    if schemas.is_empty() {
        return Ok(inventory);
    }
    let list = in_list(schemas);
    let tables = rows(
        client,
        &format!(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), \
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord) \
                  FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 WHERE i.indrelid = c.oid AND i.indisprimary) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname IN ({list}) ORDER BY 1"
        ),
        "listing tables",
    )
    .await?;
    for row in tables {
        let Some(table) = row.first().cloned().flatten() else {
            continue;
        };
        let key = row.get(1).cloned().flatten();
        let count: u64 = rows(
            client,
            &format!("SELECT count(*) FROM {table}"),
            "counting rows",
        )
        .await?
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
        let (checksum, sampled, sampled_by) = if sample == 0 {
            (None, 0, "not sampled")
        } else {
            let sql = match &key {
                Some(pk) => {
                    let desc = pk
                        .split(", ")
                        .map(|c| format!("{c} DESC"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let half = sample.div_ceil(2);
                    format!(
                        "SELECT coalesce(h.s, '') || coalesce(t.s, ''), h.n + t.n FROM \
                         (SELECT md5(string_agg(md5(x::text), '' ORDER BY {pk})) s, count(*) n FROM (SELECT * FROM {table} ORDER BY {pk} LIMIT {half}) x) h, \
                         (SELECT md5(string_agg(md5(x::text), '' ORDER BY {pk})) s, count(*) n FROM (SELECT * FROM {table} ORDER BY {desc} LIMIT {half}) x) t"
                    )
                }
                None => format!(
                    "SELECT coalesce(md5(string_agg(h, '' ORDER BY h)), ''), count(*) FROM \
                     (SELECT md5(x::text) h FROM {table} x ORDER BY 1 LIMIT {sample}) y"
                ),
            };
            let r = rows(client, &sql, "checksumming a sample of rows").await?;
            let first = r.into_iter().next().unwrap_or_default();
            (
                first.first().cloned().flatten(),
                // Head and tail overlap in a small table.
                first
                    .get(1)
                    .cloned()
                    .flatten()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    .min(count),
                if key.is_some() {
                    "primary key"
                } else {
                    "row hash"
                },
            )
        };
        inventory.tables.insert(
            table,
            TableFacts {
                rows: count,
                checksum,
                sampled,
                sampled_by,
            },
        );
    }

    let sequences = rows(
        client,
        &format!(
            "SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname), \
                    quote_ident(tn.nspname) || '.' || quote_ident(t.relname), quote_ident(a.attname) \
             FROM pg_depend d \
             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' \
             JOIN pg_namespace sn ON sn.oid = s.relnamespace \
             JOIN pg_class t ON t.oid = d.refobjid AND t.relkind = 'r' \
             JOIN pg_namespace tn ON tn.oid = t.relnamespace \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid \
             WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
               AND d.deptype IN ('a', 'i') AND tn.nspname IN ({list}) ORDER BY 1"
        ),
        "listing sequences",
    )
    .await?;
    for row in sequences {
        let (Some(seq), Some(table), Some(column)) = (
            row.first().cloned().flatten(),
            row.get(1).cloned().flatten(),
            row.get(2).cloned().flatten(),
        ) else {
            continue;
        };
        let state = rows(
            client,
            &format!(
                "SELECT s.last_value::text, s.is_called::text, (SELECT max({column})::text FROM {table}) FROM {seq} s"
            ),
            "reading a sequence",
        )
        .await?;
        let state = state.into_iter().next().unwrap_or_default();
        let int = |i: usize| {
            state
                .get(i)
                .cloned()
                .flatten()
                .and_then(|v| v.parse::<i128>().ok())
        };
        inventory.sequences.push(SequenceFacts {
            sequence: seq,
            column: format!("{table}.{column}"),
            last_value: int(0),
            is_called: state.get(1).cloned().flatten().as_deref() == Some("true"),
            max: int(2),
        });
    }

    let fks = rows(
        client,
        &format!(
            "SELECT c.conrelid::regclass::text, c.conname, c.convalidated::text FROM pg_constraint c \
             JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname IN ({list})"
        ),
        "listing foreign keys",
    )
    .await?;
    for row in fks {
        if let (Some(t), Some(n), Some(v)) = (
            row.first().cloned().flatten(),
            row.get(1).cloned().flatten(),
            row.get(2).cloned().flatten(),
        ) {
            inventory.foreign_keys.insert((t, n, v == "true"));
        }
    }
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_is_behind_when_nextval_would_collide() {
        let s = |last: Option<i128>, called: bool, max: Option<i128>| SequenceFacts {
            sequence: "s".into(),
            column: "t.id".into(),
            last_value: last,
            is_called: called,
            max,
        };
        assert!(!s(Some(10), true, Some(10)).is_behind());
        assert!(s(Some(9), true, Some(10)).is_behind());
        assert!(s(Some(10), false, Some(10)).is_behind());
        assert!(!s(Some(11), false, Some(10)).is_behind());
        assert!(!s(Some(1), false, None).is_behind());
    }
}
