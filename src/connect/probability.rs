//! Probabilities as functions ([`ProbabilityFn`], its serde forms) and their compiled forms for the rules.

use super::error::{ConnectError, ConnectResult};
use super::input::ConnectInput;
use crate::expr::Expr;
use serde::de::{self, Deserializer, VariantAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A function of the distance `d` (µm).
pub type DistanceProbFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;
/// A function of (pre index, post index).
pub type PairProbFn = Arc<dyn Fn(usize, usize) -> f64 + Send + Sync>;

/// A probability as a function: an expression string (compiled once;
/// variable `d` for distance strategies, `i` and `j` for index strategies)
/// or a Rust closure. Values outside `[0, 1]` (or NaN) make
/// [`connect`](super::connect) fail with a message naming the pair.
///
/// Serialised, an expression is a plain string (`p: "exp(-d / 50)"` in a
/// scene file) and a closure, which no file can hold, a marker of its kind
/// that reads back as [`ProbabilityFn::Lost`].
#[derive(Clone)]
pub enum ProbabilityFn {
    /// An expression, e.g. `"exp(-d / 50)"` or `"if(abs(i - j) < 3, 0.5, 0)"`.
    Expr(String),
    /// A closure of the distance `d` (µm).
    Distance(DistanceProbFn),
    /// A closure of (pre index `i`, post index `j`).
    Pair(PairProbFn),
    /// A closure lost in saving (e.g. to a checkpoint): the kind it was,
    /// [`LOST_DISTANCE`] or [`LOST_PAIR`]. [`connect`](super::connect) refuses it.
    Lost(String),
}

/// The kind of a [`ProbabilityFn::Lost`] that was a [`ProbabilityFn::Distance`].
pub const LOST_DISTANCE: &str = "distance";
/// The kind of a [`ProbabilityFn::Lost`] that was a [`ProbabilityFn::Pair`].
pub const LOST_PAIR: &str = "pair";

impl ProbabilityFn {
    /// An expression.
    pub fn expr(source: &str) -> ProbabilityFn {
        ProbabilityFn::Expr(source.to_string())
    }

    /// A closure of the distance.
    pub fn of_distance(f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> ProbabilityFn {
        ProbabilityFn::Distance(Arc::new(f))
    }

    /// A closure of (pre index, post index).
    pub fn of_pair(f: impl Fn(usize, usize) -> f64 + Send + Sync + 'static) -> ProbabilityFn {
        ProbabilityFn::Pair(Arc::new(f))
    }

    /// The kind of closure it holds or held (`"distance"`, `"pair"`), `None` for an expression.
    pub fn closure_kind(&self) -> Option<&str> {
        match self {
            ProbabilityFn::Expr(_) => None,
            ProbabilityFn::Distance(_) => Some(LOST_DISTANCE),
            ProbabilityFn::Pair(_) => Some(LOST_PAIR),
            ProbabilityFn::Lost(kind) => Some(kind),
        }
    }
}

/// The closure kinds in the binary form, as indices of the checkpoint's
/// closure-kind enum (index, pair, position, distance): byte-compatible with
/// checkpoints written before [`Strategy`](super::Strategy) was serialisable.
const CLOSURE_KINDS: [&str; 4] = ["Index", "Pair", "Position", "Distance"];

/// A closure marker's kind as a serde unit variant (binary formats).
struct KindOut(u32);

impl Serialize for KindOut {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_unit_variant("ClosureKind", self.0, CLOSURE_KINDS[self.0 as usize])
    }
}

impl Serialize for ProbabilityFn {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let kind = match self {
            ProbabilityFn::Expr(e) if s.is_human_readable() => return s.serialize_str(e),
            ProbabilityFn::Expr(e) => return s.serialize_newtype_variant("ProbabilityFn", 0, "Expr", e),
            other => other.closure_kind().unwrap_or_default(),
        };
        if s.is_human_readable() {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("closure", kind)?;
            return m.end();
        }
        let index = match kind {
            LOST_PAIR => 1,
            LOST_DISTANCE => 3,
            _ => return Err(serde::ser::Error::custom(format!("unknown closure kind '{kind}'"))),
        };
        s.serialize_newtype_variant("ProbabilityFn", 1, "Closure", &KindOut(index))
    }
}

/// Reads a [`ProbabilityFn`]: a string, or a closure marker.
struct ProbVisitor;

