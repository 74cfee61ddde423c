//! SEXP expressions without an engine: the compiler's errors, the operators, and the cache's
//! invalidation against a small in-memory scene tree, ending in a differential test where
//! every cached result is compared with a fresh evaluation after each random edit.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use lua_runtime_core::sexp::cache::HINT_AFTER;
use lua_runtime_core::sexp::{
    Compiled, ExpressionCache, ExpressionSet, NodeId, Position, Resolved, SexpError, SignalWatch,
    Value, Watch, WatchChange, World, evaluate, evaluate_uncached,
};

struct FakeNode {
    name: String,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    props: HashMap<String, Value>,
    /// Properties whose changes a `<name>_changed` signal tells.
    signalled: HashSet<String>,
    position: Position,
}

/// A scene tree, the runtime variables (in the cache) and two user operators.
struct Fake {
    cache: Rc<RefCell<ExpressionCache>>,
    nodes: HashMap<NodeId, FakeNode>,
    next: NodeId,
    connected: HashSet<SignalWatch>,
    clock: f64,
    seed: u64,
    /// How often an operator ran (to see that hits do not call it).
    calls: u64,
    /// How often a property was read again for a check.
    rereads: u64,
}

const ROOT: NodeId = 1;

impl Fake {
    fn new(capacity: usize) -> Fake {
        let mut fake = Fake {
            cache: Rc::new(RefCell::new(ExpressionCache::new(1000, capacity))),
            nodes: HashMap::new(),
            next: ROOT,
            connected: HashSet::new(),
            clock: 0.0,
            seed: 0x9E37_79B9_7F4A_7C15,
            calls: 0,
            rereads: 0,
        };
        fake.add(None, "root");
        fake
    }

    fn add(&mut self, parent: Option<NodeId>, name: &str) -> NodeId {
        let id = self.next;
        self.next += 1;
        let mut props = HashMap::new();
        props.insert("hp".to_owned(), Value::Int(100));
        props.insert("ammo".to_owned(), Value::Int(10));
        props.insert("name".to_owned(), Value::from(name));
        self.nodes.insert(
            id,
            FakeNode {
                name: name.to_owned(),
                parent,
                children: Vec::new(),
                props,
                signalled: ["hp".to_owned()].into(),
                position: Position {
                    dims: 2,
                    at: [0.0; 3],
                },
            },
        );
        if let Some(p) = parent {
            self.nodes.get_mut(&p).unwrap().children.push(id);
            self.cache.borrow_mut().node_added();
        }
        id
    }

    fn child(&self, node: NodeId, name: &str) -> Option<NodeId> {
        self.nodes[&node]
            .children
            .iter()
            .copied()
            .find(|c| self.nodes[c].name == name)
    }

    fn rename(&mut self, node: NodeId, name: &str) -> bool {
        let parent = self.nodes[&node].parent;
        if parent.is_some_and(|p| self.child(p, name).is_some()) {
            return false;
        }
        let n = self.nodes.get_mut(&node).unwrap();
        n.name = name.to_owned();
        n.props.insert("name".into(), Value::from(name));
        self.cache.borrow_mut().node_renamed(node);
        true
    }

    fn remove(&mut self, node: NodeId) {
        let children = self.nodes[&node].children.clone();
        for c in children {
            self.remove(c);
        }
        self.cache.borrow_mut().node_removed(node);
        let n = self.nodes.remove(&node).unwrap();
        if let Some(p) = n.parent {
            self.nodes
                .get_mut(&p)
                .unwrap()
                .children
                .retain(|c| *c != node);
        }
        // A freed node's connections go with it.
        self.connected.retain(|w| w.node != node);
    }

    fn set_prop(&mut self, node: NodeId, prop: &str, value: Value) {
        let n = self.nodes.get_mut(&node).unwrap();
        n.props.insert(prop.to_owned(), value);
        if n.signalled.contains(prop) {
            self.emit(node, &format!("{prop}_changed"));
        }
    }

    fn emit(&mut self, node: NodeId, signal: &str) {
        let watch = SignalWatch {
            node,
            signal: signal.into(),
        };
        if self.connected.contains(&watch) {
            self.cache.borrow_mut().signal(&watch);
        }
    }

    /// Makes and undoes the connections the cache asks for, as the engine side does.
    fn apply_watch_changes(&mut self) {
        let changes = self.cache.borrow_mut().take_watch_changes();
        for change in changes {
            match change {
                WatchChange::Connect(w) => {
                    if self.nodes.contains_key(&w.node) {
                        assert!(self.connected.insert(w), "connected twice");
                    }
                }
                WatchChange::Disconnect(w) => {
                    self.connected.remove(&w);
                }
            }
        }
    }

