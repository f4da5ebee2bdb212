//! A 2-D foraging world: a few hundred agents, each steered by its own small
//! CTRNN brain simulated by cortecs inside the host's `bevy_ecs` world.
//!
//! Each agent is one entity carrying its position and heading, its
//! [`NetworkEngine`], its [`Sensors`] (direction and closeness of the nearest
//! food) and its [`Motors`] (turn and speed). Two host systems share the
//! schedule with cortecs' stages: `sense` writes the sensors between
//! `Stimulate` and `Integrate`, `act` reads the motors after `Integrate`,
//! moves the agents and lets them eat. One frame is 10 steps of 10 ms.
//!
//! Weights start random; a simple selection loop then lets the agents that
//! ate most pass their weights, perturbed by the perturb adjuster, to the
//! next generation. At the end the random generation and the evolved one are
//! evaluated on the same unseen world and compared.
//!
//! ```sh
//! cargo run --release --example foraging -- --agents 300 --frames 400 --generations 20
//! ```

use bevy_ecs::prelude::*;
use clap::Parser;
use cortecs::prelude::*;
use cortecs::projection::SignFilter;
use cortecs::projection::{Adjuster, SignPolicy};
use cortecs::rng::Stream;
use std::f32::consts::PI;

/// Side of the square, wrapping world (arbitrary length units).
const WORLD: f32 = 100.0;
/// Distance within which an agent sees food.
const SIGHT: f32 = 30.0;
/// Distance within which an agent eats food.
const EAT: f32 = 1.5;
/// Largest turn per frame (rad).
const MAX_TURN: f32 = 0.6;
/// Largest step per frame (length units).
const MAX_SPEED: f32 = 1.5;
/// Sensor channels: sin and cos of the bearing to the nearest food, its closeness, a constant 1.
const SENSES: usize = 4;
/// Integration step (ms) and steps per frame: a frame is 100 ms.
const DT: f64 = 10.0;
const STEPS_PER_FRAME: u64 = 10;

/// Command-line settings.
#[derive(Parser, Debug, Clone)]
#[command(about = "Agents with CTRNN brains forage in a 2-D world; weights evolve by selection and perturbation")]
pub struct Config {
    /// Number of agents (each with its own network).
    #[arg(long, default_value_t = 300)]
    pub agents: usize,
    /// Frames per generation (one frame = 10 steps of 10 ms).
    #[arg(long, default_value_t = 400)]
    pub frames: u32,
    /// Generations of selection after the random one.
    #[arg(long, default_value_t = 20)]
    pub generations: u32,
    /// Hidden units per brain (units 0 and 1 are the motor units).
    #[arg(long, default_value_t = 12)]
    pub hidden: usize,
    /// Food items in the world (default: one per two agents).
    #[arg(long)]
    pub food: Option<usize>,
    /// Fraction of agents that become parents.
    #[arg(long, default_value_t = 0.2)]
    pub elite: f64,
    /// Standard deviation of the weight perturbation of offspring.
    #[arg(long, default_value_t = 0.15)]
    pub sigma: f64,
    /// Seed of everything (brains, worlds, mutations).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print nothing but the final comparison.
    #[arg(long)]
    pub quiet: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config::parse_from(["foraging"])
    }
}

/// Food eaten in one generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// Total food eaten by all agents.
    pub total: u64,
    /// Most food eaten by one agent.
    pub best: u32,
}

/// What a run found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Training generations, the random one first.
    pub generations: Vec<Generation>,
    /// Food eaten by the random generation on the unseen test world.
    pub random: u64,
    /// Food eaten by the evolved generation on the same test world.
    pub evolved: u64,
}

/// The weights of one brain ("in": hidden x senses, "rec": hidden x hidden).
#[derive(Clone, Debug)]
struct Genome {
    w_in: ndarray::Array2<f32>,
    w_rec: ndarray::Array2<f32>,
}

