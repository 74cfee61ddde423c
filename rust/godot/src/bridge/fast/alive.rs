//! Whether an object the fast path holds still lives, known without asking the engine on
//! every access.
//!
//! A node can be freed at any time (`free()` from GDScript, from Lua, by its parent), and the
//! fast path must never touch a freed one. Asking the engine's object table on each access
//! costs a call and a lock. Instead, each object the fast path holds carries an *instance
//! binding* of this library's (a pointer Godot keeps on the object under a token of ours):
//! Godot calls its free callback from the object's destructor, on whatever thread frees it,
//! and the callback clears a flag every slot holding the object shares.
//!
//! The flags sit side by side in a table of their own rather than one allocation each: the
//! fast path reads one for every access, and at thousands of nodes a flag of its own is a
//! cache miss each time, where flags made one after the other share a cache line.
//!
//! Reference-counted objects need no binding: a slot holds a reference, so they live at
//! least as long as the slot.
//!
//! Some objects outlive the library: engine singletons (`Time`, `Input`, ...) are freed after
//! extensions are unloaded, when a free callback of ours would be gone. So the bindings are
//! listed as they are made, and [`release_all`] takes every one still attached off its object
//! when the runtime shuts down.
//!
//! The same flag word says whether the object is known to have no script. A script's `_get`
//! and `_set` must see every access, so the fast path asked each object for its script on
//! every access: at 10,000 moved nodes, about a tenth of the time, mostly memory. Once the
//! engine has said several times that an object has none, the object's `script_changed` is
//! followed instead (one connection per object, to a single shared callable that appends the
//! object: about 900 bytes of the engine's memory each, given back when Lua lets go of the
//! object, or when it is freed if the expression side holds its flag too), and the fast path
//! asks again only after it is emitted. A script attached without that signal (while the
//! object's signals are blocked, or by a language extension that sets a script instance
//! directly) goes unseen until the signal next comes or Lua lets go of the object;
//! docs/lua-api.md says so.

use std::cell::RefCell;
use std::ffi::c_void;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use godot::builtin::{Callable, RustCallable, Variant};
use godot::classes::object::ConnectFlags;
use godot::classes::{Object, RefCounted};
use godot::global::Error;
use godot::obj::{Gd, InstanceId};
use godot::sys;
use rustc_hash::FxHashSet;

/// The address our bindings are filed under: any address that is this library's own.
/// (godot-rust files its own bindings under the library's pointer.)
static TOKEN: u8 = 0;

fn token() -> *mut c_void {
    std::ptr::addr_of!(TOKEN).cast_mut().cast()
}

/// The objects (by address) that carry a binding of ours now, and the flags' table. Locked
/// inside Godot's own lock of an object's bindings (in `create` and `free`), never the other
/// way round.
static WATCHED: LazyLock<Mutex<Watched>> = LazyLock::new(Mutex::default);

#[derive(Default)]
struct Watched {
    objects: FxHashSet<usize>,
    /// Entries no binding and no holder uses, to be used again.
    unused: Vec<&'static Entry>,
    /// The newest chunk's entries not handed out yet.
    fresh: &'static [Entry],
}

/// Entries are made this many at a time. A chunk is never freed (entries are used again), so
/// the table is as big as the most objects watched at once, 4 bytes each.
const CHUNK: usize = 1024;

/// One object's flags: [`ALIVE`] while the object lives, [`SCRIPTLESS`] and [`FOLLOWED`], and
/// below them how many hold the entry (the binding, and each [`Alive`] made from it). Back in
/// the unused list at zero holders.
#[derive(Default)]
pub struct Entry {
    state: AtomicU32,
}

const ALIVE: u32 = 1 << 31;
/// The object has no script: the engine said so, and it has not emitted `script_changed`
/// since.
const SCRIPTLESS: u32 = 1 << 30;
/// The object's `script_changed` is connected to [`ScriptWatch`].
const FOLLOWED: u32 = 1 << 29;
const HOLDERS: u32 = FOLLOWED - 1;

impl Watched {
    fn entry(&mut self) -> &'static Entry {
        if let Some(entry) = self.unused.pop() {
            return entry;
        }
        loop {
            if let Some((entry, rest)) = self.fresh.split_first() {
                self.fresh = rest;
                return entry;
            }
            self.fresh = Box::leak((0..CHUNK).map(|_| Entry::default()).collect());
        }
    }
}

impl Entry {
    /// Takes one holder off; the last one puts the entry back for another object.
    fn release(&'static self) {
        if self.state.fetch_sub(1, Ordering::AcqRel) & HOLDERS == 1 {
            watched().unused.push(self);
        }
    }
}

/// Set by [`release_all`]: no binding is made after it.
static RELEASED: AtomicBool = AtomicBool::new(false);

