//! The history tables: the Supabase CLI's, written exactly as the CLI writes it, and ours.

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::{PgError, describe};

/// The CLI's own DDL (`pkg/migration/history.go`), verbatim, so the table is the CLI's.
pub const CLI_HISTORY_DDL: &str = "CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;";

/// Our sidecar: what the CLI's table cannot say (checksums, who, when, how long).
pub const SIDECAR_DDL: &str = "CREATE TABLE IF NOT EXISTS supabase_migrations.shipline_history (
  version text NOT NULL PRIMARY KEY,
  checksum text NOT NULL,
  down_checksum text,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text,
  run_url text,
  duration_ms double precision
);";

/// One applied version, as the history tables hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub version: String,
    pub name: String,
    /// As recorded by whoever applied it (the CLI or us).
    pub statements: Vec<String>,
    /// Our checksum, when shipline applied (or repaired) it.
    pub checksum: Option<String>,
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
}

pub(crate) async fn simple(
    client: &Client,
    sql: &str,
    context: &str,
) -> Result<Vec<tokio_postgres::SimpleQueryRow>, PgError> {
    let messages = client.simple_query(sql).await.map_err(|e| PgError::Query {
        context: context.to_owned(),
        message: describe(&e),
    })?;
    Ok(messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .collect())
}

/// Creates both tables (the CLI's first, with its 4 s lock timeout).
pub async fn ensure(client: &Client) -> Result<(), PgError> {
    let sql = format!(
        "RESET ALL;\nBEGIN;\nSET LOCAL lock_timeout = '4s';\n{CLI_HISTORY_DDL}\n{SIDECAR_DDL}\nCOMMIT;"
    );
    simple(client, &sql, "creating the history tables")
        .await
        .map(|_| ())
}

/// Everything applied, oldest first. Read-only: with no history table, nothing is applied.
pub async fn read(client: &Client) -> Result<Vec<Applied>, PgError> {
    let exists = simple(
        client,
        "SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL, to_regclass('supabase_migrations.shipline_history') IS NOT NULL",
        "reading the migration history",
    )
    .await?;
    let flags = exists
        .first()
        .map(|r| (r.get(0) == Some("t"), r.get(1) == Some("t")))
        .unwrap_or((false, false));
    if !flags.0 {
        return Ok(Vec::new());
    }
    // Only `version`, `name` and `statements` are read: hosted Supabase adds more columns.
    let sql = if flags.1 {
        "SELECT m.version, coalesce(m.name, ''), coalesce(array_to_json(m.statements)::text, '[]'), h.checksum, h.applied_at::text, h.applied_by \
         FROM supabase_migrations.schema_migrations m LEFT JOIN supabase_migrations.shipline_history h ON h.version = m.version ORDER BY m.version"
    } else {
        "SELECT version, coalesce(name, ''), coalesce(array_to_json(statements)::text, '[]'), NULL, NULL, NULL \
         FROM supabase_migrations.schema_migrations ORDER BY version"
    };
    let rows = simple(client, sql, "reading the migration history").await?;
    Ok(rows
        .iter()
        .map(|r| Applied {
            version: r.get(0).unwrap_or_default().to_owned(),
            name: r.get(1).unwrap_or_default().to_owned(),
            statements: serde_json::from_str(r.get(2).unwrap_or("[]")).unwrap_or_default(),
            checksum: r.get(3).map(str::to_owned),
            applied_at: r.get(4).map(str::to_owned),
            applied_by: r.get(5).map(str::to_owned),
        })
        .collect())
}

/// `ARRAY['…', …]::text[]`.
pub fn text_array(items: &[String]) -> String {
    if items.is_empty() {
        return "ARRAY[]::text[]".into();
    }
    let parts: Vec<String> = items.iter().map(|s| crate::literal(s)).collect();
    format!("ARRAY[{}]::text[]", parts.join(", "))
}
