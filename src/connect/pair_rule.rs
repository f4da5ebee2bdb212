//! Pair rules (distance, radial Gaussian, radial probabilistic, index): one Bernoulli per candidate pair.

use super::error::{ConnectError, ConnectResult};
use super::input::{ConnectInput, Connectivity};
use super::probability::{DistP, PairP};
use super::rows::{RowsChunk, assemble, chunk_rows, chunk_stream, chunks};
use crate::space::GridIndex;
use rayon::prelude::*;

/// Rules that draw one Bernoulli per candidate pair with a probability that
/// depends on the pair.
pub(super) enum PairRule {
    /// `p(d)`; with a cutoff only pairs within it are candidates.
    Distance { p: DistP, cutoff: Option<f64> },
    /// `min(C[pre][post] * exp(-(d / lambda)^2), 1)` within the cutoff.
    Gaussian {
        c: [[f64; 3]; 3],
        lambda: f64,
        cutoff: Option<f64>,
    },
    /// `prob[pre]` within `radius[pre]`.
    Radial { radius: [f64; 3], prob: [f64; 3] },
    /// `p[table[pre polarity][post polarity]](d)` within the cutoff (one
    /// `p(d)` per pair type: EE, EI, IE, II, none).
    Typed {
        p: Vec<DistP>,
        table: [[usize; 3]; 3],
        cutoff: Option<f64>,
    },
    /// `p(i, j)` on every pair.
    Index { p: PairP },
}

/// Names of the pair types of [`PairRule::Typed`], in the order of its `p`.
pub(super) const PAIR_TYPES: [&str; 5] = ["ee", "ei", "ie", "ii", "none"];

/// What a pair rule needs at run time.
struct PairCtx<'a> {
    input: &'a ConnectInput<'a>,
    rule: &'a PairRule,
    /// Index over the post positions (rules with a cutoff or radius).
    grid: Option<GridIndex>,
}

