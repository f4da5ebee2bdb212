//! Learning rules on a network: their checks against the populations they
//! join, the state a projection gets at build, and what a host writes while
//! it runs (the modulator of reward STDP, the error of PES).

use super::Network;
use crate::error::{CortecsError, Result};
use crate::plasticity::{ErrorSource, Needs, Plastic, Rewiring, Rule};
use crate::population::PopulationState;
use crate::projection::ProjectionSpec;
use crate::store::{Column, SynapseStore};

impl Network {
    /// Checks the learning rules of `spec` (from population `pre` to `post`)
    /// that need no store: parameters, population kinds, error sources,
    /// scaling intervals.
    pub(crate) fn check_learning(&self, spec: &ProjectionSpec, pre: usize, post: usize) -> Result<()> {
        let name = spec.name.as_str();
        let (a, b) = (&self.populations[pre], &self.populations[post]);
        for (k, l) in spec.learning.iter().enumerate() {
            let rule = l.rule.name();
            let at = |param: &str| format!("{name}.learning[{k}] ({rule}).{param}");
            l.rule.validate().map_err(|(p, m)| CortecsError::param(at(&p), m))?;
            match l.rule.needs() {
                Needs::Spiking if a.model.is_rate() || b.model.is_rate() => {
                    return Err(CortecsError::connection(
                        name,
                        format!(
                            "rule {k} ({rule}) needs spiking populations; '{}' and '{}' are {} and {}",
                            a.name,
                            b.name,
                            a.model.name(),
                            b.model.name()
                        ),
                    ));
                }
                Needs::Rate if !a.model.is_rate() || !b.model.is_rate() => {
                    return Err(CortecsError::connection(
                        name,
                        format!(
                            "rule {k} ({rule}) needs rate populations; '{}' and '{}' are {} and {}",
                            a.name,
                            b.name,
                            a.model.name(),
                            b.model.name()
                        ),
                    ));
                }
                _ => {}
            }
            if let Rule::Scaling(s) = &l.rule
                && super::rewire::whole_steps(at("every"), s.every, self.dt)? == 0
            {
                return Err(CortecsError::param(
                    at("every"),
                    format!("{} ms is not a whole number of steps of {} ms", s.every, self.dt),
                ));
            }
            if let Rule::Pes(p) = &l.rule
                && let ErrorSource::Population(e) = &p.error
            {
                let i = self.population_index(e)?;
                let pop = &self.populations[i];
                let batch = |p: &crate::population::Population| match &p.state {
                    PopulationState::Rate(s) => Some(s.batch),
                    _ => None,
                };
                if batch(pop).is_none() || pop.size != b.size || batch(pop) != batch(b) {
                    return Err(CortecsError::param(
                        at("error"),
                        format!(
                            "the error population '{e}' must be a rate population of {} neurons and batch {:?} (the post population's); it is {} with {} neurons",
                            b.size,
                            batch(b).unwrap_or(1),
                            pop.model.name(),
                            pop.size
                        ),
                    ));
                }
            }
        }
        self.check_rewiring(spec)?;
        if !spec.learning.is_empty()
            && let (PopulationState::Rate(x), PopulationState::Rate(y)) = (&a.state, &b.state)
            && x.batch != y.batch
        {
            return Err(CortecsError::connection(
                name,
                format!(
                    "learning needs the same batch on both sides; '{}' has {} trials, '{}' {}",
                    a.name, x.batch, b.name, y.batch
                ),
            ));
        }
        Ok(())
    }

    /// The learning state of a projection built from `spec` over `store`
    /// (bounds checked against the store's Dale flag), or `None` without rules.
    pub(crate) fn make_plastic(
        &self,
        spec: &ProjectionSpec,
        pre: usize,
        post: usize,
        store: &SynapseStore,
    ) -> Result<Option<Plastic>> {
        if spec.learning.is_empty() && spec.growth.is_none() && spec.pruning.is_none() {
            return Ok(None);
        }
        let name = spec.name.as_str();
        for (k, l) in spec.learning.iter().enumerate() {
            l.validate(store.dale)
                .map_err(|(p, m)| CortecsError::param(format!("{name}.learning[{k}] ({}).{p}", l.rule.name()), m))?;
        }
        let (a, b) = (&self.populations[pre], &self.populations[post]);
        let delay = if b.model.is_rate() {
            0
        } else {
            match &store.delay {
                Column::Uniform(d) => *d,
                Column::PerSynapse(_) => {
                    return Err(CortecsError::connection(
                        name,
                        "a learning or rewiring spiking projection needs one delay for all its synapses (spikes are delivered when they arrive); split it into one projection per delay",
                    ));
                }
            }
        };
        let batch = match &b.state {
            PopulationState::Rate(s) => s.batch,
            _ => 1,
        };
        let mut plastic = Plastic::new(&spec.learning, a.size, b.size, store.len(), delay, batch);
        if spec.growth.is_some() || spec.pruning.is_some() {
            plastic.rewiring = Some(Rewiring::new(store.len(), spec.pruning.is_some()));
        }
        for l in &spec.learning {
            if let Rule::Pes(p) = &l.rule
                && let ErrorSource::Population(e) = &p.error
            {
                plastic.error_population = Some(self.population_index(e)?);
            }
        }
        Ok(Some(plastic))
    }

