//! The errors a connection rule raises, wrapped by `CortecsError::Connect`.

use std::path::PathBuf;

/// Result of the connection rules' internals.
pub type ConnectResult<T> = std::result::Result<T, ConnectError>;

/// Everything that can make a connection rule refuse a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The rule cannot be satisfied with these sizes, flags or data.
    #[error("projection '{projection}': {message}")]
    Rule {
        /// The projection's name.
        projection: String,
        /// What is impossible.
        message: String,
    },
    /// A probability expression does not compile.
    #[error("projection '{projection}': {what}: {source}")]
    Expression {
        /// The projection's name.
        projection: String,
        /// Which expression: the rule and its variables, e.g. `distance_probability p(d)`.
        what: String,
        /// The compiler's message (names the expression and column); boxed
        /// to keep [`ConnectError`] small.
        #[source]
        source: Box<crate::expr::ExprError>,
    },
    /// The space the distances are measured in is invalid.
    #[error("projection '{projection}': {source}")]
    Space {
        /// The projection's name.
        projection: String,
        /// What is wrong.
        #[source]
        source: crate::space::SpaceError,
    },
    /// A list or matrix file cannot be read, or what it holds does not fit.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong (names the line or entry, and the projection).
        message: String,
    },
}

impl ConnectError {
    /// Shorthand for [`ConnectError::Rule`].
    pub fn rule(projection: &str, message: impl Into<String>) -> Self {
        ConnectError::Rule {
            projection: projection.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for [`ConnectError::File`].
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        ConnectError::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
