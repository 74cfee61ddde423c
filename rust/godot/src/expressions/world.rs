//! The engine as expressions see it: nodes by path, properties, positions, user operators.

use std::any::Any;
use std::fmt;
use std::rc::Rc;

use godot::builtin::{GString, NodePath, StringName, VarArray, Variant, VariantType};
use godot::classes::{Node, Node2D, Node3D, Object, Time};
use godot::obj::{Gd, Singleton};
use lua_runtime_core::sexp::{
    NodeId, Opaque, Position, PropertyRead, Reader, Resolved, Value, Watch, World,
    resolve_then_read,
};

use super::Implementation;
use super::nodes::KeptNode;
use super::paths::Access;
use crate::bridge::convert;
use crate::bridge::names::intern_str;
use crate::state::RuntimeState;

/// A Variant an expression cannot compute with but can compare and show.
pub struct VariantValue(pub Variant);

impl fmt::Display for VariantValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.stringify())
    }
}

impl Opaque for VariantValue {
    fn same(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<VariantValue>()
            .is_some_and(|o| o.0 == self.0)
    }

    fn type_name(&self) -> String {
        godot::global::type_string(self.0.get_type().ord as i64).to_string()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub fn to_value(v: &Variant) -> Value {
    match v.get_type() {
        VariantType::NIL => Value::Nil,
        VariantType::BOOL => Value::Bool(v.to()),
        VariantType::INT => Value::Int(v.to()),
        VariantType::FLOAT => Value::Float(v.to()),
        VariantType::STRING => Value::Str(v.to::<GString>().to_string().into()),
        VariantType::STRING_NAME => Value::Str(v.to::<StringName>().to_string().into()),
        _ => Value::Other(Rc::new(VariantValue(v.clone()))),
    }
}

pub fn to_variant(v: &Value) -> Variant {
    use godot::meta::ToGodot;
    match v {
        Value::Nil => Variant::nil(),
        Value::Bool(b) => b.to_variant(),
        Value::Int(i) => i.to_variant(),
        Value::Float(f) => f.to_variant(),
        Value::Str(s) => GString::from(&**s).to_variant(),
        Value::Other(o) => o
            .as_any()
            .downcast_ref::<VariantValue>()
            .map(|v| v.0.clone())
            .unwrap_or_default(),
    }
}

pub fn id_of(node: &Gd<Node>) -> NodeId {
    node.instance_id_unchecked().to_i64() as u64
}

/// The id of the context node `context` holds (0 for null), or why it cannot be one: not
/// a Node, or freed.
///
/// GDScript hands the context over as a Variant: godot-rust's conversion to `Gd<Node>`
/// asks the engine whether the object is a Node by class name, as a new string, on every
/// call, which cost more than the cached evaluation itself. A node is found by id in
/// [`Nodes`](super::nodes::Nodes) instead, which checks its class once.
pub fn context_id(nodes: &super::nodes::Nodes, context: &Variant) -> Result<NodeId, String> {
    let Some(id) = context.object_id_unchecked() else {
        let ty = context.get_type();
        return if ty == VariantType::NIL {
            Ok(0)
        } else {
            Err(format!(
                "the context must be a Node or null, not {}",
                crate::bridge::builtin::type_name(ty)
            ))
        };
    };
    let node = id.to_i64() as u64;
    if nodes.get(node).is_some() {
        return Ok(node);
    }
    match Gd::<Object>::try_from_instance_id(id) {
        Ok(object) => Err(format!(
            "the context must be a Node or null, not {}",
            object.get_class()
        )),
        Err(_) => Err("the context node was freed".into()),
    }
}

/// The engine, for one evaluation.
pub struct GodotWorld<'a> {
    pub state: &'a RuntimeState,
    /// Whether paths may be answered from [`super::paths::Paths`] (else followed again).
    pub kept_paths: bool,
}

impl GodotWorld<'_> {
    fn node(&self, id: NodeId) -> Option<Gd<Node>> {
        self.state.expressions.nodes.get(id)
    }

