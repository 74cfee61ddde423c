//! What LuaJIT's trace compiler did: traces compiled and aborted, and the latest abort's
//! reason and place, for [`crate::stats::JitStats`].
//!
//! A loop runs at machine speed only once it is compiled to a trace. When recording fails
//! again and again at one place, LuaJIT *blacklists* it, and from then on every trace that
//! reaches it aborts with "blacklisted": code that was fast stays slow for the rest of the
//! process. These counts make that visible instead of only slower.
//!
//! The counts are kept by a Lua handler attached to LuaJIT's trace events (`jit.attach`),
//! which LuaJIT calls only when a trace starts, stops or aborts: nothing on the running path.

use mlua::{Function, Lua, Table};

use crate::stats::JitStats;

/// LuaJIT's trace error codes (`lj_traceerr.h`, in order): what an abort reports.
const REASONS: [&str; 35] = [
    "error thrown or hook called during recording",
    "trace too short",
    "trace too long",
    "trace too deep",
    "too many snapshots",
    "blacklisted",
    "retry recording",
    "NYI: bytecode %s",
    "leaving loop in root trace",
    "inner loop in root trace",
    "loop unroll limit reached",
    "bad argument type",
    "JIT compilation disabled for function",
    "call unroll limit reached",
    "down-recursion, restarting",
    "NYI: unsupported variant of FastFunc %s",
    "NYI: return to lower frame",
    "store with nil or NaN key",
    "missing metamethod",
    "looping index lookup",
    "NYI: mixed sparse/dense table",
    "symbol not in cache",
    "NYI: unsupported C type conversion",
    "NYI: unsupported C function type",
    "guard would always fail",
    "too many PHIs",
    "persistent type instability",
    "failed to allocate mcode memory",
    "machine code too long",
    "hit mcode limit (retrying)",
    "too many spill slots",
    "inconsistent register allocation",
    "NYI: cannot assemble IR instruction %d",
    "NYI: PHI shuffling too complex",
    "NYI: register coalescing too complex",
];

/// The code of "blacklisted" in [`REASONS`].
const BLACKLISTED: i64 = 5;

/// Where the handler keeps each count in its table. Integer keys, so that reading them from
/// Rust makes no Lua string (under a heap cap each string made from Rust costs a protected
/// call, and under LuaJIT each protected call leaves garbage: `get_stats()` is called every
/// frame by games that show it).
#[derive(Clone, Copy)]
enum Slot {
    Traces = 1,
    Aborts,
    Blacklisted,
    /// The latest abort's reason code.
    Code,
    /// The value that completes the reason (a bytecode, a builtin, an error message).
    Extra,
    /// The latest abort's place, `source:line`.
    Where,
}

/// The trace event handler. It counts in place; only an abort allocates (the place and reason
/// of the latest one). Its slots are [`Slot`]'s.
const HANDLER: &str = r#"
local counts, funcinfo, blacklisted = ...
local type, tostring = type, tostring
return function(what, _, func, pc, code, extra)
  if what == "stop" then
    counts[1] = counts[1] + 1
  elseif what == "abort" then
    counts[2] = counts[2] + 1
    if code == blacklisted then counts[3] = counts[3] + 1 end
    if type(code) ~= "number" then
      -- An error raised while recording: its message is the reason.
      code, extra = -1, tostring(code)
    elseif type(extra) == "function" then
      local info = funcinfo(extra)
      extra = info.loc or ("builtin#" .. tostring(info.ffid))
    end
    counts[4] = code
    counts[5] = extra ~= nil and tostring(extra) or ""
    local info = funcinfo(func, pc)
    counts[6] = info.loc or "?"
  end
end
"#;

/// The handler's counts, attached to LuaJIT's trace events.
pub struct TraceWatch {
    counts: Table,
}

impl TraceWatch {
    /// Attaches the handler to `jit` (LuaJIT's whole `jit` library).
    ///
    /// # Errors
    /// When LuaJIT's `jit.util` is missing or Lua cannot allocate.
    pub fn attach(lua: &Lua, jit: &Table) -> mlua::Result<Self> {
        let preload: Table = lua.named_registry_value("_PRELOAD")?;
        let util: Table = preload.get::<Function>("jit.util")?.call(())?;
        let counts = lua.create_table()?;
        for slot in [Slot::Traces, Slot::Aborts, Slot::Blacklisted] {
            counts.raw_set(slot as i64, 0)?;
        }
        let handler: Function = lua.load(HANDLER).set_name("=traces").call((
            counts.clone(),
            util.get::<Function>("funcinfo")?,
            BLACKLISTED,
        ))?;
        jit.get::<Function>("attach")?
            .call::<()>((handler, "trace"))?;
        Ok(TraceWatch { counts })
    }

    /// The counts so far (`enabled` is the caller's to fill).
    pub fn stats(&self) -> JitStats {
        let number = |slot: Slot| self.counts.raw_get::<u64>(slot as i64).unwrap_or(0);
        let text = |slot: Slot| {
            self.counts
                .raw_get::<Option<String>>(slot as i64)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let last_abort = match self
            .counts
            .raw_get::<Option<i64>>(Slot::Code as i64)
            .ok()
            .flatten()
        {
            Some(code) => {
                let extra = text(Slot::Extra);
                let reason = match usize::try_from(code).ok().and_then(|c| REASONS.get(c)) {
                    Some(reason) => reason.replace("%s", &extra).replace("%d", &extra),
                    None if code < 0 => extra,
                    None => format!("trace error {code}"),
                };
                let place = text(Slot::Where);
                format!("{place}: {reason}")
            }
            None => String::new(),
        };
        JitStats {
            enabled: false,
            traces: number(Slot::Traces),
            aborts: number(Slot::Aborts),
            aborts_blacklisted: number(Slot::Blacklisted),
            last_abort,
        }
    }
}

#[cfg(all(test, feature = "luajit"))]
mod tests {
    use crate::host::LuaHost;

    #[test]
    fn a_compiled_loop_counts_a_trace() {
        let host = LuaHost::new().unwrap();
        let before = host.jit_stats();
        assert!(before.enabled);
        host.exec("local s = 0 for i = 1, 10000 do s = s + i end")
            .unwrap();
        let after = host.jit_stats();
        assert!(after.traces > before.traces, "{after:?}");
        assert_eq!(after.aborts_blacklisted, 0, "{after:?}");
    }

    /// A helper ending in a tail call to a builtin cannot start a trace; called often from a
    /// loop that never compiles (it makes a closure), it is blacklisted, and a loop that
    /// calls it can no longer compile: what the counts are there to show.
    #[test]
    fn blacklisted_code_shows_in_the_counts() {
        let host = LuaHost::new().unwrap();
        host.exec(
            "local sqrt = math.sqrt
            local function helper(x) return sqrt(x) end
            for i = 1, 200000 do local f = function() end; helper(i) end
            local s = 0
            for i = 1, 10000 do s = s + helper(i) end",
        )
        .unwrap();
        let stats = host.jit_stats();
        assert!(stats.aborts > 0, "{stats:?}");
        assert!(stats.aborts_blacklisted > 0, "{stats:?}");
        assert!(stats.last_abort.contains("(inline):"), "{stats:?}");
        assert!(stats.last_abort.contains("blacklisted"), "{stats:?}");
    }

    #[test]
    fn turned_off_it_says_so() {
        let host = LuaHost::new().unwrap();
        host.set_jit_enabled(false).unwrap();
        assert!(!host.jit_stats().enabled);
    }
}
