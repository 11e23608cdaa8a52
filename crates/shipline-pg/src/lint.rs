//! Lint: migrations that would lock, break the running app, lose data or fail, found with a
//! real SQL parser (`sqlparser`, PostgreSQL dialect), never with patterns on text.
//!
//! Each finding names the file, the statement's line, the rule and the fix. A statement the
//! parser cannot read is reported as `not-linted` rather than guessed at.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, ObjectName, ObjectType,
    Statement as Ast,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::PgError;
use crate::engine;
use crate::source::Migration;
use crate::split::line_of;

/// How much a finding matters: errors fail `lint` (and `destructive` ones stop `up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Notice,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: Option<u32>,
    pub rule: &'static str,
    pub message: String,
    pub severity: Severity,
}

impl Finding {
    /// `file:line: rule: message`, as the `findings` output lists them.
    pub fn line_text(&self) -> String {
        format!(
            "{}:{}: {}: {}",
            self.file,
            self.line.unwrap_or(1),
            self.rule,
            self.message
        )
    }
}

/// What lint should assume.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// Schemas the Data API exposes: tables there need row level security.
    pub exposed_schemas: Vec<String>,
}

impl Default for LintOptions {
    fn default() -> Self {
        Self {
            exposed_schemas: vec!["public".into()],
        }
    }
}

/// The directive that lets a file drop, truncate or delete.
pub const ALLOW_DESTRUCTIVE: &str = "-- shipline:allow-destructive";

const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v4",
    "uuid_generate_v1",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
];

fn schema_and_table(name: &ObjectName) -> (String, String) {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase())
        .collect();
    match parts.as_slice() {
        [table] => ("public".into(), table.clone()),
        [.., schema, table] => (schema.clone(), table.clone()),
        [] => ("public".into(), String::new()),
    }
}

/// Where a statement's SQL starts, past leading comments and blank lines.
fn code_line(sql: &str, offset: usize, text: &str) -> u32 {
    let mut skip = 0;
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        skip += rest.len() - trimmed.len();
        rest = trimmed;
        if let Some(after) = rest.strip_prefix("--") {
            let n = after.find('\n').map(|i| i + 1).unwrap_or(after.len());
            skip += 2 + n;
            rest = &after[n..];
        } else if let Some(after) = rest.strip_prefix("/*") {
            let n = after.find("*/").map(|i| i + 2).unwrap_or(after.len());
            skip += 2 + n;
            rest = &after[n..];
        } else {
            break;
        }
    }
    line_of(sql, offset + skip)
}

fn is_volatile(expr: &Expr) -> bool {
    let text = expr.to_string().to_ascii_lowercase();
    VOLATILE.iter().any(|f| text.contains(&format!("{f}(")))
}

/// Whether a file drops, truncates or deletes everything, with the line of each.
pub fn destructive(m: &Migration) -> Vec<Finding> {
    lint(&[m], &LintOptions::default())
        .into_iter()
        .filter(|f| f.rule == "destructive")
        .collect()
}

