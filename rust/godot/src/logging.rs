//! Routes `tracing` events from the core and the extension into Godot's output.
//!
//! The level comes from the `LUA_RUNTIME_LOG` environment variable (`error`, `warn`, `info`,
//! `debug`, `trace`; default `warn`). Warnings and errors go through Godot's warning and error
//! channels so they show in the editor's debugger.

use std::fmt::Write as _;

use godot::global::{godot_error, godot_print, godot_warn};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};

struct GodotSubscriber {
    max_level: Level,
}

/// Collects an event's message and fields into one line.
#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl Subscriber for GodotSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max_level
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let text = line.0;
        match *event.metadata().level() {
            Level::ERROR => godot_error!("[lua_runtime] {text}"),
            Level::WARN => godot_warn!("[lua_runtime] {text}"),
            _ => godot_print!("[lua_runtime] {text}"),
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Installs the subscriber once; later calls (an extension reload) keep the first.
pub fn install() {
    let max_level = std::env::var("LUA_RUNTIME_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(Level::WARN);
    let _ = tracing::subscriber::set_global_default(GodotSubscriber { max_level });
}
