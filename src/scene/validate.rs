//! Whole-scene validation before anything is built or written: every name
//! an item or a timeline action refers to, index ranges, durations and the
//! files it reads. Errors are placed at the offending value's line and
//! column, with the nearest valid name suggested.

use super::{Action, Located, NpyFile, Scene, ValueDef};
use crate::error::{CortecsError, Result};
use crate::io::bytes_text;
use crate::model::ModelKind;
use std::path::Path;

/// Checks what a scene refers to without building it: names of
/// populations, projections, parameters and state variables (in items and
/// every timeline action), neuron indices, durations, intervals and `.npy`
/// files (relative to the scene's folder). [`super::build`] checks values
/// (ranges, lengths, expressions) as it builds.
pub fn validate(scene: &Scene, path: &Path, text: &str) -> Result<()> {
    let scene = &*scene.with_loaded();
    let loc = Located { path, text };
    let dir = path.parent().unwrap_or(Path::new(""));
    if !(scene.dt.is_finite() && scene.dt > 0.0) {
        return Err(loc.at_path(
            &["dt"],
            CortecsError::param("dt", format!("must be > 0 ms, got {}", scene.dt)),
        ));
    }
    let pops: Vec<String> = scene.populations.iter().map(|p| p.name.clone()).collect();
    let projs: Vec<String> = scene.projections.iter().map(|q| q.name.clone()).collect();
    let unknown = |kind: &'static str, name: &str, known: &[String]| CortecsError::UnknownName {
        kind,
        name: name.to_string(),
        known: known.to_vec(),
    };
    let size = |name: &str| scene.populations.iter().find(|p| p.name == name).map(|p| p.size);
    for (k, p) in scene.populations.iter().enumerate() {
        if pops[..k].contains(&p.name) {
            let e = CortecsError::DuplicateName {
                kind: "population",
                name: p.name.clone(),
            };
            return Err(loc.at_path(&["populations", &k.to_string(), "name"], e));
        }
        p.model
            .check_supported(&p.name)
            .map_err(|e| loc.at_path(&["populations", &p.name, "model"], e))?;
        for (name, value) in &p.params {
            let at = ["populations", &p.name, "params", name];
            p.model
                .check_read(&p.name, name)
                .map_err(|e| loc.at_path(&at[..4], e))?;
            npy_exists(dir, value).map_err(|e| loc.at_path(&at, e))?;
        }
    }
    for (k, q) in scene.projections.iter().enumerate() {
        if projs[..k].contains(&q.name) {
            let e = CortecsError::DuplicateName {
                kind: "projection",
                name: q.name.clone(),
            };
            return Err(loc.at_path(&["projections", &k.to_string(), "name"], e));
        }
        for (field, name) in [("pre", &q.pre), ("post", &q.post)] {
            if size(name).is_none() {
                return Err(loc.at_path(&["projections", &q.name, field], unknown("population", name, &pops)));
            }
        }
        for (field, value) in [
            ("weight", Some(&q.weight)),
            ("weight_inh", q.weight_inh.as_ref()),
            ("delay", q.delay.as_ref()),
        ] {
            if let Some(v) = value {
                npy_exists(dir, v).map_err(|e| loc.at_path(&["projections", &q.name, field], e))?;
            }
        }
        if let Some(super::ValueDef::Number(d)) = &q.delay {
            let at = format!("{}.delay", q.name);
            crate::network::whole_steps(&at, *d, scene.dt, scene.rounding)
                .map_err(|e| loc.at_path(&["projections", &q.name, "delay"], e))?;
        }
    }
    for (k, d) in scene.drives.iter().enumerate() {
        if size(&d.population).is_none() {
            let e = unknown("population", &d.population, &pops);
            return Err(loc.at_path(&["drives", &k.to_string(), "population"], e));
        }
    }
    for (k, name) in scene.record.spikes.iter().enumerate() {
        if size(name).is_none() {
            return Err(loc.at_path(
                &["record", "spikes", &k.to_string()],
                unknown("population", name, &pops),
            ));
        }
    }
    for (k, probe) in scene.record.state.iter().enumerate() {
        let index = k.to_string();
        let place = |f: &str, e: CortecsError| loc.at_path(&["record", "state", &index, f], e);
        let Some(pop) = scene.populations.iter().find(|p| p.name == probe.population) else {
            return Err(place("population", unknown("population", &probe.population, &pops)));
        };
        let vars = variables(&pop.model);
        if !vars.contains(&probe.variable) {
            return Err(place("variable", unknown("state variable", &probe.variable, &vars)));
        }
        if let Some(&bad) = probe.neurons.iter().find(|&&i| i as usize >= pop.size) {
            let e = CortecsError::InvalidRequest(format!("neuron {bad} is out of range for {} neurons", pop.size));
            return Err(place("neurons", e));
        }
        if probe.every == 0 {
            return Err(place(
                "every",
                CortecsError::param("record.state.every", "must be >= 1 step"),
            ));
        }
    }
    if let Some(f) = scene.record.flush_s
        && !(f.is_finite() && f > 0.0)
    {
        let e = CortecsError::param("record.flush_s", format!("must be > 0 s, got {f}"));
        return Err(loc.at_path(&["record", "flush_s"], e));
    }
    for (k, name) in scene.record.weights.iter().enumerate() {
        if !projs.contains(name) {
            return Err(loc.at_path(
                &["record", "weights", &k.to_string()],
                unknown("projection", name, &projs),
            ));
        }
    }
    for (k, action) in scene.timeline.iter().enumerate() {
        let index = k.to_string();
        let place = |field: &str, e: CortecsError| loc.at_path(&["timeline", &index, field], e);
        let projection = |name: &str| -> Result<&super::ProjectionDef> {
            scene
                .projections
                .iter()
                .find(|q| q.name == name)
                .ok_or_else(|| place("projection", unknown("projection", name, &projs)))
        };
        match action {
            Action::Run { ms } => {
                crate::network::whole_steps("Run.ms", *ms, scene.dt, scene.rounding).map_err(|e| place("ms", e))?;
            }
            Action::Set {
                population,
                name,
                value,
                neurons,
            } => {
                let Some(pop) = scene.populations.iter().find(|p| &p.name == population) else {
                    return Err(place("population", unknown("population", population, &pops)));
                };
                let vars = variables(&pop.model);
                if !vars.contains(name) {
                    return Err(place("name", unknown("parameter or state variable", name, &vars)));
                }
                if let Some(&bad) = neurons.iter().flatten().find(|&&i| i >= pop.size) {
                    let e =
                        CortecsError::InvalidRequest(format!("neuron {bad} is out of range for {} neurons", pop.size));
                    return Err(place("neurons", e));
                }
                npy_exists(dir, value).map_err(|e| place("value", e))?;
            }
            Action::Lesion {
                projection: name,
                pre,
                post,
            } => {
                let q = projection(name)?;
                for (field, i, of) in [("pre", *pre, &q.pre), ("post", *post, &q.post)] {
                    let n = size(of).unwrap_or(0);
                    if i as usize >= n {
                        let e = CortecsError::InvalidRequest(format!(
                            "{field} neuron {i} is out of range for {n} neurons of '{of}'"
                        ));
                        return Err(place(field, e));
                    }
                }
            }
            Action::SetWeights { projection: name, file } => {
                projection(name)?;
                let full = dir.join(file);
                if !full.is_file() {
                    return Err(place("file", missing(&full)));
                }
            }
            Action::Adjust { projection: name, .. }
            | Action::Modulate { projection: name, .. }
            | Action::SetError { projection: name, .. }
            | Action::Grow { projection: name }
            | Action::Prune { projection: name }
            | Action::RecordWeights { projection: name }
            | Action::Statistics { projection: name, .. } => {
                projection(name)?;
            }
            Action::Learn { projection: name, .. } => {
                projection(name)?;
            }
            Action::Input { population, file, .. } => {
                if size(population).is_none() {
                    return Err(place("population", unknown("population", population, &pops)));
                }
                let full = dir.join(file);
                if !full.is_file() {
                    return Err(place("file", missing(&full)));
                }
            }
            Action::ResetRates => {}
            Action::Save { file } => {
                if file.as_os_str().is_empty() {
                    return Err(place(
                        "file",
                        CortecsError::InvalidRequest("Save needs a file name".into()),
                    ));
                }
            }
            Action::Summary => {}
            Action::SetNoise { population, mean, std } => {
                // the scene's noisy currents and a loaded checkpoint's
                let mut with: Vec<String> = scene.noise_currents.iter().map(|n| n.population.clone()).collect();
                if let Some(net) = &scene.loaded {
                    with.extend(net.noise.iter().map(|n| net.populations[n.population].name.clone()));
                }
                if !with.contains(population) {
                    return Err(place(
                        "population",
                        unknown("population with a noisy current", population, &with),
                    ));
                }
                for (field, v, low) in [("mean", *mean, f64::NEG_INFINITY), ("std", *std, 0.0)] {
                    if !(v.is_finite() && v >= low) {
                        let e = CortecsError::param(
                            format!("SetNoise.{field}"),
                            format!(
                                "must be finite{} (pA), got {v}",
                                if low == 0.0 { " and >= 0" } else { "" }
                            ),
                        );
                        return Err(place(field, e));
                    }
                }
            }
            Action::MoveLight { x, y } => {
                let Some(super::EnvironmentDef::Vehicle { body, .. }) = &scene.environment else {
                    return Err(loc.at_path(
                        &["timeline", &index],
                        CortecsError::InvalidRequest(
                            "MoveLight needs an `environment: Vehicle(..)` in the scene".into(),
                        ),
                    ));
                };
                body.check_point("light", [*x, *y])
                    .map_err(|e| loc.at_path(&["timeline", &index], CortecsError::param("MoveLight", e)))?;
            }
        }
    }
    check_environment(scene, &loc)?;
    check_noise(scene, &loc)?;
    check_outputs(scene, &loc)?;
    check_memory(scene, &loc)
}

