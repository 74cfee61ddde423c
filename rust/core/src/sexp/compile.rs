//! Forms to a tree of Rust closures, checked once: operators exist and get as many
//! arguments as they take.
//!
//! Built-in operators: `+ - * / mod min max abs`, `< <= = != > >=`, `and or not` (short
//! circuit), `if`, `var`, `prop`, `has-node`, `distance`, `str`, `concat`, `time` and
//! `random`. Any other operator name must be a user operator defined when the expression
//! is compiled.
//!
//! A closure tree was measured against compiling to a Lua function (`benches/sexp.rs`, the
//! figures are in docs/benchmarks.md) and kept: it evaluates faster.

use std::cell::RefCell;
use std::rc::Rc;

use super::parse::{Form, Node, Pos, parse};
use super::world::{Cause, Check, Label, NodeId, Reads, Resolved, SignalWatch, Watch, World};
use super::{SexpError, Value};

/// One evaluation in progress.
pub struct Eval<'w> {
    pub world: &'w mut dyn World,
    pub context: NodeId,
    pub reads: Reads,
}

type Func = Box<dyn Fn(&mut Eval<'_>) -> Result<Value, SexpError>>;

/// One node of the tree: constants are held inline, the rest are closures.
enum Op {
    Const(Value),
    Dyn(Func),
}

impl Op {
    #[inline]
    fn run(&self, e: &mut Eval<'_>) -> Result<Value, SexpError> {
        match self {
            Op::Const(v) => Ok(v.clone()),
            Op::Dyn(f) => f(e),
        }
    }
}

/// Counters of one compiled expression, for statistics and hints.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub evaluations: u64,
    pub hits: u64,
    pub misses: u64,
    /// Evaluations that could not be cached (volatile, or a node outside the tree).
    pub uncached: u64,
    pub invalidations: u64,
    /// Nanoseconds spent computing results (misses and uncached evaluations).
    pub compute_ns: u64,
    /// How often each cause invalidated it (a few kept).
    pub causes: Vec<(Cause, u64)>,
    /// Why the last uncached evaluation could not be cached.
    pub volatile: Option<Box<str>>,
}

/// Causes kept per expression in [`Counts::causes`].
const CAUSES_KEPT: usize = 8;

impl Counts {
    pub fn caused(&mut self, cause: &Cause) {
        self.invalidations += 1;
        if let Some(entry) = self.causes.iter_mut().find(|(c, _)| c == cause) {
            entry.1 += 1;
        } else if self.causes.len() < CAUSES_KEPT {
            self.causes.push((cause.clone(), 1));
        } else if let Some(least) = self.causes.iter_mut().min_by_key(|(_, n)| *n) {
            *least = (cause.clone(), 1);
        }
    }

    /// The most frequent cause of invalidation and its count.
    pub fn top_cause(&self) -> Option<&(Cause, u64)> {
        self.causes.iter().max_by_key(|(_, n)| *n)
    }
}

/// A compiled expression.
pub struct Compiled {
    /// Unique for the process; results are cached by it.
    pub id: u32,
    pub source: Rc<str>,
    root: Op,
    pub counts: RefCell<Counts>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Compiled({})", self.source)
    }
}

impl Compiled {
    /// Evaluates once, recording what it reads in `eval.reads`. Caches nothing.
    ///
    /// # Errors
    /// A runtime error (wrong types, a missing node) with its position.
    pub fn run(&self, eval: &mut Eval<'_>) -> Result<Value, SexpError> {
        self.root.run(eval)
    }
}

/// Parses and compiles `source`; `user_operator` tells whether a name is a user operator.
///
/// # Errors
/// The syntax error, or an unknown operator or wrong number of arguments, with its position.
pub fn compile(
    source: &str,
    id: u32,
    user_operator: &dyn Fn(&str) -> bool,
    strings: &mut Strings,
) -> Result<Compiled, SexpError> {
    let node = parse(source)?;
    let root = Compiler {
        user_operator,
        strings: RefCell::new(strings),
    }
    .node(&node)?;
    Ok(Compiled {
        id,
        source: source.into(),
        root,
        counts: RefCell::default(),
    })
}

fn compile_error(message: String, pos: Pos) -> SexpError {
    SexpError::Compile {
        message,
        line: pos.line,
        col: pos.col,
    }
}

fn eval_error(message: String, pos: Pos) -> SexpError {
    SexpError::Eval {
        message,
        line: pos.line,
        col: pos.col,
    }
}

