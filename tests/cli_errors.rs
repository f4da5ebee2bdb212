//! Malformed scenes, table-driven: each is a user error (exit 1) from
//! `cortecs check`, reported as one line naming file, line and column of the
//! offending token with the exact message, never a panic; check writes nothing.

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
    let d = std::env::temp_dir().join(format!("cortecs-cli-errors-{name}-{}", std::process::id()));
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
            "Unexpected field named `colour` in `Scene`, expected one of `dt`, `seed`, `rounding`, `on_non_finite`, `check_every`, `load`, `popul",
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
            "Run.ms: must be a finite time >= 0 ms, got -1",
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
        (
            "run_not_a_whole_number_of_steps",
            action("Run(ms: 0.55)"),
            "9:35",
            "Run.ms: 0.55 ms is not a whole number of steps of dt = 0.1 ms",
        ),
        (
            "delay_not_a_whole_number_of_steps",
            scene("", &format!("{S}, delay: 0.25"), ""),
            "7:84",
            "ei.delay: 0.25 ms is not a whole number of steps of dt = 0.1 ms",
        ),
        (
            "adex_with_delta_synapses",
            scene("", S, "").replace(
                "(name: \"inh\", size: 5, model: Lif(synapse: CondExp))",
                "(name: \"inh\", size: 5, model: AdEx(synapse: Delta))",
            ),
            "4:33",
            "inh.model: no kernel implements adex_delta with `synapse: Delta`",
        ),
        (
            "parameter_the_model_does_not_read",
            scene(", params: {\"e_rev_e\": 0.0}", S, "").replace(
                "model: Lif(synapse: CondExp), params",
                "model: Lif(synapse: CurrExp), params",
            ),
            "3:77",
            "exc.e_rev_e: lif_currexp does not read `e_rev_e` (reversal potentials are read by conductance synapses only)",
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
        assert!(o.stdout.is_empty(), "{name}");
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

/// Values known only once resolved (expressions, distributions, adjusters,
/// `Set`): each refused by `cortecs run` with exit 1 and a message naming the
/// owner and index, placed at the value; no NaN or infinity reaches a file.
#[test]
fn values_that_are_not_finite_or_not_float32_are_refused_with_their_owner() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "weight_beyond_float32",
            scene("", &format!("{S}, weight: 1e39"), ""),
            "7:85",
            "ei.weight: weight 1e39 of the synapse pre 0 -> post 0 is beyond float32's range",
        ),
        (
            "weight_expression_overflows",
            scene("", &format!("{S}, weight: \"1e20 * 1e20\""), ""),
            "7:85",
            "ei.weight: weight 1e40 of the synapse pre 0 -> post 0 is beyond float32's range",
        ),
        (
            "weight_expression_divides_by_zero",
            scene("", &format!("{S}, weight: \"1 / (i - i)\""), ""),
            "7:85",
            "ei.weight: weight inf of the synapse pre 0 -> post 0 is not finite",
        ),
        (
            "weight_below_float32",
            scene("", &format!("{S}, weight: 1e-50"), ""),
            "7:85",
            "ei.weight: weight 1e-50 of the synapse pre 0 -> post 0 is below float32's smallest value",
        ),
        (
            "weight_distribution_beyond_float32",
            scene("", &format!("{S}, weight: Uniform(low: 1e39, high: 2e39)"), ""),
            "7:85",
            "ei.weight: weight 1.",
        ),
        (
            "scale_beyond_float32",
            action("Adjust(projection: \"ei\", adjuster: Scale(1e300))"),
            "9:62",
            "ei: weight 1e300 of the synapse pre 0 -> post 0 is beyond float32's range",
        ),
        (
            "set_zero_over_zero",
            action("Set(population: \"exc\", name: \"v\", value: \"0 / 0\")"),
            "9:68",
            "exc.v: value NaN for neuron 0 is not finite",
        ),
        (
            "set_exp_overflow",
            action("Set(population: \"exc\", name: \"g_e\", value: \"exp(1000)\", neurons: [4])"),
            "9:70",
            "exc.g_e: value inf for neuron 4 is not finite",
        ),
        (
            "parameter_expression_divides_by_zero",
            scene(", params: {\"v_init\": \"1 / 0\"}", S, ""),
            "3:10",
            "exc.v_init: must be finite (mV), got inf for neuron 0",
        ),
    ];
    let dir = tmp("values");
    for (name, text, at, message) in &cases {
        std::fs::write(dir.join("bad.ron"), text).unwrap();
        let _ = std::fs::remove_dir_all(dir.join("out"));
        let o = cortecs(&dir, &["run", "--quiet", "--out", "out", "bad.ron"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {e}");
        assert!(
            e.starts_with(&format!("error: bad.ron:{at}: {message}")),
            "{name}: expected bad.ron:{at}: {message}\ngot {e}"
        );
        assert!(!e.contains("panicked"), "{name}: {e}");
        // nothing ran: no recording, no summary with NaN in it
        let summary = dir.join("out/summary.json");
        if let Ok(text) = std::fs::read_to_string(&summary) {
            let values: String = text.lines().filter(|l| !l.contains("\"error\"")).collect();
            assert!(text.contains("\"status\": \"failed\""), "{name}: {text}");
            assert!(!values.contains("NaN") && !values.contains("null"), "{name}: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn absurd_thread_counts_and_endless_streams_are_refused_at_once() {
    let dir = tmp("absurd");
    for t in ["0", "100000"] {
        let o = cortecs(&dir, &["--threads", t, "check", "nothing.ron"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(e.starts_with(&format!("error: --threads {t}: use 1 to ")), "{e}");
    }
    // an endless stream that is not a checkpoint: refused after its first bytes
    let t0 = std::time::Instant::now();
    let o = cortecs(&dir, &["inspect", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/dev/zero: not a cortecs checkpoint"),
        "{}",
        stderr(&o)
    );
    // a checkpoint header announcing 2^56 bytes: refused before reading them
    let mut head = b"CORTECS\0".to_vec();
    head.extend_from_slice(&4u32.to_le_bytes());
    head.extend_from_slice(&(1u64 << 56).to_le_bytes());
    head.extend_from_slice(&0u64.to_le_bytes());
    std::fs::write(dir.join("huge.ckpt"), &head).unwrap();
    let o = cortecs(&dir, &["inspect", "huge.ckpt"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("huge.ckpt: the header announces a payload of 72057594037927936 bytes, more than the"),
        "{e}"
    );
    assert!(t0.elapsed() < std::time::Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn populations_and_recordings_larger_than_memory_are_refused_before_anything_is_allocated() {
    let dir = tmp("memory");
    let cases = [
        (
            scene("", S, "").replace("size: 10,", "size: 100000000000,"),
            "3:23",
            "the run needs at least 30.4 TiB",
            "the largest part: population 'exc' (100000000000 neurons x 1 trials, ",
        ),
        (
            "(\n populations: [(name: \"r\", size: 1000, model: Rate(activation: Tanh), batch: 1000000000000)],\n)"
                .to_string(),
            "2:34",
            "the run needs at least ",
            "the largest part: population 'r' (1000 neurons x 1000000000000 trials, ",
        ),
    ];
    for (text, at, start, part) in &cases {
        std::fs::write(dir.join("big.ron"), text).unwrap();
        for args in [&["check", "big.ron"][..], &["run", "--quiet", "big.ron"]] {
            let o = cortecs(&dir, args);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{e}");
            assert!(e.starts_with(&format!("error: big.ron:{at}: {start}")), "{e}");
            assert!(e.contains("of memory available; ") && e.contains(part), "{e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dense weight recording streams block by block (no memory for the whole
/// matrix), so `check` passes it; `run` refuses it before simulating when
/// the output folder's disk has less room than the matrix needs.
#[test]
fn a_dense_weight_recording_larger_than_the_disk_is_refused_before_the_run() {
    let dir = tmp("disk");
    let text = "(\n populations: [(name: \"a\", size: 1000000, model: PoissonSource), (name: \"b\", size: 1000000, model: Lif(synapse: Delta))],\n projections: [(name: \"ab\", pre: \"a\", post: \"b\", strategy: FixedInDegree(k: 1))],\n record: (weights: [\"ab\"]),\n timeline: [Run(ms: 1.0)],\n)";
    std::fs::write(dir.join("big.ron"), text).unwrap();
    let o = cortecs(&dir, &["check", "big.ron"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cortecs(&dir, &["run", "--quiet", "--no-plots", "big.ron"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.starts_with("error: big.ron:4:21: the dense weight recordings need at least 3.6 TiB, more than the ")
            && e.contains(" free on the disk of "),
        "{e}"
    );
    // refused before the run: no weights file
    assert!(!dir.join("out/big/ab_weights.npy").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
