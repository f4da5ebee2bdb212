//! The by-name facade over Simbrain's matrix operations
//! (`projection/matrix_ops.rs`): eigenvalues, spectral radius, scaling to
//! a target radius. Randomize symmetric is an adjuster
//! ([`Adjuster::RandomizeSymmetric`], through [`Network::adjust`]).

use super::Network;
use crate::error::Result;
use crate::linalg::Eigenvalue;
#[cfg(doc)]
use crate::projection::Adjuster;
use crate::projection::{Adjusted, EigenMethod};

impl Network {
    /// Eigenvalues of a projection's weight matrix (post x pre), largest
    /// magnitude first: all of them (`k = None`, dense) or the `k` largest
    /// (dense up to [`crate::projection::DENSE_EIGEN_MAX`] neurons, Arnoldi
    /// above, unless `method` says). An error for a non-square or empty matrix.
    pub fn eigenvalues(&self, projection: &str, k: Option<usize>, method: EigenMethod) -> Result<Vec<Eigenvalue>> {
        Ok(self.projection(projection)?.eigenvalues(k, method)?)
    }

    /// The spectral radius (largest eigenvalue magnitude) of a projection's weight matrix.
    pub fn spectral_radius(&self, projection: &str, method: EigenMethod) -> Result<f64> {
        Ok(self.projection(projection)?.spectral_radius(method)?)
    }

    /// Multiplies every weight of a projection by one factor so that its
    /// spectral radius becomes `target` (> 0); returns the adjustment and the
    /// factor. The same as [`Adjuster::SpectralRadius`] with a chosen method.
    pub fn scale_spectral_radius(
        &mut self,
        projection: &str,
        target: f64,
        method: EigenMethod,
    ) -> Result<(Adjusted, f64)> {
        let k = self.projection_index(projection)?;
        crate::projection::Adjuster::SpectralRadius(target).validate(
            &format!("{projection}.spectral_radius"),
            self.projections[k].store().n_pre,
            self.projections[k].store().n_post,
        )?;
        Ok(self.projections[k].scale_to_spectral_radius(target, method)?)
    }
}
