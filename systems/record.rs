//! Record stage: every network's [`Recorders`] take their samples.

use crate::ecs::*;
use bevy_ecs::prelude::*;
use std::time::Instant;

/// Record stage: samples every network's recorders at the end of the tick;
/// the first error is kept in [`Recorders::error`] and stops that recording.
pub fn record_networks(mut networks: Query<(&mut NetworkEngine, &mut Recorders)>, mut timers: ResMut<StageTimers>) {
    let t0 = Instant::now();
    for (mut eng, mut recs) in &mut networks {
        // a network stopped by non-finite state records nothing more (no NaN reaches a file)
        if recs.error.is_some() || eng.net.health.stopped() {
            continue;
        }
        if let Err(e) = recs.sample(&mut eng.net) {
            recs.error = Some(e);
        }
    }
    timers.record += t0.elapsed().as_secs_f64();
}
