//! Line charts as PNG without a plotting crate: axes, tick marks and
//! polylines on a white canvas (learning curves, psychometric curves).

use std::path::Path;

/// One series: points (x, y) and an RGB colour.
pub struct Series<'a> {
    /// Points in data coordinates.
    pub points: &'a [(f64, f64)],
    /// Colour.
    pub rgb: [u8; 3],
    /// Draw a 5 x 5 marker at each point.
    pub markers: bool,
}

/// Draws `series` into a `width` x `height` PNG at `path`; `y_range` fixes the
/// y axis (else the data's range). Ticks: 5 on each axis.
pub fn line_chart(
    path: &Path,
    width: usize,
    height: usize,
    series: &[Series],
    y_range: Option<(f64, f64)>,
) -> std::io::Result<()> {
    let mut img = vec![255u8; width * height * 3];
    let (l, r, t, b) = (40usize, 15usize, 15usize, 30usize);
    let finite = |v: f64| v.is_finite();
    let xs = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|v| finite(*v));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (y0, y1) = y_range.unwrap_or_else(|| {
        let ys = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .filter(|v| finite(*v));
        ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)))
    });
    let span = |a: f64, b: f64| if b > a { (a, b) } else { (a - 0.5, a + 0.5) };
    let ((x0, x1), (y0, y1)) = (span(x0, x1), span(y0, y1));
    let (pw, ph) = ((width - l - r) as f64, (height - t - b) as f64);
    let to_px = |x: f64, y: f64| {
        let px = l as f64 + (x - x0) / (x1 - x0) * pw;
        let py = t as f64 + (1.0 - (y - y0) / (y1 - y0)) * ph;
        (px.round() as i64, py.round() as i64)
    };
    let mut put = |x: i64, y: i64, c: [u8; 3]| {
        if x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height {
            let k = (y as usize * width + x as usize) * 3;
            img[k..k + 3].copy_from_slice(&c);
        }
    };
    let black = [0, 0, 0];
    let (ax0, ay1) = (l as i64, (height - b) as i64);
    for x in ax0..(width - r) as i64 {
        put(x, ay1, black);
    }
    for y in t as i64..=ay1 {
        put(ax0, y, black);
    }
    for k in 0..=5 {
        let fx = ax0 + (k as f64 * pw / 5.0).round() as i64;
        let fy = ay1 - (k as f64 * ph / 5.0).round() as i64;
        for d in 0..5 {
            put(fx, ay1 + d, black);
            put(ax0 - d, fy, black);
        }
    }
    for s in series {
        let mut last: Option<(i64, i64)> = None;
        for &(x, y) in s.points.iter().filter(|p| finite(p.0) && finite(p.1)) {
            let p = to_px(x, y.clamp(y0, y1));
            if let Some(q) = last {
                // Bresenham
                let (mut x, mut y) = q;
                let (dx, dy) = ((p.0 - x).abs(), -(p.1 - y).abs());
                let (sx, sy) = (if x < p.0 { 1 } else { -1 }, if y < p.1 { 1 } else { -1 });
                let mut err = dx + dy;
                loop {
                    put(x, y, s.rgb);
                    if (x, y) == p {
                        break;
                    }
                    let e2 = 2 * err;
                    if e2 >= dy {
                        err += dy;
                        x += sx;
                    }
                    if e2 <= dx {
                        err += dx;
                        y += sy;
                    }
                }
            }
            if s.markers {
                for dx in -2..=2 {
                    for dy in -2..=2 {
                        put(p.0 + dx, p.1 + dy, s.rgb);
                    }
                }
            }
            last = Some(p);
        }
    }
    crate::io::write_png(path, width, height, &img)
}
