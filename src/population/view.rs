//! Which neurons of a population a get/set addresses (PyNN's `p[0, 2, 4]`, slices and masks).

use crate::error::{CortecsError, Result};

/// A selection of neurons of one population.
#[derive(Clone, Debug, PartialEq)]
pub enum View {
    /// Every neuron.
    All,
    /// These indices, in this order.
    Indices(Vec<usize>),
    /// A half-open range of indices.
    Range(std::ops::Range<usize>),
    /// A boolean mask of the population's size.
    Mask(Vec<bool>),
}

impl View {
    /// The selected indices; out-of-range indices and wrong mask lengths are errors.
    pub fn indices(&self, size: usize, context: &str) -> Result<Vec<usize>> {
        match self {
            View::All => Ok((0..size).collect()),
            View::Indices(v) => {
                if let Some(&bad) = v.iter().find(|&&i| i >= size) {
                    return Err(CortecsError::InvalidRequest(format!(
                        "{context}: index {bad} is out of range for {size} neurons"
                    )));
                }
                Ok(v.clone())
            }
            View::Range(r) => {
                if r.end > size || r.start > r.end {
                    return Err(CortecsError::InvalidRequest(format!(
                        "{context}: range {r:?} is out of range for {size} neurons"
                    )));
                }
                Ok(r.clone().collect())
            }
            View::Mask(m) => {
                if m.len() != size {
                    return Err(CortecsError::WrongLength {
                        context: format!("{context} mask"),
                        expected: size,
                        got: m.len(),
                    });
                }
                Ok(m.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect())
            }
        }
    }
}
