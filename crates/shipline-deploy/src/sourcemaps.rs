//! Debug IDs for Sentry, as `sentry-cli sourcemaps inject` writes them, and the artifact
//! bundle that carries the maps to Sentry.
//!
//! Injection rewrites the built files **in place, before the site is hashed**: the files
//! that are hashed, uploaded and served are the injected ones, so the ID in a served file is
//! the ID in its uploaded map (the classic failure is injecting a copy and deploying the
//! original). A file injected before keeps its ID, so a re-run changes nothing.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha1::Digest as _;

/// The runtime snippet `sentry-cli` (3.x) inserts: it registers the file's debug ID under
/// the file's own stack, where the Sentry SDK (7.47+) finds it.
const SNIPPET: &str = r#"!function(){try{var e="undefined"!=typeof window?window:"undefined"!=typeof global?global:"undefined"!=typeof globalThis?globalThis:"undefined"!=typeof self?self:{},n=(new e.Error).stack;n&&(e._sentryDebugIds=e._sentryDebugIds||{},e._sentryDebugIds[n]="__SENTRY_DEBUG_ID__")}catch(e){}}();"#;
const COMMENT: &str = "//# debugId=";

/// Why injection failed: the build output is not what it claims.
#[derive(Debug, thiserror::Error)]
pub enum SourceMapError {
    #[error("`{path}`: {message}")]
    Bad { path: String, message: String },
    #[error("could not read or write `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// One JS file and its map, with the debug ID both carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// Relative to the site, `/`-separated: `assets/index-1a2b.js`.
    pub js: String,
    pub map: String,
    pub debug_id: String,
    /// False when the file carried the ID already (a re-run).
    pub changed: bool,
}

