//! Compiled arithmetic expressions over named `f64` variables: a leaf floor
//! that imports nothing of the crate, used by `param/` (parameter values),
//! `connect/` (probability functions) and `population/` (set by expression).
//! Files: `lexer.rs`, `parser.rs`, `ops.rs` (operators and functions),
//! `eval.rs` (constant folding and compiled closures), `error.rs`.
//!
//! Scene files give parameter values as small expression strings such as
//! `"exp(-d / 50.0)"`, `"-50 + 0.5*x - 0.2*y"`, `"if(i == j, 0, 1)"` or
//! `"abs(i - j) < 3"`. An [`Expr`] is parsed and checked once against the
//! variable names the caller declares ([`Expr::compile`]), constant-folded,
//! and compiled to a small tree of specialised closures; it can then be
//! evaluated many millions of times ([`Expr::eval`]) without allocating.
//!
//! # Language
//!
//! * Numbers: `3`, `2.5`, `.5`, `1.`, `1e-3`, `2.5E+4`. There is no implicit
//!   multiplication: write `2*x`, not `2x`.
//! * Variables: the names given to [`Expr::compile`]. Identifiers are a
//!   letter or `_` followed by letters, digits or `_`.
//! * Constants: `pi`, `e`, `inf` (a declared variable of the same name wins).
//!   `and`, `or` and `not` are operators, not names.
//! * Operators, from lowest to highest precedence (all binary operators are
//!   left-associative except power):
//!
//!   | operators                 | meaning                                  |
//!   |---------------------------|------------------------------------------|
//!   | `\|\|`, `or`              | logical or                               |
//!   | `&&`, `and`               | logical and                              |
//!   | `==`, `!=`                | equality                                 |
//!   | `<`, `<=`, `>`, `>=`      | ordering                                 |
//!   | `+`, `-`                  | sum, difference                          |
//!   | `*`, `/`, `%`             | product, quotient, floored modulo        |
//!   | unary `-`, `+`, `!`, `not`| negation, identity, logical not          |
//!   | `^`, `**`                 | power, right-associative: `2^3^2 = 512`  |
//!
//!   Power binds tighter than unary minus, so `-2^2 = -4`, and its exponent
//!   may carry a sign: `2^-1 = 0.5`. `not` binds like `!`, so write
//!   `not (i == j)`.
//! * Truth: `0` is false, anything else (NaN included) is true. Comparisons
//!   and logical operators give `1` or `0`; comparisons with NaN are false
//!   (`!=` true).
//! * `a % b` is the floored modulo, with the sign of `b`: `-1 % 3 = 2`.
//! * `if(cond, a, b)` is `a` where `cond` is true, else `b` (only the chosen
//!   branch is computed).
//! * Functions: `exp`, `log` and `ln` (natural), `log10`, `log2`, `sqrt`,
//!   `abs`, `sin`, `cos`, `tan`, `asin`, `acos`, `atan`, `atan2(y, x)`,
//!   `sinh`, `cosh`, `tanh`, `floor`, `ceil`, `round` (half away from zero),
//!   `sign` (`-1`, `0` or `1`), `min(a, b, ...)`, `max(a, b, ...)` (NaN if
//!   any argument is NaN), `pow(a, b)` (same as `a ^ b`), `clip(x, lo, hi)`
//!   (`min(max(x, lo), hi)`), `heaviside(x)` (`1` for `x >= 0`, else `0`),
//!   `heaviside(x, h0)` (`h0` at `x = 0`), `sigmoid(x)` (`1 / (1 + exp(-x))`),
//!   `relu(x)` (`max(x, 0)`), and `if(cond, a, b)`. A declared variable may
//!   have a function's name; it is read as the variable unless followed by `(`.
//!
//! Evaluation follows IEEE 754 double arithmetic exactly as the expression is
//! written: constant folding and the compiler's rewrites never change a
//! result (`x / 50` stays a division), except that `x ^ 2` is always
//! computed as `x * x`.
//!
//! Nesting is limited to [`MAX_NESTING`] levels of parentheses, calls and
//! unary operators, and the expression tree to a height of [`MAX_HEIGHT`],
//! so that no input can exhaust the stack.
//!
//! # Where the pieces are
//!
//! `lexer.rs` turns characters into tokens, `parser.rs` builds the
//! constant-folded syntax tree (and enforces the limits), `ops.rs` holds the
//! operations and the function table that both the folding and the compiled
//! code use, `eval.rs` compiles the tree to closures, and `error.rs` holds
//! [`ExprError`]. Expressions are parameter values (`param::Value::Expr`)
//! and connection probabilities (the connection rules compile them once per
//! projection).

use std::fmt;
use std::sync::Arc;

mod error;
mod eval;
mod lexer;
mod ops;
mod parser;

pub use error::ExprError;
use eval::{Eval, node};
use parser::{Parser, mark_used};

