//! The fast path for engine properties: `obj.position`, `obj.position = v` and the like,
//! called from Lua through LuaJIT's FFI (`fast.lua`) instead of through an mlua callback.
//!
//! Every object wrapper gets a *handle*: a slot in a table here, plus a generation so that a
//! slot used again never answers for a wrapper that is gone. Lua keeps each wrapper's handle
//! in a weak-keyed table; `fast.lua` passes the handle and the interned name's id to
//! [`fast_get`] / [`fast_set`], which answer with numbers. A call either does the whole
//! access (and returns a tag) or does nothing and returns 0, and Lua takes the general path.
//!
//! A C function called through the FFI must never call back into Lua. So the fast path
//! only takes accesses that run no script code and emit no signal:
//! - the object is of an engine class (not an extension's) and has no script attached
//!   (a script's `_get`/`_set` and property accessors run on every access);
//! - reads: properties declared as `bool`, `int`, `float`, `Vector2`, `Vector3` or `Color`;
//! - writes: only the transform properties of `Node2D` and `Node3D` (and their subclasses),
//!   whose setters update the node and defer every notification ([`transforms`]);
//! - method calls: `const` methods and the transform methods of `Node2D` and `Node3D`, with
//!   number, bool, vector and color arguments and results ([`methods`]).
//!
//! Should the engine still call back into Lua during one of these calls (a GDScript running
//! Lua from inside a method it overrides, say), the callback is refused with an error rather
//! than run on a Lua state that is in the middle of compiled code ([`busy`]).
//!
//! Transform properties are read and written by calling their engine methods directly;
//! other reads call the property's getter through its method bind ([`methods`]), or
//! `Object::get` by name when the getter takes an index.
//!
//! - [`alive`]: whether an object held still lives, told by the engine when it is freed.
//! - [`methods`]: which engine methods the fast path calls, and the call.
//! - [`numbers`]: values as a tag and four numbers.
//! - [`slots`]: the objects behind handles and what is known of their classes.
//! - [`transforms`]: the direct calls for `Node2D` and `Node3D` transforms.

mod alive;
mod methods;
mod numbers;
mod slots;
mod transforms;

pub use alive::Alive;

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use godot::classes::Object;
use godot::obj::Gd;
use mlua::{AnyUserData, Function, LightUserData, Lua, LuaString, Table, Value};

use self::numbers::Numbers;
use self::slots::Slots;
use super::names::{self, UNCACHED};

const SOURCE: &str = include_str!("fast.lua");

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::new(Slots::default());
    /// Set while a fast call is in the engine.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Whether a fast call is in the engine right now: Lua must not be entered until it returns.
pub fn busy() -> bool {
    BUSY.get()
}

/// Lua's side of the fast path: the weak-keyed table of wrapper handles.
pub struct FastPath {
    handles: Option<Table>,
}

const INDEX_KEY: &str = "lua_runtime.object_index";
const NEWINDEX_KEY: &str = "lua_runtime.object_newindex";

impl FastPath {
    /// Builds the object metamethods (kept in the registry for [`metamethods`]) and, under
    /// LuaJIT, the handle table.
    pub fn install(lua: &Lua, vectors: &super::math::Vectors) -> mlua::Result<Self> {
        let ffi: Option<Table> = lua
            .named_registry_value(lua_runtime_core::host::FFI_REGISTRY_KEY)
            .ok();
        let handles = match &ffi {
            Some(_) => {
                let handles = lua.create_table()?;
                let weak_keys = lua.create_table()?;
                weak_keys.raw_set("__mode", "k")?;
                handles.set_metatable(Some(weak_keys))?;
                Some(handles)
            }
            None => None,
        };
        let (slow_index, slow_newindex) = slow_metamethods(lua)?;
        let intern: extern "C" fn(*const u8, usize) -> i32 = fast_intern;
        let get: extern "C" fn(f64, u32, *mut [f64; 4]) -> i32 = fast_get;
        let set: extern "C" fn(f64, u32, i32, f64, f64, f64, f64) -> i32 = fast_set;
        let call: extern "C" fn(f64, u32, i32, *const i32, *const [f64; 4], *mut [f64; 4]) -> i32 =
            fast_call;
        let method = lua.create_function(|lua, key: LuaString| {
            super::object::method_caller(lua, &*names::intern(&key)?)
        })?;
        let (index, newindex): (Function, Function) =
            lua.load(SOURCE).set_name("=objects").call((
                ffi,
                handles.clone(),
                slow_index,
                slow_newindex,
                LightUserData(intern as *mut c_void),
                LightUserData(get as *mut c_void),
                LightUserData(set as *mut c_void),
                LightUserData(call as *mut c_void),
                method,
                vectors.meta(super::math::VectorKind::Vector2).clone(),
                vectors.meta(super::math::VectorKind::Vector3).clone(),
                vectors.meta(super::math::VectorKind::Color).clone(),
            ))?;
        lua.set_named_registry_value(INDEX_KEY, index)?;
        lua.set_named_registry_value(NEWINDEX_KEY, newindex)?;
        Ok(FastPath { handles })
    }

    /// A handle for a new wrapper of `object` (0: none, the wrapper takes the general path).
    pub fn take(&self, object: &Gd<Object>) -> f64 {
        if self.handles.is_none() {
            return 0.0;
        }
        SLOTS.with_borrow_mut(|slots| slots.take(object.clone()).unwrap_or(0.0))
    }

    /// Lets Lua find the handle of `wrapper`.
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn record(&self, wrapper: &AnyUserData, handle: f64) -> mlua::Result<()> {
        match &self.handles {
            Some(handles) if handle != 0.0 => handles.raw_set(wrapper, handle),
            _ => Ok(()),
        }
    }
}

