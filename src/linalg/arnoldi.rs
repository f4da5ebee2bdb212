//! Thick-restart Arnoldi for the eigenvalues of largest magnitude.
//!
//! The decomposition `A V = V H + f e^T` (V orthonormal, n x j) is grown
//! one column at a time (classical Gram-Schmidt, twice). At `m` columns the
//! eigenvalues of the small `H` are the Ritz values; those of largest
//! magnitude whose residual `|f| |e^T y|` is below `tol |λ|` are converged.
//! Otherwise the real and imaginary parts of the Ritz vectors `y` of the
//! wanted values (found by inverse iteration on `H`) are orthonormalised
//! into `Q`, and the decomposition restarts from `V Q` with `H <- Q^T H Q`
//! (thick restart, as Krylov-Schur; no Schur reordering needed).

use super::{Eigenvalue, LinalgError, matrix_eigenvalues, sorted};
use crate::rng::Stream;
use nalgebra::{Complex, DMatrix, DVector};

/// Settings of [`largest_eigenvalues`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArnoldiOptions {
    /// Krylov dimension (columns before a restart; at least `2k + 2`).
    pub krylov: usize,
    /// Relative residual at which a Ritz value counts as converged.
    pub tol: f64,
    /// Restarts before giving up with an error.
    pub max_restarts: usize,
    /// Seed of the starting vector.
    pub seed: u64,
}

