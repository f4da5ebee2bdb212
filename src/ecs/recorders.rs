//! Recorders attached to a network entity, sampled by the Record stage
//! (`systems/record.rs`): spikes and state probes streamed to `.npy` files.

use crate::error::{CortecsError, Result};
use crate::network::Network;
use crate::record::{RecordError, SpikeRecorder, SpikeSummary, StateRecorder, StateSummary};
use bevy_ecs::prelude::*;
use std::time::{Duration, Instant};

/// The recorders of one network: spike recorders of populations that record
/// spikes, and state probes. The Record stage drains each recorded
/// population's spike buffer and samples each probe whose interval is due,
/// at the end of every tick, and writes what they hold to disk (synced) at
/// least every [`Recorders::flush_every`] of wall-clock time, so a killed run
/// loses at most that much. A write error stops the recording and is kept
/// in [`Recorders::error`]; what was written stays on disk.
#[derive(Component)]
pub struct Recorders {
    /// (population index, recorder).
    pub spikes: Vec<(usize, SpikeRecorder)>,
    /// (population index, variable, probe).
    pub states: Vec<(usize, String, StateRecorder)>,
    /// The first error of a sample, if any (nothing more is recorded then).
    pub error: Option<CortecsError>,
    /// The network step of the last samples: a tick that advanced no step
    /// (edits only) samples nothing twice.
    sampled_at: u64,
    /// Longest wall-clock time between two writes to disk (default [`DEFAULT_FLUSH_EVERY`]).
    pub flush_every: Duration,
    last_flush: Instant,
}

/// Default longest wall-clock time between two writes of the recordings to disk (2 s).
pub const DEFAULT_FLUSH_EVERY: Duration = Duration::from_secs(2);

impl Default for Recorders {
    fn default() -> Self {
        Recorders::new(Vec::new(), Vec::new(), 0)
    }
}

impl Recorders {
    /// Recorders attached at network step `now` (what is due at `now` itself
    /// is not sampled: the first samples come after the first step).
    pub fn new(
        spikes: Vec<(usize, SpikeRecorder)>,
        states: Vec<(usize, String, StateRecorder)>,
        now: u64,
    ) -> Recorders {
        Recorders {
            spikes,
            states,
            error: None,
            sampled_at: now,
            flush_every: DEFAULT_FLUSH_EVERY,
            last_flush: Instant::now(),
        }
    }

    /// Steps from network step `step` to the next step some probe samples
    /// (at least 1), if any probe: the longest tick that samples every probe
    /// on time, whatever the intervals and wherever a run segment ends.
    pub fn steps_to_next_sample(&self, step: u64) -> Option<u64> {
        self.states.iter().map(|(_, _, r)| r.every() - step % r.every()).min()
    }

    /// Writes everything the recorders hold to their files and syncs them to disk.
    pub fn sync(&mut self) -> std::result::Result<(), RecordError> {
        for (_, r) in &mut self.spikes {
            r.sync()?;
        }
        for (_, _, r) in &mut self.states {
            r.sync()?;
        }
        self.last_flush = Instant::now();
        Ok(())
    }

    /// Takes one tick's samples from `net` (what the Record stage runs).
    pub fn sample(&mut self, net: &mut Network) -> Result<()> {
        if net.step == self.sampled_at {
            return Ok(());
        }
        self.sampled_at = net.step;
        let dt = net.dt;
        for (pop, rec) in &mut self.spikes {
            if let Some(buf) = &mut net.populations[*pop].spike_record {
                let mut k = 0;
                while k < buf.len() {
                    let step = buf[k].0;
                    let mut e = k;
                    while e < buf.len() && buf[e].0 == step {
                        e += 1;
                    }
                    let idx: Vec<u32> = buf[k..e].iter().map(|x| x.1).collect();
                    rec.push(step as f64 * dt, &idx)?;
                    k = e;
                }
                buf.clear();
            }
        }
        let t_ms = net.time();
        for (pop, var, rec) in &mut self.states {
            if rec.wants(net.step) {
                let all = net.populations[*pop].get(var)?;
                let vals: Vec<f64> = rec.neurons().iter().map(|&i| all[i as usize]).collect();
                rec.push(t_ms, &vals)?;
            }
        }
        if self.last_flush.elapsed() >= self.flush_every {
            self.sync()?;
        }
        Ok(())
    }

    /// Writes what the recorders hold, closes every file and returns what each wrote.
    pub fn finish(self) -> std::result::Result<(Vec<SpikeSummary>, Vec<StateSummary>), RecordError> {
        // (a recorder dropped after an error here still writes what it holds)
        let mut spikes = Vec::new();
        for (_, r) in self.spikes {
            spikes.push(r.finish()?);
        }
        let mut states = Vec::new();
        for (_, _, r) in self.states {
            states.push(r.finish()?);
        }
        Ok((spikes, states))
    }
}
