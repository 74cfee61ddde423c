//! Engine objects in Lua: `obj.property`, `obj.property = v`, `obj:method(args)`,
//! `obj.some_signal`, `obj.CONSTANT`.
//!
//! Which names are properties, methods or signals is worked out once per class (and attached
//! script) and cached by interned name, so a property access costs one hash lookup of a small
//! integer plus the engine call, with no string conversion. A freed object raises a Lua error
//! on use; it never reaches the engine.

use std::cell::RefCell;
use std::rc::Rc;

use godot::builtin::{GString, Signal, StringName, VarDictionary, VariantType};
use godot::classes::Object;
use godot::meta::ToGodot;
use godot::obj::{EngineEnum, Gd};
use mlua::{
    AnyUserData, Function, Lua, MetaMethod, UserData, UserDataFields, UserDataMethods, Value,
};
use rustc_hash::FxHashMap;

use super::builtin::{argument_error, arguments, call_error, receiver_error, type_name};
use super::convert::{from_lua, to_lua};
use super::names::{self, Name, UNCACHED};
use super::{describe, ffi};

/// An engine object held by Lua. Holding it keeps a RefCounted alive; a plain Object may be
/// freed by the engine at any time, which [`LuaObject::object`] detects.
pub struct LuaObject {
    object: Gd<Object>,
    members: RefCell<Option<Rc<Members>>>,
    /// Its handle on the fast path (see `fast`), 0 for none.
    handle: f64,
}

impl Drop for LuaObject {
    fn drop(&mut self) {
        super::fast::release(self.handle);
    }
}

/// A new Lua wrapper of `object`, with its handle on the fast path when there is one.
///
/// # Errors
/// Only if Lua cannot allocate.
pub fn wrapper(lua: &Lua, object: Gd<Object>) -> mlua::Result<AnyUserData> {
    let state = crate::state::existing();
    let handle = state.as_ref().map_or(0.0, |s| s.bridge.fast.take(&object));
    let wrapper = lua.create_userdata(LuaObject {
        object,
        members: RefCell::new(None),
        handle,
    })?;
    if let Some(state) = state {
        state.bridge.fast.record(&wrapper, handle)?;
    }
    Ok(wrapper)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Property,
    Method,
    Signal,
    Constant(i64),
    Missing,
}

/// What one class (with one script attached, or none) exposes.
struct Members {
    class: String,
    /// Property names with their declared types (NIL: any Variant).
    properties: FxHashMap<String, VariantType>,
    kinds: RefCell<FxHashMap<u32, Kind>>,
}

/// Caches shared by every object proxy.
#[derive(Default)]
pub struct ObjectCaches {
    members: RefCell<FxHashMap<(String, i64), Rc<Members>>>,
    method_callers: names::Callers,
}

impl LuaObject {
    /// The object, if it still exists.
    ///
    /// # Errors
    /// When the engine has freed it.
    pub fn object(&self) -> mlua::Result<Gd<Object>> {
        if self.object.is_instance_valid() {
            Ok(self.object.clone())
        } else {
            Err(mlua::Error::runtime("attempt to use a freed object"))
        }
    }

    /// The class name, or `freed Object`.
    pub fn class_name(&self) -> String {
        if self.object.is_instance_valid() {
            self.object.get_class().to_string()
        } else {
            "freed Object".into()
        }
    }

    fn members(&self, object: &Gd<Object>) -> Rc<Members> {
        if let Some(m) = self.members.borrow().as_ref() {
            return m.clone();
        }
        let members = class_members(object);
        *self.members.borrow_mut() = Some(members.clone());
        members
    }
}

/// What `object`'s class (with its script) exposes, from the running state's cache.
fn class_members(object: &Gd<Object>) -> Rc<Members> {
    names::with_bridge(|b| b.objects.members_of(object))
        .unwrap_or_else(|| ObjectCaches::default().members_of(object))
}

