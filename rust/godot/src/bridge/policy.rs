//! What scripts may not do through the engine API: the sandbox's engine half (the Lua half is
//! in the core's `host::sandbox`).
//!
//! A script reaches files only under `res://` and `user://`, cannot start or signal processes,
//! open URLs, load native extensions, or make engine code of its own (a `GDScript` or an
//! `Expression` built from text, a resource from `user://` that could carry a script). The
//! checks cost nothing on other calls: only the method callers of the names below check, and
//! they are made once per name.
//!
//! The same names are checked when reached indirectly: `obj:call("execute", ...)`,
//! `call_deferred`, `ClassDB:class_call_static(...)`. `callv` (whose arguments come in an
//! Array) may not reach them at all, and no Callable of one of them reaches a script, however
//! made (`Callable(obj, "load")`, `Callable.create(OS, "execute")`, a method's return value):
//! once made, the engine could call it with any arguments, from a signal say.

use godot::builtin::VariantType;
use lua_runtime_core::host::{climbs, is_rooted};
use mlua::Value;

/// Methods that reach outside the game, refused whatever the object.
const DENIED: &[&str] = &[
    "execute",
    "execute_with_pipe",
    "create_process",
    "create_instance",
    "kill",
    "shell_open",
    "shell_show_in_file_manager",
    "move_to_trash",
    "set_environment",
    "unset_environment",
    "load_extension",
    "reload_extension",
    "unload_extension",
    "set_source_code",
];

/// Methods whose first text argument is a file path (`copy_absolute` and `rename_absolute`:
/// their first two).
const PATHS: &[&str] = &[
    "open",
    "open_compressed",
    "open_encrypted",
    "open_encrypted_with_pass",
    "load",
    "load_from_file",
    "load_threaded_request",
    "load_resource_pack",
    "load_dynamic_font",
    "load_bitmap_font",
    "exists",
    "dir_exists_absolute",
    "make_dir_absolute",
    "make_dir_recursive_absolute",
    "remove_absolute",
    "copy_absolute",
    "rename_absolute",
    "get_files_at",
    "get_directories_at",
    "get_file_as_bytes",
    "get_file_as_string",
    "get_modified_time",
    "get_md5",
    "get_sha256",
    "save",
    "save_png",
    "save_jpg",
    "save_webp",
    "save_exr",
    "save_custom",
];

/// Methods of an opened directory whose paths are relative to it: no absolute paths, no `..`.
const RELATIVE_PATHS: &[&str] = &[
    "change_dir",
    "copy",
    "rename",
    "remove",
    "make_dir",
    "make_dir_recursive",
    "dir_exists",
    "file_exists",
];

/// Methods that call another method named by their first argument.
const DISPATCH: &[&str] = &["call", "callv", "call_deferred", "set", "set_deferred"];

/// `ClassDB`'s: a static method named by the second argument, of the class named by the first.
const STATIC_DISPATCH: &str = "class_call_static";

/// `ClassDB`'s, when given a class name: an object of that class (`PackedScene`'s takes none).
const INSTANTIATE: &str = "instantiate";

/// Classes scripts may not instantiate: they turn text into engine code.
const DENIED_CLASSES: &[&str] = &["GDScript", "CSharpScript", "Expression"];

/// Properties scripts may not set.
const DENIED_PROPERTIES: &[&str] = &["source_code"];

/// Resource types that can carry a script: not loaded from `user://`, where anything may have
/// written them.
const SCRIPT_CARRIERS: &[&str] = &[".tres", ".res", ".tscn", ".scn", ".gd", ".gdc", ".cs"];

/// Whether calls of method `name` are checked (its caller is then made with [`check_call`]).
pub fn is_policed(name: &str) -> bool {
    name == STATIC_DISPATCH
        || name == INSTANTIATE
        || [DENIED, PATHS, RELATIVE_PATHS, DISPATCH]
            .iter()
            .any(|list| list.contains(&name))
}

