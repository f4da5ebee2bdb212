//! Edits scheduled at a time step, applied by the Adjust stage
//! (`systems/adjust.rs`): adjusters, lesions and pruning while the network runs.

use crate::error::CortecsError;
use crate::param::Value;
use crate::projection::{Adjuster, Selection, SignFilter};
use bevy_ecs::prelude::*;

/// One scheduled edit of a projection.
#[derive(Clone, Debug)]
pub enum ScheduledEdit {
    /// An adjuster (Simbrain's; prune and reapply included) on the synapses a filter covers.
    Adjust {
        /// The projection.
        projection: String,
        /// What to do.
        adjuster: Adjuster,
        /// Which synapses.
        filter: SignFilter,
    },
    /// A lesion of the synapses from `pre` to `post`.
    LesionPair {
        /// The projection.
        projection: String,
        /// Pre neuron.
        pre: u32,
        /// Post neuron.
        post: u32,
    },
    /// A whole post x pre weight matrix written (masks enforced after).
    SetWeights {
        /// The projection.
        projection: String,
        /// The weights, post x pre.
        weights: ndarray::Array2<f32>,
    },
    /// A lesion of the synapses a selection covers.
    Lesion {
        /// The projection.
        projection: String,
        /// Which synapses.
        selection: Selection,
        /// Of which sign.
        filter: SignFilter,
    },
    /// A parameter or state variable of some neurons set (PyNN's `set`).
    Set {
        /// The population.
        population: String,
        /// Parameter or state variable.
        name: String,
        /// Neurons (`None`: all).
        neurons: Option<Vec<usize>>,
        /// The value.
        value: Value,
    },
}

/// Edits scheduled on a network entity: each is applied by the Adjust stage
/// of the first tick that ends at or after its step, in the order given
/// (ties keep their order). What an edit changes reaches the mirrors at the
/// next Compile stage, as any API edit does.
#[derive(Component, Default, Debug)]
pub struct Timeline {
    events: Vec<(u64, ScheduledEdit)>,
    next: usize,
    /// Edits that failed: (index in the order they were scheduled, why).
    pub errors: Vec<(usize, CortecsError)>,
}

impl Timeline {
    /// Schedules `edit` at step `step` (steps must not decrease: a later
    /// edit at an earlier step goes after the earlier ones all the same).
    pub fn at(&mut self, step: u64, edit: ScheduledEdit) -> usize {
        let step = self.events.last().map_or(step, |(s, _)| step.max(*s));
        self.events.push((step, edit));
        self.events.len() - 1
    }

    /// The edits due at `step` (not yet applied), with their index; marks them applied.
    pub(crate) fn take_due(&mut self, step: u64) -> Vec<(usize, ScheduledEdit)> {
        let start = self.next;
        while self.next < self.events.len() && self.events[self.next].0 <= step {
            self.next += 1;
        }
        (start..self.next).map(|i| (i, self.events[i].1.clone())).collect()
    }

    /// True when an edit waits for step `step` or earlier.
    pub fn has_due(&self, step: u64) -> bool {
        self.events.get(self.next).is_some_and(|(s, _)| *s <= step)
    }

    /// Edits not applied yet.
    pub fn pending(&self) -> usize {
        self.events.len() - self.next
    }
}
