//! Memory over time: garbage collection paced by frames, and the sweep that finds scripts
//! nothing uses.

use std::time::{Duration, Instant};

use lua_runtime_core::LuaHost;
use lua_runtime_core::host::unused::UnusedScripts;
use mlua::Function;

const MIB: usize = 1 << 20;

/// A host running a script whose `churn(n)` makes `n` throwaway tables of about 100 bytes.
fn churning_host(gc_budget: Option<Duration>) -> (LuaHost, Function) {
    let host = LuaHost::new().expect("Lua state");
    host.set_gc_budget(gc_budget);
    let module = host
        .load_module(
            "res://churn.lua",
            "return { churn = function(n) local t for i = 1, n do t = { i, i + 1, i + 2 } end return t end }",
        )
        .expect("script loads");
    let churn = module.get("churn").expect("churn");
    (host, churn)
}

/// Runs `frames` frames, each one call of `churn(n)` and the frame's end; returns the most the
/// heap grew during one call and the largest heap seen.
fn run_frames(host: &LuaHost, churn: &Function, frames: usize, n: usize) -> (usize, usize) {
    let (mut grown, mut largest) = (0, 0);
    for _ in 0..frames {
        let before = host.memory_bytes();
        host.call::<()>(churn, n, "res://churn.lua")
            .expect("churns");
        let after = host.memory_bytes();
        grown = grown.max(after.saturating_sub(before));
        largest = largest.max(after);
        host.end_frame().expect("frame ends");
    }
    (grown, largest)
}

#[test]
fn with_a_frame_budget_garbage_is_collected_at_frame_ends_not_inside_calls() {
    let (host, churn) = churning_host(Some(Duration::from_millis(50)));
    let cycles_before = host.gc_cycles();
    // About 1 MiB of garbage a call.
    let (grown, largest) = run_frames(&host, &churn, 100, 10_000);
    let stats = host.gc().stats();
    assert!(!stats.automatic, "{stats:?}");
    assert_eq!(stats.overruns, 0, "{stats:?}");
    assert!(stats.cycles >= 10, "cycles ran at frame ends: {stats:?}");
    assert!(host.gc_cycles() > cycles_before);
    // Nothing was collected inside a call: the heap grew by everything it allocated.
    let call_allocates = host_alone_allocation(&churn, &host);
    assert!(
        grown >= call_allocates * 9 / 10,
        "{grown} < {call_allocates}"
    );
    assert!(largest < 16 * MIB, "heap stayed bounded: {largest}");
    assert!(
        stats.allocated_last_frame >= (call_allocates * 9 / 10) as u64,
        "{stats:?}"
    );
    assert!(stats.step_us_max > 0);
}

/// What one `churn(10_000)` call allocates, measured with collection stopped.
fn host_alone_allocation(churn: &Function, host: &LuaHost) -> usize {
    host.collect_garbage().expect("collects");
    host.lua().gc_stop();
    let before = host.memory_bytes();
    host.call::<()>(churn, 10_000, "res://churn.lua")
        .expect("churns");
    let allocated = host.memory_bytes() - before;
    host.end_frame().expect("frame ends");
    assert!(allocated > 500_000, "{allocated}");
    allocated
}

#[test]
fn lua_collects_inside_calls_without_a_frame_budget() {
    let (host, churn) = churning_host(None);
    // 100 MiB of garbage in one call does not keep 100 MiB.
    host.call::<()>(&churn, 1_000_000, "res://churn.lua")
        .expect("churns");
    assert!(host.memory_bytes() < 64 * MIB, "{}", host.memory_bytes());
    assert!(host.gc().stats().automatic);
}

#[test]
fn a_budget_too_small_for_the_garbage_falls_back_to_automatic_collection() {
    let (host, churn) = churning_host(Some(Duration::from_nanos(1)));
    // About 4 MiB a frame, with one step a frame to collect it.
    let (_, largest) = run_frames(&host, &churn, 100, 40_000);
    assert!(largest < 64 * MIB, "the heap stayed bounded: {largest}");
    // LuaJIT's one step a frame cannot keep up, so automatic collection helps (Lua 5.4's
    // step may finish a cycle of this small heap by itself).
    #[cfg(feature = "luajit")]
    assert!(host.gc().stats().overruns >= 1, "{:?}", host.gc().stats());
}

