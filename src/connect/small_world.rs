//! Watts-Strogatz small world on the ring of indices.

use super::input::{ConnectInput, Connectivity};
use super::rows::by_counted_rows;

/// Watts-Strogatz on the ring, row by row.
pub(super) fn small_world(input: &ConnectInput, k: usize, rewire: f64) -> Connectivity {
    let n = input.n_pre;
    if k == 0 || n == 0 {
        return Connectivity::empty(n);
    }
    let half = k / 2;
    let can_rewire = rewire > 0.0 && k < n - 1;
    by_counted_rows(
        input,
        n,
        n,
        |_, _, lens| lens.fill(k as u64),
        |i, _, rng, bits, row| {
            for d in 1..=half {
                row.push(((i + d) % n) as u32);
                row.push(((i + n - d) % n) as u32);
            }
            if can_rewire {
                for &t in row.iter() {
                    bits.insert(t as usize);
                }
                for target in row.iter_mut() {
                    if rng.uniform() < rewire {
                        let t = loop {
                            let t = rng.below(n as u64) as usize;
                            if t != i && !bits.contains(t) {
                                break t;
                            }
                        };
                        bits.remove(*target as usize);
                        bits.insert(t);
                        *target = t as u32;
                    }
                }
                for &t in row.iter() {
                    bits.remove(t as usize);
                }
            }
            row.sort_unstable();
        },
    )
}
