//! What `await` waits for: a signal (`await(timer.timeout)`, `await(obj, "signal")`) or a
//! number of seconds (`await(0.5)`, a one-shot SceneTree timer).
//!
//! The waiting coroutine is resumed with the signal's arguments the first time it is
//! emitted. The connection is tied to the node whose callback started the coroutine: when
//! that node is freed, Godot drops the connection and the coroutine with it, so code after
//! the `await` never runs on a freed node.

use godot::builtin::{Callable, Signal, VariantType};
use godot::classes::Object;
use godot::classes::object::ConnectFlags;
use godot::obj::Gd;
use mlua::{Function, Lua, MultiValue, Thread, Value, Variadic};

use super::builtin::LuaVariant;
use super::describe;
use super::object::LuaObject;

/// The waiter `await` calls with its coroutine and arguments (see `host::tasks`).
pub fn waiter(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|_, (thread, what): (Thread, Variadic<Value>)| {
        let signal = match signal_to_await(&what) {
            Ok(signal) => signal,
            Err(message) => return Ok((false, Some(message))),
        };
        let Some(state) = crate::state::existing() else {
            return Ok((false, Some("the Lua runtime is shutting down".to_owned())));
        };
        let parked = state.tasks.park(state.host.lua(), thread)?;
        let owner = crate::state::current_owner();
        let owner_node = owner.and_then(|id| Gd::<Object>::try_from_instance_id(id).ok());
        // Errors after the resume are located by their message; this names the script when
        // Lua gives no location.
        let path = owner_node
            .as_ref()
            .map(|node| node.get("script_path").to_string())
            .unwrap_or_default();
        let mut slot = Some(parked);
        let resume = move |args: &[&godot::builtin::Variant]| {
            if !godot::sys::is_main_thread() {
                godot::global::godot_error!("await: the signal was emitted on another thread");
                return;
            }
            let Some(parked) = slot.take() else { return };
            if owner.is_some_and(|id| Gd::<Object>::try_from_instance_id(id).is_err()) {
                return;
            }
            let Some(state) = crate::state::get() else {
                return;
            };
            let lua = state.host.lua();
            let values: MultiValue = args
                .iter()
                .map(|a| super::convert::to_lua(lua, a).unwrap_or(Value::Nil))
                .collect();
            state.resume(parked, values, &path, owner);
        };
        let callable = match owner_node {
            Some(node) => Callable::from_linked_fn("await", &node, resume),
            None => Callable::from_fn("await", resume),
        };
        signal.connect_flags(&callable, ConnectFlags::ONE_SHOT);
        Ok((true, None))
    })
}

/// The signal `await(...)` was given: a Signal, an object and a signal name, or seconds.
fn signal_to_await(what: &[Value]) -> Result<Signal, String> {
    match what {
        [Value::Integer(_) | Value::Number(_)] => {
            let seconds = match what[0] {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => 0.0,
            };
            let mut tree =
                crate::scene_tree::current().ok_or("await(seconds) needs a running SceneTree")?;
            let timer = tree
                .create_timer(seconds.max(0.0))
                .ok_or("await(seconds): the SceneTree made no timer")?;
            Ok(Signal::from_object_signal(&timer, "timeout"))
        }
        [Value::UserData(ud)] => match ud.borrow::<LuaVariant>() {
            Ok(v) if v.0.get_type() == VariantType::SIGNAL => {
                v.0.try_to::<Signal>().map_err(|e| e.to_string())
            }
            _ => Err(expected(&what[0])),
        },
        [Value::UserData(ud), Value::String(name)] => {
            let object = ud
                .borrow::<LuaObject>()
                .map_err(|_| expected(&what[0]))?
                .object()
                .map_err(|e| e.to_string())?;
            let name = name.to_string_lossy();
            if !object.has_signal(name.as_str()) {
                return Err(format!(
                    "await(): {} has no signal named '{name}'",
                    object.get_class()
                ));
            }
            Ok(Signal::from_object_signal(&object, name.as_str()))
        }
        [] => Err("await() needs a signal or a number of seconds".to_owned()),
        [first, ..] => Err(expected(first)),
    }
}

fn expected(got: &Value) -> String {
    format!(
        "await() takes a signal (obj.some_signal), an object and a signal name, or seconds; got {}",
        describe(got)
    )
}
