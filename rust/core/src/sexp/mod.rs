//! SEXP expressions: game conditions written as S-expressions, the way FreeSpace 2 missions
//! write their events, evaluated many times and recomputed only when something they read
//! has changed.
//!
//! `(and (> (prop "Player" "health") 0) (< (distance "Player" "Goal") 50))`
//!
//! - [`parse`]: text to forms, with line and column for errors.
//! - [`compile`]: forms to a closure tree, operators and argument counts checked.
//! - [`world`]: what an expression reads from the engine, and the record of those reads.
//! - [`cache`]: compiled expressions by source, results by (expression, context node), and
//!   their invalidation.
//! - [`set`]: many expressions evaluated together, visiting only what changed.
//! - [`value`]: the values expressions compute with.

pub mod cache;
pub mod compile;
pub mod parse;
pub mod set;
pub mod value;
pub mod world;

pub use cache::{ExpressionCache, WatchChange, evaluate, evaluate_uncached};
pub use compile::Compiled;
pub use set::ExpressionSet;
pub use value::{Opaque, Value};
pub use world::{
    Cause, NodeId, Position, PropertyRead, Reader, Resolved, SignalWatch, Watch, World,
    resolve_then_read,
};

/// A problem with an expression, with the line and column where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SexpError {
    /// The text is not a well-formed expression.
    #[error("{message} at {line}:{col}")]
    Syntax {
        message: String,
        line: u32,
        col: u32,
    },
    /// An unknown operator, or the wrong number of arguments.
    #[error("{message} at {line}:{col}")]
    Compile {
        message: String,
        line: u32,
        col: u32,
    },
    /// Evaluation failed: wrong types, a missing node, an operator's own error.
    #[error("{message} at {line}:{col}")]
    Eval {
        message: String,
        line: u32,
        col: u32,
    },
}

impl SexpError {
    /// The line the problem is on, from 1.
    pub fn line(&self) -> u32 {
        match self {
            SexpError::Syntax { line, .. }
            | SexpError::Compile { line, .. }
            | SexpError::Eval { line, .. } => *line,
        }
    }
}
