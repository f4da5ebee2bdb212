//! Masks and constraints of a projection (nn4n's rules), as pure functions
//! over a [`SynapseStore`](crate::store::SynapseStore).
//!
//! Every mask is **post x pre**, the orientation of the weight matrix `W` in
//! `y = W r` (and of nn4n's masks): entry `[post, pre]` speaks of the synapse
//! from `pre` to `post`.
//!
//! - the **sparsity mask** (0/1): a zero entry never holds a synapse;
//! - the **E/I mask** (+1/-1, per synapse or per pre neuron): the sign of
//!   every synapse; with Dale's law on, a weight of the wrong sign becomes 0
//!   (nn4n's relu / -relu rule), it is never flipped;
//! - the **plasticity mask** (a factor in [0, 1]): how much a synapse learns;
//! - the **growth mask** (a probability in [0, 1]): how likely an absent
//!   synapse grows; stored, validated and queried here;
//! - **self-connections** off masks out the diagonal of a recurrent projection;
//! - **E/I balance** scales the inhibitory weights onto each post neuron so
//!   that its inputs sum to zero.
//!
//! Files: [`Masks`] and their constructors (`masks.rs`); [`enforce`] applies
//! them to the synapses that changed ([`Scope`]) and [`enforce_touched`] also
//! says which slots it touched (`enforce.rs`); nn4n's structure generators
//! [`MultiArea`], [`MultiAreaEI`], [`RandomInput`] (`generators.rs`) and their
//! pictures (`plot.rs`, PNG from [`crate::io`]); [`MaskError`] (`error.rs`).
//!
//! Neighbours: the store the masks act on is `crate::store` (later
//! `projection/`); a projection's declared masks are read into [`Masks`] by
//! `Network::resolve_masks` in `network`; random draws come from
//! [`crate::rng::Stream`].

mod enforce;
mod error;
mod generators;
mod masks;
mod plot;

pub use enforce::*;
pub use error::*;
pub use generators::*;
pub use masks::*;
pub use plot::*;
