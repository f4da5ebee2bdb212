//! The synapse store: one projection's synapses as the engine keeps them, a
//! structure of arrays in compressed-row order (see [`SynapseStore`]), with
//! the sign constants of Dale's law and the whole-store reads (dense, COO,
//! statistics by sign, degrees).
//!
//! A floor of its own, below `connect/` (which fills stores), `mask/` (which
//! enforces on them) and `projection/` (whose edit protocol is the only
//! writer of a built projection's store); the loops that read stores are in
//! `kernel/`.

mod error;
mod indices;
mod stats;
#[allow(clippy::module_inception)]
mod store;

pub use error::*;
pub use indices::*;
pub use stats::*;
pub use store::*;
