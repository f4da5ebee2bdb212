//! Runs a reference workload and prints spike counts and timings.
//! `cargo run --release --example workload -- w1|w2 [n_exc]`
use std::time::Instant;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("w1");
    let t0 = Instant::now();
    let mut net = match which {
        "w1" => cortecs::workloads::coba(12345, std::path::Path::new("scenes/data"))?,
        _ => cortecs::workloads::brunel(12345, args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(10_000))?,
    };
    let build = t0.elapsed().as_secs_f64();
    let syn: u64 = net.projections.iter().map(|p| p.store.live()).sum();
    let t1 = Instant::now();
    net.run_ms(1000.0)?;
    let sim = t1.elapsed().as_secs_f64();
    let spikes: u64 = net.populations.iter().map(|p| p.spike_count).sum();
    let n: usize = net.populations.iter().map(|p| p.size).sum();
    println!("{which}: build {build:.3} s, sim {sim:.3} s, synapses {syn}, spikes {spikes}, rate {:.2} Hz", spikes as f64 / n as f64);
    Ok(())
}