    fn compile(&self, source: &str) -> Result<Rc<Compiled>, SexpError> {
        self.cache
            .borrow_mut()
            .compile(source, &|name| matches!(name, "double" | "noisy"))
    }

    fn eval(&mut self, expr: &Rc<Compiled>, context: NodeId) -> Result<Value, SexpError> {
        let cache = self.cache.clone();
        let result = evaluate(&cache, expr, context, self);
        self.apply_watch_changes();
        result
    }

    fn fresh(&mut self, expr: &Rc<Compiled>, context: NodeId) -> Result<Value, SexpError> {
        let cache = self.cache.clone();
        evaluate_uncached(&cache, expr, context, self)
    }

    fn run(&mut self, source: &str, context: NodeId) -> Result<Value, SexpError> {
        let expr = self.compile(source)?;
        self.eval(&expr, context)
    }

    fn random(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }
}

impl World for Fake {
    fn resolve(&mut self, context: NodeId, path: &str) -> Result<Resolved, String> {
        let (mut at, rest) = match path.strip_prefix('/') {
            Some(rest) => (Some(ROOT), rest.strip_prefix("root").unwrap_or(rest)),
            None if context == 0 => return Err("no context node for a relative path".into()),
            None if !self.nodes.contains_key(&context) => {
                return Err("the context node was freed".into());
            }
            None => (Some(context), path),
        };
        let mut chain = vec![at.unwrap_or(ROOT)];
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            at = match (at, part) {
                (Some(n), "..") => self.nodes[&n].parent,
                (Some(n), name) => self.child(n, name),
                (None, _) => None,
            };
            if let Some(n) = at {
                chain.push(n);
            }
        }
        Ok(Resolved {
            node: at,
            chain: chain.into(),
            tracked: true,
        })
    }

    fn property(
        &mut self,
        node: NodeId,
        property: &str,
        on: Option<&str>,
    ) -> Result<(Value, Watch), String> {
        let n = &self.nodes[&node];
        let value = n
            .props
            .get(property)
            .cloned()
            .ok_or_else(|| format!("node '{}' has no property '{property}'", n.name))?;
        let changed = n
            .signalled
            .contains(property)
            .then(|| std::rc::Rc::from(format!("{property}_changed")));
        let watch = match (on.map(std::rc::Rc::from), changed) {
            (Some(signal), also) => Watch::Signals { signal, also },
            (None, Some(signal)) => Watch::Signals { signal, also: None },
            (None, None) => Watch::Check,
        };
        Ok((value, watch))
    }

    fn current(&mut self, node: NodeId, property: &Rc<str>) -> Option<Value> {
        self.rereads += 1;
        self.nodes.get(&node)?.props.get(&**property).cloned()
    }

    fn position(&mut self, node: NodeId) -> Result<Position, String> {
        Ok(self.nodes[&node].position)
    }

    fn var(&mut self, name: &str) -> Value {
        self.cache.borrow().var(name)
    }

    fn time(&mut self) -> f64 {
        self.clock += 1.0;
        self.clock
    }

    fn random(&mut self) -> f64 {
        (Fake::random(self) % 1000) as f64 / 1000.0
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Result<(Value, bool), String> {
        self.calls += 1;
        match (name, args) {
            ("double", [Value::Int(i)]) => Ok((Value::Int(i * 2), true)),
            ("double", [other]) => Err(format!("expected an int, got {}", other.type_name())),
            ("noisy", _) => Ok((Value::Int(self.calls as i64), false)),
            _ => Err("wrong arguments".into()),
        }
    }

    fn connect_watches(&mut self) {
        self.apply_watch_changes();
    }
}

/// What a set reported last, per member.
type Shown = Vec<Option<Result<Value, SexpError>>>;

/// Evaluates `set`, keeping what it reports in `shown`; the indexes reported.
fn evaluate_set(fake: &mut Fake, set: &mut ExpressionSet, shown: &mut Shown) -> Vec<usize> {
    let cache = fake.cache.clone();
    let mut reported = Vec::new();
    shown.resize(set.len(), None);
    set.evaluate(&cache, fake, &mut |i, _, result| {
        reported.push(i);
        shown[i] = Some(result.cloned().map_err(Clone::clone));
    });
    reported
}

