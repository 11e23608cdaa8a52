//! The migration engine: status, up, down and repair, on the Supabase CLI's history.
//!
//! The order of a run is sqlx's: read the files, take the lock, read the history again under
//! it, check for drift, then apply. Each file is one simple-protocol query (one round trip):
//! `RESET ALL; BEGIN; SET LOCAL …; <file>; <history rows>; COMMIT`, so the file and its
//! history row commit together or not at all, and no setting outlives its file.

use std::time::Duration;

use tokio_postgres::Client;

use crate::history::{self, Applied, simple, text_array};
use crate::lock::Lock;
use crate::source::{Migration, Source};
use crate::split::{Statement, line_of};
use crate::{PgError, Target, describe, literal};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// `SET LOCAL lock_timeout` for each file.
    pub lock_timeout: Duration,
    /// `SET LOCAL statement_timeout` for each file; `None`: no limit.
    pub statement_timeout: Option<Duration>,
    /// How long to wait for another run's lock.
    pub lock_wait: Duration,
    /// Extra attempts for a file that hit `lock_timeout`.
    pub lock_retries: u32,
    /// First wait before such a retry; doubles each time.
    pub retry_delay: Duration,
    /// Apply files older than the newest applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// Run pending files that drop, truncate or delete everything.
    pub allow_destructive: bool,
    /// Recorded with each applied file (`GITHUB_ACTOR`).
    pub actor: Option<String>,
    /// Recorded with each applied file.
    pub run_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(5),
            statement_timeout: None,
            lock_wait: Duration::from_secs(120),
            lock_retries: 3,
            retry_delay: Duration::from_secs(1),
            allow_out_of_order: false,
            allow_destructive: false,
            actor: None,
            run_url: None,
        }
    }
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Changed,
    /// Applied, but no file of that version exists here.
    MissingLocally,
    /// Pending, but older than the newest applied version.
    OutOfOrder,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Changed => "changed since applied",
            State::MissingLocally => "missing locally",
            State::OutOfOrder => "pending, out of order",
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone)]
pub struct Row {
    pub version: String,
    pub name: String,
    pub state: State,
    pub file: Option<String>,
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
}

/// Files against history.
pub fn compare(source: &Source, applied: &[Applied]) -> Vec<Row> {
    let newest_applied = applied.iter().map(|a| a.version.as_str()).max();
    let mut rows = Vec::new();
    for m in &source.migrations {
        let row = match applied.iter().find(|a| a.version == m.version) {
            Some(a) => Row {
                version: m.version.clone(),
                name: m.name.clone(),
                state: if unchanged(m, a) {
                    State::Applied
                } else {
                    State::Changed
                },
                file: Some(m.display_path()),
                applied_at: a.applied_at.clone(),
                applied_by: a.applied_by.clone(),
            },
            None => Row {
                version: m.version.clone(),
                name: m.name.clone(),
                state: if newest_applied.is_some_and(|newest| m.version.as_str() < newest) {
                    State::OutOfOrder
                } else {
                    State::Pending
                },
                file: Some(m.display_path()),
                applied_at: None,
                applied_by: None,
            },
        };
        rows.push(row);
    }
    for a in applied {
        if !source.migrations.iter().any(|m| m.version == a.version) {
            rows.push(Row {
                version: a.version.clone(),
                name: a.name.clone(),
                state: State::MissingLocally,
                file: None,
                applied_at: a.applied_at.clone(),
                applied_by: a.applied_by.clone(),
            });
        }
    }
    rows.sort_by(|a, b| a.version.cmp(&b.version));
    rows
}

/// Our checksum when we applied it; else the statements the CLI recorded (CR ignored).
fn unchanged(m: &Migration, a: &Applied) -> bool {
    match &a.checksum {
        Some(checksum) => *checksum == m.checksum,
        None => {
            let ours: Vec<String> = m
                .statements()
                .into_iter()
                .map(|s| s.text.replace('\r', ""))
                .collect();
            let theirs: Vec<String> = a.statements.iter().map(|s| s.replace('\r', "")).collect();
            ours == theirs
        }
    }
}

