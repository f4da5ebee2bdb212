//! [`GridIndex`]: a uniform-grid index over points for radius queries that
//! honour a [`Space`]'s periodicity, in time proportional to the points found.

use super::distance::{Space, is_periodic, min_image, norm2};

/// One axis of a [`GridIndex`].
#[derive(Clone, Copy, Debug)]
struct Axis {
    /// Number of cells (>= 1).
    n: usize,
    /// Coordinate of the low edge of cell 0.
    origin: f64,
    /// Cell side (>= the requested cell size; infinite when `n == 1`).
    side: f64,
    /// Period, or 0 when open.
    period: f64,
    /// Magnitude of the coordinates, for the rounding margin of queries.
    scale: f64,
}

/// `x.floor()` without the library call (baseline x86-64 has no rounding
/// instruction); the same value for every input, NaN and infinities included.
#[inline]
fn floor(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        // |x| < 2^52: truncation is exact, then step down for negatives.
        let t = (x as i64 as f64).copysign(x);
        if t > x { t - 1.0 } else { t }
    } else {
        // Already an integer, infinite or NaN.
        x
    }
}

/// Wraps `x` into `[0, l)`.
#[inline]
fn wrap(x: f64, l: f64) -> f64 {
    let w = x.rem_euclid(l);
    if w >= l { 0.0 } else { w }
}

impl Axis {
    /// Cell of coordinate `x` (non-finite values go to an end cell).
    #[inline]
    fn cell_of(&self, x: f64) -> usize {
        if self.n == 1 {
            return 0;
        }
        let x = if self.period > 0.0 { wrap(x, self.period) } else { x };
        let k = floor((x - self.origin) / self.side);
        if k >= 0.0 { (k as usize).min(self.n - 1) } else { 0 }
    }

    /// The query coordinate `c` in the frame of the cells (wrapped on a
    /// periodic axis), and a rounding allowance (µm) for a query of radius
    /// `r` there: far larger than any rounding in the distances, far smaller
    /// than a cell.
    #[inline]
    fn frame(&self, c: f64, r: f64) -> (f64, f64) {
        let cw = if self.period > 0.0 { wrap(c, self.period) } else { c };
        (cw, 1e-9 * (r + c.abs() + self.scale))
    }

    /// Cells to visit for a query at `cw` (in the cell frame, with rounding
    /// allowance `m`) and radius `r`: cells `first .. first + count`
    /// (unwrapped; taken modulo `n` on periodic axes), and whether that is
    /// every cell of a periodic axis (cell gaps then mean nothing).
    #[inline]
    fn range(&self, cw: f64, m: f64, r: f64) -> (i64, usize, bool) {
        if self.n == 1 {
            return (0, 1, true);
        }
        // Widen the search a little so that rounding in the distance
        // computation can never exclude a point the distance accepts.
        let rr = r + m;
        let n = self.n as f64;
        let lo = floor((cw - rr - self.origin) / self.side);
        let hi = floor((cw + rr - self.origin) / self.side);
        if self.period > 0.0 {
            if hi - lo + 1.0 < n {
                (lo as i64, (hi - lo) as usize + 1, false)
            } else {
                (0, self.n, true)
            }
        } else {
            let (lo, hi) = (lo.max(0.0), hi.min(n - 1.0));
            if lo <= hi {
                (lo as i64, (hi - lo) as usize + 1, false)
            } else {
                (0, 0, false)
            }
        }
    }

    /// A lower bound on `|coordinate displacement|` (µm) between a finite
    /// query at `cw` (cell frame, allowance `m`) and any point of unwrapped
    /// cell `k` of a range that is not `all`.
    #[inline]
    fn gap(&self, cw: f64, m: f64, k: i64, all: bool) -> f64 {
        if all {
            return 0.0;
        }
        let lo = self.origin + k as f64 * self.side;
        let g = (lo - cw).max(cw - (lo + self.side));
        (g - m).max(0.0)
    }

    /// Cell index of position `first + j` of a range.
    #[inline]
    fn wrap_cell(&self, first: i64, j: usize) -> usize {
        (first + j as i64).rem_euclid(self.n as i64) as usize
    }
}

