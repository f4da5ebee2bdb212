//! nn4n's mask "structures" (Zhaoze Wang's nn4n, `nn4n/mask/{multi_area,multi_area_ei,random_input}.py`):
//! generators of input, recurrent and readout masks.
//!
//! Orientation: every mask is **post x pre** (rows = receiving units, columns = sending units), like `W` in
//! `y = W r`. nn4n builds its masks in the same orientation internally (its hidden layer computes `s Wᵀ`, and
//! it flips the sign of the *columns* of inhibitory units), so nn4n's `area_connectivities[i, j]` is the
//! probability of a connection from area `j` to area `i`, exactly as here.
//!
//! Randomness comes from the crate's seeded streams ([`Stream::keyed`]), keyed by the caller's seed and
//! the generator's name; draws happen in a fixed order (row-major over post, then pre), so a seed fully
//! determines the masks.

use crate::rng::Stream;
use ndarray::Array2;
use std::ops::Range;

/// The masks a generator returns (all post x pre, values 0/1 for sparsity).
///
/// Signs are kept apart from the 0/1 masks: the signed masks of nn4n's `MultiAreaEI` are
/// `recurrent[[post, pre]] * signs[pre]` and `readout[[out, pre]] * signs[pre]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskSet {
    /// Sparsity of the input projection, `n_hidden x n_input` (post = hidden, pre = input channel).
    pub input: Array2<f32>,
    /// Sparsity of hidden -> hidden, `n_hidden x n_hidden` (post x pre).
    pub recurrent: Array2<f32>,
    /// Sparsity of the readout, `n_output x n_hidden` (post = output, pre = hidden).
    pub readout: Array2<f32>,
    /// Per hidden (pre) unit: +1 excitatory, -1 inhibitory (`MultiAreaEI` only, `None` otherwise).
    pub signs: Option<Vec<i8>>,
    /// Hidden units of each area, contiguous and in order (`RandomInput`: one area covering all units).
    pub areas: Vec<Range<usize>>,
}

/// Name [`MultiArea`] (and [`MultiAreaEI`], which draws its base's masks) keys its stream by.
const MULTI_AREA: &str = "multi_area";
/// Name [`RandomInput`] keys its stream by.
const RANDOM_INPUT: &str = "random_input";

/// Multi-area network without E/I constraints (nn4n `MultiArea`).
///
/// Hidden units are split into `n_areas` contiguous blocks of `n_hidden / n_areas` units; nn4n requires
/// `n_hidden % n_areas == 0`, here the last area takes the remainder instead. A recurrent entry
/// `(post, pre)` is 1 with probability `area_connectivities[[area(post), area(pre)]]` (nn4n:
/// `rand < p`, so 0 gives an empty block and 1 a full block). Input areas' rows of `input` are all ones
/// (every input channel reaches every unit of an input area) and all other rows are zero; readout areas'
/// columns of `readout` are all ones and all other columns are zero.
///
/// nn4n's list shorthand `[forward, backward, within]` for `area_connectivities` is, in this orientation,
/// `forward` below the diagonal (from a lower-numbered to a higher-numbered area), `backward` above it and
/// `within` (default 1) on it.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiArea {
    /// Number of hidden units in total.
    pub n_hidden: usize,
    /// Number of areas (1 ..= `n_hidden`).
    pub n_areas: usize,
    /// `n_areas x n_areas` connection probabilities in [0, 1], indexed `[[post_area, pre_area]]`.
    pub area_connectivities: Array2<f64>,
    /// Areas that receive input; empty means every area (nn4n's default `None`).
    pub input_areas: Vec<usize>,
    /// Areas that project to the output; empty means every area (nn4n's default `None`).
    pub readout_areas: Vec<usize>,
    /// Number of input channels (> 0).
    pub n_input: usize,
    /// Number of output units (> 0).
    pub n_output: usize,
    /// Whether a unit may connect to itself; `false` zeroes the recurrent diagonal (nn4n has no such option
    /// and behaves as `true`).
    pub self_connections: bool,
}

