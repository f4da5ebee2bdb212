//! The sampling toolbox: bit sets, distinct/repeated draws, geometric gaps, binomial/multinomial splits, merges.

use crate::rng::Stream;

/// A bit set: membership tests for the samplers. Kept all-zero between uses.
pub(super) struct Bits {
    pub(super) words: Vec<u64>,
}

impl Bits {
    pub(super) fn new(n: usize) -> Bits {
        Bits {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Sets bit `i`; true if it was clear.
    #[inline(always)]
    pub(super) fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i >> 6, 1u64 << (i & 63));
        let fresh = self.words[w] & b == 0;
        self.words[w] |= b;
        fresh
    }

    /// Whether bit `i` is set.
    #[inline(always)]
    pub(super) fn contains(&self, i: usize) -> bool {
        self.words[i >> 6] & (1u64 << (i & 63)) != 0
    }

    /// Clears bit `i`; true if it was set.
    #[inline(always)]
    pub(super) fn remove(&mut self, i: usize) -> bool {
        let (w, b) = (i >> 6, 1u64 << (i & 63));
        let was = self.words[w] & b != 0;
        self.words[w] &= !b;
        was
    }

    /// Appends the `count` set bits below `n` in ascending order and clears
    /// them.
    pub(super) fn drain_into(&mut self, n: usize, count: usize, out: &mut Vec<u32>) {
        let start = out.len();
        out.resize(start + count, 0);
        let dst = &mut out[start..];
        let mut at = 0;
        for (w, word) in self.words[..n.div_ceil(64)].iter_mut().enumerate() {
            let mut x = *word;
            if x != 0 {
                *word = 0;
                while x != 0 {
                    dst[at] = (w * 64) as u32 + x.trailing_zeros();
                    at += 1;
                    x &= x - 1;
                }
            }
        }
        debug_assert_eq!(at, count);
    }

    /// Sets bits `0..n`.
    pub(super) fn fill(&mut self, n: usize) {
        let full = n / 64;
        self.words[..full].fill(u64::MAX);
        if !n.is_multiple_of(64) {
            self.words[full] = (1u64 << (n % 64)) - 1;
        }
    }
}

/// Candidates `0..n` without `skip`: how many, and the map from `0..m`.
#[inline(always)]
pub(super) fn skip_map(x: usize, skip: usize) -> usize {
    x + usize::from(x >= skip)
}

/// Appends `k` distinct values drawn uniformly from `0..n` without `skip`
/// (pass `usize::MAX` for none), in ascending order if `sorted`. `k` must
/// not exceed the number of candidates. Work: O(k) draws, plus O(n / 64)
/// when `k` is a sizeable fraction of `n`.
pub(super) fn sample_distinct(
    stream: &mut Stream,
    bits: &mut Bits,
    n: usize,
    k: usize,
    skip: usize,
    sorted: bool,
    out: &mut Vec<u32>,
) {
    let m = n - usize::from(skip < n);
    debug_assert!(k <= m);
    if k == 0 {
        return;
    }
    if k == m {
        out.extend((0..n as u32).filter(|&x| x as usize != skip));
        return;
    }
    // A local copy keeps the generator's state in registers.
    let mut local = stream.clone();
    let rng = &mut local;
    if 2 * k > m {
        // Choose the m - k that are left out.
        bits.fill(n);
        if skip < n {
            bits.remove(skip);
        }
        let mut left = m - k;
        while left > 0 {
            if bits.remove(skip_map(rng.below(m as u64) as usize, skip)) {
                left -= 1;
            }
        }
        bits.drain_into(n, k, out);
    } else if sorted && k.saturating_mul(512) >= m {
        // Dense: mark, then read the marks in order.
        let mut left = k;
        while left > 0 {
            if bits.insert(skip_map(rng.below(m as u64) as usize, skip)) {
                left -= 1;
            }
        }
        bits.drain_into(n, k, out);
    } else {
        // Sparse: rejection of repeats, then sort the few values.
        let start = out.len();
        while out.len() - start < k {
            let x = skip_map(rng.below(m as u64) as usize, skip);
            if bits.insert(x) {
                out.push(x as u32);
            }
        }
        for &x in &out[start..] {
            bits.remove(x as usize);
        }
        if sorted {
            out[start..].sort_unstable();
        }
    }
    *stream = local;
}