impl Default for ArnoldiOptions {
    fn default() -> Self {
        ArnoldiOptions {
            krylov: 64,
            tol: 1e-10,
            max_restarts: 2000,
            seed: 0,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Orthogonalises `w` against `basis` twice (CGS2); returns the coefficients.
fn orthogonalise(basis: &[Vec<f64>], w: &mut [f64]) -> Vec<f64> {
    let mut h = vec![0.0; basis.len()];
    for _ in 0..2 {
        for (hi, v) in h.iter_mut().zip(basis) {
            let c = dot(v, w);
            *hi += c;
            for (x, y) in w.iter_mut().zip(v) {
                *x -= c * y;
            }
        }
    }
    h
}

/// A unit vector orthogonal to `basis`, from `rng`.
fn fresh_vector(n: usize, basis: &[Vec<f64>], rng: &mut Stream) -> Vec<f64> {
    loop {
        let mut w: Vec<f64> = (0..n).map(|_| rng.uniform() - 0.5).collect();
        orthogonalise(basis, &mut w);
        let b = norm(&w);
        if b > 1e-8 {
            w.iter_mut().for_each(|x| *x /= b);
            return w;
        }
    }
}

/// A unit eigenvector of `h` for the eigenvalue `lambda`, by inverse iteration.
fn ritz_vector(h: &DMatrix<f64>, lambda: Eigenvalue) -> DVector<Complex<f64>> {
    let m = h.nrows();
    let scale = h.amax().max(1e-300);
    // a shift just off the eigenvalue keeps the system solvable
    let shift = Complex::new(lambda.re + 1e-10 * scale, lambda.im + 1e-10 * scale);
    let mut a = h.map(|x| Complex::new(x, 0.0));
    for i in 0..m {
        a[(i, i)] -= shift;
    }
    let lu = a.lu();
    let mut y = DVector::from_fn(m, |i, _| Complex::new(1.0 + (i as f64 * 0.618).fract(), 0.0));
    for _ in 0..3 {
        if let Some(z) = lu.solve(&y) {
            let n = z.norm();
            if n.is_finite() && n > 0.0 {
                y = z / Complex::new(n, 0.0);
            }
        }
    }
    y
}

/// The `k` eigenvalues of largest magnitude of the `n` x `n` matrix whose
/// product is `matvec(x, y)` (`y = A x`, `y` zeroed by the caller's
/// function), largest first (a conjugate pair counts as two). Deterministic
/// for a given seed.
pub fn largest_eigenvalues(
    n: usize,
    k: usize,
    matvec: impl Fn(&[f64], &mut [f64]),
    opts: ArnoldiOptions,
) -> Result<Vec<Eigenvalue>, LinalgError> {
    if n == 0 {
        return Err(LinalgError::Empty);
    }
    if k == 0 || k > n {
        return Err(LinalgError::Request(format!(
            "k = {k} eigenvalues requested of a {n} x {n} matrix"
        )));
    }
    let m = opts.krylov.min(n);
    if m < n && m < 2 * k + 2 {
        return Err(LinalgError::Request(format!(
            "Krylov dimension {} too small for k = {k} (needs at least 2k + 2 = {})",
            opts.krylov,
            2 * k + 2
        )));
    }
    let mut rng = Stream::keyed(opts.seed, "arnoldi", "start", 0);
    let mut v: Vec<Vec<f64>> = vec![fresh_vector(n, &[], &mut rng)];
    // hfull is (m + 1) x m: A V_m = V_{m+1} hfull
    let mut hfull = DMatrix::<f64>::zeros(m + 1, m);
    let mut start = 0;
    let mut w = vec![0.0; n];
    let mut last_residual = f64::INFINITY;
    let mut last_converged = 0;
    for restart in 0..=opts.max_restarts {
        for j in start..m {
            w.iter_mut().for_each(|x| *x = 0.0);
            matvec(&v[j], &mut w);
            let h = orthogonalise(&v, &mut w);
            for (i, hi) in h.iter().enumerate() {
                hfull[(i, j)] = *hi;
            }
            let beta = norm(&w);
            let scale = h.iter().map(|x| x.abs()).fold(beta, f64::max);
            if j + 1 == n {
                hfull[(j + 1, j)] = 0.0;
                break;
            }
            if beta <= 1e-12 * scale.max(1e-300) {
                // an invariant subspace: continue from a fresh direction
                hfull[(j + 1, j)] = 0.0;
                let fresh = fresh_vector(n, &v, &mut rng);
                v.push(fresh);
            } else {
                hfull[(j + 1, j)] = beta;
                v.push(w.iter().map(|x| x / beta).collect());
            }
        }
        let h = hfull.view((0, 0), (m, m)).into_owned();
        let ritz = sorted(matrix_eigenvalues(h.clone())?);
        if m == n {
            return Ok(ritz[..k].to_vec());
        }
        // residual of each wanted Ritz pair: |hfull[m, :] y|
        let tail = hfull.row(m).map(|x| Complex::new(x, 0.0));
        let wanted_count = (k + (m - k) / 3).min(m - 2).max(k);
        let mut kept: Vec<DVector<Complex<f64>>> = Vec::new();
        let (mut converged, mut worst) = (0usize, 0.0f64);
        let mut i = 0;
        while i < wanted_count {
            let lambda = ritz[i];
            let y = ritz_vector(&h, lambda);
            let pair = lambda.im.abs() > 1e-14 * lambda.norm();
            if i < k {
                let r = (tail.clone() * &y)[(0, 0)].norm() / lambda.norm().max(1e-300);
                worst = worst.max(r);
                if r <= opts.tol {
                    // a conjugate pair converges together
                    converged += if pair { 2 } else { 1 };
                }
            }
            kept.push(y);
            // a conjugate pair is spanned by the real and imaginary parts of one vector
            i += if pair { 2 } else { 1 };
        }
        if converged >= k {
            return Ok(ritz[..k].to_vec());
        }
        (last_residual, last_converged) = (worst, converged);
        if restart == opts.max_restarts {
            break;
        }
        // real basis of the kept Ritz vectors, orthonormal in R^m
        let mut q: Vec<Vec<f64>> = Vec::new();
        for y in &kept {
            for part in [y.map(|c| c.re), y.map(|c| c.im)] {
                let mut x: Vec<f64> = part.iter().copied().collect();
                let before = norm(&x);
                orthogonalise(&q, &mut x);
                let after = norm(&x);
                if before > 0.0 && after > 1e-8 * before && q.len() < m - 1 {
                    x.iter_mut().for_each(|c| *c /= after);
                    q.push(x);
                }
            }
        }
        let p = q.len();
        let qm = DMatrix::from_fn(m, p, |r, c| q[c][r]);
        let t = qm.transpose() * &h * &qm;
        let b = hfull.row(m) * &qm;
        let mut nv: Vec<Vec<f64>> = (0..p)
            .map(|c| {
                let mut x = vec![0.0; n];
                for (r, vr) in v.iter().take(m).enumerate() {
                    let coef = qm[(r, c)];
                    if coef != 0.0 {
                        x.iter_mut().zip(vr).for_each(|(a, b)| *a += coef * b);
                    }
                }
                x
            })
            .collect();
        nv.push(v[m].clone());
        v = nv;
        hfull.fill(0.0);
        hfull.view_mut((0, 0), (p, p)).copy_from(&t);
        hfull.view_mut((p, 0), (1, p)).copy_from(&b);
        start = p;
    }
    Err(LinalgError::NotConverged {
        wanted: k,
        converged: last_converged,
        tol: opts.tol,
        restarts: opts.max_restarts,
        residual: last_residual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_matvec(n: usize, a: &[f64]) -> impl Fn(&[f64], &mut [f64]) + '_ {
        move |x, y| {
            for i in 0..n {
                y[i] = (0..n).map(|j| a[i * n + j] * x[j]).sum();
            }
        }
    }

    #[test]
    fn agrees_with_dense_on_a_random_matrix() {
        let n = 300;
        let mut rng = Stream::from_seed(5);
        let a: Vec<f64> = (0..n * n)
            .map(|_| crate::rng::standard_normal(&mut rng) / (n as f64).sqrt())
            .collect();
        let dense = super::super::eigenvalues_dense(n, &a).unwrap();
        let k = 4;
        let opts = ArnoldiOptions {
            krylov: 40,
            ..ArnoldiOptions::default()
        };
        let got = largest_eigenvalues(n, k, dense_matvec(n, &a), opts).unwrap();
        for i in 0..k {
            assert!(
                (got[i].norm() - dense[i].norm()).abs() < 1e-8 * dense[0].norm(),
                "{i}: {:?} vs {:?}",
                got[i],
                dense[i]
            );
        }
    }

    #[test]
    fn requests_it_cannot_meet() {
        let a = [1.0, 0.0, 0.0, 2.0];
        let e = largest_eigenvalues(2, 3, dense_matvec(2, &a), ArnoldiOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "k = 3 eigenvalues requested of a 2 x 2 matrix");
        let got = largest_eigenvalues(2, 1, dense_matvec(2, &a), ArnoldiOptions::default()).unwrap();
        assert!((got[0].re - 2.0).abs() < 1e-12);
    }
}
