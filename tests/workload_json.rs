//! `cortecs workload --json` (what `benches/compare.py` reads): one parseable
//! `RESULT_JSON {...}` line; W4 `--arrays DIR` runs the arrays the test wrote
//! and compares its output and first loss with the test's own forward pass;
//! a wrong shape in DIR is a located user error.

use ndarray::{Array1, Array2, Array3};
use ndarray_npy::write_npy;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-workload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cortecs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// The one `RESULT_JSON` line of a successful run, parsed.
fn result_json(o: &Output) -> Value {
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "--json prints one line, got {out}");
    let json = lines[0].strip_prefix("RESULT_JSON ").expect("RESULT_JSON prefix");
    serde_json::from_str(json).expect("valid JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number '{key}' in {v}"))
}

#[test]
fn w1_json_is_one_parseable_line() {
    let v = result_json(&cortecs(&["--threads", "1", "workload", "w1", "--ms", "5", "--json"]));
    assert_eq!(v["workload"], "w1");
    assert_eq!(v["engine"], "cortecs");
    assert_eq!(num(&v, "threads"), 1.0);
    assert_eq!(num(&v, "ms"), 5.0);
    assert_eq!(num(&v, "neurons"), 4000.0);
    // p = 0.02 over 4000 x 4000 pairs: 320,000 expected, sd about 560
    assert!((num(&v, "synapses") - 320_000.0).abs() < 5_000.0, "{v}");
    for key in ["build_s", "sim_s", "bytes_per_synapse", "peak_rss_bytes"] {
        assert!(num(&v, key) > 0.0, "{key} in {v}");
    }
    let rate = num(&v, "rate_hz");
    assert!((num(&v, "spikes") / 4000.0 / 0.005 - rate).abs() < 1e-3, "{v}");
    assert!(v["rates_hz"]["neurons"].is_number(), "{v}");
    // without --json: text, no JSON line
    let o = cortecs(&["--threads", "1", "workload", "w1", "--ms", "2"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("w1: neurons 4000") && !text.contains("RESULT_JSON"),
        "{text}"
    );
}

/// Small CTRNN arrays, dims [3, 6, 2], batch 4, 7 steps, written as torch writes them.
struct W4 {
    w_in: Array2<f32>,
    w_hid: Array2<f32>,
    b_hid: Array1<f32>,
    w_out: Array2<f32>,
    b_out: Array1<f32>,
    u: Array3<f32>,
    target: Array3<f32>,
}

fn w4_arrays() -> W4 {
    let f = |k: usize, s: f32| (k as f32 * 0.7 + s).sin() * 0.5;
    W4 {
        w_in: Array2::from_shape_fn((6, 3), |(i, j)| f(i * 3 + j, 0.1)),
        w_hid: Array2::from_shape_fn((6, 6), |(i, j)| f(i * 6 + j, 0.2) * 0.8),
        b_hid: Array1::from_shape_fn(6, |i| f(i, 0.3) * 0.2),
        w_out: Array2::from_shape_fn((2, 6), |(i, j)| f(i * 6 + j, 0.4)),
        b_out: Array1::from_shape_fn(2, |i| f(i, 0.5) * 0.1),
        u: Array3::from_shape_fn((7, 4, 3), |(t, b, i)| f(t * 12 + b * 3 + i, 0.6) * 2.0),
        target: Array3::from_shape_fn((7, 4, 2), |(t, b, o)| f(t * 8 + b * 2 + o, 0.7)),
    }
}

/// The W4 equations in plain f64: v_t = (1 - a) v + a (W_hid r + b_hid + W_in u_t), y = W_out r + b_out.
fn direct_forward(w: &W4) -> Array3<f64> {
    let (steps, batch, n_in) = w.u.dim();
    let (h, o) = (w.w_hid.nrows(), w.w_out.nrows());
    let mut y = Array3::zeros((steps, batch, o));
    for b in 0..batch {
        let (mut v, mut r) = (vec![0.0f64; h], vec![0.0f64; h]);
        for t in 0..steps {
            let mut nv = vec![0.0; h];
            for i in 0..h {
                let mut x = f64::from(w.b_hid[i]);
                x += (0..h).map(|j| f64::from(w.w_hid[[i, j]]) * r[j]).sum::<f64>();
                x += (0..n_in)
                    .map(|j| f64::from(w.w_in[[i, j]]) * f64::from(w.u[[t, b, j]]))
                    .sum::<f64>();
                nv[i] = 0.9 * v[i] + 0.1 * x;
            }
            v = nv;
            r = v.iter().map(|x| x.tanh()).collect();
            for k in 0..o {
                y[[t, b, k]] = f64::from(w.b_out[k]) + (0..h).map(|j| f64::from(w.w_out[[k, j]]) * r[j]).sum::<f64>();
            }
        }
    }
    y
}

fn write(dir: &Path, w: &W4, y0: &Array3<f32>, losses: &Array1<f64>) {
    write_npy(dir.join("W_in.npy"), &w.w_in).unwrap();
    write_npy(dir.join("W_hid.npy"), &w.w_hid).unwrap();
    write_npy(dir.join("b_hid.npy"), &w.b_hid).unwrap();
    write_npy(dir.join("W_out.npy"), &w.w_out).unwrap();
    write_npy(dir.join("b_out.npy"), &w.b_out).unwrap();
    write_npy(dir.join("u.npy"), &w.u).unwrap();
    write_npy(dir.join("target.npy"), &w.target).unwrap();
    write_npy(dir.join("y0.npy"), y0).unwrap();
    write_npy(dir.join("losses.npy"), losses).unwrap();
}

#[test]
fn w4_arrays_round_trip_output_and_first_loss() {
    let dir = tmp("w4");
    let w = w4_arrays();
    let y = direct_forward(&w);
    let mse = y
        .iter()
        .zip(w.target.iter())
        .map(|(a, &b)| (a - f64::from(b)).powi(2))
        .sum::<f64>()
        / y.len() as f64;
    write(&dir, &w, &y.mapv(|x| x as f32), &Array1::from(vec![mse, 0.0]));
    let d = dir.to_str().unwrap();
    let args = [
        "workload", "w4", "--json", "--arrays", d, "--train", "--iters", "3", "--warmup", "1",
    ];
    let v = result_json(&cortecs(&args));
    assert_eq!(v["workload"], "w4");
    assert_eq!(v["dims"], serde_json::json!([3, 6, 2]));
    assert_eq!((num(&v, "batch"), num(&v, "steps"), num(&v, "hidden")), (4.0, 7.0, 6.0));
    assert!(num(&v, "max_abs_dy") < 1e-5, "engine forward vs the test's: {v}");
    assert!((num(&v, "y000") - y[[0, 0, 0]]).abs() < 1e-5, "{v}");
    assert!(
        (num(&v, "loss_first") - mse).abs() / mse < 1e-4,
        "first loss vs the test's MSE: {v}"
    );
    assert!(num(&v, "loss_first_rel_diff") < 1e-4, "{v}");
    assert_eq!(num(&v, "train_steps"), 4.0);
    assert!(
        num(&v, "loss_last") < num(&v, "loss_first"),
        "Adam lowers the loss: {v}"
    );
    for key in ["forward_ms", "train_ms", "peak_rss_bytes"] {
        assert!(num(&v, key) > 0.0, "{key} in {v}");
    }
    assert_eq!(v["arrays"], d);

    // a wrong shape is a user error naming the file
    write_npy(dir.join("W_hid.npy"), &Array2::<f32>::zeros((6, 5))).unwrap();
    let o = cortecs(&["workload", "w4", "--arrays", d]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("W_hid.npy") && err.contains("[6, 5]"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