struct Compiler<'a> {
    user_operator: &'a dyn Fn(&str) -> bool,
    strings: RefCell<&'a mut Strings>,
}

/// Literal strings shared by every compiled expression (paths and property names repeat).
#[derive(Default)]
pub struct Strings {
    set: std::collections::HashSet<Rc<str>>,
    added: usize,
}

impl Strings {
    fn intern(&mut self, s: &str) -> Rc<str> {
        if let Some(found) = self.set.get(s) {
            return found.clone();
        }
        self.added += 1;
        // Now and then, let go of the strings no expression uses any more.
        if self.added.is_multiple_of(4096) {
            self.set.retain(|s| Rc::strong_count(s) > 1);
        }
        let rc: Rc<str> = s.into();
        self.set.insert(rc.clone());
        rc
    }
}

/// How many arguments an operator takes.
#[derive(Clone, Copy)]
enum Arity {
    Exactly(usize),
    AtLeast(usize),
    Either(usize, usize),
}

impl Arity {
    fn allows(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Either(a, b) => n == a || n == b,
        }
    }

    fn describe(self) -> String {
        let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
        match self {
            Arity::Exactly(k) => format!("{k} {}", plural(k)),
            Arity::AtLeast(k) => format!("at least {k} {}", plural(k)),
            Arity::Either(a, b) => format!("{a} or {b} arguments"),
        }
    }
}

/// Whether `name` is a built-in operator.
pub fn is_builtin(name: &str) -> bool {
    arity(name).is_some()
}

/// Whether `name` can name a user operator: not a built-in, and a symbol the parser reads
/// as one (no spaces, parentheses, quotes or `;`, not a number, `true`, `false` or `nil`).
pub fn is_operator_name(name: &str) -> bool {
    !is_builtin(name)
        && !matches!(name, "" | "true" | "false" | "nil")
        && !name.starts_with(':')
        && matches!(
            super::parse::parse(name),
            Ok(Node {
                form: Form::Symbol(_),
                ..
            })
        )
}

/// The built-in operators and how many arguments each takes.
const BUILTINS: [(&str, Arity); 26] = [
    ("+", Arity::AtLeast(1)),
    ("-", Arity::AtLeast(1)),
    ("*", Arity::AtLeast(1)),
    ("/", Arity::Exactly(2)),
    ("mod", Arity::Exactly(2)),
    ("min", Arity::AtLeast(1)),
    ("max", Arity::AtLeast(1)),
    ("abs", Arity::Exactly(1)),
    ("<", Arity::Exactly(2)),
    ("<=", Arity::Exactly(2)),
    (">", Arity::Exactly(2)),
    (">=", Arity::Exactly(2)),
    ("=", Arity::Exactly(2)),
    ("!=", Arity::Exactly(2)),
    ("and", Arity::AtLeast(1)),
    ("or", Arity::AtLeast(1)),
    ("not", Arity::Exactly(1)),
    ("if", Arity::Either(2, 3)),
    ("var", Arity::Exactly(1)),
    ("prop", Arity::Either(2, 4)),
    ("has-node", Arity::Exactly(1)),
    ("distance", Arity::Exactly(2)),
    ("str", Arity::Exactly(1)),
    ("concat", Arity::AtLeast(0)),
    ("time", Arity::Exactly(0)),
    ("random", Arity::Either(0, 2)),
];

/// The built-in operator `name` (its name as a `'static` string) and its arity.
fn builtin_named(name: &str) -> Option<(&'static str, Arity)> {
    BUILTINS.iter().find(|(n, _)| *n == name).copied()
}

fn arity(name: &str) -> Option<Arity> {
    builtin_named(name).map(|(_, arity)| arity)
}

