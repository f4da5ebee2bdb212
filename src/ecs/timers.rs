//! Wall-clock time spent in each stage (rapier's stage counters), as data.

use bevy_ecs::prelude::*;

/// Per-stage wall-clock timers (seconds, accumulated over schedule runs),
/// one per stage of [`crate::systems::CortecsSystems`], like rapier's counters.
/// Mirror syncing is counted in the stage that ran it (Build or Compile).
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct StageTimers {
    /// Build stage: strategies run, mirrors spawned.
    pub build: f64,
    /// Constrain stage: masks enforced after direct store writes.
    pub constrain: f64,
    /// Compile stage: entity edits folded into the stores, mirrors synced.
    pub compile: f64,
    /// Stimulate stage: queued inputs applied.
    pub stimulate: f64,
    /// Integrate stage: the kernels.
    pub integrate: f64,
    /// Writeback stage: mirrors refreshed.
    pub writeback: f64,
    /// Adjust stage: scheduled adjusters, lesions, growth and pruning.
    pub adjust: f64,
    /// Record stage: recorders sample.
    pub record: f64,
}

impl StageTimers {
    /// The stages' names and seconds, in run order.
    pub fn stages(&self) -> [(&'static str, f64); 8] {
        [
            ("build", self.build),
            ("constrain", self.constrain),
            ("compile", self.compile),
            ("stimulate", self.stimulate),
            ("integrate", self.integrate),
            ("writeback", self.writeback),
            ("adjust", self.adjust),
            ("record", self.record),
        ]
    }

    /// Seconds in all stages together.
    pub fn total(&self) -> f64 {
        self.stages().iter().map(|(_, s)| s).sum()
    }
}
