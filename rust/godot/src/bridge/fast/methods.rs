//! Engine methods the fast path calls: `n:get_child_count()`, `n:rotate(delta)`,
//! `n:to_global(v)`, `Input:is_action_pressed("jump")` and the like: number, bool, vector and
//! color arguments and results, and `StringName` arguments given as Lua strings.
//!
//! A method called through the FFI must not run script code or emit a signal (see the
//! module above). Two kinds of engine method qualify:
//! - methods Godot declares `const`: they read the object and change nothing, so they emit
//!   nothing; a script cannot override them (only virtual methods, which are left out);
//! - on `Node2D` and `Node3D` (and subclasses), the transform methods (`rotate`,
//!   `translate`, `look_at`, the transform setters, ...), which return nothing: they end in
//!   the same setters as the transform properties ([`super::transforms`]), which defer every
//!   notification.
//!
//! Such a method is called through its method bind, found once per class by the hash of its
//! signature ([`lua_runtime_core::method_hash`]), with its arguments in the engine's native
//! layouts: no lookup by name and no Variant, as compiled GDScript calls it. A call whose
//! arguments do not have the declared types exactly (a string where a float goes, a float
//! where an int goes, too few or too many) is left to the general path, which converts or
//! reports as it always does.

use std::collections::HashMap;
use std::rc::Rc;

use godot::builtin::{
    Color, GString, StringName, VarArray, VarDictionary, Variant, VariantType, Vector2, Vector3,
};
use godot::classes::ClassDb;
use godot::obj::{EngineEnum, Singleton};
use godot::sys;
use lua_runtime_core::method_hash::{Signature, Slot};

use super::numbers::{self, Numbers};
use crate::bridge::ffi;
use crate::bridge::names::Name;

/// Arguments a fast call carries at most.
pub const MOST_ARGUMENTS: usize = 4;

/// Godot's method flags (`MethodFlags`) the fast path looks at.
const FLAG_CONST: i64 = 4;
const FLAG_VARARG: i64 = 16;
const FLAG_VIRTUAL: i64 = 32;
/// A property usage flag: a NIL type means "any Variant" rather than "nothing".
const NIL_IS_VARIANT: i64 = 1 << 17;

/// `Node2D` and `Node3D` methods that change only the node's transform.
const TRANSFORM_METHODS: &[&str] = &[
    "rotate",
    "translate",
    "global_translate",
    "move_local_x",
    "move_local_y",
    "apply_scale",
    "look_at",
    "rotate_x",
    "rotate_y",
    "rotate_z",
    "rotate_object_local",
    "scale_object_local",
    "translate_object_local",
    "global_rotate",
    "global_scale",
    "set_position",
    "set_rotation",
    "set_rotation_degrees",
    "set_scale",
    "set_skew",
    "set_global_position",
    "set_global_rotation",
    "set_global_rotation_degrees",
    "set_global_scale",
    "set_global_skew",
];

/// A return value or argument as a method list declares it.
struct Typed {
    ty: VariantType,
    /// Class or enum name, empty for none.
    class_name: String,
}

impl Typed {
    fn of(info: &VarDictionary) -> Option<Self> {
        let ty = info.get("type")?.try_to::<i32>().ok()?;
        let class_name = info
            .get("class_name")
            .map(|c| c.to_string())
            .unwrap_or_default();
        Some(Typed {
            ty: VariantType::from_ord(ty),
            class_name,
        })
    }

    fn slot(&self) -> Slot<'_> {
        Slot {
            ty: u32::try_from(self.ty.ord()).unwrap_or(0),
            class_name: &self.class_name,
        }
    }
}

/// What a class's method list says of one method.
pub struct Declared {
    flags: i64,
    /// `None` for a method that returns nothing.
    returns: Option<Typed>,
    arguments: Vec<Typed>,
    /// The engine's hashes of the default values of the last arguments.
    default_hashes: Vec<u32>,
    /// Those values as numbers, for calls that leave them out (`None` if one is not a
    /// value the fast path passes). No Variant is kept: the cache outlives the engine.
    defaults: Option<Vec<Numbers>>,
}

