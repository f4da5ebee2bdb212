//! Matrix products by the `gemm` crate (the kernels of faer: packing only
//! where it pays, AVX2 / AVX-512 micro-kernels chosen at run time), which on
//! the rate step's shapes (a 100 x 100 weight matrix times 100 x 32 rates)
//! is 1.6x faster than the `matrixmultiply` behind ndarray's `dot`.
//!
//! Long reductions into small results go to `matrixmultiply` instead (see
//! `LONG_REDUCTION`). On a pool of several threads, large products split
//! into tiles of the result, one thread each; each element's sum keeps its
//! order, so the result is the same at any thread count.

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

/// Above `k > LONG_REDUCTION * max(m, n)`, products go to matrixmultiply.
const LONG_REDUCTION: usize = 8;

/// `c = a b` (`accumulate` false) or `c += a b` (true), for f32 or f64.
///
/// # Panics
/// When the shapes do not chain (`a`: m x k, `b`: k x n, `c`: m x n), or `F`
/// is neither f32 nor f64.
pub fn mat_mul_into<F: LinalgScalar>(
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    c: &mut ArrayViewMut2<'_, F>,
    accumulate: bool,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "mat_mul_into: {m}x{k} times {k2}x{n} into {:?}",
        c.dim()
    );
    assert!(
        std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>()
            || std::any::TypeId::of::<F>() == std::any::TypeId::of::<f64>(),
        "mat_mul_into: f32 or f64 only"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(F::zero());
        }
        return;
    }
    if k > LONG_REDUCTION * m.max(n) {
        // a long reduction into a small result (a weight gradient summed over
        // steps x trials): gemm allocates and faults in packing buffers at
        // every call here, matrixmultiply does not (BPTT at H = 100: 4.6
        // against 6.0 ms an iteration)
        let beta = if accumulate { F::one() } else { F::zero() };
        return ndarray::linalg::general_mat_mul(F::one(), a, b, beta, c);
    }
    let (sa, sb) = (a.strides(), b.strides());
    let (sc0, sc1) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the three views are valid for their shapes and strides (ndarray
    // guarantees it), `c` is a unique borrow so it overlaps neither input,
    // and the dimensions were checked to chain; T is f32 or f64 (asserted).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            sc1,
            sc0,
            accumulate,
            a.as_ptr(),
            sa[1],
            sa[0],
            b.as_ptr(),
            sb[1],
            sb[0],
            F::one(),
            F::one(),
            false,
            false,
            false,
            parallelism(),
        );
    }
}

