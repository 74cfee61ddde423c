//! The transform properties of `Node2D` and `Node3D` (and their subclasses), which the fast
//! path reads and writes by calling their engine methods directly: no lookup by name, no
//! Variant. Their setters update the node and defer every notification to the engine's
//! transform pass; they emit no signal and call no script.

use godot::classes::{Node2D, Node3D, Object};
use godot::obj::Gd;

use super::numbers::Numbers;

/// A transform property, by the name scripts use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transform {
    Position,
    Rotation,
    RotationDegrees,
    Scale,
    Skew,
    GlobalPosition,
    GlobalRotation,
    GlobalRotationDegrees,
    GlobalScale,
    GlobalSkew,
}

impl Transform {
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "position" => Transform::Position,
            "rotation" => Transform::Rotation,
            "rotation_degrees" => Transform::RotationDegrees,
            "scale" => Transform::Scale,
            "skew" => Transform::Skew,
            "global_position" => Transform::GlobalPosition,
            "global_rotation" => Transform::GlobalRotation,
            "global_rotation_degrees" => Transform::GlobalRotationDegrees,
            "global_scale" => Transform::GlobalScale,
            "global_skew" => Transform::GlobalSkew,
            _ => return None,
        })
    }
}

/// A node whose transform properties the fast path calls directly.
pub enum Spatial {
    TwoD(Gd<Node2D>),
    ThreeD(Gd<Node3D>),
}

impl Spatial {
    /// `object` as a `Node2D` or `Node3D`, if it is one.
    pub fn of(object: &Gd<Object>) -> Option<Self> {
        match object.clone().try_cast::<Node2D>() {
            Ok(node) => Some(Spatial::TwoD(node)),
            Err(object) => object.try_cast::<Node3D>().ok().map(Spatial::ThreeD),
        }
    }

    /// The property's value, if the node has it.
    pub fn get(&self, property: Transform) -> Option<Numbers> {
        use Transform as T;
        Some(match self {
            Spatial::TwoD(node) => match property {
                T::Position => Numbers::vector2(node.get_position()),
                T::Rotation => Numbers::number(f64::from(node.get_rotation())),
                T::RotationDegrees => Numbers::number(f64::from(node.get_rotation_degrees())),
                T::Scale => Numbers::vector2(node.get_scale()),
                T::Skew => Numbers::number(f64::from(node.get_skew())),
                T::GlobalPosition => Numbers::vector2(node.get_global_position()),
                T::GlobalRotation => Numbers::number(f64::from(node.get_global_rotation())),
                T::GlobalRotationDegrees => {
                    Numbers::number(f64::from(node.get_global_rotation_degrees()))
                }
                T::GlobalScale => Numbers::vector2(node.get_global_scale()),
                T::GlobalSkew => Numbers::number(f64::from(node.get_global_skew())),
            },
            Spatial::ThreeD(node) => Numbers::vector3(match property {
                T::Position => node.get_position(),
                T::Rotation => node.get_rotation(),
                T::RotationDegrees => node.get_rotation_degrees(),
                T::Scale => node.get_scale(),
                T::GlobalPosition => node.get_global_position(),
                T::GlobalRotation => node.get_global_rotation(),
                T::GlobalRotationDegrees => node.get_global_rotation_degrees(),
                T::Skew | T::GlobalScale | T::GlobalSkew => return None,
            }),
        })
    }

    /// Sets the property; false (and nothing set) if the node has no such property or the
    /// value is not of its type.
    pub fn set(&mut self, property: Transform, value: &Numbers) -> bool {
        use Transform as T;
        let done = match self {
            Spatial::TwoD(node) => match property {
                T::Position => value.as_vector2().map(|v| node.set_position(v)),
                T::Rotation => value.as_number().map(|a| node.set_rotation(a)),
                T::RotationDegrees => value.as_number().map(|a| node.set_rotation_degrees(a)),
                T::Scale => value.as_vector2().map(|v| node.set_scale(v)),
                T::Skew => value.as_number().map(|a| node.set_skew(a)),
                T::GlobalPosition => value.as_vector2().map(|v| node.set_global_position(v)),
                T::GlobalRotation => value.as_number().map(|a| node.set_global_rotation(a)),
                T::GlobalRotationDegrees => value
                    .as_number()
                    .map(|a| node.set_global_rotation_degrees(a)),
                T::GlobalScale => value.as_vector2().map(|v| node.set_global_scale(v)),
                T::GlobalSkew => value.as_number().map(|a| node.set_global_skew(a)),
            },
            Spatial::ThreeD(node) => {
                let Some(v) = value.as_vector3() else {
                    return false;
                };
                match property {
                    T::Position => node.set_position(v),
                    T::Rotation => node.set_rotation(v),
                    T::RotationDegrees => node.set_rotation_degrees(v),
                    T::Scale => node.set_scale(v),
                    T::GlobalPosition => node.set_global_position(v),
                    T::GlobalRotation => node.set_global_rotation(v),
                    T::GlobalRotationDegrees => node.set_global_rotation_degrees(v),
                    T::Skew | T::GlobalScale | T::GlobalSkew => return false,
                }
                Some(())
            }
        };
        done.is_some()
    }
}