/// Lints `migrations` (in order: a later file may enable RLS on an earlier file's table).
pub fn lint(migrations: &[&Migration], options: &LintOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut created: Vec<(String, String, String, Option<u32>)> = Vec::new(); // schema, table, file, line
    let mut rls: Vec<(String, String)> = Vec::new();
    for m in migrations {
        let file = m.display_path();
        let mut add = |line, rule, severity, message: String| {
            findings.push(Finding {
                file: file.clone(),
                line,
                rule,
                message,
                severity,
            })
        };
        if let Err(PgError::Refused(message)) = engine::mode(m) {
            let rest = message
                .strip_prefix(&format!("{file}:"))
                .unwrap_or(&message);
            let (line, text) = rest
                .split_once(": ")
                .map(|(l, t)| (l.parse().ok(), t.to_owned()))
                .unwrap_or((None, message.clone()));
            let rule = if text.contains("cannot run inside a transaction") {
                "non-transactional-mixed"
            } else {
                "transaction-control"
            };
            add(line, rule, Severity::Error, text);
        }
        if m.down.is_none() {
            add(
                None,
                "missing-down",
                Severity::Warning,
                format!(
                    "no down script, so `down` cannot revert this file; write `down/{}`",
                    m.file_name
                ),
            );
        }
        let allow_destructive = m.sql.lines().any(|l| l.trim() == ALLOW_DESTRUCTIVE);
        let mut created_here: Vec<(String, String)> = Vec::new();
        for statement in m.statements() {
            let line = Some(code_line(&m.sql, statement.offset, &statement.text));
            let parsed = match Parser::parse_sql(&PostgreSqlDialect {}, &statement.text) {
                Ok(parsed) => parsed,
                Err(_) => {
                    let first = statement
                        .text
                        .lines()
                        .find(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
                        .unwrap_or("")
                        .trim();
                    if !first.is_empty() {
                        add(
                            line,
                            "not-linted",
                            Severity::Notice,
                            format!(
                                "the SQL parser cannot read this statement (`{}`), so it was not linted",
                                first.chars().take(60).collect::<String>()
                            ),
                        );
                    }
                    continue;
                }
            };
            for ast in parsed {
                let destructive = |what: String| -> (Severity, String) {
                    if allow_destructive {
                        (
                            Severity::Notice,
                            format!("{what} (allowed by `{ALLOW_DESTRUCTIVE}`)"),
                        )
                    } else {
                        (
                            Severity::Error,
                            format!(
                                "{what}: data is lost; `up` refuses it unless `allow-destructive: true` or the file says `{ALLOW_DESTRUCTIVE}`"
                            ),
                        )
                    }
                };
                match &ast {
                    Ast::CreateTable(table) => {
                        let (schema, name) = schema_and_table(&table.name);
                        created_here.push((schema.clone(), name.clone()));
                        if options.exposed_schemas.contains(&schema) {
                            created.push((schema, name, file.clone(), line));
                        }
                    }
                    Ast::CreateIndex(index) => {
                        let target = schema_and_table(&index.table_name);
                        if !index.concurrently && !created_here.contains(&target) {
                            add(
                                line,
                                "index-not-concurrent",
                                Severity::Warning,
                                format!(
                                    "`CREATE INDEX` on `{}.{}` blocks writes to the table while it builds; use `CREATE INDEX CONCURRENTLY` in a migration file of its own",
                                    target.0, target.1
                                ),
                            );
                        }
                    }
                    Ast::AlterTable(alter) => {
                        let (schema, name) = schema_and_table(&alter.name);
                        for op in &alter.operations {
                            match op {
                                AlterTableOperation::EnableRowLevelSecurity => {
                                    rls.push((schema.clone(), name.clone()))
                                }
                                AlterTableOperation::AddColumn { column_def, .. } => {
                                    let not_null = column_def
                                        .options
                                        .iter()
                                        .any(|o| matches!(o.option, ColumnOption::NotNull));
                                    let default =
                                        column_def.options.iter().find_map(|o| match &o.option {
                                            ColumnOption::Default(e) => Some(e),
                                            _ => None,
                                        });
                                    if not_null
                                        && default.is_none()
                                        && !created_here.contains(&(schema.clone(), name.clone()))
                                    {
                                        add(
                                            line,
                                            "not-null-without-default",
                                            Severity::Error,
                                            format!(
                                                "adding `{}` as `NOT NULL` without a default fails on a table that has rows; add a default, or add it nullable, backfill, then set `NOT NULL`",
                                                column_def.name
                                            ),
                                        );
                                    }
                                    if let Some(default) = default.filter(|d| is_volatile(d)) {
                                        add(
                                            line,
                                            "volatile-default",
                                            Severity::Warning,
                                            format!(
                                                "the default `{default}` of `{}` is volatile, so every row is rewritten under an exclusive lock; add the column without it, then backfill in batches",
                                                column_def.name
                                            ),
                                        );
                                    }
                                }
                                AlterTableOperation::AlterColumn {
                                    column_name,
                                    op: AlterColumnOperation::SetDataType { .. },
                                } => {
                                    add(
                                        line,
                                        "column-type-change",
                                        Severity::Warning,
                                        format!(
                                            "changing the type of `{column_name}` rewrites `{schema}.{name}` under an exclusive lock and may break the running app; add a new column, backfill, then switch"
                                        ),
                                    );
                                }
                                AlterTableOperation::RenameColumn {
                                    old_column_name,
                                    new_column_name,
                                } => {
                                    add(
                                        line,
                                        "rename",
                                        Severity::Warning,
                                        format!(
                                            "renaming `{old_column_name}` to `{new_column_name}` breaks the app version still running during the deploy; add the new column, write both, then drop the old one in a later release"
                                        ),
                                    );
                                }
                                AlterTableOperation::RenameTable { .. } => {
                                    add(
                                        line,
                                        "rename",
                                        Severity::Warning,
                                        format!(
                                            "renaming `{schema}.{name}` breaks the app version still running during the deploy; create a view with the old name, or rename in a later release"
                                        ),
                                    );
                                }
                                AlterTableOperation::DropColumn { column_names, .. } => {
                                    let names: Vec<String> =
                                        column_names.iter().map(|c| format!("`{c}`")).collect();
                                    let (severity, message) = destructive(format!(
                                        "`DROP COLUMN` {} on `{schema}.{name}`",
                                        names.join(", ")
                                    ));
                                    add(line, "destructive", severity, message);
                                }
                                _ => {}
                            }
                        }
                    }
                    Ast::Drop {
                        object_type, names, ..
                    } if matches!(
                        object_type,
                        ObjectType::Table
                            | ObjectType::Schema
                            | ObjectType::View
                            | ObjectType::MaterializedView
                    ) =>
                    {
                        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        let (severity, message) =
                            destructive(format!("`DROP {object_type}` {}", list.join(", ")));
                        add(line, "destructive", severity, message);
                    }
                    Ast::Truncate(_) => {
                        let (severity, message) = destructive("`TRUNCATE`".into());
                        add(line, "destructive", severity, message);
                    }
                    Ast::Delete(delete) if delete.selection.is_none() => {
                        let (severity, message) = destructive("`DELETE` without `WHERE`".into());
                        add(line, "destructive", severity, message);
                    }
                    _ => {}
                }
            }
        }
    }
    for (schema, name, file, line) in created {
        if !rls.contains(&(schema.clone(), name.clone())) {
            findings.push(Finding {
                file,
                line,
                rule: "rls-missing",
                message: format!("`{schema}.{name}` is in an exposed schema but row level security is not enabled, so the anon key can read and write all of it; add `alter table {schema}.{name} enable row level security;` and policies"),
                severity: Severity::Warning,
            });
        }
    }
    findings.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, sql: &str, down: bool) -> Migration {
        Migration {
            version: name.split('_').next().unwrap_or("1").into(),
            name: "x".into(),
            file_name: format!("{name}.sql"),
            path: format!("m/{name}.sql").into(),
            sql: sql.into(),
            checksum: crate::source::checksum(sql),
            down: down.then(|| crate::source::Down {
                path: "d".into(),
                sql: String::new(),
                checksum: String::new(),
            }),
        }
    }

    fn rules(findings: &[Finding]) -> Vec<(&'static str, Option<u32>)> {
        findings.iter().map(|f| (f.rule, f.line)).collect()
    }

    #[test]
    fn each_rule_with_its_line() {
        let a = m(
            "1_a",
            "create table public.todos (id int primary key, title text);\ncreate index todos_title on public.todos (title);\n",
            true,
        );
        let b = m(
            "2_b",
            "-- a comment first\ncreate index profiles_name on public.profiles (name);\nalter table public.todos add column owner uuid not null;\nalter table public.todos add column token uuid default gen_random_uuid();\nalter table public.todos alter column title type varchar(100);\nalter table public.todos rename column title to name;\nalter table todos rename to tasks;\ndrop table public.old;\ntruncate public.logs;\ndelete from public.logs;\ndelete from public.logs where id < 10;\nalter table public.todos drop column name;\n",
            true,
        );
        let found = lint(&[&a, &b], &LintOptions::default());
        assert_eq!(
            rules(&found),
            [
                ("rls-missing", Some(1)),
                ("index-not-concurrent", Some(2)),
                ("not-null-without-default", Some(3)),
                ("volatile-default", Some(4)),
                ("column-type-change", Some(5)),
                ("rename", Some(6)),
                ("rename", Some(7)),
                ("destructive", Some(8)),
                ("destructive", Some(9)),
                ("destructive", Some(10)),
                ("destructive", Some(12)),
            ]
        );
        assert!(found.iter().all(|f| !f.message.is_empty()));
    }

    #[test]
    fn rls_may_be_enabled_in_a_later_file_and_private_schemas_are_fine() {
        let a = m(
            "1_a",
            "create table public.t (id int);\ncreate table private.s (id int);",
            true,
        );
        let b = m(
            "2_b",
            "alter table public.t enable row level security;",
            true,
        );
        assert!(lint(&[&a, &b], &LintOptions::default()).is_empty());
        assert_eq!(
            rules(&lint(&[&a], &LintOptions::default())),
            [("rls-missing", Some(1))]
        );
    }

    #[test]
    fn the_directive_allows_destruction_and_unparsable_sql_is_not_guessed() {
        let a = m(
            "1_a",
            "-- shipline:allow-destructive\ndrop table public.old;\n",
            true,
        );
        let found = lint(&[&a], &LintOptions::default());
        assert_eq!(found[0].severity, Severity::Notice);
        assert!(
            destructive(&a)
                .iter()
                .all(|f| f.severity == Severity::Notice)
        );
        let weird = m("1_w", "create frobnicator x;", false);
        let found = lint(&[&weird], &LintOptions::default());
        assert_eq!(
            rules(&found),
            [("missing-down", None), ("not-linted", Some(1))]
        );
    }

    #[test]
    fn supabase_sql_parses() {
        let sql = "create policy \"own\" on public.todos for all using (auth.uid() = owner);\ngrant select on public.todos to anon, authenticated;\ncreate type public.plan as enum ('free', 'pro');\n";
        let found = lint(&[&m("1_s", sql, true)], &LintOptions::default());
        assert!(found.iter().all(|f| f.rule != "not-linted"), "{found:?}");
    }
}
