//! Replays every input the fuzzers found (`fuzz/regressions/<target>/`, one
//! file per finding, named after what it broke) and the committed seed
//! corpus (`fuzz/seeds/<target>/`) through the fuzz targets' own code
//! (`fuzz/harness.rs`), without libFuzzer: each must return normally.
//! The fuzzing itself: `fuzz/README.md`.

#[path = "../fuzz/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

/// Runs `target` on every file of `fuzz/<folder>/<name>/`; returns how many.
fn replay(folder: &str, name: &str, target: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(folder)
        .join(name);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries.map(|e| e.expect("a readable folder").path()).collect();
    files.sort();
    for f in &files {
        let bytes = std::fs::read(f).expect("a readable input");
        let caught = std::panic::catch_unwind(|| target(&bytes));
        assert!(caught.is_ok(), "{}: the {name} target panicked on it", f.display());
    }
    files.len()
}

fn replay_all(name: &str, target: fn(&[u8])) -> usize {
    replay("regressions", name, target) + replay("seeds", name, target)
}

#[test]
fn scene_inputs_found_by_fuzzing_are_answered() {
    assert!(replay_all("scene", harness::scene) > 0);
}

#[test]
fn expression_inputs_found_by_fuzzing_are_answered() {
    assert!(replay_all("expr", harness::expr) > 0);
}

#[test]
fn checkpoint_inputs_found_by_fuzzing_are_answered() {
    assert!(replay_all("checkpoint", harness::checkpoint) > 0);
}

#[test]
fn npy_inputs_found_by_fuzzing_are_answered() {
    assert!(replay_all("npy", harness::npy) > 0);
}

#[test]
fn network_inputs_found_by_fuzzing_are_answered() {
    assert!(replay_all("network", harness::network) > 0);
}

/// The first finding of the checkpoint target: a payload whose draw-count
/// section claims a 4.6e18-byte name aborted on allocation.
#[test]
fn a_checkpoint_claiming_a_huge_name_is_an_error() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/checkpoint/huge_string_length_in_draw_counts");
    let bytes = std::fs::read(path).unwrap();
    harness::checkpoint(&bytes);
}
