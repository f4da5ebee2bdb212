//! A model-based test of the weight sync: random networks and random
//! sequences of user operations (weights edited by entity and by (pre,
//! post), lesions, selections, every adjuster on E, I and both, dense and
//! sparse writes, mask changes, growth, pruning, steps, save and load) are
//! applied to the engine and to a dense reference model written here
//! (`sync_model/reference.rs`: a post x pre grid of synapses, the masks,
//! E/I signs and Dale's law as the README states them). After every
//! operation the store's reads, the mirror entities and what the next step
//! uses (the dense kernel, and a one-step propagation of unit rates through
//! identity units) must agree with the reference bit for bit, and every
//! mask, Dale's law and the pruning counters must hold.
//!
//! Proptest shrinks a failure to a minimal network and operation sequence.
//! `PROPTEST_CASES` sets the number of cases (default 64 in debug, 256 in
//! release); `sync_model_thousands_of_cases` (ignored, run by `.ci/run` in
//! release) runs 5,000 (about 10 s in release).

#[path = "sync_model/check.rs"]
mod check;
mod common;
#[path = "sync_model/ops.rs"]
mod ops;
#[path = "sync_model/reference.rs"]
mod reference;
#[path = "sync_model/setup.rs"]
mod setup;

use check::check;
use ops::{Op, apply, fit, op};
use proptest::collection::vec;
use proptest::prelude::*;
use setup::{Setup, build, setup};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Operations per case, at most.
const OPS: usize = 40;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    }
}

/// A folder of its own for each case's checkpoints, removed when the case
/// ends (also when it fails, as thousands do while proptest shrinks).
struct CaseDir(std::path::PathBuf);

impl CaseDir {
    fn new() -> CaseDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("cortecs-sync-model-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        CaseDir(dir)
    }
}

impl Drop for CaseDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn run_case(setup: &Setup, ops: &[Op]) {
    let dir = CaseDir::new();
    let (mut sim, mut refs) = build(setup);
    check(&mut sim, &refs, "after build");
    for (n, op) in ops.iter().enumerate() {
        let op = &fit(op, &refs);
        let ctx = format!("op {n} ({op:?})");
        if !apply(&mut sim, &mut refs, op, &dir.0, &ctx) {
            continue;
        }
        if !matches!(op, Op::Run { .. } | Op::SaveLoad) {
            // API edits reach the entities at the next schedule run; a run
            // segment and a load are schedule runs themselves
            sim.sync().unwrap();
        }
        let errors = std::mem::take(&mut sim.engine_mut().unwrap().edit_errors);
        assert!(errors.is_empty(), "{ctx}: edit errors {errors:?}");
        check(&mut sim, &refs, &ctx);
    }
}

proptest! {
    #![proptest_config(config(cases(if cfg!(debug_assertions) { 64 } else { 256 })))]

    #[test]
    fn engine_and_reference_agree_after_every_operation(setup in setup(), ops in vec(op(), 1..OPS)) {
        run_case(&setup, &ops);
    }
}

proptest! {
    #![proptest_config(config(cases(5000)))]

    #[test]
    #[ignore = "thousands of cases: cargo test --release --test sync_model -- --ignored"]
    fn sync_model_thousands_of_cases(setup in setup(), ops in vec(op(), 1..OPS)) {
        run_case(&setup, &ops);
    }
}
