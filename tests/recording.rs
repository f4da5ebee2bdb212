//! Recordings of a scene run: every probe sample at its own interval, files
//! that are valid arrays during the run, output names that stay inside the
//! output folder and never collide.

use cortecs::scene;
use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-recording-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `text` as `scene.ron` in a fresh folder and runs it into `<folder>/out`.
fn run(name: &str, text: &str) -> (PathBuf, cortecs::error::Result<scene::Summary>) {
    let dir = tmp(name);
    let file = dir.join("scene.ron");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let result = scene::run_file(&file, Some(&out));
    (out, result)
}

const POPULATION: &str = r#"
    dt: 0.1,
    populations: [(name: "exc", size: 4, model: Lif(synapse: CurrExp),
                   params: {"v_init": -60.0, "i_offset": 300.0})],
"#;

#[test]
fn probes_with_different_intervals_keep_every_sample_across_uneven_segments() {
    // intervals 3 and 5 steps, segments of 7 steps: 21 steps in all
    let text = format!(
        r#"({POPULATION}
    record: (state: [
        (population: "exc", variable: "v", neurons: [0, 3], every: 3),
        (population: "exc", variable: "g_e", neurons: [1], every: 5),
    ]),
    timeline: [Run(ms: 0.7), Run(ms: 0.7), Run(ms: 0.7)],
)"#
    );
    let (out, result) = run("probes", &text);
    result.unwrap();
    let times = |file: &str| -> Vec<f64> {
        let t: Array1<f64> = read_npy(out.join(file)).unwrap();
        t.to_vec()
    };
    let at = |steps: &[u32]| -> Vec<f64> { steps.iter().map(|&k| k as f64 * 0.1).collect() };
    let close = |got: Vec<f64>, want: Vec<f64>| {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
        }
    };
    close(times("exc_v_t.npy"), at(&[3, 6, 9, 12, 15, 18, 21]));
    close(times("exc_g_e_t.npy"), at(&[5, 10, 15, 20]));
    let v: Array2<f64> = read_npy(out.join("exc_v.npy")).unwrap();
    assert_eq!(v.shape(), &[7, 2]);
    // driven by 300 pA from rest, v rises from -60 mV at every sample
    assert!(v.column(0).iter().all(|&x| x > -60.0), "{v}");
}

/// The error of running `text` (scene validation happens before anything is written).
fn run_error(name: &str, text: &str) -> String {
    let (out, result) = run(name, text);
    let e = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "{name}: wrote files"
    );
    e
}

#[test]
fn output_names_stay_inside_the_output_folder_and_never_collide() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "save_up",
            r#"timeline: [Run(ms: 0.1), Save(file: "../escaped.bin")]"#,
            "Save file '../escaped.bin' must be a plain file name",
        ),
        (
            "save_abs",
            r#"timeline: [Save(file: "/tmp/escaped.bin")]"#,
            "Save file '/tmp/escaped.bin' must be a plain file name",
        ),
        (
            "save_sub",
            r#"timeline: [Save(file: "sub/a.bin")]"#,
            "must be a plain file name",
        ),
        (
            "probe_twice",
            r#"record: (state: [(population: "exc", variable: "v", neurons: [0]),
                                (population: "exc", variable: "v", neurons: [1], every: 2)])"#,
            "output file 'exc_v.npy' would be written twice (also by record.state.0)",
        ),
        (
            "save_over_recording",
            r#"record: (spikes: ["exc"]), timeline: [Run(ms: 0.1), Save(file: "exc_spikes_t.npy")]"#,
            "output file 'exc_spikes_t.npy' would be written twice (also by record.spikes.0)",
        ),
        (
            "save_over_summary",
            r#"timeline: [Save(file: "summary.json")]"#,
            "output file 'summary.json' would be written twice (also by the run itself)",
        ),
        (
            "save_twice",
            r#"timeline: [Save(file: "a.bin"), Run(ms: 0.1), Save(file: "a.bin")]"#,
            "output file 'a.bin' would be written twice (also by timeline.0.file)",
        ),
    ];
    for (name, extra, want) in cases {
        let e = run_error(name, &format!("({POPULATION} {extra},\n)"));
        assert!(e.contains(want), "{name}: {e}");
        assert!(e.starts_with(&format!("{}:", tmp_scene(name).display())), "{name}: {e}");
        assert!(!tmp_escape().exists(), "{name}: a file escaped the output folder");
    }
}

fn tmp_scene(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("cortecs-recording-{name}-{}", std::process::id()))
        .join("scene.ron")
}

fn tmp_escape() -> PathBuf {
    Path::new(&std::env::temp_dir())
        .join(format!("cortecs-recording-save_up-{}", std::process::id()))
        .join("escaped.bin")
}

/// The network's whole state after `steps` steps advanced in ticks of `tick` steps.
fn state_after(scene_file: &str, steps: u64, tick: u64) -> Vec<u8> {
    let path = Path::new(scene_file);
    let (sc, text) = scene::load(path, &[]).unwrap();
    let mut sim = scene::build(&sc, path, &text).unwrap();
    let mut done = 0;
    while done < steps {
        let n = tick.min(steps - done);
        sim.advance(n).unwrap();
        done += n;
    }
    sim.sync().unwrap();
    let dir = tmp(&format!("tick-{}-{tick}", path.file_stem().unwrap().to_string_lossy()));
    let file = dir.join("state.bin");
    sim.save(&file).unwrap();
    std::fs::read(file).unwrap()
}

/// The scene runner picks tick lengths by wall-clock time (for progress and
/// a prompt stop on Ctrl-C): results must not depend on them, with
/// plasticity, growth, pruning and delays included.
#[test]
fn results_do_not_depend_on_how_steps_are_grouped_into_ticks() {
    for (scene_file, steps) in [("scenes/stdp.ron", 1200), ("scenes/demo.ron", 300)] {
        let whole = state_after(scene_file, steps, steps);
        for tick in [1, 7, 250] {
            assert!(
                state_after(scene_file, steps, tick) == whole,
                "{scene_file}: ticks of {tick} steps differ"
            );
        }
    }
}
