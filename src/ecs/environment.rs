//! A closed loop on a network entity: an [`Environment`] beside its
//! [`Sensors`] and [`Motors`], moved by the Integrate stage after each frame.

use crate::env::{ENVIRONMENT_COLUMNS, Vehicle, VehicleSpec};
use crate::error::{CortecsError, Result};
use crate::network::Network;
use crate::record::NpyWriter;
use bevy_ecs::prelude::*;
use std::path::{Path, PathBuf};

use super::{Motors, Readout, Sensors};

/// A Braitenberg vehicle driven by a network. The sensor population's first
/// half of neurons is the left sensor, its second half the right one (each
/// neuron of a half gets `gain x intensity`); the motor population's first
/// half drives the left wheel, its second half the right one (`speed`
/// times the half's mean rate over the frame in Hz for spiking neurons,
/// times its mean f(v) at the frame's end for rate units: both exact
/// whatever ticks a frame is split into). At the end of every frame of `frame_steps` steps the Integrate
/// stage drives the wheels for the frame's duration, writes the sensors the
/// next frame sees and appends a row to the log; the sensors hold still
/// within a frame. A frame may span several ticks, and how it is split
/// does not change what happens; a tick that ends past a frame's end ends
/// that frame there.
#[derive(Component, Debug)]
pub struct Environment {
    /// The vehicle and its light.
    pub vehicle: Vehicle,
    /// Sensor channels of the left sensor (the rest are the right one).
    left_sensors: usize,
    /// Motor channels of the left wheel (the rest drive the right one).
    left_motors: usize,
    /// Motor outputs are spikes per step, reported in Hz (spiking motor neurons).
    spiking_motors: bool,
    /// Time step (ms).
    dt: f64,
    /// Steps of one frame.
    frame_steps: u64,
    /// Motor output of the frame so far, left and right: spikes (spiking
    /// motors) or the mean f(v) after the last tick (rate units).
    acc: [f64; 2],
    /// Steps of the frame so far.
    acc_steps: u64,
    /// Wheel speeds of the last frame (cm/s).
    wheels: [f64; 2],
    log: Option<NpyWriter<f64>>,
    /// The first error writing the log (nothing more is written then).
    pub error: Option<CortecsError>,
}

impl Environment {
    /// A vehicle on `net` with sensors on population `sensors` and motors on
    /// population `motors` (each of an even number >= 2 of spiking or rate
    /// neurons), frames of `frame_steps` steps (>= 1), logging to `log` when
    /// given. Returns the three components to put on the network entity; the
    /// sensors already see the start position.
    pub fn vehicle(
        net: &Network,
        spec: VehicleSpec,
        (sensors, motors): (&str, &str),
        frame_steps: u64,
        log: Option<&Path>,
    ) -> Result<(Environment, Sensors, Motors)> {
        spec.check().map_err(|(_, e)| CortecsError::param("environment", e))?;
        if frame_steps == 0 {
            return Err(CortecsError::param("environment.frame_steps", "must be >= 1 step"));
        }
        for (what, name) in [("sensor", sensors), ("motor", motors)] {
            let p = net.population(name)?;
            if p.size < 2 || p.size % 2 != 0 || !(p.model.is_rate() || p.model.synapse().is_some()) {
                return Err(CortecsError::InvalidRequest(format!(
                    "{what} population '{name}' must hold an even number (>= 2) of spiking or rate neurons \
                     (left half, right half); it has {} of model {}",
                    p.size,
                    p.model.name()
                )));
            }
        }
        let sensor_channels = Sensors::population(net, sensors)?;
        let spiking_motors = !net.population(motors)?.model.is_rate();
        let readout = if spiking_motors {
            Readout::SpikeCount
        } else {
            Readout::Output
        };
        let motor_channels = Motors::population(net, motors, readout)?;
        let log = log
            // flushed every 256 rows of f64
            .map(|path| {
                NpyWriter::create(path, &[ENVIRONMENT_COLUMNS.len()])
                    .map(|w| w.with_flush_bytes(ENVIRONMENT_COLUMNS.len() * 8 * 256))
            })
            .transpose()?;
        let mut env = Environment {
            vehicle: Vehicle::new(spec),
            left_sensors: sensor_channels.len() / 2,
            left_motors: motor_channels.len() / 2,
            spiking_motors,
            dt: net.dt,
            frame_steps,
            acc: [0.0; 2],
            acc_steps: 0,
            wheels: [0.0; 2],
            log,
            error: None,
        };
        let mut sensor_channels = sensor_channels;
        env.sense(&mut sensor_channels);
        env.log_row(net.time());
        Ok((env, sensor_channels, motor_channels))
    }

