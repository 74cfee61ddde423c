//! The compiler thread: its own Lua state turns source into bytecode, so no frame of the game
//! waits on the parser. Bytecode is portable between states of the same flavour, so the main
//! state only loads what this one produced.
//!
//! Two queues feed it: urgent compiles, which a caller is blocked on (a script needed right
//! now), and background work (start-up warming, disk writes), which runs when nothing is urgent.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use mlua::chunk::ChunkMode;
use mlua::{Lua, LuaOptions, StdLib};

use super::{Bytecode, SourceHash};
use crate::errors::ScriptError;

/// Work that runs on the compiler thread with its Lua state.
pub type Task = Box<dyn FnOnce(&Lua) + Send>;

/// Whether queued background work still runs when the cache shuts down.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AtShutdown {
    /// Finish it (disk writes: cheap, and they save a compile next run).
    Finish,
    /// Drop it (warming: the process is going away).
    Drop,
}

/// A background queue entry.
enum Job {
    Run(Task),
    /// Answered as soon as it is reached, without counting as running work.
    Flush(mpsc::SyncSender<()>),
}

struct Queues {
    urgent: VecDeque<Task>,
    background: VecDeque<(Job, AtShutdown)>,
    stopping: bool,
    /// The thread could not start Lua: work is refused (urgent callers compile themselves).
    dead: bool,
    /// A job is running now.
    running: bool,
}

struct Shared {
    queues: Mutex<Queues>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The compiler thread and its queues. Dropping it finishes urgent work and pending writes,
/// drops pending warming, and joins the thread.
pub struct Compiler {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Compiler {
    /// Starts the thread.
    ///
    /// # Errors
    /// The operating system refused to start a thread.
    pub fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues {
                urgent: VecDeque::new(),
                background: VecDeque::new(),
                stopping: false,
                dead: false,
                running: false,
            }),
            wake: Condvar::new(),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("lua-compiler".to_owned())
            .spawn(move || run(&worker))?;
        Ok(Compiler {
            shared,
            thread: Some(thread),
        })
    }

    /// Compiles `source` ahead of any background work and waits for the result.
    ///
    /// # Errors
    /// The script's syntax error, located in `path`.
    pub fn compile_now(
        &self,
        path: &str,
        source: &str,
        strip: bool,
    ) -> Result<Bytecode, ScriptError> {
        let (reply, result) = mpsc::sync_channel(1);
        let (job_path, job_source) = (path.to_owned(), source.to_owned());
        self.push_urgent(Box::new(move |lua: &Lua| {
            let _ = reply.send(compile(lua, &job_path, &job_source, strip));
        }));
        result.recv().unwrap_or_else(|_| {
            // The thread is gone (it can only die by a panic inside Lua): compile here.
            let lua = new_compiler_lua().map_err(|e| ScriptError::from_lua(&e, path))?;
            compile(&lua, path, source, strip)
        })
    }

    /// Queues background work behind whatever is queued already.
    pub fn push_background(&self, task: Task, at_shutdown: AtShutdown) {
        self.queue().push_background(task, at_shutdown);
    }

    /// A handle that background jobs can use to queue more work.
    pub fn queue(&self) -> Queue {
        Queue(self.shared.clone())
    }

    /// Waits until every job queued before this call has run.
    pub fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        let mut queues = self.shared.lock();
        if queues.dead {
            return;
        }
        queues
            .background
            .push_back((Job::Flush(done), AtShutdown::Finish));
        drop(queues);
        self.shared.wake.notify_one();
        let _ = wait.recv();
    }

    /// Jobs queued or running.
    pub fn pending(&self) -> usize {
        let queues = self.shared.lock();
        queues.background.len() + queues.urgent.len() + usize::from(queues.running)
    }

    fn push_urgent(&self, task: Task) {
        let mut queues = self.shared.lock();
        if !queues.dead {
            queues.urgent.push_back(task);
        }
        drop(queues);
        self.shared.wake.notify_one();
    }
}

