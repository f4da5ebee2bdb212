//! PNG charts drawn with plotters, labelled in a bundled font (DejaVu Sans,
//! `assets/fonts`, Bitstream Vera licence) so that a machine without system
//! fonts draws the same picture.
//!
//! Each chart is rendered to `<stem>.tmp.png` beside its path and renamed
//! over it, so a plot appears complete or not at all.

use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

const FONT: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans.ttf"));
const FAMILY: &str = "sans-serif";

fn register_font() -> std::io::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::other("the bundled font DejaVu Sans could not be read"))
    }
}

/// One line of a chart: its points in data coordinates, a legend label and
/// an RGB colour.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry (empty: no legend entry).
    pub label: String,
    /// Points (x, y); non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub rgb: [u8; 3],
}

/// A line chart: title, axis labels with units, series and an optional fixed
/// y range (else the data's range, padded by 5 %).
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    /// Caption above the plot.
    pub title: String,
    /// x axis label, with its unit.
    pub x_label: String,
    /// y axis label, with its unit.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Fixed y range.
    pub y_range: Option<(f64, f64)>,
}

fn range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi > lo {
        let d = (hi - lo) * pad;
        (lo - d, hi + d)
    } else {
        (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0))
    }
}

/// Tick labels with as many decimals as a fifth of the span needs (none for
/// counts and neuron indices).
fn tick_format(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let step = ((hi - lo) / 5.0).abs();
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        1
    };
    move |v: &f64| {
        let v = if v.abs() < step * 1e-9 { 0.0 } else { *v };
        format!("{v:.decimals$}")
    }
}

fn draw_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> std::io::Error {
    std::io::Error::other(format!("drawing a chart: {e}"))
}

/// Renders into `<stem>.tmp.png` and renames it over `path`.
fn render_atomic(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    register_font()?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("plot");
    let tmp = path.with_file_name(format!("{stem}.tmp.png"));
    let result = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        draw(&root)?;
        root.present().map_err(draw_error)?;
        drop(root);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Draws `chart` as a `size` (width, height in pixels) PNG at `path`.
pub fn line_chart(path: &Path, chart: &LineChart, size: (u32, u32)) -> std::io::Result<()> {
    let (x0, x1) = range(chart.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)), 0.0);
    let (y0, y1) = chart
        .y_range
        .unwrap_or_else(|| range(chart.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)), 0.05));
    render_atomic(path, size, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&chart.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_error)?;
        let (fx, fy) = (tick_format(x0, x1), tick_format(y0, y1));
        c.configure_mesh()
            .x_desc(&chart.x_label)
            .y_desc(&chart.y_label)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(draw_error)?;
        let mut legend = false;
        for s in &chart.series {
            let colour = RGBColor(s.rgb[0], s.rgb[1], s.rgb[2]);
            let points = s.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite());
            let drawn = c
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(draw_error)?;
            if !s.label.is_empty() {
                legend = true;
                drawn
                    .label(s.label.as_str())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
            }
        }
        if legend {
            c.configure_series_labels()
                .label_font((FAMILY, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(draw_error)?;
        }
        Ok(())
    })
}

/// A spike raster: a dot per spike at (time, neuron index).
#[derive(Clone, Debug, Default)]
pub struct Raster {
    /// Caption above the plot.
    pub title: String,
    /// Spike times (ms).
    pub times_ms: Vec<f64>,
    /// Neuron index of each spike.
    pub neurons: Vec<u32>,
    /// Neurons in the population (the y axis).
    pub n_neurons: usize,
    /// The time window shown (ms).
    pub t_range: (f64, f64),
}

