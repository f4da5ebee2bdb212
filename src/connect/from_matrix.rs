//! Dense matrices (post x pre), given or read from a `.npy` file: every non-zero entry is a synapse.

use super::error::{ConnectError, ConnectResult};
use super::input::{ConnectInput, Connectivity};
use super::rows::{RowsChunk, assemble, chunk_rows, chunks};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::path::Path;

/// Reads a 2-D `.npy` matrix (float64, float32 or int64) with the one reader of [`crate::io`].
pub(super) fn read_matrix(path: &Path) -> ConnectResult<Array2<f64>> {
    crate::io::read_npy_matrix_f64(path).map_err(|e| match e {
        crate::io::NpyError::File { path, message } => ConnectError::File { path, message },
        other => ConnectError::file(path, other),
    })
}

/// Builds the CSR of a post x pre matrix in parallel buckets of pre
/// columns: each bucket reads its columns of every row (in post order), so
/// its rows come out sorted.
pub(super) fn build_matrix(
    input: &ConnectInput,
    matrix: ArrayView2<f64>,
    file: Option<&Path>,
) -> ConnectResult<Connectivity> {
    let (rows, cols) = matrix.dim();
    let fail = |m: String| match file {
        Some(p) => ConnectError::file(p, format!("{m} (projection '{}')", input.projection)),
        None => ConnectError::rule(input.projection, format!("from_matrix: {m}")),
    };
    if rows != input.n_post || cols != input.n_pre {
        return Err(fail(format!(
            "matrix has shape {rows} x {cols}, expected {} x {} (post x pre)",
            input.n_post, input.n_pre
        )));
    }
    let matrix = matrix.as_standard_layout();
    let data = matrix.as_slice().unwrap_or(&[]);
    let no_self = input.no_self();
    let n_pre = input.n_pre;
    let built: Vec<ConnectResult<RowsChunk>> = chunks(n_pre)
        .into_par_iter()
        .map(|c| {
            let cols = chunk_rows(c, n_pre);
            let mut counts = vec![0usize; cols.len()];
            for j in 0..rows {
                let row = &data[j * n_pre + cols.start..j * n_pre + cols.end];
                for (q, &w) in row.iter().enumerate() {
                    if w != 0.0 && !(no_self && cols.start + q == j) {
                        if !w.is_finite() {
                            return Err(fail(format!("entry [post {j}, pre {}] is {w}", cols.start + q)));
                        }
                        counts[q] += 1;
                    }
                }
            }
            let mut out = RowsChunk::default();
            let mut acc = 0;
            for cnt in counts.iter_mut() {
                let k = *cnt;
                *cnt = acc;
                acc += k;
                out.ends.push(acc as u64);
            }
            out.post = vec![0; acc];
            out.weight = vec![0.0; acc];
            for j in 0..rows {
                let row = &data[j * n_pre + cols.start..j * n_pre + cols.end];
                for (q, &w) in row.iter().enumerate() {
                    if w != 0.0 && !(no_self && cols.start + q == j) {
                        out.post[counts[q]] = j as u32;
                        out.weight[counts[q]] = w;
                        counts[q] += 1;
                    }
                }
            }
            Ok(out)
        })
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    let mut conn = assemble(n_pre, parts);
    conn.weight.get_or_insert_with(Vec::new);
    Ok(conn)
}
