//! The few Variant operations Lua needs that godot-rust exposes only as panicking or not at
//! all: dynamic calls, named members, indexing, construction and constants of builtin types.
//!
//! Every function here reports failure as a value; none panics, so a wrong call from Lua
//! becomes a Lua error.

use godot::builtin::{StringName, Variant, VariantType};
use godot::obj::EngineEnum;
use godot::sys;

/// Why the engine refused a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// No method of that name.
    NoMethod,
    /// Argument `index` (0-based) is not of the `expected` type.
    BadArgument {
        index: usize,
        expected: VariantType,
    },
    TooMany {
        expected: usize,
    },
    TooFew {
        expected: usize,
    },
    /// Called on a null or freed object.
    NullInstance,
    Other,
}

impl CallFailure {
    fn from_sys(error: &sys::GDExtensionCallError) -> Option<Self> {
        Some(match error.error {
            sys::GDEXTENSION_CALL_OK => return None,
            sys::GDEXTENSION_CALL_ERROR_INVALID_METHOD => CallFailure::NoMethod,
            sys::GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT => CallFailure::BadArgument {
                index: usize::try_from(error.argument).unwrap_or(0),
                expected: VariantType::from_ord(error.expected),
            },
            sys::GDEXTENSION_CALL_ERROR_TOO_MANY_ARGUMENTS => CallFailure::TooMany {
                expected: usize::try_from(error.expected).unwrap_or(0),
            },
            sys::GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS => CallFailure::TooFew {
                expected: usize::try_from(error.expected).unwrap_or(0),
            },
            sys::GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL => CallFailure::NullInstance,
            _ => CallFailure::Other,
        })
    }
}

fn type_sys(ty: VariantType) -> sys::GDExtensionVariantType {
    ty.ord() as sys::GDExtensionVariantType
}

fn arg_pointers(args: &[Variant]) -> Vec<sys::GDExtensionConstVariantPtr> {
    args.iter().map(Variant::var_sys).collect()
}

/// Runs an engine call that reports through a call error and writes a result Variant.
fn checked(
    call: impl FnOnce(sys::GDExtensionUninitializedVariantPtr, *mut sys::GDExtensionCallError),
) -> Result<Variant, CallFailure> {
    let mut error = sys::default_call_error();
    // SAFETY: every engine function passed here initialises its result in all cases (a nil
    // Variant on failure).
    let result = unsafe { Variant::new_with_var_uninit(|out| call(out, &raw mut error)) };
    match CallFailure::from_sys(&error) {
        None => Ok(result),
        Some(failure) => Err(failure),
    }
}

fn call_raw(
    target: sys::GDExtensionVariantPtr,
    method: &StringName,
    args: &[Variant],
) -> Result<Variant, CallFailure> {
    let pointers = arg_pointers(args);
    checked(|out, error| {
        // SAFETY: all pointers are valid for the call's duration.
        unsafe {
            sys::interface_fn!(variant_call)(
                target,
                method.string_sys(),
                pointers.as_ptr(),
                pointers.len() as sys::GDExtensionInt,
                out,
                error,
            );
        }
    })
}

/// `target.method(args...)` for any Variant that has methods (builtins and objects).
pub fn call(
    target: &Variant,
    method: &StringName,
    args: &[Variant],
) -> Result<Variant, CallFailure> {
    // The engine only reads `target` here: methods that change a value are called through
    // `call_mut`.
    call_raw(sys::SysPtr::force_mut(target.var_sys()), method, args)
}

/// Like [`call`], for methods that change the value they are called on (packed arrays).
pub fn call_mut(
    target: &mut Variant,
    method: &StringName,
    args: &[Variant],
) -> Result<Variant, CallFailure> {
    call_raw(target.var_sys_mut(), method, args)
}

/// A builtin type's static method: `Color.html("#fff")`.
pub fn call_static(
    ty: VariantType,
    method: &StringName,
    args: &[Variant],
) -> Result<Variant, CallFailure> {
    let pointers = arg_pointers(args);
    checked(|out, error| {
        // SAFETY: all pointers are valid for the call's duration.
        unsafe {
            sys::interface_fn!(variant_call_static)(
                type_sys(ty),
                method.string_sys(),
                pointers.as_ptr(),
                pointers.len() as sys::GDExtensionInt,
                out,
                error,
            );
        }
    })
}

