//! The lexer: characters to tokens (numbers, names, operators), each with
//! its character positions for the error column.

use super::parser::{PResult, Parser};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Tok {
    Num(f64),
    Ident,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    Bang,
    AndAnd,
    OrOr,
    End,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// 0-based character index of the first character.
    pub(super) start: usize,
    /// 0-based character index one past the last character.
    pub(super) end: usize,
}

impl Token {
    pub(super) fn column(&self) -> usize {
        self.start + 1
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The lexer's half of the parser: it reads the next token on demand.
impl Parser<'_> {
    fn peek_char(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    /// Reads the next token into `self.tok`.
    pub(super) fn advance(&mut self) -> PResult<()> {
        while self.peek_char(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_char(0) else {
            self.tok = Token {
                tok: Tok::End,
                start,
                end: start,
            };
            return Ok(());
        };
        let next = self.peek_char(1);
        let (tok, len) = match c {
            '0'..='9' | '.' => return self.number(),
            c if is_ident_start(c) => {
                let mut end = start + 1;
                while self.chars.get(end).copied().is_some_and(is_ident_continue) {
                    end += 1;
                }
                let word: String = self.chars[start..end].iter().collect();
                let tok = match word.as_str() {
                    "and" => Tok::AndAnd,
                    "or" => Tok::OrOr,
                    "not" => Tok::Bang,
                    _ => Tok::Ident,
                };
                (tok, end - start)
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' if next == Some('*') => (Tok::Caret, 2),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '%' => (Tok::Percent, 1),
            '^' => (Tok::Caret, 1),
            '<' if next == Some('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '=' if next == Some('=') => (Tok::EqEq, 2),
            '!' if next == Some('=') => (Tok::Ne, 2),
            '!' => (Tok::Bang, 1),
            '&' if next == Some('&') => (Tok::AndAnd, 2),
            '|' if next == Some('|') => (Tok::OrOr, 2),
            '=' => {
                return Err(self.syntax(start + 1, "'=' is not an operator (use '==' to compare)".to_string()));
            }
            '&' => {
                return Err(self.syntax(start + 1, "'&' is not an operator (use '&&' or 'and')".to_string()));
            }
            '|' => {
                return Err(self.syntax(start + 1, "'|' is not an operator (use '||' or 'or')".to_string()));
            }
            '?' | ':' => {
                return Err(self.syntax(start + 1, format!("'{c}' is not an operator (use if(cond, a, b))")));
            }
            c => {
                return Err(self.syntax(start + 1, format!("unexpected character {c:?}")));
            }
        };
        self.pos = start + len;
        self.tok = Token {
            tok,
            start,
            end: self.pos,
        };
        Ok(())
    }

    /// Lexes a number starting at `self.pos` (a digit or a '.').
    fn number(&mut self) -> PResult<()> {
        let start = self.pos;
        let digit = |p: &Parser<'_>, i: usize| p.chars.get(i).is_some_and(char::is_ascii_digit);
        let mut end = start;
        while digit(self, end) {
            end += 1;
        }
        let mut mantissa_digits = end - start;
        if self.chars.get(end) == Some(&'.') {
            end += 1;
            while digit(self, end) {
                end += 1;
                mantissa_digits += 1;
            }
        }
        if mantissa_digits == 0 {
            return Err(self.syntax(start + 1, "unexpected '.'".to_string()));
        }
        if matches!(self.chars.get(end), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.chars.get(end + 1), Some('+' | '-')));
            if digit(self, end + 1 + sign) {
                end += 1 + sign;
                while digit(self, end) {
                    end += 1;
                }
            }
        }
        let text: String = self.chars[start..end].iter().collect();
        if let Some(&c) = self.chars.get(end)
            && (is_ident_continue(c) || c == '.')
        {
            let mut stop = end;
            while self.chars.get(stop).is_some_and(|&c| is_ident_continue(c) || c == '.') {
                stop += 1;
            }
            let whole: String = self.chars[start..stop].iter().collect();
            let hint = if is_ident_start(c) && !matches!(c, 'e' | 'E') {
                format!(
                    " (write {text}*{} to multiply)",
                    self.chars[end..stop].iter().collect::<String>()
                )
            } else {
                String::new()
            };
            return Err(self.syntax(start + 1, format!("malformed number '{whole}'{hint}")));
        }
        let value: f64 = text
            .parse()
            .map_err(|_| self.syntax(start + 1, format!("malformed number '{text}'")))?;
        self.pos = end;
        self.tok = Token {
            tok: Tok::Num(value),
            start,
            end,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::testing::c;

    #[test]
    fn numbers() {
        assert_eq!(c("3"), 3.0);
        assert_eq!(c("2.5"), 2.5);
        assert_eq!(c(".5"), 0.5);
        assert_eq!(c("1."), 1.0);
        assert_eq!(c("1e-3"), 1e-3);
        assert_eq!(c("2.5E+4"), 2.5e4);
        assert_eq!(c("1.e2"), 100.0);
        assert_eq!(c("1e400"), f64::INFINITY);
        assert_eq!(c("pi"), std::f64::consts::PI);
        assert_eq!(c("e"), std::f64::consts::E);
        assert_eq!(c("-inf"), f64::NEG_INFINITY);
        assert_eq!(c("2*e"), 2.0 * std::f64::consts::E);
    }
}
