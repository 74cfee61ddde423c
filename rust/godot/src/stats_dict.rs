//! The statistics snapshot as the nested Dictionary `get_stats()` returns, the editor panel
//! reads and the debugger sends.

use godot::prelude::*;

use crate::state::RuntimeState;

/// `state`'s statistics now.
pub fn snapshot(state: &RuntimeState) -> VarDictionary {
    json_to_variant(&state.stats().to_json())
        .try_to()
        .unwrap_or_default()
}

/// Statistics JSON as nested Dictionaries; integers stay integers.
fn json_to_variant(value: &serde_json::Value) -> Variant {
    use serde_json::Value as J;
    match value {
        J::Null => Variant::nil(),
        J::Bool(b) => b.to_variant(),
        J::Number(n) => match n.as_i64() {
            Some(i) => i.to_variant(),
            None => n.as_f64().unwrap_or(0.0).to_variant(),
        },
        J::String(s) => GString::from(s.as_str()).to_variant(),
        J::Array(items) => {
            let mut array = VarArray::new();
            for item in items {
                array.push(&json_to_variant(item));
            }
            array.to_variant()
        }
        J::Object(map) => {
            let mut dict = VarDictionary::new();
            for (k, v) in map {
                dict.set(&GString::from(k.as_str()).to_variant(), &json_to_variant(v));
            }
            dict.to_variant()
        }
    }
}
