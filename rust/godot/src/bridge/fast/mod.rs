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
//!   whose setters update the node and defer every notification (see [`SETTABLE`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::rc::Rc;

use godot::builtin::{Color, StringName, Variant, VariantType, Vector2, Vector3, real};
use godot::classes::{ClassDb, Object, class_db::ApiType};
use godot::meta::ToGodot;
use godot::obj::{Gd, Singleton};
use mlua::{AnyUserData, Function, LightUserData, Lua, LuaString, Table, Value};

use super::names::{self, Name, UNCACHED};

const SOURCE: &str = include_str!("fast.lua");

/// Value tags shared with `fast.lua`.
const NUMBER: i32 = 1;
const BOOL: i32 = 2;
const VECTOR2: i32 = 3;
const VECTOR3: i32 = 4;
const COLOR: i32 = 5;

/// Properties the fast path may set, on `Node2D` or `Node3D` and their subclasses. Their
/// setters change the node's transform and queue the transform notifications; they emit no
/// signal and call no script.
const SETTABLE: [&str; 10] = [
    "position",
    "rotation",
    "rotation_degrees",
    "scale",
    "skew",
    "global_position",
    "global_rotation",
    "global_rotation_degrees",
    "global_scale",
    "global_skew",
];

/// Slots hold this many bits of a handle; the generation the rest (a handle is a double).
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const GENERATION_MASK: u32 = (1 << 28) - 1;

/// What the fast path knows of one property of one class.
#[derive(Clone)]
struct Property {
    name: StringName,
    ty: VariantType,
    settable: bool,
}

/// Per class (engine classes only): properties by name id, `None` where the fast path does
/// not apply.
#[derive(Default)]
struct Class {
    /// A class the fast path may touch at all (an engine class).
    native: bool,
    /// `Node2D`, `Node3D` or a subclass.
    spatial: bool,
    properties: HashMap<u32, Option<Property>>,
}

struct Slot {
    object: Option<Gd<Object>>,
    generation: u32,
    class: Option<Rc<RefCell<Class>>>,
}