#[test]
fn one_call_making_more_garbage_than_the_heap_may_hold_gets_collected_within_it() {
    let (host, churn) = churning_host(Some(Duration::from_millis(1)));
    // About 200 MiB of garbage in one call, with collection stopped until the frame's end:
    // the loop's ticks see the heap pass its ceiling and switch automatic collection on.
    host.call::<()>(&churn, 2_000_000, "res://churn.lua")
        .expect("churns");
    assert!(host.memory_bytes() < 128 * MIB, "{}", host.memory_bytes());
    assert!(host.gc().stats().overruns >= 1, "{:?}", host.gc().stats());
    host.end_frame().expect("frame ends");
    run_frames(&host, &churn, 3, 100);
}

/// Userdata with a finaliser, as every engine-object wrapper has.
struct Wrapper(#[allow(dead_code)] [u64; 8]);
impl mlua::UserData for Wrapper {}

#[test]
fn a_full_collection_frees_objects_whose_finalisers_it_runs() {
    let host = LuaHost::new().expect("Lua state");
    host.set_gc_budget(Some(Duration::from_millis(1)));
    host.collect_garbage().expect("collects");
    let before = host.memory_bytes();
    let lua = host.lua();
    let kept = lua.create_table().expect("table");
    for i in 1..=20_000 {
        let wrapper = lua.create_userdata(Wrapper([0; 8])).expect("userdata");
        kept.raw_set(i, wrapper).expect("kept");
    }
    drop(kept);
    assert!(
        host.memory_bytes() > before + MIB,
        "the wrappers take memory"
    );
    host.collect_garbage().expect("collects");
    // A finaliser runs in one cycle and its object is freed in the next: one call does both.
    assert!(
        host.memory_bytes() < before + 64 * 1024,
        "{} bytes left after one full collection (from {before})",
        host.memory_bytes()
    );
}

#[test]
fn a_full_collection_keeps_collection_paced_by_frames() {
    let (host, churn) = churning_host(Some(Duration::from_millis(5)));
    run_frames(&host, &churn, 5, 1_000);
    host.collect_garbage().expect("collects");
    assert!(!host.gc().stats().automatic);
    let before = host.memory_bytes();
    host.call::<()>(&churn, 20_000, "res://churn.lua")
        .expect("churns");
    assert!(
        host.memory_bytes() - before > MIB,
        "nothing collected inside the call"
    );
}

#[test]
fn a_script_unused_for_the_whole_grace_period_is_due() {
    let unused = UnusedScripts::default();
    let grace = Duration::from_secs(10);
    let t0 = Instant::now();
    let at = |s| t0 + Duration::from_secs(s);
    let loaded =
        |a: bool, b: bool| vec![("res://a.lua".to_owned(), a), ("res://b.lua".to_owned(), b)];
    assert!(unused.sweep(at(0), grace, loaded(false, true)).is_empty());
    assert_eq!(unused.pending(), 1);
    assert!(unused.sweep(at(9), grace, loaded(false, false)).is_empty());
    assert_eq!(
        unused.sweep(at(10), grace, loaded(false, false)),
        ["res://a.lua"]
    );
    assert_eq!(unused.unloaded(), 1);
    // a is unloaded now; b was first seen unused at 9 s.
    let b = || vec![("res://b.lua".to_owned(), false)];
    assert!(unused.sweep(at(18), grace, b()).is_empty());
    assert_eq!(unused.sweep(at(19), grace, b()), ["res://b.lua"]);
    assert_eq!(unused.unloaded(), 2);
}

#[test]
fn a_script_used_again_within_the_grace_period_starts_over() {
    let unused = UnusedScripts::default();
    let grace = Duration::from_secs(10);
    let t0 = Instant::now();
    let at = |s| t0 + Duration::from_secs(s);
    let a = |in_use: bool| vec![("res://a.lua".to_owned(), in_use)];
    unused.sweep(at(0), grace, a(false));
    unused.sweep(at(5), grace, a(true));
    assert_eq!(unused.pending(), 0);
    assert!(unused.sweep(at(12), grace, a(false)).is_empty());
    assert!(unused.sweep(at(21), grace, a(false)).is_empty());
    assert_eq!(unused.sweep(at(22), grace, a(false)), ["res://a.lua"]);
    // Gone from the loaded list: forgotten.
    unused.sweep(at(23), grace, a(false));
    unused.sweep(at(24), grace, Vec::new());
    assert_eq!(unused.pending(), 0);
}