    /// Follows `path` from `context` in the tree as it is now.
    fn follow(&self, context: NodeId, path: &str) -> Result<Resolved, String> {
        let absolute = path.starts_with('/');
        let start = if absolute {
            let tree = crate::scene_tree::current().ok_or("there is no scene tree")?;
            tree.get_root().map(|r| r.upcast::<Node>())
        } else if context == 0 {
            return Err("no context node: a relative path needs one".into());
        } else {
            self.node(context)
        };
        let Some(start) = start else {
            return Err("the context node was freed".into());
        };
        let mut chain = vec![id_of(&start)];
        let mut tracked = start.is_inside_tree();
        let mut names = path.split('/').filter(|p| !p.is_empty() && *p != ".");
        if absolute && names.next() != Some(start.get_name().to_string().as_str()) {
            return Ok(Resolved {
                node: None,
                chain: chain.into(),
                tracked,
            });
        }
        let mut at = Some(start);
        for name in names {
            at = match at {
                Some(n) if name == ".." => n.get_parent(),
                Some(n) => n.get_node_or_null(&self.state.expressions.nodes.path(name)),
                None => None,
            };
            match &at {
                Some(n) => {
                    tracked &= n.is_inside_tree();
                    chain.push(id_of(n));
                }
                None => break,
            }
        }
        Ok(Resolved {
            node: at.as_ref().map(id_of),
            chain: chain.into(),
            tracked,
        })
    }
}

impl World for GodotWorld<'_> {
    fn resolve(&mut self, context: NodeId, path: &str) -> Result<Resolved, String> {
        if !self.kept_paths {
            return self.follow(context, path);
        }
        let paths = &self.state.expressions.paths;
        if let Some(kept) = paths.get(context, path) {
            return Ok(kept);
        }
        let generation = paths.generation();
        let resolved = self.follow(context, path)?;
        paths.keep(generation, context, path, &resolved);
        Ok(resolved)
    }

    fn property(
        &mut self,
        id: NodeId,
        property: &str,
        on: Option<&str>,
    ) -> Result<(Value, Watch), String> {
        let node = self.node(id).ok_or("the node was freed")?;
        let object: &Object = &node;
        let value = read(&node, property);
        let base = property.split(':').next().unwrap_or(property);
        if value.is_nil() && !crate::bridge::object::declares_property(&node.clone().upcast(), base)
        {
            return Err(format!(
                "node '{}' ({}) has no property '{base}'",
                node.get_name(),
                node.get_class()
            ));
        }
        let changed = self.state.expressions.change_signal(&node, id, base);
        let named = match on {
            Some(on) if !object.has_signal(on) => {
                return Err(format!(
                    "node '{}' ({}) has no signal '{on}'",
                    node.get_name(),
                    node.get_class()
                ));
            }
            Some(on) if changed.as_deref() != Some(on) => Some(Rc::from(on)),
            _ => None,
        };
        let watch = match (changed, named) {
            (Some(signal), also) => Watch::Signals { signal, also },
            (None, Some(signal)) => Watch::Signals { signal, also: None },
            (None, None) => Watch::Check,
        };
        Ok((to_value(&value), watch))
    }

    fn current(&mut self, node: NodeId, property: &Rc<str>) -> Option<Value> {
        self.state.expressions.nodes.read(node, property)
    }

    fn reader(&mut self, id: NodeId, property: &str) -> Option<Box<dyn Reader>> {
        let node = self.node(id)?;
        Some(Box::new(PropertyReader::new(id, node, property)))
    }

    fn resolve_property(
        &mut self,
        context: NodeId,
        path: &Rc<str>,
        property: &Rc<str>,
    ) -> Result<(Resolved, Option<PropertyRead>), String> {
        let state = self.state;
        let paths = &state.expressions.paths;
        if self.kept_paths
            && let Some(access) = paths.access(context, path, property)
            && let Some(value) = access.reader.read()
        {
            return Ok((
                access.resolved.clone(),
                Some(Ok((value, access.watch.clone()))),
            ));
        }
        let generation = paths.generation();
        let (resolved, read) = resolve_then_read(self, context, path, property)?;
        if self.kept_paths
            && let (Some(id), Some(Ok((_, watch)))) = (resolved.node, &read)
            && let Some(node) = self.node(id)
        {
            let reader = PropertyReader::new(id, node, property);
            let access = Access::new(path, property, &resolved, reader, watch);
            paths.keep_access(generation, context, access);
        }
        Ok((resolved, read))
    }

    fn position(&mut self, node: NodeId) -> Result<Position, String> {
        let object = self.node(node).ok_or("the node was freed")?;
        let object = match object.try_cast::<Node2D>() {
            Ok(n) => {
                let p = n.get_global_position();
                return Ok(Position {
                    dims: 2,
                    at: [f64::from(p.x), f64::from(p.y), 0.0],
                });
            }
            Err(object) => object,
        };
        match object.try_cast::<Node3D>() {
            Ok(n) => {
                let p = n.get_global_position();
                Ok(Position {
                    dims: 3,
                    at: [f64::from(p.x), f64::from(p.y), f64::from(p.z)],
                })
            }
            Err(node) => Err(format!(
                "'distance': node '{}' is a {}, not a Node2D or Node3D",
                node.get_name(),
                node.get_class()
            )),
        }
    }

    fn var(&mut self, name: &str) -> Value {
        self.state.expressions.cache.borrow().var(name)
    }

    fn time(&mut self) -> f64 {
        Time::singleton().get_ticks_usec() as f64 / 1e6
    }

    fn random(&mut self) -> f64 {
        godot::global::randf()
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Result<(Value, bool), String> {
        let (implementation, pure) = self
            .state
            .expressions
            .operator(name)
            .ok_or("the operator is no longer defined")?;
        let result = match &*implementation {
            Implementation::Lua(key) => {
                let lua = self.state.host.lua();
                let function: mlua::Function =
                    lua.registry_value(key).map_err(|e| e.to_string())?;
                let args = args
                    .iter()
                    .map(|a| convert::to_lua(lua, &to_variant(a)))
                    .collect::<mlua::Result<mlua::MultiValue>>()
                    .map_err(|e| e.to_string())?;
                let value: mlua::Value = self
                    .state
                    .host
                    .call(&function, args, "(sexp operator)")
                    .map_err(|e| e.to_string())?;
                convert::from_lua(&value).map_err(|e| e.to_string())?
            }
            Implementation::Callable(callable) => {
                if !callable.is_valid() {
                    return Err("its Callable is no longer valid".into());
                }
                let args: VarArray = args.iter().map(to_variant).collect();
                callable.callv(&args)
            }
        };
        Ok((to_value(&result), pure))
    }

    fn connect_watches(&mut self) {
        self.state.expressions.apply_watch_changes();
    }
}

