//! Why an expression was refused: [`ExprError`] names the expression, the column and what is wrong.

use super::ops::FUNCTIONS;
use super::{MAX_HEIGHT, MAX_NESTING};

/// Why an expression was refused. The message names the expression, the
/// 1-based column (character position) and what is wrong, e.g.
/// `in expression "exp(-q / 50)": unknown variable 'q' at column 6 (known: d, i, j)`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The expression is empty or only whitespace.
    #[error("in expression {expr:?}: the expression is empty")]
    Empty {
        /// The expression's source.
        expr: String,
    },
    /// Malformed input: an unexpected character or token, a malformed number,
    /// a missing operand or operator.
    #[error("in expression {expr:?}: syntax error at column {column}: {message}")]
    Syntax {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A name that is neither a declared variable nor a constant.
    #[error(
        "in expression {expr:?}: unknown variable '{name}' at column {column} (known: {})",
        known_list(.known)
    )]
    UnknownVariable {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the name.
        column: usize,
        /// The unknown name.
        name: String,
        /// The declared variables.
        known: Vec<String>,
    },
    /// A call of a function that does not exist.
    #[error(
        "in expression {expr:?}: unknown function '{name}' at column {column} (known: {})",
        function_list()
    )]
    UnknownFunction {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the name.
        column: usize,
        /// The unknown name.
        name: String,
    },
    /// A function called with the wrong number of arguments.
    #[error(
        "in expression {expr:?}: function '{function}' at column {column} takes {expected} argument{}, got {found}",
        if .expected == "1" { "" } else { "s" }
    )]
    WrongArgumentCount {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the function's name.
        column: usize,
        /// The function's name.
        function: String,
        /// How many arguments it takes, in words (`"2"`, `"1 or 2"`, `"at least 1"`).
        expected: String,
        /// How many it was given.
        found: usize,
    },
    /// Input left over after a complete expression.
    #[error("in expression {expr:?}: unexpected {found} at column {column} after a complete expression")]
    TrailingInput {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the leftover input.
        column: usize,
        /// The leftover token, quoted.
        found: String,
    },
    /// A `(` that is never closed.
    #[error("in expression {expr:?}: unclosed '(' at column {column}")]
    UnclosedParenthesis {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the `(`.
        column: usize,
    },
    /// A `)` without a matching `(`.
    #[error("in expression {expr:?}: unmatched ')' at column {column}")]
    UnmatchedParenthesis {
        /// The expression's source.
        expr: String,
        /// 1-based character position of the `)`.
        column: usize,
    },
    /// Nesting deeper than [`MAX_NESTING`] or a tree higher than [`MAX_HEIGHT`].
    #[error(
        "in expression {expr:?}: expression too deeply nested at column {column} (limits: {MAX_NESTING} levels of nesting, tree height {MAX_HEIGHT})"
    )]
    TooDeep {
        /// The expression's source.
        expr: String,
        /// 1-based character position where the limit was passed.
        column: usize,
    },
}

impl ExprError {
    /// The source of the refused expression.
    pub fn expr(&self) -> &str {
        match self {
            ExprError::Empty { expr }
            | ExprError::Syntax { expr, .. }
            | ExprError::UnknownVariable { expr, .. }
            | ExprError::UnknownFunction { expr, .. }
            | ExprError::WrongArgumentCount { expr, .. }
            | ExprError::TrailingInput { expr, .. }
            | ExprError::UnclosedParenthesis { expr, .. }
            | ExprError::UnmatchedParenthesis { expr, .. }
            | ExprError::TooDeep { expr, .. } => expr,
        }
    }

    /// The 1-based column (character position) of the problem, if it has one.
    pub fn column(&self) -> Option<usize> {
        match self {
            ExprError::Empty { .. } => None,
            ExprError::Syntax { column, .. }
            | ExprError::UnknownVariable { column, .. }
            | ExprError::UnknownFunction { column, .. }
            | ExprError::WrongArgumentCount { column, .. }
            | ExprError::TrailingInput { column, .. }
            | ExprError::UnclosedParenthesis { column, .. }
            | ExprError::UnmatchedParenthesis { column, .. }
            | ExprError::TooDeep { column, .. } => Some(*column),
        }
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    }
}

