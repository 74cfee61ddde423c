//! What hot reload did: counts, latencies and the most recent reloads, for `get_stats()`.

use std::collections::VecDeque;
use std::time::Duration;

use crate::stats::{ReloadRecord, ReloadStats};

/// Latencies kept for the percentiles.
const LATENCY_WINDOW: usize = 200;
/// Reloads kept for the log the editor panel shows.
const RECENT: usize = 20;

/// Reload counters and a window of recent latencies.
#[derive(Debug, Default)]
pub struct ReloadLog {
    reloads: u64,
    failures: u64,
    last: Option<Duration>,
    latencies: VecDeque<Duration>,
    recent: VecDeque<ReloadRecord>,
}

impl ReloadLog {
    /// A script's new code became active `latency` after its file changed.
    pub fn reloaded(&mut self, path: &str, latency: Duration) {
        self.reloads += 1;
        self.last = Some(latency);
        if self.latencies.len() == LATENCY_WINDOW {
            self.latencies.pop_front();
        }
        self.latencies.push_back(latency);
        self.remember(ReloadRecord {
            path: path.to_owned(),
            ms: millis(latency),
            error: String::new(),
        });
    }

    /// A changed script did not load; its old code keeps running.
    pub fn failed(&mut self, path: &str, error: &str) {
        self.failures += 1;
        self.remember(ReloadRecord {
            path: path.to_owned(),
            ms: 0.0,
            error: error.to_owned(),
        });
    }

    fn remember(&mut self, record: ReloadRecord) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }

    /// The latency below which `fraction` (0 to 1) of the recent reloads fall.
    pub fn percentile(&self, fraction: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted: Vec<Duration> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        // Nearest rank: the smallest value with at least `fraction` of the values at or below it.
        let rank = (fraction.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
        Some(sorted[rank.clamp(1, sorted.len()) - 1])
    }

    /// The section of the statistics snapshot.
    pub fn stats(&self, watching: bool) -> ReloadStats {
        ReloadStats {
            watching,
            reloads: self.reloads,
            failures: self.failures,
            last_ms: self.last.map_or(0.0, millis),
            p50_ms: self.percentile(0.5).map_or(0.0, millis),
            p95_ms: self.percentile(0.95).map_or(0.0, millis),
            recent: self.recent.iter().rev().cloned().collect(),
        }
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut log = ReloadLog::default();
        for ms in 1..=100 {
            log.reloaded("res://a.lua", Duration::from_millis(ms));
        }
        assert_eq!(log.percentile(0.5), Some(Duration::from_millis(50)));
        assert_eq!(log.percentile(0.95), Some(Duration::from_millis(95)));
        let stats = log.stats(true);
        assert_eq!(
            (stats.reloads, stats.last_ms, stats.p95_ms),
            (100, 100.0, 95.0)
        );
    }

    #[test]
    fn failures_are_counted_and_logged_newest_first() {
        let mut log = ReloadLog::default();
        log.reloaded("res://a.lua", Duration::from_millis(3));
        log.failed("res://b.lua", "res://b.lua:2: unexpected symbol");
        let stats = log.stats(false);
        assert_eq!((stats.reloads, stats.failures), (1, 1));
        assert_eq!(stats.recent[0].path, "res://b.lua");
        assert!(stats.recent[0].error.contains(":2:"));
        assert_eq!(stats.recent[1].ms, 3.0);
        assert_eq!(ReloadLog::default().stats(false).p95_ms, 0.0);
    }

    #[test]
    fn keeps_a_bounded_history() {
        let mut log = ReloadLog::default();
        for i in 0..1000 {
            log.reloaded(&format!("res://{i}.lua"), Duration::from_micros(i));
        }
        let stats = log.stats(true);
        assert_eq!(stats.recent.len(), RECENT);
        assert_eq!(stats.recent[0].path, "res://999.lua");
        assert_eq!(log.latencies.len(), LATENCY_WINDOW);
    }
}
