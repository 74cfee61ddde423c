//! Callbacks on runner coroutines and `await`, without an engine: the waiter here parks the
//! coroutine in a list, and the test resumes it as a signal would.

use std::cell::RefCell;
use std::rc::Rc;

use lua_runtime_core::LuaHost;
use lua_runtime_core::host::tasks::{Outcome, Parked, Tasks};
use mlua::{Function, Lua, MultiValue, Thread, Value};

/// A host whose `await(x)` parks the coroutine in `parked` (and refuses `"bad"`).
fn setup() -> (LuaHost, Rc<Tasks>, Rc<RefCell<Vec<Parked>>>) {
    let host = LuaHost::new().expect("lua");
    let lua = host.lua().clone();
    let parked: Rc<RefCell<Vec<Parked>>> = Rc::default();
    let tasks_slot: Rc<RefCell<Option<Rc<Tasks>>>> = Rc::default();
    let (slot, list) = (tasks_slot.clone(), parked.clone());
    let waiter = lua
        .create_function(move |lua, (thread, what): (Thread, Value)| {
            if matches!(&what, Value::String(s) if s.to_string_lossy() == "bad") {
                return Ok((false, Some("cannot wait for that".to_owned())));
            }
            let tasks = slot.borrow().clone().expect("tasks");
            list.borrow_mut().push(tasks.park(lua, thread)?);
            Ok((true, None))
        })
        .expect("waiter");
    let tasks = Rc::new(Tasks::install(&lua, waiter).expect("tasks"));
    *tasks_slot.borrow_mut() = Some(tasks.clone());
    (host, tasks, parked)
}

fn function(lua: &Lua, code: &str) -> Function {
    lua.load(code).eval().expect("function")
}

fn returned(outcome: Outcome) -> MultiValue {
    match outcome {
        Outcome::Returned(values) => values,
        Outcome::Waiting => panic!("expected a return"),
    }
}

#[test]
fn a_callback_returns_its_values_and_its_runner_is_reused() {
    let (host, tasks, _) = setup();
    let lua = host.lua();
    let add = function(lua, "return function(a, b) return a + b, 'done' end");
    for i in 0..100 {
        let values = returned(tasks.call(lua, &add, (i, 1)).expect("call"));
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].as_i64(), Some(i + 1));
    }
    let stats = tasks.stats();
    assert_eq!(stats.started, 100);
    assert_eq!(stats.runners, 1, "one runner served every call");
    assert_eq!(stats.idle_runners, 1);
}

#[test]
fn await_suspends_and_resume_continues_with_the_values() {
    let (host, tasks, parked) = setup();
    let lua = host.lua();
    lua.load("log = {}").exec().expect("log");
    let callback = function(
        lua,
        "return function(x) log[#log+1] = 'before ' .. x; local a, b = await('signal'); log[#log+1] = 'after ' .. a .. b end",
    );
    assert!(matches!(
        tasks.call(lua, &callback, 1).expect("call"),
        Outcome::Waiting
    ));
    assert_eq!(tasks.stats().waiting, 1);
    // Another callback meanwhile gets a fresh runner.
    let other = function(lua, "return function() return 7 end");
    assert_eq!(
        returned(tasks.call(lua, &other, ()).expect("other"))[0].as_i64(),
        Some(7)
    );
    let p = parked.borrow_mut().pop().expect("parked");
    returned(tasks.resume(lua, p, ("x", "y")).expect("resume"));
    let log: String = lua.load("table.concat(log, ', ')").eval().expect("log");
    assert_eq!(log, "before 1, after xy");
    let stats = tasks.stats();
    assert_eq!((stats.waiting, stats.resumed, stats.dropped), (0, 1, 0));
    assert_eq!(stats.idle_runners, 2, "both runners are back in the pool");
}

