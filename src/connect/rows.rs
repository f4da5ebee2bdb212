//! Chunked construction: rows in parallel chunks on their own streams, then assembled into one CSR.

use super::ROWS_PER_CHUNK;
use super::error::ConnectResult;
use super::input::{ConnectInput, Connectivity};
use super::sample::Bits;
use crate::rng::Stream;
use rayon::prelude::*;
use std::ops::Range;

/// Number of chunks of [`ROWS_PER_CHUNK`] rows covering `n` rows.
#[inline]
pub(super) fn chunks(n: usize) -> Range<usize> {
    0..n.div_ceil(ROWS_PER_CHUNK)
}

/// Rows of chunk `c`.
#[inline]
pub(super) fn chunk_rows(c: usize, n: usize) -> Range<usize> {
    c * ROWS_PER_CHUNK..((c + 1) * ROWS_PER_CHUNK).min(n)
}

/// The stream of chunk `c`.
#[inline]
pub(super) fn chunk_stream(input: &ConnectInput, c: usize) -> Stream {
    Stream::keyed(input.seed, input.projection, "connect", c as u64)
}

/// The rows one chunk built.
#[derive(Default)]
pub(super) struct RowsChunk {
    pub(super) post: Vec<u32>,
    pub(super) weight: Vec<f64>,
    /// End of each row in `post`, relative to the chunk.
    pub(super) ends: Vec<u64>,
}

impl RowsChunk {
    #[inline]
    pub(super) fn end_row(&mut self) {
        self.ends.push(self.post.len() as u64);
    }
}

/// Builds `n_rows` rows in parallel chunks: `f(chunk, rows, bits, out)`
/// appends the rows' entries to `out` (calling `end_row` after each row).
/// `bits` has `bits_len` bits and must be left clear.
pub(super) fn by_rows<F>(n_rows: usize, bits_len: usize, f: F) -> ConnectResult<Connectivity>
where
    F: Fn(usize, Range<usize>, &mut Bits, &mut RowsChunk) -> ConnectResult<()> + Sync,
{
    let built: Vec<ConnectResult<RowsChunk>> = chunks(n_rows)
        .into_par_iter()
        .map_init(
            || Bits::new(bits_len),
            |bits, c| {
                let mut out = RowsChunk::default();
                let rows = chunk_rows(c, n_rows);
                out.ends.reserve(rows.len());
                f(c, rows, bits, &mut out)?;
                Ok(out)
            },
        )
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    Ok(assemble(n_rows, parts))
}

/// Concatenates chunks into one CSR (freeing each chunk once copied).
pub(super) fn assemble(n_rows: usize, parts: Vec<RowsChunk>) -> Connectivity {
    let total: usize = parts.iter().map(|p| p.post.len()).sum();
    let weighted = parts.iter().any(|p| !p.weight.is_empty());
    let mut row_ptr = Vec::with_capacity(n_rows + 1);
    row_ptr.push(0u64);
    let mut post = Vec::with_capacity(total);
    let mut weight = Vec::with_capacity(if weighted { total } else { 0 });
    for part in parts {
        let base = post.len() as u64;
        row_ptr.extend(part.ends.iter().map(|e| base + e));
        post.extend_from_slice(&part.post);
        weight.extend_from_slice(&part.weight);
    }
    debug_assert_eq!(row_ptr.len(), n_rows + 1);
    Connectivity {
        row_ptr,
        post,
        weight: weighted.then_some(weight),
        delay: None,
    }
}

/// Builds `n_rows` rows whose lengths are known (or drawn) before their
/// entries, straight into the final arrays, without a copy: per chunk,
/// `count(rows, rng, lens)` sets the length of each row, then (after the
/// output is allocated) `fill(i, len, rng, bits, row)` appends exactly `len`
/// entries of row `i` to the scratch `row`, the chunk's stream continuing.
/// `bits` has `bits_len` bits and must be left clear.
pub(super) fn by_counted_rows<C, F>(
    input: &ConnectInput,
    n_rows: usize,
    bits_len: usize,
    count: C,
    fill: F,
) -> Connectivity
where
    C: Fn(Range<usize>, &mut Stream, &mut [u64]) + Sync,
    F: Fn(usize, usize, &mut Stream, &mut Bits, &mut Vec<u32>) + Sync,
{
    let heads: Vec<(Stream, Vec<u64>)> = chunks(n_rows)
        .into_par_iter()
        .map(|c| {
            let rows = chunk_rows(c, n_rows);
            let mut rng = chunk_stream(input, c);
            let mut lens = vec![0u64; rows.len()];
            count(rows, &mut rng, &mut lens);
            (rng, lens)
        })
        .collect();
    let mut row_ptr = Vec::with_capacity(n_rows + 1);
    row_ptr.push(0u64);
    let mut total = 0u64;
    for (_, lens) in &heads {
        for &l in lens {
            total += l;
            row_ptr.push(total);
        }
    }
    let mut post = vec![0u32; total as usize];
    let mut slices = Vec::with_capacity(heads.len());
    let mut rest = post.as_mut_slice();
    for c in chunks(n_rows) {
        let rows = chunk_rows(c, n_rows);
        let len = (row_ptr[rows.end] - row_ptr[rows.start]) as usize;
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
        slices.push(head);
        rest = tail;
    }
    heads.into_par_iter().zip(slices).enumerate().for_each_init(
        || (Bits::new(bits_len), Vec::new()),
        |(bits, row), (c, ((mut rng, lens), out))| {
            let mut at = 0;
            for (i, &len) in chunk_rows(c, n_rows).zip(&lens) {
                row.clear();
                fill(i, len as usize, &mut rng, bits, row);
                out[at..at + row.len()].copy_from_slice(row);
                at += row.len();
            }
            debug_assert_eq!(at, out.len());
        },
    );
    Connectivity {
        row_ptr,
        post,
        weight: None,
        delay: None,
    }
}
