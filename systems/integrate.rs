//! Integrate stage: every network advances `steps_per_tick` steps, many per rayon task.

use crate::ecs::*;
use bevy_ecs::prelude::*;
use std::time::Instant;

/// Integrate stage: every network feeds its [`crate::ecs::Sensors`],
/// advances its own `steps_per_tick` steps and fills its
/// [`crate::ecs::Motors`] (networks in parallel, several per task).
pub fn integrate(
    mut engines: Query<(
        &mut NetworkEngine,
        Option<&crate::ecs::Sensors>,
        Option<&mut crate::ecs::Motors>,
    )>,
    mut timers: ResMut<StageTimers>,
) {
    let t0 = Instant::now();
    // rayon, not bevy's task pool: a host needs no TaskPoolPlugin, and
    // networks and their kernels share one pool. Networks are independent,
    // so the result does not depend on how they are split over threads.
    let mut all: Vec<_> = engines.iter_mut().collect();
    let run = |(eng, sensors, motors): &mut (
        Mut<NetworkEngine>,
        Option<&crate::ecs::Sensors>,
        Option<Mut<crate::ecs::Motors>>,
    )| {
        crate::ecs::run_engine_frame(eng, *sensors, motors.as_deref_mut());
    };
    if all.len() > 1 {
        use rayon::prelude::*;
        all.par_iter_mut().with_min_len(NETWORKS_PER_TASK).for_each(run);
    } else {
        all.iter_mut().for_each(run);
    }
    timers.integrate += t0.elapsed().as_secs_f64();
}

/// Networks stepped by one rayon task at least (small brains cost a few µs a
/// frame; one task each would spend a noticeable share on scheduling).
pub const NETWORKS_PER_TASK: usize = 8;

/// Integrate stage, after the steps: every closed loop's [`crate::ecs::Environment`]
/// moves as its motors say and shows its sensors the new view for the next frame
/// (a network stopped by non-finite state moves nothing).
pub fn move_environments(
    mut loops: Query<(
        &NetworkEngine,
        &mut crate::ecs::Environment,
        &mut crate::ecs::Sensors,
        &crate::ecs::Motors,
    )>,
) {
    for (eng, mut env, mut sensors, motors) in &mut loops {
        if !eng.net.health.stopped() {
            env.after_tick(eng.net.time(), eng.steps_per_tick, &mut sensors, motors);
        }
    }
}