/// Draws `raster` as a `size` PNG at `path`.
pub fn raster(path: &Path, raster: &Raster, size: (u32, u32)) -> std::io::Result<()> {
    let (t0, t1) = if raster.t_range.1 > raster.t_range.0 {
        raster.t_range
    } else {
        (raster.t_range.0, raster.t_range.0 + 1.0)
    };
    let n = raster.n_neurons.max(1) as f64;
    render_atomic(path, size, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&raster.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(t0..t1, 0.0..n)
            .map_err(draw_error)?;
        let (fx, fy) = (tick_format(t0, t1), tick_format(0.0, n));
        c.configure_mesh()
            .x_desc("time (ms)")
            .y_desc("neuron")
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .disable_mesh()
            .draw()
            .map_err(draw_error)?;
        let dots = raster
            .times_ms
            .iter()
            .zip(&raster.neurons)
            .map(|(&t, &i)| Pixel::new((t, f64::from(i) + 0.5), BLACK));
        c.draw_series(dots).map_err(draw_error)?;
        Ok(())
    })
}

/// One group of a histogram (e.g. the excitatory synapses).
#[derive(Clone, Debug)]
pub struct Group {
    /// Legend entry.
    pub label: String,
    /// The values counted.
    pub values: Vec<f64>,
    /// Colour.
    pub rgb: [u8; 3],
}

/// A histogram of one or more groups over common bins.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Caption above the plot.
    pub title: String,
    /// x axis label, with its unit.
    pub x_label: String,
    /// The groups, drawn as translucent bars over each other.
    pub groups: Vec<Group>,
    /// Number of bins across the range of all values.
    pub bins: usize,
}

/// Draws `hist` as a `size` PNG at `path` (counts on the y axis).
pub fn histogram(path: &Path, hist: &Histogram, size: (u32, u32)) -> std::io::Result<()> {
    let all = || hist.groups.iter().flat_map(|g| g.values.iter().copied());
    let (lo, hi) = range(all(), 0.0);
    let bins = hist.bins.max(1);
    let width = (hi - lo) / bins as f64;
    let counts: Vec<Vec<u64>> = hist
        .groups
        .iter()
        .map(|g| {
            let mut c = vec![0u64; bins];
            for &v in g.values.iter().filter(|v| v.is_finite()) {
                c[(((v - lo) / width) as usize).min(bins - 1)] += 1;
            }
            c
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
    render_atomic(path, size, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&hist.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(draw_error)?;
        let (fx, fy) = (tick_format(lo, hi), tick_format(0.0, top));
        c.configure_mesh()
            .x_desc(&hist.x_label)
            .y_desc("synapses")
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(draw_error)?;
        for (g, counts) in hist.groups.iter().zip(&counts).filter(|(g, _)| !g.values.is_empty()) {
            let colour = RGBColor(g.rgb[0], g.rgb[1], g.rgb[2]);
            let bars = counts.iter().enumerate().filter(|(_, k)| **k > 0).map(|(b, &k)| {
                let x = lo + b as f64 * width;
                Rectangle::new([(x, 0.0), (x + width, k as f64)], colour.mix(0.6).filled())
            });
            c.draw_series(bars)
                .map_err(draw_error)?
                .label(format!("{} ({})", g.label, g.values.len()))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.mix(0.6).filled()));
        }
        c.configure_series_labels()
            .label_font((FAMILY, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(draw_error)?;
        Ok(())
    })
}

/// A matrix as an image, rows top to bottom, in a diverging map centred on 0
/// (red > 0, blue < 0, white 0), with a colour bar.
#[derive(Clone, Debug, Default)]
pub struct MatrixImage {
    /// Caption above the plot.
    pub title: String,
    /// Column axis label (e.g. "pre neuron").
    pub x_label: String,
    /// Row axis label (e.g. "post neuron").
    pub y_label: String,
    /// Colour bar label, with its unit.
    pub value_label: String,
    /// Row-major values ([`matrix_image`]; [`matrix_cells_image`] takes them reduced).
    pub values: Vec<f32>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

fn diverging(x: f64) -> RGBColor {
    let x = x.clamp(-1.0, 1.0);
    let fade = |c: f64, t: f64| (255.0 + (c - 255.0) * t).round() as u8;
    if x >= 0.0 {
        RGBColor(fade(178.0, x), fade(24.0, x), fade(43.0, x))
    } else {
        RGBColor(fade(33.0, -x), fade(102.0, -x), fade(172.0, -x))
    }
}

/// Draws `m` as a `size` PNG at `path`; a matrix larger than the plot area
/// is shown by block means.
pub fn matrix_image(path: &Path, m: &MatrixImage, size: (u32, u32)) -> std::io::Result<()> {
    if m.values.len() != m.rows * m.cols || m.rows == 0 || m.cols == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} values for a {} x {} matrix", m.values.len(), m.rows, m.cols),
        ));
    }
    let mut cells = MatrixCells::new(m.rows, m.cols);
    cells.add_rows(&m.values);
    matrix_cells_image(path, m, &cells, size)
}

