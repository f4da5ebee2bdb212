//! Environments a brain is coupled to in a closed loop: pure models of a
//! body and its world (no `Entity`, no `World`). The ECS `Environment`
//! component puts one beside a network's `Sensors` and `Motors`; the
//! Integrate stage moves it after each frame.
//!
//! - `vehicle.rs`: [`Vehicle`], a Braitenberg vehicle with two light sensors
//!   and two wheels in a square arena.

mod vehicle;

pub use vehicle::*;
