//! Fixed probability: each pair independently with probability `p` (binomial row lengths, or geometric gaps).

use super::all_to_all::all_to_all;
use super::input::{ConnectInput, Connectivity};
use super::rows::{by_counted_rows, by_rows, chunk_stream};
use super::sample::{Geometric, sample_distinct};

/// Each pair with probability `p`. Long rows (at least 32 synapses
/// expected): the length of each row is drawn first (binomial), then as
/// many distinct targets, written straight into the output. Short rows:
/// geometric gaps between successive synapses over the chunk's pairs taken
/// row by row. Either way the work is a few draws per synapse, never one
/// per pair.
pub(super) fn fixed_probability(input: &ConnectInput, p: f64) -> Connectivity {
    if p <= 0.0 || input.n_post == 0 {
        return Connectivity::empty(input.n_pre);
    }
    if p >= 1.0 {
        return all_to_all(input);
    }
    let no_self = input.no_self();
    let candidates = input.n_post - usize::from(no_self);
    if p * candidates as f64 >= 32.0
        && let Ok(binomial) = rand_distr::Binomial::new(candidates as u64, p)
    {
        use rand_distr::Distribution;
        let n_post = input.n_post;
        return by_counted_rows(
            input,
            input.n_pre,
            n_post,
            |_, rng, lens| lens.iter_mut().for_each(|l| *l = binomial.sample(rng)),
            |i, len, rng, bits, row| {
                let skip = if no_self { i } else { usize::MAX };
                sample_distinct(rng, bits, n_post, len, skip, true, row);
            },
        );
    }
    let n_post = input.n_post as u64;
    let geometric = Geometric::new(p);
    let built = by_rows(input.n_pre, 0, |c, rows, _, out| {
        let mut rng = chunk_stream(input, c);
        let expect = rows.len() as f64 * n_post as f64 * p;
        out.post.reserve((expect + 5.0 * expect.sqrt()) as usize + 16);
        let mut row = rows.start;
        let mut col: u64 = 0;
        loop {
            col = col.saturating_add(geometric.sample(&mut rng));
            while col >= n_post {
                out.end_row();
                row += 1;
                if row == rows.end {
                    return Ok(());
                }
                col -= n_post;
            }
            if !(no_self && col as usize == row) {
                out.post.push(col as u32);
            }
            col += 1;
        }
    });
    built.unwrap_or_else(|_| Connectivity::empty(input.n_pre))
}