/// Noisy currents: on spiking populations, one each, finite values, whole
/// intervals; their populations' `current` is theirs alone (no `Set` of it,
/// no sensors on it).
fn check_noise(scene: &Scene, loc: &Located) -> Result<()> {
    let pops: Vec<String> = scene.populations.iter().map(|p| p.name.clone()).collect();
    for (k, n) in scene.noise_currents.iter().enumerate() {
        let index = k.to_string();
        let place = |field: &str, e: CortecsError| loc.at_path(&["noise_currents", &index, field], e);
        let Some(p) = scene.populations.iter().find(|p| p.name == n.population) else {
            let e = CortecsError::UnknownName {
                kind: "population",
                name: n.population.clone(),
                known: pops,
            };
            return Err(place("population", e));
        };
        if p.model.synapse().is_none() {
            let e = CortecsError::InvalidRequest(format!(
                "a noisy current needs a spiking population; '{}' is {}",
                p.name,
                p.model.name()
            ));
            return Err(place("population", e));
        }
        if scene.noise_currents[..k].iter().any(|m| m.population == n.population) {
            let e = CortecsError::InvalidRequest(format!(
                "population '{}' has a noisy current already (give it one, with the summed mean and sqrt of the summed variances)",
                n.population
            ));
            return Err(place("population", e));
        }
        if !n.mean.is_finite() {
            return Err(place(
                "mean",
                CortecsError::param("noise_currents.mean", format!("must be finite (pA), got {}", n.mean)),
            ));
        }
        if !(n.std.is_finite() && n.std >= 0.0) {
            let e = CortecsError::param(
                "noise_currents.std",
                format!("must be finite and >= 0 (pA), got {}", n.std),
            );
            return Err(place("std", e));
        }
        if !(n.dt_ms.is_finite() && n.dt_ms > 0.0) {
            let e = CortecsError::param("noise_currents.dt_ms", format!("must be > 0 ms, got {}", n.dt_ms));
            return Err(place("dt_ms", e));
        }
        crate::network::whole_steps("noise_currents.dt_ms", n.dt_ms, scene.dt, scene.rounding)
            .and_then(|s| {
                if s == 0 {
                    Err(CortecsError::param("noise_currents.dt_ms", "rounds to 0 steps"))
                } else {
                    Ok(s)
                }
            })
            .map_err(|e| place("dt_ms", e))?;
        if let Some(super::EnvironmentDef::Vehicle { sensors, .. }) = &scene.environment
            && sensors == &n.population
        {
            let e = CortecsError::InvalidRequest(format!(
                "population '{sensors}' takes its current from the environment's sensors: it cannot also have a noisy current"
            ));
            return Err(place("population", e));
        }
        for (t, action) in scene.timeline.iter().enumerate() {
            if let Action::Set { population, name, .. } = action
                && population == &n.population
                && name == "current"
            {
                let e = CortecsError::InvalidRequest(format!(
                    "population '{population}' takes its current from its noisy current: use SetNoise to change it"
                ));
                return Err(loc.at_path(&["timeline", &t.to_string(), "name"], e));
            }
        }
    }
    Ok(())
}