#[derive(Default)]
struct Slots {
    slots: Vec<Slot>,
    free: Vec<usize>,
    classes: HashMap<String, Rc<RefCell<Class>>>,
    /// Interned names by id, for the names Lua asked ids for.
    names: Vec<Option<Rc<Name>>>,
}

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::new(Slots::default());
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
        let intern = lua.create_function(|_, key: LuaString| intern(&key))?;
        let get: extern "C" fn(f64, u32, *mut [f64; 4]) -> i32 = fast_get;
        let set: extern "C" fn(f64, u32, i32, f64, f64, f64, f64) -> i32 = fast_set;
        let (index, newindex): (Function, Function) =
            lua.load(SOURCE).set_name("=objects").call((
                ffi,
                handles.clone(),
                slow_index,
                slow_newindex,
                intern,
                LightUserData(get as *mut c_void),
                LightUserData(set as *mut c_void),
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

/// The id of a member name, for `fast.lua` (false for a name the cache does not keep).
fn intern(key: &LuaString) -> mlua::Result<Value> {
    let name = names::intern(key)?;
    if name.id == UNCACHED {
        return Ok(Value::Boolean(false));
    }
    let id = name.id;
    SLOTS.with_borrow_mut(|slots| {
        let at = id as usize;
        if slots.names.len() <= at {
            slots.names.resize(at + 1, None);
        }
        slots.names[at] = Some(name);
    });
    Ok(Value::Integer(i64::from(id)))
}

impl Slots {
    fn take(&mut self, object: Gd<Object>) -> Option<f64> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.slots.len() as u64 > SLOT_MASK {
                    return None;
                }
                self.slots.push(Slot {
                    object: None,
                    generation: 0,
                    class: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
        slot.object = Some(object);
        slot.class = None;
        Some(((u64::from(slot.generation) << SLOT_BITS) | index as u64) as f64)
    }

    fn release(&mut self, handle: f64) {
        if let Some(index) = self.index_of(handle) {
            let slot = &mut self.slots[index];
            slot.object = None;
            slot.class = None;
            self.free.push(index);
        }
    }

    /// The slot a handle names, if it still names it.
    fn index_of(&self, handle: f64) -> Option<usize> {
        let bits = handle as u64;
        let index = (bits & SLOT_MASK) as usize;
        let generation = u32::try_from(bits >> SLOT_BITS).ok()?;
        let slot = self.slots.get(index)?;
        (slot.generation == generation && slot.object.is_some()).then_some(index)
    }

    /// The live object behind `handle` and what the fast path knows of its class, if the
    /// fast path may touch it now.
    fn target(&mut self, handle: f64) -> Option<(Gd<Object>, Rc<RefCell<Class>>)> {
        let index = self.index_of(handle)?;
        let object = self.slots[index].object.clone()?;
        if !object.is_instance_valid() || object.get_script().is_some() {
            return None;
        }
        let class = match &self.slots[index].class {
            Some(class) => class.clone(),
            None => {
                let name = object.get_class().to_string();
                let class = self
                    .classes
                    .entry(name.clone())
                    .or_insert_with(|| Rc::new(RefCell::new(Class::of(&name))))
                    .clone();
                self.slots[index].class = Some(class.clone());
                class
            }
        };
        if !class.borrow().native {
            return None;
        }
        Some((object, class))
    }

    fn property(&self, class: &RefCell<Class>, object: &Gd<Object>, id: u32) -> Option<Property> {
        if let Some(known) = class.borrow().properties.get(&id) {
            return known.clone();
        }
        let name = self.names.get(id as usize)?.clone()?;
        let mut class = class.borrow_mut();
        let property = super::object::declared_type(object, &name.text)
            .filter(|ty| {
                matches!(
                    *ty,
                    VariantType::BOOL
                        | VariantType::INT
                        | VariantType::FLOAT
                        | VariantType::VECTOR2
                        | VariantType::VECTOR3
                        | VariantType::COLOR
                )
            })
            .map(|ty| Property {
                name: name.value.clone(),
                ty,
                settable: class.spatial && SETTABLE.contains(&&*name.text),
            });
        class.properties.insert(id, property.clone());
        property
    }
}

impl Class {
    fn of(name: &str) -> Self {
        let db = ClassDb::singleton();
        let api = db.class_get_api_type(name);
        let native = api == ApiType::CORE || api == ApiType::EDITOR;
        let is_a = |base: &str| name == base || db.is_parent_class(name, base);
        Class {
            native,
            spatial: native && (is_a("Node2D") || is_a("Node3D")),
            properties: HashMap::new(),
        }
    }
}

/// Writes `value` (of declared type `ty`) as numbers; the tag, or 0 if it is not of that type.
fn write(ty: VariantType, value: &Variant, out: &mut [f64; 4]) -> i32 {
    const EXACT: i64 = 1 << 53;
    match ty {
        VariantType::FLOAT => value.try_to::<f64>().map_or(0, |f| {
            out[0] = f;
            NUMBER
        }),
        VariantType::INT => match value.try_to::<i64>() {
            Ok(i) if (-EXACT..=EXACT).contains(&i) => {
                out[0] = i as f64;
                NUMBER
            }
            _ => 0,
        },
        VariantType::BOOL => value.try_to::<bool>().map_or(0, |b| {
            out[0] = f64::from(u8::from(b));
            BOOL
        }),
        VariantType::VECTOR2 => value.try_to::<Vector2>().map_or(0, |v| {
            *out = [f64::from(v.x), f64::from(v.y), 0.0, 0.0];
            VECTOR2
        }),
        VariantType::VECTOR3 => value.try_to::<Vector3>().map_or(0, |v| {
            *out = [f64::from(v.x), f64::from(v.y), f64::from(v.z), 0.0];
            VECTOR3
        }),
        VariantType::COLOR => value.try_to::<Color>().map_or(0, |c| {
            *out = [
                f64::from(c.r),
                f64::from(c.g),
                f64::from(c.b),
                f64::from(c.a),
            ];
            COLOR
        }),
        _ => 0,
    }
}

/// The value `tag` and numbers stand for, if it is what a property of type `ty` takes.
fn read(ty: VariantType, tag: i32, [a, b, c, _]: [f64; 4]) -> Option<Variant> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    Some(match (ty, tag) {
        (VariantType::FLOAT, NUMBER) => a.to_variant(),
        (VariantType::INT, NUMBER) if a.fract() == 0.0 && a.abs() <= EXACT => {
            (a as i64).to_variant()
        }
        (VariantType::BOOL, BOOL) => (a != 0.0).to_variant(),
        (VariantType::VECTOR2, VECTOR2) => Vector2::new(a as real, b as real).to_variant(),
        (VariantType::VECTOR3, VECTOR3) => {
            Vector3::new(a as real, b as real, c as real).to_variant()
        }
        _ => return None,
    })
}

/// The live object behind `handle` and its property `name`, if the fast path may take it.
fn lookup(handle: f64, name: u32) -> Option<(Gd<Object>, Property)> {
    SLOTS.with(|slots| {
        let mut slots = slots.try_borrow_mut().ok()?;
        let (object, class) = slots.target(handle)?;
        let property = slots.property(&class, &object, name)?;
        Some((object, property))
    })
}

/// `obj.key` for `fast.lua`: the tag of what it wrote to `out`, or 0 to take the general path.
extern "C" fn fast_get(handle: f64, name: u32, out: *mut [f64; 4]) -> i32 {
    if out.is_null() {
        return 0;
    }
    std::panic::catch_unwind(|| {
        let (object, property) = lookup(handle, name)?;
        let value = object.get(&property.name);
        let mut numbers = [0.0; 4];
        let tag = write(property.ty, &value, &mut numbers);
        // SAFETY: `out` points at the `lua_runtime_value` struct `fast.lua` allocated
        // (four doubles), checked non-null above.
        unsafe { *out = numbers };
        Some(tag)
    })
    .ok()
    .flatten()
    .unwrap_or(0)
}

/// `obj.key = value` for `fast.lua`: 1 if it was set, 0 to take the general path.
extern "C" fn fast_set(handle: f64, name: u32, tag: i32, a: f64, b: f64, c: f64, d: f64) -> i32 {
    std::panic::catch_unwind(|| {
        let (mut object, property) = lookup(handle, name)?;
        if !property.settable {
            return None;
        }
        let value = read(property.ty, tag, [a, b, c, d])?;
        object.set(&property.name, &value);
        Some(1)
    })
    .ok()
    .flatten()
    .unwrap_or(0)
}