/// Refuses a call of `method` with `args` that the sandbox does not allow.
///
/// # Errors
/// A Lua error naming the method and the rule.
pub fn check_call(method: &str, args: &[Value]) -> mlua::Result<()> {
    if DENIED.contains(&method) {
        return Err(refused(&format!(
            "{method}() is not available to scripts: it reaches outside the game"
        )));
    }
    let texts = || {
        args.iter().filter_map(|a| match a {
            Value::String(s) => Some(s.to_string_lossy()),
            _ => None,
        })
    };
    if DISPATCH.contains(&method) {
        if let Some(Value::String(target)) = args.first() {
            let target = target.to_string_lossy();
            if method.starts_with("set") {
                return check_property(&target);
            }
            if method == "callv" && is_policed(&target) {
                return Err(refused(&format!(
                    "callv(\"{target}\", ...) is not available to scripts: call {target}() itself"
                )));
            }
            return check_call(&target, &args[1..]);
        }
        return Ok(());
    }
    if method == STATIC_DISPATCH {
        if let Some(Value::String(target)) = args.get(1) {
            return check_call(&target.to_string_lossy(), &args[2..]);
        }
        return Ok(());
    }
    if method == INSTANTIATE {
        if let Some(Value::String(class)) = args.first() {
            return check_class(&class.to_string_lossy());
        }
        return Ok(());
    }
    if PATHS.contains(&method) {
        let count = if method.ends_with("_absolute") && method != "remove_absolute" {
            2
        } else {
            1
        };
        for path in texts().take(count) {
            check_path(method, &path)?;
        }
        return Ok(());
    }
    if RELATIVE_PATHS.contains(&method) {
        for path in texts().take(2) {
            check_relative_path(method, &path)?;
        }
    }
    Ok(())
}

/// `Callable(object, method)`: refused for a method the sandbox checks (see
/// [`check_callable`]), before it is made.
///
/// # Errors
/// For such a method.
pub fn check_construct(ty: VariantType, args: &[Value]) -> mlua::Result<()> {
    if ty == VariantType::CALLABLE
        && let Some(Value::String(method)) = args.get(1)
    {
        return check_callable(&method.to_string_lossy());
    }
    Ok(())
}

/// A Callable reaching a script: not one of a method the sandbox checks, since its arguments
/// would not be checked when it is called.
///
/// # Errors
/// For such a method.
pub fn check_callable(method: &str) -> mlua::Result<()> {
    if is_policed(method) {
        return Err(refused(&format!(
            "Callable(object, \"{method}\") is not available to scripts"
        )));
    }
    Ok(())
}

/// `Class.new()`.
///
/// # Errors
/// For a class that turns text into engine code.
pub fn check_class(class: &str) -> mlua::Result<()> {
    if DENIED_CLASSES.contains(&class) {
        return Err(refused(&format!(
            "{class}.new() is not available to scripts: it would run code outside the sandbox"
        )));
    }
    Ok(())
}

/// `obj.prop = v`.
///
/// # Errors
/// For a property that holds code.
pub fn check_property(name: &str) -> mlua::Result<()> {
    if DENIED_PROPERTIES.contains(&name) {
        return Err(refused(&format!(
            "setting {name} is not available to scripts"
        )));
    }
    Ok(())
}

/// A file path a script passes to the engine: under `res://` or `user://`, never climbing out;
/// from `user://`, no resource type that can carry a script.
///
/// # Errors
/// Naming the function and the path.
pub fn check_path(function: &str, path: &str) -> mlua::Result<()> {
    if !is_rooted(path) || climbs(path) {
        return Err(outside(function, path));
    }
    let lower = path.to_ascii_lowercase();
    if path.starts_with("user://") && SCRIPT_CARRIERS.iter().any(|ext| lower.ends_with(ext)) {
        return Err(refused(&format!(
            "{function}(\"{path}\"): resources from user:// can carry scripts and are not loaded \
             for scripts (store data as JSON or ConfigFile text and read it with FileAccess)"
        )));
    }
    Ok(())
}

fn check_relative_path(function: &str, path: &str) -> mlua::Result<()> {
    if is_rooted(path) {
        return check_path(function, path);
    }
    let absolute = path.starts_with('/') || path.starts_with('\\') || path.contains(':');
    if absolute || climbs(path) {
        return Err(outside(function, path));
    }
    Ok(())
}

fn outside(function: &str, path: &str) -> mlua::Error {
    refused(&format!(
        "{function}(\"{path}\"): scripts reach files only under res:// and user://"
    ))
}

fn refused(message: &str) -> mlua::Error {
    mlua::Error::runtime(format!("sandbox: {message}"))
}
