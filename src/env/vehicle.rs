//! A Braitenberg vehicle: a two-wheeled body with two light sensors in a
//! square arena with one light (Braitenberg, *Vehicles*, 1984).

use serde::{Deserialize, Serialize};

/// Columns of a row of the environment log `environment.npy` (float64).
pub const ENVIRONMENT_COLUMNS: [&str; 10] = [
    "t_ms",
    "x_cm",
    "y_cm",
    "heading_deg",
    "light_x_cm",
    "light_y_cm",
    "sensor_left",
    "sensor_right",
    "wheel_left_cm_per_s",
    "wheel_right_cm_per_s",
];

/// What a vehicle is: its body, arena, light and how sensors and motors
/// translate to and from the brain. Lengths in cm, angles in degrees,
/// speeds in cm/s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleSpec {
    /// Side of the square arena `[0, arena] x [0, arena]` (cm); the body
    /// stops at the walls and slides along them.
    #[serde(default = "arena")]
    pub arena: f64,
    /// Distance between the wheels (cm); the sensors sit on a circle of this diameter.
    #[serde(default = "width")]
    pub width: f64,
    /// Angle of each sensor from the heading (degrees; left +, right -).
    #[serde(default = "sensor_angle")]
    pub sensor_angle: f64,
    /// Light position (cm).
    pub light: [f64; 2],
    /// Distance at which the light's intensity has fallen to 1/2 (cm):
    /// intensity `1 / (1 + (d / light_radius)^2)`, times the sensor's
    /// cardioid acceptance (see [`Vehicle::sensors`]).
    #[serde(default = "light_radius")]
    pub light_radius: f64,
    /// Sensor input per unit of intensity: current (pA) into spiking sensor
    /// neurons, input to the pre-activation of rate units.
    pub gain: f64,
    /// Wheel speed per unit of motor output (cm/s per Hz for spiking motor
    /// neurons, per unit of f(v) for rate units).
    pub speed: f64,
    /// Start position and heading `[x cm, y cm, heading degrees]` (0 = +x, counter-clockwise).
    #[serde(default = "start")]
    pub start: [f64; 3],
}

fn arena() -> f64 {
    100.0
}
fn width() -> f64 {
    5.0
}
fn sensor_angle() -> f64 {
    45.0
}
fn light_radius() -> f64 {
    20.0
}
fn start() -> [f64; 3] {
    [50.0, 50.0, 0.0]
}

impl VehicleSpec {
    /// Checks every number: finite, lengths and `light_radius` > 0, the
    /// light and the start inside the arena. The error names the field
    /// (first) and what is wrong with it.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("arena", self.arena),
            ("width", self.width),
            ("light_radius", self.light_radius),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err((name, format!("{name} must be a finite number > 0 (cm), got {v}")));
            }
        }
        let finite = [
            ("sensor_angle", "sensor_angle", self.sensor_angle),
            ("gain", "gain", self.gain),
            ("speed", "speed", self.speed),
            ("start", "start heading", self.start[2]),
        ];
        for (field, name, v) in finite {
            if !v.is_finite() {
                return Err((field, format!("{name} must be finite, got {v}")));
            }
        }
        self.check_point("light", self.light).map_err(|e| ("light", e))?;
        self.check_point("start", [self.start[0], self.start[1]])
            .map_err(|e| ("start", e))
    }

    /// Checks that `p` (cm) lies inside the arena.
    pub fn check_point(&self, what: &str, p: [f64; 2]) -> Result<(), String> {
        let inside = |v: f64| v.is_finite() && (0.0..=self.arena).contains(&v);
        if inside(p[0]) && inside(p[1]) {
            Ok(())
        } else {
            Err(format!(
                "{what} ({}, {}) is outside the arena [0, {}] x [0, {}] cm",
                p[0], p[1], self.arena, self.arena
            ))
        }
    }
}

/// A vehicle as it moves: position (cm), heading (radians) and the light.
#[derive(Clone, Debug, PartialEq)]
pub struct Vehicle {
    /// What it is.
    pub spec: VehicleSpec,
    /// Position (cm).
    pub x: f64,
    /// Position (cm).
    pub y: f64,
    /// Heading (radians, 0 = +x, counter-clockwise; not wrapped).
    pub heading: f64,
    /// Light position (cm).
    pub light: [f64; 2],
}

impl Vehicle {
    /// A vehicle at its start position (check the spec first: [`VehicleSpec::check`]).
    pub fn new(spec: VehicleSpec) -> Vehicle {
        Vehicle {
            x: spec.start[0],
            y: spec.start[1],
            heading: spec.start[2].to_radians(),
            light: spec.light,
            spec,
        }
    }

