//! The dense reference model of one projection: a post x pre grid of
//! optional synapses (weight, sign, pruning counter), the masks, the E/I
//! signs of the pre neurons and Dale's law, with the rules the README
//! documents written out once, independently of the engine's store.

/// Excitatory and inhibitory signs.
pub const E: i8 = 1;
pub const I: i8 = -1;

/// One synapse of the reference: its weight, its sign, and how many
/// consecutive pruning checks found it small.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Syn {
    pub w: f32,
    pub sign: i8,
    pub small: u16,
}

/// Growth: every absent allowed synapse grows where the probability is 1
/// (constant 1, or a 0/1 growth mask), so the event is deterministic.
#[derive(Clone, Debug)]
pub struct Growth {
    pub weight: f32,
    /// Steps between events (0: only on demand).
    pub every: u64,
    /// The probability is the growth mask (else the constant 1).
    pub by_mask: bool,
}

/// Pruning: a learning synapse small (`|w| < threshold`) at `checks`
/// consecutive checks, one check every `every` steps, is removed.
#[derive(Clone, Debug)]
pub struct Pruning {
    pub every: u64,
    pub checks: u16,
    pub threshold: f32,
}

/// Dale's rule on one weight (the README: a weight of the wrong sign becomes 0).
pub fn constrain(w: f32, sign: i8) -> f32 {
    if sign == E { w.max(0.0) } else { w.min(0.0) }
}

/// The sign a weight gives a synapse without Dale's law.
pub fn own_sign(w: f64) -> i8 {
    if w < 0.0 { I } else { E }
}

/// Which signs a filter covers.
pub fn covers(filter: cortecs::prelude::SignFilter, sign: i8) -> bool {
    use cortecs::prelude::SignFilter::*;
    match filter {
        Excitatory => sign == E,
        Inhibitory => sign == I,
        Both => true,
    }
}

/// Why the reference refuses a new synapse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Forbidden,
    Multapse,
    WrongSign,
}

/// One projection as the reference keeps it.
#[derive(Clone, Debug)]
pub struct RefProj {
    pub name: &'static str,
    pub n_pre: usize,
    pub n_post: usize,
    pub recurrent: bool,
    pub compact: bool,
    /// `syn[post * n_pre + pre]`.
    pub syn: Vec<Option<Syn>>,
    pub dale: bool,
    /// Polarity of each pre neuron (+1, -1, 0: none).
    pub polarity: Vec<i8>,
    /// Masks, post x pre: where synapses may be, their signs, learning
    /// factors and growth probabilities.
    pub sparsity: Option<Vec<bool>>,
    pub signs: Option<Vec<i8>>,
    pub plasticity_mask: Option<Vec<f32>>,
    pub growth_mask: Option<Vec<f32>>,
    pub self_connections: bool,
    /// The spec's learning factor (every synapse's, without a plasticity mask).
    pub plasticity: f32,
    pub growth: Option<Growth>,
    pub pruning: Option<Pruning>,
    pub since_growth: u64,
    pub since_pruning: u64,
    /// What the strategy builds, when it is deterministic: (pre, post,
    /// weight value, explicit weight of a matrix or list); `None` for random rules.
    pub fresh: Option<Vec<(usize, usize, f64, bool)>>,
    /// The spec's weight value (random rules build it on every synapse).
    pub spec_weight: f64,
}

impl RefProj {
    pub fn idx(&self, pre: usize, post: usize) -> usize {
        post * self.n_pre + pre
    }

    pub fn pair_of(&self, idx: usize) -> (usize, usize) {
        (idx % self.n_pre, idx / self.n_pre)
    }

    pub fn get(&self, pre: usize, post: usize) -> Option<Syn> {
        self.syn[self.idx(pre, post)]
    }

    /// Live pairs (pre, post), post-major.
    pub fn live(&self) -> Vec<(usize, usize)> {
        (0..self.syn.len())
            .filter(|&i| self.syn[i].is_some())
            .map(|i| self.pair_of(i))
            .collect()
    }

    pub fn in_range(&self, pre: usize, post: usize) -> bool {
        pre < self.n_pre && post < self.n_post
    }

    /// The sparsity mask and the self-connection rule allow `pre -> post`.
    pub fn allows(&self, pre: usize, post: usize) -> bool {
        if self.recurrent && !self.self_connections && pre == post {
            return false;
        }
        self.sparsity.as_ref().is_none_or(|m| m[self.idx(pre, post)])
    }

    /// Signs come from a rule (an E/I mask or the pre neurons' polarity).
    pub fn signed_by_rule(&self) -> bool {
        self.signs.is_some() || self.polarity.iter().any(|&p| p != 0)
    }

    /// The sign a new synapse gets: the E/I mask's, else the pre neuron's
    /// polarity, else its weight's own.
    pub fn new_sign(&self, pre: usize, post: usize, w: f64) -> i8 {
        match (&self.signs, self.polarity[pre]) {
            (Some(m), _) => m[self.idx(pre, post)],
            (None, p) if p != 0 => p,
            _ => own_sign(w),
        }
    }

    /// The learning factor of synapse `pre -> post`.
    pub fn factor(&self, pre: usize, post: usize) -> f32 {
        self.plasticity_mask
            .as_ref()
            .map_or(self.plasticity, |m| m[self.idx(pre, post)])
    }