/// A brain: four identity sensor units (a = dt/tau = 1, so their rate is the
/// input) feeding `hidden` recurrent tanh units (tau = 50 ms).
fn brain(hidden: usize, seed: u64) -> cortecs::Result<Network> {
    let mut net = Network::new(DT, seed)?;
    net.add_population(
        PopulationSpec::new(
            "senses",
            SENSES,
            ModelKind::Rate {
                activation: Activation::Identity,
            },
        )
        .param("tau", DT),
    )?;
    net.add_population(
        PopulationSpec::new(
            "brain",
            hidden,
            ModelKind::Rate {
                activation: Activation::Tanh,
            },
        )
        .param("tau", 50.0),
    )?;
    net.add_projection(
        ProjectionSpec::new("in", "senses", "brain", Strategy::AllToAll)
            .weight(Distribution::Normal { mean: 0.0, std: 1.0 })
            .compact(true),
    )?;
    net.add_projection(
        ProjectionSpec::new("rec", "brain", "brain", Strategy::AllToAll)
            .weight(Distribution::Normal {
                mean: 0.0,
                std: 1.0 / (hidden as f64).sqrt(),
            })
            .compact(true),
    )?;
    net.build_pending()?;
    Ok(net)
}

fn genome_of(net: &Network) -> cortecs::Result<Genome> {
    Ok(Genome {
        w_in: net.weights_dense("in")?,
        w_rec: net.weights_dense("rec")?,
    })
}

/// A fresh brain (state at rest) with the given weights.
fn brain_with(hidden: usize, seed: u64, g: &Genome) -> cortecs::Result<Network> {
    let mut net = brain(hidden, seed)?;
    net.set_weights_dense("in", g.w_in.view())?;
    net.set_weights_dense("rec", g.w_rec.view())?;
    Ok(net)
}

/// An agent of the host world.
#[derive(Component, Debug)]
struct Agent {
    id: usize,
    pos: [f32; 2],
    heading: f32,
    eaten: u32,
}

/// The food of the host world and the world's random stream.
#[derive(Resource)]
struct Food {
    items: Vec<[f32; 2]>,
    rng: Stream,
}

impl Food {
    fn random_place(&mut self) -> [f32; 2] {
        [self.rng.uniform() as f32 * WORLD, self.rng.uniform() as f32 * WORLD]
    }
}

/// The shortest offset from `a` to `b` in the wrapping world.
fn offset(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    let wrap = |d: f32| d - WORLD * (d / WORLD).round();
    [wrap(b[0] - a[0]), wrap(b[1] - a[1])]
}

/// Index and offset of the food nearest to `p`, if any.
fn nearest(food: &[[f32; 2]], p: [f32; 2]) -> Option<(usize, [f32; 2], f32)> {
    let mut best: Option<(usize, [f32; 2], f32)> = None;
    for (k, &f) in food.iter().enumerate() {
        let d = offset(p, f);
        let d2 = d[0] * d[0] + d[1] * d[1];
        if best.is_none_or(|b| d2 < b.2) {
            best = Some((k, d, d2));
        }
    }
    best.map(|(k, d, d2)| (k, d, d2.sqrt()))
}

/// Host system, between Stimulate and Integrate: what each agent sees.
fn sense(food: Res<Food>, mut agents: Query<(&Agent, &mut Sensors)>) {
    for (agent, mut sensors) in &mut agents {
        let s = sensors.values_mut();
        match nearest(&food.items, agent.pos) {
            Some((_, d, dist)) if dist < SIGHT => {
                let bearing = d[1].atan2(d[0]) - agent.heading;
                s[0] = bearing.sin();
                s[1] = bearing.cos();
                s[2] = 1.0 - dist / SIGHT;
            }
            _ => s[..3].fill(0.0),
        }
        s[3] = 1.0;
    }
}

