//! The bytecode cache: current code always runs, damaged entries never do, budgets hold.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lua_runtime_core::bytecode::entry::{self, Expect};
use lua_runtime_core::bytecode::{
    BytecodeCache, CacheConfig, Fingerprint, Request, SourceHash, WarmScript, entry_name,
    flavour_tag,
};
use lua_runtime_core::{Error, LuaHost};

/// A project folder with scripts, and a cache directory beside it.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, source: &str) {
        fs::write(self.file(name), source).expect("write script");
    }

    fn cache(&self) -> BytecodeCache {
        self.cache_with(CacheConfig {
            disk_dir: Some(self.cache_dir()),
            ..CacheConfig::default()
        })
    }

    fn cache_with(&self, config: CacheConfig) -> BytecodeCache {
        BytecodeCache::new(config).expect("cache")
    }

    /// Loads `name` the way the runtime does (reads the file, fetches through the cache) and
    /// returns the module's `value` field.
    fn load(&self, host: &LuaHost, cache: &BytecodeCache, name: &str) -> Result<i64, Error> {
        let source = fs::read_to_string(self.file(name)).expect("read script");
        let path = format!("res://{name}");
        let module = host.load_module_cached(
            Request {
                fingerprint: Some(fingerprint(&self.file(name))),
                ..Request::source(&path, &source)
            },
            cache,
        )?;
        Ok(module.get::<i64>("value").expect("value field"))
    }

    /// The disk entry of `name`, once pending writes are done.
    fn entry_file(&self, cache: &BytecodeCache, name: &str) -> PathBuf {
        cache.flush();
        self.cache_dir()
            .join(entry_name(&format!("res://{name}"), false))
    }
}

fn fingerprint(file: &Path) -> Fingerprint {
    let meta = fs::metadata(file).expect("metadata");
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Fingerprint {
        size: meta.len(),
        modified,
    }
}

fn host() -> LuaHost {
    LuaHost::new().expect("Lua state")
}

fn module_returning(value: i64) -> String {
    format!("local M = {{}}\nM.value = {value}\nreturn M\n")
}

#[test]
fn the_second_run_is_a_disk_hit() -> Result<(), Error> {
    let project = Project::new();
    project.write("a.lua", &module_returning(1));
    {
        let cache = project.cache();
        assert_eq!(project.load(&host(), &cache, "a.lua")?, 1);
        let stats = cache.stats();
        assert_eq!((stats.misses, stats.compiles), (1, 1));
        cache.flush();
    }
    let cache = project.cache();
    assert_eq!(project.load(&host(), &cache, "a.lua")?, 1);
    let stats = cache.stats();
    assert_eq!((stats.hits_disk, stats.misses, stats.compiles), (1, 0, 0));
    assert_eq!(project.load(&host(), &cache, "a.lua")?, 1);
    assert_eq!(cache.stats().hits_memory, 1);
    assert!(
        cache.stats().time_saved_us > 0,
        "hits count the compile time they saved"
    );
    Ok(())
}

#[test]
fn an_edit_always_runs_even_with_the_same_size_and_mtime() -> Result<(), Error> {
    let project = Project::new();
    project.write("a.lua", &module_returning(1));
    let file = project.file("a.lua");
    let stamp = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let set_stamp = || {
        fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(stamp))
            .expect("set mtime")
    };
    set_stamp();
    let cache = project.cache();
    let host = host();
    assert_eq!(project.load(&host, &cache, "a.lua")?, 1);
    let before = fingerprint(&file);

    project.write("a.lua", &module_returning(2));
    set_stamp();
    assert_eq!(fingerprint(&file), before, "the edit kept size and mtime");
    assert!(cache.looks_unchanged("res://a.lua", before));
    assert_eq!(project.load(&host, &cache, "a.lua")?, 2, "same cache");
    cache.flush();
    drop(cache);

    project.write("a.lua", &module_returning(3));
    set_stamp();
    let next_run = project.cache();
    assert_eq!(project.load(&host, &next_run, "a.lua")?, 3, "next run");
    assert_eq!(next_run.stats().rejected_reasons.get("stale"), Some(&1));
    Ok(())
}