/// A property read again and again (a set's check, a kept access), through the node and
/// the name found once: no lookup by id or by text on the way.
pub struct PropertyReader {
    node: KeptNode,
    name: Name,
}

impl PropertyReader {
    pub(super) fn new(id: NodeId, node: Gd<Node>, property: &str) -> Self {
        PropertyReader {
            node: KeptNode::new(id, node),
            name: Name::of(property),
        }
    }
}

/// How a property is asked for: a plain name through the interned StringName, a `:` path
/// such as `position:x` as a NodePath.
enum Name {
    Property(StringName),
    Path(NodePath),
}

impl Name {
    fn of(property: &str) -> Self {
        if property.contains(':') {
            Name::Path(NodePath::from(property))
        } else {
            Name::Property(intern_str(property).value.clone())
        }
    }

    /// Its value on `node`, which the caller knows lives.
    fn get(&self, node: &Gd<Node>) -> Variant {
        match self {
            Name::Property(name) => crate::bridge::ffi::object_get(node, name),
            Name::Path(path) => node.get_indexed(path),
        }
    }
}

impl Reader for PropertyReader {
    fn read(&self) -> Option<Value> {
        // The node is touched only while it lives.
        Some(to_value(&self.name.get(self.node.live()?)))
    }
}

/// The signal that tells of changes to `property` of `object`: `<property>_changed`, else
/// `changed`, else none.
pub fn change_signal_of(object: &Object, property: &str) -> Option<Rc<str>> {
    let changed = intern_str(&format!("{property}_changed"));
    if object.has_signal(&changed.value) {
        Some((*changed.text).into())
    } else if object.has_signal(&intern_str("changed").value) {
        Some("changed".into())
    } else {
        None
    }
}

/// `property` of `node` (see [`Name`]).
fn read(node: &Gd<Node>, property: &str) -> Variant {
    Name::of(property).get(node)
}
