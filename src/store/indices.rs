//! The other index of each synapse (post for pre-major rows), in two
//! widths: `u16` where every index fits (the other population has at most
//! 65,536 neurons, GeNN's narrow targets), `u32` otherwise.
//!
//! Loops over a row read a typed slice through [`with_indices!`], so the
//! width is matched once per call, not once per synapse.

use serde::{Serialize, Serializer};

/// Largest number of neurons whose indices fit in `u16`.
pub const NARROW_MAX: u32 = 1 << 16;

mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
}

/// One synapse's other index as stored: `u16` or `u32` (sealed: kernels
/// rely on there being no other width).
pub trait Target: sealed::Sealed + Copy + Ord + Send + Sync + std::fmt::Debug + 'static {
    /// The index as a `u32`.
    fn get(self) -> u32;
    /// The index as a `usize`.
    #[inline(always)]
    fn at(self) -> usize {
        self.get() as usize
    }
}

impl Target for u16 {
    #[inline(always)]
    fn get(self) -> u32 {
        u32::from(self)
    }
}

impl Target for u32 {
    #[inline(always)]
    fn get(self) -> u32 {
        self
    }
}

/// The other index of every synapse slot, in row order.
#[derive(Clone, Debug)]
pub enum Indices {
    /// Two bytes a synapse: every index is below 65,536.
    Narrow(Vec<u16>),
    /// Four bytes a synapse.
    Wide(Vec<u32>),
}

/// Runs `$body` with `$s` bound to the indices of `$ix` as a typed slice
/// (`&[u16]` or `&[u32]`): the body is compiled once for each width.
#[macro_export]
macro_rules! with_indices {
    ($ix:expr, |$s:ident| $body:expr) => {
        match &$ix {
            $crate::store::Indices::Narrow(v) => {
                let $s: &[u16] = &v[..];
                $body
            }
            $crate::store::Indices::Wide(v) => {
                let $s: &[u32] = &v[..];
                $body
            }
        }
    };
}

impl Default for Indices {
    fn default() -> Self {
        Indices::Narrow(Vec::new())
    }
}

impl PartialEq for Indices {
    /// The same indices, whatever their width.
    fn eq(&self, other: &Indices) -> bool {
        match (self, other) {
            (Indices::Narrow(a), Indices::Narrow(b)) => a == b,
            (Indices::Wide(a), Indices::Wide(b)) => a == b,
            _ => self.len() == other.len() && self.iter().eq(other.iter()),
        }
    }
}

impl Indices {
    /// Indices into a population of `bound` neurons: narrow when `bound`
    /// is at most 65,536 and every index fits (an index out of range, which
    /// a loaded file may hold, is kept as it is for validation to report).
    pub fn new(values: Vec<u32>, bound: u32) -> Indices {
        use rayon::prelude::*;
        // chunks of 64 Ki indices over the pool (the order is kept)
        const CHUNK: usize = 1 << 16;
        if bound > NARROW_MAX || !values.par_chunks(CHUNK).all(|c| c.iter().all(|&v| v < NARROW_MAX)) {
            return Indices::Wide(values);
        }
        let mut narrow = vec![0u16; values.len()];
        narrow
            .par_chunks_mut(CHUNK)
            .zip(values.par_chunks(CHUNK))
            .for_each(|(n, v)| {
                for (n, &v) in n.iter_mut().zip(v) {
                    *n = v as u16;
                }
            });
        Indices::Narrow(narrow)
    }

    /// No index, for a population of `bound` neurons.
    pub fn empty(bound: u32) -> Indices {
        Indices::new(Vec::new(), bound)
    }