#[test]
fn a_changed_fingerprint_invalidates_the_memory_entry() -> Result<(), Error> {
    let project = Project::new();
    project.write("a.lua", &module_returning(1));
    let cache = project.cache();
    let host = host();
    project.load(&host, &cache, "a.lua")?;
    project.write("a.lua", &module_returning(22));
    assert_eq!(project.load(&host, &cache, "a.lua")?, 22);
    assert_eq!(cache.stats().invalidations, 1);
    Ok(())
}

/// Damages the disk entry of a script, then checks that a fresh cache rejects it for `reason`,
/// runs the right code, and leaves a good entry behind.
fn damaged_entry_is_rebuilt(damage: impl Fn(&Path), reason: &str) -> Result<(), Error> {
    let project = Project::new();
    project.write("a.lua", &module_returning(7));
    let first = project.cache();
    project.load(&host(), &first, "a.lua")?;
    let entry_file = project.entry_file(&first, "a.lua");
    drop(first);
    assert!(entry_file.exists(), "the first run wrote an entry");
    damage(&entry_file);

    let cache = project.cache();
    assert_eq!(project.load(&host(), &cache, "a.lua")?, 7);
    let stats = cache.stats();
    assert_eq!(stats.rejected, 1, "{stats:?}");
    assert_eq!(stats.rejected_reasons.get(reason), Some(&1), "{stats:?}");
    assert_eq!((stats.hits_disk, stats.compiles), (0, 1));

    let rebuilt = fs::read(project.entry_file(&cache, "a.lua")).expect("rebuilt entry");
    let expect = Expect {
        path: "res://a.lua",
        tag: flavour_tag(),
        stripped: false,
        source_hash: Some(SourceHash::of(&module_returning(7))),
    };
    assert!(
        entry::decode(&rebuilt, expect).is_ok(),
        "a good entry replaced it"
    );
    Ok(())
}

#[test]
fn a_truncated_entry_is_rejected_and_rebuilt() -> Result<(), Error> {
    damaged_entry_is_rebuilt(
        |file| {
            let bytes = fs::read(file).unwrap();
            fs::write(file, &bytes[..bytes.len() / 2]).unwrap();
        },
        "truncated",
    )
}

#[test]
fn a_bit_flipped_entry_is_rejected_and_rebuilt() -> Result<(), Error> {
    damaged_entry_is_rebuilt(
        |file| {
            let mut bytes = fs::read(file).unwrap();
            let at = bytes.len() - 20;
            bytes[at] ^= 0x10;
            fs::write(file, bytes).unwrap();
        },
        "checksum",
    )
}

#[test]
fn a_wrong_magic_entry_is_rejected_and_rebuilt() -> Result<(), Error> {
    damaged_entry_is_rebuilt(
        |file| {
            let mut bytes = fs::read(file).unwrap();
            bytes[..4].copy_from_slice(b"\x1bLua");
            fs::write(file, bytes).unwrap();
        },
        "bad_magic",
    )
}

#[test]
fn a_zero_length_entry_is_rejected_and_rebuilt() -> Result<(), Error> {
    damaged_entry_is_rebuilt(|file| fs::write(file, b"").unwrap(), "empty")
}

#[test]
fn another_flavours_entry_is_rejected_and_rebuilt() -> Result<(), Error> {
    damaged_entry_is_rebuilt(
        |file| {
            let foreign = lua_runtime_core::bytecode::Bytecode {
                path: "res://a.lua".to_owned(),
                source_hash: SourceHash::of(&module_returning(7)),
                bytes: b"\x1bLua\x54\x00 not for this VM".to_vec(),
                compile_us: 5,
            };
            fs::write(file, entry::encode(&foreign, "Lua 9.9 64-bit", false)).unwrap();
        },
        "foreign_flavour",
    )
}

#[test]
fn a_compile_failure_is_remembered_until_the_source_changes() -> Result<(), Error> {
    let project = Project::new();
    project.write("bad.lua", "local M = {}\nM.value = = 1\nreturn M\n");
    let cache = project.cache();
    let host = host();
    for attempt in 0..3 {
        let err = project.load(&host, &cache, "bad.lua").unwrap_err();
        assert_eq!(err.line(), Some(2), "attempt {attempt}: {err}");
        assert!(err.to_string().starts_with("res://bad.lua:2:"), "{err}");
    }
    let stats = cache.stats();
    assert_eq!((stats.compile_failures, stats.failure_hits), (1, 2));
    assert_eq!(stats.compiles, 0);

    project.write("bad.lua", &module_returning(5));
    assert_eq!(project.load(&host, &cache, "bad.lua")?, 5);
    assert_eq!(cache.stats().compiles, 1);
    Ok(())
}

