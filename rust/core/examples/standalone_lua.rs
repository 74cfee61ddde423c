//! Runs the compute kernels with a plain Lua state: the same LuaJIT (or Lua 5.4) the runtime
//! embeds, outside Godot and without the runtime's sandbox or time budget. It is the reference
//! `benches/engine.sh compute` compares the runtime inside Godot with.
//!
//! ```sh
//! cargo run --release -p lua_runtime_core --example standalone_lua -- \
//!     benches/godot/compute/kernels.lua [ROUNDS]
//! ```
//!
//! The file returns the kernels table (see its header). Prints one `BENCH-STANDALONE` line per
//! kernel: the best of ROUNDS runs (default 3, wall clock around the call, each from a
//! collected heap, as the engine benchmark times them) and the kernel's checksum.

use std::time::Instant;

use mlua::{Function, Lua, Table, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: standalone_lua KERNELS.lua [ROUNDS]")?;
    let rounds: u32 = match args.next() {
        Some(rounds) => rounds.parse()?,
        None => 3,
    };
    let lua = Lua::new();
    let source = std::fs::read_to_string(&path)?;
    let kernels: Table = lua.load(&source).set_name(format!("@{path}")).eval()?;
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
        println!("BENCH-STANDALONE kernel={name} us={best:.0} result={result}");
    }
    Ok(())
}
