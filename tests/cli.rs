//! The `cortecs` binary end to end (malformed scenes: `cli_errors.rs`):
//! exit codes, `check` on the shipped scenes, `run` with
//! `--out`/`--force`/`--set`/`--seed`/`--quiet`, `summary.json` by field
//! name, `inspect` (alias `summary`) and `sweep`.

use ndarray::Array1;
use ndarray_npy::read_npy;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
fn every_shipped_scene_checks_clean() {
    // every scene in the folder, so a new one cannot be forgotten
    let mut scenes: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".ron").map(str::to_string)
        })
        .collect();
    scenes.sort();
    assert!(scenes.len() >= 10, "{scenes:?}");
    for s in &scenes {
        let o = cortecs(
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &["check", &format!("scenes/{s}.ron")],
        );
        let text = std::fs::read_to_string(format!("{}/scenes/{s}.ron", env!("CARGO_MANIFEST_DIR"))).unwrap();
        if text.contains("load: \"../out/") && !stderr(&o).is_empty() {
            // loads what another command writes (trained_pdm: `cortecs train`'s output): until
            // then the error names the missing checkpoint
            assert!(stderr(&o).contains("cannot read checkpoint"), "{s}: {}", stderr(&o));
            continue;
        }
        assert_eq!(o.status.code(), Some(0), "{s}: {}", stderr(&o));
        let out = stdout(&o);
        let training = out.contains("training scene");
        assert!(
            out.starts_with(&format!("scenes/{s}.ron: ok (")) && (training || out.contains("estimated synapse memory")),
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
    assert_eq!(
        stderr(&o),
        "error: small.ron:10:24: Run.ms: must be a finite time >= 0 ms, got -1\n"
    );
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
        assert!(out.contains("exc") && out.contains("memory: peak estimated"), "{out}");
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
    // --jobs 2 runs two at once, on half the threads each: the same results
    let mut args = sweep_args("0/1");
    let n = args.len();
    args[n - 1] = "sw3";
    args.extend(["--jobs", "2"]);
    let o = cortecs(&dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for k in 0..12 {
        let (a, b) = (
            summary_json(&dir.join(format!("sw/run-{k:04}"))),
            summary_json(&dir.join(format!("sw3/run-{k:04}"))),
        );
        assert_eq!(a["populations"], b["populations"], "run {k}");
    }
    // a value that does not fit is found before any run starts
    let o = cortecs(
        &dir,
        &["sweep", "small.ron", "--vary", "timeline.0.ms=1.0,-1.0", "--out", "sw2"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: run 1 (timeline.0.ms=-1.0): small.ron:10:24: Run.ms: must be a finite time >= 0 ms, got -1\n"
    );
    assert!(!dir.join("sw2").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_fails_midway_keeps_what_it_recorded_and_says_failed() {
    let dir = tmp("failed");
    // validation passes (the projection exists); the action fails when it runs
    let text = SMALL.replace(
        "Run(ms: 10.0)]",
        "Run(ms: 10.0), Modulate(projection: \"in\", value: 1.0)]",
    );
    std::fs::write(dir.join("small.ron"), &text).unwrap();
    let o = cortecs(&dir, &["run", "small.ron", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: small.ron:10:") && e.contains("has no reward-modulated rule"),
        "{e}"
    );
    let out = dir.join("out/small");
    let s = summary_json(&out);
    assert_eq!(s["status"], "failed");
    assert_eq!(format!("error: {}\n", s["error"].as_str().unwrap()), e);
    assert_eq!(s["time_ms"], 20.0, "both runs before the failing action");
    let t: Array1<f64> = read_npy(out.join("src_spikes_t.npy")).unwrap();
    assert_eq!(t.len() as u64, s["populations"]["src"]["spikes"].as_u64().unwrap());
    assert!(t.iter().all(|&x| x < 20.0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_draws_plots_of_what_it_recorded_unless_no_plots() {
    let dir = tmp("plots");
    std::fs::write(dir.join("small.ron"), SMALL).unwrap();
    let o = cortecs(&dir, &["run", "small.ron", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plots = dir.join("out/small/plots");
    let mut names: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "exc_raster.png",
            "exc_v.png",
            "in_weight_histogram.png",
            "rates.png",
            "src_raster.png"
        ]
    );
    for n in &names {
        let bytes = std::fs::read(plots.join(n)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{n}");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 900, "{n}: width");
    }
    let files = summary_json(&dir.join("out/small"))["files"].to_string();
    assert!(files.contains("plots/rates.png"), "{files}");
    let o = cortecs(&dir, &["run", "small.ron", "--quiet", "--force", "--no-plots"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!plots.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
