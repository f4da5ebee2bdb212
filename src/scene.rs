//! Scene files: a network, its recordings and a timeline of actions in one
//! RON file, run by `cortecs run scenes/x.ron`.
//!
//! ```ron
//! (
//!     dt: 0.1,                       // ms
//!     seed: 12345,
//!     populations: [
//!         (name: "exc", size: 800, model: Lif(synapse: CondExp), polarity: Excitatory,
//!          structure: Grid2D(nx: 40, ny: 20, dx: 10.0, dy: 10.0, x0: 0.0, y0: 0.0),
//!          params: {"v_init": Normal(mean: -60.0, std: 5.0), "v_thresh": "-50 + 0.001 * x"}),
//!     ],
//!     projections: [
//!         (name: "ee", pre: "exc", post: "exc", strategy: FixedProbability(p: 0.02),
//!          weight: 6.0, delay: Uniform(low: 0.5, high: 2.0)),
//!     ],
//!     drives: [(population: "exc", rate: 2000.0, weight: 2.0)],
//!     record: (spikes: ["exc"], state: [(population: "exc", variable: "v", neurons: [0, 1], every: 10)]),
//!     timeline: [Run(ms: 500.0), Lesion(projection: "ee", pre: 0, post: 3), Run(ms: 500.0)],
//! )
//! ```
//!
//! A parameter value is a number, an expression string, an inline array,
//! a distribution (`Normal(mean: .., std: ..)`, `Uniform(low: .., high: ..)`,
//! ...) or `Npy("file.npy")` (relative to the scene's folder). Every error names
//! the file, line and column: syntax errors where the parser stopped, model
//! errors at the population or projection they concern.

use crate::connect::Strategy;
use crate::ecs::Simulation;
use crate::error::{CortecsError, Result};
use crate::model::ModelKind;
use crate::param::{Distribution, Sequence, Value};
use crate::population::{PoissonDrive, PolaritySpec, PopulationSpec, View};
use crate::projection::Adjuster;
use crate::projection::SignFilter;
use crate::projection::{MaskSpec, ProjectionSpec};
use crate::record::{SpikeRecorder, StateRecorder};
use crate::space::{Space, Structure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A parameter value as written in a scene.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ValueDef {
    /// The same number for all.
    Number(f64),
    /// An expression (see [`Value::Expr`]).
    Expr(String),
    /// One value per neuron or synapse.
    Array(Vec<f64>),
    /// A seeded distribution.
    Random(Distribution),
    /// A `.npy` file.
    File(NpyFile),
}

/// `Npy("path")`: an array in a `.npy` file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub enum NpyFile {
    /// Path relative to the scene's folder.
    Npy(PathBuf),
}

impl ValueDef {
    /// The parameter value it denotes.
    pub fn to_value(&self) -> Value {
        match self {
            ValueDef::Number(x) => Value::Const(*x),
            ValueDef::Expr(s) => Value::Expr(s.clone()),
            ValueDef::Array(a) => Value::Array(a.clone().into()),
            ValueDef::Random(d) => Value::Random(d.clone()),
            ValueDef::File(NpyFile::Npy(p)) => Value::Npy(p.clone()),
        }
    }
}

/// A population in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationDef {
    /// Unique name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Neuron model, e.g. `Lif(synapse: CondExp)`, `Rate(activation: Tanh)`, `PoissonSource`.
    pub model: ModelKind,
    /// Spatial structure (default: none).
    #[serde(default = "no_structure")]
    pub structure: Structure,
    /// Parameter values by name.
    #[serde(default)]
    pub params: BTreeMap<String, ValueDef>,
    /// Polarity (Dale's law).
    #[serde(default)]
    pub polarity: PolaritySpec,
    /// Spike times (ms) of a spike source.
    #[serde(default)]
    pub spike_times: Option<Sequence>,
    /// Trials side by side (rate units).
    #[serde(default = "one")]
    pub batch: usize,
    /// Rate units: pre-activation noise std.
    #[serde(default)]
    pub pre_noise: f64,
    /// Rate units: post-activation noise std.
    #[serde(default)]
    pub post_noise: f64,
}

fn no_structure() -> Structure {
    Structure::None
}
fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn unit_weight() -> ValueDef {
    ValueDef::Number(1.0)
}

