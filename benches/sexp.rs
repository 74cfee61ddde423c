//! SEXP expressions: what a cached hit costs from Rust, and the two ways to compute a
//! result on a miss, measured side by side: the closure tree the runtime uses, and the
//! same expressions compiled to Lua functions (reads go through Rust functions that record
//! them, as the cache needs). Also the memory 10,000 compiled expressions take.
//!
//! `cargo bench -p lua_runtime_core --bench sexp`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use lua_runtime_core::sexp::compile::Eval;
use lua_runtime_core::sexp::parse::{Form, Node, parse};
use lua_runtime_core::sexp::world::Reads;
use lua_runtime_core::sexp::{
    ExpressionCache, NodeId, Position, Resolved, Value, Watch, World, evaluate, evaluate_uncached,
};

/// Counts the bytes in use, to weigh the compiled expressions.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Nodes `Player` and `Goal` under the context, and variables.
struct Fake {
    vars: HashMap<String, Value>,
}

impl World for Fake {
    fn resolve(&mut self, context: NodeId, path: &str) -> Result<Resolved, String> {
        let node = if path == "Player" { 2 } else { 3 };
        Ok(Resolved {
            node: Some(node),
            chain: [context, node].into(),
            tracked: true,
        })
    }
    fn property(&mut self, _: NodeId, _: &str, _: Option<&str>) -> Result<(Value, Watch), String> {
        Ok((
            Value::Int(80),
            Watch::Signals {
                signal: "health_changed".into(),
                also: None,
            },
        ))
    }
    fn current(&mut self, _: NodeId, _: &Rc<str>) -> Option<Value> {
        Some(Value::Int(80))
    }
    fn position(&mut self, node: NodeId) -> Result<Position, String> {
        Ok(Position {
            dims: 2,
            at: [node as f64 * 10.0, 0.0, 0.0],
        })
    }
    fn var(&mut self, name: &str) -> Value {
        self.vars.get(name).cloned().unwrap_or_default()
    }
    fn time(&mut self) -> f64 {
        0.0
    }
    fn random(&mut self) -> f64 {
        0.5
    }
    fn call(&mut self, _: &str, _: &[Value]) -> Result<(Value, bool), String> {
        Ok((Value::Nil, true))
    }
}

fn fake() -> Fake {
    Fake {
        vars: [("phase", 3i64), ("kills", 12), ("wave", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::Int(v)))
            .collect(),
    }
}

const EXPRESSIONS: [(&str, &str); 3] = [
    ("vars", "(and (>= (var phase) 3) (< (var kills) 20))"),
    (
        "prop_and_vars",
        "(and (> (prop \"Player\" \"health\") 0) (< (+ (var kills) (* 2 (var wave))) 50))",
    ),
    (
        "arithmetic",
        "(> (+ (* 3 (var kills)) (- (var wave) 2) (/ (var kills) 4.0) (max 1 (var phase))) 10)",
    ),
];

/// The expression as a Lua function body: variables and properties are read through the
/// Rust functions `var` and `prop`.
fn to_lua(node: &Node) -> String {
    let list = |items: &[Node], op: &str| {
        let parts: Vec<String> = items.iter().map(to_lua).collect();
        format!("({})", parts.join(&format!(" {op} ")))
    };
    match &node.form {
        Form::Int(i) => i.to_string(),
        Form::Float(f) => format!("{f:?}"),
        Form::Str(s) => format!("{s:?}"),
        Form::Bool(b) => b.to_string(),
        Form::Symbol(s) => format!("\"{s}\""),
        Form::List(items) => {
            let Form::Symbol(op) = &items[0].form else {
                panic!("operator")
            };
            let args = &items[1..];
            match &**op {
                "var" => format!("var({})", to_lua(&args[0])),
                "prop" => format!("prop({}, {})", to_lua(&args[0]), to_lua(&args[1])),
                "max" => format!(
                    "math.max({})",
                    args.iter().map(to_lua).collect::<Vec<_>>().join(", ")
                ),
                "and" | "or" | "+" | "-" | "*" | "/" | "<" | "<=" | ">" | ">=" => list(args, op),
                other => panic!("not in the benchmark: {other}"),
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut world = fake();
    let cache = RefCell::new(ExpressionCache::new(100, 100));
    let mut group = c.benchmark_group("sexp");
    for (name, source) in EXPRESSIONS {
        let expr = cache
            .borrow_mut()
            .compile(source, &|_| false)
            .expect("compiles");
        evaluate(&cache, &expr, 1, &mut world).expect("evaluates");
        group.bench_function(format!("hit/{name}"), |b| {
            b.iter(|| evaluate(&cache, black_box(&expr), 1, &mut world))
        });
        group.bench_function(format!("compute_closure_tree/{name}"), |b| {
            b.iter(|| {
                let mut eval = Eval {
                    world: &mut world,
                    context: 1,
                    reads: Reads::default(),
                };
                black_box(&expr).run(&mut eval)
            })
        });
        group.bench_function(format!("miss_uncached/{name}"), |b| {
            b.iter(|| evaluate_uncached(&cache, black_box(&expr), 1, &mut world))
        });
    }
    let lua = mlua::Lua::new();
    let reads: Rc<RefCell<Vec<String>>> = Rc::default();
    let vars = Rc::new(fake().vars);
    let (r, v) = (reads.clone(), vars.clone());
    let var = lua
        .create_function(move |_, name: String| {
            let value = match v.get(&name) {
                Some(Value::Int(i)) => *i,
                _ => 0,
            };
            r.borrow_mut().push(name);
            Ok(value)
        })
        .expect("var");
    let r = reads.clone();
    let prop = lua
        .create_function(move |_, (path, property): (String, String)| {
            r.borrow_mut().push(format!("{path}.{property}"));
            Ok(80)
        })
        .expect("prop");
    lua.globals().set("var", var).expect("var");
    lua.globals().set("prop", prop).expect("prop");
    for (name, source) in EXPRESSIONS {
        let body = to_lua(&parse(source).expect("parses"));
        let function: mlua::Function = lua
            .load(format!("return function() return {body} end"))
            .eval()
            .expect("compiles to Lua");
        group.bench_function(format!("compute_lua_function/{name}"), |b| {
            b.iter(|| {
                reads.borrow_mut().clear();
                function.call::<bool>(()).expect("runs")
            })
        });
    }
    group.finish();
}

/// Bytes 10,000 distinct compiled mission conditions take in the cache.
fn memory() {
    let before = IN_USE.load(Ordering::Relaxed);
    let mut cache = ExpressionCache::new(10_000, 10_000);
    let mut kept = Vec::new();
    for i in 0..10_000 {
        let source = format!(
            "(and (> (prop \"Ship{i}\" \"health\") {}) (< (distance \"Ship{i}\" \"Goal\") 50) \
             (= (var wave) {}))",
            i % 100,
            i % 7
        );
        kept.push(cache.compile(&source, &|_| false).expect("compiles"));
    }
    let bytes = IN_USE.load(Ordering::Relaxed) - before;
    println!(
        "BENCH sexp_memory compiled=10000 bytes={bytes} mb={:.2} per_expression_bytes={}",
        bytes as f64 / 1e6,
        bytes / 10_000
    );
    black_box((cache, kept));
}

fn all(c: &mut Criterion) {
    memory();
    bench(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
