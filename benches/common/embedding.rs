//! The embedding benchmark's two paths, shared by `benches/embedding.rs`
//! (which times them) and `tests/bench_checks.rs` (which checks that they
//! compute the same thing, bit for bit): 1,000 agents with a 50-unit CTRNN
//! brain each, ten 1-ms steps per host frame, through the ECS path and as
//! one plain ndarray loop.

use bevy_ecs::prelude::*;
use cortecs::model::{Activation, fast_tanh};
use cortecs::prelude::*;
use rayon::prelude::*;

pub const AGENTS: usize = 1000;
pub const N: usize = 50;
pub const STEPS: u64 = 10;
pub const SENSORS: usize = 4;
pub const MOTORS: usize = 2;

pub fn brain(seed: u64) -> Network {
    let mut net = Network::new(1.0, seed).unwrap();
    net.add_population(
        PopulationSpec::new(
            "brain",
            N,
            ModelKind::Rate {
                activation: Activation::Tanh,
            },
        )
        .param("tau", 10.0)
        .param("bias", 0.1),
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new("rec", "brain", "brain", Strategy::AllToAll)
            .weight(Distribution::Normal {
                mean: 0.0,
                std: 1.5 / (N as f64).sqrt(),
            })
            .compact(true),
    )
    .unwrap();
    net.build_pending().unwrap();
    net
}

/// Sensor value `k` of agent `a` in frame `f` (both paths write the same).
fn sensor_value(a: usize, k: usize, f: u64) -> f32 {
    ((f as f32) * 0.1 + (a * SENSORS + k) as f32).sin()
}

/// The same CTRNN for every agent as flat arrays, agent after agent:
/// `v <- (1-a) v + a (W f(v) + u + b)` with `u` on the first `SENSORS`
/// units, the last `MOTORS` units' f(v) read back after each frame.
pub struct Plain {
    w: Vec<f32>,
    v: Vec<f32>,
    r: Vec<f32>,
    acc: Vec<f32>,
    u: Vec<f32>,
    /// The motor values of the last frame, agent after agent.
    pub out: Vec<f32>,
    alpha: f32,
    bias: f32,
    frame: u64,
}

impl Plain {
    pub fn from_networks(nets: &[Network]) -> Plain {
        let mut w = Vec::with_capacity(nets.len() * N * N);
        for net in nets {
            w.extend(net.weights_dense("rec").unwrap().iter());
        }
        Plain {
            w,
            v: vec![0.0; nets.len() * N],
            r: vec![0.0; nets.len() * N],
            acc: vec![0.0; nets.len() * N],
            u: vec![0.0; nets.len() * SENSORS],
            out: vec![0.0; nets.len() * MOTORS],
            alpha: 1.0 / 10.0,
            bias: 0.1,
            frame: 0,
        }
    }

    pub fn frame(&mut self, steps: u64) {
        let f = self.frame;
        for (a, u) in self.u.chunks_mut(SENSORS).enumerate() {
            for (k, u) in u.iter_mut().enumerate() {
                *u = sensor_value(a, k, f);
            }
        }
        let (alpha, bias) = (self.alpha, self.bias);
        let (keep, drive) = (1.0 - alpha, alpha * bias);
        self.w
            .par_chunks(N * N)
            .zip(self.v.par_chunks_mut(N))
            .zip(self.r.par_chunks_mut(N))
            .zip(self.acc.par_chunks_mut(N))
            .zip(self.u.par_chunks(SENSORS))
            .zip(self.out.par_chunks_mut(MOTORS))
            .with_min_len(8)
            .for_each(|(((((w, v), r), acc), u), out)| {
                let w = ndarray::ArrayView2::from_shape((N, N), w).unwrap();
                for _ in 0..steps {
                    let rv = ndarray::ArrayView1::from(&*r);
                    let mut a = ndarray::ArrayViewMut1::from(&mut *acc);
                    ndarray::linalg::general_mat_vec_mul(1.0, &w, &rv, 0.0, &mut a);
                    for (a, &u) in acc.iter_mut().zip(u) {
                        *a += u;
                    }
                    for ((v, r), &a) in v.iter_mut().zip(r.iter_mut()).zip(acc.iter()) {
                        *v = keep * *v + alpha * a + drive;
                        *r = fast_tanh(*v);
                    }
                }
                out.copy_from_slice(&r[N - MOTORS..]);
            });
        self.frame += 1;
    }
}

/// The host side of the ECS path: which agent an entity is, and the frame count.
#[derive(Component)]
struct Agent(usize);

#[derive(Resource, Default)]
struct Frame(u64);

/// The ECS path's motor values of the last frame, agent after agent.
#[derive(Resource, Default)]
pub struct Out(pub Vec<f32>);

fn sense(frame: Res<Frame>, mut agents: Query<(&Agent, &mut Sensors)>) {
    for (agent, mut sensors) in &mut agents {
        for (k, x) in sensors.values_mut().iter_mut().enumerate() {
            *x = sensor_value(agent.0, k, frame.0);
        }
    }
}

fn act(mut frame: ResMut<Frame>, mut out: ResMut<Out>, agents: Query<(&Agent, &Motors)>) {
    for (agent, motors) in &agents {
        out.0[agent.0 * MOTORS..(agent.0 + 1) * MOTORS].copy_from_slice(motors.values());
    }
    frame.0 += 1;
}

pub fn ecs_world(nets: &[Network]) -> (World, Schedule) {
    let mut world = World::new();
    world.init_resource::<Frame>();
    world.insert_resource(Out(vec![0.0; nets.len() * MOTORS]));
    for (a, net) in nets.iter().enumerate() {
        let sensors = Sensors::new(net, &(0..SENSORS).map(|i| ("brain", i)).collect::<Vec<_>>()).unwrap();
        let motors = Motors::new(
            net,
            &(N - MOTORS..N).map(|i| ("brain", i)).collect::<Vec<_>>(),
            Readout::Output,
        )
        .unwrap();
        let mut eng = NetworkEngine::new(net.clone());
        eng.steps_per_tick = STEPS;
        world.spawn((eng, sensors, motors, Agent(a)));
    }
    let mut schedule = Schedule::default();
    schedule.set_executor(bevy_ecs::schedule::SingleThreadedExecutor::new());
    add_to_schedule(&mut schedule);
    schedule.add_systems((
        sense.after(CortecsSystems::Stimulate).before(CortecsSystems::Integrate),
        act.after(CortecsSystems::Integrate),
    ));
    (world, schedule)
}
