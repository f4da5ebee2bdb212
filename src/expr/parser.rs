//! The parser: tokens to a syntax tree, constant-folded as it is built,
//! within the nesting and height limits (precedence climbing).

use super::error::ExprError;
use super::lexer::{Tok, Token};
use super::ops::{Bin, Func, Un, apply_bin, apply_un, exact_reciprocal, lookup_function};
use super::{MAX_HEIGHT, MAX_NESTING};

// The syntax tree (already constant-folded as it is built).

#[derive(Debug)]
pub(super) struct Ast {
    pub(super) kind: Kind,
    pub(super) height: u32,
}

#[derive(Debug)]
pub(super) enum Kind {
    Num(f64),
    Var(u32),
    Un(Un, Box<Ast>),
    Bin(Bin, Box<Ast>, Box<Ast>),
    If(Box<[Ast; 3]>),
}

impl Ast {
    pub(super) fn num(x: f64) -> Ast {
        Ast {
            kind: Kind::Num(x),
            height: 1,
        }
    }

    pub(super) fn as_num(&self) -> Option<f64> {
        match self.kind {
            Kind::Num(x) => Some(x),
            _ => None,
        }
    }

    fn is_neg(&self) -> bool {
        matches!(self.kind, Kind::Un(Un::Neg, _))
    }

    /// The operand of a negation (itself if it is not one).
    fn unneg(self) -> Ast {
        match self.kind {
            Kind::Un(Un::Neg, inner) => *inner,
            kind => Ast {
                kind,
                height: self.height,
            },
        }
    }
}

pub(super) fn mark_used(a: &Ast, used: &mut [bool]) {
    match &a.kind {
        Kind::Num(_) => {}
        Kind::Var(k) => used[*k as usize] = true,
        Kind::Un(_, x) => mark_used(x, used),
        Kind::Bin(_, l, r) => {
            mark_used(l, used);
            mark_used(r, used);
        }
        Kind::If(b) => b.iter().for_each(|x| mark_used(x, used)),
    }
}

/// The parser's result: errors are boxed to keep its stack frames small.
pub(super) type PResult<T> = Result<T, Box<ExprError>>;

