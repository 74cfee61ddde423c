//! Interned names: the engine-side form of each member name Lua uses, made once.
//!
//! A name arrives as a Lua string. Short Lua strings are unique per content, so the string's
//! address identifies the name without hashing its bytes; the cache keeps the Lua string
//! alive, so an address cannot be reused for another name while it is cached. Each name also
//! gets a small dense id, which callers use to key their own per-name tables cheaply.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use mlua::LuaString;
use rustc_hash::FxHashMap;

use crate::stats::NameStats;

/// Names beyond this many are made afresh on each use instead of cached, so a script that
/// invents names endlessly cannot grow the cache without bound.
pub const MAX_NAMES: usize = 65_536;

/// The id of a name made after the cache filled up: not unique, never to be used as a key.
pub const UNCACHED: u32 = u32::MAX;

/// One interned name.
pub struct Name<T> {
    /// Dense id, unique per distinct text ([`UNCACHED`] past [`MAX_NAMES`]).
    pub id: u32,
    pub text: Box<str>,
    /// The engine's form of the name.
    pub value: T,
}

/// A cached name with the Lua string that keeps its address reserved.
type Held<T> = (LuaString, Rc<Name<T>>);

/// Names by Lua string address, and by text (for names that arrive as long strings).
pub struct NameCache<T> {
    by_address: RefCell<FxHashMap<usize, Held<T>>>,
    by_text: RefCell<FxHashMap<Box<str>, Rc<Name<T>>>>,
    hits: Cell<u64>,
    misses: Cell<u64>,
}

impl<T> Default for NameCache<T> {
    fn default() -> Self {
        NameCache {
            by_address: RefCell::new(FxHashMap::default()),
            by_text: RefCell::new(FxHashMap::default()),
            hits: Cell::new(0),
            misses: Cell::new(0),
        }
    }
}

impl<T> NameCache<T> {
    /// The interned name for `key`, made with `make` on first use.
    ///
    /// # Errors
    /// When the string is not valid UTF-8 (member names always are).
    pub fn get(&self, key: &LuaString, make: impl FnOnce(&str) -> T) -> mlua::Result<Rc<Name<T>>> {
        let address = key.to_pointer() as usize;
        if let Some((_, name)) = self.by_address.borrow().get(&address) {
            self.hits.set(self.hits.get() + 1);
            return Ok(name.clone());
        }
        let text = key.to_str()?;
        let name = self.by_text(&text, make);
        let mut by_address = self.by_address.borrow_mut();
        if by_address.len() < MAX_NAMES {
            by_address.insert(address, (key.clone(), name.clone()));
        }
        Ok(name)
    }

    /// The interned name for `text`, made with `make` on first use.
    pub fn by_text(&self, text: &str, make: impl FnOnce(&str) -> T) -> Rc<Name<T>> {
        if let Some(name) = self.by_text.borrow().get(text) {
            self.hits.set(self.hits.get() + 1);
            return name.clone();
        }
        self.misses.set(self.misses.get() + 1);
        let mut by_text = self.by_text.borrow_mut();
        let cached = by_text.len() < MAX_NAMES;
        let name = Rc::new(Name {
            id: if cached {
                u32::try_from(by_text.len()).unwrap_or(UNCACHED)
            } else {
                UNCACHED
            },
            text: text.into(),
            value: make(text),
        });
        if cached {
            by_text.insert(text.into(), name.clone());
        }
        name
    }

    /// Counters for `get_stats()`.
    pub fn stats(&self) -> NameStats {
        NameStats {
            interned: self.by_text.borrow().len() as u64,
            hits: self.hits.get(),
            misses: self.misses.get(),
        }
    }
}
