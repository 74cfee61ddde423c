//! Source instrumentation for the time budget: a call to the budget's tick at the top of every
//! loop body, of every function body that makes calls, and before every `goto`, so a script
//! that runs too long can be stopped wherever it spins.
//!
//! Debug hooks cannot do this under LuaJIT: they do not fire inside code the JIT compiled, and
//! a hot loop runs as compiled machine code after a few dozen iterations. A call written into
//! the source is different: the JIT must keep its effect, so a compiled loop still counts its
//! iterations and still leaves the trace to check the clock.
//!
//! The rewrite keeps every token on its line, so errors and tracebacks name the same lines as
//! the file. The tick reaches the chunk as an argument (see [`wrap`]), never through a global
//! a script could replace, and a script may not name it.

use std::fmt;

/// The name the inserted calls use. A script that uses it is refused.
pub const TICK: &str = "__lua_runtime_budget";

/// Why a source could not be instrumented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    pub line: u32,
}

impl Reserved {
    /// The error a script at `path` that names the tick gets.
    pub fn script_error(&self, path: &str) -> crate::ScriptError {
        crate::ScriptError {
            path: path.to_owned(),
            line: Some(self.line),
            message: self.to_string(),
            traceback: String::new(),
        }
    }
}

impl fmt::Display for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{TICK}` is reserved by the runtime")
    }
}

/// `source` with budget ticks inserted, as the body of a function that a chunk makes: called
/// with the tick, the chunk returns the script's main function. Nothing in the wrapper looks
/// up a global, so a script's environment or its changes to globals cannot break it.
///
/// # Errors
/// [`Reserved`] when the source names the tick itself.
pub fn wrap(source: &str) -> Result<String, Reserved> {
    // LuaJIT skips a first line that starts with `#` (a shebang): it stays first, with its
    // line break, and the wrapper starts on the next line, so every line keeps its number.
    // (Lua 5.4 refuses it either way.)
    let (header, rest) = if source.starts_with('#') {
        source.split_at(first_line_end(source))
    } else {
        ("", source)
    };
    let body = insert_ticks(rest).map_err(|reserved| Reserved {
        line: reserved.line + u32::from(!header.is_empty()),
    })?;
    let mut out = String::with_capacity(header.len() + body.len() + 96);
    out.push_str(header);
    if !header.is_empty() && !header.ends_with(['\n', '\r']) {
        out.push('\n');
    }
    out.push_str("local ");
    out.push_str(TICK);
    out.push_str(" = ...; return function(...) ");
    out.push_str(&body);
    out.push_str("\nend");
    Ok(out)
}

/// Where the first line ends, its line break included: Lua ends a line at `\n` or `\r`, and
/// takes `\n\r` and `\r\n` as one break.
fn first_line_end(source: &str) -> usize {
    let bytes = source.as_bytes();
    let Some(at) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') else {
        return bytes.len();
    };
    match bytes.get(at + 1) {
        Some(&next) if (next == b'\n' || next == b'\r') && next != bytes[at] => at + 2,
        _ => at + 1,
    }
}