#[test]
fn a_runtime_error_in_cached_code_names_its_line() -> Result<(), Error> {
    let project = Project::new();
    project.write(
        "boom.lua",
        "local M = {}\n\nlocal t = nil\nM.value = t.x\nreturn M\n",
    );
    let first = project.cache();
    let _ = project.load(&host(), &first, "boom.lua");
    first.flush();
    drop(first);
    let cache = project.cache();
    let err = project.load(&host(), &cache, "boom.lua").unwrap_err();
    assert_eq!(
        cache.stats().hits_disk,
        1,
        "the error came from cached bytecode"
    );
    assert!(err.to_string().starts_with("res://boom.lua:4:"), "{err}");
    Ok(())
}

#[test]
fn budgets_hold_under_a_stream_of_inserts() -> Result<(), Error> {
    let project = Project::new();
    let cache = project.cache_with(CacheConfig {
        memory_budget: 40_000,
        disk_dir: Some(project.cache_dir()),
        disk_budget: 60_000,
        strip: false,
    });
    let host = host();
    for i in 0..120 {
        let name = format!("s{i}.lua");
        let body: String = (0..(i % 40) * 5)
            .map(|n| format!("M.f{n} = function(x) return x * {n} + {i} end\n"))
            .collect();
        project.write(
            &name,
            &format!("local M = {{}}\n{body}M.value = {i}\nreturn M\n"),
        );
        assert_eq!(project.load(&host, &cache, &name)?, i64::from(i));
        cache.flush();
        let stats = cache.stats();
        assert!(stats.bytes_memory <= 40_000, "{stats:?}");
        assert!(stats.bytes_disk <= 60_000, "{stats:?}");
    }
    let stats = cache.stats();
    assert!(stats.evictions > 0 && stats.disk_evictions > 0, "{stats:?}");
    let on_disk: u64 = fs::read_dir(project.cache_dir())
        .expect("cache dir")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    assert!(on_disk <= 60_000, "{on_disk} bytes on disk");
    Ok(())
}

