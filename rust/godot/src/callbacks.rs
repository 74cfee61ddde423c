//! The callbacks the engine calls on a script, and their names as Lua strings made once.
//!
//! A key made from Rust text becomes a Lua string through a protected call whenever the heap
//! has a cap, and under LuaJIT each protected call leaves two C functions of garbage. Looking
//! a callback up by a string made in advance allocates nothing, so calling scripts every frame
//! makes no garbage of the runtime's own.

use mlua::{Lua, LuaString};

/// A function a script's module may define for the engine to call.
#[derive(Clone, Copy, Debug)]
pub enum Callback {
    Ready,
    Process,
    PhysicsProcess,
    Input,
    ExitTree,
    OnReload,
}

impl Callback {
    const ALL: [Callback; 6] = [
        Callback::Ready,
        Callback::Process,
        Callback::PhysicsProcess,
        Callback::Input,
        Callback::ExitTree,
        Callback::OnReload,
    ];

    /// The name a script gives the function.
    pub fn name(self) -> &'static str {
        match self {
            Callback::Ready => "_ready",
            Callback::Process => "_process",
            Callback::PhysicsProcess => "_physics_process",
            Callback::Input => "_input",
            Callback::ExitTree => "_exit_tree",
            Callback::OnReload => "_on_reload",
        }
    }
}

/// Every callback's name as a Lua string, made when the Lua state is (in [`Callback::ALL`]'s
/// order).
pub struct CallbackNames(Box<[LuaString]>);

impl CallbackNames {
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn new(lua: &Lua) -> mlua::Result<Self> {
        let names = Callback::ALL.map(|callback| lua.create_string(callback.name()));
        Ok(CallbackNames(
            names.into_iter().collect::<mlua::Result<_>>()?,
        ))
    }

    pub fn get(&self, callback: Callback) -> &LuaString {
        &self.0[callback as usize]
    }
}