#[test]
fn a_dropped_waiter_abandons_the_coroutine() {
    let (host, tasks, parked) = setup();
    let lua = host.lua();
    lua.load("reached = false").exec().expect("init");
    let callback = function(lua, "return function() await('x'); reached = true end");
    assert!(matches!(
        tasks.call(lua, &callback, ()).expect("call"),
        Outcome::Waiting
    ));
    parked.borrow_mut().clear();
    lua.gc_collect().expect("gc");
    let stats = tasks.stats();
    assert_eq!((stats.waiting, stats.dropped), (0, 1));
    assert!(!lua.load("reached").eval::<bool>().expect("reached"));
    // The pool still works afterwards.
    let ok = function(lua, "return function() return 'ok' end");
    assert_eq!(
        returned(tasks.call(lua, &ok, ()).expect("call"))[0]
            .to_string()
            .expect("s"),
        "ok"
    );
}

#[test]
fn errors_keep_their_location_and_do_not_break_the_pool() {
    let (host, tasks, parked) = setup();
    let lua = host.lua();
    let failing = lua
        .load("return function() error('boom') end")
        .set_name("@res://fail.lua")
        .eval::<Function>()
        .expect("f");
    let err = tasks.call(lua, &failing, ()).err().expect("an error");
    assert!(err.to_string().contains("res://fail.lua:1: boom"), "{err}");
    let after_wait = lua
        .load("return function() await('x'); error('late') end")
        .set_name("@res://late.lua")
        .eval::<Function>()
        .expect("f");
    assert!(matches!(
        tasks.call(lua, &after_wait, ()).expect("call"),
        Outcome::Waiting
    ));
    let p = parked.borrow_mut().pop().expect("parked");
    let err = tasks
        .resume(lua, p, ())
        .err()
        .expect("an error after resuming");
    assert!(err.to_string().contains("res://late.lua:1: late"), "{err}");
    let bad = function(lua, "return function() await('bad') end");
    let err = tasks.call(lua, &bad, ()).err().expect("refused");
    assert!(err.to_string().contains("cannot wait for that"), "{err}");
    let fine = function(lua, "return function() return 1 end");
    assert!(tasks.call(lua, &fine, ()).is_ok());
}

#[test]
fn await_outside_a_coroutine_and_plain_yields_are_errors() {
    let (host, tasks, _) = setup();
    let lua = host.lua();
    let err = lua.load("await('x')").exec().expect_err("an error");
    assert!(
        err.to_string()
            .contains("await() must be called inside a callback or a coroutine"),
        "{err}"
    );
    let yielding = function(lua, "return function() coroutine.yield(1) end");
    let err = tasks.call(lua, &yielding, ()).err().expect("an error");
    assert!(
        err.to_string().contains("callbacks wait with await()"),
        "{err}"
    );
}

#[test]
fn await_in_a_script_coroutine_resumes_that_coroutine() {
    let (host, tasks, parked) = setup();
    let lua = host.lua();
    lua.load("out = nil; coroutine.wrap(function() out = await('x') end)()")
        .exec()
        .expect("wrap");
    assert_eq!(tasks.stats().waiting, 1);
    let p = parked.borrow_mut().pop().expect("parked");
    returned(tasks.resume(lua, p, 42).expect("resume"));
    assert_eq!(lua.load("out").eval::<i64>().expect("out"), 42);
}

#[test]
fn an_idle_runner_keeps_neither_the_function_it_ran_nor_its_arguments() {
    let (host, tasks, _) = setup();
    let lua = host.lua();
    // Enough calls first for LuaJIT to compile what it can of the runner.
    let small = function(lua, "return function(a, b) return a end");
    for i in 0..5000 {
        returned(tasks.call(lua, &small, (i, 2)).expect("call"));
    }
    host.collect_garbage().expect("gc");
    let base = host.memory_bytes();
    {
        // About 4 MiB reachable only from the function and its argument.
        let big = function(
            lua,
            "local t = {} for i = 1, 100000 do t[i] = { i } end \
             return function(arg) return #t + #arg end",
        );
        let arg = lua
            .load("local a = {} for i = 1, 100000 do a[i] = { i } end return a")
            .eval::<mlua::Table>()
            .expect("arg");
        returned(tasks.call(lua, &big, arg).expect("call"));
    }
    host.collect_garbage().expect("gc");
    host.collect_garbage().expect("gc");
    let kept = host.memory_bytes().saturating_sub(base);
    assert!(kept < 100_000, "the idle runner kept {kept} bytes");
}
