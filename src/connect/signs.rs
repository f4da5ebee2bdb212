//! Sign assignment: Dale's law for pre neurons with a polarity, the excitatory ratio for the others.

use super::error::ConnectError;
use super::error::ConnectResult as Result;
use super::input::{ConnectInput, Connectivity, Polarity, check_probability};
use crate::rng::Stream;
use crate::store::{EXCITATORY, INHIBITORY, Sign};

/// Signs of the synapses of `conn`, in its CSR order. A synapse whose pre
/// neuron has a polarity takes its sign (Dale's law); of the `m` synapses
/// whose pre neuron has none, exactly `round(excitatory_ratio * m)` are
/// excitatory, chosen uniformly at random (stream keyed by the projection
/// and `"sign"`), the others inhibitory. A ratio outside `[0, 1]` is an error.
pub fn assign_signs(conn: &Connectivity, input: &ConnectInput, excitatory_ratio: f64) -> Result<Vec<Sign>> {
    check_probability(input, "signs", "excitatory ratio", excitatory_ratio)?;
    let rows = conn.n_rows();
    if !input.pre_polarity.is_empty() && input.pre_polarity.len() != rows {
        return Err(ConnectError::rule(
            input.projection,
            format!(
                "signs: {} pre polarities given for {rows} pre neurons",
                input.pre_polarity.len()
            ),
        ));
    }
    let mut signs = vec![EXCITATORY; conn.len()];
    let mut free = 0u64;
    for (i, w) in conn.row_ptr.windows(2).enumerate() {
        let range = w[0] as usize..w[1] as usize;
        match input.pre_pol(i) {
            Polarity::Excitatory => {}
            Polarity::Inhibitory => signs[range].fill(INHIBITORY),
            Polarity::None => free += w[1] - w[0],
        }
    }
    if free == 0 {
        return Ok(signs);
    }
    // Selection sampling (Knuth's algorithm S): exactly `exc` of the `free`
    // synapses, every subset equally likely, one draw per free synapse.
    let mut exc = (excitatory_ratio * free as f64).round() as u64;
    let mut left = free;
    let mut rng = Stream::keyed(input.seed, input.projection, "sign", 0);
    for (i, w) in conn.row_ptr.windows(2).enumerate() {
        if input.pre_pol(i) != Polarity::None {
            continue;
        }
        for s in &mut signs[w[0] as usize..w[1] as usize] {
            if exc == left {
                // Every remaining synapse is excitatory (already set).
                return Ok(signs);
            }
            if exc > 0 && rng.below(left) < exc {
                exc -= 1;
            } else {
                *s = INHIBITORY;
            }
            left -= 1;
        }
    }
    Ok(signs)
}
