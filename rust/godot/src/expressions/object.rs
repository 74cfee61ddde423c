//! `LuaExpression`: a compiled expression GDScript (and Lua) keeps and evaluates again and
//! again, made by `LuaRuntime.compile_expression(text)` or `sexp.compile(text)`.

use std::cell::RefCell;
use std::rc::Rc;

use godot::classes::RefCounted;
use godot::prelude::*;
use lua_runtime_core::sexp::{Compiled, ExpressionSet, SexpError};

use super::context_error;
use super::world::{context_id, to_variant};
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
    /// The value in `context`, a Node (the node relative paths start from) or null when the
    /// expression reads no relative path. Null and a reported error when evaluation fails or
    /// `context` is neither.
    #[func]
    fn evaluate(&self, context: Variant) -> Variant {
        self.run(&context, true)
    }

    /// The value computed afresh, bypassing the cache (for checks and debugging); `context`
    /// as for `evaluate`.
    #[func]
    fn evaluate_uncached(&self, context: Variant) -> Variant {
        self.run(&context, false)
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
        // Hits of sets that did not look at their members are counted now.
        if let Some(cache) = state::get()
            .as_ref()
            .and_then(|s| s.expressions.cache.try_borrow().ok())
        {
            cache.settle_counts();
        }
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
///
/// Only the members whose inputs changed are computed or even looked up (see
/// `lua_runtime_core::sexp::set`); the values of the others are kept from the last call.
#[derive(GodotClass)]
#[class(init, base = RefCounted)]
pub struct LuaExpressionSet {
    members: RefCell<Members>,
    base: Base<RefCounted>,
}

#[derive(Default)]
struct Members {
    set: ExpressionSet,
    /// Each member's value, updated where it changed.
    values: VarArray,
}

#[godot_api]
impl LuaExpressionSet {
    /// Adds `sexp` (text, or a `LuaExpression`) evaluated in `context` (a Node, or null as
    /// for `LuaExpression.evaluate`); its index, or -1 (and a reported error) when it does
    /// not compile or `context` is neither.
    #[func]
    fn add(&self, sexp: Variant, context: Variant) -> i64 {
        let Some(state) = state::get() else {
            return -1;
        };
        let compiled = if let Ok(expression) = sexp.try_to::<Gd<LuaExpression>>() {
            expression.bind().compiled.clone()
        } else {
            match state.expressions.compile(&sexp.to_string()) {
                Ok(compiled) => compiled,
                Err(e) => {
                    crate::errors::report(&state, &e);
                    return -1;
                }
            }
        };
        let context = match context_id(&state.expressions.nodes, &context) {
            Ok(context) => context,
            Err(message) => {
                let error = context_error(&compiled, message);
                crate::errors::report(&state, &error);
                return -1;
            }
        };
        let Some(mut members) = self.members_mut() else {
            return -1;
        };
        members.values.push(&Variant::nil());
        members.set.add(compiled, context) as i64
    }

    /// Every member's value, in the order added (null where one failed; its error is
    /// reported).
    #[func]
    fn evaluate(&self) -> VarArray {
        let Some(state) = state::get() else {
            return VarArray::new();
        };
        let Some(mut members) = self.members_mut() else {
            return VarArray::new();
        };
        let mut failed: Vec<(Rc<Compiled>, SexpError)> = Vec::new();
        let Members { set, values } = &mut *members;
        state
            .expressions
            .evaluate_set(&state, set, &mut |i, expr, result| match result {
                Ok(value) => values.set(i, &to_variant(value)),
                Err(error) => {
                    values.set(i, &Variant::nil());
                    failed.push((expr.clone(), error.clone()));
                }
            });
        let out = values.duplicate_shallow();
        drop(members);
        // Reported once the set is released: handlers of `script_error` may use it.
        for (expr, error) in failed {
            crate::errors::report(&state, &super::expression_error(&expr.source, error));
        }
        out
    }

    #[func]
    fn size(&self) -> i64 {
        self.members.try_borrow().map_or(0, |m| m.set.len() as i64)
    }

    #[func]
    fn clear(&self) {
        if let Some(mut members) = self.members_mut() {
            *members = Members::default();
        }
    }
}

impl LuaExpressionSet {
    /// The members, or `None` (and an error) while this set is being evaluated: an operator
    /// or a getter it ran used the set.
    fn members_mut(&self) -> Option<std::cell::RefMut<'_, Members>> {
        let members = self.members.try_borrow_mut().ok();
        if members.is_none() {
            godot_error!("LuaExpressionSet: used while it is being evaluated");
        }
        members
    }
}

impl LuaExpression {
    pub fn new_gd(compiled: Rc<Compiled>) -> Gd<Self> {
        Gd::from_init_fn(|base| LuaExpression { compiled, base })
    }

    /// The value in `context`: a Node, or null (see [`context_id`]).
    fn run(&self, context: &Variant, cached: bool) -> Variant {
        let Some(state) = state::get() else {
            return Variant::nil();
        };
        let context = context_id(&state.expressions.nodes, context)
            .map_err(|message| context_error(&self.compiled, message));
        match context.and_then(|context| {
            state
                .expressions
                .evaluate(&state, &self.compiled, context, cached)
        }) {
            Ok(v) => v,
            Err(e) => {
                crate::errors::report(&state, &e);
                Variant::nil()
            }
        }
    }
}
