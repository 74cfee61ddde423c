//! The bytecode cache: each script is compiled once, across runs, and stale code never runs.
//!
//! A script's bytecode is found, in order, in
//! 1. the memory level ([`memory`]): an LRU bounded in bytes;
//! 2. the disk level ([`disk`]): one checked entry file per script (format in [`entry`]),
//!    kept between runs, `user://lua_bytecode` in a game;
//! 3. the shipped level: entries an exported game carries, read through the engine;
//! 4. the compiler thread ([`compiler`]), which compiles it with its own Lua state.
//!
//! Every level is keyed by the script path and checked against the hash of the current source
//! (xxh3-128), the Lua flavour and version, and the strip flag, so an edit (even one that keeps
//! the file's size and modification time) is always a miss. Size and modification time, when the
//! caller has them, are the fast check that drops an entry before its hash is even compared.
//! Sources that failed to compile are remembered with their error until they change.
//!
//! The cache is shared between threads (`Send + Sync`): the compiler thread warms it while the
//! main thread loads from it, and any thread may invalidate a path.

pub mod compiler;
pub mod disk;
pub mod entry;
pub mod memory;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use compiler::{AtShutdown, Compiler};
use disk::DiskStore;
use entry::{Expect, Reject};
use memory::MemoryLevel;
use mlua::{Lua, LuaOptions, StdLib};

use crate::errors::ScriptError;
use crate::stats::BytecodeStats;

/// Hash of a script's source text: the truth about whether an entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceHash(pub u128);

impl SourceHash {
    pub fn of(source: &str) -> Self {
        SourceHash(xxhash_rust::xxh3::xxh3_128(source.as_bytes()))
    }
}

/// Size and modification time of a script file: the fast check for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub size: u64,
    pub modified: u64,
}

/// Compiled code of one version of one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytecode {
    pub path: String,
    pub source_hash: SourceHash,
    pub bytes: Vec<u8>,
    /// How long compiling it took: the time a hit saves.
    pub compile_us: u32,
}

/// Where a fetched bytecode came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Memory,
    Disk,
    Shipped,
    Compiled,
}

/// Budgets and places; the extension fills it from the project settings.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes the memory level may hold.
    pub memory_budget: usize,
    /// Where entries persist between runs; `None` keeps them in memory only.
    pub disk_dir: Option<PathBuf>,
    /// Bytes the disk level may hold.
    pub disk_budget: u64,
    /// Strip debug information (line numbers) from bytecode. Off by default: errors in stripped
    /// code cannot name their line.
    pub strip: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            memory_budget: 32 << 20,
            disk_dir: None,
            disk_budget: 256 << 20,
            strip: false,
        }
    }
}

/// What a load asks the cache for.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The script path (`res://...`), the key.
    pub path: &'a str,
    /// The current source; `None` when the game ships bytecode only.
    pub source: Option<&'a str>,
    /// The file's size and modification time, when known.
    pub fingerprint: Option<Fingerprint>,
    /// Reads the entry an exported game ships for this script, if any.
    pub shipped: Option<&'a dyn Fn() -> Option<Vec<u8>>>,
}

impl<'a> Request<'a> {
    /// A request for a script whose source is at hand and nothing else is known.
    pub fn source(path: &'a str, source: &'a str) -> Self {
        Request {
            path,
            source: Some(source),
            fingerprint: None,
            shipped: None,
        }
    }
}

/// A script to compile ahead of time: its path (the key) and the file to read it from.
#[derive(Debug, Clone)]
pub struct WarmScript {
    pub path: String,
    pub file: PathBuf,
}

/// The two-level cache and its compiler thread.
pub struct BytecodeCache {
    shared: Arc<Shared>,
    compiler: Compiler,
}

