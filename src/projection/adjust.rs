//! Synapse adjusters (Simbrain's synapse adjustment dialog) and selections,
//! as pure functions over a [`SynapseStore`].
//!
//! Every adjuster works on the excitatory, the inhibitory or all live
//! synapses ([`SignFilter`]) and leaves the others untouched, so that the
//! E/I ratio can be preserved. Signs are kept ([`SignPolicy::Keep`]): a
//! result of the wrong sign becomes 0, never flipped. Only a projection
//! without Dale's law may let signs follow the new weights ([`SignPolicy::Free`]).
//!
//! Random draws come from streams keyed by (seed, projection name,
//! adjustment number, fixed chunk of slots): the same adjustment on the same
//! store gives the same weights at any thread count, on a mirrored or a
//! compact projection alike.

use super::error::{ProjectionError, ProjectionResult as Result};
use super::*;
use crate::mask::Enforced;
use crate::param::{CHUNK, Distribution};
use crate::rng::Stream;
use serde::{Deserialize, Serialize};

/// What an adjustment did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adjusted {
    /// Synapses whose weight the adjuster computed anew.
    pub changed: u64,
    /// Synapses removed (prune) or replaced (reapply).
    pub removed: u64,
    /// Synapses created (reapply).
    pub created: u64,
    /// What enforcing the masks afterwards did.
    pub enforced: Enforced,
}

/// Which live synapses a lesion, a prune or a selection covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Selection {
    /// Every synapse.
    All,
    /// The synapses of these `(pre, post)` pairs (every multapse of a pair).
    Pairs(Vec<(u32, u32)>),
    /// Exactly `round(fraction * eligible)` synapses drawn at random.
    Fraction(f64),
    /// Synapses whose weight magnitude is below this value.
    Below(f64),
    /// Every synapse from this pre neuron.
    FromPre(u32),
    /// Every synapse onto this post neuron.
    ToPost(u32),
}

/// A weight adjustment (Simbrain's synapse adjustment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Adjuster {
    /// Replace each weight's magnitude with a draw's magnitude (sign kept).
    Randomize(Distribution),
    /// Multiply each weight by a factor.
    Scale(f64),
    /// Add a draw to each weight.
    Perturb(Distribution),
    /// Clip each signed weight to `[min, max]`.
    Clip {
        /// Lower bound of the signed weight.
        min: f64,
        /// Upper bound of the signed weight.
        max: f64,
    },
    /// Remove the selected synapses.
    Prune(Selection),
    /// Run the projection's connection strategy again from scratch (new
    /// draws); with a sign filter only the synapses of that sign are
    /// replaced (without multapses, a pair that keeps its synapse of the
    /// other sign gets no second one).
    Reapply,
    /// Multiply every weight by one factor so that the spectral radius (the
    /// largest eigenvalue magnitude) of the recurrent weight matrix becomes
    /// this value (> 0): the edge-of-chaos knob of reservoirs and CTRNNs.
    /// Dense eigenvalues up to [`DENSE_EIGEN_MAX`] neurons, Arnoldi above.
    SpectralRadius(f64),
    /// Simbrain's "randomize symmetric" on a recurrent projection: one draw
    /// per unordered pair `{i, j}` sets both `w_ij` and `w_ji` (and one per
    /// self-connection). With free signs ([`SignPolicy::Free`], no Dale's
    /// law) both take the signed draw, so `W = W^T` wherever both synapses
    /// exist. When signs are kept (Dale's law), both take the draw's
    /// magnitude with their own signs: pairs of like sign get `w_ij = w_ji`,
    /// pairs whose signs conflict (an excitatory and an inhibitory neuron)
    /// get `|w_ij| = |w_ji|` with opposite signs. A synapse whose reverse
    /// does not exist takes its own draw. Refused with multapses.
    RandomizeSymmetric(Distribution),
}

/// Whether an adjustment may change signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SignPolicy {
    /// A result of the wrong sign becomes 0 (the default; always so under Dale's law).
    #[default]
    Keep,
    /// Signs follow the new weights (only without Dale's law).
    Free,
}