/// Builds a value of a builtin type from arguments, as GDScript's `Vector2i(1, 2)` does.
pub fn construct(ty: VariantType, args: &[Variant]) -> Result<Variant, CallFailure> {
    let pointers = arg_pointers(args);
    checked(|out, error| {
        // SAFETY: all pointers are valid for the call's duration.
        unsafe {
            sys::interface_fn!(variant_construct)(
                type_sys(ty),
                out,
                pointers.as_ptr(),
                i32::try_from(pointers.len()).unwrap_or(i32::MAX),
                error,
            );
        }
    })
}

/// Whether values of `target`'s type have a method `name`.
pub fn has_method(target: &Variant, name: &StringName) -> bool {
    // SAFETY: both pointers are valid for the call.
    unsafe { sys::interface_fn!(variant_has_method)(target.var_sys(), name.string_sys()) != 0 }
}

/// Whether builtin type `ty` has a member (field) `name`, like `Vector2.x`.
pub fn has_member(ty: VariantType, name: &StringName) -> bool {
    // SAFETY: the name pointer is valid for the call.
    unsafe { sys::interface_fn!(variant_has_member)(type_sys(ty), name.string_sys()) != 0 }
}

/// Runs an engine read that flags validity and writes a result Variant.
fn valid_read(
    read: impl FnOnce(sys::GDExtensionUninitializedVariantPtr, *mut sys::GDExtensionBool),
) -> Option<Variant> {
    let mut valid: sys::GDExtensionBool = 0;
    // SAFETY: every engine function passed here initialises its output in all cases.
    let value = unsafe { Variant::new_with_var_uninit(|out| read(out, &raw mut valid)) };
    (valid != 0).then_some(value)
}

/// `target.name` for a builtin's member (`v.x`, `rect.position`).
pub fn get_named(target: &Variant, name: &StringName) -> Option<Variant> {
    valid_read(|out, valid| {
        // SAFETY: valid pointers for the call's duration.
        unsafe {
            sys::interface_fn!(variant_get_named)(target.var_sys(), name.string_sys(), out, valid);
        }
    })
}

/// `target.name = value`, changing `target` in place. False if there is no such member or
/// the value does not fit it.
pub fn set_named(target: &mut Variant, name: &StringName, value: &Variant) -> bool {
    let mut valid: sys::GDExtensionBool = 0;
    // SAFETY: valid pointers; `target` is exclusively borrowed.
    unsafe {
        sys::interface_fn!(variant_set_named)(
            target.var_sys_mut(),
            name.string_sys(),
            value.var_sys(),
            &raw mut valid,
        );
    }
    valid != 0
}

/// What an indexed read or write ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFailure {
    /// The type is not indexable by integers, or the value does not fit.
    Invalid,
    OutOfBounds,
}

fn index_result(
    valid: sys::GDExtensionBool,
    oob: sys::GDExtensionBool,
) -> Result<(), IndexFailure> {
    match (valid != 0, oob != 0) {
        (_, true) => Err(IndexFailure::OutOfBounds),
        (true, false) => Ok(()),
        (false, false) => Err(IndexFailure::Invalid),
    }
}

/// `target[index]` with a 0-based index (arrays, packed arrays, vectors, strings).
pub fn get_indexed(target: &Variant, index: i64) -> Result<Variant, IndexFailure> {
    let (mut valid, mut oob): (sys::GDExtensionBool, sys::GDExtensionBool) = (0, 0);
    // SAFETY: valid pointers; the engine initialises the output in all cases.
    let value = unsafe {
        Variant::new_with_var_uninit(|out| {
            sys::interface_fn!(variant_get_indexed)(
                target.var_sys(),
                index,
                out,
                &raw mut valid,
                &raw mut oob,
            );
        })
    };
    index_result(valid, oob).map(|()| value)
}

/// `target[index] = value` with a 0-based index.
pub fn set_indexed(target: &mut Variant, index: i64, value: &Variant) -> Result<(), IndexFailure> {
    let (mut valid, mut oob): (sys::GDExtensionBool, sys::GDExtensionBool) = (0, 0);
    // SAFETY: valid pointers; `target` is exclusively borrowed.
    unsafe {
        sys::interface_fn!(variant_set_indexed)(
            target.var_sys_mut(),
            index,
            value.var_sys(),
            &raw mut valid,
            &raw mut oob,
        );
    }
    index_result(valid, oob)
}