    /// Sets the modulator (reward, dopamine) of every reward-modulated rule of `projection`.
    pub fn set_modulator(&mut self, projection: &str, value: f64) -> Result<()> {
        if !value.is_finite() {
            return Err(CortecsError::param(
                format!("{projection}.modulator"),
                format!("must be finite, got {value}"),
            ));
        }
        let p = self.projection_mut(projection)?;
        let learners = p.plastic_mut().map(|pl| &mut pl.learners[..]).unwrap_or_default();
        let mut any = false;
        for l in learners
            .iter_mut()
            .filter(|l| matches!(l.learning.rule, Rule::RewardStdp(_)))
        {
            l.modulator = value;
            any = true;
        }
        if !any {
            return Err(CortecsError::connection(
                projection,
                "has no reward-modulated rule (RewardStdp) to take a modulator",
            ));
        }
        Ok(())
    }

    /// Sets the error of every PES rule of `projection` with a host error:
    /// one value per post neuron (every trial), or one per post neuron and
    /// trial (`post * batch + trial`).
    pub fn set_error(&mut self, projection: &str, error: &[f64]) -> Result<()> {
        if let Some(i) = error
            .iter()
            .position(|e| !e.is_finite() || e.abs() > f64::from(f32::MAX))
        {
            return Err(CortecsError::param(
                format!("{projection}.error[{i}]"),
                format!("must be finite, got {}", error[i]),
            ));
        }
        let p = self.projection_mut(projection)?;
        let n_post = p.store().n_post as usize;
        let learners = p.plastic_mut().map(|pl| &mut pl.learners[..]).unwrap_or_default();
        let mut any = false;
        for l in learners.iter_mut() {
            let Rule::Pes(pes) = &l.learning.rule else { continue };
            if pes.error != ErrorSource::Host {
                continue;
            }
            let batch = l.error.len() / n_post.max(1);
            if error.len() == n_post {
                for (j, &e) in error.iter().enumerate() {
                    l.error[j * batch..(j + 1) * batch].fill(e as f32);
                }
            } else if error.len() == n_post * batch {
                for (x, &e) in l.error.iter_mut().zip(error) {
                    *x = e as f32;
                }
            } else {
                return Err(CortecsError::WrongLength {
                    context: format!("{projection}.error"),
                    expected: n_post * batch,
                    got: error.len(),
                });
            }
            any = true;
        }
        if !any {
            return Err(CortecsError::connection(
                projection,
                "has no PES rule with a host error to take an error",
            ));
        }
        Ok(())
    }

    /// Gives an already built projection local learning rules (a trained or
    /// loaded network that goes on learning). `plasticity` is the learning
    /// factor of every synapse in [0, 1]; `None` keeps the factors a
    /// plasticity mask set, else makes every synapse fully plastic (1). A
    /// projection that already learns or rewires, an empty rule list and
    /// rules that do not fit its populations are errors.
    pub fn add_learning(
        &mut self,
        projection: &str,
        learning: Vec<crate::plasticity::Learning>,
        plasticity: Option<f64>,
    ) -> Result<()> {
        let k = self.projection_index(projection)?;
        let (pre, post) = (self.projections[k].pre, self.projections[k].post);
        if learning.is_empty() {
            return Err(CortecsError::connection(projection, "add_learning: no rule given"));
        }
        if self.projections[k].plastic().is_some() {
            return Err(CortecsError::connection(
                projection,
                "already learns or rewires; its rules are fixed at build",
            ));
        }
        if let Some(f) = plasticity
            && !(f.is_finite() && (0.0..=1.0).contains(&f))
        {
            return Err(CortecsError::param(
                format!("{projection}.plasticity"),
                format!("must be in [0, 1], got {f}"),
            ));
        }
        let mut spec = self.projections[k].spec.clone();
        spec.learning = learning;
        self.check_learning(&spec, pre, post)?;
        let has_mask = self.projections[k].masks.plasticity.is_some();
        let factor = match (plasticity, has_mask) {
            (Some(f), true) => {
                return Err(CortecsError::param(
                    format!("{projection}.plasticity"),
                    format!("{f}: the projection's plasticity mask sets the factors; leave it out"),
                ));
            }
            (Some(f), false) => Some(f),
            (None, true) => None,
            (None, false) => Some(1.0),
        };
        let store = &mut self.projections[k].store;
        if let Some(f) = factor {
            store.plasticity = Column::Uniform(f as f32);
            spec.plasticity = f;
        }
        let plastic = self.make_plastic(&spec, pre, post, &self.projections[k].store)?;
        let proj = &mut self.projections[k];
        proj.spec = spec;
        proj.set_plastic(plastic);
        Ok(())
    }
}