pub(super) struct Parser<'a> {
    src: &'a str,
    pub(super) chars: Vec<char>,
    /// Next character for the lexer.
    pub(super) pos: usize,
    /// The current (not yet consumed) token.
    pub(super) tok: Token,
    vars: &'a [&'a str],
    nesting: u32,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, vars: &'a [&'a str]) -> Parser<'a> {
        Parser {
            src,
            chars: src.chars().collect(),
            pos: 0,
            tok: Token {
                tok: Tok::End,
                start: 0,
                end: 0,
            },
            vars,
            nesting: 0,
        }
    }

    pub(super) fn parse(self) -> Result<Ast, ExprError> {
        self.parse_all().map_err(|e| *e)
    }

    fn parse_all(mut self) -> PResult<Ast> {
        if self.chars.iter().all(|c| c.is_whitespace()) {
            return Err(Box::new(ExprError::Empty {
                expr: self.src.to_string(),
            }));
        }
        self.advance()?;
        let ast = self.parse_expr()?;
        match self.tok.tok {
            Tok::End => Ok(ast),
            Tok::RParen => Err(Box::new(ExprError::UnmatchedParenthesis {
                expr: self.src.to_string(),
                column: self.tok.column(),
            })),
            _ => Err(Box::new(ExprError::TrailingInput {
                expr: self.src.to_string(),
                column: self.tok.column(),
                found: self.describe(self.tok),
            })),
        }
    }

    // -- errors --

    pub(super) fn syntax(&self, column: usize, message: String) -> Box<ExprError> {
        Box::new(ExprError::Syntax {
            expr: self.src.to_string(),
            column,
            message,
        })
    }

    fn too_deep(&self, column: usize) -> Box<ExprError> {
        Box::new(ExprError::TooDeep {
            expr: self.src.to_string(),
            column,
        })
    }

    fn text(&self, t: Token) -> String {
        self.chars[t.start..t.end].iter().collect()
    }

    fn describe(&self, t: Token) -> String {
        match t.tok {
            Tok::End => "end of expression".to_string(),
            _ => format!("'{}'", self.text(t)),
        }
    }

    // -- tree building with folding --

    fn height(&self, h: u32, column: usize) -> PResult<u32> {
        if h > MAX_HEIGHT {
            Err(self.too_deep(column))
        } else {
            Ok(h)
        }
    }

    fn mk_un(&self, op: Un, a: Ast, column: usize) -> PResult<Ast> {
        if let Some(x) = a.as_num() {
            return Ok(Ast::num(apply_un(op, x)));
        }
        if op == Un::Neg && a.is_neg() {
            return Ok(a.unneg());
        }
        let height = self.height(a.height + 1, column)?;
        Ok(Ast {
            kind: Kind::Un(op, Box::new(a)),
            height,
        })
    }

    fn mk_bin(&self, op: Bin, l: Ast, r: Ast, column: usize) -> PResult<Ast> {
        let (ln, rn) = (l.as_num(), r.as_num());
        if let (Some(a), Some(b)) = (ln, rn) {
            return Ok(Ast::num(apply_bin(op, a, b)));
        }
        // Rewrites that never change a result, bit for bit.
        let positive_zero = |c: Option<f64>| c.is_some_and(|c| c == 0.0 && c.is_sign_positive());
        let negative_zero = |c: Option<f64>| c.is_some_and(|c| c == 0.0 && c.is_sign_negative());
        match op {
            Bin::Mul | Bin::Div | Bin::Pow if rn == Some(1.0) => return Ok(l),
            Bin::Mul if ln == Some(1.0) => return Ok(r),
            Bin::Sub if positive_zero(rn) => return Ok(l),
            Bin::Add if negative_zero(rn) => return Ok(l),
            Bin::Add if negative_zero(ln) => return Ok(r),
            Bin::Pow if rn == Some(2.0) => return self.mk_un(Un::Square, l, column),
            // x / 2^k = x * 2^-k
            Bin::Div if rn.and_then(exact_reciprocal).is_some() => {
                let r = rn.and_then(exact_reciprocal).unwrap_or(1.0);
                return self.mk_bin(Bin::Mul, l, Ast::num(r), column);
            }
            // (-a) * c = a * (-c), (-a) / c = a / (-c)
            Bin::Mul | Bin::Div if l.is_neg() && rn.is_some() => {
                let c = rn.unwrap_or_default();
                return self.mk_bin(op, l.unneg(), Ast::num(-c), column);
            }
            Bin::Mul if r.is_neg() && ln.is_some() => {
                let c = ln.unwrap_or_default();
                return self.mk_bin(op, Ast::num(-c), r.unneg(), column);
            }
            // a + (-b) = a - b, (-a) + b = b - a, a - (-b) = a + b
            Bin::Add if r.is_neg() => return self.mk_bin(Bin::Sub, l, r.unneg(), column),
            Bin::Add if l.is_neg() => return self.mk_bin(Bin::Sub, r, l.unneg(), column),
            Bin::Sub if r.is_neg() => return self.mk_bin(Bin::Add, l, r.unneg(), column),
            _ => {}
        }
        let height = self.height(l.height.max(r.height) + 1, column)?;
        Ok(Ast {
            kind: Kind::Bin(op, Box::new(l), Box::new(r)),
            height,
        })
    }

    fn mk_if(&self, c: Ast, a: Ast, b: Ast, column: usize) -> PResult<Ast> {
        if let Some(c) = c.as_num() {
            return Ok(if c != 0.0 { a } else { b });
        }
        // if(c, 0, 1) = !c (with +0, not -0).
        if a.as_num().map(f64::to_bits) == Some(0) && b.as_num() == Some(1.0) {
            return self.mk_un(Un::Not, c, column);
        }
        let h = c.height.max(a.height).max(b.height) + 1;
        let height = self.height(h, column)?;
        Ok(Ast {
            kind: Kind::If(Box::new([c, a, b])),
            height,
        })
    }

    // -- grammar --
    //
    // The recursive functions (`parse_expr` down to `parse_primary` and
    // `call`) are kept small, with the rest moved into helpers, so that
    // their stack frames stay small even in unoptimised builds.

    fn enter(&mut self) -> PResult<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            Err(self.too_deep(self.tok.column()))
        } else {
            Ok(())
        }
    }

    fn parse_expr(&mut self) -> PResult<Ast> {
        self.enter()?;
        let ast = self.parse_binary(1)?;
        self.nesting -= 1;
        Ok(ast)
    }

    /// Precedence climbing over the left-associative binary operators.
    fn parse_binary(&mut self, min_prec: u8) -> PResult<Ast> {
        let mut lhs = self.parse_unary()?;
        while let Some((op, prec)) = binary_operator(self.tok.tok).filter(|o| o.1 >= min_prec) {
            let column = self.tok.column();
            self.advance()?;
            let rhs = self.parse_binary(prec + 1)?;
            lhs = self.mk_bin(op, lhs, rhs, column)?;
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> PResult<Ast> {
        let op = match self.tok.tok {
            Tok::Minus => Some(Un::Neg),
            Tok::Bang => Some(Un::Not),
            Tok::Plus => None,
            _ => return self.parse_power(),
        };
        let column = self.tok.column();
        self.enter()?;
        self.advance()?;
        let operand = self.parse_unary()?;
        self.nesting -= 1;
        match op {
            Some(op) => self.mk_un(op, operand, column),
            None => Ok(operand),
        }
    }

    fn parse_power(&mut self) -> PResult<Ast> {
        let base = self.parse_primary()?;
        if self.tok.tok != Tok::Caret {
            return Ok(base);
        }
        let column = self.tok.column();
        self.enter()?;
        self.advance()?;
        let exponent = self.parse_unary()?;
        self.nesting -= 1;
        self.mk_bin(Bin::Pow, base, exponent, column)
    }

    fn parse_primary(&mut self) -> PResult<Ast> {
        let t = self.tok;
        match t.tok {
            Tok::LParen => {
                self.advance()?;
                let inner = self.parse_expr()?;
                self.close(t)?;
                Ok(inner)
            }
            Tok::Ident if self.paren_follows(t) => self.call(t),
            _ => self.atom(t),
        }
    }

    /// Whether a `(` follows token `t` (looking past blanks without lexing
    /// further, so that errors are reported in order).
    fn paren_follows(&self, t: Token) -> bool {
        let mut p = t.end;
        while self.chars.get(p).is_some_and(|c| c.is_whitespace()) {
            p += 1;
        }
        self.chars.get(p) == Some(&'(')
    }

    /// A number or a name not followed by `(`.
    fn atom(&mut self, t: Token) -> PResult<Ast> {
        let ast = match t.tok {
            Tok::Num(x) => Ast::num(x),
            Tok::Ident => self.name(t)?,
            _ => {
                return Err(self.syntax(
                    t.column(),
                    format!("expected a number, a name or '(', found {}", self.describe(t)),
                ));
            }
        };
        self.advance()?;
        Ok(ast)
    }

    /// Consumes the `)` closing the `(` at `open`.
    fn close(&mut self, open: Token) -> PResult<()> {
        match self.tok.tok {
            Tok::RParen => self.advance(),
            Tok::End => Err(Box::new(ExprError::UnclosedParenthesis {
                expr: self.src.to_string(),
                column: open.column(),
            })),
            _ => Err(self.syntax(
                self.tok.column(),
                format!(
                    "expected ')' to close the '(' at column {}, found {}",
                    open.column(),
                    self.describe(self.tok)
                ),
            )),
        }
    }

    /// A name not followed by `(`: a variable or a constant.
    fn name(&self, t: Token) -> PResult<Ast> {
        let name = self.text(t);
        if let Some(k) = self.vars.iter().position(|v| *v == name) {
            let k = u32::try_from(k).map_err(|_| self.too_deep(t.column()))?;
            return Ok(Ast {
                kind: Kind::Var(k),
                height: 1,
            });
        }
        match name.as_str() {
            "pi" => Ok(Ast::num(std::f64::consts::PI)),
            "e" => Ok(Ast::num(std::f64::consts::E)),
            "inf" => Ok(Ast::num(f64::INFINITY)),
            _ if lookup_function(&name).is_some() => {
                Err(self.syntax(t.column(), format!("'{name}' is a function; call it as {name}(...)")))
            }
            _ => Err(Box::new(ExprError::UnknownVariable {
                expr: self.src.to_string(),
                column: t.column(),
                name,
                known: self.vars.iter().map(|v| v.to_string()).collect(),
            })),
        }
    }

    /// A call `name(args)`; the current token is the name `t`, and a `(`
    /// follows.
    fn call(&mut self, t: Token) -> PResult<Ast> {
        let func = self.function(t)?;
        self.advance()?;
        let open = self.tok;
        self.advance()?;
        let mut args = Vec::new();
        if self.tok.tok == Tok::RParen {
            self.advance()?;
        } else {
            loop {
                args.push(self.parse_expr()?);
                if !self.argument_separator(t, open)? {
                    break;
                }
            }
        }
        self.build_call(t, func, args)
    }

    /// The function named by token `t`.
    fn function(&self, t: Token) -> PResult<Func> {
        let name = self.text(t);
        lookup_function(&name).ok_or_else(|| {
            Box::new(ExprError::UnknownFunction {
                expr: self.src.to_string(),
                column: t.column(),
                name,
            })
        })
    }

    /// After an argument of the call of `name` opened at `open`: consumes a
    /// `,` (true: more arguments follow) or the closing `)` (false).
    fn argument_separator(&mut self, name: Token, open: Token) -> PResult<bool> {
        match self.tok.tok {
            Tok::Comma => self.advance().map(|()| true),
            Tok::RParen => self.advance().map(|()| false),
            Tok::End => Err(Box::new(ExprError::UnclosedParenthesis {
                expr: self.src.to_string(),
                column: open.column(),
            })),
            _ => Err(self.syntax(
                self.tok.column(),
                format!(
                    "expected ',' or ')' in the arguments of '{}', found {}",
                    self.text(name),
                    self.describe(self.tok)
                ),
            )),
        }
    }

    /// Checks the number of arguments and builds the call's tree.
    fn build_call(&self, t: Token, func: Func, args: Vec<Ast>) -> PResult<Ast> {
        let (lo, hi) = func.arity();
        if args.len() < lo || args.len() > hi {
            let expected = if lo == hi {
                lo.to_string()
            } else if hi == usize::MAX {
                format!("at least {lo}")
            } else {
                format!("{lo} or {hi}")
            };
            return Err(Box::new(ExprError::WrongArgumentCount {
                expr: self.src.to_string(),
                column: t.column(),
                function: self.text(t),
                expected,
                found: args.len(),
            }));
        }
        let column = t.column();
        let mut args = args.into_iter();
        // The count was checked, so `next()` always has an argument.
        let mut arg = || args.next().unwrap_or_else(|| Ast::num(f64::NAN));
        match func {
            Func::Un(op) => self.mk_un(op, arg(), column),
            Func::Bin(op) => {
                let (a, b) = (arg(), arg());
                self.mk_bin(op, a, b, column)
            }
            Func::Min | Func::Max => {
                let op = if matches!(func, Func::Min) { Bin::Min } else { Bin::Max };
                let mut acc = arg();
                for next in args {
                    acc = self.mk_bin(op, acc, next, column)?;
                }
                Ok(acc)
            }
            Func::Clip => {
                let (x, lo, hi) = (arg(), arg(), arg());
                let lower = self.mk_bin(Bin::Max, x, lo, column)?;
                self.mk_bin(Bin::Min, lower, hi, column)
            }
            Func::If => {
                let (c, a, b) = (arg(), arg(), arg());
                self.mk_if(c, a, b, column)
            }
            Func::Heaviside => {
                let x = arg();
                match args.next() {
                    Some(h0) => self.mk_bin(Bin::Heaviside, x, h0, column),
                    None => self.mk_un(Un::Heaviside, x, column),
                }
            }
        }
    }
}

/// A binary operator token's operation and precedence.
fn binary_operator(tok: Tok) -> Option<(Bin, u8)> {
    Some(match tok {
        Tok::OrOr => (Bin::Or, 1),
        Tok::AndAnd => (Bin::And, 2),
        Tok::EqEq => (Bin::Eq, 3),
        Tok::Ne => (Bin::Ne, 3),
        Tok::Lt => (Bin::Lt, 4),
        Tok::Le => (Bin::Le, 4),
        Tok::Gt => (Bin::Gt, 4),
        Tok::Ge => (Bin::Ge, 4),
        Tok::Plus => (Bin::Add, 5),
        Tok::Minus => (Bin::Sub, 5),
        Tok::Star => (Bin::Mul, 6),
        Tok::Slash => (Bin::Div, 6),
        Tok::Percent => (Bin::Mod, 6),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;
    use crate::expr::testing::{c, ev};
    use proptest::prelude::*;

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(c("-2^2"), -4.0);
        assert_eq!(c("(-2)^2"), 4.0);
        assert_eq!(c("2^3^2"), 512.0);
        assert_eq!(c("2**3**2"), 512.0);
        assert_eq!(c("2^-1"), 0.5);
        assert_eq!(c("-2^-2"), -0.25);
        assert_eq!(c("1 + 2 * 3"), 7.0);
        assert_eq!(c("(1 + 2) * 3"), 9.0);
        assert_eq!(c("10 - 4 - 3"), 3.0);
        assert_eq!(c("8 / 4 / 2"), 1.0);
        assert_eq!(c("2 * 3 % 4"), 2.0);
        assert_eq!(c("1 < 2 == 1"), 1.0);
        assert_eq!(c("1 + 1 == 2"), 1.0);
        assert_eq!(c("1 || 0 && 0"), 1.0);
        assert_eq!(c("(1 || 0) && 0"), 0.0);
        assert_eq!(c("1 or 0 and 0"), 1.0);
        assert_eq!(c("!0"), 1.0);
        assert_eq!(c("!3 + 1"), 1.0);
        assert_eq!(c("not 1"), 0.0);
        assert_eq!(c("not (1 == 2)"), 1.0);
        assert_eq!(c("- - 3"), 3.0);
        assert_eq!(c("+-+3"), -3.0);
        assert_eq!(c("-3^2"), -9.0);
        assert_eq!(ev("-x^2", &["x"], &[3.0]), -9.0);
        assert_eq!(ev("x^2", &["x"], &[-3.0]), 9.0);
    }

    #[test]
    fn deep_inputs_are_refused_not_overflowed() {
        for src in [
            "(".repeat(100_000),
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}1", "-".repeat(100_000)),
            format!("{}1", "!".repeat(100_000)),
            format!("1{}", "^1".repeat(100_000)),
            format!("1{}", "+d".repeat(100_000)),
            format!("{}1", "exp(".repeat(100_000)),
            format!("min(1{})", ",d".repeat(100_000)),
        ] {
            let e = Expr::compile(&src, &["d"]);
            assert!(matches!(e, Err(ExprError::TooDeep { .. })), "{:?}", e.map(|_| ()));
        }
        // Within the limits, fine: a long sum, and deep nesting.
        let sum = format!("d{}", " + d".repeat(MAX_HEIGHT as usize - 1));
        assert_eq!(ev(&sum, &["d"], &[1.0]), f64::from(MAX_HEIGHT));
        let nested = format!("{}d{}", "(d - ".repeat(60), ")".repeat(60));
        assert_eq!(ev(&nested, &["d"], &[1.0]), 1.0);
    }

    #[test]
    fn worst_cases_fit_a_small_stack() {
        // Compiling, evaluating and dropping the largest accepted trees must
        // fit comfortably in a thread's stack (unoptimised builds need about
        // 210 KiB for these, optimised ones under 100 KiB).
        let h = MAX_HEIGHT as usize;
        let n = MAX_NESTING as usize;
        let worst = [
            format!("d{}", " + exp(d)".repeat(h - 2)),
            format!("d{}", " - d".repeat(h - 1)),
            format!("{}d{}", "exp(-(d + ".repeat(n / 3), ")*2)".repeat(n / 3)),
            format!("{}d{}", "(1 + (d * ".repeat(n / 2 - 1), "))".repeat(n / 2 - 1)),
            format!("{}d", "-!".repeat(n / 2 - 1)),
            format!(
                "{}d{}",
                "(d || (d && (d == (d < (d + (d * ".repeat(n / 6),
                "))))))".repeat(n / 6)
            ),
            format!("{}d{}", "min(d, ".repeat(n - 1), ")".repeat(n - 1)),
            format!("{}d{}", "if(d, d, ".repeat(n - 1), ")".repeat(n - 1)),
        ];
        std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                for src in &worst {
                    let e = Expr::compile(src, &["d"]).unwrap_or_else(|e| panic!("{e}"));
                    let _ = e.eval(&[0.5]);
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_string_compiles_or_errs(s in ".{0,40}") {
            if let Ok(e) = Expr::compile(&s, &["x", "y"]) {
                let _ = e.eval(&[1.0, 2.0]);
            }
        }

        #[test]
        fn token_soup_compiles_or_errs(
            parts in prop::collection::vec(prop::sample::select(&[
                "(", ")", ",", "x", "y", "1", "2.5", ".5", "1e3", "1e", "+", "-", "*", "/", "%",
                "^", "**", "<", "<=", "==", "!=", "!", "&&", "||", "and", "or", "not", "exp",
                "min", "max", "if", "clip", "heaviside", "pi", "e", "inf", " ", "=", "&", "?",
                "é", "é(", "x(", "exp(", ")(", "1.2.3", "_", "\u{0}",
            ][..]), 0..30)
        ) {
            let s: String = parts.concat();
            match Expr::compile(&s, &["x", "y"]) {
                Ok(e) => {
                    let _ = e.eval(&[1.0, f64::NAN]);
                    let _ = e.uses("x");
                }
                Err(err) => {
                    let msg = err.to_string();
                    prop_assert!(msg.starts_with("in expression "), "{msg}");
                    if let Some(col) = err.column() {
                        prop_assert!(col >= 1 && col <= s.chars().count() + 1, "{msg}");
                    }
                }
            }
        }
    }
}
