//! Deciding what a user sees of each error: the text, and whether to show it now.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Error, ErrorThrottle, Verdict};
use crate::stats::{ErrorRecord, ErrorStats};

/// How many distinct errors [`ErrorStats::recent`] keeps.
pub const RECENT_ERRORS: usize = 30;

/// How long a repeating error stays quiet between reports.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(5);

/// One error as shown to the user: the log text and the parts of the `script_error` signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub path: String,
    /// The line, or `None` when the error has none (a missing file).
    pub line: Option<u32>,
    pub message: String,
    /// What goes to the log: `path:line: message`, a repeat count if any, and the traceback.
    pub text: String,
}

/// Counts errors and throttles repeats.
#[derive(Debug)]
pub struct ErrorReporter {
    throttle: ErrorThrottle,
    stats: ErrorStats,
    recent: VecDeque<ErrorRecord>,
}

impl Default for ErrorReporter {
    fn default() -> Self {
        Self::new(REPEAT_WINDOW)
    }
}

impl ErrorReporter {
    /// A reporter that shows each distinct error at most once per `window`.
    pub fn new(window: Duration) -> Self {
        ErrorReporter {
            throttle: ErrorThrottle::new(window),
            stats: ErrorStats::default(),
            recent: VecDeque::new(),
        }
    }

    /// Records `err`; returns the report to show, or `None` while it is being held back.
    pub fn report(&mut self, err: &Error, now: Instant) -> Option<Report> {
        self.stats.total += 1;
        let (path, line, message) = (err.path(), err.line(), err.message());
        self.remember(path, line.unwrap_or(0), &message);
        match self.throttle.record(path, line, &message, now) {
            Verdict::Suppress => {
                self.stats.suppressed += 1;
                None
            }
            Verdict::Report { repeats } => {
                self.stats.reported += 1;
                let mut text = match err {
                    Error::Script(e) => e.to_string(),
                    other => other.to_string(),
                };
                if repeats > 0 {
                    text.push_str(&repeat_note(repeats));
                }
                if let Error::Script(e) = err
                    && !e.traceback.is_empty()
                {
                    text.push('\n');
                    text.push_str(e.traceback.trim_end());
                }
                Some(Report {
                    path: path.to_owned(),
                    line,
                    message,
                    text,
                })
            }
        }
    }

    /// Reports of errors that stopped repeating with occurrences still held back.
    pub fn flush(&mut self, now: Instant) -> Vec<Report> {
        self.throttle
            .flush(now)
            .into_iter()
            .map(|held| {
                self.stats.reported += 1;
                let location = match held.line {
                    Some(line) => format!("{}:{}", held.path, line),
                    None => held.path.clone(),
                };
                Report {
                    text: format!("{location}: {}{}", held.message, repeat_note(held.repeats)),
                    path: held.path,
                    line: held.line,
                    message: held.message,
                }
            })
            .collect()
    }

    /// Totals since start-up, and the latest errors.
    pub fn stats(&self) -> ErrorStats {
        ErrorStats {
            recent: self.recent.iter().cloned().collect(),
            ..self.stats.clone()
        }
    }

    fn remember(&mut self, path: &str, line: u32, message: &str) {
        let same = |r: &ErrorRecord| r.line == line && r.path == path && r.message == message;
        let mut record = match self.recent.iter().position(same) {
            Some(at) => self.recent.remove(at).unwrap_or_default(),
            None => ErrorRecord {
                path: path.to_owned(),
                line,
                message: message.to_owned(),
                count: 0,
            },
        };
        record.count += 1;
        self.recent.push_front(record);
        self.recent.truncate(RECENT_ERRORS);
    }
}

fn repeat_note(repeats: u64) -> String {
    let times = if repeats == 1 { "time" } else { "times" };
    format!(" (repeated {repeats} more {times} since last reported)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScriptError;

    fn runtime_error(line: u32) -> Error {
        Error::Script(ScriptError {
            path: "res://a.lua".into(),
            line: Some(line),
            message: "boom".into(),
            traceback: "stack traceback:\n\tres://a.lua:3: in function '_process'".into(),
        })
    }

    #[test]
    fn first_report_has_location_and_traceback() {
        let mut r = ErrorReporter::default();
        let report = r
            .report(&runtime_error(3), Instant::now())
            .expect("reported");
        assert_eq!(report.line, Some(3));
        assert!(
            report
                .text
                .starts_with("res://a.lua:3: boom\nstack traceback:"),
            "{}",
            report.text
        );
    }

    #[test]
    fn repeats_are_counted_and_summarised() {
        let mut r = ErrorReporter::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(r.report(&runtime_error(3), t0).is_some());
        for i in 1..=10 {
            assert!(
                r.report(&runtime_error(3), t0 + Duration::from_millis(i))
                    .is_none()
            );
        }
        let later = r
            .report(&runtime_error(3), t0 + Duration::from_secs(2))
            .expect("reported");
        assert!(
            later
                .text
                .starts_with("res://a.lua:3: boom (repeated 10 more times"),
            "{}",
            later.text
        );
        let stats = r.stats();
        assert_eq!((stats.total, stats.reported, stats.suppressed), (12, 2, 10));
        assert_eq!(stats.recent.len(), 1, "one distinct error");
        assert_eq!(stats.recent[0].count, 12, "repeats held back are counted");
    }

    #[test]
    fn recent_errors_are_newest_first_and_bounded() {
        let mut r = ErrorReporter::default();
        let now = Instant::now();
        for line in 1..=(RECENT_ERRORS as u32 + 5) {
            r.report(&runtime_error(line), now);
        }
        r.report(&runtime_error(10), now);
        let recent = r.stats().recent;
        assert_eq!(recent.len(), RECENT_ERRORS);
        assert_eq!(
            (recent[0].line, recent[0].count),
            (10, 2),
            "a repeat moves to the front"
        );
        assert_eq!(recent[1].line, RECENT_ERRORS as u32 + 5);
        assert!(
            recent.iter().all(|e| e.line > 5 || e.line == 10),
            "oldest dropped"
        );
        assert_eq!(recent[0].path, "res://a.lua");
        assert_eq!(recent[0].message, "boom");
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let mut r = ErrorReporter::default();
        let err = Error::ScriptNotFound {
            path: "res://nope.lua".into(),
        };
        let report = r.report(&err, Instant::now()).expect("reported");
        assert_eq!(report.text, "res://nope.lua: script file not found");
        assert_eq!(report.line, None);
        assert_eq!(report.message, "script file not found");
    }
}