/// Multi-area network with E/I constraints (nn4n `MultiAreaEI`).
///
/// Masks are those of `base` (drawn identically for the same seed), then: in each area the first
/// `int(size * exc_pct)` units (truncation of the f64 product, exactly Python's `int()`, so e.g.
/// `100 * 0.29` gives 28) are excitatory and the rest inhibitory; inter-area recurrent connections of the
/// kinds switched off in `inter_area_connections` are removed; inhibitory readout columns are removed when
/// `inh_readout` is false. Connections within an area are never removed.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiAreaEI {
    /// The underlying multi-area layout and connection probabilities.
    pub base: MultiArea,
    /// Fraction of excitatory units in each area, in [0, 1] (nn4n default 0.8).
    pub exc_pct: f64,
    /// Which inter-area connection kinds are kept, nn4n order `[exc_exc, exc_inh, inh_exc, inh_inh]` where
    /// `a_b` means from an `a` (pre) unit to a `b` (post) unit in another area (nn4n default all `true`).
    pub inter_area_connections: [bool; 4],
    /// Whether inhibitory units project to the readout (nn4n default `true`).
    pub inh_readout: bool,
}

/// Input injected into a random subset of hidden units (nn4n `RandomInput` with its defaults
/// `readout_spar = 1`, `hidden_spar = 1`).
///
/// Exactly `int(n_hidden * input_fraction)` distinct hidden units (nn4n: `np.random.choice` without
/// replacement, truncated count) receive every input channel; every hidden unit projects to every output;
/// the recurrent mask is all ones (minus the diagonal when `self_connections` is false).
#[derive(Clone, Debug, PartialEq)]
pub struct RandomInput {
    /// Number of hidden units (> 0).
    pub n_hidden: usize,
    /// Number of input channels (> 0).
    pub n_input: usize,
    /// Number of output units (> 0).
    pub n_output: usize,
    /// Fraction of hidden units that receive input, in [0, 1] (nn4n `input_spar`).
    pub input_fraction: f64,
    /// Whether a unit may connect to itself; `false` zeroes the recurrent diagonal.
    pub self_connections: bool,
}

fn check_fraction(name: &str, value: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{name} must be in [0, 1], got {value}"))
    }
}

fn check_positive(name: &str, value: usize) -> Result<(), String> {
    if value == 0 {
        Err(format!("{name} must be > 0, got 0"))
    } else {
        Ok(())
    }
}

/// Resolves an area list: empty means all areas; every index must be `< n_areas`.
fn resolve_areas(name: &str, list: &[usize], n_areas: usize) -> Result<Vec<usize>, String> {
    if let Some(&bad) = list.iter().find(|&&a| a >= n_areas) {
        return Err(format!("{name} contains area {bad}, but areas are 0..{n_areas}"));
    }
    Ok(if list.is_empty() {
        (0..n_areas).collect()
    } else {
        list.to_vec()
    })
}

/// Recurrent mask with every entry 1 (minus the diagonal without self connections).
fn dense_recurrent(n: usize, self_connections: bool) -> Array2<f32> {
    let mut m = Array2::ones((n, n));
    if !self_connections {
        m.diag_mut().fill(0.0);
    }
    m
}

