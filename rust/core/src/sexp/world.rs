//! What an expression reads, and from where.
//!
//! The engine side implements [`World`]: it finds nodes by path, reads their properties and
//! positions, holds the runtime variables and calls user operators. While an expression is
//! evaluated every read is written down in [`Reads`]: that record is what the cache
//! subscribes to, so a result is dropped exactly when something it read changes. Only the
//! reads actually made count: in `(and a b)` with `a` false, nothing `b` reads matters.

use std::rc::Rc;

use super::Value;

/// A node, by engine instance id. `0` is "no node" (an expression evaluated without a
/// context node).
pub type NodeId = u64;

/// Where a path led.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolved {
    /// The node at the end, if there is one.
    pub node: Option<NodeId>,
    /// The context node and every node the path passed through, the last found included:
    /// renaming or removing any of them can change where the path leads. Shared, so a kept
    /// answer is handed out without copying.
    pub chain: Rc<[NodeId]>,
    /// Whether every node involved is inside the scene tree, where the engine side hears of
    /// renames and removals. A result that read an untracked path is not cached.
    pub tracked: bool,
}

/// How the engine side hears that a property changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch {
    /// The node emits `signal` when it does (`health_changed`, `changed`, or the one the
    /// expression names with `:on`), and `also` when the expression names one besides.
    Signals {
        signal: Rc<str>,
        also: Option<Rc<str>>,
    },
    /// No signal tells: the value is read again and compared at the next evaluation.
    Check,
}

/// A node's global position: `dims` is 2 for a Node2D, 3 for a Node3D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub dims: u8,
    pub at: [f64; 3],
}

impl Position {
    pub fn distance(&self, other: &Position) -> f64 {
        let [a, b, c] = self.at;
        let [x, y, z] = other.at;
        ((a - x).powi(2) + (b - y).powi(2) + (c - z).powi(2)).sqrt()
    }
}

/// The engine as an expression sees it.
pub trait World {
    /// Follows `path` from `context` (`0`: none; only absolute paths then).
    ///
    /// # Errors
    /// A message when the path cannot be followed at all (no context for a relative path).
    fn resolve(&mut self, context: NodeId, path: &str) -> Result<Resolved, String>;

    /// `property` of `node` (a `:`-separated property path such as `position:x`), and how
    /// its changes are told; `on` is a signal the expression named.
    ///
    /// # Errors
    /// A message naming the node and the property when there is no such property, or no
    /// such signal.
    fn property(
        &mut self,
        node: NodeId,
        property: &str,
        on: Option<&str>,
    ) -> Result<(Value, Watch), String>;

    /// Where `path` from `context` leads and, when it leads to a node, its `property`: what
    /// [`World::resolve`] then [`World::property`] answer, asked at once for a path and a
    /// property that are constants of the expression (the same strings at each evaluation),
    /// so the engine side may answer from what it kept.
    ///
    /// # Errors
    /// As [`World::resolve`]; the property's own error is in the answer.
    fn resolve_property(
        &mut self,
        context: NodeId,
        path: &Rc<str>,
        property: &Rc<str>,
    ) -> Result<(Resolved, Option<PropertyRead>), String> {
        resolve_then_read(self, context, path, property)
    }

    /// The value of `property` now, for a [`Watch::Check`]; `None` when it cannot be read.
    fn current(&mut self, node: NodeId, property: &Rc<str>) -> Option<Value>;

    /// A way to read `property` of `node` again and again (a value a set checks at each
    /// evaluation), with what finding the node and the name took kept; `None` when the
    /// engine side has nothing quicker than [`World::current`].
    fn reader(&mut self, _node: NodeId, _property: &str) -> Option<Box<dyn Reader>> {
        None
    }

    /// The global position of a Node2D or Node3D.
    ///
    /// # Errors
    /// A message naming the node when it is neither.
    fn position(&mut self, node: NodeId) -> Result<Position, String>;

    /// A runtime variable (nil when unset).
    fn var(&mut self, name: &str) -> Value;

    /// Seconds since the game started.
    fn time(&mut self) -> f64;

    /// A random number in `[0, 1)`.
    fn random(&mut self) -> f64;

    /// Calls the user operator `name`; also tells whether it is pure (its result depends
    /// only on its arguments).
    ///
    /// # Errors
    /// The operator's own error, or that it is no longer defined.
    fn call(&mut self, name: &str, args: &[Value]) -> Result<(Value, bool), String>;

    /// Makes and undoes the signal connections the cache asks for
    /// ([`ExpressionCache::take_watch_changes`](super::ExpressionCache::take_watch_changes)).
    /// A set calls it after each member it computes, before anything else runs.
    fn connect_watches(&mut self) {}
}

/// [`World::resolve`], then [`World::property`] of the node reached: what
/// [`World::resolve_property`] answers when nothing was kept.
///
/// # Errors
/// As [`World::resolve`].
pub fn resolve_then_read<W: World + ?Sized>(
    world: &mut W,
    context: NodeId,
    path: &str,
    property: &str,
) -> Result<(Resolved, Option<PropertyRead>), String> {
    let resolved = world.resolve(context, path)?;
    let read = resolved
        .node
        .map(|node| world.property(node, property, None));
    Ok((resolved, read))
}