/// `target[key]` for keyed types (Dictionary, Object).
pub fn get_keyed(target: &Variant, key: &Variant) -> Option<Variant> {
    valid_read(|out, valid| {
        // SAFETY: valid pointers for the call's duration.
        unsafe {
            sys::interface_fn!(variant_get_keyed)(target.var_sys(), key.var_sys(), out, valid);
        }
    })
}

/// A builtin type's constant (`Vector2.UP`), or `None` if it has no constant of that name.
pub fn constant(ty: VariantType, name: &StringName) -> Option<Variant> {
    // SAFETY: valid pointers; the engine initialises the output (nil when there is none).
    let value = unsafe {
        Variant::new_with_var_uninit(|out| {
            sys::interface_fn!(variant_get_constant_value)(type_sys(ty), name.string_sys(), out);
        })
    };
    // The engine answers an unknown name with the int -1 (older versions with nil). No
    // builtin type has a constant whose value is -1, so both mean "no such constant".
    let missing = value.is_nil() || value.try_to::<i64>().is_ok_and(|v| v == -1);
    (!missing).then_some(value)
}

/// Whether `object` is still the live object with instance id `id`: a lookup in the
/// engine's object table, without the class check godot-rust makes when it builds a `Gd`.
/// Instance ids are never reused, so a freed object's id finds nothing.
pub fn is_live(id: u64, object: sys::GDExtensionObjectPtr) -> bool {
    // SAFETY: Godot looks the id up in its object table and returns null when it is absent.
    let found = unsafe { sys::interface_fn!(object_get_instance_from_id)(id) };
    !found.is_null() && found == object
}

/// An engine method's bind, for direct calls: `None` if `class` (or an ancestor) has no
/// method `name` whose signature has `hash` (the engine then reports the mismatch).
pub fn method_bind(
    class: &StringName,
    name: &StringName,
    hash: u32,
) -> Option<sys::GDExtensionMethodBindPtr> {
    // SAFETY: both names are valid for the call; the engine returns null when it finds none.
    let bind = unsafe {
        sys::interface_fn!(classdb_get_method_bind)(
            class.string_sys(),
            name.string_sys(),
            sys::GDExtensionInt::from(hash),
        )
    };
    (!bind.is_null()).then_some(bind)
}

/// Calls `bind` on `object` with arguments and result in the engine's native layouts.
///
/// # Safety
/// `object` must be a live object of a class that has `bind`, each of `args` must point at
/// a value of the native type the method takes in that place (every argument given), and
/// `result` at storage for the type it returns (or be unused if it returns nothing).
pub unsafe fn ptrcall(
    bind: sys::GDExtensionMethodBindPtr,
    object: sys::GDExtensionObjectPtr,
    args: &[sys::GDExtensionConstTypePtr],
    result: sys::GDExtensionTypePtr,
) {
    // SAFETY: as the caller promises.
    unsafe { sys::interface_fn!(object_method_bind_ptrcall)(bind, object, args.as_ptr(), result) }
}

/// `Object.get`'s signature hash (a const method taking a StringName, returning a Variant).
const OBJECT_GET_HASH: u32 = 2_760_726_917;

thread_local! {
    /// `Object.get`'s bind, looked up once.
    static OBJECT_GET: std::cell::OnceCell<Option<sys::GDExtensionMethodBindPtr>> =
        const { std::cell::OnceCell::new() };
}

/// `object.get(name)`, called through the method's bind. godot-rust's generated call asks
/// the engine's object table whether `object` lives first; a caller that has just checked
/// that (as expressions do for every node they read) need not pay for it twice.
pub fn object_get(object: &godot::obj::Gd<godot::classes::Node>, name: &StringName) -> Variant {
    let bind = OBJECT_GET.with(|bind| {
        *bind.get_or_init(|| {
            method_bind(
                &StringName::from("Object"),
                &StringName::from("get"),
                OBJECT_GET_HASH,
            )
        })
    });
    let Some(bind) = bind else {
        return object.get(name);
    };
    let mut value = Variant::nil();
    // SAFETY: `object` is a live Object (its holder checked), `get` takes one StringName
    // and assigns its result to the initialised Variant given.
    unsafe {
        ptrcall(
            bind,
            object.obj_sys(),
            &[name.string_sys().cast()],
            value.var_sys_mut().cast(),
        );
    }
    value
}