/// The methods of class `class` by name, from its method list (inherited ones included).
pub fn declared(class: &str) -> HashMap<String, Declared> {
    let list = ClassDb::singleton()
        .class_get_method_list_ex(class)
        .no_inheritance(false)
        .done();
    list.iter_shared()
        .filter_map(|info: VarDictionary| {
            let name = info.get("name")?.try_to::<GString>().ok()?.to_string();
            let flags = info.get("flags")?.try_to::<i64>().ok()?;
            let result = info.get("return")?.try_to::<VarDictionary>().ok()?;
            let returns = Typed::of(&result)?;
            let usage = result
                .get("usage")
                .and_then(|u| u.try_to::<i64>().ok())
                .unwrap_or(0);
            let returns =
                (returns.ty != VariantType::NIL || usage & NIL_IS_VARIANT != 0).then_some(returns);
            let arguments = info
                .get("args")?
                .try_to::<godot::builtin::Array<VarDictionary>>()
                .ok()?
                .iter_shared()
                .map(|a| Typed::of(&a))
                .collect::<Option<Vec<_>>>()?;
            let values: Vec<Variant> = info
                .get("default_args")
                .and_then(|d| d.try_to::<VarArray>().ok())
                .map(|d| d.iter_shared().collect())
                .unwrap_or_default();
            let first_default = arguments.len().checked_sub(values.len())?;
            let defaults = values
                .iter()
                .zip(&arguments[first_default..])
                .map(|(value, argument)| default_numbers(argument.ty, value))
                .collect();
            Some((
                name,
                Declared {
                    flags,
                    returns,
                    arguments,
                    default_hashes: values.iter().map(Variant::hash_u32).collect(),
                    defaults,
                },
            ))
        })
        .collect()
}

/// A method the fast path calls.
pub struct Method {
    bind: sys::GDExtensionMethodBindPtr,
    arguments: Vec<VariantType>,
    /// The values of the last `defaults.len()` arguments when a call leaves them out.
    defaults: Vec<Numbers>,
    /// `None` for a method that returns nothing.
    returns: Option<VariantType>,
}

impl Method {
    /// Method `name` of class `class` as `declared`, if the fast path may call it on an
    /// object of that (engine) class without a script (`spatial`: a `Node2D` or `Node3D`).
    pub fn of(class: &StringName, text: &str, declared: &Declared, spatial: bool) -> Option<Self> {
        let reads = declared.flags & FLAG_CONST != 0;
        let moves = spatial && TRANSFORM_METHODS.contains(&text) && declared.returns.is_none();
        let plain = declared.flags & (FLAG_VIRTUAL | FLAG_VARARG) == 0;
        if !(reads || moves) || !plain || crate::bridge::policy::is_policed(text) {
            return None;
        }
        let returns = match &declared.returns {
            Some(typed) if numbers::travels(typed.ty) => Some(typed.ty),
            Some(_) => return None,
            None => None,
        };
        let arguments: Vec<VariantType> = declared.arguments.iter().map(|a| a.ty).collect();
        let passes = |ty: &VariantType| numbers::travels(*ty) || *ty == VariantType::STRING_NAME;
        if arguments.len() > MOST_ARGUMENTS || !arguments.iter().all(passes) {
            return None;
        }
        let defaults = declared.defaults.clone()?;
        let signature = Signature {
            returns: declared.returns.as_ref().map(Typed::slot),
            arguments: declared.arguments.iter().map(Typed::slot).collect(),
            default_hashes: declared.default_hashes.clone(),
            is_const: reads,
            is_vararg: false,
        };
        let bind = ffi::method_bind(class, &StringName::from(text), signature.hash())?;
        Some(Method {
            bind,
            arguments,
            defaults,
            returns,
        })
    }

    /// Whether a call may give no arguments at all.
    pub fn takes_no_arguments(&self) -> bool {
        self.arguments.len() == self.defaults.len()
    }

