//! Building the simulation a scene describes, with errors placed at file, line and column.

use super::{Located, Scene, ValueDef};
use crate::ecs::Simulation;
use crate::error::{CortecsError, Result};
use crate::network::Network;
use crate::population::{PoissonDrive, PopulationSpec};
use crate::projection::ProjectionSpec;
use crate::space::Space;
use std::path::Path;

/// Builds the simulation a scene describes (validating everything first).
pub fn build(scene: &Scene, path: &Path, text: &str) -> Result<Simulation> {
    let mut sim = prepare(scene, path, text)?;
    let loc = Located { path, text };
    sim.build().map_err(|e| place_projection_error(scene, &loc, e))?;
    Ok(sim)
}

/// The field of projection `name` an error `message` is about (`<name>.weight: ...`).
fn field_of(name: &str, message: &str) -> Option<&'static str> {
    ["weight_inh", "weight", "delay"]
        .into_iter()
        .find(|f| message.starts_with(&format!("{name}.{f}:")))
}

/// A projection's error placed at the value it is about, else at the
/// projection it names, else at `projections`.
fn place_projection_error(scene: &Scene, loc: &Located, e: CortecsError) -> CortecsError {
    if matches!(e, CortecsError::UnknownName { .. }) {
        // placed at the unknown name where the scene spells it
        let first = scene.projections.first().map_or("", |q| q.name.as_str());
        return loc.at(first, e);
    }
    let message = e.to_string();
    for q in &scene.projections {
        if let Some(f) = field_of(&q.name, &message) {
            return loc.at_path(&["projections", &q.name, f], e);
        }
        let named = [
            format!("{}:", q.name),
            format!("{}.", q.name),
            format!("projection '{}'", q.name),
        ];
        if named.iter().any(|p| message.starts_with(p)) {
            return loc.at(&q.name, e);
        }
    }
    loc.at_path(&["projections"], e)
}

/// The simulation a scene describes with its populations made and every
/// value checked, but no projection built (no synapses; see
/// [`crate::network::estimate_pending`] for their memory).
pub fn prepare(scene: &Scene, path: &Path, text: &str) -> Result<Simulation> {
    let loc = Located { path, text };
    let mut sim = match &scene.loaded {
        Some(net) => Simulation::from_network(Network::clone(net)),
        None => Simulation::new(scene.dt, scene.seed).map_err(|e| loc.at_path(&["dt"], e))?,
    };
    let net = sim.network_mut()?;
    net.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    net.rounding = scene.rounding;
    net.health.on_non_finite = scene.on_non_finite;
    net.health.check_every = scene.check_every;
    // a loaded network's populations record what this scene records, from now
    for p in &mut sim.network_mut()?.populations {
        p.spike_record = scene.record.spikes.contains(&p.name).then(Vec::new);
    }
    for p in &scene.populations {
        let polarity = p.polarity.clone();
        let mut spec = PopulationSpec::new(&p.name, p.size, p.model.clone())
            .structure(p.structure.clone())
            .polarity(polarity)
            .batch(p.batch)
            .record_spikes(scene.record.spikes.contains(&p.name));
        spec.spike_times = p.spike_times.clone();
        spec.pre_noise = p.pre_noise;
        spec.post_noise = p.post_noise;
        spec.bias = p.bias;
        for (k, v) in &p.params {
            spec = spec.param(k, v.to_value());
        }
        sim.add_population(spec).map_err(|e| loc.at(&p.name, e))?;
    }
    for q in &scene.projections {
        let mut spec = ProjectionSpec::new(&q.name, &q.pre, &q.post, q.strategy.clone())
            .weight(q.weight.to_value())
            .self_connections(q.self_connections)
            .multapses(q.multapses)
            .compact(q.compact);
        spec.weight_inh = q.weight_inh.as_ref().map(ValueDef::to_value);
        spec.delay = q.delay.as_ref().map(ValueDef::to_value);
        spec.excitatory_ratio = q.excitatory_ratio;
        let learns = !q.learning.is_empty() || q.pruning.is_some();
        spec.plasticity = q.plasticity.unwrap_or(if learns { 1.0 } else { 0.0 });
        spec.learning = q.learning.clone();
        spec.growth = q.growth;
        spec.pruning = q.pruning;
        spec.dale = q.dale;
        spec.masks = q.masks.clone();
        if let Some(ext) = q.periodic {
            let space = Space::periodic(ext);
            space.validate().map_err(|source| {
                loc.at(
                    &q.name,
                    CortecsError::Spatial {
                        context: q.name.clone(),
                        source,
                    },
                )
            })?;
            spec.space = space;
        }
        sim.add_projection(spec)
            .map_err(|e| place_projection_error(scene, &loc, e))?;
    }
    for d in &scene.drives {
        sim.network_mut()?
            .add_drive(
                &d.population,
                PoissonDrive {
                    rate: d.rate,
                    weight: d.weight,
                },
            )
            .map_err(|e| loc.at(&d.population, e))?;
    }
    for name in &scene.record.spikes {
        sim.network()?.population_index(name).map_err(|e| loc.at(name, e))?;
    }
    for probe in &scene.record.state {
        let pop = sim
            .network()?
            .population(&probe.population)
            .map_err(|e| loc.at(&probe.population, e))?;
        pop.get(&probe.variable).map_err(|e| loc.at(&probe.variable, e))?;
        if let Some(&bad) = probe.neurons.iter().find(|&&i| i as usize >= pop.size) {
            let e = CortecsError::InvalidRequest(format!("neuron {bad} is out of range for {} neurons", pop.size));
            return Err(loc.at(&probe.population, e));
        }
        if probe.every == 0 {
            return Err(loc.at(
                &probe.population,
                CortecsError::param("record.state.every", "must be >= 1 step"),
            ));
        }
    }
    let all = scene.with_loaded();
    for w in &scene.record.weights {
        let known = all.projections.iter().any(|q| &q.name == w);
        if !known {
            let e = CortecsError::UnknownName {
                kind: "projection",
                name: w.clone(),
                known: all.projections.iter().map(|q| q.name.clone()).collect(),
            };
            return Err(loc.at(w, e));
        }
    }
    Ok(sim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::parse;

    #[test]
    fn model_error_points_at_the_item() {
        let text = "(\n  populations: [\n    (name: \"a\", size: 10, model: Lif(synapse: CondExp), params: {\"tau_m\": -1.0}),\n  ],\n)";
        let scene = parse(Path::new("x.ron"), text).unwrap();
        let e = build(&scene, Path::new("x.ron"), text).err().unwrap().to_string();
        assert!(e.starts_with("x.ron:3:12: a.tau_m: must be > 0"), "{e}");
    }
}