/// How a file must be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// In our transaction; the text to run (the file, or its body without a wrapping
    /// `BEGIN`/`COMMIT`).
    Transaction(String),
    /// Each statement alone, outside a transaction (`CREATE INDEX CONCURRENTLY`, or the
    /// `-- shipline:no-transaction` directive).
    NoTransaction(Vec<Statement>),
}

/// Statements PostgreSQL refuses inside a transaction block.
pub fn non_transactional(statement: &str) -> Option<&'static str> {
    let words = words(statement);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let has = |seq: &[&str]| w.windows(seq.len()).any(|x| x == seq);
    match w.as_slice() {
        ["CREATE", ..] if has(&["INDEX", "CONCURRENTLY"]) => Some("CREATE INDEX CONCURRENTLY"),
        ["DROP", "INDEX", "CONCURRENTLY", ..] => Some("DROP INDEX CONCURRENTLY"),
        ["REINDEX", ..] if w.contains(&"CONCURRENTLY") => Some("REINDEX CONCURRENTLY"),
        ["VACUUM", ..] => Some("VACUUM"),
        ["ALTER", "SYSTEM", ..] => Some("ALTER SYSTEM"),
        ["CREATE", "DATABASE", ..] => Some("CREATE DATABASE"),
        ["DROP", "DATABASE", ..] => Some("DROP DATABASE"),
        ["CLUSTER"] => Some("CLUSTER"),
        _ => None,
    }
}

fn is_transaction_control(statement: &str) -> Option<&'static str> {
    let words = words(statement);
    match words.first().map(String::as_str) {
        Some("BEGIN")
            if words
                .get(1)
                .is_none_or(|w| w == "TRANSACTION" || w == "WORK" || w == "ISOLATION") =>
        {
            Some("BEGIN")
        }
        Some("START") if words.get(1).map(String::as_str) == Some("TRANSACTION") => Some("BEGIN"),
        Some("COMMIT" | "END") => Some("COMMIT"),
        Some("ROLLBACK" | "ABORT") => Some("ROLLBACK"),
        _ => None,
    }
}

/// Upper-cased words of a statement, comments removed (for classifying, not for parsing).
fn words(statement: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = statement;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            text.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

/// Decides how to run `m`, or refuses with the fix.
pub fn mode(m: &Migration) -> Result<Mode, PgError> {
    let statements = m.statements();
    if m.sql
        .lines()
        .any(|l| l.trim() == "-- shipline:no-transaction")
    {
        return Ok(Mode::NoTransaction(statements));
    }
    let special: Vec<(usize, &str)> = statements
        .iter()
        .enumerate()
        .filter_map(|(i, s)| non_transactional(&s.text).map(|k| (i, k)))
        .collect();
    if let Some((i, kind)) = special.first() {
        if statements.len() == 1 {
            return Ok(Mode::NoTransaction(statements));
        }
        return Err(PgError::Refused(format!(
            "{}:{}: `{kind}` cannot run inside a transaction, and this file has {} other statement(s); move it to a migration file of its own (or mark the file `-- shipline:no-transaction` to run each statement alone, without atomicity)",
            m.display_path(),
            line_of(&m.sql, statements[*i].offset),
            statements.len() - 1
        )));
    }
    let control: Vec<(usize, &str)> = statements
        .iter()
        .enumerate()
        .filter_map(|(i, s)| is_transaction_control(&s.text).map(|k| (i, k)))
        .collect();
    match control.as_slice() {
        [] => Ok(Mode::Transaction(m.sql.clone())),
        // The whole file wrapped in `BEGIN; … COMMIT;`: the same as our own transaction.
        [(0, "BEGIN"), (last, "COMMIT")] if *last == statements.len() - 1 => {
            let first = &statements[0];
            let after_begin = m.sql[first.offset + first.text.len()..]
                .find(';')
                .map(|i| first.offset + first.text.len() + i + 1)
                .unwrap_or(m.sql.len());
            Ok(Mode::Transaction(
                m.sql[after_begin..statements[*last].offset].to_owned(),
            ))
        }
        [(i, kind), ..] => Err(PgError::Refused(format!(
            "{}:{}: `{kind}` inside a migration would end shipline's transaction early and commit the file half-done; remove it (each file already runs in its own transaction), or split the file",
            m.display_path(),
            line_of(&m.sql, statements[*i].offset)
        ))),
    }
}

/// What `up` or `down` did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Versions applied (or reverted), in order.
    pub done: Vec<String>,
    /// Versions still pending after the run.
    pub pending: Vec<String>,
    /// The newest applied version after the run.
    pub version: Option<String>,
    /// Files and their statement counts that a dry run would have run.
    pub planned: Vec<(String, usize)>,
}