/// Whether `object`'s class (with its script) has the property `name`.
pub fn declares_property(object: &Gd<Object>, name: &str) -> bool {
    class_members(object).properties.contains_key(name)
}

/// The declared type of `object`'s property `name` (NIL: any Variant), if it has one.
pub fn declared_type(object: &Gd<Object>, name: &str) -> Option<VariantType> {
    class_members(object).properties.get(name).copied()
}

impl ObjectCaches {
    fn members_of(&self, object: &Gd<Object>) -> Rc<Members> {
        let class = object.get_class().to_string();
        let script_id = object
            .get_script()
            .map(|s| s.instance_id_unchecked())
            .map_or(0, |id| id.to_i64());
        let key = (class.clone(), script_id);
        if let Some(m) = self.members.borrow().get(&key) {
            return m.clone();
        }
        let properties = object
            .get_property_list()
            .iter_shared()
            .filter_map(|d: VarDictionary| {
                let name = d.get("name")?.try_to::<GString>().ok()?.to_string();
                let ty = d
                    .get("type")
                    .and_then(|t| t.try_to::<i32>().ok())
                    .map_or(VariantType::NIL, VariantType::from_ord);
                Some((name, ty))
            })
            .collect();
        let members = Rc::new(Members {
            class,
            properties,
            kinds: RefCell::new(FxHashMap::default()),
        });
        self.members.borrow_mut().insert(key, members.clone());
        members
    }
}

/// The Lua function that calls method `name` on the object (or `self`) it is given first.
pub fn method_caller(lua: &Lua, name: &Name) -> mlua::Result<Function> {
    // The caller is made once per name, so only these two names pay for telling the query
    // cache that a group changed.
    let call: names::MethodCall = match &*name.text {
        "add_to_group" | "remove_from_group" => call_group_method,
        "free" => call_free,
        text if super::policy::is_policed(text) => call_policed_method,
        _ => call_method,
    };
    names::method_function(lua, name, |b| &b.objects.method_callers, call)
}

/// `node:add_to_group(group)` / `node:remove_from_group(group)`: cached answers about the
/// group are out of date once the call is made.
fn call_group_method(
    lua: &Lua,
    receiver: &Value,
    method: &StringName,
    text: &str,
    args: &[Value],
) -> mlua::Result<Value> {
    let result = call_method(lua, receiver, method, text, args)?;
    if let (Some(Value::String(group)), Ok(state)) = (args.first(), crate::state::running()) {
        state.queries.group_changed(&group.to_string_lossy());
    }
    Ok(result)
}

/// `node:free()`: the extension's nodes that are inside a call under `node` are got out of
/// the way first, or the free is refused (see `busy_nodes`).
fn call_free(
    lua: &Lua,
    receiver: &Value,
    method: &StringName,
    text: &str,
    args: &[Value],
) -> mlua::Result<Value> {
    if let Some(Ok(object)) = receiver_object(receiver)
        && let Ok(node) = object.try_cast::<godot::classes::Node>()
    {
        crate::busy_nodes::make_way_for_free(&node).map_err(mlua::Error::runtime)?;
    }
    call_method(lua, receiver, method, text, args)
}

/// A method the sandbox checks (see `policy`).
fn call_policed_method(
    lua: &Lua,
    receiver: &Value,
    method: &StringName,
    text: &str,
    args: &[Value],
) -> mlua::Result<Value> {
    super::policy::check_call(text, args)?;
    call_method(lua, receiver, method, text, args)
}

/// `receiver:method(args...)` on an engine object.
fn call_method(
    lua: &Lua,
    receiver: &Value,
    method: &StringName,
    text: &str,
    args: &[Value],
) -> mlua::Result<Value> {
    let object = receiver_object(receiver).ok_or_else(|| receiver_error(text, receiver))??;
    // The class name is only looked up for an error message: it costs a string per call.
    let variants = arguments(args)
        .map_err(|(i, e)| argument_error(&format!("{}.{text}", object.get_class()), i, &e))?;
    match ffi::call(&object.to_variant(), method, &variants) {
        Ok(result) => to_lua(lua, &result),
        Err(failure) => {
            let class = object.get_class().to_string();
            Err(object_call_error(&object, &class, text, &failure, args))
        }
    }
}