struct Shared {
    tag: &'static str,
    strip: bool,
    memory: Mutex<MemoryLevel>,
    disk: Option<DiskStore>,
    disk_error: Option<String>,
    failures: Mutex<HashMap<String, (SourceHash, ScriptError)>>,
    fingerprints: Mutex<HashMap<String, Fingerprint>>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    hits_memory: AtomicU64,
    hits_disk: AtomicU64,
    hits_shipped: AtomicU64,
    misses: AtomicU64,
    compiles: AtomicU64,
    compile_failures: AtomicU64,
    failure_hits: AtomicU64,
    rejected: [AtomicU64; Reject::ALL.len()],
    invalidations: AtomicU64,
    compile_us: AtomicU64,
    load_us: AtomicU64,
    saved_us: AtomicU64,
    warm_queued: AtomicU64,
    warm_done: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves at worst a missing entry, never a wrong
    // one (entries are checked by hash), so the cache carries on.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running Lua's flavour and version, and the pointer width: bytecode of any other tag
/// is foreign.
pub fn flavour_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        #[cfg(feature = "luajit")]
        let libs = StdLib::JIT;
        #[cfg(not(feature = "luajit"))]
        let libs = StdLib::NONE;
        let version = Lua::new_with(libs, LuaOptions::default())
            .and_then(|lua| {
                lua.load("return jit and jit.version or _VERSION")
                    .eval::<String>()
            })
            .unwrap_or_else(|_| crate::LUA_FLAVOUR.to_owned());
        format!("{version} {}-bit", usize::BITS)
    })
}

/// The file name of the disk (and shipped) entry of `path`.
pub fn entry_name(path: &str, strip: bool) -> String {
    let hash = xxhash_rust::xxh3::xxh3_64(path.as_bytes());
    let suffix = if strip { "-s" } else { "" };
    format!("{hash:016x}{suffix}.{}", disk::ENTRY_EXTENSION)
}

