//! Fixed degrees: exactly `k` targets per pre neuron (out-degree) or `k` inputs per post neuron (in-degree).

use super::ROWS_PER_CHUNK;
use super::error::{ConnectError, ConnectResult};
use super::input::{ConnectInput, Connectivity};
use super::rows::{by_counted_rows, chunk_rows, chunk_stream, chunks};
use super::sample::{Bits, sample_distinct, sample_replace};
use crate::rng::Stream;
use rayon::prelude::*;

/// Checks that `k` inputs (or targets) per neuron can be drawn from `avail`
/// distinct neurons (or, with multapses, from at least one).
#[allow(clippy::too_many_arguments)]
pub(super) fn degree_check(
    input: &ConnectInput,
    rule: &str,
    k: usize,
    avail: usize,
    n: usize,
    side: &str,
    what: &str,
    self_note: &str,
) -> ConnectResult<()> {
    let err = |m: String| Err(ConnectError::rule(input.projection, format!("{rule}: {m}")));
    if input.multapses {
        if k > 0 && avail == 0 {
            return err(format!(
                "k = {k} {what} neuron, but there is no {side} neuron to draw from \
                 ({n} {side} neurons{self_note})"
            ));
        }
    } else if k > avail {
        return err(format!(
            "k = {k} {what} neuron, but only {avail} distinct {side} neurons are available \
             ({n} {side} neurons{self_note}); allow multapses or lower k"
        ));
    }
    Ok(())
}

/// Exactly `k` targets per pre neuron.
pub(super) fn out_degree(input: &ConnectInput, k: usize, replace: bool) -> Connectivity {
    let (n_post, no_self) = (input.n_post, input.no_self());
    let bits_len = if replace { 0 } else { n_post };
    by_counted_rows(
        input,
        input.n_pre,
        bits_len,
        |_, _, lens| lens.fill(k as u64),
        |i, _, rng, bits, row| {
            let skip = if no_self { i } else { usize::MAX };
            if replace {
                sample_replace(rng, n_post, k, skip, true, row);
            } else {
                sample_distinct(rng, bits, n_post, k, skip, true, row);
            }
        },
    )
}

/// Fixed in-degree: exactly `k` inputs per post neuron, drawn by post row
/// in parallel chunks of [`ROWS_PER_CHUNK`] posts, then transposed to
/// pre-major rows by a two-level counting sort: each chunk files its
/// synapses into buckets of consecutive pre rows (packed as `(pre within
/// the bucket) << 8 | (post within the chunk)`), then each bucket, in
/// parallel, places its synapses into its rows, chunk by chunk, so every row
/// comes out in post order without sorting. Linear in the synapses, and the
/// bucket size (which does not change the result) keeps the per-bucket
/// bookkeeping small next to them.
pub(super) fn in_degree(input: &ConnectInput, k: usize) -> Connectivity {
    let (n_pre, n_post) = (input.n_pre, input.n_post);
    if k == 0 || n_post == 0 {
        return Connectivity::empty(n_pre);
    }
    let total = n_post * k;
    let n_parts = chunks(n_post).len();
    // Buckets of about 64 Ki synapses (a cache-friendly scatter in phase 2),
    // grown while the per-bucket bookkeeping is not small next to the synapses.
    let per_row = (total / n_pre.max(1)).max(1);
    let mut shift = (65_536 / per_row).max(1).ilog2().min(24);
    while shift < 24 && (n_parts as u128) * ((n_pre as u128 >> shift) + 1) * 64 > total as u128 {
        shift += 1;
    }
    let bucket_rows = 1usize << shift;
    let n_buckets = n_pre.div_ceil(bucket_rows);
    let mask = (bucket_rows - 1) as u32;
    let bits_len = if input.multapses { 0 } else { n_pre };
    // Phase 1: draw, and file each synapse into its bucket.
    let parts: Vec<Vec<Vec<u32>>> = chunks(n_post)
        .into_par_iter()
        .map_init(
            || (Bits::new(bits_len), Vec::new()),
            |(bits, row), c| {
                let mut rng = chunk_stream(input, c);
                let posts = chunk_rows(c, n_post);
                let expect = (posts.len() * k) as f64 * bucket_rows as f64 / n_pre as f64;
                let cap = (expect + 4.0 * expect.sqrt()) as usize + 16;
                let mut buckets: Vec<Vec<u32>> = (0..n_buckets).map(|_| Vec::with_capacity(cap)).collect();
                for (jj, j) in posts.enumerate() {
                    row.clear();
                    draw_inputs(input, &mut rng, bits, k, j, row);
                    for &pre in row.iter() {
                        buckets[(pre >> shift) as usize].push(((pre & mask) << 8) | jj as u32);
                    }
                }
                buckets
            },
        )
        .collect();
    // Phase 2: each bucket of pre rows, in parallel, into its part of the output.
    let mut offsets = vec![0usize; n_buckets + 1];
    for b in 0..n_buckets {
        offsets[b + 1] = offsets[b] + parts.iter().map(|p| p[b].len()).sum::<usize>();
    }
    let mut post = vec![0u32; total];
    let mut row_ptr = vec![0u64; n_pre + 1];
    let mut slices = Vec::with_capacity(n_buckets);
    let mut rest = post.as_mut_slice();
    for b in 0..n_buckets {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(offsets[b + 1] - offsets[b]);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .zip(row_ptr[1..].par_chunks_mut(bucket_rows))
        .enumerate()
        .for_each(|(b, (out, ptr))| {
            let mut fill = vec![0usize; ptr.len()];
            for p in &parts {
                for &e in &p[b] {
                    fill[(e >> 8) as usize] += 1;
                }
            }
            let mut acc = 0usize;
            for (f, r) in fill.iter_mut().zip(ptr.iter_mut()) {
                let count = *f;
                *f = acc;
                acc += count;
                *r = (offsets[b] + acc) as u64;
            }
            for (c, p) in parts.iter().enumerate() {
                let base = (c * ROWS_PER_CHUNK) as u32;
                for &e in &p[b] {
                    let slot = &mut fill[(e >> 8) as usize];
                    out[*slot] = base + (e & 0xFF);
                    *slot += 1;
                }
            }
        });
    Connectivity {
        row_ptr,
        post,
        weight: None,
        delay: None,
    }
}

/// The `k` inputs of post neuron `j` (unsorted), appended to `row`.
#[inline]
fn draw_inputs(input: &ConnectInput, rng: &mut Stream, bits: &mut Bits, k: usize, j: usize, row: &mut Vec<u32>) {
    let skip = if input.no_self() { j } else { usize::MAX };
    if input.multapses {
        sample_replace(rng, input.n_pre, k, skip, false, row);
    } else {
        sample_distinct(rng, bits, input.n_pre, k, skip, false, row);
    }
}