    /// Number of slots.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Indices::Narrow(v) => v.len(),
            Indices::Wide(v) => v.len(),
        }
    }

    /// True when there is no slot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for two bytes a synapse.
    pub fn is_narrow(&self) -> bool {
        matches!(self, Indices::Narrow(_))
    }

    /// Bytes an index takes: 2 or 4.
    pub fn width(&self) -> usize {
        if self.is_narrow() { 2 } else { 4 }
    }

    /// Index of slot `k`.
    #[inline(always)]
    pub fn get(&self, k: usize) -> u32 {
        match self {
            Indices::Narrow(v) => u32::from(v[k]),
            Indices::Wide(v) => v[k],
        }
    }

    /// Every index, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (narrow, wide): (&[u16], &[u32]) = match self {
            Indices::Narrow(v) => (v, &[]),
            Indices::Wide(v) => (&[], v),
        };
        narrow.iter().map(|&v| u32::from(v)).chain(wide.iter().copied())
    }

    /// The indices of `range`, widened (a copy).
    pub fn to_vec(&self, range: std::ops::Range<usize>) -> Vec<u32> {
        with_indices!(self, |s| s[range].iter().map(|&v| v.get()).collect())
    }

    /// How many of the indices in `range` (sorted) are below `m`.
    pub fn partition_below(&self, range: std::ops::Range<usize>, m: u32) -> usize {
        with_indices!(self, |s| s[range].partition_point(|&v| v.get() < m))
    }

    /// How many of the indices in `range` (sorted) are at most `m`.
    pub fn partition_upto(&self, range: std::ops::Range<usize>, m: u32) -> usize {
        with_indices!(self, |s| s[range].partition_point(|&v| v.get() <= m))
    }

    /// True when the indices of `range` are in ascending order.
    pub fn is_sorted(&self, range: std::ops::Range<usize>) -> bool {
        with_indices!(self, |s| s[range].windows(2).all(|w| w[0] <= w[1]))
    }

    /// Keeps the entries where `keep` is true (in order).
    pub fn retain_by(&mut self, keep: &[bool]) {
        let mut it = keep.iter();
        match self {
            Indices::Narrow(v) => v.retain(|_| *it.next().unwrap_or(&true)),
            Indices::Wide(v) => v.retain(|_| *it.next().unwrap_or(&true)),
        }
    }

    /// Bytes the indices hold (capacity).
    pub fn bytes(&self) -> usize {
        match self {
            Indices::Narrow(v) => v.capacity() * 2,
            Indices::Wide(v) => v.capacity() * 4,
        }
    }
}

impl Serialize for Indices {
    /// As a sequence of `u32` whatever the width, so files do not depend on it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for x in self.iter() {
            seq.serialize_element(&x)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_narrow_only_where_every_index_fits() {
        assert!(Indices::new(vec![0, 65_535], NARROW_MAX).is_narrow());
        assert!(!Indices::new(vec![0, 3], NARROW_MAX + 1).is_narrow());
        // an index out of range (a damaged file) is not truncated
        let bad = Indices::new(vec![1, 70_000], 10);
        assert_eq!(bad.get(1), 70_000);
        let n = Indices::new(vec![2, 5, 5, 9], 10);
        let w = Indices::Wide(vec![2, 5, 5, 9]);
        assert_eq!(n, w);
        assert_eq!((n.partition_below(0..4, 5), n.partition_upto(0..4, 5)), (1, 3));
        assert_eq!(n.to_vec(1..3), vec![5, 5]);
        assert!(n.is_sorted(0..4) && !Indices::new(vec![3, 1], 10).is_sorted(0..2));
        assert_eq!(n.bytes() * 2, w.bytes());
    }

    /// Both widths are written as the same `u32` sequence.
    #[test]
    fn both_widths_serialise_alike() {
        let cfg = bincode::config::standard();
        let n = bincode::serde::encode_to_vec(Indices::new(vec![1, 300, 65_535], NARROW_MAX), cfg).unwrap();
        let w = bincode::serde::encode_to_vec(Indices::Wide(vec![1, 300, 65_535]), cfg).unwrap();
        let v = bincode::serde::encode_to_vec(vec![1u32, 300, 65_535], cfg).unwrap();
        assert_eq!((&n, &w), (&v, &v));
    }
}
