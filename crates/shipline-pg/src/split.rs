//! Splitting a migration file into statements exactly as the Supabase CLI does.
//!
//! The CLI stores each file's statements in `schema_migrations.statements`, split by the
//! state machine in `supabase/cli` `pkg/parser/state.go` and trimmed by `SplitAndTrim`
//! (trailing `;` dropped, white space trimmed, empty pieces dropped). This is a port of that
//! machine, quirks included (an identifier containing `$` opens a dollar quote; `E'\''` is
//! read as an escaped quote), so rows we write are byte-identical to the CLI's. It is used for
//! the history rows, for mapping an error position to a line, and to find the statements
//! lint looks at; the file itself is always executed as written.

/// One statement: its trimmed text and where that text starts in the file (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    pub offset: usize,
}

#[derive(Debug, Clone)]
enum State {
    Ready,
    /// Saw `-`.
    Comment,
    /// Saw `/`; `depth` counts open `/*`.
    Block {
        depth: u32,
    },
    /// Inside `'…'` or `"…"`; `escape` after a delimiter (it may be a doubled one).
    Quote {
        delimiter: char,
        escape: bool,
    },
    /// Inside a dollar quote (or a `--` comment, whose delimiter is a newline).
    Dollar {
        delimiter: Vec<u8>,
    },
    /// Saw `$` at `offset`: maybe the start of `$tag$`.
    Tag {
        offset: usize,
    },
    /// Saw `\`: the next character is skipped.
    Escape,
    /// Inside `( … )` or `BEGIN ATOMIC … END`, where `;` does not end a statement.
    Atomic {
        prev: Box<State>,
        delimiter: &'static [u8],
    },
}

/// `Some(next)`, or `None` to end the statement here (after this character).
fn next(state: State, c: char, data: &[u8]) -> Option<State> {
    match state {
        State::Ready => ready(c, data),
        State::Comment => {
            if c == '-' {
                Some(State::Dollar {
                    delimiter: b"\n".to_vec(),
                })
            } else {
                ready(c, data)
            }
        }
        State::Block { mut depth } => {
            let window = &data[data.len().saturating_sub(2)..];
            if window == b"/*" {
                depth += 1;
                return Some(State::Block { depth });
            }
            if depth == 0 {
                return ready(c, data);
            }
            if window == b"*/" {
                depth -= 1;
                if depth == 0 {
                    return Some(State::Ready);
                }
            }
            Some(State::Block { depth })
        }
        State::Quote { delimiter, escape } => {
            if escape {
                if c == delimiter {
                    return Some(State::Quote {
                        delimiter,
                        escape: false,
                    });
                }
                return ready(c, data);
            }
            Some(State::Quote {
                delimiter,
                escape: c == delimiter,
            })
        }
        State::Dollar { delimiter } => {
            if data.ends_with(&delimiter) {
                Some(State::Ready)
            } else {
                Some(State::Dollar { delimiter })
            }
        }
        State::Tag { offset } => {
            if c == '$' {
                return Some(State::Dollar {
                    delimiter: data[offset..].to_vec(),
                });
            }
            if c.is_alphabetic() || c.is_numeric() || c == '_' {
                return Some(State::Tag { offset });
            }
            ready(c, data)
        }
        State::Escape => Some(State::Ready),
        State::Atomic { prev, delimiter } => {
            let prev = match next(*prev.clone(), c, data) {
                Some(current) => current,
                None => *prev,
            };
            if matches!(prev, State::Ready)
                && data.len() >= delimiter.len()
                && data[data.len() - delimiter.len()..].eq_ignore_ascii_case(delimiter)
            {
                return Some(State::Ready);
            }
            Some(State::Atomic {
                prev: Box::new(prev),
                delimiter,
            })
        }
    }
}

fn ready(c: char, data: &[u8]) -> Option<State> {
    Some(match c {
        '$' => State::Tag {
            offset: data.len() - 1,
        },
        '\'' | '"' => State::Quote {
            delimiter: c,
            escape: false,
        },
        '-' => State::Comment,
        '/' => State::Block { depth: 0 },
        '\\' => State::Escape,
        ';' => return None,
        '(' => State::Atomic {
            prev: Box::new(State::Ready),
            delimiter: b")",
        },
        'c' | 'C' => {
            const ATOMIC: &[u8] = b"ATOMIC";
            let start = data.len().saturating_sub(ATOMIC.len());
            if start > 0
                && data[start..].eq_ignore_ascii_case(ATOMIC)
                && (data[start - 1] as char).is_whitespace()
            {
                State::Atomic {
                    prev: Box::new(State::Ready),
                    delimiter: b"END",
                }
            } else {
                State::Ready
            }
        }
        _ => State::Ready,
    })
}

/// The file's statements, as the Supabase CLI records them.
pub fn split(sql: &str) -> Vec<Statement> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut state = State::Ready;
    for (i, c) in sql.char_indices() {
        let end = i + c.len_utf8();
        match next(state, c, &bytes[start..end]) {
            Some(s) => state = s,
            None => {
                push(&mut statements, sql, start, end);
                start = end;
                state = State::Ready;
            }
        }
    }
    if start < sql.len() {
        push(&mut statements, sql, start, sql.len());
    }
    statements
}