/// `__index` and `__newindex` for object wrappers: the fast path's (see [`FastPath::install`])
/// or, before it is installed, the general ones.
pub fn metamethods(lua: &Lua) -> mlua::Result<(Function, Function)> {
    match (
        lua.named_registry_value::<Function>(INDEX_KEY),
        lua.named_registry_value::<Function>(NEWINDEX_KEY),
    ) {
        (Ok(index), Ok(newindex)) => Ok((index, newindex)),
        _ => slow_metamethods(lua),
    }
}

fn slow_metamethods(lua: &Lua) -> mlua::Result<(Function, Function)> {
    let index = lua.create_function(|lua, (wrapper, key): (AnyUserData, LuaString)| {
        let this = wrapper.borrow::<super::object::LuaObject>()?;
        super::object::index(lua, &this, &*names::intern(&key)?)
    })?;
    let newindex = lua.create_function(
        |_, (wrapper, key, value): (AnyUserData, LuaString, Value)| {
            let this = wrapper.borrow::<super::object::LuaObject>()?;
            super::object::set(&this, &*names::intern(&key)?, &value)
        },
    )?;
    Ok((index, newindex))
}

/// At shutdown, once Lua is closed: takes the fast path's bindings off the objects that
/// still carry them (see [`alive`]).
pub fn shut_down() {
    alive::release_all();
}

/// A wrapper is gone: its slot may serve another.
pub fn release(handle: f64) {
    if handle == 0.0 {
        return;
    }
    SLOTS.with(|slots| {
        // Busy only if a wrapper is collected inside a fast call, which allocates nothing in
        // Lua; the slot then stays taken.
        if let Ok(mut slots) = slots.try_borrow_mut() {
            slots.release(handle);
        }
    });
}

/// The id of a member name, for `fast.lua`: the name's `len` bytes at `text`; -1 for a name
/// the cache does not keep, or text that is not UTF-8 (the general path then reports it).
///
/// An FFI call rather than a Lua C function, so that LuaJIT compiles it into the trace of
/// whatever reads a name for the first time: a C function called below a trace's start ends
/// that trace in a *stitch*, and a compiled `__index` that ends so is not taken into the
/// traces of loops that use it later. They end where they call it instead, and a move in
/// such a loop allocates its vectors.
extern "C" fn fast_intern(text: *const u8, len: usize) -> i32 {
    if text.is_null() {
        return -1;
    }
    // SAFETY: `fast.lua` passes a Lua string and its length; the string lives during the
    // call, and Lua strings are not moved.
    let bytes = unsafe { std::slice::from_raw_parts(text, len) };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return -1;
    };
    guarded(|slots| {
        let name = names::intern_str(text);
        if name.id == UNCACHED {
            return None;
        }
        let id = i32::try_from(name.id).ok()?;
        slots.remember(name);
        Some(id)
    })
    .unwrap_or(-1)
}

/// Runs `f` on the slots with [`busy`] set. `None` (the general path) when `f` declines or
/// panics, or a fast call is using the slots already.
fn guarded<R>(f: impl FnOnce(&mut Slots) -> Option<R>) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SLOTS.with(|slots| {
            let mut slots = slots.try_borrow_mut().ok()?;
            let outer = BUSY.replace(true);
            let result = f(&mut slots);
            BUSY.set(outer);
            result
        })
    }))
    .ok()
    .flatten()
}

/// Writes `value` to `fast.lua`'s `out`: its tag, or 0 (nothing written) for none.
fn answer(out: *mut [f64; 4], value: Option<Numbers>) -> i32 {
    match value {
        Some(value) if !out.is_null() => {
            // SAFETY: `out` points at a `lua_runtime_value` struct `fast.lua` allocated
            // (four doubles), checked non-null above.
            unsafe { *out = value.values };
            value.tag
        }
        _ => 0,
    }
}

/// `obj.key` for `fast.lua`: the tag of what it wrote to `out`, or 0 to take the general path.
extern "C" fn fast_get(handle: f64, name: u32, out: *mut [f64; 4]) -> i32 {
    if out.is_null() {
        return 0;
    }
    answer(out, guarded(|slots| slots.get(handle, name)))
}

/// `obj:key(args...)` for `fast.lua`: the tag of the result it wrote to `out`, or 0 to
/// take the general path. `tags` and `args` hold `count` arguments.
extern "C" fn fast_call(
    handle: f64,
    name: u32,
    count: i32,
    tags: *const i32,
    args: *const [f64; 4],
    out: *mut [f64; 4],
) -> i32 {
    let Ok(count) = usize::try_from(count) else {
        return 0;
    };
    if count > methods::MOST_ARGUMENTS || tags.is_null() || args.is_null() || out.is_null() {
        return 0;
    }
    let mut values = [Numbers::nothing(); methods::MOST_ARGUMENTS];
    for (i, value) in values.iter_mut().enumerate().take(count) {
        // SAFETY: `fast.lua` passes arrays of `MOST_ARGUMENTS` tags and values, checked
        // non-null above, of which the first `count` are set.
        unsafe {
            value.tag = *tags.add(i);
            value.values = *args.add(i);
        }
    }
    answer(
        out,
        guarded(|slots| slots.call(handle, name, &values[..count])),
    )
}

/// `obj.key = value` for `fast.lua`: 1 if it was set, 0 to take the general path.
extern "C" fn fast_set(handle: f64, name: u32, tag: i32, a: f64, b: f64, c: f64, d: f64) -> i32 {
    let value = Numbers {
        tag,
        values: [a, b, c, d],
    };
    guarded(|slots| slots.set(handle, name, &value).then_some(1)).unwrap_or(0)
}