fn error(source: &str) -> String {
    let fake = Fake::new(100);
    fake.compile(source).expect_err(source).to_string()
}

#[test]
fn compile_errors_name_the_operator_and_place() {
    assert_eq!(
        error("(frobnicate 1)"),
        "unknown operator 'frobnicate' at 1:2"
    );
    assert_eq!(error("(not 1 2)"), "'not' takes 1 argument, got 2 at 1:1");
    assert_eq!(error("(< 1)"), "'<' takes 2 arguments, got 1 at 1:1");
    assert_eq!(error("(+)"), "'+' takes at least 1 argument, got 0 at 1:1");
    assert_eq!(error("(if 1)"), "'if' takes 2 or 3 arguments, got 1 at 1:1");
    assert_eq!(
        error("(random 1)"),
        "'random' takes 0 or 2 arguments, got 1 at 1:1"
    );
    assert_eq!(error("(time 1)"), "'time' takes 0 arguments, got 1 at 1:1");
    assert_eq!(error("()"), "empty list: expected an operator at 1:1");
    // Deep nesting is refused rather than running the parser out of stack.
    let deep = format!("{}1{}", "(+ ".repeat(100_000), ")".repeat(100_000));
    assert!(
        error(&deep).contains("nested too deeply"),
        "{}",
        error(&deep)
    );
    let fine = format!("{}1{}", "(+ ".repeat(100), ")".repeat(100));
    assert!(lua_runtime_core::sexp::parse::parse(&fine).is_ok());
    assert_eq!(
        error("((a) 1)"),
        "expected an operator name at the start of a list at 1:2"
    );
    assert_eq!(
        error("(+ 1 score)"),
        "unknown symbol 'score' (read a variable with (var score)) at 1:6"
    );
    assert_eq!(error("(var 3)"), "'var' takes a variable name at 1:6");
    assert_eq!(
        error("(prop \"A\" \"hp\" :when \"x\")"),
        "expected ':on' followed by a signal name at 1:16"
    );
    assert_eq!(
        error(
            "(and (> (prop \"Player\" \"health\") 0)\n     (< (distance \"Player\" \"Goal\") 50)"
        ),
        "expected ')' at 2:39"
    );
}

#[test]
fn operators_compute_as_documented() {
    let mut fake = Fake::new(100);
    let player = fake.add(Some(ROOT), "Player");
    let goal = fake.add(Some(ROOT), "Goal");
    fake.nodes.get_mut(&goal).unwrap().position.at = [3.0, 4.0, 0.0];
    fake.set_prop(player, "hp", Value::Int(40));
    fake.cache.borrow_mut().set_var("score", Value::Int(7));
    let cases: &[(&str, Value)] = &[
        ("(+ 1 2 3)", Value::Int(6)),
        ("(+ 1 2.5)", Value::Float(3.5)),
        ("(- 5)", Value::Int(-5)),
        ("(- 10 3 2)", Value::Int(5)),
        ("(* 2 3.0)", Value::Float(6.0)),
        ("(/ 7 2)", Value::Int(3)),
        ("(/ 7.0 2)", Value::Float(3.5)),
        ("(mod 7 3)", Value::Int(1)),
        ("(mod -7 3)", Value::Int(-1)),
        ("(min 3 1.5 2)", Value::Float(1.5)),
        ("(max 3 1 2)", Value::Int(3)),
        ("(abs -4)", Value::Int(4)),
        ("(< 1 2)", Value::Bool(true)),
        ("(<= 2 2.0)", Value::Bool(true)),
        ("(> \"b\" \"a\")", Value::Bool(true)),
        ("(>= 1 2)", Value::Bool(false)),
        ("(= 1 1.0)", Value::Bool(true)),
        ("(!= \"a\" \"a\")", Value::Bool(false)),
        ("(= nil nil)", Value::Bool(true)),
        ("(and 1 \"x\" true)", Value::Bool(true)),
        ("(and 1 0 (/ 1 0))", Value::Bool(false)),
        ("(or 0 \"\" (not true) (> 2 1))", Value::Bool(true)),
        ("(or false (= 1 1) (/ 1 0))", Value::Bool(true)),
        ("(if (> 2 1) \"yes\" \"no\")", Value::from("yes")),
        ("(if false 1)", Value::Nil),
        ("(var score)", Value::Int(7)),
        ("(var \"score\")", Value::Int(7)),
        ("(var unset)", Value::Nil),
        ("(prop \"Player\" \"hp\")", Value::Int(40)),
        ("(prop \"/root/Player\" \"hp\")", Value::Int(40)),
        ("(has-node \"Goal\")", Value::Bool(true)),
        ("(has-node \"Nobody\")", Value::Bool(false)),
        ("(distance \"Player\" \"Goal\")", Value::Float(5.0)),
        ("(str 2.0)", Value::from("2.0")),
        (
            "(concat \"hp=\" (prop \"Player\" \"hp\") \" \" true)",
            Value::from("hp=40 true"),
        ),
        ("(double (var score))", Value::Int(14)),
    ];
    for (source, expected) in cases {
        let got = fake
            .run(source, ROOT)
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert!(
            got.identical(expected),
            "{source}: got {got:?}, expected {expected:?}"
        );
    }
    let r = fake.run("(random 1 3)", ROOT).unwrap();
    assert!(matches!(r, Value::Int(1..=3)), "{r:?}");
    // The width of the widest ranges does not fit an i64.
    for range in [
        "(random -1 9223372036854775807)",
        "(random -9223372036854775808 9223372036854775807)",
    ] {
        assert!(
            matches!(fake.run(range, ROOT), Ok(Value::Int(_))),
            "{range}"
        );
    }
    assert!(matches!(fake.run("(time)", ROOT).unwrap(), Value::Float(_)));
}