/// Sorts `v` by `key[v[j]]` ascending, where every key is below `bound`
/// and no two entries have the same key: a least significant digit radix
/// sort (bytes), using the end of `v` as working space, for all but short
/// inputs.
fn sort_by_key(v: &mut Vec<u32>, key: &[u32], bound: u32) {
    let k = v.len();
    if k <= 64 {
        v.sort_unstable_by_key(|&j| key[j as usize]);
        return;
    }
    v.resize(2 * k, 0);
    let (mut src, mut dst) = v.split_at_mut(k);
    let mut swapped = false;
    let mut shift = 0;
    while shift < 32 && bound.saturating_sub(1) >> shift != 0 {
        let digit = |j: u32| ((key[j as usize] >> shift) & 255) as usize;
        let mut count = [0u32; 256];
        for &j in src.iter() {
            count[digit(j)] += 1;
        }
        // A byte that is the same in every key needs no pass.
        if count[digit(src[0])] as usize != k {
            let mut sum = 0;
            for c in count.iter_mut() {
                let t = *c;
                *c = sum;
                sum += t;
            }
            for &j in src.iter() {
                let b = digit(j);
                dst[count[b] as usize] = j;
                count[b] += 1;
            }
            std::mem::swap(&mut src, &mut dst);
            swapped = !swapped;
        }
        shift += 8;
    }
    if swapped {
        v.copy_within(k.., 0);
    }
    v.truncate(k);
}

/// A uniform-grid spatial index over a set of points, for radius queries
/// that honour a [`Space`]'s periodicity. Build once with [`GridIndex::new`],
/// query many times with [`GridIndex::for_each_within`].
#[derive(Clone, Debug)]
pub struct GridIndex {
    points: Vec<[f64; 3]>,
    space: Space,
    axes: [Axis; 3],
    /// Start of each cell's items in `items` (`cells + 1` entries).
    cell_start: Vec<u32>,
    /// Point indices, grouped by cell, ascending within each cell.
    items: Vec<u32>,
    /// The points in the order of `items` (for locality of queries).
    sorted: Vec<[f64; 3]>,
}

impl GridIndex {
    /// Builds an index over `points` (µm) with cells of side about `cell`
    /// (µm, > 0). About half the query radius is usually fastest; anything
    /// from a quarter of the radius to the radius works well.
    ///
    /// Open axes are covered from the smallest to the largest coordinate,
    /// periodic axes from 0 to their extent (points are wrapped). Degenerate
    /// extents (all points on a line, a plane, or the same point) get a
    /// single cell on that axis. The total number of cells is kept at most
    /// `2 * max(points.len(), 1)` by enlarging cells when needed. A `cell`
    /// that is not a positive number (0, negative, NaN) or is infinite gives
    /// a single cell: queries are then correct but scan every point.
    ///
    /// # Panics
    /// If there are more than `u32::MAX` points.
    pub fn new(points: &[[f64; 3]], cell: f64, space: Space) -> GridIndex {
        assert!(
            u32::try_from(points.len()).is_ok(),
            "GridIndex supports at most u32::MAX points, got {}",
            points.len()
        );
        let limit = 2.0 * points.len().max(1) as f64;
        // Span of each axis: the period, or the extent of finite coordinates.
        let mut origin = [0.0; 3];
        let mut span = [0.0; 3];
        let mut scale = [0.0f64; 3];
        for a in 0..3 {
            let l = space.periodic[a];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for p in points {
                if p[a].is_finite() {
                    lo = lo.min(p[a]);
                    hi = hi.max(p[a]);
                    scale[a] = scale[a].max(p[a].abs());
                }
            }
            if is_periodic(l) {
                span[a] = l;
                scale[a] += l;
            } else if lo <= hi {
                origin[a] = lo;
                // Infinite when the coordinates are huge: one cell then.
                span[a] = hi - lo;
            }
        }
        let cells_for = |c: f64, a: usize| -> f64 {
            let want = span[a] / c;
            if !want.is_finite() {
                1.0
            } else if is_periodic(space.periodic[a]) {
                want.floor().max(1.0)
            } else {
                want.floor() + 1.0
            }
        };
        let mut c = if cell > 0.0 && cell.is_finite() {
            cell
        } else {
            f64::INFINITY
        };
        if c.is_finite() {
            // Start with at most `limit` cells per axis, then enlarge until
            // the total fits.
            let widest = span.iter().copied().filter(|s| s.is_finite()).fold(0.0, f64::max);
            c = c.max(widest / limit);
            loop {
                let n = [cells_for(c, 0), cells_for(c, 1), cells_for(c, 2)];
                let total = n[0] * n[1] * n[2];
                if total <= limit {
                    break;
                }
                let active = n.iter().filter(|&&k| k > 1.0).count().max(1) as f64;
                c *= (total / limit).powf(1.0 / active).max(1.01);
            }
        }
        let axes: [Axis; 3] = std::array::from_fn(|a| {
            let n = cells_for(c, a) as usize;
            let periodic = is_periodic(space.periodic[a]);
            let side = if n == 1 {
                f64::INFINITY
            } else if periodic {
                span[a] / n as f64
            } else {
                c
            };
            Axis {
                n,
                origin: if periodic { 0.0 } else { origin[a] },
                side,
                period: if periodic { space.periodic[a] } else { 0.0 },
                scale: scale[a] + if side.is_finite() { side } else { 0.0 },
            }
        });
        let n_cells = axes[0].n * axes[1].n * axes[2].n;
        let cell_index: Vec<usize> = points
            .iter()
            .map(|p| (axes[2].cell_of(p[2]) * axes[1].n + axes[1].cell_of(p[1])) * axes[0].n + axes[0].cell_of(p[0]))
            .collect();
        let mut cell_start = vec![0u32; n_cells + 1];
        for &k in &cell_index {
            cell_start[k + 1] += 1;
        }
        for k in 0..n_cells {
            cell_start[k + 1] += cell_start[k];
        }
        let mut fill = cell_start.clone();
        let mut items = vec![0u32; points.len()];
        for (i, &k) in cell_index.iter().enumerate() {
            items[fill[k] as usize] = i as u32;
            fill[k] += 1;
        }
        let sorted = items.iter().map(|&i| points[i as usize]).collect();
        GridIndex {
            points: points.to_vec(),
            space,
            axes,
            cell_start,
            items,
            sorted,
        }
    }

