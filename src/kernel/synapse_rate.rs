//! Rate synapses: `acc += W r` from a dense kernel or from the post-major store.

use crate::kernel::PARALLEL_MIN;
use crate::store::Major;
use crate::store::SynapseStore;
use rayon::prelude::*;

/// `acc += W r` with a dense post x pre kernel (`r`: pre x batch, `acc`: post x batch).
pub fn dense_rate_input(w: &ndarray::Array2<f32>, r: &[f32], batch: usize, acc: &mut [f32]) {
    let (n_post, n_pre) = w.dim();
    if batch == 1
        && n_pre > 0
        && let (Some(ws), Some(r), Some(acc)) = (w.as_slice(), r.get(..n_pre), acc.get_mut(..n_post))
    {
        // a matrix-vector product: row dot products, no packing (a small
        // agent brain would spend most of its step packing for a gemm)
        for (a, row) in acc.iter_mut().zip(ws.chunks_exact(n_pre)) {
            *a += dot(row, r);
        }
        return;
    }
    let (Ok(r), Ok(mut acc)) = (
        ndarray::ArrayView2::from_shape((n_pre, batch), &r[..n_pre * batch]),
        ndarray::ArrayViewMut2::from_shape((n_post, batch), &mut acc[..n_post * batch]),
    ) else {
        return;
    };
    crate::linalg::mat_mul_into(&w.view(), &r, &mut acc, true);
}

/// Dot product, eight partial sums so that it vectorises under strict
/// floating point (the summation order of ndarray's `dot`, inlined here).
#[inline]
fn dot(xs: &[f32], ys: &[f32]) -> f32 {
    let n = xs.len().min(ys.len());
    let (mut xs, mut ys) = (&xs[..n], &ys[..n]);
    let mut p = [0.0f32; 8];
    while xs.len() >= 8 {
        for k in 0..8 {
            p[k] += xs[k] * ys[k];
        }
        xs = &xs[8..];
        ys = &ys[8..];
    }
    let mut sum = 0.0f32;
    sum += p[0] + p[4];
    sum += p[1] + p[5];
    sum += p[2] + p[6];
    sum += p[3] + p[7];
    for (&x, &y) in xs.iter().zip(ys) {
        sum += x * y;
    }
    sum
}

/// `acc[j, :] += sum_k W[j, k] r[k, :]` over a post-major store (batch inner).
pub fn rate_input(store: &SynapseStore, r: &[f32], batch: usize, acc: &mut [f32]) {
    debug_assert_eq!(store.major, Major::Post);
    let rows = store.rows();
    let min_len = (PARALLEL_MIN / batch.max(1) / 64).max(1);
    acc.par_chunks_mut(64 * batch)
        .with_min_len(min_len)
        .enumerate()
        .for_each(|(c, out)| {
            for jj in 0..out.len() / batch {
                let j = c * 64 + jj;
                if j >= rows {
                    break;
                }
                let o = &mut out[jj * batch..(jj + 1) * batch];
                for k in store.row(j) {
                    let w = store.weight[k];
                    let pre = store.minor[k] as usize;
                    let src = &r[pre * batch..(pre + 1) * batch];
                    for (x, &s) in o.iter_mut().zip(src) {
                        *x += w * s;
                    }
                }
            }
        });
}
