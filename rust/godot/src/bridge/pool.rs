//! Pooled Lua values: while Lua holds the wrapper of an engine object, every later conversion
//! of that object (a signal argument, a `get_node`, a method's return value) gets the same
//! wrapper instead of a new one. That saves the allocation (and the collector's work) of a
//! wrapper per conversion, keeps each wrapper's resolved class members, and makes one object
//! one Lua value: `rawequal` holds and objects work as table keys.
//!
//! The pool is a weak-valued Lua table from instance id to wrapper, so it keeps nothing alive:
//! a wrapper Lua no longer holds is collected as before.

use std::cell::Cell;
use std::ffi::c_void;

use godot::classes::Object;
use godot::obj::Gd;
use lua_runtime_core::stats::PoolStats;
use mlua::{AnyUserData, LightUserData, Lua, Table};

pub struct ValuePool {
    /// One handle for the runtime's life (not one per object).
    objects: Table,
    enabled: Cell<bool>,
    reused: Cell<u64>,
    created: Cell<u64>,
}

impl ValuePool {
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn new(lua: &Lua) -> mlua::Result<Self> {
        let objects = lua.create_table()?;
        let weak_values = lua.create_table()?;
        weak_values.raw_set("__mode", "v")?;
        objects.set_metatable(Some(weak_values))?;
        Ok(ValuePool {
            objects,
            enabled: Cell::new(true),
            reused: Cell::new(0),
            created: Cell::new(0),
        })
    }

    /// Turns pooling on or off (off: every conversion makes a new wrapper, as a baseline).
    pub fn set_enabled(&self, enabled: bool) {
        if self.enabled.replace(enabled) && !enabled {
            // Let go of the pooled wrappers.
            let _ = self.objects.clear();
        }
    }

    /// The wrapper of `object`: the pooled one while Lua holds it, else a new one.
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn object(&self, lua: &Lua, object: Gd<Object>) -> mlua::Result<AnyUserData> {
        if !self.enabled.get() {
            self.created.set(self.created.get() + 1);
            return super::object::wrapper(lua, object);
        }
        // Instance ids are 64 bits, more than a LuaJIT number holds exactly: the key is the id
        // as a light userdata.
        let key = LightUserData(object.instance_id_unchecked().to_i64() as usize as *mut c_void);
        if let Some(wrapper) = self.objects.raw_get::<Option<AnyUserData>>(key)? {
            self.reused.set(self.reused.get() + 1);
            return Ok(wrapper);
        }
        let wrapper = super::object::wrapper(lua, object)?;
        self.objects.raw_set(key, &wrapper)?;
        self.created.set(self.created.get() + 1);
        Ok(wrapper)
    }

    pub fn stats(&self) -> PoolStats {
        let (reused, created) = (self.reused.get(), self.created.get());
        PoolStats {
            enabled: self.enabled.get(),
            objects_reused: reused,
            objects_created: created,
            reuse_rate: if reused + created == 0 {
                0.0
            } else {
                reused as f64 / (reused + created) as f64
            },
        }
    }
}

/// The wrapper of `object`, through the running state's pool (a new one without a state).
///
/// # Errors
/// Only if Lua cannot allocate.
pub fn wrap(lua: &Lua, object: Gd<Object>) -> mlua::Result<AnyUserData> {
    match crate::state::existing() {
        Some(state) => state.bridge.pool.object(lua, object),
        None => super::object::wrapper(lua, object),
    }
}