impl<'de> Visitor<'de> for ProbVisitor {
    type Value = ProbabilityFn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a probability expression string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<ProbabilityFn, E> {
        Ok(ProbabilityFn::Expr(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<ProbabilityFn, E> {
        Ok(ProbabilityFn::Expr(v))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<ProbabilityFn, A::Error> {
        let Some((key, kind)) = map.next_entry::<String, String>()? else {
            return Err(de::Error::custom("an empty map is not a probability"));
        };
        if key != "closure" || map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a map as probability must be `{\"closure\": kind}`"));
        }
        Ok(ProbabilityFn::Lost(kind))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<ProbabilityFn, A::Error> {
        let (index, v) = data.variant::<u32>()?;
        match index {
            0 => v.newtype_variant_seed(StrSeed).map(ProbabilityFn::Expr),
            1 => {
                let kind = v.newtype_variant_seed(KindSeed)?;
                Ok(ProbabilityFn::Lost(
                    match kind {
                        0 | 1 => LOST_PAIR,
                        _ => LOST_DISTANCE,
                    }
                    .to_string(),
                ))
            }
            _ => Err(de::Error::invalid_value(
                de::Unexpected::Unsigned(index.into()),
                &"variant 0 or 1",
            )),
        }
    }
}

/// A string read through `deserialize_str` (see [`crate::io::de_string`]).
struct StrSeed;

impl<'de> de::DeserializeSeed<'de> for StrSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<String, D::Error> {
        crate::io::de_string(d)
    }
}

/// A closure kind's variant index.
struct KindSeed;

impl<'de> de::DeserializeSeed<'de> for KindSeed {
    type Value = u32;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<u32, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = u32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a closure kind")
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<u32, A::Error> {
                let (index, v) = data.variant::<u32>()?;
                if index as usize >= CLOSURE_KINDS.len() {
                    return Err(de::Error::invalid_value(
                        de::Unexpected::Unsigned(index.into()),
                        &"a closure kind 0..4",
                    ));
                }
                v.unit_variant()?;
                Ok(index)
            }
        }
        d.deserialize_enum("ClosureKind", &CLOSURE_KINDS, V)
    }
}

impl<'de> Deserialize<'de> for ProbabilityFn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<ProbabilityFn, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(ProbVisitor)
        } else {
            d.deserialize_enum("ProbabilityFn", &["Expr", "Closure"], ProbVisitor)
        }
    }
}

impl From<&str> for ProbabilityFn {
    fn from(source: &str) -> ProbabilityFn {
        ProbabilityFn::expr(source)
    }
}

impl fmt::Debug for ProbabilityFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbabilityFn::Expr(s) => f.debug_tuple("Expr").field(s).finish(),
            ProbabilityFn::Distance(_) => f.write_str("Distance(<closure>)"),
            ProbabilityFn::Pair(_) => f.write_str("Pair(<closure>)"),
            ProbabilityFn::Lost(kind) => f.debug_tuple("Lost").field(kind).finish(),
        }
    }
}

/// A compiled probability of the distance.
#[derive(Clone)]
pub(super) enum DistP {
    Expr(Expr),
    Fn(DistanceProbFn),
}

impl DistP {
    #[inline]
    pub(super) fn eval(&self, d: f64) -> f64 {
        match self {
            DistP::Expr(e) => e.eval(&[d]),
            DistP::Fn(f) => f(d),
        }
    }
}

/// A compiled probability of (i, j).
#[derive(Clone)]
pub(super) enum PairP {
    Expr(Expr),
    Fn(PairProbFn),
}

impl PairP {
    #[inline]
    pub(super) fn eval(&self, i: usize, j: usize) -> f64 {
        match self {
            PairP::Expr(e) => e.eval(&[i as f64, j as f64]),
            PairP::Fn(f) => f(i, j),
        }
    }
}

/// Compiles the `p(d)` of a distance rule.
pub(super) fn compile_distance(input: &ConnectInput, rule: &str, p: &ProbabilityFn) -> ConnectResult<DistP> {
    match p {
        ProbabilityFn::Expr(s) => {
            Expr::compile(s, &["d"])
                .map(DistP::Expr)
                .map_err(|source| ConnectError::Expression {
                    projection: input.projection.to_string(),
                    what: format!("{rule} p(d)"),
                    source: Box::new(source),
                })
        }
        ProbabilityFn::Distance(f) => Ok(DistP::Fn(f.clone())),
        ProbabilityFn::Pair(_) => Err(ConnectError::rule(
            input.projection,
            format!("{rule}: p must be a function of the distance d, not of (i, j)"),
        )),
        ProbabilityFn::Lost(kind) => Err(lost(input, rule, kind)),
    }
}

/// Compiles the `p(i, j)` of an index rule.
pub(super) fn compile_pair(input: &ConnectInput, rule: &str, p: &ProbabilityFn) -> ConnectResult<PairP> {
    match p {
        ProbabilityFn::Expr(s) => {
            Expr::compile(s, &["i", "j"])
                .map(PairP::Expr)
                .map_err(|source| ConnectError::Expression {
                    projection: input.projection.to_string(),
                    what: format!("{rule} p(i, j)"),
                    source: Box::new(source),
                })
        }
        ProbabilityFn::Pair(f) => Ok(PairP::Fn(f.clone())),
        ProbabilityFn::Distance(_) => Err(ConnectError::rule(
            input.projection,
            format!("{rule}: p must be a function of (i, j), not of the distance d"),
        )),
        ProbabilityFn::Lost(kind) => Err(lost(input, rule, kind)),
    }
}

/// The error for a [`ProbabilityFn::Lost`].
fn lost(input: &ConnectInput, rule: &str, kind: &str) -> ConnectError {
    ConnectError::rule(
        input.projection,
        format!(
            "{rule}: p was a Rust closure (of the {kind}), lost when it was saved (a checkpoint cannot hold \
             one); give p again, as a closure or as an expression string (which stays saveable)"
        ),
    )
}