    /// Moves the light to `at` (cm; inside the arena, else an error).
    pub fn move_light(&mut self, at: [f64; 2]) -> Result<()> {
        self.vehicle
            .spec
            .check_point("light", at)
            .map_err(|e| CortecsError::param("MoveLight", e))?;
        self.vehicle.light = at;
        Ok(())
    }

    /// Wheel speeds of the last frame (cm/s, left and right).
    pub fn wheels(&self) -> [f64; 2] {
        self.wheels
    }

    /// Writes the light intensities at the sensors into the sensor channels.
    fn sense(&self, sensors: &mut Sensors) {
        let [l, r] = self.vehicle.sensors();
        let gain = self.vehicle.spec.gain as f32;
        let (left, right) = sensors.values_mut().split_at_mut(self.left_sensors);
        left.fill(gain * l as f32);
        right.fill(gain * r as f32);
    }

    /// After a tick of `steps` steps that ended at network time `t_ms`: adds
    /// the motors' output to the frame, and at the frame's end drives the
    /// wheels as the frame's mean output says, then shows the sensors the new view.
    pub fn after_tick(&mut self, t_ms: f64, steps: u64, sensors: &mut Sensors, motors: &Motors) {
        if steps == 0 {
            return;
        }
        let values = motors.values();
        let (left, right) = values[..motors.len()].split_at(self.left_motors);
        // spike counts are whole numbers: their sum is exact in any order
        let sum = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>();
        if self.spiking_motors {
            self.acc[0] += sum(left);
            self.acc[1] += sum(right);
        } else {
            self.acc = [sum(left) / left.len() as f64, sum(right) / right.len() as f64];
        }
        self.acc_steps += steps;
        if self.acc_steps < self.frame_steps {
            return;
        }
        let speed = self.vehicle.spec.speed;
        self.wheels = if self.spiking_motors {
            // spikes / neurons / seconds = Hz
            let seconds = self.acc_steps as f64 * self.dt / 1000.0;
            [
                speed * self.acc[0] / (left.len() as f64 * seconds),
                speed * self.acc[1] / (right.len() as f64 * seconds),
            ]
        } else {
            [speed * self.acc[0], speed * self.acc[1]]
        };
        self.vehicle
            .drive(self.wheels[0], self.wheels[1], self.acc_steps as f64 * self.dt / 1000.0);
        self.acc = [0.0; 2];
        self.acc_steps = 0;
        self.sense(sensors);
        self.log_row(t_ms);
    }

    fn log_row(&mut self, t_ms: f64) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        if self.error.is_some() {
            return;
        }
        let v = &self.vehicle;
        let [seen_left, seen_right] = v.sensors();
        let row = [
            t_ms,
            v.x,
            v.y,
            v.heading.to_degrees(),
            v.light[0],
            v.light[1],
            seen_left,
            seen_right,
            self.wheels[0],
            self.wheels[1],
        ];
        if let Err(e) = log.append(&row) {
            self.error = Some(e.into());
        }
    }

    /// Finishes the log: the path of the complete file, if there is a log.
    pub fn finish(mut self) -> Result<Option<PathBuf>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(self.log.take().map(NpyWriter::finish).transpose()?)
    }
}
