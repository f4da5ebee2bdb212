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
/// section claims a 4.6e18-byte name aborted on allocation; it is now a
/// decode error naming the file.
#[test]
fn a_checkpoint_claiming_a_huge_name_is_an_error() {
    let input =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/checkpoint/huge_string_length_in_draw_counts");
    let bytes = std::fs::read(input).unwrap();
    let (&mode, payload) = bytes.split_first().unwrap();
    assert_eq!(mode % 2, 0, "the finding is a payload inside a valid header");
    let dir = std::env::temp_dir().join(format!("cortecs-huge-name-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge_name.ckpt");
    std::fs::write(
        &path,
        harness::checkpoint_file(payload, cortecs::checkpoint::FORMAT_VERSION),
    )
    .unwrap();
    let e = match cortecs::checkpoint::load(&path) {
        Ok(_) => panic!("a corrupt checkpoint loaded"),
        Err(e) => e.to_string(),
    };
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.contains("huge_name.ckpt"), "{e}");
}