/// What [`World::property`] answers: the value and how its changes are told, or why it
/// cannot be read.
pub type PropertyRead = Result<(Value, Watch), String>;

/// A property read prepared by [`World::reader`].
pub trait Reader {
    /// The value now, as [`World::current`] would give it.
    fn read(&self) -> Option<Value>;
}

/// What a read was, for hints: `Player.health` (built into text only when shown).
#[derive(Debug, Clone)]
pub struct Label {
    pub path: Rc<str>,
    pub property: Rc<str>,
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        same_text(&self.path, &other.path) && same_text(&self.property, &other.property)
    }
}

/// Whether two shared strings are equal; the texts are compared only when they are not
/// the same string (they usually are: one expression's reads share its constants).
pub fn same_text(a: &Rc<str>, b: &Rc<str>) -> bool {
    Rc::ptr_eq(a, b) || a == b
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.path, self.property)
    }
}

/// Why a result was dropped, for hints: built into text only when shown, so dropping a
/// result costs no formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// A value read by checking it changed: `Player.ammo changes`.
    Changed(Label),
    /// A watched signal fired: `Player.health changes (health_changed)`.
    Signal(Label, Rc<str>),
    /// `var 'wave' changes`.
    Var(Rc<str>),
    /// `operator 'bonus' was redefined`.
    Operator(Rc<str>),
    /// A change to the scene tree, said in full.
    Tree(&'static str),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Changed(label) => write!(f, "{label} changes"),
            Cause::Signal(label, signal) => write!(f, "{label} changes ({signal})"),
            Cause::Var(name) => write!(f, "var '{name}' changes"),
            Cause::Operator(name) => write!(f, "operator '{name}' was redefined"),
            Cause::Tree(text) => f.write_str(text),
        }
    }
}

/// A value watched by reading it again.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Property {
        node: NodeId,
        property: Rc<str>,
        value: Value,
        label: Label,
    },
    Position {
        node: NodeId,
        at: Position,
        label: Label,
    },
}

impl Check {
    pub fn label(&self) -> &Label {
        match self {
            Check::Property { label, .. } | Check::Position { label, .. } => label,
        }
    }

    /// Whether the value is still what it was.
    pub fn holds(&self, world: &mut dyn World) -> bool {
        match self {
            Check::Property {
                node,
                property,
                value,
                ..
            } => world
                .current(*node, property)
                .is_some_and(|now| now.identical(value)),
            Check::Position { node, at, .. } => world.position(*node).is_ok_and(|now| now == *at),
        }
    }
}

/// A signal of a node a result depends on.
#[derive(Debug, Clone, Eq)]
pub struct SignalWatch {
    pub node: NodeId,
    pub signal: Rc<str>,
}

impl PartialEq for SignalWatch {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node && same_text(&self.signal, &other.signal)
    }
}

impl std::hash::Hash for SignalWatch {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.node.hash(state);
        self.signal.hash(state);
    }
}

/// Everything one evaluation read.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    pub vars: Vec<Rc<str>>,
    /// Nodes on the paths followed.
    pub nodes: Vec<NodeId>,
    /// A path led nowhere: a node added or renamed anywhere may change that.
    pub unresolved: bool,
    /// Signals that tell of changes to properties read, with a label for hints.
    pub signals: Vec<(SignalWatch, Label)>,
    pub checks: Vec<Check>,
    /// User operators called (redefining one drops the results).
    pub operators: Vec<Rc<str>>,
    /// Why the result cannot be cached (`reads \`time\``), if it cannot.
    pub volatile: Option<Rc<str>>,
}

impl Reads {
    /// Forgets every read, keeping the room made for them: a record reused for the next
    /// evaluation allocates nothing.
    pub fn clear(&mut self) {
        self.vars.clear();
        self.nodes.clear();
        self.unresolved = false;
        self.signals.clear();
        self.checks.clear();
        self.operators.clear();
        self.volatile = None;
    }

    /// Sorts and deduplicates the inputs, in place: the form a stored result keeps.
    pub fn normalize(&mut self) {
        self.vars.sort_unstable();
        self.vars.dedup();
        self.nodes.sort_unstable();
        self.nodes.dedup();
        self.operators.sort_unstable();
        self.operators.dedup();
        if self.signals.len() > 16 {
            let mut seen = std::collections::HashSet::new();
            self.signals.retain(|(w, _)| seen.insert(w.clone()));
        } else {
            // The usual few: compared in place, without a set to allocate.
            let mut i = 0;
            while i < self.signals.len() {
                if self.signals[..i]
                    .iter()
                    .any(|(w, _)| *w == self.signals[i].0)
                {
                    self.signals.remove(i);
                } else {
                    i += 1;
                }
            }
        }
    }

    pub fn volatile(&mut self, why: impl Into<Rc<str>>) {
        if self.volatile.is_none() {
            self.volatile = Some(why.into());
        }
    }

    pub fn path(&mut self, resolved: &Resolved) {
        self.nodes.extend_from_slice(&resolved.chain);
        if resolved.node.is_none() {
            self.unresolved = true;
        }
        if !resolved.tracked {
            self.volatile("reads a node outside the scene tree");
        }
    }
}