#[test]
fn invalidating_from_another_thread_while_loading_is_safe() -> Result<(), Error> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let project = Project::new();
    for i in 0..8 {
        project.write(&format!("s{i}.lua"), &module_returning(i));
    }
    let cache = Arc::new(project.cache());
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let invalidator = {
        let (cache, stop, rounds) = (cache.clone(), stop.clone(), rounds.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for i in 0..8 {
                    cache.invalidate(&format!("res://s{i}.lua"));
                }
                if rounds.load(Ordering::Relaxed).is_multiple_of(50) {
                    cache.clear();
                }
                rounds.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let host = host();
    // Keep loading until the other thread has had time to run many rounds
    // alongside, however late the scheduler starts it.
    let mut loads = 0u32;
    while loads < 400 || rounds.load(Ordering::Relaxed) < 100 {
        let i = loads % 8;
        assert_eq!(
            project.load(&host, &cache, &format!("s{i}.lua"))?,
            i64::from(i)
        );
        loads += 1;
        assert!(loads < 10_000_000, "the invalidating thread never ran");
    }
    stop.store(true, Ordering::Relaxed);
    invalidator.join().expect("invalidator thread");
    Ok(())
}

#[test]
fn warming_compiles_in_the_background_and_loads_hit_memory() -> Result<(), Error> {
    let project = Project::new();
    let mut scripts = Vec::new();
    for i in 0..20 {
        let name = format!("w{i}.lua");
        project.write(&name, &module_returning(i));
        scripts.push(WarmScript {
            path: format!("res://{name}"),
            file: project.file(&name),
        });
    }
    project.write("broken.lua", "return {");
    scripts.push(WarmScript {
        path: "res://broken.lua".to_owned(),
        file: project.file("broken.lua"),
    });
    let cache = project.cache();
    cache.warm(scripts.clone());
    cache.flush();
    let stats = cache.stats();
    assert_eq!((stats.warm_queued, stats.warm_done), (21, 21));
    assert_eq!((stats.compiles, stats.compile_failures), (20, 1));
    let host = host();
    for i in 0..20 {
        assert_eq!(
            project.load(&host, &cache, &format!("w{i}.lua"))?,
            i64::from(i)
        );
    }
    assert!(project.load(&host, &cache, "broken.lua").is_err());
    let stats = cache.stats();
    assert_eq!(
        (stats.hits_memory, stats.misses, stats.compiles),
        (20, 0, 20)
    );
    assert_eq!(stats.failure_hits, 1);

    // Warming again in a later run finds everything on disk.
    drop(cache);
    let next_run = project.cache();
    next_run.warm(scripts);
    next_run.flush();
    assert_eq!(next_run.stats().compiles, 0);
    Ok(())
}

#[test]
fn shipped_bytecode_runs_without_source_and_is_checked_against_it() -> Result<(), Error> {
    let project = Project::new();
    let cache = project.cache_with(CacheConfig::default());
    let shipped = cache
        .export_entry("res://a.lua", &module_returning(9))
        .expect("export");
    let read_shipped = || Some(shipped.clone());
    let host = host();

    let module = host.load_module_cached(
        Request {
            path: "res://a.lua",
            source: None,
            fingerprint: None,
            shipped: Some(&read_shipped),
        },
        &cache,
    )?;
    assert_eq!(module.get::<i64>("value").ok(), Some(9));
    assert_eq!(cache.stats().hits_shipped, 1);
    assert_eq!(cache.stats().compiles, 0);

    let fresh = project.cache_with(CacheConfig::default());
    let edited = module_returning(10);
    let module = host.load_module_cached(
        Request {
            shipped: Some(&read_shipped),
            ..Request::source("res://a.lua", &edited)
        },
        &fresh,
    )?;
    assert_eq!(module.get::<i64>("value").ok(), Some(10), "the source wins");
    assert_eq!(fresh.stats().rejected_reasons.get("stale"), Some(&1));
    Ok(())
}

#[test]
fn an_unusable_cache_directory_leaves_a_working_memory_cache() -> Result<(), Error> {
    let project = Project::new();
    project.write("a.lua", &module_returning(4));
    project.write("not-a-dir", "a file where the directory should be");
    let cache = project.cache_with(CacheConfig {
        disk_dir: Some(project.file("not-a-dir")),
        ..CacheConfig::default()
    });
    assert_eq!(project.load(&host(), &cache, "a.lua")?, 4);
    assert!(!cache.stats().disk_error.is_empty());
    assert_eq!(project.load(&host(), &cache, "a.lua")?, 4);
    assert_eq!(cache.stats().hits_memory, 1);
    Ok(())
}

#[test]
fn warming_a_directory_finds_scripts_and_skips_hidden_and_ignored_folders() -> Result<(), Error> {
    let project = Project::new();
    let root = project.file("game");
    for dir in ["lib/deep", ".godot", "ignored"] {
        fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    fs::write(root.join("ignored/.gdignore"), "").expect("gdignore");
    for (file, value) in [("main.lua", 1), ("lib/util.lua", 2), ("lib/deep/x.lua", 3)] {
        fs::write(root.join(file), module_returning(value)).expect("script");
    }
    fs::write(root.join(".godot/hidden.lua"), "return {").expect("hidden");
    fs::write(root.join("ignored/skip.lua"), "return {").expect("ignored");
    fs::write(root.join("notes.txt"), "not a script").expect("txt");

    let cache = project.cache();
    cache.warm_directory(root.clone());
    cache.flush();
    let stats = cache.stats();
    assert_eq!((stats.warm_queued, stats.warm_done), (3, 3), "{stats:?}");
    assert_eq!((stats.compiles, stats.compile_failures), (3, 0));
    assert_eq!(stats.pending_jobs, 0);

    let source = fs::read_to_string(root.join("lib/deep/x.lua")).expect("read");
    let host = host();
    let module =
        host.load_module_cached(Request::source("res://lib/deep/x.lua", &source), &cache)?;
    assert_eq!(module.get::<i64>("value").ok(), Some(3));
    assert_eq!(
        cache.stats().hits_memory,
        1,
        "warming keyed it by its res:// path"
    );
    Ok(())
}