/// A matrix reduced for [`matrix_image`] as its rows arrive: at most
/// 400 x 400 cells, each the mean of its block, and the largest magnitude
/// of any single value (the colour scale), so that a matrix too large to
/// hold is drawn from blocks of rows.
#[derive(Clone, Debug)]
pub struct MatrixCells {
    rows: usize,
    cols: usize,
    block: (usize, usize),
    grid_cols: usize,
    cells: Vec<(f64, u32)>,
    vmax: f64,
    next_row: usize,
}

impl MatrixCells {
    /// An empty reduction of a `rows x cols` matrix.
    pub fn new(rows: usize, cols: usize) -> MatrixCells {
        let (br, bc) = (rows.div_ceil(400).max(1), cols.div_ceil(400).max(1));
        let (gr, gc) = (rows.div_ceil(br), cols.div_ceil(bc));
        MatrixCells {
            rows,
            cols,
            block: (br, bc),
            grid_cols: gc,
            cells: vec![(0.0, 0); gr * gc],
            vmax: 0.0,
            next_row: 0,
        }
    }

    /// Adds the next whole rows (row-major; rows past the last are ignored).
    pub fn add_rows(&mut self, values: &[f32]) {
        let (br, bc) = self.block;
        for row in values.chunks_exact(self.cols.max(1)) {
            if self.next_row >= self.rows {
                return;
            }
            let base = (self.next_row / br) * self.grid_cols;
            for (col, &v) in row.iter().enumerate() {
                let cell = &mut self.cells[base + col / bc];
                cell.0 += f64::from(v);
                cell.1 += 1;
                self.vmax = self.vmax.max(f64::from(v).abs());
            }
            self.next_row += 1;
        }
    }
}

/// Draws `cells` (a whole matrix's reduction) with the captions of `m`
/// (whose `values` are not read).
pub fn matrix_cells_image(path: &Path, m: &MatrixImage, cells: &MatrixCells, size: (u32, u32)) -> std::io::Result<()> {
    if cells.next_row != cells.rows || cells.rows == 0 || cells.cols == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} of {} rows for a {} x {} matrix",
                cells.next_row, cells.rows, cells.rows, cells.cols
            ),
        ));
    }
    let ((br, bc), gc, vmax) = (cells.block, cells.grid_cols, cells.vmax.max(f64::MIN_POSITIVE));
    let (rows, cols) = (cells.rows, cells.cols);
    let cells = &cells.cells;
    render_atomic(path, size, |root| {
        let (left, right) = root.split_horizontally(size.0.saturating_sub(125));
        let mut c = ChartBuilder::on(&left)
            .caption(&m.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..cols as f64, rows as f64..0.0)
            .map_err(draw_error)?;
        let (fx, fy) = (tick_format(0.0, cols as f64), tick_format(0.0, rows as f64));
        c.configure_mesh()
            .x_desc(&m.x_label)
            .y_desc(&m.y_label)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .disable_mesh()
            .draw()
            .map_err(draw_error)?;
        let rects = cells.iter().enumerate().map(|(k, &(sum, n))| {
            let (r, col) = ((k / gc * br) as f64, (k % gc * bc) as f64);
            let value = sum / f64::from(n.max(1)) / vmax;
            Rectangle::new([(col, r), (col + bc as f64, r + br as f64)], diverging(value).filled())
        });
        c.draw_series(rects).map_err(draw_error)?;
        let mut bar = ChartBuilder::on(&right)
            .margin_top(45)
            .margin_bottom(57)
            .margin_left(15)
            .margin_right(5)
            .right_y_label_area_size(85)
            .build_cartesian_2d(0.0..1.0, -vmax..vmax)
            .map_err(draw_error)?;
        let fv = tick_format(-vmax, vmax);
        bar.configure_mesh()
            .disable_x_axis()
            .y_label_formatter(&fv)
            .disable_mesh()
            .y_desc(&m.value_label)
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 13))
            .draw()
            .map_err(draw_error)?;
        let steps = 100;
        let strips = (0..steps).map(|k| {
            let (a, b) = (k as f64 / steps as f64, (k + 1) as f64 / steps as f64);
            let (y0, y1) = (-vmax + 2.0 * vmax * a, -vmax + 2.0 * vmax * b);
            Rectangle::new([(0.0, y0), (1.0, y1)], diverging(2.0 * a - 1.0).filled())
        });
        bar.draw_series(strips).map_err(draw_error)?;
        Ok(())
    })
}

