//! placeholder: replaced by the connection strategies module
#![allow(missing_docs)]
use crate::error::{CortecsError, Result};
use crate::rng::Stream;
use crate::spatial::Space;
use crate::store::Sign;
use serde::{Deserialize, Serialize};
use std::path::Path;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Polarity {
    #[default]
    None,
    Excitatory,
    Inhibitory,
}
#[derive(Clone, Debug)]
pub enum Strategy {
    AllToAll,
    OneToOne,
    FixedProbability { p: f64, equalize_efferents: bool },
    FixedInDegree { k: usize },
    FromMatrix { matrix: ndarray::Array2<f64> },
}
pub struct ConnectInput<'a> {
    pub projection: &'a str,
    pub seed: u64,
    pub n_pre: usize,
    pub n_post: usize,
    pub pre_positions: &'a [[f64; 3]],
    pub post_positions: &'a [[f64; 3]],
    pub space: Space,
    pub pre_polarity: &'a [Polarity],
    pub post_polarity: &'a [Polarity],
    pub same_population: bool,
    pub self_connections: bool,
    pub multapses: bool,
    pub base_dir: &'a Path,
}
#[derive(Clone, Debug, PartialEq)]
pub struct Connectivity {
    pub row_ptr: Vec<u64>,
    pub post: Vec<u32>,
    pub weight: Option<Vec<f64>>,
    pub delay: Option<Vec<f64>>,
}
impl Connectivity {
    pub fn len(&self) -> usize {
        self.post.len()
    }
    pub fn is_empty(&self) -> bool {
        self.post.is_empty()
    }
}
impl Strategy {
    pub fn validate(&self, _i: &ConnectInput) -> Result<()> {
        Ok(())
    }
    pub fn name(&self) -> &'static str {
        "stub"
    }
}
pub fn expected_count(_s: &Strategy, i: &ConnectInput) -> Result<f64> {
    Ok((i.n_pre * i.n_post) as f64)
}
pub fn connect(s: &Strategy, i: &ConnectInput) -> Result<Connectivity> {
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); i.n_pre];
    let mut weight = None;
    let mut rng = Stream::keyed(i.seed, i.projection, "connect", 0);
    let ok = |a: usize, b: usize| !(i.same_population && !i.self_connections && a == b);
    match s {
        Strategy::AllToAll => {
            for a in 0..i.n_pre {
                for b in 0..i.n_post {
                    if ok(a, b) {
                        rows[a].push(b as u32)
                    }
                }
            }
        }
        Strategy::OneToOne => {
            if i.n_pre != i.n_post {
                return Err(CortecsError::connection(i.projection, "sizes"));
            }
            for a in 0..i.n_pre {
                rows[a].push(a as u32)
            }
        }
        Strategy::FixedProbability { p, .. } => {
            for a in 0..i.n_pre {
                for b in 0..i.n_post {
                    if ok(a, b) && rng.bernoulli(*p) {
                        rows[a].push(b as u32)
                    }
                }
            }
        }
        Strategy::FixedInDegree { k } => {
            for b in 0..i.n_post {
                for _ in 0..*k {
                    rows[rng.below(i.n_pre as u64) as usize].push(b as u32)
                }
            }
        }
        Strategy::FromMatrix { matrix } => {
            let mut w = vec![];
            for a in 0..i.n_pre {
                for b in 0..i.n_post {
                    let x = matrix[[b, a]];
                    if x != 0.0 {
                        rows[a].push(b as u32);
                        w.push(x)
                    }
                }
            }
            weight = Some(w);
        }
    }
    let mut row_ptr = vec![0u64];
    let mut post = vec![];
    for r in rows.iter_mut() {
        r.sort_unstable();
        post.extend_from_slice(r);
        row_ptr.push(post.len() as u64);
    }
    Ok(Connectivity {
        row_ptr,
        post,
        weight,
        delay: None,
    })
}
pub fn assign_signs(c: &Connectivity, i: &ConnectInput, ratio: f64) -> Result<Vec<Sign>> {
    let mut rng = Stream::keyed(i.seed, i.projection, "sign", 0);
    let mut out = vec![1; c.len()];
    for a in 0..i.n_pre {
        for k in c.row_ptr[a] as usize..c.row_ptr[a + 1] as usize {
            out[k] = match i.pre_polarity.get(a).copied().unwrap_or_default() {
                Polarity::Excitatory => 1,
                Polarity::Inhibitory => -1,
                Polarity::None => {
                    if rng.bernoulli(ratio) {
                        1
                    } else {
                        -1
                    }
                }
            };
        }
    }
    Ok(out)
}