/// The closed loop's populations (an even number of spiking or rate
/// neurons each), frame and body.
fn check_environment(scene: &Scene, loc: &Located) -> Result<()> {
    let Some(super::EnvironmentDef::Vehicle {
        sensors,
        motors,
        frame_ms,
        body,
    }) = &scene.environment
    else {
        return Ok(());
    };
    let pops: Vec<String> = scene.populations.iter().map(|p| p.name.clone()).collect();
    for (field, name) in [("sensors", sensors), ("motors", motors)] {
        let place = |e: CortecsError| loc.at_path(&["environment", field], e);
        let Some(p) = scene.populations.iter().find(|p| &p.name == name) else {
            return Err(place(CortecsError::UnknownName {
                kind: "population",
                name: name.clone(),
                known: pops,
            }));
        };
        if p.size < 2 || p.size % 2 != 0 || !(p.model.is_rate() || p.model.synapse().is_some()) {
            return Err(place(CortecsError::InvalidRequest(format!(
                "{field} population '{name}' must hold an even number (>= 2) of spiking or rate neurons \
                 (left half, right half); it has {} of model {}",
                p.size,
                p.model.name()
            ))));
        }
    }
    if !(frame_ms.is_finite() && *frame_ms > 0.0) {
        let e = CortecsError::param("environment.frame_ms", format!("must be > 0 ms, got {frame_ms}"));
        return Err(loc.at_path(&["environment", "frame_ms"], e));
    }
    crate::network::whole_steps("environment.frame_ms", *frame_ms, scene.dt, scene.rounding)
        .map_err(|e| loc.at_path(&["environment", "frame_ms"], e))?;
    body.check().map_err(|(field, e)| {
        loc.at_path(
            &["environment", "body", field],
            CortecsError::param("environment.body", e),
        )
    })
}