fn watched() -> std::sync::MutexGuard<'static, Watched> {
    WATCHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes every binding of ours off the objects that still carry one (at shutdown: some of
/// them are freed after the library is unloaded). Each object's flag reads dead after it.
pub fn release_all() {
    RELEASED.store(true, Ordering::Release);
    let objects = std::mem::take(&mut watched().objects);
    let watch = WATCH.take();
    for object in objects {
        if let Some(watch) = &watch {
            unfollow(object as sys::GDExtensionObjectPtr, watch);
        }
        // SAFETY: an address is listed from `create` until `free`, which runs in the
        // object's destructor: a listed object is alive. Godot calls `free` for the binding
        // it removes, which clears the flag and releases the binding's hold on it.
        unsafe {
            sys::interface_fn!(object_free_instance_binding)(
                object as sys::GDExtensionObjectPtr,
                token(),
            );
        }
    }
}

/// Whether one object lives.
pub enum Alive {
    /// Kept alive by the holder's own reference.
    Held,
    /// Not known, so taken for dead: the fast path declines and the general path, which
    /// checks the object itself, answers.
    Unknown,
    /// Cleared by the object's destructor; held with the object's binding.
    Watched(&'static Entry),
}

impl Alive {
    /// Starts watching `object` (the same flag for every holder of one object).
    pub fn of(object: &Gd<Object>) -> Alive {
        if object.clone().try_cast::<RefCounted>().is_ok() {
            return Alive::Held;
        }
        if RELEASED.load(Ordering::Acquire) {
            // Shutting down: no new binding.
            return Alive::Unknown;
        }
        let callbacks = sys::GDExtensionInstanceBindingCallbacks {
            create_callback: Some(create),
            free_callback: Some(free),
            reference_callback: Some(reference),
        };
        // SAFETY: `object` is live (the caller holds it); Godot creates the binding with
        // `create` on the first call for this token and returns the same pointer after.
        let binding = unsafe {
            sys::interface_fn!(object_get_instance_binding)(object.obj_sys(), token(), &callbacks)
        };
        // SAFETY: a binding under our token is an entry `create` handed out, which the
        // binding holds until `free` runs in the object's destructor, not while the caller
        // holds the object; entries live as long as the library.
        let Some(entry) = (unsafe { binding.cast_const().cast::<Entry>().as_ref() }) else {
            // Only if Godot refused the binding.
            return Alive::Unknown;
        };
        entry.state.fetch_add(1, Ordering::AcqRel);
        Alive::Watched(entry)
    }

    /// Whether the object lives now.
    pub fn now(&self) -> bool {
        match self {
            Alive::Held => true,
            Alive::Unknown => false,
            Alive::Watched(entry) => entry.state.load(Ordering::Acquire) & ALIVE != 0,
        }
    }

    /// Whether the object lives: its flag, or `check` (a lookup in the engine's object
    /// table) when it has none (the runtime is shutting down, or the engine refused the
    /// binding). For holders that must know rather than decline, unlike the fast path.
    pub fn now_or_else(&self, check: impl FnOnce() -> bool) -> bool {
        match self {
            Alive::Unknown => check(),
            alive => alive.now(),
        }
    }

    /// Whether the object lives and is known to have no script.
    pub fn lives_without_script(&self) -> bool {
        match self {
            Alive::Watched(entry) => {
                entry.state.load(Ordering::Acquire) & (ALIVE | SCRIPTLESS) == ALIVE | SCRIPTLESS
            }
            Alive::Held | Alive::Unknown => false,
        }
    }

    /// The engine just said that `object` (this one's, alive) has no script: remember it
    /// until the object emits `script_changed`, which is followed from then on.
    pub fn note_no_script(&self, object: &Gd<Object>) {
        let Alive::Watched(entry) = self else {
            return;
        };
        if entry.state.load(Ordering::Acquire) & FOLLOWED == 0 {
            if !follow(object) {
                return;
            }
            entry.state.fetch_or(FOLLOWED, Ordering::AcqRel);
        }
        entry.state.fetch_or(SCRIPTLESS, Ordering::AcqRel);
        // A script given on another thread since the caller asked: its signal may have come
        // before the mark, so ask once more now that the mark is set.
        if object.get_script().is_some() {
            entry.state.fetch_and(!SCRIPTLESS, Ordering::AcqRel);
        }
    }

    /// Stops following the live or freed `object` (this one's) if this is the last holder
    /// besides the binding: the connection is memory the engine keeps for the object.
    pub fn unfollow_if_last(&self, object: &Gd<Object>) {
        let Alive::Watched(entry) = self else {
            return;
        };
        let state = entry.state.load(Ordering::Acquire);
        if state & (ALIVE | FOLLOWED) != ALIVE | FOLLOWED || state & HOLDERS != 2 {
            return;
        }
        entry
            .state
            .fetch_and(!(FOLLOWED | SCRIPTLESS), Ordering::AcqRel);
        let watch = WATCH.with_borrow(Clone::clone);
        if let Some(watch) = watch {
            disconnect(&mut object.clone(), &watch);
        }
    }
}

fn disconnect(object: &mut Gd<Object>, watch: &Callable) {
    if object.is_connected("script_changed", watch) {
        object.disconnect("script_changed", watch);
    }
}

thread_local! {
    /// The callable every followed object's `script_changed` calls; taken at shutdown.
    static WATCH: RefCell<Option<Callable>> = const { RefCell::new(None) };
}

/// Connects `object`'s `script_changed` to [`ScriptWatch`].
fn follow(object: &Gd<Object>) -> bool {
    if RELEASED.load(Ordering::Acquire) {
        return false;
    }
    let watch = WATCH.with_borrow_mut(|watch| {
        watch
            .get_or_insert_with(|| Callable::from_custom(ScriptWatch))
            .clone()
    });
    object
        .clone()
        .connect_flags("script_changed", &watch, ConnectFlags::APPEND_SOURCE_OBJECT)
        == Error::OK
}

/// Disconnects the live `object`'s `script_changed` from `watch` if it is followed.
fn unfollow(object: sys::GDExtensionObjectPtr, watch: &Callable) {
    // SAFETY: the caller passes a live object; without callbacks the call only looks.
    let entry = unsafe { entry_of(object) };
    if entry.is_none_or(|entry| entry.state.load(Ordering::Acquire) & FOLLOWED == 0) {
        return;
    }
    // SAFETY: as above, the object lives.
    let id = unsafe { sys::interface_fn!(object_get_instance_id)(object) };
    if let Some(mut object) = InstanceId::try_from_i64(id as i64)
        .and_then(|id| Gd::<Object>::try_from_instance_id(id).ok())
    {
        disconnect(&mut object, watch);
    }
}

/// The entry of the binding of ours on the live `object`, if it has one.
///
/// # Safety
/// `object` must be a live object.
unsafe fn entry_of(object: sys::GDExtensionObjectPtr) -> Option<&'static Entry> {
    // SAFETY: the caller passes a live object; with no callbacks Godot only looks the binding
    // up. A binding under our token is an entry `create` handed out; entries live as long as
    // the library.
    unsafe {
        let binding =
            sys::interface_fn!(object_get_instance_binding)(object, token(), std::ptr::null());
        binding.cast_const().cast::<Entry>().as_ref()
    }
}

/// What a followed object's `script_changed` calls, with the object appended: its entry
/// forgets that it has no script. Callable from any thread (an object may be given a script
/// on another one), so it touches only the entry's atomic flags.
#[derive(PartialEq, Eq, Hash)]
struct ScriptWatch;

impl fmt::Display for ScriptWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lua_runtime_script_watch")
    }
}