impl BytecodeCache {
    /// Opens the disk level (a directory that cannot be used leaves the cache memory-only, and
    /// says why in its statistics) and starts the compiler thread.
    ///
    /// # Errors
    /// The compiler thread could not be started.
    pub fn new(config: CacheConfig) -> std::io::Result<Self> {
        let (disk, disk_error) = match &config.disk_dir {
            None => (None, None),
            Some(dir) => match DiskStore::open(dir, config.disk_budget) {
                Ok(store) => (Some(store), None),
                Err(e) => {
                    let message = format!("{}: {e}", dir.display());
                    tracing::warn!("bytecode cache kept in memory only: {message}");
                    (None, Some(message))
                }
            },
        };
        Ok(BytecodeCache {
            shared: Arc::new(Shared {
                tag: flavour_tag(),
                strip: config.strip,
                memory: Mutex::new(MemoryLevel::new(config.memory_budget)),
                disk,
                disk_error,
                failures: Mutex::new(HashMap::new()),
                fingerprints: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
            compiler: Compiler::start()?,
        })
    }

    /// The bytecode of a script, from the first level that has a current entry, compiling it
    /// (on the compiler thread, waited for) when none does.
    ///
    /// # Errors
    /// The script's syntax error, remembered for unchanged source; or, when no source is
    /// given, the lack of any shipped bytecode.
    pub fn fetch(&self, request: Request<'_>) -> Result<(Arc<Bytecode>, Level), ScriptError> {
        let shared = &self.shared;
        let path = request.path;
        shared.note_fingerprint(path, request.fingerprint);
        let Some(source) = request.source else {
            return self.fetch_without_source(request);
        };
        let hash = SourceHash::of(source);
        if let Some(found) = lock(&shared.memory).get(path, hash) {
            shared.count_hit(&shared.counters.hits_memory, &found);
            return Ok((found, Level::Memory));
        }
        if let Some(error) = shared.remembered_failure(path, hash) {
            bump(&shared.counters.failure_hits, 1);
            return Err(error);
        }
        if let Some(found) = shared.disk_entry(path, hash) {
            shared.count_hit(&shared.counters.hits_disk, &found);
            return Ok((found, Level::Disk));
        }
        if let Some(read_shipped) = request.shipped
            && let Some(found) = shared.shipped_entry(path, Some(hash), read_shipped)
        {
            shared.count_hit(&shared.counters.hits_shipped, &found);
            return Ok((found, Level::Shipped));
        }
        bump(&shared.counters.misses, 1);
        let compiled = self.compiler.compile_now(path, source, shared.strip);
        let compiled = shared.remember_compile(path, hash, compiled)?;
        self.store_on_disk(&compiled);
        Ok((compiled, Level::Compiled))
    }

    fn fetch_without_source(
        &self,
        request: Request<'_>,
    ) -> Result<(Arc<Bytecode>, Level), ScriptError> {
        let shared = &self.shared;
        let path = request.path;
        if let Some(found) = lock(&shared.memory).peek(path) {
            shared.count_hit(&shared.counters.hits_memory, &found);
            return Ok((found, Level::Memory));
        }
        if let Some(read_shipped) = request.shipped
            && let Some(found) = shared.shipped_entry(path, None, read_shipped)
        {
            shared.count_hit(&shared.counters.hits_shipped, &found);
            return Ok((found, Level::Shipped));
        }
        Err(ScriptError {
            path: path.to_owned(),
            line: None,
            message: "script file not found, and no precompiled bytecode was exported for it"
                .to_owned(),
            traceback: String::new(),
        })
    }

    /// Forgets what is known of `path` in memory (its entry, remembered failure and
    /// fingerprint), so the next fetch checks the disk and the source again. Safe from any
    /// thread, at any time.
    pub fn invalidate(&self, path: &str) {
        let shared = &self.shared;
        let dropped = shared.drop_memory(path);
        let forgot = lock(&shared.failures).remove(path).is_some();
        lock(&shared.fingerprints).remove(path);
        if dropped || forgot {
            bump(&shared.counters.invalidations, 1);
        }
    }

    /// Lets go of the memory entry of `path` (a script no longer loaded); its disk entry
    /// stays, so loading it again is a disk hit. Returns whether there was one.
    pub fn release(&self, path: &str) -> bool {
        self.shared.drop_memory(path)
    }

    /// Whether `fingerprint` is the one last seen for `path` (`false` when never seen). Only a
    /// fast hint: an edit that keeps size and modification time is caught by the hash at load.
    pub fn looks_unchanged(&self, path: &str, fingerprint: Fingerprint) -> bool {
        lock(&self.shared.fingerprints).get(path) == Some(&fingerprint)
    }

    /// Empties both levels and the remembered failures (pending disk writes finish first).
    pub fn clear(&self) {
        self.compiler.flush();
        let shared = &self.shared;
        lock(&shared.memory).clear();
        lock(&shared.failures).clear();
        lock(&shared.fingerprints).clear();
        if let Some(disk) = &shared.disk {
            disk.clear();
        }
    }

    /// Compiles `scripts` on the compiler thread, in the background, into both levels. Scripts
    /// with a current entry are not compiled again; urgent compiles go first.
    pub fn warm(&self, scripts: Vec<WarmScript>) {
        for task in warm_tasks(&self.shared, scripts) {
            self.compiler.push_background(task, AtShutdown::Drop);
        }
    }

    /// Warms every `.lua` file under `root`, keyed as `res://` + its path relative to `root`.
    /// The folder is walked on the compiler thread too. Hidden folders (`.godot`, `.git`) and
    /// folders holding a `.gdignore` file are skipped, as Godot's own file system skips them.
    pub fn warm_directory(&self, root: PathBuf) {
        let shared = self.shared.clone();
        let queue = self.compiler.queue();
        self.compiler.push_background(
            Box::new(move |_: &Lua| {
                let mut scripts = Vec::new();
                find_scripts(&root, "res://", &mut scripts);
                queue.push_background_next(warm_tasks(&shared, scripts), AtShutdown::Drop);
            }),
            AtShutdown::Drop,
        );
    }

    /// Waits until the compiler thread has done everything queued so far (warming, writes).
    pub fn flush(&self) {
        self.compiler.flush();
    }

    /// An entry for an exported game: the script compiled now, in the entry format.
    ///
    /// # Errors
    /// The script's syntax error.
    pub fn export_entry(&self, path: &str, source: &str) -> Result<Vec<u8>, ScriptError> {
        let strip = self.shared.strip;
        let compiled = self.compiler.compile_now(path, source, strip)?;
        Ok(entry::encode(&compiled, self.shared.tag, strip))
    }

    /// Counts main-thread time spent turning a fetched entry into a runnable function.
    pub fn record_load(&self, micros: u64) {
        bump(&self.shared.counters.load_us, micros);
    }

    /// A verified entry that Lua still refused to load: dropped everywhere and counted, so the
    /// next fetch compiles afresh.
    pub fn reject_unloadable(&self, path: &str) {
        let shared = &self.shared;
        shared.drop_memory(path);
        if let Some(disk) = &shared.disk {
            disk.remove(&entry_name(path, shared.strip));
        }
        bump(&shared.counters.rejected[Reject::Unloadable.index()], 1);
    }

    /// Whether debug information is stripped.
    pub fn strips(&self) -> bool {
        self.shared.strip
    }

    pub fn stats(&self) -> BytecodeStats {
        let shared = &self.shared;
        let c = &shared.counters;
        let (memory_bytes, memory_entries, evictions, memory_budget) = {
            let memory = lock(&shared.memory);
            (
                memory.bytes(),
                memory.len(),
                memory.evictions(),
                memory.budget(),
            )
        };
        let (disk_bytes, disk_entries, disk_evictions) = match &shared.disk {
            Some(disk) => (disk.bytes(), disk.entries(), disk.evictions()),
            None => (0, 0, 0),
        };
        let hits = read(&c.hits_memory) + read(&c.hits_disk) + read(&c.hits_shipped);
        let lookups = hits + read(&c.misses);
        BytecodeStats {
            enabled: true,
            flavour: shared.tag.to_owned(),
            hits_memory: read(&c.hits_memory),
            hits_disk: read(&c.hits_disk),
            hits_shipped: read(&c.hits_shipped),
            misses: read(&c.misses),
            hit_rate: if lookups == 0 {
                0.0
            } else {
                hits as f64 / lookups as f64
            },
            compiles: read(&c.compiles),
            compile_failures: read(&c.compile_failures),
            failure_hits: read(&c.failure_hits),
            rejected: c.rejected.iter().map(read).sum(),
            rejected_reasons: Reject::ALL
                .iter()
                .map(|r| (r.name().to_owned(), read(&c.rejected[r.index()])))
                .filter(|(_, n)| *n > 0)
                .collect(),
            invalidations: read(&c.invalidations),
            evictions,
            disk_evictions,
            entries_memory: memory_entries as u64,
            entries_disk: disk_entries as u64,
            bytes_memory: memory_bytes as u64,
            bytes_disk: disk_bytes,
            max_memory_bytes: memory_budget as u64,
            disk_directory: shared
                .disk
                .as_ref()
                .map(|d| d.dir().display().to_string())
                .unwrap_or_default(),
            disk_error: shared.disk_error.clone().unwrap_or_default(),
            compile_time_us: read(&c.compile_us),
            load_time_us: read(&c.load_us),
            time_saved_us: read(&c.saved_us),
            warm_queued: read(&c.warm_queued),
            warm_done: read(&c.warm_done),
            pending_jobs: self.compiler.pending() as u64,
        }
    }

    fn store_on_disk(&self, compiled: &Arc<Bytecode>) {
        if self.shared.disk.is_none() {
            return;
        }
        let shared = self.shared.clone();
        let compiled = compiled.clone();
        self.compiler.push_background(
            Box::new(move |_: &Lua| shared.write(&compiled)),
            AtShutdown::Finish,
        );
    }
}

/// One compiler-thread job per script to warm, counted as queued.
fn warm_tasks(shared: &Arc<Shared>, scripts: Vec<WarmScript>) -> Vec<compiler::Task> {
    bump(&shared.counters.warm_queued, scripts.len() as u64);
    scripts
        .into_iter()
        .map(|script| {
            let shared = shared.clone();
            Box::new(move |lua: &Lua| shared.warm_one(lua, &script)) as compiler::Task
        })
        .collect()
}

/// Collects the `.lua` files under `dir` (sorted, so warming order is stable).
fn find_scripts(dir: &Path, prefix: &str, out: &mut Vec<WarmScript>) {
    if dir.join(".gdignore").exists() {
        return;
    }
    let Ok(items) = std::fs::read_dir(dir) else {
        return;
    };
    let mut items: Vec<_> = items.filter_map(Result::ok).collect();
    items.sort_by_key(std::fs::DirEntry::file_name);
    for item in items {
        let name = item.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = item.file_type() else { continue };
        if kind.is_dir() {
            find_scripts(&item.path(), &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".lua") {
            out.push(WarmScript {
                path: format!("{prefix}{name}"),
                file: item.path(),
            });
        }
    }
}

impl Shared {
    /// The fast check: a file whose size or modification time changed drops its memory entry
    /// at once (the hash would miss it anyway; this counts it as an invalidation).
    fn note_fingerprint(&self, path: &str, fingerprint: Option<Fingerprint>) {
        let Some(fingerprint) = fingerprint else {
            return;
        };
        let previous = lock(&self.fingerprints).insert(path.to_owned(), fingerprint);
        if previous.is_some_and(|p| p != fingerprint) && self.drop_memory(path) {
            bump(&self.counters.invalidations, 1);
        }
    }

    fn count_hit(&self, counter: &AtomicU64, found: &Bytecode) {
        bump(counter, 1);
        bump(&self.counters.saved_us, u64::from(found.compile_us));
    }

    fn drop_memory(&self, path: &str) -> bool {
        lock(&self.memory).remove(path)
    }

    fn remembered_failure(&self, path: &str, hash: SourceHash) -> Option<ScriptError> {
        let failures = lock(&self.failures);
        let (failed_hash, error) = failures.get(path)?;
        (*failed_hash == hash).then(|| error.clone())
    }

    /// The disk entry of `path` if it is current; a damaged or stale one is deleted.
    fn disk_entry(&self, path: &str, hash: SourceHash) -> Option<Arc<Bytecode>> {
        let disk = self.disk.as_ref()?;
        let name = entry_name(path, self.strip);
        let bytes = match disk.read(&name) {
            Ok(bytes) => bytes?,
            Err(e) => {
                tracing::warn!("bytecode cache: cannot read {name}: {e}");
                return None;
            }
        };
        let accepted = self.accept(&bytes, path, Some(hash));
        if accepted.is_none() {
            disk.remove(&name);
        }
        accepted
    }

    fn shipped_entry(
        &self,
        path: &str,
        hash: Option<SourceHash>,
        read_shipped: &dyn Fn() -> Option<Vec<u8>>,
    ) -> Option<Arc<Bytecode>> {
        self.accept(&read_shipped()?, path, hash)
    }

    /// A stored entry that passes every check, kept in memory; a refused one is counted.
    fn accept(&self, bytes: &[u8], path: &str, hash: Option<SourceHash>) -> Option<Arc<Bytecode>> {
        let expect = Expect {
            path,
            tag: self.tag,
            stripped: self.strip,
            source_hash: hash,
        };
        match entry::decode(bytes, expect) {
            Ok(found) => {
                let found = Arc::new(found);
                lock(&self.memory).insert(found.clone());
                Some(found)
            }
            Err(reason) => {
                self.count_reject(path, reason);
                None
            }
        }
    }

    fn count_reject(&self, path: &str, reason: Reject) {
        bump(&self.counters.rejected[reason.index()], 1);
        if reason != Reject::Stale {
            tracing::warn!("bytecode cache: rejected the entry of {path} ({reason}); recompiling");
        }
    }

    /// Counts a finished compile, remembering a failure or keeping the bytecode in memory.
    fn remember_compile(
        &self,
        path: &str,
        hash: SourceHash,
        compiled: Result<Bytecode, ScriptError>,
    ) -> Result<Arc<Bytecode>, ScriptError> {
        match compiled {
            Ok(compiled) => {
                bump(&self.counters.compiles, 1);
                bump(&self.counters.compile_us, u64::from(compiled.compile_us));
                let compiled = Arc::new(compiled);
                lock(&self.memory).insert(compiled.clone());
                lock(&self.failures).remove(path);
                Ok(compiled)
            }
            Err(error) => {
                bump(&self.counters.compile_failures, 1);
                lock(&self.failures).insert(path.to_owned(), (hash, error.clone()));
                Err(error)
            }
        }
    }

    fn write(&self, compiled: &Bytecode) {
        let Some(disk) = &self.disk else { return };
        let name = entry_name(&compiled.path, self.strip);
        let bytes = entry::encode(compiled, self.tag, self.strip);
        if let Err(e) = disk.write(&name, &bytes) {
            tracing::warn!("bytecode cache: cannot write {name}: {e}");
        }
    }

    fn warm_one(&self, lua: &Lua, script: &WarmScript) {
        let source = match std::fs::read_to_string(&script.file) {
            Ok(source) => source,
            Err(e) => {
                tracing::debug!("warming skipped {}: {e}", script.path);
                bump(&self.counters.warm_done, 1);
                return;
            }
        };
        let hash = SourceHash::of(&source);
        let current = lock(&self.memory).get(&script.path, hash).is_some()
            || self.remembered_failure(&script.path, hash).is_some()
            || self.disk_entry(&script.path, hash).is_some();
        if !current {
            let started = Instant::now();
            let compiled = compiler::compile(lua, &script.path, &source, self.strip);
            tracing::trace!(
                path = script.path,
                us = started.elapsed().as_micros() as u64,
                "warmed"
            );
            if let Ok(compiled) = self.remember_compile(&script.path, hash, compiled) {
                self.write(&compiled);
            }
        }
        bump(&self.counters.warm_done, 1);
    }
}
