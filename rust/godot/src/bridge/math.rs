//! `Vector2`, `Vector3` and `Color` for Lua: plain tables (`{x = 1, y = 2}`) with a shared
//! metatable whose operators and common methods are Lua functions (`vectors.lua`), so LuaJIT
//! compiles them inline and removes the tables that do not escape. Everything else a value of
//! these types can do (other methods and members, operators with other types, `<`, `%`, `..`,
//! exact float32 equality) goes to the engine through the functions installed here, with
//! GDScript's names and semantics.

use godot::builtin::{Color, Variant, VariantOperator, VariantType, Vector2, Vector3, real};
use godot::meta::ToGodot;
use godot::obj::EngineEnum;
use mlua::{Function, Lua, LuaString, Table, Value};

use super::builtin::type_table;
use super::describe;

const SOURCE: &str = include_str!("vectors.lua");

/// One of the three types Lua holds as tables.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VectorKind {
    Vector2,
    Vector3,
    Color,
}

impl VectorKind {
    fn of_type(ty: VariantType) -> Option<Self> {
        match ty {
            VariantType::VECTOR2 => Some(VectorKind::Vector2),
            VariantType::VECTOR3 => Some(VectorKind::Vector3),
            VariantType::COLOR => Some(VectorKind::Color),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            VectorKind::Vector2 => "Vector2",
            VectorKind::Vector3 => "Vector3",
            VectorKind::Color => "Color",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            VectorKind::Vector2 => &["x", "y"],
            VectorKind::Vector3 => &["x", "y", "z"],
            VectorKind::Color => &["r", "g", "b", "a"],
        }
    }
}

/// The metatables and makers of the three types, and their field names as Lua strings (a
/// string made once is pushed without allocating).
pub struct Vectors {
    metas: [Table; 3],
    makers: [Function; 3],
    keys: [[Option<LuaString>; 4]; 3],
}

const KINDS: [VectorKind; 3] = [VectorKind::Vector2, VectorKind::Vector3, VectorKind::Color];

impl Vectors {
    /// Loads `vectors.lua` and installs the `Vector2`, `Vector3` and `Color` globals.
    pub fn install(lua: &Lua) -> mlua::Result<Self> {
        let exports: Table = lua
            .load(SOURCE)
            .set_name("=vectors")
            .call(engine_functions(lua)?)?;
        let globals = lua.globals();
        for (global, maker) in [
            (VariantType::VECTOR2, "new2"),
            (VariantType::VECTOR3, "new3"),
            (VariantType::COLOR, "new_color"),
        ] {
            let table = type_table(lua, global, None)?;
            if let Some(meta) = table.metatable() {
                let fallback: Function = meta.raw_get("__call")?;
                let make: Function = exports.get::<Function>(maker)?.call(fallback)?;
                meta.raw_set("__call", make)?;
            }
            globals.set(super::builtin::type_name(global), table)?;
        }
        let keys = KINDS.map(|kind| {
            let mut keys: [Option<LuaString>; 4] = Default::default();
            for (slot, field) in keys.iter_mut().zip(kind.fields()) {
                *slot = lua.create_string(field).ok();
            }
            keys
        });
        Ok(Vectors {
            metas: [
                exports.get("Vector2")?,
                exports.get("Vector3")?,
                exports.get("Color")?,
            ],
            makers: [
                exports.get("vec2")?,
                exports.get("vec3")?,
                exports.get("color")?,
            ],
            keys,
        })
    }

    /// The metatable of one of the three types.
    pub fn meta(&self, kind: VectorKind) -> &Table {
        &self.metas[kind as usize]
    }

    /// Which of the three types `table` is, if any.
    pub fn kind(&self, table: &Table) -> Option<VectorKind> {
        let meta = table.metatable()?;
        KINDS
            .into_iter()
            .zip(&self.metas)
            .find_map(|(kind, m)| (*m == meta).then_some(kind))
    }

    /// The value as a Lua table.
    pub fn to_lua(&self, kind: VectorKind, value: &Variant) -> Option<mlua::Result<Value>> {
        make(&self.makers[kind as usize], kind, value)
    }

