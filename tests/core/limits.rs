//! The limits a script cannot get past: the time budget (also inside loops LuaJIT compiled to
//! machine code), the heap cap, and the instrumentation the budget relies on.

use std::time::{Duration, Instant};

use lua_runtime_core::host::instrument::{TICK, insert_ticks, wrap};
use lua_runtime_core::{Error, LuaHost};

fn host_with_budget(ms: u64) -> LuaHost {
    let host = LuaHost::new().expect("Lua state");
    host.budget().set_limit(Some(Duration::from_millis(ms)));
    host
}

fn run(host: &LuaHost, path: &str, source: &str) -> Result<mlua::Table, Error> {
    host.load_module(path, source)
}

#[test]
fn ticks_go_into_loops_calling_functions_and_gotos_only() {
    let source = "for i = 1, 2 do end while x do end repeat until y \
                  local f = function(a, b) return g(a) end goto out ::out::";
    let out = insert_ticks(source).expect("instrumented");
    assert_eq!(out.matches(TICK).count(), 5, "{out}");
    assert!(out.contains(&format!("function(a, b) {TICK}();")), "{out}");
    assert!(out.contains(&format!("{TICK}(); goto out")), "{out}");
}

#[test]
fn functions_that_call_nothing_pay_nothing_on_entry() {
    for (source, ticks) in [
        (
            "local function leaf(n) n.x = n.x + n.vx * 2 return n[1] end",
            0,
        ),
        ("local function f(n) if n then return -n end end", 0),
        ("local function f(n) return f(n) end", 1),
        ("local function f(n) return n:m() end", 1),
        ("local function f(n) return n.g 'x' end", 1),
        ("local function f(n) return n.g { 1 } end", 1),
        ("local function f(t) return t[1](2) end", 1),
        ("local function f(t) return (t)() end", 1),
        // The outer calls (through `g`); the inner does not; the loop ticks.
        (
            "local function f() local function g(x) return x end for i = 1, 2 do end return g(1) end",
            2,
        ),
        // Unclosed: keeps its tick for the compiler to complain about.
        ("local function f(n)", 1),
    ] {
        let out = insert_ticks(source).expect("instrumented");
        assert_eq!(out.matches(TICK).count(), ticks, "{source} -> {out}");
    }
}

#[test]
fn strings_and_comments_are_left_alone() {
    let source = "local s = 'do' .. \"repeat\\\" do\" .. [[ do ]] .. [==[ while do ]] ]==]\n\
                  -- do repeat\n--[[ do\n function() ]] --[=[ do ]=]\nreturn s";
    assert_eq!(insert_ticks(source).expect("instrumented"), source);
}

#[test]
fn lines_stay_where_they_were() {
    let source = "local t = {}\nfor i = 1, 3 do\n  t[i] = function(x)\n    return x\n  end\nend\n\
                  error('here')";
    let wrapped = wrap(source).expect("instrumented");
    let host = LuaHost::new().expect("Lua state");
    let err = run(&host, "res://lines.lua", source).expect_err("raises");
    assert_eq!(err.line(), Some(7), "{err}");
    // Only the closing line is added, after the script.
    assert_eq!(wrapped.lines().count(), source.lines().count() + 1);
}

/// Found by the `instrument` fuzz target: LuaJIT reserves `goto` only as a statement, so it
/// can name a variable, and a tick put before it broke the script.
/// Lua ends a short comment at `\r` as at `\n`: code after it must get its ticks, or a file
/// with `\r` line breaks would loop past the budget.
#[test]
fn a_comment_ends_at_a_carriage_return() {
    let source = "-- spins\rwhile true do end\rreturn {}";
    // Checked first, so that a regression fails here instead of spinning for ever below.
    assert!(insert_ticks(source).expect("instrumented").contains(TICK));
    let host = host_with_budget(50);
    let started = Instant::now();
    let err = run(&host, "res://cr.lua", source).expect_err("stopped");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("ran longer"), "{err}");
    assert_eq!(err.line(), Some(2), "{err}");
}