/// Appends `k` values drawn uniformly with replacement from `0..n` without
/// `skip` (there must be a candidate), sorted if `sorted`.
#[inline]
pub(super) fn sample_replace(rng: &mut Stream, n: usize, k: usize, skip: usize, sorted: bool, out: &mut Vec<u32>) {
    let m = (n - usize::from(skip < n)) as u64;
    let start = out.len();
    let mut local = rng.clone();
    out.extend((0..k).map(|_| skip_map(local.below(m) as usize, skip) as u32));
    *rng = local;
    if sorted {
        out[start..].sort_unstable();
    }
}

/// Entries of the table of [`Geometric`].
const GEOMETRIC_TABLE: usize = 1024;
/// Bits of a draw that index the guide table of [`Geometric`].
const GEOMETRIC_GUIDE_BITS: u32 = 10;

/// Sampler of the gap between successive synapses: the number `G` of
/// failures before the first success in Bernoulli(p) trials,
/// `P(G >= g) = (1 - p)^g`.
///
/// For `p >= 1 / 1024` it inverts a table of the distribution function
/// over blocks of [`GEOMETRIC_TABLE`] values (with 64-bit thresholds, a
/// guide table to start the search, and the memorylessness of `G` for the
/// rare draws past the table): one 64-bit draw and one or two comparisons
/// per gap. For smaller `p` it uses `floor(ln(U) / ln(1 - p))`.
pub(super) struct Geometric {
    /// `1 / ln(1 - p)`.
    inv_ln_q: f64,
    /// `cdf[r] = 2^64 * P(G <= r)` (saturated), or empty below the table's range.
    cdf: Vec<u64>,
    /// `guide[b]`: the least `r` with `cdf[r] > b * 2^(64 - GUIDE_BITS)`.
    guide: Vec<u16>,
}

impl Geometric {
    pub(super) fn new(p: f64) -> Geometric {
        let ln_q = (-p).ln_1p();
        let mut g = Geometric {
            inv_ln_q: 1.0 / ln_q,
            cdf: Vec::new(),
            guide: Vec::new(),
        };
        if p * GEOMETRIC_TABLE as f64 >= 1.0 && p < 1.0 {
            const TWO64: f64 = 18_446_744_073_709_551_616.0;
            g.cdf = (0..GEOMETRIC_TABLE)
                .map(|r| (-((r + 1) as f64 * ln_q).exp_m1() * TWO64) as u64)
                .collect();
            let shift = 64 - GEOMETRIC_GUIDE_BITS;
            let mut r = 0usize;
            g.guide = (0..1u64 << GEOMETRIC_GUIDE_BITS)
                .map(|b| {
                    while r < GEOMETRIC_TABLE - 1 && g.cdf[r] <= b << shift {
                        r += 1;
                    }
                    r as u16
                })
                .collect();
        }
        g
    }

    #[inline(always)]
    pub(super) fn sample(&self, rng: &mut Stream) -> u64 {
        if self.cdf.is_empty() {
            // `as` saturates: a huge gap just ends the chunk.
            return (rng.uniform_open0().ln() * self.inv_ln_q) as u64;
        }
        let last = self.cdf[GEOMETRIC_TABLE - 1];
        let mut base = 0u64;
        loop {
            let u = rng.next_u64();
            if u < last {
                let mut r = usize::from(self.guide[(u >> (64 - GEOMETRIC_GUIDE_BITS)) as usize]);
                while self.cdf[r] <= u {
                    r += 1;
                }
                return base + r as u64;
            }
            base += GEOMETRIC_TABLE as u64;
        }
    }
}

/// A binomial draw (n trials, probability p in [0, 1]).
pub(super) fn binomial(rng: &mut Stream, n: u64, p: f64) -> u64 {
    use rand_distr::Distribution;
    match rand_distr::Binomial::new(n, p) {
        Ok(d) => d.sample(rng),
        // Unreachable for p in [0, 1].
        Err(_) => 0,
    }
}

/// Multinomial split of `total` over `rows` equally likely rows.
pub(super) fn multinomial(rng: &mut Stream, total: u64, rows: usize) -> Vec<u64> {
    let mut counts = vec![0u64; rows];
    if rows == 0 || total == 0 {
        return counts;
    }
    if total.saturating_mul(8) < rows as u64 {
        for _ in 0..total {
            counts[rng.below(rows as u64) as usize] += 1;
        }
        return counts;
    }
    let mut left = total;
    for (i, c) in counts.iter_mut().enumerate() {
        if left == 0 {
            break;
        }
        let rows_left = rows - i;
        *c = if rows_left == 1 {
            left
        } else {
            binomial(rng, left, 1.0 / rows_left as f64)
        };
        left -= *c;
    }
    counts
}