    /// Calls the method on `object` with `args`. `None`, before calling, when the arguments
    /// are not exactly what the method takes, and after calling when an int result does not
    /// fit a Lua number: the caller then takes the general path, which makes the call (again,
    /// for a `const` method that changed nothing) and converts or reports.
    /// `names` are the interned names by id, for `StringName` arguments.
    pub fn call(
        &self,
        object: sys::GDExtensionObjectPtr,
        args: &[Numbers],
        names: &[Option<Rc<Name>>],
    ) -> Option<Numbers> {
        let count = self.arguments.len();
        let first_default = count - self.defaults.len();
        if args.len() > count || args.len() < first_default {
            return None;
        }
        let mut natives = [Native::ZERO; MOST_ARGUMENTS];
        let mut pointers: [sys::GDExtensionConstTypePtr; MOST_ARGUMENTS] =
            [std::ptr::null(); MOST_ARGUMENTS];
        for (i, ty) in self.arguments.iter().enumerate() {
            let value = match args.get(i) {
                Some(value) => value,
                None => &self.defaults[i - first_default],
            };
            pointers[i] = if *ty == VariantType::STRING_NAME {
                // The interned StringName itself, which outlives the call.
                let id = usize::try_from(value.name_id()?).ok()?;
                names.get(id)?.as_ref()?.value.string_sys().cast()
            } else {
                natives[i] = Native::of(*ty, value)?;
                natives[i].0.as_ptr().cast()
            };
        }
        let mut result = Native::ZERO;
        // SAFETY: the object was checked live by the caller and its class has this bind; each
        // argument points at a value in the native layout of its declared type (a StringName
        // for a StringName), every argument is given, and `result` has room for any type that
        // travels as numbers.
        unsafe {
            ffi::ptrcall(
                self.bind,
                object,
                &pointers[..count],
                result.0.as_mut_ptr().cast(),
            );
        }
        match self.returns {
            None => Some(Numbers::nothing()),
            Some(ty) => result.numbers(ty),
        }
    }
}

/// A default argument value as the numbers a call would pass (`None` for a `StringName`,
/// which a call must then give).
fn default_numbers(ty: VariantType, value: &Variant) -> Option<Numbers> {
    match (ty, value.get_type()) {
        // `DEFVAL(0)` for a float argument is stored as an int.
        (VariantType::FLOAT, VariantType::INT) => {
            Some(Numbers::number(value.try_to::<i64>().ok()? as f64))
        }
        (ty, got) if ty == got => Numbers::of_variant(ty, value),
        _ => None,
    }
}

/// One value in the engine's native layout for a method call: a bool is a byte, an int an
/// `i64`, a float an `f64`, vectors and colors their structs.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Native([u8; 32]);

impl Native {
    const ZERO: Native = Native([0; 32]);

    /// `value` as an argument of declared type `ty`, if it is exactly of that type.
    fn of(ty: VariantType, value: &Numbers) -> Option<Self> {
        let mut native = Native::ZERO;
        let [a, b, c, d] = value.values;
        match (ty, value.tag) {
            (VariantType::BOOL, numbers::BOOL) => native.put(u8::from(a != 0.0)),
            (VariantType::INT, numbers::NUMBER) => {
                // Only whole numbers an i64 holds; the general path converts the others.
                if a.fract() != 0.0 || a.abs() >= 9.2e18 {
                    return None;
                }
                native.put(a as i64);
            }
            (VariantType::FLOAT, numbers::NUMBER) => native.put(a),
            (VariantType::VECTOR2, numbers::VECTOR2) => native.put(value.as_vector2()?),
            (VariantType::VECTOR3, numbers::VECTOR3) => native.put(value.as_vector3()?),
            (VariantType::COLOR, numbers::COLOR) => {
                native.put(Color::from_rgba(a as f32, b as f32, c as f32, d as f32));
            }
            _ => return None,
        }
        Some(native)
    }

    fn put<T: Copy>(&mut self, value: T) {
        const { assert!(size_of::<T>() <= 32) };
        // SAFETY: `T` fits the 32 bytes (checked above); the write need not be aligned.
        unsafe { self.0.as_mut_ptr().cast::<T>().write_unaligned(value) }
    }

    fn take<T: Copy>(&self) -> T {
        const { assert!(size_of::<T>() <= 32) };
        // SAFETY: only called for `T` the engine wrote here as the call's declared result type
        // (all plain data, valid for any bytes but bool, read as a byte).
        unsafe { self.0.as_ptr().cast::<T>().read_unaligned() }
    }

    /// A result of declared type `ty` as numbers (`None`: an int beyond a double's range).
    fn numbers(&self, ty: VariantType) -> Option<Numbers> {
        Some(match ty {
            VariantType::BOOL => Numbers::boolean(self.take::<u8>() != 0),
            VariantType::INT => Numbers::integer(self.take::<i64>())?,
            VariantType::FLOAT => Numbers::number(self.take::<f64>()),
            VariantType::VECTOR2 => Numbers::vector2(self.take::<Vector2>()),
            VariantType::VECTOR3 => Numbers::vector3(self.take::<Vector3>()),
            VariantType::COLOR => Numbers::color(self.take::<Color>()),
            _ => return None,
        })
    }
}