#[test]
fn runtime_errors_say_what_was_wrong_and_where() {
    let mut fake = Fake::new(100);
    fake.add(Some(ROOT), "Player");
    let cases = [
        ("(+ 1 \"a\")", "'+' expects numbers, got string at 1:1"),
        ("(/ 1 0)", "division by zero at 1:1"),
        ("(mod 1 0)", "division by zero at 1:1"),
        (
            "(< 1 true)",
            "'<' compares two numbers or two strings, got int and bool at 1:1",
        ),
        ("(prop \"Nobody\" \"hp\")", "no node at 'Nobody' at 1:1"),
        (
            "(prop \"Player\" \"armour\")",
            "node 'Player' has no property 'armour' at 1:1",
        ),
        (
            "(prop 3 \"hp\")",
            "'prop' expects a node path (a string), got int at 1:1",
        ),
        (
            "(random 1.5 2)",
            "'random' takes two integers, got float and int at 1:1",
        ),
        (
            "(+ 1 (double \"x\"))",
            "'double': expected an int, got string at 1:6",
        ),
        ("(* 9223372036854775807 2)", "integer overflow at 1:1"),
    ];
    for (source, message) in cases {
        let err = fake.run(source, ROOT).expect_err(source);
        assert!(matches!(err, SexpError::Eval { .. }), "{source}");
        assert_eq!(err.to_string(), message, "{source}");
    }
    assert_eq!(
        fake.run("(has-node \"Player\")", 0)
            .unwrap_err()
            .to_string(),
        "no context node for a relative path at 1:1"
    );
}

#[test]
fn results_are_cached_until_an_input_changes() {
    let mut fake = Fake::new(100);
    let player = fake.add(Some(ROOT), "Player");
    let expr = fake.compile("(double (prop \"Player\" \"hp\"))").unwrap();
    assert!(fake.eval(&expr, ROOT).unwrap().identical(&Value::Int(200)));
    let calls = fake.calls;
    for _ in 0..5 {
        fake.eval(&expr, ROOT).unwrap();
    }
    assert_eq!(fake.calls, calls, "hits do not run the expression");
    fake.set_prop(player, "hp", Value::Int(7));
    assert!(fake.eval(&expr, ROOT).unwrap().identical(&Value::Int(14)));
    let stats = fake.cache.borrow().stats();
    assert_eq!((stats.hits, stats.misses, stats.invalidations), (5, 2, 1));
    assert_eq!(stats.connections, 1, "one signal connected: hp_changed");
}

