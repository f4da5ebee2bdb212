//! The connection rules added for Simbrain's users: fixed degrees within a
//! radius, distance rules with one p(d) per pair type (EE, EI, IE, II).

use cortecs::connect::{Polarity, ProbabilityFn};
use cortecs::prelude::*;
use std::collections::HashMap;

fn seed() -> u64 {
    std::env::var("CORTECS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42)
}

fn grid(name: &str, nx: usize, ny: usize) -> PopulationSpec {
    PopulationSpec::new(
        name,
        nx * ny,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    )
    .structure(Structure::Grid2D {
        nx,
        ny,
        dx: 10.0,
        dy: 10.0,
        x0: 0.0,
        y0: 0.0,
    })
}

/// A connection probability as a function of distance (µm).
type PofD = fn(f64) -> f64;

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Builds `strategy` on the 30 x 30 grid "g" onto itself (no self-connections).
fn on_grid(strategy: Strategy, multapses: bool) -> cortecs::Result<Network> {
    let mut net = Network::new(1.0, seed())?;
    net.add_population(grid("g", 30, 30))?;
    net.add_projection(
        ProjectionSpec::new("p", "g", "g", strategy)
            .self_connections(false)
            .multapses(multapses),
    )?;
    net.build_pending()?;
    Ok(net)
}

#[test]
fn degree_within_radius_draws_exactly_k_within_r_uniformly() {
    let (k, r) = (5usize, 25.0);
    for inward in [true, false] {
        let strategy = if inward {
            Strategy::FixedInDegreeWithin { k, radius: r }
        } else {
            Strategy::FixedOutDegreeWithin { k, radius: r }
        };
        let net = on_grid(strategy, false).unwrap();
        let pos = net.population("g").unwrap().positions.clone();
        let coo = net.weights_coo("p").unwrap();
        let mut per_row: HashMap<u32, Vec<u32>> = HashMap::new();
        // counts of each offset (other - centre, in cells) over interior centres
        let mut offsets: HashMap<(i64, i64), u64> = HashMap::new();
        for s in 0..coo.pre.len() {
            let (pre, post) = (coo.pre[s], coo.post[s]);
            assert!(
                dist(pos[pre as usize], pos[post as usize]) <= r,
                "{pre} -> {post} beyond r"
            );
            let (centre, other) = if inward { (post, pre) } else { (pre, post) };
            per_row.entry(centre).or_default().push(other);
            let (c, o) = (pos[centre as usize], pos[other as usize]);
            let interior = (20.0..=270.0).contains(&c[0]) && (20.0..=270.0).contains(&c[1]);
            if interior {
                let off = (
                    ((o[0] - c[0]) / 10.0).round() as i64,
                    ((o[1] - c[1]) / 10.0).round() as i64,
                );
                *offsets.entry(off).or_default() += 1;
            }
        }
        assert_eq!(per_row.len(), 900);
        for (c, others) in &per_row {
            assert_eq!(others.len(), k, "neuron {c}");
            let mut d = others.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), k, "distinct partners of {c}");
        }
        // 20 lattice points within 2.5 cells (self excluded), each taken with
        // probability k / 20 by each of the 26 x 26 interior centres
        assert_eq!(offsets.len(), 20);
        let (n, p) = (676.0, k as f64 / 20.0);
        let sd = (n * p * (1.0 - p)).sqrt();
        for (off, c) in offsets {
            assert!((c as f64 - n * p).abs() < 5.0 * sd, "offset {off:?}: {c} vs {}", n * p);
        }
    }
    // with multapses: still exactly k per neuron, with replacement
    let net = on_grid(Strategy::FixedInDegreeWithin { k: 30, radius: 15.0 }, true).unwrap();
    assert_eq!(net.projection("p").unwrap().store().in_degree(), vec![30; 900]);
}

#[test]
fn degree_within_radius_refuses_too_few_candidates() {
    let e = on_grid(Strategy::FixedInDegreeWithin { k: 1, radius: 5.0 }, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "projection 'p': fixed_in_degree_within: post neuron 0 has 0 pre neurons within 5 µm, fewer than k = 1; allow multapses, lower k or widen the radius"
    );
    // a corner neuron of the grid has 5 neighbours within 20 µm; interior ones 12
    let e = on_grid(Strategy::FixedOutDegreeWithin { k: 6, radius: 20.0 }, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "projection 'p': fixed_out_degree_within: pre neuron 0 has 5 post neurons within 20 µm, fewer than k = 6; allow multapses, lower k or widen the radius"
    );
    let e = on_grid(Strategy::FixedInDegreeWithin { k: 1, radius: 5.0 }, true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "projection 'p': fixed_in_degree_within: post neuron 0 has 0 pre neurons within 5 µm, fewer than k = 1"
    );
    let e = on_grid(Strategy::FixedInDegreeWithin { k: 2, radius: -1.0 }, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "projection 'p': fixed_in_degree_within: radius = -1 µm must be >= 0"
    );
}

