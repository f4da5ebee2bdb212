//! Statistics users ask for beside `weight_stats` and histograms
//! (`weights.rs`): per-neuron weight sums, the E/I input of each post
//! neuron (of one projection, or of every projection onto a population),
//! and the fraction of weights at the bounds of a learning rule.

use super::Network;
use crate::error::{CortecsError, Result};
use crate::linalg::Eigenvalue;
use crate::projection::EigenMethod;
use crate::store::{AtBounds, EiInput, SignFilter, WeightStats};
use serde::Serialize;

/// Everything the statistics say about one projection (the scene's
/// `Statistics` action writes it as JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectionStats {
    /// The projection.
    pub projection: String,
    /// The step at which it was taken.
    pub step: u64,
    /// Weights of every synapse.
    pub weights: WeightStats,
    /// Weights of the excitatory synapses.
    pub excitatory: WeightStats,
    /// Weights of the inhibitory synapses.
    pub inhibitory: WeightStats,
    /// Live synapses onto each post neuron.
    pub in_degree: Vec<u32>,
    /// Live synapses out of each pre neuron.
    pub out_degree: Vec<u32>,
    /// Sum of the signed weights onto each post neuron.
    pub in_weight_sums: Vec<f64>,
    /// Sum of the signed weights out of each pre neuron.
    pub out_weight_sums: Vec<f64>,
    /// Excitatory and |inhibitory| input of each post neuron.
    pub ei_input: EiInput,
    /// Spectral radius (square matrices only).
    pub spectral_radius: Option<f64>,
    /// The largest eigenvalues by magnitude, as many as asked (square matrices only).
    pub eigenvalues: Vec<Eigenvalue>,
    /// Fractions of the weight magnitudes at the bounds asked for (tolerance
    /// 1e-6 of the upper bound), if any.
    pub at_bounds: Option<AtBounds>,
}

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

    /// Every statistic of a projection at once, with its `eigenvalues`
    /// largest eigenvalues (0 for none; the spectral radius is computed for
    /// every square matrix, [`EigenMethod::Auto`]) and, given magnitude
    /// `bounds` `[min, max]`, the fractions at them.
    pub fn projection_stats(
        &self,
        projection: &str,
        eigenvalues: usize,
        bounds: Option<[f64; 2]>,
    ) -> Result<ProjectionStats> {
        let at_bounds = match bounds {
            Some([lo, hi]) => Some(self.at_bounds(projection, SignFilter::Both, lo, hi, 1e-6 * hi.abs())?),
            None => None,
        };
        let p = self.projection(projection)?;
        let s = p.store();
        let square = s.n_pre == s.n_post && s.n_pre > 0;
        if eigenvalues > 0 && !square {
            // the projection's own error for a non-square matrix
            p.eigenvalues(Some(eigenvalues), EigenMethod::Auto)?;
        }
        let eig = if square {
            p.eigenvalues(Some(eigenvalues.max(1)), EigenMethod::Auto)?
        } else {
            Vec::new()
        };
        Ok(ProjectionStats {
            projection: projection.to_string(),
            step: self.step,
            weights: s.weight_stats(SignFilter::Both),
            excitatory: s.weight_stats(SignFilter::Excitatory),
            inhibitory: s.weight_stats(SignFilter::Inhibitory),
            in_degree: s.in_degree(),
            out_degree: s.out_degree(),
            in_weight_sums: s.in_weight_sums(SignFilter::Both),
            out_weight_sums: s.out_weight_sums(SignFilter::Both),
            ei_input: s.ei_input(),
            spectral_radius: eig.first().map(|e| e.norm()),
            eigenvalues: eig.into_iter().take(eigenvalues).collect(),
            at_bounds,
        })
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