impl Compiler<'_> {
    fn intern(&self, s: &str) -> Rc<str> {
        self.strings.borrow_mut().intern(s)
    }

    fn node(&self, node: &Node) -> Result<Op, SexpError> {
        let constant = |v: Value| -> Result<Op, SexpError> { Ok(Op::Const(v)) };
        match &node.form {
            Form::Int(i) => constant(Value::Int(*i)),
            Form::Float(f) => constant(Value::Float(*f)),
            Form::Str(s) => constant(Value::Str(self.intern(s))),
            Form::Bool(b) => constant(Value::Bool(*b)),
            Form::Symbol(s) if &**s == "nil" => constant(Value::Nil),
            Form::Symbol(s) => Err(compile_error(
                format!("unknown symbol '{s}' (read a variable with (var {s}))"),
                node.pos,
            )),
            Form::List(items) => self.list(items, node.pos),
        }
    }

    fn list(&self, items: &[Node], pos: Pos) -> Result<Op, SexpError> {
        let Some((head, args)) = items.split_first() else {
            return Err(compile_error(
                "empty list: expected an operator".into(),
                pos,
            ));
        };
        let Form::Symbol(name) = &head.form else {
            return Err(compile_error(
                "expected an operator name at the start of a list".into(),
                head.pos,
            ));
        };
        let name: &str = name;
        let name = match builtin_named(name) {
            Some((_, arity)) if !arity.allows(args.len()) => {
                return Err(compile_error(
                    format!("'{name}' takes {}, got {}", arity.describe(), args.len()),
                    pos,
                ));
            }
            Some((name, _)) => name,
            None if (self.user_operator)(name) => return self.user(name, args, pos),
            None => {
                return Err(compile_error(
                    format!("unknown operator '{name}'"),
                    head.pos,
                ));
            }
        };
        match name {
            "var" => self.var(&args[0]),
            "prop" => self.prop(args, pos),
            _ => {
                let ops = args
                    .iter()
                    .map(|a| self.node(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(builtin(name, ops, pos))
            }
        }
    }

    fn var(&self, arg: &Node) -> Result<Op, SexpError> {
        let name: Rc<str> = match &arg.form {
            Form::Symbol(s) | Form::Str(s) => self.intern(s),
            _ => {
                return Err(compile_error("'var' takes a variable name".into(), arg.pos));
            }
        };
        Ok(Op::Dyn(Box::new(move |e| {
            e.reads.vars.push(name.clone());
            Ok(e.world.var(&name))
        })))
    }

    fn prop(&self, args: &[Node], pos: Pos) -> Result<Op, SexpError> {
        let on: Option<Op> = match args.get(2) {
            None => None,
            Some(Node {
                form: Form::Symbol(k),
                ..
            }) if &**k == ":on" => Some(self.node(&args[3])?),
            Some(other) => {
                return Err(compile_error(
                    "expected ':on' followed by a signal name".into(),
                    other.pos,
                ));
            }
        };
        let path = self.node(&args[0])?;
        let property = self.node(&args[1])?;
        // The usual `(prop "Player" "health")`: the engine side may keep where it leads.
        let constant = on.is_none() && matches!((&path, &property), (Op::Const(_), Op::Const(_)));
        Ok(Op::Dyn(Box::new(move |e| {
            let path = text(path.run(e)?, "prop", "a node path", pos)?;
            let property = text(property.run(e)?, "prop", "a property name", pos)?;
            let on = match &on {
                Some(op) => Some(text(op.run(e)?, "prop", "a signal name", pos)?),
                None => None,
            };
            let (node, read) = if constant {
                let (resolved, read) = e
                    .world
                    .resolve_property(e.context, &path, &property)
                    .map_err(|m| eval_error(m, pos))?;
                let node = reached(e, &resolved, &path, pos)?;
                let read = read.ok_or_else(|| eval_error(format!("no node at '{path}'"), pos))?;
                (node, read)
            } else {
                let node = find(e, &path, pos)?;
                (node, e.world.property(node, &property, on.as_deref()))
            };
            let (value, watch) = read.map_err(|m| eval_error(m, pos))?;
            let label = Label {
                path: path.clone(),
                property: property.clone(),
            };
            match watch {
                Watch::Signals { signal, also } => {
                    if let Some(also) = also {
                        e.reads
                            .signals
                            .push((SignalWatch { node, signal: also }, label.clone()));
                    }
                    e.reads.signals.push((SignalWatch { node, signal }, label));
                }
                Watch::Check => e.reads.checks.push(Check::Property {
                    node,
                    property,
                    value: value.clone(),
                    label,
                }),
            }
            Ok(value)
        })))
    }

    fn user(&self, name: &str, args: &[Node], pos: Pos) -> Result<Op, SexpError> {
        let ops = args
            .iter()
            .map(|a| self.node(a))
            .collect::<Result<Vec<_>, _>>()?;
        let name: Rc<str> = self.intern(name);
        let ops = ops.into_boxed_slice();
        Ok(Op::Dyn(Box::new(move |e| {
            let values = ops
                .iter()
                .map(|op| op.run(e))
                .collect::<Result<Vec<_>, _>>()?;
            e.reads.operators.push(name.clone());
            let (value, pure) = e
                .world
                .call(&name, &values)
                .map_err(|m| eval_error(format!("'{name}': {m}"), pos))?;
            if !pure {
                e.reads
                    .volatile(format!("calls '{name}', which is not pure"));
            }
            Ok(value)
        })))
    }
}

fn text(value: Value, op: &str, what: &str, pos: Pos) -> Result<Rc<str>, SexpError> {
    match value {
        Value::Str(s) => Ok(s),
        other => Err(eval_error(
            format!(
                "'{op}' expects {what} (a string), got {}",
                other.type_name()
            ),
            pos,
        )),
    }
}

/// The node at `path`, recording the path as read.
fn find(e: &mut Eval<'_>, path: &str, pos: Pos) -> Result<NodeId, SexpError> {
    let resolved = e
        .world
        .resolve(e.context, path)
        .map_err(|m| eval_error(m, pos))?;
    reached(e, &resolved, path, pos)
}

/// Records `resolved` (where `path` led) as read; the node it reached.
fn reached(
    e: &mut Eval<'_>,
    resolved: &Resolved,
    path: &str,
    pos: Pos,
) -> Result<NodeId, SexpError> {
    e.reads.path(resolved);
    resolved
        .node
        .ok_or_else(|| eval_error(format!("no node at '{path}'"), pos))
}

/// The closure for the built-in operator `name` (not `var` or `prop`, compiled apart).
fn builtin(name: &'static str, ops: Vec<Op>, pos: Pos) -> Op {
    let ops = ops.into_boxed_slice();
    let f: Func = match name {
        "+" | "*" | "-" => Box::new(move |e| {
            let mut acc = number(ops[0].run(e)?, name, pos)?;
            if ops.len() == 1 && name == "-" {
                return Ok(match acc {
                    Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| overflow(pos))?),
                    Value::Float(f) => Value::Float(-f),
                    _ => unreachable!("checked numeric"),
                });
            }
            for op in &ops[1..] {
                acc = arithmetic(name, &acc, &number(op.run(e)?, name, pos)?, pos)?;
            }
            Ok(acc)
        }),
        "/" | "mod" => Box::new(move |e| {
            let a = number(ops[0].run(e)?, name, pos)?;
            let b = number(ops[1].run(e)?, name, pos)?;
            arithmetic(name, &a, &b, pos)
        }),
        "min" | "max" => Box::new(move |e| {
            let mut best = number(ops[0].run(e)?, name, pos)?;
            for op in &ops[1..] {
                let v = number(op.run(e)?, name, pos)?;
                let (x, y) = (v.number().unwrap_or(0.0), best.number().unwrap_or(0.0));
                if (name == "min" && x < y) || (name == "max" && x > y) {
                    best = v;
                }
            }
            Ok(best)
        }),
        "abs" => Box::new(move |e| {
            Ok(match number(ops[0].run(e)?, name, pos)? {
                Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(|| overflow(pos))?),
                Value::Float(f) => Value::Float(f.abs()),
                _ => unreachable!("checked numeric"),
            })
        }),
        "<" | "<=" | ">" | ">=" => Box::new(move |e| {
            let a = ops[0].run(e)?;
            let b = ops[1].run(e)?;
            let ordering = match (&a, &b) {
                (Value::Str(x), Value::Str(y)) => x.partial_cmp(y),
                _ => match (a.number(), b.number()) {
                    (Some(x), Some(y)) => x.partial_cmp(&y),
                    _ => {
                        return Err(eval_error(
                            format!(
                                "'{name}' compares two numbers or two strings, got {} and {}",
                                a.type_name(),
                                b.type_name()
                            ),
                            pos,
                        ));
                    }
                },
            };
            use std::cmp::Ordering::{Equal, Greater, Less};
            Ok(Value::Bool(matches!(
                (name, ordering),
                ("<", Some(Less))
                    | ("<=", Some(Less | Equal))
                    | (">", Some(Greater))
                    | (">=", Some(Greater | Equal))
            )))
        }),
        "=" | "!=" => Box::new(move |e| {
            let same = ops[0].run(e)?.same(&ops[1].run(e)?);
            Ok(Value::Bool(same == (name == "=")))
        }),
        "and" => Box::new(move |e| {
            for op in ops.iter() {
                if !op.run(e)?.truthy() {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        }),
        "or" => Box::new(move |e| {
            for op in ops.iter() {
                if op.run(e)?.truthy() {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }),
        "not" => Box::new(move |e| Ok(Value::Bool(!ops[0].run(e)?.truthy()))),
        "if" => Box::new(move |e| {
            if ops[0].run(e)?.truthy() {
                ops[1].run(e)
            } else {
                ops.get(2).map_or(Ok(Value::Nil), |op| op.run(e))
            }
        }),
        "has-node" => Box::new(move |e| {
            let path = text(ops[0].run(e)?, "has-node", "a node path", pos)?;
            let resolved = e
                .world
                .resolve(e.context, &path)
                .map_err(|m| eval_error(m, pos))?;
            e.reads.path(&resolved);
            Ok(Value::Bool(resolved.node.is_some()))
        }),
        "distance" => Box::new(move |e| {
            let mut at = [None, None];
            for (i, op) in ops.iter().enumerate() {
                let path = text(op.run(e)?, "distance", "a node path", pos)?;
                let node = find(e, &path, pos)?;
                let position = e.world.position(node).map_err(|m| eval_error(m, pos))?;
                e.reads.checks.push(Check::Position {
                    node,
                    at: position,
                    label: Label {
                        path,
                        property: "global_position".into(),
                    },
                });
                at[i] = Some(position);
            }
            let (Some(a), Some(b)) = (at[0], at[1]) else {
                unreachable!("two arguments");
            };
            if a.dims != b.dims {
                return Err(eval_error(
                    "'distance' needs two Node2D or two Node3D".into(),
                    pos,
                ));
            }
            Ok(Value::Float(a.distance(&b)))
        }),
        "str" => Box::new(move |e| Ok(Value::Str(ops[0].run(e)?.to_string().into()))),
        "concat" => Box::new(move |e| {
            let mut out = String::new();
            for op in ops.iter() {
                out.push_str(&op.run(e)?.to_string());
            }
            Ok(Value::Str(out.into()))
        }),
        "time" => Box::new(move |e| {
            e.reads.volatile("reads 'time'");
            Ok(Value::Float(e.world.time()))
        }),
        _ /* random */ => Box::new(move |e| {
            e.reads.volatile("reads 'random'");
            let r = e.world.random();
            if ops.is_empty() {
                return Ok(Value::Float(r));
            }
            let (lo, hi) = (ops[0].run(e)?, ops[1].run(e)?);
            let (Value::Int(lo), Value::Int(hi)) = (&lo, &hi) else {
                return Err(eval_error(
                    format!("'random' takes two integers, got {} and {}", lo.type_name(), hi.type_name()),
                    pos,
                ));
            };
            if hi < lo {
                return Err(eval_error(format!("'random': {hi} is below {lo}"), pos));
            }
            // In i128: the width of a range such as (random -1 9223372036854775807) overflows i64.
            let width = i128::from(*hi) - i128::from(*lo);
            let offset = ((r * (width + 1) as f64) as i128).min(width);
            Ok(Value::Int((i128::from(*lo) + offset) as i64))
        }),
    };
    Op::Dyn(f)
}

/// `v` if it is a number, else an error naming the operator `name`.
fn number(v: Value, name: &str, pos: Pos) -> Result<Value, SexpError> {
    match v {
        Value::Int(_) | Value::Float(_) => Ok(v),
        other => Err(eval_error(
            format!("'{name}' expects numbers, got {}", other.type_name()),
            pos,
        )),
    }
}

fn overflow(pos: Pos) -> SexpError {
    eval_error("integer overflow".into(), pos)
}

/// `a op b` for `+ - * / mod`: integers stay integers (division truncates, as in GDScript).
fn arithmetic(op: &str, a: &Value, b: &Value, pos: Pos) -> Result<Value, SexpError> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        if matches!(op, "/" | "mod") && y == 0 {
            return Err(eval_error("division by zero".into(), pos));
        }
        let result = match op {
            "+" => x.checked_add(y),
            "-" => x.checked_sub(y),
            "*" => x.checked_mul(y),
            "/" => x.checked_div(y),
            _ => x.checked_rem(y),
        };
        return result.map(Value::Int).ok_or_else(|| overflow(pos));
    }
    let (x, y) = (a.number().unwrap_or(0.0), b.number().unwrap_or(0.0));
    Ok(Value::Float(match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => x / y,
        _ => x % y,
    }))
}
