//! Values as the fast path passes them between Lua and Rust: a tag saying what the value is
//! and up to four numbers (shared with `fast.lua`).

use godot::builtin::{Color, Variant, VariantType, Vector2, Vector3, real};

/// Value tags shared with `fast.lua`.
pub const NUMBER: i32 = 1;
pub const BOOL: i32 = 2;
pub const VECTOR2: i32 = 3;
pub const VECTOR3: i32 = 4;
pub const COLOR: i32 = 5;
/// A call that returned nothing.
pub const NOTHING: i32 = 6;
/// From a read: the name is a method the fast path calls (see `methods`).
pub const METHOD: i32 = 7;
/// An argument: a string the runtime interned, by its name id (for `StringName` arguments).
pub const NAME: i32 = 8;

/// Whether values of type `ty` travel as numbers.
pub fn travels(ty: VariantType) -> bool {
    matches!(
        ty,
        VariantType::BOOL
            | VariantType::INT
            | VariantType::FLOAT
            | VariantType::VECTOR2
            | VariantType::VECTOR3
            | VariantType::COLOR
    )
}

/// Integers beyond this many bits do not survive the trip through a double.
const EXACT: i64 = 1 << 53;

/// One value: `tag` and its numbers (`x, y` for a Vector2, `r, g, b, a` for a Color).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Numbers {
    pub tag: i32,
    pub values: [f64; 4],
}

impl Numbers {
    pub fn nothing() -> Self {
        Numbers {
            tag: NOTHING,
            values: [0.0; 4],
        }
    }

    pub fn method() -> Self {
        Numbers {
            tag: METHOD,
            values: [0.0; 4],
        }
    }

    pub fn number(n: f64) -> Self {
        Numbers {
            tag: NUMBER,
            values: [n, 0.0, 0.0, 0.0],
        }
    }

    pub fn boolean(b: bool) -> Self {
        Numbers {
            tag: BOOL,
            values: [f64::from(u8::from(b)), 0.0, 0.0, 0.0],
        }
    }

    /// An int as a number, if a double holds it exactly.
    pub fn integer(i: i64) -> Option<Self> {
        (-EXACT..=EXACT)
            .contains(&i)
            .then(|| Self::number(i as f64))
    }

    pub fn color(c: Color) -> Self {
        Numbers {
            tag: COLOR,
            values: [c.r, c.g, c.b, c.a].map(f64::from),
        }
    }

    pub fn vector2(v: Vector2) -> Self {
        Numbers {
            tag: VECTOR2,
            values: [f64::from(v.x), f64::from(v.y), 0.0, 0.0],
        }
    }

    pub fn vector3(v: Vector3) -> Self {
        Numbers {
            tag: VECTOR3,
            values: [f64::from(v.x), f64::from(v.y), f64::from(v.z), 0.0],
        }
    }

    /// A Variant of declared type `ty`, if it holds that type and it fits.
    pub fn of_variant(ty: VariantType, value: &Variant) -> Option<Self> {
        Some(match ty {
            VariantType::FLOAT => Self::number(value.try_to::<f64>().ok()?),
            VariantType::INT => Self::integer(value.try_to::<i64>().ok()?)?,
            VariantType::BOOL => Self::boolean(value.try_to::<bool>().ok()?),
            VariantType::VECTOR2 => Self::vector2(value.try_to::<Vector2>().ok()?),
            VariantType::VECTOR3 => Self::vector3(value.try_to::<Vector3>().ok()?),
            VariantType::COLOR => Self::color(value.try_to::<Color>().ok()?),
            _ => return None,
        })
    }

    /// The name id, if this is an interned string.
    pub fn name_id(&self) -> Option<u32> {
        let id = self.values[0];
        (self.tag == NAME && id >= 0.0 && id <= f64::from(u32::MAX)).then_some(id as u32)
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<real> {
        (self.tag == NUMBER).then_some(self.values[0] as real)
    }

    pub fn as_vector2(&self) -> Option<Vector2> {
        let [x, y, ..] = self.values;
        (self.tag == VECTOR2).then(|| Vector2::new(x as real, y as real))
    }

    pub fn as_vector3(&self) -> Option<Vector3> {
        let [x, y, z, _] = self.values;
        (self.tag == VECTOR3).then(|| Vector3::new(x as real, y as real, z as real))
    }
}