#[test]
fn each_input_kind_invalidates() {
    let mut fake = Fake::new(100);
    let player = fake.add(Some(ROOT), "Player");
    let probe = |fake: &mut Fake, source: &str| {
        let expr = fake.compile(source).unwrap();
        fake.eval(&expr, ROOT).ok()
    };
    // A variable.
    probe(&mut fake, "(var alarm)");
    fake.cache.borrow_mut().set_var("alarm", Value::Int(1));
    assert_eq!(probe(&mut fake, "(var alarm)"), Some(Value::Int(1)));
    // Setting the same value again drops nothing.
    let before = fake.cache.borrow().stats().invalidations;
    fake.cache.borrow_mut().set_var("alarm", Value::Int(1));
    assert_eq!(fake.cache.borrow().stats().invalidations, before);
    // A property without a signal: checked at the next evaluation.
    assert_eq!(
        probe(&mut fake, "(prop \"Player\" \"ammo\")"),
        Some(Value::Int(10))
    );
    fake.set_prop(player, "ammo", Value::Int(3));
    assert_eq!(
        probe(&mut fake, "(prop \"Player\" \"ammo\")"),
        Some(Value::Int(3))
    );
    // A signal named in the expression.
    let hit = "(prop \"Player\" \"ammo\" :on \"hit\")";
    assert_eq!(probe(&mut fake, hit), Some(Value::Int(3)));
    fake.nodes
        .get_mut(&player)
        .unwrap()
        .props
        .insert("ammo".into(), Value::Int(1));
    assert_eq!(
        probe(&mut fake, hit),
        Some(Value::Int(3)),
        "trusted until `hit`"
    );
    fake.emit(player, "hit");
    assert_eq!(probe(&mut fake, hit), Some(Value::Int(1)));
    // Positions are checked.
    fake.add(Some(ROOT), "Goal");
    assert_eq!(
        probe(&mut fake, "(distance \"Player\" \"Goal\")"),
        Some(Value::Float(0.0))
    );
    fake.nodes.get_mut(&player).unwrap().position.at = [0.0, 2.0, 0.0];
    assert_eq!(
        probe(&mut fake, "(distance \"Player\" \"Goal\")"),
        Some(Value::Float(2.0))
    );
    // Renames, removals and additions change where paths lead.
    assert_eq!(
        probe(&mut fake, "(has-node \"Hero\")"),
        Some(Value::Bool(false))
    );
    assert!(fake.rename(player, "Hero"));
    assert_eq!(
        probe(&mut fake, "(has-node \"Hero\")"),
        Some(Value::Bool(true))
    );
    assert_eq!(
        probe(&mut fake, "(has-node \"Player\")"),
        Some(Value::Bool(false))
    );
    fake.remove(player);
    assert_eq!(
        probe(&mut fake, "(has-node \"Hero\")"),
        Some(Value::Bool(false))
    );
    fake.add(Some(ROOT), "Player");
    assert_eq!(
        probe(&mut fake, "(has-node \"Player\")"),
        Some(Value::Bool(true))
    );
    // A redefined operator.
    assert_eq!(probe(&mut fake, "(double 2)"), Some(Value::Int(4)));
    let calls = fake.calls;
    probe(&mut fake, "(double 2)");
    assert_eq!(fake.calls, calls);
    fake.cache.borrow_mut().operator_defined("double");
    probe(&mut fake, "(double 2)");
    assert_eq!(fake.calls, calls + 1);
}

#[test]
fn volatile_expressions_are_never_cached_and_hinted() {
    let mut fake = Fake::new(100);
    let expr = fake.compile("(> (time) 0)").unwrap();
    let noisy = fake.compile("(+ (noisy) 0)").unwrap();
    let mut last = Value::Nil;
    for _ in 0..HINT_AFTER {
        fake.eval(&expr, ROOT).unwrap();
        let v = fake.eval(&noisy, ROOT).unwrap();
        assert!(!v.identical(&last), "an impure operator runs each time");
        last = v;
    }
    let stats = fake.cache.borrow().stats();
    assert_eq!(stats.hits, 0);
    assert_eq!(stats.entries, 0);
    assert!(
        stats
            .hints
            .contains(&"(> (time) 0): reads 'time', volatile: computed on every evaluation".into()),
        "{:?}",
        stats.hints
    );
    assert!(
        stats
            .hints
            .iter()
            .any(|h| h.contains("calls 'noisy', which is not pure")),
        "{:?}",
        stats.hints
    );
}

#[test]
fn a_value_changing_on_every_evaluation_is_hinted() {
    let mut fake = Fake::new(100);
    let mover = fake.add(Some(ROOT), "Mover");
    fake.add(Some(ROOT), "Goal");
    let expr = fake
        .compile("(< (distance \"Mover\" \"Goal\") 50)")
        .unwrap();
    for i in 0..HINT_AFTER * 2 {
        fake.nodes.get_mut(&mover).unwrap().position.at = [i as f64, 0.0, 0.0];
        fake.eval(&expr, ROOT).unwrap();
    }
    let stats = fake.cache.borrow().stats();
    assert_eq!(
        stats.top[0].hint,
        "(< (distance \"Mover\" \"Goal\") 50): Mover.global_position changes on 98% of \
         evaluations, so caching does not pay"
    );
}