/// A call error with what the method's declaration says: the class an object argument
/// should have, and how many arguments it takes.
fn object_call_error(
    object: &Gd<Object>,
    class: &str,
    method: &str,
    failure: &ffi::CallFailure,
    args: &[Value],
) -> mlua::Error {
    let info = method_info(object, method);
    match (failure, &info) {
        (ffi::CallFailure::BadArgument { index, expected }, Some(info))
            if *expected == VariantType::OBJECT =>
        {
            let wanted = info
                .args
                .get(*index)
                .filter(|c| !c.is_empty())
                .cloned()
                .unwrap_or_else(|| "Object".into());
            mlua::Error::runtime(format!(
                "{class}.{method}(): argument #{}: expected {wanted}, got {}",
                index + 1,
                args.get(*index).map_or("nothing".into(), describe)
            ))
        }
        (ffi::CallFailure::TooFew { .. } | ffi::CallFailure::TooMany { .. }, Some(info)) => {
            let most = info.args.len();
            let least = most - info.defaults.min(most);
            let takes = match (least == most, info.vararg) {
                (_, true) => format!("at least {least}"),
                (true, false) => format!("{most}"),
                (false, false) => format!("{least} to {most}"),
            };
            let noun = if most == 1 && least == 1 {
                "argument"
            } else {
                "arguments"
            };
            mlua::Error::runtime(format!(
                "{class}.{method}(): expected {takes} {noun}, got {}",
                args.len()
            ))
        }
        _ => call_error(class, method, failure, args),
    }
}

/// A method's declaration, as far as error messages need it.
struct MethodInfo {
    /// Class names of the arguments (empty for non-object arguments).
    args: Vec<String>,
    defaults: usize,
    vararg: bool,
}

/// The declaration of `object`'s method `method` (looked up only when a call failed).
fn method_info(object: &Gd<Object>, method: &str) -> Option<MethodInfo> {
    const METHOD_FLAG_VARARG: i64 = 16;
    let list = object.get_method_list();
    let info = list
        .iter_shared()
        .find(|d| d.get("name").is_some_and(|n| n.to_string() == method))?;
    let args = info
        .get("args")?
        .try_to::<godot::builtin::Array<VarDictionary>>()
        .ok()?
        .iter_shared()
        .map(|a| {
            a.get("class_name")
                .map(|c| c.to_string())
                .unwrap_or_default()
        })
        .collect();
    let defaults = info
        .get("default_args")
        .and_then(|d| d.try_to::<godot::builtin::VarArray>().ok())
        .map_or(0, |d| d.len());
    let flags = info
        .get("flags")
        .and_then(|f| f.try_to::<i64>().ok())
        .unwrap_or(0);
    Some(MethodInfo {
        args,
        defaults,
        vararg: flags & METHOD_FLAG_VARARG != 0,
    })
}

/// The object a value stands for: an object proxy, or a script's `self` (its node). `None`
/// for any other value.
pub fn receiver_object(receiver: &Value) -> Option<mlua::Result<Gd<Object>>> {
    match receiver {
        Value::UserData(ud) => ud.borrow::<LuaObject>().ok().map(|o| o.object()),
        Value::Table(t) => super::instance::node_of(t),
        _ => None,
    }
}