/// What the populations need, estimated before anything is allocated,
/// against the memory the machine has (the synapses are estimated when the
/// projections are built, by the network; dense weight recordings stream
/// block by block and are checked against the disk as they are written).
fn check_memory(scene: &Scene, loc: &Located) -> Result<()> {
    let Some(available) = crate::io::available_bytes() else {
        return Ok(());
    };
    // (bytes, what, scene path of the item)
    let mut parts: Vec<(u128, String, Vec<String>)> = Vec::new();
    for p in &scene.populations {
        let ring = scene
            .projections
            .iter()
            .filter(|q| q.post == p.name)
            .filter_map(|q| match &q.delay {
                Some(ValueDef::Number(d)) if d.is_finite() && *d >= 0.0 => Some((d / scene.dt).round() as u64 + 1),
                _ => None,
            })
            .max()
            .unwrap_or(1);
        let bytes = crate::network::population_bytes(&p.model, p.size, p.batch, ring);
        let what = format!(
            "population '{}' ({} neurons x {} trials, {})",
            p.name,
            p.size,
            p.batch.max(1),
            bytes_text(bytes)
        );
        parts.push((bytes, what, vec!["populations".into(), p.name.clone(), "size".into()]));
    }
    let total: u128 = parts.iter().map(|p| p.0).sum();
    if total <= u128::from(available) {
        return Ok(());
    }
    let Some((_, what, path)) = parts.iter().max_by_key(|p| p.0) else {
        return Ok(());
    };
    let e = CortecsError::InvalidRequest(format!(
        "the run needs at least {}, more than the {} of memory available; the largest part: {what}",
        bytes_text(total),
        bytes_text(u128::from(available))
    ));
    Err(loc.at_path(&path.iter().map(String::as_str).collect::<Vec<_>>(), e))
}

/// An output file: its name, the scene path of the value that names it, and
/// the (kind, name) parts of the file name to check.
type Output<'a> = (String, Vec<String>, Vec<(&'a str, &'a str)>);