    /// Number of indexed points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is indexed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The boundary conditions used for distances.
    pub fn space(&self) -> Space {
        self.space
    }

    /// The indexed points (µm), in index order.
    pub fn points(&self) -> &[[f64; 3]] {
        &self.points
    }

    /// Number of cells.
    #[cfg(test)]
    fn n_cells(&self) -> usize {
        self.cell_start.len() - 1
    }

    /// Calls `f(index, distance)` (distance in µm) for every indexed point
    /// whose distance `space.distance(centre, point)` is `<= radius` (µm),
    /// in ascending index order. The point at `centre` itself, if indexed,
    /// is included (distance 0). A negative or NaN radius finds nothing; an
    /// infinite one finds every point at a finite distance. `scratch` is
    /// working memory (it grows to about twice the number of points found):
    /// pass the same `Vec` to successive calls to avoid allocation; its
    /// contents on return are unspecified.
    ///
    /// The cost is about the number of points within a little more than
    /// `radius` of `centre`, not the number of indexed points.
    pub fn for_each_within(
        &self,
        centre: [f64; 3],
        radius: f64,
        scratch: &mut Vec<u32>,
        mut f: impl FnMut(usize, f64),
    ) {
        scratch.clear();
        if radius.is_nan() || radius < 0.0 || self.points.is_empty() {
            return;
        }
        let [ax, ay, az] = &self.axes;
        let (cx, mx) = ax.frame(centre[0], radius);
        let (cy, my) = ay.frame(centre[1], radius);
        let (cz, mz) = az.frame(centre[2], radius);
        let (fy, ny, all_y) = ay.range(cy, my, radius);
        let (fz, nz, all_z) = az.range(cz, mz, radius);
        // Rows of cells (fixed y and z) far from the centre get a narrower x
        // range, or none; only for a finite query (gaps are then finite).
        let prune = radius.is_finite() && centre.iter().all(|c| c.is_finite());
        let r2 = radius * radius;
        // Keep the candidates within the radius, cell run by cell run; then
        // sort the (few) accepted indices. The squared-distance bound is a
        // cheap superset of the exact test `sqrt(s) <= radius` (the same
        // formula as `Space::distance`), which runs afterwards.
        let r2_loose = r2 * (1.0 + 1e-12) + f64::MIN_POSITIVE;
        let period = [ax.period, ay.period, az.period];
        let half = period.map(|l| if l > 0.0 { 0.5 * l } else { f64::INFINITY });
        let mut accept = |lo: u32, hi: u32| {
            let (lo, hi) = (lo as usize, hi as usize);
            for (pos, p) in (lo..hi).zip(&self.sorted[lo..hi]) {
                // `Space::displacement`, with the periodicity tests hoisted.
                let mut d = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
                for a in 0..3 {
                    d[a] = min_image(d[a], period[a], half[a]);
                }
                if norm2(d) <= r2_loose {
                    scratch.push(pos as u32);
                }
            }
        };
        let mut cells = 0;
        for kz in 0..nz {
            let gz = if prune {
                az.gap(cz, mz, fz + kz as i64, all_z)
            } else {
                0.0
            };
            let z = az.wrap_cell(fz, kz);
            for ky in 0..ny {
                let w = if prune {
                    let gy = ay.gap(cy, my, fy + ky as i64, all_y);
                    let rest = r2 - gz * gz - gy * gy;
                    if rest < -1e-12 * r2 {
                        continue;
                    }
                    (rest.max(0.0) + 1e-12 * r2).sqrt()
                } else {
                    radius
                };
                let (fx, nx, _) = ax.range(cx, mx, w);
                if nx == 0 {
                    continue;
                }
                cells += nx;
                let y = ay.wrap_cell(fy, ky);
                let row = (z * ay.n + y) * ax.n;
                if ax.period == 0.0 || nx == ax.n {
                    // Contiguous run of cells.
                    let first = row + ax.wrap_cell(fx, 0);
                    accept(self.cell_start[first], self.cell_start[first + nx]);
                } else {
                    for kx in 0..nx {
                        let k = row + ax.wrap_cell(fx, kx);
                        accept(self.cell_start[k], self.cell_start[k + 1]);
                    }
                }
            }
        }
        // `scratch` holds positions in `items`/`sorted` (memory just read,
        // so the rest stays in cache); order them by point index.
        if cells > 1 {
            sort_by_key(scratch, &self.items, self.points.len() as u32);
        }
        for &pos in scratch.iter() {
            let pos = pos as usize;
            let d = self.space.distance(centre, self.sorted[pos]);
            if d <= radius {
                f(self.items[pos] as usize, d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::distance::round;
    use crate::space::structure::unit_f64;
    use crate::space::{Structure, periodic_extent, rng};
    use proptest::prelude::*;
    use rand::Rng;

    fn query(index: &GridIndex, centre: [f64; 3], radius: f64) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        index.for_each_within(centre, radius, &mut scratch, |i, d| out.push((i, d)));
        out
    }

    fn brute(points: &[[f64; 3]], space: Space, centre: [f64; 3], r: f64) -> Vec<(usize, f64)> {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| (i, space.distance(centre, *p)))
            .filter(|&(_, d)| d <= r)
            .collect()
    }

    #[test]
    fn grid_on_natural_torus_has_four_neighbours() {
        let g = Structure::Grid2D {
            nx: 10,
            ny: 10,
            dx: 1.0,
            dy: 1.0,
            x0: 0.5,
            y0: 0.5,
        };
        let p = g.positions(100, &mut rng(0)).unwrap();
        let space = Space::periodic(periodic_extent(&g, 100));
        let index = GridIndex::new(&p, 1.0, space);
        let mut scratch = Vec::new();
        for (i, &c) in p.iter().enumerate() {
            let mut found = Vec::new();
            index.for_each_within(c, 1.0, &mut scratch, |j, d| found.push((j, d)));
            assert_eq!(found.len(), 5, "neuron {i}: {found:?}");
            assert!(found.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(found.contains(&(i, 0.0)));
        }
        // Open space: corners have 2 neighbours plus themselves.
        let index = GridIndex::new(&p, 1.0, Space::open());
        assert_eq!(query(&index, p[0], 1.0).len(), 3);
        assert_eq!(query(&index, p[55], 1.0).len(), 5);
    }

    #[test]
    fn degenerate_and_edge_cases() {
        let mut scratch = Vec::new();
        // Empty index.
        let empty = GridIndex::new(&[], 1.0, Space::open());
        assert!(empty.is_empty());
        assert!(query(&empty, [0.0; 3], 10.0).is_empty());
        // All points at the same place.
        let same = vec![[3.0, 3.0, 3.0]; 5];
        let idx = GridIndex::new(&same, 1.0, Space::open());
        assert_eq!(idx.len(), 5);
        assert_eq!(idx.n_cells(), 1);
        assert_eq!(query(&idx, [3.0; 3], 0.0).len(), 5);
        assert!(query(&idx, [0.0; 3], 1.0).is_empty());
        // Points on a line, tiny cells: cell count is clamped.
        let line: Vec<[f64; 3]> = (0..50).map(|i| [i as f64, 0.0, 0.0]).collect();
        let idx = GridIndex::new(&line, 1e-9, Space::open());
        assert!(idx.n_cells() <= 100, "{}", idx.n_cells());
        assert_eq!(query(&idx, [10.0, 0.0, 0.0], 1.0), vec![(9, 1.0), (10, 0.0), (11, 1.0)]);
        // Sparse 3-D points with tiny cells: clamped too.
        let pts = Structure::RandomBox {
            min: [0.0; 3],
            max: [1000.0; 3],
        }
        .positions(300, &mut rng(3))
        .unwrap();
        let idx = GridIndex::new(&pts, 1e-3, Space::periodic([1000.0, 0.0, 1000.0]));
        assert!(idx.n_cells() <= 600, "{}", idx.n_cells());
        let space = idx.space();
        for &c in pts.iter().take(20) {
            assert_eq!(query(&idx, c, 150.0), brute(&pts, space, c, 150.0));
        }
        // Odd cell sizes: one cell, still correct.
        for cell in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let idx = GridIndex::new(&pts, cell, Space::open());
            assert_eq!(idx.n_cells(), 1);
            let c = [500.0; 3];
            assert_eq!(query(&idx, c, 200.0), brute(&pts, Space::open(), c, 200.0));
        }
        // Radius edge cases.
        let idx = GridIndex::new(&pts, 50.0, Space::open());
        assert!(query(&idx, [500.0; 3], -1.0).is_empty());
        assert!(query(&idx, [500.0; 3], f64::NAN).is_empty());
        assert_eq!(query(&idx, [500.0; 3], f64::INFINITY).len(), pts.len());
        assert!(query(&idx, [f64::NAN, 0.0, 0.0], 1e9).is_empty());
        assert!(query(&idx, [1e6, 0.0, 0.0], 10.0).is_empty());
        // Scratch is reused and cleared.
        scratch.push(7);
        idx.for_each_within(pts[0], 0.0, &mut scratch, |i, d| {
            assert_eq!((i, d), (0, 0.0));
        });
        // Non-finite points are never within a finite radius.
        let odd = vec![[f64::NAN, 0.0, 0.0], [f64::INFINITY, 0.0, 0.0], [1.0, 0.0, 0.0]];
        let idx = GridIndex::new(&odd, 0.5, Space::periodic([0.0, 4.0, 0.0]));
        assert_eq!(query(&idx, [0.0; 3], 5.0), vec![(2, 1.0)]);
    }

    #[test]
    fn helpers_match_std() {
        let mut r = rng(5);
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370496.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
        ];
        for _ in 0..2000 {
            let u = unit_f64(&mut r);
            values.push((u - 0.5) * 100.0);
            values.push((u - 0.5).powi(3) * 1e18);
            values.push(f64::from_bits(r.next_u64()));
        }
        for x in values {
            if x.is_nan() {
                assert!(floor(x).is_nan() && round(x).is_nan());
                continue;
            }
            assert_eq!(floor(x).to_bits(), x.floor().to_bits(), "floor({x:e})");
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "round({x:e})");
        }
        assert!(floor(f64::NAN).is_nan() && round(f64::NAN).is_nan());
    }