/// Queues background work on the compiler thread; may be kept by jobs themselves.
#[derive(Clone)]
pub struct Queue(Arc<Shared>);

impl Queue {
    /// Queues background work behind whatever is queued already.
    pub fn push_background(&self, task: Task, at_shutdown: AtShutdown) {
        let mut queues = self.0.lock();
        if !(queues.dead || queues.stopping && at_shutdown == AtShutdown::Drop) {
            queues.background.push_back((Job::Run(task), at_shutdown));
        }
        drop(queues);
        self.0.wake.notify_one();
    }

    /// Queues background work ahead of the rest of the background queue, in the given order:
    /// a job that splits itself into parts so they run before anything queued after it
    /// (a [`Compiler::flush`] included).
    pub fn push_background_next(&self, tasks: Vec<Task>, at_shutdown: AtShutdown) {
        let mut queues = self.0.lock();
        if queues.dead || queues.stopping && at_shutdown == AtShutdown::Drop {
            return;
        }
        for task in tasks.into_iter().rev() {
            queues.background.push_front((Job::Run(task), at_shutdown));
        }
        drop(queues);
        self.0.wake.notify_one();
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        {
            let mut queues = self.shared.lock();
            queues.stopping = true;
            queues
                .background
                .retain(|(_, at_shutdown)| *at_shutdown == AtShutdown::Finish);
        }
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(shared: &Shared) {
    let lua = match new_compiler_lua() {
        Ok(lua) => lua,
        Err(e) => {
            tracing::error!("the Lua compiler thread could not start Lua: {e}");
            // Dropping queued work drops its reply channels, so nobody waits forever.
            let mut queues = shared.lock();
            queues.dead = true;
            queues.urgent.clear();
            queues.background.clear();
            return;
        }
    };
    loop {
        let task = {
            let mut queues = shared.lock();
            queues.running = false;
            loop {
                if let Some(task) = queues.urgent.pop_front() {
                    queues.running = true;
                    break task;
                }
                if let Some((job, at_shutdown)) = queues.background.pop_front() {
                    match job {
                        Job::Flush(done) => {
                            let _ = done.send(());
                        }
                        Job::Run(_) if queues.stopping && at_shutdown == AtShutdown::Drop => {}
                        Job::Run(task) => {
                            queues.running = true;
                            break task;
                        }
                    }
                    continue;
                }
                if queues.stopping {
                    return;
                }
                queues = shared
                    .wake
                    .wait(queues)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        if catch_unwind(AssertUnwindSafe(|| task(&lua))).is_err() {
            tracing::error!("a bytecode cache job panicked; the cache keeps running");
        }
    }
}

/// A bare Lua state: compiling needs no library.
fn new_compiler_lua() -> mlua::Result<Lua> {
    Lua::new_with(StdLib::NONE, LuaOptions::default())
}

/// Compiles `source` as the script at `path` (errors and tracebacks name that path).
///
/// # Errors
/// The script's syntax error.
pub fn compile(lua: &Lua, path: &str, source: &str, strip: bool) -> Result<Bytecode, ScriptError> {
    let start = Instant::now();
    let text = crate::host::instrument::wrap(source).map_err(|r| r.script_error(path))?;
    let function = lua
        .load(text)
        .set_name(format!("@{path}"))
        .set_mode(ChunkMode::Text)
        .into_function()
        .map_err(|e| ScriptError::from_lua(&e, path))?;
    let bytes =
        catch_unwind(AssertUnwindSafe(|| function.dump(strip))).map_err(|_| ScriptError {
            path: path.to_owned(),
            line: None,
            message: "Lua could not write the compiled script out (out of memory?)".to_owned(),
            traceback: String::new(),
        })?;
    let compile_us = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
    Ok(Bytecode {
        path: path.to_owned(),
        source_hash: SourceHash::of(source),
        bytes,
        compile_us,
    })
}