/// Every file a run of the scene writes into its output folder, with where
/// in the scene it comes from: names usable as file names, each written once.
fn check_outputs(scene: &Scene, loc: &Located) -> Result<()> {
    let mut outputs: Vec<Output> = Vec::new();
    let at = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (k, name) in scene.record.spikes.iter().enumerate() {
        for end in ["t", "i"] {
            let path = at(&["record", "spikes", &k.to_string()]);
            outputs.push((format!("{name}_spikes_{end}.npy"), path, vec![("population", name)]));
        }
    }
    for (k, probe) in scene.record.state.iter().enumerate() {
        let (pop, var) = (&probe.population, &probe.variable);
        for end in ["", "_t"] {
            let path = at(&["record", "state", &k.to_string()]);
            outputs.push((
                format!("{pop}_{var}{end}.npy"),
                path,
                vec![("population", pop), ("variable", var)],
            ));
        }
    }
    for (k, name) in scene.record.weights.iter().enumerate() {
        let path = at(&["record", "weights", &k.to_string()]);
        outputs.push((format!("{name}_weights.npy"), path, vec![("projection", name)]));
    }
    for (k, action) in scene.timeline.iter().enumerate() {
        let index = k.to_string();
        match action {
            Action::Save { file } => {
                let name = file.to_string_lossy().into_owned();
                let path = at(&["timeline", &index, "file"]);
                if file.is_absolute() || file.components().count() != 1 || name.contains(['/', '\\']) {
                    let e = CortecsError::InvalidRequest(format!(
                        "Save file '{name}' must be a plain file name: it is written inside the output folder"
                    ));
                    return Err(loc.at_path(&path.iter().map(String::as_str).collect::<Vec<_>>(), e));
                }
                outputs.push((name.clone(), path, vec![("Save file", file.to_str().unwrap_or(""))]));
            }
            Action::RecordWeights { projection } | Action::Statistics { projection, .. } => {
                let path = at(&["timeline", &index, "projection"]);
                // the file name carries the time or step: checked here for its name part only
                outputs.push((String::new(), path, vec![("projection", projection)]));
            }
            _ => {}
        }
    }
    let mut seen: Vec<(&str, &[String])> = vec![("summary.json", &[]), ("summary.txt", &[])];
    if scene.environment.is_some() {
        seen.push(("environment.npy", &[]));
    }
    for (file, path, parts) in &outputs {
        let place = |e: CortecsError| loc.at_path(&path.iter().map(String::as_str).collect::<Vec<_>>(), e);
        for (what, name) in parts {
            if !crate::record::usable_in_file_name(name) {
                return Err(place(CortecsError::InvalidRequest(format!(
                    "{what} name '{name}' cannot be used in an output file name (no '/', '\\', '..' or empty names)"
                ))));
            }
        }
        if file.is_empty() {
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(f, _)| f == file) {
            let by = if first.is_empty() {
                "the run itself".to_string()
            } else {
                first.join(".")
            };
            return Err(place(CortecsError::InvalidRequest(format!(
                "output file '{file}' would be written twice (also by {by}): the second would overwrite the first"
            ))));
        }
        seen.push((file, path));
    }
    Ok(())
}

/// Names a timeline `Set` or a state probe may use for a population of this model.
fn variables(model: &ModelKind) -> Vec<String> {
    let mut names: Vec<String> = model.params().iter().map(|p| p.name.to_string()).collect();
    match model {
        ModelKind::Rate { .. } => names.extend(["v", "r"].map(String::from)),
        ModelKind::Lif { .. } | ModelKind::AdEx { .. } | ModelKind::Izhikevich { .. } => {
            names.extend(["v", "g_e", "g_i", "w", "current"].map(String::from))
        }
        ModelKind::PoissonSource | ModelKind::SpikeSource => {}
    }
    names
}

/// An error when a value is `Npy(file)` and the file (relative to `dir`) does not exist.
fn npy_exists(dir: &Path, value: &ValueDef) -> Result<()> {
    if let ValueDef::File(NpyFile::Npy(p)) = value {
        let full = dir.join(p);
        if !full.is_file() {
            return Err(missing(&full));
        }
    }
    Ok(())
}

/// The error for a file that does not exist.
fn missing(full: &Path) -> CortecsError {
    CortecsError::File {
        path: full.to_path_buf(),
        message: "no such file (paths are relative to the scene's folder)".into(),
    }
}
