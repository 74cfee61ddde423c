//! `LuaExpression`: a compiled expression GDScript (and Lua) keeps and evaluates again and
//! again, made by `LuaRuntime.compile_expression(text)` or `sexp.compile(text)`.

use std::rc::Rc;

use godot::classes::{Node, RefCounted};
use godot::prelude::*;
use lua_runtime_core::sexp::Compiled;

use crate::state;

/// A compiled SEXP expression. Results are cached per context node and recomputed only
/// when something they read changed.
#[derive(GodotClass)]
#[class(no_init, base = RefCounted)]
pub struct LuaExpression {
    compiled: Rc<Compiled>,
    base: Base<RefCounted>,
}

#[godot_api]
impl LuaExpression {
    /// The value in `context` (the node relative paths start from; may be null when the
    /// expression reads no relative path). Null and a reported error when evaluation fails.
    #[func]
    fn evaluate(&self, context: Option<Gd<Node>>) -> Variant {
        self.run(context.as_ref(), true)
    }

    /// The value computed afresh, bypassing the cache (for checks and debugging).
    #[func]
    fn evaluate_uncached(&self, context: Option<Gd<Node>>) -> Variant {
        self.run(context.as_ref(), false)
    }

    /// The expression's text.
    #[func]
    fn get_source(&self) -> GString {
        GString::from(&*self.compiled.source)
    }

    /// This expression's counters: `evaluations`, `hits`, `misses`, `uncached`,
    /// `invalidations`, `compute_us`.
    #[func]
    fn get_stats(&self) -> VarDictionary {
        let n = self.compiled.counts.borrow();
        let mut d = VarDictionary::new();
        d.set("evaluations", n.evaluations as i64);
        d.set("hits", n.hits as i64);
        d.set("misses", n.misses as i64);
        d.set("uncached", n.uncached as i64);
        d.set("invalidations", n.invalidations as i64);
        d.set("compute_us", n.compute_ns as f64 / 1000.0);
        d
    }
}

/// Many expressions, each with its context node, evaluated together in one call: what a
/// mission checks every frame. Made with `LuaExpressionSet.new()`.
#[derive(GodotClass)]
#[class(init, base = RefCounted)]
pub struct LuaExpressionSet {
    members: Vec<(Rc<Compiled>, Option<Gd<Node>>)>,
    base: Base<RefCounted>,
}

#[godot_api]
impl LuaExpressionSet {
    /// Adds `sexp` (text, or a `LuaExpression`) evaluated in `context`; its index, or -1
    /// (and a reported error) when it does not compile.
    #[func]
    fn add(&mut self, sexp: Variant, context: Option<Gd<Node>>) -> i64 {
        let compiled = if let Ok(expression) = sexp.try_to::<Gd<LuaExpression>>() {
            expression.bind().compiled.clone()
        } else {
            let Some(state) = state::get() else {
                return -1;
            };
            match state.expressions.compile(&sexp.to_string()) {
                Ok(compiled) => compiled,
                Err(e) => {
                    crate::errors::report(&state, &e);
                    return -1;
                }
            }
        };
        self.members.push((compiled, context));
        self.members.len() as i64 - 1
    }

    /// Every member's value, in the order added (null where one failed; its error is
    /// reported).
    #[func]
    fn evaluate(&self) -> VarArray {
        let mut out = VarArray::new();
        let Some(state) = state::get() else {
            return out;
        };
        out.resize(self.members.len(), &Variant::nil());
        for (i, (compiled, context)) in self.members.iter().enumerate() {
            match state
                .expressions
                .evaluate(&state, compiled, context.as_ref(), true)
            {
                Ok(value) => out.set(i, &value),
                Err(e) => crate::errors::report(&state, &e),
            }
        }
        out
    }

    #[func]
    fn size(&self) -> i64 {
        self.members.len() as i64
    }

    #[func]
    fn clear(&mut self) {
        self.members.clear();
    }
}

impl LuaExpression {
    pub fn new_gd(compiled: Rc<Compiled>) -> Gd<Self> {
        Gd::from_init_fn(|base| LuaExpression { compiled, base })
    }

    fn run(&self, context: Option<&Gd<Node>>, cached: bool) -> Variant {
        let Some(state) = state::get() else {
            return Variant::nil();
        };
        match state
            .expressions
            .evaluate(&state, &self.compiled, context, cached)
        {
            Ok(v) => v,
            Err(e) => {
                crate::errors::report(&state, &e);
                Variant::nil()
            }
        }
    }
}
