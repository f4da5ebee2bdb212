//! A standalone simulation: a `World` and a `Schedule` with cortecs' stages,
//! holding one network entity.
//!
//! ```
//! use cortecs::prelude::*;
//! let mut sim = Simulation::new(0.1, 42).unwrap();
//! sim.add_population(PopulationSpec::new("exc", 100, ModelKind::Lif { synapse: SynapseKind::CurrExp })).unwrap();
//! sim.add_projection(ProjectionSpec::new("ee", "exc", "exc", Strategy::FixedProbability { p: 0.1, equalize_efferents: false }).weight(50.0)).unwrap();
//! sim.build().unwrap();
//! sim.run_ms(10.0).unwrap();
//! assert_eq!(sim.network().unwrap().step, 100);
//! ```

use crate::ecs::NetworkEngine;
use crate::error::{CortecsError, Result};
use crate::network::Network;
use crate::population::PopulationSpec;
use crate::projection::ProjectionSpec;
use crate::systems;
use bevy_ecs::prelude::*;

/// A `World` + `Schedule` running one network.
pub struct Simulation {
    /// The world: the network entity, population, neuron, projection and synapse entities.
    pub world: World,
    /// The schedule with cortecs' stages (add host systems between them).
    pub schedule: Schedule,
    /// The network entity.
    pub network: Entity,
}

impl Simulation {
    /// A simulation with time step `dt` (ms) and global `seed`.
    pub fn new(dt: f64, seed: u64) -> Result<Simulation> {
        Ok(Simulation::from_network(Network::new(dt, seed)?))
    }

    /// A simulation of an existing network.
    pub fn from_network(net: Network) -> Simulation {
        let mut world = World::new();
        world.insert_resource(crate::ecs::EditQueue::default());
        world.insert_resource(crate::ecs::StageTimers::default());
        let network = world.spawn(NetworkEngine::new(net)).id();
        let mut schedule = Schedule::new(systems::CortecsSchedule);
        // The stages run one after the other and parallelise inside (rayon):
        // the single-threaded executor costs least per tick.
        schedule.set_executor(bevy_ecs::schedule::SingleThreadedExecutor::new());
        systems::add_to_schedule(&mut schedule);
        Simulation {
            world,
            schedule,
            network,
        }
    }

    /// The engine component; an error once a host has despawned the
    /// network entity (or removed its engine) through `world`.
    pub fn engine(&self) -> Result<&NetworkEngine> {
        self.world.get::<NetworkEngine>(self.network).ok_or_else(|| self.gone())
    }

    /// The engine component, mutable (see [`Simulation::engine`]).
    pub fn engine_mut(&mut self) -> Result<Mut<'_, NetworkEngine>> {
        let gone = self.gone();
        self.world.get_mut::<NetworkEngine>(self.network).ok_or(gone)
    }

    fn gone(&self) -> CortecsError {
        CortecsError::InvalidRequest(format!(
            "the simulation's network entity {:?} was despawned (or lost its NetworkEngine)",
            self.network
        ))
    }

    /// The network (see [`Simulation::engine`]).
    pub fn network(&self) -> Result<&Network> {
        Ok(&self.engine()?.net)
    }

    /// The network, mutable (edits made here are the engine's truth; call
    /// [`Simulation::sync`] to refresh mirrors).
    pub fn network_mut(&mut self) -> Result<&mut Network> {
        Ok(&mut self.engine_mut()?.into_inner().net)
    }

    /// Adds a population (validated now; entities spawn in the next Build stage).
    pub fn add_population(&mut self, spec: PopulationSpec) -> Result<usize> {
        self.network_mut()?.add_population(spec)
    }

    /// Adds a projection (validated now; built in the next Build stage).
    pub fn add_projection(&mut self, spec: ProjectionSpec) -> Result<()> {
        self.network_mut()?.add_projection(spec)
    }

    /// Runs the schedule once without advancing time: builds what is
    /// pending and folds edits in. Returns the Build stage's error, if any.
    pub fn build(&mut self) -> Result<()> {
        self.tick_steps(0)
    }

    fn tick_steps(&mut self, steps: u64) -> Result<()> {
        self.tick(steps, true)
    }

    /// Advances `steps` steps in one schedule run, refreshing only
    /// [`crate::ecs::Observed`] mirrors (the cheap way to run long in chunks).
    pub fn advance(&mut self, steps: u64) -> Result<()> {
        self.tick(steps, false)
    }

    fn tick(&mut self, steps: u64, writeback_all: bool) -> Result<()> {
        {
            let mut eng = self.engine_mut()?;
            eng.steps_per_tick = steps;
            eng.writeback_all = writeback_all;
        }
        self.schedule.run(&mut self.world);
        if let Some(e) = self.engine_mut()?.build_error.take() {
            return Err(CortecsError::InvalidRequest(e));
        }
        self.network()?.health_result()
    }

    /// Saves the network (store, masks, state, RNG state, time) to a
    /// checkpoint file (see [`crate::checkpoint`]); returns the bytes written.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<u64> {
        Ok(self.network()?.save(path)?)
    }

    /// A simulation continuing from a checkpoint file, with its mirror entities spawned.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Simulation> {
        let mut sim = Simulation::from_network(Network::load(path)?);
        sim.build()?;
        Ok(sim)
    }

    /// Advances `steps` time steps as one run segment (one schedule run) and
    /// refreshes all mirrors at its end.
    pub fn run_steps(&mut self, steps: u64) -> Result<()> {
        self.tick_steps(steps)
    }

    /// Advances `ms` milliseconds as one run segment: a whole number of
    /// steps (or rounded to one under [`crate::network::Rounding::Nearest`]).
    pub fn run_ms(&mut self, ms: f64) -> Result<()> {
        let steps = self.network()?.steps_of("run", ms)?;
        self.run_steps(steps)
    }

    /// Refreshes every mirror entity from the engine now.
    pub fn sync(&mut self) -> Result<()> {
        self.tick_steps(0)
    }

    /// The neuron entity of `population`'s neuron `index`.
    pub fn neuron_entity(&self, population: &str, index: usize) -> Result<Entity> {
        let p = self.network()?.population_index(population)?;
        self.engine()?
            .neuron_entities
            .get(p)
            .and_then(|v| v.get(index))
            .copied()
            .ok_or_else(|| {
                CortecsError::InvalidRequest(format!("population '{population}' has no built neuron {index}"))
            })
    }

    /// The synapse entities from `pre` to `post` of a mirrored projection.
    pub fn synapse_entities(&self, projection: &str, pre: u32, post: u32) -> Result<Vec<Entity>> {
        let k = self.network()?.projection_index(projection)?;
        let proj = &self.network()?.projections[k];
        if proj.compact {
            return Err(CortecsError::InvalidRequest(format!(
                "projection '{projection}' is compact: it has no synapse entities"
            )));
        }
        let slots = proj.store.find(pre, post)?;
        let ents = &self.engine()?.synapse_entities[k];
        Ok(slots
            .filter_map(|s| ents.get(s).copied())
            .filter(|e| *e != Entity::PLACEHOLDER)
            .collect())
    }
}
