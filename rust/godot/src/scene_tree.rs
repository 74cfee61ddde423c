//! The running SceneTree, and listening to its node signals (the query and expression
//! caches both do).

use std::cell::RefCell;

use godot::builtin::{Callable, Variant};
use godot::classes::{Engine, SceneTree};
use godot::obj::{Gd, Singleton};

use crate::bridge::fast::Alive;

/// The SceneTree the game runs, if the main loop is one.
pub fn current() -> Option<Gd<SceneTree>> {
    Engine::singleton()
        .get_main_loop()
        .and_then(|l| l.try_cast::<SceneTree>().ok())
}

/// Signal connections made by [`connect`], to undo them.
type Connections = Vec<(&'static str, Callable)>;

/// Connects each of `tree`'s `signals` to `on_signal(signal, args)`.
fn connect(
    tree: &mut Gd<SceneTree>,
    signals: &[&'static str],
    on_signal: fn(&str, &[&Variant]),
) -> Connections {
    signals
        .iter()
        .map(|&signal| {
            let callable = Callable::from_fn("lua_runtime_tree_listener", move |args| {
                on_signal(signal, args);
            });
            tree.connect(signal, &callable);
            (signal, callable)
        })
        .collect()
}

/// Undoes [`connect`] (nothing to do once the tree is gone).
fn disconnect(mut tree: Gd<SceneTree>, connections: Connections) {
    if !tree.is_instance_valid() {
        return;
    }
    for (signal, callable) in connections {
        if tree.is_connected(signal, &callable) {
            tree.disconnect(signal, &callable);
        }
    }
}

/// Listening to the running tree's signals, made again when the tree is replaced.
#[derive(Default)]
pub struct Listener {
    tree: RefCell<Option<Listened>>,
}

struct Listened {
    tree: Gd<SceneTree>,
    /// Whether the tree lives, told by the engine: [`Listener::ensure`] runs on every
    /// evaluation, where asking the object table (under a lock) showed in profiles.
    alive: Alive,
    connections: Connections,
}

impl Listened {
    fn lives(&self) -> bool {
        self.alive.now_or_else(|| self.tree.is_instance_valid())
    }
}

impl Listener {
    /// The tree, connecting `signals` to `on_signal` first if it is not listened to yet (or
    /// was freed); the flag says whether it was. `None` without a SceneTree.
    pub fn ensure(
        &self,
        signals: &[&'static str],
        on_signal: fn(&str, &[&Variant]),
    ) -> Option<(Gd<SceneTree>, bool)> {
        if let Some(listened) = self.tree.borrow().as_ref()
            && listened.lives()
        {
            return Some((listened.tree.clone(), false));
        }
        let mut tree = current()?;
        let connections = connect(&mut tree, signals, on_signal);
        *self.tree.borrow_mut() = Some(Listened {
            alive: Alive::of(&tree.clone().upcast()),
            tree: tree.clone(),
            connections,
        });
        Some((tree, true))
    }

    /// Stops listening (at shutdown).
    pub fn stop(&self) {
        let listened = self.tree.borrow_mut().take();
        if let Some(Listened {
            tree, connections, ..
        }) = listened
        {
            disconnect(tree, connections);
        }
    }
}