/// `SplitAndTrim`: trailing `;` removed, then white space, and empty pieces dropped.
fn push(statements: &mut Vec<Statement>, sql: &str, start: usize, end: usize) {
    let token = &sql[start..end];
    let without_semicolons = token.trim_end_matches(';');
    let trimmed = without_semicolons.trim_matches(is_go_space);
    if trimmed.is_empty() {
        return;
    }
    let leading =
        without_semicolons.len() - without_semicolons.trim_start_matches(is_go_space).len();
    statements.push(Statement {
        text: trimmed.to_owned(),
        offset: start + leading,
    });
}

/// Go's `unicode.IsSpace`, which `strings.TrimSpace` uses.
fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (c as u32 > 0xFF && c.is_whitespace())
}

/// The 1-based line of a byte offset.
pub fn line_of(sql: &str, offset: usize) -> u32 {
    let offset = offset.min(sql.len());
    sql.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u32
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_top_level_semicolons_and_trims() {
        assert_eq!(
            texts("create table a (id int);\n\ninsert into a values (1);;\n"),
            ["create table a (id int)", "insert into a values (1)"]
        );
        assert_eq!(texts("select 1"), ["select 1"]);
        assert_eq!(texts("-- only a comment\n"), ["-- only a comment"]);
        assert_eq!(
            texts("select 1;\n-- trailing comment"),
            ["select 1", "-- trailing comment"]
        );
    }

    #[test]
    fn semicolons_inside_strings_comments_dollars_and_parens_do_not_split() {
        let sql = "insert into t values ('a;b', \"c;d\");\n-- x; y\n/* a; /* nested; */ b; */ select 2;\ncreate function f() returns int as $body$ select 1; $body$ language sql;\ncreate rule r as on insert to t do (select 1; select 2);";
        assert_eq!(
            texts(sql),
            [
                "insert into t values ('a;b', \"c;d\")",
                "-- x; y\n/* a; /* nested; */ b; */ select 2",
                "create function f() returns int as $body$ select 1; $body$ language sql",
                "create rule r as on insert to t do (select 1; select 2)",
            ]
        );
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let sql = "create function f() returns int language sql begin atomic select 1; select 2; end;\nselect 3;";
        assert_eq!(
            texts(sql),
            [
                "create function f() returns int language sql begin atomic select 1; select 2; end",
                "select 3"
            ]
        );
    }

    #[test]
    fn offsets_point_at_each_statement() {
        let sql = "  select 1;\n\n  select 2;";
        let parts = split(sql);
        assert_eq!(parts[1].offset, sql.find("select 2").unwrap());
        assert_eq!(line_of(sql, parts[1].offset), 3);
    }

    #[test]
    fn carries_the_clis_quirks() {
        // `$` inside an identifier opens a dollar quote in the CLI's machine.
        assert_eq!(
            texts("select price$a$b; select 2; select $a$ x"),
            ["select price$a$b; select 2; select $a$ x"]
        );
        // CRLF: `\r` inside a statement is kept, at its ends trimmed.
        assert_eq!(
            texts("select 1;\r\nselect\r\n2;\r\n"),
            ["select 1", "select\r\n2"]
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the pieces that drive the machine, so the interesting states are reached.
    fn sql_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(";".to_owned()),
            Just("'".to_owned()),
            Just("''".to_owned()),
            Just("\"".to_owned()),
            Just("$$".to_owned()),
            Just("$tag$".to_owned()),
            Just("--".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("/*".to_owned()),
            Just("*/".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("\\".to_owned()),
            Just(" begin atomic ".to_owned()),
            Just(" end".to_owned()),
            Just("E'".to_owned()),
            "[a-z ]{0,6}",
            "\\PC{0,3}",
        ];
        prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn never_panics_and_every_statement_stands_at_its_offset(sql in sql_like()) {
            let statements = split(&sql);
            let mut previous_end = 0;
            for s in &statements {
                prop_assert!(!s.text.is_empty());
                prop_assert!(sql[s.offset..].starts_with(&s.text), "{:?} not at {}", s.text, s.offset);
                prop_assert!(s.offset >= previous_end, "statements overlap");
                previous_end = s.offset + s.text.len();
            }
        }

        #[test]
        fn plain_statements_split_and_join_back(parts in prop::collection::vec("[a-z][a-z0-9 ]{0,20}[a-z0-9]", 1..8)) {
            let sql = parts.iter().map(|p| format!("{p};\n")).collect::<String>();
            let texts: Vec<String> = split(&sql).into_iter().map(|s| s.text).collect();
            prop_assert_eq!(&texts, &parts);
            let joined = texts.iter().map(|t| format!("{t};\n")).collect::<String>();
            prop_assert_eq!(joined, sql);
        }
    }
}
