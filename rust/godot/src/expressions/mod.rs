//! SEXP expressions in the engine: `LuaRuntime.evaluate`, `LuaExpression`, the Lua `sexp`
//! library, user operators, and the signals that keep cached results right.
//!
//! The language, the compiler and the result cache are engine-free
//! (`lua_runtime_core::sexp`). This side supplies the [`world::GodotWorld`] expressions
//! read from, makes the node-signal connections the cache asks for, and tells the cache what
//! the SceneTree's `node_added`, `node_removed` and `node_renamed` say.

pub mod library;
pub mod nodes;
pub mod object;
pub mod paths;
pub mod world;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use godot::builtin::{Callable, Variant};
use godot::classes::Node;
use godot::classes::object::ConnectFlags;
use godot::obj::Gd;
use lua_runtime_core::Error;
use lua_runtime_core::sexp::compile::is_operator_name;
use lua_runtime_core::sexp::set::Report;
use lua_runtime_core::sexp::{
    Compiled, ExpressionCache, ExpressionSet, NodeId, SexpError, SignalWatch, WatchChange,
    evaluate, evaluate_uncached,
};
use lua_runtime_core::stats::ExpressionStats;
use mlua::RegistryKey;
use rustc_hash::FxHashMap;

use crate::bridge::names::intern_str;
use crate::scene_tree;
use crate::state::RuntimeState;
use world::{GodotWorld, id_of, to_value, to_variant};

/// Compiled expressions kept by source text.
const COMPILED: usize = 10_000;
/// Node properties whose change signal is remembered.
const CHANGE_SIGNALS: usize = 16_384;

/// Per property of one node: the signal that tells of its changes, if any.
type PropertySignals = FxHashMap<Box<str>, Option<Rc<str>>>;

/// Per node, per property: the signal that tells of its changes, if any.
///
/// A node's signals are its class's and its script's, and the script can be swapped: each
/// node's entries are dropped when it emits `script_changed` (a one-shot connection made
/// with its first entry), so a lookup costs no call into the engine.
#[derive(Default)]
struct ChangeSignals {
    by_node: FxHashMap<NodeId, PropertySignals>,
    count: usize,
}

/// How a user operator is implemented.
pub enum Implementation {
    Lua(RegistryKey),
    Callable(Callable),
}

struct Operator {
    implementation: Rc<Implementation>,
    pure: bool,
}

/// The expression cache and what feeds it.
pub struct Expressions {
    pub cache: RefCell<ExpressionCache>,
    operators: RefCell<HashMap<String, Operator>>,
    /// The node signals connected for the cache, with the callable to disconnect.
    connections: RefCell<HashMap<SignalWatch, Callable>>,
    /// The tree listened to, and the connections made to it.
    tree: scene_tree::Listener,
    /// The nodes expressions read, by id.
    pub nodes: nodes::Nodes,
    /// Where paths led, while the tree has not changed in a way that moves them.
    pub paths: paths::Paths,
    /// Per node and property read, the signal that tells of its changes (see
    /// [`Expressions::change_signal`]).
    change_signals: RefCell<ChangeSignals>,
}

impl Default for Expressions {
    fn default() -> Self {
        Expressions {
            cache: RefCell::new(ExpressionCache::new(
                COMPILED,
                crate::settings::expression_results(),
            )),
            operators: RefCell::default(),
            connections: RefCell::default(),
            tree: scene_tree::Listener::default(),
            nodes: nodes::Nodes::default(),
            paths: paths::Paths::default(),
            change_signals: RefCell::default(),
        }
    }
}

impl Expressions {
    /// The signal that tells of changes to `property` of `node` (`object`), found once per
    /// node and property until its script changes: a result computed again asks for it each
    /// time. The entries are dropped all at once past [`CHANGE_SIGNALS`], so freed nodes
    /// cannot make them grow without bound.
    pub fn change_signal(
        &self,
        object: &Gd<Node>,
        node: NodeId,
        property: &str,
    ) -> Option<Rc<str>> {
        if let Some(signal) = self
            .change_signals
            .borrow()
            .by_node
            .get(&node)
            .and_then(|p| p.get(property))
        {
            return signal.clone();
        }
        let signal = world::change_signal_of(object, property);
        let mut known = self.change_signals.borrow_mut();
        if known.count >= CHANGE_SIGNALS {
            *known = ChangeSignals::default();
        }
        let first = !known.by_node.contains_key(&node);
        known.count += 1;
        known
            .by_node
            .entry(node)
            .or_default()
            .insert(property.into(), signal.clone());
        drop(known);
        if first {
            let forget = Callable::from_fn("lua_runtime_script_changed", move |_| {
                if let Some(state) = crate::state::existing() {
                    let expressions = &state.expressions;
                    if let Ok(mut known) = expressions.change_signals.try_borrow_mut() {
                        known.by_node.remove(&node);
                    }
                    expressions.paths.script_changed();
                    if let Ok(mut cache) = expressions.cache.try_borrow_mut() {
                        cache.script_changed(node);
                    }
                }
            });
            object.clone().connect_flags(
                &intern_str("script_changed").value,
                &forget,
                ConnectFlags::ONE_SHOT,
            );
        }
        signal
    }

    pub fn stats(&self) -> ExpressionStats {
        self.cache.borrow().stats()
    }

    /// Reads the project settings that shape the cache.
    pub fn read_settings(&self) {
        self.cache
            .borrow_mut()
            .set_capacity(crate::settings::expression_results());
        self.apply_watch_changes();
    }

