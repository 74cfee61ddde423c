//! What Lua sees of Godot: values, objects, classes, signals and the per-node `self`.
//!
//! - [`convert`]: Variant <-> Lua value.
//! - [`builtin`]: builtin types (`Vector2i`, `Array`, `Transform3D`, ...) and their globals.
//! - [`math`]: `Vector2`, `Vector3` and `Color` as Lua tables with Lua-side operators.
//! - [`object`]: engine objects as Lua userdata (`obj.prop`, `obj:method()`, `obj.signal`).
//! - [`classes`]: classes, singletons, global enums and autoloads as globals.
//! - [`callable`]: Lua functions as Godot Callables.
//! - [`waiting`]: what `await` waits for (signals, seconds).
//! - [`utility`]: GDScript's utility functions (`lerp`, `clamp`, `randf`, ...).
//! - [`names`]: interned member names.
//! - [`pool`]: one Lua wrapper per engine object while Lua holds it.
//! - [`ffi`]: the engine's dynamic Variant operations, without panics.
//! - [`fast`]: hot properties and engine methods, used through LuaJIT's FFI.
//! - [`instance`]: the `self` table a script's callbacks receive.

pub mod builtin;
pub mod callable;
pub mod classes;
pub mod convert;
pub mod fast;
pub mod ffi;
pub mod instance;
pub mod math;
pub mod names;
pub mod object;
pub mod policy;
pub mod pool;
pub mod utility;
pub mod waiting;

use mlua::{AnyUserData, Function, Lua, Value, Variadic};

/// Lua functions and caches shared by every script.
pub struct Bridge {
    pub instances: instance::InstanceFunctions,
    pub objects: object::ObjectCaches,
    pub builtins: builtin::BuiltinCaches,
    pub names: names::Names,
    pub pool: pool::ValuePool,
    pub vectors: math::Vectors,
    pub fast: fast::FastPath,
}

impl Bridge {
    /// Installs the engine-facing globals into `lua` and builds the shared functions.
    pub fn install(lua: &Lua) -> mlua::Result<Self> {
        let globals = lua.globals();
        globals.set("print", print_function(lua)?)?;
        globals.set("require", require_function(lua)?)?;
        let vectors = math::Vectors::install(lua)?;
        math::remember_makers(lua, &vectors)?;
        // Before any object wrapper exists: the first one fixes the wrappers' metatable.
        let fast = fast::FastPath::install(lua, &vectors)?;
        builtin::install(lua)?;
        utility::install(lua)?;
        classes::install(lua)?;
        crate::queries::install(lua)?;
        crate::events::install(lua)?;
        crate::expressions::library::install(lua)?;
        crate::assets::install(lua)?;
        Ok(Bridge {
            instances: instance::InstanceFunctions::new(lua)?,
            objects: object::ObjectCaches::default(),
            builtins: builtin::BuiltinCaches::default(),
            names: names::Names::default(),
            pool: pool::ValuePool::new(lua)?,
            vectors,
            fast,
        })
    }
}

/// String argument `index` of the library function `function`, or an error saying what it
/// should have been (`query.group: argument #1: expected a group name, got number`).
pub fn text_argument(
    function: &str,
    index: usize,
    what: &str,
    value: &Value,
) -> mlua::Result<String> {
    match value {
        Value::String(s) => Ok(s.to_str()?.to_string()),
        other => Err(mlua::Error::runtime(format!(
            "{function}: argument #{index}: expected {what}, got {}",
            describe(other)
        ))),
    }
}

/// A value's type as a user would name it (`Vector2i`, `Node2D`, `number`, ...).
pub fn describe(value: &Value) -> String {
    match value {
        Value::UserData(ud) => userdata_name(ud),
        Value::Table(t) => match math::kind_of(t) {
            Some(kind) => kind.name().into(),
            None => "table".into(),
        },
        other => lua_runtime_core::host::lua_type_name(other).to_owned(),
    }
}

fn userdata_name(ud: &AnyUserData) -> String {
    if let Ok(v) = ud.borrow::<builtin::LuaVariant>() {
        builtin::type_name(v.0.get_type())
    } else if let Ok(o) = ud.borrow::<object::LuaObject>() {
        o.class_name()
    } else {
        "userdata".into()
    }
}

/// `require(name)`: a `res://` path or a dotted name under `res://`, loaded once.
fn require_function(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, name: String| {
        let state = crate::state::running()?;
        let path = lua_runtime_core::host::require::resolve(&name)
            .map_err(|e| mlua::Error::runtime(e.to_string()))?;
        let requirer = lua_runtime_core::host::require::calling_script(lua);
        if let Some(module) = state.host.module(&path) {
            // A node script required as a module: still an edge for hot reload.
            if let Some(requirer) = &requirer {
                state.libraries.record(requirer, &path);
            }
            return Ok(Value::Table(module));
        }
        state
            .libraries
            .require(&path, requirer.as_deref(), |p| state.chunk(p))
            .map_err(|e| mlua::Error::runtime(e.to_string()))
    })
}

/// `print(...)`: Lua's semantics (`tostring` of each argument, tab-separated), Godot's output.
fn print_function(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, args: Variadic<mlua::Value>| {
        let tostring: Function = lua.globals().get("tostring")?;
        let mut line = String::new();
        for (i, value) in args.into_iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            let text: mlua::LuaString = tostring.call(value)?;
            line.push_str(&text.to_string_lossy());
        }
        godot::global::godot_print!("{line}");
        Ok(())
    })
}