/// A path in a square arena seen from above: the path as a line, marked
/// places (e.g. lights) as filled circles, the start as a ring.
#[derive(Clone, Debug, Default)]
pub struct Trajectory {
    /// Caption above the plot.
    pub title: String,
    /// Side of the arena `[0, side] x [0, side]` (in `unit`).
    pub side: f64,
    /// Length unit of both axes, e.g. `cm`.
    pub unit: String,
    /// The path (x, y).
    pub path: Vec<(f64, f64)>,
    /// Marked places (legend label, point).
    pub marks: Vec<(String, (f64, f64))>,
}

/// Draws `t` as a `size` PNG at `path` (use a square size for a square arena).
pub fn trajectory(path: &Path, t: &Trajectory, size: (u32, u32)) -> std::io::Result<()> {
    let side = if t.side > 0.0 && t.side.is_finite() {
        t.side
    } else {
        1.0
    };
    render_atomic(path, size, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&t.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..side, 0.0..side)
            .map_err(draw_error)?;
        let f = tick_format(0.0, side);
        c.configure_mesh()
            .x_desc(format!("x ({})", t.unit))
            .y_desc(format!("y ({})", t.unit))
            .x_label_formatter(&f)
            .y_label_formatter(&f)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(draw_error)?;
        let blue = RGBColor(31, 119, 180);
        let points = t.path.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite());
        c.draw_series(LineSeries::new(points, blue.stroke_width(2)))
            .map_err(draw_error)?
            .label("path")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
        if let Some(&start) = t.path.first() {
            let green = RGBColor(44, 160, 44);
            c.draw_series(std::iter::once(Circle::new(start, 7, green.stroke_width(3))))
                .map_err(draw_error)?
                .label("start")
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, green.stroke_width(2)));
        }
        let orange = RGBColor(255, 127, 14);
        for (k, (label, at)) in t.marks.iter().enumerate() {
            let drawn = c
                .draw_series(std::iter::once(Circle::new(*at, 8, orange.filled())))
                .map_err(draw_error)?;
            // one legend entry for marks of the same label
            if t.marks[..k].iter().all(|(l, _)| l != label) {
                drawn
                    .label(label.as_str())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 5, orange.filled()));
            }
        }
        c.configure_series_labels()
            .label_font((FAMILY, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(draw_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_a_png_under_its_final_name_only() {
        let dir = std::env::temp_dir().join(format!("cortecs_plot_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("curve.png");
        let chart = LineChart {
            title: "a line".into(),
            x_label: "time (ms)".into(),
            y_label: "v (mV)".into(),
            series: vec![Series {
                label: "v".into(),
                points: (0..50).map(|k| (f64::from(k), f64::from(k).sin())).collect(),
                rgb: [31, 119, 180],
            }],
            y_range: None,
        };
        line_chart(&path, &chart, (400, 300)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // width and height in the IHDR chunk
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 400);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 300);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("curve.png")]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ranges_pad_and_survive_empty_or_flat_data() {
        assert_eq!(range([0.0, 10.0].into_iter(), 0.05), (-0.5, 10.5));
        assert_eq!(range([f64::NAN].into_iter(), 0.05), (0.0, 1.0));
        assert_eq!(range([2.0, 2.0].into_iter(), 0.05), (1.0, 3.0));
    }
}