    /// The compiled form of `source`.
    ///
    /// # Errors
    /// Its syntax or compile error, with the text.
    pub fn compile(&self, source: &str) -> Result<Rc<Compiled>, Error> {
        let operators = self.operators.borrow();
        self.cache
            .borrow_mut()
            .compile(source, &|name| operators.contains_key(name))
            .map_err(|error| expression_error(source, error))
    }

    /// `expr`'s value in `context`, from the cache when nothing it read changed.
    ///
    /// # Errors
    /// Its runtime error, with the text.
    pub fn evaluate(
        &self,
        state: &RuntimeState,
        expr: &Rc<Compiled>,
        context: NodeId,
        cached: bool,
    ) -> Result<Variant, Error> {
        self.listen();
        // An uncached evaluation follows its paths again too: it is what cached results are
        // checked against.
        let mut world = GodotWorld {
            state,
            kept_paths: cached,
        };
        let result = if cached {
            evaluate(&self.cache, expr, context, &mut world)
        } else {
            evaluate_uncached(&self.cache, expr, context, &mut world)
        };
        self.apply_watch_changes();
        result
            .map(|v| to_variant(&v))
            .map_err(|error| expression_error(&expr.source, error))
    }

    /// Evaluates every member of `set`; `report` hears of the values that changed and of
    /// the errors (see [`ExpressionSet::evaluate`]).
    pub fn evaluate_set(&self, state: &RuntimeState, set: &mut ExpressionSet, report: Report<'_>) {
        self.listen();
        let mut world = GodotWorld {
            state,
            kept_paths: true,
        };
        set.evaluate(&self.cache, &mut world, report);
        self.apply_watch_changes();
    }

    /// Sets a runtime variable for `(var name)`.
    pub fn set_var(&self, name: &str, value: &Variant) {
        self.cache.borrow_mut().set_var(name, to_value(value));
    }

    /// Defines (or redefines) the user operator `name`.
    ///
    /// # Errors
    /// When `name` is a built-in operator or not a valid symbol.
    pub fn define(
        &self,
        name: &str,
        implementation: Implementation,
        pure: bool,
    ) -> Result<(), String> {
        if !is_operator_name(name) {
            return Err(format!(
                "'{name}' cannot name an operator: it is built in, or not a symbol"
            ));
        }
        let old = self.operators.borrow_mut().insert(
            name.to_owned(),
            Operator {
                implementation: Rc::new(implementation),
                pure,
            },
        );
        if old.is_some() {
            self.cache.borrow_mut().operator_defined(name);
        }
        Ok(())
    }

    /// The operator `name`, if defined, and whether it is pure.
    pub fn operator(&self, name: &str) -> Option<(Rc<Implementation>, bool)> {
        self.operators
            .borrow()
            .get(name)
            .map(|o| (o.implementation.clone(), o.pure))
    }

    /// Drops every cached result and compiled expression, and where paths led.
    pub fn clear(&self) {
        self.cache.borrow_mut().clear();
        self.paths.clear();
        self.apply_watch_changes();
    }

    /// Disconnects everything and forgets the operators (at shutdown, before Lua closes).
    pub fn stop(&self) {
        self.clear();
        self.nodes.clear();
        self.operators.borrow_mut().clear();
        self.tree.stop();
    }

    /// Makes and undoes the node-signal connections the cache asks for.
    pub fn apply_watch_changes(&self) {
        if !self.cache.borrow().has_watch_changes() {
            return;
        }
        let changes = self.cache.borrow_mut().take_watch_changes();
        for change in changes {
            match change {
                WatchChange::Connect(watch) => {
                    let Some(mut node) = self.nodes.get(watch.node) else {
                        continue;
                    };
                    let told = watch.clone();
                    let callable = Callable::from_fn("lua_runtime_expression_input", move |_| {
                        if let Some(state) = crate::state::existing() {
                            state.expressions.cache.borrow_mut().signal(&told);
                        }
                    });
                    node.connect(&*watch.signal, &callable);
                    self.connections.borrow_mut().insert(watch, callable);
                }
                WatchChange::Disconnect(watch) => {
                    let callable = self.connections.borrow_mut().remove(&watch);
                    if let (Some(callable), Some(mut node)) = (callable, self.nodes.get(watch.node))
                        && node.is_connected(&*watch.signal, &callable)
                    {
                        node.disconnect(&*watch.signal, &callable);
                    }
                }
            }
        }
    }

    /// Listens to the scene tree from the first evaluation on.
    fn listen(&self) {
        self.tree
            .ensure(&["node_added", "node_removed", "node_renamed"], tree_signal);
    }
}

fn tree_signal(signal: &str, args: &[&Variant]) {
    let Some(state) = crate::state::existing() else {
        return;
    };
    let node = args.first().and_then(|a| a.try_to::<Gd<Node>>().ok());
    let paths = &state.expressions.paths;
    let mut cache = state.expressions.cache.borrow_mut();
    match (signal, node) {
        ("node_added", _) => {
            paths.node_added();
            cache.node_added();
        }
        ("node_removed", Some(node)) => {
            paths.node_removed(id_of(&node));
            cache.node_removed(id_of(&node));
        }
        ("node_renamed", Some(node)) => {
            paths.node_renamed(id_of(&node));
            cache.node_renamed(id_of(&node));
        }
        _ => {}
    }
}

pub fn expression_error(source: &str, error: SexpError) -> Error {
    Error::Expression {
        text: source.to_owned(),
        error,
    }
}

/// The error of `expr` given a context that is not a Node or null.
pub fn context_error(expr: &Compiled, message: String) -> Error {
    expression_error(
        &expr.source,
        SexpError::Eval {
            message,
            line: 1,
            col: 1,
        },
    )
}
