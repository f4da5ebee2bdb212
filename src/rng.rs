//! Seeded random streams.
//!
//! Every random draw in cortecs comes from a [`Stream`] whose seed is derived
//! from `(global seed, name of the population or projection, purpose, chunk)`
//! by [`stream_seed`], never from the thread that runs it or from the order in
//! which objects were created. Adding a population therefore never shifts the
//! draws of another, and results are identical at any thread count.

use rand::TryRng;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;

/// SplitMix64 finaliser: a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a hash of a string, used to key streams by name.
pub fn hash_name(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Seed of the stream for `(seed, name, purpose, chunk)`.
///
/// `name` is the name of the population or projection, `purpose` says what
/// the draws are for (`"weight"`, `"connect"`, `"noise"`, ...), `chunk` is a
/// fixed-size block index (never a thread index).
pub fn stream_seed(seed: u64, name: &str, purpose: &str, chunk: u64) -> u64 {
    let mut h = mix64(seed);
    h = mix64(h ^ hash_name(name));
    h = mix64(h ^ hash_name(purpose).rotate_left(17));
    mix64(h ^ chunk.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A xoshiro256++ generator: small (32 bytes), fast, and stable across
/// versions of cortecs and of `rand`, so saved seeds keep their meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stream {
    s: [u64; 4],
}

impl Stream {
    /// A stream seeded from a 64-bit seed (expanded with SplitMix64).
    pub fn from_seed(seed: u64) -> Stream {
        let mut z = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *slot = mix64(z.wrapping_sub(0x9E37_79B9_7F4A_7C15));
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Stream { s }
    }

    /// The stream keyed by `(seed, name, purpose, chunk)`; see [`stream_seed`].
    pub fn keyed(seed: u64, name: &str, purpose: &str, chunk: u64) -> Stream {
        Stream::from_seed(stream_seed(seed, name, purpose, chunk))
    }

    /// Next 64 random bits.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// True when the state is all zeros (xoshiro's one fixed point: every
    /// draw would be 0; [`Stream::from_seed`] never makes it).
    pub fn is_degenerate(&self) -> bool {
        self.s == [0; 4]
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1]: never zero, safe for `ln`.
    #[inline(always)]
    pub fn uniform_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n) without modulo bias (Lemire's method); `n > 0`.
    #[inline(always)]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut lo = m as u64;
        if lo < n {
            let threshold = n.wrapping_neg() % n;
            while lo < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                lo = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// A Bernoulli draw with probability `p`.
    #[inline(always)]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

impl TryRng for Stream {
    type Error = Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

/// Poisson-distributed integer with mean `lambda` (>= 0): Knuth's product
/// method below 30 (exact, fast for the small means of per-step spike
/// counts), `rand_distr`'s sampler above.
#[inline]
pub fn poisson(rng: &mut Stream, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut k = 0u64;
        let mut p = rng.uniform();
        while p > limit {
            k += 1;
            p *= rng.uniform();
        }
        k
    } else {
        use rand_distr::Distribution;
        match rand_distr::Poisson::new(lambda) {
            Ok(d) => d.sample(rng) as u64,
            Err(_) => 0,
        }
    }
}

/// A standard normal draw (rand_distr's ziggurat).
#[inline]
pub fn standard_normal(rng: &mut Stream) -> f64 {
    use rand_distr::Distribution;
    rand_distr::StandardNormal.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_every_key() {
        let a = stream_seed(1, "exc", "weight", 0);
        assert_ne!(a, stream_seed(2, "exc", "weight", 0));
        assert_ne!(a, stream_seed(1, "inh", "weight", 0));
        assert_ne!(a, stream_seed(1, "exc", "delay", 0));
        assert_ne!(a, stream_seed(1, "exc", "weight", 1));
        assert_eq!(a, stream_seed(1, "exc", "weight", 0));
    }

    #[test]
    fn uniform_and_below_moments() {
        let mut s = Stream::from_seed(7);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| s.uniform()).sum::<f64>() / n as f64;
        // exact mean 1/2, sd 1/sqrt(12 n)
        assert!((mean - 0.5).abs() < 5.0 / (12.0 * n as f64).sqrt());
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[s.below(7) as usize] += 1;
        }
        for c in counts {
            // binomial(70000, 1/7): sd = sqrt(70000 * 1/7 * 6/7) ~ 92.6
            assert!((f64::from(c) - 10_000.0).abs() < 5.0 * 92.6);
        }
    }

    /// The sample mean and unbiased variance of `n` Poisson(`lambda`)
    /// draws lie within 5 standard errors of `lambda`: the mean's
    /// `sqrt(lambda / n)`, the variance's from the exact
    /// `Var(s^2) = mu4 / n - sigma^4 (n - 3) / (n (n - 1))` with the Poisson
    /// `mu4 = lambda (1 + 3 lambda)`, `sigma^4 = lambda^2`.
    fn check_poisson_moments(xs: &[f64], lambda: f64, what: &str) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        let se_m = (lambda / n).sqrt();
        let mu4 = lambda * (1.0 + 3.0 * lambda);
        let se_v = (mu4 / n - lambda * lambda * (n - 3.0) / (n * (n - 1.0))).sqrt();
        assert!((m - lambda).abs() < 5.0 * se_m, "{what} {lambda}: mean {m}, se {se_m}");
        assert!(
            (v - lambda).abs() < 5.0 * se_v,
            "{what} {lambda}: variance {v}, se {se_v}"
        );
    }

    #[test]
    fn poisson_table_mean_and_variance() {
        let mut s = Stream::from_seed(9);
        // 0.002: a 20 Hz drive at dt = 0.1 ms
        for lambda in [0.002, 0.02, 2.0, 12.0] {
            let t = PoissonTable::new(lambda);
            let xs: Vec<f64> = (0..200_000).map(|_| t.sample(&mut s) as f64).collect();
            check_poisson_moments(&xs, lambda, "table");
        }
    }

    #[test]
    fn poisson_table_count_equals_the_first_index_above_the_draw() {
        // the sampler counts F(k) <= u; the inverse-CDF definition is the
        // first k with u < F(k): the same for every u, the edges included
        for lambda in [0.002, 0.7, 2.0, 12.0, 29.9] {
            let t = PoissonTable::new(lambda);
            let first_above = |u: f64| t.cdf.iter().position(|&c| u < c).unwrap_or(t.cdf.len()) as u64;
            let edges = t.cdf.iter().flat_map(|&c| [c, f64::from_bits(c.to_bits() - 1)]);
            for u in edges.chain([0.0, 1.0 - f64::EPSILON]) {
                let count: u64 = t.cdf.iter().map(|&c| u64::from(u >= c)).sum();
                assert_eq!(count, first_above(u), "lambda {lambda}, u {u}");
            }
            let (mut a, mut b) = (Stream::from_seed(4), Stream::from_seed(4));
            for _ in 0..10_000 {
                assert_eq!(t.sample(&mut a), first_above(b.uniform()));
            }
        }
    }

    #[test]
    fn poisson_mean_and_variance() {
        let mut s = Stream::from_seed(3);
        // the small means are a Poisson source's per-step counts (20 Hz, 200 Hz at dt = 0.1 ms)
        for lambda in [0.002, 0.02, 0.5, 2.0, 12.0, 80.0] {
            let xs: Vec<f64> = (0..200_000).map(|_| poisson(&mut s, lambda) as f64).collect();
            check_poisson_moments(&xs, lambda, "poisson");
        }
    }
}

/// Poisson sampler for one fixed mean, by inversion of a precomputed
/// cumulative table: one uniform draw per sample (the per-step input counts
/// of a Poisson drive have a small, fixed mean).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoissonTable {
    lambda: f64,
    cdf: Vec<f64>,
}

