//! Linear algebra, a leaf that knows no engine type: eigenvalues of square
//! real matrices and the matrix products of rate networks.
//!
//! - [`mat_mul_into`]: `c = a b` or `c += a b` by the `gemm` crate, one
//!   thread (the rate step and training).
//!
//! - [`eigenvalues_dense`]: every eigenvalue of a small dense matrix, by
//!   `nalgebra`'s real Schur decomposition (Francis double-shift QR), a
//!   well-kept solver rather than one of our own.
//! - [`largest_eigenvalues`]: the `k` eigenvalues of largest magnitude of a
//!   large (sparse) matrix given only as a product `y = A x`, by thick-restart
//!   Arnoldi (`arnoldi.rs`): the Ritz vectors of the wanted values are kept
//!   at each restart, as Krylov-Schur does, the small projected eigenproblem
//!   is solved by [`eigenvalues_dense`] and the Ritz vectors by inverse
//!   iteration on it.
//!
//! Used by `projection/spectral.rs` (spectral radius, scaling to a target
//! radius, eigenvalues of a recurrent projection).

mod arnoldi;
mod gemm;

pub use arnoldi::{ArnoldiOptions, largest_eigenvalues};
pub use gemm::mat_mul_into;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// A complex eigenvalue `re + i im`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eigenvalue {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Eigenvalue {
    /// Magnitude `|λ|`.
    pub fn norm(self) -> f64 {
        self.re.hypot(self.im)
    }
}

/// Why an eigenvalue computation gave no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LinalgError {
    /// The matrix has no rows.
    #[error("the matrix is empty")]
    Empty,
    /// The data do not make an n x n matrix.
    #[error("{len} entries do not make a {n} x {n} matrix")]
    NotSquare {
        /// Rows wanted.
        n: usize,
        /// Entries given.
        len: usize,
    },
    /// An entry is NaN or infinite.
    #[error("entry {index} is not finite")]
    NotFinite {
        /// Row-major index of the entry.
        index: usize,
    },
    /// The QR iteration did not converge.
    #[error("the Schur decomposition did not converge in {iterations} iterations")]
    NoConvergence {
        /// Iterations tried.
        iterations: usize,
    },
    /// Arnoldi did not reach the tolerance.
    #[error(
        "Arnoldi: {converged} of {wanted} eigenvalues converged to {tol:e} in {restarts} restarts (largest residual {residual:e}); raise max_restarts or the Krylov dimension, or use the dense solver"
    )]
    NotConverged {
        /// Eigenvalues wanted.
        wanted: usize,
        /// Eigenvalues that met the tolerance.
        converged: usize,
        /// Relative tolerance.
        tol: f64,
        /// Restarts done.
        restarts: usize,
        /// Largest relative residual among the wanted.
        residual: f64,
    },
    /// A request that cannot be met (k = 0, k > n, a Krylov dimension too small).
    #[error("{0}")]
    Request(String),
}

/// Every eigenvalue of the `n` x `n` matrix `a` (row-major), sorted by
/// magnitude, largest first (a conjugate pair: positive imaginary part first).
pub fn eigenvalues_dense(n: usize, a: &[f64]) -> Result<Vec<Eigenvalue>, LinalgError> {
    if n == 0 {
        return Err(LinalgError::Empty);
    }
    if a.len() != n * n {
        return Err(LinalgError::NotSquare { n, len: a.len() });
    }
    if let Some(index) = a.iter().position(|x| !x.is_finite()) {
        return Err(LinalgError::NotFinite { index });
    }
    let m = DMatrix::from_row_slice(n, n, a);
    Ok(sorted(matrix_eigenvalues(m)?))
}

/// Eigenvalues of a square nalgebra matrix (unsorted).
pub(crate) fn matrix_eigenvalues(m: DMatrix<f64>) -> Result<Vec<Eigenvalue>, LinalgError> {
    let n = m.nrows();
    if n == 1 {
        return Ok(vec![Eigenvalue { re: m[(0, 0)], im: 0.0 }]);
    }
    let iterations = 100 * n.max(10);
    let schur =
        nalgebra::Schur::try_new(m, f64::EPSILON, iterations).ok_or(LinalgError::NoConvergence { iterations })?;
    Ok(schur
        .complex_eigenvalues()
        .iter()
        .map(|c| Eigenvalue { re: c.re, im: c.im })
        .collect())
}

/// Sorts by magnitude, largest first; ties by imaginary part, positive first.
pub(crate) fn sorted(mut v: Vec<Eigenvalue>) -> Vec<Eigenvalue> {
    v.sort_by(|a, b| b.norm().total_cmp(&a.norm()).then(b.im.total_cmp(&a.im)));
    v
}

/// The largest magnitude of the eigenvalues (the spectral radius) of a dense `n` x `n` matrix.
pub fn spectral_radius_dense(n: usize, a: &[f64]) -> Result<f64, LinalgError> {
    Ok(eigenvalues_dense(n, a)?[0].norm())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_eigenvalues() {
        // rotation by 90 degrees scaled by 2: +-2i
        let e = eigenvalues_dense(2, &[0.0, -2.0, 2.0, 0.0]).unwrap();
        assert!((e[0].re).abs() < 1e-12 && (e[0].im - 2.0).abs() < 1e-12, "{e:?}");
        assert!((e[1].im + 2.0).abs() < 1e-12);
        // upper triangular: its diagonal
        let e = eigenvalues_dense(3, &[1.0, 5.0, 7.0, 0.0, -3.0, 2.0, 0.0, 0.0, 2.0]).unwrap();
        let re: Vec<f64> = e.iter().map(|x| x.re).collect();
        assert!((re[0] + 3.0).abs() < 1e-12 && (re[1] - 2.0).abs() < 1e-12 && (re[2] - 1.0).abs() < 1e-12);
        assert_eq!(
            eigenvalues_dense(1, &[4.0]).unwrap()[0],
            Eigenvalue { re: 4.0, im: 0.0 }
        );
        assert_eq!(eigenvalues_dense(0, &[]).unwrap_err(), LinalgError::Empty);
        assert_eq!(
            eigenvalues_dense(2, &[1.0; 3]).unwrap_err().to_string(),
            "3 entries do not make a 2 x 2 matrix"
        );
        assert_eq!(
            eigenvalues_dense(1, &[f64::NAN]).unwrap_err().to_string(),
            "entry 0 is not finite"
        );
    }
}
