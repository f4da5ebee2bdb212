//! Connection strategies: each builds exactly what its rule says.

use cortecs::connect::{
    ConnectInput, Connectivity, Polarity, ProbabilityFn, Strategy, assign_signs, connect, expected_count,
};
use cortecs::space::Space;
use cortecs::store::{EXCITATORY, INHIBITORY};
use ndarray::Array2;
use proptest::prelude::*;
use proptest::strategy::Strategy as PropStrategy;
use std::path::PathBuf;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The seed of the statistical tests: 42, or `CORTECS_TEST_SEED` (to check
/// that they hold for other seeds too).
fn seed() -> u64 {
    std::env::var("CORTECS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42)
}

fn input(n_pre: usize, n_post: usize) -> ConnectInput<'static> {
    ConnectInput {
        seed: seed(),
        ..ConnectInput::new("proj", n_pre, n_post)
    }
}

/// One population without self-connections.
fn recurrent(n: usize) -> ConnectInput<'static> {
    ConnectInput {
        same_population: true,
        self_connections: false,
        ..input(n, n)
    }
}

/// Checks the CSR invariants: shape, ranges, rows sorted.
fn check_csr(c: &Connectivity, n_pre: usize, n_post: usize) {
    assert_eq!(c.row_ptr.len(), n_pre + 1);
    assert_eq!(c.row_ptr[0], 0);
    assert_eq!(*c.row_ptr.last().unwrap(), c.post.len() as u64);
    assert!(c.row_ptr.windows(2).all(|w| w[0] <= w[1]));
    assert!(c.post.iter().all(|&j| (j as usize) < n_post));
    for i in 0..n_pre {
        assert!(c.row(i).windows(2).all(|w| w[0] <= w[1]), "row {i} not sorted");
    }
    if let Some(w) = &c.weight {
        assert_eq!(w.len(), c.len());
    }
    if let Some(d) = &c.delay {
        assert_eq!(d.len(), c.len());
    }
}

fn has_multapses(c: &Connectivity) -> bool {
    (0..c.n_rows()).any(|i| c.row(i).windows(2).any(|w| w[0] == w[1]))
}

fn has_self(c: &Connectivity) -> bool {
    (0..c.n_rows()).any(|i| c.row(i).contains(&(i as u32)))
}

fn in_degrees(c: &Connectivity, n_post: usize) -> Vec<usize> {
    let mut d = vec![0; n_post];
    for &j in &c.post {
        d[j as usize] += 1;
    }
    d
}

