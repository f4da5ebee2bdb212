//! Building a network: adding populations and projections, running strategies into stores, Poisson drives.

use super::Network;
use crate::connect::{self, ConnectInput, Connectivity, Polarity};
use crate::error::{CortecsError, Result};
use crate::kernel::NEURON_CHUNK;
use crate::mask::Masks;
use crate::model::Derived;
use crate::model::Params;
use crate::model::{self, ModelKind};
use crate::param::{Sequence, SynapsePairs, Value};
use crate::population::polarities;
use crate::population::*;
use crate::projection::*;
use crate::rng::{self, Stream};

impl Network {
    /// Validates and builds a population; nothing is added on error.
    pub fn add_population(&mut self, spec: PopulationSpec) -> Result<usize> {
        let name = spec.name.as_str();
        if name.is_empty() {
            return Err(CortecsError::param("population", "name must not be empty"));
        }
        if self.populations.iter().any(|p| p.name == name) {
            return Err(CortecsError::DuplicateName {
                kind: "population",
                name: name.to_string(),
            });
        }
        if spec.size == 0 || spec.size > u32::MAX as usize {
            return Err(CortecsError::param(
                name,
                format!("size must be between 1 and {}, got {}", u32::MAX, spec.size),
            ));
        }
        let n = spec.size;
        let mut pos_rng = Stream::keyed(self.seed, name, "positions", 0);
        let positions = spec
            .structure
            .positions(n, &mut pos_rng)
            .map_err(|source| CortecsError::Spatial {
                context: name.to_string(),
                source,
            })?;
        let kind = &spec.model;
        kind.check_supported(name)?;
        let bias = match spec.bias {
            Some(b) => {
                let context = format!("{name}.bias");
                if spec.params.iter().any(|(p, _)| p == "bias") {
                    return Err(CortecsError::param(
                        context,
                        "given twice: as a bias initialiser and as a parameter value",
                    ));
                }
                kind.param_index("bias").map_err(|_| {
                    CortecsError::param(&context, format!("the model {kind:?} has no bias (rate units only)"))
                })?;
                Some(b.value(&context)?)
            }
            None => None,
        };
        let mut params: Params = Vec::with_capacity(kind.params().len());
        for (k, ps) in kind.params().iter().enumerate() {
            let given: Vec<&Value> = spec
                .params
                .iter()
                .filter(|(p, _)| p == ps.name)
                .map(|(_, v)| v)
                .chain(bias.iter().filter(|_| ps.name == "bias"))
                .collect();
            let values = match given.last() {
                Some(v) => v.neuron_values(&self.owner(name, ps.name), n, &positions)?,
                None => vec![ps.default; n],
            };
            model::check_values(name, &kind.params()[k], &values)?;
            params.push(values);
        }
        for (p, _) in &spec.params {
            kind.check_read(name, p).map_err(|e| match e {
                CortecsError::UnknownName { known, .. } => CortecsError::UnknownName {
                    kind: "parameter",
                    name: format!("{name}.{p}"),
                    known,
                },
                e => e,
            })?;
        }
        if let Some(k) = kind.param_position("t_ref") {
            let at = format!("{name}.t_ref");
            for &t in &params[k] {
                self.steps_of(&at, t)?;
            }
        }
        if spec.batch == 0 || (!kind.is_rate() && spec.batch != 1) {
            return Err(CortecsError::param(
                format!("{name}.batch"),
                format!("batch must be >= 1, and 1 for spiking populations; got {}", spec.batch),
            ));
        }
        for (what, x) in [("pre_noise", spec.pre_noise), ("post_noise", spec.post_noise)] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(CortecsError::param(
                    format!("{name}.{what}"),
                    format!("noise std must be >= 0, got {x}"),
                ));
            }
        }
        let polarity = polarities(&spec.polarity, n, name)?;
        let state = match kind {
            ModelKind::Rate { activation } => {
                let b = spec.batch;
                let v0 = &params[kind.param_index("v_init")?];
                let v: Vec<f32> = (0..n * b).map(|k| v0[k / b] as f32).collect();
                let r = v.iter().map(|&x| activation.apply(x)).collect();
                PopulationState::Rate(RateState {
                    batch: b,
                    v,
                    r,
                    input: vec![0.0; n * b],
                    acc: vec![0.0; n * b],
                })
            }
            ModelKind::PoissonSource => PopulationState::Poisson,
            ModelKind::SpikeSource => {
                let seq = spec.spike_times.clone().unwrap_or(Sequence::Same(Vec::new()));
                let at = format!("{name}.spike_times");
                let lists = seq.resolve(&at, n)?;
                let mut steps = Vec::with_capacity(n);
                for l in lists {
                    let mut s: Vec<u64> = Vec::with_capacity(l.len());
                    for t in l {
                        if t < 0.0 {
                            return Err(CortecsError::param(
                                at.clone(),
                                format!("spike time {t} ms is negative"),
                            ));
                        }
                        s.push(self.steps_of(&at, t)?);
                    }
                    s.sort_unstable();
                    steps.push(s);
                }
                PopulationState::SpikeTimes {
                    steps,
                    next: vec![0; n],
                }
            }
            _ => PopulationState::Spiking(model::initial_state(kind, &params, n)),
        };
        let chunks = n.div_ceil(NEURON_CHUNK);
        let spiking = matches!(state, PopulationState::Spiking(_));
        let rngs = (0..chunks)
            .map(|c| Stream::keyed(self.seed, name, "dynamics", c as u64))
            .collect();
        self.populations.push(Population {
            name: name.to_string(),
            size: n,
            model: spec.model.clone(),
            derived: Derived::new(&spec.model, &params, self.dt),
            params,
            positions,
            polarity,
            state,
            current: vec![0.0; n],
            drives: Vec::new(),
            drive_tables: Vec::new(),
            spikes: Vec::new(),
            spike_record: spec.record_spikes.then(Vec::new),
            spike_count: 0,
            last_spike: vec![u64::MAX; n],
            pre_noise: spec.pre_noise,
            post_noise: spec.post_noise,
            ring: crate::population::DelayRing::new(n, if spiking { 2 } else { 0 }),
            rngs,
            spike_scratch: vec![Vec::new(); chunks],
        });
        Ok(self.populations.len() - 1)
    }

    /// What the strategy of `spec` sees when it connects populations `pre` and `post`.
    pub fn connect_input<'a>(&'a self, spec: &'a ProjectionSpec, pre: usize, post: usize) -> ConnectInput<'a> {
        let (a, b) = (&self.populations[pre], &self.populations[post]);
        ConnectInput {
            projection: &spec.name,
            seed: self.seed,
            n_pre: a.size,
            n_post: b.size,
            pre_positions: &a.positions,
            post_positions: &b.positions,
            space: spec.space,
            pre_polarity: &a.polarity,
            post_polarity: &b.polarity,
            same_population: pre == post,
            self_connections: spec.self_connections,
            multapses: spec.multapses,
            base_dir: &self.base_dir,
        }
    }

    /// Validates a projection and queues it for building (see [`Network::build_pending`]).
    /// Everything that can be checked before drawing is checked here.
    pub fn add_projection(&mut self, spec: ProjectionSpec) -> Result<()> {
        let name = spec.name.as_str();
        if name.is_empty() {
            return Err(CortecsError::param("projection", "name must not be empty"));
        }
        if self.projections.iter().any(|p| p.name == name) || self.pending.iter().any(|p| p.name == name) {
            return Err(CortecsError::DuplicateName {
                kind: "projection",
                name: name.to_string(),
            });
        }
        let pre = self.population_index(&spec.pre)?;
        let post = self.population_index(&spec.post)?;
        let (a, b) = (&self.populations[pre].model, &self.populations[post].model);
        let rate_pre = a.is_rate();
        if rate_pre != b.is_rate() {
            return Err(CortecsError::connection(
                name,
                format!("cannot connect a {} population to a {} population", a.name(), b.name()),
            ));
        }
        if !b.is_rate() && b.synapse().is_none() {
            return Err(CortecsError::connection(
                name,
                format!(
                    "post population '{}' is a source ({}) and takes no input",
                    spec.post,
                    b.name()
                ),
            ));
        }
        if rate_pre {
            let (bp, bq) = (self.populations[pre].trials(), self.populations[post].trials());
            if bp != bq {
                return Err(CortecsError::connection(
                    name,
                    format!(
                        "rate populations '{}' ({bp} trials) and '{}' ({bq} trials) have different batch sizes; \
                         a rate projection connects trial k to trial k",
                        spec.pre, spec.post
                    ),
                ));
            }
            if spec.delay.is_some() {
                return Err(CortecsError::param(
                    format!("{name}.delay"),
                    "a rate projection has no delay (rate units take their input in the same step); remove it",
                ));
            }
        }
        if let Some(r) = spec.excitatory_ratio {
            crate::param::check_probability(name, "excitatory_ratio", r)?;
        }
        if !(spec.plasticity.is_finite() && (0.0..=1.0).contains(&spec.plasticity)) {
            return Err(CortecsError::param(
                format!("{name}.plasticity"),
                format!("must be in [0, 1], got {}", spec.plasticity),
            ));
        }
        spec.strategy.validate(&self.connect_input(&spec, pre, post))?;
        self.resolve_masks(&spec, pre, post)?;
        self.check_learning(&spec, pre, post)?;
        spec.weight.validate_synapses(&self.owner(name, "weight"), None)?;
        if let Some(w) = &spec.weight_inh {
            w.validate_synapses(&self.owner(name, "weight_inh"), None)?;
        }
        if let Some(delay) = &spec.delay {
            delay.validate_synapses(&self.owner(name, "delay"), None)?;
            if let Some(d) = delay.as_const() {
                self.delay_steps(name, d)?;
            }
        }
        self.pending.push(spec);
        Ok(())
    }

    /// Reads and validates the masks a projection declares.
    pub fn resolve_masks(&self, spec: &ProjectionSpec, pre: usize, post: usize) -> Result<Masks> {
        let (n_pre, n_post) = (self.populations[pre].size, self.populations[post].size);
        let name = spec.name.as_str();
        let m = &spec.masks;
        let matrix = |src: &MaskSource, what: &str| -> Result<ndarray::Array2<f32>> {
            match src {
                MaskSource::Array(a) => Ok(a.clone()),
                MaskSource::Rows(rows) => {
                    let cols = rows.first().map_or(0, Vec::len);
                    if let Some(r) = rows.iter().position(|r| r.len() != cols) {
                        return Err(CortecsError::InvalidRequest(format!(
                            "{name}: row {r} of the {what} mask has {} entries, row 0 has {cols}",
                            rows[r].len()
                        )));
                    }
                    Ok(ndarray::Array2::from_shape_fn((rows.len(), cols), |(r, c)| rows[r][c]))
                }
                MaskSource::Npy(path) => Ok(crate::io::read_npy_matrix(&self.base_dir.join(path), n_post, n_pre)?),
                MaskSource::PerPre(_) => Err(CortecsError::InvalidRequest(format!(
                    "{name}: the {what} mask needs a post x pre matrix, not one value per pre neuron"
                ))),
            }
        };
        let mut masks = Masks {
            self_connections: spec.self_connections,
            balance: m.balance,
            ..Masks::default()
        };
        if let Some(src) = &m.sparsity {
            masks.sparsity = Some(Masks::sparsity_from(
                name,
                matrix(src, "sparsity")?.view(),
                n_post,
                n_pre,
            )?);
        }
        if let Some(src) = &m.ei {
            masks.signs = Some(match src {
                MaskSource::PerPre(v) => Masks::signs_per_pre(name, v, n_pre)?,
                MaskSource::Npy(path) => {
                    let v = crate::io::read_npy_f64(&self.base_dir.join(path))?;
                    if v.len() == n_pre && n_post != 1 {
                        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                        Masks::signs_per_pre(name, &v, n_pre)?
                    } else {
                        Masks::signs_from(name, matrix(src, "E/I")?.view(), n_post, n_pre)?
                    }
                }
                _ => Masks::signs_from(name, matrix(src, "E/I")?.view(), n_post, n_pre)?,
            });
        }
        if let Some(src) = &m.plasticity {
            let a = matrix(src, "plasticity")?;
            masks.plasticity = Some(Masks::factors_from(name, "plasticity", a.view(), n_post, n_pre)?);
        }
        if let Some(src) = &m.growth {
            let a = matrix(src, "growth")?;
            masks.growth = Some(Masks::factors_from(name, "growth", a.view(), n_post, n_pre)?);
        }
        Ok(masks)
    }

    /// A delay (ms) as whole steps, from 1 to `u16::MAX`, under the network's [`super::Rounding`].
    pub(crate) fn delay_steps(&self, name: &str, d: f64) -> Result<u16> {
        let at = format!("{name}.delay");
        let raw = d / self.dt;
        if !(d.is_finite() && (0.5..=f64::from(u16::MAX) + 0.5).contains(&raw)) {
            return Err(CortecsError::param(
                at,
                format!(
                    "delay {d} ms is {} steps of {} ms; it must be between 1 and {} steps",
                    (raw * 1e6).round() / 1e6,
                    self.dt,
                    u16::MAX
                ),
            ));
        }
        let steps = self.steps_of(&at, d)?;
        if !(1..=u64::from(u16::MAX)).contains(&steps) {
            return Err(CortecsError::param(
                at,
                format!(
                    "delay {d} ms is {steps} steps of {} ms; it must be between 1 and {} steps",
                    self.dt,
                    u16::MAX
                ),
            ));
        }
        Ok(steps as u16)
    }

    /// Runs the strategies of all queued projections (in declaration order)
    /// and returns the indices of the projections built.
    /// Refuses (with the estimate in the message) to build what would not fit in memory.
    pub fn build_pending(&mut self) -> Result<Vec<usize>> {
        if let (Ok((stores, detail)), Ok(peak), Some(available)) = (
            crate::network::estimate_pending(self),
            crate::network::estimate_build_peak(self),
            crate::io::available_bytes(),
        ) && stores + peak > available
        {
            let estimate = stores + peak;
            let detail = format!("{detail}; building: {}", crate::io::bytes_text(peak.into()));
            self.pending.clear();
            return Err(CortecsError::OutOfMemory {
                estimate_bytes: estimate,
                available_bytes: available,
                detail,
            });
        }
        let pending = std::mem::take(&mut self.pending);
        let mut built = Vec::new();
        for (k, spec) in pending.iter().enumerate() {
            match self.build_projection(spec.clone()) {
                Ok(i) => built.push(i),
                Err(e) => {
                    self.pending = pending[k + 1..].to_vec();
                    return Err(e);
                }
            }
        }
        Ok(built)
    }

    /// Validates and builds one projection now.
    pub fn connect(&mut self, spec: ProjectionSpec) -> Result<usize> {
        self.add_projection(spec)?;
        let built = self.build_pending()?;
        built
            .last()
            .copied()
            .ok_or_else(|| CortecsError::InvalidRequest("nothing was built".into()))
    }

    fn build_projection(&mut self, spec: ProjectionSpec) -> Result<usize> {
        let pre = self.population_index(&spec.pre)?;
        let post = self.population_index(&spec.post)?;
        let masks = self.resolve_masks(&spec, pre, post)?;
        let input = self.connect_input(&spec, pre, post);
        let conn = connect::connect(&spec.strategy, &input)?;
        let mut store = self.store_for(&spec, conn, pre, post, masks.signs.as_ref())?;
        if masks.signs.is_some() {
            store.dale = spec.dale.unwrap_or(true);
        }
        let rate = self.populations[post].model.is_rate();
        let mut proj = Projection::new(spec, pre, post, store, masks);
        if let Some(plastic) = self.make_plastic(&proj.spec, pre, post, proj.store())? {
            proj.set_plastic(Some(plastic));
        }
        self.projections.push(proj);
        if !rate {
            self.resize_ring(post);
        }
        Ok(self.projections.len() - 1)
    }

    /// The store a connectivity gives projection `spec` from `pre` to `post`,
    /// in the row order its kernel needs (post-major for rate projections).
    pub(crate) fn store_for(
        &self,
        spec: &ProjectionSpec,
        conn: Connectivity,
        pre: usize,
        post: usize,
        sign_mask: Option<&crate::mask::SignMask>,
    ) -> Result<SynapseStore> {
        let input = self.connect_input(spec, pre, post);
        let store = self.make_store(spec, conn, &input, sign_mask)?;
        Ok(if self.populations[post].model.is_rate() {
            store.transposed().0
        } else {
            store
        })
    }

    /// Turns a connectivity into a store: weights, signs, delays. Takes the
    /// connectivity by value and builds (pre, post) arrays only when a value
    /// is a function of them, so the peak while building stays near the
    /// store's own size.
    fn make_store(
        &self,
        spec: &ProjectionSpec,
        conn: Connectivity,
        input: &ConnectInput<'_>,
        sign_mask: Option<&crate::mask::SignMask>,
    ) -> Result<SynapseStore> {
        let name = spec.name.as_str();
        let n = conn.post.len();
        let needs_pairs = (conn.weight.is_none()
            && (spec.weight.needs_pairs() || spec.weight_inh.as_ref().is_some_and(Value::needs_pairs)))
            || (conn.delay.is_none() && spec.delay.as_ref().is_some_and(Value::needs_pairs));
        let (pre_idx, post_idx) = if needs_pairs {
            connectivity_pairs(&conn)
        } else {
            (Vec::new(), Vec::new())
        };
        let pairs = needs_pairs.then_some(SynapsePairs {
            pre: &pre_idx,
            post: &post_idx,
            pre_positions: input.pre_positions,
            post_positions: input.post_positions,
            space: spec.space,
        });
        let has_polarity = input.pre_polarity.iter().any(|p| *p != Polarity::None);
        let signed_by_rule = has_polarity || spec.excitatory_ratio.is_some() || sign_mask.is_some();
        // fan initialisers: W is post x pre, so fan_in = n_pre and fan_out = n_post (torch)
        let fans = |v: &Value, what: &str| v.with_fans(&format!("{name}.{what}"), input.n_pre, input.n_post);
        let explicit = conn.weight.is_some();
        let weight_value = fans(&spec.weight, "weight")?;
        // one weight for all (W2's J): no per-synapse vector of it
        let same = match (&conn.weight, weight_value.as_const(), &spec.weight_inh) {
            (None, Some(c), None) => {
                weight_value.synapse_values_n(&self.owner(name, "weight"), 0, None)?; // validates it
                Some(c)
            }
            _ => None,
        };
        let magnitude = match (&conn.weight, same) {
            (Some(w), _) => w.clone(),
            (None, Some(_)) => Vec::new(),
            (None, None) => weight_value.synapse_values_n(&self.owner(name, "weight"), n, pairs)?,
        };
        let signs: Vec<Sign> = if let Some(mask) = sign_mask {
            let (pre_i, post_i) = if needs_pairs {
                (pre_idx.clone(), post_idx.clone())
            } else {
                connectivity_pairs(&conn)
            };
            (0..n).map(|k| mask.sign(pre_i[k], post_i[k])).collect()
        } else if signed_by_rule {
            connect::assign_signs(&conn, input, spec.excitatory_ratio.unwrap_or(1.0))?
        } else if let Some(c) = same {
            vec![if c < 0.0 { INHIBITORY } else { EXCITATORY }; n]
        } else {
            magnitude
                .iter()
                .map(|&w| if w < 0.0 { INHIBITORY } else { EXCITATORY })
                .collect()
        };
        let inh = match (&spec.weight_inh, &conn.weight) {
            (Some(v), None) => {
                Some(fans(v, "weight_inh")?.synapse_values_n(&self.owner(name, "weight_inh"), n, pairs)?)
            }
            _ => None,
        };
        // one weight for all: each synapse's weight follows from its sign
        // alone (the general loop gives the same values, one at a time)
        let of_sign = |sign: Sign, m: f64| {
            let w = if signed_by_rule { f64::from(sign) * m.abs() } else { m };
            crate::projection::f32_weight(w).ok()
        };
        let by_sign = same.and_then(|c| Some((of_sign(EXCITATORY, c)?, of_sign(INHIBITORY, c)?, of_sign(0, c)?)));
        let weight: Vec<f32> = if let Some((e, i, z)) = by_sign {
            signs
                .iter()
                .map(|&sign| match sign {
                    EXCITATORY => e,
                    INHIBITORY => i,
                    _ => z,
                })
                .collect()
        } else {
            // exactly n: the store keeps this vector as it is
            let mut weight: Vec<f32> = Vec::with_capacity(n);
            for k in 0..n {
                let m = match (&inh, signs[k], same) {
                    (_, _, Some(c)) => c,
                    (Some(wi), INHIBITORY, _) => wi[k],
                    _ => magnitude[k],
                };
                let w = if signed_by_rule {
                    let s = f64::from(signs[k]);
                    // an explicit weight (matrix, list) of the wrong sign becomes 0, as
                    // nn4n and set_weights_dense do; drawn values are magnitudes
                    if explicit && m * s < 0.0 { 0.0 } else { s * m.abs() }
                } else {
                    m
                };
                let x = crate::projection::f32_weight(w).map_err(|why| {
                    let pre = conn.row_ptr.partition_point(|&start| start as usize <= k) - 1;
                    crate::projection::ProjectionError::Unrepresentable {
                        projection: format!("{name}.weight"),
                        pre: pre as u32,
                        post: conn.post[k],
                        value: w,
                        why,
                    }
                })?;
                weight.push(x);
            }
            weight
        };
        drop(magnitude);
        drop(inh);
        let steps = |ds: &[f64]| -> Result<Column<u16>> {
            Ok(Column::from_values(
                ds.iter()
                    .map(|&d| self.delay_steps(name, d))
                    .collect::<Result<Vec<u16>>>()?,
                1,
            ))
        };
        let delay = match (&conn.delay, &spec.delay) {
            (Some(ds), _) => steps(ds)?,
            (None, None) => Column::Uniform(1),
            (None, Some(v)) => match v.as_const() {
                Some(d) => Column::Uniform(self.delay_steps(name, d)?),
                None => steps(&v.synapse_values_n(&self.owner(name, "delay"), n, pairs)?)?,
            },
        };
        let mut store = SynapseStore::from_pre_rows(
            input.n_pre as u32,
            input.n_post as u32,
            conn.row_ptr,
            conn.post,
            weight,
            signs,
            delay,
        )?;
        store.plasticity = Column::Uniform(spec.plasticity as f32);
        store.dale = spec.dale.unwrap_or(signed_by_rule);
        Ok(store)
    }

    /// Makes the input ring of spiking population `post` long enough for every incoming delay.
    pub(crate) fn resize_ring(&mut self, post: usize) {
        let max_delay = self
            .projections
            .iter()
            .filter(|p| p.post == post)
            .map(|p| p.store.max_delay() as usize)
            .max()
            .unwrap_or(1);
        let pop = &mut self.populations[post];
        pop.ring.ensure(max_delay + 1, pop.size, self.step);
    }

    /// Adds a constant Poisson drive to a population.
    pub fn add_drive(&mut self, population: &str, drive: PoissonDrive) -> Result<()> {
        let i = self.population_index(population)?;
        if !(drive.rate.is_finite() && drive.rate >= 0.0 && drive.weight.is_finite()) {
            return Err(CortecsError::param(
                format!("{population}.drive"),
                format!("rate must be >= 0 Hz and weight finite, got {drive:?}"),
            ));
        }
        if self.populations[i].model.synapse().is_none() {
            return Err(CortecsError::param(
                format!("{population}.drive"),
                "a Poisson drive needs a spiking population that takes input",
            ));
        }
        let table = rng::PoissonTable::new(drive.rate * self.dt * 1e-3);
        self.populations[i].drives.push(drive);
        self.populations[i].drive_tables.push(table);
        Ok(())
    }
}

/// Pre and post index of every synapse of a connectivity, in row order.
pub fn connectivity_pairs(conn: &Connectivity) -> (Vec<u32>, Vec<u32>) {
    let mut pre = Vec::with_capacity(conn.post.len());
    for r in 0..conn.row_ptr.len().saturating_sub(1) {
        let n = (conn.row_ptr[r + 1] - conn.row_ptr[r]) as usize;
        pre.extend(std::iter::repeat_n(r as u32, n));
    }
    (pre, conn.post.clone())
}
