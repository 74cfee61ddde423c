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

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use godot::classes::{Object, RefCounted};
use godot::obj::Gd;
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

/// One object's flag: [`ALIVE`] while the object lives, and below it how many hold the entry
/// (the binding, and each [`Alive`] made from it). Back in the unused list at zero holders.
#[derive(Default)]
pub struct Entry {
    state: AtomicU32,
}

const ALIVE: u32 = 1 << 31;
const HOLDERS: u32 = ALIVE - 1;

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
    for object in objects {
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
    entry.state.fetch_and(!ALIVE, Ordering::AcqRel);
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
