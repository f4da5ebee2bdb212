//! Adjust stage: edits scheduled on a network's [`Timeline`] applied when due.

use crate::ecs::*;
use crate::population::View;
use bevy_ecs::prelude::*;
use std::time::Instant;

/// Adjust stage: applies every network's due [`ScheduledEdit`]s in order;
/// a failing edit is kept in [`Timeline::errors`] and the rest still run.
pub fn run_timelines(mut networks: Query<(&mut NetworkEngine, &mut Timeline)>, mut timers: ResMut<StageTimers>) {
    let t0 = Instant::now();
    for (mut eng, mut timeline) in &mut networks {
        let step = eng.net.step;
        if !timeline.has_due(step) {
            continue;
        }
        for (i, edit) in timeline.take_due(step) {
            let net = &mut eng.net;
            let done = match edit {
                ScheduledEdit::Adjust {
                    projection,
                    adjuster,
                    filter,
                } => net.adjust(&projection, &adjuster, filter).map(|_| ()),
                ScheduledEdit::LesionPair { projection, pre, post } => net.lesion(&projection, pre, post),
                ScheduledEdit::SetWeights { projection, weights } => {
                    net.set_weights_dense(&projection, weights.view()).map(|_| ())
                }
                ScheduledEdit::Lesion {
                    projection,
                    selection,
                    filter,
                } => net.lesion_selection(&projection, &selection, filter).map(|_| ()),
                ScheduledEdit::Set {
                    population,
                    name,
                    neurons,
                    value,
                } => {
                    let view = neurons.map_or(View::All, View::Indices);
                    net.set(&population, &name, &view, value)
                }
            };
            if let Err(e) = done {
                timeline.errors.push((i, e));
            }
        }
    }
    timers.adjust += t0.elapsed().as_secs_f64();
}