impl MultiArea {
    /// Validates the parameters and returns the areas' unit ranges.
    fn validate(&self) -> Result<Vec<Range<usize>>, String> {
        check_positive("n_hidden", self.n_hidden)?;
        if self.n_areas == 0 || self.n_areas > self.n_hidden {
            return Err(format!(
                "n_areas must be in 1..={} (n_hidden), got {}",
                self.n_hidden, self.n_areas
            ));
        }
        check_positive("n_input", self.n_input)?;
        check_positive("n_output", self.n_output)?;
        let c = &self.area_connectivities;
        if c.dim() != (self.n_areas, self.n_areas) {
            return Err(format!(
                "area_connectivities has the wrong shape: expected ({n}, {n}) (n_areas x n_areas), got {:?}",
                c.dim(),
                n = self.n_areas
            ));
        }
        for ((i, j), &p) in c.indexed_iter() {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("area_connectivities[[{i}, {j}]] must be in [0, 1], got {p}"));
            }
        }
        resolve_areas("input_areas", &self.input_areas, self.n_areas)?;
        resolve_areas("readout_areas", &self.readout_areas, self.n_areas)?;
        let size = self.n_hidden / self.n_areas;
        Ok((0..self.n_areas)
            .map(|a| {
                a * size..if a + 1 == self.n_areas {
                    self.n_hidden
                } else {
                    (a + 1) * size
                }
            })
            .collect())
    }

    /// Draws the masks; see the type's documentation. Errors name the offending parameter.
    pub fn generate(&self, seed: u64) -> Result<MaskSet, String> {
        let areas = self.validate()?;
        let input_areas = resolve_areas("input_areas", &self.input_areas, self.n_areas)?;
        let readout_areas = resolve_areas("readout_areas", &self.readout_areas, self.n_areas)?;
        let n = self.n_hidden;
        let area_of: Vec<usize> = areas
            .iter()
            .enumerate()
            .flat_map(|(a, r)| r.clone().map(move |_| a))
            .collect();
        let mut rng = Stream::keyed(seed, MULTI_AREA, "recurrent", 0);
        let mut recurrent = Array2::zeros((n, n));
        for post in 0..n {
            for pre in 0..n {
                // One draw per entry, always, so the stream position never depends on the probabilities.
                let u = rng.uniform();
                let p = self.area_connectivities[[area_of[post], area_of[pre]]];
                if u < p && (self.self_connections || post != pre) {
                    recurrent[[post, pre]] = 1.0;
                }
            }
        }
        let mut input = Array2::zeros((n, self.n_input));
        for &a in &input_areas {
            input.slice_mut(ndarray::s![areas[a].clone(), ..]).fill(1.0);
        }
        let mut readout = Array2::zeros((self.n_output, n));
        for &a in &readout_areas {
            readout.slice_mut(ndarray::s![.., areas[a].clone()]).fill(1.0);
        }
        Ok(MaskSet {
            input,
            recurrent,
            readout,
            signs: None,
            areas,
        })
    }
}

impl MultiAreaEI {
    /// Draws the masks; see the type's documentation. Errors name the offending parameter.
    pub fn generate(&self, seed: u64) -> Result<MaskSet, String> {
        self.base.validate()?;
        check_fraction("exc_pct", self.exc_pct)?;
        let mut m = self.base.generate(seed)?;
        let n = self.base.n_hidden;
        let mut signs = vec![-1i8; n];
        let mut area_of = vec![0usize; n];
        for (a, r) in m.areas.iter().enumerate() {
            // Python's int(size * exc_pct): truncation of the f64 product.
            let n_exc = (r.len() as f64 * self.exc_pct) as usize;
            signs[r.start..r.start + n_exc].fill(1);
            area_of[r.clone()].fill(a);
        }
        if self.inter_area_connections.iter().any(|&keep| !keep) {
            for post in 0..n {
                for pre in 0..n {
                    if area_of[post] == area_of[pre] {
                        continue;
                    }
                    let kind = match (signs[pre] > 0, signs[post] > 0) {
                        (true, true) => 0,   // exc -> exc
                        (true, false) => 1,  // exc -> inh
                        (false, true) => 2,  // inh -> exc
                        (false, false) => 3, // inh -> inh
                    };
                    if !self.inter_area_connections[kind] {
                        m.recurrent[[post, pre]] = 0.0;
                    }
                }
            }
        }
        if !self.inh_readout {
            for (pre, &s) in signs.iter().enumerate() {
                if s < 0 {
                    m.readout.column_mut(pre).fill(0.0);
                }
            }
        }
        m.signs = Some(signs);
        Ok(m)
    }
}