impl Selection {
    /// Checks the selection against a store's shape.
    pub fn validate(&self, context: &str, n_pre: u32, n_post: u32) -> Result<()> {
        let bad = |m: String| Err(ProjectionError::parameter(context, m));
        match *self {
            Selection::Fraction(f) if !(0.0..=1.0).contains(&f) => bad(format!("fraction must be in [0, 1], got {f}")),
            Selection::Below(t) if !t.is_finite() => bad(format!("threshold must be finite, got {t}")),
            Selection::FromPre(i) if i >= n_pre => bad(format!("pre neuron {i} out of range (0..{n_pre})")),
            Selection::ToPost(j) if j >= n_post => bad(format!("post neuron {j} out of range (0..{n_post})")),
            _ => Ok(()),
        }
    }
}

impl Adjuster {
    /// Checks the adjuster's parameters.
    pub fn validate(&self, context: &str, n_pre: u32, n_post: u32) -> Result<()> {
        match self {
            Adjuster::Randomize(d) | Adjuster::Perturb(d) => d
                .validate(context)
                .map_err(|e| ProjectionError::Distribution(e.to_string())),
            Adjuster::Scale(f) if !f.is_finite() => Err(ProjectionError::parameter(
                context,
                format!("scale factor must be finite, got {f}"),
            )),
            Adjuster::Clip { min, max } if !(min.is_finite() && max.is_finite() && min <= max) => Err(
                ProjectionError::parameter(context, format!("clip needs finite min <= max, got [{min}, {max}]")),
            ),
            Adjuster::Prune(s) => s.validate(context, n_pre, n_post),
            Adjuster::RandomizeSymmetric(d) => d
                .validate(context)
                .map_err(|e| ProjectionError::Distribution(e.to_string())),
            Adjuster::SpectralRadius(r) if !(r.is_finite() && *r > 0.0) => Err(ProjectionError::parameter(
                context,
                format!("target spectral radius must be finite and > 0, got {r}"),
            )),
            _ => Ok(()),
        }
    }

    /// True when the adjuster draws random numbers (it then advances the
    /// projection's count of random operations, which keys its stream).
    pub fn is_random(&self) -> bool {
        matches!(
            self,
            Adjuster::Randomize(_)
                | Adjuster::Perturb(_)
                | Adjuster::Prune(Selection::Fraction(_))
                | Adjuster::RandomizeSymmetric(_)
        )
    }

    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Adjuster::Randomize(_) => "randomize",
            Adjuster::Scale(_) => "scale",
            Adjuster::Perturb(_) => "perturb",
            Adjuster::Clip { .. } => "clip",
            Adjuster::Prune(_) => "prune",
            Adjuster::Reapply => "reapply",
            Adjuster::SpectralRadius(_) => "spectral_radius",
            Adjuster::RandomizeSymmetric(_) => "randomize_symmetric",
        }
    }
}

/// The live slots of `store` covered by `filter` and `selection`, in slot
/// order. `rng` draws the random fraction (one stream, in slot order).
pub fn select(
    store: &SynapseStore,
    selection: &Selection,
    filter: SignFilter,
    rng: &mut Stream,
) -> Result<Vec<SynapseIndex>> {
    let covered = |k: usize| filter.covers(store.sign[k]);
    Ok(match selection {
        Selection::All => (0..store.len()).filter(|&k| covered(k)).collect(),
        Selection::Pairs(pairs) => {
            let mut out = Vec::new();
            for &(pre, post) in pairs {
                out.extend(store.find(pre, post)?.filter(|&k| covered(k)));
            }
            out.sort_unstable();
            out.dedup();
            out
        }
        Selection::Fraction(f) => {
            let mut eligible: Vec<usize> = (0..store.len()).filter(|&k| covered(k)).collect();
            let take = (f * eligible.len() as f64).round() as usize;
            // partial Fisher-Yates: the first `take` entries are a uniform sample
            for i in 0..take.min(eligible.len()) {
                let j = i + rng.below((eligible.len() - i) as u64) as usize;
                eligible.swap(i, j);
            }
            eligible.truncate(take);
            eligible.sort_unstable();
            eligible
        }
        Selection::Below(t) => (0..store.len())
            .filter(|&k| covered(k) && f64::from(store.weight[k].abs()) < *t)
            .collect(),
        Selection::FromPre(i) => (0..store.len())
            .filter(|&k| covered(k) && store.pair(k).0 == *i)
            .collect(),
        Selection::ToPost(j) => (0..store.len())
            .filter(|&k| covered(k) && store.pair(k).1 == *j)
            .collect(),
    })
}