fn function_list() -> String {
    let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::testing::err;

    #[test]
    fn error_messages() {
        let vars = ["d", "i", "j"];
        assert_eq!(
            err("exp(-q / 50)", &vars).to_string(),
            "in expression \"exp(-q / 50)\": unknown variable 'q' at column 6 (known: d, i, j)"
        );
        assert_eq!(
            err("q", &[]).to_string(),
            "in expression \"q\": unknown variable 'q' at column 1 (known: none)"
        );
        let e = err("1 + foo(d)", &vars);
        assert!(matches!(&e, ExprError::UnknownFunction { column: 5, name, .. } if name == "foo"));
        assert!(e.to_string().contains("unknown function 'foo' at column 5"), "{e}");
        let e = err("atan2(d)", &vars);
        assert!(matches!(
            e,
            ExprError::WrongArgumentCount {
                column: 1,
                found: 1,
                ..
            }
        ));
        assert!(
            e.to_string()
                .contains("function 'atan2' at column 1 takes 2 arguments, got 1"),
            "{e}"
        );
        let e = err("exp()", &vars);
        assert!(e.to_string().contains("takes 1 argument, got 0"), "{e}");
        assert!(err("min()", &vars).to_string().contains("takes at least 1 argument"));
        assert!(
            err("heaviside(1,2,3)", &vars)
                .to_string()
                .contains("takes 1 or 2 arguments, got 3")
        );
        assert!(matches!(err("", &vars), ExprError::Empty { .. }));
        assert!(matches!(err("  \t ", &vars), ExprError::Empty { .. }));
        assert_eq!(err("   ", &vars).column(), None);
        assert!(matches!(err("1 2", &vars), ExprError::TrailingInput { column: 3, .. }));
        assert_eq!(
            err("d d", &vars).to_string(),
            "in expression \"d d\": unexpected 'd' at column 3 after a complete expression"
        );
        assert!(matches!(
            err("(1 + 2", &vars),
            ExprError::UnclosedParenthesis { column: 1, .. }
        ));
        assert!(matches!(
            err("1 + (2 * (3)", &vars),
            ExprError::UnclosedParenthesis { column: 5, .. }
        ));
        assert!(matches!(
            err("min(1, 2", &vars),
            ExprError::UnclosedParenthesis { column: 4, .. }
        ));
        assert!(matches!(
            err("1 + 2)", &vars),
            ExprError::UnmatchedParenthesis { column: 6, .. }
        ));
        assert!(matches!(err("(1 2)", &vars), ExprError::Syntax { column: 4, .. }));
        assert!(matches!(err("1 +", &vars), ExprError::Syntax { column: 4, .. }));
        assert!(matches!(err("* 2", &vars), ExprError::Syntax { column: 1, .. }));
        assert!(matches!(err("()", &vars), ExprError::Syntax { column: 2, .. }));
        assert!(matches!(err("min(1,)", &vars), ExprError::Syntax { column: 7, .. }));
        assert!(matches!(err("d = 1", &vars), ExprError::Syntax { column: 3, .. }));
        assert!(matches!(err("d & 1", &vars), ExprError::Syntax { column: 3, .. }));
        assert!(matches!(err("d ? 1 : 2", &vars), ExprError::Syntax { column: 3, .. }));
        assert!(matches!(err("1 $ 2", &vars), ExprError::Syntax { column: 3, .. }));
        assert!(matches!(
            err("é $", &vars),
            ExprError::UnknownVariable { column: 1, .. }
        ));
        assert!(matches!(
            err("1 + é", &vars),
            ExprError::UnknownVariable { column: 5, .. }
        ));
        assert!(matches!(err("ö + $", &["ö"]), ExprError::Syntax { column: 5, .. }));
        let e = err("2d", &vars);
        assert!(
            e.to_string().contains("malformed number '2d' (write 2*d to multiply)"),
            "{e}"
        );
        assert!(matches!(err("1e", &vars), ExprError::Syntax { column: 1, .. }));
        assert!(matches!(err("1.2.3", &vars), ExprError::Syntax { column: 1, .. }));
        assert!(matches!(err(".", &vars), ExprError::Syntax { column: 1, .. }));
        assert!(matches!(err("exp + 1", &vars), ExprError::Syntax { column: 1, .. }));
        assert_eq!(err("exp + 1", &vars).expr(), "exp + 1");
        assert_eq!(err("1 +", &vars).column(), Some(4));
    }
}
