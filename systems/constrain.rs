//! Constrain stage: masks enforced on projections whose weights were written
//! in bulk ([`crate::projection::Projection::weights_mut`]).

use crate::ecs::*;
use bevy_ecs::prelude::*;
use std::time::Instant;

/// Constrain stage: enforces the masks on projections whose weights were
/// written in bulk (flagged by [`crate::projection::Projection::weights_mut`]).
pub fn constrain_networks(mut engines: Query<&mut NetworkEngine>, mut timers: ResMut<StageTimers>) {
    let t0 = Instant::now();
    for mut eng in &mut engines {
        if eng.net.projections.iter().any(|p| p.constrain_pending()) {
            eng.net.enforce_constraints();
        }
    }
    timers.constrain += t0.elapsed().as_secs_f64();
}
