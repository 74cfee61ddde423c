//! Method hashes against the ones Godot 4.6's API description gives (`extension_api.json`):
//! a wrong hash means the engine refuses the method bind.

use lua_runtime_core::method_hash::{Signature, Slot, string_hash};

const BOOL: u32 = 1;
const INT: u32 = 2;
const FLOAT: u32 = 3;
const VECTOR2: u32 = 5;

fn plain(ty: u32) -> Slot<'static> {
    Slot { ty, class_name: "" }
}

#[test]
fn getters_and_setters_hash_as_the_engine_does() {
    let get_position = Signature {
        returns: Some(plain(VECTOR2)),
        arguments: vec![],
        default_hashes: vec![],
        is_const: true,
        is_vararg: false,
    };
    assert_eq!(get_position.hash(), 3_341_600_327, "Node2D.get_position");
    let set_position = Signature {
        returns: None,
        arguments: vec![plain(VECTOR2)],
        default_hashes: vec![],
        is_const: false,
        is_vararg: false,
    };
    assert_eq!(set_position.hash(), 743_155_724, "Node2D.set_position");
    let rotate = Signature {
        arguments: vec![plain(FLOAT)],
        ..set_position
    };
    assert_eq!(rotate.hash(), 373_806_689, "Node2D.rotate");
    let is_inside_tree = Signature {
        returns: Some(plain(BOOL)),
        ..get_position
    };
    assert_eq!(is_inside_tree.hash(), 36_873_697, "Node.is_inside_tree");
}

#[test]
fn default_arguments_and_constness_change_the_hash() {
    // Node.get_child_count(include_internal: bool = false) const; the engine hashes `false`
    // as 0.
    let get_child_count = Signature {
        returns: Some(plain(INT)),
        arguments: vec![plain(BOOL)],
        default_hashes: vec![0],
        is_const: true,
        is_vararg: false,
    };
    assert_eq!(get_child_count.hash(), 894_402_480);
    let without_default = Signature {
        default_hashes: vec![],
        ..get_child_count.clone()
    };
    assert_ne!(without_default.hash(), get_child_count.hash());
    let not_const = Signature {
        is_const: false,
        ..get_child_count.clone()
    };
    assert_ne!(not_const.hash(), get_child_count.hash());
    // Node2D.move_local_x(delta: float, scaled: bool = false)
    let move_local_x = Signature {
        returns: None,
        arguments: vec![plain(FLOAT), plain(BOOL)],
        default_hashes: vec![0],
        is_const: false,
        is_vararg: false,
    };
    assert_eq!(move_local_x.hash(), 2_087_892_650);
}

#[test]
fn an_enum_result_hashes_its_enum_name() {
    let get_process_mode = Signature {
        returns: Some(Slot {
            ty: INT,
            class_name: "Node.ProcessMode",
        }),
        arguments: vec![],
        default_hashes: vec![],
        is_const: true,
        is_vararg: false,
    };
    assert_eq!(get_process_mode.hash(), 739_966_102);
}

#[test]
fn strings_hash_with_djb2() {
    assert_eq!(string_hash(""), 5381);
    assert_eq!(string_hash("a"), 5381 * 33 + 97);
    // Characters beyond ASCII hash by code point, as Godot's UTF-32 strings do.
    assert_eq!(string_hash("é"), 5381 * 33 + 0xE9);
}
