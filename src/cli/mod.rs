//! The command line's subcommands (`cortecs run`, `check`, `inspect`,
//! `sweep`, `train`, `workload`), one file each; `main.rs` parses the arguments and maps
//! results to exit codes.

mod inspect;
mod run;
mod sweep;
mod train;
mod workload;

pub use inspect::{check, inspect};

/// Exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C).
pub const INTERRUPTED: u8 = 130;
pub use run::{RunArgs, run};
pub use sweep::{Seeds, SweepArgs, parse_seeds, parse_shard, parse_vary, sweep};
pub use train::train;
pub use workload::{WorkloadArgs, workload};

/// println! that ends quietly when stdout is closed (e.g. piped into `head`).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
pub(crate) use say;

/// `PATH=VALUE` of `--set`, split at the first `=`.
pub fn parse_set(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((p, v)) if !p.is_empty() && !v.is_empty() => Ok((p.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "expected PATH=VALUE (e.g. populations.exc.params.tau_m=10.0), got '{s}'"
        )),
    }
}
