//! Resident memory of a soak run: reads the `rss.csv` written by
//! `benches/scripts/soak.sh` (wall_s, sim_ms, rss_kib), draws it against
//! simulated time and prints the spread after warm-up (the first 5 % of
//! the simulated time).
//!
//! ```text
//! cargo run --release --example rss_plot -- RSS_CSV OUT_PNG STEPS
//! ```

use cortecs::record::plot::{LineChart, Series, line_chart};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [csv, png, steps] = args.as_slice() else {
        return Err("usage: rss_plot RSS_CSV OUT_PNG STEPS".into());
    };
    let steps: f64 = steps.parse().map_err(|e| format!("STEPS {steps:?}: {e}"))?;
    let total_ms = steps * 0.1;
    let text = std::fs::read_to_string(csv).map_err(|e| format!("{csv}: {e}"))?;
    let mut samples = Vec::new();
    for (k, line) in text.lines().enumerate().skip(1) {
        let f: Vec<f64> = line
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{csv}:{}: {e}", k + 1))?;
        let [_wall_s, sim_ms, rss_kib] = f[..] else {
            return Err(format!("{csv}:{}: expected 3 columns", k + 1).into());
        };
        samples.push((sim_ms, rss_kib / 1024.0));
    }
    let warm: Vec<f64> = samples.iter().filter(|s| s.0 >= 0.05 * total_ms).map(|s| s.1).collect();
    if warm.is_empty() {
        return Err(format!("{csv}: no sample after warm-up (5 % of {total_ms} ms)").into());
    }
    let lo = warm.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = warm.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "{} samples, {} after warm-up: resident memory {lo:.2} .. {hi:.2} MiB, spread {:.2} %",
        samples.len(),
        warm.len(),
        100.0 * (hi - lo) / lo
    );
    let chart = LineChart {
        title: format!(
            "Resident memory of a {:.0} M-step soak (W1 with STDP, 1 thread)",
            steps / 1e6
        ),
        x_label: "simulated time (s)".into(),
        y_label: "resident memory (MiB)".into(),
        series: vec![Series {
            label: String::new(),
            points: samples
                .iter()
                .filter(|s| s.0 > 0.0)
                .map(|s| (s.0 / 1000.0, s.1))
                .collect(),
            rgb: [31, 119, 180],
        }],
        y_range: Some((0.0, (hi * 1.25).ceil())),
    };
    line_chart(Path::new(png), &chart, (900, 450))?;
    println!("wrote {png}");
    Ok(())
}
