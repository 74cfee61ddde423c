//! Time in Lua callbacks per frame and per script, for `get_stats().frame`.

use lua_runtime_core::stats::FrameStats;

/// Time in Lua callbacks: the frame being measured and the last ones.
#[derive(Default)]
pub struct Timing {
    current: FrameFigures,
    last: FrameFigures,
    /// Recent frame totals in microseconds, newest last.
    recent: std::collections::VecDeque<f64>,
    frames: u64,
}

#[derive(Default, Clone)]
struct FrameFigures {
    total_us: f64,
    lua_calls: u64,
    batched_nodes: u64,
    by_script: std::collections::BTreeMap<String, ScriptShare>,
}

/// One script's share of a frame: microseconds, nodes run, heap growth in bytes.
#[derive(Default, Clone)]
struct ScriptShare {
    us: f64,
    nodes: u64,
    grown: u64,
}

/// Frames the mean is taken over.
const RECENT_FRAMES: usize = 60;

impl Timing {
    pub fn add(
        &mut self,
        path: &str,
        elapsed: std::time::Duration,
        nodes: usize,
        batched: bool,
        grown: usize,
    ) {
        let us = elapsed.as_secs_f64() * 1e6;
        let figures = &mut self.current;
        figures.total_us += us;
        figures.lua_calls += 1;
        if batched {
            figures.batched_nodes += nodes as u64;
        }
        let share = match figures.by_script.get_mut(path) {
            Some(share) => share,
            None => figures.by_script.entry(path.to_owned()).or_default(),
        };
        share.us += us;
        share.nodes += nodes as u64;
        share.grown += grown as u64;
    }

    pub fn end_frame(&mut self) {
        let figures = std::mem::take(&mut self.current);
        if self.recent.len() == RECENT_FRAMES {
            self.recent.pop_front();
        }
        self.recent.push_back(figures.total_us);
        self.last = figures;
        self.frames += 1;
    }

    pub fn stats(&self, batching: bool) -> FrameStats {
        let mean = if self.recent.is_empty() {
            0.0
        } else {
            self.recent.iter().sum::<f64>() / self.recent.len() as f64
        };
        FrameStats {
            batching,
            frames: self.frames,
            lua_us: self.last.total_us,
            lua_us_mean: mean,
            lua_calls: self.last.lua_calls,
            batched_nodes: self.last.batched_nodes,
            by_script: self
                .last
                .by_script
                .iter()
                .map(|(path, share)| {
                    (
                        path.clone(),
                        lua_runtime_core::stats::ScriptFrame {
                            us: share.us,
                            nodes: share.nodes,
                            allocated_bytes: share.grown,
                        },
                    )
                })
                .collect(),
        }
    }
}