/// A projection in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionDef {
    /// Unique name.
    pub name: String,
    /// Pre population.
    pub pre: String,
    /// Post population.
    pub post: String,
    /// Connection strategy, e.g. `FixedProbability(p: 0.02)` or
    /// `DistanceProbability(p: "0.3 * exp(-d / 75)", cutoff: 300.0)`; file
    /// paths are relative to the scene's folder.
    pub strategy: Strategy,
    /// Weight (magnitude when polarity or a ratio decides signs).
    #[serde(default = "unit_weight")]
    pub weight: ValueDef,
    /// Separate inhibitory weight magnitude.
    #[serde(default)]
    pub weight_inh: Option<ValueDef>,
    /// Delay (ms); default one step.
    #[serde(default)]
    pub delay: Option<ValueDef>,
    /// Excitatory ratio for pre neurons without polarity.
    #[serde(default)]
    pub excitatory_ratio: Option<f64>,
    /// Allow i -> i within one population.
    #[serde(default = "yes")]
    pub self_connections: bool,
    /// Allow several synapses per pair.
    #[serde(default)]
    pub multapses: bool,
    /// No mirror entities.
    #[serde(default)]
    pub compact: bool,
    /// Learning-rate factor of every synapse.
    #[serde(default)]
    pub plasticity: f64,
    /// Periodic boundary extents per axis (µm; 0 = open).
    #[serde(default)]
    pub periodic: Option<[f64; 3]>,
    /// Dale's law (default: on when signs come from a rule).
    #[serde(default)]
    pub dale: Option<bool>,
    /// Masks: `(sparsity: "m.npy", ei: "ei.npy", plasticity: ..., growth: ..., balance: true)`,
    /// each a post x pre `.npy` file or inline rows.
    #[serde(default)]
    pub masks: MaskSpec,
}

/// A constant Poisson drive in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveDef {
    /// Target population.
    pub population: String,
    /// Rate per neuron (Hz).
    pub rate: f64,
    /// Weight per event.
    pub weight: f64,
}

/// A state probe in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateProbeDef {
    /// Population.
    pub population: String,
    /// Variable (`v`, `g_e`, `g_i`, `w`, `r`, ...).
    pub variable: String,
    /// Neuron indices.
    pub neurons: Vec<u32>,
    /// Sample every this many steps.
    #[serde(default = "one_u64")]
    pub every: u64,
}

fn one_u64() -> u64 {
    1
}

/// What a scene records.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordDef {
    /// Populations whose spikes are recorded.
    #[serde(default)]
    pub spikes: Vec<String>,
    /// State probes.
    #[serde(default)]
    pub state: Vec<StateProbeDef>,
    /// Projections whose dense weight matrix is written at the end (post x pre, float32).
    #[serde(default)]
    pub weights: Vec<String>,
}

/// One step of a scene's timeline.
#[derive(Clone, Debug, Deserialize)]
pub enum Action {
    /// Simulate this long (ms).
    Run {
        /// Duration (ms).
        ms: f64,
    },
    /// Set a parameter or state variable on some neurons (all when `neurons` is absent).
    Set {
        /// Population.
        population: String,
        /// Parameter or state variable.
        name: String,
        /// The value.
        value: ValueDef,
        /// Neuron indices.
        #[serde(default)]
        neurons: Option<Vec<usize>>,
    },
    /// Remove the synapses from `pre` to `post`.
    Lesion {
        /// Projection.
        projection: String,
        /// Pre index.
        pre: u32,
        /// Post index.
        post: u32,
    },
    /// Apply an adjuster, e.g. `Adjust(projection: "ee", adjuster: Scale(1.5), filter: Inhibitory)`.
    Adjust {
        /// Projection.
        projection: String,
        /// What to do.
        adjuster: Adjuster,
        /// Which synapses: `Excitatory`, `Inhibitory` or `Both` (default).
        #[serde(default)]
        filter: SignFilter,
    },
    /// Write a projection's whole weight matrix from a post x pre `.npy` file.
    SetWeights {
        /// Projection.
        projection: String,
        /// The `.npy` file (relative to the scene's folder).
        file: PathBuf,
    },
    /// Write the network summary (populations, projections, weight statistics, masks) to `summary.txt`.
    Summary,
    /// Save the whole network to a checkpoint file in the output folder.
    Save {
        /// File name (relative to the output folder).
        file: PathBuf,
    },
}

