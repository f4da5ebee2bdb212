//! Times and delays as whole numbers of steps: exact, or rounded only when
//! asked for ([`Rounding::Nearest`]).

use crate::error::{CortecsError, Result};
use serde::{Deserialize, Serialize};

/// How a time or delay (ms) that is not a whole number of steps of `dt` is treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rounding {
    /// Refused with an error naming the value and `dt` (the default).
    #[default]
    Exact,
    /// Rounded to the nearest whole step, as Brian2 and NEST do silently.
    Nearest,
}

/// Relative tolerance within which `ms / dt` counts as a whole number.
pub const WHOLE_STEP_TOLERANCE: f64 = 1e-9;

/// `ms` (ms, finite, >= 0) as a number of steps of `dt` (ms); `what` names
/// the value in the error (e.g. `"ee.delay"`, `"run"`).
pub fn whole_steps(what: &str, ms: f64, dt: f64, rounding: Rounding) -> Result<u64> {
    if !(ms.is_finite() && ms >= 0.0) {
        return Err(CortecsError::param(
            what,
            format!("must be a finite time >= 0 ms, got {ms}"),
        ));
    }
    let steps = ms / dt;
    if steps > 2f64.powi(53) {
        return Err(CortecsError::param(
            what,
            format!("{ms:e} ms is {steps:e} steps of {dt} ms, more than can be counted exactly"),
        ));
    }
    let whole = steps.round();
    if rounding == Rounding::Exact && (steps - whole).abs() > WHOLE_STEP_TOLERANCE * steps.max(1.0) {
        return Err(CortecsError::param(
            what,
            format!(
                "{ms} ms is not a whole number of steps of dt = {dt} ms ({steps} steps); \
                 use a multiple of dt, or `rounding: Nearest` to round"
            ),
        ));
    }
    Ok(whole as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_multiples_pass_and_fractions_are_refused_unless_rounding() {
        assert_eq!(whole_steps("run", 0.3, 0.1, Rounding::Exact).unwrap(), 3);
        assert_eq!(whole_steps("run", 1000.0, 0.1, Rounding::Exact).unwrap(), 10_000);
        assert_eq!(whole_steps("run", 0.0, 0.1, Rounding::Exact).unwrap(), 0);
        let e = whole_steps("run", 0.55, 0.1, Rounding::Exact).unwrap_err().to_string();
        assert!(
            e.contains("0.55 ms is not a whole number of steps of dt = 0.1 ms"),
            "{e}"
        );
        assert_eq!(whole_steps("run", 0.55, 0.1, Rounding::Nearest).unwrap(), 6);
        assert_eq!(whole_steps("d", 0.26, 0.1, Rounding::Nearest).unwrap(), 3);
        assert!(whole_steps("d", 0.26, 0.1, Rounding::Exact).is_err());
        assert!(whole_steps("run", 1e300, 0.1, Rounding::Nearest).is_err());
        assert!(whole_steps("run", f64::NAN, 0.1, Rounding::Nearest).is_err());
    }
}
