//! Projections (PyNN's `Projection`, rapier's one-concept-in-four-files):
//! the synapses from a pre to a post population, and everything that reads
//! or changes them.
//!
//! - `spec.rs`: [`ProjectionSpec`], what is declared (strategy, weights, delays, masks);
//! - `projection.rs`: [`Projection`], what is built, and its one edit
//!   protocol: every change ends in `commit` (masks enforced, kernel
//!   patched, changes logged);
//! - the store itself ([`crate::store::SynapseStore`]) is a floor below,
//!   in `store/`, re-exported here;
//! - `slot.rs`: [`SynapseSlot`], the engine-owned handle of a mirror's slot;
//! - `changes.rs`: [`StoreChanges`], what the mirrors must resync;
//! - `matrix.rs`: dense / COO / CSR reads and writes ([`Coo`], [`Csr`], [`Written`]);
//! - `edit.rs`: creating synapses, rows, selections, reapply, mask changes;
//! - `adjust.rs`: Simbrain's adjusters and selections ([`Adjuster`], [`Selection`]);
//! - `matrix_ops.rs`: Simbrain's matrix operations: eigenvalues, spectral
//!   radius and scaling to one, randomize symmetric ([`EigenMethod`]; the
//!   solvers are in `linalg/`).
//!
//! This folder never names the `Network`: the by-name facade is
//! `network/weights.rs` (and `network/matrix_ops.rs`). Strategies that fill a store are in `connect/`,
//! the masks in `mask/`, the loops that read a store in `kernel/`.

mod adjust;
mod changes;
mod edit;
mod error;
mod matrix;
mod matrix_ops;
#[allow(clippy::module_inception)]
mod projection;
mod slot;
mod spec;

pub use crate::store::*;
pub use adjust::*;
pub use changes::*;
pub use error::*;
pub use matrix::{Coo, Csr, Written};
pub(crate) use matrix::{admit, check_finite, dense_entries, new_sign, no_synapse};
pub use matrix_ops::{DENSE_ALL_MAX, DENSE_EIGEN_MAX, EigenMethod, eigenvalues, spectral_radius};
pub use projection::{DENSE_MIN_DENSITY, Projection};
pub use slot::*;
pub use spec::*;