/// `source` with a tick after every `do` and `repeat`, before every `goto`, and at the top of
/// every function body that makes a call. A function that calls nothing cannot recurse or run
/// long without a loop, so it pays nothing on entry (the moving-nodes callback, a math
/// helper). Text that does not lex (an unclosed string, say) is copied as it is, for the
/// compiler to report.
///
/// # Errors
/// [`Reserved`] when the source names the tick itself.
pub fn insert_ticks(source: &str) -> Result<String, Reserved> {
    let bytes = source.as_bytes();
    let mut lexer = Lexer {
        bytes,
        at: 0,
        line: 1,
    };
    // Byte offsets to insert a tick at, and for function bodies whether to.
    let mut points: Vec<(usize, bool)> = Vec::new();
    // After `function`: waiting for its parameter list to open, then to close.
    let mut function = Params::None;
    // Open blocks (`function`, `do`, `if` ... `end`); for a function body, its entry in
    // `points`.
    let mut blocks: Vec<Option<usize>> = Vec::new();
    // The token before, for telling a call: a name, `)` or `]` followed by `(`, a string or `{`.
    let mut callee_before = false;
    // LuaJIT reserves `goto` only as a statement (`goto label`): a `goto` that could start a
    // statement, waiting to see whether a label name follows.
    let mut pending_goto: Option<usize> = None;
    let mut statement_may_start = true;
    let mut previous = "";
    while let Some(token) = lexer.next() {
        let text = &source[token.start..token.end];
        // LuaJIT takes `goto` for a name where it expects one, so `goto goto` jumps to a
        // label named `goto`.
        let mut label = false;
        if let Some(at) = pending_goto.take()
            && token.kind == Kind::Name
            && (!KEYWORDS.contains(&text) || text == "goto")
        {
            points.push((at, true));
            label = true;
        }
        let mut callee = false;
        let call_opener = match token.kind {
            Kind::Punct => text == "(" || text == "{",
            Kind::Other => matches!(bytes[token.start], b'"' | b'\'' | b'['),
            Kind::Name => false,
        };
        if callee_before
            && call_opener
            && let Some(body) = blocks.iter().rev().find_map(|b| *b)
        {
            points[body].1 = true;
        }
        match token.kind {
            Kind::Name => match text {
                TICK => return Err(Reserved { line: token.line }),
                "do" => {
                    points.push((token.end, true));
                    blocks.push(None);
                }
                "repeat" => points.push((token.end, true)),
                "if" => blocks.push(None),
                "end" => {
                    blocks.pop();
                }
                "function" => function = Params::Before,
                "goto" if statement_may_start && !label => pending_goto = Some(token.start),
                _ => callee = !KEYWORDS.contains(&text),
            },
            Kind::Punct => match (text, function) {
                ("(", Params::Before) => function = Params::Inside,
                (")", Params::Inside) => {
                    function = Params::None;
                    blocks.push(Some(points.len()));
                    points.push((token.end, false));
                }
                (")" | "]", _) => callee = true,
                _ => {}
            },
            Kind::Other => {}
        }
        callee_before = callee;
        // After these, a `goto` is part of an expression, not a statement. After `:` it is a
        // method name (`obj:goto x`), unless the `:` closes a label (`::here::`).
        statement_may_start = !(EXPRESSION_CONTINUES.contains(&text)
            || (token.kind == Kind::Punct && !matches!(text, ")" | "]" | "}" | ";"))
                && !(text == ":" && previous == ":"));
        previous = text;
    }
    // A function left open (a syntax error) keeps its tick: the compiler reports the error.
    for body in blocks.into_iter().flatten() {
        points[body].1 = true;
    }
    let call = format!(" {TICK}(); ");
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    let mut copied = 0;
    for (at, _) in points.into_iter().filter(|(_, tick)| *tick) {
        out.push_str(&source[copied..at]);
        out.push_str(&call);
        copied = at;
    }
    out.push_str(&source[copied..]);
    Ok(out)
}

/// Words after which an expression goes on.
const EXPRESSION_CONTINUES: &[&str] = &[
    "local", "return", "and", "or", "not", "in", "until", "if", "elseif", "while", "for",
    "function",
];

/// Lua's reserved words (LuaJIT's and Lua 5.4's): never the name of something called.
const KEYWORDS: &[&str] = &[
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

#[derive(Clone, Copy)]
enum Params {
    None,
    Before,
    Inside,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A name or keyword.
    Name,
    /// One punctuation character.
    Punct,
    /// A number or a string.
    Other,
}

struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: u32,
}

/// Just enough of Lua's lexer to tell code from strings and comments.
struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u32,
}

