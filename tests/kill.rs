//! A `cortecs run` killed at any moment leaves only complete, loadable files
//! (streamed recordings hold every row flushed before the kill), no temporary
//! file, and a run stopped by SIGINT or SIGTERM writes everything with
//! `status: interrupted` and exit code 130.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-kill-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A long run of the demo network recording spikes and a state probe,
/// flushing its recordings every 0.2 s.
const SCENE: &str = r#"(
    dt: 0.1,
    seed: 7,
    populations: [
        (name: "exc", size: 800, model: Lif(synapse: CurrExp), polarity: Excitatory,
         params: {"v_init": Uniform(low: -70.0, high: -50.0)}),
        (name: "inh", size: 200, model: Lif(synapse: CurrExp), polarity: Inhibitory,
         params: {"v_init": Uniform(low: -70.0, high: -50.0)}),
    ],
    projections: [
        (name: "ee", pre: "exc", post: "exc", strategy: FixedProbability(p: 0.05), weight: 20.0, delay: 1.0),
        (name: "ie", pre: "inh", post: "exc", strategy: FixedProbability(p: 0.1), weight: 60.0, delay: 1.0),
        (name: "ei", pre: "exc", post: "inh", strategy: FixedProbability(p: 0.1), weight: 20.0, delay: 1.0),
    ],
    drives: [(population: "exc", rate: 8000.0, weight: 20.0), (population: "inh", rate: 8000.0, weight: 20.0)],
    record: (
        spikes: ["exc", "inh"],
        state: [(population: "exc", variable: "v", neurons: [0, 1, 2, 3], every: 1)],
        weights: ["ee"],
        flush_s: 0.2,
    ),
    timeline: [Run(ms: 1000000.0), Save(file: "end.bin")],
)"#;

fn start(dir: &Path, out: &Path) -> Child {
    let scene = dir.join("long.ron");
    std::fs::write(&scene, SCENE).unwrap();
    Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(["run", "--quiet", "--out"])
        .arg(out)
        .arg(&scene)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A `.npy` file's dtype descriptor, shape and the bytes of data after its header.
fn npy(path: &Path) -> (String, Vec<u64>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.len() >= 10 && &bytes[..6] == b"\x93NUMPY",
        "{}: not .npy",
        path.display()
    );
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    let descr = header
        .split("'descr': '")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let shape = header.split("'shape': (").nth(1).unwrap().split(')').next().unwrap();
    let shape: Vec<u64> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (descr, shape, bytes[10 + len..].to_vec())
}

/// Checks every file in `out`: no temporary file; each `.npy` holds at least
/// the rows its header counts (bytes of a flush cut short may follow); spike
/// times are non-decreasing with neuron indices in range; state samples are
/// one per step. Returns the number of rows of the state probe.
fn check_files(out: &Path) -> u64 {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        assert!(!name.ends_with(".tmp"), "temporary file left behind: {names:?}");
        let path = out.join(name);
        if name.ends_with(".npy") {
            let (descr, shape, data) = npy(&path);
            let item = if descr.ends_with('8') { 8 } else { 4 };
            let values: u64 = shape.iter().product();
            assert!(
                data.len() as u64 >= values * item,
                "{name}: header counts more than the file holds"
            );
        }
        if name == "summary.json" {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert!(v["status"].is_string(), "{name}");
        }
    }
    for (pop, size) in [("exc", 800u32), ("inh", 200)] {
        let (_, t_shape, t) = npy(&out.join(format!("{pop}_spikes_t.npy")));
        let (_, i_shape, i) = npy(&out.join(format!("{pop}_spikes_i.npy")));
        let n = t_shape[0].min(i_shape[0]) as usize;
        let times: Vec<f64> = t[..8 * n]
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{pop}: spike times out of order"
        );
        assert!(
            i[..4 * n]
                .chunks(4)
                .all(|c| u32::from_le_bytes(c.try_into().unwrap()) < size),
            "{pop}: neuron index out of range"
        );
    }
    let (_, v_shape, _) = npy(&out.join("exc_v.npy"));
    let (_, t_shape, t) = npy(&out.join("exc_v_t.npy"));
    assert_eq!(v_shape[1], 4);
    let n = v_shape[0].min(t_shape[0]) as usize;
    for (k, c) in t[..8 * n].chunks(8).enumerate() {
        let want = (k + 1) as f64 * 0.1;
        assert!(
            (f64::from_le_bytes(c.try_into().unwrap()) - want).abs() < 1e-9,
            "sample {k}"
        );
    }
    n as u64
}

#[test]
#[ignore = "20 runs of a release binary: run by .ci/run with --release --ignored"]
fn twenty_sigkills_at_random_moments_leave_only_complete_files() {
    let dir = tmp("sigkill");
    // moments spread over 0.05 .. 3 s, in a fixed shuffled order
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wait = Duration::from_millis(50 + state % 2950);
        let out = dir.join(format!("out{round}"));
        let mut child = start(&dir, &out);
        let t0 = Instant::now();
        std::thread::sleep(wait);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if !out.exists() {
            continue; // killed before the output folder was made
        }
        let rows = check_files(&out);
        // a run killed well after its first flushes has its samples on disk
        if t0.elapsed() > Duration::from_millis(1500) {
            assert!(rows > 0, "round {round}: killed after {wait:?}, no sample on disk");
        }
    }
}

#[test]
#[ignore = "runs a release binary for a few seconds: run by .ci/run with --release --ignored"]
fn sigint_and_sigterm_stop_the_run_and_write_everything_as_interrupted() {
    let dir = tmp("sigint");
    for signal in ["INT", "TERM"] {
        let out = dir.join(format!("out-{signal}"));
        let child = start(&dir, &out);
        std::thread::sleep(Duration::from_millis(1200));
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let t0 = Instant::now();
        let done = child.wait_with_output().unwrap();
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "SIG{signal}: took {:?} to stop",
            t0.elapsed()
        );
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(stderr.contains("interrupted at t = "), "{stderr}");
        let rows = check_files(&out);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["status"], "interrupted");
        assert!(summary["error"].as_str().unwrap().contains("interrupted at t = "));
        // every sample up to the stop is written, and the weights recording too
        assert_eq!(rows, summary["steps"].as_u64().unwrap(), "SIG{signal}");
        assert!(out.join("ee_weights.npy").is_file());
        // the Save after the interrupted Run did not run
        assert!(!out.join("end.bin").exists());
    }
}