#[test]
fn hints_name_a_signal_or_a_variable_that_changes_every_time() {
    let mut fake = Fake::new(100);
    let player = fake.add(Some(ROOT), "Player");
    let by_signal = fake.compile("(prop \"Player\" \"hp\")").unwrap();
    let by_var = fake.compile("(+ (var wave) 1)").unwrap();
    for i in 0..HINT_AFTER * 2 {
        let i = i64::try_from(i).unwrap();
        fake.set_prop(player, "hp", Value::Int(i));
        fake.cache.borrow_mut().set_var("wave", Value::Int(i));
        fake.eval(&by_signal, ROOT).unwrap();
        fake.eval(&by_var, ROOT).unwrap();
    }
    let hints = fake.cache.borrow().stats().hints;
    assert!(
        hints.contains(
            &"(prop \"Player\" \"hp\"): Player.hp changes (hp_changed) on 98% of evaluations, \
              so caching does not pay"
                .to_owned()
        ),
        "{hints:?}"
    );
    assert!(
        hints.contains(
            &"(+ (var wave) 1): var 'wave' changes on 98% of evaluations, so caching does not pay"
                .to_owned()
        ),
        "{hints:?}"
    );
}

#[test]
fn the_bound_evicts_results_and_releases_their_connections() {
    let mut fake = Fake::new(8);
    let mut nodes = Vec::new();
    for i in 0..20 {
        nodes.push(fake.add(Some(ROOT), &format!("N{i}")));
    }
    for i in 0..20 {
        fake.run(&format!("(prop \"N{i}\" \"hp\")"), ROOT).unwrap();
        let cache = fake.cache.borrow();
        assert!(cache.len() <= 8);
        assert_eq!(
            cache.connections(),
            cache.len(),
            "one connection per result"
        );
    }
    assert_eq!(fake.connected.len(), 8, "evicted results disconnected");
    assert_eq!(fake.cache.borrow().stats().evictions, 12);
    fake.cache.borrow_mut().clear();
    fake.apply_watch_changes();
    assert!(fake.connected.is_empty(), "clearing disconnects everything");
}

#[test]
fn a_set_visits_only_members_whose_inputs_changed() {
    let mut fake = Fake::new(100);
    let a = fake.add(Some(ROOT), "A");
    fake.cache.borrow_mut().set_var("a", Value::Int(1));
    let mut set = ExpressionSet::new();
    for source in [
        "(> (prop \"A\" \"hp\") 50)",
        "(< (prop \"A\" \"ammo\") 5)",
        "(> (prop \"A\" \"ammo\") 5)",
        "(double (var a))",
        "(> (time) 0)",
        "(prop \"Missing\" \"hp\")",
    ] {
        let expr = fake.compile(source).unwrap();
        set.add(expr, ROOT);
    }
    let mut shown = Shown::new();
    assert_eq!(
        evaluate_set(&mut fake, &mut set, &mut shown),
        [0, 1, 2, 3, 4, 5]
    );
    assert!(matches!(&shown[5], Some(Err(e)) if e.to_string().contains("Missing")));
    let (calls, rereads) = (fake.calls, fake.rereads);
    let before = fake.cache.borrow().stats();

    // Nothing changed: only the failing member is reported again.
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [5]);
    assert_eq!(fake.calls, calls, "no operator ran again");
    assert_eq!(
        fake.rereads,
        rereads + 1,
        "ammo is read once for both members"
    );
    let after = fake.cache.borrow().stats();
    assert_eq!(after.hits - before.hits, 4, "four answered from the set");
    assert_eq!(
        after.evaluations - before.evaluations,
        6,
        "every member counted"
    );

    fake.set_prop(a, "ammo", Value::Int(3));
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [1, 2, 5]);
    assert!(matches!(shown[1], Some(Ok(Value::Bool(true)))));
    assert!(matches!(shown[2], Some(Ok(Value::Bool(false)))));
    fake.cache.borrow_mut().set_var("a", Value::Int(5));
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [3, 5]);
    assert!(matches!(shown[3], Some(Ok(Value::Int(10)))));
    fake.set_prop(a, "hp", Value::Int(10));
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [0, 5]);
    assert!(matches!(shown[0], Some(Ok(Value::Bool(false)))));

    // Emptied caches (clear_caches) and evictions: every member is looked at again.
    fake.cache.borrow_mut().clear();
    fake.apply_watch_changes();
    fake.set_prop(a, "hp", Value::Int(70));
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [0, 5]);
    assert!(matches!(shown[0], Some(Ok(Value::Bool(true)))));
    fake.cache.borrow_mut().set_capacity(1);
    fake.apply_watch_changes();
    fake.set_prop(a, "hp", Value::Int(20));
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [0, 5]);
    assert!(matches!(shown[0], Some(Ok(Value::Bool(false)))));
}

