//! Values an expression computes with.
//!
//! Numbers, strings, booleans and nil are the expression language's own; anything else a
//! property holds (a `Vector2`, an object) travels as an [`Opaque`] value the engine side
//! defines, which can be compared for equality and shown but not computed with.

use std::any::Any;
use std::fmt;
use std::rc::Rc;

/// A value the engine side hands in: compared with [`Opaque::same`], shown with `Display`.
pub trait Opaque: fmt::Display {
    /// Whether `other` holds the same value.
    fn same(&self, other: &dyn Opaque) -> bool;
    /// The type's name for error messages (`Vector2`).
    fn type_name(&self) -> String;
    fn as_any(&self) -> &dyn Any;
}

/// One value.
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Other(Rc<dyn Opaque>),
}

impl Value {
    /// Truth as GDScript tests it: `false`, nil, `0`, `0.0` and `""` are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Other(_) => true,
        }
    }

    /// The type's name for error messages.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "string".into(),
            Value::Other(o) => o.type_name(),
        }
    }

    /// The number, for arithmetic and ordering.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Equality as `=` tests it: numbers by value whatever their kind, strings by text,
    /// engine values by [`Opaque::same`].
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Other(a), Value::Other(b)) => a.same(b.as_ref()),
            (a, b) => match (a.number(), b.number()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    /// Whether `other` is this very value, for telling whether a watched property changed
    /// (unlike [`Self::same`], `1` and `1.0` differ, and NaN equals NaN).
    pub fn identical(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
            (a, b) => a.same(b),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.into())
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.identical(other)
    }
}

impl fmt::Display for Value {
    /// As `str` converts: `nil`, `true`, `3`, `2.5`, the text itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => write!(f, "{x:.1}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Other(o) => write!(f, "{o}"),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Other(o) => write!(f, "<{}: {o}>", o.type_name()),
            v => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_follows_gdscript() {
        for v in [Value::Nil, false.into(), 0i64.into(), 0.0.into(), "".into()] {
            assert!(!v.truthy(), "{v:?}");
        }
        for v in [true.into(), 2i64.into(), 0.5.into(), "no".into()] {
            assert!(Value::truthy(&v), "{v:?}");
        }
    }

    #[test]
    fn numbers_compare_across_kinds_but_changes_do_not() {
        assert!(Value::Int(1).same(&Value::Float(1.0)));
        assert!(!Value::Int(1).identical(&Value::Float(1.0)));
        assert!(Value::Float(f64::NAN).identical(&Value::Float(f64::NAN)));
        assert!(!Value::from("1").same(&Value::Int(1)));
    }
}