/// Host system, after Integrate: turn and move by the motor units, then eat
/// (agents in id order, so that who gets contested food is deterministic).
fn act(mut food: ResMut<Food>, mut agents: Query<(&mut Agent, &Motors)>) {
    let mut all: Vec<_> = agents.iter_mut().collect();
    all.sort_by_key(|(a, _)| a.id);
    for (agent, motors) in &mut all {
        let m = motors.values();
        agent.heading = (agent.heading + MAX_TURN * m[0]).rem_euclid(2.0 * PI);
        let speed = MAX_SPEED * 0.5 * (m[1] + 1.0);
        let (s, c) = agent.heading.sin_cos();
        agent.pos = [
            (agent.pos[0] + speed * c).rem_euclid(WORLD),
            (agent.pos[1] + speed * s).rem_euclid(WORLD),
        ];
        if let Some((k, _, dist)) = nearest(&food.items, agent.pos)
            && dist < EAT
        {
            agent.eaten += 1;
            food.items[k] = food.random_place();
        }
    }
}

/// The host: one world and schedule, reused by every evaluation.
struct Host {
    world: World,
    schedule: Schedule,
}

impl Host {
    fn new() -> Host {
        let mut schedule = Schedule::default();
        add_to_schedule(&mut schedule);
        schedule.add_systems((
            sense.after(CortecsSystems::Stimulate).before(CortecsSystems::Integrate),
            act.after(CortecsSystems::Integrate),
        ));
        Host {
            world: World::new(),
            schedule,
        }
    }

    /// Lets `genomes` forage for `frames` frames in the world drawn from
    /// `world_seed`; returns the food each ate.
    fn evaluate(&mut self, cfg: &Config, genomes: &[Genome], world_seed: u64) -> cortecs::Result<Vec<u32>> {
        let mut rng = Stream::keyed(world_seed, "world", "layout", 0);
        let mut food = Food {
            items: Vec::new(),
            rng: Stream::keyed(world_seed, "world", "food", 0),
        };
        food.items = (0..cfg.food.unwrap_or(cfg.agents / 2).max(1))
            .map(|_| food.random_place())
            .collect();
        self.world.insert_resource(food);
        for (id, g) in genomes.iter().enumerate() {
            let net = brain_with(cfg.hidden, world_seed ^ id as u64, g)?;
            let sensors = Sensors::population(&net, "senses")?;
            let motors = Motors::new(&net, &[("brain", 0), ("brain", 1)], Readout::Output)?;
            let mut engine = NetworkEngine::new(net);
            engine.steps_per_tick = STEPS_PER_FRAME;
            let agent = Agent {
                id,
                pos: [rng.uniform() as f32 * WORLD, rng.uniform() as f32 * WORLD],
                heading: rng.uniform() as f32 * 2.0 * PI,
                eaten: 0,
            };
            self.world.spawn((agent, engine, sensors, motors));
        }
        for _ in 0..cfg.frames {
            self.schedule.run(&mut self.world);
        }
        let mut q = self.world.query::<(Entity, &Agent, &NetworkEngine)>();
        let mut eaten = vec![0; genomes.len()];
        let mut done = Vec::new();
        for (e, a, eng) in q.iter(&self.world) {
            if let Some(err) = &eng.build_error {
                return Err(CortecsError::InvalidRequest(err.clone()));
            }
            eaten[a.id] = a.eaten;
            done.push(e);
        }
        // despawning an agent takes its network and neuron entities with it
        for e in done {
            self.world.despawn(e);
        }
        Ok(eaten)
    }
}

/// The next generation: the best `elite` fraction is kept as is, every other
/// agent gets a parent's weights plus a normal perturbation.
fn offspring(cfg: &Config, genomes: &[Genome], eaten: &[u32], generation: u32) -> cortecs::Result<Vec<Genome>> {
    let mut order: Vec<usize> = (0..genomes.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(eaten[i]), i));
    let parents = ((cfg.elite * genomes.len() as f64).ceil() as usize).clamp(1, genomes.len());
    let mut next = Vec::with_capacity(genomes.len());
    for i in 0..genomes.len() {
        let parent = &genomes[order[i % parents]];
        if i < parents {
            next.push(parent.clone());
            continue;
        }
        // a child brain with its own seed: its perturbation draws are its own
        let seed = cortecs::rng::stream_seed(cfg.seed, "offspring", &format!("generation {generation}"), i as u64);
        let mut child = brain_with(cfg.hidden, seed, parent)?;
        let perturb = Adjuster::Perturb(Distribution::Normal {
            mean: 0.0,
            std: cfg.sigma,
        });
        // no Dale's law here: a weight may cross zero and change sign
        child.adjust_with("in", &perturb, SignFilter::Both, SignPolicy::Free)?;
        child.adjust_with("rec", &perturb, SignFilter::Both, SignPolicy::Free)?;
        next.push(genome_of(&child)?);
    }
    Ok(next)
}

