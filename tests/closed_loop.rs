//! The closed-loop scene (`scenes/closed_loop.ron`): a Braitenberg vehicle
//! driven by a spiking network. Wired crosswise (vehicle 2b) it reaches the
//! light and follows it when the timeline moves it; wired straight (2a) it
//! turns away. The log is one row per frame, identical at any thread count
//! and however the recorders split the frames into ticks; bad environments
//! are located errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-closed-loop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn cortecs(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs the scene with `extra` arguments; the environment log, rows x 10.
fn run(name: &str, extra: &[&str]) -> (PathBuf, ndarray::Array2<f64>) {
    let out = tmp(name);
    let out_s = out.to_str().unwrap();
    let mut args = vec!["run", "scenes/closed_loop.ron", "--quiet", "--out", out_s];
    args.extend_from_slice(extra);
    let o = cortecs(&root(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = cortecs::io::read_npy_matrix_f64(&out.join("environment.npy")).unwrap();
    (out, log)
}

/// Distance from the vehicle to the light in each row.
fn distances(log: &ndarray::Array2<f64>) -> Vec<f64> {
    log.rows()
        .into_iter()
        .map(|r| (r[1] - r[4]).hypot(r[2] - r[5]))
        .collect()
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

#[test]
fn a_crossed_vehicle_reaches_the_light_and_follows_it_when_it_moves() {
    let (out, log) = run("crossed", &[]);
    // one row at the start and one per 1 ms frame: 30 s
    assert_eq!(log.dim(), (30_001, cortecs::env::ENVIRONMENT_COLUMNS.len()));
    for (k, t) in log.column(0).iter().enumerate() {
        assert!((t - k as f64).abs() < 1e-9, "row {k}: t = {t}");
    }
    // the light is where the timeline puts it: (75, 70) until 15 s, then (20, 80)
    assert_eq!((log[[15_000, 4]], log[[15_000, 5]]), (75.0, 70.0));
    assert_eq!((log[[15_001, 4]], log[[15_001, 5]]), (20.0, 80.0));
    let d = distances(&log);
    assert!(d[0] > 70.0 && d[15_001] > 55.0, "{} {}", d[0], d[15_001]);
    // within 5 cm of each light while it shines there
    assert!(
        min(&d[..15_001]) < 5.0,
        "closest to the first light: {} cm",
        min(&d[..15_001])
    );
    assert!(
        min(&d[15_001..]) < 5.0,
        "closest to the second light: {} cm",
        min(&d[15_001..])
    );
    // the wheels turned, the sensors saw, all inside the arena
    for r in log.rows() {
        assert!((0.0..=100.0).contains(&r[1]) && (0.0..=100.0).contains(&r[2]));
        assert!((0.0..=1.0).contains(&r[6]) && (0.0..=1.0).contains(&r[7]));
    }
    assert!(log.column(8).iter().any(|&w| w > 1.0));
    for plot in ["environment.png", "environment_distance.png"] {
        let bytes = std::fs::read(out.join("plots").join(plot)).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG");
    }
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("environment.npy"), "{summary}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_vehicle_wired_straight_turns_away_from_the_light() {
    // vehicle 2a: the left eye drives the left wheel
    let (out, log) = run(
        "straight",
        &[
            "--set",
            "projections.crossed.strategy.p=\"0.5 * ((i < 20) == (j < 20))\"",
        ],
    );
    let d = distances(&log);
    assert!(
        min(&d[..15_001]) > 20.0,
        "closest to the first light: {} cm",
        min(&d[..15_001])
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_log_does_not_depend_on_threads_or_on_how_recorders_split_frames() {
    let (a, base) = run("base", &["--threads", "1", "--no-plots"]);
    let (b, two) = run("two_threads", &["--threads", "2", "--no-plots"]);
    // a probe every 3 steps splits the 10-step frames into ticks of 3, 3, 3, 1 ...
    let (c, split) = run(
        "split",
        &[
            "--no-plots",
            "--set",
            "record.state=[(population: \"wheels\", variable: \"v\", neurons: [0], every: 3)]",
        ],
    );
    assert_eq!(base, two);
    assert_eq!(base, split);
    for d in [a, b, c] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bad_environments_are_located_errors() {
    let dir = tmp("errors");
    std::fs::create_dir_all(&dir).unwrap();
    let scene = |env: &str, timeline: &str| {
        format!(
            "(\n populations: [\n  (name: \"eyes\", size: 4, model: Lif(synapse: CurrExp)),\n  (name: \"odd\", size: 3, model: Lif(synapse: CurrExp)),\n  (name: \"src\", size: 2, model: PoissonSource),\n ],\n environment: {env},\n timeline: [Run(ms: 1.0), {timeline}],\n)"
        )
    };
    let body = "body: (light: (50.0, 50.0), gain: 100.0, speed: 0.1)";
    let vehicle = |fields: &str| format!("Vehicle(sensors: \"eyes\", motors: \"eyes\", {fields})");
    let cases = [
        (
            scene(&vehicle(body), "MoveLight(x: 150.0, y: 5.0)"),
            "8:27",
            "MoveLight: light (150, 5) is outside the arena [0, 100] x [0, 100] cm",
        ),
        (
            scene("None", "MoveLight(x: 1.0, y: 5.0)"),
            "8:27",
            "MoveLight needs an `environment: Vehicle(..)` in the scene",
        ),
        (
            scene(&vehicle(body).replace("motors: \"eyes\"", "motors: \"odd\""), ""),
            "7:48",
            "motors population 'odd' must hold an even number (>= 2) of spiking or rate neurons",
        ),
        (
            scene(&vehicle(body).replace("sensors: \"eyes\"", "sensors: \"src\""), ""),
            "7:32",
            "sensors population 'src' must hold an even number (>= 2) of spiking or rate neurons (left half, right half); it has 2 of model poisson_source",
        ),
        (
            scene(&vehicle(body).replace("sensors: \"eyes\"", "sensors: \"eye\""), ""),
            "7:32",
            "unknown population 'eye' (did you mean 'eyes'?)",
        ),
        (
            scene(&vehicle(&format!("frame_ms: 0.25, {body}")), ""),
            "7:66",
            "environment.frame_ms: 0.25 ms is not a whole number of steps of dt = 0.1 ms",
        ),
        (
            scene(&vehicle(&body.replace("gain", "gian")), ""),
            "7:84",
            "Unexpected field named `gian` in `VehicleSpec`, expected one of `arena`, `width`, `sensor_angle`, `light`, `light_radius`, `gain`, `speed`, or `start` instead (did you mean `gain`?)",
        ),
        (
            scene(
                &vehicle(&body.replace("light: (50.0, 50.0)", "light: (50.0, 500.0)")),
                "",
            ),
            "7:70",
            "environment.body: light (50, 500) is outside the arena [0, 100] x [0, 100] cm",
        ),
    ];
    let mut wrong = Vec::new();
    for (text, at, message) in &cases {
        std::fs::write(dir.join("bad.ron"), text).unwrap();
        let o = cortecs(&dir, &["check", "bad.ron"]);
        let e = String::from_utf8_lossy(&o.stderr);
        if o.status.code() != Some(1) || !e.starts_with(&format!("error: bad.ron:{at}: ")) || !e.contains(message) {
            wrong.push(format!("expected {at} {message}\n got {e}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
