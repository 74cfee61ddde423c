//! Godot Lua Runtime: the GDExtension.
//!
//! A thin bridge over `lua_runtime_core`: it registers the `LuaRuntime` singleton and the
//! `LuaScriptNode` class, converts between Variants and Lua values, and turns core errors
//! into Godot errors at one place ([`errors`]).

use godot::init::{ExtensionLibrary, InitStage, gdextension};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

mod alloc;
mod assets;
mod batch;
mod bridge;
mod busy_nodes;
mod callbacks;
mod cleanup;
mod debugger;
mod errors;
mod events;
mod expressions;
mod logging;
mod monitors;
mod queries;
mod reload;
mod running;
mod runtime;
mod scene_tree;
mod script_node;
mod settings;
mod source;
mod state;
mod stats_dict;

struct LuaRuntimeExtension;

#[gdextension]
unsafe impl ExtensionLibrary for LuaRuntimeExtension {
    fn on_stage_init(stage: InitStage) {
        match stage {
            InitStage::Scene => {
                logging::install();
                settings::register();
            }
            InitStage::MainLoop => state::start(),
            _ => {}
        }
    }

    fn on_main_loop_frame() {
        state::frame();
    }

    fn on_stage_deinit(stage: InitStage) {
        // Close the Lua state while Godot is still whole: objects Lua holds are released
        // here, so none is reported as leaked at exit.
        if stage == InitStage::MainLoop {
            runtime::disconnect_all();
            state::shutdown();
        }
    }
}