impl RandomInput {
    /// Draws the masks; see the type's documentation. Errors name the offending parameter.
    pub fn generate(&self, seed: u64) -> Result<MaskSet, String> {
        check_positive("n_hidden", self.n_hidden)?;
        check_positive("n_input", self.n_input)?;
        check_positive("n_output", self.n_output)?;
        check_fraction("input_fraction", self.input_fraction)?;
        let n = self.n_hidden;
        // nn4n: int(hidden_size * input_spar) units drawn without replacement (partial Fisher-Yates here).
        let k = ((n as f64 * self.input_fraction) as usize).min(n);
        let mut rng = Stream::keyed(seed, RANDOM_INPUT, "input", 0);
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below((n - i) as u64) as usize;
            order.swap(i, j);
        }
        let mut input = Array2::zeros((n, self.n_input));
        for &unit in &order[..k] {
            input.row_mut(unit).fill(1.0);
        }
        Ok(MaskSet {
            input,
            recurrent: dense_recurrent(n, self.self_connections),
            readout: Array2::ones((self.n_output, n)),
            signs: None,
            areas: std::iter::once(0..n).collect(),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ndarray::{Array2, array, s};

    pub(crate) fn multi_area(n_hidden: usize, n_areas: usize, conn: Array2<f64>) -> MultiArea {
        MultiArea {
            n_hidden,
            n_areas,
            area_connectivities: conn,
            input_areas: vec![],
            readout_areas: vec![],
            n_input: 3,
            n_output: 2,
            self_connections: true,
        }
    }

    fn density(block: ndarray::ArrayView2<f32>) -> f64 {
        block.iter().map(|&v| v as f64).sum::<f64>() / block.len() as f64
    }

    fn is_binary(m: &Array2<f32>) -> bool {
        m.iter().all(|&v| v == 0.0 || v == 1.0)
    }

    #[test]
    fn block_densities_follow_area_connectivities() {
        // Two areas of 200 units; [[post, pre]]: area 1 -> area 0 at 0.3, area 0 -> area 1 never,
        // area 0 fully recurrent, area 1 at 0.5.
        let mut ma = multi_area(400, 2, array![[1.0, 0.3], [0.0, 0.5]]);
        ma.self_connections = false;
        let m = ma.generate(42).unwrap();
        assert_eq!(m.areas, vec![0..200, 200..400]);
        assert_eq!(m.recurrent.dim(), (400, 400));
        assert!(is_binary(&m.recurrent));
        let within = |p: f64, n: f64, d: f64| (d - p).abs() <= 4.0 * (p * (1.0 - p) / n).sqrt();

        let d01 = density(m.recurrent.slice(s![0..200, 200..400]));
        assert!(within(0.3, 40_000.0, d01), "density {d01} vs 0.3");
        assert!(m.recurrent.slice(s![200..400, 0..200]).iter().all(|&v| v == 0.0));
        for i in 0..200 {
            for j in 0..200 {
                assert_eq!(m.recurrent[[i, j]], if i == j { 0.0 } else { 1.0 });
            }
        }
        // Area 1 -> area 1: diagonal forced to 0, off-diagonal density 0.5.
        let b11 = m.recurrent.slice(s![200..400, 200..400]);
        assert!(b11.diag().iter().all(|&v| v == 0.0));
        let d11 = b11.sum() as f64 / (200.0 * 199.0);
        assert!(within(0.5, 200.0 * 199.0, d11), "density {d11} vs 0.5");

        // With self connections the diagonal of a full block is 1.
        ma.self_connections = true;
        let m = ma.generate(42).unwrap();
        assert!(m.recurrent.slice(s![0..200, 0..200]).iter().all(|&v| v == 1.0));
    }

    #[test]
    fn uneven_areas_last_takes_remainder() {
        let m = multi_area(10, 3, Array2::from_elem((3, 3), 1.0)).generate(1).unwrap();
        assert_eq!(m.areas, vec![0..3, 3..6, 6..10]);
        let m = multi_area(5, 5, Array2::from_elem((5, 5), 1.0)).generate(1).unwrap();
        assert_eq!(m.areas, (0..5).map(|i| i..i + 1).collect::<Vec<_>>());
    }

    #[test]
    fn input_and_readout_follow_areas() {
        let mut ma = multi_area(30, 3, Array2::from_elem((3, 3), 0.5));
        ma.input_areas = vec![1];
        ma.readout_areas = vec![0, 2];
        ma.n_input = 4;
        let m = ma.generate(3).unwrap();
        assert_eq!(m.input.dim(), (30, 4));
        assert_eq!(m.readout.dim(), (2, 30));
        assert!(m.signs.is_none());
        for unit in 0..30 {
            let receives = (10..20).contains(&unit);
            assert!(m.input.row(unit).iter().all(|&v| v == if receives { 1.0 } else { 0.0 }));
            let reads = !(10..20).contains(&unit);
            assert!(
                m.readout
                    .column(unit)
                    .iter()
                    .all(|&v| v == if reads { 1.0 } else { 0.0 })
            );
        }
        // Empty lists mean every area (nn4n's None).
        let m = multi_area(30, 3, Array2::from_elem((3, 3), 0.5)).generate(3).unwrap();
        assert!(m.input.iter().all(|&v| v == 1.0));
        assert!(m.readout.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn seeds_determine_masks() {
        let ma = multi_area(60, 3, Array2::from_elem((3, 3), 0.4));
        assert_eq!(ma.generate(9).unwrap(), ma.generate(9).unwrap());
        assert_ne!(ma.generate(9).unwrap().recurrent, ma.generate(10).unwrap().recurrent);

        let ei = MultiAreaEI {
            base: ma,
            exc_pct: 0.8,
            inter_area_connections: [true; 4],
            inh_readout: true,
        };
        assert_eq!(ei.generate(9).unwrap(), ei.generate(9).unwrap());
        assert_ne!(ei.generate(9).unwrap().recurrent, ei.generate(10).unwrap().recurrent);

        let ri = RandomInput {
            n_hidden: 100,
            n_input: 2,
            n_output: 1,
            input_fraction: 0.3,
            self_connections: true,
        };
        assert_eq!(ri.generate(9).unwrap(), ri.generate(9).unwrap());
        assert_ne!(ri.generate(9).unwrap().input, ri.generate(10).unwrap().input);
    }

    #[test]
    fn ei_signs_per_area() {
        let ei = |exc_pct: f64| MultiAreaEI {
            base: multi_area(200, 2, Array2::from_elem((2, 2), 1.0)),
            exc_pct,
            inter_area_connections: [true; 4],
            inh_readout: true,
        };
        let m = ei(0.8).generate(5).unwrap();
        let signs = m.signs.unwrap();
        for area in &m.areas {
            for (k, unit) in area.clone().enumerate() {
                assert_eq!(signs[unit], if k < 80 { 1 } else { -1 }, "unit {unit}");
            }
        }
        // Masks stay 0/1 and match the base masks when nothing is removed.
        assert_eq!(m.recurrent, ei(0.8).base.generate(5).unwrap().recurrent);
        assert!(is_binary(&m.recurrent) && is_binary(&m.readout));
        // nn4n's int(size * exc_pct): 100 * 0.29 == 28.999999999999996 -> 28.
        let count = |pct: f64| {
            ei(pct).generate(0).unwrap().signs.unwrap()[..100]
                .iter()
                .filter(|&&s| s > 0)
                .count()
        };
        assert_eq!(count(0.29), 28);
        assert_eq!(count(0.0), 0);
        assert_eq!(count(1.0), 100);
        assert_eq!(count(0.555), 55);
    }

    #[test]
    fn ei_inter_area_connection_kinds() {
        let base = multi_area(40, 2, Array2::from_elem((2, 2), 1.0));
        for off in 0..4 {
            let mut keep = [true; 4];
            keep[off] = false;
            let ei = MultiAreaEI {
                base: base.clone(),
                exc_pct: 0.75,
                inter_area_connections: keep,
                inh_readout: true,
            };
            let m = ei.generate(1).unwrap();
            let signs = m.signs.as_ref().unwrap();
            let area = |u: usize| u / 20;
            for post in 0..40 {
                for pre in 0..40 {
                    let kind = match (signs[pre] > 0, signs[post] > 0) {
                        (true, true) => 0,
                        (true, false) => 1,
                        (false, true) => 2,
                        (false, false) => 3,
                    };
                    let expected = if area(post) == area(pre) || kind != off {
                        1.0
                    } else {
                        0.0
                    };
                    assert_eq!(m.recurrent[[post, pre]], expected, "off {off}, post {post}, pre {pre}");
                }
            }
        }
    }

    #[test]
    fn ei_inh_readout() {
        let ei = MultiAreaEI {
            base: multi_area(40, 2, Array2::from_elem((2, 2), 1.0)),
            exc_pct: 0.5,
            inter_area_connections: [true; 4],
            inh_readout: false,
        };
        let m = ei.generate(2).unwrap();
        let signs = m.signs.unwrap();
        for (pre, &s) in signs.iter().enumerate() {
            let expected = if s > 0 { 1.0 } else { 0.0 };
            assert!(m.readout.column(pre).iter().all(|&v| v == expected));
        }
        assert!(m.input.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn random_input_counts() {
        for (n, frac, k) in [(100, 0.25, 25), (10, 0.333, 3), (7, 1.0, 7), (7, 0.0, 0), (10, 0.7, 7)] {
            let ri = RandomInput {
                n_hidden: n,
                n_input: 3,
                n_output: 2,
                input_fraction: frac,
                self_connections: false,
            };
            let m = ri.generate(11).unwrap();
            let rows_on: Vec<usize> = (0..n).filter(|&u| m.input.row(u).iter().any(|&v| v != 0.0)).collect();
            assert_eq!(rows_on.len(), k, "n {n} frac {frac}");
            assert!(rows_on.iter().all(|&u| m.input.row(u).iter().all(|&v| v == 1.0)));
            assert_eq!(m.recurrent, dense_recurrent(n, false));
            assert!(m.readout.iter().all(|&v| v == 1.0));
            assert_eq!(m.readout.dim(), (2, n));
            assert_eq!(m.areas, std::iter::once(0..n).collect::<Vec<_>>());
        }
        // Over many seeds each unit is picked about equally often (k/n = 0.3 each).
        let ri = RandomInput {
            n_hidden: 10,
            n_input: 1,
            n_output: 1,
            input_fraction: 0.3,
            self_connections: true,
        };
        let mut hits = [0usize; 10];
        for seed in 0..3000 {
            let m = ri.generate(seed).unwrap();
            for (u, h) in hits.iter_mut().enumerate() {
                *h += (m.input[[u, 0]] != 0.0) as usize;
            }
        }
        let sd = (3000.0f64 * 0.3 * 0.7).sqrt();
        assert!(hits.iter().all(|&h| (h as f64 - 900.0).abs() <= 4.0 * sd), "{hits:?}");
    }

    #[test]
    fn errors_name_the_parameter() {
        let ok = multi_area(10, 2, Array2::from_elem((2, 2), 0.5));
        let expect = |r: Result<MaskSet, String>, name: &str| {
            let msg = r.expect_err(name);
            assert!(msg.contains(name), "{msg:?} should name {name}");
            msg
        };
        expect(
            MultiArea {
                n_hidden: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_hidden",
        );
        expect(
            MultiArea {
                n_areas: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_areas",
        );
        expect(
            MultiArea {
                n_areas: 11,
                ..ok.clone()
            }
            .generate(0),
            "n_areas",
        );
        let msg = expect(
            MultiArea {
                area_connectivities: Array2::zeros((2, 3)),
                ..ok.clone()
            }
            .generate(0),
            "area_connectivities",
        );
        assert!(msg.contains("expected (2, 2)") && msg.contains("got (2, 3)"), "{msg}");
        for bad in [1.5, -0.1, f64::NAN] {
            let conn = array![[0.5, bad], [0.5, 0.5]];
            expect(
                MultiArea {
                    area_connectivities: conn,
                    ..ok.clone()
                }
                .generate(0),
                "area_connectivities",
            );
        }
        expect(
            MultiArea {
                input_areas: vec![0, 2],
                ..ok.clone()
            }
            .generate(0),
            "input_areas",
        );
        expect(
            MultiArea {
                readout_areas: vec![5],
                ..ok.clone()
            }
            .generate(0),
            "readout_areas",
        );
        expect(
            MultiArea {
                n_input: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_input",
        );
        expect(
            MultiArea {
                n_output: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_output",
        );

        for bad in [1.01, -0.5, f64::NAN] {
            let ei = MultiAreaEI {
                base: ok.clone(),
                exc_pct: bad,
                inter_area_connections: [true; 4],
                inh_readout: true,
            };
            expect(ei.generate(0), "exc_pct");
        }
        let ei = MultiAreaEI {
            base: MultiArea {
                n_areas: 0,
                ..ok.clone()
            },
            exc_pct: 0.8,
            inter_area_connections: [true; 4],
            inh_readout: true,
        };
        expect(ei.generate(0), "n_areas");

        let ri = RandomInput {
            n_hidden: 10,
            n_input: 1,
            n_output: 1,
            input_fraction: 0.5,
            self_connections: true,
        };
        for bad in [1.5, -0.1, f64::NAN, f64::INFINITY] {
            expect(
                RandomInput {
                    input_fraction: bad,
                    ..ri.clone()
                }
                .generate(0),
                "input_fraction",
            );
        }
        expect(
            RandomInput {
                n_hidden: 0,
                ..ri.clone()
            }
            .generate(0),
            "n_hidden",
        );
        expect(
            RandomInput {
                n_input: 0,
                ..ri.clone()
            }
            .generate(0),
            "n_input",
        );
        expect(
            RandomInput {
                n_output: 0,
                ..ri.clone()
            }
            .generate(0),
            "n_output",
        );
    }
}