    fn components(&self, kind: VectorKind, table: &Table) -> mlua::Result<[f64; 4]> {
        let mut out = [0.0; 4];
        for ((slot, key), field) in out
            .iter_mut()
            .zip(&self.keys[kind as usize])
            .zip(kind.fields())
        {
            let value: Value = match key {
                Some(key) => table.raw_get(key)?,
                None => table.raw_get(*field)?,
            };
            *slot = component(kind, field, &value)?;
        }
        Ok(out)
    }
}

fn component(kind: VectorKind, field: &str, value: &Value) -> mlua::Result<f64> {
    match value {
        Value::Integer(i) => Ok(*i as f64),
        Value::Number(n) => Ok(*n),
        other => Err(mlua::Error::runtime(format!(
            "{}.{field} is a {}, not a number",
            kind.name(),
            describe(other)
        ))),
    }
}

fn variant_of(kind: VectorKind, [a, b, c, d]: [f64; 4]) -> Variant {
    match kind {
        VectorKind::Vector2 => Vector2::new(a as real, b as real).to_variant(),
        VectorKind::Vector3 => Vector3::new(a as real, b as real, c as real).to_variant(),
        VectorKind::Color => Color::from_rgba(a as f32, b as f32, c as f32, d as f32).to_variant(),
    }
}

/// Which of the three types `table` is, if any: through the running state's metatables, or,
/// without one (at shutdown), the type number each metatable keeps at `[1]`.
pub fn kind_of(table: &Table) -> Option<VectorKind> {
    match crate::state::existing() {
        Some(state) => state.bridge.vectors.kind(table),
        None => {
            let ty: i64 = table.metatable()?.raw_get(1).ok()?;
            VectorKind::of_type(VariantType::from_ord(i32::try_from(ty).ok()?))
        }
    }
}

/// A table of one of the three types as a Godot value.
///
/// # Errors
/// A component that is not a number.
pub fn to_variant(kind: VectorKind, table: &Table) -> mlua::Result<Variant> {
    let components = match crate::state::existing() {
        Some(state) => state.bridge.vectors.components(kind, table)?,
        None => {
            let mut out = [0.0; 4];
            for (slot, field) in out.iter_mut().zip(kind.fields()) {
                *slot = component(kind, field, &table.raw_get(*field)?)?;
            }
            out
        }
    };
    Ok(variant_of(kind, components))
}

/// A Godot `Vector2`, `Vector3` or `Color` as a Lua table; `None` for other types.
pub fn to_lua(lua: &Lua, value: &Variant) -> Option<mlua::Result<Value>> {
    let kind = VectorKind::of_type(value.get_type())?;
    match crate::state::existing() {
        Some(state) => state.bridge.vectors.to_lua(kind, value),
        None => {
            let makers: Table = lua.named_registry_value(MAKERS).ok()?;
            make(&makers.raw_get(kind as usize + 1).ok()?, kind, value)
        }
    }
}

/// The components of `value`, a Godot value of `kind` (`None` if it is not one).
fn components_of(kind: VectorKind, value: &Variant) -> Option<[f64; 4]> {
    Some(match kind {
        VectorKind::Vector2 => {
            let v: Vector2 = value.try_to().ok()?;
            [f64::from(v.x), f64::from(v.y), 0.0, 0.0]
        }
        VectorKind::Vector3 => {
            let v: Vector3 = value.try_to().ok()?;
            [f64::from(v.x), f64::from(v.y), f64::from(v.z), 0.0]
        }
        VectorKind::Color => {
            let c: Color = value.try_to().ok()?;
            [c.r, c.g, c.b, c.a].map(f64::from)
        }
    })
}

/// `value` (of `kind`) made into a table by `maker`; `None` if it is not of that type.
fn make(maker: &Function, kind: VectorKind, value: &Variant) -> Option<mlua::Result<Value>> {
    let [a, b, c, d] = components_of(kind, value)?;
    Some(match kind {
        VectorKind::Vector2 => maker.call((a, b)),
        VectorKind::Vector3 => maker.call((a, b, c)),
        VectorKind::Color => maker.call((a, b, c, d)),
    })
}

/// The makers, for conversions made without a running state.
const MAKERS: &str = "lua_runtime.vector_makers";

