//! Keeps an error that repeats every frame from flooding the log.
//!
//! The first occurrence of an error (same file, line and message) is reported at once. Repeats
//! inside the window are counted, not printed; the next report of that error, or a
//! [`ErrorThrottle::flush`] after the window, carries the count. A script failing in
//! `_process` therefore costs one line per window instead of sixty lines a second.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How many distinct errors are remembered; beyond this the quietest are forgotten.
const MAX_TRACKED: usize = 1024;

/// What to do with one occurrence of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Report it; `repeats` earlier occurrences were held back since the last report.
    Report { repeats: u64 },
    /// Count it and stay quiet.
    Suppress,
}

#[derive(Debug)]
struct Entry {
    last_report: Instant,
    held_back: u64,
}

/// Rate limiter for repeated errors, keyed by `(path, line, message)`.
#[derive(Debug)]
pub struct ErrorThrottle {
    window: Duration,
    entries: HashMap<(String, Option<u32>, String), Entry>,
}

/// A summary of repeats that [`ErrorThrottle::flush`] found no later occurrence to attach to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
    pub repeats: u64,
}

impl ErrorThrottle {
    /// A throttle that reports each distinct error at most once per `window`.
    pub fn new(window: Duration) -> Self {
        ErrorThrottle {
            window,
            entries: HashMap::new(),
        }
    }

    /// Records one occurrence at `now` and says whether to report it.
    pub fn record(
        &mut self,
        path: &str,
        line: Option<u32>,
        message: &str,
        now: Instant,
    ) -> Verdict {
        let key = (path.to_owned(), line, message.to_owned());
        if let Some(entry) = self.entries.get_mut(&key) {
            if now.duration_since(entry.last_report) < self.window {
                entry.held_back += 1;
                return Verdict::Suppress;
            }
            let repeats = std::mem::take(&mut entry.held_back);
            entry.last_report = now;
            return Verdict::Report { repeats };
        }
        if self.entries.len() >= MAX_TRACKED {
            self.forget_oldest();
        }
        self.entries.insert(
            key,
            Entry {
                last_report: now,
                held_back: 0,
            },
        );
        Verdict::Report { repeats: 0 }
    }

    /// Returns the repeats held back for errors whose window has passed, so a burst that
    /// stopped still gets its count reported once. Forgets errors that went quiet.
    pub fn flush(&mut self, now: Instant) -> Vec<HeldBack> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let window = self.window;
        self.entries.retain(|(path, line, message), entry| {
            if now.duration_since(entry.last_report) < window {
                return true;
            }
            if entry.held_back > 0 {
                out.push(HeldBack {
                    path: path.clone(),
                    line: *line,
                    message: message.clone(),
                    repeats: entry.held_back,
                });
                entry.held_back = 0;
                entry.last_report = now;
                return true;
            }
            false
        });
        out
    }

    /// Forgets everything, e.g. after a reload made old errors meaningless.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    fn forget_oldest(&mut self) {
        if let Some(key) = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.last_report)
            .map(|(k, _)| k.clone())
        {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(5);

    #[test]
    fn a_frame_rate_error_is_reported_once_per_window_with_its_count() {
        let mut t = ErrorThrottle::new(WINDOW);
        let start = Instant::now();
        let frame = Duration::from_millis(16);
        let mut reports = Vec::new();
        for i in 0..600u32 {
            let now = start + frame * i;
            if let Verdict::Report { repeats } = t.record("res://a.lua", Some(3), "boom", now) {
                reports.push(repeats);
            }
        }
        // 600 frames of 16 ms = 9.6 s: the first report, then one after 5 s with its count.
        assert_eq!(reports.len(), 2, "{reports:?}");
        assert_eq!(reports[0], 0);
        assert_eq!(reports[1], 312);
    }

    #[test]
    fn distinct_errors_are_not_merged() {
        let mut t = ErrorThrottle::new(WINDOW);
        let now = Instant::now();
        assert_eq!(
            t.record("res://a.lua", Some(3), "boom", now),
            Verdict::Report { repeats: 0 }
        );
        assert_eq!(
            t.record("res://a.lua", Some(4), "boom", now),
            Verdict::Report { repeats: 0 }
        );
        assert_eq!(
            t.record("res://b.lua", Some(3), "boom", now),
            Verdict::Report { repeats: 0 }
        );
        assert_eq!(
            t.record("res://a.lua", Some(3), "bang", now),
            Verdict::Report { repeats: 0 }
        );
        assert_eq!(
            t.record("res://a.lua", Some(3), "boom", now),
            Verdict::Suppress
        );
    }

    #[test]
    fn flush_reports_a_burst_that_stopped() {
        let mut t = ErrorThrottle::new(WINDOW);
        let start = Instant::now();
        t.record("res://a.lua", Some(1), "x", start);
        t.record(
            "res://a.lua",
            Some(1),
            "x",
            start + Duration::from_millis(10),
        );
        t.record(
            "res://a.lua",
            Some(1),
            "x",
            start + Duration::from_millis(20),
        );
        assert!(t.flush(start + Duration::from_secs(1)).is_empty());
        let held = t.flush(start + Duration::from_secs(6));
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].repeats, 2);
        // Reported once; a quiet error is then forgotten and reports afresh.
        assert!(t.flush(start + Duration::from_secs(12)).is_empty());
        assert_eq!(
            t.record("res://a.lua", Some(1), "x", start + Duration::from_secs(13)),
            Verdict::Report { repeats: 0 }
        );
    }

    #[test]
    fn memory_stays_bounded_under_many_distinct_errors() {
        let mut t = ErrorThrottle::new(WINDOW);
        let now = Instant::now();
        for i in 0..(MAX_TRACKED as u32 * 3) {
            t.record(
                "res://a.lua",
                Some(i),
                "x",
                now + Duration::from_micros(i.into()),
            );
        }
        assert!(t.entries.len() <= MAX_TRACKED);
    }
}