fn check(cfg: &Config) -> cortecs::Result<()> {
    let bad = |m: String| Err(CortecsError::InvalidRequest(m));
    if cfg.agents < 2 {
        return bad(format!("--agents must be at least 2, got {}", cfg.agents));
    }
    if cfg.frames == 0 {
        return bad("--frames must be at least 1".into());
    }
    if cfg.hidden < 2 {
        return bad(format!(
            "--hidden must be at least 2 (two motor units), got {}",
            cfg.hidden
        ));
    }
    if !(cfg.elite > 0.0 && cfg.elite <= 1.0) {
        return bad(format!("--elite must be in (0, 1], got {}", cfg.elite));
    }
    if !(cfg.sigma.is_finite() && cfg.sigma >= 0.0) {
        return bad(format!("--sigma must be >= 0, got {}", cfg.sigma));
    }
    Ok(())
}

/// Evolves the agents and compares the random and the evolved generation.
pub fn run(cfg: &Config) -> cortecs::Result<Report> {
    check(cfg)?;
    let mut host = Host::new();
    let random: Vec<Genome> = (0..cfg.agents)
        .map(|i| {
            genome_of(&brain(
                cfg.hidden,
                cortecs::rng::stream_seed(cfg.seed, "agent", "brain", i as u64),
            )?)
        })
        .collect::<cortecs::Result<_>>()?;
    let mut genomes = random.clone();
    let mut generations = Vec::new();
    for g in 0..=cfg.generations {
        let eaten = host.evaluate(
            cfg,
            &genomes,
            cortecs::rng::stream_seed(cfg.seed, "world", "train", u64::from(g)),
        )?;
        let stats = Generation {
            total: eaten.iter().map(|&x| u64::from(x)).sum(),
            best: eaten.iter().copied().max().unwrap_or(0),
        };
        if !cfg.quiet {
            println!(
                "generation {g:3}: food eaten {:6} ({:6.2} per agent, best {:3}) {}",
                stats.total,
                stats.total as f64 / cfg.agents as f64,
                stats.best,
                "#".repeat((stats.total as f64 / cfg.agents as f64).round() as usize)
            );
        }
        generations.push(stats);
        if g < cfg.generations {
            genomes = offspring(cfg, &genomes, &eaten, g + 1)?;
        }
    }
    // both on the same world, which no generation trained on
    let test = cortecs::rng::stream_seed(cfg.seed, "world", "test", 0);
    let random = host.evaluate(cfg, &random, test)?.iter().map(|&x| u64::from(x)).sum();
    let evolved = host.evaluate(cfg, &genomes, test)?.iter().map(|&x| u64::from(x)).sum();
    Ok(Report {
        generations,
        random,
        evolved,
    })
}

fn main() {
    let cfg = Config::parse();
    match run(&cfg) {
        Ok(r) => {
            let per = |x: u64| x as f64 / cfg.agents as f64;
            println!(
                "test world, {} agents x {} frames: random weights ate {} ({:.2} per agent), evolved after {} generations ate {} ({:.2} per agent): {:.2}x",
                cfg.agents,
                cfg.frames,
                r.random,
                per(r.random),
                cfg.generations,
                r.evolved,
                per(r.evolved),
                r.evolved as f64 / (r.random.max(1)) as f64
            );
        }
        Err(e) => {
            eprintln!("foraging: {e}");
            std::process::exit(2);
        }
    }
}