impl PoissonTable {
    /// A sampler for mean `lambda` (>= 0).
    pub fn new(lambda: f64) -> PoissonTable {
        let mut cdf = Vec::new();
        if lambda > 0.0 && lambda < 30.0 {
            let mut p = (-lambda).exp();
            let mut c = p;
            let mut k = 0.0;
            while 1.0 - c > 1e-17 && cdf.len() < 200 {
                cdf.push(c);
                k += 1.0;
                p *= lambda / k;
                c += p;
            }
        }
        PoissonTable { lambda, cdf }
    }

    /// One draw.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        if self.cdf.is_empty() {
            return poisson(rng, self.lambda);
        }
        let u = rng.uniform();
        // The number of cumulative probabilities at or below `u` is the
        // first k with u < F(k) (F does not decrease): counted without a
        // branch per entry, which a search exits at a point the predictor
        // cannot know (W2's drive: mean 2 a step, 21 entries).
        // The first 8 entries hold all but the tail beyond the mode + ~4 SD
        // of small means; the rest is counted only when u lies beyond them.
        let count = |cdf: &[f64]| cdf.iter().map(|&c| u64::from(u >= c)).sum::<u64>();
        let (head, tail) = self.cdf.split_at(self.cdf.len().min(8));
        let k = count(head);
        if k == head.len() as u64 { k + count(tail) } else { k }
    }
}