impl<'a> PairCtx<'a> {
    fn new(input: &'a ConnectInput<'a>, rule: &'a PairRule) -> PairCtx<'a> {
        let cell = match rule {
            PairRule::Distance { cutoff, .. } | PairRule::Gaussian { cutoff, .. } | PairRule::Typed { cutoff, .. } => {
                *cutoff
            }
            PairRule::Radial { radius, .. } => {
                Some(radius.iter().copied().filter(|r| r.is_finite()).fold(0.0, f64::max))
            }
            PairRule::Index { .. } => None,
        };
        let grid = cell.map(|c| {
            let cell = if c > 0.0 { c } else { 1.0 };
            if input.post_positions.is_empty() {
                GridIndex::new(&vec![[0.0; 3]; input.n_post], cell, input.space)
            } else {
                GridIndex::new(input.post_positions, cell, input.space)
            }
        });
        PairCtx { input, rule, grid }
    }

    /// Calls `f(j, p)` for every candidate post neuron `j` of pre neuron
    /// `i` (ascending) with its probability `p` in `[0, 1]`.
    fn row(&self, i: usize, scratch: &mut Vec<u32>, f: &mut impl FnMut(usize, f64)) -> ConnectResult<()> {
        let input = self.input;
        let skip = if input.no_self() { i } else { usize::MAX };
        let mut bad: Option<(usize, f64, f64)> = None;
        let centre = input.pre_pos(i);
        // Visits candidates by distance, through the grid or all of them.
        let mut visit = |radius: Option<f64>, g: &mut dyn FnMut(usize, f64)| match (radius, &self.grid) {
            (Some(r), Some(grid)) => grid.for_each_within(centre, r, scratch, |j, d| {
                if j != skip {
                    g(j, d)
                }
            }),
            _ => {
                for j in (0..input.n_post).filter(|&j| j != skip) {
                    g(j, input.space.distance(centre, input.post_pos(j)));
                }
            }
        };
        match self.rule {
            PairRule::Distance { p, cutoff } => visit(*cutoff, &mut |j, d| {
                let q = p.eval(d);
                if (0.0..=1.0).contains(&q) {
                    f(j, q)
                } else if bad.is_none() {
                    bad = Some((j, d, q));
                }
            }),
            PairRule::Gaussian { c, lambda, cutoff } => {
                let row = &c[input.pre_pol(i).slot()];
                visit(*cutoff, &mut |j, d| {
                    let x = d / lambda;
                    f(j, (row[input.post_pol(j).slot()] * (-x * x).exp()).min(1.0))
                })
            }
            PairRule::Typed { p, table, cutoff } => {
                let row = &table[input.pre_pol(i).slot()];
                visit(*cutoff, &mut |j, d| {
                    let q = p[row[input.post_pol(j).slot()]].eval(d);
                    if (0.0..=1.0).contains(&q) {
                        f(j, q)
                    } else if bad.is_none() {
                        bad = Some((j, d, q));
                    }
                })
            }
            PairRule::Radial { radius, prob } => {
                let s = input.pre_pol(i).slot();
                if prob[s] > 0.0 {
                    let p = prob[s];
                    visit(Some(radius[s]), &mut |j, _| f(j, p))
                }
            }
            PairRule::Index { p } => {
                for j in (0..input.n_post).filter(|&j| j != skip) {
                    let q = p.eval(i, j);
                    if (0.0..=1.0).contains(&q) {
                        f(j, q)
                    } else {
                        return Err(ConnectError::rule(
                            input.projection,
                            format!("index_probability: p(i = {i}, j = {j}) = {q} is not a probability in [0, 1]"),
                        ));
                    }
                }
            }
        }
        match bad {
            None => Ok(()),
            Some((j, d, q)) => {
                let rule = match self.rule {
                    PairRule::Typed { table, .. } => format!(
                        "distance_probability_by_type: {}",
                        PAIR_TYPES[table[input.pre_pol(i).slot()][input.post_pol(j).slot()]]
                    ),
                    _ => "distance_probability:".to_string(),
                };
                Err(ConnectError::rule(
                    input.projection,
                    format!("{rule} p(d = {d}) = {q} (pre {i} -> post {j}) is not a probability in [0, 1]"),
                ))
            }
        }
    }
}

/// Builds a pair rule: one Bernoulli draw per candidate pair, row by row.
pub(super) fn pair_rule(input: &ConnectInput, rule: &PairRule) -> ConnectResult<Connectivity> {
    let ctx = PairCtx::new(input, rule);
    // Scratch for the grid queries (a u32 list), not a bit set.
    let built: Vec<ConnectResult<RowsChunk>> = chunks(input.n_pre)
        .into_par_iter()
        .map_init(Vec::new, |scratch, c| {
            let mut rng = chunk_stream(input, c);
            let mut out = RowsChunk::default();
            for i in chunk_rows(c, input.n_pre) {
                ctx.row(i, scratch, &mut |j, p| {
                    if p >= 1.0 || (p > 0.0 && rng.uniform() < p) {
                        out.post.push(j as u32);
                    }
                })?;
                out.end_row();
            }
            Ok(out)
        })
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    Ok(assemble(input.n_pre, parts))
}

/// The expected number of synapses of a pair rule: the sum of its
/// probabilities over the candidate pairs, without drawing.
pub(super) fn expected_count(input: &ConnectInput, rule: &PairRule) -> ConnectResult<f64> {
    let ctx = PairCtx::new(input, rule);
    let sums: Vec<ConnectResult<f64>> = chunks(input.n_pre)
        .into_par_iter()
        .map_init(Vec::new, |scratch, c| {
            let mut sum = 0.0;
            for i in chunk_rows(c, input.n_pre) {
                ctx.row(i, scratch, &mut |_, p| sum += p)?;
            }
            Ok(sum)
        })
        .collect();
    let mut total = 0.0;
    for s in sums {
        total += s?;
    }
    Ok(total)
}
