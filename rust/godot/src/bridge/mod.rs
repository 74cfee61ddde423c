//! What Lua sees of Godot: values, objects and the per-node `self`.
//!
//! - [`convert`]: Variant <-> Lua value.
//! - [`math`]: `Vector2`, `Vector3` and `Color` as Lua values with their operators.
//! - [`object`]: engine objects as Lua userdata (`obj.prop`, `obj:method()`).
//! - [`instance`]: the `self` table a script's callbacks receive.

pub mod convert;
pub mod instance;
pub mod math;
pub mod object;

use mlua::{Function, Lua, Variadic};

/// Lua functions and caches shared by every script.
pub struct Bridge {
    pub instances: instance::InstanceFunctions,
    pub objects: object::ObjectCaches,
}

impl Bridge {
    /// Installs the engine-facing globals into `lua` and builds the shared functions.
    pub fn install(lua: &Lua) -> mlua::Result<Self> {
        let globals = lua.globals();
        globals.set("print", print_function(lua)?)?;
        math::install(lua)?;
        Ok(Bridge {
            instances: instance::InstanceFunctions::new(lua)?,
            objects: object::ObjectCaches::default(),
        })
    }
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
