//! Fixed in-degree and out-degree within a radius: each post neuron draws
//! exactly `k` inputs (or each pre neuron `k` targets) uniformly among the
//! neurons within `radius` µm of it (through a [`GridIndex`]), distinct
//! unless multapses are allowed. Fewer than `k` candidates without
//! multapses (or none with them) is an error naming the neuron.

use super::error::{ConnectError, ConnectResult};
use super::input::{ConnectInput, Connectivity};
use super::rows::{RowsChunk, assemble, chunk_rows, chunk_stream, chunks};
use crate::space::GridIndex;
use rayon::prelude::*;

/// Which side draws its `k` partners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    /// Every post neuron gets `k` inputs.
    In,
    /// Every pre neuron gets `k` targets.
    Out,
}

/// Builds the rule (rows of the drawing side in parallel chunks keyed by
/// chunk; the in-degree result transposed to pre-major rows).
pub(super) fn degree_within(input: &ConnectInput, side: Side, k: usize, radius: f64) -> ConnectResult<Connectivity> {
    let (n_rows, n_cand, rows_pos, cand_pos, rule) = match side {
        Side::In => (
            input.n_post,
            input.n_pre,
            input.post_positions,
            input.pre_positions,
            "fixed_in_degree_within",
        ),
        Side::Out => (
            input.n_pre,
            input.n_post,
            input.pre_positions,
            input.post_positions,
            "fixed_out_degree_within",
        ),
    };
    let cell = if radius > 0.0 && radius.is_finite() {
        radius
    } else {
        1.0
    };
    let origin = vec![[0.0; 3]; n_cand];
    let grid = GridIndex::new(if cand_pos.is_empty() { &origin } else { cand_pos }, cell, input.space);
    let at = |i: usize| rows_pos.get(i).copied().unwrap_or([0.0; 3]);
    let built: Vec<ConnectResult<RowsChunk>> = chunks(n_rows)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(scratch, cands): &mut (Vec<u32>, Vec<u32>), c| {
                let mut rng = chunk_stream(input, c);
                let mut out = RowsChunk::default();
                for r in chunk_rows(c, n_rows) {
                    let skip = if input.no_self() { r } else { usize::MAX };
                    cands.clear();
                    grid.for_each_within(at(r), radius, scratch, |j, _| {
                        if j != skip {
                            cands.push(j as u32);
                        }
                    });
                    let short = if input.multapses { k > 0 && cands.is_empty() } else { cands.len() < k };
                    if short {
                        let (who, what) = match side {
                            Side::In => ("post", "pre"),
                            Side::Out => ("pre", "post"),
                        };
                        let fix = if input.multapses { "" } else { "; allow multapses, lower k or widen the radius" };
                        return Err(ConnectError::rule(
                            input.projection,
                            format!(
                                "{rule}: {who} neuron {r} has {} {what} neurons within {radius} µm, fewer than k = {k}{fix}",
                                cands.len()
                            ),
                        ));
                    }
                    let start = out.post.len();
                    if input.multapses {
                        let m = cands.len() as u64;
                        out.post.extend((0..k).map(|_| cands[rng.below(m) as usize]));
                    } else {
                        // partial Fisher-Yates: the first k are a uniform sample
                        for i in 0..k {
                            let j = i + rng.below((cands.len() - i) as u64) as usize;
                            cands.swap(i, j);
                        }
                        out.post.extend_from_slice(&cands[..k]);
                    }
                    out.post[start..].sort_unstable();
                    out.end_row();
                }
                Ok(out)
            },
        )
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    let rows = assemble(n_rows, parts);
    Ok(match side {
        Side::Out => rows,
        Side::In => transpose(&rows, input.n_pre),
    })
}

/// Post-major rows (row = post, entries = pre) to pre-major rows sorted by
/// post (a counting sort; rows come out in post order because posts are
/// visited in order).
fn transpose(by_post: &Connectivity, n_pre: usize) -> Connectivity {
    let mut row_ptr = vec![0u64; n_pre + 1];
    for &pre in &by_post.post {
        row_ptr[pre as usize + 1] += 1;
    }
    for i in 0..n_pre {
        row_ptr[i + 1] += row_ptr[i];
    }
    let mut fill: Vec<usize> = row_ptr[..n_pre].iter().map(|&x| x as usize).collect();
    let mut post = vec![0u32; by_post.post.len()];
    for j in 0..by_post.n_rows() {
        for &pre in by_post.row(j) {
            post[fill[pre as usize]] = j as u32;
            fill[pre as usize] += 1;
        }
    }
    Connectivity {
        row_ptr,
        post,
        weight: None,
        delay: None,
    }
}
