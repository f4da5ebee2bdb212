//! Simbrain's weight-matrix operations on a projection: eigenvalues,
//! spectral radius, scaling to a target spectral radius, randomize
//! symmetric. The matrix is `W`, post x pre (`y = W r`; multapses summed).
//!
//! Eigenvalues are computed by [`crate::linalg`]: every one by `nalgebra`'s
//! dense Schur decomposition for up to [`DENSE_EIGEN_MAX`] neurons, the few
//! largest by magnitude by Arnoldi on the sparse product above that (or when
//! asked, [`EigenMethod`]).

use super::error::{ProjectionError, ProjectionResult as Result};
use super::projection::Touched;
use super::*;
use crate::linalg::{self, ArnoldiOptions, Eigenvalue};
use crate::param::Distribution;
use crate::rng::Stream;
use rayon::prelude::*;

/// Largest matrix whose `k` largest eigenvalues [`EigenMethod::Auto`]
/// computes densely (about 0.3 s at this size, 2 s at 1000 neurons: the
/// dense cost grows as n^3; Arnoldi took 0.07 s at 1000 and 0.2 to 4 s at
/// 10,000 neurons with 2 M synapses).
pub const DENSE_EIGEN_MAX: usize = 500;

/// Largest matrix whose every eigenvalue [`EigenMethod::Auto`] computes
/// (about 15 s at this size); above it only [`EigenMethod::Dense`] asked
/// explicitly does.
pub const DENSE_ALL_MAX: usize = 2000;

/// How eigenvalues are computed.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum EigenMethod {
    /// Dense up to [`DENSE_EIGEN_MAX`] neurons, Arnoldi above.
    #[default]
    Auto,
    /// Every eigenvalue from the dense matrix (nalgebra's Schur decomposition).
    Dense,
    /// The largest by magnitude by thick-restart Arnoldi on the sparse product.
    Arnoldi(ArnoldiOptions),
}

/// `n` when the store's matrix is square and has neurons.
fn square(store: &SynapseStore, projection: &str, what: &'static str) -> Result<usize> {
    if store.n_pre != store.n_post {
        return Err(ProjectionError::NotSquare {
            projection: projection.to_string(),
            what,
            n_post: store.n_post,
            n_pre: store.n_pre,
        });
    }
    if store.n_pre == 0 {
        return Err(ProjectionError::Matrix {
            projection: projection.to_string(),
            message: format!("{what} of an empty (0 x 0) weight matrix"),
        });
    }
    Ok(store.n_pre as usize)
}

fn linalg_error(projection: &str, e: linalg::LinalgError) -> ProjectionError {
    ProjectionError::Matrix {
        projection: projection.to_string(),
        message: format!("eigenvalues: {e}"),
    }
}

/// `y = W x` over a post x pre CSR (rows in parallel; each row summed in order).
fn csr_matvec(csr: &Csr, x: &[f64], y: &mut [f64]) {
    y.par_iter_mut().enumerate().for_each(|(r, out)| {
        let (a, b) = (csr.indptr[r] as usize, csr.indptr[r + 1] as usize);
        *out = csr.indices[a..b]
            .iter()
            .zip(&csr.data[a..b])
            .map(|(&c, &w)| f64::from(w) * x[c as usize])
            .sum();
    });
}

/// The eigenvalues of `store`'s weight matrix, largest magnitude first:
/// all of them (`k = None`, dense only) or the `k` largest.
pub fn eigenvalues(
    store: &SynapseStore,
    projection: &str,
    k: Option<usize>,
    method: EigenMethod,
) -> Result<Vec<Eigenvalue>> {
    let n = square(store, projection, "eigenvalues")?;
    let dense = match method {
        EigenMethod::Dense => true,
        EigenMethod::Arnoldi(_) => false,
        EigenMethod::Auto => n <= DENSE_EIGEN_MAX || k.is_none(),
    };
    if let Some(k) = k
        && (k == 0 || k > n)
    {
        return Err(ProjectionError::Matrix {
            projection: projection.to_string(),
            message: format!("eigenvalues: k = {k} requested of a {n} x {n} matrix"),
        });
    }
    if dense && k.is_none() && method == EigenMethod::Auto && n > DENSE_ALL_MAX {
        return Err(ProjectionError::Matrix {
            projection: projection.to_string(),
            message: format!(
                "every eigenvalue of a {n} x {n} matrix needs the dense solver (time n^3, memory 8 n^2 bytes); ask for the k largest, or for EigenMethod::Dense explicitly"
            ),
        });
    }
    if dense {
        let too_big = |e: crate::CortecsError| ProjectionError::Matrix {
            projection: projection.to_string(),
            message: format!("the dense eigenvalue solver: {e}"),
        };
        let mut a = crate::io::try_filled(n * n, 0.0f64, || format!("a {n} x {n} float64 matrix")).map_err(too_big)?;
        for (x, &w) in a.iter_mut().zip(store.try_to_dense("").map_err(too_big)?.iter()) {
            *x = f64::from(w);
        }
        let mut all = linalg::eigenvalues_dense(n, &a).map_err(|e| linalg_error(projection, e))?;
        if let Some(k) = k {
            all.truncate(k);
        }
        return Ok(all);
    }
    let Some(k) = k else {
        return Err(ProjectionError::Matrix {
            projection: projection.to_string(),
            message: "every eigenvalue needs the dense solver; Arnoldi gives the k largest".into(),
        });
    };
    let opts = match method {
        EigenMethod::Arnoldi(o) => o,
        _ => ArnoldiOptions::default(),
    };
    if store.live() == 0 {
        return Ok(vec![Eigenvalue { re: 0.0, im: 0.0 }; k]);
    }
    let csr = Csr::of_store(store);
    linalg::largest_eigenvalues(n, k, |x, y| csr_matvec(&csr, x, y), opts).map_err(|e| linalg_error(projection, e))
}