/// A whole scene file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Time step (ms).
    #[serde(default = "default_dt")]
    pub dt: f64,
    /// Global seed.
    #[serde(default)]
    pub seed: u64,
    /// Populations, in update order.
    pub populations: Vec<PopulationDef>,
    /// Projections.
    #[serde(default)]
    pub projections: Vec<ProjectionDef>,
    /// Poisson drives.
    #[serde(default)]
    pub drives: Vec<DriveDef>,
    /// Recordings.
    #[serde(default)]
    pub record: RecordDef,
    /// Actions in order; default: run 1000 ms.
    #[serde(default)]
    pub timeline: Vec<Action>,
}

fn default_dt() -> f64 {
    0.1
}

/// Line and column (1-based) of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        }
        None => (1, 1),
    }
}

/// Where a scene item is, for error messages.
struct Located<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Located<'_> {
    /// The error placed at the item called `name`, or at the unknown name it complains of.
    fn at(&self, name: &str, e: CortecsError) -> CortecsError {
        let needle = match &e {
            CortecsError::UnknownName { name: unknown, .. } if self.text.contains(&format!("\"{unknown}\"")) => {
                unknown.clone()
            }
            _ => name.to_string(),
        };
        let (line, column) = locate(self.text, &format!("\"{needle}\""));
        CortecsError::Scene {
            path: self.path.to_path_buf(),
            line,
            column,
            message: e.to_string(),
        }
    }
}

/// Parses a scene from text; `path` is used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Scene> {
    let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str::<Scene>(text).map_err(|e| CortecsError::Scene {
        path: path.to_path_buf(),
        line: e.span.start.line,
        column: e.span.start.col,
        message: e.code.to_string(),
    })
}

/// Builds the simulation a scene describes (validating everything first).
pub fn build(scene: &Scene, path: &Path, text: &str) -> Result<Simulation> {
    let loc = Located { path, text };
    let mut sim = Simulation::new(scene.dt, scene.seed).map_err(|e| loc.at("dt", e))?;
    sim.network_mut().base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
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
        spec.plasticity = q.plasticity;
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
        sim.add_projection(spec).map_err(|e| loc.at(&q.name, e))?;
    }
    for d in &scene.drives {
        sim.network_mut()
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
        sim.network().population_index(name).map_err(|e| loc.at(name, e))?;
    }
    for probe in &scene.record.state {
        let pop = sim
            .network()
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
    for w in &scene.record.weights {
        let known = scene.projections.iter().any(|q| &q.name == w);
        if !known {
            let e = CortecsError::UnknownName {
                kind: "projection",
                name: w.clone(),
                known: scene.projections.iter().map(|q| q.name.clone()).collect(),
            };
            return Err(loc.at(w, e));
        }
    }
    sim.build().map_err(|e| CortecsError::Scene {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: e.to_string(),
    })?;
    Ok(sim)
}

/// What a scene run did (also written as `summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The scene file.
    pub scene: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Simulated time (ms).
    pub time_ms: f64,
    /// Build wall-clock time (s).
    pub build_s: f64,
    /// Simulation wall-clock time (s).
    pub run_s: f64,
    /// Per population: name, size, model, spikes, mean rate (Hz).
    pub populations: Vec<(String, usize, String, u64, f64)>,
    /// Per projection: name, strategy, live synapses, excitatory, inhibitory, mean weight.
    pub projections: Vec<(String, String, u64, u64, u64, f64)>,
    /// Store bytes per synapse.
    pub store_bytes_per_synapse: f64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "scene {} : {:.1} ms simulated, build {:.3} s, run {:.3} s",
            self.scene.display(),
            self.time_ms,
            self.build_s,
            self.run_s
        )?;
        for (name, size, model, spikes, rate) in &self.populations {
            writeln!(
                f,
                "  population {name:<12} {size:>8} x {model:<20} {spikes:>9} spikes {rate:>8.2} Hz"
            )?;
        }
        for (name, strategy, n, e, i, mean) in &self.projections {
            writeln!(
                f,
                "  projection {name:<12} {strategy:<20} {n:>10} synapses ({e} E, {i} I), mean weight {mean:.4}"
            )?;
        }
        writeln!(f, "  store {:.2} bytes/synapse", self.store_bytes_per_synapse)?;
        write!(f, "  wrote {} files to {}", self.files.len(), self.out.display())
    }
}

