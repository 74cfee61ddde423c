//! Source text to forms: atoms and lists, with the line and column of each.
//!
//! `(and (> (prop "Player" "health") 0) ; alive
//!       (< (distance "Player" "Goal") 50))`
//!
//! Atoms are integers (`42`, `-7`), floats (`2.5`, `1e3`), strings in double quotes (escapes
//! `\"`, `\\`, `\n`, `\t`), `true`, `false` and symbols (any other run of characters without
//! spaces, parentheses, quotes or `;`). A `;` starts a comment that runs to the end of the
//! line.

use std::rc::Rc;

use super::SexpError;

/// Where a form starts: line and column, both from 1 (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// One parsed form.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bool(bool),
    Symbol(Rc<str>),
    List(Vec<Node>),
}

/// A form and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub form: Form,
    pub pos: Pos,
}

/// Parses `source`, which must hold exactly one expression.
///
/// # Errors
/// [`SexpError::Syntax`] with the line and column of the problem.
pub fn parse(source: &str) -> Result<Node, SexpError> {
    let mut reader = Reader {
        chars: source.chars().collect(),
        at: 0,
        pos: Pos { line: 1, col: 1 },
        depth: 0,
    };
    reader.skip_blank();
    if reader.peek().is_none() {
        return Err(reader.error("expected an expression"));
    }
    let node = reader.form()?;
    reader.skip_blank();
    match reader.peek() {
        None => Ok(node),
        Some(')') => Err(reader.error("unexpected ')'")),
        Some(_) => Err(reader.error("expected the end of the expression")),
    }
}

/// Lists may nest this deep. Parsing, compiling and evaluating each recurse once per level,
/// so a bound here keeps text like `((((...` from running any of them out of stack.
pub const MAX_DEPTH: usize = 200;

struct Reader {
    chars: Vec<char>,
    at: usize,
    pos: Pos,
    depth: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }

    fn error(&self, message: &str) -> SexpError {
        error_at(message.to_owned(), self.pos)
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == ';' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn form(&mut self) -> Result<Node, SexpError> {
        let pos = self.pos;
        let form = match self.peek() {
            Some('(') => {
                if self.depth == MAX_DEPTH {
                    return Err(self.error("lists nested too deeply"));
                }
                self.depth += 1;
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip_blank();
                    match self.peek() {
                        None => return Err(self.error("expected ')'")),
                        Some(')') => {
                            self.bump();
                            break;
                        }
                        Some(_) => items.push(self.form()?),
                    }
                }
                self.depth -= 1;
                Form::List(items)
            }
            Some(')') => return Err(self.error("unexpected ')'")),
            Some('"') => self.string()?,
            _ => self.atom(pos)?,
        };
        Ok(Node { form, pos })
    }

    fn string(&mut self) -> Result<Form, SexpError> {
        let start = self.pos;
        self.bump();
        let mut text = String::new();
        loop {
            let here = self.pos;
            match self.bump() {
                None => return Err(error_at("unterminated string".into(), start)),
                Some('"') => break,
                Some('\\') => match self.bump() {
                    Some('"') => text.push('"'),
                    Some('\\') => text.push('\\'),
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some(other) => {
                        return Err(error_at(format!("unknown escape '\\{other}'"), here));
                    }
                    None => return Err(error_at("unterminated string".into(), start)),
                },
                Some(c) => text.push(c),
            }
        }
        Ok(Form::Str(text.into()))
    }

    fn atom(&mut self, pos: Pos) -> Result<Form, SexpError> {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, '(' | ')' | '"' | ';') {
                break;
            }
            text.push(c);
            self.bump();
        }
        Ok(match text.as_str() {
            "true" => Form::Bool(true),
            "false" => Form::Bool(false),
            _ if looks_numeric(&text) => {
                if let Ok(i) = text.parse::<i64>() {
                    Form::Int(i)
                } else if let Ok(f) = text.parse::<f64>() {
                    Form::Float(f)
                } else {
                    return Err(error_at(format!("malformed number '{text}'"), pos));
                }
            }
            _ => Form::Symbol(text.into()),
        })
    }
}

/// Whether an atom is meant as a number: a digit, or a sign or point then a digit.
fn looks_numeric(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('-' | '+' | '.') => chars.next().is_some_and(|c| c.is_ascii_digit() || c == '.'),
        _ => false,
    }
}

fn error_at(message: String, pos: Pos) -> SexpError {
    SexpError::Syntax {
        message,
        line: pos.line,
        col: pos.col,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> String {
        parse(source).expect_err(source).to_string()
    }

    #[test]
    fn atoms_lists_and_comments() {
        let node =
            parse("; leading\n(and 1 -2 2.5 1e3 \"a\\\"b\\n\" true sym) ; trailing").unwrap();
        let Form::List(items) = node.form else {
            panic!("not a list")
        };
        let forms: Vec<Form> = items.into_iter().map(|n| n.form).collect();
        assert_eq!(
            forms,
            vec![
                Form::Symbol("and".into()),
                Form::Int(1),
                Form::Int(-2),
                Form::Float(2.5),
                Form::Float(1000.0),
                Form::Str("a\"b\n".into()),
                Form::Bool(true),
                Form::Symbol("sym".into()),
            ]
        );
        assert_eq!(node.pos, Pos { line: 2, col: 1 });
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let node = parse("(a\n  (b \"é\" c))").unwrap();
        let Form::List(items) = node.form else {
            panic!()
        };
        assert_eq!(items[1].pos, Pos { line: 2, col: 3 });
        let Form::List(inner) = &items[1].form else {
            panic!()
        };
        assert_eq!(inner[2].pos, Pos { line: 2, col: 10 });
    }

    #[test]
    fn symbols_that_start_like_numbers() {
        assert_eq!(parse("-").unwrap().form, Form::Symbol("-".into()));
        assert_eq!(parse("+").unwrap().form, Form::Symbol("+".into()));
        assert_eq!(parse("-x").unwrap().form, Form::Symbol("-x".into()));
        assert_eq!(error("1x"), "malformed number '1x' at 1:1");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let source = "(and (> (prop \"Player\" \"health\") 0)";
        assert_eq!(error(source), "expected ')' at 1:36");
        assert_eq!(error(""), "expected an expression at 1:1");
        assert_eq!(
            error("  ; only a comment"),
            "expected an expression at 1:19"
        );
        assert_eq!(error("(a))"), "unexpected ')' at 1:4");
        assert_eq!(error(")"), "unexpected ')' at 1:1");
        assert_eq!(
            error("(a) (b)"),
            "expected the end of the expression at 1:5"
        );
        assert_eq!(error("(a \"b"), "unterminated string at 1:4");
        assert_eq!(error("\"\\q\""), "unknown escape '\\q' at 1:2");
        assert_eq!(error("(a\n (b"), "expected ')' at 2:4");
    }
}