#[test]
fn shared_signals_stay_connected_while_any_result_needs_them() {
    let mut fake = Fake::new(100);
    let player = fake.add(Some(ROOT), "Player");
    let a = fake.compile("(> (prop \"Player\" \"hp\") 0)").unwrap();
    let b = fake.compile("(< (prop \"Player\" \"hp\") 50)").unwrap();
    fake.eval(&a, ROOT).unwrap();
    fake.eval(&b, ROOT).unwrap();
    assert_eq!(fake.connected.len(), 1);
    for hp in [10, 60, 0, 30] {
        fake.set_prop(player, "hp", Value::Int(hp));
        assert!(fake.eval(&a, ROOT).unwrap().identical(&Value::Bool(hp > 0)));
        assert!(
            fake.eval(&b, ROOT)
                .unwrap()
                .identical(&Value::Bool(hp < 50))
        );
        assert_eq!(fake.connected.len(), 1);
    }
}

/// Random edits of every kind; after each, every cached result equals a fresh evaluation.
#[test]
fn differential_cached_results_are_never_stale() {
    const STEPS: usize = 10_000;
    let names = ["A", "B", "C", "D", "E", "Sub", "X"];
    let sources = [
        "(> (prop \"A\" \"hp\") 50)",
        "(+ (var a) (prop \"B\" \"ammo\"))",
        "(if (has-node \"C\") (prop \"C\" \"hp\") -1)",
        "(< (distance \"A\" \"B\") 10)",
        "(and (> (var b) 0) (prop \"D/Sub\" \"hp\"))",
        "(or (= (var a) 3) (has-node \"E/Sub\"))",
        "(concat (prop \"A\" \"name\") \":\" (str (var c)))",
        "(double (var c))",
        "(prop \"../B\" \"hp\")",
        "(has-node \"/root/X\")",
        "(max (prop \"/root/A\" \"ammo\") (prop \"/root/C\" \"ammo\"))",
        "(if (> (var a) 2) (prop \"E\" \"hp\" :on \"hit\") (var b))",
        "(prop \"Sub\" \"ammo\")",
    ];
    let mut fake = Fake::new(64);
    let mut exprs = Vec::new();
    for s in sources {
        exprs.push(fake.compile(s).unwrap());
    }
    let mut first = Vec::new();
    for name in names.iter().take(5) {
        let n = fake.add(Some(ROOT), name);
        first.push(n);
        fake.add(Some(n), "Sub");
    }
    // The same expressions in a set, in the root and in nodes that may go away.
    let mut set = ExpressionSet::new();
    let mut members = Vec::new();
    for expr in &exprs {
        for &context in [ROOT].iter().chain(&first[..3]) {
            set.add(expr.clone(), context);
            members.push((expr.clone(), context));
        }
    }
    // Members added more than once share a cache key: a stale key must reach them all.
    for expr in exprs.iter().take(4).chain(&exprs[..1]) {
        set.add(expr.clone(), ROOT);
        members.push((expr.clone(), ROOT));
    }
    let mut shown = Shown::new();
    for step in 0..STEPS {
        let nodes: Vec<NodeId> = fake.nodes.keys().copied().filter(|n| *n != ROOT).collect();
        let pick = fake.random() as usize;
        let node = (!nodes.is_empty()).then(|| nodes[pick % nodes.len()]);
        let r = fake.random();
        let value = Value::Int((r % 5) as i64 * 30);
        match (fake.random() % 10, node) {
            (0, Some(n)) => fake.set_prop(n, "hp", value),
            (1, Some(n)) => fake.set_prop(n, "ammo", value),
            (2, Some(n)) => fake.nodes.get_mut(&n).unwrap().position.at[0] = (r % 20) as f64,
            (3, _) => {
                let var = ["a", "b", "c"][(r % 3) as usize];
                fake.cache
                    .borrow_mut()
                    .set_var(var, Value::Int((r % 5) as i64));
            }
            (4, Some(n)) => {
                fake.rename(n, names[(r % names.len() as u64) as usize]);
            }
            (5, Some(n)) if nodes.len() > 4 => fake.remove(n),
            (6, _) => {
                let parent = node.filter(|_| r.is_multiple_of(3)).unwrap_or(ROOT);
                let name = names[(r % names.len() as u64) as usize];
                if fake.child(parent, name).is_none() {
                    fake.add(Some(parent), name);
                }
            }
            (7, Some(n)) => {
                // A `hit` that changes ammo, or a bare emit.
                if r.is_multiple_of(2) {
                    fake.nodes
                        .get_mut(&n)
                        .unwrap()
                        .props
                        .insert("hp".into(), value);
                }
                fake.emit(n, "hit");
                fake.emit(n, "hp_changed");
            }
            _ => {}
        }
        let contexts: Vec<NodeId> = [ROOT]
            .into_iter()
            .chain(node.filter(|n| fake.nodes.contains_key(n)))
            .collect();
        for expr in &exprs {
            for &context in &contexts {
                let cached = fake.eval(expr, context);
                let fresh = fake.fresh(expr, context);
                let same = match (&cached, &fresh) {
                    (Ok(a), Ok(b)) => a.identical(b),
                    (Err(a), Err(b)) => a == b,
                    _ => false,
                };
                assert!(
                    same,
                    "step {step}: {} in {context}: cached {cached:?}, fresh {fresh:?}",
                    expr.source
                );
            }
        }
        evaluate_set(&mut fake, &mut set, &mut shown);
        for (i, (expr, context)) in members.iter().enumerate() {
            let fresh = fake.fresh(expr, *context);
            let same = match (&shown[i], &fresh) {
                (Some(Ok(a)), Ok(b)) => a.identical(b),
                (Some(Err(a)), Err(b)) => a == b,
                _ => false,
            };
            assert!(
                same,
                "step {step}: set member {i}, {} in {context}: set {:?}, fresh {fresh:?}",
                expr.source, shown[i]
            );
        }
    }
    let stats = fake.cache.borrow().stats();
    assert!(
        stats.hits * 3 > stats.evaluations - stats.uncached,
        "the cache answered too little to test it: {stats:?}"
    );
    // Hidden `hit` edits of hp are only told by `hit`, which the expression trusts.
    assert!(stats.invalidations > 1000, "{stats:?}");
}