impl Lexer<'_> {
    /// Steps over a line break: `\n`, `\r`, or either pair of them (one break, as Lua counts).
    fn line_break(&mut self) {
        let first = self.bytes[self.at];
        self.at += 1;
        if let Some(&next) = self.bytes.get(self.at)
            && matches!(next, b'\n' | b'\r')
            && next != first
        {
            self.at += 1;
        }
        self.line += 1;
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.at + ahead).copied().unwrap_or(0)
    }

    fn next(&mut self) -> Option<Token> {
        loop {
            let c = *self.bytes.get(self.at)?;
            let start = self.at;
            match c {
                b'\n' | b'\r' => self.line_break(),
                b' ' | b'\t' | 0x0b | 0x0c => self.at += 1,
                b'-' if self.peek(1) == b'-' => {
                    self.at += 2;
                    if self.long_bracket().is_none() {
                        // A short comment ends at either line break, as Lua's does.
                        while self.at < self.bytes.len()
                            && !matches!(self.bytes[self.at], b'\n' | b'\r')
                        {
                            self.at += 1;
                        }
                    }
                }
                b'[' if matches!(self.peek(1), b'[' | b'=') => {
                    let line = self.line;
                    if self.long_bracket().is_some() {
                        return Some(self.token(Kind::Other, start, line));
                    }
                    self.at += 1;
                    return Some(self.token(Kind::Punct, start, line));
                }
                b'"' | b'\'' => {
                    let line = self.line;
                    self.quoted(c);
                    return Some(self.token(Kind::Other, start, line));
                }
                b'0'..=b'9' => {
                    self.number();
                    return Some(self.token(Kind::Other, start, self.line));
                }
                b'.' if self.peek(1).is_ascii_digit() => {
                    self.number();
                    return Some(self.token(Kind::Other, start, self.line));
                }
                c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                    while self.at < self.bytes.len() && is_name_byte(self.bytes[self.at]) {
                        self.at += 1;
                    }
                    return Some(self.token(Kind::Name, start, self.line));
                }
                _ => {
                    self.at += 1;
                    return Some(self.token(Kind::Punct, start, self.line));
                }
            }
        }
    }

    fn token(&self, kind: Kind, start: usize, line: u32) -> Token {
        Token {
            kind,
            start,
            end: self.at,
            line,
        }
    }

    /// At `[`: skips a long bracket (`[[ ]]`, `[==[ ]==]`) and returns its level, or leaves
    /// the position alone and returns `None` when this is no long bracket.
    fn long_bracket(&mut self) -> Option<usize> {
        if self.peek(0) != b'[' {
            return None;
        }
        let mut level = 0;
        while self.peek(1 + level) == b'=' {
            level += 1;
        }
        if self.peek(1 + level) != b'[' {
            return None;
        }
        self.at += 2 + level;
        while self.at < self.bytes.len() {
            match self.bytes[self.at] {
                b'\n' => self.line += 1,
                b']' if (0..level).all(|i| self.peek(1 + i) == b'=')
                    && self.peek(1 + level) == b']' =>
                {
                    self.at += 2 + level;
                    return Some(level);
                }
                _ => {}
            }
            self.at += 1;
        }
        Some(level)
    }

    /// At a quote: skips the string, escapes included, up to its closing quote or the end of
    /// the line.
    fn quoted(&mut self, quote: u8) {
        self.at += 1;
        while self.at < self.bytes.len() {
            match self.bytes[self.at] {
                b'\\' => {
                    if self.peek(1) == b'\n' {
                        self.line += 1;
                    }
                    self.at += 2;
                    continue;
                }
                // Unfinished: Lua refuses the text.
                b'\n' | b'\r' => return,
                c if c == quote => {
                    self.at += 1;
                    return;
                }
                _ => {}
            }
            self.at += 1;
        }
        self.at = self.at.min(self.bytes.len());
    }

    /// Skips a numeral: digits, letters (hex digits, exponents, LuaJIT's `LL`/`i`
    /// suffixes), points, and a sign right after an exponent letter.
    fn number(&mut self) {
        while self.at < self.bytes.len() {
            let c = self.bytes[self.at];
            let exponent_sign = matches!(c, b'+' | b'-')
                && matches!(self.bytes[self.at - 1], b'e' | b'E' | b'p' | b'P');
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exponent_sign {
                self.at += 1;
            } else {
                break;
            }
        }
    }
}

fn is_name_byte(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80
}