/// `x` within 5 standard deviations of `mean` (plus a little slack for
/// tiny variances).
fn assert_near(what: &str, x: f64, mean: f64, var: f64) {
    let tol = 5.0 * var.sqrt() + 1e-9;
    assert!(
        (x - mean).abs() <= tol,
        "{what}: {x} is not within 5 sd of {mean} (sd {})",
        var.sqrt()
    );
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

fn err_text(s: &Strategy, i: &ConnectInput) -> String {
    let v = s.validate(i).expect_err("validate should reject").to_string();
    let c = connect(s, i).expect_err("connect should reject").to_string();
    assert_eq!(v, c);
    c
}

fn grid_positions(nx: usize, ny: usize, spacing: f64) -> Vec<[f64; 3]> {
    (0..nx * ny)
        .map(|k| [(k % nx) as f64 * spacing, (k / nx) as f64 * spacing, 0.0])
        .collect()
}

fn random_positions(n: usize, side: f64, seed: u64) -> Vec<[f64; 3]> {
    let mut rng = cortecs::rng::Stream::from_seed(seed);
    (0..n)
        .map(|_| [rng.uniform() * side, rng.uniform() * side, 0.0])
        .collect()
}

/// Compares, per distance bin, the number of synapses with the sum of the
/// connection probabilities of the candidate pairs (5 standard errors).
fn check_bins(c: &Connectivity, input: &ConnectInput, bin: f64, p: impl Fn(usize, usize, f64) -> f64) {
    let n_bins = 64;
    let mut expect = vec![0.0; n_bins];
    let mut var = vec![0.0; n_bins];
    let mut got = vec![0.0; n_bins];
    let mut pairs = vec![0usize; n_bins];
    let mut connected = vec![false; input.n_post];
    for i in 0..input.n_pre {
        for &j in c.row(i) {
            connected[j as usize] = true;
        }
        for (j, &linked) in connected.iter().enumerate() {
            if input.same_population && !input.self_connections && i == j {
                assert!(!linked);
                continue;
            }
            let d = input.space.distance(input.pre_positions[i], input.post_positions[j]);
            let q = p(i, j, d);
            if q == 0.0 {
                assert!(!linked, "pair {i} -> {j} at d = {d} has p = 0");
            }
            let b = ((d / bin) as usize).min(n_bins - 1);
            expect[b] += q;
            var[b] += q * (1.0 - q);
            pairs[b] += 1;
            if linked {
                got[b] += 1.0;
            }
        }
        for &j in c.row(i) {
            connected[j as usize] = false;
        }
    }
    let mut checked = 0;
    for b in 0..n_bins {
        if pairs[b] >= 50 {
            assert_near(&format!("bin {b} ({} pairs)", pairs[b]), got[b], expect[b], var[b]);
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} bins with enough pairs");
}

// ---------------------------------------------------------------------------
// Deterministic rules
// ---------------------------------------------------------------------------

#[test]
fn all_to_all_is_every_pair() {
    let c = connect(&Strategy::AllToAll, &input(7, 5)).unwrap();
    check_csr(&c, 7, 5);
    assert_eq!(c.len(), 35);
    for i in 0..7 {
        assert_eq!(c.row(i), [0, 1, 2, 3, 4]);
    }
    let c = connect(&Strategy::AllToAll, &recurrent(6)).unwrap();
    assert_eq!(c.len(), 30);
    assert!(!has_self(&c));
    let with_self = ConnectInput {
        self_connections: true,
        ..recurrent(6)
    };
    assert_eq!(connect(&Strategy::AllToAll, &with_self).unwrap().len(), 36);
    assert_eq!(connect(&Strategy::AllToAll, &input(0, 5)).unwrap().row_ptr, [0]);
}

#[test]
fn one_to_one_pairs_equal_indices() {
    let c = connect(&Strategy::OneToOne, &input(5, 5)).unwrap();
    check_csr(&c, 5, 5);
    assert_eq!(c.pairs(), (vec![0, 1, 2, 3, 4], vec![0, 1, 2, 3, 4]));
    let m = err_text(&Strategy::OneToOne, &input(5, 6));
    assert!(
        m.contains("proj") && m.contains("same size") && m.contains("5 pre and 6 post"),
        "{m}"
    );
    let m = err_text(&Strategy::OneToOne, &recurrent(5));
    assert!(m.contains("itself"), "{m}");
}

// ---------------------------------------------------------------------------
// Fixed probability and degrees
// ---------------------------------------------------------------------------

/// Fixed probability between two populations: the count, every column and
/// row equally likely. Long rows (row lengths drawn first) and short rows
/// (geometric gaps) take different paths.
#[test]
fn fixed_probability_count_and_uniformity() {
    for (n_pre, n_post, p) in [(2000, 1500, 0.05), (4000, 400, 0.03)] {
        let s = Strategy::FixedProbability {
            p,
            equalize_efferents: false,
        };
        let i = input(n_pre, n_post);
        let c = connect(&s, &i).unwrap();
        check_csr(&c, n_pre, n_post);
        assert!(!has_multapses(&c));
        let pairs = (n_pre * n_post) as f64;
        let var = |m: f64| m * p * (1.0 - p);
        assert_near("total", c.len() as f64, p * pairs, var(pairs));
        // Every column equally likely, also the first and last of a row.
        let deg = in_degrees(&c, n_post);
        let per = n_pre as f64;
        for j in [0, 1, n_post / 2, n_post - 1] {
            assert_near(&format!("column {j}"), deg[j] as f64, p * per, var(per));
        }
        let width = n_post / 10;
        for bin in 0..10 {
            let k: usize = deg[bin * width..(bin + 1) * width].iter().sum();
            let m = per * width as f64;
            assert_near(&format!("columns bin {bin}"), k as f64, p * m, var(m));
        }
        // Rows: the first and last rows of chunks are like the others.
        let rows = |r: std::ops::Range<usize>| r.map(|r| c.row(r).len()).sum::<usize>() as f64;
        for r in [0..64, 192..256, 256..320, n_pre - 64..n_pre] {
            let m = 64.0 * n_post as f64;
            assert_near(&format!("rows {r:?}"), rows(r), p * m, var(m));
        }
        assert_eq!(expected_count(&s, &i).unwrap(), p * pairs);
    }
}

#[test]
fn fixed_probability_recurrent_and_extremes() {
    let n = 800;
    let p = 0.1;
    let s = Strategy::FixedProbability {
        p,
        equalize_efferents: false,
    };
    let c = connect(&s, &recurrent(n)).unwrap();
    check_csr(&c, n, n);
    assert!(!has_self(&c));
    let pairs = (n * (n - 1)) as f64;
    assert_near("total", c.len() as f64, p * pairs, pairs * p * (1.0 - p));
    assert_eq!(expected_count(&s, &recurrent(n)).unwrap(), p * pairs);
    // Short rows (geometric gaps) skip the diagonal too.
    let short = Strategy::FixedProbability {
        p: 0.02,
        equalize_efferents: false,
    };
    let c = connect(&short, &recurrent(n)).unwrap();
    check_csr(&c, n, n);
    assert!(!has_self(&c));
    assert_near("short rows", c.len() as f64, 0.02 * pairs, pairs * 0.02 * 0.98);
    let zero = Strategy::FixedProbability {
        p: 0.0,
        equalize_efferents: false,
    };
    assert!(connect(&zero, &recurrent(n)).unwrap().is_empty());
    let one = Strategy::FixedProbability {
        p: 1.0,
        equalize_efferents: false,
    };
    assert_eq!(connect(&one, &recurrent(50)).unwrap().len(), 50 * 49);
    // Very small p: a few synapses, no overflow in the gaps.
    let tiny = Strategy::FixedProbability {
        p: 1e-300,
        equalize_efferents: false,
    };
    assert!(connect(&tiny, &input(300, 300)).unwrap().is_empty());
}

#[test]
fn equalize_efferents_gives_exact_out_degree() {
    let s = Strategy::FixedProbability {
        p: 0.1,
        equalize_efferents: true,
    };
    let c = connect(&s, &input(300, 200)).unwrap();
    check_csr(&c, 300, 200);
    assert!((0..300).all(|i| c.row(i).len() == 20));
    assert!(!has_multapses(&c));
    assert_eq!(expected_count(&s, &input(300, 200)).unwrap(), 6000.0);
    let s = Strategy::FixedProbability {
        p: 0.25,
        equalize_efferents: true,
    };
    let c = connect(&s, &recurrent(101)).unwrap();
    assert!((0..101).all(|i| c.row(i).len() == 25));
    assert!(!has_self(&c) && !has_multapses(&c));
    // Dense rows (more than half of the candidates).
    let s = Strategy::FixedProbability {
        p: 0.9,
        equalize_efferents: true,
    };
    let c = connect(&s, &recurrent(101)).unwrap();
    assert!((0..101).all(|i| c.row(i).len() == 90));
    assert!(!has_self(&c) && !has_multapses(&c));
}

#[test]
fn fixed_in_degree_exact() {
    let (n_pre, n_post, k) = (500, 300, 40);
    let s = Strategy::FixedInDegree { k };
    let c = connect(&s, &input(n_pre, n_post)).unwrap();
    check_csr(&c, n_pre, n_post);
    assert!(in_degrees(&c, n_post).iter().all(|&d| d == k));
    assert!(!has_multapses(&c));
    assert_eq!(expected_count(&s, &input(n_pre, n_post)).unwrap(), (n_post * k) as f64);
    // Pre neurons are drawn uniformly: out-degrees average k * n_post / n_pre.
    let first: usize = (0..250).map(|i| c.row(i).len()).sum();
    let half = (n_post * k) as f64 / 2.0;
    assert_near("first half of pre", first as f64, half, half * 0.5);
    // All the other neurons of a population: exact.
    let c = connect(&Strategy::FixedInDegree { k: 199 }, &recurrent(200)).unwrap();
    assert!(in_degrees(&c, 200).iter().all(|&d| d == 199));
    assert!(!has_self(&c) && !has_multapses(&c));
    assert_eq!(c.len(), 200 * 199);
}

#[test]
fn fixed_in_degree_with_multapses() {
    let i = ConnectInput {
        multapses: true,
        ..recurrent(51)
    };
    let c = connect(&Strategy::FixedInDegree { k: 50 }, &i).unwrap();
    check_csr(&c, 51, 51);
    assert!(in_degrees(&c, 51).iter().all(|&d| d == 50));
    assert!(!has_self(&c));
    assert!(has_multapses(&c), "50 draws of 50 with replacement must repeat");
    // k beyond the number of pre neurons is fine with replacement.
    let c = connect(&Strategy::FixedInDegree { k: 80 }, &i).unwrap();
    assert!(in_degrees(&c, 51).iter().all(|&d| d == 80));
    // Many post chunks and pre buckets.
    let i = ConnectInput {
        multapses: true,
        ..input(1000, 700)
    };
    let c = connect(&Strategy::FixedInDegree { k: 30 }, &i).unwrap();
    check_csr(&c, 1000, 700);
    assert!(in_degrees(&c, 700).iter().all(|&d| d == 30));
    // Several buckets of pre rows (long rows), with and without multapses.
    for multapses in [true, false] {
        let i = ConnectInput {
            multapses,
            ..input(2000, 600)
        };
        let c = connect(&Strategy::FixedInDegree { k: 500 }, &i).unwrap();
        check_csr(&c, 2000, 600);
        assert!(in_degrees(&c, 600).iter().all(|&d| d == 500));
        assert_eq!(has_multapses(&c), multapses);
        let last: usize = (1500..2000).map(|r| c.row(r).len()).sum();
        assert_near("last quarter of pre", last as f64, 75_000.0, 75_000.0 * 0.75);
    }
}

#[test]
fn fixed_out_degree_exact() {
    let s = Strategy::FixedOutDegree { k: 30 };
    let c = connect(&s, &input(400, 350)).unwrap();
    check_csr(&c, 400, 350);
    assert!((0..400).all(|i| c.row(i).len() == 30));
    assert!(!has_multapses(&c));
    let deg = in_degrees(&c, 350);
    let half: usize = deg[..175].iter().sum();
    assert_near("first half of post", half as f64, 6000.0, 6000.0 * 0.5);
    let c = connect(&Strategy::FixedOutDegree { k: 99 }, &recurrent(100)).unwrap();
    assert_eq!(c.len(), 9900);
    assert!(!has_self(&c) && !has_multapses(&c));
    let i = ConnectInput {
        multapses: true,
        ..recurrent(40)
    };
    let c = connect(&Strategy::FixedOutDegree { k: 40 }, &i).unwrap();
    check_csr(&c, 40, 40);
    assert!((0..40).all(|r| c.row(r).len() == 40));
    assert!(!has_self(&c));
    assert!(has_multapses(&c));
}

#[test]
fn fixed_total_exact() {
    // Sparse, without multapses.
    let s = Strategy::FixedTotal { n: 5000 };
    let c = connect(&s, &recurrent(1000)).unwrap();
    check_csr(&c, 1000, 1000);
    assert_eq!(c.len(), 5000);
    assert!(!has_self(&c) && !has_multapses(&c));
    let first: usize = (0..500).map(|i| c.row(i).len()).sum();
    assert_near("first half", first as f64, 2500.0, 2500.0 * 0.5);
    // Sparse with many repeats to drop (several rounds): 1000 of 64 * 200.
    let c = connect(&Strategy::FixedTotal { n: 800 }, &input(64, 200)).unwrap();
    check_csr(&c, 64, 200);
    assert_eq!(c.len(), 800);
    assert!(!has_multapses(&c));
    // Dense, and the complement path.
    for n in [600u64, 1500, 1999, 2000] {
        let c = connect(&Strategy::FixedTotal { n }, &input(50, 40)).unwrap();
        check_csr(&c, 50, 40);
        assert_eq!(c.len() as u64, n);
        assert!(!has_multapses(&c));
    }
    let c = connect(&Strategy::FixedTotal { n: 1500 }, &recurrent(41)).unwrap();
    assert_eq!(c.len(), 1500);
    assert!(!has_self(&c) && !has_multapses(&c));
    // With multapses: exact, repeats allowed.
    let i = ConnectInput {
        multapses: true,
        ..recurrent(20)
    };
    let c = connect(&Strategy::FixedTotal { n: 3000 }, &i).unwrap();
    check_csr(&c, 20, 20);
    assert_eq!(c.len(), 3000);
    assert!(!has_self(&c) && has_multapses(&c));
    assert_eq!(expected_count(&Strategy::FixedTotal { n: 3000 }, &i).unwrap(), 3000.0);
}

#[test]
fn fixed_total_is_uniform_over_pairs() {
    // Every pair equally likely: count per pair over many seeds, for the
    // sparse rounds, the dense bit sets and their complement, and with
    // self-connections excluded.
    for (n_pre, n_post, n, recurrent_pop) in [
        (20, 20, 10u64, false),
        (6, 5, 7, false),
        (6, 5, 22, false),
        (8, 8, 30, true),
    ] {
        let mut hits = vec![0.0; n_pre * n_post];
        let runs = 2000;
        for seed in 0..runs {
            let i = ConnectInput {
                seed: seed + 1000 * self::seed(),
                same_population: recurrent_pop,
                self_connections: !recurrent_pop,
                ..input(n_pre, n_post)
            };
            let c = connect(&Strategy::FixedTotal { n }, &i).unwrap();
            assert_eq!(c.len() as u64, n);
            let (pre, post) = c.pairs();
            for (a, b) in pre.iter().zip(&post) {
                hits[*a as usize * n_post + *b as usize] += 1.0;
            }
        }
        let candidates = n_pre * n_post - if recurrent_pop { n_pre } else { 0 };
        let q = n as f64 / candidates as f64;
        for (k, &h) in hits.iter().enumerate() {
            if recurrent_pop && k / n_post == k % n_post {
                assert_eq!(h, 0.0);
                continue;
            }
            assert_near(
                &format!("{n} of {n_pre} x {n_post}: pair {k}"),
                h,
                q * runs as f64,
                runs as f64 * q * (1.0 - q),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Distance rules
// ---------------------------------------------------------------------------

#[test]
fn distance_probability_with_cutoff_matches_p_of_d() {
    let pos = grid_positions(40, 40, 1.0);
    let i = ConnectInput {
        pre_positions: &pos,
        post_positions: &pos,
        ..recurrent(1600)
    };
    let i = Box::leak(Box::new(i));
    let s = Strategy::DistanceProbability {
        p: ProbabilityFn::expr("0.8 * exp(-d / 3)"),
        cutoff: Some(6.0),
    };
    let c = connect(&s, i).unwrap();
    check_csr(&c, 1600, 1600);
    assert!(!has_self(&c));
    check_bins(
        &c,
        i,
        0.5,
        |_, _, d| {
            if d <= 6.0 { 0.8 * (-d / 3.0).exp() } else { 0.0 }
        },
    );
    let e = expected_count(&s, i).unwrap();
    assert_near("expected count", c.len() as f64, e, e);
}

#[test]
fn distance_probability_without_cutoff_and_closure() {
    let pos = random_positions(400, 30.0, 1);
    let pos2 = random_positions(300, 30.0, 2);
    let i = ConnectInput {
        pre_positions: &pos,
        post_positions: &pos2,
        ..input(400, 300)
    };
    let i = Box::leak(Box::new(i));
    let s = Strategy::DistanceProbability {
        p: ProbabilityFn::of_distance(|d| 0.6 * (-d / 8.0).exp()),
        cutoff: None,
    };
    let c = connect(&s, i).unwrap();
    check_csr(&c, 400, 300);
    check_bins(&c, i, 2.0, |_, _, d| 0.6 * (-d / 8.0).exp());
}

#[test]
fn distance_probability_periodic_ring_is_exact() {
    // A ring of 100 neurons 1 µm apart: p = 1 within 2 µm (with wrap).
    let pos: Vec<[f64; 3]> = (0..100).map(|k| [k as f64, 0.0, 0.0]).collect();
    let i = ConnectInput {
        pre_positions: &pos,
        post_positions: &pos,
        space: Space::periodic([100.0, 0.0, 0.0]),
        ..recurrent(100)
    };
    let s = Strategy::DistanceProbability {
        p: "if(d <= 2, 1, 0)".into(),
        cutoff: Some(2.5),
    };
    let c = connect(&s, &i).unwrap();
    for r in 0..100u32 {
        let mut want: Vec<u32> = [98, 99, 1, 2].iter().map(|o| (r + o) % 100).collect();
        want.sort_unstable();
        assert_eq!(c.row(r as usize), want, "row {r}");
    }
    assert_eq!(expected_count(&s, &i).unwrap(), 400.0);
}

#[test]
fn distance_probability_rejects_bad_values() {
    let i = input(10, 10);
    let s = Strategy::DistanceProbability {
        p: "2 - d".into(),
        cutoff: None,
    };
    let m = connect(&s, &i).unwrap_err().to_string();
    assert!(m.contains("proj") && m.contains("not a probability"), "{m}");
    let s = Strategy::DistanceProbability {
        p: "exp(-x / 3)".into(),
        cutoff: Some(1.0),
    };
    let m = err_text(&s, &i);
    assert!(m.contains("unknown variable 'x'"), "{m}");
    let s = Strategy::DistanceProbability {
        p: "0.5".into(),
        cutoff: Some(-1.0),
    };
    assert!(err_text(&s, &i).contains("cutoff = -1"));
    let s = Strategy::DistanceProbability {
        p: ProbabilityFn::of_pair(|_, _| 0.5),
        cutoff: None,
    };
    assert!(err_text(&s, &i).contains("function of the distance"));
    let bad = [[f64::NAN, 0.0, 0.0]; 10];
    let i2 = ConnectInput {
        pre_positions: &bad,
        ..input(10, 10)
    };
    let s = Strategy::DistanceProbability {
        p: "0.5".into(),
        cutoff: Some(1.0),
    };
    assert!(err_text(&s, &i2).contains("not finite"));
}

fn polarities(n: usize) -> Vec<Polarity> {
    (0..n)
        .map(|k| match k % 5 {
            0 => Polarity::Inhibitory,
            4 => Polarity::None,
            _ => Polarity::Excitatory,
        })
        .collect()
}

#[test]
fn radial_gaussian_per_polarity_class() {
    let n = 1200;
    let pos = random_positions(n, 35.0, 3);
    let pol = polarities(n);
    let i = ConnectInput {
        pre_positions: &pos,
        post_positions: &pos,
        pre_polarity: &pol,
        post_polarity: &pol,
        ..recurrent(n)
    };
    let i = Box::leak(Box::new(i));
    let (ee, ei, ie, ii, none, lambda) = (0.9, 0.5, 1.6, 0.2, 0.7, 2.5);
    let s = Strategy::RadialGaussian {
        ee,
        ei,
        ie,
        ii,
        none,
        lambda,
        cutoff: None,
    };
    let c = connect(&s, i).unwrap();
    check_csr(&c, n, n);
    assert!(!has_self(&c));
    let cons = |a: Polarity, b: Polarity| match (a, b) {
        (Polarity::Excitatory, Polarity::Excitatory) => ee,
        (Polarity::Excitatory, Polarity::Inhibitory) => ei,
        (Polarity::Inhibitory, Polarity::Excitatory) => ie,
        (Polarity::Inhibitory, Polarity::Inhibitory) => ii,
        _ => none,
    };
    let p = |a: usize, b: usize, d: f64| {
        if d > 3.0 * lambda {
            0.0
        } else {
            (cons(pol[a], pol[b]) * (-(d / lambda) * (d / lambda)).exp()).min(1.0)
        }
    };
    check_bins(&c, i, 0.5, p);
    // Class by class (E -> E and I -> E, whose C > 1 saturates).
    for (a, b) in [
        (Polarity::Excitatory, Polarity::Excitatory),
        (Polarity::Inhibitory, Polarity::Excitatory),
    ] {
        let (mut got, mut mean, mut var) = (0.0, 0.0, 0.0);
        for x in (0..n).filter(|&x| pol[x] == a) {
            let row = c.row(x);
            for y in (0..n).filter(|&y| y != x && pol[y] == b) {
                let q = p(x, y, Space::open().distance(pos[x], pos[y]));
                mean += q;
                var += q * (1.0 - q);
                got += f64::from(u8::from(row.binary_search(&(y as u32)).is_ok()));
            }
        }
        assert_near(&format!("{a:?} -> {b:?}"), got, mean, var);
    }
}

#[test]
fn radial_probabilistic_by_pre_polarity() {
    let n = 900;
    let pos = grid_positions(30, 30, 1.0);
    let pol = polarities(n);
    let i = ConnectInput {
        pre_positions: &pos,
        post_positions: &pos,
        pre_polarity: &pol,
        ..recurrent(n)
    };
    let i = Box::leak(Box::new(i));
    let s = Strategy::RadialProbabilistic {
        exc_radius: 3.0,
        exc_prob: 0.3,
        inh_radius: 5.0,
        inh_prob: 0.6,
        none_radius: 2.0,
        none_prob: 1.0,
    };
    let c = connect(&s, i).unwrap();
    check_csr(&c, n, n);
    assert!(!has_self(&c));
    let rule = |a: usize, d: f64| match pol[a] {
        Polarity::Excitatory => f64::from(u8::from(d <= 3.0)) * 0.3,
        Polarity::Inhibitory => f64::from(u8::from(d <= 5.0)) * 0.6,
        Polarity::None => f64::from(u8::from(d <= 2.0)),
    };
    check_bins(&c, i, 0.5, |a, _, d| rule(a, d));
    // Without polarity: every neuron within 2 µm, exactly.
    for x in (0..n).filter(|&x| pol[x] == Polarity::None) {
        let want: Vec<u32> = (0..n)
            .filter(|&y| y != x && Space::open().distance(pos[x], pos[y]) <= 2.0)
            .map(|y| y as u32)
            .collect();
        assert_eq!(c.row(x), want);
    }
    let e = expected_count(&s, i).unwrap();
    let m = rule(1, 0.0);
    assert!(m > 0.0);
    assert_near("expected", c.len() as f64, e, e);
}

// ---------------------------------------------------------------------------
// Small world, index probability
// ---------------------------------------------------------------------------

#[test]
fn small_world_ring_and_rewiring() {
    let (n, k) = (300, 6);
    let ring = |i: usize, j: usize| {
        let d = (i + n - j) % n;
        d.min(n - d) <= k / 2
    };
    let s = Strategy::SmallWorld { k, rewire: 0.0 };
    let c = connect(&s, &recurrent(n)).unwrap();
    check_csr(&c, n, n);
    assert_eq!(c.len(), n * k);
    for i in 0..n {
        assert!(c.row(i).iter().all(|&j| ring(i, j as usize) && j as usize != i));
    }
    let rewire = 0.3;
    let s = Strategy::SmallWorld { k, rewire };
    let c = connect(&s, &recurrent(n)).unwrap();
    check_csr(&c, n, n);
    assert_eq!(c.len(), n * k);
    assert!((0..n).all(|i| c.row(i).len() == k));
    assert!(!has_self(&c) && !has_multapses(&c));
    let (pre, post) = c.pairs();
    let moved = pre
        .iter()
        .zip(&post)
        .filter(|(a, b)| !ring(**a as usize, **b as usize))
        .count() as f64;
    let m = (n * k) as f64;
    // A rewired edge rarely lands back on the ring (< 5% of them here).
    assert_near(
        "rewired",
        moved,
        rewire * m * 0.975,
        m * rewire * (1.0 - rewire) + (0.025 * rewire * m).powi(2),
    );
    let c = connect(&Strategy::SmallWorld { k, rewire: 1.0 }, &recurrent(n)).unwrap();
    assert_eq!(c.len(), n * k);
    assert!(!has_self(&c) && !has_multapses(&c));
    // k = n - 1: the complete graph, nothing to rewire.
    let c = connect(&Strategy::SmallWorld { k: 4, rewire: 0.5 }, &recurrent(5)).unwrap();
    assert_eq!(c.len(), 20);
    assert_eq!(expected_count(&s, &recurrent(n)).unwrap(), m);
}

#[test]
fn index_probability_expression_and_closure() {
    let n = 600;
    let s = Strategy::IndexProbability {
        p: "if(j > i, 0.3, 0)".into(),
    };
    let c = connect(&s, &recurrent(n)).unwrap();
    check_csr(&c, n, n);
    let (pre, post) = c.pairs();
    assert!(pre.iter().zip(&post).all(|(a, b)| b > a));
    let m = (n * (n - 1) / 2) as f64;
    assert_near("total", c.len() as f64, 0.3 * m, m * 0.21);
    assert!((expected_count(&s, &recurrent(n)).unwrap() - 0.3 * m).abs() < 1e-6);
    let s = Strategy::IndexProbability {
        p: ProbabilityFn::of_pair(|i, j| if (i + j) % 2 == 0 { 0.5 } else { 0.0 }),
    };
    let c = connect(&s, &input(300, 200)).unwrap();
    let (pre, post) = c.pairs();
    assert!(pre.iter().zip(&post).all(|(a, b)| (a + b) % 2 == 0));
    assert_near("total", c.len() as f64, 0.5 * 30000.0, 30000.0 * 0.25);
    // A constant expression takes the fixed-probability path.
    let s = Strategy::IndexProbability { p: "0.2".into() };
    let c = connect(&s, &recurrent(500)).unwrap();
    assert!(!has_self(&c));
    let m = 500.0 * 499.0;
    assert_near("constant", c.len() as f64, 0.2 * m, m * 0.16);
    // Errors.
    let s = Strategy::IndexProbability {
        p: ProbabilityFn::of_pair(|i, _| i as f64),
    };
    let m = connect(&s, &input(5, 5)).unwrap_err().to_string();
    assert!(
        m.contains("p(i = 2, j = 0) = 2") && m.contains("not a probability"),
        "{m}"
    );
    let s = Strategy::IndexProbability { p: "exp(-d)".into() };
    assert!(err_text(&s, &input(5, 5)).contains("unknown variable 'd'"));
    let s = Strategy::IndexProbability { p: "1.5".into() };
    assert!(err_text(&s, &input(5, 5)).contains("p = 1.5 is not a probability"));
}

// ---------------------------------------------------------------------------
// Lists and matrices
// ---------------------------------------------------------------------------

#[test]
fn from_list_sorts_and_carries_weights() {
    let s = Strategy::FromList {
        rows: vec![(2, 1), (0, 3), (2, 0), (0, 1), (1, 2)],
        weights: Some(vec![0.1, 0.2, 0.3, 0.4, 0.5]),
        delays: Some(vec![1.0, 2.0, 3.0, 4.0, 5.0]),
    };
    let c = connect(&s, &input(3, 4)).unwrap();
    check_csr(&c, 3, 4);
    assert_eq!(c.row_ptr, [0, 2, 3, 5]);
    assert_eq!(c.post, [1, 3, 2, 0, 1]);
    assert_eq!(c.weight.as_deref(), Some(&[0.4, 0.2, 0.5, 0.3, 0.1][..]));
    assert_eq!(c.delay.as_deref(), Some(&[4.0, 2.0, 5.0, 3.0, 1.0][..]));
    assert_eq!(expected_count(&s, &input(3, 4)).unwrap(), 5.0);
    // Multapses keep their list order.
    let s = Strategy::FromList {
        rows: vec![(0, 1), (0, 0), (0, 1)],
        weights: Some(vec![1.0, 2.0, 3.0]),
        delays: None,
    };
    let multi = ConnectInput {
        multapses: true,
        ..input(1, 2)
    };
    let c = connect(&s, &multi).unwrap();
    assert_eq!(c.post, [0, 1, 1]);
    assert_eq!(c.weight.unwrap(), [2.0, 1.0, 3.0]);
    assert!(err_text(&s, &input(1, 2)).contains("rows 0 and 2: both connect 0 -> 1"));
}

#[test]
fn from_list_errors_name_the_row() {
    let list = |rows: Vec<(u32, u32)>| Strategy::FromList {
        rows,
        weights: None,
        delays: None,
    };
    let m = err_text(&list(vec![(0, 0), (1, 1), (3, 0)]), &input(3, 2));
    assert!(
        m.contains("proj") && m.contains("row 2") && m.contains("pre index 3 is out of range for 3"),
        "{m}"
    );
    let m = err_text(&list(vec![(0, 5)]), &input(3, 2));
    assert!(m.contains("row 0") && m.contains("post index 5"), "{m}");
    let m = err_text(&list(vec![(0, 1), (2, 2)]), &recurrent(3));
    assert!(m.contains("row 1") && m.contains("itself"), "{m}");
    let s = Strategy::FromList {
        rows: vec![(0, 1)],
        weights: Some(vec![1.0, 2.0]),
        delays: None,
    };
    assert!(err_text(&s, &input(3, 3)).contains("2 weights given for 1 rows"));
    let s = Strategy::FromList {
        rows: vec![(0, 1)],
        weights: None,
        delays: Some(vec![-1.0]),
    };
    assert!(err_text(&s, &input(3, 3)).contains("delay -1 ms"));
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-connect-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn from_list_file_parses_and_reports_lines() {
    let dir = temp_dir("list");
    std::fs::write(
        dir.join("ok.txt"),
        "# pre post weight delay\n1 0 0.5 1.5\n\n0, 2, -0.25, 2  # trailing comment\n0 1 1e-3 0\n",
    )
    .unwrap();
    let i = ConnectInput {
        base_dir: Box::leak(dir.clone().into_boxed_path()),
        ..input(2, 3)
    };
    let s = Strategy::FromListFile { path: "ok.txt".into() };
    let c = connect(&s, &i).unwrap();
    assert_eq!(c.row_ptr, [0, 2, 3]);
    assert_eq!(c.post, [1, 2, 0]);
    assert_eq!(c.weight.unwrap(), [1e-3, -0.25, 0.5]);
    assert_eq!(c.delay.unwrap(), [0.0, 2.0, 1.5]);
    let bad = |text: &str| {
        std::fs::write(dir.join("bad.txt"), text).unwrap();
        err_text(
            &Strategy::FromListFile {
                path: dir.join("bad.txt"),
            },
            &i,
        )
    };
    let m = bad("0 1\n# c\n1 x\n");
    assert!(
        m.contains("bad.txt") && m.contains("line 3") && m.contains("'x'"),
        "{m}"
    );
    let m = bad("0 1\n1 7\n");
    assert!(m.contains("bad.txt: line 2") && m.contains("post index 7"), "{m}");
    let m = bad("0 1 0.5\n1 2\n");
    assert!(m.contains("line 2: 2 fields, but line 1 has 3"), "{m}");
    let m = bad("0 1\n1 2\n0 1\n");
    assert!(m.contains("lines 1 and 3") && m.contains("multapses"), "{m}");
    let m = bad("0 1 2 3 4\n");
    assert!(m.contains("line 1") && m.contains("5 fields"), "{m}");
    let m = err_text(
        &Strategy::FromListFile {
            path: "missing.txt".into(),
        },
        &i,
    );
    assert!(m.contains("missing.txt"), "{m}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn from_matrix_is_post_by_pre() {
    // 3 post x 4 pre.
    let w = ndarray::array![[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 0.0, 0.0], [0.0, 4.0, 5.0, 0.0]];
    let s = Strategy::FromMatrix { matrix: w.clone() };
    let c = connect(&s, &input(4, 3)).unwrap();
    check_csr(&c, 4, 3);
    assert_eq!(c.row_ptr, [0, 1, 3, 4, 5]);
    assert_eq!(c.post, [1, 0, 2, 2, 0]);
    assert_eq!(c.weight.as_deref(), Some(&[3.0, 1.0, 4.0, 5.0, 2.0][..]));
    assert_eq!(expected_count(&s, &input(4, 3)).unwrap(), 5.0);
    let m = err_text(&s, &input(3, 4));
    assert!(m.contains("shape 3 x 4, expected 4 x 3 (post x pre)"), "{m}");
    // A transposed (non-standard layout) view reads the same.
    let t = Strategy::FromMatrix {
        matrix: w.t().t().to_owned(),
    };
    assert_eq!(connect(&t, &input(4, 3)).unwrap(), c);
    // The diagonal is ignored without self-connections.
    let sq = Array2::from_elem((300, 300), 0.5);
    let c = connect(&Strategy::FromMatrix { matrix: sq }, &recurrent(300)).unwrap();
    assert_eq!(c.len(), 300 * 299);
    assert!(!has_self(&c));
    let mut nan = Array2::zeros((2, 2));
    nan[[1, 0]] = f64::NAN;
    let m = err_text(&Strategy::FromMatrix { matrix: nan }, &input(2, 2));
    assert!(m.contains("[post 1, pre 0] is NaN"), "{m}");
}

#[test]
fn from_matrix_file_reads_npy() {
    use ndarray_npy::WriteNpyExt;
    let dir = temp_dir("matrix");
    let w = ndarray::array![[0.0, 1.5], [2.5, 0.0], [0.0, -1.0]];
    w.write_npy(std::fs::File::create(dir.join("w64.npy")).unwrap())
        .unwrap();
    w.mapv(|x| x as f32)
        .write_npy(std::fs::File::create(dir.join("w32.npy")).unwrap())
        .unwrap();
    ndarray::arr1(&[1.0, 2.0])
        .write_npy(std::fs::File::create(dir.join("v.npy")).unwrap())
        .unwrap();
    let i = ConnectInput {
        base_dir: Box::leak(dir.clone().into_boxed_path()),
        ..input(2, 3)
    };
    for f in ["w64.npy", "w32.npy"] {
        let c = connect(&Strategy::FromMatrixFile { path: f.into() }, &i).unwrap();
        assert_eq!(c.row_ptr, [0, 1, 3]);
        assert_eq!(c.post, [1, 0, 2]);
        assert_eq!(c.weight.unwrap(), [2.5, 1.5, -1.0]);
    }
    let m = err_text(&Strategy::FromMatrixFile { path: "v.npy".into() }, &i);
    assert!(m.contains("v.npy") && m.contains("2-D"), "{m}");
    let swapped = ConnectInput {
        n_pre: 3,
        n_post: 2,
        ..i
    };
    let m = err_text(&Strategy::FromMatrixFile { path: "w64.npy".into() }, &swapped);
    assert!(m.contains("shape 3 x 2, expected 2 x 3"), "{m}");
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------------------
// Signs
// ---------------------------------------------------------------------------

#[test]
fn signs_follow_dale_and_exact_ratio() {
    let n = 500;
    let pol = polarities(n);
    let i = ConnectInput {
        pre_polarity: &pol,
        ..recurrent(n)
    };
    let c = connect(
        &Strategy::FixedProbability {
            p: 0.1,
            equalize_efferents: false,
        },
        &i,
    )
    .unwrap();
    let signs = assign_signs(&c, &i, 0.8).unwrap();
    assert_eq!(signs.len(), c.len());
    let mut free = vec![];
    for (r, polarity) in pol.iter().enumerate() {
        let range = c.row_ptr[r] as usize..c.row_ptr[r + 1] as usize;
        match polarity {
            Polarity::Excitatory => assert!(signs[range].iter().all(|&s| s == EXCITATORY)),
            Polarity::Inhibitory => assert!(signs[range].iter().all(|&s| s == INHIBITORY)),
            Polarity::None => free.extend_from_slice(&signs[range]),
        }
    }
    let exc = free.iter().filter(|&&s| s == EXCITATORY).count();
    assert!(free.iter().all(|&s| s == EXCITATORY || s == INHIBITORY));
    assert_eq!(exc, (0.8 * free.len() as f64).round() as usize);
    // Without polarities: every synapse is free; uniform choice.
    let i = recurrent(n);
    for ratio in [0.0, 0.33, 0.5, 1.0] {
        let s = assign_signs(&c, &i, ratio).unwrap();
        let m = s.len();
        let e = s.iter().filter(|&&x| x == EXCITATORY).count();
        assert_eq!(e, (ratio * m as f64).round() as usize);
        let half = s[..m / 2].iter().filter(|&&x| x == EXCITATORY).count() as f64;
        let q = e as f64 / m as f64;
        assert_near(
            "first half",
            half,
            q * (m / 2) as f64,
            (m / 2) as f64 * q * (1.0 - q) + 1e-9,
        );
    }
    let other = ConnectInput { seed: i.seed + 1, ..i };
    assert_ne!(
        assign_signs(&c, &i, 0.5).unwrap(),
        assign_signs(&c, &other, 0.5).unwrap()
    );
    let m = assign_signs(&c, &i, 1.5).unwrap_err().to_string();
    assert!(m.contains("proj") && m.contains("excitatory ratio = 1.5"), "{m}");
    assert!(assign_signs(&c, &i, f64::NAN).is_err());
}

// ---------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------

fn random_strategies() -> Vec<Strategy> {
    vec![
        Strategy::FixedProbability {
            p: 0.05,
            equalize_efferents: false,
        },
        Strategy::FixedProbability {
            p: 0.05,
            equalize_efferents: true,
        },
        Strategy::FixedProbability {
            p: 0.01,
            equalize_efferents: false,
        },
        Strategy::FixedInDegree { k: 20 },
        Strategy::FixedOutDegree { k: 20 },
        Strategy::FixedTotal { n: 20_000 },
        Strategy::FixedTotal { n: 300_000 },
        Strategy::DistanceProbability {
            p: "exp(-d / 5)".into(),
            cutoff: Some(10.0),
        },
        Strategy::RadialGaussian {
            ee: 0.5,
            ei: 0.5,
            ie: 0.5,
            ii: 0.5,
            none: 0.5,
            lambda: 3.0,
            cutoff: None,
        },
        Strategy::RadialProbabilistic {
            exc_radius: 5.0,
            exc_prob: 0.5,
            inh_radius: 5.0,
            inh_prob: 0.5,
            none_radius: 5.0,
            none_prob: 0.5,
        },
        Strategy::SmallWorld { k: 10, rewire: 0.2 },
        Strategy::IndexProbability {
            p: "0.05 * (i % 2)".into(),
        },
    ]
}

#[test]
fn same_seed_same_synapses_at_any_thread_count() {
    let n = 700;
    let pos = random_positions(n, 60.0, 5);
    let base = ConnectInput {
        pre_positions: &pos,
        post_positions: &pos,
        ..recurrent(n)
    };
    for multapses in [false, true] {
        let i = ConnectInput { multapses, ..base };
        for s in random_strategies() {
            let one = pool(1).install(|| connect(&s, &i)).unwrap();
            let two = pool(2).install(|| connect(&s, &i)).unwrap();
            let three = pool(3).install(|| connect(&s, &i)).unwrap();
            assert!(!one.is_empty(), "{}", s.name());
            assert_eq!(one, two, "{} differs between 1 and 2 threads", s.name());
            assert_eq!(one, three, "{} differs between 1 and 3 threads", s.name());
            let other = connect(&s, &ConnectInput { seed: i.seed + 1, ..i }).unwrap();
            assert_ne!(one, other, "{}: another seed gives the same synapses", s.name());
            let renamed = connect(
                &s,
                &ConnectInput {
                    projection: "other",
                    ..i
                },
            )
            .unwrap();
            assert_ne!(one, renamed, "{}: another projection gives the same synapses", s.name());
        }
    }
}

// ---------------------------------------------------------------------------
// Impossible requests
// ---------------------------------------------------------------------------

#[test]
fn impossible_requests_are_errors_with_clear_messages() {
    let cases: Vec<(Strategy, ConnectInput, &str)> = vec![
        (
            Strategy::FixedProbability {
                p: 1.5,
                equalize_efferents: false,
            },
            input(3, 3),
            "fixed_probability: p = 1.5 is not a probability in [0, 1]",
        ),
        (
            Strategy::FixedProbability {
                p: f64::NAN,
                equalize_efferents: true,
            },
            input(3, 3),
            "p = NaN",
        ),
        (
            Strategy::FixedInDegree { k: 10 },
            recurrent(10),
            "k = 10 inputs per post neuron, but only 9 distinct pre neurons are available (10 pre neurons, self-connections excluded)",
        ),
        (
            Strategy::FixedInDegree { k: 11 },
            input(10, 3),
            "only 10 distinct pre neurons",
        ),
        (
            Strategy::FixedInDegree { k: 1 },
            ConnectInput {
                multapses: true,
                ..recurrent(1)
            },
            "no pre neuron to draw from",
        ),
        (
            Strategy::FixedOutDegree { k: 4 },
            input(3, 3),
            "k = 4 targets per pre neuron, but only 3 distinct post neurons",
        ),
        (
            Strategy::FixedTotal { n: 91 },
            recurrent(10),
            "91 synapses requested but only 90 distinct pairs exist",
        ),
        (
            Strategy::FixedTotal { n: 1 },
            ConnectInput {
                multapses: true,
                ..input(0, 4)
            },
            "no pair to connect",
        ),
        (
            Strategy::SmallWorld { k: 3, rewire: 0.1 },
            recurrent(10),
            "k = 3 must be even",
        ),
        (
            Strategy::SmallWorld { k: 10, rewire: 0.1 },
            recurrent(10),
            "k = 10 must be less than the number of neurons n = 10",
        ),
        (Strategy::SmallWorld { k: 2, rewire: 0.1 }, input(10, 11), "same size"),
        (
            Strategy::SmallWorld { k: 2, rewire: -0.1 },
            recurrent(10),
            "rewire = -0.1",
        ),
        (
            Strategy::RadialGaussian {
                ee: 1.0,
                ei: 1.0,
                ie: 1.0,
                ii: 1.0,
                none: 1.0,
                lambda: 0.0,
                cutoff: None,
            },
            input(3, 3),
            "lambda = 0 µm must be finite and > 0",
        ),
        (
            Strategy::RadialGaussian {
                ee: -1.0,
                ei: 1.0,
                ie: 1.0,
                ii: 1.0,
                none: 1.0,
                lambda: 1.0,
                cutoff: None,
            },
            input(3, 3),
            "ee = -1 must be finite and >= 0",
        ),
        (
            Strategy::RadialProbabilistic {
                exc_radius: -2.0,
                exc_prob: 0.5,
                inh_radius: 1.0,
                inh_prob: 0.5,
                none_radius: 1.0,
                none_prob: 0.5,
            },
            input(3, 3),
            "exc_radius = -2 µm must be >= 0",
        ),
        (
            Strategy::RadialProbabilistic {
                exc_radius: 2.0,
                exc_prob: 0.5,
                inh_radius: 1.0,
                inh_prob: 2.0,
                none_radius: 1.0,
                none_prob: 0.5,
            },
            input(3, 3),
            "inh_prob = 2 is not a probability",
        ),
        (
            Strategy::FromMatrix {
                matrix: Array2::zeros((2, 2)),
            },
            input(2, 3),
            "shape 2 x 2, expected 3 x 2",
        ),
        (
            Strategy::AllToAll,
            recurrent_mismatch(),
            "same population but have 3 and 4",
        ),
    ];
    for (s, i, want) in cases {
        let m = err_text(&s, &i);
        assert!(m.starts_with("projection 'proj'"), "{m}");
        assert!(m.contains(want), "{}: {m:?} lacks {want:?}", s.name());
        assert!(expected_count(&s, &i).is_err());
    }
    let pos = [[0.0; 3]; 2];
    let i = ConnectInput {
        pre_positions: &pos,
        ..input(3, 3)
    };
    assert!(err_text(&Strategy::AllToAll, &i).contains("2 pre positions given for 3 neurons"));
}

fn recurrent_mismatch() -> ConnectInput<'static> {
    ConnectInput {
        same_population: true,
        ..input(3, 4)
    }
}

#[test]
fn names_are_snake_case() {
    let names: Vec<&str> = random_strategies().iter().map(|s| s.name()).collect();
    assert!(names.contains(&"fixed_probability") && names.contains(&"small_world"));
    assert_eq!(Strategy::AllToAll.name(), "all_to_all");
    assert_eq!(Strategy::FromMatrixFile { path: "x".into() }.name(), "from_matrix_file");
}

// ---------------------------------------------------------------------------
// Random requests
// ---------------------------------------------------------------------------

fn any_strategy() -> impl PropStrategy<Value = Strategy> {
    prop_oneof![
        Just(Strategy::AllToAll),
        Just(Strategy::OneToOne),
        (-0.2f64..1.2, any::<bool>()).prop_map(|(p, e)| Strategy::FixedProbability {
            p,
            equalize_efferents: e
        }),
        (0usize..25).prop_map(|k| Strategy::FixedInDegree { k }),
        (0usize..25).prop_map(|k| Strategy::FixedOutDegree { k }),
        (0u64..500).prop_map(|n| Strategy::FixedTotal { n }),
        (0usize..22, -0.2f64..1.2).prop_map(|(k, rewire)| Strategy::SmallWorld { k, rewire }),
        (-1.0f64..4.0).prop_map(|c| Strategy::DistanceProbability {
            p: "exp(-d / 2)".into(),
            cutoff: Some(c)
        }),
        (-0.5f64..3.0, -0.5f64..3.0).prop_map(|(l, c)| Strategy::RadialGaussian {
            ee: 0.5,
            ei: 2.0,
            ie: 0.1,
            ii: 0.0,
            none: 0.3,
            lambda: l,
            cutoff: Some(c)
        }),
        (-1.0f64..3.0, -0.2f64..1.2).prop_map(|(r, p)| Strategy::RadialProbabilistic {
            exc_radius: r,
            exc_prob: p,
            inh_radius: 1.0,
            inh_prob: 0.5,
            none_radius: 2.0,
            none_prob: 0.2
        }),
        (-0.2f64..1.2).prop_map(|p| Strategy::IndexProbability {
            p: format!("if(i < j, {p}, 0)").as_str().into()
        }),
        proptest::collection::vec((0u32..22, 0u32..22), 0..30).prop_map(|rows| {
            Strategy::FromList {
                rows,
                weights: None,
                delays: None,
            }
        }),
        (0usize..22, 0usize..22).prop_map(|(r, c)| Strategy::FromMatrix {
            matrix: Array2::from_shape_fn((r, c), |(a, b)| ((a * 7 + b * 3) % 4) as f64)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn connect_never_panics_and_agrees_with_validate(
        s in any_strategy(),
        n_pre in 0usize..21,
        n_post in 0usize..21,
        same in any::<bool>(),
        self_connections in any::<bool>(),
        multapses in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let n_post = if same { n_pre } else { n_post };
        let pos: Vec<[f64; 3]> = (0..n_pre).map(|k| [k as f64 * 0.7, (k % 3) as f64, 0.0]).collect();
        let pol: Vec<Polarity> = (0..n_pre).map(|k| [Polarity::None, Polarity::Excitatory, Polarity::Inhibitory][k % 3]).collect();
        let post_pos = if same { pos.clone() } else { vec![] };
        let i = ConnectInput {
            projection: "prop",
            seed,
            n_pre,
            n_post,
            pre_positions: &pos,
            post_positions: &post_pos,
            space: Space::open(),
            pre_polarity: &pol,
            post_polarity: &[],
            same_population: same,
            self_connections,
            multapses,
            base_dir: std::path::Path::new("."),
        };
        let v = s.validate(&i);
        let c = connect(&s, &i);
        match (&v, &c) {
            (Err(_), Ok(_)) => prop_assert!(false, "validate rejected but connect built: {:?}", v),
            // Only a probability function's values can fail after validation.
            (Ok(_), Err(e)) => prop_assert!(
                e.to_string().contains("is not a probability"),
                "validate accepted but connect failed: {e}"
            ),
            _ => {}
        }
        if let Ok(c) = c {
            check_csr(&c, n_pre, n_post);
            if same && !self_connections {
                prop_assert!(!has_self(&c));
            }
            if !multapses {
                prop_assert!(!has_multapses(&c));
            }
            let e = expected_count(&s, &i).unwrap();
            prop_assert!(e >= 0.0 && e.is_finite());
            let signs = assign_signs(&c, &i, 0.5).unwrap();
            prop_assert_eq!(signs.len(), c.len());
        }
    }
}

// ---------------------------------------------------------------------------
// Large (run with --ignored, preferably --release)
// ---------------------------------------------------------------------------

#[test]
#[ignore]
fn w3_fixed_probability_10k_by_10k() {
    let s = Strategy::FixedProbability {
        p: 0.1,
        equalize_efferents: false,
    };
    let i = input(10_000, 10_000);
    let t = std::time::Instant::now();
    let c = connect(&s, &i).unwrap();
    eprintln!("W3: {} synapses in {:?}", c.len(), t.elapsed());
    let pairs = 1e8;
    assert_near("total", c.len() as f64, 0.1 * pairs, pairs * 0.09);
}
