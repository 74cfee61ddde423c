//! What the time budget costs: the same Lua code run as the runtime runs it (instrumented with
//! budget ticks, budget on) and as plain Lua (no ticks), in one process, under the same Lua.
//! The kernels are the shapes the budget touches most: a callback per node that moves it (one
//! function entry per node), tight numeric loops (a tick per iteration), and recursion (a tick
//! per call).
//!
//! `cargo bench -p lua_runtime_core --bench budget`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lua_runtime_core::LuaHost;
use mlua::{Function, Table};

const KERNELS: &str = r#"
local M = {}

-- 10,000 nodes, each moved by its own callback, as a batch runs them.
local nodes = {}
for i = 1, 10000 do nodes[i] = { x = i, y = 0, vx = 1.5, vy = -0.5 } end
local function move(node, dt)
  node.x = node.x + node.vx * dt
  node.y = node.y + node.vy * dt
end
function M.moving_nodes()
  for i = 1, #nodes do move(nodes[i], 0.016) end
  return nodes[1].x
end

function M.mandelbrot()
  local n, inside = 64, 0
  for y = 0, n - 1 do
    local ci = 2 * y / n - 1
    for x = 0, n - 1 do
      local cr = 2 * x / n - 1.5
      local zr, zi, k = 0, 0, 0
      while k < 50 and zr * zr + zi * zi < 4 do
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
        k = k + 1
      end
      if k == 50 then inside = inside + 1 end
    end
  end
  return inside
end

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
function M.fib() return fib(20) end

function M.spectral_norm()
  local n = 100
  local function a(i, j) local ij = i + j - 1 return 1.0 / (ij * (ij - 1) * 0.5 + i) end
  local u, v = {}, {}
  for i = 1, n do u[i] = 1 end
  for _ = 1, 5 do
    for i = 1, n do local s = 0 for j = 1, n do s = s + a(i, j) * u[j] end v[i] = s end
    for i = 1, n do local s = 0 for j = 1, n do s = s + a(j, i) * v[j] end u[i] = s end
  end
  return u[1]
end

return M
"#;

fn kernels(c: &mut Criterion) {
    let host = LuaHost::new().expect("Lua state");
    host.budget().set_limit(Some(Duration::from_millis(100)));
    let budgeted: Table = host
        .load_module("res://kernels.lua", KERNELS)
        .expect("instrumented kernels");
    let plain: Table = host
        .lua()
        .load(KERNELS)
        .set_name("=plain")
        .eval()
        .expect("plain kernels");
    let mut group = c.benchmark_group("budget");
    for name in ["moving_nodes", "mandelbrot", "fib", "spectral_norm"] {
        let with: Function = budgeted.get(name).expect("kernel");
        let without: Function = plain.get(name).expect("kernel");
        assert_eq!(
            with.call::<f64>(()).expect("runs"),
            without.call::<f64>(()).expect("runs"),
            "{name}: same result both ways"
        );
        group.bench_function(format!("{name}/plain"), |b| {
            b.iter(|| black_box(without.call::<f64>(()).expect("runs")));
        });
        group.bench_function(format!("{name}/with budget"), |b| {
            b.iter(|| {
                let _entered = host.budget().enter();
                black_box(with.call::<f64>(()).expect("runs"))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