/// Applies a weight adjuster (randomize, scale, perturb, clip) to the live
/// synapses covered by `filter`; returns the slots it touched. `stream(chunk)`
/// gives the random stream of each fixed chunk of [`CHUNK`] slots. Prune and
/// reapply change the synapses themselves and are done by the network.
pub fn apply(
    store: &mut SynapseStore,
    adjuster: &Adjuster,
    filter: SignFilter,
    policy: SignPolicy,
    stream: impl Fn(u64) -> Stream,
) -> Result<Vec<SynapseIndex>> {
    if policy == SignPolicy::Free && store.dale {
        return Err(ProjectionError::DaleKeepsSigns);
    }
    let mut touched = Vec::new();
    for chunk in 0..store.len().div_ceil(CHUNK) {
        let mut rng = stream(chunk as u64);
        for k in chunk * CHUNK..((chunk + 1) * CHUNK).min(store.len()) {
            let s = store.sign[k];
            if s == REMOVED {
                continue;
            }
            // draw for every live synapse so a filter does not shift the others' draws
            let w = f64::from(store.weight[k]);
            let new = match adjuster {
                Adjuster::Randomize(d) => {
                    let x = d.sample(&mut rng);
                    match policy {
                        SignPolicy::Keep => f64::from(s) * x.abs(),
                        SignPolicy::Free => x,
                    }
                }
                Adjuster::Perturb(d) => w + d.sample(&mut rng),
                Adjuster::Scale(f) => w * f,
                Adjuster::Clip { min, max } => w.clamp(*min, *max),
                Adjuster::Prune(_)
                | Adjuster::Reapply
                | Adjuster::SpectralRadius(_)
                | Adjuster::RandomizeSymmetric(_) => {
                    return Err(ProjectionError::NotAWeightAdjuster(adjuster.name()));
                }
            };
            if !filter.covers(s) {
                continue;
            }
            let x = super::f32_weight(new).map_err(|why| {
                let (pre, post) = store.pair(k);
                ProjectionError::Unrepresentable {
                    projection: String::new(), // named by the caller
                    pre,
                    post,
                    value: new,
                    why,
                }
            })?;
            touched.push((k, x));
        }
    }
    // every new weight is checked before any is written: a refused adjuster changes nothing
    for &(k, x) in &touched {
        match policy {
            SignPolicy::Keep => store.weight[k] = constrain_sign(x, store.sign[k]),
            SignPolicy::Free => store.set_weight(k, x),
        }
    }
    Ok(touched.into_iter().map(|(k, _)| k).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::{Column, EXCITATORY, INHIBITORY};

    fn store(dale: bool) -> SynapseStore {
        // 4 pre x 5 post all-to-all; pre 0..2 excitatory, 2..4 inhibitory
        let mut row_ptr = vec![0u64];
        let (mut post, mut w, mut s) = (vec![], vec![], vec![]);
        for i in 0..4u32 {
            for j in 0..5u32 {
                let sign = if i < 2 { EXCITATORY } else { INHIBITORY };
                post.push(j);
                w.push(f32::from(sign) * (0.5 + (i * 5 + j) as f32 / 20.0));
                s.push(sign);
            }
            row_ptr.push(post.len() as u64);
        }
        let mut st = SynapseStore::from_pre_rows(4, 5, row_ptr, post, w, s, Column::Uniform(1)).unwrap();
        st.dale = dale;
        st
    }

    fn streams(k: u64) -> Stream {
        Stream::keyed(7, "p", "adjust", k)
    }

    #[test]
    fn scale_on_inhibitory_leaves_excitatory_untouched() {
        let mut st = store(true);
        let before = st.clone();
        let t = apply(
            &mut st,
            &Adjuster::Scale(2.0),
            SignFilter::Inhibitory,
            SignPolicy::Keep,
            streams,
        )
        .unwrap();
        assert_eq!(t.len(), 10);
        for k in 0..st.len() {
            if st.sign[k] == EXCITATORY {
                assert_eq!(st.weight[k], before.weight[k]);
            } else {
                assert_eq!(st.weight[k], 2.0 * before.weight[k]);
            }
        }
    }

    #[test]
    fn randomize_keeps_signs_and_a_negative_scale_zeroes() {
        let mut st = store(true);
        let d = Distribution::Normal { mean: 0.0, std: 1.0 };
        apply(
            &mut st,
            &Adjuster::Randomize(d),
            SignFilter::Both,
            SignPolicy::Keep,
            streams,
        )
        .unwrap();
        for k in 0..st.len() {
            assert!(f32::from(st.sign[k]) * st.weight[k] >= 0.0, "slot {k}");
        }
        apply(
            &mut st,
            &Adjuster::Scale(-1.0),
            SignFilter::Both,
            SignPolicy::Keep,
            streams,
        )
        .unwrap();
        assert!(st.weight.iter().all(|&w| w == 0.0));
    }

    #[test]
    fn free_signs_only_without_dale() {
        let mut st = store(true);
        let e = apply(
            &mut st,
            &Adjuster::Scale(-1.0),
            SignFilter::Both,
            SignPolicy::Free,
            streams,
        )
        .unwrap_err();
        assert!(e.to_string().contains("Dale"), "{e}");
        let mut st = store(false);
        apply(
            &mut st,
            &Adjuster::Scale(-1.0),
            SignFilter::Both,
            SignPolicy::Free,
            streams,
        )
        .unwrap();
        assert!(st.weight[0] < 0.0 && st.sign[0] == INHIBITORY);
    }

    #[test]
    fn clip_bounds_signed_weights() {
        let mut st = store(true);
        let c = Adjuster::Clip { min: -0.6, max: 0.55 };
        apply(&mut st, &c, SignFilter::Both, SignPolicy::Keep, streams).unwrap();
        assert!(st.weight.iter().all(|&w| (-0.6..=0.55).contains(&w)));
    }

    #[test]
    fn filtered_draws_do_not_shift_other_synapses() {
        let d = Distribution::Uniform { low: 0.0, high: 1.0 };
        let (mut a, mut b) = (store(true), store(true));
        apply(
            &mut a,
            &Adjuster::Randomize(d.clone()),
            SignFilter::Both,
            SignPolicy::Keep,
            streams,
        )
        .unwrap();
        apply(
            &mut b,
            &Adjuster::Randomize(d),
            SignFilter::Inhibitory,
            SignPolicy::Keep,
            streams,
        )
        .unwrap();
        for k in 0..a.len() {
            if a.sign[k] == INHIBITORY {
                assert_eq!(a.weight[k], b.weight[k]);
            }
        }
    }

    #[test]
    fn selections() {
        let st = store(true);
        let mut rng = Stream::from_seed(1);
        let f = select(&st, &Selection::Fraction(0.25), SignFilter::Both, &mut rng).unwrap();
        assert_eq!(f.len(), 5);
        let f = select(&st, &Selection::Fraction(0.5), SignFilter::Excitatory, &mut rng).unwrap();
        assert_eq!(f.len(), 5);
        assert!(f.iter().all(|&k| st.sign[k] == EXCITATORY));
        let from = select(&st, &Selection::FromPre(1), SignFilter::Both, &mut rng).unwrap();
        assert_eq!(from, (5..10).collect::<Vec<_>>());
        let to = select(&st, &Selection::ToPost(4), SignFilter::Both, &mut rng).unwrap();
        assert_eq!(to, vec![4, 9, 14, 19]);
        let below = select(&st, &Selection::Below(0.6), SignFilter::Both, &mut rng).unwrap();
        assert_eq!(below, vec![0, 1]);
        let p = select(&st, &Selection::Pairs(vec![(3, 0), (0, 1)]), SignFilter::Both, &mut rng).unwrap();
        assert_eq!(p, vec![1, 15]);
        assert!(select(&st, &Selection::Pairs(vec![(9, 0)]), SignFilter::Both, &mut rng).is_err());
        assert!(Selection::Fraction(1.5).validate("p", 4, 5).is_err());
        assert!(Selection::ToPost(5).validate("p", 4, 5).is_err());
    }
}