/// Writes a changed Godot value back into its table (after `c.h = 0.5` and the like).
fn write_back(kind: VectorKind, table: &Table, value: &Variant) -> mlua::Result<()> {
    let components = components_of(kind, value).ok_or_else(|| {
        mlua::Error::runtime(format!(
            "{} changed into a {}",
            kind.name(),
            super::builtin::type_name(value.get_type())
        ))
    })?;
    for (field, value) in kind.fields().iter().zip(components) {
        table.raw_set(*field, value)?;
    }
    Ok(())
}

/// The table of one of the three types, or an error naming what it should have been.
fn receiver(table: &Table) -> mlua::Result<VectorKind> {
    kind_of(table).ok_or_else(|| mlua::Error::runtime("expected a Vector2, Vector3 or Color"))
}

/// The Rust half `vectors.lua` receives: engine fallbacks and the operator codes.
fn engine_functions(lua: &Lua) -> mlua::Result<Table> {
    let engine = lua.create_table()?;
    engine.raw_set(
        "index",
        lua.create_function(|lua, (table, key): (Table, Value)| {
            receiver(&table)?;
            super::builtin::index(lua, &super::convert::from_lua(&Value::Table(table))?, &key)
        })?,
    )?;
    engine.raw_set(
        "newindex",
        lua.create_function(|_, (table, key, value): (Table, Value, Value)| {
            let kind = receiver(&table)?;
            let mut variant = to_variant(kind, &table)?;
            super::builtin::set(&mut variant, &key, &value)?;
            write_back(kind, &table, &variant)
        })?,
    )?;
    engine.raw_set(
        "operate",
        lua.create_function(|lua, (op, symbol, a, b): (i32, String, Value, Value)| {
            super::builtin::operate(lua, VariantOperator::from_ord(op), &symbol, &a, &b)
        })?,
    )?;
    engine.raw_set(
        "equal",
        lua.create_function(|_, (a, b): (Value, Value)| {
            let (x, y) = (super::convert::from_lua(&a)?, super::convert::from_lua(&b)?);
            Ok(x.evaluate(&y, VariantOperator::EQUAL)
                .is_some_and(|r| r.booleanize()))
        })?,
    )?;
    engine.raw_set(
        "tostring",
        lua.create_function(|_, table: Table| {
            let kind = receiver(&table)?;
            let value = to_variant(kind, &table)?;
            Ok(match kind {
                VectorKind::Color => format!("{}", value.try_to::<Color>().unwrap_or_default()),
                _ => value.stringify().to_string(),
            })
        })?,
    )?;
    engine.raw_set(
        "concat",
        lua.create_function(|lua, (a, b): (Value, Value)| super::builtin::concat(lua, &a, &b))?,
    )?;
    engine.raw_set(
        "expected",
        lua.create_function(|_, (type_name, method, got): (String, String, Value)| {
            Err::<(), _>(mlua::Error::runtime(format!(
                "{type_name}.{method}: expected a {type_name}, got {}",
                describe(&got)
            )))
        })?,
    )?;
    for (name, op) in [
        ("ADD", VariantOperator::ADD),
        ("SUBTRACT", VariantOperator::SUBTRACT),
        ("MULTIPLY", VariantOperator::MULTIPLY),
        ("DIVIDE", VariantOperator::DIVIDE),
        ("NEGATE", VariantOperator::NEGATE),
        ("MODULO", VariantOperator::MODULO),
        ("LESS", VariantOperator::LESS),
        ("LESS_EQUAL", VariantOperator::LESS_EQUAL),
    ] {
        engine.raw_set(name, op.ord())?;
    }
    for ty in [
        VariantType::VECTOR2,
        VariantType::VECTOR3,
        VariantType::COLOR,
    ] {
        engine.raw_set(super::builtin::type_name(ty).to_uppercase(), ty.ord())?;
    }
    Ok(engine)
}

/// Keeps the makers where conversions without a running state find them.
pub fn remember_makers(lua: &Lua, vectors: &Vectors) -> mlua::Result<()> {
    let makers = lua.create_sequence_from(vectors.makers.iter().cloned())?;
    lua.set_named_registry_value(MAKERS, makers)
}
