//! Fixed total: exactly `n` synapses over the projection, uniform over the pairs.

use super::input::{ConnectInput, Connectivity};
use super::rows::{RowsChunk, assemble, by_counted_rows, by_rows, chunk_rows, chunk_stream, chunks};
use super::sample::{Bits, dedup_tail, merge_unique, multinomial, multinomial_weighted, sample_replace, skip_map};
use crate::rng::Stream;
use rayon::prelude::*;

/// Exactly `n` synapses. With multapses: a multinomial split of `n` over
/// the pre rows (sequential binomial draws), then uniform draws within each
/// row. Without: a uniformly random set of `n` distinct pairs, as the
/// distinct values of a sequence of independent uniform pairs drawn in
/// rounds (split over the rows, draw, drop repeats) until `n` are distinct:
/// the first `n` distinct values of an i.i.d. sequence are a uniform
/// `n`-subset. Sparse totals keep sorted rows between rounds; totals of at
/// least 1/16 of the pairs mark a bit per pair instead
/// ([`fixed_total_dense`]).
pub(super) fn fixed_total(input: &ConnectInput, n: u64) -> Connectivity {
    let (n_pre, n_post, no_self) = (input.n_pre, input.n_post, input.no_self());
    let avail = n_post - usize::from(no_self && n_post > 0);
    if n == 0 || avail == 0 || n_pre == 0 {
        return Connectivity::empty(n_pre);
    }
    let split_stream = |round: u64| Stream::keyed(input.seed, input.projection, "connect-split", round);
    let skip_of = |i: usize| if no_self { i } else { usize::MAX };
    let pairs = n_pre as u64 * avail as u64;
    if input.multapses {
        let counts = multinomial(&mut split_stream(0), n, n_pre);
        return by_counted_rows(
            input,
            n_pre,
            0,
            |rows, _, lens| lens.copy_from_slice(&counts[rows]),
            |i, len, rng, _, row| sample_replace(rng, n_post, len, skip_of(i), true, row),
        );
    }
    if n.saturating_mul(16) >= pairs {
        return fixed_total_dense(input, n, avail);
    }
    // Sparse rounds.
    let mut counts = multinomial(&mut split_stream(0), n, n_pre);
    let first = by_rows(n_pre, 0, |c, rows, _, out| {
        let mut rng = chunk_stream(input, c);
        for i in rows {
            let start = out.post.len();
            sample_replace(&mut rng, n_post, counts[i] as usize, skip_of(i), true, &mut out.post);
            dedup_tail(&mut out.post, start);
            out.end_row();
        }
        Ok(())
    });
    let mut conn = first.unwrap_or_else(|_| Connectivity::empty(n_pre));
    let mut round = 1u64;
    while (conn.len() as u64) < n {
        counts = multinomial(&mut split_stream(round), n - conn.len() as u64, n_pre);
        let old = &conn;
        let counts = &counts;
        let next = by_rows(n_pre, 0, |c, rows, _, out| {
            if counts[rows.clone()].iter().all(|&x| x == 0) {
                let (a, b) = (old.row_ptr[rows.start], old.row_ptr[rows.end]);
                out.post.extend_from_slice(&old.post[a as usize..b as usize]);
                out.ends
                    .extend(old.row_ptr[rows.start + 1..=rows.end].iter().map(|&e| e - a));
                return Ok(());
            }
            let mut rng = Stream::keyed(input.seed, input.projection, "connect", c as u64 | (round << 40));
            let mut fresh = Vec::new();
            for i in rows {
                let existing = old.row(i);
                if counts[i] == 0 {
                    out.post.extend_from_slice(existing);
                } else {
                    fresh.clear();
                    sample_replace(&mut rng, n_post, counts[i] as usize, skip_of(i), true, &mut fresh);
                    merge_unique(existing, &fresh, &mut out.post);
                }
                out.end_row();
            }
            Ok(())
        });
        conn = next.unwrap_or_else(|_| Connectivity::empty(n_pre));
        round += 1;
    }
    conn
}

/// [`fixed_total`] without multapses when `n` is at least 1/16 of the
/// `pairs` (so a bit per pair costs at most 2 bytes per synapse): each chunk
/// of pre rows has a bit set over its pairs; in rounds, the missing count is
/// split over the chunks (multinomial by their number of pairs) and each
/// chunk, in parallel, marks that many uniform pairs, repeats falling on
/// marked bits, until `n` bits are marked (or, above half of the pairs, the
/// `pairs - n` left out). The bits are then read back row by row.
fn fixed_total_dense(input: &ConnectInput, n: u64, avail: usize) -> Connectivity {
    let n_pre = input.n_pre;
    let no_self = input.no_self();
    let pairs = n_pre as u64 * avail as u64;
    let complement = 2 * n > pairs;
    let target = if complement { pairs - n } else { n };
    let sizes: Vec<u64> = chunks(n_pre)
        .map(|c| (chunk_rows(c, n_pre).len() * avail) as u64)
        .collect();
    let mut marks: Vec<(Bits, u64)> = sizes.iter().map(|&z| (Bits::new(z as usize), 0)).collect();
    let mut marked = 0u64;
    let mut round = 0u64;
    while marked < target {
        let mut split_rng = Stream::keyed(input.seed, input.projection, "connect-split", round);
        let split = multinomial_weighted(&mut split_rng, target - marked, &sizes);
        marks.par_iter_mut().enumerate().for_each(|(c, (bits, count))| {
            if split[c] == 0 {
                return;
            }
            let mut rng = Stream::keyed(input.seed, input.projection, "connect", c as u64 | (round << 40));
            for _ in 0..split[c] {
                *count += u64::from(bits.insert(rng.below(sizes[c]) as usize));
            }
        });
        marked = marks.iter().map(|m| m.1).sum();
        round += 1;
    }
    let parts: Vec<RowsChunk> = marks
        .into_par_iter()
        .enumerate()
        .map(|(c, (bits, _))| {
            let rows = chunk_rows(c, n_pre);
            let n_bits = rows.len() * avail;
            let mut out = RowsChunk::default();
            let (mut row, mut row_start) = (rows.start, 0usize);
            for (w, &word) in bits.words.iter().enumerate() {
                let mut x = if complement { !word } else { word };
                if n_bits - w * 64 < 64 {
                    x &= (1u64 << (n_bits - w * 64)) - 1;
                }
                while x != 0 {
                    let idx = w * 64 + x.trailing_zeros() as usize;
                    x &= x - 1;
                    while idx >= row_start + avail {
                        out.end_row();
                        row += 1;
                        row_start += avail;
                    }
                    let skip = if no_self { row } else { usize::MAX };
                    out.post.push(skip_map(idx - row_start, skip) as u32);
                }
            }
            while out.ends.len() < rows.len() {
                out.end_row();
            }
            out
        })
        .collect();
    assemble(n_pre, parts)
}