#[test]
fn goto_as_a_name_is_left_alone() {
    for source in [
        "local goto = { elapsed = 2 }\nif goto.elapsed > 1 then return goto end",
        "local x = goto\nfoo()",
        // Found by the fuzz target: a method named goto, followed by a name.
        "local t = {}\nt:goto\nx()",
    ] {
        assert!(
            !insert_ticks(source).expect("instrumented").contains(TICK),
            "{source}"
        );
    }
    assert!(
        insert_ticks("do goto out end ::out::")
            .expect("instrumented")
            .contains(&format!("{TICK}(); goto out"))
    );
    // Found by the fuzz target: LuaJIT reads `goto goto` as a jump to a label named goto; one
    // tick, before the statement.
    let out = insert_ticks("goto goto i").expect("instrumented");
    assert_eq!(out.matches(TICK).count(), 1, "{out}");
    assert!(out.contains(&format!("{TICK}(); goto goto i")), "{out}");
}

/// Found by the `instrument` fuzz target: LuaJIT skips a first line starting with `#`, and the
/// wrapper put code in front of it. (Lua 5.4 skips it only in files it opens itself, so there
/// such a script does not load, instrumented or not.)
#[cfg(feature = "luajit")]
#[test]
fn a_first_line_starting_with_hash_is_skipped_as_lua_skips_it() {
    let host = LuaHost::new().expect("Lua state");
    let module = run(
        &host,
        "res://shebang.lua",
        "#!/usr/bin/env luajit\nlocal M = { n = 0 }\nfor i = 1, 3 do M.n = M.n + i end\nreturn M",
    )
    .expect("loads");
    assert_eq!(module.get::<i64>("n").expect("n"), 6);
    // Any line break Lua knows ends the first line: `\n`, `\r`, and the pairs (one break).
    for source in [
        "#\0\nerror('line 2')",
        "#\rerror('line 2')",
        "#\r\nerror('line 2')",
        "#\n\rerror('line 2')",
        "#\n\r\nerror('line 3')",
    ] {
        let err = run(&host, "res://shebang_error.lua", source).expect_err("raises");
        let expected = if source.contains("line 3") { 3 } else { 2 };
        assert_eq!(err.line(), Some(expected), "{source:?}: {err}");
    }
    assert!(
        run(&host, "res://only.lua", "# nothing else").is_err(),
        "returns no table"
    );
}

#[test]
fn a_script_cannot_name_the_tick() {
    let host = LuaHost::new().expect("Lua state");
    let source = format!("local x = 1\nlocal {TICK} = function() end\nreturn {{}}");
    let err = run(&host, "res://sneaky.lua", &source).expect_err("refused");
    assert_eq!(err.line(), Some(2));
    assert!(err.to_string().contains("reserved"), "{err}");
    // Nor through load().
    let result = host
        .eval(&format!("select(2, load('local {TICK} = 1'))"))
        .expect("eval");
    let message = format!("{:?}", result.into_iter().next());
    assert!(message.contains("reserved"), "{message}");
}

#[test]
fn scripts_still_see_their_own_varargs() {
    let host = LuaHost::new().expect("Lua state");
    let module = run(
        &host,
        "res://va.lua",
        "local n = select('#', ...) return { n = n }",
    )
    .expect("loads");
    assert_eq!(module.get::<i64>("n").expect("n"), 0);
    let values = host.eval("(load('return ...'))(1, 2, 3)").expect("eval");
    assert_eq!(values.len(), 3);
}

/// Loads a script whose `spin` function loops forever, calls it, and checks that the call is
/// stopped at the loop's line within a small multiple of the budget.
fn assert_stopped(host: &LuaHost, body: &str, line: u32) {
    let source = format!("local M = {{}}\nfunction M.spin()\n{body}\nend\nreturn M");
    let module = run(host, "res://spin.lua", &source).expect("loads");
    let spin: mlua::Function = module.get("spin").expect("spin");
    let started = Instant::now();
    let err = host
        .call::<()>(&spin, (), "res://spin.lua")
        .expect_err("stopped");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(took >= Duration::from_millis(50), "stopped early: {took:?}");
    assert_eq!(err.path(), "res://spin.lua", "{err}");
    assert_eq!(err.line(), Some(line), "{err}");
    assert!(err.to_string().contains("ran longer than 50 ms"), "{err}");
}

