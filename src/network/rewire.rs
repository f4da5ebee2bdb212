//! Structural plasticity on a network: the checks of growth and pruning
//! against the populations, the growth and pruning events (due every
//! `every` ms after a step, or asked for by a host or a scene action).

use super::Network;
use crate::error::{CortecsError, Result};
use crate::plasticity::{GrowthProbability, count_small, propose};
use crate::population::Population;
use crate::projection::{ProjectionSpec, new_sign};
use crate::rng::Stream;
use crate::store::Column;

/// `ms` as a whole number of steps of `dt`, or an error naming `at`
/// (structural plasticity's periods are never rounded).
pub(super) fn whole_steps(at: String, ms: f64, dt: f64) -> Result<u64> {
    super::whole_steps(&at, ms, dt, super::Rounding::Exact)
}

impl Network {
    /// Checks the growth and pruning parameters of `spec`.
    pub(crate) fn check_rewiring(&self, spec: &ProjectionSpec) -> Result<()> {
        let name = spec.name.as_str();
        if let Some(g) = &spec.growth {
            g.validate()
                .map_err(|(p, m)| CortecsError::param(format!("{name}.growth.{p}"), m))?;
            whole_steps(format!("{name}.growth.every"), g.every, self.dt)?;
            if g.probability == GrowthProbability::Mask && spec.masks.growth.is_none() {
                return Err(CortecsError::param(
                    format!("{name}.growth.probability"),
                    "is Mask but the projection has no growth mask",
                ));
            }
        }
        if let Some(p) = &spec.pruning {
            p.validate()
                .map_err(|(q, m)| CortecsError::param(format!("{name}.pruning.{q}"), m))?;
            let steps = whole_steps(format!("{name}.pruning.every"), p.every, self.dt)?;
            if steps == 0 {
                return Err(CortecsError::param(
                    format!("{name}.pruning.every"),
                    format!("must be at least one step ({} ms)", self.dt),
                ));
            }
        }
        Ok(())
    }

    fn rewiring_of(&self, projection: &str, what: &str) -> Result<usize> {
        let i = self.projection_index(projection)?;
        let p = &self.projections[i];
        let has = match what {
            "growth" => p.spec.growth.is_some(),
            _ => p.spec.pruning.is_some(),
        };
        if !has || p.plastic.as_ref().is_none_or(|q| q.rewiring.is_none()) {
            return Err(CortecsError::connection(
                projection,
                format!("has no {what} (give the projection a `{what}` to use it)"),
            ));
        }
        Ok(i)
    }

    /// Runs one growth event on `projection` now: every absent synapse the
    /// masks allow grows with its growth probability (seeded by the
    /// projection's name and the event's number). Returns how many grew.
    pub fn grow(&mut self, projection: &str) -> Result<usize> {
        let i = self.rewiring_of(projection, "growth")?;
        Ok(self.grow_at(i))
    }

    fn grow_at(&mut self, i: usize) -> usize {
        let seed = self.seed;
        let proj = &mut self.projections[i];
        let Some(g) = proj.spec.growth else {
            return 0;
        };
        let (pre, post) = (&self.populations[proj.pre], &self.populations[proj.post]);
        let Some(rw) = proj.plastic.as_mut().and_then(|p| p.rewiring.as_mut()) else {
            return 0;
        };
        let event = rw.growth_events;
        rw.growth_events += 1;
        let mask = proj.masks.growth.as_ref();
        // only the mask rule needs the mask's largest entry (a scan of the whole mask)
        let mask_max = match (g.probability, mask) {
            (GrowthProbability::Mask, Some(m)) => m.data.iter().fold(0.0f64, |a, &x| a.max(f64::from(x))),
            _ => 0.0,
        };
        let p_max = g.probability.max(mask_max);
        let mut rng = Stream::keyed(seed, &proj.name, "growth", event);
        let space = proj.spec.space;
        let proposals = propose(&mut rng, pre.size, post.size, p_max, |i, j| {
            g.probability.at(
                || space.distance(position(pre, i), position(post, j)),
                || mask.map_or(0.0, |m| f64::from(m.get(j, i))),
            )
        });
        let delay = match &proj.store().delay {
            Column::Uniform(d) => *d,
            Column::PerSynapse(d) => d.first().copied().unwrap_or(1),
        };
        let w = g.weight as f32;
        let mut items = Vec::with_capacity(proposals.len());
        for (a, b) in proposals {
            // proposals lie within the grid, so the lookup cannot fail
            let absent = proj.live_slots(a, b).is_ok_and(|v| v.is_empty());
            if !absent || !proj.masks.allows(a, b, proj.recurrent) {
                continue;
            }
            let sign = new_sign(&proj.masks, &pre.polarity, a, b, w);
            let w = if proj.store().dale {
                f32::from(sign) * w.abs()
            } else {
                w
            };
            items.push((a, b, w, Some(delay)));
        }
        let made = proj.create_synapses(&items, &pre.polarity, &Ok(delay));
        let slots: Vec<usize> = made.into_iter().filter_map(|r| r.ok()).collect();
        let spiking = proj.plastic.as_ref().is_some_and(|p| !p.in_flight.is_empty());
        let from = self.step;
        let Some(rw) = proj.plastic.as_mut().and_then(|p| p.rewiring.as_mut()) else {
            return slots.len();
        };
        if spiking {
            rw.young.extend(slots.iter().map(|&k| (k, from)));
        }
        slots.len()
    }

    /// Runs one pruning check on `projection` now: counts the learning
    /// synapses below the threshold and removes those found small at
    /// `after / every` consecutive checks. Returns how many were removed.
    pub fn prune(&mut self, projection: &str) -> Result<usize> {
        let i = self.rewiring_of(projection, "pruning")?;
        Ok(self.prune_at(i))
    }

    fn prune_at(&mut self, i: usize) -> usize {
        let proj = &mut self.projections[i];
        let Some(p) = proj.spec.pruning else {
            return 0;
        };
        let Some(rw) = proj.plastic.as_mut().and_then(|q| q.rewiring.as_mut()) else {
            return 0;
        };
        let gone = count_small(&proj.store, &mut rw.small, p.threshold, p.checks());
        for &k in &gone {
            rw.small[k] = 0;
        }
        proj.remove_slots(&gone);
        gone.len()
    }

    /// After a step: the growth events and pruning checks that are due.
    pub(crate) fn rewire_due(&mut self) {
        for i in 0..self.projections.len() {
            let p = &mut self.projections[i];
            let Some(rw) = p.plastic.as_mut().and_then(|q| q.rewiring.as_mut()) else {
                continue;
            };
            let dt = self.dt;
            let due = |since: &mut u64, every: f64| {
                *since += 1;
                let due = every > 0.0 && (*since as f64 * dt) >= every * (1.0 - 1e-9);
                if due {
                    *since = 0;
                }
                due
            };
            let grow = p.spec.growth.is_some_and(|g| due(&mut rw.since_growth, g.every));
            let prune = p.spec.pruning.is_some_and(|q| due(&mut rw.since_pruning, q.every));
            if prune {
                self.prune_at(i);
            }
            if grow {
                self.grow_at(i);
            }
        }
    }
}

/// The position of neuron `i` of `p` (µm; the origin when it has none).
fn position(p: &Population, i: u32) -> [f64; 3] {
    p.positions.get(i as usize).copied().unwrap_or([0.0; 3])
}
