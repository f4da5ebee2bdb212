//! Rate synapses: `acc += W r` from a dense kernel or from the post-major store.

use crate::kernel::PARALLEL_MIN;
use crate::store::{Major, SynapseStore, Target};
use crate::with_indices;
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
///
/// One trial: each row is a gathered dot product in eight partial sums (the
/// order of [`dot`], so a full row gives the dense kernel's bits) that keeps
/// the loads of weights and pre indices streaming; several trials: each
/// synapse adds its weight times the pre unit's trials, synapse by synapse.
/// Rows split over the pool's threads in fixed chunks: the same sums at any
/// thread count.
pub fn rate_input(store: &SynapseStore, r: &[f32], batch: usize, acc: &mut [f32]) {
    debug_assert_eq!(store.major, Major::Post);
    let rows = store.rows();
    // a task takes at least PARALLEL_MIN synapse-trials (of 64-row chunks)
    let per_chunk = 64 * batch.max(1) * (store.minor.len() / rows.max(1)).max(1);
    let min_len = (PARALLEL_MIN / per_chunk).max(1);
    acc.par_chunks_mut(64 * batch)
        .with_min_len(min_len)
        .enumerate()
        .for_each(|(c, out)| {
            for (jj, o) in out.chunks_mut(batch).enumerate() {
                let j = c * 64 + jj;
                if j >= rows {
                    break;
                }
                let k = store.row(j);
                with_indices!(store.minor, |minor| {
                    let (ws, pres) = (&store.weight[k.clone()], &minor[k]);
                    row_input(ws, pres, r, batch, o)
                });
            }
        });
}

/// One post unit's `o += sum_k ws[k] r[pres[k], :]` (`batch` trials).
#[inline(always)]
fn row_input<T: Target>(ws: &[f32], pres: &[T], r: &[f32], batch: usize, o: &mut [f32]) {
    if batch == 1 {
        o[0] += gather_dot(ws, pres, r);
        return;
    }
    for (&w, &pre) in ws.iter().zip(pres) {
        let pre = pre.at();
        let src = &r[pre * batch..(pre + 1) * batch];
        for (x, &s) in o.iter_mut().zip(src) {
            *x += w * s;
        }
    }
}

/// `sum_k ws[k] r[pres[k]]` in the eight partial sums of [`dot`] (with
/// AVX2, eight lanes of gathers: the same operations in the same order, so
/// the same bits).
#[inline]
fn gather_dot<T: Target>(ws: &[f32], pres: &[T], r: &[f32]) -> f32 {
    let n = ws.len().min(pres.len());
    let (ws, pres) = (&ws[..n], &pres[..n]);
    let (mut w8, mut i8) = (ws.chunks_exact(8), pres.chunks_exact(8));
    let mut p = [0.0f32; 8];
    #[cfg(target_arch = "x86_64")]
    if n >= 8 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked just above)
        p = unsafe { gather_sums_avx2(ws, pres, r) };
        w8 = ws[n - n % 8..].chunks_exact(8);
        i8 = pres[n - n % 8..].chunks_exact(8);
    }
    for (w, i) in (&mut w8).zip(&mut i8) {
        for k in 0..8 {
            p[k] += w[k] * r[i[k].at()];
        }
    }
    let mut sum = 0.0f32;
    sum += p[0] + p[4];
    sum += p[1] + p[5];
    sum += p[2] + p[6];
    sum += p[3] + p[7];
    for (&w, &i) in w8.remainder().iter().zip(i8.remainder()) {
        sum += w * r[i.at()];
    }
    sum
}

