//! Every scene shipped in `scenes/` run end to end with `cortecs run`, its
//! `summary.json` checked by field name (populations.X.size, spikes,
//! rate_hz, projections.X.synapses), and the scene list checked against
//! the folder so a new scene cannot go untested.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (scene, [(population, size)], [projection], simulated time in ms).
type Expected = (
    &'static str,
    &'static [(&'static str, u64)],
    &'static [&'static str],
    f64,
);

const RUN_SCENES: &[Expected] = &[
    (
        "brunel",
        &[("exc", 10000), ("inh", 2500)],
        &["exc_exc", "exc_inh", "inh_exc", "inh_inh"],
        1000.0,
    ),
    ("closed_loop", &[("eyes", 40), ("wheels", 40)], &["crossed"], 30000.0),
    ("coba", &[("neurons", 4000)], &["recurrent"], 1000.0),
    (
        "stimuli",
        &[("dc", 20), ("noisy", 20), ("src", 50), ("target", 20)],
        &["drive"],
        300.0,
    ),
    ("ctrnn_masks", &[("hidden", 80), ("input", 4)], &["hh", "in"], 1000.0),
    (
        "demo",
        &[("exc", 1600), ("inh", 400)],
        &["ee", "ei", "ie", "ii"],
        1000.0,
    ),
    ("parameters", &[("exc", 20), ("inh", 4)], &["ee", "ei", "ie"], 200.0),
    (
        "reservoir",
        &[("input", 3), ("res", 300)],
        &["in", "local", "rr"],
        200.0,
    ),
    (
        "soak",
        &[("exc", 3200), ("inh", 800)],
        &["ee", "ei", "ie", "ii"],
        1000.0,
    ),
    (
        "strategies",
        &[("exc", 40), ("inh", 10), ("input", 40)],
        &["ee", "ei", "ie", "in"],
        200.0,
    ),
    (
        "stdp",
        &[("exc", 200), ("inh", 50), ("input", 1000)],
        &["exc_exc", "exc_inh", "inh_exc", "input_exc"],
        5000.0,
    ),
];

/// Projections whose strategy fixes the synapse count: (scene, projection, synapses).
const EXACT_SYNAPSES: &[(&str, &str, u64)] = &[
    ("strategies", "in", 40),  // one-to-one, 40 neurons
    ("strategies", "ei", 120), // fixed out-degree 3 from 40 exc
    ("strategies", "ie", 120), // fixed total 120
    ("parameters", "ei", 80),  // all-to-all 20 x 4
    ("parameters", "ie", 80),  // all-to-all 4 x 20
    ("demo", "ei", 40000),     // fixed in-degree 100 onto 400 inh
];

/// Scenes run by `cortecs train` (or that load its checkpoint): covered by
/// `tests/scene_load.rs`.
const TRAIN_SCENES: &[&str] = &["train_pdm", "trained_pdm"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-shipped-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn every_scene_in_the_folder_is_listed() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("scenes"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "ron").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = RUN_SCENES
        .iter()
        .map(|e| e.0.to_string())
        .chain(TRAIN_SCENES.iter().map(|s| s.to_string()))
        .collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn every_run_scene_runs_and_summarizes() {
    for (scene, pops, projs, time_ms) in RUN_SCENES {
        let out = tmp(scene);
        let o = Command::new(env!("CARGO_BIN_EXE_cortecs"))
            .args(["run", &format!("scenes/{scene}.ron"), "--quiet", "--out"])
            .arg(&out)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{scene}: {}", String::from_utf8_lossy(&o.stderr));
        let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(s["status"], "complete", "{scene}");
        assert_eq!(s["time_ms"].as_f64(), Some(*time_ms), "{scene}");
        let got: Vec<&String> = s["populations"].as_object().unwrap().keys().collect();
        assert_eq!(got.len(), pops.len(), "{scene}: {got:?}");
        for (name, size) in pops.iter() {
            let p = &s["populations"][name];
            assert_eq!(p["size"].as_u64(), Some(*size), "{scene}.{name}");
            if let (Some(spikes), Some(rate)) = (p["spikes"].as_u64(), p["rate_hz"].as_f64()) {
                let expect = spikes as f64 / (*size as f64 * time_ms / 1000.0);
                assert!(
                    (rate - expect).abs() <= 1e-9 * expect.max(1.0),
                    "{scene}.{name}: {rate} Hz vs {expect}"
                );
            }
        }
        let got: Vec<&String> = s["projections"].as_object().unwrap().keys().collect();
        assert_eq!(got.len(), projs.len(), "{scene}: {got:?}");
        for name in projs.iter() {
            let p = &s["projections"][name];
            let n = p["synapses"]
                .as_u64()
                .unwrap_or_else(|| panic!("{scene}.{name}: no synapses field"));
            assert!(n > 0, "{scene}.{name}: no synapses");
            assert_eq!(
                p["excitatory"].as_u64().unwrap() + p["inhibitory"].as_u64().unwrap(),
                n,
                "{scene}.{name}"
            );
        }
        for (sc, name, n) in EXACT_SYNAPSES {
            if sc == scene {
                assert_eq!(s["projections"][name]["synapses"].as_u64(), Some(*n), "{scene}.{name}");
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}