    #[test]
    fn radix_sort_sorts() {
        let mut r = rng(9);
        for (len, bound) in [
            (0, 1),
            (1, 5),
            (65, 100),
            (250, 1 << 8),
            (500, 70_000),
            (1000, 1 << 24),
            (1000, u32::MAX),
        ] {
            // Distinct keys below `bound`, some sharing their high bytes.
            let mut keys: Vec<u32> = (0..len)
                .map(|j| {
                    let x = (r.next_u64() % u64::from(bound)) as u32;
                    if j % 3 == 0 { x } else { (x & !0xff) | (j as u32 & 0xff) }
                })
                .collect();
            keys.sort_unstable();
            keys.dedup();
            // Scramble the keys and sort positions by key.
            for j in (1..keys.len()).rev() {
                keys.swap(j, (r.next_u64() % (j as u64 + 1)) as usize);
            }
            let mut v: Vec<u32> = (0..keys.len() as u32).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|&j| keys[j as usize]);
            v.reverse();
            sort_by_key(&mut v, &keys, bound);
            assert_eq!(v, expected, "len {len}, bound {bound}");
        }
    }

    #[test]
    fn index_matches_brute_force_many_points() {
        let pts = Structure::RandomBox {
            min: [0.0, 0.0, 0.0],
            max: [200.0, 100.0, 30.0],
        }
        .positions(3000, &mut rng(21))
        .unwrap();
        let mut r = rng(22);
        let mut scratch = Vec::new();
        for space in [Space::open(), Space::periodic([200.0, 100.0, 0.0])] {
            for cell in [5.0, 10.0, 40.0] {
                let index = GridIndex::new(&pts, cell, space);
                for q in 0..40 {
                    let c = if q % 2 == 0 {
                        pts[q * 37]
                    } else {
                        [
                            unit_f64(&mut r) * 260.0 - 30.0,
                            unit_f64(&mut r) * 130.0 - 15.0,
                            unit_f64(&mut r) * 40.0 - 5.0,
                        ]
                    };
                    let radius = unit_f64(&mut r) * 30.0;
                    let mut got = Vec::new();
                    index.for_each_within(c, radius, &mut scratch, |i, d| got.push((i, d)));
                    assert_eq!(got, brute(&pts, space, c, radius));
                }
            }
        }
    }

    fn coord() -> impl Strategy<Value = f64> {
        prop_oneof![
            -25.0..25.0f64,
            // Far from the origin: rounding in the distances matters.
            (-25.0..25.0f64).prop_map(|x| x + 1e5),
            // Integers hit cell boundaries and exact distances.
            (-25i32..25).prop_map(f64::from),
        ]
    }

    fn space() -> impl Strategy<Value = Space> {
        let extent = prop_oneof![Just(0.0), 0.5..30.0f64, (1i32..30).prop_map(f64::from)];
        [extent.clone(), extent.clone(), extent].prop_map(Space::periodic)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn index_matches_brute_force(
            points in prop::collection::vec([coord(), coord(), coord()], 0..60),
            flat in prop::array::uniform3(any::<bool>()),
            space in space(),
            cell in prop_oneof![0.05..20.0f64, (1i32..10).prop_map(f64::from)],
            queries in prop::collection::vec(
                ([coord(), coord(), coord()], prop_oneof![0.0..30.0f64, (0i32..12).prop_map(f64::from)]),
                1..8,
            ),
        ) {
            // Optionally flatten axes, to get lines, planes and points.
            let points: Vec<[f64; 3]> = points
                .into_iter()
                .map(|mut p| {
                    for a in 0..3 {
                        if flat[a] {
                            p[a] = 1.0;
                        }
                    }
                    p
                })
                .collect();
            let index = GridIndex::new(&points, cell, space);
            prop_assert!(index.n_cells() <= 2 * points.len().max(1));
            let mut scratch = Vec::new();
            for (centre, radius) in queries {
                let mut got = Vec::new();
                index.for_each_within(centre, radius, &mut scratch, |i, d| got.push((i, d)));
                prop_assert_eq!(got, brute(&points, space, centre, radius));
                // Query from an indexed point, too.
                if let Some(&c) = points.first() {
                    let mut got = Vec::new();
                    index.for_each_within(c, radius, &mut scratch, |i, d| got.push((i, d)));
                    prop_assert_eq!(got, brute(&points, space, c, radius));
                }
                // A radius exactly equal to the distance of some point: the
                // point lies on the boundary and must be found.
                if !points.is_empty() {
                    let j = (radius * 7.0) as usize % points.len();
                    let r = space.distance(centre, points[j]);
                    let mut got = Vec::new();
                    index.for_each_within(centre, r, &mut scratch, |i, d| got.push((i, d)));
                    prop_assert!(got.iter().any(|&(i, _)| i == j));
                    prop_assert_eq!(got, brute(&points, space, centre, r));
                }
            }
        }
    }
}
