//! The delay ring of a spiking population (Brian2's `SpikeQueue` as its own type).

use serde::{Deserialize, Serialize};

/// Input waiting to arrive at a spiking population: `slots` steps ahead, two
/// channels (excitatory, inhibitory) of `size` neurons per slot. Input for
/// absolute step `t` sits in slot `t % slots`; the slot is read and cleared
/// when step `t` integrates, so a ring of `max delay + 1` slots holds every
/// delay. (Serialised as its buffer then its slot count, the checkpoint's
/// byte layout of the two fields it replaced.)
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DelayRing {
    buf: Vec<f64>,
    slots: usize,
}

impl DelayRing {
    /// A ring of `slots` empty slots for `size` neurons (`slots = 0`: none, for rate units).
    pub fn new(size: usize, slots: usize) -> DelayRing {
        DelayRing {
            buf: vec![0.0; slots * 2 * size],
            slots,
        }
    }

    /// Number of slots (steps of delay it holds, plus one).
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Number of values held (`slots x 2 x size`).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True for a ring with no slots.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The excitatory and inhibitory input arriving at absolute step `step`.
    #[inline]
    pub fn slot_mut(&mut self, step: u64, size: usize) -> (&mut [f64], &mut [f64]) {
        let s = step as usize % self.slots;
        self.buf[s * 2 * size..(s + 1) * 2 * size].split_at_mut(size)
    }

    /// The whole buffer (slot-major), for scatter loops that compute their own offsets.
    #[inline]
    pub fn buf_mut(&mut self) -> &mut [f64] {
        &mut self.buf
    }

    /// Grows the ring to at least `slots` slots at absolute step `now`,
    /// keeping pending input at the same absolute steps (O(ring), rare).
    pub fn ensure(&mut self, slots: usize, size: usize, now: u64) {
        if slots <= self.slots {
            return;
        }
        let n = size;
        let mut ring = vec![0.0; slots * 2 * n];
        for s in 0..self.slots {
            let abs = now as usize + ((s + self.slots - (now as usize % self.slots)) % self.slots);
            let new_s = abs % slots;
            ring[new_s * 2 * n..(new_s + 1) * 2 * n].copy_from_slice(&self.buf[s * 2 * n..(s + 1) * 2 * n]);
        }
        self.buf = ring;
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_keeps_pending_input_at_its_absolute_step() {
        let mut r = DelayRing::new(2, 3);
        // at step 10: input for steps 10, 11, 12
        for (t, x) in [(10u64, 1.0), (11, 2.0), (12, 3.0)] {
            r.slot_mut(t, 2).0[1] = x;
        }
        r.ensure(7, 2, 10);
        assert_eq!(r.slots(), 7);
        for (t, x) in [(10u64, 1.0), (11, 2.0), (12, 3.0), (13, 0.0), (16, 0.0)] {
            assert_eq!(r.slot_mut(t, 2).0[1], x, "step {t}");
        }
        r.ensure(4, 2, 10);
        assert_eq!(r.slots(), 7, "never shrinks");
    }
}
