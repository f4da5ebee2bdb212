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
        c.configure_mesh()
            .x_desc(&chart.x_label)
            .y_desc(&chart.y_label)
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
