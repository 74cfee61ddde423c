//! Engine objects in Lua: `obj.property`, `obj.property = v`, `obj:method(args)`.
//!
//! Which names are properties, methods or signals is worked out once per class (and attached
//! script) and cached, so a property access costs one hash lookup plus the engine call.
//! A freed object raises a Lua error on use; it never reaches the engine.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use godot::builtin::{GString, StringName, VarDictionary, Variant, VariantType};
use godot::classes::Object;
use godot::obj::{EngineEnum, Gd};
use mlua::{AnyUserData, Function, Lua, MetaMethod, UserData, UserDataMethods, Value, Variadic};

use super::convert::{from_lua, to_lua};
use super::math::describe;

/// An engine object held by Lua. Holding it keeps a RefCounted alive; a plain Object may be
/// freed by the engine at any time, which [`LuaObject::object`] detects.
pub struct LuaObject {
    object: Gd<Object>,
    members: RefCell<Option<Rc<Members>>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Property,
    Method,
    Signal,
    Missing,
}

/// What one class (with one script attached, or none) exposes.
struct Members {
    class: String,
    /// Property names with their declared types (NIL: any Variant).
    properties: HashMap<String, VariantType>,
    kinds: RefCell<HashMap<String, Kind>>,
}

/// Caches shared by every object proxy.
#[derive(Default)]
pub struct ObjectCaches {
    members: RefCell<HashMap<(String, i64), Rc<Members>>>,
    method_callers: RefCell<HashMap<String, Function>>,
}

impl LuaObject {
    pub fn new(object: Gd<Object>) -> Self {
        LuaObject {
            object,
            members: RefCell::new(None),
        }
    }

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
        let members = with_caches(|caches| caches.members_of(object));
        *self.members.borrow_mut() = Some(members.clone());
        members
    }
}

fn with_caches<R>(f: impl FnOnce(&ObjectCaches) -> R) -> R {
    match crate::state::existing() {
        Some(state) => f(&state.bridge.objects),
        None => f(&ObjectCaches::default()),
    }
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
            kinds: RefCell::new(HashMap::new()),
        });
        self.members.borrow_mut().insert(key, members.clone());
        members
    }

    fn method_caller(&self, lua: &Lua, name: &str) -> mlua::Result<Function> {
        if let Some(f) = self.method_callers.borrow().get(name) {
            return Ok(f.clone());
        }
        let method = StringName::from(name);
        let method_name = name.to_owned();
        let caller =
            lua.create_function(move |lua, (receiver, args): (Value, Variadic<Value>)| {
                let mut object = receiver_object(&receiver).ok_or_else(|| {
                    mlua::Error::runtime(format!(
                        "method '{method_name}' called with '.' instead of ':' (or on a {})",
                        describe(&receiver)
                    ))
                })??;
                let mut variants = Vec::with_capacity(args.len());
                for (i, arg) in args.iter().enumerate() {
                    variants.push(from_lua(arg).map_err(|e| {
                        mlua::Error::runtime(format!(
                            "{}.{method_name}(): argument #{}: {e}",
                            object.get_class(),
                            i + 1
                        ))
                    })?);
                }
                match object.try_call(&method, &variants) {
                    Ok(result) => to_lua(lua, &result),
                    Err(e) => Err(mlua::Error::runtime(format!(
                        "{}.{method_name}(): {}",
                        object.get_class(),
                        call_error_text(&e)
                    ))),
                }
            })?;
        self.method_callers
            .borrow_mut()
            .insert(name.to_owned(), caller.clone());
        Ok(caller)
    }
}

/// The object a method was called on: an object proxy, or a script's `self`.
fn receiver_object(receiver: &Value) -> Option<mlua::Result<Gd<Object>>> {
    match receiver {
        Value::UserData(ud) => ud.borrow::<LuaObject>().ok().map(|o| o.object()),
        Value::Table(t) => super::instance::node_of(t),
        _ => None,
    }
}

fn call_error_text(e: &godot::meta::error::CallError) -> String {
    // The engine's text starts with the failing call itself; keep only the reason.
    let text = e.to_string();
    match text.split_once(": ") {
        Some((_, reason)) => reason.to_owned(),
        None => text,
    }
}

impl Members {
    fn kind(&self, object: &Gd<Object>, name: &str) -> Kind {
        if let Some(kind) = self.kinds.borrow().get(name) {
            return *kind;
        }
        let kind = if self.properties.contains_key(name) {
            Kind::Property
        } else if object.has_method(name) {
            Kind::Method
        } else if object.has_signal(name) {
            Kind::Signal
        } else {
            Kind::Missing
        };
        self.kinds.borrow_mut().insert(name.to_owned(), kind);
        kind
    }
}

/// `obj.key`: a property's value, a method to call with `:`, or an error naming the class.
pub fn index(lua: &Lua, this: &LuaObject, key: &str) -> mlua::Result<Value> {
    let object = this.object()?;
    let members = this.members(&object);
    match members.kind(&object, key) {
        Kind::Property => to_lua(lua, &object.get(key)),
        Kind::Method => with_caches(|c| c.method_caller(lua, key)).map(Value::Function),
        Kind::Signal => to_lua(
            lua,
            &Variant::from(godot::builtin::Signal::from_object_signal(&object, key)),
        ),
        Kind::Missing => Err(mlua::Error::runtime(format!(
            "{} has no property, method or signal named '{key}'",
            members.class
        ))),
    }
}

/// Whether `obj.key = v` would set an engine property.
pub fn has_property(this: &LuaObject, key: &str) -> mlua::Result<bool> {
    let object = this.object()?;
    Ok(this.members(&object).kind(&object, key) == Kind::Property)
}

/// `obj.key = value`.
pub fn set(this: &LuaObject, key: &str, value: &Value) -> mlua::Result<()> {
    let mut object = this.object()?;
    let members = this.members(&object);
    if members.kind(&object, key) != Kind::Property {
        return Err(mlua::Error::runtime(format!(
            "{} has no property named '{key}'",
            members.class
        )));
    }
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
            "cannot set {}.{key}: expected {expected:?}, got {}",
            members.class,
            describe(value)
        )));
    }
    object.set(key, &variant);
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
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |lua, this, key: mlua::LuaString| {
            index(lua, this, &key.to_str()?)
        });
        methods.add_meta_method(
            MetaMethod::NewIndex,
            |_, this, (key, value): (mlua::LuaString, Value)| set(this, &key.to_str()?, &value),
        );
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