#[test]
fn a_runaway_loop_is_stopped_at_its_line() {
    let host = host_with_budget(50);
    assert_stopped(&host, "  while true do end", 3);
    assert_stopped(&host, "  local n = 0\n  repeat n = n + 1 until false", 4);
    assert_stopped(&host, "  ::again:: goto again", 3);
    // Recursion without loops.
    assert_stopped(
        &host,
        "  local function f(n) return f(n + 1) end return f(1)",
        3,
    );
    // The host goes on running code.
    assert_eq!(
        host.eval("1 + 1").expect("eval").into_iter().next(),
        Some(mlua::Value::Integer(2))
    );
}

#[test]
fn pcall_cannot_keep_a_runaway_call_alive() {
    let host = host_with_budget(50);
    assert_stopped(
        &host,
        "  while true do pcall(function() while true do end end) end",
        3,
    );
    assert_stopped(
        &host,
        "  local co = coroutine.wrap(function() while true do end end)\n  while true do pcall(co) end",
        4,
    );
}

/// LuaJIT runs a hot loop as machine code, where debug hooks never fire. The budget must stop
/// it anyway: this proves the loop was compiled (LuaJIT reports a finished trace) and stopped.
#[cfg(feature = "luajit")]
#[test]
fn a_loop_compiled_to_machine_code_is_stopped() {
    let host = host_with_budget(50);
    let jit = host.jit().expect("LuaJIT");
    let attach: mlua::Function = jit.get("attach").expect("jit.attach");
    let traces = std::rc::Rc::new(std::cell::Cell::new(0));
    let counted = traces.clone();
    let on_trace = host
        .lua()
        .create_function(move |_, what: String| {
            if what == "stop" {
                counted.set(counted.get() + 1);
            }
            Ok(())
        })
        .expect("function");
    attach.call::<()>((&on_trace, "trace")).expect("attach");
    assert_stopped(
        &host,
        "  local x, i = 0, 0\n  while true do i = i + 1 x = (x + i * 3) % 1000003 end",
        4,
    );
    attach.call::<()>(on_trace).expect("detach");
    assert!(traces.get() > 0, "the loop was never compiled");
}

#[test]
fn each_call_has_its_own_budget() {
    let host = host_with_budget(50);
    let module = run(
        &host,
        "res://busy.lua",
        "local M = {}\nfunction M.busy(ms)\n  local t = os.clock() + ms / 1000\n  \
         while os.clock() < t do end\nend\nreturn M",
    )
    .expect("loads");
    let busy: mlua::Function = module.get("busy").expect("busy");
    // Ten calls of 30 ms each: 300 ms in all, but each call is within its budget.
    for _ in 0..10 {
        host.call::<()>(&busy, 30, "res://busy.lua")
            .expect("within budget");
    }
    assert_eq!(host.budget().stopped(), 0);
    host.budget().set_limit(None);
    host.call::<()>(&busy, 120, "res://busy.lua")
        .expect("no limit");
}

#[test]
fn the_heap_cap_is_a_lua_error_and_the_host_goes_on() {
    let host = LuaHost::new().expect("Lua state");
    host.budget().set_limit(None);
    if host
        .set_memory_limit(Some(host.memory_bytes() + (16 << 20)))
        .is_err()
    {
        panic!("this Lua cannot cap its heap");
    }
    let err = run(
        &host,
        "res://hog.lua",
        "local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end\nreturn {}",
    )
    .expect_err("capped");
    assert_eq!(err.path(), "res://hog.lua", "{err}");
    assert!(err.to_string().contains("out of memory"), "{err}");
    assert!(err.to_string().contains("memory_mb"), "{err}");
    host.collect_garbage().expect("collect");
    let values = host
        .eval("(function() local t = {} for i = 1, 1000 do t[i] = i end return #t end)()")
        .expect("runs after");
    assert_eq!(values.into_iter().next(), Some(mlua::Value::Integer(1000)));
}
