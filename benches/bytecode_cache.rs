//! Bytecode cache: cold compile, disk hit and memory hit, for a whole project of 500 scripts
//! (50 to 2,000 lines) and for one 1,000-line script.
//!
//! Every figure is a complete script load in the main Lua state, the module's top level run
//! included:
//! - cold: no cache, the source is parsed in the main state (what every load costs without one);
//! - disk hit: a new run (empty memory) reads, checks and loads the entries written before;
//! - memory hit, bytecode: the entry is in memory (warmed by the compiler thread) and is loaded
//!   into the main state by Lua's bytecode reader;
//! - memory hit, ready: the same script loaded again with unchanged source; the main state
//!   still holds its compiled chunk.
//!
//! `cargo bench -p lua_runtime_core --bench bytecode_cache`

#[path = "script_corpus.rs"]
mod script_corpus;

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lua_runtime_core::LuaHost;
use lua_runtime_core::bytecode::{BytecodeCache, CacheConfig, Request};

const SCRIPTS: usize = 500;

fn cache(dir: &Path) -> BytecodeCache {
    BytecodeCache::new(CacheConfig {
        memory_budget: 512 << 20,
        disk_dir: Some(dir.to_owned()),
        disk_budget: 1 << 30,
        strip: false,
    })
    .expect("cache")
}

fn host() -> LuaHost {
    LuaHost::new().expect("Lua")
}

fn load_cached(host: &LuaHost, cache: &BytecodeCache, scripts: &[(String, String)]) {
    for (path, source) in scripts {
        let module = host
            .load_module_cached(Request::source(path, source), cache)
            .expect("loads");
        black_box(module);
    }
}

fn load_uncached(host: &LuaHost, scripts: &[(String, String)]) {
    for (path, source) in scripts {
        black_box(host.load_module(path, source).expect("loads"));
    }
}

/// Benchmarks the four ways to load `scripts`, in a group named `name`.
fn bench_set(c: &mut Criterion, name: &str, scripts: &[(String, String)], sample_size: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let warm = cache(dir.path());
    let ready = host();
    load_cached(&ready, &warm, scripts);
    warm.flush();

    let mut group = c.benchmark_group(name);
    group.sample_size(sample_size);
    group.bench_function("cold compile", |b| {
        b.iter_batched(
            host,
            |h| {
                load_uncached(&h, scripts);
                h
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("disk hit", |b| {
        b.iter_batched(
            || (host(), cache(dir.path())),
            |(h, fresh)| {
                load_cached(&h, &fresh, scripts);
                (h, fresh)
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("memory hit, bytecode", |b| {
        b.iter_batched(
            host,
            |h| {
                load_cached(&h, &warm, scripts);
                h
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("memory hit, ready", |b| {
        b.iter(|| load_cached(&ready, &warm, scripts));
    });
    group.finish();
    let stats = warm.stats();
    println!(
        "{name}: {} entries, {} bytes of bytecode in memory",
        stats.entries_memory, stats.bytes_memory
    );
}

fn benches(c: &mut Criterion) {
    let counts = script_corpus::line_counts(SCRIPTS);
    let all: Vec<(String, String)> = counts
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("res://gen/s{i}.lua"), script_corpus::script(i, *n)))
        .collect();
    let lines: usize = all.iter().map(|(_, s)| s.lines().count()).sum();
    let bytes: usize = all.iter().map(|(_, s)| s.len()).sum();
    println!("corpus: {SCRIPTS} scripts, {lines} lines, {bytes} bytes of source");
    bench_set(c, "500 scripts", &all, 10);

    let one = vec![(
        "res://gen/one_thousand.lua".to_owned(),
        script_corpus::script(9_999, 1_000),
    )];
    bench_set(c, "1,000-line script", &one, 100);
}

criterion_group!(bytecode_cache, benches);
criterion_main!(bytecode_cache);