/// Runs a scene file: builds it, runs its timeline, writes recordings and
/// `summary.json` into `out` (default `out/<scene name>`).
pub fn run_file(path: &Path, out: Option<&Path>) -> Result<Summary> {
    let text = std::fs::read_to_string(path).map_err(|e| CortecsError::file(path, e))?;
    let scene = parse(path, &text)?;
    let out = match out {
        Some(o) => o.to_path_buf(),
        None => Path::new("out").join(path.file_stem().unwrap_or_default()),
    };
    run_scene(&scene, path, &text, &out)
}

/// Runs a parsed scene (see [`run_file`]).
pub fn run_scene(scene: &Scene, path: &Path, text: &str, out: &Path) -> Result<Summary> {
    let t0 = Instant::now();
    let mut sim = build(scene, path, text)?;
    let build_s = t0.elapsed().as_secs_f64();
    std::fs::create_dir_all(out).map_err(|e| CortecsError::file(out, e))?;
    let mut spike_recs = Vec::new();
    for name in &scene.record.spikes {
        spike_recs.push((sim.network().population_index(name)?, SpikeRecorder::new(out, name)?));
    }
    let mut state_recs = Vec::new();
    for p in &scene.record.state {
        let idx = sim.network().population_index(&p.population)?;
        state_recs.push((
            idx,
            p.variable.clone(),
            StateRecorder::new(out, &p.population, &p.variable, p.neurons.clone(), p.every)?,
        ));
    }
    let default_timeline = [Action::Run { ms: 1000.0 }];
    let timeline: &[Action] = if scene.timeline.is_empty() {
        &default_timeline
    } else {
        &scene.timeline
    };
    let loc = Located { path, text };
    let mut files_saved = Vec::new();
    let t1 = Instant::now();
    for action in timeline {
        match action {
            Action::Run { ms } => {
                if !(ms.is_finite() && *ms >= 0.0) {
                    return Err(loc.at("Run", CortecsError::param("Run.ms", format!("must be >= 0, got {ms}"))));
                }
                let steps = (ms / scene.dt).round() as u64;
                let chunk = state_recs
                    .iter()
                    .map(|(_, _, r)| r.every())
                    .min()
                    .unwrap_or(1000)
                    .min(1000);
                let mut done = 0;
                while done < steps {
                    let n = chunk.min(steps - done);
                    sim.advance(n)?;
                    done += n;
                    let net = sim.network_mut();
                    let t_ms = net.time();
                    for (pop, rec) in &mut spike_recs {
                        if let Some(buf) = &mut net.populations[*pop].spike_record {
                            let mut k = 0;
                            while k < buf.len() {
                                let step = buf[k].0;
                                let mut e = k;
                                while e < buf.len() && buf[e].0 == step {
                                    e += 1;
                                }
                                let idx: Vec<u32> = buf[k..e].iter().map(|x| x.1).collect();
                                rec.push(step as f64 * scene.dt, &idx)?;
                                k = e;
                            }
                            buf.clear();
                        }
                    }
                    for (pop, var, rec) in &mut state_recs {
                        if rec.wants(net.step) {
                            let all = net.populations[*pop].get(var)?;
                            let vals: Vec<f64> = rec.neurons().iter().map(|&i| all[i as usize]).collect();
                            rec.push(t_ms, &vals)?;
                        }
                    }
                }
            }
            Action::Set {
                population,
                name,
                value,
                neurons,
            } => {
                let view = neurons.clone().map_or(View::All, View::Indices);
                sim.network_mut()
                    .set(population, name, &view, value.to_value())
                    .map_err(|e| loc.at(population, e))?;
            }
            Action::Lesion { projection, pre, post } => {
                sim.network_mut()
                    .lesion(projection, *pre, *post)
                    .map_err(|e| loc.at(projection, e))?;
            }
            Action::Adjust {
                projection,
                adjuster,
                filter,
            } => {
                sim.network_mut()
                    .adjust(projection, adjuster, *filter)
                    .map_err(|e| loc.at(projection, e))?;
            }
            Action::SetWeights { projection, file } => {
                let net = sim.network_mut();
                let s = &net.projection(projection).map_err(|e| loc.at(projection, e))?.store;
                let (n_post, n_pre) = (s.n_post as usize, s.n_pre as usize);
                let w = crate::network::read_npy_matrix(&net.base_dir.join(file), n_post, n_pre)
                    .map_err(|e| loc.at(projection, e))?;
                net.set_weights_dense(projection, w.view())
                    .map_err(|e| loc.at(projection, e))?;
            }
            Action::Save { file } => {
                let path = out.join(file);
                sim.save(&path).map_err(|e| loc.at("Save", e))?;
                files_saved.push(path);
            }
            Action::Summary => {
                let text = sim.network().summary().to_string();
                let file = out.join("summary.txt");
                crate::record::write_text_atomic(&file, &text)?;
            }
        }
    }
    sim.sync()?;
    let run_s = t1.elapsed().as_secs_f64();
    let mut files = files_saved;
    for (_, rec) in spike_recs {
        files.extend(rec.finish()?.files);
    }
    for (_, _, rec) in state_recs {
        files.extend(rec.finish()?.files);
    }
    let net = sim.network();
    for w in &scene.record.weights {
        let dense = net.projection(w)?.store.to_dense();
        let file = out.join(format!("{w}_weights.npy"));
        crate::record::write_npy_atomic(&file, &[dense.nrows(), dense.ncols()], dense.as_slice().unwrap_or(&[]))?;
        files.push(file);
    }
    let seconds = net.time() / 1000.0;
    let mem = crate::memory::synapse_memory(net);
    let summary = Summary {
        scene: path.to_path_buf(),
        out: out.to_path_buf(),
        time_ms: net.time(),
        build_s,
        run_s,
        populations: net
            .populations
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.size,
                    p.model.name(),
                    p.spike_count,
                    p.spike_count as f64 / p.size as f64 / seconds.max(1e-12),
                )
            })
            .collect(),
        projections: net
            .projections
            .iter()
            .map(|p| {
                let s = &p.store;
                let e = s.sign.iter().filter(|&&x| x > 0).count() as u64;
                let i = s.sign.iter().filter(|&&x| x < 0).count() as u64;
                let mean = s.weight.iter().map(|&w| f64::from(w)).sum::<f64>() / s.live().max(1) as f64;
                (p.name.clone(), p.strategy.name().to_string(), s.live(), e, i, mean)
            })
            .collect(),
        store_bytes_per_synapse: mem.store_per_synapse(),
        files: files.clone(),
    };
    let json = out.join("summary.json");
    crate::record::write_json_atomic(&json, &summary)?;
    let mut summary = summary;
    summary.files.push(json);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_form_parse() {
        let v: Vec<ValueDef> =
            ron::from_str(r#"[1.5, "exp(-d/50)", [1.0, 2.0], Normal(mean: 0.5, std: 0.1), Npy("w.npy")]"#).unwrap();
        assert_eq!(v[0], ValueDef::Number(1.5));
        assert_eq!(v[1], ValueDef::Expr("exp(-d/50)".into()));
        assert_eq!(v[2], ValueDef::Array(vec![1.0, 2.0]));
        assert_eq!(v[3], ValueDef::Random(Distribution::Normal { mean: 0.5, std: 0.1 }));
        assert_eq!(v[4], ValueDef::File(NpyFile::Npy("w.npy".into())));
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let text = "(\n  populations: [\n    (name: \"a\", size: 10, model: Lif(synapse: CondExp)),,\n  ],\n)";
        let e = parse(Path::new("x.ron"), text).unwrap_err().to_string();
        assert!(e.starts_with("x.ron:3:"), "{e}");
    }

    #[test]
    fn model_error_points_at_the_item() {
        let text = "(\n  populations: [\n    (name: \"a\", size: 10, model: Lif(synapse: CondExp), params: {\"tau_m\": -1.0}),\n  ],\n)";
        let scene = parse(Path::new("x.ron"), text).unwrap();
        let e = build(&scene, Path::new("x.ron"), text).err().unwrap().to_string();
        assert!(e.starts_with("x.ron:3:12: a.tau_m: must be > 0"), "{e}");
    }
}