    /// Light at the left and right sensor, each in [0, 1]: each sensor sits
    /// on the body's edge at `sensor_angle` from the heading and faces
    /// outwards with a cardioid acceptance: it sees `(1 + cos a) / 2 / (1 +
    /// (d / light_radius)^2)`, `a` the angle between its axis and the
    /// light (1 ahead, 0 straight behind), `d` its distance to the light.
    pub fn sensors(&self) -> [f64; 2] {
        let r = 0.5 * self.spec.width;
        let a = self.spec.sensor_angle.to_radians();
        let at = |axis: f64| {
            let (sx, sy) = (self.x + r * axis.cos(), self.y + r * axis.sin());
            let (dx, dy) = (self.light[0] - sx, self.light[1] - sy);
            let d = dx.hypot(dy);
            let cos = if d > 0.0 {
                (dx * axis.cos() + dy * axis.sin()) / d
            } else {
                1.0
            };
            let facing = 0.5 * (1.0 + cos);
            facing / (1.0 + (d / self.spec.light_radius).powi(2))
        };
        [at(self.heading + a), at(self.heading - a)]
    }

    /// Distance from the body's centre to the light (cm).
    pub fn distance_to_light(&self) -> f64 {
        (self.x - self.light[0]).hypot(self.y - self.light[1])
    }

    /// Drives `seconds` with the left and right wheel at these speeds (cm/s),
    /// exactly along the arc a differential drive follows (turning rate
    /// `(right - left) / width`), then keeps the body inside the arena.
    pub fn drive(&mut self, left: f64, right: f64, seconds: f64) {
        let v = 0.5 * (left + right);
        let omega = (right - left) / self.spec.width;
        let turn = omega * seconds;
        if turn.abs() < 1e-12 {
            self.x += v * seconds * self.heading.cos();
            self.y += v * seconds * self.heading.sin();
        } else {
            let rho = v / omega;
            self.x += rho * ((self.heading + turn).sin() - self.heading.sin());
            self.y -= rho * ((self.heading + turn).cos() - self.heading.cos());
        }
        self.heading += turn;
        self.x = self.x.clamp(0.0, self.spec.arena);
        self.y = self.y.clamp(0.0, self.spec.arena);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VehicleSpec {
        VehicleSpec {
            arena: 100.0,
            width: 4.0,
            sensor_angle: 30.0,
            light: [80.0, 50.0],
            light_radius: 10.0,
            gain: 1.0,
            speed: 1.0,
            start: [50.0, 50.0, 0.0],
        }
    }

    #[test]
    fn equal_wheels_drive_straight_and_opposite_wheels_turn_on_the_spot() {
        let mut v = Vehicle::new(spec());
        v.drive(3.0, 3.0, 2.0);
        assert!((v.x - 56.0).abs() < 1e-12 && (v.y - 50.0).abs() < 1e-12 && v.heading == 0.0);
        // (1 - (-1)) / 4 cm = 0.5 rad/s for pi seconds: a quarter turn to the left, no displacement
        v.drive(-1.0, 1.0, std::f64::consts::PI);
        assert!((v.heading - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!((v.x - 56.0).abs() < 1e-12 && (v.y - 50.0).abs() < 1e-12);
    }

    #[test]
    fn an_arc_ends_where_the_circle_says() {
        // left 1, right 3 cm/s, width 4: v = 2 cm/s, omega = 0.5 rad/s, radius 4 cm;
        // a quarter turn (pi s) from heading 0 ends 4 cm ahead and 4 cm to the left
        let mut v = Vehicle::new(spec());
        v.drive(1.0, 3.0, std::f64::consts::PI);
        assert!((v.x - 54.0).abs() < 1e-12, "{}", v.x);
        assert!((v.y - 54.0).abs() < 1e-12, "{}", v.y);
    }

    #[test]
    fn the_sensor_nearer_the_light_sees_more_and_walls_hold_the_body() {
        let mut v = Vehicle::new(spec());
        let [l, r] = v.sensors();
        assert_eq!(l, r); // facing the light
        // the left sensor sits at (50 + 2 cos 30°, 50 + 2 sin 30°) facing 30° left:
        // the light is (30 - sqrt(3), -1) cm away from it
        let (dx, dy) = (30.0 - 3f64.sqrt(), -1.0);
        let d = f64::hypot(dx, dy);
        let cos = (dx * 30f64.to_radians().cos() + dy * 30f64.to_radians().sin()) / d;
        assert!((l - 0.5 * (1.0 + cos) / (1.0 + d * d / 100.0)).abs() < 1e-12);
        v.heading = std::f64::consts::PI; // light behind both sensors: 150° off their axes
        let [bl, br] = v.sensors();
        assert!((bl - br).abs() < 1e-12 && bl < 0.1 * l, "{bl} {l}");
        v.heading = 1.0; // light on the right
        let [l, r] = v.sensors();
        assert!(r > l);
        v.drive(1000.0, 1000.0, 1.0);
        assert!(v.x <= 100.0 && v.y <= 100.0 && v.x >= 0.0 && v.y >= 0.0);
        assert_eq!(v.y, 100.0);
    }

    #[test]
    fn a_spec_outside_its_arena_is_refused_by_field() {
        let mut s = spec();
        s.light = [120.0, 5.0];
        let (field, e) = s.check().unwrap_err();
        assert!(
            field == "light" && e.contains("light (120, 5) is outside the arena"),
            "{e}"
        );
        let mut s = spec();
        s.width = 0.0;
        assert!(s.check().unwrap_err().1.starts_with("width must be"));
        let mut s = spec();
        s.gain = f64::NAN;
        assert_eq!(s.check().unwrap_err().0, "gain");
    }
}
