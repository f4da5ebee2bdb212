//! Statistics users ask for beside `weight_stats` and histograms
//! (`weights.rs`): per-neuron weight sums, the E/I input of each post
//! neuron (of one projection, or of every projection onto a population),
//! and the fraction of weights at the bounds of a learning rule.

use super::Network;
use crate::error::{CortecsError, Result};
use crate::store::{AtBounds, EiInput, SignFilter};

impl Network {
    /// Sum of the signed weights `filter` covers onto each post neuron of a projection.
    pub fn in_weight_sums(&self, projection: &str, filter: SignFilter) -> Result<Vec<f64>> {
        Ok(self.projection(projection)?.store().in_weight_sums(filter))
    }

    /// Sum of the signed weights `filter` covers out of each pre neuron of a projection.
    pub fn out_weight_sums(&self, projection: &str, filter: SignFilter) -> Result<Vec<f64>> {
        Ok(self.projection(projection)?.store().out_weight_sums(filter))
    }

    /// Excitatory and inhibitory input (weight sums, inhibitory as
    /// magnitudes) onto each post neuron of one projection.
    pub fn ei_input(&self, projection: &str) -> Result<EiInput> {
        Ok(self.projection(projection)?.store().ei_input())
    }

    /// Excitatory and inhibitory input onto each neuron of `population`,
    /// summed over every built projection onto it (E and I usually arrive
    /// by separate projections); [`EiInput::ratio`] gives the E/I ratio.
    pub fn ei_input_of(&self, population: &str) -> Result<EiInput> {
        let post = self.population_index(population)?;
        let mut total = EiInput::zeros(self.populations[post].size);
        for p in self.projections.iter().filter(|p| p.post == post) {
            total.add(&p.store().ei_input());
        }
        Ok(total)
    }

    /// The fractions of a projection's synapses (those `filter` covers)
    /// whose weight magnitude is within `tol` of `min` or `max`, the bounds
    /// of a learning rule (`0 <= min <= max`).
    pub fn at_bounds(&self, projection: &str, filter: SignFilter, min: f64, max: f64, tol: f64) -> Result<AtBounds> {
        self.projection(projection)?
            .store()
            .at_bounds(filter, min, max, tol)
            .map_err(|e| CortecsError::param(format!("{projection}.at_bounds"), e.to_string()))
    }
}