impl Members {
    fn kind(&self, object: &Gd<Object>, name: &Name) -> Kind {
        if let Some(kind) = self.kinds.borrow().get(&name.id) {
            return *kind;
        }
        let text = &*name.text;
        let kind = if self.properties.contains_key(text) {
            Kind::Property
        } else if object.has_method(&name.value) {
            Kind::Method
        } else if object.has_signal(&name.value) {
            Kind::Signal
        } else if let Some(value) = super::classes::class_constant(&self.class, text) {
            Kind::Constant(value)
        } else {
            Kind::Missing
        };
        if name.id != UNCACHED {
            self.kinds.borrow_mut().insert(name.id, kind);
        }
        kind
    }
}

/// `obj.key`: a property's value, a method to call with `:`, a signal, a class constant, or
/// an error naming the class.
pub fn index(lua: &Lua, this: &LuaObject, name: &Name) -> mlua::Result<Value> {
    let object = this.object()?;
    let members = this.members(&object);
    match members.kind(&object, name) {
        Kind::Property => to_lua(lua, &object.get(&name.value)),
        Kind::Method => method_caller(lua, name).map(Value::Function),
        Kind::Signal => to_lua(
            lua,
            &Signal::from_object_signal(&object, &name.value).to_variant(),
        ),
        Kind::Constant(value) => Ok(Value::Integer(value)),
        Kind::Missing => Err(mlua::Error::runtime(format!(
            "{} has no property, method or signal named '{}'",
            members.class, name.text
        ))),
    }
}

/// Whether `obj.key = v` would set an engine property.
pub fn has_property(this: &LuaObject, name: &Name) -> mlua::Result<bool> {
    let object = this.object()?;
    Ok(this.members(&object).kind(&object, name) == Kind::Property)
}

/// `obj.key = value`.
pub fn set(this: &LuaObject, name: &Name, value: &Value) -> mlua::Result<()> {
    let mut object = this.object()?;
    let members = this.members(&object);
    let key = &*name.text;
    if members.kind(&object, name) != Kind::Property {
        return Err(mlua::Error::runtime(format!(
            "{} has no property named '{key}'",
            members.class
        )));
    }
    super::policy::check_property(key)?;
    let variant = from_lua(value)
        .map_err(|e| mlua::Error::runtime(format!("cannot set {}.{key}: {e}", members.class)))?;
    // The declared type comes from the cached property list: no extra engine call per write.
    let expected = members
        .properties
        .get(key)
        .copied()
        .unwrap_or(VariantType::NIL);
    if !accepts(expected, variant.get_type()) {
        return Err(mlua::Error::runtime(format!(
            "cannot set {}.{key}: expected {}, got {}",
            members.class,
            type_name(expected),
            describe(value)
        )));
    }
    object.set(&name.value, &variant);
    Ok(())
}

/// Whether a property declared as `expected` takes a value of type `got`: the same type, a
/// Variant-typed property, int and float either way, null for objects, strings for names.
fn accepts(expected: VariantType, got: VariantType) -> bool {
    use VariantType as T;
    expected == got
        || matches!(
            (expected, got),
            (T::INT, T::FLOAT)
                | (T::FLOAT, T::INT)
                | (T::OBJECT, T::NIL)
                | (T::NIL, _)
                | (T::STRING, T::STRING_NAME)
                | (T::STRING_NAME, T::STRING)
                | (T::NODE_PATH, T::STRING)
        )
}

impl UserData for LuaObject {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        // Lua functions (see `fast`): under LuaJIT the hot properties never leave compiled code.
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            super::fast::metamethods(lua).map(|(index, _)| index)
        });
        fields.add_meta_field_with(MetaMethod::NewIndex, |lua| {
            super::fast::metamethods(lua).map(|(_, newindex)| newindex)
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match this.object() {
                Ok(o) => o.to_string(),
                Err(_) => "<freed Object>".to_owned(),
            })
        });
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (AnyUserData, AnyUserData)| {
            let (a, b) = (a.borrow::<LuaObject>()?, b.borrow::<LuaObject>()?);
            Ok(a.object.instance_id_unchecked() == b.object.instance_id_unchecked())
        });
    }
}
