//! Runs the compute kernels with a plain Lua state: the same LuaJIT (or Lua 5.4) the runtime
//! embeds, outside Godot and without the runtime's sandbox or time budget. It is the reference
//! `benches/engine.sh compute` compares the runtime inside Godot with.
//!
//! ```sh
//! cargo run --release -p lua_runtime_core --example standalone_lua -- \
//!     [--host] benches/godot/compute/kernels.lua [ROUNDS]
//! ```
//!
//! With `--host` the file runs in the runtime's own Lua host instead (its sandbox and time
//! budget ticks, still outside Godot), which separates what the runtime's Lua costs from what
//! Godot does.
//!
//! The file returns the kernels table (see its header). Prints one `BENCH-STANDALONE` line
//! (`BENCH-HOST` with `--host`) per kernel: the best of ROUNDS runs (default 3, wall clock
//! around the call, each from a collected heap, as the engine benchmark times them) and the
//! kernel's checksum.

use std::time::Instant;

use lua_runtime_core::host::LuaHost;
use mlua::{Function, Lua, Table, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let in_host = args.iter().any(|a| a == "--host");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let path = positional
        .next()
        .ok_or("usage: standalone_lua [--host] KERNELS.lua [ROUNDS]")?;
    let rounds: u32 = match positional.next() {
        Some(rounds) => rounds.parse()?,
        None => 3,
    };
    let source = std::fs::read_to_string(path)?;
    // `--host`: in the runtime's own Lua host (sandbox, time budget ticks), still outside Godot.
    let host = if in_host { Some(LuaHost::new()?) } else { None };
    let plain: Lua;
    let (lua, kernels): (&Lua, Table) = match &host {
        Some(host) => {
            let kernels = host.eval(&source)?.into_iter().next();
            match kernels {
                Some(Value::Table(kernels)) => (host.lua(), kernels),
                _ => return Err("the kernels file did not return a table".into()),
            }
        }
        None => {
            plain = Lua::new();
            let kernels = plain.load(&source).set_name(format!("@{path}")).eval()?;
            (&plain, kernels)
        }
    };
    let label = if in_host {
        "BENCH-HOST"
    } else {
        "BENCH-STANDALONE"
    };
    let time: Function = kernels.get("time")?;
    for name in kernels.get::<Table>("order")?.sequence_values::<String>() {
        let name = name?;
        let mut best = f64::INFINITY;
        let mut result = String::new();
        for _ in 0..rounds {
            // Each run starts from a collected heap, as the engine benchmark's do.
            lua.gc_collect()?;
            let started = Instant::now();
            let run: Table = time.call(name.as_str())?;
            best = best.min(started.elapsed().as_secs_f64() * 1e6);
            result = match run.get::<Value>("result")? {
                Value::Integer(n) => n.to_string(),
                Value::Number(n) => format!("{n:.9}"),
                other => format!("{other:?}"),
            };
        }
        println!("{label} kernel={name} us={best:.0} result={result}");
    }
    Ok(())
}