/// A UUID (version 5 layout, as `uuid::Builder::from_sha1_bytes`) from the map's SHA-1:
/// the same map gives the same ID on any machine.
pub fn debug_id_of(bytes: &[u8]) -> String {
    let digest = sha1::Sha1::digest(bytes);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The ID a file already carries in its `//# debugId=` comment.
pub fn existing_debug_id(js: &str) -> Option<&str> {
    js.lines()
        .rev()
        .find_map(|l| l.trim_end().strip_prefix(COMMENT))
        .filter(|id| !id.is_empty())
}

/// Where the snippet goes, as `sentry-cli` 3.x puts it: after leading whitespace and
/// comments, and after one `"use …";` directive (so a directive stays a directive).
fn insertion_point(js: &str) -> usize {
    let mut i = 0;
    loop {
        let rest = &js[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with("//") {
            i += trimmed.find('\n').unwrap_or(trimmed.len());
        } else if let Some(body) = trimmed.strip_prefix("/*") {
            match body.find("*/") {
                Some(end) => i += 2 + end + 2,
                None => break,
            }
        } else {
            break;
        }
    }
    let rest = &js[i..];
    for quote in ['"', '\''] {
        if let Some(after) = rest
            .strip_prefix(quote)
            .and_then(|r| r.strip_prefix("use "))
        {
            let word = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .count();
            if word > 0 && after[word..].starts_with(&format!("{quote};")) {
                return i + 1 + 4 + word + 2;
            }
        }
    }
    i
}

/// Inserts the snippet on a line of its own at the insertion point and appends
/// `//# debugId=`; returns the new file and where the snippet went (line, UTF-16 column).
pub fn inject_js(js: &str, debug_id: &str) -> (String, (usize, usize)) {
    let at = insertion_point(js);
    let before = &js[..at];
    let line = before.matches('\n').count();
    let column = before[before.rfind('\n').map_or(0, |n| n + 1)..]
        .encode_utf16()
        .count();
    let snippet = SNIPPET.replace("__SENTRY_DEBUG_ID__", debug_id);
    let mut out = String::with_capacity(js.len() + snippet.len() + 64);
    out.push_str(before);
    out.push('\n');
    out.push_str(&snippet);
    out.push('\n');
    out.push_str(&js[at..]);
    out.push('\n');
    out.push_str(COMMENT);
    out.push_str(debug_id);
    out.push('\n');
    (out, (line, column))
}

/// Where an injected file's snippet went: the line before the snippet's line ends at the
/// insertion column.
fn snippet_position(js: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = js.split('\n').collect();
    let k = lines
        .iter()
        .position(|l| l.starts_with("!function(){try{") && l.contains("_sentryDebugIds"))?;
    let line = k.checked_sub(1)?;
    Some((line, lines[line].encode_utf16().count()))
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The fields of one segment as written: deltas (the column's relative to the previous
/// segment of its line, the others to the previous segment of the whole map).
fn decode_segment(segment: &str) -> Option<Vec<i64>> {
    let mut fields = Vec::with_capacity(5);
    let (mut value, mut shift) = (0i64, 0u32);
    for byte in segment.bytes() {
        let digit = BASE64.iter().position(|&b| b == byte)? as i64;
        value += (digit & 31) << shift;
        if digit & 32 != 0 {
            shift += 5;
            if shift > 60 {
                return None;
            }
        } else {
            fields.push(if value & 1 == 1 {
                -(value >> 1)
            } else {
                value >> 1
            });
            value = 0;
            shift = 0;
        }
    }
    (shift == 0 && matches!(fields.len(), 1 | 4 | 5)).then_some(fields)
}

fn encode_segment(out: &mut String, fields: &[i64]) {
    for &value in fields {
        let mut v = if value < 0 {
            ((-value) << 1) | 1
        } else {
            value << 1
        };
        loop {
            let mut digit = v & 31;
            v >>= 5;
            if v > 0 {
                digit |= 32;
            }
            out.push(BASE64[digit as usize] as char);
            if v == 0 {
                break;
            }
        }
    }
}

/// The mappings after two line breaks were inserted at (line, column): what was left of
/// the column stays, the rest moves two lines down to column 0 on, and that rest keeps a
/// mapping at its start (the segment that covered the column), as `sentry-cli` 3.x does.
///
/// Only that one line is decoded: the lines after it move by inserting `;;`, and every
/// field but the column is relative to the previous segment, which the edit keeps.
pub fn shift_mappings(mappings: &str, line: usize, column: usize) -> Option<String> {
    let mut starts = std::iter::once(0).chain(mappings.match_indices(';').map(|(i, _)| i + 1));
    let Some(start) = starts.nth(line) else {
        // The insertion is past every mapped line: nothing moves.
        return Some(mappings.to_owned());
    };
    let end = mappings[start..]
        .find(';')
        .map_or(mappings.len(), |i| start + i);
    let text = &mappings[start..end];
    let column = column as i64;
    let mut segments = Vec::new();
    let mut col = 0;
    for raw in text.split(',').filter(|s| !s.is_empty()) {
        let fields = decode_segment(raw)?;
        col += fields[0];
        segments.push((col, fields, raw));
    }
    let split = segments
        .iter()
        .position(|(c, _, _)| *c >= column)
        .unwrap_or(segments.len());
    let (keep, moved) = segments.split_at(split);
    let mut out = String::with_capacity(mappings.len() + 8);
    out.push_str(&mappings[..start]);
    out.push_str(
        &keep
            .iter()
            .map(|(_, _, raw)| *raw)
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str(";;");
    let mut first = true;
    if let Some((_, fields, _)) = keep.last()
        && moved.first().is_none_or(|(c, _, _)| *c > column)
    {
        // The same position as the segment before it: every delta but the column is 0.
        encode_segment(&mut out, &vec![0; fields.len()]);
        first = false;
    }
    for (i, (c, fields, raw)) in moved.iter().enumerate() {
        if !first {
            out.push(',');
        }
        first = false;
        if i == 0 {
            let mut fields = fields.clone();
            fields[0] = c - column;
            encode_segment(&mut out, &fields);
        } else {
            out.push_str(raw);
        }
    }
    out.push_str(&mappings[end..]);
    Some(out.trim_end_matches(';').to_owned())
}

/// Adds `debugId` to a map and shifts its mappings for the snippet at (line, column). A
/// map that has an ID keeps it (`debugId`, or the older `debug_id`).
pub fn inject_map(
    map: &[u8],
    path: &str,
    debug_id: &str,
    at: (usize, usize),
) -> Result<Vec<u8>, SourceMapError> {
    let bad = |message: &str| SourceMapError::Bad {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let mut value: Value =
        serde_json::from_slice(map).map_err(|e| bad(&format!("not a source map: {e}")))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| bad("not a source map (not a JSON object)"))?;
    let Some(Value::String(mappings)) = object.get_mut("mappings") else {
        return Err(bad(
            "not a source map with `mappings` (an index map with `sections` is not supported)",
        ));
    };
    *mappings = shift_mappings(mappings, at.0, at.1)
        .ok_or_else(|| bad("its `mappings` are not valid Base64 VLQ"))?;
    object.insert("debugId".into(), debug_id.into());
    serde_json::to_vec(&value).map_err(|e| bad(&e.to_string()))
}

/// The ID a map carries already.
fn map_debug_id(map: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(map).ok()?;
    value["debugId"]
        .as_str()
        .or(value["debug_id"].as_str())
        .map(str::to_owned)
}

/// The map a JS file names (`sourceMappingURL`, not a `data:` URL), else `<file>.map`
/// beside it, if it exists inside the site.
fn map_of(root: &Path, js_rel: &str, js: &str) -> Option<String> {
    let dir = js_rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let named = js
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("//# sourceMappingURL=")
                .or_else(|| l.strip_prefix("//@ sourceMappingURL="))
        })
        .map(str::trim)
        .filter(|u| !u.starts_with("data:") && !u.contains("://"));
    let candidate = match named {
        Some(url) if url.starts_with('/') => url.trim_start_matches('/').to_owned(),
        Some(url) => normalize(&if dir.is_empty() {
            url.to_owned()
        } else {
            format!("{dir}/{url}")
        })?,
        None => format!("{js_rel}.map"),
    };
    root.join(&candidate).is_file().then_some(candidate)
}

/// Resolves `.` and `..`; `None` when the path climbs out of the site.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), SourceMapError> {
    let io = |source| SourceMapError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file()
            && path
                .extension()
                .is_some_and(|e| e == "js" || e == "mjs" || e == "cjs")
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Writes through a temporary file and a rename: a killed run never leaves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SourceMapError> {
    let io = |source| SourceMapError::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("shipline-tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Injects every JS file of `root` that has a source map. Maps without a JS file are left
/// alone (nothing would load them).
pub fn inject_dir(root: &Path) -> Result<Vec<Injected>, SourceMapError> {
    let mut scripts = Vec::new();
    walk(root, root, &mut scripts)?;
    // Files are independent: all cores, each on a slice, results in path order.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = scripts.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<Injected>, SourceMapError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = scripts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for js_rel in part {
                        if let Some(item) = inject_one(root, js_rel)? {
                            done.push(item);
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SourceMapError::Bad {
                        path: root.display().to_string(),
                        message: "an injection thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut done = Vec::new();
    for part in results {
        done.extend(part?);
    }
    Ok(done)
}

/// One JS file: injected, found injected already (repaired if its map is not), or `None`
/// when it has no map.
fn inject_one(root: &Path, js_rel: &str) -> Result<Option<Injected>, SourceMapError> {
    let js_path = root.join(js_rel);
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|source| SourceMapError::Io {
            path: p.display().to_string(),
            source,
        })
    };
    let Ok(js) = String::from_utf8(read(&js_path)?) else {
        return Ok(None);
    };
    let Some(map_rel) = map_of(root, js_rel, &js) else {
        return Ok(None);
    };
    let map_path = root.join(&map_rel);
    let map_bytes = read(&map_path)?;
    if let Some(id) = existing_debug_id(&js) {
        // Killed between the two writes, a run left the file injected and the map not.
        if map_debug_id(&map_bytes).is_none()
            && let Some(at) = snippet_position(&js)
        {
            write_atomically(&map_path, &inject_map(&map_bytes, &map_rel, id, at)?)?;
        }
        return Ok(Some(Injected {
            js: js_rel.to_owned(),
            map: map_rel,
            debug_id: id.to_owned(),
            changed: false,
        }));
    }
    let id = map_debug_id(&map_bytes).unwrap_or_else(|| debug_id_of(&map_bytes));
    let (injected_js, at) = inject_js(&js, &id);
    let map = inject_map(&map_bytes, &map_rel, &id, at)?;
    // The file first: killed between the two writes, the file has its ID and the map
    // not, which the next run repairs (a map shifted twice could not be told apart).
    write_atomically(&js_path, injected_js.as_bytes())?;
    write_atomically(&map_path, &map)?;
    Ok(Some(Injected {
        js: js_rel.to_owned(),
        map: map_rel,
        debug_id: id,
        changed: true,
    }))
}

/// An artifact bundle: `SYSB`, format version 2, then a zip of `manifest.json` and the files
/// under `files/_/_/`, each with its `~/` URL and `debug-id` header (symbolic's source
/// bundle, which `sentry-cli sourcemaps upload` sends).
pub fn artifact_bundle(
    root: &Path,
    injected: &[Injected],
    org: &str,
    release: Option<&str>,
) -> Result<(Vec<u8>, Value), SourceMapError> {
    let mut files = BTreeMap::new();
    let mut contents = Vec::new();
    for item in injected {
        for (rel, kind) in [(&item.js, "minified_source"), (&item.map, "source_map")] {
            let mut headers = json!({ "debug-id": item.debug_id });
            if kind == "minified_source" {
                let map_name = item.map.rsplit('/').next().unwrap_or(&item.map);
                headers["sourcemap"] = map_name.into();
            }
            let key = format!("files/_/_/{rel}");
            files.insert(
                key.clone(),
                json!({ "url": format!("~/{rel}"), "type": kind, "headers": headers }),
            );
            let bytes = std::fs::read(root.join(rel)).map_err(|source| SourceMapError::Io {
                path: rel.clone(),
                source,
            })?;
            contents.push((key, bytes));
        }
    }
    let ids: Vec<&str> = injected.iter().map(|i| i.debug_id.as_str()).collect();
    let mut manifest = json!({
        "files": files,
        "org": org,
        "debug_id": debug_id_of(ids.join(",").as_bytes()),
    });
    if let Some(release) = release {
        manifest["release"] = release.into();
    }
    let mut out = Vec::from(*b"SYSB");
    out.extend_from_slice(&2u32.to_le_bytes());
    let zip_error = |e: zip::result::ZipError| SourceMapError::Bad {
        path: "artifact bundle".into(),
        message: e.to_string(),
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            // A fixed time: the same files give the same bundle and the same checksum.
            .last_modified_time(zip::DateTime::default());
        zip.start_file("manifest.json", options)
            .map_err(zip_error)?;
        zip.write_all(manifest.to_string().as_bytes())
            .map_err(|e| zip_error(e.into()))?;
        for (key, bytes) in &contents {
            zip.start_file(key.as_str(), options).map_err(zip_error)?;
            zip.write_all(bytes).map_err(|e| zip_error(e.into()))?;
        }
        zip.finish().map_err(zip_error)?;
    }
    out.extend_from_slice(cursor.get_ref());
    Ok((out, manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "00000000-0000-0000-0000-000000000000";

    fn snippet() -> String {
        SNIPPET.replace("__SENTRY_DEBUG_ID__", ID)
    }

    #[test]
    fn the_snippet_goes_after_comments_and_one_directive() {
        // What sentry-cli 3.8 wrote for these inputs (the peer test compares whole trees).
        let (out, at) = inject_js("function a(){}\n//# sourceMappingURL=x.js.map", ID);
        assert_eq!(
            out,
            format!(
                "\n{}\nfunction a(){{}}\n//# sourceMappingURL=x.js.map\n//# debugId={ID}\n",
                snippet()
            )
        );
        assert_eq!(at, (0, 0));
        let (out, at) = inject_js("/*! l */\n// c\n\n\"use strict\";\nf()\n", ID);
        assert!(out.starts_with(&format!(
            "/*! l */\n// c\n\n\"use strict\";\n{}\n\nf()\n",
            snippet()
        )));
        assert_eq!(at, (3, 13));
        // Only one directive, and only with its semicolon.
        assert_eq!(
            inject_js("'use client';'use strict';var x=1", ID).1,
            (0, 13)
        );
        assert_eq!(inject_js("  \"use strict\"\nvar b", ID).1, (0, 2));
        assert_eq!(existing_debug_id(&out), Some(ID));
        assert_eq!(snippet_position(&out), Some((3, 13)));
    }

    #[test]
    fn mappings_move_with_the_code_they_map() {
        // sentry-cli 3.8's answers for the same edits.
        assert_eq!(shift_mappings("AAAA", 0, 0).unwrap(), ";;AAAA");
        assert_eq!(shift_mappings("AAAA", 0, 13).unwrap(), "AAAA;;AAAA");
        assert_eq!(
            shift_mappings("AAAA;AACA,QAAQA,CAAC", 0, 2).unwrap(),
            "AAAA;;AAAA;AACA,QAAQA,CAAC"
        );
        assert_eq!(
            shift_mappings("AAAA,QAAQ;AACR", 0, 0).unwrap(),
            ";;AAAA,QAAQ;AACR"
        );
        assert_eq!(
            shift_mappings("AAAA,EAAE;AACA", 2, 0).unwrap(),
            "AAAA,EAAE;AACA"
        );
        // A split inside a line: the part after the column starts at 0 and keeps its source.
        assert_eq!(
            shift_mappings("AAAA,UAAU", 0, 5).unwrap(),
            "AAAA;;AAAA,KAAU"
        );
        assert!(shift_mappings("A!", 0, 0).is_none());
        // A later line: the ones before it stay as written, the ones after move down.
        assert_eq!(
            shift_mappings("AAAA;AACA,UAAU;AACA", 1, 5).unwrap(),
            "AAAA;AACA;;AAAA,KAAU;AACA"
        );
        assert_eq!(shift_mappings("AAAA", 3, 0).unwrap(), "AAAA");
        let mut out = String::new();
        encode_segment(&mut out, &[-17, 0, 1000, 3]);
        assert_eq!(decode_segment(&out).unwrap(), [-17, 0, 1000, 3]);
    }

    #[test]
    fn a_map_gets_the_id_and_the_shift() {
        let map = br#"{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAAA"}"#;
        let out = inject_map(map, "a.js.map", ID, (0, 0)).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["mappings"], ";;AAAA");
        assert_eq!(value["debugId"], ID);
        let id = debug_id_of(map);
        assert_eq!(&id[14..15], "5", "version 5 layout");
        assert!(inject_map(b"[1]", "x.map", ID, (0, 0)).is_err());
        assert!(inject_map(br#"{"sections":[]}"#, "x.map", ID, (0, 0)).is_err());
        assert_eq!(
            map_debug_id(br#"{"debug_id":"abc"}"#).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn map_paths_resolve_inside_the_site_only() {
        assert_eq!(normalize("assets/../x.map").as_deref(), Some("x.map"));
        assert_eq!(normalize("../x.map"), None);
    }
}
