//! A one-line upload progress bar on a terminal; silent in Actions and when piped, where a
//! redrawn line would only fill the log.

use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    total_files: AtomicUsize,
    total_bytes: AtomicU64,
    files: AtomicUsize,
    bytes: AtomicU64,
    last_draw: Mutex<Option<Instant>>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            total_files: AtomicUsize::new(0),
            total_bytes: AtomicU64::new(0),
            files: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            last_draw: Mutex::new(None),
        }
    }

    /// Announces more work (each `missing_files` round adds some).
    pub fn expect(&self, files: usize, bytes: u64) {
        self.total_files.fetch_add(files, Ordering::Relaxed);
        self.total_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn uploaded(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.draw(false);
    }

    /// Totals so far: files and bytes uploaded.
    pub fn totals(&self) -> (usize, u64) {
        (
            self.files.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    pub fn finish(&self) {
        if self.enabled && self.files.load(Ordering::Relaxed) > 0 {
            self.draw(true);
            eprintln!();
        }
    }

    fn draw(&self, force: bool) {
        if !self.enabled {
            return;
        }
        let Ok(mut last) = self.last_draw.lock() else {
            return;
        };
        if !force && last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let (files, bytes) = self.totals();
        let total = self.total_files.load(Ordering::Relaxed).max(files);
        let total_bytes = self.total_bytes.load(Ordering::Relaxed).max(bytes);
        let width = 30usize;
        let filled = if total_bytes == 0 {
            width
        } else {
            (bytes as f64 / total_bytes as f64 * width as f64) as usize
        };
        let bar = format!(
            "{}{}",
            "#".repeat(filled.min(width)),
            " ".repeat(width - filled.min(width))
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r  uploading [{bar}] {files}/{total} files, {}",
            human_bytes(bytes)
        );
        let _ = err.flush();
    }
}

/// `1.5 MB`, `320 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::human_bytes(320), "320 B");
        assert_eq!(super::human_bytes(1_500_000), "1.5 MB");
    }
}
