//! The deterministic rules: every pre to every post (all-to-all), and `i -> i` (one-to-one).

use super::input::{ConnectInput, Connectivity};
use super::rows::by_counted_rows;

/// Every pre neuron to every post neuron (but itself, within one population
/// without self-connections).
pub(super) fn all_to_all(input: &ConnectInput) -> Connectivity {
    let (n_post, no_self) = (input.n_post, input.no_self());
    let len = (n_post - usize::from(no_self && n_post > 0)) as u64;
    by_counted_rows(
        input,
        input.n_pre,
        0,
        |_, _, lens| lens.fill(len),
        |i, _, _, _, row| row.extend((0..n_post as u32).filter(|&j| !(no_self && j as usize == i))),
    )
}

/// Pre neuron `i` to post neuron `i` (the front has checked the sizes).
pub(super) fn one_to_one(input: &ConnectInput) -> Connectivity {
    Connectivity {
        row_ptr: (0..=input.n_pre as u64).collect(),
        post: (0..input.n_pre as u32).collect(),
        weight: None,
        delay: None,
    }
}