impl RustCallable for ScriptWatch {
    fn invoke(&mut self, args: &[&Variant]) -> Variant {
        let Some(id) = args.last().and_then(|source| source.object_id_unchecked()) else {
            return Variant::nil();
        };
        // SAFETY: Godot answers an id with its object or null, from any thread.
        let object = unsafe { sys::interface_fn!(object_get_instance_from_id)(id.to_i64() as u64) };
        if !object.is_null() {
            // SAFETY: the engine is emitting the object's signal, so it lives.
            if let Some(entry) = unsafe { entry_of(object) } {
                entry.state.fetch_and(!SCRIPTLESS, Ordering::AcqRel);
            }
        }
        Variant::nil()
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        if let Alive::Watched(entry) = self {
            entry.release();
        }
    }
}

extern "C" fn create(_token: *mut c_void, instance: *mut c_void) -> *mut c_void {
    let mut watched = watched();
    watched.objects.insert(instance as usize);
    let entry = watched.entry();
    // The binding is its first holder.
    entry.state.store(ALIVE | 1, Ordering::Release);
    std::ptr::from_ref(entry).cast_mut().cast()
}

extern "C" fn free(_token: *mut c_void, instance: *mut c_void, binding: *mut c_void) {
    watched().objects.remove(&(instance as usize));
    // SAFETY: every binding filed under our token is an entry `create` handed out; Godot
    // calls this once per binding, from the object's destructor.
    let Some(entry) = (unsafe { binding.cast_const().cast::<Entry>().as_ref() }) else {
        return;
    };
    entry
        .state
        .fetch_and(!(ALIVE | SCRIPTLESS), Ordering::AcqRel);
    entry.release();
}

/// Reference-counted objects get no binding of ours; should one appear, it never keeps its
/// object alive.
extern "C" fn reference(
    _token: *mut c_void,
    _binding: *mut c_void,
    _reference: sys::GDExtensionBool,
) -> sys::GDExtensionBool {
    1
}