/// The deepest nesting of parentheses, function calls and unary operators
/// that [`Expr::compile`] accepts.
pub const MAX_NESTING: u32 = 64;

/// The greatest height of the expression tree (e.g. the number of terms in a
/// sum without parentheses) that [`Expr::compile`] accepts.
pub const MAX_HEIGHT: u32 = 256;

/// A compiled expression over named `f64` variables.
///
/// `Send + Sync`; clones share the compiled code, and evaluation never
/// allocates.
#[derive(Clone)]
pub struct Expr {
    source: String,
    variables: Vec<String>,
    used: Vec<bool>,
    constant: Option<f64>,
    root: Arc<Eval>,
}

impl Expr {
    /// Parses and checks `source`; `variables` are the names the expression
    /// may use, in the order [`Expr::eval`] receives their values.
    pub fn compile(source: &str, variables: &[&str]) -> Result<Expr, ExprError> {
        let ast = Parser::new(source, variables).parse()?;
        let mut used = vec![false; variables.len()];
        mark_used(&ast, &mut used);
        Ok(Expr {
            source: source.to_string(),
            variables: variables.iter().map(|s| s.to_string()).collect(),
            used,
            constant: ast.as_num(),
            root: Arc::from(node(&ast)),
        })
    }

    /// Evaluates with `values[k]` bound to `variables[k]`.
    ///
    /// Never panics when `values.len() >= variables.len()` (extra values are
    /// ignored); a shorter slice is a caller bug (it may panic).
    #[inline]
    pub fn eval(&self, values: &[f64]) -> f64 {
        debug_assert!(
            values.len() >= self.variables.len(),
            "expression {:?} needs {} values, got {}",
            self.source,
            self.variables.len(),
            values.len()
        );
        (self.root)(values)
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The declared variable names, in the order [`Expr::eval`] takes values.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Whether the expression actually uses the declared variable `name`
    /// after constant folding (so callers can skip computing it); `false`
    /// for names that were not declared.
    pub fn uses(&self, name: &str) -> bool {
        self.variables
            .iter()
            .position(|v| v == name)
            .is_some_and(|k| self.used[k])
    }

    /// `Some(c)` if the expression is the constant `c` (after folding).
    pub fn as_constant(&self) -> Option<f64> {
        self.constant
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expr")
            .field("source", &self.source)
            .field("variables", &self.variables)
            .field("constant", &self.constant)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Helpers shared by the tests of this folder.
#[cfg(test)]
mod testing {
    use super::{Expr, ExprError};

    pub(super) fn ev(src: &str, vars: &[&str], vals: &[f64]) -> f64 {
        match Expr::compile(src, vars) {
            Ok(e) => e.eval(vals),
            Err(err) => panic!("{err}"),
        }
    }

    pub(super) fn c(src: &str) -> f64 {
        ev(src, &[], &[])
    }

    pub(super) fn err(src: &str, vars: &[&str]) -> ExprError {
        match Expr::compile(src, vars) {
            Ok(e) => panic!("{src:?} compiled to {e:?}"),
            Err(e) => e,
        }
    }

    pub(super) fn same(a: f64, b: f64) -> bool {
        a == b || (a.is_nan() && b.is_nan())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::ev;
    use super::*;

    #[test]
    fn names_shadowing_and_uses() {
        // A variable may be named like a function or a constant.
        assert_eq!(ev("exp * 2", &["exp"], &[3.0]), 6.0);
        assert_eq!(ev("exp(exp)", &["exp"], &[0.0]), 1.0);
        assert_eq!(ev("e + 1", &["e"], &[1.0]), 2.0);
        assert_eq!(ev("α + _b2", &["α", "_b2"], &[1.0, 2.0]), 3.0);

        let e = Expr::compile("if(1, 2*i, d)", &["i", "j", "d"]).unwrap();
        assert!(e.uses("i"));
        assert!(!e.uses("j"));
        assert!(!e.uses("d"));
        assert!(!e.uses("nope"));
        assert_eq!(e.as_constant(), None);
        assert_eq!(e.source(), "if(1, 2*i, d)");
        assert_eq!(e.to_string(), "if(1, 2*i, d)");
        assert_eq!(e.variables(), ["i", "j", "d"]);

        let k = Expr::compile("2 * pi * sqrt(4) + max(1, 2)", &["d"]).unwrap();
        assert_eq!(k.as_constant(), Some(4.0 * std::f64::consts::PI + 2.0));
        assert!(!k.uses("d"));
        assert_eq!(k.eval(&[0.0]), 4.0 * std::f64::consts::PI + 2.0);
        assert_eq!(Expr::compile("d * 0", &["d"]).unwrap().as_constant(), None);
    }

    #[test]
    fn expr_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Expr>();
        check::<ExprError>();
        let e = Expr::compile("x + 1", &["x"]).unwrap();
        let f = e.clone();
        assert_eq!(f.eval(&[1.0]), 2.0);
    }
}