#[test]
fn a_set_counts_the_members_it_does_not_look_at() {
    let mut fake = Fake::new(100);
    let a = fake.add(Some(ROOT), "A");
    fake.cache.borrow_mut().set_var("a", Value::Int(1));
    let mut set = ExpressionSet::new();
    for source in ["(double (var a))", "(< (prop \"A\" \"ammo\") 5)"] {
        set.add(fake.compile(source).unwrap(), ROOT);
    }
    let mut shown = Shown::new();
    let counts = |fake: &Fake, source: &str| {
        let stats = fake.cache.borrow().stats();
        let n = stats.top.iter().find(|c| c.source == source).unwrap();
        (n.evaluations, n.hits, n.misses)
    };
    for _ in 0..10 {
        evaluate_set(&mut fake, &mut set, &mut shown);
    }
    assert_eq!(counts(&fake, "(double (var a))"), (10, 9, 1));
    assert_eq!(counts(&fake, "(< (prop \"A\" \"ammo\") 5)"), (10, 9, 1));
    let before = fake.rereads;
    evaluate_set(&mut fake, &mut set, &mut shown);
    assert_eq!(
        fake.rereads,
        before + 1,
        "the checked value is read each time"
    );

    fake.cache.borrow_mut().set_var("a", Value::Int(2));
    fake.set_prop(a, "ammo", Value::Int(3));
    assert_eq!(evaluate_set(&mut fake, &mut set, &mut shown), [0, 1]);
    assert!(matches!(shown[0], Some(Ok(Value::Int(4)))));
    assert!(matches!(shown[1], Some(Ok(Value::Bool(true)))));
    assert_eq!(counts(&fake, "(double (var a))"), (12, 10, 2));
    assert_eq!(counts(&fake, "(< (prop \"A\" \"ammo\") 5)"), (12, 10, 2));
    let totals = fake.cache.borrow().stats();
    assert_eq!(
        (totals.evaluations, totals.hits),
        (24, 20),
        "the totals agree"
    );

    // Counted when the set goes, too.
    for _ in 0..3 {
        evaluate_set(&mut fake, &mut set, &mut shown);
    }
    drop(set);
    assert_eq!(counts(&fake, "(double (var a))"), (15, 13, 2));
}
