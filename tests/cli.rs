//! The `cortecs` binary end to end: exit codes, located error messages for
//! malformed scenes (table-driven), `check` writing nothing, `run` with
//! `--out`/`--force`/`--set`/`--seed`/`--quiet`, `summary.json` by field
//! name, and `inspect` (alias `summary`).

use ndarray::Array1;
use ndarray_npy::read_npy;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const S: &str = "strategy: FixedProbability(p: 0.5)";

/// A small two-population scene: extra population fields, the projection's fields, extra top-level lines.
fn scene(pops: &str, projs: &str, rest: &str) -> String {
    format!(
        "(\n populations: [\n  (name: \"exc\", size: 10, model: Lif(synapse: CondExp){pops}),\n  (name: \"inh\", size: 5, model: Lif(synapse: CondExp)),\n ],\n projections: [\n  (name: \"ei\", pre: \"exc\", post: \"inh\", {projs}),\n ],\n{rest}\n)"
    )
}

fn action(a: &str) -> String {
    scene("", S, &format!(" timeline: [Run(ms: 1.0), {a}],"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cortecs(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn malformed_scenes_are_user_errors_located_at_the_offending_token() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "syntax_double_comma",
            scene("", S, " timeline: [Run(ms: 1.0),,],"),
            "9:26",
            "Expected identifier",
        ),
        (
            "syntax_unclosed",
            scene(", params: {\"tau_m\": 10.0", S, ""),
            "3:79",
            "Expected comma",
        ),
        (
            "unknown_top_field",
            scene("", S, " colour: 3,"),
            "9:2",
            "Unexpected field named `colour` in `Scene`, expected one of `dt`, `seed`, `popul",
        ),
        (
            "unknown_pop_field",
            scene(", colour: 3", S, ""),
            "3:57",
            "Unexpected field named `colour` in `PopulationDef`, expected one of `name`, `siz",
        ),
        (
            "unknown_model",
            scene("", S, "").replace(
                "Lif(synapse: CondExp)),\n  (name: \"inh\"",
                "Lfi(synapse: CondExp)),\n  (name: \"inh\"",
            ),
            "3:34",
            "Unexpected variant named `Lfi` in enum `ModelKind`, expected one of `Rate`, `Lif",
        ),
        (
            "unknown_synapse",
            scene("", S, "").replace("CondExp)),\n  (name: \"inh\"", "CondExq)),\n  (name: \"inh\""),
            "3:47",
            "Unexpected variant named `CondExq` in enum `SynapseKind`, expected one of `Delta",
        ),
        (
            "unknown_model_field",
            scene("", S, "").replace(
                "Lif(synapse: CondExp)),\n  (name: \"inh\"",
                "Lif(synapse: CondExp, tau: 1.0)),\n  (name: \"inh\"",
            ),
            "3:56",
            "Unexpected field named `tau` in `Lif`, expected `synapse` instead",
        ),
        (
            "unknown_strategy",
            scene("", "strategy: FixedProbabilty(p: 0.5)", ""),
            "7:51",
            "Unexpected variant named `FixedProbabilty` in enum `Strategy`, expected one of `",
        ),
        (
            "unknown_strategy_field",
            scene("", "strategy: FixedProbability(p: 0.5, q: 1.0)", ""),
            "7:76",
            "Unexpected field named `q` in `FixedProbability`, expected either `p` or `equali",
        ),
        (
            "unknown_proj_field",
            scene("", "strategy: FixedProbability(p: 0.5), wieght: 1.0", ""),
            "7:77",
            "Unexpected field named `wieght` in `ProjectionDef`, expected one of `name`, `pre",
        ),
        (
            "unknown_distribution",
            scene(
                "",
                "strategy: FixedProbability(p: 0.5), weight: Normall(mean: 1.0, std: 0.1)",
                "",
            ),
            "7:85",
            "not a number, expression string, array, distribution or Npy(\"file\"): Unexpected ",
        ),
        (
            "unknown_distribution_field",
            scene(
                "",
                "strategy: FixedProbability(p: 0.5), weight: Normal(mean: 1.0, sd: 0.1)",
                "",
            ),
            "7:103",
            "not a number, expression string, array, distribution or Npy(\"file\"): Unexpected ",
        ),
        (
            "unknown_structure",
            scene(", structure: Grid3(nx: 2)", S, ""),
            "3:68",
            "Unexpected variant named `Grid3` in enum `Structure`, expected one of `None`, `L",
        ),
        (
            "unknown_structure_field",
            scene(
                ", structure: Grid2D(nx: 5, ny: 2, dx: 1.0, dy: 1.0, x0: 0.0, y0: 0.0, z0: 1.0)",
                S,
                "",
            ),
            "3:125",
            "Unexpected field named `z0` in `Grid2D`, expected one of `nx`, `ny`, `dx`, `dy`,",
        ),
        (
            "unknown_param",
            scene(", params: {\"tau_mm\": 10.0}", S, ""),
            "3:76",
            "unknown parameter 'tau_mm' (did you mean 'tau_m'?) (known: tau_m, cm, v_rest, v_",
        ),
        (
            "unknown_field_first_in_projection",
            scene("", "pre2: 1, strategy: FixedProbability(p: 0.5)", "").replace("pre: \"exc\"", "pre: \"exx\""),
            "7:41",
            "Unexpected field named `pre2` in `ProjectionDef`, expected one of `name`, `pre`,",
        ),
        (
            "unknown_post",
            scene("", S, "").replace("post: \"inh\"", "post: \"inhh\""),
            "7:34",
            "unknown population 'inhh' (did you mean 'inh'?) (known: exc, inh)",
        ),
        (
            "duplicate_population",
            scene("", S, "").replace("(name: \"inh\"", "(name: \"exc\""),
            "4:10",
            "duplicate population name 'exc'",
        ),
        (
            "wrong_type_size",
            scene("", S, "").replace("size: 10", "size: \"ten\""),
            "3:22",
            "Expected integer",
        ),
        (
            "negative_size",
            scene("", S, "").replace("size: 10", "size: -3"),
            "3:24",
            "Integer is out of bounds",
        ),
        (
            "bad_param_value",
            scene(", params: {\"tau_m\": -1.0}", S, ""),
            "3:10",
            "exc.tau_m: must be > 0 (ms), got -1 for neuron 0",
        ),
        (
            "bad_probability",
            scene("", "strategy: FixedProbability(p: 1.5)", ""),
            "7:10",
            "projection 'ei': fixed_probability: p = 1.5 is not a probability in [0, 1]",
        ),
        (
            "wrong_length_array",
            scene(", params: {\"v_init\": [1.0, 2.0]}", S, ""),
            "3:10",
            "exc.v_init: array has length 2, expected 10",
        ),
        (
            "bad_expression",
            scene(", params: {\"v_init\": \"-65 + q\"}", S, ""),
            "3:10",
            "exc.v_init: in expression \"-65 + q\": unknown variable 'q' at column 7 (known: i,",
        ),
        (
            "missing_npy_param",
            scene(", params: {\"v_init\": Npy(\"nope.npy\")}", S, ""),
            "3:76",
            "nope.npy: no such file (paths are relative to the scene's folder)",
        ),
        (
            "missing_field",
            scene("", S, "").replace(", size: 10", ""),
            "3:45",
            "Unexpected missing field named `size` in `PopulationDef`",
        ),
        (
            "drive_unknown_population",
            scene("", S, " drives: [(population: \"exx\", rate: 10.0, weight: 1.0)],"),
            "9:24",
            "unknown population 'exx' (did you mean 'exc'?) (known: exc, inh)",
        ),
        (
            "drive_unknown_field",
            scene(
                "",
                S,
                " drives: [(population: \"exc\", rate: 10.0, weight: 1.0, delay: 1.0)],",
            ),
            "9:56",
            "Unexpected field named `delay` in `DriveDef`, expected one of `population`, `rat",
        ),
        (
            "record_unknown_population",
            scene("", S, " record: (spikes: [\"exc\", \"ihn\"]),"),
            "9:27",
            "unknown population 'ihn' (did you mean 'inh'?) (known: exc, inh)",
        ),
        (
            "record_unknown_variable",
            scene(
                "",
                S,
                " record: (state: [(population: \"exc\", variable: \"vv\", neurons: [0])]),",
            ),
            "9:49",
            "unknown state variable 'vv' (known: tau_m, cm, v_rest, v_thresh, v_reset, t_ref,",
        ),
        (
            "record_neuron_out_of_range",
            scene(
                "",
                S,
                " record: (state: [(population: \"exc\", variable: \"v\", neurons: [0, 10])]),",
            ),
            "9:63",
            "neuron 10 is out of range for 10 neurons",
        ),
        (
            "record_every_zero",
            scene(
                "",
                S,
                " record: (state: [(population: \"exc\", variable: \"v\", neurons: [0], every: 0)]),",
            ),
            "9:75",
            "record.state.every: must be >= 1 step",
        ),
        (
            "record_unknown_weights",
            scene("", S, " record: (weights: [\"ie\"]),"),
            "9:21",
            "unknown projection 'ie' (known: ei)",
        ),
        (
            "record_unknown_field",
            scene("", S, " record: (spike: [\"exc\"]),"),
            "9:11",
            "Unexpected field named `spike` in `RecordDef`, expected one of `spikes`, `state`",
        ),
        (
            "unknown_action",
            action("Rn(ms: 1.0)"),
            "9:27",
            "Unexpected variant named `Rn` in enum `Action`, expected one of `Run`, `Set`, `L",
        ),
        (
            "action_unknown_field",
            action("Run(ms: 1.0, seconds: 2.0)"),
            "9:40",
            "Unexpected field named `seconds` in `Run`, expected `ms` instead",
        ),
        (
            "action_negative_run",
            action("Run(ms: -1.0)"),
            "9:35",
            "Run.ms: must be >= 0, got -1",
        ),
        (
            "action_unknown_projection",
            action("Lesion(projection: \"ie\", pre: 0, post: 0)"),
            "9:46",
            "unknown projection 'ie' (known: ei)",
        ),
        (
            "action_lesion_out_of_range",
            action("Lesion(projection: \"ei\", pre: 0, post: 5)"),
            "9:66",
            "post neuron 5 is out of range for 5 neurons of 'inh'",
        ),
        (
            "action_set_unknown_population",
            action("Set(population: \"exd\", name: \"v\", value: 1.0)"),
            "9:43",
            "unknown population 'exd' (did you mean 'exc'?) (known: exc, inh)",
        ),
        (
            "action_set_unknown_name",
            action("Set(population: \"exc\", name: \"v_tresh\", value: 1.0)"),
            "9:56",
            "unknown parameter or state variable 'v_tresh' (did you mean 'v_thresh'?) (known:",
        ),
        (
            "action_set_neuron_out_of_range",
            action("Set(population: \"exc\", name: \"v\", value: 1.0, neurons: [3, 11])"),
            "9:82",
            "neuron 11 is out of range for 10 neurons",
        ),
        (
            "action_set_missing_npy",
            action("Set(population: \"exc\", name: \"v\", value: Npy(\"v.npy\"))"),
            "9:68",
            "v.npy: no such file (paths are relative to the scene's folder)",
        ),
        (
            "action_adjust_unknown_adjuster",
            action("Adjust(projection: \"ei\", adjuster: Scal(1.5))"),
            "9:62",
            "Unexpected variant named `Scal` in enum `Adjuster`, expected one of `Randomize`,",
        ),
        (
            "action_adjust_unknown_filter",
            action("Adjust(projection: \"ei\", adjuster: Scale(1.5), filter: Excitatroy)"),
            "9:82",
            "Unexpected variant named `Excitatroy` in enum `SignFilter`, expected one of `Exc",
        ),
        (
            "action_setweights_missing_file",
            action("SetWeights(projection: \"ei\", file: \"w.npy\")"),
            "9:62",
            "w.npy: no such file (paths are relative to the scene's folder)",
        ),
        (
            "action_grow_unknown_projection",
            action("Grow(projection: \"ee\")"),
            "9:44",
            "unknown projection 'ee' (known: ei)",
        ),
        (
            "action_modulate_unknown_field",
            action("Modulate(projection: \"ei\", value: 1.0, gain: 2.0)"),
            "9:66",
            "Unexpected field named `gain` in `Modulate`, expected either `projection` or `va",
        ),
        (
            "bad_dt",
            scene("", S, " dt: -0.1,"),
            "9:6",
            "dt: must be > 0 ms, got -0.1",
        ),
        (
            "unknown_pre",
            scene("", S, "").replace("pre: \"exc\"", "pre: \"exx\""),
            "7:21",
            "unknown population 'exx' (did you mean 'exc'?) (known: exc, inh)",
        ),
        (
            "record_weights_typo",
            scene("", S, " record: (weights: [\"eii\"]),"),
            "9:21",
            "unknown projection 'eii' (did you mean 'ei'?) (known: ei)",
        ),
        (
            "typo_after_a_long_run",
            scene(
                "",
                S,
                " timeline: [Run(ms: 100000.0), Summary, Grow(projection: \"ie\")],",
            ),
            "9:58",
            "unknown projection 'ie' (known: ei)",
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let dir = tmp("malformed");
    for (name, text, at, message) in &cases {
        std::fs::write(dir.join("bad.ron"), text).unwrap();
        let o = cortecs(&dir, &["check", "bad.ron"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {e}");
        assert!(
            e.starts_with(&format!("error: bad.ron:{at}: {message}")),
            "{name}: expected bad.ron:{at}: {message}\ngot {e}"
        );
        assert!(!e.contains("panicked") && !e.contains("backtrace"), "{name}: {e}");
        assert!(stdout(&o).is_empty(), "{name}");
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "check wrote nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_names_suggest_the_nearest_valid_one() {
    let dir = tmp("suggest");
    std::fs::write(dir.join("bad.ron"), scene("", "strategy: FixedProbabilty(p: 0.5)", "")).unwrap();
    let e = stderr(&cortecs(&dir, &["check", "bad.ron"]));
    assert!(e.trim_end().ends_with("(did you mean `FixedProbability`?)"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_shipped_scene_checks_clean() {
    for s in ["demo", "coba", "brunel", "ctrnn_masks", "stdp"] {
        let o = cortecs(
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &["check", &format!("scenes/{s}.ron")],
        );
        assert_eq!(o.status.code(), Some(0), "{s}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.starts_with(&format!("scenes/{s}.ron: ok (")) && out.contains("estimated synapse memory"),
            "{out}"
        );
    }
}

#[test]
fn bad_arguments_and_missing_files_exit_1() {
    let dir = tmp("args");
    let o = cortecs(&dir, &["frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unrecognized subcommand 'frobnicate'"));
    let o = cortecs(&dir, &["check", "nope.ron"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: nope.ron: "), "{}", stderr(&o));
    let o = cortecs(&dir, &["run", "nope.ron", "--set", "seed"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected PATH=VALUE"), "{}", stderr(&o));
    assert_eq!(cortecs(&dir, &["--help"]).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scene that spikes in 20 ms: Poisson sources onto LIF neurons.
const SMALL: &str = r#"(
    dt: 0.1,
    seed: 3,
    populations: [
        (name: "src", size: 50, model: PoissonSource, params: {"rate": 200.0}),
        (name: "exc", size: 20, model: Lif(synapse: CurrExp), params: {"tau_m": 10.0}),
    ],
    projections: [(name: "in", pre: "src", post: "exc", strategy: FixedProbability(p: 0.5), weight: 200.0)],
    record: (spikes: ["src", "exc"], state: [(population: "exc", variable: "v", neurons: [0, 1], every: 10)]),
    timeline: [Run(ms: 10.0), Set(population: "exc", name: "tau_m", value: 12.0), Run(ms: 10.0)],
)"#;

fn summary_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn run_writes_a_summary_by_field_name_and_recordings_that_agree_with_it() {
    let dir = tmp("run");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = cortecs(&dir, &["run", "small.ron"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // not a terminal: plain progress lines on stderr
    assert!(stderr(&o).contains("t = 20.0 / 20.0 ms (100%)"), "{}", stderr(&o));
    let out = dir.join("out/small");
    let s = summary_json(&out);
    assert_eq!(s["status"], "complete");
    assert_eq!(s["seed"], 3);
    assert_eq!(s["dt_ms"], 0.1);
    assert_eq!(s["steps"], 200);
    assert_eq!(s["time_ms"], 20.0);
    assert_eq!(s["populations"]["exc"]["size"], 20);
    assert_eq!(s["populations"]["src"]["model"], "poisson_source");
    let q = &s["projections"]["in"];
    assert_eq!((q["pre"].as_str(), q["post"].as_str()), (Some("src"), Some("exc")));
    assert_eq!(
        q["synapses"],
        q["excitatory"].as_u64().unwrap() + q["inhibitory"].as_u64().unwrap()
    );
    assert_eq!(q["weight_mean"], 200.0);
    assert_eq!(q["weight_std"], 0.0);
    for stage in ["build", "simulate"] {
        assert!(s["timing_s"][stage].as_f64().unwrap() >= 0.0);
    }
    assert!(s["memory"]["bytes_per_synapse"].as_f64().unwrap() > 0.0);
    for pop in ["src", "exc"] {
        let t: Array1<f64> = read_npy(out.join(format!("{pop}_spikes_t.npy"))).unwrap();
        let spikes = s["populations"][pop]["spikes"].as_u64().unwrap();
        assert_eq!(t.len() as u64, spikes, "{pop}");
        let rate = s["populations"][pop]["rate_hz"].as_f64().unwrap();
        let size = s["populations"][pop]["size"].as_f64().unwrap();
        assert!((rate - spikes as f64 / size / 0.02).abs() < 1e-9, "{pop}: {rate}");
    }
    // 50 sources at 200 Hz for 20 ms: 200 expected, Poisson sd sqrt(200) ~ 14
    let src = s["populations"]["src"]["spikes"].as_f64().unwrap();
    assert!((src - 200.0).abs() < 5.0 * 200f64.sqrt(), "{src}");
    let files: Vec<String> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("exc_v.npy")), "{files:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_non_empty_out_dir_is_refused_unless_force_clears_it() {
    let dir = tmp("force");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    std::fs::create_dir_all(dir.join("o")).unwrap();
    std::fs::write(dir.join("o/stale.npy"), b"old").unwrap();
    let o = cortecs(&dir, &["run", "small.ron", "--out", "o", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: output folder o is not empty (use --force to clear it first, or --out DIR)\n"
    );
    assert!(dir.join("o/stale.npy").exists() && !dir.join("o/summary.json").exists());
    let o = cortecs(&dir, &["run", "small.ron", "--out", "o", "--quiet", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));
    assert!(!dir.join("o/stale.npy").exists() && dir.join("o/summary.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_timeline_typo_is_found_before_anything_runs_or_is_written() {
    let dir = tmp("typo");
    let text = SMALL.replace(
        "Run(ms: 10.0)]",
        "Run(ms: 10.0), Lesion(projection: \"inn\", pre: 0, post: 0)]",
    );
    std::fs::write(dir.join("small.ron"), &text).unwrap();
    let o = cortecs(&dir, &["run", "small.ron", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: small.ron:10:117: unknown projection 'inn' (did you mean 'in'?) (known: in)\n"
    );
    assert!(!dir.join("out").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_and_seed_address_scene_values_by_path() {
    let dir = tmp("set");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let args = [
        "run",
        "small.ron",
        "--out",
        "o",
        "--quiet",
        "--seed",
        "9",
        "--set",
        "timeline.2.ms=5.0",
        "--set",
        "projections.in.weight=0.0",
        "--set",
        "populations.exc.params.v_init=-70.0",
        "--set",
        "populations.exc.params.v_rest=-70.0",
    ];
    let o = cortecs(&dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = summary_json(&dir.join("o"));
    assert_eq!(s["seed"], 9);
    assert_eq!(s["time_ms"], 15.0);
    assert_eq!(s["projections"]["in"]["weight_mean"], 0.0);
    assert_eq!(s["populations"]["exc"]["spikes"], 0, "no input, no spikes");
    let v: ndarray::Array2<f64> = read_npy(dir.join("o/exc_v.npy")).unwrap();
    // at rest with no input: v stays exactly where --set put it, in every sample
    assert_eq!(v.dim(), (15, 2)); // 150 steps, every 10
    assert!(v.iter().all(|&x| x == -70.0), "{v}");
    // a wrong path is a user error with a suggestion; a wrong value is located in the edited scene
    let o = cortecs(&dir, &["check", "small.ron", "--set", "projections.inn.weight=1.0"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: --set projections.inn.weight=1.0: no item 'inn' in 'projections' (did you mean 'in'?)\n"
    );
    let o = cortecs(&dir, &["check", "small.ron", "--set", "timeline.0.ms=-1"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "error: small.ron:10:24: Run.ms: must be >= 0, got -1\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_prints_the_summary_and_memory_of_a_scene_or_a_checkpoint() {
    let dir = tmp("inspect");
    let text = SMALL.replace("Run(ms: 10.0)]", "Run(ms: 10.0), Save(file: \"net.ckpt\")]");
    std::fs::write(dir.join("small.ron"), &text).unwrap();
    for cmd in ["inspect", "summary"] {
        let o = cortecs(&dir, &[cmd, "small.ron"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("exc") && out.contains("memory: synapses estimated"),
            "{out}"
        );
    }
    assert_eq!(cortecs(&dir, &["run", "small.ron", "--quiet"]).status.code(), Some(0));
    let o = cortecs(&dir, &["inspect", "out/small/net.ckpt"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("memory: ") && stdout(&o).contains("synapses"),
        "{}",
        stdout(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_timeline_set_reads_npy_relative_to_the_scene_folder() {
    let dir = tmp("npy-set");
    std::fs::create_dir_all(dir.join("sc")).unwrap();
    let v: Array1<f64> = (0..20).map(|i| -80.0 + i as f64).collect();
    ndarray_npy::write_npy(dir.join("sc/v.npy"), &v).unwrap();
    let text = SMALL
        .replace(
            "Set(population: \"exc\", name: \"tau_m\", value: 12.0)",
            "Set(population: \"exc\", name: \"v\", value: Npy(\"v.npy\"))",
        )
        .replace("weight: 200.0", "weight: 0.0")
        .replace("Run(ms: 10.0), Set", "Run(ms: 0.0), Set");
    std::fs::write(dir.join("sc/small.ron"), &text).unwrap();
    // run from the parent folder: the file is found next to the scene, not in the working directory
    let o = cortecs(
        &dir,
        &[
            "run",
            "sc/small.ron",
            "--quiet",
            "--set",
            "populations.exc.params.v_rest=-70.0",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rec: ndarray::Array2<f64> = read_npy(dir.join("out/small/exc_v.npy")).unwrap();
    // neurons 0 and 1 start at -80 and -79 and relax towards -70 with tau_m = 10 ms: after 1 ms
    let decay = (-1.0f64 / 10.0).exp();
    for (k, v0) in [(0, -80.0), (1, -79.0)] {
        let expect = -70.0 + (v0 + 70.0) * decay;
        assert!(
            (rec[[0, k]] - expect).abs() < 0.02,
            "neuron {k}: {} vs {expect}",
            rec[[0, k]]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn sweep_args(shard: &str) -> Vec<&str> {
    vec![
        "sweep",
        "small.ron",
        "--vary",
        "projections.in.weight=0.0,100.0,200.0",
        "--vary",
        "timeline.2.ms=5.0,10.0",
        "--seeds",
        "1..3",
        "--shard",
        shard,
        "--out",
        "sw",
    ]
}

#[test]
fn sweep_shards_cover_every_run_once_and_a_restart_skips_finished_runs() {
    let dir = tmp("sweep");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let mut seen = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let o = cortecs(&dir, &sweep_args(shard));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for line in stdout(&o).lines().filter(|l| l.starts_with("run ")) {
            seen.push(line.split(' ').nth(1).unwrap().parse::<usize>().unwrap());
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        (0..12).collect::<Vec<_>>(),
        "3 weights x 2 durations x 2 seeds, each run once"
    );
    let csv = std::fs::read_to_string(dir.join("sw/runs.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0][..6],
        [
            "run",
            "projections.in.weight",
            "timeline.2.ms",
            "seed",
            "status",
            "time_ms"
        ]
    );
    assert_eq!(rows.len(), 13);
    for (k, r) in rows[1..].iter().enumerate() {
        let weight = ["0.0", "100.0", "200.0"][k / 4];
        let ms = ["5.0", "10.0"][(k / 2) % 2];
        let seed = ["1", "2"][k % 2];
        assert_eq!(
            r[..5],
            [k.to_string().as_str(), weight, ms, seed, "complete"],
            "row {k}"
        );
        let time: f64 = r[5].parse().unwrap();
        assert_eq!(time, 10.0 + ms.parse::<f64>().unwrap());
        let s = summary_json(&dir.join(format!("sw/run-{k:04}")));
        assert_eq!(s["seed"].as_u64().unwrap().to_string(), seed);
        assert_eq!(
            s["projections"]["in"]["weight_mean"].as_f64().unwrap(),
            weight.parse::<f64>().unwrap()
        );
    }
    // an interrupted run (folder without a complete summary) is redone; finished ones are skipped
    std::fs::remove_file(dir.join("sw/run-0005/summary.json")).unwrap();
    let before = std::fs::metadata(dir.join("sw/run-0004/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    let o = cortecs(&dir, &sweep_args("0/1"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("run 5 (projections.in.weight=100.0, timeline.2.ms=5.0, seed=2): 15.0 ms"),
        "{out}"
    );
    assert!(
        out.contains("ran 1, skipped 11 finished; 12 of 12 runs complete"),
        "{out}"
    );
    let after = std::fs::metadata(dir.join("sw/run-0004/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "finished runs are not rewritten");
    // a value that does not fit is found before any run starts
    let o = cortecs(
        &dir,
        &["sweep", "small.ron", "--vary", "timeline.0.ms=1.0,-1.0", "--out", "sw2"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: run 1 (timeline.0.ms=-1.0): small.ron:10:24: Run.ms: must be >= 0, got -1\n"
    );
    assert!(!dir.join("sw2").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