/// Removes repeats from the sorted `v[start..]`.
pub(super) fn dedup_tail(v: &mut Vec<u32>, start: usize) {
    if v.len() - start < 2 {
        return;
    }
    let mut w = start + 1;
    for r in start + 1..v.len() {
        if v[r] != v[w - 1] {
            v[w] = v[r];
            w += 1;
        }
    }
    v.truncate(w);
}

/// Multinomial split of `total` over cells of the given sizes (sequential
/// binomial draws).
pub(super) fn multinomial_weighted(rng: &mut Stream, total: u64, sizes: &[u64]) -> Vec<u64> {
    let mut left = total;
    let mut size_left: u64 = sizes.iter().sum();
    sizes
        .iter()
        .map(|&z| {
            let c = if left == 0 || z == 0 {
                0
            } else if z == size_left {
                left
            } else {
                binomial(rng, left, z as f64 / size_left as f64)
            };
            left -= c;
            size_left -= z;
            c
        })
        .collect()
}

/// Appends the union of the sorted unique `a` and the sorted `b`, without
/// repeats, in order.
pub(super) fn merge_unique(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    let start = out.len();
    let (mut x, mut y) = (0, 0);
    while x < a.len() || y < b.len() {
        let v = if y == b.len() || (x < a.len() && a[x] <= b[y]) {
            x += 1;
            a[x - 1]
        } else {
            y += 1;
            b[y - 1]
        };
        if out.len() == start || *out.last().unwrap_or(&u32::MAX) != v {
            out.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_distinct_all_regimes() {
        let mut rng = Stream::from_seed(1);
        let mut bits = Bits::new(1000);
        for (n, k, skip) in [
            (1000, 3, 5),
            (1000, 100, usize::MAX),
            (1000, 700, 999),
            (1000, 999, 0),
            (10, 10, usize::MAX),
        ] {
            for sorted in [true, false] {
                let mut out = vec![];
                sample_distinct(&mut rng, &mut bits, n, k, skip, sorted, &mut out);
                assert_eq!(out.len(), k);
                let mut s = out.clone();
                s.sort_unstable();
                s.dedup();
                assert_eq!(s.len(), k);
                if sorted {
                    assert_eq!(s, out);
                }
                assert!(out.iter().all(|&x| (x as usize) < n && x as usize != skip));
                assert!(bits.words.iter().all(|&w| w == 0));
            }
        }
    }

    #[test]
    fn geometric_gaps_have_the_right_law() {
        for p in [0.0005, 0.002, 0.1, 0.5, 0.97] {
            let g = Geometric::new(p);
            assert_eq!(g.cdf.is_empty(), p < 1.0 / 1024.0);
            let mut rng = Stream::from_seed(9);
            let n = 200_000;
            let xs: Vec<u64> = (0..n).map(|_| g.sample(&mut rng)).collect();
            let q = 1.0 - p;
            // P(G = 0) = p, P(G >= 3) = q^3, mean q / p.
            for (what, hits, prob) in [
                ("G = 0", xs.iter().filter(|&&x| x == 0).count(), p),
                ("G >= 3", xs.iter().filter(|&&x| x >= 3).count(), q * q * q),
            ] {
                let sd = (n as f64 * prob * (1.0 - prob)).sqrt();
                assert!((hits as f64 - n as f64 * prob).abs() <= 5.0 * sd + 1e-9, "{p} {what}");
            }
            let mean = xs.iter().sum::<u64>() as f64 / n as f64;
            let sd = (q / (p * p) / n as f64).sqrt();
            assert!((mean - q / p).abs() <= 5.0 * sd, "{p}: mean {mean}");
        }
    }

    #[test]
    fn merge_and_dedup() {
        let mut v = vec![9, 1, 1, 2, 2, 2, 5];
        dedup_tail(&mut v, 1);
        assert_eq!(v, [9, 1, 2, 5]);
        let mut out = vec![];
        merge_unique(&[1, 4, 6], &[0, 4, 4, 7], &mut out);
        assert_eq!(out, [0, 1, 4, 6, 7]);
    }

    #[test]
    fn multinomial_sums() {
        let mut rng = Stream::from_seed(2);
        for (total, rows) in [(0, 5), (3, 100), (1000, 7), (10, 1)] {
            assert_eq!(multinomial(&mut rng, total, rows).iter().sum::<u64>(), total);
        }
    }
}
