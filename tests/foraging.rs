//! The foraging example (examples/foraging.rs) at a small size: evolution
//! must beat random weights on the unseen test world, deterministically.

#[path = "../examples/foraging.rs"]
#[allow(dead_code)]
mod foraging;

use foraging::{Config, run};

fn small() -> Config {
    Config {
        agents: 40,
        frames: 150,
        generations: 5,
        hidden: 8,
        quiet: true,
        ..Config::default()
    }
}

#[test]
fn evolved_agents_eat_more_than_random_ones() {
    let cfg = small();
    let r = run(&cfg).unwrap();
    assert_eq!(r.generations.len(), 6);
    assert!(r.random > 0, "{r:?}");
    assert!(r.evolved as f64 > 1.5 * r.random as f64, "{r:?}");
    // the same seed gives the same run, to the last food item, at any thread count
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(one_thread.install(|| run(&cfg)).unwrap(), r);
}

#[test]
fn bad_settings_are_clear_errors() {
    let err = |c: Config| run(&c).unwrap_err().to_string();
    assert!(err(Config { agents: 1, ..small() }).contains("--agents"));
    assert!(err(Config { elite: 0.0, ..small() }).contains("--elite"));
    assert!(
        err(Config {
            sigma: f64::NAN,
            ..small()
        })
        .contains("--sigma")
    );
    assert!(err(Config { hidden: 1, ..small() }).contains("--hidden"));
}