/// A connected engine: a work connection, and the target for the lock's own connection.
pub struct Engine {
    target: Target,
    client: Client,
    options: Options,
}

impl Engine {
    pub async fn connect(target: Target, options: Options) -> Result<Engine, PgError> {
        let client = target.connect().await?;
        Ok(Engine {
            target,
            client,
            options,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Files against history; read-only (creates nothing).
    pub async fn status(&self, source: &Source) -> Result<Vec<Row>, PgError> {
        Ok(compare(source, &history::read(&self.client).await?))
    }

    async fn lock(&self) -> Result<Lock, PgError> {
        Lock::acquire(self.target.connect().await?, self.options.lock_wait).await
    }

    /// Applies pending files up to `to` (inclusive). Drift stops it before anything runs.
    pub async fn up(
        &self,
        source: &Source,
        to: Option<&str>,
        dry_run: bool,
    ) -> Result<Outcome, PgError> {
        let lock = self.lock().await?;
        let result = self.up_locked(source, to, dry_run).await;
        // A failed release must not hide the run's own error (the lock ends with its session).
        let released = lock.release().await;
        let outcome = result?;
        released?;
        Ok(outcome)
    }

    async fn up_locked(
        &self,
        source: &Source,
        to: Option<&str>,
        dry_run: bool,
    ) -> Result<Outcome, PgError> {
        let applied = history::read(&self.client).await?;
        let rows = compare(source, &applied);
        check_drift(&rows, self.options.allow_out_of_order)?;
        let pending: Vec<&Migration> = source
            .migrations
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .filter(|m| to.is_none_or(|to| m.version.as_str() <= to))
            .collect();
        // Every pending file is checked before anything runs (applied ones already ran).
        for m in &pending {
            mode(m)?;
        }
        if !self.options.allow_destructive {
            let found: Vec<String> = pending
                .iter()
                .flat_map(|m| crate::lint::destructive(m))
                .filter(|f| f.severity == crate::lint::Severity::Error)
                .map(|f| format!("{}:{}", f.file, f.line.unwrap_or(1)))
                .collect();
            if !found.is_empty() {
                return Err(PgError::Refused(format!(
                    "pending migrations drop, truncate or delete data ({}); nothing was run. If that is intended, set `allow-destructive: true` or add `{}` to the file",
                    found.join(", "),
                    crate::lint::ALLOW_DESTRUCTIVE
                )));
            }
        }
        let mut outcome = Outcome::default();
        if dry_run {
            outcome.planned = pending
                .iter()
                .map(|m| (m.file_name.clone(), m.statements().len()))
                .collect();
        } else {
            if !pending.is_empty() {
                history::ensure(&self.client).await?;
            }
            for m in &pending {
                self.apply(m, &outcome.done).await?;
                outcome.done.push(m.version.clone());
            }
        }
        self.finish(source, outcome).await
    }

    /// Fills in where the history stands after a run.
    async fn finish(&self, source: &Source, mut outcome: Outcome) -> Result<Outcome, PgError> {
        let after = history::read(&self.client).await?;
        outcome.version = after.iter().map(|a| a.version.clone()).max();
        outcome.pending = source
            .migrations
            .iter()
            .filter(|m| !after.iter().any(|a| a.version == m.version))
            .map(|m| m.version.clone())
            .collect();
        Ok(outcome)
    }

    fn settings(&self) -> String {
        let mut sql = format!(
            "SET LOCAL lock_timeout = '{}ms';\n",
            self.options.lock_timeout.as_millis()
        );
        match self.options.statement_timeout {
            Some(t) => sql.push_str(&format!(
                "SET LOCAL statement_timeout = '{}ms';\n",
                t.as_millis()
            )),
            None => sql.push_str("SET LOCAL statement_timeout = 0;\n"),
        }
        sql
    }

    fn history_rows(&self, m: &Migration) -> String {
        let statements: Vec<String> = m.statements().into_iter().map(|s| s.text).collect();
        let opt = |v: &Option<String>| v.as_deref().map(literal).unwrap_or_else(|| "NULL".into());
        format!(
            "SET LOCAL standard_conforming_strings = on;\n\
             INSERT INTO supabase_migrations.schema_migrations(version, name, statements) VALUES ({}, {}, {});\n\
             INSERT INTO supabase_migrations.shipline_history(version, checksum, down_checksum, applied_at, applied_by, run_url, duration_ms) \
             VALUES ({}, {}, {}, now(), {}, {}, extract(epoch from clock_timestamp() - now()) * 1000) \
             ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, down_checksum = EXCLUDED.down_checksum, applied_at = EXCLUDED.applied_at, applied_by = EXCLUDED.applied_by, run_url = EXCLUDED.run_url, duration_ms = EXCLUDED.duration_ms;\n",
            literal(&m.version),
            literal(&m.name),
            text_array(&statements),
            literal(&m.version),
            literal(&m.checksum),
            opt(&m.down.as_ref().map(|d| d.checksum.clone())),
            opt(&self.options.actor),
            opt(&self.options.run_url),
        )
    }

    /// One file, retried when it only waited too long for a lock.
    async fn apply(&self, m: &Migration, done: &[String]) -> Result<(), PgError> {
        let mut attempt = 0;
        loop {
            let result = match mode(m)? {
                Mode::Transaction(body) => self.apply_in_transaction(m, &body).await,
                Mode::NoTransaction(statements) => self.apply_alone(m, &statements).await,
            };
            match result {
                Err(error) if lock_timed_out(&error) && attempt < self.options.lock_retries => {
                    attempt += 1;
                    let wait = self.options.retry_delay * 2u32.pow(attempt - 1);
                    tracing::warn!(file = %m.file_name, attempt, "lock_timeout; retrying after {wait:?}");
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(self.failure(m, &error, done, attempt).await),
                Ok(()) => return Ok(()),
            }
        }
    }

    async fn apply_in_transaction(
        &self,
        m: &Migration,
        body: &str,
    ) -> Result<(), tokio_postgres::Error> {
        let prefix = format!("RESET ALL;\nBEGIN;\n{}", self.settings());
        let sql = format!("{prefix}{body}\n;\n{}COMMIT;", self.history_rows(m));
        let result = self.client.simple_query(&sql).await;
        if result.is_err() {
            let _ = self.client.simple_query("ROLLBACK").await;
        }
        result.map(|_| ())
    }

    async fn apply_alone(
        &self,
        m: &Migration,
        statements: &[Statement],
    ) -> Result<(), tokio_postgres::Error> {
        self.client
            .simple_query(&format!(
                "RESET ALL; SET lock_timeout = '{}ms'",
                self.options.lock_timeout.as_millis()
            ))
            .await?;
        for statement in statements {
            self.client.simple_query(&statement.text).await?;
        }
        let rows = format!("RESET ALL;\nBEGIN;\n{}COMMIT;", self.history_rows(m));
        self.client.simple_query(&rows).await.map(|_| ())
    }

    /// Turns a failed file into an error at its line, with PostgreSQL's words.
    async fn failure(
        &self,
        m: &Migration,
        error: &tokio_postgres::Error,
        done: &[String],
        retries: u32,
    ) -> PgError {
        let mut message = describe(error);
        if retries > 0 {
            message.push_str(&format!(" (after {retries} retries on `lock_timeout`)"));
        }
        let line = self.failing_line(m, error).await;
        PgError::Migration {
            file: m.display_path(),
            line,
            message,
            done: done.to_vec(),
        }
    }

    /// The line of the statement that failed: from PostgreSQL's position when it gives one
    /// (in characters of the query we sent), else by replaying the statements in a
    /// transaction that is rolled back.
    async fn failing_line(&self, m: &Migration, error: &tokio_postgres::Error) -> Option<u32> {
        if let Some(tokio_postgres::error::ErrorPosition::Original(position)) =
            error.as_db_error().and_then(|d| d.position())
        {
            let prefix_chars = format!("RESET ALL;\nBEGIN;\n{}", self.settings())
                .chars()
                .count();
            let at = (*position as usize).checked_sub(prefix_chars + 1)?;
            let offset = m.sql.char_indices().nth(at).map(|(i, _)| i)?;
            return Some(line_of(&m.sql, offset));
        }
        // With the file's own timeouts, so a statement that waited for a lock fails the same
        // way here instead of waiting forever.
        let _ = self
            .client
            .simple_query(&format!("RESET ALL; BEGIN; {}", self.settings()))
            .await;
        let mut line = None;
        for statement in m.statements() {
            if self.client.simple_query(&statement.text).await.is_err() {
                line = Some(line_of(&m.sql, statement.offset));
                break;
            }
        }
        let _ = self.client.simple_query("ROLLBACK").await;
        line
    }

    /// Reverts every applied version newer than `to`, newest first, with its down script.
    pub async fn down(&self, source: &Source, to: &str, dry_run: bool) -> Result<Outcome, PgError> {
        let lock = self.lock().await?;
        let result = self.down_locked(source, to, dry_run).await;
        // A failed release must not hide the run's own error (the lock ends with its session).
        let released = lock.release().await;
        let outcome = result?;
        released?;
        Ok(outcome)
    }

    async fn down_locked(
        &self,
        source: &Source,
        to: &str,
        dry_run: bool,
    ) -> Result<Outcome, PgError> {
        let applied = history::read(&self.client).await?;
        let mut targets: Vec<&Applied> =
            applied.iter().filter(|a| a.version.as_str() > to).collect();
        targets.sort_by(|a, b| b.version.cmp(&a.version));
        // Everything needed is checked before anything is reverted.
        let mut plan = Vec::new();
        let mut missing = Vec::new();
        for a in &targets {
            match source.migrations.iter().find(|m| m.version == a.version) {
                Some(m) if m.down.is_some() => plan.push(m),
                Some(m) => missing.push(format!("`down/{}`", m.file_name)),
                None => missing.push(format!(
                    "the file of version `{}` (applied, but not in the folder)",
                    a.version
                )),
            }
        }
        if !missing.is_empty() {
            return Err(PgError::Refused(format!(
                "cannot go down to `{to}`: {} missing; nothing was reverted. Write the down script(s), or stop at a later version",
                missing.join(", ")
            )));
        }
        let mut outcome = Outcome::default();
        if dry_run {
            outcome.planned = plan
                .iter()
                .map(|m| {
                    (
                        format!("down/{}", m.file_name),
                        m.down
                            .as_ref()
                            .map(|d| crate::split::split(&d.sql).len())
                            .unwrap_or(0),
                    )
                })
                .collect();
        } else {
            for m in plan {
                let Some(down) = &m.down else { continue };
                let sql = format!(
                    "RESET ALL;\nBEGIN;\n{}{}\n;\nDELETE FROM supabase_migrations.schema_migrations WHERE version = {v};\nDELETE FROM supabase_migrations.shipline_history WHERE version = {v};\nCOMMIT;",
                    self.settings(),
                    down.sql,
                    v = literal(&m.version)
                );
                if let Err(error) = self.client.simple_query(&sql).await {
                    let _ = self.client.simple_query("ROLLBACK").await;
                    return Err(PgError::Migration {
                        file: down.path.display().to_string(),
                        line: None,
                        message: describe(&error),
                        done: outcome.done,
                    });
                }
                outcome.done.push(m.version.clone());
            }
        }
        self.finish(source, outcome).await
    }

    /// Marks versions applied (history rows from the local files) or reverted (rows
    /// removed), running no migration SQL, as `supabase migration repair` does.
    pub async fn repair(
        &self,
        source: &Source,
        versions: &[String],
        applied: bool,
    ) -> Result<Vec<String>, PgError> {
        let mut files = Vec::new();
        if applied {
            for v in versions {
                match source.migrations.iter().find(|m| &m.version == v) {
                    Some(m) => files.push(m),
                    None => {
                        return Err(PgError::Refused(format!(
                            "no file of version `{v}` in the folder; `repair --status applied` records a local file's statements"
                        )));
                    }
                }
            }
        }
        let lock = self.lock().await?;
        history::ensure(&self.client).await?;
        let mut sql = String::from("RESET ALL;\nBEGIN;\n");
        if applied {
            for m in &files {
                sql.push_str(&format!(
                    "DELETE FROM supabase_migrations.schema_migrations WHERE version = {};\n",
                    literal(&m.version)
                ));
                sql.push_str(&self.history_rows(m));
            }
        } else {
            let list: Vec<String> = versions.iter().map(|v| literal(v)).collect();
            let list = list.join(", ");
            sql.push_str(&format!(
                "DELETE FROM supabase_migrations.schema_migrations WHERE version IN ({list});\nDELETE FROM supabase_migrations.shipline_history WHERE version IN ({list});\n"
            ));
        }
        sql.push_str("COMMIT;");
        let result = simple(&self.client, &sql, "repairing the history").await;
        if result.is_err() {
            let _ = self.client.simple_query("ROLLBACK").await;
        }
        lock.release().await?;
        result.map(|_| versions.to_vec())
    }
}

fn lock_timed_out(error: &tokio_postgres::Error) -> bool {
    error
        .as_db_error()
        .is_some_and(|d| d.code().code() == "55P03")
}

/// Stops `up` when the history and the files disagree, naming the file and the fix.
pub fn check_drift(rows: &[Row], allow_out_of_order: bool) -> Result<(), PgError> {
    let mut problems = Vec::new();
    for row in rows {
        match row.state {
            State::Changed => problems.push(format!(
                "`{}` was edited after it was applied (its checksum differs); restore the applied version of the file and put the change in a new migration, or, if the database already matches the edit, record it with `repair --status applied {}`",
                row.file.as_deref().unwrap_or(&row.version),
                row.version
            )),
            State::MissingLocally => problems.push(format!(
                "version `{}` ({}) is applied but has no file here; restore the file, or remove it from the history with `repair --status reverted {}`",
                row.version, row.name, row.version
            )),
            State::OutOfOrder if !allow_out_of_order => problems.push(format!(
                "`{}` is older than the newest applied version; rename it to a newer version, or apply it anyway with `allow-out-of-order: true`",
                row.file.as_deref().unwrap_or(&row.version)
            )),
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PgError::Drift(format!(
            "the history and the files disagree; nothing was run:\n- {}",
            problems.join("\n- ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(sql: &str) -> Migration {
        Migration {
            version: "1".into(),
            name: "x".into(),
            file_name: "1_x.sql".into(),
            path: "supabase/migrations/1_x.sql".into(),
            sql: sql.into(),
            checksum: crate::source::checksum(sql),
            down: None,
        }
    }

    #[test]
    fn classifies_statements_that_need_to_run_alone() {
        assert_eq!(
            non_transactional("create unique index concurrently i on t (a)"),
            Some("CREATE INDEX CONCURRENTLY")
        );
        assert_eq!(
            non_transactional("-- note\nDROP INDEX CONCURRENTLY i"),
            Some("DROP INDEX CONCURRENTLY")
        );
        assert_eq!(non_transactional("vacuum analyze t"), Some("VACUUM"));
        assert_eq!(non_transactional("create index i on t (a)"), None);
        assert_eq!(
            non_transactional("comment on index i is 'built concurrently'"),
            None
        );
    }

    #[test]
    fn modes() {
        assert_eq!(
            mode(&migration("create table a (id int);")).unwrap(),
            Mode::Transaction("create table a (id int);".into())
        );
        assert!(
            matches!(mode(&migration("create index concurrently i on t (a);")).unwrap(), Mode::NoTransaction(s) if s.len() == 1)
        );
        let err = mode(&migration(
            "create table a (id int);\ncreate index concurrently i on a (id);",
        ))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("1_x.sql:2: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction"),
            "{err}"
        );
        let wrapped = mode(&migration("BEGIN;\ncreate table a (id int);\nCOMMIT;\n")).unwrap();
        assert_eq!(
            wrapped,
            Mode::Transaction("\ncreate table a (id int);\n".into())
        );
        let err = mode(&migration(
            "create table a (id int);\nCOMMIT;\ncreate table b (id int);",
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains(":2: `COMMIT` inside a migration"),
            "{err}"
        );
        assert!(
            matches!(mode(&migration("-- shipline:no-transaction\nvacuum a;\nvacuum b;")).unwrap(), Mode::NoTransaction(s) if s.len() == 2)
        );
    }
}
