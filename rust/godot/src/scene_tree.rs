//! The running SceneTree, and listening to its node signals (the query and expression
//! caches both do).

use godot::builtin::{Callable, Variant};
use godot::classes::{Engine, SceneTree};
use godot::obj::{Gd, Singleton};

/// The SceneTree the game runs, if the main loop is one.
pub fn current() -> Option<Gd<SceneTree>> {
    Engine::singleton()
        .get_main_loop()
        .and_then(|l| l.try_cast::<SceneTree>().ok())
}

/// Signal connections made by [`connect`], to undo them.
pub type Connections = Vec<(&'static str, Callable)>;

/// Connects each of `tree`'s `signals` to `on_signal(signal, args)`.
pub fn connect(
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
pub fn disconnect(mut tree: Gd<SceneTree>, connections: Connections) {
    if !tree.is_instance_valid() {
        return;
    }
    for (signal, callable) in connections {
        if tree.is_connected(signal, &callable) {
            tree.disconnect(signal, &callable);
        }
    }
}
