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
//! Reference-counted objects need no binding: a slot holds a reference, so they live at
//! least as long as the slot.
//!
//! Some objects outlive the library: engine singletons (`Time`, `Input`, ...) are freed after
//! extensions are unloaded, when a free callback of ours would be gone. So the bindings are
//! listed as they are made, and [`release_all`] takes every one still attached off its object
//! when the runtime shuts down.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

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

/// The objects (by address) that carry a binding of ours now. Locked inside Godot's own lock
/// of an object's bindings (in `create` and `free`), never the other way round.
static WATCHED: LazyLock<Mutex<FxHashSet<usize>>> = LazyLock::new(Mutex::default);

/// Set by [`release_all`]: no binding is made after it.
static RELEASED: AtomicBool = AtomicBool::new(false);

fn watched() -> std::sync::MutexGuard<'static, FxHashSet<usize>> {
    WATCHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes every binding of ours off the objects that still carry one (at shutdown: some of
/// them are freed after the library is unloaded). Each object's flag reads dead after it.
pub fn release_all() {
    RELEASED.store(true, Ordering::Release);
    let objects = std::mem::take(&mut *watched());
    for object in objects {
        // SAFETY: an address is listed from `create` until `free`, which runs in the
        // object's destructor: a listed object is alive. Godot calls `free` for the binding
        // it removes, which releases the binding's share of the flag.
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
    /// Cleared by the object's destructor; shared with the object's binding.
    Watched(Arc<AtomicBool>),
}

impl Alive {
    /// Starts watching `object` (the same flag for every holder of one object).
    pub fn of(object: &Gd<Object>) -> Alive {
        if object.clone().try_cast::<RefCounted>().is_ok() {
            return Alive::Held;
        }
        if RELEASED.load(Ordering::Acquire) {
            // Shutting down: no new binding.
            return Alive::dead();
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
        let flag = binding.cast_const().cast::<AtomicBool>();
        if flag.is_null() {
            // Only if Godot refused the binding.
            return Alive::dead();
        }
        // SAFETY: `flag` came from `Arc::into_raw` in `create`, and the binding's own share
        // is released only by `free`, which runs in the object's destructor, not while the
        // caller holds the object.
        unsafe {
            Arc::increment_strong_count(flag);
            Alive::Watched(Arc::from_raw(flag))
        }
    }

    /// Unknown, so taken for dead: the fast path declines and the general path, which
    /// checks the object itself, answers.
    fn dead() -> Alive {
        Alive::Watched(Arc::new(AtomicBool::new(false)))
    }

    /// Whether the object lives now.
    pub fn now(&self) -> bool {
        match self {
            Alive::Held => true,
            Alive::Watched(flag) => flag.load(Ordering::Acquire),
        }
    }
}

extern "C" fn create(_token: *mut c_void, instance: *mut c_void) -> *mut c_void {
    watched().insert(instance as usize);
    Arc::into_raw(Arc::new(AtomicBool::new(true)))
        .cast_mut()
        .cast()
}

extern "C" fn free(_token: *mut c_void, instance: *mut c_void, binding: *mut c_void) {
    watched().remove(&(instance as usize));
    if binding.is_null() {
        return;
    }
    // SAFETY: every binding filed under our token was made by `create`; Godot calls this
    // once per binding, from the object's destructor. Dropping `flag` releases its share.
    let flag = unsafe { Arc::from_raw(binding.cast_const().cast::<AtomicBool>()) };
    flag.store(false, Ordering::Release);
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