#[test]
fn per_pair_type_distance_rules_match_their_p_of_d_per_bin() {
    let (nx, ny) = (40, 40);
    let n = nx * ny;
    // a checkerboard of polarities: every pair type occurs at every distance
    let pol: Vec<Polarity> = (0..n)
        .map(|i| {
            if (i % nx + i / nx) % 2 == 0 {
                Polarity::Excitatory
            } else {
                Polarity::Inhibitory
            }
        })
        .collect();
    let cutoff = 90.0;
    let fns: [(&str, PofD); 4] = [
        ("0.8 * exp(-d / 20)", |d| 0.8 * (-d / 20.0).exp()),
        ("0.5 * exp(-d / 40)", |d| 0.5 * (-d / 40.0).exp()),
        ("0.3", |_| 0.3),
        ("0.9 * exp(-(d / 30)^2)", |d| 0.9 * (-(d / 30.0) * (d / 30.0)).exp()),
    ];
    let pf = |k: usize| ProbabilityFn::Expr(fns[k].0.to_string());
    let mut net = Network::new(1.0, seed()).unwrap();
    net.add_population(grid("h", nx, ny).polarity(PolaritySpec::PerNeuron(pol.clone())))
        .unwrap();
    net.add_projection(
        ProjectionSpec::new(
            "p",
            "h",
            "h",
            Strategy::DistanceProbabilityByType {
                ee: pf(0),
                ei: pf(1),
                ie: pf(2),
                ii: pf(3),
                none: None,
                cutoff: Some(cutoff),
            },
        )
        .self_connections(false)
        .compact(true),
    )
    .unwrap();
    net.build_pending().unwrap();
    let pos = net.population("h").unwrap().positions.clone();
    let coo = net.weights_coo("p").unwrap();
    let ty = |i: usize, j: usize| match (pol[i], pol[j]) {
        (Polarity::Excitatory, Polarity::Excitatory) => 0,
        (Polarity::Excitatory, Polarity::Inhibitory) => 1,
        (Polarity::Inhibitory, Polarity::Excitatory) => 2,
        _ => 3,
    };
    let bins = 6;
    let bin = |d: f64| ((d / cutoff * bins as f64) as usize).min(bins - 1);
    let mut made = vec![[0.0f64; 4]; bins];
    for s in 0..coo.pre.len() {
        let (i, j) = (coo.pre[s] as usize, coo.post[s] as usize);
        let d = dist(pos[i], pos[j]);
        assert!(d <= cutoff, "beyond the cutoff");
        made[bin(d)][ty(i, j)] += 1.0;
    }
    let (mut mean, mut var) = (vec![[0.0f64; 4]; bins], vec![[0.0f64; 4]; bins]);
    let mut pairs = vec![[0u64; 4]; bins];
    for i in 0..n {
        for j in 0..n {
            let d = dist(pos[i], pos[j]);
            if i == j || d > cutoff {
                continue;
            }
            let t = ty(i, j);
            let p = fns[t].1(d);
            mean[bin(d)][t] += p;
            pairs[bin(d)][t] += 1;
            var[bin(d)][t] += p * (1.0 - p);
        }
    }
    for b in 0..bins {
        for t in 0..4 {
            let sd = var[b][t].sqrt();
            assert!(pairs[b][t] > 1000, "bin {b} type {t} has pairs");
            assert!(
                (made[b][t] - mean[b][t]).abs() < 5.0 * sd,
                "bin {b}, type {t}: {} made, {} expected (sd {sd})",
                made[b][t],
                mean[b][t]
            );
        }
    }
    // a p(d) outside [0, 1] names its pair type
    let mut bad = Network::new(1.0, 1).unwrap();
    bad.add_population(grid("h", 4, 4).polarity(PolaritySpec::PerNeuron(pol[..16].to_vec())))
        .unwrap();
    bad.add_projection(ProjectionSpec::new(
        "q",
        "h",
        "h",
        Strategy::DistanceProbabilityByType {
            ee: pf(0),
            ei: pf(1),
            ie: ProbabilityFn::Expr("2".into()),
            ii: pf(3),
            none: None,
            cutoff: None,
        },
    ))
    .unwrap();
    let e = bad.build_pending().unwrap_err().to_string();
    assert!(
        e.starts_with("projection 'q': distance_probability_by_type: ie p(d = 10) = 2 (pre 1 -> post 0)"),
        "{e}"
    );
}
