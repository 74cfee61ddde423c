//! The objects behind wrapper handles, and what the fast path knows of their classes.
//!
//! A handle is a slot index plus the slot's generation, sent to Lua as a double: a slot
//! used again never answers for a wrapper that is gone.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use godot::builtin::{StringName, VariantType};
use godot::classes::{ClassDb, Object, class_db::ApiType};
use godot::obj::{Gd, Singleton};

use super::alive::Alive;
use super::methods::{self, Declared, Method};
use super::numbers::{self, Numbers};
use super::transforms::{Spatial, Transform};
use crate::bridge::names::Name;

/// Slots hold this many bits of a handle; the generation the rest.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const GENERATION_MASK: u32 = (1 << 28) - 1;

/// What the fast path knows of one property of one class.
pub struct Property {
    name: Rc<Name>,
    ty: VariantType,
    /// A transform property's name: on a `Node2D` or `Node3D`, read and written by direct
    /// calls.
    transform: Option<Transform>,
    /// Its getter, when the fast path can call it (read through it rather than by name).
    getter: Option<Method>,
}

/// A name's entry in a class: not asked yet, not for the fast path, or a property or
/// method the fast path takes.
#[derive(Clone, Default)]
enum Known {
    #[default]
    Unasked,
    Slow,
    Fast(Rc<Property>),
    Method(Rc<Method>),
}

/// Per class: whether the fast path may touch its objects, and its members by name id.
struct Class {
    /// An engine class (not an extension's).
    native: bool,
    /// `Node2D`, `Node3D` or a subclass.
    spatial: bool,
    /// Properties and methods by name id.
    members: Vec<Known>,
    /// The class's methods, listed at the first method asked of it.
    methods: Option<HashMap<String, Declared>>,
}

struct Slot {
    object: Option<Gd<Object>>,
    /// Whether `object` still lives.
    alive: Alive,
    generation: u32,
    /// Filled at the first fast access.
    class: Option<Rc<std::cell::RefCell<Class>>>,
    spatial: Option<Spatial>,
    /// How many times the engine was asked for the object's script (up to [`FOLLOW_AFTER`]).
    script_checks: Cell<u8>,
}

/// An object is asked for its script this many times before its `script_changed` is followed
/// instead ([`Alive::note_no_script`]): following costs the engine about 900 bytes per
/// object, worth it for the objects a script touches every frame, not for every object it
/// ever reads once.
const FOLLOW_AFTER: u8 = 8;

#[derive(Default)]
pub struct Slots {
    slots: Vec<Slot>,
    free: Vec<usize>,
    classes: HashMap<String, Rc<std::cell::RefCell<Class>>>,
    /// Interned names by id, for the names Lua asked ids for.
    names: Vec<Option<Rc<Name>>>,
}

