//! `verify`: apply every file, revert as far as down scripts reach, apply again, and compare
//! the schema after the two applies. A down script that does not really invert its file
//! (renames instead of dropping, forgets a type or a policy) shows up as a difference.
//! Meant for a scratch database: it changes the one it is given.

use tokio_postgres::Client;

use crate::PgError;
use crate::engine::Engine;
use crate::history::simple;
use crate::source::Source;

const EXCLUDED: &str = "('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations')";

/// One line per object, sorted: what `verify` compares.
pub async fn fingerprint(client: &Client) -> Result<Vec<String>, PgError> {
    let x = EXCLUDED;
    let sql = format!(
        "SELECT line FROM (
  SELECT 'schema ' || nspname || ' acl=' || coalesce(nspacl::text, '') AS line FROM pg_namespace WHERE nspname NOT IN {x} AND nspname NOT LIKE 'pg\\_%'
  UNION ALL SELECT 'relation ' || n.nspname || '.' || c.relname || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity::text || ' acl=' || coalesce(c.relacl::text, '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN {x} AND n.nspname NOT LIKE 'pg\\_%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable || ' default=' || coalesce(column_default, '')
    FROM information_schema.columns WHERE table_schema NOT IN {x} AND table_schema NOT LIKE 'pg\\_%'
  UNION ALL SELECT 'constraint ' || n.nspname || '.' || cl.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
    FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname NOT IN {x}
  UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname NOT IN {x} AND schemaname NOT LIKE 'pg\\_%'
  UNION ALL SELECT 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd || ' to=' || array_to_string(roles, ',') || ' using=' || coalesce(qual, '') || ' check=' || coalesce(with_check, '')
    FROM pg_policies WHERE schemaname NOT IN {x}
  UNION ALL SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(pg_get_functiondef(p.oid)) || ' acl=' || coalesce(p.proacl::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN {x} AND n.nspname NOT LIKE 'pg\\_%' AND p.prokind IN ('f', 'p')
  UNION ALL SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN {x} AND n.nspname NOT LIKE 'pg\\_%' AND t.typtype IN ('e', 'd')
  UNION ALL SELECT 'trigger ' || n.nspname || '.' || c.relname || ' ' || pg_get_triggerdef(tg.oid)
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT tg.tgisinternal AND n.nspname NOT IN {x}
) objects ORDER BY line"
    );
    let rows = simple(client, &sql, "reading the schema for `verify`").await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get(0).map(str::to_owned))
        .collect())
}

/// What `verify` found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// Versions reverted and applied again.
    pub round_tripped: Vec<String>,
    /// The newest version without a down script, where reverting stopped.
    pub stopped_at: Option<String>,
    /// Objects only after the first apply (`-`) or only after the second (`+`).
    pub differences: Vec<String>,
}

pub async fn verify(engine: &Engine, source: &Source) -> Result<Verified, PgError> {
    engine.up(source, None, false).await?;
    let first = fingerprint(engine.client()).await?;
    // Revert down to just above the newest file that has no down script.
    let stopped_at = source
        .migrations
        .iter()
        .rev()
        .find(|m| m.down.is_none())
        .map(|m| m.version.clone());
    let reverted = engine
        .down(source, stopped_at.as_deref().unwrap_or("0"), false)
        .await?;
    engine.up(source, None, false).await.map_err(|e| match e {
        PgError::Migration { file, line, message, done } => PgError::Migration {
            file,
            line,
            message: format!("re-applying after the down scripts failed, so a down script left something behind: {message}"),
            done,
        },
        other => other,
    })?;
    let second = fingerprint(engine.client()).await?;
    let mut differences: Vec<String> = first
        .iter()
        .filter(|l| !second.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    differences.extend(
        second
            .iter()
            .filter(|l| !first.contains(l))
            .map(|l| format!("+ {l}")),
    );
    Ok(Verified {
        round_tripped: reverted.done,
        stopped_at,
        differences,
    })
}