/// The pool's threads when there are several (gemm splits the result into
/// tiles and keeps each element's sum over `k` in one order: the same bits
/// at any thread count, `products_are_the_same_at_any_thread_count`).
fn parallelism() -> gemm::Parallelism {
    match rayon::current_num_threads() {
        0 | 1 => gemm::Parallelism::None,
        n => gemm::Parallelism::Rayon(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3, s};

    /// Against the plain triple loop in f64, for strided, transposed and
    /// empty operands, accumulating or not.
    #[test]
    fn products_equal_the_triple_loop() {
        let naive = |a: &ArrayView2<'_, f64>, b: &ArrayView2<'_, f64>| {
            Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
                (0..a.ncols()).map(|l| a[[i, l]] * b[[l, j]]).sum::<f64>()
            })
        };
        let a = Array2::from_shape_fn((7, 5), |(i, j)| (i as f64 - 2.0 * j as f64) * 0.25);
        // the rates of one step of a tape (neurons x steps x batch): rows strided
        let tape = Array3::from_shape_fn((5, 4, 3), |(i, t, b)| (i * 12 + t * 3 + b) as f64 * 0.125 - 2.0);
        let b = tape.slice(s![.., 2, ..]);
        let mut c = Array2::from_elem((7, 3), 1.5);
        mat_mul_into(&a.view(), &b, &mut c.view_mut(), true);
        assert_eq!(c, naive(&a.view(), &b) + 1.5);
        mat_mul_into(&a.view(), &b, &mut c.view_mut(), false);
        assert_eq!(c, naive(&a.view(), &b));
        // a transposed operand and a transposed destination
        let mut ct = Array2::<f64>::zeros((3, 7));
        mat_mul_into(&b.t(), &a.t(), &mut ct.view_mut(), false);
        assert_eq!(ct, naive(&a.view(), &b).t());
        let mut cc = Array2::<f64>::zeros((7, 7)).reversed_axes();
        mat_mul_into(&a.view(), &a.t(), &mut cc.view_mut(), false);
        assert_eq!(cc, naive(&a.view(), &a.t()));
        // a long reduction (k > LONG_REDUCTION * max(m, n)): the other backend, same product
        let long = Array2::from_shape_fn((3, 40), |(i, j)| (i as f64 + j as f64 * 0.5) * 0.125);
        let tall = Array2::from_shape_fn((40, 2), |(i, j)| i as f64 * 0.25 - j as f64);
        let mut cl = Array2::from_elem((3, 2), 1.0);
        mat_mul_into(&long.view(), &tall.view(), &mut cl.view_mut(), true);
        assert_eq!(cl, naive(&long.view(), &tall.view()) + 1.0);
        mat_mul_into(&long.view(), &tall.view(), &mut cl.view_mut(), false);
        assert_eq!(cl, naive(&long.view(), &tall.view()));
        // k = 0: nothing added, or zeros
        let (e1, e2) = (Array2::<f64>::zeros((7, 0)), Array2::<f64>::zeros((0, 3)));
        let mut z = Array2::from_elem((7, 3), 2.0);
        mat_mul_into(&e1.view(), &e2.view(), &mut z.view_mut(), true);
        assert!(z.iter().all(|&x| x == 2.0));
        mat_mul_into(&e1.view(), &e2.view(), &mut z.view_mut(), false);
        assert!(z.iter().all(|&x| x == 0.0));
        // f32 within rounding of the f64 product
        let a32 = a.mapv(|x| x as f32);
        let b32 = b.mapv(|x| x as f32);
        let mut c32 = Array2::<f32>::zeros((7, 3));
        mat_mul_into(&a32.view(), &b32.view(), &mut c32.view_mut(), false);
        let exact = naive(&a.view(), &b);
        assert!(
            c32.iter()
                .zip(&exact)
                .all(|(&x, &y)| (f64::from(x) - y).abs() <= 1e-5 * y.abs().max(1.0))
        );
    }

    /// W4's products at H = 1000 and a few odd shapes: bit-identical on
    /// pools of 1, 2 and 3 threads, above gemm's threading threshold.
    #[test]
    fn products_are_the_same_at_any_thread_count() {
        for &(m, k, n) in &[(1000, 1000, 32), (517, 1000, 33), (1000, 10, 3200), (300, 700, 301)] {
            let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 31 + j * 17) % 97) as f32 * 0.013 - 0.6);
            let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 7 + j * 29) % 89) as f32 * 0.011 - 0.5);
            let product = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut c = Array2::from_elem((m, n), 0.25f32);
                pool.install(|| mat_mul_into(&a.view(), &b.view(), &mut c.view_mut(), true));
                c
            };
            let one = product(1);
            for threads in [2, 3] {
                assert!(product(threads) == one, "{m}x{k}x{n}: {threads} threads differ from 1");
            }
        }
    }

    #[test]
    #[should_panic(expected = "mat_mul_into: 2x3 times 4x2")]
    fn shapes_that_do_not_chain_are_refused() {
        let (a, b) = (Array2::<f32>::zeros((2, 3)), Array2::<f32>::zeros((4, 2)));
        let mut c = Array2::<f32>::zeros((2, 2));
        mat_mul_into(&a.view(), &b.view(), &mut c.view_mut(), false);
    }
}
