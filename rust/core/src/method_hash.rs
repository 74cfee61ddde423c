//! The hash Godot identifies an engine method by (`MethodInfo::get_compatibility_hash`).
//!
//! An extension asks the engine for a method bind by class, name and this hash, and gets the
//! bind only if the hash matches the method's signature. The hash covers what a caller relies
//! on: whether it returns, the return and argument types (with their class or enum names),
//! the default arguments, and whether the method is `const` or vararg. Computing it from a
//! class's method list lets the runtime fetch the bind of any method it finds there and call
//! it directly, as compiled GDScript does.

/// `hash_murmur3_one_32`'s default seed.
const SEED: u32 = 0x07F0_7C65;

/// One Murmur3 round over a 32-bit value.
fn murmur3_one(value: u32, seed: u32) -> u32 {
    let mut k = value.wrapping_mul(0xcc9e_2d51);
    k = k.rotate_left(15);
    k = k.wrapping_mul(0x1b87_3593);
    let mut h = seed ^ k;
    h = h.rotate_left(13);
    h.wrapping_mul(5).wrapping_add(0xe654_6b64)
}

/// Murmur3's finaliser.
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Godot's string hash (djb2 over the characters), which a `StringName` also carries.
pub fn string_hash(text: &str) -> u32 {
    text.chars().fold(5381u32, |h, c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// A return value or argument: its Variant type number and its class or enum name (empty
/// for none), as a method list gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<'a> {
    pub ty: u32,
    pub class_name: &'a str,
}

/// What the hash covers of a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature<'a> {
    /// `None` for a method that returns nothing.
    pub returns: Option<Slot<'a>>,
    pub arguments: Vec<Slot<'a>>,
    /// The engine's hash of each default argument value, in order.
    pub default_hashes: Vec<u32>,
    pub is_const: bool,
    pub is_vararg: bool,
}

impl Signature<'_> {
    /// The hash the engine gives this signature.
    pub fn hash(&self) -> u32 {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let slot = |h: u32, slot: &Slot| {
            let h = murmur3_one(slot.ty, h);
            if slot.class_name.is_empty() {
                h
            } else {
                murmur3_one(string_hash(slot.class_name), h)
            }
        };
        let mut h = murmur3_one(u32::from(self.returns.is_some()), SEED);
        h = murmur3_one(count(self.arguments.len()), h);
        if let Some(returns) = &self.returns {
            h = slot(h, returns);
        }
        for argument in &self.arguments {
            h = slot(h, argument);
        }
        h = murmur3_one(count(self.default_hashes.len()), h);
        for value in &self.default_hashes {
            h = murmur3_one(*value, h);
        }
        h = murmur3_one(u32::from(self.is_const), h);
        h = murmur3_one(u32::from(self.is_vararg), h);
        fmix32(h)
    }
}