    /// What the strategy builds on a pair: the signed weight (a drawn value
    /// is a magnitude under a sign rule; an explicit one of the wrong sign is 0).
    pub fn built(&self, pre: usize, post: usize, m: f64, explicit: bool) -> Syn {
        let sign = self.new_sign(pre, post, m);
        let w = if self.signed_by_rule() {
            let s = f64::from(sign);
            if explicit && m * s < 0.0 { 0.0 } else { s * m.abs() }
        } else {
            m
        };
        Syn {
            w: w as f32,
            sign,
            small: 0,
        }
    }

    /// Writes a weight: Dale's rule, or (without Dale's law) the sign follows a nonzero weight.
    pub fn set_w(&mut self, pre: usize, post: usize, w: f32) {
        let dale = self.dale;
        let i = self.idx(pre, post);
        let s = self.syn[i].as_mut().expect("set_w on a live synapse");
        if dale {
            s.w = constrain(w, s.sign);
        } else {
            s.w = w;
            if w != 0.0 {
                s.sign = own_sign(f64::from(w));
            }
        }
    }

    /// Every mask on one synapse: removed where forbidden, signed by the
    /// E/I mask, zeroed by Dale's law when of the wrong sign.
    pub fn enforce_one(&mut self, i: usize) {
        let (pre, post) = self.pair_of(i);
        if self.syn[i].is_none() {
            return;
        }
        if !self.allows(pre, post) {
            self.syn[i] = None;
            return;
        }
        let mask_sign = self.signs.as_ref().map(|m| m[i]);
        let dale = self.dale;
        let s = self.syn[i].as_mut().unwrap();
        if let Some(sign) = mask_sign {
            s.sign = sign;
        }
        if dale {
            s.w = constrain(s.w, s.sign);
        }
    }

    pub fn enforce_all(&mut self) {
        for i in 0..self.syn.len() {
            self.enforce_one(i);
        }
    }

    /// Whether a new synapse `pre -> post` of weight `w` is admitted, and its sign.
    pub fn admit(&self, pre: usize, post: usize, w: f32, exists: bool) -> Result<i8, Refusal> {
        if !self.allows(pre, post) {
            return Err(Refusal::Forbidden);
        }
        if exists {
            return Err(Refusal::Multapse);
        }
        let sign = self.new_sign(pre, post, f64::from(w));
        if self.dale && constrain(w, sign) == 0.0 && w != 0.0 {
            return Err(Refusal::WrongSign);
        }
        Ok(sign)
    }

    /// Adds an admitted synapse (a new synapse has been small at no check).
    pub fn add(&mut self, pre: usize, post: usize, w: f32, sign: i8) {
        let i = self.idx(pre, post);
        self.syn[i] = Some(Syn {
            w: constrain(w, sign),
            sign,
            small: 0,
        });
    }

    pub fn remove(&mut self, pre: usize, post: usize) {
        let i = self.idx(pre, post);
        self.syn[i] = None;
    }

    /// The deterministic synapses of the strategy, with the current masks
    /// enforced (construction, or reapplying the strategy).
    pub fn fresh_synapses(&self) -> Option<Vec<Option<Syn>>> {
        let list = self.fresh.as_ref()?;
        let mut out = self.clone();
        out.syn = vec![None; self.syn.len()];
        for &(pre, post, m, explicit) in list {
            let i = out.idx(pre, post);
            out.syn[i] = Some(out.built(pre, post, m, explicit));
        }
        out.enforce_all();
        Some(out.syn)
    }

    /// One growth event; returns how many grew.
    pub fn grow(&mut self) -> usize {
        let Some(g) = self.growth.clone() else { return 0 };
        let mut made = 0;
        // proposals in the engine's order (pre-major): each one is decided alone
        for pre in 0..self.n_pre {
            for post in 0..self.n_post {
                let i = self.idx(pre, post);
                let p = if g.by_mask {
                    self.growth_mask.as_ref().map_or(0.0, |m| m[i])
                } else {
                    1.0
                };
                if p != 1.0 || self.syn[i].is_some() || !self.allows(pre, post) {
                    continue;
                }
                let sign = self.new_sign(pre, post, f64::from(g.weight));
                let w = if self.dale {
                    f32::from(sign) * g.weight.abs()
                } else {
                    g.weight
                };
                self.add(pre, post, w, sign);
                made += 1;
            }
        }
        made
    }

    /// One pruning check; returns how many were removed.
    pub fn prune(&mut self) -> usize {
        let Some(p) = self.pruning.clone() else { return 0 };
        let mut gone = 0;
        for i in 0..self.syn.len() {
            let (pre, post) = self.pair_of(i);
            let f = self.factor(pre, post);
            let Some(s) = self.syn[i].as_mut() else { continue };
            if f == 0.0 || s.w.abs() >= p.threshold {
                s.small = 0;
                continue;
            }
            s.small = s.small.saturating_add(1);
            if s.small >= p.checks {
                self.syn[i] = None;
                gone += 1;
            }
        }
        gone
    }

    /// After one step: the pruning check and growth event that are due (in
    /// the engine's order: prune, then grow).
    pub fn after_step(&mut self) {
        let prune = match &self.pruning {
            Some(p) => {
                self.since_pruning += 1;
                let due = self.since_pruning >= p.every;
                if due {
                    self.since_pruning = 0;
                }
                due
            }
            None => false,
        };
        let grow = match &self.growth {
            Some(g) => {
                self.since_growth += 1;
                let due = g.every > 0 && self.since_growth >= g.every;
                if due {
                    self.since_growth = 0;
                }
                due
            }
            None => false,
        };
        if prune {
            self.prune();
        }
        if grow {
            self.grow();
        }
    }
}