/// The spectral radius (largest eigenvalue magnitude) of `store`'s weight matrix.
pub fn spectral_radius(store: &SynapseStore, projection: &str, method: EigenMethod) -> Result<f64> {
    Ok(eigenvalues(store, projection, Some(1), method)?[0].norm())
}

impl Projection {
    /// Eigenvalues of the weight matrix (post x pre), largest magnitude
    /// first: all (`k = None`) or the `k` largest. An error for a
    /// non-square or empty matrix.
    pub fn eigenvalues(&self, k: Option<usize>, method: EigenMethod) -> Result<Vec<Eigenvalue>> {
        eigenvalues(&self.store, &self.name, k, method)
    }

    /// The spectral radius of the weight matrix.
    pub fn spectral_radius(&self, method: EigenMethod) -> Result<f64> {
        spectral_radius(&self.store, &self.name, method)
    }

    /// Multiplies every weight by `target / radius`; returns what the
    /// adjustment did and the factor.
    pub(crate) fn scale_to_spectral_radius(&mut self, target: f64, method: EigenMethod) -> Result<(Adjusted, f64)> {
        let radius = self.spectral_radius(method)?;
        if radius == 0.0 {
            return Err(ProjectionError::Matrix {
                projection: self.name.clone(),
                message: format!(
                    "cannot scale to spectral radius {target}: the weight matrix has spectral radius 0 (no synapses, or nilpotent)"
                ),
            });
        }
        let factor = target / radius;
        let done = self.apply_adjuster(&Adjuster::Scale(factor), SignFilter::Both, SignPolicy::Keep, |c| {
            Stream::from_seed(c)
        })?;
        Ok((done, factor))
    }

    /// Simbrain's randomize symmetric (see [`Adjuster::RandomizeSymmetric`]),
    /// drawing from `rng` in store order.
    pub(crate) fn randomize_symmetric(
        &mut self,
        dist: &Distribution,
        filter: SignFilter,
        policy: SignPolicy,
        rng: &mut Stream,
    ) -> Result<Adjusted> {
        const WHAT: &str = "randomize symmetric";
        square(&self.store, &self.name, WHAT)?;
        if !self.recurrent {
            return Err(ProjectionError::NotRecurrent {
                projection: self.name.clone(),
                what: WHAT,
            });
        }
        if policy == SignPolicy::Free && self.store.dale {
            return Err(ProjectionError::DaleKeepsSigns);
        }
        let store = &self.store;
        let live: Vec<usize> = (0..store.len()).filter(|&k| store.sign[k] != REMOVED).collect();
        // the partner (j -> i) of every live (i -> j), and no multapses
        let mut partner = vec![usize::MAX; store.len()];
        for &k in &live {
            let (i, j) = store.pair(k);
            let mut slots = store.find(j, i)?.filter(|&s| store.sign[s] != REMOVED);
            if let Some(s) = slots.next() {
                if slots.next().is_some() || (i == j && s != k) {
                    return Err(ProjectionError::Multapse {
                        projection: self.name.clone(),
                        pre: j,
                        post: i,
                    });
                }
                partner[k] = s;
            }
        }
        let mut value = vec![f64::NAN; store.len()];
        for &k in &live {
            if !value[k].is_nan() {
                continue;
            }
            let x = dist.sample(rng);
            value[k] = x;
            if partner[k] != usize::MAX {
                value[partner[k]] = x;
            }
        }
        let mut touched = Vec::new();
        for k in live {
            let s = self.store.sign[k];
            if !filter.covers(s) {
                continue;
            }
            match policy {
                SignPolicy::Keep => self.store.weight[k] = f32::from(s) * value[k].abs() as f32,
                SignPolicy::Free => self.store.set_weight(k, value[k] as f32),
            }
            touched.push(k);
        }
        let mut done = Adjusted {
            changed: touched.len() as u64,
            ..Adjusted::default()
        };
        done.enforced = self.commit(Touched::Slots(&touched), false);
        Ok(done)
    }
}