/// The eight partial sums of [`gather_dot`] over the whole chunks of eight:
/// lane `k` adds `ws[8 j + k] * r[pres[8 j + k]]` (a multiply, then an add,
/// as the scalar loop). Indices are clamped to `r` before each gather, so a
/// gather never reads outside it, and their maximum is checked after the
/// loop: an index beyond `r` panics as indexing would. Indices of two bytes
/// are widened on load.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_sums_avx2<T: Target>(ws: &[f32], pres: &[T], r: &[f32]) -> [f32; 8] {
    use std::arch::x86_64::*;
    let chunks = ws.len().min(pres.len()) / 8;
    let last = r.len().checked_sub(1).expect("rate_input: synapses onto no pre units");
    let last = u32::try_from(last).unwrap_or(u32::MAX);
    let mut out = [0.0f32; 8];
    // SAFETY: loads and stores are unaligned ones of 8 lanes within
    // `ws[..8 chunks]`, `pres[..8 chunks]` (8 lanes of `T`, which is `u16`
    // or `u32`: the trait is sealed) and `out`; each gather reads
    // `r[min(i, last)]`, within `r`.
    unsafe {
        let cap = _mm256_set1_epi32(last as i32);
        let (mut sum, mut top) = (_mm256_setzero_ps(), _mm256_setzero_si256());
        for j in 0..chunks {
            let at = pres.as_ptr().add(8 * j);
            let i = if std::mem::size_of::<T>() == 2 {
                _mm256_cvtepu16_epi32(_mm_loadu_si128(at.cast()))
            } else {
                _mm256_loadu_si256(at.cast())
            };
            let w = _mm256_loadu_ps(ws.as_ptr().add(8 * j));
            top = _mm256_max_epu32(top, i);
            let x = _mm256_i32gather_ps::<4>(r.as_ptr(), _mm256_min_epu32(i, cap));
            sum = _mm256_add_ps(sum, _mm256_mul_ps(w, x));
        }
        let mut tops = [0u32; 8];
        _mm256_storeu_si256(tops.as_mut_ptr().cast(), top);
        let top = tops.iter().copied().max().unwrap_or(0);
        assert!(top <= last, "rate_input: pre index {top} beyond the {} rates", r.len());
        _mm256_storeu_ps(out.as_mut_ptr(), sum);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A post-major store of the pairs `keep` admits, weight `w(pre, post)`.
    fn store(n_pre: u32, n_post: u32, keep: impl Fn(u32, u32) -> bool, w: impl Fn(u32, u32) -> f32) -> SynapseStore {
        let mut s = SynapseStore::empty(n_pre, n_post, Major::Post);
        let added: Vec<_> = (0..n_post)
            .flat_map(|j| (0..n_pre).map(move |i| (i, j)))
            .filter(|&(i, j)| keep(i, j))
            .map(|(i, j)| {
                let x = w(i, j);
                (i, j, x, if x < 0.0 { -1 } else { 1 }, 1)
            })
            .collect();
        s.insert(&added).unwrap();
        s
    }

    fn weight(i: u32, j: u32) -> f32 {
        ((i * 13 + j * 7) % 11) as f32 * 0.37 - 1.9
    }

    /// A row with every synapse sums in the dense kernel's order: the same bits.
    #[test]
    fn a_full_store_gives_the_dense_kernels_bits() {
        let (n_pre, n_post) = (37, 5); // four chunks of eight and a remainder of five
        let s = store(n_pre, n_post, |_, _| true, weight);
        let r: Vec<f32> = (0..n_pre).map(|i| (i as f32 * 0.61).sin()).collect();
        let (mut sparse, mut dense) = (vec![0.25f32; 5], vec![0.25f32; 5]);
        rate_input(&s, &r, 1, &mut sparse);
        dense_rate_input(&s.to_dense(), &r, 1, &mut dense);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&sparse), bits(&dense));
    }

    /// Sparse rows (one empty) at one and at three trials against the sum in f64.
    #[test]
    fn sparse_rows_sum_their_synapses() {
        let (n_pre, n_post) = (29u32, 6u32);
        let keep = |i: u32, j: u32| j != 4 && !(i * 7 + j * 3).is_multiple_of(5);
        let s = store(n_pre, n_post, keep, weight);
        for batch in [1usize, 3] {
            let r: Vec<f32> = (0..n_pre as usize * batch).map(|k| (k as f32 * 0.43).cos()).collect();
            let mut acc = vec![1.0f32; n_post as usize * batch];
            rate_input(&s, &r, batch, &mut acc);
            for j in 0..n_post {
                for b in 0..batch {
                    let want = 1.0
                        + (0..n_pre)
                            .filter(|&i| keep(i, j))
                            .map(|i| f64::from(weight(i, j)) * f64::from(r[i as usize * batch + b]))
                            .sum::<f64>();
                    let got = f64::from(acc[j as usize * batch + b]);
                    assert!(
                        (got - want).abs() < 1e-5 * want.abs().max(1.0),
                        "post {j} trial {b}: {got} vs {want}"
                    );
                }
            }
            assert!(
                acc[4 * batch..5 * batch].iter().all(|&x| x == 1.0),
                "the empty row adds nothing"
            );
        }
    }

    /// A pre index beyond the rates panics (on the gather path too, whose
    /// clamped gathers must not read a neighbour's rate quietly).
    #[test]
    #[should_panic]
    fn an_index_beyond_the_rates_panics() {
        let s = store(16, 2, |_, _| true, weight); // two whole chunks of eight: no remainder
        let mut acc = vec![0.0f32; 2];
        rate_input(&s, &[0.5; 12], 1, &mut acc);
    }
}