impl Slots {
    /// A handle for a new wrapper of `object`, if a slot is left.
    pub fn take(&mut self, object: Gd<Object>) -> Option<f64> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.slots.len() as u64 > SLOT_MASK {
                    return None;
                }
                self.slots.push(Slot {
                    object: None,
                    alive: Alive::Held,
                    generation: 0,
                    class: None,
                    spatial: None,
                    script_checks: Cell::new(0),
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
        slot.alive = Alive::of(&object);
        slot.object = Some(object);
        Some(((u64::from(slot.generation) << SLOT_BITS) | index as u64) as f64)
    }

    pub fn release(&mut self, handle: f64) {
        if let Some(index) = self.index_of(handle) {
            let slot = &mut self.slots[index];
            if let Some(object) = &slot.object {
                slot.alive.unfollow_if_last(object);
            }
            slot.script_checks.set(0);
            slot.object = None;
            slot.alive = Alive::Held;
            slot.class = None;
            slot.spatial = None;
            self.free.push(index);
        }
    }

    /// Remembers the interned name with id `name.id`.
    pub fn remember(&mut self, name: Rc<Name>) {
        let at = name.id as usize;
        if self.names.len() <= at {
            self.names.resize(at + 1, None);
        }
        self.names[at] = Some(name);
    }

    /// Reads property `name` of the object behind `handle`, if the fast path may (for a
    /// method it calls, the [`numbers::METHOD`](super::numbers::METHOD) tag).
    pub fn get(&mut self, handle: f64, name: u32) -> Option<Numbers> {
        let (index, property) = match self.lookup(handle, name)? {
            // The call checks the object: a freed one gets the general path's error then.
            (_, Known::Method(_)) => return Some(Numbers::method()),
            (index, Known::Fast(property)) if self.usable(index) => (index, property),
            _ => return None,
        };
        let slot = &self.slots[index];
        let object = slot.object.as_ref()?;
        match (property.transform, &slot.spatial, &property.getter) {
            (Some(transform), Some(spatial), _) => spatial.get(transform),
            (_, _, Some(getter)) => getter.call(object.obj_sys(), &[], &self.names),
            _ => Numbers::of_variant(property.ty, &object.get(&property.name.value)),
        }
    }

    /// Sets property `name` of the object behind `handle`, if the fast path may: only the
    /// transform properties of `Node2D` and `Node3D`.
    pub fn set(&mut self, handle: f64, name: u32, value: &Numbers) -> bool {
        let Some((index, Known::Fast(property))) = self.lookup(handle, name) else {
            return false;
        };
        if !self.usable(index) {
            return false;
        }
        match (property.transform, &mut self.slots[index].spatial) {
            (Some(transform), Some(spatial)) => spatial.set(transform, value),
            _ => false,
        }
    }

    /// Calls method `name` of the object behind `handle` with `args`, if the fast path may.
    pub fn call(&mut self, handle: f64, name: u32, args: &[Numbers]) -> Option<Numbers> {
        let Some((index, Known::Method(method))) = self.lookup(handle, name) else {
            return None;
        };
        if !self.usable(index) {
            return None;
        }
        method.call(
            self.slots[index].object.as_ref()?.obj_sys(),
            args,
            &self.names,
        )
    }

    /// The slot a handle names, if it still names it.
    fn index_of(&self, handle: f64) -> Option<usize> {
        let bits = handle as u64;
        let index = (bits & SLOT_MASK) as usize;
        let generation = u32::try_from(bits >> SLOT_BITS).ok()?;
        let slot = self.slots.get(index)?;
        (slot.generation == generation && slot.object.is_some()).then_some(index)
    }

    /// Whether the fast path may touch the object in slot `index` now: it lives and has no
    /// script (a script's `_get` and `_set` see every access, its methods every call).
    fn usable(&self, index: usize) -> bool {
        let slot = &self.slots[index];
        if slot.alive.lives_without_script() {
            return true;
        }
        if !slot.alive.now() {
            return false;
        }
        match &slot.object {
            Some(object) if object.get_script().is_none() => {
                let checks = slot.script_checks.get();
                if checks < FOLLOW_AFTER {
                    slot.script_checks.set(checks + 1);
                } else {
                    slot.alive.note_no_script(object);
                }
                true
            }
            _ => false,
        }
    }

    /// The slot behind `handle` and what the fast path knows of its member `name`: a
    /// property of its engine class declared with a type the fast path takes, or a method
    /// it calls ([`methods`]). Whether the object may be touched now is [`Self::usable`]'s
    /// to say; the first look at a class or name checks it.
    fn lookup(&mut self, handle: f64, name: u32) -> Option<(usize, Known)> {
        let index = self.index_of(handle)?;
        let at = name as usize;
        // What is known already: a borrow, no reference counted on the way.
        if let Some(class) = &self.slots[index].class {
            let class = class.borrow();
            if !class.native {
                return None;
            }
            match class.members.get(at) {
                Some(Known::Slow) => return None,
                Some(Known::Unasked) | None => {}
                Some(known) => return Some((index, known.clone())),
            }
        }
        // A first look at this class or name: the object must be usable for it.
        if !self.usable(index) {
            return None;
        }
        let class = match &self.slots[index].class {
            Some(class) => class.clone(),
            None => self.resolve(index)?,
        };
        if !class.borrow().native {
            return None;
        }
        let known = self.describe(index, name, &mut class.borrow_mut());
        let mut class = class.borrow_mut();
        if class.members.len() <= at {
            class.members.resize(at + 1, Known::Unasked);
        }
        class.members[at] = known.clone();
        match known {
            Known::Slow | Known::Unasked => None,
            known => Some((index, known)),
        }
    }

    /// Finds the class of the object in slot `index` (and, for a node with a transform,
    /// the node itself).
    fn resolve(&mut self, index: usize) -> Option<Rc<std::cell::RefCell<Class>>> {
        let object = self.slots[index].object.as_ref()?;
        let name = object.get_class().to_string();
        let class = self
            .classes
            .entry(name.clone())
            .or_insert_with(|| Rc::new(std::cell::RefCell::new(Class::of(&name))))
            .clone();
        let spatial = if class.borrow().spatial {
            Spatial::of(object)
        } else {
            None
        };
        let slot = &mut self.slots[index];
        slot.spatial = spatial;
        slot.class = Some(class.clone());
        Some(class)
    }

    /// What the fast path may do with member `name` of the object in slot `index`, of
    /// class `class`.
    fn describe(&self, index: usize, name: u32, class: &mut Class) -> Known {
        let (Some(Some(name)), Some(object)) = (
            self.names.get(name as usize),
            self.slots[index].object.as_ref(),
        ) else {
            return Known::Slow;
        };
        let class_name = object.get_class();
        let spatial = class.spatial;
        let declared = class
            .methods
            .get_or_insert_with(|| methods::declared(&class_name.to_string()));
        let method = |text: &str| {
            let declared = declared.get(text)?;
            Method::of(&StringName::from(&class_name), text, declared, spatial)
        };
        match crate::bridge::object::declared_type(object, &name.text) {
            Some(ty) if numbers::travels(ty) => {
                let transform = Transform::named(&name.text);
                // A getter that takes an index (`get_offset(SIDE_LEFT)`) fails its call
                // without arguments; such properties are read by name. The transforms of
                // a Node2D or Node3D have direct calls of their own.
                let direct = spatial && transform.is_some();
                let getter = (!direct).then(|| {
                    let getter = ClassDb::singleton()
                        .class_get_property_getter(&StringName::from(&class_name), &name.value);
                    method(&getter.to_string()).filter(Method::takes_no_arguments)
                });
                Known::Fast(Rc::new(Property {
                    name: name.clone(),
                    ty,
                    transform,
                    getter: getter.flatten(),
                }))
            }
            Some(_) => Known::Slow,
            None => method(&name.text).map_or(Known::Slow, |m| Known::Method(Rc::new(m))),
        }
    }
}

impl Class {
    fn of(name: &str) -> Self {
        let db = ClassDb::singleton();
        let api = db.class_get_api_type(name);
        let native = api == ApiType::CORE || api == ApiType::EDITOR;
        let is_a = |base: &str| name == base || db.is_parent_class(name, base);
        Class {
            native,
            spatial: native && (is_a("Node2D") || is_a("Node3D")),
            members: Vec::new(),
            methods: None,
        }
    }
}
