//! The crate's error type.
//!
//! Every error a user can cause (a wrong array length, an unknown name, a
//! probability outside [0, 1], a non-positive time constant, an impossible
//! degree, a corrupt file) is reported as a [`CortecsError`] that says what is
//! wrong and where, before anything is built. Nothing reachable from user
//! input panics.

use std::path::PathBuf;

/// Result with the crate's error type.
pub type Result<T, E = CortecsError> = std::result::Result<T, E>;

/// Everything that can go wrong in cortecs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CortecsError {
    /// A parameter value is not acceptable (wrong range, wrong length, bad distribution).
    #[error("{context}: {message}")]
    InvalidParameter {
        /// Where: population/projection and parameter name.
        context: String,
        /// What is wrong.
        message: String,
    },
    /// An array does not have the length its use needs.
    #[error("{context}: array has length {got}, expected {expected}")]
    WrongLength {
        /// Where: population/projection and parameter name.
        context: String,
        /// The length needed.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A name does not refer to anything that exists.
    #[error("unknown {kind} '{name}'{}{}", did_you_mean(.name, .known), known_list(.known))]
    UnknownName {
        /// What kind of thing: population, projection, parameter, model, ...
        kind: &'static str,
        /// The name given.
        name: String,
        /// The names that do exist.
        known: Vec<String>,
    },
    /// A name is used twice where names must be unique.
    #[error("duplicate {kind} name '{name}'")]
    DuplicateName {
        /// What kind of thing.
        kind: &'static str,
        /// The name used twice.
        name: String,
    },
    /// An expression could not be compiled.
    #[error("{context}: {source}")]
    Expression {
        /// Where the expression was used.
        context: String,
        /// The compiler's message (names the expression and column).
        #[source]
        source: crate::expr::ExprError,
    },
    /// A spatial structure is invalid.
    #[error("{context}: {source}")]
    Spatial {
        /// Which population.
        context: String,
        /// What is wrong.
        #[source]
        source: crate::space::SpaceError,
    },
    /// A connection request cannot be satisfied (see [`crate::connect::ConnectError`]).
    #[error(transparent)]
    Connect(#[from] crate::connect::ConnectError),
    /// A request that does not fit the current state (e.g. index out of range).
    #[error("{0}")]
    InvalidRequest(String),
    /// An allocation of a size the user chose (a dense matrix, a population's
    /// state, a store) does not fit in memory; `what` names its owner.
    #[error("{what}: cannot allocate {} ({}); nothing was changed", crate::io::bytes_text(*bytes), available_text(*available))]
    Allocation {
        /// The owner and what was being allocated.
        what: String,
        /// Bytes asked for.
        bytes: u128,
        /// Bytes available (`MemAvailable`), if known.
        available: Option<u64>,
    },
    /// A network would not fit in memory.
    #[error("network needs an estimated {estimate_bytes} bytes ({detail}), but only {available_bytes} are available")]
    OutOfMemory {
        /// Estimated bytes.
        estimate_bytes: u64,
        /// Bytes available.
        available_bytes: u64,
        /// How the estimate was made.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Writing a recording failed.
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
    /// A mask is invalid (wrong shape, entry out of range, wrong length).
    #[error(transparent)]
    Mask(#[from] crate::mask::MaskError),
    /// A checkpoint cannot be saved or loaded.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// A `.npy` file cannot be read.
    #[error(transparent)]
    Npy(#[from] crate::io::NpyError),
    /// A synapse store refused a request (a pair out of range, malformed arrays).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A projection refused an edit (no such synapse, a forbidden or wrong-sign one, a bad matrix).
    #[error(transparent)]
    Projection(#[from] crate::projection::ProjectionError),
    /// The state became NaN or infinite during a run (the message of the health check's finding).
    #[error("{0}")]
    NonFinite(String),
    /// The run was stopped from outside (Ctrl-C, SIGTERM) at a step boundary; the message says where.
    #[error("{0}")]
    Interrupted(String),
    /// A scene file is invalid.
    #[error("{path}:{line}:{column}: {message}")]
    Scene {
        /// The scene file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// ` (did you mean 'x'?)` for the known name nearest to `name` by edit
/// distance, when it is close enough to be a typo (at most a third of the
/// longer name's characters differ); empty otherwise.
pub fn did_you_mean<S: AsRef<str>>(name: &str, known: &[S]) -> String {
    nearest(name, known).map_or(String::new(), |k| format!(" (did you mean '{k}'?)"))
}

/// The known name nearest to `name` by Levenshtein distance, when at most a
/// third of the longer name's characters differ (ties: the first).
pub fn nearest<'a, S: AsRef<str>>(name: &str, known: &'a [S]) -> Option<&'a str> {
    let (mut best, mut best_d) = (None, usize::MAX);
    for k in known {
        let k = k.as_ref();
        let d = levenshtein(name, k);
        if d < best_d && k != name {
            (best, best_d) = (Some(k), d);
        }
    }
    let longer = best.map_or(0, |b: &str| b.chars().count().max(name.chars().count()));
    best.filter(|_| best_d > 0 && best_d * 3 <= longer)
}

/// Edit distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters, one each (optimal string alignment, so `modle` is
/// one edit from `model`).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let w = b.len() + 1;
    let mut d: Vec<usize> = vec![0; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let sub = d[(i - 1) * w + j - 1] + usize::from(a[i - 1] != b[j - 1]);
                let mut best = sub.min(d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * w + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * w + b.len()]
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (known: {})", known.join(", "))
    }
}

impl CortecsError {
    /// Shorthand for [`CortecsError::InvalidParameter`].
    pub fn param(context: impl Into<String>, message: impl Into<String>) -> Self {
        CortecsError::InvalidParameter {
            context: context.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CortecsError::File`].
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        CortecsError::File {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// Shorthand for a [`crate::connect::ConnectError::Rule`]: a connection
    /// request of `projection` that cannot be satisfied.
    pub fn connection(projection: &str, message: impl Into<String>) -> Self {
        CortecsError::Connect(crate::connect::ConnectError::rule(projection, message))
    }
}

fn available_text(available: Option<u64>) -> String {
    match available {
        Some(b) => format!("{} available", crate::io::bytes_text(b.into())),
        None => "the allocator refused".into(),
    }
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn levenshtein_counts_single_character_edits() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("FixedProbabilty", "FixedProbability"), 1);
        assert_eq!(levenshtein("same", "same"), 0);
        assert_eq!(levenshtein("modle", "model"), 1, "a swap is one edit");
        assert_eq!(levenshtein("ab", "ba"), 1);
    }

    #[test]
    fn nearest_suggests_only_close_names() {
        let known = ["exc", "inh", "input"];
        assert_eq!(nearest("exx", &known), Some("exc"));
        assert_eq!(nearest("inpt", &known), Some("input"));
        assert_eq!(nearest("zzzzzz", &known), None);
        assert_eq!(did_you_mean("inhh", &known), " (did you mean 'inh'?)");
    }
}
